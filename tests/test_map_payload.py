"""Maps are rendered once and sent as st_folium would send them."""

from __future__ import annotations

import uuid
from unittest import mock

import pytest

from layers.mapping import territory_map
from layers.settings import Settings
from layers.territory import Selection, selected_communes
from pages.ui.maps import component_payload


def _deterministic_ids():
    counter = iter(range(10**6))
    return mock.patch("uuid.uuid4", lambda: uuid.UUID(int=next(counter)))


def test_payload_is_what_st_folium_sends(territory):
    from pages.ui import widgets

    settings = Settings.from_env({})
    communes = selected_communes(territory, Selection(("CALL",)))
    sent = []
    with mock.patch("streamlit_folium._component_func", lambda **kw: sent.append(kw)):
        with _deterministic_ids():
            from streamlit_folium import st_folium

            st_folium(
                territory_map(communes, territory, settings),
                key="k",
                height=300,
                use_container_width=True,
                returned_objects=["last_object_clicked"],
            )
        with _deterministic_ids():
            payload = component_payload(territory_map(communes, territory, settings))
            widgets._send_map(payload, "k", 300, ["last_object_clicked"])
    theirs, ours = sent
    assert len(payload.script) > 1000
    for name in ("script", "header", "html", "id", "key", "css_links", "js_links", "default"):
        assert ours[name] == theirs[name], name
    assert {k for k in ours if k != "on_change"} == {k for k in theirs if k != "on_change"}


def test_shared_store_builds_once_and_evicts_the_oldest():
    from pages.ui.shared import Memo

    memo = Memo(2)
    calls = []

    def build(v):
        calls.append(v)
        return v

    assert memo.get("a", lambda: build(1)) == 1
    assert memo.get("a", lambda: build(99)) == 1  # kept: not rebuilt
    memo.get("b", lambda: build(2))
    memo.get("a", lambda: build(99))  # touch a: b is now the oldest
    memo.get("c", lambda: build(3))
    assert len(memo) == 2 and calls == [1, 2, 3]
    assert memo.get("b", lambda: build(22)) == 22  # evicted, rebuilt


@pytest.mark.apptest
@pytest.mark.parametrize("page", ["accueil", "parcs", "friches", "cadastre_solaire"])
def test_second_session_reuses_the_first_sessions_map(page):
    from streamlit.testing.v1 import AppTest

    from pages.ui.shared import _store
    from tests.helpers import ROOT, switch_to

    def session():
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.query_params["epci"] = "CALL"
        if page != "accueil":
            switch_to(at, page)
        return at.run()

    first = session()
    assert not first.exception
    maps = _store("cartes")
    misses = maps.misses
    second = session()
    assert not second.exception
    assert maps.misses == misses  # nothing rebuilt: the map came from the shared store
    assert second.title[0].value == first.title[0].value


def test_concurrent_misses_build_once_and_a_failed_build_is_retried():
    import threading
    import time

    from pages.ui.shared import Memo

    memo = Memo(4)
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return "carte"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(memo.get("k", slow))) for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["carte"] * 5 and len(calls) == 1

    def broken():
        raise ValueError("couche illisible")

    with pytest.raises(ValueError):
        memo.get("x", broken)
    assert memo.get("x", lambda: "ok") == "ok"  # nothing kept from the failure
