"""IGN's LiDAR HD grid: 1 km tiles of 2 000 × 2 000 pixels of 0.5 m, in Lambert-93.

Pixel centres fall on the half-metre, so a tile's edges are a quarter metre off the
kilometre: tile ``(x_km, y_km)`` spans ``x_km·1000 − 0.25`` … ``+ 1000`` eastwards and
``y_km·1000 + 0.25`` … ``− 1000`` southwards (its key is its upper-left corner in km, as
in IGN's file names). Every piece of the engine that places a pixel or a tile asks here.
"""

from __future__ import annotations

import re

import numpy as np
from affine import Affine

CELL = 0.5  # [m]
TILE_PX = 2000  # pixels per tile side
TILE_M = 1000  # [m]
# one global pixel grid for the whole of France: IGN's pixel edges fall on it
GRID_LEFT, GRID_TOP = -CELL / 2, 7_300_000 + CELL / 2

Key = tuple[int, int]

# IGN's file names of a LiDAR HD height tile: MNS (surface) or MNT (terrain); IGN ships
# « O » (ortho) products, « A » was seen in early deliveries
LIDAR_FILE = "LHD_FXX_{x:04d}_{y:04d}_{kind}_O_0M50_LAMB93_IGN69.tif"
LIDAR_FILE_RE = re.compile(r"^LHD_FXX_(\d{4})_(\d{4})_(MNS|MNT)_[OA]_0M50_LAMB93_IGN69\.tif$", re.I)


def lidar_file_name(key: Key, kind: str) -> str:
    """IGN's file name of a LiDAR HD height tile.

    Parameters
    ----------
    key
        The tile's upper-left corner [km] (``(684, 7042)``).
    kind
        ``"MNS"`` (surface model) or ``"MNT"`` (terrain model).

    Returns
    -------
    str
        ``LHD_FXX_0684_7042_MNS_O_0M50_LAMB93_IGN69.tif``.
    """
    return LIDAR_FILE.format(x=key[0], y=key[1], kind=kind)


def parse_lidar_file_name(name: str) -> tuple[Key, str] | None:
    """The tile and kind an IGN LiDAR HD file name stands for.

    Parameters
    ----------
    name
        A file name (no folder), any case.

    Returns
    -------
    tuple or None
        ``((x_km, y_km), "MNS" | "MNT")``, or ``None`` for any other name.
    """
    m = LIDAR_FILE_RE.match(name)
    return ((int(m[1]), int(m[2])), m[3].upper()) if m else None


def tile_of(x: float, y: float) -> Key:
    """The tile holding a point.

    Parameters
    ----------
    x, y
        Lambert-93 coordinates [m] (east, north).

    Returns
    -------
    Key
        ``(x_km, y_km)``, the tile's upper-left corner [km]. A point on an edge belongs to
        the tile east or north of it (left and bottom edges inclusive).
    """
    x_km, y_km = tiles_of(np.asarray(x), np.asarray(y))  # one formula for both
    return int(x_km), int(y_km)


def tiles_of(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tiles holding many points at once (the vectorised :func:`tile_of`).

    Parameters
    ----------
    x, y
        Lambert-93 coordinates [m], equal-shaped arrays.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x_km, y_km)`` of each point's tile, integer arrays.
    """
    x_km = np.floor((np.asarray(x) + CELL / 2) / TILE_M).astype(int)
    y_km = np.floor((np.asarray(y) - CELL / 2) / TILE_M).astype(int) + 1
    return x_km, y_km


def keys_of(x, y) -> list[Key]:
    """The tile of each point, as keys (a building's tile, from its centroid).

    Parameters
    ----------
    x, y
        Lambert-93 coordinates [m]: sequences, arrays or pandas Series of equal length.

    Returns
    -------
    list of Key
        ``(x_km, y_km)`` per point, in order.
    """
    x_km, y_km = tiles_of(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return list(zip(x_km.tolist(), y_km.tolist(), strict=True))


def tile_origin(key: Key) -> tuple[float, float]:
    """The upper-left corner of a tile, on IGN's pixel edges.

    Parameters
    ----------
    key
        ``(x_km, y_km)`` [km].

    Returns
    -------
    tuple of float
        ``(left, top)`` [Lambert-93 m]: ``x_km·1000 − 0.25``, ``y_km·1000 + 0.25``.
    """
    return key[0] * TILE_M - CELL / 2, key[1] * TILE_M + CELL / 2


def tile_bounds(key: Key) -> tuple[float, float, float, float]:
    """The extent of a tile, on IGN's pixel edges.

    Parameters
    ----------
    key
        ``(x_km, y_km)`` [km].

    Returns
    -------
    tuple of float
        ``(left, bottom, right, top)`` [Lambert-93 m].
    """
    left, top = tile_origin(key)
    return left, top - TILE_M, left + TILE_M, top


def tile_box(key: Key):
    """The extent of a tile as a polygon.

    Parameters
    ----------
    key
        ``(x_km, y_km)`` [km].

    Returns
    -------
    shapely.Polygon
        The 1 km square of :func:`tile_bounds` [Lambert-93 m].
    """
    from shapely.geometry import box

    return box(*tile_bounds(key))


def tile_transform(key: Key) -> Affine:
    """The affine transform of a tile's pixels.

    Parameters
    ----------
    key
        ``(x_km, y_km)`` [km].

    Returns
    -------
    affine.Affine
        0.5 m pixels from :func:`tile_origin`, north up.
    """
    left, top = tile_origin(key)
    return Affine(CELL, 0.0, left, 0.0, -CELL, top)


def tiles_touching(bounds: tuple[float, float, float, float]) -> list[Key]:
    """The tiles a box touches.

    Parameters
    ----------
    bounds
        ``(left, bottom, right, top)`` [Lambert-93 m].

    Returns
    -------
    list of Key
        Every tile with a part inside or on the edge of the box.
    """
    (x0, y0), (x1, y1) = tile_of(bounds[0], bounds[1]), tile_of(bounds[2], bounds[3])
    return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]
