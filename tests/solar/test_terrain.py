"""Terrain geometry against analytic cases: planes, a trench, open ground."""

from __future__ import annotations

import numpy as np
import pytest

from layers.solar.terrain import horizons, sky_view_factor, slope_aspect
from tests.solar.helpers import plane


@pytest.mark.parametrize(
    ("tilt", "azimuth"),
    [(0, 0), (30, 180), (35, 0), (20, 90), (45, 270), (10, 135), (60, 315)],
)
def test_slope_aspect_of_analytic_planes(tilt, azimuth):
    s, a = slope_aspect(plane(50, 0.5, tilt, azimuth), 0.5)
    assert s[25, 25] == pytest.approx(tilt, abs=1e-3)
    if tilt:
        assert a[25, 25] == pytest.approx(azimuth, abs=1e-3)


def test_slope_nodata_and_sparse_lidar_gaps():
    z = plane(40, 1.0, 30, 180)
    z[10, 10] = np.nan  # a one-pixel gap: neighbours keep their exact slope
    z[25:35, 25:35] = np.nan  # a large hole: stays no data
    s, a = slope_aspect(z, 1.0)
    assert np.isnan(s[10, 10]) and np.isnan(a[10, 10])
    assert np.allclose(s[9:12:2, 9:12:2], 30, atol=1e-3)
    assert np.isnan(s[25:35, 25:35]).all()
    assert np.isfinite(s[5, 5])


def brute_force_horizon(z, cell, n_sectors, sector, reach, r, c):
    """The horizon of pixel (r, c) seen along its sweep line, by looking at every sample.

    The line is the straight line through the global grid passing within half a pixel of
    the pixel's centre, sampled once per column (or row, for steep directions) with heights
    interpolated between the two pixels it passes between.
    """
    az = 2 * np.pi * sector / n_sectors
    ux, uy = np.sin(az), -np.cos(az)
    ux, uy = (0.0 if abs(ux) < 1e-12 else ux), (0.0 if abs(uy) < 1e-12 else uy)
    if abs(ux) < abs(uy):  # steep: swap the roles of rows and columns
        return brute_force_horizon_frame(z.T, cell, uy, ux, reach, c, r)
    return brute_force_horizon_frame(z, cell, ux, uy, reach, r, c)


def brute_force_horizon_frame(z, cell, ux, uy, reach, r, c):
    t = uy / ux
    k = r - np.floor(c * t + 0.5)
    best = -np.inf
    s_obs = (c * ux + (k + c * t) * uy) * cell
    # the observer's height carried half a pixel at most across, to the line, along the
    # gentler of its two slopes across the line (none on an edge or a ridge)
    up = z[r + 1, c] - z[r, c] if r + 1 < z.shape[0] else 0.0
    down = z[r, c] - z[r - 1, c] if r >= 1 else 0.0
    across = min(up, down, key=abs) if up * down > 0 else 0.0
    z_obs = z[r, c] + (k + c * t - r) * across
    for col in range(z.shape[1]):
        y = k + col * t
        s = (col * ux + y * uy) * cell
        if not 0 < s - s_obs <= reach or not 0 <= np.floor(y + 0.5) < z.shape[0]:
            continue
        y0 = int(np.floor(y))
        near = [(y0, 1 - (y - y0)), (y0 + 1, y - y0)]
        vals = [(z[row, col], w) for row, w in near if 0 <= row < z.shape[0]]
        vals = [(v, w) for v, w in vals if np.isfinite(v)]
        if not vals:
            continue
        height = vals[0][0] if len(vals) == 1 else sum(v * w for v, w in vals)
        best = max(best, (height - z_obs) / (s - s_obs))
    return 0.0 if best == -np.inf else float(np.degrees(np.arctan(best)))


def test_sweep_equals_looking_at_every_pixel_within_reach():
    # rough terrain with a hole: the windowed convex-hull sweep must find exactly the
    # highest slope among the pixels of the line within reach, for every sector
    rng = np.random.default_rng(3)
    z = (rng.random((50, 60)) * 8 + np.linspace(0, 6, 60)).astype("float32")
    z[10:14, 20:30] = np.nan
    n, reach = 16, 9.0  # reach of a few blocks: both halves of the sweep are used
    h = horizons(z, 1.0, n, reach)
    worst = 0.0
    for sector in range(n):
        for r in range(0, 50, 4):
            for c in range(0, 60, 4):
                if np.isnan(z[r, c]):
                    assert np.isnan(h[sector, r, c])
                    continue
                expected = brute_force_horizon(z, 1.0, n, sector, reach, r, c)
                worst = max(worst, abs(expected - float(h[sector, r, c])))
    assert worst < 1e-4


def test_obstacle_just_beyond_reach_is_ignored():
    z = np.zeros((5, 80), dtype="float32")
    z[2, 60] = 10.0  # 20 m east of pixel (2, 40)
    h = horizons(z, 1.0, 4, 20.0)  # sector 1 = east
    assert h[1, 2, 40] == pytest.approx(np.degrees(np.arctan(10 / 20)), abs=1e-4)
    assert h[1, 2, 39] == 0.0  # 21 m: out of reach
    assert h[1, 2, 45] == pytest.approx(np.degrees(np.arctan(10 / 15)), abs=1e-4)


