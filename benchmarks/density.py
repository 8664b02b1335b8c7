"""What a tile costs as a function of its buildings, and the PMA extrapolated from its mix.

    .venv/bin/python benchmarks/density.py [--runs 3] [--workers 2] [--sectors 36]
                                           [--max-distance 200]

Three fictional 4 × 4 km territories (``solar demo-territory``) are built with the default
roofs-only computation: a dense mining cité everywhere (~1 570 buildings/km², with a
terril), a suburb (a quarter of the cité's blocks, ~390/km²) and fields with a farm or
two and a pond the LiDAR leaves without data (~30/km²) — surface models and building
layers generated together — and the cité once (first run only) with ``--sol``
(everything computed, the old default). Each build is one subprocess, as a user runs it;
the per-tile time comes from the manifest (see :func:`build`). A line
``cost = a + b × share of roof pixels`` is fitted on the roofs-only builds.

The PMA's tiles are then counted by class of building density: each 1 km tile touching the
PMA gets the buildings of the communes it overlaps, in proportion to the overlap, a
commune's buildings being its population × (PMA buildings / PMA population), with the PMA
at ``--density`` buildings per km² (375 by default, the middle of the 350–400 the issue
gives). Tiles with no building at all are not computed (fields, woods, water: the build
skips them), which this model, spreading each commune's buildings evenly, never predicts:
the extrapolation is an upper bound. Printed: per-class table, the PMA total on this
machine for each run, and the spread.

The territory is placed one kilometre north of the demo's so that its 2 × 2 tiles make one
compute block (a window and its halo shared by four tiles), as most of the PMA's tiles are;
the PMA's blocks cut by its edge read more halo per tile: the fixed part of the cost is
scaled by the PMA's mean window per tile over a full block's. What each process pays
once (loading the compiled kernels, ~1 s) and the assembly of the store are measured apart
(the manifest's ``dernier_calcul``) and added once, the assembly scaled by the roofs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from layers.demo.territory import write_territory  # noqa: E402
from layers.settings import DEFAULT_GEODATA  # noqa: E402
from layers.solar.build import BLOCK  # noqa: E402
from layers.solar.store import Manifest, StoreLayout  # noqa: E402

BENCH_TILE = (684, 7043)  # north-west tile: each 2 × 2 tiles make one compute block
KM = 4  # 16 tiles, 4 blocks: the first pays the process's one-time costs, 3 are steady

EPW = ROOT / "geodata" / "BEL_VLG_Uccle.064470_TMYx.2007-2021.epw"
CLASSES = [  # buildings per km², upper bound excluded
    ("dense (cités, centres)", 1200, 1e9),
    ("ville", 600, 1200),
    ("périurbain", 200, 600),
    ("bourg et champs", 20, 200),
    ("presque vide", 0, 20),
]


def build(lidar: Path, buildings: Path, out: Path, args, ground: bool) -> dict:
    """One build, as a user runs it; its steady cost per tile and what was paid once.

    ``--workers`` processes (one core each when > 1) take the blocks in turn. A process's
    first block pays what a process pays once (its threads' start, its first touch of
    memory), on top of loading the kernels (``demarrage_s``): the steady time per tile is
    the mean over the other blocks of every process, divided by the processes working at
    once (the throughput); the first blocks' excess is counted once, with the start-up.
    """
    cmd = [
        sys.executable, "-m", "layers.cli", "solar", "build", "--lidar", str(lidar),
        "--buildings", str(buildings), "--weather", str(EPW), "--out", str(out),
        "--sectors", str(args.sectors), "--max-distance", str(args.max_distance), "--quiet",
        "--workers", str(args.workers),
    ] + (["--sol"] if ground else [])  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    manifest = Manifest.read(StoreLayout(out).manifest)
    by_process: dict[str, dict[str, float]] = {}
    for record in manifest.dalles.values():  # in the order they finished
        blocks = by_process.setdefault(record.calcule_par, {})
        blocks.setdefault(record.bloc[0], record.duree_s)
    firsts = [list(b.values())[0] for b in by_process.values()]
    others = [t for b in by_process.values() for t in list(b.values())[1:]]
    steady = statistics.mean(others or firsts)
    once = manifest.dernier_calcul
    return {
        "wall": wall,
        # the faces stage (issue 27): its wall time over its tiles, processes included
        "faces_tile_s": once.get("pans_s", 0.0) / max(once.get("pans_dalles", 0) or 1, 1),
        "tile_s": steady / len(by_process),
        "startup_s": once["demarrage_s"] / len(by_process)
        + (statistics.mean(firsts) - steady) * BLOCK**2,
        "assembly_s": once["assemblage_s"],
    }


def roof_share(buildings) -> float:
    """Share of a tile's pixels a footprint touches (grown by one pixel), as the build does."""
    from layers.solar.build import roof_mask
    from layers.solar.grid import tile_transform

    shape = (KM * 2000, KM * 2000)
    mask = roof_mask(buildings, tile_transform(BENCH_TILE), shape)
    return float(mask.mean())


