"""Downloads: CSV for spreadsheets (French Excel dialect) and GeoJSON with its metadata."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd

from layers.catalog import LayerInfo

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """Text a spreadsheet would run as a formula gets a leading ``'`` (OWASP's rule).

    Only text cells are touched; numbers (``-5``) stay numbers. The text stays readable:
    ``=HYPERLINK(…)`` becomes ``'=HYPERLINK(…)``, shown as typed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv_bytes(table: pd.DataFrame) -> bytes:
    """CSV as French spreadsheets open it: ``;`` separator, decimal comma, UTF-8 with BOM.

    Every text cell (and column name) that starts like a formula is neutralised, whatever
    the page: this is the one function through which the app writes CSV.
    """
    safe = table.copy()
    for col in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[col]) or pd.api.types.is_bool_dtype(safe[col])):
            safe[col] = safe[col].map(neutralise_formula)
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, sep=";", decimal=",").encode("utf-8-sig")


def layer_metadata(info: LayerInfo) -> dict[str, str]:
    """Provenance to embed in an export."""
    return {
        "titre": info.title,
        "producteur": info.producer,
        "source": info.source,
        "licence": info.licence,
        "date": info.date,
        "qualite": info.quality,
    }


def to_geojson_bytes(gdf: gpd.GeoDataFrame, metadata: Mapping[str, str]) -> bytes:
    """GeoJSON (EPSG:4326) with a ``metadata`` member carrying source, licence and date."""
    doc = json.loads(gdf.to_crs(4326).to_json(drop_id=True))
    doc["metadata"] = dict(metadata)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def to_gpkg_bytes(gdf: gpd.GeoDataFrame, layer: str, metadata: Mapping[str, str]) -> bytes:
    """A GeoPackage holding ``gdf`` as ``layer``, with provenance as layer metadata."""
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.gpkg"
        pyogrio.write_dataframe(
            gdf,
            path,
            layer=layer,
            driver="GPKG",
            layer_metadata={k.upper(): str(v) for k, v in metadata.items()},
        )
        return path.read_bytes()
