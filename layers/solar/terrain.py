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


def fill_small_holes(dsm: np.ndarray, max_pixels: float = 2.0) -> np.ndarray:
    """Copy of ``dsm`` with no-data pixels within ``max_pixels`` of data given the nearest value.

    Sparse LiDAR rasters leave one-pixel gaps everywhere; without this every pixel next to a
    gap would lose its slope. Larger holes stay NaN.
    """
    from scipy import ndimage

    missing = np.isnan(dsm)
    if not missing.any() or missing.all():
        return dsm
    dist, (ri, ci) = ndimage.distance_transform_edt(missing, return_indices=True)
    filled = dsm[ri, ci]
    return np.where(missing & (dist <= max_pixels), filled, dsm)


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
    """
    z = np.pad(fill_small_holes(dsm.astype("float64")), 1, mode="edge")
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]
    dz_east = ((c + 2 * f + i) - (a + 2 * d + g)) / (8 * cell)
    dz_south = ((g + 2 * h + i) - (a + 2 * b + c)) / (8 * cell)
    dz_north = -dz_south
    tilt = np.degrees(np.arctan(np.hypot(dz_east, dz_north)))
    azimuth = np.degrees(np.arctan2(-dz_east, -dz_north)) % 360.0
    azimuth = np.where(tilt < 1e-9, 0.0, azimuth)
    nodata = np.isnan(dsm)
    tilt[nodata] = np.nan
    azimuth[nodata] = np.nan
    return tilt.astype("float32"), azimuth.astype("float32")


def ray_offsets(
    n_sectors: int, cell: float, max_distance: float, growth: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pixel offsets each ray visits, the same for every pixel.

    Steps are one pixel long near the origin and ``growth`` × distance further away.
    Returns ``(d_row, d_col, inv_dist, start)``: sector k uses entries
    ``start[k]:start[k + 1]``, in increasing distance, without repeated pixels.
    """
    rows, cols, inv, start = [], [], [], [0]
    for k in range(n_sectors):
        az = 2.0 * math.pi * k / n_sectors
        ux, uy = math.sin(az), -math.cos(az)
        seen: set[tuple[int, int]] = set()
        d = cell
        while d <= max_distance + 1e-9:
            dr, dc = int(round(uy * d / cell)), int(round(ux * d / cell))
            if (dr, dc) not in seen and (dr, dc) != (0, 0):
                seen.add((dr, dc))
                rows.append(dr)
                cols.append(dc)
                inv.append(1.0 / (cell * math.hypot(dr, dc)))
            d += max(cell, d * growth)
        start.append(len(rows))
    return (
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(inv, dtype=np.float64),
        np.array(start, dtype=np.int64),
    )


@numba.njit(parallel=True, nogil=True, cache=True)
def _horizons(z, pad, d_row, d_col, inv_dist, start, zmax, r0, r1, c0, c1, out):  # pragma: no cover
    n_sectors = start.shape[0] - 1
    for r in numba.prange(r0, r1):
        rp = r + pad
        for c in range(c0, c1):
            cp = c + pad
            z0 = z[rp, cp]
            if math.isnan(z0):
                for k in range(n_sectors):
                    out[k, r - r0, c - c0] = np.nan
                continue
            rise = zmax - z0
            for k in range(n_sectors):
                best = -1e30
                for j in range(start[k], start[k + 1]):
                    # nothing further can beat `best` once even the highest point would not
                    if best >= rise * inv_dist[j]:
                        break
                    zz = z[rp + d_row[j], cp + d_col[j]]
                    if zz == zz:  # not NaN
                        t = (zz - z0) * inv_dist[j]
                        if t > best:
                            best = t
                out[k, r - r0, c - c0] = math.degrees(math.atan(best)) if best > -1e29 else 0.0


def horizons(
    dsm: np.ndarray,
    cell: float,
    n_sectors: int = 36,
    max_distance: float = 200.0,
    growth: float = 0.05,
    core: tuple[int, int, int, int] | None = None,
) -> np.ndarray:
    """Horizon elevation [deg] per sector for every pixel (ray marching, numba-parallel).

    The march takes one-pixel steps near the pixel and steps of ``growth`` × distance
    further away, so its cost grows with the logarithm of ``max_distance`` rather than
    linearly. No-data samples do not obstruct; rays stop at the raster's edge (tiles get a
    halo as wide as ``max_distance``). A pixel with nothing in a direction gets 0.

    Parameters
    ----------
    dsm
        Heights [m], NaN for no data.
    cell
        Pixel size [m].
    n_sectors
        Number of azimuth sectors (sector k centred on ``k * 360 / n_sectors`` deg).
    max_distance
        How far obstacles are searched [m].
    growth
        Relative step growth with distance (0 = every pixel).
    core
        ``(row0, row1, col0, col1)``: compute only these pixels (rays still see all).

    Returns
    -------
    numpy.ndarray
        ``(n_sectors, rows, cols)`` float32, NaN where the DSM has no data.
    """
    r0, r1, c0, c1 = core if core is not None else (0, dsm.shape[0], 0, dsm.shape[1])
    d_row, d_col, inv_dist, start = ray_offsets(
        n_sectors, float(cell), float(max_distance), float(growth)
    )
    pad = int(max(np.abs(d_row).max(initial=0), np.abs(d_col).max(initial=0))) + 1
    z = np.pad(np.asarray(dsm, dtype="float32"), pad, constant_values=np.nan)
    zmax = float(np.nanmax(z)) if np.isfinite(z).any() else 0.0
    out = np.empty((n_sectors, r1 - r0, c1 - c0), dtype="float32")
    _horizons(z, pad, d_row, d_col, inv_dist, start, zmax, r0, r1, c0, c1, out)
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
    """
    out = np.empty(surface_tilt.shape, dtype="float32")
    _svf(
        np.ascontiguousarray(horizon, dtype="float32"),
        np.ascontiguousarray(surface_tilt, dtype="float32"),
        np.ascontiguousarray(surface_azimuth, dtype="float32"),
        out,
    )
    return out
