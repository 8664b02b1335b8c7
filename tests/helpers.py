"""Helpers and constants shared by the tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GEODATA = ROOT / "geodata"  # the shipped layers: read by the tests, never written
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_INSEE = "62498"  # Lens gets the hostile name in the test layer


# what `pma-atlas data prepare` adds to a geodata folder (never copied from the repository's)
PREPARED_NAMES = ("demo", "cadastre-demo*", "signaletique.gpkg*")


def loaded_in_a_fresh_interpreter(code: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules whose name starts with one of ``prefixes`` that ``code`` loads, run in a
    new interpreter from the repository (what a process that only does that imports)."""
    import subprocess
    import sys

    probe = (
        f"{code}\nimport sys\n"
        f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def copy_geodata(target: Path, source: Path) -> Path:
    """Copy the geodata folder ``source`` to ``target``; its demo cadastre store (~60 MB)
    is linked, not copied. From the repository's geodata/, only the shipped layers."""
    ignored = PREPARED_NAMES if source == GEODATA else ("demo", "cadastre-demo*")
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*ignored))
    if source != GEODATA:  # linked even before it is built (the demo_store fixture)
        (target / "cadastre-demo").symlink_to(source / "cadastre-demo")
    return target


def make_hostile_geodata(target: Path, source: Path) -> Path:
    """Copy ``source`` to ``target`` with Lens renamed to a script-injection attempt."""
    copy_geodata(target, source)
    import pyogrio

    from layers.catalog import load_catalog, write_layer

    info = load_catalog(target)["communes"]
    communes = pyogrio.read_dataframe(target / info.file, layer=info.layer)
    communes.loc[communes["insee"] == HOSTILE_INSEE, "nom"] = HOSTILE_NAME
    write_layer(communes, info, target)
    return target


_ADD_CALL = re.compile(r"geo_json_\w+_add\(")


def geojson_collections(script: str) -> list[dict]:
    """Every GeoJSON FeatureCollection folium inlined in a map script, decoded."""
    decoder = json.JSONDecoder()
    found = []
    for match in _ADD_CALL.finditer(script):
        rest = script[match.end() :]
        if rest.lstrip().startswith("{"):
            doc, _ = decoder.raw_decode(rest.lstrip())
            if doc.get("type") == "FeatureCollection":
                found.append(doc)
    return found


def feature_count(
    script: str, geometry_types: tuple[str, ...] = ("Polygon", "MultiPolygon")
) -> int:
    """Number of inlined GeoJSON features of the given geometry types (polygons by default)."""
    return sum(
        f["geometry"]["type"] in geometry_types
        for doc in geojson_collections(script)
        for f in doc["features"]
    )


_CLUSTER = re.compile(r"var T = (\{.*?\});\s*\nvar R = \d+;", re.S)  # see layers.mapping
_CLUSTER_DATA = re.compile(r"var data = (\[.*?\]);\s*\n", re.S)


def clustered_points(script: str) -> list[dict]:
    """The points of every clustered layer (``layers.mapping.clustered_points``), decoded.

    Each point: ``lat``, ``lon``, ``colour``, ``filled`` and ``values`` (label → the
    escaped text its tooltip and popup show).
    """
    found = []
    for tables, data in zip(_CLUSTER.findall(script), _CLUSTER_DATA.findall(script), strict=True):
        t = json.loads(tables)
        for row in json.loads(data):
            found.append(
                {
                    "lat": row[0],
                    "lon": row[1],
                    "colour": t["couleur"][row[2]],
                    "filled": bool(row[3]),
                    "values": {
                        label: t["valeurs"][i][row[4 + i]] for i, label in enumerate(t["libelles"])
                    },
                }
            )
    return found


def unescape_js(text: str) -> str:
    """Undo the ``\\uXXXX`` escapes that ``tojson`` writes into map scripts."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)


def switch_to(at, page: str):
    """Open a page in AppTest: ``"pages/parcs.py"`` or ``"parcs"``.

    Our pages are functions registered by ``url_path`` (see app.py), which
    ``AppTest.switch_page`` (file pages only) cannot select; a page's script hash is the
    hash of its ``url_path``, as ``st.Page`` computes it.
    """
    from pathlib import PurePath

    from streamlit.util import calc_hash

    at._page_hash = calc_hash(PurePath(page).stem)
    return at


def read_demo_store(path: Path):
    """The demo cadastre store and its roofs and addresses, read directly (EPSG:4326).

    The tests' own view of the store (``path``: the ``demo_store`` fixture, which builds
    it), independent of the app's lookups; roofs get a ``toit_id`` (their cleabs) as the
    page's URL uses it.
    """

    from layers.cadastre import open_cadastre

    cad = open_cadastre(path)
    assert cad is not None, f"no store at {path}"
    roofs = cad.reader.read("toits").to_crs(4326)
    roofs["toit_id"] = roofs["cleabs"]
    addresses = cad.reader.read("adresses").to_crs(4326)
    addresses["toit_id"] = addresses["cleabs"]
    return cad, roofs, addresses
