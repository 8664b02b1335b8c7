"""The cadastre store: its layout (written by ``build``) and its reader (the app, the CLI).

The only module that knows where things are in a store::

    STORE/manifest.json                what each tile was computed from, its time, the climate
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
import re
from dataclasses import dataclass
from pathlib import Path

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
}
GPKG = "toits.gpkg"
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
    manifest: dict
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
            manifest = json.loads(layout.manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise damaged(root, "son manifeste est abîmé") from err
        if not isinstance(manifest, dict):
            raise damaged(root, "manifeste mal formé")
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
        if not manifest.get("termine") or cover.empty:
            return None
        return cls(
            layout=layout,
            manifest=manifest,
            coverage=cover.to_crs(2154).geometry.iloc[0],
            communes=communes,
            synthetic=bool(manifest.get("synthetique")),
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
        return sorted(self.manifest.get("tuiles", {}))

    @property
    def climate(self) -> dict | None:
        """The typical year the figures used (``Weather.describe()``), as recorded."""
        climate = self.manifest.get("climat")
        return climate if isinstance(climate, dict) else None

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
    "ROOF_ID",
    "Reader",
    "StoreLayout",
    "key_of",
    "tile_name",
    "version_of",
]
