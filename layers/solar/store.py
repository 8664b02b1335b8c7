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
    """A tile's name in the store (``0684_7042``)."""
    return f"{key[0]:04d}_{key[1]:04d}"


def key_of(name: str) -> Key:
    """The key of a stored tile's name (``0684_7042`` → (684, 7042))."""
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
        """The irradiation COG of tile ``name``."""
        return self.cog_dir / f"{name}.tif"

    def roofs_part(self, name: str) -> Path:
        """The roofs of tile ``name`` before assembly (GeoParquet)."""
        return self.roofs_dir / f"{name}.parquet"

    def cogs_touching(self, bounds: tuple[float, float, float, float]) -> list[Path]:
        """The COGs there are of the tiles a (left, bottom, right, top) box touches [L93]."""
        found = []
        for key in tiles_touching(bounds):
            path = self.cog(tile_name(key))
            if path.is_file():
                found.append(path)
        return found


def version_of(root: Path) -> str:
    """Changes whenever the store is rebuilt (a cache key): the manifest's mtime and size."""
    try:
        stat = StoreLayout(Path(root)).manifest.stat()
    except OSError:
        return "absent"
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def damaged(root: Path, what: str) -> SolarError:
    """The French error of a store that cannot be read (the administrator rebuilds it)."""
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
        """The store at ``root``; ``None`` when nothing is finished there yet.

        Raises :class:`SolarError` (French) when it is damaged.
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
        """A layer of the GeoPackage (``pyogrio`` arguments: bbox, where, max_features…)."""
        try:
            return pyogrio.read_dataframe(self.layout.gpkg, layer=layer, **kwargs)
        except Exception as err:
            raise damaged(self.path, f"couche {layer} : {str(err)[:120]}") from err

    def covers(self, x: float, y: float) -> bool:
        """Whether point (x, y) lies on a computed tile."""
        return bool(self.coverage.contains(Point(x, y)))

    def roof(self, cleabs: str) -> gpd.GeoSeries | None:
        """One roof by its BD TOPO ``cleabs`` (indexed read), or ``None``."""
        if not isinstance(cleabs, str) or not ROOF_ID.match(cleabs):
            return None  # never put a hostile string into SQL
        rows = self.read("toits", where=f"cleabs = '{cleabs}'")
        return None if rows.empty else rows.iloc[0]

    def roofs_near(self, x: float, y: float, radius: float) -> gpd.GeoDataFrame:
        """Roofs whose R-tree box touches the square of half-side ``radius`` [m] around (x, y)."""
        return self.read("toits", bbox=(x - radius, y - radius, x + radius, y + radius))

    def roofs_under(self, x: float, y: float) -> gpd.GeoDataFrame:
        """The roofs containing point (x, y) (spatial index, one small read)."""
        hits = self.roofs_near(x, y, 0.01)
        return hits[hits.contains(Point(x, y))]

    def roof_at(self, x: float, y: float) -> dict | None:
        """The roof under (x, y) as plain values (NaN → None, no geometry), or ``None``."""
        hits = self.roofs_under(x, y)
        if hits.empty:
            return None
        row = hits.iloc[0].drop(labels="geometry")
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}

    def roofs_of(self, insee: list[str]) -> gpd.GeoDataFrame:
        """All roofs of some communes (INSEE codes; anything else is ignored)."""
        codes = [c for c in insee if INSEE.match(str(c))]
        listed = ", ".join(f"'{c}'" for c in codes)
        return self.read("toits", where=f"insee IN ({listed})" if codes else "1 = 0")

    def addresses(self, words: list[str], limit: int) -> gpd.GeoDataFrame:
        """Addresses whose folded label holds every word (``[a-z0-9]+`` only), ≤ ``limit``."""
        words = [w for w in words if re.fullmatch(r"[a-z0-9]+", w)]
        if not self.has_addresses or not words:
            return gpd.GeoDataFrame()
        where = " AND ".join(f"recherche LIKE '%{w}%'" for w in words)
        return self.read("adresses", where=where, max_features=limit)

    def cogs_touching(self, bounds: tuple[float, float, float, float]) -> list[Path]:
        """The irradiation COGs of the tiles a (left, bottom, right, top) box touches."""
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
