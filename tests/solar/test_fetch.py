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

from layers.solar.fetch import (
    WHAT,
    FetchOptions,
    FetchReport,
    FetchRequest,
    Services,
    fetch,
    tiles_for,
    wms_params,
)
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


def _run(fake, out, waits=None, what=WHAT, bdtopo_file=None, **kw) -> FetchReport:
    request = FetchRequest(AREA, (2.83, 50.43), ["62"], out, what, bdtopo_file)
    sleep = waits.append if waits is not None else (lambda s: None)
    return fetch(request, _services(fake), FetchOptions(progress=False, sleep=sleep, **kw))


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


def test_an_empty_answer_is_asked_again_in_the_run_then_by_the_next_run(fake, tmp_path):
    """Issue 28: one all-nodata answer was recorded « vide » and never asked again (exit 0):
    a tile was lost for good. It is asked once more at once; twice empty, it is reported, not
    saved, and the next run asks again — the service recovered, the tile comes."""
    fake.faults[NAME] = ["empty"]
    report = _run(fake, tmp_path, what=("lidar",))
    assert NAME in report.fetched and not report.empty
    assert fake.requested("wms").count(NAME) == 2
    other = "LHD_FXX_0684_7042_MNT_O_0M50_LAMB93_IGN69.tif"
    (tmp_path / "lidar" / other).unlink()
    fake.faults[other] = ["empty", "empty"]
    report = _run(fake, tmp_path, what=("lidar",))
    assert report.empty == [other] and not (tmp_path / "lidar" / other).exists()
    assert "redemandée au prochain lancement" in report.summary()
    again = _run(fake, tmp_path, what=("lidar",))
    assert again.fetched == [other] and not again.empty
    journal = json.loads((tmp_path / "fetch.json").read_text(encoding="utf-8"))
    assert other not in journal["vides"] and other in journal["fichiers"]


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
        "from layers.solar.fetch import FetchOptions, FetchRequest, Services, fetch;"
        f"u = {fake.url!r};"
        "s = Services(wms=u + '/wms-r', wfs=u + '/wfs/ows', ban=u + '/ban', pvgis=u + '/api',"
        " timeout=60, retries=0, backoff=0.01);"
        f"r = FetchRequest(box(684_200, 7_041_200, 684_800, 7_041_800), (2.83, 50.43), ['62'], "
        f"{str(tmp_path)!r}, ('lidar',));"
        "fetch(r, s, FetchOptions(workers=1, progress=False))"
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
    request = FetchRequest(AREA, (2.83, 50.43), ["62"], tmp_path, ("lidar",))
    options = FetchOptions(progress=False, sleep=lambda s: None)
    report = fetch(request, services, options)
    assert time.monotonic() - started < 60
    failed = dict(report.failed)
    assert "trop lente" in failed[NAME] and not (tmp_path / "lidar" / NAME).exists()
    assert len(report.fetched) == 17  # the others came
    again = fetch(request, services, options)
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


def _served_tile(fake: FakeServices, name: str) -> bytes:
    """The sound tile the fake serves under ``name``."""
    return fake._tiles[next(k for k in fake._tiles if k.startswith(f"{name}-False--"))]


def _buildings(out) -> pyogrio.read_dataframe:
    return pyogrio.read_dataframe(out / "batiment.gpkg", layer="batiment")


@pytest.fixture
def dense():
    """1 500 buildings in the tile of AREA alone: its box takes two WFS pages."""
    from layers.solar.grid import tile_bounds

    left, bottom, right, top = tile_bounds(KEY)
    features = buildings((left + 1, bottom + 1, right - 1, top - 1), 1500)
    with FakeServices(features) as server:
        yield server


@pytest.mark.parametrize("unknown", [False, True], ids=["numberMatched", "unknown"])
def test_a_wfs_that_ignores_startindex_fails_the_buildings_instead_of_looping(
    dense, tmp_path, unknown
):
    """Issue 28: a service that ignores STARTINDEX was asked again forever (numberMatched
    "unknown", 1 563 requests in 40 s), or gave the first page three times over and
    batiment.gpkg kept 1 000 of 1 500 buildings, exit 0. A page that brings no new cleabs
    stops the box: the service does not page, the buildings fail, nothing is saved."""
    dense.wfs_ignores_start = True
    dense.wfs_matched_unknown = unknown
    dense.wfs_limit = 40  # the old loop ended on a 400 here, not on its own
    report = _run(dense, tmp_path, what=("batiments",))
    assert "ne pagine pas" in dict(report.failed)["batiment.gpkg"]
    assert len(dense.requested("wfs")) <= 12  # two pages for the dense box, not forty
    assert not (tmp_path / "batiment.gpkg").exists()


