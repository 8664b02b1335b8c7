"""Irradiation map tiles (Web Mercator PNG) drawn on demand from a cadastre store's COGs.

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
from pathlib import Path

import numpy as np
from PIL import Image
from pyproj import Transformer
from rio_tiler.errors import TileOutsideBounds  # imported with the server, not at the
from rio_tiler.io import Reader  # first tile (rio-tiler and pydantic take ~0.5 s)

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


def render_tile(store: Path, z: int, x: int, y: int, breaks: Breaks) -> bytes | None:
    """PNG bytes of tile ``z/x/y``, or ``None`` when the store has nothing there."""
    if not (MIN_ZOOM <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        return None
    overview = StoreLayout(Path(store)).overview
    if z <= OVERVIEW_UP_TO and overview.is_file():
        assets = [overview] if tiles_under(store, z, x, y) else []
    else:
        assets = tiles_under(store, z, x, y)
    if not assets:
        return None
    values = np.full((256, 256), np.nan, dtype="float32")
    resampling = "nearest" if z >= 18 else "average"
    for path in assets:
        try:
            with warnings.catch_warnings(), Reader(str(path)) as src:
                warnings.simplefilter("ignore")
                img = src.tile(
                    x, y, z, tilesize=256, resampling_method=resampling, reproject_method="nearest"
                )
        except TileOutsideBounds:
            continue
        data = img.array[0]  # masked array: nodata and outside the COG are masked
        fill = ~np.ma.getmaskarray(data) & np.isnan(values)
        values[fill] = np.ma.getdata(data)[fill]
    if not np.isfinite(values).any():
        return None
    buf = io.BytesIO()
    Image.fromarray(colorize(values, breaks), "RGBA").save(buf, "PNG")
    return buf.getvalue()
