"""Persistence of the signage inventory: GeoPackage (default, embedded) or PostGIS.

One interface, two backends behind :func:`open_store`. Every change is one transaction
that updates the sign *and* appends to an append-only history (who, when, before, after),
so any change can be traced and undone. Each sign carries a ``version``: an update names
the version it started from, and a second editor working from an outdated version gets a
:class:`ConflictError` instead of silently overwriting the first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import sqlite3
import struct
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import wkb
from shapely.geometry import Point

from layers.errors import AtlasError
from layers.signage import (
    FIELDS,
    SignValidationError,
    check,
    normalise,
    outside_pma,
    validate,
)
from layers.territory import Territory

TABLE, HISTORY = "panneaux", "historique"
EDITABLE_ORDER = [f for f in FIELDS if f not in ("sign_id", "qualite")]
EDITABLE = set(EDITABLE_ORDER)
NUMERIC = ("cout_ht", "cofinancement_region", "annee")


class StoreError(AtlasError):
    """The store cannot be opened or written."""


class ConflictError(AtlasError):
    """Somebody changed the sign since the editor loaded it."""


class UndoError(StoreError):
    """A change cannot be undone without touching later changes."""


class DeletedError(ConflictError, KeyError):
    """The sign an editor opened has been deleted since (also a KeyError: it is gone)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


LOG = logging.getLogger("atlas.store")
PUBLIC_ERROR = (
    "L'inventaire de la signalétique est momentanément indisponible. Réessayez dans un "
    "instant ; si cela dure, prévenez l'administrateur (détails dans le journal du serveur)."
)


def mask_dsn(target: str) -> str:
    """A store target safe to print: the password of a DSN replaced by ``***``."""
    import re

    text = str(target)
    text = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", text)
    return re.sub(r"(password=)[^&\s]+", r"\1***", text)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def _plain(value: Any) -> Any:
    """A JSON- and SQL-friendly scalar: NaN/NaT → None, numpy → Python, dates → ISO text."""
    if type(value) in (str, int):
        return value
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    return value


def _jsonable(sign: Mapping[str, Any]) -> dict:
    out = {k: _plain(v) for k, v in sign.items() if k != "geometry"}
    geom = sign.get("geometry")
    if geom is not None:
        out["lon"], out["lat"] = round(geom.x, 7), round(geom.y, 7)
    return out


