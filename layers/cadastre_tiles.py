"""The store's irradiation rasters, read in one place: map tiles and the roof sheet's extract.

Every read of a store's COGs by the app goes through :func:`read_irradiation` (rio-tiler's
``Reader`` over the assets the store's grid names, merged). Map tiles
(Web Mercator PNG) are drawn on demand from it:

The store keeps one Cloud-Optimised GeoTIFF per LiDAR tile (``irradiation/XXXX_YYYY.tif``,
with overviews) and the whole territory at 4 m (``irradiation-apercu.tif``). A map tile
``z/x/y`` reads, with rio-tiler, the overview up to zoom 14 and, closer, only the COGs it
touches — found by arithmetic on the 1 km grid, no index to load — at the overview level
that fits its zoom, and colours them with the same classes as the legend. Nothing is pre-rendered:
a new tile in the store shows on the map as soon as the build finishes.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from affine import Affine
from PIL import Image
from pyproj import Transformer
from rasterio.crs import CRS
from rasterio.transform import from_bounds
from rio_tiler.errors import TileOutsideBounds  # imported with the server, not at the
from rio_tiler.io import Reader  # first tile (rio-tiler and pydantic take ~0.5 s)
from rio_tiler.models import ImageData

from layers.solar.grid import CELL
from layers.solar.store import StoreLayout
from layers.web_tiles import Breaks, colorize, map_tile_bounds

MIN_ZOOM, MAX_ZOOM = 11, 21
OVERVIEW_UP_TO = 14  # zooms drawn from the store's 4 m overview (one file), when it has one
_TO_L93 = Transformer.from_crs(3857, 2154, always_xy=True)


def tiles_under(store: Path, z: int, x: int, y: int) -> list[Path]:
    """The store's COGs that a Web Mercator tile touches (the store's own grid says which)."""
    west, south, east, north = map_tile_bounds(z, x, y)
    xs, ys = _TO_L93.transform([west, east, west, east], [south, south, north, north])
    return StoreLayout(Path(store)).cogs_touching((min(xs), min(ys), max(xs), max(ys)))


def read_irradiation(assets: list[Path], read: Callable[[Reader], ImageData]) -> np.ndarray:
    """Irradiation values read from some of the store's COGs, merged (the first wins).

    The one way the app reads a store's rasters: each asset opened with rio-tiler's
    ``Reader``, read by ``read``, its valid pixels filling what is still empty.

    Parameters
    ----------
    assets
        COGs of the store (:meth:`StoreLayout.cogs_touching`, or its overview).
    read
        What to read from each: ``lambda src: src.tile(x, y, z)``, ``src.part(bbox)``…; all
        of the same shape.

    Returns
    -------
    numpy.ndarray
        float32 [kWh/m²/an], NaN where no asset has data (empty when no asset covers it).
    """
    values = None
    for path in assets:
        try:
            with warnings.catch_warnings(), Reader(str(path)) as src:
                warnings.simplefilter("ignore")
                img = read(src)
        except TileOutsideBounds:
            continue
        data = img.array[0]  # masked array: nodata and outside the COG are masked
        if values is None:
            values = np.full(data.shape, np.nan, dtype="float32")
        fill = ~np.ma.getmaskarray(data) & np.isnan(values)
        values[fill] = np.ma.getdata(data)[fill]
    return values if values is not None else np.full((0, 0), np.nan, dtype="float32")


def render_tile(store: Path, z: int, x: int, y: int, breaks: Breaks) -> bytes | None:
    """PNG bytes of tile ``z/x/y``, or ``None`` when the store has nothing there."""
    if not (MIN_ZOOM <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        return None
    overview = StoreLayout(Path(store)).overview
    if z <= OVERVIEW_UP_TO and overview.is_file():
        assets = [overview] if tiles_under(store, z, x, y) else []
    else:
        assets = tiles_under(store, z, x, y)
    resampling = "nearest" if z >= 18 else "average"
    values = read_irradiation(
        assets,
        lambda src: src.tile(
            x, y, z, tilesize=256, resampling_method=resampling, reproject_method="nearest"
        ),
    )
    if not np.isfinite(values).any():
        return None
    buf = io.BytesIO()
    Image.fromarray(colorize(values, breaks), "RGBA").save(buf, "PNG")
    return buf.getvalue()


def irradiation_around(
    store: Path, bounds: tuple[float, float, float, float]
) -> tuple[np.ndarray, Affine]:
    """The irradiation of a box at the store's resolution (0.5 m), from the tiles' COGs.

    Parameters
    ----------
    store
        The store's folder.
    bounds
        ``(left, bottom, right, top)`` [Lambert-93 m].

    Returns
    -------
    tuple
        ``(values, transform)``: float32 [kWh/m²/an] (NaN where nothing is computed) and
        their Lambert-93 transform.
    """
    left, bottom, right, top = bounds
    width = max(1, int(round((right - left) / CELL)))
    height = max(1, int(round((top - bottom) / CELL)))
    l93 = CRS.from_epsg(2154)
    values = read_irradiation(
        StoreLayout(Path(store)).cogs_touching(bounds),
        lambda src: src.part(
            bounds, dst_crs=l93, bounds_crs=l93, width=width, height=height, max_size=None
        ),
    )
    if values.size == 0:
        values = np.full((height, width), np.nan, dtype="float32")
    return values, from_bounds(left, bottom, right, top, width, height)
