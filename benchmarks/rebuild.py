"""A planner's rebuild after new BD TOPO buildings in one commune, and what it costs at PMA scale.

    .venv/bin/python benchmarks/rebuild.py [--km 4] [--commune 3]

1. **On a real build.** The fictional territory (``--km`` × ``--km`` tiles, 1 527 buildings
   per km²) is built (``pma-atlas solar build``, a subprocess, as a user runs it). Then a
   BD TOPO update lands in a « commune » of ``--commune`` × ``--commune`` tiles (3 × 3 =
   9 km², the PMA's communes average 6.7 km², Lens 11.7 km²): a tenth of its buildings
   change height, 20 are new, 5 are gone. The rebuild must recompute those tiles only (the
   buildings do not change the surface model, so no neighbour's shade changes) — printed:
   the tiles recomputed, the wall time, and its parts (start-up, tiles, assembly).
2. **What does not shrink with the commune, at the PMA's size.** A rebuild also reads every
   building, checks every LiDAR header, compares every tile's record, and assembles every
   roof into ``toits.gpkg``. These are timed on inputs of the PMA's size made from the same
   territory: 1 124 tiles (those touching the PMA's communes), each holding the buildings
   of the density ``benchmarks/density.py`` gives it (375 909 in all, copies of the
   territory's, moved and renamed), with the roofs of the store built in step 1 copied the
   same way, the real communes of the PMA for the join. The LiDAR files are not copied
   (2 × 1 124 × 16 MB): one real-size tile's header check and checksum are timed and
   multiplied.

The commune rebuild at PMA scale = step 1's tiles (per tile) × the commune's tiles + the
fixed parts of step 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from density import BENCH_TILE, EPW, pma_tiles  # noqa: E402

from layers.demo.territory import write_territory  # noqa: E402
from layers.solar.store import Manifest, StoreLayout  # noqa: E402


def run_build(lidar: Path, buildings: Path, out: Path) -> dict:
    cmd = [
        sys.executable, "-m", "layers.cli", "solar", "build", "--lidar", str(lidar),
        "--buildings", str(buildings), "--weather", str(EPW), "--out", str(out), "--quiet",
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    manifest = Manifest.read(StoreLayout(out).manifest)
    return {"wall": wall, "manifest": manifest, "said": done.stdout.strip()}


def update_commune(frame, keys: set, seed: int = 3):
    """The BD TOPO after an update in the tiles ``keys``: heights, new and gone buildings."""
    import pandas as pd

    from layers.solar.grid import keys_of

    rng = np.random.default_rng(seed)
    frame = frame.copy()
    cent = frame.to_crs(2154).geometry.representative_point()
    inside = np.array([key in keys for key in keys_of(cent.x, cent.y)])
    where = np.flatnonzero(inside)
    raised = rng.choice(where, size=len(where) // 10, replace=False)
    frame.loc[frame.index[raised], "hauteur"] = frame["hauteur"].iloc[raised] + 3.0
    new = frame.iloc[rng.choice(where, size=20, replace=False)].copy()
    new["cleabs"] = [f"BATIMENT09{i:014d}" for i in range(len(new))]
    new["geometry"] = new.geometry.translate(4.0, 4.0)
    gone = frame.index[rng.choice(np.setdiff1d(where, raised), size=5, replace=False)]
    return pd.concat([frame.drop(index=gone), new], ignore_index=True), int(inside.sum())


def pma_sized(store: Path, buildings, tmp: Path) -> dict:
    """Inputs and a store the PMA's size, copied from the territory's; returns their paths."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    from layers.solar.grid import keys_of
    from layers.solar.store import StoreLayout, key_of, tile_name

    densities, _per_person, _total, keys = pma_tiles(375.0)
    frame = buildings.to_crs(2154)
    cent = frame.geometry.representative_point()
    frame["_src"] = keys_of(cent.x, cent.y)
    sources = sorted(set(frame["_src"]))
    by_source = {k: frame[frame["_src"] == k].drop(columns="_src") for k in sources}
    roofs = {
        key_of(p.stem): gpd.read_parquet(p) for p in StoreLayout(store).roofs_dir.glob("*.parquet")
    }
    rng = np.random.default_rng(7)
    out = tmp / "pma"
    StoreLayout(out).roofs_dir.mkdir(parents=True)
    StoreLayout(out).cog_dir.mkdir()
    parts, names = [], []
    for i, (key, density) in enumerate(zip(keys, densities, strict=True)):
        src = sources[i % len(sources)]
        dx, dy = (key[0] - src[0]) * 1000.0, (key[1] - src[1]) * 1000.0
        mine = by_source[src]
        n = min(len(mine), int(round(density)))
        pick = rng.choice(len(mine), size=n, replace=False)
        chosen = mine.iloc[pick].copy()
        chosen["geometry"] = chosen.geometry.translate(dx, dy)
        chosen["cleabs"] = [f"BATIMENT{key[0]:04d}{key[1]:04d}{j:08d}" for j in range(n)]
        parts.append(chosen)
        name = tile_name(key)
        names.append(name)
        src_roofs = roofs[src]
        kept = src_roofs[src_roofs["cleabs"].isin(set(mine["cleabs"].iloc[pick]))].copy()
        rename = dict(zip(mine["cleabs"].iloc[pick], chosen["cleabs"], strict=True))
        kept["cleabs"] = kept["cleabs"].map(rename)
        kept["geometry"] = kept.geometry.translate(dx, dy)
        kept["dalle"] = name
        kept.to_parquet(StoreLayout(out).roofs_part(name))
        cog = StoreLayout(store).cog(tile_name(src))
        os.symlink(cog, StoreLayout(out).cog(name))  # read for the overview only
    every = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=2154)
    gpkg = tmp / "batiment-pma.gpkg"
    pyogrio.write_dataframe(every, gpkg, layer="batiment", driver="GPKG")
    return {"store": out, "names": names, "buildings": gpkg, "count": len(every), "keys": keys}