def _parse_json(value: Any) -> dict | None:
    """A history cell as a dict: JSONB arrives as a dict, SQLite text as str, NULL as None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes | bytearray) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list:
    """The fields (sign fields, ``lon``/``lat``) that a history entry changed."""
    keys = [*EDITABLE_ORDER, "lon", "lat"]
    before, after = before or {}, after or {}
    return [k for k in keys if _plain(before.get(k)) != _plain(after.get(k))]


def describe_change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """A short French description of a change (``statut : demandé → posé ; …``)."""
    if before is None:
        return "ajout du panneau"
    if after is None:
        return "suppression du panneau"
    parts = []
    for key in _changed_fields(before, after):
        if key == "lat" and "lon" in _changed_fields(before, after):
            continue
        if key in ("lon", "lat"):
            parts.append("position déplacée")
            continue
        old, new = _plain(before.get(key)), _plain(after.get(key))
        parts.append(f"{key} : {_short(old)} → {_short(new)}")
    return " ; ".join(parts) or "aucun champ modifié"


def _short(value: Any, limit: int = 40) -> str:
    text = "∅" if value in (None, "") else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Store:
    """Shared logic; backends provide connections, SQL flavour and geometry encoding."""

    placeholder = "?"

    def __init__(self, territory: Territory) -> None:
        self.territory = territory

    # --- backend hooks -------------------------------------------------------------------
    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Any]:  # pragma: no cover - backends
        raise NotImplementedError
        yield

    def _geom_param(self, geom: Point) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _geom_sql(self) -> str:
        return self.placeholder

    def _lock_for_insert(self, cur: Any) -> None:
        """Serialise id allocation between concurrent adds (backend-specific)."""

    def _read_rows(
        self, cur: Any, where: str = "", params: tuple = (), lock: bool = False
    ) -> list[dict]:  # pragma: no cover
        raise NotImplementedError

    # --- reading -------------------------------------------------------------------------
    def signs(self) -> gpd.GeoDataFrame:
        """All signs (EPSG:4326) with their ``version``; unusable stored numbers read as NaN."""
        with self._tx(write=False) as cur:
            rows = self._read_rows(cur)
        if not rows:
            return gpd.GeoDataFrame(
                {f: [] for f in (*FIELDS, "version")}, geometry=gpd.GeoSeries([], crs=4326)
            )
        frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
        for col in NUMERIC:  # written by an older version or by hand: never trusted
            values = pd.to_numeric(frame[col], errors="coerce").astype(float)
            frame[col] = values.where(np.isfinite(values) & (values.abs() < 1e12))
        # a year is an integer (never « 2023,0 » in a CSV), missing where unknown
        frame["annee"] = frame["annee"].round().astype("Int64")
        return frame

    def get(self, sign_id: str) -> dict:
        """One sign as a dict, or KeyError."""
        with self._tx(write=False) as cur:
            rows = self._read_rows(cur, f"sign_id = {self.placeholder}", (sign_id,))
        if not rows:
            raise KeyError(sign_id)
        return rows[0]

    def history(self, since: str | None = None, sign_id: str | None = None) -> pd.DataFrame:
        """The append-only history, newest first (optionally since an ISO date, one sign).

        ``avant`` / ``apres`` are dicts, or None for the "before" of an addition and the
        "after" of a deletion (never NaN, whatever pandas infers).
        """
        p = self.placeholder
        clauses, params = [], []
        if since:
            clauses.append(f"quand >= {p}")
            params.append(since)
        if sign_id:
            clauses.append(f"sign_id = {p}")
            params.append(sign_id)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._tx(write=False) as cur:
            cur.execute(
                f"SELECT id, sign_id, action, qui, quand, avant, apres FROM {HISTORY} "
                f"{where} ORDER BY id DESC",
                tuple(params),
            )
            rows = [
                (int(i), str(s), str(a), str(q), str(w), _parse_json(b), _parse_json(c))
                for i, s, a, q, w, b, c in cur.fetchall()
            ]
        frame = pd.DataFrame(
            {
                name: pd.Series([r[k] for r in rows], dtype=object)
                for k, name in enumerate(
                    ["id", "sign_id", "action", "qui", "quand", "avant", "apres"]
                )
            }
        )
        frame["id"] = frame["id"].astype("int64")
        return frame

    # --- writing -------------------------------------------------------------------------
    def add(self, sign: Mapping[str, Any], user: str) -> str:
        """Insert a validated sign; returns its new id (``S0001``…)."""
        data = {k: sign.get(k) for k in FIELDS if k != "sign_id"}
        data["geometry"] = sign.get("geometry")
        check(data, self.territory)
        data = normalise(data)
        with self._tx() as cur:
            self._lock_for_insert(cur)
            # ids are never reused: a deleted sign's id stays in the history (and undoable)
            cur.execute(f"SELECT sign_id FROM {TABLE} UNION SELECT sign_id FROM {HISTORY}")
            numbers = [
                int(r[0][1:])
                for r in cur.fetchall()
                if str(r[0]).startswith("S") and str(r[0])[1:].isdigit()
            ]
            sign_id = f"S{max(numbers, default=0) + 1:04d}"
            self._insert(cur, [{**data, "sign_id": sign_id}], user)
            self._log_many(cur, [(sign_id, "ajout", None, {**data, "sign_id": sign_id})], user)
        return sign_id

    def _insert(self, cur: Any, signs: list[dict], user: str, version: int = 1) -> None:
        p = self.placeholder
        cols = list(FIELDS)
        now = _now()
        cur.executemany(
            f"INSERT INTO {TABLE} ({', '.join(cols)}, version, modifie_par, modifie_le, geom) "
            f"VALUES ({', '.join([p] * len(cols))}, {p}, {p}, {p}, {self._geom_sql()})",
            [
                (
                    *[_plain(s.get(c)) for c in cols],
                    version,
                    user,
                    now,
                    self._geom_param(s["geometry"]),
                )
                for s in signs
            ],
        )

    def _conflict(self, cur: Any, sign_id: str, current: Mapping[str, Any]) -> ConflictError:
        p = self.placeholder
        cur.execute(
            f"SELECT avant, apres FROM {HISTORY} WHERE sign_id = {p} ORDER BY id DESC LIMIT 1",
            (sign_id,),
        )
        last = cur.fetchone()
        from layers.formatting import fmt_when

        what = describe_change(_parse_json(last[0]), _parse_json(last[1])) if last else ""
        return ConflictError(
            f"Le panneau {sign_id} a été modifié par {current.get('modifie_par')} le "
            f"{fmt_when(current.get('modifie_le'))} depuis que vous l'avez ouvert"
            + (f" ({what})" if what else "")
            + ". Vos modifications n'ont pas été enregistrées : rechargez le panneau et "
            "refaites-les si elles sont toujours utiles."
        )

    def _missing(self, cur: Any, sign_id: str) -> KeyError:
        """KeyError for a sign that never existed; :class:`DeletedError` (who, when) if deleted."""
        from layers.formatting import fmt_when

        p = self.placeholder
        cur.execute(
            f"SELECT qui, quand, apres FROM {HISTORY} WHERE sign_id = {p} ORDER BY id DESC LIMIT 1",
            (sign_id,),
        )
        last = cur.fetchone()
        if last is None or _parse_json(last[2]) is not None:
            return KeyError(sign_id)
        return DeletedError(
            f"Le panneau {sign_id} a été supprimé par {last[0]} le {fmt_when(last[1])} "
            "depuis que vous l'avez ouvert : vos modifications n'ont pas été enregistrées."
        )

    def update(
        self,
        sign_id: str,
        changes: Mapping[str, Any],
        expected_version: int,
        user: str,
        action: str = "modification",
    ) -> int:
        """Apply ``changes`` if the sign is still at ``expected_version``; returns the new one."""
        unknown = set(changes) - EDITABLE - {"geometry"}
        if unknown:
            raise StoreError(f"Champ(s) non modifiable(s) : {', '.join(sorted(unknown))}")
        p = self.placeholder
        with self._tx() as cur:
            rows = self._read_rows(cur, f"sign_id = {p}", (sign_id,), lock=True)
            if not rows:
                raise self._missing(cur, sign_id)
            before = rows[0]
            if int(before["version"]) != int(expected_version):
                raise self._conflict(cur, sign_id, before)
            after = {**before, **changes}
            check(after, self.territory)
            changes = normalise(changes)
            after = {**before, **changes}
            sets = [f"{k} = {p}" for k in changes if k != "geometry"]
            params: list[Any] = [_plain(changes[k]) for k in changes if k != "geometry"]
            if "geometry" in changes:
                sets.append(f"geom = {self._geom_sql()}")
                params.append(self._geom_param(changes["geometry"]))
            new_version = int(before["version"]) + 1
            sets += [f"version = {p}", f"modifie_par = {p}", f"modifie_le = {p}"]
            params += [new_version, user, _now()]
            cur.execute(
                f"UPDATE {TABLE} SET {', '.join(sets)} WHERE sign_id = {p}", (*params, sign_id)
            )
            self._log_many(cur, [(sign_id, action, before, after)], user)
        return new_version

    def delete(
        self, sign_id: str, expected_version: int, user: str, action: str = "suppression"
    ) -> None:
        """Remove a sign still at ``expected_version``; the history keeps it (undoable)."""
        p = self.placeholder
        with self._tx() as cur:
            rows = self._read_rows(cur, f"sign_id = {p}", (sign_id,), lock=True)
            if not rows:
                raise self._missing(cur, sign_id)
            if int(rows[0]["version"]) != int(expected_version):
                raise self._conflict(cur, sign_id, rows[0])
            cur.execute(f"DELETE FROM {TABLE} WHERE sign_id = {p}", (sign_id,))
            self._log_many(cur, [(sign_id, action, rows[0], None)], user)

    def undo(self, history_id: int, user: str) -> str:
        """Undo one history entry, only if no later change touched what it changed.

        A modification restores the fields it changed (other fields, changed since by
        anyone, are left alone); an addition is undone by deleting the sign, a deletion by
        restoring it. When a later change touched the same fields (or the sign), nothing
        is written and :class:`UndoError` says who changed what. Returns a French summary.
        """
        with self._tx(write=False) as cur:
            p = self.placeholder
            cur.execute(
                f"SELECT sign_id, avant, apres FROM {HISTORY} WHERE id = {p}", (int(history_id),)
            )
            found = cur.fetchone()
        if found is None:
            raise KeyError(history_id)
        sign_id, before, after = found[0], _parse_json(found[1]), _parse_json(found[2])
        try:
            current = self.get(sign_id)
        except KeyError:
            current = None
        if before is None and after is None:
            raise UndoError("Entrée d'historique illisible : rien n'a été annulé.")
        if after is None:  # a deletion: restore the sign as it was
            if current is not None:
                raise UndoError(
                    f"Le panneau {sign_id} existe de nouveau : la suppression ne peut pas "
                    "être annulée."
                )
            assert before is not None  # checked above: both None is refused
            sign = _from_json(before)
            check(sign, self.territory)
            with self._tx() as cur:
                # checked again inside the write transaction: two undos at once restore once
                self._lock_for_insert(cur)
                if self._read_rows(cur, f"sign_id = {p}", (sign_id,), lock=True):
                    raise UndoError(
                        f"Le panneau {sign_id} existe de nouveau : la suppression ne peut pas "
                        "être annulée."
                    )
                # the version keeps increasing: a form opened before the deletion is stale
                version = int(before.get("version") or 0) + 1
                self._insert(cur, [sign], user, version=version)
                self._log_many(
                    cur, [(sign_id, "annulation", None, {**sign, "version": version})], user
                )
            return f"Panneau {sign_id} rétabli."
        if current is None:
            raise UndoError(
                f"Le panneau {sign_id} a été supprimé depuis : rétablissez-le d'abord en "
                "annulant sa suppression."
            )
        now = _jsonable(current)
        later = [k for k in _changed_fields(before, after) if _plain(now.get(k)) != after.get(k)]
        if before is None:  # an addition: undone by deleting the sign, if untouched since
            later = _changed_fields(after, now)
        if later:
            raise UndoError(
                f"Impossible d'annuler : le panneau {sign_id} a été modifié depuis par "
                f"{current.get('modifie_par')} le {current.get('modifie_le')} "
                f"({', '.join(later)}). Rien n'a été modifié ; corrigez-le directement."
            )
        if before is None:
            self.delete(sign_id, int(current["version"]), user, action="annulation")
            return f"Ajout du panneau {sign_id} annulé : panneau supprimé (rétablissable)."
        changes = {
            k: before.get(k) for k in _changed_fields(before, after) if k not in ("lon", "lat")
        }
        if "lon" in before and {"lon", "lat"} & set(_changed_fields(before, after)):
            changes["geometry"] = Point(before["lon"], before["lat"])
        self.update(sign_id, changes, int(current["version"]), user, action="annulation")
        return f"Modification du panneau {sign_id} annulée."

    def import_signs(
        self,
        frame: gpd.GeoDataFrame,
        user: str,
        update_existing: bool = False,
        parks: Collection[str] | None = None,
    ) -> ImportReport:
        """Import rows in **one** transaction: all of them, or nothing.

        Identity rule (so that importing the same file twice changes nothing): a row's
        ``sign_id`` when the file gives one, else a stable id computed from its type, park
        and position (``I`` + 10 hex digits). A row whose id exists with the same content
        is left as is; with a different content it is refused, unless ``update_existing``
        (then it is updated, version + 1, traced as « import »). Two rows with the same
        id are refused, and so is the id of a deleted sign (ids are never reused: its
        deletion stays undoable). ``parks``: the known park ids; a row naming another park
        is refused (a row may have no park).
        """
        records = [_record(row) for row in frame.to_dict("records")]
        problems: list[str] = []
        line = frame.attrs.get("first_line", 1)
        lines: dict[str, int] = {}
        known = sorted(parks) if parks is not None else None
        for i, rec in enumerate(records):
            n = line + i
            rec["sign_id"] = rec.get("sign_id") or stable_id(rec)
            problems += [f"ligne {n} : {msg}" for msg in validate(rec, None)]
            park = rec.get("parc_id")
            if known is not None and str(park or "").strip() and str(park) not in known:
                shown = ", ".join(known[:6]) + (" …" if len(known) > 6 else "")
                problems.append(
                    f"ligne {n} : parc inconnu « {str(park)[:40]} » (parcs connus : {shown})"
                )
            if rec["sign_id"] in lines:
                problems.append(
                    f"ligne {n} : identifiant {rec['sign_id']} déjà utilisé ligne "
                    f"{lines[rec['sign_id']]} (même panneau deux fois ?)"
                )
            lines.setdefault(rec["sign_id"], n)
        points = [r["geometry"] for r in records]
        ok = [i for i, g in enumerate(points) if isinstance(g, Point) and not g.is_empty]
        if ok:
            outside = outside_pma([points[i] for i in ok], self.territory)
            problems += [
                f"ligne {line + i} : point hors du PMA"
                for i, out in zip(ok, outside, strict=True)
                if out
            ]
        if problems:
            problems.sort(key=lambda text: int(text.split()[1]))
            raise SignValidationError(_refusal(problems))
        records = [normalise(r) for r in records]
        report = ImportReport()
        with self._tx() as cur:
            self._lock_for_insert(cur)
            existing = {r["sign_id"]: r for r in self._read_rows(cur)}
            cur.execute(f"SELECT DISTINCT sign_id FROM {HISTORY}")
            deleted = {str(r[0]) for r in cur.fetchall()} - set(existing)
            reused = [rec["sign_id"] for rec in records if rec["sign_id"] in deleted]
            if reused:
                raise StoreError(
                    _refusal(
                        [
                            f"ligne {lines[sid]} : {sid} est l'identifiant d'un panneau "
                            "supprimé ; un identifiant n'est jamais réutilisé (la suppression "
                            "reste annulable) : donnez-en un autre ou laissez-le vide"
                            for sid in reused
                        ]
                    )
                )
            new, changed = [], []
            for rec in records:
                old = existing.get(rec["sign_id"])
                if old is None:
                    new.append(rec)
                elif _changed_fields(_jsonable(old), _jsonable(rec)):
                    changed.append((old, rec))
                else:
                    report.unchanged += 1
            if changed and not update_existing:
                raise StoreError(
                    _refusal(
                        [
                            f"ligne {lines[rec['sign_id']]} : le panneau {rec['sign_id']} existe "
                            "déjà avec un autre contenu "
                            f"({describe_change(_jsonable(old), _jsonable(rec))})"
                            for old, rec in changed
                        ],
                        hint="--mettre-a-jour pour remplacer les panneaux existants",
                    )
                )
            self._insert(cur, new, user)
            p = self.placeholder
            for _old, rec in changed:
                cols = [c for c in FIELDS if c != "sign_id"]
                cur.execute(
                    f"UPDATE {TABLE} SET {', '.join(f'{c} = {p}' for c in cols)}, "
                    f"geom = {self._geom_sql()}, version = version + 1, modifie_par = {p}, "
                    f"modifie_le = {p} WHERE sign_id = {p}",
                    (
                        *[_plain(rec.get(c)) for c in cols],
                        self._geom_param(rec["geometry"]),
                        user,
                        _now(),
                        rec["sign_id"],
                    ),
                )
            self._log_many(
                cur,
                [(r["sign_id"], "import", None, r) for r in new]
                + [(r["sign_id"], "import", o, r) for o, r in changed],
                user,
            )
            report.added, report.updated = len(new), len(changed)
        return report

    def _log_many(self, cur: Any, entries: list[tuple], user: str) -> None:
        """Append (sign_id, action, before, after) entries to the history."""
        p = self.placeholder
        now = _now()
        cur.executemany(
            f"INSERT INTO {HISTORY} (sign_id, action, qui, quand, avant, apres) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            [
                (
                    sign_id,
                    action,
                    user,
                    now,
                    None if before is None else json.dumps(_jsonable(before), ensure_ascii=False),
                    None if after is None else json.dumps(_jsonable(after), ensure_ascii=False),
                )
                for sign_id, action, before, after in entries
            ],
        )


@dataclass
class ImportReport:
    """What an import did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return (
            f"{self.added} panneau(x) ajouté(s), {self.updated} mis à jour, "
            f"{self.unchanged} déjà présent(s) à l'identique"
        )


