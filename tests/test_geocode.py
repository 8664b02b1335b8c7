"""Geocoding: BAN up (recorded answers from a local server), BAN down, outside the PMA, garbage."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

from layers.geocode import (
    Address,
    GeocodeError,
    GeocoderUnavailable,
    ban_search,
    clean_query,
    in_pma,
    local_search,
    read_ban_csv,
    search,
)
from tests.ban import recorded_ban
from tests.browser.harness import free_port


@pytest.fixture(scope="module")
def ban_url():
    with recorded_ban() as url:
        yield url


@pytest.fixture
def local_file(tmp_path):
    rows = [
        {
            "id": "62528_x_00001",
            "numero": "3",
            "rep": "",
            "nom_voie": "rue des Corons Fictifs",
            "code_postal": "62750",
            "code_insee": "62528",
            "nom_commune": "Loos-en-Gohelle",
            "lon": "2.80",
            "lat": "50.45",
            "synthetique": "oui",
        },
        {
            "id": "62528_x_00002",
            "numero": "5",
            "rep": "",
            "nom_voie": "rue des Corons Fictifs",
            "code_postal": "62750",
            "code_insee": "62528",
            "nom_commune": "Loos-en-Gohelle",
            "lon": "2.8001",
            "lat": "50.4501",
            "synthetique": "oui",
        },
    ]
    path = tmp_path / "adresses.csv"
    pd.DataFrame(rows).to_csv(path, sep=";", index=False)
    return read_ban_csv(path)


def test_ban_up(territory, ban_url):
    results, notice = search("Place Jean Jaurès Lens", territory, ban_url, None)
    assert notice is None
    assert results[0].label == "Place Jean Jaurès 62300 Lens"
    assert results[0].source.startswith("Base Adresse Nationale")
    assert in_pma(results[0], territory)


def test_outside_the_pma(territory, ban_url):
    results, _ = search("rue de Rivoli Paris", territory, ban_url, None)
    assert results and not in_pma(results[0], territory)


def test_ban_down_falls_back_offline(territory, local_file):
    dead = f"http://127.0.0.1:{free_port()}/search/"  # nobody listens there
    results, notice = search("5 rue des corons fictifs", territory, dead, local_file)
    assert "injoignable" in notice
    assert results[0].label.startswith("5 rue des Corons Fictifs")
    assert results[0].synthetic and results[0].source == "fichier d'adresses local"


def test_offline_commune_and_town_hall(territory):
    results = local_search("mairie Lens", None, territory)
    assert any("Lens" in r.label for r in results)
    assert local_search("zzzz qqqq", None, territory) == []


def test_house_numbers_must_match_or_say_they_are_the_nearest(territory, local_file):
    """Issue 21: « 4 rue … » where only 3 and 5 exist proposes 3 and 5, said so."""
    from layers.geocode import NEAREST_SOURCE

    results = local_search("4 rue des corons fictifs", local_file, territory)
    assert [r.label.split()[0] for r in results] == ["3", "5"]  # equally near: lower first
    assert all("pas de n° 4" in r.label and r.source == NEAREST_SOURCE for r in results)
    far = local_search("9 rue des corons fictifs", local_file, territory)
    assert far[0].label.startswith("5 ") and "pas de n° 9" in far[0].label
    # an existing number is found as itself, never relabelled
    exact = local_search("5 rue des corons fictifs", local_file, territory)
    assert exact[0].label == "5 rue des Corons Fictifs 62750 Loos-en-Gohelle"
    # another street's numbers are never proposed
    assert local_search("4 rue des mineurs fictifs", local_file, territory) == []


def test_mairie_de_lens_is_the_town_hall_of_lens_first(territory, local_file):
    """Issue 21: addresses merely holding « Lens » (route de Lens…) no longer rank first."""
    lens_streets = local_file.assign(
        label=["2 route de Lens 62750 Loos-en-Gohelle", "4 rue de Lens 62750 Loos-en-Gohelle"]
    )
    lens_streets["_tokens"] = lens_streets["label"].map(lambda t: t.lower().split())
    results = local_search("Mairie de Lens", lens_streets, territory)
    assert results[0].label.startswith("Mairie de Lens —")


@pytest.mark.parametrize("garbage", ["", "  ", "ab", "x" * 500, None])
def test_garbage_input(garbage):
    with pytest.raises(GeocodeError):
        clean_query(garbage)


def test_hostile_text_is_cleaned():
    assert clean_query("12\x00 rue\n<script>") == "12 rue <script>"


def test_bad_address_file(tmp_path):
    from layers.solar.errors import SolarError

    bad = tmp_path / "a.csv"
    bad.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(SolarError, match="colonnes BAN"):
        read_ban_csv(bad)


def test_address_dataclass_is_frozen():
    a = Address("x", 2.8, 50.4, "62498", "test")
    with pytest.raises(AttributeError):
        a.label = "y"  # type: ignore[misc]


class _Trickle(BaseHTTPRequestHandler):
    """A server that answers one byte at a time (or an endless answer)."""

    mode = "trickle"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            if self.mode == "trickle":
                for byte in b'{"features": []}':
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            else:
                self.wfile.write(b'{"features": [' + b" " * 5_000_000 + b"]}")
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["trickle", "huge"])
def test_slow_or_huge_answers_fall_back_offline(territory, mode):
    """Issue 11: 1 byte every 2 s blocked the page 150 s; now a total deadline (≤ 5 s)."""
    handler = type("H", (_Trickle,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/search/"
        start = time.monotonic()
        with pytest.raises(GeocoderUnavailable):
            ban_search("place jean jaurès lens", url)
        assert time.monotonic() - start < 6.5  # deadline 4 s + one read timeout (1 s)
        results, notice = search("mairie Lens", territory, url, None)
        assert "injoignable" in notice and results
    finally:
        server.shutdown()


def test_offline_street_address_is_not_a_town_hall_elsewhere(territory):
    """Issue 11: « 8 rue de Lens » proposed the town hall of Rombly (8 rue de l'Estrée…)."""
    results = local_search("8 rue de Lens", None, territory)
    assert all("Rombly" not in r.label for r in results)
    assert results and results[0].citycode == "62498" and "commune" in results[0].label
    assert local_search("mairie Lens", None, territory)[0].label.startswith("Mairie de Lens —")
