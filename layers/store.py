"""Persistence of the signage inventory: GeoPackage (default, embedded) or PostGIS.

One interface, two backends behind :func:`open_store`. Every change is one transaction
that updates the sign *and* appends to an append-only history (who, when, before, after),
so any change can be traced and undone. Each sign carries a ``version``: an update names
the version it started from, and a second editor working from an outdated version gets a
:class:`ConflictError` instead of silently overwriting the first.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import struct
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely import wkb
from shapely.geometry import Point

from layers.errors import AtlasError
from layers.signage import FIELDS, check
from layers.territory import Territory

TABLE, HISTORY = "panneaux", "historique"
EDITABLE = set(FIELDS) - {"sign_id", "qualite"}


class StoreError(AtlasError):
    """The store cannot be opened or written."""


class ConflictError(AtlasError):
    """Somebody changed the sign since the editor loaded it."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _jsonable(sign: Mapping[str, Any]) -> dict:
    out = {
        k: (v if not isinstance(v, float) or v == v else None)
        for k, v in sign.items()
        if k != "geometry"
    }
    geom = sign.get("geometry")
    if geom is not None:
        out["lon"], out["lat"] = round(geom.x, 7), round(geom.y, 7)
    return out


class _Store:
    """Shared logic; backends provide connections, SQL flavour and geometry encoding."""

    placeholder = "?"

    def __init__(self, territory: Territory) -> None:
        self.territory = territory

    # --- backend hooks -------------------------------------------------------------------
    @contextmanager
    def _tx(self) -> Iterator[Any]:  # pragma: no cover - implemented by backends
        raise NotImplementedError
        yield

    def _geom_param(self, geom: Point) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _geom_sql(self) -> str:
        return self.placeholder

    def _lock_for_insert(self, cur: Any) -> None:
        """Serialise id allocation between concurrent adds (backend-specific)."""

    def _read_rows(
        self, cur: Any, where: str = "", params: tuple = ()
    ) -> list[dict]:  # pragma: no cover
        raise NotImplementedError

    # --- public API ----------------------------------------------------------------------
    def signs(self) -> gpd.GeoDataFrame:
        """All signs (EPSG:4326) with their ``version``."""
        with self._tx() as cur:
            rows = self._read_rows(cur)
        frame = (
            gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
            if rows
            else gpd.GeoDataFrame(
                {f: [] for f in (*FIELDS, "version")}, geometry=gpd.GeoSeries([], crs=4326)
            )
        )
        return frame

    def get(self, sign_id: str) -> dict:
        """One sign as a dict, or KeyError."""
        with self._tx() as cur:
            rows = self._read_rows(cur, f"sign_id = {self.placeholder}", (sign_id,))
        if not rows:
            raise KeyError(sign_id)
        return rows[0]

    def add(self, sign: Mapping[str, Any], user: str) -> str:
        """Insert a validated sign; returns its id."""
        data = {k: sign.get(k) for k in FIELDS if k != "sign_id"}
        data["geometry"] = sign.get("geometry")
        check(data, self.territory)
        p = self.placeholder
        with self._tx() as cur:
            self._lock_for_insert(cur)
            cur.execute(f"SELECT sign_id FROM {TABLE}")
            numbers = [int(r[0][1:]) for r in cur.fetchall() if str(r[0])[1:].isdigit()]
            sign_id = f"S{max(numbers, default=0) + 1:04d}"
            cols = [c for c in FIELDS if c != "sign_id"]
            values = [data.get(c) for c in cols]
            cur.execute(
                f"INSERT INTO {TABLE} (sign_id, {', '.join(cols)}, version, modifie_par, "
                f"modifie_le, geom) VALUES ({p}, {', '.join([p] * len(cols))}, 1, {p}, {p}, "
                f"{self._geom_sql()})",
                (sign_id, *values, user, _now(), self._geom_param(data["geometry"])),
            )
            self._log(cur, sign_id, "ajout", user, None, {**data, "sign_id": sign_id})
        return sign_id

    def update(
        self, sign_id: str, changes: Mapping[str, Any], expected_version: int, user: str
    ) -> int:
        """Apply ``changes`` if the sign is still at ``expected_version``; returns the new one."""
        unknown = set(changes) - EDITABLE - {"geometry"}
        if unknown:
            raise StoreError(f"Champ(s) non modifiable(s) : {', '.join(sorted(unknown))}")
        p = self.placeholder
        with self._tx() as cur:
            rows = self._read_rows(cur, f"sign_id = {p}", (sign_id,), lock=True)
            if not rows:
                raise KeyError(sign_id)
            before = rows[0]
            if int(before["version"]) != int(expected_version):
                raise ConflictError(
                    f"Le panneau {sign_id} a été modifié par {before.get('modifie_par')} le "
                    f"{before.get('modifie_le')} depuis que vous l'avez ouvert : rechargez-le, "
                    "vos modifications n'ont pas été enregistrées."
                )
            after = {**before, **changes}
            check(after, self.territory)
            sets = [f"{k} = {p}" for k in changes if k != "geometry"]
            params: list[Any] = [changes[k] for k in changes if k != "geometry"]
            if "geometry" in changes:
                sets.append(f"geom = {self._geom_sql()}")
                params.append(self._geom_param(changes["geometry"]))
            new_version = int(before["version"]) + 1
            sets += [f"version = {p}", f"modifie_par = {p}", f"modifie_le = {p}"]
            params += [new_version, user, _now()]
            cur.execute(
                f"UPDATE {TABLE} SET {', '.join(sets)} WHERE sign_id = {p}", (*params, sign_id)
            )
            self._log(cur, sign_id, "modification", user, before, after)
        return new_version

    def history(self, since: str | None = None) -> pd.DataFrame:
        """The append-only history, newest first (optionally since an ISO date)."""
        p = self.placeholder
        where, params = (f"WHERE quand >= {p}", (since,)) if since else ("", ())
        with self._tx() as cur:
            cur.execute(
                f"SELECT id, sign_id, action, qui, quand, avant, apres FROM {HISTORY} "
                f"{where} ORDER BY id DESC",
                params,
            )
            rows = cur.fetchall()
        frame = pd.DataFrame(
            rows, columns=["id", "sign_id", "action", "qui", "quand", "avant", "apres"]
        )
        for col in ("avant", "apres"):
            frame[col] = frame[col].map(
                lambda v: v if isinstance(v, dict) or v is None else json.loads(v)
            )
        return frame

    def undo(self, history_id: int, user: str) -> None:
        """Restore the state before a history entry (itself recorded as a change)."""
        entry = self.history()
        entry = entry[entry["id"] == history_id]
        if entry.empty:
            raise KeyError(history_id)
        row = entry.iloc[0]
        if row["avant"] is None:
            raise StoreError("Un ajout ne s'annule pas par restauration (supprimez le panneau).")
        before = row["avant"]
        current = self.get(row["sign_id"])
        changes = {k: before[k] for k in EDITABLE if k in before and before[k] != current.get(k)}
        if "lon" in before:
            changes["geometry"] = Point(before["lon"], before["lat"])
        self.update(row["sign_id"], changes, int(current["version"]), user)

    def import_signs(self, frame: gpd.GeoDataFrame, user: str) -> int:
        """Add every row in one transaction: all valid rows are added, or none."""
        problems = []
        for i, row in enumerate(frame.to_dict("records"), start=1):
            try:
                check(row, self.territory)
            except AtlasError as err:
                problems.append(f"ligne {i} : {err}")
        if problems:
            raise StoreError("Import refusé, rien n'a été modifié. " + " ".join(problems[:20]))
        for row in frame.to_dict("records"):
            self.add(row, user)  # each is its own transaction, all already validated
        return len(frame)

    def _log(self, cur: Any, sign_id: str, action: str, user: str, before: Any, after: Any) -> None:
        p = self.placeholder
        cur.execute(
            f"INSERT INTO {HISTORY} (sign_id, action, qui, quand, avant, apres) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            (
                sign_id,
                action,
                user,
                _now(),
                json.dumps(_jsonable(before), ensure_ascii=False) if before else None,
                json.dumps(_jsonable(after), ensure_ascii=False, default=str),
            ),
        )


