"""The app's own routes (map tiles, downloads built when asked), through HTTP."""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from layers.routes import routes
from layers.solar.store import StoreLayout
from layers.web_tiles import lonlat_to_tile


@pytest.fixture
def client(monkeypatch, demo_store):
    monkeypatch.setenv("ATLAS_CADASTRE", str(demo_store))
    return TestClient(Starlette(routes=routes()))


@pytest.fixture(scope="module")
def roofs(demo_store):
    return pyogrio.read_dataframe(StoreLayout(demo_store).gpkg, layer="toits")


def test_tile_of_a_roof_is_a_coloured_png_cached_by_version(client, roofs):
    pt = gpd.GeoSeries([roofs.geometry.iloc[0].representative_point()], crs=2154)
    lonlat = pt.to_crs(4326).iloc[0]
    x, y = lonlat_to_tile(lonlat.x, lonlat.y, 17)
    resp = client.get(f"/api/tuiles/solaire/17/{x}/{y}.png")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    img = np.asarray(Image.open(io.BytesIO(resp.content)))
    assert img.shape == (256, 256, 4)
    # the roofs are coloured, the ground is not (issue 20/21: residents look for roofs)
    assert 0.02 < (img[..., 3] > 0).mean() < 0.6
    import math

    n = 2**17
    xf = (lonlat.x + 180) / 360 * n
    yf = (1 - math.asinh(math.tan(math.radians(lonlat.y))) / math.pi) / 2 * n
    px, py = int((xf - x) * 256), int((yf - y) * 256)
    assert img[py, px, 3] > 0  # the roof's own point is drawn
    etag = resp.headers["etag"]
    again = client.get(f"/api/tuiles/solaire/17/{x}/{y}.png", headers={"If-None-Match": etag})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["/api/tuiles/solaire/17/0/0.png", "/api/tuiles/solaire/21/1/1.png"]
)
def test_tile_with_nothing_there_is_transparent(client, path):
    resp = client.get(path)
    assert resp.status_code == 200
    assert np.asarray(Image.open(io.BytesIO(resp.content)))[..., 3].max() == 0


def test_roofs_download_built_when_asked(client, roofs, tmp_path):
    insee = roofs["insee"].value_counts().index[0]
    resp = client.get(f"/api/telechargements/toits.csv?insee={insee}")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["content-disposition"]
    lines = resp.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) - 1 == (roofs["insee"] == insee).sum()
    assert lines[0].startswith("Toit (cleabs BD TOPO);")
    gpkg = client.get(f"/api/telechargements/toits.gpkg?insee={insee}")
    assert gpkg.status_code == 200
    (tmp_path / "toits.gpkg").write_bytes(gpkg.content)
    back = pyogrio.read_dataframe(tmp_path / "toits.gpkg")
    assert len(back) == (roofs["insee"] == insee).sum()


@pytest.mark.parametrize(
    "query", ["", "?insee=%27%3B%20DROP%20TABLE%20toits"], ids=["sans-commune", "hostile"]
)
def test_roofs_download_refuses_or_empties_bad_requests(client, query):
    resp = client.get(f"/api/telechargements/toits.csv{query}")
    if not query:
        assert resp.status_code == 400
    else:  # a hostile code never reaches SQL: an empty table
        assert resp.status_code == 200
        assert len(resp.content.decode("utf-8-sig").strip().splitlines()) == 1
    assert client.get("/api/telechargements/toits.exe?insee=62528").status_code == 400


def test_missing_store_is_said_in_french(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_CADASTRE", str(tmp_path))
    client = TestClient(Starlette(routes=routes()))
    resp = client.get("/api/telechargements/toits.csv?insee=62528")
    assert resp.status_code == 503 and "indisponible" in resp.text
    assert client.get("/api/tuiles/solaire/17/66000/43000.png").status_code == 200


# --- issue 21: routes as a browser and a proxy see them ------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/tuiles/solaire/-1/0/0.png",
        "/api/tuiles/solaire/a/b/c.png",
        "/api/tuiles/solaire/17/1/1.jpg",
        "/api/tuiles/solaire/17/1/1",
        "/api/tuiles/solaire/../../etc/passwd",
        "/api/tuiles/solaire/3/9/9.png",  # x, y beyond the zoom's grid
        "/api/rien",
    ],
)
def test_what_is_not_a_tile_is_a_404(client, path):
    resp = client.get(path)
    assert resp.status_code == 404 and "<html" not in resp.text.lower()


