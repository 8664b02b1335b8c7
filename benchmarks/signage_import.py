"""Signage import: 100 000 rows in one transaction (GeoPackage, and PostGIS when given).

    .venv/bin/python benchmarks/signage_import.py [--rows 100000] [--postgis DSN]

Prints the wall time and rows/s of ``pma-atlas signs import`` on a generated CSV, and,
as the baseline measured in the same run, the old way (one transaction per sign through
``store.add``) on a sample of the same rows, extrapolated to the same count. A second
import of the same file must change nothing: its time and counts are printed too.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from layers.parks import load_planning
from layers.settings import DEFAULT_GEODATA
from layers.signage import generate_sample
from layers.signage_setup import import_file, read_import, write_example_csv
from layers.signage_store import create_geopackage, create_postgis, open_store
from layers.territory import load_territory


def run(target: str, reset, csv: Path, rows: int, territory, baseline_rows: int) -> None:
    reset()
    store = open_store(target, territory)
    frame = read_import(csv).head(baseline_rows)
    t0 = time.perf_counter()
    for row in frame.to_dict("records"):  # the old import: one transaction per sign
        store.add(row, "baseline")
    per_row = (time.perf_counter() - t0) / baseline_rows
    reset()
    t0 = time.perf_counter()
    report = import_file(csv, target, DEFAULT_GEODATA, "benchmark")
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = import_file(csv, target, DEFAULT_GEODATA, "benchmark")
    second = time.perf_counter() - t0
    print(
        f"  import {rows} lignes : {first:.1f} s ({rows / first:,.0f} lignes/s) — {report}\n"
        f"  même fichier une 2e fois : {second:.1f} s — {again}\n"
        f"  référence (une transaction par panneau, {baseline_rows} lignes) : "
        f"{1 / per_row:,.0f} lignes/s → {rows * per_row:.0f} s pour {rows} lignes "
        f"(× {rows * per_row / first:.0f} plus lent)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=300)
    parser.add_argument("--postgis", help="DSN d'une base PostGIS de test (remplacée)")
    args = parser.parse_args()
    territory = load_territory(DEFAULT_GEODATA)
    planning = load_planning(DEFAULT_GEODATA, territory)
    sample = generate_sample(planning.parks, planning.links)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "inventaire.csv"
        write_example_csv(csv, args.rows, territory)
        print(f"CSV de {args.rows} lignes : {csv.stat().st_size / 1e6:.1f} Mo")
        gpkg = Path(tmp) / "signaletique.gpkg"

        def reset_gpkg() -> None:
            for extra in ("", "-wal", "-shm"):
                Path(f"{gpkg}{extra}").unlink(missing_ok=True)
            create_geopackage(gpkg, sample)

        print("GeoPackage :")
        run(str(gpkg), reset_gpkg, csv, args.rows, territory, args.baseline_rows)
        if args.postgis:
            print("PostGIS :")
            run(
                args.postgis,
                lambda: create_postgis(args.postgis, sample, force=True),
                csv,
                args.rows,
                territory,
                args.baseline_rows,
            )


if __name__ == "__main__":
    main()
