from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# caches written by the code under test (sky tables) go to a folder of this run only
os.environ.setdefault("ATLAS_CACHE_DIR", tempfile.mkdtemp(prefix="atlas-test-cache-"))

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # AppTest does not put the app folder on sys.path
    sys.path.insert(0, str(ROOT))

from layers.settings import Settings  # noqa: E402
from layers.territory import Territory, load_territory  # noqa: E402
from tests.helpers import GEODATA, copy_geodata, make_hostile_geodata  # noqa: E402


def pytest_collection_modifyitems(items):
    """Page tests through AppTest take seconds each: marked ``apptest`` (left out of
    ``make test-fast``, run by ``make test``)."""
    for item in items:
        if item.fspath.basename == "test_pages.py" or "store_copy" in item.fixturenames:
            item.add_marker(pytest.mark.apptest)


@pytest.fixture(scope="session")
def territory() -> Territory:
    return load_territory(GEODATA)


@pytest.fixture(scope="session")
def planning(territory):
    """Parks, links and context layers, loaded once for the whole run (read-only)."""
    from layers.parks import load_planning

    return load_planning(GEODATA, territory)


@pytest.fixture(scope="session")
def signs_sample(planning):
    """The synthetic signage sample (read-only: copy before changing it)."""
    from layers.signage import generate_sample

    return generate_sample(planning.parks, planning.links)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture
def geodata_copy(tmp_path: Path) -> Path:
    """A writable copy of geodata/ that a test may damage (not the shared demo store)."""
    return copy_geodata(tmp_path / "geodata")


@pytest.fixture(scope="session")
def hostile_geodata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_hostile_geodata(tmp_path_factory.mktemp("hostile") / "geodata")


@pytest.fixture(scope="session")
def demo_store() -> Path:
    """The demo cadastre store, built when missing or stale (a no-op after `make data`).

    Several test processes at once wait on the build's lock instead of failing.
    """
    from layers.cadastre import prepare_demo_store

    prepare_demo_store(GEODATA, cache_dir=Settings.from_env(os.environ).cache_dir)
    return GEODATA / "cadastre-demo"


@pytest.fixture(scope="session")
def demo_tables(demo_store: Path):
    """``(cad, roofs, addresses)`` of the demo store, read by the tests themselves."""
    from tests.helpers import read_demo_store

    return read_demo_store(demo_store)


@pytest.fixture
def store_copy(tmp_path, monkeypatch):
    """A copy of the shipped signage inventory, configured as the app's (ATLAS_SIGNALETIQUE)."""

    target = tmp_path / "signaletique.gpkg"
    shutil.copy(GEODATA / "signaletique.gpkg", target)
    monkeypatch.setenv("ATLAS_SIGNALETIQUE", str(target))
    return target