def test_a_far_tower_counts_only_within_reach():
    rng = np.random.default_rng(4)
    z = (rng.random((40, 300)) * 0.05).astype("float32")
    z[20, 290] = 100.0
    near, far = horizons(z, 1.0, 4, 5.0), horizons(z, 1.0, 4, 400.0)
    assert near[1, 20, 10] < 1.0  # a 5 m reach sees only the 5 cm bumps
    assert far[1, 20, 10] == pytest.approx(np.degrees(np.arctan(100 / 280)), abs=0.05)


def test_horizon_of_an_open_flat_pixel_is_zero_and_svf_one():
    z = np.full((81, 81), 40.0, dtype="float32")
    h = horizons(z, 1.0, 36, 30)
    s, a = slope_aspect(z, 1.0)
    assert np.allclose(h[:, 40, 40], 0.0)
    assert sky_view_factor(h, s, a)[40, 40] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("tilt", [20, 35, 60])
def test_svf_of_an_open_tilted_plane(tilt):
    z = plane(201, 1.0, tilt, 180)
    h = horizons(z, 1.0, 36, 60)
    s, a = slope_aspect(z, 1.0)
    expected = (1 + np.cos(np.radians(tilt))) / 2  # isotropic view factor of a tilted plane
    assert sky_view_factor(h, s, a)[100, 100] == pytest.approx(expected, abs=0.005)


def test_svf_at_the_bottom_of_a_long_trench():
    # flat trench floor 11 px wide (cells 1 m), walls 6 m high, trench along north–south
    z = np.full((601, 61), 6.0, dtype="float32")
    z[:, 25:36] = 0.0
    h = horizons(z, 1.0, 72, 250)
    s, a = slope_aspect(z, 1.0)
    svf = sky_view_factor(h, s, a)[300, 30]
    half_width = 6.0  # from the centre pixel to the first wall pixel centre
    a_ratio = 6.0 / half_width
    expected = 1 / np.sqrt(1 + a_ratio**2)  # ∮ cos² h dφ / 2π with tan h = a |sin φ|
    assert svf == pytest.approx(expected, rel=0.02)
    # horizon across the trench: the walls; along it: open
    assert h[18, 300, 30] == pytest.approx(45.0, abs=0.5)  # east: atan(6/6)
    assert h[0, 300, 30] == pytest.approx(0.0, abs=1e-6)


def test_horizon_nodata_pixels_do_not_obstruct():
    z = np.full((61, 61), 10.0, dtype="float32")
    z[30, 31:40] = np.nan  # a hole east of the centre
    z[30, 45] = 20.0  # an obstacle behind the hole
    h = horizons(z, 1.0, 36, 30)
    assert np.isnan(horizons(np.full((5, 5), np.nan, dtype="float32"), 1.0, 8, 3)).all()
    assert h[9, 30, 30] == pytest.approx(np.degrees(np.arctan(10 / 15)), abs=0.1)


def test_core_window_matches_full_run():
    rng = np.random.default_rng(1)
    z = (rng.random((80, 90)) * 5).astype("float32")
    full = horizons(z, 1.0, 24, 20)
    core = horizons(z, 1.0, 24, 20, core=(20, 50, 30, 70))
    assert np.array_equal(core, full[:, 20:50, 30:70])


def test_a_window_read_with_its_halo_matches_the_whole_raster():
    # a tile read with a halo as wide as the reach, placed by its global origin, sees the
    # very same lines as the one-piece run: identical horizons
    rng = np.random.default_rng(2)
    z = (rng.random((120, 130)) * 6).astype("float32")
    full = horizons(z, 1.0, 36, 15)
    halo = 16
    window = z[40 - halo : 80 + halo, 50 - halo : 90 + halo]
    tile = horizons(
        window, 1.0, 36, 15, core=(halo, halo + 40, halo, halo + 40), origin=(40 - halo, 50 - halo)
    )
    assert np.array_equal(tile, full[:, 40:80, 50:90])


def test_small_gaps_are_filled_exactly_in_a_plane_and_large_holes_stay():
    from layers.solar.terrain import fill_small_holes

    z = plane(30, 1.0, 30, 135)
    ref = z.copy()
    z[5, 5] = np.nan  # one pixel
    z[10, 10:12] = np.nan  # two pixels
    z[20:27, 20:27] = np.nan  # a hole 7 px wide: its centre is 3 px from data
    filled = fill_small_holes(z)
    assert filled[5, 5] == pytest.approx(ref[5, 5], abs=1e-4)
    around = ref[9:12, 9:13]
    assert around.min() <= filled[10, 10] <= around.max()  # filled from its neighbours
    assert np.isfinite(filled[20, 20]) and np.isnan(filled[23, 23])
    assert np.isnan(z[5, 5])  # the input is left as it was
