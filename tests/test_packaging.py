"""The project as it is shipped: a wheel built from pyproject.toml, installed in a fresh venv.

An editable install sees every folder of the checkout; a wheel holds only what the package
discovery lists. Issue 30: the wheel lacked ``layers/demo`` while ``pma-atlas data prepare``
imports it, so only editable installs worked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from layers.solar.store import StoreLayout
from tests.helpers import GEODATA, ROOT, copy_geodata

pytestmark = pytest.mark.build  # builds a wheel, a venv and the demo store (a minute or two)


def _uv() -> str:
    found = Path(sys.executable).parent / "uv"
    uv = str(found) if found.exists() else shutil.which("uv")
    assert uv, "uv absent : `make install-test` l'installe dans .venv"
    return uv


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{cmd[:3]} → {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the sources (a build writes build/ and egg-info)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "layers", src / "layers", ignore=shutil.ignore_patterns("__pycache__"))
    dist = src / "dist"
    _run([_uv(), "build", "--wheel", "--out-dir", str(dist), str(src)], cwd=src)
    (found,) = dist.glob("atlas_pma-*.whl")
    return found


def test_the_wheel_holds_every_package_of_layers(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(
        str(p.parent.relative_to(ROOT)) for p in (ROOT / "layers").rglob("__init__.py")
    )
    assert "layers/demo" in packages  # the package the wheel once lacked
    for package in packages:
        assert f"{package}/__init__.py" in names, f"{package} absent du wheel"
    assert "layers/demo/territory.py" in names


def test_the_installed_wheel_prepares_the_data(wheel, tmp_path):
    """`pma-atlas data prepare` from the wheel alone: a fresh venv with the locked
    dependencies, run outside the checkout so that nothing of it can be imported."""
    uv = _uv()
    venv = tmp_path / "venv"
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        _run(
            [uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--quiet"],
            cwd=ROOT,
        ),
        encoding="utf-8",
    )
    python = venv / "bin" / "python"
    _run(
        [uv, "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements)]
        + [str(wheel)],
        cwd=tmp_path,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ATLAS_GEODATA")}
    where = _run(
        [str(python), "-c", "import layers.demo; print(layers.demo.__file__)"], tmp_path, env
    )
    assert Path(where.strip()).is_relative_to(venv), where

    geodata = copy_geodata(tmp_path / "geodata", source=GEODATA)
    out = _run(
        [str(venv / "bin" / "pma-atlas"), "data", "prepare", "--geodata", str(geodata)],
        tmp_path,
        env,
    )
    assert "aucune erreur" in out
    assert StoreLayout(geodata / "cadastre-demo").gpkg.is_file()
    assert (geodata / "signaletique.gpkg").is_file()
