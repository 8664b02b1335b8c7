"""The cadastre store's format, shared by its writer and its readers.

``build`` writes it; the app and ``pma-atlas solar roof`` read it: layer names, class
columns, and the roof under a point.

Light on purpose (pyogrio and shapely only): the app reads stores without importing the
engine's numba kernels.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pyogrio
from shapely.geometry import Point

from layers.errors import AtlasError

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


def read_layer(store: Path, layer: str, **kwargs) -> gpd.GeoDataFrame:
    """A layer of the store's GeoPackage (``pyogrio`` arguments: bbox, where…).

    A missing or unreadable store is an :class:`AtlasError` in French.
    """
    path = Path(store) / GPKG
    if not path.is_file():
        raise AtlasError(f"Magasin du cadastre introuvable ou incomplet : {store}")
    try:
        return pyogrio.read_dataframe(path, layer=layer, **kwargs)
    except Exception as err:
        raise AtlasError(f"Magasin du cadastre illisible ({Path(store).name}) : {err}") from err


def roofs_around(store: Path, x: float, y: float, radius: float) -> gpd.GeoDataFrame:
    """Roofs whose R-tree box touches a square of ``radius`` around (x, y) [Lambert-93]."""
    return read_layer(store, "toits", bbox=(x - radius, y - radius, x + radius, y + radius))


def roofs_under(store: Path, x: float, y: float) -> gpd.GeoDataFrame:
    """The roofs containing point (x, y) [Lambert-93] (spatial index, one small read)."""
    hits = roofs_around(store, x, y, 0.01)
    return hits[hits.contains(Point(x, y))]


def roof_at(store: Path, x: float, y: float) -> dict | None:
    """The roof under point (x, y) [Lambert-93] as plain values (NaN → None), or None."""
    hits = roofs_under(store, x, y)
    if hits.empty:
        return None
    row = hits.iloc[0].drop(labels="geometry")
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
