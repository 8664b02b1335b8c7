"""The engine (``layers.solar``) is a library of its own: it imports nothing of the app."""

from __future__ import annotations

import tomllib

import pytest

from tests.helpers import ROOT

ENGINE = sorted(p.stem for p in (ROOT / "layers" / "solar").glob("*.py") if p.stem != "__init__")


def test_importing_the_engine_loads_nothing_of_the_app():
    from tests.helpers import loaded_in_a_fresh_interpreter

    code = f"import importlib\nfor n in {ENGINE!r}:\n"
    code += "    importlib.import_module('layers.solar.' + n)"
    loaded = loaded_in_a_fresh_interpreter(code, ("layers.", "streamlit", "folium"))
    assert [m for m in loaded if not m.startswith("layers.solar")] == []


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
    documented = _parameters_documented(doc)
    for parameter in inspect.signature(func).parameters:
        assert parameter in documented, f"{name}: {parameter} undocumented"
    assert "[" in doc  # a unit somewhere: [m], [deg], [kWh/m²/yr]…
    if function in PUBLISHED:
        assert "References\n----------" in doc


SECTION_ENDS = ("Returns\n-------", "Yields\n------", "Raises\n------", "References\n----------")


def _parameters_documented(doc: str) -> set[str]:
    """Names listed under « Parameters » (``x, y`` lines count for both; ``**kwargs`` too)."""
    if "Parameters\n----------" not in doc:
        return set()
    section = doc.split("Parameters\n----------")[1]
    for end in SECTION_ENDS:
        section = section.split(end)[0]
    names = set()
    for line in section.splitlines():
        if line and not line.startswith(" "):
            names |= {n.strip().lstrip("*") for n in line.split(":")[0].split(",")}
    return names


def _public_api() -> list[tuple[str, object]]:
    """Every public function and public class's public method the engine defines."""
    import importlib
    import inspect

    found = []
    for name in ENGINE:
        module = importlib.import_module(f"layers.solar.{name}")
        for attr, obj in vars(module).items():
            if attr.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            obj = getattr(obj, "py_func", obj)  # a numba kernel: its Python function
            if inspect.isfunction(obj):
                found.append((f"{name}.{attr}", obj))
            elif inspect.isclass(obj):
                for meth, member in vars(obj).items():
                    func = getattr(member, "__func__", member)  # classmethod, staticmethod
                    if not meth.startswith("_") and inspect.isfunction(func):
                        found.append((f"{name}.{attr}.{meth}", func))
    return found


def test_every_public_function_of_the_engine_is_documented_numpy_style():
    """Issue 19: a library user reads each function's parameters and what it gives back.

    Numba kernels too (issue 29: five public ones in ``terrain`` escaped the walk)."""
    import inspect

    api = _public_api()
    assert len(api) > 80  # the walk found the engine (sanity: not an empty pass)
    undocumented = []
    for name, func in api:
        doc = inspect.getdoc(func) or ""
        wanted = [p for p in inspect.signature(func).parameters if p not in ("self", "cls")]
        missing = [p for p in wanted if p not in _parameters_documented(doc)]
        gives = "Returns\n-------" in doc or "Yields\n------" in doc
        if missing or not gives:
            undocumented.append(f"{name}: {missing or ''}{'' if gives else ' no Returns'}")
    assert not undocumented, "\n".join(undocumented)
