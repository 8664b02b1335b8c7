"""Terrain geometry of a surface model: slope, aspect, horizons and sky view factor.

Conventions (pvlib): ``surface_tilt`` [deg] from horizontal, ``surface_azimuth`` [deg]
east of north (180 = facing south). Arrays are north-up (row 0 = north edge); NaN = no data.
Horizon angles are elevations [deg] above the horizontal, per azimuth sector; sector k is
centred on azimuth ``k * 360 / n_sectors``.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _fill_rings(dsm, out):  # pragma: no cover
    rows, cols = dsm.shape
    rings = ((1, 0, -1, 0, 0, 1, 0, -1), (1, 1, 1, -1, -1, 1, -1, -1), (2, 0, -2, 0, 0, 2, 0, -2))
    for r in range(rows):
        for c in range(cols):
            if dsm[r, c] == dsm[r, c]:
                continue
            for ring in rings:
                total, n = 0.0, 0
                for j in range(4):
                    rr, cc = r + ring[2 * j], c + ring[2 * j + 1]
                    if 0 <= rr < rows and 0 <= cc < cols and dsm[rr, cc] == dsm[rr, cc]:
                        total += dsm[rr, cc]
                        n += 1
                if n:
                    out[r, c] = total / n
                    break


def fill_small_holes(dsm: np.ndarray) -> np.ndarray:
    """Copy of ``dsm`` with no-data pixels within two pixels of data filled.

    Sparse LiDAR rasters leave one-pixel gaps everywhere; without this every pixel next to a
    gap would lose its slope. A gap takes the mean of its nearest valid pixels (the four at
    1 px, else the four diagonals, else the four at 2 px): exact inside a plane. Larger
    holes stay NaN.

    Parameters
    ----------
    dsm
        Heights [m], NaN for no data.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and dtype.
    """
    out = np.array(dsm, dtype="float64")
    if np.isnan(out).any():
        _fill_rings(np.asarray(dsm, dtype="float64"), out)
    return out


@numba.njit(parallel=True, nogil=True, cache=True)
def _horn(z, cell, nodata, tilt, azimuth):  # pragma: no cover
    """Horn's gradient on ``z`` padded by one pixel (edge-replicated), as GDAL does."""
    rows, cols = tilt.shape
    for r in numba.prange(rows):
        for c in range(cols):
            if nodata[r, c]:
                tilt[r, c] = np.nan
                azimuth[r, c] = np.nan
                continue
            a, b, cc = z[r, c], z[r, c + 1], z[r, c + 2]
            d, f = z[r + 1, c], z[r + 1, c + 2]
            g, h, i = z[r + 2, c], z[r + 2, c + 1], z[r + 2, c + 2]
            dz_east = ((cc + 2 * f + i) - (a + 2 * d + g)) / (8 * cell)
            dz_north = -((g + 2 * h + i) - (a + 2 * b + cc)) / (8 * cell)
            t = math.degrees(math.atan(math.hypot(dz_east, dz_north)))
            tilt[r, c] = t
            azimuth[r, c] = (
                0.0 if t < 1e-9 else math.degrees(math.atan2(-dz_east, -dz_north)) % 360.0
            )


def slope_aspect(dsm: np.ndarray, cell: float) -> tuple[np.ndarray, np.ndarray]:
    """Slope and aspect per pixel with Horn's 3×3 gradient (as GDAL).

    Parameters
    ----------
    dsm
        Heights [m], NaN for no data.
    cell
        Pixel size [m].

    Returns
    -------
    surface_tilt, surface_azimuth
        [deg]; aspect is the direction the slope faces (180 = south), 0 where flat;
        NaN on no-data pixels. Gaps of up to two pixels around a pixel are filled with
        the nearest height first (see :func:`fill_small_holes`); borders use edge
        replication.

    References
    ----------
    Horn, B. K. P. (1981). Hill shading and the reflectance map. Proceedings of the IEEE
    69(1), 14–47 (the 3×3 gradient of GDAL's ``gdaldem slope``).
    """
    z = np.pad(fill_small_holes(dsm.astype("float64")), 1, mode="edge")
    tilt = np.empty(dsm.shape, dtype="float32")
    azimuth = np.empty(dsm.shape, dtype="float32")
    _horn(z, float(cell), np.isnan(dsm), tilt, azimuth)
    return tilt, azimuth


