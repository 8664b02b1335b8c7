"""Issue 27: modules laid on faces — counts against the analytic maximum, setbacks,
obstacles, flat-roof rows against the solstice sun (pvlib), yield against pvlib."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pvlib
import pytest
from shapely import affinity
from shapely.geometry import Polygon, box

from layers.solar.faces import roof_faces
from layers.solar.irradiation import irradiation_sweep
from layers.solar.panels import (
    PanelRules,
    configurations,
    layout_face,
    panel_irradiation,
    shading_factor,
    unshaded_irradiation,
)
from layers.solar.sky import sky_tables
from tests.solar.test_irradiation import ALBEDO, pvlib_annual

RULES = PanelRules()


def _face(length: float, depth_plan: float, azimuth: float) -> Polygon:
    """A rectangular face in plan: ``length`` along the contour, ``depth_plan`` down the
    slope, turned so that it looks at ``azimuth``."""
    rect = box(-length / 2, -depth_plan / 2, length / 2, depth_plan / 2)  # looks south
    return affinity.rotate(rect, 180 - azimuth, origin=(0, 0))  # counter-clockwise turn


def _analytic(length: float, slope_length: float, rules: PanelRules) -> int:
    """Whole modules in a rectangle less its setbacks, the better of the two ways."""
    a, b = length - 2 * rules.edge_setback_m, slope_length - 2 * rules.edge_setback_m
    g = rules.gap_m

    def fit(span, size):
        return max(0, math.floor((span + g) / (size + g) + 1e-9))

    portrait = fit(a, rules.width_m) * fit(b, rules.height_m)
    landscape = fit(a, rules.height_m) * fit(b, rules.width_m)
    return max(portrait, landscape)


@pytest.mark.parametrize("azimuth", [180.0, 203.0, 90.0, 317.0])
@pytest.mark.parametrize(
    ("length", "depth", "slope"),
    [(12.0, 4.0, 35.0), (8.3, 3.1, 45.0), (5.0, 2.6, 30.0), (20.0, 6.0, 15.0)],
)
def test_a_rectangular_face_holds_the_analytic_maximum(length, depth, slope, azimuth):
    face = _face(length, depth, azimuth)
    layout = layout_face(face, slope, azimuth, None, RULES)
    true_depth = depth / math.cos(math.radians(slope))
    assert len(layout.panels) == _analytic(length, true_depth, RULES)
    # area × density would say more: the whole number of modules is the honest count
    assert len(layout.panels) * RULES.width_m * RULES.height_m < length * true_depth


def _plan_setback(slope: float) -> float:
    """The least plan distance a setback leaves (up the slope it shrinks by cos slope)."""
    return RULES.edge_setback_m * math.cos(math.radians(slope)) - 1e-6


@pytest.mark.parametrize("azimuth", [180.0, 250.0])
def test_no_module_outside_its_face_less_setbacks_nor_over_an_obstacle(azimuth):
    slope = 35.0
    face = _face(12.0, 5.0, azimuth)
    chimney = affinity.rotate(box(-0.4, -0.4, 0.4, 0.4), 180 - azimuth, origin=(0, 0))
    layout = layout_face(face, slope, azimuth, chimney, RULES)
    free = layout_face(face, slope, azimuth, None, RULES)
    assert 0 < len(layout.panels) < len(free.panels)
    for panel in layout.panels:
        assert panel.within(face)
        assert panel.distance(face.exterior) >= _plan_setback(slope)
        assert panel.distance(chimney) >= _plan_setback(slope)
    # modules never overlap
    total = sum(p.area for p in layout.panels)
    from shapely import union_all

    assert union_all(list(layout.panels)).area == pytest.approx(total, rel=1e-9)


def _noon_solstice_elevation(latitude: float) -> float:
    """The reference: pvlib's sun at true solar noon on 21 December."""
    times = pd.date_range("2026-12-21 11:00", "2026-12-21 13:00", freq="1min", tz="UTC")
    sun = pvlib.solarposition.get_solarposition(times, latitude, 0.0)
    return float(sun["apparent_elevation"].max())


def test_flat_roof_rows_never_shade_each_other_at_the_solstice_noon():
    face = box(0, 0, 20, 14)
    layout = layout_face(face, 1.0, float("nan"), None, RULES)
    assert layout.tilt == RULES.flat_tilt and layout.azimuth == 180.0
    up = RULES.width_m if not layout.portrait else RULES.height_m
    rows = sorted({round(p.bounds[1], 6) for p in layout.panels})
    assert len(rows) >= 3
    shadow = (
        up
        * math.sin(math.radians(RULES.flat_tilt))
        / math.tan(math.radians(_noon_solstice_elevation(RULES.latitude)))
    )
    depth = up * math.cos(math.radians(RULES.flat_tilt))
    for front, back in zip(rows, rows[1:], strict=False):  # south row first (lower y)
        # the back of a row (its high edge, north side) shades northwards by `shadow`
        assert back - (front + depth) >= shadow - 0.02  # pvlib's refraction: ≤ 2 cm
    for panel in layout.panels:
        assert panel.within(face) and panel.distance(face.exterior) >= RULES.edge_setback_m - 1e-6


def test_module_yield_on_an_open_plane_matches_pvlib(weather, sky_perez):
    """A 35° south face on its own, nothing around: each module's kWh/yr through the
    faces, the sweep and the shading factor equals pvlib's plane of array (≤ 1 %)."""
    from rasterio.transform import from_origin

    from tests.solar import synthetic_roofs as S

    truth = S.gable(0.0, length=14, width=10, tilt=35, size_m=40)
    tables = sky_tables(sky_perez, 36, ALBEDO)
    sweep = irradiation_sweep(truth.z.astype("float32"), S.CELL, tables, 36, 60.0)
    faces = roof_faces(truth.z, truth.ids, S.CELL)
    south = int(np.argmin(np.abs(faces.azimuth - 180)))
    transform = from_origin(-20.0, 20.0, S.CELL, S.CELL)  # the window of synthetic_roofs
    face = _face(14.0, 5.0, 180.0).buffer(0)
    face = affinity.translate(face, 0, -2.5)  # the south face: y from −5 to 0
    layout = layout_face(face, faces.slope[south], faces.azimuth[south], None, RULES)
    assert len(layout.panels) >= 12
    shade = shading_factor(sweep.irradiation, sweep.surface_tilt, sweep.surface_azimuth, tables)
    plane = float(unshaded_irradiation(faces.slope[south], faces.azimuth[south], tables)[0])
    per_module = panel_irradiation(layout.panels, shade, transform, plane)
    reference = pvlib_annual(weather, 35.0, 180.0, "perez")
    assert np.allclose(per_module, reference, rtol=0.01)
    pr = (0.75, 0.80, 0.85)
    configs = configurations(per_module, RULES, pr)
    best = configs[-1]
    assert best.panels == len(layout.panels)
    assert best.kwc == pytest.approx(len(layout.panels) * 0.425)
    assert best.kwh[1] == pytest.approx(best.kwc * reference * 0.80, rel=0.01)
    assert configs[0].kwh[0] < configs[0].kwh[1] < configs[0].kwh[2]
    assert all(a.kwh[1] <= b.kwh[1] for a, b in zip(configs, configs[1:], strict=False))
