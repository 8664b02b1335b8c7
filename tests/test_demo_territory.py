"""The synthetic territory is written exactly in the IGN and BAN formats, flagged fictional."""

from __future__ import annotations

import numpy as np
import pyogrio
import pytest
import rasterio
from shapely.geometry import Point

from layers.cli import main
from layers.demo.territory import NODATA, lidar_file_name
from layers.geocode import read_ban_csv


@pytest.fixture(scope="module")
def territory_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("territoire")
    assert main(["solar", "demo-territory", "--out", str(out), "--km", "2", "--seed", "7"]) == 0
    return out


def test_lidar_tiles_follow_ign_naming_grid_and_types(territory_files):
    lidar = territory_files / "lidar"
    names = sorted(p.name for p in lidar.iterdir())
    assert names == sorted(
        lidar_file_name((x, y), kind)
        for x in (684, 685)
        for y in (7042, 7041)
        for kind in ("MNS", "MNT")
    )
    for name in names:
        x_km, y_km = int(name[8:12]), int(name[13:17])
        with rasterio.open(lidar / name) as src:
            assert (src.width, src.height) == (2000, 2000)
            assert src.crs.to_epsg() == 2154 and src.dtypes == ("float32",)
            assert src.nodata == NODATA
            left, bottom, right, top = src.bounds
            assert (left, top) == (x_km * 1000 - 0.25, y_km * 1000 + 0.25)
            assert (right - left, top - bottom) == (1000.0, 1000.0)
            assert src.tags()["ATLAS_QUALITE"] == "synthétique"


def test_surface_is_above_terrain_continuous_across_tiles_and_has_a_hole(territory_files):
    lidar = territory_files / "lidar"

    def read(x, y, kind):
        with rasterio.open(lidar / lidar_file_name((x, y), kind)) as src:
            return src.read(1, masked=True).filled(np.nan)

    west, east = read(684, 7042, "MNT"), read(685, 7042, "MNT")
    # the ground plane runs on from one tile to the next (no step at the edge)
    step = east[:, 0] - west[:, -1]
    inside = west[:, -1] - west[:, -2]
    assert np.allclose(step, inside, atol=1e-3)
    for x, y in ((684, 7042), (685, 7042), (684, 7041), (685, 7041)):
        mns, mnt = read(x, y, "MNS"), read(x, y, "MNT")
        ok = np.isfinite(mns)
        assert (mns[ok] >= mnt[ok] - 1e-3).all()
        assert (mns[ok] - mnt[ok] > 5).mean() > 0.05  # buildings and trees stand up
    assert np.isnan(read(685, 7042, "MNS")).sum() == 3600  # the 30 m × 30 m LiDAR gap
    # the one terril, in the south-west tile
    assert np.nanmax(read(684, 7041, "MNS") - read(684, 7041, "MNT")) > 40


def test_buildings_are_a_bd_topo_batiment_layer(territory_files):
    path = territory_files / "batiment.gpkg"
    assert pyogrio.list_layers(path)[:, 0].tolist() == ["batiment"]
    info = pyogrio.read_info(path, layer="batiment")
    assert info["geometry_type"] == "MultiPolygon Z" and info["crs"] == "EPSG:2154"
    frame = pyogrio.read_dataframe(path, layer="batiment")
    for field in ("cleabs", "nature", "usage_1", "hauteur", "nombre_de_logements"):
        assert field in frame.columns
    assert frame["cleabs"].is_unique and frame["cleabs"].str.match(r"^BATIMENT\d{16}$").all()
    assert (~frame.geometry.is_valid).sum() == 1  # the bow-tie, as real deliveries have
    assert frame["qualite"].str.startswith("synthétique").all()
    assert len(frame) > 2000
    # a warehouse straddles the inner corner of the four tiles
    corner = frame[frame["usage_1"] == "Industriel"].geometry
    assert corner.contains(Point(685_000, 7_041_000)).any()


def test_addresses_are_ban_csv_the_app_can_read(territory_files):
    path = territory_files / "adresses-62.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0].split(";")
    assert header[:8] == [
        "id", "id_fantoir", "numero", "rep", "nom_voie", "code_postal", "code_insee",
        "nom_commune",
    ]  # fmt: skip
    frame = read_ban_csv(path)
    assert len(frame) > 2000 and frame["lat"].astype(float).between(50.3, 50.6).all()


def test_the_generator_makes_cites_suburbs_and_fields_with_water():
    """Issue 20: a benchmark territory with the PMA's mix of densities, surface and roofs alike."""
    import numpy as np

    from layers.demo.district import generate

    cite, suburb, fields = (
        generate(1000.0, 0.5, seed=7, terril=False, density=d) for d in (1.0, 0.25, 0.02)
    )
    assert len(cite.roofs) > 1200 and 200 < len(suburb.roofs) < 600
    assert len(fields.roofs) < 0.05 * len(cite.roofs)
    built = [(g.dsm.array - g.dtm.array > 2.5).mean() for g in (cite, suburb, fields)]
    assert built[0] > built[1] > built[2]  # the surface thins out with the footprints
    assert np.isnan(fields.dsm.array).mean() > 0.02  # the pond: no LiDAR data on water
    assert not np.isnan(cite.dsm.array).any()
    again = generate(1000.0, 0.5, seed=7, terril=False)  # the default is the dense cité
    assert np.array_equal(again.dsm.array, cite.dsm.array)