def test_paged_boxes_bring_every_building_once(dense, tmp_path):
    """The dense box in two pages; the eight others hold no building: an empty answer
    cannot be told from a failure, so they are said and never cached."""
    report = _run(dense, tmp_path, what=("batiments",))
    assert report.fetched == ["batiment.gpkg"]
    frame = _buildings(tmp_path)
    assert len(frame) == 1500 and frame["cleabs"].is_unique
    assert [p.name for p in (tmp_path / ".bdtopo").glob("*.json")] == ["0684_7042.json"]
    assert "8 carré(s)" in report.notes[0]


def test_an_empty_wfs_answer_is_never_kept_and_the_next_run_asks_again(fake, tmp_path):
    """Issue 28: one empty answer was cached in .bdtopo/: batiment.gpkg lacked a box's
    buildings for good, exit 0, even after deleting it and rerunning. An empty answer is
    asked again at once; twice empty it is used for this run, never cached, said, and the
    next run asks that box (and only it) again."""
    fake.faults["wfs"] = ["emptywfs", "emptywfs"]
    report = _run(fake, tmp_path, what=("batiments",))
    assert report.fetched == ["batiment.gpkg"]
    assert len(_buildings(tmp_path)) < 2500
    assert any("redemandé" in note for note in report.notes)
    assert len(list((tmp_path / ".bdtopo").glob("*.json"))) == 8  # the 8 verified boxes
    asked = len(fake.requested("wfs"))
    again = _run(fake, tmp_path, what=("batiments",))
    assert again.fetched == ["batiment.gpkg"] and not again.notes
    assert len(fake.requested("wfs")) == asked + 1  # the one box, one page
    frame = _buildings(tmp_path)
    assert len(frame) == 2500 and frame["cleabs"].is_unique
    assert len(_run(fake, tmp_path, what=("batiments",)).present) == 1  # and then it is done


def test_malformed_wfs_features_fail_the_buildings_with_the_reason(fake, tmp_path):
    fake.faults["wfs"] = ["malformed"] * 20
    report = _run(fake, tmp_path, what=("batiments",))
    assert "mal formée" in dict(report.failed)["batiment.gpkg"]


def test_wfs_points_are_left_out_and_counted(tmp_path):
    features = buildings((683_000, 7_040_000, 686_000, 7_043_000), 90)
    for i in range(3):
        x, y = 684_500.0 + i, 7_041_500.0
        point = {"type": "Point", "coordinates": [x, y]}
        features.append({"type": "Feature", "geometry": point,
                         "properties": {"cleabs": f"BATIMENT9{i:015d}"}})  # fmt: skip
    with FakeServices(features) as server:
        report = _run(server, tmp_path, what=("batiments",))
    frame = _buildings(tmp_path)
    assert len(frame) == 90 and set(frame.geom_type) == {"Polygon"}
    assert any("3 entité(s)" in note and "polygones" in note for note in report.notes)


