"""Helpers shared by the tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import json
import re

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


def demo_store():
    """The demo cadastre store and its roofs and addresses, read directly (EPSG:4326).

    The tests' own view of the store, independent of the app's lookups; roofs get a
    ``toit_id`` (their cleabs) as the page's URL uses it.
    """
    import pyogrio

    from layers.cadastre import open_store
    from tests.conftest import GEODATA

    cad = open_store(GEODATA / "cadastre-demo")
    assert cad is not None, "demo store missing: run `pma-atlas data prepare`"
    roofs = pyogrio.read_dataframe(cad.gpkg, layer="toits").to_crs(4326)
    roofs["toit_id"] = roofs["cleabs"]
    addresses = pyogrio.read_dataframe(cad.gpkg, layer="adresses").to_crs(4326)
    addresses["toit_id"] = addresses["cleabs"]
    return cad, roofs, addresses