# --- GeoPackage ------------------------------------------------------------------------


def gpkg_blob(point: Point, srs_id: int = 4326) -> bytes:
    """GeoPackage geometry blob: 'GP', version 0, flags (little-endian, no envelope), SRS, WKB."""
    return b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id) + wkb.dumps(point)


def gpkg_point(blob: bytes) -> Point:
    """Decode a GeoPackage geometry blob (any envelope size)."""
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[(flags >> 1) & 0b111]
    return wkb.loads(bytes(blob[8 + envelope :]))


class GeoPackageStore(_Store):
    """The embedded default: one GeoPackage file (SQLite), written through sqlite3."""

    def __init__(self, path: Path, territory: Territory) -> None:
        super().__init__(territory)
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"Inventaire introuvable : {self.path} (voir pma-atlas signs init)")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            cur = con.cursor()
            cur.execute("BEGIN IMMEDIATE")  # one writer at a time; readers keep reading
            try:
                yield cur
            except BaseException:
                con.rollback()
                raise
            con.commit()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"Inventaire illisible ou verrouillé ({self.path}) : {err}") from err
        finally:
            con.close()

    def _geom_param(self, geom: Point) -> bytes:
        return gpkg_blob(geom)

    def _read_rows(
        self, cur: sqlite3.Cursor, where: str = "", params: tuple = (), lock: bool = False
    ) -> list[dict]:
        cols = [*FIELDS, "version", "modifie_par", "modifie_le"]
        cur.execute(
            f"SELECT {', '.join(cols)}, geom FROM {TABLE}"
            + (f" WHERE {where}" if where else "")
            + " ORDER BY sign_id",
            params,
        )
        return [
            {**dict(zip(cols, r[:-1], strict=True)), "geometry": gpkg_point(r[-1])}
            for r in cur.fetchall()
        ]