@pytest.mark.parametrize("fault", ["inf", "huge"])
def test_a_tile_that_build_would_refuse_is_never_saved(fake, tmp_path, fault):
    """Issue 28: fetch accepted tiles build refuses (inf, heights of 1e7 m): the data are
    checked with build's own rules (inputs.height_problem), retried, then the file fails."""
    fake.faults[NAME] = [fault] * 10
    report = _run(fake, tmp_path, what=("lidar",))
    assert "hauteurs refusées" in dict(report.failed)[NAME]
    assert not (tmp_path / "lidar" / NAME).exists() and len(report.fetched) == 17


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_a_damaged_file_on_disk_is_fetched_again(fake, tmp_path, damage):
    """Issue 28: a rerun checked headers only and counted a damaged tile « déjà là ». The
    journal's size, time and SHA-256 find it; it is fetched again, byte-equal."""
    assert not _run(fake, tmp_path, what=("lidar",)).failed
    path = tmp_path / "lidar" / NAME
    body = bytearray(path.read_bytes())
    if damage == "flipped":
        body[len(body) // 2 : len(body) // 2 + 64] = bytes(64)
    else:
        body = body[: len(body) - 1000]
    path.write_bytes(bytes(body))
    report = _run(fake, tmp_path, what=("lidar",))
    assert path.read_bytes() == _served_tile(fake, NAME)
    assert report.damaged == [NAME] and report.fetched == [NAME] and len(report.present) == 17


def test_an_untouched_file_is_not_hashed_again(fake, tmp_path, monkeypatch):
    """The journal's size and time are enough for files nobody touched (as build trusts)."""
    assert not _run(fake, tmp_path, what=("lidar",)).failed
    import layers.solar.fetch as module

    hashed = []
    monkeypatch.setattr(module, "sha256_file", lambda p: hashed.append(p) or "x")
    assert len(_run(fake, tmp_path, what=("lidar",)).present) == 18 and not hashed


def test_two_fetches_into_one_folder_do_not_run_at_once(fake, tmp_path):
    """Issue 28: two fetches shared temporary names, both failed and fetch.json lost
    entries. The second is refused at once, saying who holds the folder."""
    from layers.solar.errors import SolarError
    from layers.solar.locks import hold

    with hold(tmp_path / ".verrou-fetch", lambda who: who):
        with pytest.raises(SolarError, match="Un autre téléchargement"):
            _run(fake, tmp_path, what=("lidar",))
    assert not fake.log
    assert not _run(fake, tmp_path, what=("climat",)).failed  # released: the next one runs


def test_a_service_that_misbehaves_then_recovers(fake, tmp_path):
    """Issue 28, done when: a fetch against a service that misbehaves ends by itself and
    says what failed; the same command run again completes everything, byte-equal to what
    the service serves."""
    trickled = "LHD_FXX_0683_7041_MNS_O_0M50_LAMB93_IGN69.tif"
    emptied = "LHD_FXX_0685_7043_MNT_O_0M50_LAMB93_IGN69.tif"
    fake.faults.update(
        {
            NAME: ["bomb"],  # too big: failed at once, not retried
            trickled: ["trickle"] * 2,
            emptied: ["empty"] * 2,
            "wfs": ["emptywfs"] * 2,
            "ban": ["truncated_gzip"] * 2,
            "pvgis": ["html200"] * 2,
        }
    )
    services = replace(_services(fake), timeout=2, min_rate=1e8, retries=1)
    request = FetchRequest(AREA, (2.83, 50.43), ["62"], tmp_path)
    options = FetchOptions(progress=False, sleep=lambda s: None)
    first = fetch(request, services, options)
    failed = dict(first.failed)
    assert set(failed) == {NAME, trickled, "adresses-62.csv.gz"} | {
        n for n in failed if n.startswith("climat/")
    }
    assert first.empty == [emptied] and first.notes
    summary = first.summary()
    assert "Relancez la même commande" in summary and NAME in summary
    second = fetch(request, services, options)
    assert not second.failed and not second.empty and not second.notes
    for path in (tmp_path / "lidar").glob("LHD_*.tif"):
        assert path.read_bytes() == _served_tile(fake, path.name)
    assert len(list((tmp_path / "lidar").glob("LHD_*.tif"))) == 18
    frame = _buildings(tmp_path)
    assert len(frame) == 2500 and frame["cleabs"].is_unique
    import gzip

    with gzip.open(tmp_path / "adresses-62.csv.gz", "rt", encoding="utf-8") as fh:
        assert "Rue de la Gare" in fh.read()
    assert len(list((tmp_path / "climat").glob("pvgis-tmy_*.json"))) == 1


def test_requests_default_to_the_cores_within_what_the_service_bears(fake, tmp_path):
    from layers.solar.fetch import default_requests

    assert [default_requests(c) for c in (1, 2, 6, 32)] == [4, 4, 6, 8]
    report = _run(fake, tmp_path, what=("climat",))
    assert report.workers == default_requests() and "requête(s) simultanée(s)" in report.summary()
