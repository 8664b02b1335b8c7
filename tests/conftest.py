from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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
def settings(prepared_geodata: Path) -> Settings:
    return Settings(geodata_dir=prepared_geodata)


@pytest.fixture
def geodata_copy(tmp_path: Path, prepared_geodata: Path) -> Path:
    """A writable copy of this run's geodata/ that a test may damage (the demo store linked)."""
    return copy_geodata(tmp_path / "geodata", source=prepared_geodata)


@pytest.fixture(scope="session")
def hostile_geodata(tmp_path_factory: pytest.TempPathFactory, prepared_geodata: Path) -> Path:
    return make_hostile_geodata(
        tmp_path_factory.mktemp("hostile") / "geodata", source=prepared_geodata
    )


def _repository_geodata_state() -> dict[str, tuple[int, int]]:
    """Every file under the repository's geodata/ with its size and modification time."""
    return {
        str(p.relative_to(GEODATA)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(GEODATA.rglob("*"))
        if p.is_file()
    }


@contextmanager
def _run_lock(path: Path):
    """An exclusive lock shared by the processes of one run (pytest-xdist workers)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run, shared by its xdist workers (pytest keeps the last three)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session", autouse=True)
def prepared_geodata(run_folder: Path) -> Iterator[Path]:
    """This run's geodata/: the shipped layers copied under a temporary folder, with the
    synthetic signage sample made there; the app under test reads it (``ATLAS_GEODATA``).

    Tests never write into the repository's geodata/: what they read that is computed
    (the demo cadastre store, the signage sample) is computed here. The repository's
    geodata/ is compared before and after the run; a test that wrote into it fails the run.
    """
    target = run_folder / "geodata"
    before = _repository_geodata_state()
    with _run_lock(run_folder / "geodata.lock"):
        if not target.is_dir():
            staging = run_folder / f"geodata.{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            copy_geodata(staging, source=GEODATA)
            from layers.signage_setup import init_store

            init_store(str(staging / "signaletique.gpkg"), staging)
            staging.rename(target)
    os.environ["ATLAS_GEODATA"] = str(target)
    yield target
    after = _repository_geodata_state()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"tests wrote into the repository's geodata/: {changed}"


@pytest.fixture(scope="session")
def demo_store(prepared_geodata: Path, run_folder: Path) -> Path:
    """The demo cadastre store, built by this run under its own geodata/ (see above).

    Several test processes at once wait on one lock: the first builds, the others find it
    up to date.
    """
    from layers.cadastre_demo import prepare_demo_store

    with _run_lock(run_folder / "demo-store.lock"):
        prepare_demo_store(prepared_geodata, cache_dir=Settings.from_env(os.environ).cache_dir)
    return prepared_geodata / "cadastre-demo"


@pytest.fixture(scope="session")
def demo_tables(demo_store: Path):
    """``(cad, roofs, addresses)`` of the demo store, read by the tests themselves."""
    from tests.helpers import read_demo_store

    return read_demo_store(demo_store)


@pytest.fixture
def store_copy(tmp_path, monkeypatch, prepared_geodata):
    """A copy of the signage sample, configured as the app's (ATLAS_SIGNALETIQUE)."""

    target = tmp_path / "signaletique.gpkg"
    shutil.copy(prepared_geodata / "signaletique.gpkg", target)
    monkeypatch.setenv("ATLAS_SIGNALETIQUE", str(target))
    return target