@numba.njit(nogil=True, cache=True)
def _line(z, k, t, ux, uy, cell, r_off, c_off, s, zs, zo, rr, cc, c_min, c_max):  # pragma: no cover
    """Gather line ``k`` of a sweep into the buffers, in increasing distance ``s``.

    Lines run along the columns (the caller transposes for steep directions, so reads stay
    nearly contiguous): the line is the exact straight line ``row = k + col · t`` of the
    global grid, sampled once per column with heights ``zs`` interpolated between the two
    rows it passes between (so a tilted plane stays a plane along the line). Each pixel is
    the observer ``zo`` of the one line passing within half a pixel of its centre, which
    does not depend on the window read: tiles and a one-piece run see the same lines.
    Only columns ``c_min`` … ``c_max`` are gathered (each column's sample is independent of
    the others: a shorter stretch holds the same values).
    """
    rows, cols = z.shape
    lo, hi = 0, cols - 1
    if abs(t) > 1e-12:
        a = (r_off - k - 0.5) / t
        b = (r_off + rows - 0.5 - k) / t
        lo = max(0, int(math.floor(min(a, b))) - 2 - c_off)
        hi = min(cols - 1, int(math.ceil(max(a, b))) + 2 - c_off)
    lo, hi = max(lo, c_min), min(hi, c_max)  # only the stretch a caller needs
    m = 0
    for c in range(lo, hi + 1):
        y = k + (c + c_off) * t  # the line's global row at this column
        r = int(math.floor(y + 0.5)) - r_off
        if r < 0 or r >= rows:
            continue
        y0 = int(math.floor(y))
        f = y - y0
        y0 -= r_off
        lo_z = float(z[y0, c]) if y0 >= 0 else np.nan  # float32 heights: exact in float64
        hi_z = float(z[y0 + 1, c]) if y0 + 1 < rows else np.nan
        if lo_z != lo_z:
            sample = hi_z
        elif hi_z != hi_z:
            sample = lo_z
        else:
            sample = lo_z + f * (hi_z - lo_z)
        # the observer: the pixel's height carried to the line along its own slope across
        # the line, limited (minmod) so that edges and ridges are not moved at all
        zp = float(z[r, c])
        up = float(z[r + 1, c]) - zp if r + 1 < rows else 0.0
        down = zp - float(z[r - 1, c]) if r >= 1 else 0.0
        across = 0.0
        if up * down > 0.0:  # both finite and of one sign (NaN compares false)
            across = up if abs(up) < abs(down) else down
        rr[m] = r
        cc[m] = c
        zs[m] = sample
        zo[m] = zp + (y - r_off - r) * across
        s[m] = ((c + c_off) * ux + y * uy) * cell
        m += 1
    if m > 1 and s[0] > s[m - 1]:  # walked against the direction: reverse
        reverse_line(m, s, zs, zo, rr, cc, 1.0)
    return m


