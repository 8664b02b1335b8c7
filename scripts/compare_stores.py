"""Whether two cadastre stores hold the same figures: a maintainer's check after a refactor.

Usage::

    python scripts/compare_stores.py STORE_A STORE_B

Compares every layer of ``toits.gpkg`` (rows sorted by their key, every column and
geometry), every tile's irradiation COG and the 4 m overview pixel for pixel (NaN equal to
NaN), the VRT's placement of the tiles, and the manifests' tile records (what each tile
was computed from; timings, processes and the manifest's own layout left aside). Prints
one line per part and exits 1 at the first difference found in each part.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyogrio
import rasterio

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.solar.store import Manifest, StoreLayout  # noqa: E402

KEYS = {"toits": "cleabs", "adresses": "label", "communes": "insee", "couverture": "dalles"}


def same_layers(a: StoreLayout, b: StoreLayout) -> list[str]:
    """Differences between the two GeoPackages, layer by layer."""
    problems = []
    layers_a = sorted(str(n) for n, _ in pyogrio.list_layers(a.gpkg))
    layers_b = sorted(str(n) for n, _ in pyogrio.list_layers(b.gpkg))
    if layers_a != layers_b:
        return [f"couches : {layers_a} ≠ {layers_b}"]
    for layer in layers_a:
        one = pyogrio.read_dataframe(a.gpkg, layer=layer)
        two = pyogrio.read_dataframe(b.gpkg, layer=layer)
        key = KEYS.get(layer)
        if key in one.columns:
            one = one.sort_values([key, *one.columns.drop([key, "geometry"], errors="ignore")])
            two = two.sort_values([key, *two.columns.drop([key, "geometry"], errors="ignore")])
        one, two = one.reset_index(drop=True), two.reset_index(drop=True)
        if list(one.columns) != list(two.columns) or len(one) != len(two):
            problems.append(f"{layer} : colonnes ou lignes différentes")
            continue
        if "geometry" in one.columns:
            if not one.geometry.geom_equals_exact(two.geometry, tolerance=0).all():
                problems.append(f"{layer} : géométries différentes")
            one, two = one.drop(columns="geometry"), two.drop(columns="geometry")
        if not one.equals(two):
            cols = [c for c in one.columns if not one[c].equals(two[c])]
            problems.append(f"{layer} : valeurs différentes ({', '.join(cols)})")
        print(f"  {layer} : {len(one)} lignes comparées")
    return problems


def same_rasters(a: StoreLayout, b: StoreLayout) -> list[str]:
    """Differences between the tiles' COGs and the overviews, pixel for pixel."""
    names_a = sorted(p.name for p in a.cog_dir.glob("*.tif"))
    names_b = sorted(p.name for p in b.cog_dir.glob("*.tif"))
    if names_a != names_b:
        return [f"COG : {names_a} ≠ {names_b}"]
    problems = []
    for one, two in [(a.cog_dir / n, b.cog_dir / n) for n in names_a] + [(a.overview, b.overview)]:
        with rasterio.open(one) as x, rasterio.open(two) as y:
            if x.transform != y.transform or x.crs != y.crs:
                problems.append(f"{one.name} : géoréférence différente")
            if not np.array_equal(x.read(1), y.read(1), equal_nan=True):
                problems.append(f"{one.name} : pixels différents")
    print(f"  {len(names_a)} COG et l'aperçu comparés pixel à pixel")
    return problems


def same_records(a: StoreLayout, b: StoreLayout) -> list[str]:
    """Differences between what each tile was computed from, per the manifests."""
    one, two = Manifest.read(a.manifest), Manifest.read(b.manifest)
    problems = []
    if sorted(one.dalles) != sorted(two.dalles):
        return [f"dalles : {sorted(one.dalles)} ≠ {sorted(two.dalles)}"]
    for name, record in one.dalles.items():
        other = two.dalles[name]
        if record.entrees != other.entrees:
            problems.append(f"{name} : entrées différentes")
        if (record.sans_batiment, record.voisins_absents, sorted(record.bloc)) != (
            other.sans_batiment,
            other.voisins_absents,
            sorted(other.bloc),
        ):
            problems.append(f"{name} : fiche différente")
    for field in ("climat", "parametres", "synthetique", "termine", "format"):
        if getattr(one, field) != getattr(two, field):
            problems.append(f"manifeste : {field} différent")
    print(f"  {len(one.dalles)} fiches de dalles comparées")
    return problems


def main(argv: list[str]) -> int:
    a, b = StoreLayout(Path(argv[0])), StoreLayout(Path(argv[1]))
    problems = same_layers(a, b) + same_rasters(a, b) + same_records(a, b)
    vrt_a = a.vrt.read_text(encoding="utf-8")
    if vrt_a != b.vrt.read_text(encoding="utf-8"):
        problems.append("irradiation.vrt : différent")
    for line in problems:
        print(f"DIFFÉRENCE : {line}")
    print("Magasins identiques." if not problems else f"{len(problems)} différence(s).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