def pma_tiles(density: float):
    """(buildings per km² of each PMA tile), from the communes' populations and areas."""
    from shapely.geometry import box

    from layers.solar.fetch import tiles_for
    from layers.solar.grid import tile_bounds
    from layers.territory import load_territory

    communes = load_territory(DEFAULT_GEODATA).communes.to_crs(2154)
    area_km2 = communes.geometry.area.sum() / 1e6
    per_person = density * area_km2 / communes["population"].sum()
    communes = communes.assign(batiments=communes["population"] * per_person)
    keys = tiles_for(communes.union_all(), ring=0)
    sindex = communes.sindex
    out = []
    for key in keys:
        square = box(*tile_bounds(key))
        count = 0.0
        for i in sindex.query(square):
            row = communes.iloc[i]
            overlap = row.geometry.intersection(square).area
            count += row["batiments"] * overlap / row.geometry.area
        out.append(count)  # per tile = per km²
    return np.array(out), per_person, float(communes["batiments"].sum()), keys


def window_ratio(keys) -> float:
    """The PMA's mean window per tile over a full 2 × 2 block's (the build's blocks)."""
    from layers.solar.build import BuildParams
    from layers.solar.grid import CELL, TILE_PX

    params = BuildParams()
    grow = 2 * (int(np.ceil(params.margin / CELL)) + int(np.ceil(params.max_distance / CELL)) + 2)
    blocks: dict = {}
    for x, y in keys:
        blocks.setdefault((x // BLOCK, y // BLOCK), []).append((x, y))
    total = 0
    for members in blocks.values():
        wide = len({k[0] for k in members}) * TILE_PX + grow
        tall = len({k[1] for k in members}) * TILE_PX + grow
        total += wide * tall
    full = (BLOCK * TILE_PX + grow) ** 2 / BLOCK**2
    return total / len(keys) / full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sectors", type=int, default=36)
    parser.add_argument("--max-distance", type=float, default=200.0)
    parser.add_argument("--density", type=float, default=375.0)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes of one core each (build --workers)"
    )
    args = parser.parse_args()
    import pyogrio

    densities, per_person, total, keys = pma_tiles(args.density)
    ratio = window_ratio(keys)
    cores = os.cpu_count() or 1
    mode = (
        f"un processus, {cores} cœurs"
        if args.workers == 1
        else f"{args.workers} processus d'un cœur, {cores} cœurs"
    )
    from layers.formatting import fmt_int

    print(
        f"PMA : {len(densities)} dalles de 1 km² touchent ses communes ; {fmt_int(total)} "
        f"bâtiments supposés ({args.density:g}/km², {per_person:.3f} par habitant)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        variants = {}
        for keep in (1.0, 0.25, 0.02):  # a mining cité, a suburb, fields with a pond
            files = write_territory(tmp / f"t{keep}", km=KM, first_tile=BENCH_TILE, density=keep)
            frame = pyogrio.read_dataframe(files.buildings, layer="batiment")
            variants[keep] = (files, len(frame) / KM**2, roof_share(frame.to_crs(2154)))
        runs = []
        for run in range(args.runs):
            costs = {}
            for keep, (files, _per_km2, _share) in variants.items():
                out = tmp / f"m{run}-{keep}"
                costs[keep] = build(files.lidar_dir, files.buildings, out, args, False)
            dense = variants[1.0][0]
            full = (  # the old default, once: it does not enter the extrapolation
                build(dense.lidar_dir, dense.buildings, tmp / "sol", args, True)
                if not run
                else None
            )
            shares = np.array([variants[k][2] for k in variants])
            times = np.array([costs[k]["tile_s"] for k in variants])
            b, a = np.polyfit(shares, times, 1)
            # the faces stage: per tile, a line in the buildings per km²
            per_km2 = np.array([variants[k][1] for k in variants])
            face_times = np.array([costs[k]["faces_tile_s"] for k in variants])
            d, c = np.polyfit(per_km2, face_times, 1)
            runs.append((costs, full, a, b, c, d))
    print()
    print(f"Débit mesuré avec {mode} : secondes par dalle, en régime établi.")
    print(
        "| bâtiments/km² | part de pixels de toit | s par dalle (toits) | s par dalle (pans) "
        "| s par dalle (--sol) |"
    )
    print("|---|---|---|---|---|")
    for keep, (_p, per_km2, share) in variants.items():
        t = [r[0][keep]["tile_s"] for r in runs]
        f = [r[0][keep]["faces_tile_s"] for r in runs]
        sol = f"{runs[0][1]['tile_s']:.1f}" if keep == 1.0 else "—"
        spread = f"{statistics.mean(t):.1f} ({min(t):.1f}–{max(t):.1f})"
        faces = f"{statistics.mean(f):.1f} ({min(f):.1f}–{max(f):.1f})"
        print(f"| {per_km2:.0f} | {share:.1%} | {spread} | {faces} | {sol} |")
    print()
    print("| classe | bâtiments/km² | dalles du PMA | s par dalle (modèle) |")
    print("|---|---|---|---|")
    share_per_building = variants[1.0][2] / variants[1.0][1]
    dense_buildings = variants[1.0][1] * KM**2
    totals, onces, face_hours = [], [], []
    for costs, _full, a, b, c, d in runs:
        cost = a * ratio + b * np.minimum(densities * share_per_building, 1.0)
        faces = np.maximum(c + d * densities, 0.0)
        face_hours.append(float(faces.sum()) / 3600)
        cost = cost + faces
        startup = max(c["startup_s"] for c in costs.values())
        assembly = costs[1.0]["assembly_s"] * total / dense_buildings
        onces.append((startup, assembly))
        totals.append((float(cost.sum()) + startup + assembly) / 3600)
    a_m = statistics.mean(r[2] for r in runs)
    b_m = statistics.mean(r[3] for r in runs)
    c_m = statistics.mean(r[4] for r in runs)
    d_m = statistics.mean(r[5] for r in runs)
    for name, lo, hi in CLASSES:
        sel = (densities >= lo) & (densities < hi)
        if sel.any():
            mean_cost = float(
                np.mean(
                    a_m * ratio
                    + b_m * densities[sel] * share_per_building
                    + np.maximum(c_m + d_m * densities[sel], 0.0)
                )
            )
            top = f"{hi:g}" if hi < 1e8 else "…"
            print(f"| {name} | {lo:g}–{top} | {int(sel.sum())} | {mean_cost:.1f} |")
    print()
    print(
        f"Modèle : s par dalle = {a_m:.2f} × {ratio:.3f} + {b_m:.1f} × part de pixels de toit "
        f"({share_per_building * 1e4:.2f} % de pixels par tranche de 100 bâtiments/km² ; "
        f"{ratio:.3f} = fenêtre moyenne par dalle du PMA, blocs coupés par ses bords compris, "
        "sur celle d'un bloc de 2 × 2 dalles)."
    )
    print(
        f"Pans et panneaux : s par dalle = {c_m:.2f} + {d_m * 100:.2f} par tranche de 100 "
        "bâtiments/km² ; part du PMA par exécution : "
        + ", ".join(f"{h:.2f} h" for h in face_hours)
        + " (comprise dans le total ci-dessous)."
    )
    print(
        "Une fois par calcul : chargement des noyaux "
        + ", ".join(f"{o[0]:.1f}" for o in onces)
        + " s ; assemblage du magasin, au prorata des toits (~"
        + fmt_int(total)
        + ") : "
        + ", ".join(f"{o[1]:.0f}" for o in onces)
        + " s."
    )
    print(
        f"PMA sur cette machine ({mode}), par exécution : "
        + ", ".join(f"{t:.2f} h" for t in totals)
        + f" ; écart {min(totals):.2f}–{max(totals):.2f} h (borne haute : les dalles sans "
        "bâtiment, que le calcul saute, sont comptées)."
    )
    old = runs[0][1]["tile_s"]  # with the same processes
    hours = old * len(densities) / 3600
    print(
        f"Ancien calcul complet (--sol, une exécution) : {old:.1f} s par dalle, "
        f"soit {hours:.2f} h pour les {len(densities)} dalles."
    )


if __name__ == "__main__":
    main()
