"""Annual irradiation per pixel [kWh/m²/yr] from terrain geometry and sky tables.

Per pixel and sector k, the sun counts when it is above the terrain horizon of sector k,
above the pixel's own plane (else it lights the back of the roof) and above 0°: one
lookup in the cumulative table of that sector. Sky diffuse is Perez (or isotropic): its
isotropic part scaled by the tilted sky view factor, its circumsolar part shaded like the
beam, its horizon band scaled by the relative sky view; ground-reflected light is
albedo · GHI · (1 − cos β)/2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from layers.solar.sky import COS_85, SkyTables, SunSky, sector_of, sun_vectors
from layers.solar.terrain import (
    direction_sets,
    k_range,
    line_horizon,
    line_stretches,
    reverse_line,
    slope_aspect,
    swept_line,
)


@dataclass(frozen=True)
class SweepResult:
    """What :func:`irradiation_sweep` computes for the core pixels (core-shaped arrays).

    Attributes
    ----------
    irradiation
        Annual irradiation on the pixel's own plane [kWh/m²/yr], float32; NaN where not
        computed (no data, or outside ``where``).
    surface_tilt
        Plane tilt from the surface model [deg] (Horn 1981).
    surface_azimuth
        Plane azimuth [deg], clockwise from north.
    svf
        Tilted sky view factor [-], float32.
    """

    irradiation: np.ndarray
    surface_tilt: np.ndarray
    surface_azimuth: np.ndarray
    svf: np.ndarray


@dataclass(frozen=True)
class PlaneOfArray:
    """What :func:`hourly_poa` computes: one value per hour of the year.

    Attributes
    ----------
    beam, circumsolar, isotropic, horizon, ground
        The parts of the plane-of-array irradiance [W/m²] (Perez 1990's three diffuse
        parts; ``ground`` is albedo · GHI · (1 − cos β)/2).
    total
        Their sum [W/m²].
    sunlit
        Booleans: the sun is above 0°, above the pixel's horizon and in front of its plane.
    """

    beam: np.ndarray
    circumsolar: np.ndarray
    isotropic: np.ndarray
    horizon: np.ndarray
    ground: np.ndarray
    total: np.ndarray
    sunlit: np.ndarray


@numba.njit(parallel=True, nogil=True, cache=True)
def _annual(horizon, tilt, azimuth, svf, beam, step, iso, band, ground, out):  # pragma: no cover
    n_sectors, rows, cols = horizon.shape
    n_bins = beam.shape[1] - 1
    for r in numba.prange(rows):
        for c in range(cols):
            h0 = horizon[0, r, c]
            if math.isnan(h0) or math.isnan(tilt[r, c]):
                out[r, c] = np.nan
                continue
            b = math.radians(tilt[r, c])
            g = math.radians(azimuth[r, c])
            nx, ny, nz = math.sin(b) * math.sin(g), math.sin(b) * math.cos(g), math.cos(b)
            tan_b = math.tan(b)
            direct = 0.0
            for k in range(n_sectors):
                a = 2.0 * math.pi * k / n_sectors
                e_plane = math.degrees(math.atan(-tan_b * math.cos(a - g)))
                e_min = max(horizon[k, r, c], e_plane, 0.0)
                i = int(math.ceil(e_min / step))
                if i >= n_bins:
                    continue
                dot = nx * beam[k, i, 0] + ny * beam[k, i, 1] + nz * beam[k, i, 2]
                if dot > 0.0:
                    direct += dot
            open_view = (1.0 + nz) / 2.0
            sky = iso * svf[r, c] + band * math.sin(b) * svf[r, c] / open_view
            out[r, c] = (direct + sky + ground * (1.0 - nz) / 2.0) / 1000.0


def annual_irradiation(
    horizon: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    svf: np.ndarray,
    tables: SkyTables,
) -> np.ndarray:
    """Annual irradiation [kWh/m²/yr] of every pixel (NaN where no data).

    Beam and circumsolar light where the sun clears the pixel's horizon and plane, the
    isotropic sky through the sky view factor, Perez's horizon band, the ground
    reflected through ``1 − SVF``; summed over the hours folded in ``tables``.

    Parameters
    ----------
    horizon
        ``(n_sectors, rows, cols)`` horizon elevation [deg] (``terrain.horizons``).
    surface_tilt
        Plane tilt [deg] per pixel (``terrain.slope_aspect``).
    surface_azimuth
        Plane azimuth [deg] per pixel, clockwise from north.
    svf
        Sky view factor [-] per pixel (``terrain.sky_view_factor``).
    tables
        The year's sky (``sky.sky_tables``).

    Returns
    -------
    numpy.ndarray
        ``(rows, cols)`` float32 [kWh/m²/yr].

    References
    ----------
    Perez et al. (1990), see ``sky.sun_and_sky``; checked hour by hour against
    ``pvlib.irradiance.get_total_irradiance`` (tests/solar/test_irradiation.py).
    """
    out = np.empty(surface_tilt.shape, dtype="float32")
    _annual(
        np.ascontiguousarray(horizon, dtype="float32"),
        np.ascontiguousarray(surface_tilt, dtype="float32"),
        np.ascontiguousarray(surface_azimuth, dtype="float32"),
        np.ascontiguousarray(svf, dtype="float32"),
        tables.beam,
        tables.step,
        tables.iso,
        tables.horizon_band,
        tables.ghi * tables.albedo,
        out,
    )
    return out


@numba.njit(nogil=True, cache=True, inline="always")
def _add_sector(
    sector, best, s_rr, s_cc, zo, m, r0, r1, c0, c1, todo, normal, beam, to_bins, direct, svf
):  # pragma: no cover
    """Fold one sector's horizons of one line into its pixels' beam sum and sky view."""
    n_bins = beam.shape[1] - 1
    a = 2.0 * math.pi * sector / beam.shape[0]
    sin_a, cos_a = math.sin(a), math.cos(a)
    for i in range(m):
        r, c = s_rr[i] - r0, s_cc[i] - c0
        if r < 0 or r >= r1 - r0 or c < 0 or c >= c1 - c0 or not todo[r, c]:
            continue
        nx, ny, nz = normal[r, c, 0], normal[r, c, 1], normal[r, c, 2]
        t_plane = -(nx * sin_a + ny * cos_a) / nz  # the pixel's own plane
        e = max(best[i], t_plane, 0.0)
        at = math.atan(e)
        inv = 1.0 / (1.0 + e * e)
        svf[r, c] += nz * (inv - t_plane * (0.5 * math.pi - at - e * inv))
        j = int(math.ceil(at * to_bins))
        if j < n_bins:
            dot = nx * beam[sector, j, 0] + ny * beam[sector, j, 1] + nz * beam[sector, j, 2]
            if dot > 0.0:
                direct[r, c] += dot


@numba.njit(parallel=True, nogil=True, cache=True)
def _sweep_sum(
    z, cell, dirs, reach, r_off, c_off, r0, r1, c0, c1, todo, normal, beam, step, direct, svf
):  # pragma: no cover
    """Add, per sector swept, each wanted core pixel's beam (table lookup) and sky view.

    The horizon of a pixel in a sector is used as soon as its line is swept, then
    forgotten: no (sectors × pixels) array is ever stored. ``dirs`` rows are
    ``(sector, ux, uy, opposite sector or −1)``: a line gathered once serves both ways.
    """
    rows, cols = z.shape
    to_bins = 180.0 / math.pi / step
    pad = int(math.ceil(reach / cell)) + 3  # columns within reach, a margin over
    for d in range(dirs.shape[0]):
        sector, ux, uy, back = int(dirs[d, 0]), dirs[d, 1], dirs[d, 2], int(dirs[d, 3])
        t = uy / ux
        k_lo, k_hi = k_range(rows, cols, t, r_off, c_off)
        c_min = np.empty(k_hi - k_lo + 1, np.int64)
        c_max = np.empty(k_hi - k_lo + 1, np.int64)
        line_stretches(t, r_off, c_off, r0, c0, todo, k_lo, k_hi, pad, c_min, c_max)
        for k in numba.prange(k_lo, k_hi + 1):
            lo, hi = c_min[k - k_lo], c_max[k - k_lo]
            if lo > hi:  # no wanted pixel on this line: it only casts shade on others
                continue
            m, s, zs, zo, rr, cc, hs, hz, best, need = swept_line(
                z, k, t, ux, uy, cell, r_off, c_off, reach, r0, r1, c0, c1, todo, lo, hi
            )
            _add_sector(
                sector, best, rr, cc, zo, m, r0, r1, c0, c1, todo, normal, beam, to_bins,
                direct, svf,
            )  # fmt: skip
            if back >= 0 and m > 0:
                # the opposite sector: the same line walked the other way
                reverse_line(m, s, zs, zo, rr, cc, -1.0)
                need[:m] = need[:m][::-1].copy()
                line_horizon(s, zs, zo, m, reach, hs, hz, best, need)
                _add_sector(
                    back, best, rr, cc, zo, m, r0, r1, c0, c1, todo, normal, beam, to_bins,
                    direct, svf,
                )  # fmt: skip


def _paired(directions: np.ndarray, n_sectors: int) -> np.ndarray:
    """Rows ``(sector, ux, uy, opposite)``: each sector with its opposite, when swept too."""
    sectors = [int(k) for k in directions[:, 0]]
    rows: list[list[float]] = []
    done: set[int] = set()
    for row in directions:
        k = int(row[0])
        if k in done:
            continue
        back = (k + n_sectors // 2) % n_sectors
        if n_sectors % 2 == 0 and back in sectors and back not in done:
            rows.append([row[0], row[1], row[2], back])
            done.update((k, back))
        else:
            rows.append([row[0], row[1], row[2], -1])
            done.add(k)
    return np.array(rows, dtype="float64").reshape(-1, 4)


def irradiation_sweep(
    dsm: np.ndarray,
    cell: float,
    tables: SkyTables,
    n_sectors: int,
    max_distance: float,
    core: tuple[int, int, int, int] | None = None,
    origin: tuple[int, int] = (0, 0),
    where: np.ndarray | None = None,
) -> SweepResult:
    """Annual irradiation [kWh/m²/yr] of the ``core`` pixels in one pass per sector.

    The same physics as :func:`horizons` → :func:`sky_view_factor` →
    :func:`annual_irradiation`, fused: each sector's horizons come from an exact windowed
    sweep (cost independent of ``max_distance``) and are folded into the pixel's beam sum
    and sky view at once. ``where`` (core-shaped booleans) limits the sums to the pixels
    wanted (roofs): the others are NaN, but they still cast shade.

    Parameters
    ----------
    dsm
        Heights [m] of the tile and its halo, NaN for no data.
    cell
        Pixel size [m].
    tables
        The year's sky (``sky.sky_tables``), with ``n_sectors`` sectors.
    n_sectors
        Azimuth sectors of the horizons.
    max_distance
        How far obstacles are searched [m].
    core
        ``(row0, row1, col0, col1)`` of the pixels computed (the halo only shades).
    origin
        Global (row, col) of ``dsm[0, 0]`` (tiles then match a one-piece run to the bit).
    where
        Core-shaped booleans: the pixels summed (roofs); ``None``: all.

    Returns
    -------
    SweepResult
        ``irradiation`` [kWh/m²/yr], ``surface_tilt`` [deg], ``surface_azimuth`` [deg]
        and ``svf`` [-], core-shaped arrays.

    References
    ----------
    Dozier & Frew (1990) for the horizons, Horn (1981) for the slopes, Perez et al.
    (1990) for the sky: see ``terrain`` and ``sky``.
    """
    r0, r1, c0, c1 = core if core is not None else (0, dsm.shape[0], 0, dsm.shape[1])
    # slopes of the core only, read with 3 px around (gap filling looks 2 px away, Horn's
    # gradient 1 px): the same values as over the whole window, at the core's cost
    pr0, pc0 = max(r0 - 3, 0), max(c0 - 3, 0)
    tilt, azimuth = slope_aspect(np.asarray(dsm)[pr0 : r1 + 3, pc0 : c1 + 3], cell)
    tilt = tilt[r0 - pr0 : r1 - pr0, c0 - pc0 : c1 - pc0]
    azimuth = azimuth[r0 - pr0 : r1 - pr0, c0 - pc0 : c1 - pc0]
    todo = np.isfinite(tilt) & np.isfinite(np.asarray(dsm)[r0:r1, c0:c1])
    if where is not None:
        todo &= np.asarray(where, dtype=bool)
    normal = np.empty(tilt.shape + (3,))
    _normals(tilt, azimuth, todo, normal)
    # float32 heights (LiDAR rasters) stay float32: half the memory traffic of the sweeps,
    # read into float64 exactly, so the results do not change; anything else is float64
    dtype = np.float32 if np.asarray(dsm).dtype == np.float32 else np.float64
    z = np.ascontiguousarray(dsm, dtype=dtype)
    wide, steep = (_paired(d, n_sectors) for d in direction_sets(n_sectors))
    reach, row0, col0 = float(max_distance), int(origin[0]), int(origin[1])
    direct = np.zeros(tilt.shape)
    svf = np.zeros(tilt.shape)
    sky = (tables.beam, float(tables.step))
    _sweep_sum(
        z, float(cell), wide, reach, row0, col0, r0, r1, c0, c1, todo, normal, *sky, direct, svf
    )
    # steep directions: the same sweep on the transposed rasters (reads stay contiguous)
    z_t = np.empty(z.shape[::-1], dtype=z.dtype)
    _transpose(z, z_t)
    del z
    todo_t = np.empty(todo.shape[::-1], dtype=bool)
    _transpose(todo, todo_t)
    normal_t = np.empty((tilt.shape[1], tilt.shape[0], 3))
    _transpose3(normal, normal_t)
    direct_t = np.zeros(tilt.shape[::-1])
    svf_t = np.zeros(tilt.shape[::-1])
    _sweep_sum(
        z_t, float(cell), steep, reach, col0, row0, c0, c1, r0, r1, todo_t, normal_t, *sky,
        direct_t, svf_t,
    )  # fmt: skip
    del z_t, todo_t, normal_t
    irr = np.empty(tilt.shape, dtype="float32")
    svf_out = np.empty(tilt.shape, dtype="float32")
    _combine(
        direct, direct_t, svf, svf_t, normal, todo, float(n_sectors), float(tables.iso),
        float(tables.horizon_band), float(tables.ghi * tables.albedo), irr, svf_out,
    )  # fmt: skip
    return SweepResult(irr, tilt, azimuth, svf_out)


def warm_up(tables: SkyTables, dtype=np.float32) -> float:
    """Load (or compile) every kernel of :func:`irradiation_sweep` once.

    numba's cached kernels take ~0.2 s each to load in a new process, ~3 s in all: paid
    once per process, before its first tile, so the time a tile records is its own.

    Parameters
    ----------
    tables
        The sky tables the process will use (``sky.sky_tables``).
    dtype
        The type of the heights the process will sweep (one kernel per type).

    Returns
    -------
    float
        Seconds spent [s].
    """
    import time

    t0 = time.perf_counter()
    z = np.add.outer(np.arange(40.0), np.arange(40.0)).astype(dtype)
    z[20, 20] = np.nan  # the gap-filling kernel too
    core = (8, 32, 8, 32)  # a core inside a halo, as the build calls it (same array layouts)
    where = np.ones((24, 24), dtype=bool)
    irradiation_sweep(z, 0.5, tables, len(tables.beam), 5.0, core=core, where=where)
    return time.perf_counter() - t0


@numba.njit(parallel=True, nogil=True, cache=True)
def _normals(tilt, azimuth, todo, normal):  # pragma: no cover
    """Unit normals of the wanted pixels' planes (others: horizontal, never used)."""
    rows, cols = tilt.shape
    for r in numba.prange(rows):
        for c in range(cols):
            if todo[r, c]:
                beta, gamma = math.radians(tilt[r, c]), math.radians(azimuth[r, c])
                sin_b = math.sin(beta)
                normal[r, c, 0] = sin_b * math.sin(gamma)
                normal[r, c, 1] = sin_b * math.cos(gamma)
                normal[r, c, 2] = math.cos(beta)
            else:
                normal[r, c, 0] = 0.0
                normal[r, c, 1] = 0.0
                normal[r, c, 2] = 1.0


