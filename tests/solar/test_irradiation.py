"""Irradiation against independent references: pvlib on open planes, the analytic wall."""

from __future__ import annotations

import numpy as np
import pvlib
import pytest

from layers.solar.irradiation import annual_irradiation, hourly_poa
from layers.solar.sky import sector_of, sky_tables
from layers.solar.terrain import horizons, sky_view_factor, slope_aspect
from tests.solar.helpers import plane

ALBEDO = 0.2


def engine(z, cell, sky, n_sectors=36, max_distance=100.0):
    tilt, azimuth = slope_aspect(z, cell)
    hz = horizons(z, cell, n_sectors, max_distance)
    svf = sky_view_factor(hz, tilt, azimuth)
    annual = annual_irradiation(hz, tilt, azimuth, svf, sky_tables(sky, n_sectors, ALBEDO))
    return annual, hz, tilt, azimuth, svf


def pvlib_annual(weather, tilt, azimuth, model):
    """The reference: pvlib's own transposition summed over the same year [kWh/m²]."""
    times = weather.data.index + weather.shift
    sun = pvlib.solarposition.get_solarposition(
        times, weather.latitude, weather.longitude, altitude=weather.altitude
    )
    poa = pvlib.irradiance.get_total_irradiance(
        tilt,
        azimuth,
        sun["apparent_zenith"],
        sun["azimuth"],
        weather.data["dni"].to_numpy(),
        weather.data["ghi"].to_numpy(),
        weather.data["dhi"].to_numpy(),
        dni_extra=pvlib.irradiance.get_extra_radiation(times),
        albedo=ALBEDO,
        model=model,
    )
    return float(poa["poa_global"].fillna(0).sum()) / 1000


@pytest.mark.parametrize("model", ["perez", "isotropic"])
@pytest.mark.parametrize(
    ("tilt", "azimuth"),
    [(0, 180), (35, 180), (35, 0), (20, 90)],
    ids=["flat", "35-south", "35-north", "20-east"],
)
def test_open_planes_match_pvlib(weather, sky_perez, sky_iso, model, tilt, azimuth):
    sky = sky_perez if model == "perez" else sky_iso
    annual, *_ = engine(plane(241, 1.0, tilt, azimuth), 1.0, sky)
    reference = pvlib_annual(weather, tilt, azimuth, model)
    assert annual[120, 120] == pytest.approx(reference, rel=0.01)  # the issue: within 1 %


def test_binned_year_matches_hour_by_hour(sky_perez):
    # a house, a tree and a low wall on flat ground: shaded pixels of every kind
    z = np.full((160, 160), 40.0, dtype="float32")
    z[70:80, 60:90] = 48.0  # flat-roofed house
    rows, cols = np.mgrid[0:160, 0:160]
    tree = 40 + 12 * np.sqrt(np.clip(1 - ((rows - 100) ** 2 + (cols - 110) ** 2) / 16, 0, 1))
    z = np.maximum(z, tree.astype("float32"))
    annual, hz, tilt, azimuth, svf = engine(z, 0.5, sky_perez, max_distance=60.0)
    for r, c in [(82, 75), (60, 75), (75, 75), (104, 110), (100, 100), (81, 95)]:
        hourly = hourly_poa(
            hz[:, r, c],
            float(tilt[r, c]),
            float(azimuth[r, c]),
            float(svf[r, c]),
            sky_perez,
            ALBEDO,
        )
        assert annual[r, c] == pytest.approx(hourly.total.sum() / 1000, rel=0.01), (r, c)


@pytest.mark.parametrize("distance", [10.0, 20.0, 30.0])
def test_wall_shadow_hour_by_hour(sky_perez, distance):
    height, cell = 10.0, 1.0
    z = np.zeros((460, 460), dtype="float32")
    wall_row = 300
    z[wall_row : wall_row + 2, :] = height  # a long east–west wall
    row = wall_row - int(distance)  # rows grow southwards: this pixel is north of the wall
    hz = horizons(z, cell, 36, 220.0, core=(row, row + 1, 230, 231))[:, 0, 0]
    hourly = hourly_poa(hz, 0.0, 0.0, 1.0, sky_perez, ALBEDO)
    south = sector_of(sky_perez.azimuth, 36) == 18  # the sector centred on 180°
    limit = np.degrees(np.arctan(height / distance))  # analytic shadow elevation
    day = sky_perez.elevation > 0
    below = south & day & (sky_perez.elevation < limit - 1.0)
    above = south & day & (sky_perez.elevation > limit + 1.0)
    assert below.sum() > 20 and above.sum() > 20
    assert not hourly.sunlit[below].any()
    assert hourly.sunlit[above].all()


def test_far_south_of_the_wall_matches_open_ground(sky_perez, weather):
    z = np.zeros((460, 460), dtype="float32")
    z[100:102, :] = 10.0
    annual, *_ = engine(z, 1.0, sky_perez, max_distance=220.0)
    open_ground = pvlib_annual(weather, 0, 180, "perez")
    assert annual[420, 230] == pytest.approx(open_ground, rel=0.005)  # 318 m south
    assert annual[110, 230] < open_ground * 0.99  # 10 m south: less sky, summer dawn shade
    assert annual[95, 230] < open_ground * 0.8  # 5 m north of the wall: deep shade


def test_nodata_stays_nodata(sky_perez):
    z = plane(80, 1.0, 30, 180)
    z[30:40, 30:40] = np.nan
    annual, *_ = engine(z, 1.0, sky_perez, max_distance=30.0)
    assert np.isnan(annual[30:40, 30:40]).all()
    assert np.isfinite(annual[50:60, 50:60]).all()


def test_fused_sweep_equals_the_three_steps(sky_perez):
    # the pipeline's one-pass sum (horizons used as swept, never stored) against the
    # separate horizons → sky view → annual sum, on a roofscape with a hole
    from layers.solar.irradiation import irradiation_sweep

    z = np.full((120, 140), 40.0, dtype="float32")
    z[40:60, 30:80] = 47.0
    z[70:90, 90:100] = 52.0
    rows, cols = np.mgrid[0:120, 0:140]
    z += (0.3 * np.sin(rows / 7.0) * np.cos(cols / 5.0)).astype("float32")
    z[5:9, 5:9] = np.nan
    annual, _, _, _, svf = engine(z, 0.5, sky_perez, n_sectors=24, max_distance=25.0)
    fused = irradiation_sweep(z, 0.5, sky_tables(sky_perez, 24, ALBEDO), 24, 25.0)
    assert np.array_equal(np.isnan(fused.irradiation), np.isnan(annual))
    ok = np.isfinite(annual)
    # equal but for the odd pixel whose horizon falls on the other side of a 0.1° bin
    rel = np.abs(fused.irradiation[ok] / annual[ok] - 1)
    assert np.median(rel) < 1e-5 and np.percentile(rel, 99) < 1e-3 and rel.max() < 1e-2
    assert np.allclose(fused.svf[ok], svf[ok], atol=1e-4)
    roofs = np.zeros(z.shape, dtype=bool)
    roofs[42:58, 32:78] = True
    only = irradiation_sweep(z, 0.5, sky_perez_tables(sky_perez), 24, 25.0, where=roofs)
    assert np.isnan(only.irradiation[~roofs]).all()
    assert np.allclose(only.irradiation[roofs], fused.irradiation[roofs])


def sky_perez_tables(sky):
    return sky_tables(sky, 24, ALBEDO)