def _refusal(problems: list[str], hint: str = "") -> str:
    shown = problems[:20]
    more = f" … et {len(problems) - 20} autre(s) problème(s)." if len(problems) > 20 else ""
    return (
        "Import refusé, rien n'a été modifié. "
        + " ; ".join(shown)
        + more
        + (f" ({hint})" if hint else "")
    )


def _record(row: Mapping[str, Any]) -> dict:
    """One import row as a sign dict with plain values."""
    out = {k: _raw(row.get(k)) for k in FIELDS}
    out["geometry"] = row.get("geometry")
    if isinstance(out.get("annee"), float) and float(out["annee"]).is_integer():
        out["annee"] = int(out["annee"])
    return out


def _raw(value: Any) -> Any:
    """NaN/NaT → None and numpy → Python, but infinities kept so validation sees them."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def stable_id(sign: Mapping[str, Any]) -> str:
    """The id of a row without ``sign_id``: same type, park and position → same id."""
    geom = sign.get("geometry")
    key = "|".join(
        [
            str(sign.get("type_panneau") or ""),
            str(sign.get("parc_id") or ""),
            f"{geom.x:.6f},{geom.y:.6f}" if isinstance(geom, Point) else "",
        ]
    )
    return "I" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def _from_json(data: Mapping[str, Any]) -> dict:
    sign = {k: data.get(k) for k in FIELDS}
    sign["geometry"] = Point(data["lon"], data["lat"])
    return sign


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
            LOG.error("inventaire introuvable : %s", self.path)
            raise StoreError(
                "Inventaire de la signalétique introuvable : l'administrateur doit le créer "
                "(pma-atlas signs init)."
            )
        self._use_wal()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        con.execute("PRAGMA busy_timeout = 10000")
        return con

    def _use_wal(self) -> None:
        """Write-ahead log: readers never wait for a writer (persistent, set once)."""
        try:
            con = self._connect()
            try:
                if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    con.execute("PRAGMA journal_mode = WAL")
                _unique_ids(con)
            finally:
                con.close()
        except sqlite3.DatabaseError as err:
            LOG.error("inventaire %s : %s", self.path, err)
            raise StoreError(PUBLIC_ERROR) from err

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[sqlite3.Cursor]:
        con = self._connect()
        try:
            cur = con.cursor()
            # writers take the write lock at once (one at a time); readers read a snapshot
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN DEFERRED")
            try:
                yield cur
            except BaseException:
                con.rollback()
                raise
            con.commit()
        except sqlite3.DatabaseError as err:
            LOG.error("inventaire %s : %s", self.path, err)
            raise StoreError(PUBLIC_ERROR) from err
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


UNIQUE_INDEX = f"{TABLE}_sign_id_unique"


def _unique_ids(con: sqlite3.Connection) -> None:
    """One row per ``sign_id``, enforced by SQLite (added to inventories made before it)."""
    found = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (UNIQUE_INDEX,)
    ).fetchone()
    if found:
        return
    try:
        con.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {UNIQUE_INDEX} ON {TABLE} (sign_id)")
    except sqlite3.IntegrityError:
        LOG.error("inventaire : identifiants de panneau en double, index unique non créé")


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
        con.execute(f"CREATE INDEX IF NOT EXISTS {HISTORY}_sign ON {HISTORY} (sign_id)")
        _unique_ids(con)
    con.execute("PRAGMA journal_mode = WAL")
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
    def _tx(self, write: bool = True) -> Iterator[Any]:
        import psycopg

        try:
            with psycopg.connect(self.dsn, connect_timeout=5) as con:
                if not write:
                    con.read_only = True
                with con.transaction(), con.cursor() as cur:
                    yield cur
        except psycopg.Error as err:
            LOG.error("base PostGIS %s : %s", mask_dsn(self.dsn), err)
            raise StoreError(PUBLIC_ERROR) from err

    def _geom_sql(self) -> str:
        return "ST_SetSRID(ST_GeomFromWKB(%s), 4326)"

    def _geom_param(self, geom: Point) -> bytes:
        return wkb.dumps(geom)

    @staticmethod
    def _insert_rows(cur: Any, signs: list[dict], user: str) -> None:
        cols = list(FIELDS)
        cur.executemany(
            f"INSERT INTO {TABLE} ({', '.join(cols)}, version, modifie_par, modifie_le, geom)"
            f" VALUES ({', '.join(['%s'] * len(cols))}, 1, %s, %s, "
            "ST_SetSRID(ST_GeomFromWKB(%s), 4326))",
            [
                (*[_plain(s.get(c)) for c in cols], user, _now(), wkb.dumps(s["geometry"]))
                for s in signs
            ],
        )

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


def create_postgis(
    dsn: str, signs: gpd.GeoDataFrame, user: str = "initialisation", force: bool = False
) -> None:
    """Create the inventory tables in a PostGIS database.

    Existing tables are never dropped silently: without ``force`` an inventory already
    there is an error and nothing is touched (same rule as the GeoPackage target).
    """
    import psycopg

    text_cols = ", ".join(
        f"{c} TEXT"
        for c in FIELDS
        if c not in ("sign_id", "cout_ht", "cofinancement_region", "annee")
    )
    try:
        with psycopg.connect(dsn, connect_timeout=5) as con, con.transaction(), con.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                "current_schema() AND table_name IN (%s, %s)",
                (TABLE, HISTORY),
            )
            found = cur.fetchone()
            if found and found[0] and not force:
                raise StoreError(
                    f"Un inventaire existe déjà dans {mask_dsn(dsn)} (tables {TABLE}, "
                    f"{HISTORY}) : rien n'a été modifié. --force pour le remplacer "
                    "(historique compris)."
                )
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
            cur.execute(f"CREATE INDEX ON {HISTORY} (sign_id)")
            cur.execute(
                "CREATE OR REPLACE FUNCTION atlas_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'historique en ajout seul'; END $$ LANGUAGE plpgsql"
            )
            cur.execute(
                f"CREATE TRIGGER {HISTORY}_append_only BEFORE UPDATE OR DELETE ON {HISTORY} "
                "FOR EACH ROW EXECUTE FUNCTION atlas_append_only()"
            )
            PostGISStore._insert_rows(cur, signs.to_dict("records"), user)
    except psycopg.Error as err:
        raise StoreError(
            f"Base PostGIS injoignable ou en erreur ({mask_dsn(dsn)}) : {err}"
        ) from err


def open_store(target: str | Path, territory: Territory) -> _Store:
    """A PostGIS store for a ``postgresql://`` DSN, else a GeoPackage file."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostGISStore(text, territory)
    return GeoPackageStore(Path(text), territory)
