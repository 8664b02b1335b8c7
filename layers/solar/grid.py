"""IGN's LiDAR HD grid: 1 km tiles of 2 000 × 2 000 pixels of 0.5 m, in Lambert-93.

Pixel centres fall on the half-metre, so a tile's edges are a quarter metre off the
kilometre: tile ``(x_km, y_km)`` spans ``x_km·1000 − 0.25`` … ``+ 1000`` eastwards and
``y_km·1000 + 0.25`` … ``− 1000`` southwards (its key is its upper-left corner in km, as
in IGN's file names). Every piece of the engine that places a pixel or a tile asks here.
"""

from __future__ import annotations

import math

from affine import Affine

CELL = 0.5  # [m]
TILE_PX = 2000  # pixels per tile side
TILE_M = 1000  # [m]
# one global pixel grid for the whole of France: IGN's pixel edges fall on it
GRID_LEFT, GRID_TOP = -CELL / 2, 7_300_000 + CELL / 2

Key = tuple[int, int]


def tile_of(x: float, y: float) -> Key:
    """The tile holding point (x, y) [Lambert-93]."""
    return int(math.floor((x + CELL / 2) / TILE_M)), int(math.floor((y - CELL / 2) / TILE_M)) + 1


def tile_origin(key: Key) -> tuple[float, float]:
    """(left, top) of tile ``key`` [Lambert-93 m]: IGN's pixel edges, a quarter metre off."""
    return key[0] * TILE_M - CELL / 2, key[1] * TILE_M + CELL / 2


def tile_bounds(key: Key) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of tile ``key`` [Lambert-93 m], as IGN's pixel edges."""
    left, top = tile_origin(key)
    return left, top - TILE_M, left + TILE_M, top


def tile_box(key: Key):
    """The tile's 1 km square (shapely, Lambert-93)."""
    from shapely.geometry import box

    return box(*tile_bounds(key))


def tile_transform(x_km: int, y_km: int) -> Affine:
    """The affine transform of tile ``(x_km, y_km)``'s pixels."""
    left, top = tile_origin((x_km, y_km))
    return Affine(CELL, 0.0, left, 0.0, -CELL, top)


def tiles_touching(bounds: tuple[float, float, float, float]) -> list[Key]:
    """The tiles a (left, bottom, right, top) box [Lambert-93] touches."""
    (x0, y0), (x1, y1) = tile_of(bounds[0], bounds[1]), tile_of(bounds[2], bounds[3])
    return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]
