"""Per-roof statistics: hand computations on pixel-aligned roofs, and exactextract."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box

from layers.assumptions import load_assumptions
from layers.solar.roofs import (
    orientation_label,
    roof_class,
    roof_statistics,
    statistics_columns,
)
from tests.helpers import GEODATA
from tests.solar.helpers import L93, raster

CELL, X0, Y0 = 0.5, 680_000.0, 7_040_000.0  # raster 40 × 40 px = 20 m × 20 m


@pytest.fixture(scope="module")
def hyp():
    return load_assumptions(GEODATA)


def grid_box(c0, r0, c1, r1):
    """A polygon covering pixel columns c0..c1-1 and rows r0..r1-1."""
    return box(X0 + c0 * CELL, Y0 - r1 * CELL, X0 + c1 * CELL, Y0 - r0 * CELL)


def setup(values=1200.0, tilt=30.0):
    irr = np.full((40, 40), values, dtype="float32")
    irr[30:40, 30:40] = np.nan  # no data
    tilts = np.full((40, 40), tilt, dtype="float32")
    azimuths = np.full((40, 40), 180.0, dtype="float32")
    return raster(irr, CELL, X0, Y0), tilts, azimuths


def test_hand_computed_roof(hyp):
    irr, tilt, azimuth = setup()
    roofs = gpd.GeoDataFrame({"nom": ["a"]}, geometry=[grid_box(2, 2, 12, 10)], crs=L93)
    out = roof_statistics(roofs, irr, tilt, azimuth, hyp.roof_rules()).iloc[0]
    n_px = 10 * 8
    sloped = n_px * CELL * CELL / np.cos(np.radians(30))  # 23.09 m² of roof surface
    density = hyp.get("solaire", "puissance_surfacique")
    pr = hyp.get("solaire", "ratio_performance")
    assert out["surface_emprise_m2"] == pytest.approx(n_px * CELL * CELL)
    assert out["surface_utile_m2"] == pytest.approx(sloped, abs=0.05)
    assert out["irradiation_utile"] == pytest.approx(1200.0)
    assert out["kwc_central"] == pytest.approx(sloped * density.central, abs=0.01)
    assert out["kwh_an_central"] == pytest.approx(
        1200 * sloped * density.central * pr.central, abs=1
    )
    assert out["kwh_an_bas"] < out["kwh_an_central"] < out["kwh_an_haut"]
    assert out["pente_dominante"] == pytest.approx(30.0)
    assert out["orientation"] == "sud" and out["classe"] == "bon"
    assert out["part_couverte"] == pytest.approx(1.0)


def test_the_statistics_columns_are_the_documented_ones(hyp):
    """What roof_statistics adds is exactly ROOF_STATISTICS_COLUMNS (the store's format)."""
    irr, tilt, azimuth = setup()
    roofs = gpd.GeoDataFrame({"nom": ["a"]}, geometry=[grid_box(2, 2, 12, 10)], crs=L93)
    out = roof_statistics(roofs, irr, tilt, azimuth, hyp.roof_rules())
    added = [c for c in out.columns if c not in roofs.columns]
    assert sorted(added) == sorted(statistics_columns())
    assert "kwc_central" in added and "{level}" not in " ".join(added)


def test_half_outside_and_over_nodata(hyp):
    irr, tilt, azimuth = setup()
    roofs = gpd.GeoDataFrame(
        {"nom": ["dehors", "trou"]},
        geometry=[
            grid_box(-10, 2, 10, 10),  # half of it west of the raster
            grid_box(31, 31, 39, 39),
        ],  # entirely over no data
        crs=L93,
    )
    out = roof_statistics(roofs, irr, tilt, azimuth, hyp.roof_rules()).set_index("nom")
    assert out.loc["dehors", "part_couverte"] == pytest.approx(0.5)
    assert out.loc["dehors", "surface_utile_m2"] == pytest.approx(
        10 * 8 * CELL * CELL / np.cos(np.radians(30)), abs=0.05
    )
    assert out.loc["trou", "part_avec_donnees"] == 0
    assert out.loc["trou", "surface_utile_m2"] == 0
    # no data under it: unknown, never « non adapté » (issue 18: real LiDAR has holes)
    assert out.loc["trou", "classe"] == "sans données"
    assert out.loc["trou", "orientation"] == "indéterminée"
    assert out.loc["dehors", "classe"] != "sans données"  # half of it has data: computed


def test_thresholds_and_fragments(hyp):
    irr, tilt, azimuth = setup(values=1200.0)
    irr.array[2:10, 2:12] = 500.0  # too dark...
    irr.array[5, 5] = 1200.0  # ...but one bright pixel: 0.29 m², smaller than a panel
    tilt[2:10, 20:30] = 75.0  # too steep
    roofs = gpd.GeoDataFrame(
        {"nom": ["sombre", "raide"]},
        geometry=[grid_box(2, 2, 12, 10), grid_box(20, 2, 30, 10)],
        crs=L93,
    )
    out = roof_statistics(roofs, irr, tilt, azimuth, hyp.roof_rules()).set_index("nom")
    assert out.loc["sombre", "surface_utile_m2"] == 0
    assert out.loc["raide", "surface_utile_m2"] == 0
    assert out.loc["sombre", "irradiation_toit"] == pytest.approx((79 * 500 + 1200) / 80, abs=0.1)


def test_mean_over_roofs_matches_exactextract(hyp):
    from exactextract import exact_extract

    rng = np.random.default_rng(5)
    irr, tilt, azimuth = setup()
    irr.array[:30, :30] = rng.uniform(800, 1400, size=(30, 30))
    roofs = gpd.GeoDataFrame(
        {"nom": ["a", "b", "c"]},
        geometry=[grid_box(1, 1, 9, 7), grid_box(10, 3, 25, 20), grid_box(0, 22, 28, 29)],
        crs=L93,
    )
    ours = roof_statistics(roofs, irr, tilt, azimuth, hyp.roof_rules())[
        "irradiation_toit"
    ].to_numpy()
    from rasterio.io import MemoryFile

    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            height=40,
            width=40,
            count=1,
            dtype="float32",
            crs=L93.to_wkt(),
            transform=irr.transform,
            nodata=np.nan,
        ) as ds:
            ds.write(irr.array, 1)
        with mem.open() as ds:
            ref = exact_extract(ds, roofs, "mean", output="pandas")["mean"].to_numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-4)


