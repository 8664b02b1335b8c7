"""Synthetic roofs with known faces, for the faces and panels tests (issue 27).

Each roof is a set of planes over a footprint, built in the building's own frame (u along
the ridge, v across it) and turned by ``turn`` degrees: the face a pixel belongs to is
known exactly (the lowest plane over it for a convex roof; the highest roof for two
roofs joined, as an L or a dormer). Heights are sampled at pixel centres as a surface
model is, on a 0.5 m grid, north up; x east and y north in metres from the upper-left
corner of the window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CELL = 0.5
GROUND = 40.0
EAVE = 46.0


@dataclass
class Truth:
    """A window with one roof: heights, footprint, and the true face of each pixel."""

    z: np.ndarray
    ids: np.ndarray
    face: np.ndarray  # true face index per pixel (0 … n − 1), −1 outside or obstacle
    slope: np.ndarray  # per true face [deg]
    azimuth: np.ndarray  # per true face [deg], NaN when flat

    def area(self, k: int) -> float:
        """True inclined area of face ``k`` on this grid [m²]."""
        return float((self.face == k).sum()) * CELL**2 / math.cos(math.radians(self.slope[k]))


def _grid(size_m: float):
    n = int(size_m / CELL)
    rows, cols = np.mgrid[0:n, 0:n].astype(float)
    x, y = (cols + 0.5) * CELL, -(rows + 0.5) * CELL
    centre = size_m / 2
    return x - centre, y + centre


def _local(x, y, turn: float):
    """Map coordinates → the building's frame: v points where face 0 looks (azimuth turn)."""
    g = math.radians(turn)
    v = x * math.sin(g) + y * math.cos(g)  # along the facing direction
    u = x * math.cos(g) - y * math.sin(g)
    return u, v


def _plane(u, v, tilt: float, facing: float, h0: float, v0: float):
    """Heights of a plane rising against ``facing`` (deg, in the building's frame: 0 = +v)."""
    f = math.radians(facing)
    d = u * math.sin(f) + v * math.cos(f)  # distance along the facing direction
    return h0 - math.tan(math.radians(tilt)) * (d - v0)


def _azimuth(turn: float, facing: float, tilt: float) -> float:
    return float("nan") if tilt < 3 else (turn + facing) % 360


def convex(planes, inside, x, y, turn: float, size_m: float) -> Truth:
    """A convex roof: the lowest of its planes over the footprint ``inside``."""
    u, v = _local(x, y, turn)
    heights = np.stack([p(u, v) for p, _, _ in planes])
    z = np.full(x.shape, GROUND)
    face = np.full(x.shape, -1)
    z[inside] = heights.min(axis=0)[inside]
    face[inside] = heights.argmin(axis=0)[inside]
    slope = np.array([t for _, t, _ in planes], dtype=float)
    az = np.array([_azimuth(turn, f, t) for _, t, f in planes])
    return Truth(z, inside.astype("int64"), face, slope, az)


def gable(turn=0.0, length=12.0, width=8.0, tilt=35.0, size_m=24.0) -> Truth:
    x, y = _grid(size_m)
    u, v = _local(x, y, turn)
    inside = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    ridge = EAVE + math.tan(math.radians(tilt)) * width / 2
    planes = [
        (lambda u, v: _plane(u, v, tilt, 0, ridge, 0), tilt, 0),
        (lambda u, v: _plane(u, v, tilt, 180, ridge, 0), tilt, 180),
    ]
    return convex(planes, inside, x, y, turn, size_m)


def hip(turn=0.0, length=14.2, width=9.0, tilt=30.0, size_m=24.0) -> Truth:
    """Four faces; the hips fall between pixel centres (no pixel on two faces at once)."""
    x, y = _grid(size_m)
    u, v = _local(x, y, turn)
    inside = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    t = math.tan(math.radians(tilt))
    planes = [
        (lambda u, v: _plane(u, v, tilt, 0, EAVE + t * width / 2, 0), tilt, 0),
        (lambda u, v: _plane(u, v, tilt, 180, EAVE + t * width / 2, 0), tilt, 180),
        (lambda u, v: _plane(u, v, tilt, 90, EAVE + t * length / 2, 0), tilt, 90),
        (lambda u, v: _plane(u, v, tilt, 270, EAVE + t * length / 2, 0), tilt, 270),
    ]
    return convex(planes, inside, x, y, turn, size_m)


def shed(turn=0.0, length=10.0, width=6.0, tilt=15.0, size_m=20.0) -> Truth:
    x, y = _grid(size_m)
    u, v = _local(x, y, turn)
    inside = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    planes = [(lambda u, v: _plane(u, v, tilt, 0, EAVE, width / 2), tilt, 0)]
    return convex(planes, inside, x, y, turn, size_m)