def test_if_none_match_is_read_as_the_rfc_says(client, roofs):
    from layers.routes import etag_matches

    assert etag_matches('W/"a-1"', '"a-1"') and etag_matches('"x", "a-1"', '"a-1"')
    assert etag_matches("*", '"a-1"') and not etag_matches('"b"', '"a-1"')
    pt = gpd.GeoSeries([roofs.geometry.iloc[0].representative_point()], crs=2154)
    lonlat = pt.to_crs(4326).iloc[0]
    x, y = lonlat_to_tile(lonlat.x, lonlat.y, 17)
    url = f"/api/tuiles/solaire/17/{x}/{y}.png"
    etag = client.get(url).headers["etag"]
    for header in (f"W/{etag}", f'"autre", {etag}', "*"):
        assert client.get(url, headers={"If-None-Match": header}).status_code == 304


def test_tiles_are_cached_for_good_only_under_their_versioned_url(client, roofs, demo_store):
    from layers.solar.store import version_of

    pt = gpd.GeoSeries([roofs.geometry.iloc[0].representative_point()], crs=2154)
    lonlat = pt.to_crs(4326).iloc[0]
    x, y = lonlat_to_tile(lonlat.x, lonlat.y, 17)
    url = f"/api/tuiles/solaire/17/{x}/{y}.png"
    assert client.get(url).headers["cache-control"] == "no-cache"
    assert client.get(url + "?v=ancienne").headers["cache-control"] == "no-cache"
    versioned = client.get(f"{url}?v={version_of(demo_store)}")
    assert "immutable" in versioned.headers["cache-control"]


def test_blank_tiles_of_a_missing_store_are_not_cached(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_CADASTRE", str(tmp_path / "absent"))
    resp = TestClient(Starlette(routes=routes())).get("/api/tuiles/solaire/17/1/1.png?v=absent")
    assert resp.status_code == 200 and resp.headers["cache-control"] == "no-cache"


def test_security_headers_on_every_response(client):
    from starlette.middleware import Middleware

    from layers.routes import SecurityHeaders

    app = Starlette(routes=routes(), middleware=[Middleware(SecurityHeaders)])
    for path in ("/api/tuiles/solaire/17/0/0.png", "/api/rien"):
        resp = TestClient(app).get(path)
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in resp.headers["content-security-policy"]
        assert resp.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_the_map_asks_versioned_tiles(demo_store):
    from layers.assumptions import load_assumptions
    from layers.cadastre import open_cadastre
    from layers.cadastre_colours import map_classes
    from layers.cadastre_map import cadastre_map
    from layers.mapping import map_payload
    from layers.settings import Settings
    from layers.solar.store import version_of

    cad = open_cadastre(demo_store)
    fmap = cadastre_map(cad, Settings(), map_classes(load_assumptions(demo_store.parent)))
    assert f".png?v={version_of(demo_store)}" in map_payload(fmap)


# --- issue 21: large files under load ------------------------------------------------------


class Tracker:
    """A slow stand-in build that counts its calls and how many run at once."""

    def __init__(self, seconds: float) -> None:
        import threading

        self.seconds, self.calls, self.running, self.most = seconds, 0, 0, 0
        self._lock = threading.Lock()

    def __call__(self, *args) -> tuple[bytes, str]:
        import time

        with self._lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self._lock:
            self.running -= 1
        return b"id;valeur\n1;2\n", "text/csv; charset=utf-8"


def get_all(client, urls: list[str]):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(urls)) as pool:
        return list(pool.map(client.get, urls))


@pytest.fixture
def slow_roofs(monkeypatch):
    import layers.routes as routes_module
    from layers.memo import Memo

    tracker = Tracker(0.4)
    monkeypatch.setattr(routes_module, "roofs_file", tracker)
    monkeypatch.setattr(routes_module, "ROOF_FILES", Memo(4))
    return tracker


def test_identical_large_downloads_are_built_once(client, slow_roofs):
    """16 people asking the whole territory at once: one build, 16 answers (was 16 builds)."""
    answers = get_all(client, ["/api/telechargements/toits.gpkg?insee=62001&insee=62002"] * 16)
    assert [a.status_code for a in answers] == [200] * 16
    assert slow_roofs.calls == 1
    assert len({a.content for a in answers}) == 1


