"""Pre-rendered XYZ tiles (Web Mercator PNG) of an irradiation COG, served as static files.

The map never receives one image of the whole raster: the browser asks for the 256 px tiles
of the visible area at the current zoom, as for any basemap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from rasterio.enums import Resampling
from rasterio.transform import from_bounds as transform_from_bounds
from rasterio.warp import reproject, transform_bounds
from tqdm import tqdm

HALF = 20037508.342789244  # half the Web Mercator world width [m]
# (lower bound in kWh/m²/an, colour "#rrggbb", legend label), ascending
Breaks = Sequence[tuple[float, str, str]]


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of an XYZ tile in EPSG:3857 metres."""
    size = 2 * HALF / 2**z
    west, north = -HALF + x * size, HALF - y * size
    return west, north - size, west + size, north


def tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[range, range]:
    """XYZ tile columns and rows covering EPSG:3857 ``bounds`` at zoom ``z``."""
    size = 2 * HALF / 2**z
    west, south, east, north = bounds
    x0, x1 = int((west + HALF) // size), int((east + HALF) // size)
    y0, y1 = int((HALF - north) // size), int((HALF - south) // size)
    return range(x0, x1 + 1), range(y0, y1 + 1)


def colorize(values: np.ndarray, breaks: Breaks, alpha: int = 210) -> np.ndarray:
    """RGBA image of irradiation values by class (``breaks``); transparent where NaN."""
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    finite = np.isfinite(values)
    for lower, color, _label in breaks:
        rgb = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
        rgba[finite & (values >= lower), :3] = rgb
    rgba[finite, 3] = alpha
    return rgba


def render_tiles(
    cog: Path,
    out_dir: Path,
    breaks: Breaks,
    zooms: range = range(14, 20),
    progress: bool = False,
) -> int:
    """Write ``out_dir/{z}/{x}/{y}.png`` for every tile touching the raster; returns a count.

    Each tile is warped on its own (``rasterio.warp.reproject`` into the tile's 256 px
    grid), so memory stays that of one tile whatever the raster's size.
    """
    written = 0
    with rasterio.open(cog) as src:
        bounds = transform_bounds(src.crs, "EPSG:3857", *src.bounds)
        jobs = [
            (z, x, y)
            for z in zooms
            for x in tile_range(bounds, z)[0]
            for y in tile_range(bounds, z)[1]
        ]
        for z, x, y in tqdm(jobs, desc="Tuiles de carte", disable=not progress):
            data = np.full((256, 256), np.nan, dtype="float32")
            reproject(
                rasterio.band(src, 1),
                data,
                dst_transform=transform_from_bounds(*tile_bounds(z, x, y), 256, 256),
                dst_crs="EPSG:3857",
                src_nodata=np.nan,
                dst_nodata=np.nan,
                resampling=Resampling.nearest if z >= 18 else Resampling.average,
            )
            if not np.isfinite(data).any():
                continue
            path = out_dir / str(z) / str(x) / f"{y}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(colorize(data, breaks), "RGBA").save(path, optimize=True)
            written += 1
    return written


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile containing a WGS84 point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
