"""Rebuild ``geodata/territoire.gpkg`` from the open-data copies in ``../shared/data/``.

A maintainer's tool, run by hand when the sources change; the app, its tests and
``make`` never read ``../shared/``: they read the GeoPackage this script writes.

Usage::

    python scripts/build_territory.py [--shared ../shared/data] [--out geodata]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import geopandas as gpd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.catalog import load_catalog, write_layer  # noqa: E402

SOURCES = {
    "communes": "territory/pma_communes.geojson",
    "epci": "territory/pma_epci.geojson",
    "mairies": "territory/pma_mairies.geojson",
}
COLUMNS = {
    "communes": [
        "insee",
        "nom",
        "epci_code",
        "epci_siren",
        "epci_nom",
        "population",
        "population_totale",
        "commune_siren",
    ],
    "epci": ["epci_code", "epci_siren", "epci_nom", "population", "n_communes"],
    "mairies": ["insee", "nom", "adresse"],
}


def main(argv: list[str] | None = None) -> int:
    """Convert the shared GeoJSON files to one GeoPackage with per-layer metadata."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "geodata")
    args = parser.parse_args(argv)

    catalog = load_catalog(args.out)
    for layer_id, rel in SOURCES.items():
        info = catalog[layer_id]
        gdf = gpd.read_file(args.shared / rel)[COLUMNS[layer_id] + ["geometry"]]
        gdf = gdf.to_crs(info.crs)
        target = write_layer(gdf, info, args.out)
        print(f"{layer_id}: {len(gdf)} entités -> {target}:{info.layer}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
