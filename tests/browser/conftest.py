"""Fixtures of the real-browser tests: servers, an offline Chromium, a fresh page each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    VENDOR,
    OfflineRouter,
    streamlit_server,
)
from tests.helpers import make_hostile_geodata


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    # Fail loudly rather than skip: `make test` installs both.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} absent : lancez `make test` (apt chromium)"
    assert (VENDOR / "leaflet" / "leaflet.js").exists(), "Leaflet absent : `make assets`"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server(demo_store):
    """The app on the bundled data, its demo cadastre store built first."""
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def router() -> OfflineRouter:
    return OfflineRouter()


@pytest.fixture
def page(browser, router):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    pg = context.new_page()
    pg.route("**/*", router)
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, demo_store):
    geodata = make_hostile_geodata(
        tmp_path_factory.mktemp("hostile-browser") / "geodata", source=demo_store.parent
    )
    with streamlit_server({"ATLAS_GEODATA": str(geodata)}) as url:
        yield url


@pytest.fixture(scope="module")
def offline_server(tmp_path_factory, demo_store):
    with streamlit_server({"ATLAS_OFFLINE": "1"}) as url:
        yield url


@pytest.fixture(scope="module")
def fresh_server(demo_store):
    """A server nobody has visited yet (first request = the test's deep link)."""
    with streamlit_server() as url:
        yield url
