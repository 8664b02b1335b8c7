"""The cadastre store: its layout (written by ``build``) and its reader (the app, the CLI).

The only module that knows where things are in a store::

    STORE/manifest.json                what each tile was computed from, its time, the climate
                                       (:class:`Manifest`, read and written here only)
    STORE/irradiation/XXXX_YYYY.tif    one Cloud-Optimised GeoTIFF per LiDAR tile [kWh/m²/an]
    STORE/irradiation-apercu.tif       the whole territory at 4 m (map tiles at low zoom)
    STORE/irradiation.vrt              every tile's COG on one grid (QGIS)
    STORE/toits/XXXX_YYYY.parquet      each tile's roofs, before assembly
    STORE/toits.gpkg                   layers toits (R-tree, cleabs index), adresses,
                                       communes (totals), couverture (computed tiles)
    STORE/.verrou-build                the lock a build holds

:class:`StoreLayout` names these paths (the writer's side); :class:`Reader` opens a
finished store once and answers the questions asked of it, in Lambert-93 (EPSG:2154)
coordinates: ``x`` (east) first, then ``y`` (north).

Light on purpose (pyogrio and shapely only): the app reads stores without importing the
engine's numba kernels.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from layers.solar.errors import SolarError
from layers.solar.grid import Key, tiles_touching

ADDRESS_TO_ROOF_M = 15.0  # an address farther than this from every building has no roof
CLASSES = {  # roof class → its count column in the per-commune totals
    "excellent": "classe_excellent",
    "bon": "classe_bon",
    "moyen": "classe_moyen",
    "faible": "classe_faible",
    "non adapté": "classe_non_adapte",
    "sans données": "classe_sans_donnees",  # the LiDAR covers less than half of the roof
    # BD TOPO has it, the LiDAR shows ground there (built after the survey): no figures
    "non vu par le relevé LiDAR": "classe_non_vu",
}
GPKG = "toits.gpkg"
FACE_PARTS = ("pans", "panneaux", "non_vus")  # the faces stage's folders of per-tile parts
# a roof's id is its building's BD TOPO cleabs (« BATIMENT0000000… »); the build refuses
# any other shape, and nothing else ever reaches SQL
ROOF_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")


def tile_name(key: Key) -> str:
    """A tile's name in the store.

    Parameters
    ----------
    key
        ``(x_km, y_km)`` [km].

    Returns
    -------
    str
        ``"0684_7042"``: the stem of its COG and roof files.
    """
    return f"{key[0]:04d}_{key[1]:04d}"


def key_of(name: str) -> Key:
    """The tile a store name stands for (the inverse of :func:`tile_name`).

    Parameters
    ----------
    name
        ``"0684_7042"``.

    Returns
    -------
    Key
        ``(684, 7042)``.
    """
    return int(name[:4]), int(name[5:])


MANIFEST_VERSION = 2  # 2: French keys throughout, tiles named as in the store; 1 is read
# the build's parameters and the climate, as the engine names them → as the manifest does
PARAMETER_KEYS = {
    "n_sectors": "secteurs",
    "max_distance": "distance_ombre_m",
    "model": "modele_ciel",
    "albedo": "albedo",
    "margin": "marge_m",
    "ground": "sol",
}
CLIMATE_KEYS = {
    "source": "source",
    "name": "nom",
    "latitude": "latitude",
    "longitude": "longitude",
    "altitude": "altitude_m",
    "hours": "heures",
    "period": "periode",
    "ghi_kwh_m2": "ghi_kwh_m2",
}


def manifest_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """A build's parameters under the manifest's keys (:data:`PARAMETER_KEYS`).

    Parameters
    ----------
    params
        ``dataclasses.asdict`` of the build's parameters (English field names).

    Returns
    -------
    dict
        The same values under French keys, in the same order; a key without a translation
        is kept as it is.
    """
    return {PARAMETER_KEYS.get(k, k): v for k, v in params.items()}


def manifest_climate(described: dict[str, Any] | None) -> dict[str, Any] | None:
    """The engine's climate description (``Weather.describe()``) under the manifest's keys.

    Parameters
    ----------
    described
        ``source``, ``name``, ``latitude``… as :mod:`layers.solar.sky` describes a weather
        file; keys already French are kept.

    Returns
    -------
    dict or None
        ``source``, ``nom``, ``latitude``, ``longitude`` [deg], ``altitude_m`` [m],
        ``heures``, ``periode``, ``ghi_kwh_m2`` [kWh/m²]; ``None`` when none was given.
    """
    if not isinstance(described, dict):
        return None
    return {CLIMATE_KEYS.get(k, k): v for k, v in described.items()}


def _neighbour_name(name: str) -> str:
    """``684_7041`` (version 1's spelling) → ``0684_7041`` (the store's)."""
    x, _, y = str(name).partition("_")
    return tile_name((int(x), int(y))) if x.isdigit() and y.isdigit() else str(name)


@dataclass(frozen=True)
class TileInputs:
    """Everything a tile's outputs depend on, as checksums: its record in the manifest.

    A tile is recomputed when they change. Persisted under ``dalles.<tile>.entrees``.

    Attributes
    ----------
    mns, mnt
        SHA-256 of the tile's surface and terrain models (``mnt`` ``None`` when absent).
    voisins
        Store name (``0684_7042``) → SHA-256 of each neighbour's MNS within the shadows'
        reach and the buildings' margin (``None``: no tile there, no shade from there).
    batiments
        SHA-256 of the tile's buildings (geometries and every attribute).
    parametres
        The build's parameters under :data:`PARAMETER_KEYS`.
    meteo
        SHA-256 of the weather file.
    regles_toits
        ``RoofRules.digest()``: thresholds, panel power, performance ratio.
    format
        What the computation writes (``build.FORMAT``): a change recomputes every tile.
    """

    mns: str
    mnt: str | None
    voisins: dict[str, str | None]
    batiments: str
    parametres: dict[str, Any]
    meteo: str
    regles_toits: str | None
    format: int


@dataclass(frozen=True)
class TileRecord:
    """A computed tile in the manifest (``dalles.<tile>``).

    Attributes
    ----------
    entrees
        What it was computed from (:class:`TileInputs`).
    sans_batiment
        No building on it: nothing computed, an empty raster written.
    voisins_absents
        Tiles within reach that were missing (no shade from there), store names.
    duree_s
        Its share of its block's time in its process [s].
    bloc
        The tiles computed in the same window.
    calcule_par
        ``host:pid`` of the process.
    rss_mo
        That process's peak resident memory [MB].
    climat
        The typical year's name.
    """

    entrees: TileInputs
    sans_batiment: bool
    voisins_absents: list[str]
    duree_s: float
    bloc: list[str]
    calcule_par: str
    rss_mo: float
    climat: str | None


@dataclass
class Manifest:
    """What a store was computed from and how: ``manifest.json``, read and written here only.

    Keys are French, as persisted (ARCHITECTURE.md): the file is a JSON object with these
    attributes as keys; tiles are named as in the store (``0684_7042``). Stores written
    before version 2 (``tuiles``, the parameters and climate under the engine's English
    keys, neighbours named ``684_7042``) are read and translated; the next build writes
    them in the current form without recomputing any tile.

    Attributes
    ----------
    dalles
        Store name → :class:`TileRecord`, for every tile computed.
    empreintes
        LiDAR file → ``[size, mtime_ns, sha256]``: checksums a later build reuses when a
        file's size and modification time are unchanged.
    finition
        What the assembled tables were built from (a digest): equal, they are up to date.
    climat
        The typical year (:func:`manifest_climate`).
    parametres
        The last build's parameters (:func:`manifest_parameters`).
    dernier_calcul
        ``demarrage_s`` (loading the kernels), ``assemblage_s`` (the tables) and
        ``pans_s`` (the faces stage, wall time, for its ``pans_dalles`` tiles) of the last
        build [s], what the tiles' own times leave out.
    synthetique
        The roofs come from fictional buildings.
    termine
        The store's tables are complete (``False`` while a first build runs).
    format
        ``build.FORMAT`` of the last build.
    pans
        Store name → digest of what its faces and modules were made from
        (``build_faces.FaceStage.digest``): equal, they are up to date.
    version
        The layout it was read in (1 for stores written before :data:`MANIFEST_VERSION`);
        always written in the current one.
    """

    dalles: dict[str, TileRecord] = field(default_factory=dict)
    empreintes: dict[str, list] = field(default_factory=dict)
    finition: str | None = None
    climat: dict[str, Any] | None = None
    parametres: dict[str, Any] | None = None
    dernier_calcul: dict[str, float] = field(default_factory=dict)
    synthetique: bool = False
    termine: bool = False
    format: int | None = None
    pans: dict[str, str] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Read a manifest (any version).

        Parameters
        ----------
        path
            ``manifest.json``.

        Returns
        -------
        Manifest

        Raises
        ------
        OSError
            The file cannot be read.
        ValueError
            Not JSON, or not a manifest.
        """
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """A manifest from its JSON object (any version).

        Parameters
        ----------
        data
            What ``json.loads`` gave.

        Returns
        -------
        Manifest
            A tile whose record cannot be read is left out (the next build recomputes it).

        Raises
        ------
        ValueError
            Not an object, or its tiles are not an object.
        """
        if not isinstance(data, dict):
            raise ValueError("manifeste : objet JSON attendu")
        old = "dalles" not in data and "tuiles" in data
        tiles = data.get("tuiles" if old else "dalles", {})
        if not isinstance(tiles, dict):
            raise ValueError("manifeste : « dalles » doit être un objet")
        records = {}
        for name, record in tiles.items():
            parsed = _tile_record(record)
            if parsed is not None:
                records[str(name)] = parsed
        params = data.get("parametres")
        return cls(
            dalles=records,
            empreintes=dict(data.get("empreintes") or {}),
            finition=data.get("finition"),
            climat=manifest_climate(data.get("climat")),
            parametres=manifest_parameters(params) if isinstance(params, dict) else None,
            dernier_calcul=dict(data.get("dernier_calcul") or {}),
            synthetique=bool(data.get("synthetique")),
            termine=bool(data.get("termine")),
            format=data.get("format"),
            pans={str(k): str(v) for k, v in dict(data.get("pans") or {}).items()},
            version=int(data.get("version", 1)),
        )

    def to_json(self) -> dict[str, Any]:
        """The manifest as its JSON object (the current version).

        Returns
        -------
        dict
            The attributes as keys; ``termine`` only once true (a store being built for
            the first time has none).
        """
        out = asdict(self)
        if not self.termine:
            out.pop("termine")
        return out

    def write(self, path: Path) -> None:
        """Write the manifest atomically (a temporary file, then renamed).

        Parameters
        ----------
        path
            ``manifest.json``.

        Returns
        -------
        None
        """
        self.version = MANIFEST_VERSION
        tmp = Path(path).with_suffix(".tmp")
        text = json.dumps(self.to_json(), indent=1, ensure_ascii=False)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)