def mansard(turn=0.0, length=14.0, width=10.0, size_m=24.0) -> Truth:
    """Steep lower slopes (70°) on two sides, a shallow upper pair (20°)."""
    x, y = _grid(size_m)
    u, v = _local(x, y, turn)
    inside = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    steep, shallow, brk = 60.0, 20.0, 2.0  # the break 2 m in from the eaves
    top = EAVE + math.tan(math.radians(steep)) * brk
    upper = top + math.tan(math.radians(shallow)) * (width / 2 - brk)
    planes = [
        (lambda u, v: _plane(u, v, steep, 0, top, width / 2 - brk), steep, 0),
        (lambda u, v: _plane(u, v, steep, 180, top, width / 2 - brk), steep, 180),
        (lambda u, v: _plane(u, v, shallow, 0, upper, 0), shallow, 0),
        (lambda u, v: _plane(u, v, shallow, 180, upper, 0), shallow, 180),
    ]
    return convex(planes, inside, x, y, turn, size_m)


def flat_with_parapet(turn=0.0, length=20.0, width=14.0, size_m=30.0) -> Truth:
    """A flat roof (1° of fall for the rain), a 0.5 m parapet 0.5 m wide, a chimney, an HVAC
    box and a skylight: every obstacle is off the face (true face −1)."""
    x, y = _grid(size_m)
    u, v = _local(x, y, turn)
    inside = (np.abs(u) < length / 2) & (np.abs(v) < width / 2)
    z = np.full(x.shape, GROUND)
    roof = EAVE + math.tan(math.radians(1.0)) * (-v)
    z[inside] = roof[inside]
    face = np.where(inside, 0, -1)
    parapet = inside & ((np.abs(u) > length / 2 - 0.5) | (np.abs(v) > width / 2 - 0.5))
    boxes = [
        (np.abs(u - 4) < 0.6) & (np.abs(v - 3) < 0.6),  # chimney, 1.5 m
        (np.abs(u + 5) < 1.2) & (np.abs(v + 2) < 0.8),  # HVAC box, 1.2 m
        (np.abs(u - 0) < 0.7) & (np.abs(v + 0) < 0.7),  # skylight, 0.4 m
    ]
    for mask, h in [(parapet, 0.5), *zip(boxes, (1.5, 1.2, 0.4), strict=True)]:
        z[mask] = roof[mask] + h
        face[mask] = -1
    return Truth(z, inside.astype("int64"), face, np.array([1.0]), np.array([np.nan]))


def _stack(parts: list[Truth], x) -> Truth:
    """Roofs joined: the highest surface wins each pixel (an L, a dormer on a roof)."""
    z = np.full(x.shape, GROUND)
    face = np.full(x.shape, -1)
    slopes, azimuths = [], []
    offset = 0
    for part in parts:
        on = (part.ids > 0) & (part.z >= z)
        z[on] = part.z[on]
        face[on] = np.where(part.face[on] >= 0, part.face[on] + offset, -1)
        offset += len(part.slope)
        slopes += list(part.slope)
        azimuths += list(part.azimuth)
    ids = (np.stack([p.ids for p in parts]).max(axis=0) > 0).astype("int64")
    return _contiguous(Truth(z, ids, face, np.array(slopes), np.array(azimuths)))


def _contiguous(truth: Truth) -> Truth:
    """A face is one contiguous piece of a plane: a plane cut in two by another roof makes
    two faces (the slope and azimuth of their plane)."""
    from scipy import ndimage

    face = np.full(truth.face.shape, -1)
    slopes, azimuths = [], []
    for k in range(len(truth.slope)):
        pieces, n = ndimage.label(truth.face == k)
        for i in range(1, n + 1):
            face[pieces == i] = len(slopes)
            slopes.append(truth.slope[k])
            azimuths.append(truth.azimuth[k])
    return Truth(truth.z, truth.ids, face, np.array(slopes), np.array(azimuths))


def l_shape(turn=0.0, size_m=30.0) -> Truth:
    """Two gables at right angles, as an L: the second wing's ridge meets the first one's,
    valleys where their faces meet."""
    x, y = _grid(size_m)
    u, v = _local(x, y, turn)
    a = gable(turn, length=16, width=8, tilt=35, size_m=size_m)
    off = 4.1  # the valleys fall between pixel centres (no pixel on two faces at once)
    inside = (np.abs(u - off) < 4) & (v < 0) & (v > -12)
    ridge = EAVE + math.tan(math.radians(35)) * 4
    planes = [
        (lambda u, v: _plane(u - off, v, 35, 90, ridge, 0), 35.0, 90),
        (lambda u, v: _plane(u - off, v, 35, 270, ridge, 0), 35.0, 270),
    ]
    b = convex(planes, inside, x, y, turn, size_m)
    return _stack([a, b], x)


def dormer(turn=0.0, size_m=24.0) -> Truth:
    """A 4 m wide gable dormer on the face of a 35° gable roof that looks at ``turn``: its
    ridge runs across the main one, its two faces look along the main ridge."""
    x, y = _grid(size_m)
    main = gable(turn, length=14, width=10, tilt=35, size_m=size_m)
    u, v = _local(x, y, turn)
    inside = (np.abs(u) < 2.0) & (v > 0.5) & (v < 4.6)
    ridge = EAVE + math.tan(math.radians(35)) * 5 - 1.1  # 1.1 m under the main ridge
    planes = [
        (lambda u, v: _plane(u, v, 30, 90, ridge, 0), 30.0, 90),
        (lambda u, v: _plane(u, v, 30, 270, ridge, 0), 30.0, 270),
    ]
    part = convex(planes, inside, x, y, turn, size_m)
    return _stack([main, part], x)
