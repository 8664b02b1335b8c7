"""Web Mercator (XYZ) tile arithmetic and the irradiation colour classes.

The map never receives one image of the whole raster: the browser asks for the 256 px tiles
of the visible area at the current zoom, as for any basemap; :mod:`layers.cadastre_tiles`
draws them from the store's COGs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

HALF = 20037508.342789244  # half the Web Mercator world width [m]
# (lower bound in kWh/m²/an, colour "#rrggbb", legend label), ascending
Breaks = Sequence[tuple[float, str, str]]


def map_tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of an XYZ tile in EPSG:3857 metres."""
    size = 2 * HALF / 2**z
    west, north = -HALF + x * size, HALF - y * size
    return west, north - size, west + size, north


def hex_rgb(color: str) -> tuple[int, int, int]:
    """``"#2e7d32"`` → ``(46, 125, 50)``."""
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def colorize(values: np.ndarray, breaks: Breaks, alpha: int = 210) -> np.ndarray:
    """RGBA image of irradiation values by class (``breaks``); transparent where NaN."""
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    finite = np.isfinite(values)
    for lower, color, _label in breaks:
        rgba[finite & (values >= lower), :3] = hex_rgb(color)
    rgba[finite, 3] = alpha
    return rgba


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile containing a WGS84 point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