@numba.njit(parallel=True, nogil=True, cache=True)
def _transpose(a, out):  # pragma: no cover
    """``out = a.T`` by 64 × 64 blocks (cache-friendly, on every core)."""
    rows, cols = a.shape
    for bi in numba.prange((rows + 63) // 64):
        for bj in range(0, cols, 64):
            for r in range(bi * 64, min(rows, bi * 64 + 64)):
                for c in range(bj, min(cols, bj + 64)):
                    out[c, r] = a[r, c]


@numba.njit(parallel=True, nogil=True, cache=True)
def _transpose3(a, out):  # pragma: no cover
    """``out = a.transpose(1, 0, 2)`` by 64 × 64 blocks."""
    rows, cols, depth = a.shape
    for bi in numba.prange((rows + 63) // 64):
        for bj in range(0, cols, 64):
            for r in range(bi * 64, min(rows, bi * 64 + 64)):
                for c in range(bj, min(cols, bj + 64)):
                    for k in range(depth):
                        out[c, r, k] = a[r, c, k]


@numba.njit(parallel=True, nogil=True, cache=True)
def _combine(
    direct, direct_t, svf, svf_t, normal, todo, n, iso, band, ground, irr, svf_out
):  # pragma: no cover
    """Annual irradiation [kWh/m²] from the beam sums and sky views of both sweeps."""
    rows, cols = irr.shape
    for r in numba.prange(rows):
        for c in range(cols):
            if not todo[r, c]:
                irr[r, c] = np.nan
                svf_out[r, c] = np.nan
                continue
            v = (svf[r, c] + svf_t[c, r]) / n
            nx, ny, nz = normal[r, c, 0], normal[r, c, 1], normal[r, c, 2]
            sin_b = math.sqrt(nx * nx + ny * ny)
            diffuse = iso * v + band * sin_b * v / ((1.0 + nz) / 2.0)
            total = direct[r, c] + direct_t[c, r] + diffuse + ground * (1.0 - nz) / 2.0
            irr[r, c] = total / 1000.0
            svf_out[r, c] = v


def hourly_poa(
    horizon: np.ndarray,
    surface_tilt: float,
    surface_azimuth: float,
    svf: float,
    sky: SunSky,
    albedo: float,
) -> PlaneOfArray:
    """Hour-by-hour plane-of-array irradiance [W/m²] of one pixel, without any binning.

    The reference the binned :func:`annual_irradiation` is checked against.

    Parameters
    ----------
    horizon
        That pixel's horizon elevation per sector [deg].
    surface_tilt
        Plane tilt [deg].
    surface_azimuth
        Plane azimuth [deg], clockwise from north.
    svf
        Sky view factor [-].
    sky
        The year's sun and sky (``sky.sun_and_sky``).
    albedo
        Ground reflectance [-].

    Returns
    -------
    PlaneOfArray
        Per hour [W/m²]: ``beam``, ``circumsolar``, ``isotropic``, ``horizon``,
        ``ground``, ``total``; and ``sunlit`` (booleans: sun above 0°, the horizon and
        the plane).
    """
    n = horizon.shape[0]
    beta, gamma = np.radians(surface_tilt), np.radians(surface_azimuth)
    normal = np.array([np.sin(beta) * np.sin(gamma), np.sin(beta) * np.cos(gamma), np.cos(beta)])
    cos_aoi = sun_vectors(sky.azimuth, sky.elevation) @ normal
    above = (sky.elevation > 0) & (sky.elevation > horizon[sector_of(sky.azimuth, n)])
    sunlit = above & (cos_aoi > 0)
    front = np.where(sunlit, cos_aoi, 0.0)
    b = np.maximum(COS_85, np.cos(np.radians(sky.zenith)))
    parts = {
        "beam": sky.dni * front,
        "circumsolar": sky.dhi * sky.f1 * front / b,
        "isotropic": sky.dhi * (1 - sky.f1) * svf,
        "horizon": sky.dhi * sky.f2 * np.sin(beta) * svf / ((1 + np.cos(beta)) / 2),
        "ground": sky.ghi * albedo * (1 - np.cos(beta)) / 2,
    }
    return PlaneOfArray(**parts, total=sum(parts.values()), sunlit=sunlit)