def create_geopackage(path: Path, signs: gpd.GeoDataFrame, user: str = "initialisation") -> None:
    """Create the inventory GeoPackage from a frame (e.g. the synthetic sample)."""
    import pyogrio

    frame = signs.copy()
    frame["version"] = 1
    frame["modifie_par"] = user
    frame["modifie_le"] = _now()
    pyogrio.write_dataframe(
        frame,
        path,
        layer=TABLE,
        driver="GPKG",
        layer_options={"SPATIAL_INDEX": "NO", "GEOMETRY_NAME": "geom"},
        layer_metadata={"ATLAS_QUALITE": "synthétique"},
    )
    con = sqlite3.connect(path)
    with con:
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {HISTORY} (id INTEGER PRIMARY KEY "
            "AUTOINCREMENT, sign_id TEXT NOT NULL, action TEXT NOT NULL, qui TEXT NOT "
            "NULL, quand TEXT NOT NULL, avant TEXT, apres TEXT)"
        )
        con.execute(
            f"CREATE TRIGGER IF NOT EXISTS {HISTORY}_append_only BEFORE UPDATE ON "
            f"{HISTORY} BEGIN SELECT RAISE(ABORT, 'historique en ajout seul'); END"
        )
        con.execute(
            f"CREATE TRIGGER IF NOT EXISTS {HISTORY}_no_delete BEFORE DELETE ON "
            f"{HISTORY} BEGIN SELECT RAISE(ABORT, 'historique en ajout seul'); END"
        )
    con.close()


# --- PostGIS ---------------------------------------------------------------------------