def test_labels_and_classes(hyp):
    assert orientation_label(180, 30) == "sud" and orientation_label(95, 30) == "est"
    assert orientation_label(350, 30) == "nord" and orientation_label(200, 2) == "plat"
    assert roof_class(1300, 20, hyp.roof_rules()) == "excellent"
    assert roof_class(1000, 20, hyp.roof_rules()) == "moyen"
    assert roof_class(800, 20, hyp.roof_rules()) == "faible"
    assert roof_class(1300, 1.0, hyp.roof_rules()) == "non adapté"


def test_crs_must_match(hyp):
    from layers.solar.errors import SolarError

    irr, tilt, azimuth = setup()
    roofs = gpd.GeoDataFrame(geometry=[grid_box(2, 2, 12, 10)], crs=L93).to_crs(4326)
    with pytest.raises(SolarError, match="système de coordonnées"):
        roof_statistics(roofs, irr, tilt, azimuth, hyp.roof_rules())


def test_rasterize_ids_matches_gdal_on_awkward_shapes():
    """The numba scanline burns the same pixels as GDAL (rasterio): holes, multipolygons,
    rotated and concave shapes, shapes across the edge, overlaps (last one wins)."""
    from affine import Affine
    from rasterio.features import rasterize
    from shapely import affinity
    from shapely.geometry import MultiPolygon, Polygon, box

    from layers.solar.raster import rasterize_ids

    rng = np.random.default_rng(4)
    shapes = []
    for _ in range(300):
        x, y = rng.uniform(-5, 95, 2)
        w, h = rng.uniform(1.3, 9.7, 2)
        shape = affinity.rotate(box(x, y, x + w, y + h), rng.uniform(0, 90))
        if rng.random() < 0.3:
            shape = shape.difference(shape.centroid.buffer(min(w, h) / 4))  # a courtyard
        if rng.random() < 0.2:
            shape = MultiPolygon([shape, affinity.translate(shape, 3.1, -4.7)]).buffer(0)
        shapes.append(shape)
    shapes.append(Polygon([(10, 10), (30, 10), (30, 30), (20, 15.3), (10, 30)]))  # concave
    transform = Affine(0.5, 0, -3.0, 0, -0.5, 103.0)
    ours = rasterize_ids(shapes, transform, (200, 210))
    gdal = rasterize(
        ((s, i + 1) for i, s in enumerate(shapes)),
        out_shape=(200, 210),
        transform=transform,
        fill=0,
        dtype="int32",
    )
    assert (ours > 0).sum() > 5000
    assert (ours == gdal).all()