@numba.njit(nogil=True, cache=True)
def line_stretches(
    t, r_off, c_off, r0, c0, todo, k_lo, k_hi, pad, c_min, c_max
):  # pragma: no cover
    """Per line ``k`` of a sweep, the columns that matter (``c_min > c_max``: none).

    From the line's first wanted pixel to its last one, ``pad`` columns wider each way
    (the reach).
    Lines without a wanted pixel (fields, the halo) are then neither gathered nor swept.
    A pixel's line is ``k = row − floor(col · t + 0.5)`` (global indices, as :func:`_line`
    places observers); its two neighbours are marked too, against a rounding tie.

    Parameters
    ----------
    t
        The sweep direction's slope, rows per column [-].
    r_off, c_off
        Global row and column of the window's first pixel [pixels].
    r0, c0
        Row and column of ``todo``'s first pixel within the window [pixels].
    todo
        Wanted pixels (2-D bool): those whose horizon is asked for.
    k_lo, k_hi
        The first and last line of the sweep (:func:`k_range`).
    pad
        Columns added each way, the reach [pixels].
    c_min, c_max
        Output, one per line ``k_lo … k_hi`` (int64): the first and last column that
        matter; ``c_min > c_max`` for a line without a wanted pixel.

    Returns
    -------
    None
        ``c_min`` and ``c_max`` are written in place.
    """
    n = k_hi - k_lo + 1
    for i in range(n):
        c_min[i] = 1 << 40
        c_max[i] = -(1 << 40)
    rows, cols = todo.shape
    for r in range(rows):
        rg = r + r0 + r_off
        for c in range(cols):
            if not todo[r, c]:
                continue
            cw = c + c0
            k = rg - int(math.floor((cw + c_off) * t + 0.5))
            for kk in range(k - 1, k + 2):
                i = kk - k_lo
                if 0 <= i < n:
                    if cw - pad < c_min[i]:
                        c_min[i] = cw - pad
                    if cw + pad > c_max[i]:
                        c_max[i] = cw + pad


