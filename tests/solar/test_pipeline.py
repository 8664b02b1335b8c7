"""Whole runs: blocks agree with an untiled run, files and run.json are right, real LiDAR runs."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import rasterio
from pyproj import CRS

from layers.assumptions import load_assumptions
from layers.cli import main
from layers.solar.errors import SolarError
from layers.solar.pipeline import SolarParams, blocks, compute, compute_raster
from layers.solar.raster import RasterError, read_raster, write_cog
from tests.helpers import ROOT
from tests.solar.helpers import EPW, raster

AUTZEN = ROOT / "tests" / "data" / "autzen_dsm_1m.tif"


def scene(n=300, seed=3):
    """Houses, a hill and a no-data hole, 1 m cells."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:n, 0:n]
    z = 30 + 15 * np.exp(-(((rows - 60) ** 2 + (cols - 220) ** 2) / 2000.0))
    for _ in range(40):
        r, c = rng.integers(10, n - 20, size=2)
        z[r : r + 8, c : c + 12] += rng.uniform(5, 12)
    z[150:160, 40:55] = np.nan
    return z.astype("float32")


def test_blocks_cover_the_raster_once():
    cover = np.zeros((250, 333), dtype=int)
    for t in blocks(250, 333, 100, 17):
        cover[
            t.core.row_off : t.core.row_off + t.core.height,
            t.core.col_off : t.core.col_off + t.core.width,
        ] += 1
        assert t.read.row_off <= t.core.row_off and t.read.col_off <= t.core.col_off
    assert (cover == 1).all()


def test_blocks_and_an_untiled_run_agree(tmp_path, weather):
    dsm = raster(scene())
    path = tmp_path / "dsm.tif"
    write_cog(path, dsm, {}, "test")
    params = SolarParams(max_distance=40.0, block_size=96, n_sectors=24)
    untiled = compute_raster(dsm, weather, params).irradiation
    report = compute(path, EPW, tmp_path / "out", params, progress=False)
    tiled = read_raster(tmp_path / "out" / "irradiation.tif").array
    assert report.dsm["blocks"] == 16
    both = np.isfinite(untiled)
    assert np.array_equal(both, np.isfinite(tiled))
    assert np.nanmax(np.abs(tiled[both] / untiled[both] - 1)) < 0.005
    assert np.isnan(tiled[150:160, 40:55]).all()


def test_run_outputs_and_report(tmp_path):
    dsm = raster(scene(120))
    path = tmp_path / "dsm.tif"
    write_cog(path, dsm, {}, "test")
    compute(path, EPW, tmp_path / "out", SolarParams(max_distance=20.0), progress=False)
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert run["weather"]["name"].startswith("Uccle")
    assert run["parameters"]["n_sectors"] == 36 and run["parameters"]["model"] == "perez"
    assert {"sky", "blocks", "cog", "total"} <= set(run["timings_s"])
    assert {"pvlib", "numba", "gdal"} <= set(run["versions"])
    with rasterio.open(tmp_path / "out" / "irradiation.tif") as src:
        assert src.dtypes[0] == "float32" and src.profile["tiled"]
        assert src.tags()["units"] == "kWh/m2/an"
        assert src.crs.to_epsg() == 2154
        # a real COG (GDAL's COG driver says so in the file), with its overview
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.overviews(1) == [2]


def test_real_lidar_in_us_feet_with_holes(tmp_path):
    src = read_raster(AUTZEN)
    assert CRS(src.crs).axis_info[0].unit_name in ("foot", "US survey foot")
    assert src.cell_size_m == pytest.approx(1.0, rel=0.01)  # ~3.28 ft pixels
    assert np.isnan(src.array).mean() > 0.3
    code = main(
        [
            "solar",
            "compute",
            "--dsm",
            str(AUTZEN),
            "--weather",
            str(EPW),
            "--out",
            str(tmp_path),
            "--max-distance",
            "60",
            "--quiet",
        ]
    )
    assert code == 0
    out = read_raster(tmp_path / "irradiation.tif").array
    assert np.array_equal(np.isnan(out), np.isnan(src.array))
    valid = out[np.isfinite(out)]
    assert 100 < np.median(valid) < 1500 and valid.max() < 1600


