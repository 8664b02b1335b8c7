"""The engine (``layers.solar``) is a library of its own: it imports nothing of the app."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from tests.helpers import ROOT

ENGINE = sorted(p.stem for p in (ROOT / "layers" / "solar").glob("*.py") if p.stem != "__init__")


def test_importing_the_engine_loads_nothing_of_the_app():
    code = (
        "import importlib, sys\n"
        f"for name in {ENGINE!r}:\n"
        "    importlib.import_module('layers.solar.' + name)\n"
        "app = [m for m in sys.modules if m.startswith(('layers.', 'streamlit', 'folium'))\n"
        "       and not m.startswith('layers.solar')]\n"
        "print(sorted(app))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_every_app_module_is_banned_from_the_engine_by_ruff():
    config = tomllib.loads((ROOT / "layers" / "solar" / "ruff.toml").read_text(encoding="utf-8"))
    banned = set(config["lint"]["flake8-tidy-imports"]["banned-api"])
    app = {f"layers.{p.stem}" for p in (ROOT / "layers").glob("*.py") if p.stem != "__init__"} | {
        f"layers.{p.name}" for p in (ROOT / "layers").iterdir() if (p / "__init__.py").is_file()
    }
    app.discard("layers.solar")
    assert app <= banned, sorted(app - banned)


def test_the_engine_raises_its_own_errors():
    from layers.errors import USER_ERRORS, AtlasError
    from layers.solar.errors import InputError, SolarError
    from layers.solar.raster import RasterError
    from layers.solar.sky import WeatherError

    assert issubclass(InputError, SolarError)
    assert issubclass(RasterError, SolarError) and issubclass(WeatherError, SolarError)
    assert not issubclass(SolarError, AtlasError)  # the app catches both (USER_ERRORS)
    assert SolarError in USER_ERRORS


# the functions a user of the library calls: documented pvlib-style (issue 19)
CORE_API = {
    "sky": ["read_weather", "sun_and_sky", "sky_tables", "cached_sky_tables"],
    "terrain": ["fill_small_holes", "slope_aspect", "horizons", "sky_view_factor"],
    "irradiation": ["annual_irradiation", "irradiation_sweep", "hourly_poa"],
    "roofs": ["roof_class", "roof_classes", "roof_statistics", "roofs_from_files"],
}
PUBLISHED = {"sun_and_sky", "slope_aspect", "horizons", "sky_view_factor", "annual_irradiation"}


@pytest.mark.parametrize(
    "name", [f"{m}.{f}" for m, fs in CORE_API.items() for f in fs], ids=lambda n: n
)
def test_the_core_functions_are_documented_pvlib_style(name):
    """Every parameter named under « Parameters », a « Returns » section, units in
    brackets; a « References » section where a published method is implemented."""
    import importlib
    import inspect

    module, function = name.split(".")
    func = getattr(importlib.import_module(f"layers.solar.{module}"), function)
    doc = inspect.getdoc(func) or ""
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    section = doc.split("Parameters\n----------")[1].split("Returns\n-------")[0]
    for parameter in inspect.signature(func).parameters:
        assert f"\n{parameter}\n" in f"\n{section}", f"{name}: {parameter} undocumented"
    assert "[" in doc  # a unit somewhere: [m], [deg], [kWh/m²/yr]…
    if function in PUBLISHED:
        assert "References\n----------" in doc
