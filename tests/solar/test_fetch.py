"""Issue 18 §1: ``solar fetch`` against a local fake of the services, faults injected."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pyogrio
import pytest
import rasterio
from shapely.geometry import box

from layers.solar.fetch import FetchReport, Services, fetch, tiles_for, wms_params
from tests.fakes.geoplateforme import FakeServices, buildings
from tests.helpers import ROOT

# one 600 m square inside tile 0684_7042: the tile and its ring, 9 tiles × MNS + MNT
AREA = box(684_200, 7_041_200, 684_800, 7_041_800)
KEY = (684, 7042)
NAME = "LHD_FXX_0684_7042_MNS_O_0M50_LAMB93_IGN69.tif"


def _services(fake: FakeServices) -> Services:
    return Services(
        wms=f"{fake.url}/wms-r",
        wfs=f"{fake.url}/wfs/ows",
        ban=f"{fake.url}/ban",
        pvgis=f"{fake.url}/api",
        timeout=10,
        retries=3,
        backoff=0.01,
    )


def _run(fake, out, waits=None, **kw) -> FetchReport:
    return fetch(
        AREA,
        (2.83, 50.43),
        ["62"],
        out,
        _services(fake),
        progress=False,
        sleep=(waits.append if waits is not None else (lambda s: None)),
        **kw,
    )


@pytest.fixture
def fake():
    features = buildings((683_000, 7_040_000, 686_000, 7_043_000), 2500)
    with FakeServices(features) as server:
        yield server


def test_the_wms_request_is_igns_own_download_link():
    params = wms_params((937, 6225), "MNS")
    # as in the url of IGN's IGNF_MNS-LIDAR-HD:dalle features (see README)
    assert params["BBOX"] == "936999.75,6224000.25,937999.75,6225000.25"
    assert params["LAYERS"] == "IGNF_LIDAR-HD_MNS_ELEVATION.ELEVATIONGRIDCOVERAGE.LAMB93"
    assert params["FILENAME"] == "LHD_FXX_0937_6225_MNS_O_0M50_LAMB93_IGN69.tif"
    assert (params["WIDTH"], params["HEIGHT"], params["CRS"]) == ("2000", "2000", "EPSG:2154")
    assert len(tiles_for(AREA)) == 9 and KEY in tiles_for(AREA)


def test_fetch_everything_then_a_rerun_asks_nothing(fake, tmp_path):
    report = _run(fake, tmp_path)
    assert not report.failed, report.failed
    assert len(report.fetched) == 18 + 3  # 18 tiles, buildings, BAN, climate
    tiles = sorted((tmp_path / "lidar").glob("*.tif"))
    assert len(tiles) == 18 and not list(tmp_path.rglob("*.part"))
    with rasterio.open(tmp_path / "lidar" / NAME) as src:
        assert (src.width, src.height, src.crs.to_epsg()) == (2000, 2000, 2154)
        assert tuple(src.bounds) == (683_999.75, 7_041_000.25, 684_999.75, 7_042_000.25)
    journal = json.loads((tmp_path / "fetch.json").read_text(encoding="utf-8"))
    entry = journal["fichiers"][NAME]
    assert entry["sha256"] == hashlib.sha256((tmp_path / "lidar" / NAME).read_bytes()).hexdigest()
    assert "FILENAME=" + NAME in entry["source"]
    frame = pyogrio.read_dataframe(tmp_path / "batiment.gpkg", layer="batiment")
    assert frame["cleabs"].is_unique and len(frame) == 2500  # 3 pages per box, no duplicate
    assert (tmp_path / "adresses-62.csv.gz").is_file()
    climate = list((tmp_path / "climat").glob("pvgis-tmy_*.json"))
    from layers.solar.sky import read_weather

    assert read_weather(climate[0]).describe()["ghi_kwh_m2"] == pytest.approx(1099.7, abs=0.2)
    asked = len(fake.log)
    again = _run(fake, tmp_path)
    assert len(fake.log) == asked  # nothing asked again
    assert len(again.present) == 21 and not again.fetched


def test_429_then_success_honours_retry_after(fake, tmp_path):
    fake.faults[NAME] = ["429"]
    waits: list[float] = []
    report = _run(fake, tmp_path, waits=waits, what=("lidar",))
    assert NAME in report.fetched and not report.failed
    assert fake.requested("wms").count(NAME) == 2
    assert max(waits) >= 2.0  # the server's Retry-After: 2


@pytest.mark.parametrize("fault", ["503", "cut", "exception200", "html200"])
def test_transient_faults_are_retried_and_never_saved(fake, tmp_path, fault):
    fake.faults[NAME] = [fault, fault]
    report = _run(fake, tmp_path, what=("lidar",))
    assert NAME in report.fetched and not report.failed
    assert fake.requested("wms").count(NAME) == 3
    with rasterio.open(tmp_path / "lidar" / NAME) as src:
        assert src.read(1).shape == (2000, 2000)


def test_a_persistent_fault_is_reported_and_leaves_no_file(fake, tmp_path):
    fake.faults[NAME] = ["exception200"] * 10
    report = _run(fake, tmp_path, what=("lidar",))
    assert [name for name, _ in report.failed] == [NAME]
    assert "exception WMS" in report.failed[0][1]
    assert not (tmp_path / "lidar" / NAME).exists()
    assert not list(tmp_path.rglob("*.part")) and not list(tmp_path.rglob(".*.tif*"))
    assert "échec " + NAME in report.summary()


def test_a_tile_with_the_wrong_bounds_is_never_saved(fake, tmp_path):
    fake.faults[NAME] = ["wrongbbox"] * 10
    report = _run(fake, tmp_path, what=("lidar",))
    assert report.failed and "emprise" in report.failed[0][1]
    assert not (tmp_path / "lidar" / NAME).exists()


def test_a_tile_without_lidar_is_recorded_and_not_asked_again(fake, tmp_path):
    fake.faults[NAME] = ["empty"]
    report = _run(fake, tmp_path, what=("lidar",))
    assert report.empty == [NAME] and not (tmp_path / "lidar" / NAME).exists()
    asked = len(fake.log)
    assert _run(fake, tmp_path, what=("lidar",)).empty == [NAME]
    assert len(fake.log) == asked


def test_dry_run_lists_and_estimates_without_asking(fake, tmp_path):
    report = _run(fake, tmp_path, dry_run=True)
    assert not fake.log and not (tmp_path / "lidar").exists()
    assert len([n for n in report.planned if n.startswith("LHD_")]) == 18
    assert report.download_mb > 18 * 5


def test_killed_mid_download_then_rerun_completes_without_asking_twice(fake, tmp_path):
    stalled = "LHD_FXX_0685_7043_MNT_O_0M50_LAMB93_IGN69.tif"
    fake.faults[stalled] = ["stall"]
    script = (
        "import sys; from shapely.geometry import box;"
        "from layers.solar.fetch import Services, fetch;"
        f"u = {fake.url!r};"
        "s = Services(wms=u + '/wms-r', wfs=u + '/wfs/ows', ban=u + '/ban', pvgis=u + '/api',"
        " timeout=60, retries=0, backoff=0.01);"
        f"fetch(box(684_200, 7_041_200, 684_800, 7_041_800), (2.83, 50.43), ['62'], "
        f"{str(tmp_path)!r}, s, what=('lidar',), workers=1, progress=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        assert fake.stalled.wait(120), "the stalled tile was never asked"
        time.sleep(0.3)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = {p.name for p in (tmp_path / "lidar").glob("LHD_*.tif")}
    assert stalled not in done_before and done_before  # the cut file is not there
    for path in (tmp_path / "lidar").glob("LHD_*.tif"):
        with rasterio.open(path) as src:  # every file there is whole
            assert src.read(1).shape == (2000, 2000)
    before = list(fake.log)
    report = _run(fake, tmp_path, what=("lidar",))
    assert not report.failed and stalled in report.fetched
    again = [name for s, name in fake.log[len(before) :] if s == "wms"]
    assert not set(again) & done_before  # what was complete was not asked again
    assert len(list((tmp_path / "lidar").glob("LHD_*.tif"))) == 18


# issue 28: services that misbehave — a fetch ends by itself and says why


def test_a_trickling_server_is_cut_at_the_files_deadline_then_the_file_retried(fake, tmp_path):
    """One byte every 0.1 s never trips a per-read time-out: the file's deadline does."""
    fake.faults[NAME] = ["trickle", "trickle"]
    services = replace(_services(fake), timeout=2, min_rate=1e8, retries=1)
    started = time.monotonic()
    report = fetch(AREA, (2.83, 50.43), ["62"], tmp_path, services, what=("lidar",),
                   progress=False, sleep=lambda s: None)  # fmt: skip
    assert time.monotonic() - started < 60
    failed = dict(report.failed)
    assert "trop lente" in failed[NAME] and not (tmp_path / "lidar" / NAME).exists()
    assert len(report.fetched) == 17  # the others came
    again = fetch(AREA, (2.83, 50.43), ["62"], tmp_path, services, what=("lidar",),
                  progress=False, sleep=lambda s: None)  # fmt: skip
    assert again.fetched == [NAME] and not again.failed  # the service recovered: complete
    served = fake._tiles[next(k for k in fake._tiles if k.startswith(f"{NAME}-False"))]
    assert (tmp_path / "lidar" / NAME).read_bytes() == served