def _tile_record(record: object) -> TileRecord | None:
    """A tile's record from its JSON (version 1 or 2); ``None`` when unreadable."""
    if not isinstance(record, dict):
        return None
    try:
        inputs = dict(record["entrees"])
        inputs["parametres"] = manifest_parameters(inputs["parametres"])
        inputs["voisins"] = {_neighbour_name(k): v for k, v in inputs["voisins"].items()}
        return TileRecord(
            entrees=TileInputs(**inputs),
            sans_batiment=bool(record["sans_batiment"]),
            voisins_absents=[_neighbour_name(n) for n in record["voisins_absents"]],
            duree_s=float(record["duree_s"]),
            bloc=list(record["bloc"]),
            calcule_par=str(record["calcule_par"]),
            rss_mo=float(record["rss_mo"]),
            climat=record.get("climat"),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


@dataclass(frozen=True)
class StoreLayout:
    """Where each part of the store ``root`` lives (see the module's docstring)."""

    root: Path

    @property
    def manifest(self) -> Path:
        """The manifest (JSON)."""
        return self.root / "manifest.json"

    @property
    def gpkg(self) -> Path:
        """The assembled GeoPackage."""
        return self.root / GPKG

    @property
    def gpkg_in_progress(self) -> Path:
        """The GeoPackage being assembled (renamed when complete)."""
        return self.root / ".toits-en-cours.gpkg"

    @property
    def vrt(self) -> Path:
        """The VRT over every COG."""
        return self.root / "irradiation.vrt"

    @property
    def overview(self) -> Path:
        """The 4 m overview COG."""
        return self.root / "irradiation-apercu.tif"

    @property
    def lock(self) -> Path:
        """The build's lock file."""
        return self.root / ".verrou-build"

    @property
    def cog_dir(self) -> Path:
        """The per-tile COGs."""
        return self.root / "irradiation"

    @property
    def roofs_dir(self) -> Path:
        """The per-tile roofs (GeoParquet)."""
        return self.root / "toits"

    def cog(self, name: str) -> Path:
        """The irradiation COG of a tile.

        Parameters
        ----------
        name
            The tile's store name (``0684_7042``).

        Returns
        -------
        Path
            ``irradiation/0684_7042.tif`` [kWh/m²/an].
        """
        return self.cog_dir / f"{name}.tif"

    def roofs_part(self, name: str) -> Path:
        """A tile's roofs before assembly.

        Parameters
        ----------
        name
            The tile's store name (``0684_7042``).

        Returns
        -------
        Path
            ``toits/0684_7042.parquet`` (GeoParquet).
        """
        return self.roofs_dir / f"{name}.parquet"

    def face_parts(self, name: str) -> tuple[Path, Path, Path]:
        """A tile's faces-stage outputs before assembly (GeoParquet).

        Parameters
        ----------
        name
            The tile's store name (``0684_7042``).

        Returns
        -------
        tuple of Path
            ``pans/0684_7042.parquet`` (its roof faces), ``panneaux/…`` (its modules) and
            ``non_vus/…`` (``cleabs`` of its buildings the LiDAR did not see), as
            :data:`FACE_PARTS` names the folders.
        """
        pans, panels, unseen = (self.root / folder / f"{name}.parquet" for folder in FACE_PARTS)
        return pans, panels, unseen

    def cogs_touching(self, bounds: tuple[float, float, float, float]) -> list[Path]:
        """The irradiation COGs that exist for the tiles a box touches.

        Parameters
        ----------
        bounds
            ``(left, bottom, right, top)`` [Lambert-93 m].

        Returns
        -------
        list of Path
            Existing COGs only.
        """
        found = []
        for key in tiles_touching(bounds):
            path = self.cog(tile_name(key))
            if path.is_file():
                found.append(path)
        return found


def version_of(root: Path) -> str:
    """A store's version, for cache keys: it changes whenever the store is rebuilt.

    Parameters
    ----------
    root
        The store's folder.

    Returns
    -------
    str
        The manifest's modification time and size; ``"absent"`` without a manifest.
    """
    try:
        stat = StoreLayout(Path(root)).manifest.stat()
    except OSError:
        return "absent"
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def damaged(root: Path, what: str) -> SolarError:
    """The error a store that cannot be read raises (the administrator rebuilds it).

    Parameters
    ----------
    root
        The store's folder.
    what
        What could not be read, in French (« la base des toits »).

    Returns
    -------
    SolarError
        A French message naming ``what`` and the command that rebuilds the store.
    """
    return SolarError(
        f"Magasin du cadastre illisible ({Path(root).name}) : {what}. "
        "L'administrateur doit relancer « pma-atlas solar build »."
    )


@dataclass(frozen=True)
class Reader:
    """A finished store, opened once: its small tables in memory, the rest read on demand.

    Open with :meth:`open`. Coordinates are Lambert-93 ``(x, y)``; geometries come back in
    Lambert-93 too (the caller reprojects for a web map).
    """

    layout: StoreLayout
    manifest: Manifest
    coverage: BaseGeometry  # the computed tiles' union [Lambert-93]
    communes: pd.DataFrame  # per-commune totals (insee, commune, epci, toits, kWc, kWh…)
    synthetic: bool  # the roofs come from fictional buildings (BD TOPO « qualite »)
    has_addresses: bool
    version: str  # :func:`version_of` when opened: the key of whatever is cached from it

    @classmethod
    def open(cls, root: Path) -> Reader | None:
        """Open a finished store once: its manifest, coverage and per-commune totals.

        Parameters
        ----------
        root
            The store's folder.

        Returns
        -------
        Reader or None
            ``None`` when nothing is finished there yet (no manifest, or a build under way
            on an empty store).

        Raises
        ------
        SolarError
            The store is damaged (manifest or GeoPackage unreadable), in French.
        """
        layout = StoreLayout(Path(root))
        if not layout.manifest.is_file() or not layout.gpkg.is_file():
            return None
        try:
            text = layout.manifest.read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, ValueError) as err:
            raise damaged(root, "son manifeste est abîmé") from err
        try:
            manifest = Manifest.from_json(data)
        except ValueError as err:
            raise damaged(root, "manifeste mal formé") from err
        try:
            layers = {str(name) for name, _ in pyogrio.list_layers(layout.gpkg)}
            cover = pyogrio.read_dataframe(layout.gpkg, layer="couverture")
            communes = (
                pyogrio.read_dataframe(layout.gpkg, layer="communes", read_geometry=False)
                if "communes" in layers
                else pd.DataFrame()
            )
        except Exception as err:  # a corrupt or truncated GeoPackage
            raise damaged(root, "le fichier des toits est abîmé ou incomplet") from err
        if not manifest.termine or cover.empty:
            return None
        return cls(
            layout=layout,
            manifest=manifest,
            coverage=cover.to_crs(2154).geometry.iloc[0],
            communes=communes,
            synthetic=manifest.synthetique,
            has_addresses="adresses" in layers,
            version=version_of(root),
        )

    @property
    def path(self) -> Path:
        """The store's folder."""
        return self.layout.root

    @property
    def tiles(self) -> list[str]:
        """Names of the computed LiDAR tiles (``0684_7041``…)."""
        return sorted(self.manifest.dalles)

    @property
    def climate(self) -> dict | None:
        """The typical year the figures used, as recorded (:func:`manifest_climate`)."""
        return self.manifest.climat

    def read(self, layer: str, **kwargs) -> gpd.GeoDataFrame:
        """Read a layer of the store's GeoPackage.

        Parameters
        ----------
        layer
            ``toits``, ``adresses``, ``communes`` or ``couverture``.
        **kwargs
            ``pyogrio.read_dataframe`` arguments: ``bbox``, ``where``, ``max_features``…

        Returns
        -------
        geopandas.GeoDataFrame
            In Lambert-93.

        Raises
        ------
        SolarError
            The layer cannot be read (the store is damaged).
        """
        try:
            return pyogrio.read_dataframe(self.layout.gpkg, layer=layer, **kwargs)
        except Exception as err:
            raise damaged(self.path, f"couche {layer} : {str(err)[:120]}") from err

    def covers(self, x: float, y: float) -> bool:
        """Whether a point lies on a computed tile.

        Parameters
        ----------
        x, y
            Lambert-93 coordinates [m].

        Returns
        -------
        bool
        """
        return bool(self.coverage.contains(Point(x, y)))

    def roof(self, cleabs: str) -> gpd.GeoSeries | None:
        """One roof by its BD TOPO identifier (an indexed read).

        Parameters
        ----------
        cleabs
            The building's ``cleabs``; anything not matching ``ROOF_ID`` is refused unread.

        Returns
        -------
        pandas.Series or None
            The roof's row (columns of ``roofs.ROOF_STATISTICS_COLUMNS`` plus the building's,
            commune and EPCI), or ``None``.
        """
        if not isinstance(cleabs, str) or not ROOF_ID.match(cleabs):
            return None  # never put a hostile string into SQL
        rows = self.read("toits", where=f"cleabs = '{cleabs}'")
        return None if rows.empty else rows.iloc[0]

    def faces_of(self, cleabs: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """A roof's faces and modules (indexed reads; empty for a store without faces).

        Parameters
        ----------
        cleabs
            The building's ``cleabs``; anything not matching ``ROOF_ID`` is refused unread.

        Returns
        -------
        tuple of geopandas.GeoDataFrame
            ``(pans, panneaux)``: the faces by number, the modules by rank (1: the best).
        """
        empty = gpd.GeoDataFrame(geometry=[], crs=2154)
        if not isinstance(cleabs, str) or not ROOF_ID.match(cleabs):
            return empty, empty
        try:
            layers = set(pyogrio.list_layers(self.layout.gpkg)[:, 0])
        except Exception as err:
            raise damaged(self.path, f"couches : {str(err)[:120]}") from err
        if not {"pans", "panneaux"} <= layers:
            return empty, empty
        faces = self.read("pans", where=f"cleabs = '{cleabs}'").sort_values("pan")
        panels = self.read("panneaux", where=f"cleabs = '{cleabs}'").sort_values("rang")
        return faces.reset_index(drop=True), panels.reset_index(drop=True)

    def roofs_near(self, x: float, y: float, radius: float) -> gpd.GeoDataFrame:
        """The roofs near a point (the R-tree, one small read).

        Parameters
        ----------
        x, y
            Lambert-93 coordinates [m].
        radius
            Half-side of the square searched [m]: roofs whose bounding box touches it.

        Returns
        -------
        geopandas.GeoDataFrame
        """
        return self.read("toits", bbox=(x - radius, y - radius, x + radius, y + radius))

    def roofs_under(self, x: float, y: float) -> gpd.GeoDataFrame:
        """The roofs containing a point.

        Parameters
        ----------
        x, y
            Lambert-93 coordinates [m].

        Returns
        -------
        geopandas.GeoDataFrame
            Usually one row, none off the roofs.
        """
        hits = self.roofs_near(x, y, 0.01)
        return hits[hits.contains(Point(x, y))]

    def roof_at(self, x: float, y: float) -> dict | None:
        """The roof under a point, as plain values.

        Parameters
        ----------
        x, y
            Lambert-93 coordinates [m].

        Returns
        -------
        dict or None
            Column → value (NaN as ``None``, no geometry), or ``None`` off the roofs.
        """
        hits = self.roofs_under(x, y)
        if hits.empty:
            return None
        row = hits.iloc[0].drop(labels="geometry")
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}

    def roofs_of(self, insee: list[str]) -> gpd.GeoDataFrame:
        """All roofs of some communes.

        Parameters
        ----------
        insee
            INSEE codes; anything that is not one is ignored (never put into SQL).

        Returns
        -------
        geopandas.GeoDataFrame
            Empty when no code is valid.
        """
        codes = [c for c in insee if INSEE.match(str(c))]
        listed = ", ".join(f"'{c}'" for c in codes)
        return self.read("toits", where=f"insee IN ({listed})" if codes else "1 = 0")

    def addresses(self, words: list[str], limit: int) -> gpd.GeoDataFrame:
        """Addresses whose folded label holds every word.

        Parameters
        ----------
        words
            Folded words (``ban.fold``); anything but ``[a-z0-9]+`` is dropped (never put into
            SQL).
        limit
            Most addresses returned.

        Returns
        -------
        geopandas.GeoDataFrame
            Empty when the store has no address layer or no word is left.
        """
        words = [w for w in words if re.fullmatch(r"[a-z0-9]+", w)]
        if not self.has_addresses or not words:
            return gpd.GeoDataFrame()
        where = " AND ".join(f"recherche LIKE '%{w}%'" for w in words)
        return self.read("adresses", where=where, max_features=limit)

    def cogs_touching(self, bounds: tuple[float, float, float, float]) -> list[Path]:
        """The irradiation COGs of the tiles a box touches (:meth:`StoreLayout.cogs_touching`).

        Parameters
        ----------
        bounds
            ``(left, bottom, right, top)`` [Lambert-93 m].

        Returns
        -------
        list of Path
        """
        return self.layout.cogs_touching(bounds)


__all__ = [
    "ADDRESS_TO_ROOF_M",
    "CLASSES",
    "CLIMATE_KEYS",
    "MANIFEST_VERSION",
    "PARAMETER_KEYS",
    "ROOF_ID",
    "Manifest",
    "Reader",
    "StoreLayout",
    "TileInputs",
    "TileRecord",
    "key_of",
    "manifest_climate",
    "manifest_parameters",
    "tile_name",
    "version_of",
]
