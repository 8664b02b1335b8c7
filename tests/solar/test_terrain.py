"""Terrain geometry against analytic cases: planes, a trench, open ground."""

from __future__ import annotations

import numpy as np
import pytest

from layers.solar.terrain import horizons, ray_offsets, sky_view_factor, slope_aspect
from tests.solar.conftest import plane


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


def test_ray_offsets_grow_and_do_not_repeat():
    d_row, d_col, inv, start = ray_offsets(36, 0.5, 200.0, 0.05)
    assert len(start) == 37
    for k in range(36):
        seg = slice(start[k], start[k + 1])
        dist = 1 / inv[seg]
        assert np.all(np.diff(dist) > 0) and dist.max() <= 200.0 + 0.5
        assert len(set(zip(d_row[seg], d_col[seg], strict=True))) == start[k + 1] - start[k]
    full = ray_offsets(36, 0.5, 200.0, 0.0)[3][-1]
    assert start[-1] < full / 3  # growing steps: far fewer samples than every pixel


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
