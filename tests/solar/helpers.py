"""Helpers of the engine's tests: the weather file, synthetic planes, rasters in Lambert-93."""

from __future__ import annotations

import numpy as np
from affine import Affine
from pyproj import CRS

from layers.solar.raster import Raster
from tests.helpers import GEODATA

EPW = GEODATA / "BEL_VLG_Uccle.064470_TMYx.2007-2021.epw"
L93 = CRS.from_epsg(2154)


def plane(n: int, cell: float, tilt: float, azimuth: float) -> np.ndarray:
    """A plane of slope ``tilt`` facing ``azimuth`` (deg), north-up, row 0 north."""
    rows, cols = np.mgrid[0:n, 0:n].astype(float)
    east, north = cols * cell, -rows * cell
    b, g = np.radians(tilt), np.radians(azimuth)
    return (-np.tan(b) * (np.sin(g) * east + np.cos(g) * north)).astype("float32") + 50.0


def raster(
    array: np.ndarray,
    cell: float = 1.0,
    x0: float = 680_000.0,
    y0: float = 7_040_000.0,
    crs: CRS = L93,
) -> Raster:
    """An in-memory raster, north up, its upper-left corner at (x0, y0)."""
    return Raster(array.astype("float32"), Affine(cell, 0, x0, 0, -cell, y0), crs)