@numba.njit(nogil=True, cache=True)
def reverse_line(m, s, zs, zo, rr, cc, sign):  # pragma: no cover
    """Reverse a gathered line in place.

    ``sign`` −1 also turns its distances around: the opposite direction along the same line.

    Parameters
    ----------
    m
        The number of points gathered on the line.
    s
        Distances along the line [m].
    zs, zo
        The line's heights (obstacles) and its observers' heights [m].
    rr, cc
        Each point's row and column in the window [pixels].
    sign
        ``1.0`` keeps the distances, ``-1.0`` negates them.

    Returns
    -------
    None
        The first ``m`` values of each array are reversed in place.
    """
    for i in range(m // 2):
        j = m - 1 - i
        s[i], s[j] = sign * s[j], sign * s[i]
        zs[i], zs[j] = zs[j], zs[i]
        zo[i], zo[j] = zo[j], zo[i]
        rr[i], rr[j] = rr[j], rr[i]
        cc[i], cc[j] = cc[j], cc[i]
    if m % 2:
        s[m // 2] = sign * s[m // 2]


@numba.njit(nogil=True, cache=True)
def _needed(rr, cc, m, r0, r1, c0, c1, todo, need):  # pragma: no cover
    """``need[i]``: whether line point i is a wanted pixel (in the core and in ``todo``)."""
    for i in range(m):
        r, c = rr[i] - r0, cc[i] - c0
        need[i] = 0 <= r < r1 - r0 and 0 <= c < c1 - c0 and todo[r, c]


@numba.njit(nogil=True, cache=True)
def swept_line(
    z, k, t, ux, uy, cell, r_off, c_off, reach, r0, r1, c0, c1, todo, c_min=0, c_max=1 << 40
):  # pragma: no cover
    """Gather line ``k`` and sweep it: ``(m, s, zs, zo, rows, cols, hs, hz, best, need)``.

    ``best`` holds each wanted point's horizon slope (−inf: nothing in reach); points
    outside the core or ``todo`` (a tile's halo) only cast shade: their own horizon is not
    looked for. ``hs``/``hz`` are the scratch buffers, returned with ``need`` for a second
    sweep of the same line the other way.

    Parameters
    ----------
    z
        The window's surface heights (2-D, NaN for no data) [m].
    k
        The line: ``row = k + col · t`` in global indices.
    t
        The direction's slope, rows per column [-].
    ux, uy
        The direction's unit vector along columns and rows [-].
    cell
        The pixel size [m].
    r_off, c_off
        Global row and column of the window's first pixel [pixels].
    reach
        How far obstacles are looked for [m].
    r0, r1, c0, c1
        The core (the pixels whose horizon is wanted) within the window [pixels].
    todo
        Wanted pixels of the core (2-D bool, ``r1 − r0`` × ``c1 − c0``).
    c_min, c_max
        The stretch of columns that matters (:func:`line_stretches`); all by default.

    Returns
    -------
    tuple
        ``m`` (points gathered), ``s`` [m], ``zs`` and ``zo`` [m], the points' rows and
        columns, the scratch buffers ``hs`` and ``hz``, ``best`` (each wanted point's
        horizon slope [m/m], −inf when nothing is in reach) and ``need`` (bool).

    References
    ----------
    Dozier, J. and Frew, J. (1990). Rapid calculation of terrain parameters for radiation
    modeling from digital elevation data. IEEE TGRS 28(5), 963–969.
    """
    n = z.shape[1]
    s, zs, zo = np.empty(n), np.empty(n), np.empty(n)
    hs, hz, best = np.empty(n), np.empty(n), np.empty(n)
    rr, cc = np.empty(n, np.int64), np.empty(n, np.int64)
    need = np.empty(n, np.bool_)
    m = _line(z, k, t, ux, uy, cell, r_off, c_off, s, zs, zo, rr, cc, c_min, c_max)
    _needed(rr, cc, m, r0, r1, c0, c1, todo, need)
    line_horizon(s, zs, zo, m, reach, hs, hz, best, need)
    return m, s, zs, zo, rr, cc, hs, hz, best, need


@numba.njit(nogil=True, cache=True)
def line_horizon(s, z, zo, m, reach, hs, hz, out, need):  # pragma: no cover
    """``out[i]`` = max over j > i with ``s[j] − s[i] ≤ reach`` of the slope to j (−inf if none).

    Only for the points where ``need[i]``; the others still obstruct (are added to hulls).

    Exact, in O(m) whatever ``reach`` (Dozier & Frew's upper convex hull, windowed): the
    line is cut in blocks ``reach`` long; points ahead in the same block are all in reach
    (one backward sweep keeping their upper hull); in the next block, those in reach are a
    prefix that grows as i moves forward (a hull grown at its far end, whose tangent from
    i is found by walking from the previous one: slopes along a hull are unimodal).
    ``z`` are the line's heights (obstacles), ``zo`` the observers' own heights. No-data
    neither obstructs nor gets a value. ``hs``/``hz`` are scratch buffers. Points outside
    the stretch that matters (first wanted point … last one + ``reach``) are not visited:
    their ``out`` is left as it was (never read: they are not wanted).

    Parameters
    ----------
    s
        Distances along the line, increasing [m].
    z
        The line's heights, the obstacles [m] (NaN: no data).
    zo
        The observers' own heights [m].
    m
        The number of points on the line.
    reach
        How far obstacles are looked for [m].
    hs, hz
        Scratch buffers (at least ``m`` long).
    out
        Output: each wanted point's horizon slope [m/m].
    need
        Which points are wanted (bool).

    Returns
    -------
    None
        ``out`` is written in place for the wanted points.

    References
    ----------
    Dozier, J. and Frew, J. (1990). Rapid calculation of terrain parameters for radiation
    modeling from digital elevation data. IEEE TGRS 28(5), 963–969.
    """
    if m == 0:
        return
    # only the stretch from the first wanted point to the last one's reach matters: a point
    # beyond it is out of every wanted point's reach (a line of the halo, or of fields far
    # from any roof, costs nothing). The blocks stay aligned on s[0]: the same hulls, the
    # same values to the bit.
    first, last = -1, -1
    for i in range(m):
        if need[i]:
            if first < 0:
                first = i
            last = i
    if first < 0:
        return
    far = s[last] + reach
    end = last
    while end + 1 < m and s[end + 1] <= far:
        end += 1
    s0 = s[0]
    # part 1: the rest of i's own block, backward sweep
    top = -1
    block = -1
    p = -1
    for i in range(end, first - 1, -1):
        out[i] = -np.inf
        si = s[i]
        b = int((si - s0) / reach)
        if b != block:  # entered an earlier block: its hull starts empty
            block = b
            top = -1
            p = -1
        zi = zo[i]
        if need[i] and zi == zi and top >= 0:
            # the tangent from the observer, walking from the previous one (slopes along a
            # hull are unimodal); the observer is not a hull point, nothing is dropped for it
            if p > top or p < 0:
                p = top
            while p < top and (hz[p] - zi) * (hs[p + 1] - si) < (hz[p + 1] - zi) * (hs[p] - si):
                p += 1
            while p > 0 and (hz[p] - zi) * (hs[p - 1] - si) < (hz[p - 1] - zi) * (hs[p] - si):
                p -= 1
            out[i] = (hz[p] - zi) / (hs[p] - si)
        zq = z[i]
        if zq == zq:
            # add the line's point: drop the near end while on or below the segment to it
            while top >= 1 and (hz[top] - zq) * (hs[top - 1] - si) <= (hz[top - 1] - zq) * (
                hs[top] - si
            ):
                top -= 1
            top += 1
            hs[top] = si
            hz[top] = zq
    # part 2: the reachable prefix of the next block, forward sweep
    top = -1
    block = -1
    q = 0
    p = 0
    for i in range(first, last + 1):
        zi = zo[i]
        if zi != zi or not need[i]:
            continue
        si = s[i]
        b = int((si - s0) / reach)
        if b != block:  # entered a later block: the next one's prefix starts empty
            block = b
            top = -1
            p = 0
            q = max(q, i)
            while q < m and int((s[q] - s0) / reach) <= b:
                q += 1
        limit = si + reach
        while q < m and s[q] <= limit:
            zq, sq = z[q], s[q]
            if zq == zq:
                # drop the far end while it is on or below the segment from the one before to q
                while top >= 1 and (hz[top] - hz[top - 1]) * (sq - hs[top - 1]) <= (
                    zq - hz[top - 1]
                ) * (hs[top] - hs[top - 1]):
                    top -= 1
                top += 1
                hs[top] = sq
                hz[top] = zq
            q += 1
        if top >= 0:
            if p > top:
                p = top
            # walk to the tangent: slope(i, v) is unimodal along the hull
            while p < top and (hz[p] - zi) * (hs[p + 1] - si) < (hz[p + 1] - zi) * (hs[p] - si):
                p += 1
            while p > 0 and (hz[p] - zi) * (hs[p - 1] - si) < (hz[p - 1] - zi) * (hs[p] - si):
                p -= 1
            v = (hz[p] - zi) / (hs[p] - si)
            if v > out[i]:
                out[i] = v


def direction_sets(n_sectors: int) -> tuple[np.ndarray, np.ndarray]:
    """The sweep directions of the horizon sectors, split by the frame they are swept in.

    Parameters
    ----------
    n_sectors
        Sectors around the horizon (sector ``k`` points at ``k · 360 / n_sectors`` degrees
        clockwise from north).

    Returns
    -------
    tuple of numpy.ndarray
        Two arrays of ``(sector, ux, uy)`` rows [-, px, px]: first the directions swept along
        columns (``|ux| ≥ |uy|``), then those swept along rows, given in the transposed frame
        (``ux`` ↔ ``uy``). Columns grow eastwards and rows southwards.
    """
    az = 2.0 * np.pi * np.arange(n_sectors) / n_sectors
    ux, uy = np.sin(az), -np.cos(az)  # columns grow eastwards, rows southwards
    ux = np.where(np.abs(ux) < 1e-12, 0.0, ux)
    uy = np.where(np.abs(uy) < 1e-12, 0.0, uy)
    k = np.arange(n_sectors, dtype="float64")
    wide = np.abs(ux) >= np.abs(uy)
    return (
        np.stack([k[wide], ux[wide], uy[wide]], axis=1),
        np.stack([k[~wide], uy[~wide], ux[~wide]], axis=1),
    )


@numba.njit(nogil=True, cache=True)
def k_range(rows, cols, t, r_off, c_off):  # pragma: no cover
    """First and last line ``k`` (``row = k + col · t``, global rows) crossing a window.

    The window is ``rows`` × ``cols`` pixels whose first pixel is global row ``r_off``,
    column ``c_off``.

    Parameters
    ----------
    rows, cols
        The window's size [pixels].
    t
        The direction's slope, rows per column [-].
    r_off, c_off
        Global row and column of the window's first pixel [pixels].

    Returns
    -------
    tuple of int
        ``(k_first, k_last)``.
    """
    e0 = int(math.floor(c_off * t + 0.5))
    e1 = int(math.floor((c_off + cols - 1) * t + 0.5))
    return r_off - max(e0, e1), r_off + rows - 1 - min(e0, e1)


@numba.njit(parallel=True, nogil=True, cache=True)
def _horizons_sweep(z, cell, dirs, reach, r_off, c_off, r0, r1, c0, c1, out):  # pragma: no cover
    rows, cols = z.shape
    todo = np.ones((r1 - r0, c1 - c0), np.bool_)
    for d in range(dirs.shape[0]):
        sector, ux, uy = int(dirs[d, 0]), dirs[d, 1], dirs[d, 2]
        t = uy / ux
        k_lo, k_hi = k_range(rows, cols, t, r_off, c_off)
        for k in numba.prange(k_lo, k_hi + 1):
            swept = swept_line(z, k, t, ux, uy, cell, r_off, c_off, reach, r0, r1, c0, c1, todo)
            m, zo, rr, cc, best = swept[0], swept[3], swept[4], swept[5], swept[8]
            for i in range(m):
                r, c = rr[i], cc[i]
                if r < r0 or r >= r1 or c < c0 or c >= c1:
                    continue
                if zo[i] != zo[i]:
                    out[sector, r - r0, c - c0] = np.nan
                elif best[i] == -np.inf:
                    out[sector, r - r0, c - c0] = 0.0
                else:
                    out[sector, r - r0, c - c0] = math.degrees(math.atan(best[i]))


def horizons(
    dsm: np.ndarray,
    cell: float,
    n_sectors: int = 36,
    max_distance: float = 200.0,
    core: tuple[int, int, int, int] | None = None,
    origin: tuple[int, int] = (0, 0),
) -> np.ndarray:
    """Horizon elevation [deg] per sector for every pixel (sweeps, numba-parallel).

    For each sector the raster is cut into parallel lines of pixels and each line is swept
    keeping the upper convex hull of what lies ahead (Dozier & Frew 1990), restricted
    exactly to ``max_distance``: the cost does not grow with the distance. Every pixel
    within reach on its line counts (no sampling). No-data pixels do not obstruct; lines
    stop at the raster's edge (tiles get a halo as wide as ``max_distance``). A pixel
    with nothing in a direction gets 0. Kept for validation and tests: the pipeline uses
    :func:`irradiation_sweep`, which never stores this array.

    Parameters
    ----------
    dsm
        Heights [m], NaN for no data.
    cell
        Pixel size [m].
    n_sectors
        Number of azimuth sectors (sector k centred on ``k * 360 / n_sectors`` deg).
    max_distance
        How far obstacles are searched [m] (along the line).
    core
        ``(row0, row1, col0, col1)``: compute only these pixels (lines still see all).
    origin
        Global (row, col) of ``dsm[0, 0]``: lines follow the global grid, so a tile read
        with its halo gives exactly what a one-piece run gives.

    Returns
    -------
    numpy.ndarray
        ``(n_sectors, rows, cols)`` float32, NaN where the DSM has no data.

    References
    ----------
    Dozier, J., Frew, J. (1990), see :func:`sky_view_factor`; the hull sweep after
    Dozier, J., Bruno, J., Downey, P. (1981). A faster solution to the horizon problem.
    Computers & Geosciences 7(2), 145–151.
    """
    r0, r1, c0, c1 = core if core is not None else (0, dsm.shape[0], 0, dsm.shape[1])
    wide, steep = direction_sets(n_sectors)
    z = np.ascontiguousarray(dsm, dtype="float64")
    out = np.full((n_sectors, r1 - r0, c1 - c0), np.nan, dtype="float32")
    reach, row0, col0 = float(max_distance), int(origin[0]), int(origin[1])
    _horizons_sweep(z, float(cell), wide, reach, row0, col0, r0, r1, c0, c1, out)
    out_t = np.full((n_sectors, c1 - c0, r1 - r0), np.nan, dtype="float32")
    zt = np.ascontiguousarray(z.T)
    _horizons_sweep(zt, float(cell), steep, reach, col0, row0, c0, c1, r0, r1, out_t)
    sectors = steep[:, 0].astype(int)
    out[sectors] = out_t[sectors].transpose(0, 2, 1)
    return out


@numba.njit(parallel=True, nogil=True, cache=True)
def _svf(horizon, tilt, azimuth, out):  # pragma: no cover
    n, rows, cols = horizon.shape
    for r in numba.prange(rows):
        for c in range(cols):
            if math.isnan(horizon[0, r, c]) or math.isnan(tilt[r, c]):
                out[r, c] = np.nan
                continue
            beta = math.radians(tilt[r, c])
            gamma = math.radians(azimuth[r, c])
            cos_b, sin_b, tan_b = math.cos(beta), math.sin(beta), math.tan(beta)
            total = 0.0
            for k in range(n):
                cos_rel = math.cos(2.0 * math.pi * k / n - gamma)
                zen = 0.5 * math.pi - math.radians(max(horizon[k, r, c], 0.0))
                zen_plane = 0.5 * math.pi + math.atan(tan_b * cos_rel)
                if zen_plane < zen:
                    zen = zen_plane
                s, co = math.sin(zen), math.cos(zen)
                total += cos_b * s * s + sin_b * cos_rel * (zen - s * co)
            out[r, c] = total / n


def sky_view_factor(
    horizon: np.ndarray, surface_tilt: np.ndarray, surface_azimuth: np.ndarray
) -> np.ndarray:
    """Share of the sky seen by a (tilted) pixel, isotropic sky (Dozier & Frew 1990).

    ``SVF = 1/2π ∮ [cos β sin² H + sin β cos(φ − γ)(H − sin H cos H)] dφ`` with H the
    zenith angle of whichever is higher in direction φ: the terrain horizon (elevations
    below 0 count as 0: the sky ends at the horizontal) or the pixel's own plane. An open
    flat pixel gives 1, an open tilted plane (1 + cos β)/2.

    Parameters
    ----------
    horizon
        ``(n_sectors, …)`` horizon elevation [deg] per azimuth sector (:func:`horizons`).
    surface_tilt
        Tilt β of each pixel's plane [deg], 0 = horizontal.
    surface_azimuth
        Azimuth γ of each pixel's plane [deg], clockwise from north (180 = south).

    Returns
    -------
    numpy.ndarray
        Sky view factor [-], 0 to 1, shaped as ``surface_tilt``.

    References
    ----------
    Dozier, J., Frew, J. (1990). Rapid calculation of terrain parameters for radiation
    modeling from digital elevation data. IEEE Transactions on Geoscience and Remote
    Sensing 28(5), 963–969.
    """
    out = np.empty(surface_tilt.shape, dtype="float32")
    _svf(
        np.ascontiguousarray(horizon, dtype="float32"),
        np.ascontiguousarray(surface_tilt, dtype="float32"),
        np.ascontiguousarray(surface_azimuth, dtype="float32"),
        out,
    )
    return out
