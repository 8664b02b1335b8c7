"""Roof faces (« pans ») from the surface model: planar segmentation inside each footprint.

Region growing on the 0.5 m surface model, all the roofs of a window at once (a region
never crosses from one roof to another):

1. Each roof pixel gets its height gradient by central differences between pixels of the
   same roof (one-sided at the footprint's edge).
2. Seeds are taken from the smoothest pixels first (least gradient change with their
   neighbours: the inside of a plane, not its ridge). A region grows to the 4-neighbours
   whose gradient is within ``normal_tol`` of the region's mean gradient and whose height
   lies within ``plane_tol_m`` of the region's running plane. A region smaller than
   ``min_face_m2`` is let go (its pixels may join another).
3. Each region's plane is fitted by least squares; adjacent regions of one roof whose
   planes agree (normals within ``merge_deg``, each one's pixels within ``plane_tol_m`` of
   the other's plane) are merged (noise can split a plane).
4. Pixels left over (ridges and hips, where the gradient straddles two faces; the edges)
   join the adjacent face whose plane explains their height within ``plane_tol_m``, the
   best one, ring after ring. What no plane explains — chimneys, skylights, HVAC boxes,
   parapets, antennas — is an **obstacle** (label −1): never a face, never under a panel.
5. Planes are fitted again on the final faces; slope, azimuth (clockwise from north,
   180 = south, as pvlib; NaN under ``flat_deg``), true inclined area (pixel area /
   cos slope) and the fit's RMS residual follow.

Why region growing rather than RANSAC (the CSE's open PV model): on a raster the
neighbourhood is given, so contiguity — the refinement RANSAC needs afterwards — is built
in; a numba pass labels every roof of a 2 × 2 km block at once instead of sampling
planes roof by roof; and the least-squares refit gives the same plane RANSAC's consensus
would on the inliers. What it shares with Tarsha-Kurdi's refinements: contiguity (growth
by neighbours), aspect consistency (the gradient test), small regions let go (thin strips
do not become faces).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

OBSTACLE = -1  # a roof pixel no face's plane explains


@dataclass(frozen=True)
class FaceRules:
    """How faces are found.

    Attributes
    ----------
    plane_tol_m
        Largest height difference between a pixel and its face's plane [m].
    normal_tol
        Largest difference of height gradient between a pixel and its region's mean
        [m/m] (0.1 ≈ 6° of slope).
    min_face_m2
        Smallest face, in plan [m²] (a dormer's cheek is larger).
    merge_deg
        Adjacent regions whose normals differ by less are one face if their planes agree
        [deg].
    flat_deg
        Below this slope a face is flat: no azimuth [deg].
    min_flat_m2
        A flat face smaller than this on a roof with a larger face is the top of an
        obstacle (HVAC box, lift housing, flat skylight) [m²].
    """

    plane_tol_m: float = 0.15
    normal_tol: float = 0.10
    min_face_m2: float = 1.5
    merge_deg: float = 4.0
    flat_deg: float = 3.0
    min_flat_m2: float = 8.0


@dataclass(frozen=True)
class Faces:
    """The faces of every roof of a window.

    Attributes
    ----------
    labels
        ``(rows, cols)`` int32: the face of each pixel (1 … n), 0 outside roofs,
        :data:`OBSTACLE` (−1) on roof pixels no face explains.
    roof
        ``(n,)`` the roof id of each face (the ``ids`` raster's value).
    slope
        ``(n,)`` [deg].
    azimuth
        ``(n,)`` [deg] clockwise from north (180 = south); NaN for flat faces.
    area_m2
        ``(n,)`` true inclined area [m²].
    plan_m2
        ``(n,)`` area in plan [m²].
    residual_m
        ``(n,)`` RMS distance of the face's pixels to its plane [m].
    plane
        ``(n, 3)`` ``z = a·x + b·y + c`` with x east and y north in metres from the
        window's upper-left corner.
    """

    labels: np.ndarray
    roof: np.ndarray
    slope: np.ndarray
    azimuth: np.ndarray
    area_m2: np.ndarray
    plan_m2: np.ndarray
    residual_m: np.ndarray
    plane: np.ndarray

    def __len__(self) -> int:
        return len(self.roof)


@numba.njit(cache=True, inline="always")
def _ok(z, ids, k, r, c):  # pragma: no cover - numba
    rows, cols = z.shape
    return 0 <= r < rows and 0 <= c < cols and ids[r, c] == k and np.isfinite(z[r, c])


@numba.njit(cache=True, inline="always")
def _at(z, ids, k, r, c):  # pragma: no cover - numba
    return z[r, c] if _ok(z, ids, k, r, c) else 0.0


@numba.njit(cache=True, inline="always")
def _slope_1d(z0, zm1, zm2, zp1, zp2, has_m1, has_m2, has_p1, has_p2, cell):  # pragma: no cover
    """A height difference along one axis that does not straddle a ridge or a break.

    Central when both sides agree; otherwise the side whose slope goes on linearly one
    pixel further (the other side crosses a break); NaN without a neighbour.
    """
    if has_m1 and has_p1:
        back, fwd = (z0 - zm1) / cell, (zp1 - z0) / cell
        if abs(fwd - back) < 0.05:
            return (fwd + back) / 2
        bad_b = abs(back - (zm1 - zm2) / cell) if has_m2 else np.inf
        bad_f = abs(fwd - (zp2 - zp1) / cell) if has_p2 else np.inf
        if bad_f < bad_b:
            return fwd
        if bad_b < bad_f:
            return back
        return np.nan  # on the break itself
    if has_p1:
        return (zp1 - z0) / cell
    if has_m1:
        return (z0 - zm1) / cell
    return np.nan


@numba.njit(cache=True)
def _gradients(z, ids, cell, gx, gy):  # pragma: no cover - numba
    rows, cols = z.shape
    for r in range(rows):
        for c in range(cols):
            k = ids[r, c]
            if k <= 0 or not np.isfinite(z[r, c]):
                continue

            gx[r, c] = _slope_1d(
                z[r, c], _at(z, ids, k, r, c - 1), _at(z, ids, k, r, c - 2),
                _at(z, ids, k, r, c + 1), _at(z, ids, k, r, c + 2),
                _ok(z, ids, k, r, c - 1), _ok(z, ids, k, r, c - 2),
                _ok(z, ids, k, r, c + 1), _ok(z, ids, k, r, c + 2), cell,
            )  # fmt: skip
            # y grows northwards, rows southwards: the "forward" neighbour is the row above
            gy[r, c] = _slope_1d(
                z[r, c], _at(z, ids, k, r + 1, c), _at(z, ids, k, r + 2, c),
                _at(z, ids, k, r - 1, c), _at(z, ids, k, r - 2, c),
                _ok(z, ids, k, r + 1, c), _ok(z, ids, k, r + 2, c),
                _ok(z, ids, k, r - 1, c), _ok(z, ids, k, r - 2, c), cell,
            )  # fmt: skip


@numba.njit(cache=True)
def _roughness(gx, gy, ids, out):  # pragma: no cover - numba
    rows, cols = gx.shape
    for r in range(rows):
        for c in range(cols):
            k = ids[r, c]
            if k <= 0 or not np.isfinite(gx[r, c]) or not np.isfinite(gy[r, c]):
                out[r, c] = np.inf
                continue
            total = 0.0
            n = 0
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and ids[rr, cc] == k:
                    if np.isfinite(gx[rr, cc]) and np.isfinite(gy[rr, cc]):
                        total += abs(gx[rr, cc] - gx[r, c]) + abs(gy[rr, cc] - gy[r, c])
                        n += 1
            out[r, c] = total / n if n == 4 else np.inf  # a seed lies inside a plane


@numba.njit(cache=True, inline="always")
def _solve(n, sx, sy, sz, sxx, syy, sxy, sxz, syz):  # pragma: no cover - numba
    """The least-squares plane of running sums: (a, b, c), or NaN when degenerate."""
    mx, my, mz = sx / n, sy / n, sz / n
    cxx, cyy, cxy = sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my
    cxz, cyz = sxz / n - mx * mz, syz / n - my * mz
    det = cxx * cyy - cxy * cxy
    if det < 1e-9:
        return np.nan, np.nan, np.nan
    a = (cxz * cyy - cyz * cxy) / det
    b = (cyz * cxx - cxz * cxy) / det
    return a, b, mz - a * mx - b * my


@numba.njit(cache=True)
def _grow(z, ids, gx, gy, order, cell, z_tol, g_tol, min_px, labels):  # pragma: no cover
    """Regions grown from the smoothest seeds; the number of regions kept.

    Small regions test a neighbour's gradient against their mean gradient and its height
    against the plane through their mean; from 12 pixels on, against their least-squares
    plane (whose gradient is steadier than any pixel's on a noisy survey), the pixel's own
    gradient then only within twice the tolerance.
    """
    rows, cols = z.shape
    queue_r = np.empty(rows * cols, dtype=np.int64)
    queue_c = np.empty(rows * cols, dtype=np.int64)
    n_faces = 0
    for s in range(order.shape[0]):
        r0, c0 = order[s] // cols, order[s] % cols
        if labels[r0, c0] != 0:
            continue
        k = ids[r0, c0]
        n_faces += 1
        label = n_faces
        labels[r0, c0] = label
        head, tail = 0, 1
        queue_r[0], queue_c[0] = r0, c0
        x0, y0 = c0 * cell, -r0 * cell
        sgx, sgy = gx[r0, c0], gy[r0, c0]
        sz, sx, sy = z[r0, c0], x0, y0
        sxx, syy, sxy, sxz, syz = x0 * x0, y0 * y0, x0 * y0, x0 * z[r0, c0], y0 * z[r0, c0]
        n = 1
        while head < tail:
            r, c = queue_r[head], queue_c[head]
            head += 1
            pa, pb, pc = np.nan, np.nan, np.nan
            if n >= 12:
                pa, pb, pc = _solve(n, sx, sy, sz, sxx, syy, sxy, sxz, syz)
            if np.isfinite(pa):
                mgx, mgy, tol = pa, pb, 2 * g_tol
            else:
                mgx, mgy, tol = sgx / n, sgy / n, g_tol
                pa, pb = mgx, mgy
                pc = sz / n - mgx * sx / n - mgy * sy / n
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
                rr, cc = r + dr, c + dc
                if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                    continue
                if labels[rr, cc] != 0 or ids[rr, cc] != k:
                    continue
                g1, g2 = gx[rr, cc], gy[rr, cc]
                if not (np.isfinite(g1) and np.isfinite(g2) and np.isfinite(z[rr, cc])):
                    continue
                if abs(g1 - mgx) + abs(g2 - mgy) > tol:
                    continue
                x, y = cc * cell, -rr * cell
                h = z[rr, cc]
                if abs(h - (pc + pa * x + pb * y)) > z_tol:
                    continue
                labels[rr, cc] = label
                queue_r[tail], queue_c[tail] = rr, cc
                tail += 1
                sgx += g1
                sgy += g2
                sz += h
                sx += x
                sy += y
                sxx += x * x
                syy += y * y
                sxy += x * y
                sxz += x * h
                syz += y * h
                n += 1
        if n < min_px:  # too small to be a face: let its pixels go
            for i in range(tail):
                labels[queue_r[i], queue_c[i]] = -2  # not a seed again, may join a face
            n_faces -= 1
    for r in range(rows):
        for c in range(cols):
            if labels[r, c] == -2:
                labels[r, c] = 0
    return n_faces


@numba.njit(cache=True)
def _attach(z, ids, labels, planes, cell, z_tol):  # pragma: no cover - numba
    """One ring: each unlabelled roof pixel joins the best-fitting adjacent face."""
    rows, cols = z.shape
    changed = 0
    new = labels.copy()
    for r in range(rows):
        for c in range(cols):
            if labels[r, c] != 0 or ids[r, c] <= 0 or not np.isfinite(z[r, c]):
                continue
            best, best_d = 0, z_tol
            x, y = c * cell, -r * cell
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    rr, cc = r + dr, c + dc
                    if rr < 0 or rr >= rows or cc < 0 or cc >= cols:
                        continue
                    f = labels[rr, cc]
                    if f <= 0 or ids[rr, cc] != ids[r, c]:
                        continue
                    d = abs(
                        z[r, c] - (planes[f - 1, 0] * x + planes[f - 1, 1] * y + planes[f - 1, 2])
                    )
                    if d <= best_d:
                        best, best_d = f, d
            if best > 0:
                new[r, c] = best
                changed += 1
    labels[:, :] = new
    return changed


def _fit(z: np.ndarray, labels: np.ndarray, n: int, cell: float):
    """Least-squares planes of faces 1 … n: ``(n, 3)`` coefficients and pixel counts."""
    rows, cols = np.nonzero(labels > 0)
    f = labels[rows, cols] - 1
    x, y, h = cols * cell, -rows * cell, z[rows, cols].astype("float64")
    x0 = np.bincount(f, x, n) / np.maximum(np.bincount(f, None, n), 1)
    y0 = np.bincount(f, y, n) / np.maximum(np.bincount(f, None, n), 1)
    dx, dy = x - x0[f], y - y0[f]  # centred: a well-conditioned 2 × 2 system per face
    sxx, syy, sxy = (np.bincount(f, w, n) for w in (dx * dx, dy * dy, dx * dy))
    sxz, syz = np.bincount(f, dx * h, n), np.bincount(f, dy * h, n)
    count = np.bincount(f, None, n)
    mean_h = np.bincount(f, h, n) / np.maximum(count, 1)
    det = sxx * syy - sxy * sxy
    ok = np.abs(det) > 1e-12
    safe = np.where(ok, det, 1.0)
    a = np.where(ok, (sxz * syy - syz * sxy) / safe, 0.0)
    b = np.where(ok, (syz * sxx - sxz * sxy) / safe, 0.0)
    c = mean_h - a * x0 - b * y0
    return np.column_stack([a, b, c]), count


def _without_thin(labels: np.ndarray, n: int) -> int:
    """Regions without an inside are let go; the new count.

    Where the gradient straddles a ridge, a valley or a slope break, a strip one or two
    pixels wide can look consistent (a flat band along an axis-aligned ridge): no pixel of
    such a strip has its four neighbours in it (Tarsha-Kurdi's « thinness »). Its pixels
    then join the faces on either side.
    """
    inner = labels[1:-1, 1:-1]
    whole = (
        (inner > 0)
        & (labels[:-2, 1:-1] == inner)
        & (labels[2:, 1:-1] == inner)
        & (labels[1:-1, :-2] == inner)
        & (labels[1:-1, 2:] == inner)
    )
    interior = np.bincount(inner[whole], None, n + 1)
    count = np.bincount(labels[labels > 0], None, n + 1)
    keep = interior >= np.maximum(1, 0.1 * count)
    keep[0] = False
    if keep[1:].all():
        return n
    lookup = np.zeros(n + 1, dtype=labels.dtype)
    lookup[keep] = np.arange(1, int(keep.sum()) + 1)
    inside = labels > 0
    labels[inside] = lookup[labels[inside]]
    return int(keep.sum())


def _merge(z, ids, labels, planes, count, rules: FaceRules, cell: float) -> int:
    """Adjacent regions of one roof lying on one plane become one face; the new count."""
    n = len(count)
    pairs = set()
    sides = (  # 8-neighbours: a plane may be pinched to a corner by another face
        (labels[:, :-1], labels[:, 1:], ids[:, :-1], ids[:, 1:]),
        (labels[:-1, :], labels[1:, :], ids[:-1, :], ids[1:, :]),
        (labels[:-1, :-1], labels[1:, 1:], ids[:-1, :-1], ids[1:, 1:]),
        (labels[:-1, 1:], labels[1:, :-1], ids[:-1, 1:], ids[1:, :-1]),
    )
    for a, b, ia, ib in sides:
        touch = (a > 0) & (b > 0) & (a != b) & (ia == ib)  # one roof: never across two
        for p, q in zip(a[touch].tolist(), b[touch].tolist(), strict=True):
            pairs.add((min(p, q), max(p, q)))
    if not pairs:
        return n
    normals = np.column_stack([-planes[:, 0], -planes[:, 1], np.ones(n)])
    normals /= np.linalg.norm(normals, axis=1)[:, None]
    parent = list(range(n + 1))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows, cols = np.nonzero(labels > 0)
    lab = labels[rows, cols]
    x, y, h = cols * cell, -rows * cell, z[rows, cols]
    cos_max = math.cos(math.radians(rules.merge_deg))
    for p, q in sorted(pairs):
        if float(normals[p - 1] @ normals[q - 1]) < cos_max:
            continue
        fits = True
        for one, other in ((p, q), (q, p)):
            sel = lab == one
            a, b, c = planes[other - 1]
            if np.abs(h[sel] - (a * x[sel] + b * y[sel] + c)).mean() > rules.plane_tol_m / 2:
                fits = False
        if fits:
            parent[find(q)] = find(p)
    roots = np.array([find(i) for i in range(n + 1)])
    if (roots[1:] == np.arange(1, n + 1)).all():
        return n
    _, new = np.unique(roots[1:], return_inverse=True)
    lookup = np.concatenate([[0], new + 1])
    inside = labels > 0
    labels[inside] = lookup[labels[inside]]
    return int(new.max()) + 1


def roof_faces(
    z: np.ndarray, ids: np.ndarray, cell: float, rules: FaceRules = FaceRules()
) -> Faces:
    """The faces of every roof of a window of the surface model.

    Parameters
    ----------
    z
        ``(rows, cols)`` surface heights [m] (NaN: no data).
    ids
        ``(rows, cols)`` int: the roof of each pixel (> 0), 0 elsewhere (a pixel belongs to
        the footprint containing its centre, as ``raster.rasterize_ids`` gives).
    cell
        Pixel size [m].
    rules
        Tolerances (:class:`FaceRules`).

    Returns
    -------
    Faces
        Labels per pixel and each face's roof, plane, slope, azimuth, areas and residual.
    """
    z = np.ascontiguousarray(z, dtype="float64")
    ids = np.ascontiguousarray(ids, dtype="int64")
    gx = np.full(z.shape, np.nan)
    gy = np.full(z.shape, np.nan)
    _gradients(z, ids, float(cell), gx, gy)
    rough = np.full(z.shape, np.inf)
    _roughness(gx, gy, ids, rough)
    flat = rough.ravel()
    roof = np.flatnonzero(np.isfinite(flat))  # sort the roofs' pixels only, not the window
    order = roof[np.argsort(flat[roof], kind="stable")].astype(np.int64)
    labels = np.zeros(z.shape, dtype=np.int64)
    min_px = max(3, int(math.ceil(rules.min_face_m2 / cell**2)))
    n = _grow(z, ids, gx, gy, order, float(cell), rules.plane_tol_m, rules.normal_tol,
              min_px, labels)  # fmt: skip
    if n:
        n = _without_thin(labels, n)
    if n:
        planes, count = _fit(z, labels, n, cell)
        n = _merge(z, ids, labels, planes, count, rules, cell)
        planes, _ = _fit(z, labels, n, cell)
        for _ in range(8):  # ridges, hips and edges, ring after ring
            if not _attach(z, ids, labels, np.ascontiguousarray(planes), float(cell),
                           rules.plane_tol_m):  # fmt: skip
                break
        planes, _ = _fit(z, labels, n, cell)
    n = _flat_boxes_as_obstacles(z, ids, labels, n, cell, rules)
    labels[(labels == 0) & (ids > 0) & np.isfinite(z)] = OBSTACLE
    return _describe(z, ids, labels.astype("int32"), n, cell, rules)


def _flat_boxes_as_obstacles(z, ids, labels, n: int, cell: float, rules: FaceRules) -> int:
    """Small flat faces standing on a larger face of their roof are obstacles; new count.

    The top of an HVAC box, a lift housing or a flat skylight is a plane, but no place for
    panels: a flat face under ``rules.min_flat_m2`` whose roof has a larger face.
    """
    if not n:
        return n
    planes, count = _fit(z, labels, n, cell)
    slope = np.degrees(np.arctan(np.hypot(planes[:, 0], planes[:, 1])))
    rows, cols = np.nonzero(labels > 0)
    roof = np.zeros(n, dtype="int64")
    roof[labels[rows, cols] - 1] = ids[rows, cols]
    largest: dict[int, float] = {}
    for f in range(n):
        largest[roof[f]] = max(largest.get(roof[f], 0), count[f])
    box = (slope < rules.flat_deg) & (count * cell**2 < rules.min_flat_m2)
    box &= np.array([largest[roof[f]] > count[f] for f in range(n)])
    if not box.any():
        return n
    keep = np.concatenate([[False], ~box])
    lookup = np.full(n + 1, OBSTACLE, dtype=labels.dtype)
    lookup[0] = 0
    lookup[keep] = np.arange(1, int(keep.sum()) + 1)
    inside = labels > 0
    labels[inside] = lookup[labels[inside]]
    return int(keep.sum())


def _describe(z, ids, labels, n: int, cell: float, rules: FaceRules) -> Faces:
    planes, count = _fit(z, labels, n, cell) if n else (np.zeros((0, 3)), np.zeros(0))
    rows, cols = np.nonzero(labels > 0)
    f = labels[rows, cols] - 1
    roof = np.zeros(n, dtype="int64")
    roof[f] = ids[rows, cols]
    pred = planes[f, 0] * cols * cell + planes[f, 1] * (-rows * cell) + planes[f, 2]
    sq = np.bincount(f, (z[rows, cols] - pred) ** 2, n) if n else np.zeros(0)
    residual = np.sqrt(sq / np.maximum(count, 1))
    grad = np.hypot(planes[:, 0], planes[:, 1])
    slope = np.degrees(np.arctan(grad))
    azimuth = np.degrees(np.arctan2(-planes[:, 0], -planes[:, 1])) % 360
    azimuth = np.where(slope < rules.flat_deg, np.nan, azimuth)
    plan = count * cell**2
    return Faces(
        labels=labels,
        roof=roof,
        slope=slope,
        azimuth=azimuth,
        area_m2=plan / np.cos(np.radians(slope)),
        plan_m2=plan,
        residual_m=residual,
        plane=planes,
    )


UNSEEN_SHARE = 0.25  # under this share of its measured footprint raised, a building is unseen


def unseen_by_lidar(
    z: np.ndarray, ground: np.ndarray, ids: np.ndarray, n: int, min_height: float
) -> np.ndarray:
    """The buildings the LiDAR survey did not see: no raised surface inside their footprint.

    A BD TOPO building built after the survey (or over a hole the surface model filled
    with the ground) shows the ground in the DSM: its pixels stand less than
    ``min_height`` above the terrain model. Such a building must get no figures, never a
    flat-roof estimate from the ground. A building whose footprint has no measured pixel
    (no data) is not judged here: it is « sans données ».

    Parameters
    ----------
    z, ground
        Surface and terrain heights [m] on the same grid (NaN: no data).
    ids
        The building of each pixel (1 … n), 0 elsewhere.
    n
        The number of buildings.
    min_height
        [m] above the ground for a pixel to be part of a roof.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` bool: True for a building of which less than :data:`UNSEEN_SHARE` of the
        measured footprint (surface and ground known) stands ``min_height`` above ground.
    """
    flat = ids.ravel().astype(np.int64)
    known = (flat > 0) & np.isfinite(z.ravel()) & np.isfinite(ground.ravel())
    raised = known & ((z.ravel() - ground.ravel()) >= min_height)
    measured = np.bincount(flat[known], minlength=n + 1)[1:]
    high = np.bincount(flat[raised], minlength=n + 1)[1:]
    share = np.divide(high, measured, out=np.ones(n), where=measured > 0)
    return (measured > 0) & (share < UNSEEN_SHARE)


__all__ = ["OBSTACLE", "UNSEEN_SHARE", "FaceRules", "Faces", "roof_faces", "unseen_by_lidar"]