def fixed_parts(pma: dict, lidar: Path) -> dict[str, float]:
    """Seconds of what a rebuild does over the whole PMA whatever the commune."""
    from layers.settings import DEFAULT_GEODATA
    from layers.solar.build import BuildParams, read_buildings, scan_lidar, tile_inputs
    from layers.solar.build_assemble import Context, assemble
    from layers.solar.grid import keys_of
    from layers.solar.inputs import check_tile, sha256_file
    from layers.territory import load_territory

    t = {}
    t0 = time.perf_counter()
    frame = read_buildings(pma["buildings"])
    cent = frame.geometry.representative_point()
    frame["_tile"] = keys_of(cent.x, cent.y)
    t["lecture des bâtiments"] = time.perf_counter() - t0
    one = next(iter(scan_lidar(lidar).items()))
    t0 = time.perf_counter()
    for _ in range(20):
        check_tile(one[1]["MNS"], one[0], read_data=False)
    t["en-têtes LiDAR (2 × 1 124)"] = (time.perf_counter() - t0) / 20 * 2 * len(pma["keys"])
    t0 = time.perf_counter()
    digest = sha256_file(one[1]["MNS"])
    # the first build hashes every file; later ones only those whose size or mtime changed
    t["empreintes LiDAR (2 × 1 124, 1re fois)"] = (time.perf_counter() - t0) * 2 * len(pma["keys"])
    tiles = {
        k: {"MNS": Path(f"/nowhere/{k}-MNS"), "MNT": Path(f"/nowhere/{k}-MNT")} for k in pma["keys"]
    }
    shas = {p: digest for v in tiles.values() for p in v.values()}
    t0 = time.perf_counter()
    by_tile = dict(iter(frame.groupby("_tile", sort=False)))  # as the build does
    none = frame.iloc[:0]
    for key in pma["keys"]:
        tile_inputs(key, tiles, by_tile.get(key, none), BuildParams(), shas, ("meteo", None))
    t["fiches des dalles"] = time.perf_counter() - t0
    communes = load_territory(DEFAULT_GEODATA).communes
    t0 = time.perf_counter()
    assemble(pma["store"], pma["names"], Context(communes))
    t["assemblage (toits.gpkg, aperçu)"] = time.perf_counter() - t0
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--km", type=int, default=4)
    parser.add_argument("--commune", type=int, default=3)
    args = parser.parse_args()
    import pyogrio

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = write_territory(tmp / "t", km=args.km, first_tile=BENCH_TILE)
        store = tmp / "magasin"
        first = run_build(files.lidar_dir, files.buildings, store)
        tiles = first["manifest"].dalles
        per_tile = np.mean([t["duree_s"] for t in tiles.values()])
        print(
            f"Construction complète : {len(tiles)} dalles en {first['wall']:.0f} s "
            f"({per_tile:.1f} s par dalle)."
        )
        frame = pyogrio.read_dataframe(files.buildings, layer="batiment")
        x0, y0 = BENCH_TILE
        commune = {(x0 + i, y0 - j) for i in range(args.commune) for j in range(args.commune)}
        updated, inside = update_commune(frame, commune)
        path = tmp / "batiment-maj.gpkg"
        pyogrio.write_dataframe(updated, path, layer="batiment", driver="GPKG")
        again = run_build(files.lidar_dir, path, store)
        redone = sorted(n for n, t in again["manifest"].dalles.items() if t != tiles.get(n))
        once = again["manifest"].dernier_calcul
        tile_s = sum(again["manifest"].dalles[n].duree_s for n in redone)
        print(
            f"Mise à jour de la BD TOPO dans une commune de {len(commune)} dalles "
            f"({inside} bâtiments : un dixième rehaussé de 3 m, 20 nouveaux, 5 disparus) : "
            f"{len(redone)} dalles recalculées ({', '.join(redone)}), "
            f"{again['wall']:.0f} s en tout, dont dalles {tile_s:.0f} s, assemblage "
            f"{once['assemblage_s']:.1f} s, le reste (démarrage, lecture et contrôle des "
            f"entrées) {again['wall'] - tile_s - once['assemblage_s']:.0f} s."
        )
        pma = pma_sized(store, frame, tmp)
        fixed = fixed_parts(pma, files.lidar_dir)
        print(f"\nÀ l'échelle du PMA ({len(pma['keys'])} dalles, {pma['count']:,} bâtiments) :")
        for what, seconds in fixed.items():
            print(f"  {what:<34} {seconds:7.1f} s")
        total = sum(fixed.values()) + per_tile * len(commune)
        print(
            f"Reconstruction d'une commune de {len(commune)} dalles dans le magasin du PMA : "
            f"~{total / 60:.1f} min ({len(commune)} × {per_tile:.1f} s de dalles + "
            f"{sum(fixed.values()):.0f} s fixes)."
        )


if __name__ == "__main__":
    main()