@pytest.mark.parametrize("fault", ["bomb", "endless"])
def test_a_body_past_its_size_is_cut_and_refused(fake, tmp_path, fault):
    """A 60 MB gzip bomb, a body without length that never ends: cut at the cap, the file
    fails with the reason, nothing large is left on disk, the rest goes on."""
    fake.faults[NAME] = [fault] * 10
    report = _run(fake, tmp_path, what=("lidar",))
    assert "plus grosse que prévu" in dict(report.failed)[NAME]
    assert len(report.fetched) == 17
    left = sum(p.stat().st_size for p in (tmp_path / "lidar").iterdir() if NAME in p.name)
    assert left == 0


@pytest.mark.parametrize(
    ("fault", "said"),
    [("redirect_file", "pas web"), ("redirect_loop", "redirections en boucle")],
)
def test_an_odd_answer_fails_its_file_with_the_real_reason(fake, tmp_path, fault, said):
    fake.faults[NAME] = [fault] * 20
    report = _run(fake, tmp_path, what=("lidar",))
    reason = dict(report.failed)[NAME]
    assert said in reason and "Disque" not in reason
    assert len(report.fetched) == 17


def test_a_truncated_address_archive_is_never_saved(fake, tmp_path):
    fake.faults["ban"] = ["truncated_gzip"] * 10
    report = _run(fake, tmp_path, what=("adresses",))
    assert "tronqué" in dict(report.failed)["adresses-62.csv.gz"]
    assert not (tmp_path / "adresses-62.csv.gz").exists()


def test_build_says_which_address_file_is_broken(tmp_path):
    import gzip

    from layers.solar.ban import read_ban
    from layers.solar.errors import SolarError

    whole = gzip.compress(("numero;nom_voie;lon;lat\n" + "1;Rue;2.8;50.4\n" * 5000).encode())
    broken = tmp_path / "adresses-62.csv.gz"
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SolarError) as err:
        read_ban(broken, ["numero"])
    assert "adresses-62.csv.gz" in str(err.value) and "tronquée" in str(err.value)
