"""The territory build on a synthetic 4 km × 4 km territory, extrapolated to the PMA.

    .venv/bin/python benchmarks/territory.py [--km 4] [--sectors 36] [--max-distance 200]

Writes the fictional territory in the IGN formats (``pma-atlas solar demo-territory``), runs
``solar build`` on it in this process, and prints: wall time, time per tile, core pixels
per second, peak RSS, store size; the roof lookup by point (``solar roof``'s function:
median and p95 over 200 points); and the extrapolation to the PMA's 1 002 km² (about 1 000
tiles, ~380 000 BD TOPO buildings) from the measured time per tile and per building.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.assumptions import load_assumptions
from layers.solar.build import BuildParams, build, roof_at
from layers.solar.territory_demo import write_territory
from layers.territory import load_territory

ROOT = Path(__file__).resolve().parents[1]
EPW = ROOT / "geodata" / "BEL_VLG_Uccle.064470_TMYx.2007-2021.epw"
PMA_TILES, PMA_BUILDINGS = 1002, 380_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--km", type=int, default=4)
    parser.add_argument("--sectors", type=int, default=36)
    parser.add_argument("--max-distance", type=float, default=200.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        files = write_territory(base / "territoire", args.km)
        print(f"Territoire fictif {args.km}×{args.km} km écrit en {time.perf_counter() - t0:.0f} s")
        params = BuildParams(n_sectors=args.sectors, max_distance=args.max_distance)
        communes = load_territory(ROOT / "geodata").communes
        t0 = time.perf_counter()
        build(
            files.lidar_dir,
            files.buildings,
            EPW,
            base / "magasin",
            params,
            load_assumptions(ROOT / "geodata"),
            progress=True,
            communes=communes,
        )
        wall = time.perf_counter() - t0
        import json

        import pyogrio

        manifest = json.loads((base / "magasin" / "manifest.json").read_text(encoding="utf-8"))
        per_tile = [t["duree_s"] for t in manifest["tuiles"].values()]
        n_tiles = len(per_tile)
        roofs = pyogrio.read_dataframe(base / "magasin" / "toits.gpkg", layer="toits")
        size = sum(p.stat().st_size for p in (base / "magasin").rglob("*") if p.is_file())
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"\nBuild ({args.sectors} secteurs, {args.max_distance:.0f} m, 1 processus) : "
            f"{n_tiles} dalles, {len(roofs):,} bâtiments en {wall:.0f} s ; par dalle "
            f"{statistics.median(per_tile):.1f} s (médiane) ; "
            f"{n_tiles * 4e6 / wall / 1e6:.2f} Mpx/s (cœurs des dalles) ; pic RSS {rss:.0f} Mo ; "
            f"magasin {size / 1e6:.0f} Mo"
        )
        # roof lookup by point, as `pma-atlas solar roof` does it
        rng = np.random.default_rng(0)
        pts = roofs.geometry.representative_point().to_numpy()[
            rng.choice(len(roofs), size=min(200, len(roofs)), replace=False)
        ]
        times = []
        for p in pts:
            t0 = time.perf_counter()
            assert roof_at(base / "magasin", p.x, p.y) is not None
            times.append(time.perf_counter() - t0)
        times.sort()
        print(
            f"Toit sous un point (index spatial du GeoPackage) : médiane "
            f"{statistics.median(times) * 1000:.1f} ms, p95 "
            f"{times[int(0.95 * len(times))] * 1000:.1f} ms ({len(times)} points)"
        )
        hours = PMA_TILES * wall / n_tiles / 3600
        print(
            f"\nExtrapolation au PMA ({PMA_TILES} km², ~{PMA_BUILDINGS:,} bâtiments) sur cette "
            f"machine à 2 cœurs : {hours:.1f} h (temps par dalle mesuré ici, dalles urbaines : "
            f"{len(roofs) / n_tiles:,.0f} bâtiments/km² contre ~{PMA_BUILDINGS / PMA_TILES:,.0f} "
            "en moyenne au PMA ; le calcul des horizons, qui domine, ne dépend que des pixels)"
        )
        print("Objectif de l'issue : ≤ 3 h. Carte tuilée depuis le magasin : pas encore faite.")


if __name__ == "__main__":
    main()