def test_cli_refuses_bad_inputs(tmp_path, capsys):
    assert (
        main(
            [
                "solar",
                "compute",
                "--dsm",
                str(tmp_path / "nope.tif"),
                "--weather",
                str(EPW),
                "--out",
                str(tmp_path),
            ]
        )
        == 1
    )
    assert "introuvable" in capsys.readouterr().err
    geo = tmp_path / "geo.tif"
    write_cog(
        geo,
        raster(np.ones((20, 20)), cell=0.0001, x0=2.8, y0=50.4, crs=CRS.from_epsg(4326)),
        {},
        "x",
    )
    assert (
        main(
            [
                "solar",
                "compute",
                "--dsm",
                str(geo),
                "--weather",
                str(EPW),
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 1
    )
    assert "système projeté" in capsys.readouterr().err
    bad = tmp_path / "bad.epw"
    bad.write_text("not a weather file\n", encoding="utf-8")
    ok_dsm = tmp_path / "ok.tif"
    write_cog(ok_dsm, raster(np.ones((20, 20))), {}, "x")
    assert (
        main(
            [
                "solar",
                "compute",
                "--dsm",
                str(ok_dsm),
                "--weather",
                str(bad),
                "--out",
                str(tmp_path / "o2"),
            ]
        )
        == 1
    )
    assert "météo" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00garbage")
    with pytest.raises(RasterError):
        read_raster(corrupt)


def test_pvgis_tmy_json_is_accepted(tmp_path, weather):
    from layers.solar.sky import read_weather

    data = weather.data
    hourly = [
        {
            "time(UTC)": t.strftime("%Y%m%d:%H%M"),
            "T2m": float(r.temp_air),
            "RH": 80.0,
            "G(h)": float(r.ghi),
            "Gb(n)": float(r.dni),
            "Gd(h)": float(r.dhi),
            "IR(h)": 300.0,
            "WS10m": 3.0,
            "WD10m": 180.0,
            "SP": 101325.0,
        }
        for t, r in zip(data.index.tz_convert("UTC"), data.itertuples(), strict=True)
    ]
    doc = {
        "inputs": {
            "location": {"latitude": 50.43, "longitude": 2.83, "elevation": 40.0},
            "meteo_data": {},
        },
        "outputs": {"months_selected": [], "tmy_hourly": hourly},
        "meta": {"inputs": {}},
    }
    path = tmp_path / "tmy_50.430_2.830.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    pvgis = read_weather(path)
    assert pvgis.source == "PVGIS TMY" and pvgis.latitude == 50.43
    assert pvgis.describe()["ghi_kwh_m2"] == pytest.approx(1113.5, abs=0.5)


def test_params_are_validated():
    from layers.solar.errors import SolarError

    with pytest.raises(SolarError):
        SolarParams(albedo=2.0)
    with pytest.raises(SolarError):
        SolarParams(n_sectors=2)


def test_distributed_scheduler_gives_the_same_result(tmp_path, weather):
    from dask.distributed import LocalCluster

    dsm = raster(scene(160))
    path = tmp_path / "dsm.tif"
    write_cog(path, dsm, {}, "test")
    params = SolarParams(max_distance=30.0, block_size=64, n_sectors=16)
    local = compute_raster(dsm, weather, params).irradiation
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        distributed = SolarParams(
            max_distance=30.0, block_size=64, n_sectors=16, scheduler=cluster.scheduler_address
        )
        report = compute(path, EPW, tmp_path / "out", distributed, progress=False)
    assert report.parameters["scheduler"] == cluster.scheduler_address
    out = read_raster(tmp_path / "out" / "irradiation.tif").array
    finite = np.isfinite(local)
    assert np.nanmax(np.abs(out[finite] / local[finite] - 1)) < 0.005


def _bad_inputs(tmp_path):
    good = tmp_path / "bon.tif"
    write_cog(good, raster(np.ones((64, 64)) * 30.0), {}, "x")
    data = good.read_bytes()
    truncated = tmp_path / "tronque.tif"
    truncated.write_bytes(data[: len(data) // 2])
    empty = tmp_path / "vide.tif"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrompu.tif"
    corrupt.write_bytes(b"II*\x00" + b"\x07" * 5000)
    nodata = tmp_path / "nodata.tif"
    write_cog(nodata, raster(np.full((64, 64), np.nan)), {}, "x")
    return {"tronqué": truncated, "vide": empty, "corrompu": corrupt, "nodata": nodata}


@pytest.mark.parametrize("case", ["tronqué", "vide", "corrompu", "nodata"])
@pytest.mark.parametrize("role", ["--dsm", "--dtm"])
def test_cli_bad_rasters_one_french_line_nothing_written(tmp_path, capsys, case, role):
    """Issue 11: unreadable rasters ended in a traceback; a no-data DSM 'succeeded'."""
    bad = _bad_inputs(tmp_path)[case]
    good = tmp_path / "bon.tif"
    out = tmp_path / "sortie"
    out.mkdir()
    (out / "deja-la.txt").write_text("ancien", encoding="utf-8")
    dsm, dtm = (bad, good) if role == "--dsm" else (good, bad)
    argv = ["solar", "compute", "--dsm", str(dsm), "--dtm", str(dtm)]
    code = main([*argv, "--weather", str(EPW), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[0].startswith("Erreur : ") and ("MN" in err[0]) and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == ["deja-la.txt"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_failure_during_the_run_leaves_nothing(tmp_path, monkeypatch):
    """A failure after outputs started (here the roofs) leaves no partial output."""
    dsm = tmp_path / "bon.tif"
    write_cog(dsm, raster(np.ones((64, 64)) * 30.0), {}, "x")
    roofs = tmp_path / "toits.gpkg"
    roofs.write_bytes(b"pas un geopackage")
    out = tmp_path / "sortie"
    with pytest.raises(SolarError):
        compute(
            dsm,
            EPW,
            out,
            SolarParams(n_sectors=8, max_distance=20),
            roofs_path=roofs,
            rules=load_assumptions(ROOT / "geodata").roof_rules(),
        )
    assert not out.exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_sky_tables_are_cached_by_file_content(tmp_path):
    from layers.solar.sky import cached_sky_tables, read_weather, sky_tables, sun_and_sky

    epw = tmp_path / "meteo.epw"
    shutil.copy(EPW, epw)
    cache = tmp_path / "cache"
    first, described = cached_sky_tables(epw, "perez", 12, 0.2, cache)
    fresh = sky_tables(sun_and_sky(read_weather(epw), "perez"), 12, 0.2)
    assert np.array_equal(first.beam, fresh.beam) and first.iso == fresh.iso
    assert described["hours"] == 8760 and len(list((cache / "sky").glob("*.npz"))) == 1
    again, described_again = cached_sky_tables(epw, "perez", 12, 0.2, cache)
    assert np.array_equal(again.beam, first.beam) and described_again == described
    # other parameters or another file content: other tables
    cached_sky_tables(epw, "isotropic", 12, 0.2, cache)
    text = epw.read_text(encoding="latin-1").splitlines()
    fields = text[8].split(",")
    fields[13] = str(float(fields[13]) + 100.0)  # one more hour of sun in the GHI column
    text[8] = ",".join(fields)
    epw.write_text("\n".join(text) + "\n", encoding="latin-1")
    cached_sky_tables(epw, "perez", 12, 0.2, cache)
    assert len(list((cache / "sky").glob("*.npz"))) == 3
    # a damaged cache file is recomputed, not trusted
    for f in (cache / "sky").glob("*.npz"):
        f.write_bytes(b"not a zip")
    damaged, _ = cached_sky_tables(epw, "perez", 12, 0.2, cache)
    assert damaged.beam.shape == first.beam.shape and np.isfinite(damaged.beam).all()


@pytest.mark.parametrize(
    "path",
    [
        "geodata/BEL_VLG_Uccle.064470_TMYx.2007-2021.epw",
        "tests/data/real/weather/pvgis-sarah2_tmy_50.811_3.310_2005-2020_data.csv",
    ],
)
def test_the_climate_line_gives_one_range_of_years(path):
    """Issue 30: the climate line read « 2005–2020 » and « 2007–2019 » (the file's period
    and the years its months came from); one range now, the one the source states."""
    import re

    from layers.cadastre import describe_climate
    from layers.solar.sky import read_weather
    from layers.solar.store import manifest_climate
    from tests.helpers import ROOT

    weather = read_weather(ROOT / path)
    stated = re.search(r"(\d{4})-(\d{4})", path.rsplit("/", 1)[1])
    assert weather.describe()["period"] == f"{stated[1]}–{stated[2]}"
    line = describe_climate(manifest_climate(weather.describe()))
    assert re.findall(r"\d{4}[–-]\d{4}", line) == [f"{stated[1]}–{stated[2]}"], line