class PostGISStore(_Store):
    """The server backend: PostgreSQL + PostGIS through psycopg (extra ``postgis``)."""

    placeholder = "%s"

    def __init__(self, dsn: str, territory: Territory) -> None:
        super().__init__(territory)
        try:
            import psycopg  # noqa: F401
        except ImportError as err:  # pragma: no cover - depends on the install
            raise StoreError(
                "Le stockage PostGIS demande l'extra « postgis » "
                "(pip install 'atlas-pma[postgis]')."
            ) from err
        self.dsn = dsn

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        import psycopg

        try:
            with psycopg.connect(self.dsn) as con, con.transaction(), con.cursor() as cur:
                yield cur
        except psycopg.Error as err:
            raise StoreError(f"Base PostGIS injoignable ou en erreur : {err}") from err

    def _geom_sql(self) -> str:
        return "ST_SetSRID(ST_GeomFromWKB(%s), 4326)"

    def _geom_param(self, geom: Point) -> bytes:
        return wkb.dumps(geom)

    def _lock_for_insert(self, cur: Any) -> None:
        # row locks do not stop a concurrent INSERT from computing the same next id;
        # this table lock does (readers are not blocked)
        cur.execute(f"LOCK TABLE {TABLE} IN SHARE ROW EXCLUSIVE MODE")

    def _read_rows(
        self, cur: Any, where: str = "", params: tuple = (), lock: bool = False
    ) -> list[dict]:
        cols = [*FIELDS, "version", "modifie_par", "modifie_le"]
        cur.execute(
            f"SELECT {', '.join(cols)}, ST_AsBinary(geom) FROM {TABLE}"
            + (f" WHERE {where}" if where else "")
            + " ORDER BY sign_id"
            + (" FOR UPDATE" if lock else ""),
            params,
        )
        return [
            {**dict(zip(cols, r[:-1], strict=True)), "geometry": wkb.loads(bytes(r[-1]))}
            for r in cur.fetchall()
        ]


def create_postgis(dsn: str, signs: gpd.GeoDataFrame, user: str = "initialisation") -> None:
    """Create (or replace) the inventory tables in a PostGIS database."""
    import psycopg

    text_cols = ", ".join(
        f"{c} TEXT"
        for c in FIELDS
        if c not in ("sign_id", "cout_ht", "cofinancement_region", "annee")
    )
    with psycopg.connect(dsn) as con, con.transaction(), con.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}, {HISTORY}")
        cur.execute(
            f"CREATE TABLE {TABLE} (sign_id TEXT PRIMARY KEY, {text_cols}, "
            "cout_ht DOUBLE PRECISION, cofinancement_region DOUBLE PRECISION, "
            "annee INTEGER, version INTEGER NOT NULL, modifie_par TEXT, modifie_le TEXT, "
            "geom geometry(Point, 4326) NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE {HISTORY} (id BIGSERIAL PRIMARY KEY, sign_id TEXT NOT NULL, "
            "action TEXT NOT NULL, qui TEXT NOT NULL, quand TEXT NOT NULL, avant JSONB, "
            "apres JSONB)"
        )
        cur.execute(
            "CREATE OR REPLACE FUNCTION atlas_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'historique en ajout seul'; END $$ LANGUAGE plpgsql"
        )
        cur.execute(
            f"CREATE TRIGGER {HISTORY}_append_only BEFORE UPDATE OR DELETE ON {HISTORY} "
            "FOR EACH ROW EXECUTE FUNCTION atlas_append_only()"
        )
        cols = list(FIELDS)
        for row in signs.to_dict("records"):
            cur.execute(
                f"INSERT INTO {TABLE} ({', '.join(cols)}, version, modifie_par, modifie_le, geom)"
                f" VALUES ({', '.join(['%s'] * len(cols))}, 1, %s, %s, "
                "ST_SetSRID(ST_GeomFromWKB(%s), 4326))",
                (
                    *[
                        None if (isinstance(row[c], float) and row[c] != row[c]) else row[c]
                        for c in cols
                    ],
                    user,
                    _now(),
                    wkb.dumps(row["geometry"]),
                ),
            )


def open_store(target: str | Path, territory: Territory) -> _Store:
    """A PostGIS store for a ``postgresql://`` DSN, else a GeoPackage file."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostGISStore(text, territory)
    return GeoPackageStore(Path(text), territory)
