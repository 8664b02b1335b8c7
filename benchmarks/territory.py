"""The territory cadastre on a synthetic 4 km × 4 km territory, extrapolated to the PMA.

    .venv/bin/python benchmarks/territory.py [--km 4] [--sectors 36] [--max-distance 200]
                                             [--workers 2] [--no-app]

Writes the fictional territory in the IGN formats (``pma-atlas solar demo-territory``), runs
``pma-atlas solar build`` on it three times (a subprocess each, as a user runs it): one
process using every core (the default), one process on one core, and ``--workers`` processes
on one core each — the scale-out measure, as on N machines — and prints for each: wall
time, time per tile, core pixels per second, peak RSS per worker process (recorded per
tile in the manifest), store size, the speed-up; the roof lookup by point (median and p95
over 200 points); and the extrapolation to the PMA's 1 124 tiles from the default run (as if
every tile were this dense: `benchmarks/density.py` weighs them by their real mix).

Then (unless ``--no-app``) it serves the app on that store and on the demo store
(``ATLAS_CADASTRE``) and measures: map tiles through the app's route (``/api/tuiles``,
cold, median / p95 per zoom), and the app's RSS after the same cadastre journey on each
store — they should differ by less than 50 MB: the app never loads all roofs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.demo.territory import write_territory  # noqa: E402
from layers.solar.store import Manifest, Reader, StoreLayout  # noqa: E402
from layers.territory import load_territory  # noqa: E402

EPW = ROOT / "geodata" / "BEL_VLG_Uccle.064470_TMYx.2007-2021.epw"
PMA_TILES, PMA_BUILDINGS = 1124, 375_000  # tiles touching the PMA (benchmarks/density.py)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run_build(files, store: Path, args, workers: int, threads: int | None = None) -> float:
    cmd = [
        sys.executable, "-m", "layers.cli", "solar", "build",
        "--lidar", str(files.lidar_dir), "--buildings", str(files.buildings),
        "--addresses", str(files.addresses), "--weather", str(EPW), "--out", str(store),
        "--sectors", str(args.sectors), "--max-distance", str(args.max_distance),
        "--workers", str(workers), "--quiet",
    ]  # fmt: skip
    import os

    env = {**os.environ, **({"NUMBA_NUM_THREADS": str(threads)} if threads else {})}
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, env=env)
    return time.perf_counter() - t0


def report_build(store: Path, label: str, wall: float, base: tuple[str, float] | None) -> dict:
    import pyogrio

    tiles = Manifest.read(StoreLayout(store).manifest).dalles.values()
    per_tile = [t.duree_s for t in tiles]
    rss = max(t.rss_mo for t in tiles)
    n_roofs = pyogrio.read_info(StoreLayout(store).gpkg, layer="toits")["features"]
    size = sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    speed = f" ; accélération ×{base[1] / wall:.2f} face à « {base[0]} »" if base else ""
    print(
        f"Build, {label} : {len(per_tile)} dalles, {n_roofs:,} bâtiments en "
        f"{wall:.0f} s ; par dalle {statistics.median(per_tile):.1f} s (médiane, dans son "
        f"processus) ; {len(per_tile) * 4e6 / wall / 1e6:.2f} Mpx/s ; pic RSS par processus "
        f"{rss:.0f} Mo ; magasin {size / 1e6:.0f} Mo{speed}"
    )
    return {"tiles": len(per_tile), "roofs": n_roofs, "wall": wall}


def lookups(store: Path) -> None:
    import pyogrio

    roofs = pyogrio.read_dataframe(StoreLayout(store).gpkg, layer="toits", columns=["cleabs"])
    rng = np.random.default_rng(0)
    pts = roofs.geometry.representative_point().to_numpy()[
        rng.choice(len(roofs), size=min(200, len(roofs)), replace=False)
    ]
    reader = Reader.open(store)
    times = []
    for p in pts:
        t0 = time.perf_counter()
        assert reader.roof_at(p.x, p.y) is not None
        times.append(time.perf_counter() - t0)
    print(
        f"Toit sous un point (index spatial du GeoPackage) : médiane "
        f"{statistics.median(times) * 1000:.1f} ms, p95 {pct(times, 0.95) * 1000:.1f} ms "
        f"({len(times)} points)"
    )


def app_figures(stores: dict[str, Path]) -> None:
    """Map tiles through the route, and the app's RSS after one cadastre journey."""
    import morecantile
    import pyogrio

    from benchmarks.load import rss_mb, run, start_server

    tms = morecantile.tms.get("WebMercatorQuad")
    rss = {}
    for label, store in stores.items():
        proc, url = start_server({"ATLAS_CADASTRE": str(store)})
        try:
            cover = pyogrio.read_dataframe(StoreLayout(store).gpkg, layer="couverture").to_crs(4326)
            west, south, east, north = cover.total_bounds
            roofs = pyogrio.read_dataframe(
                StoreLayout(store).gpkg, layer="toits", columns=["cleabs"], read_geometry=False
            )
            picks = roofs["cleabs"].sample(20, random_state=1).tolist()
            mix = [("cadastre_solaire", "epci=CALL")] + [
                ("cadastre_solaire", f"toit={c}") for c in picks
            ]
            asyncio.run(run(url, 1, 1, mix[:2]))  # warm-up: imports, first page
            before = rss_mb(proc.pid)
            lat, errors, _ = asyncio.run(run(url, 4, 1, mix))
            rng = np.random.default_rng(2)
            timings: dict[int, list[float]] = {}
            urllib.request.urlopen(f"{url}/api/tuiles/solaire/0/0/0.png").read()  # first call
            for z in (13, 15, 17, 19):
                tiles = list(tms.tiles(west, south, east, north, zooms=[z]))
                for i in rng.choice(len(tiles), size=min(30, len(tiles)), replace=False):
                    t = tiles[int(i)]
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(
                        f"{url}/api/tuiles/solaire/{z}/{t.x}/{t.y}.png"
                    ) as r:
                        assert r.status == 200 and r.read(4) == b"\x89PNG"
                    timings.setdefault(z, []).append(time.perf_counter() - t0)
            after = rss_mb(proc.pid)
            rss[label] = after
            every = [v for vs in timings.values() for v in vs]
            print(
                f"\nApplication sur le magasin « {label} » : parcours cadastre "
                f"({len(lat)} pages, {len(errors)} erreur(s), médiane "
                f"{statistics.median(lat):.2f} s) ; RSS {before:.0f} → {after:.0f} Mo"
            )
            print(
                "  Tuiles de carte par la route (à froid) : médiane "
                f"{statistics.median(every) * 1000:.0f} ms, p95 {pct(every, 0.95) * 1000:.0f} ms "
                "; par zoom : "
                + ", ".join(
                    f"z{z} {statistics.median(v) * 1000:.0f}/{pct(v, 0.95) * 1000:.0f} ms"
                    for z, v in timings.items()
                )
                + " (médiane/p95)"
            )
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    labels = list(rss)
    if len(labels) == 2:
        print(
            f"\nRSS de l'application : {labels[0]} {rss[labels[0]]:.0f} Mo, {labels[1]} "
            f"{rss[labels[1]]:.0f} Mo → écart {abs(rss[labels[0]] - rss[labels[1]]):.0f} Mo "
            "(objectif : < 50 Mo)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--km", type=int, default=4)
    parser.add_argument("--sectors", type=int, default=36)
    parser.add_argument("--max-distance", type=float, default=200.0)
    parser.add_argument(
        "--workers", type=int, default=2, help="processus de la mesure de passage à l'échelle"
    )
    parser.add_argument("--no-app", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        communes = load_territory(ROOT / "geodata").communes
        files = write_territory(base / "territoire", args.km, communes=communes)
        print(f"Territoire fictif {args.km}×{args.km} km écrit en {time.perf_counter() - t0:.0f} s")
        runs = [
            # (label, processes, numba threads per process: None = every core)
            ("1 processus, tous les cœurs (défaut)", 1, None),
            ("1 processus × 1 fil", 1, 1),
            (f"{args.workers} processus × 1 fil (--workers {args.workers})", args.workers, 1),
        ]
        walls: dict[str, float] = {}
        stores = {}
        figures = {}
        for label, workers, threads in runs:
            store = base / f"magasin-{len(stores)}"
            walls[label] = run_build(files, store, args, workers, threads)
            ref = runs[1][0] if workers > 1 else None
            figures[label] = report_build(
                store, label, walls[label], (ref, walls[ref]) if ref else None
            )
            stores[label] = store
        first = figures[runs[0][0]]
        store = stores[runs[0][0]]
        lookups(store)
        hours = PMA_TILES * first["wall"] / first["tiles"] / 3600
        scaled = figures[runs[2][0]]
        hours_w = PMA_TILES * scaled["wall"] / scaled["tiles"] / 3600
        print(
            f"\nExtrapolation au PMA ({PMA_TILES} dalles, ~{PMA_BUILDINGS:,} bâtiments) sur cette "
            f"machine à 2 cœurs : {hours:.2f} h en 1 processus (défaut), {hours_w:.2f} h avec "
            f"--workers {args.workers} (dalles urbaines ici : "
            f"{first['roofs'] / first['tiles']:,.0f} bâtiments/km² contre "
            f"~{PMA_BUILDINGS / PMA_TILES:,.0f} en moyenne au PMA ; le calcul des horizons, qui "
            "domine, ne dépend que des pixels). Objectif de l'issue : ≤ 3 h."
        )
        if not args.no_app:
            app_figures(
                {
                    "démo (2×2 km)": ROOT / "geodata" / "cadastre-demo",
                    f"{args.km}×{args.km} km": store,
                }
            )


if __name__ == "__main__":
    main()