def test_different_large_downloads_take_turns(client, slow_roofs):
    from layers.routes import BUILDS_AT_ONCE

    urls = [f"/api/telechargements/toits.gpkg?insee=620{i:02d}" for i in range(6)]
    answers = get_all(client, urls)
    assert [a.status_code for a in answers] == [200] * 6
    assert slow_roofs.calls == 6
    assert slow_roofs.most <= BUILDS_AT_ONCE < 6


def test_a_request_that_waits_too_long_is_told_to_retry(client, slow_roofs, monkeypatch):
    import layers.routes as routes_module

    monkeypatch.setattr(routes_module, "BUILD_WAIT_S", 0.05)
    urls = [f"/api/telechargements/toits.csv?insee=621{i:02d}" for i in range(5)]
    answers = get_all(client, urls)
    busy = [a for a in answers if a.status_code == 503]
    assert busy and all(a.headers["retry-after"] == "60" for a in busy)
    assert "réessayez" in busy[0].text
    assert sum(a.status_code == 200 for a in answers) >= 1


def test_page_files_share_the_build_slots(client):
    """Files the pages register (CSV, GeoPackage, PDF) queue for the same slots."""
    from layers.downloads import DOWNLOADS
    from layers.routes import BUILDS_AT_ONCE

    tracker = Tracker(0.4)
    tokens = [
        DOWNLOADS.register(("essai-file", i), f"f{i}.csv", "text/csv", lambda: tracker()[0])
        for i in range(5)
    ]
    answers = get_all(client, [f"/api/fichiers/{t}/f.csv" for t in tokens] * 2)
    assert [a.status_code for a in answers] == [200] * 10
    assert tracker.calls == 5  # one build per file, whoever asked first
    assert tracker.most <= BUILDS_AT_ONCE


@pytest.mark.parametrize(
    ("raised", "status", "words"),
    [
        ("atlas", 503, "indisponible"),
        ("solar", 503, "indisponible"),
        ("bug", 500, "réessayez plus tard"),
    ],
)
def test_a_failed_file_is_answered_from_one_table(client, raised, status, words):
    """Issue 19: one exception → HTTP status table (routes.ERROR_ANSWERS) for every file."""
    from layers.downloads import DOWNLOADS
    from layers.errors import AtlasError
    from layers.solar.errors import SolarError

    errors = {"atlas": AtlasError("x"), "solar": SolarError("y"), "bug": RuntimeError("z")}

    def build() -> bytes:
        raise errors[raised]

    token = DOWNLOADS.register(("échec", raised), "f.csv", "text/csv", build)
    resp = client.get(f"/api/fichiers/{token}/f.csv")
    assert resp.status_code == status and words in resp.text
    assert "Traceback" not in resp.text and "x" != resp.text


def test_a_roof_its_faces_and_modules_as_geojson(client, demo_store):
    """Issue 27: GET /api/toits/{cleabs}.geojson — RFC 7946 (WGS84, no crs member), the
    roof, its faces and its modules, cached by store version (ETag), 404 when unknown."""
    faces = pyogrio.read_dataframe(StoreLayout(demo_store).gpkg, layer="pans")
    cleabs = faces.loc[faces["panneaux"] > 0, "cleabs"].iloc[0]
    resp = client.get(f"/api/toits/{cleabs}.geojson")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/geo+json")
    doc = resp.json()
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    kinds = [f["properties"]["objet"] for f in doc["features"]]
    mine = faces[faces["cleabs"] == cleabs]
    assert kinds.count("toit") == 1 and kinds.count("pan") == len(mine)
    assert kinds.count("panneau") == int(mine["panneaux"].sum())
    assert all(f["properties"]["cleabs"] == cleabs for f in doc["features"])
    first = doc["features"][0]["geometry"]["coordinates"]
    while isinstance(first[0], list):  # a polygon or a multipolygon: its first vertex
        first = first[0]
    lon, lat = first[:2]
    assert 2.5 < lon < 3.2 and 50.2 < lat < 50.7  # degrees, lon first: WGS84 as RFC 7946
    etag = resp.headers["etag"]
    again = client.get(f"/api/toits/{cleabs}.geojson", headers={"If-None-Match": etag})
    assert again.status_code == 304
    for unknown in ("BATIMENT9999999999999999", "x' OR '1'='1", "a" * 80):
        assert client.get(f"/api/toits/{unknown}.geojson").status_code == 404
