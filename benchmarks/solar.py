"""Speed of the solar engine on the synthetic district, and GRASS GIS in the same run.

    .venv/bin/python benchmarks/solar.py [--sizes 250 500 1000 2000] [--grass]

Prints, per size: seconds of the sky (once per run) and of the one-pass sweep (slope,
horizons, sky view and annual sum fused), ns per pixel, peak memory (RSS, cumulative: sizes
run in increasing order); the sweep's time against ``--max-distance``; per-roof statistics
for 100,000 roofs on a 4000² raster; and with ``--grass`` (Debian ``grass-core``: ``make
bench-solar`` installs it) the time of GRASS ``r.horizon`` + ``r.sun`` (12 representative
days, hourly, same sectors and distance) on the same surface model, as a ratio — in-process,
then the whole ``pma-atlas solar compute`` command as a user runs it (first run with an
empty numba cache, then a later run). Numba compiles once before in-process timing.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from layers.demo.district import generate
from layers.solar.irradiation import irradiation_sweep
from layers.solar.raster import Raster, write_cog
from layers.solar.sky import read_weather, sky_tables, sun_and_sky

ROOT = Path(__file__).resolve().parents[1]
EPW = ROOT / "geodata" / "BEL_VLG_Uccle.064470_TMYx.2007-2021.epw"
DAYS = [17, 47, 75, 105, 135, 162, 198, 228, 258, 288, 318, 344]  # one per month


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def engine(z: np.ndarray, cell: float, tables, sectors: int, distance: float) -> float:
    """Seconds of one sweep."""
    t0 = time.perf_counter()
    irradiation_sweep(z, cell, tables, sectors, distance)
    return time.perf_counter() - t0


def growth(dsm: np.ndarray, cell: float, tables, args) -> None:
    """Why 2000² costs more per pixel than its 1000² corner: size, or what it holds?

    The four 1000² quarters, the whole 2000², and a 2000² made of one quarter four times
    (same content, four times the size). Equal ns/px for the copy and its quarter: the
    sweep is linear in size, and the rise comes from what the larger raster holds.
    """
    print("\nCroissance 1000² → 2000² (balayage seul) :")

    def ns(z: np.ndarray) -> float:
        z = np.ascontiguousarray(z)
        best = min(engine(z, cell, tables, args.sectors, args.max_distance) for _ in range(2))
        return best / z.size * 1e9

    quarters = {
        "nord-ouest": dsm[:1000, :1000],
        "nord-est": dsm[:1000, 1000:],
        "sud-ouest": dsm[1000:, :1000],
        "sud-est": dsm[1000:, 1000:],
    }
    costs = {name: ns(z) for name, z in quarters.items()}
    for name, value in costs.items():
        print(f"  quart {name:<10} 1000² : {value:6.0f} ns/px")
    print(f"  moyenne des quarts      : {np.mean(list(costs.values())):6.0f} ns/px")
    print(f"  entier            2000² : {ns(dsm):6.0f} ns/px")
    print(f"  sud-ouest × 4     2000² : {ns(np.tile(quarters['sud-ouest'], (2, 2))):6.0f} ns/px")


def grass_run(
    tif: Path, sectors: int, distance: float, workdir: Path
) -> tuple[float, float, float, np.ndarray]:
    """Seconds of r.horizon, of the clamp at 0° (not counted: our workaround) and of r.sun
    (12 days, hourly) on the same DSM, and the sum of r.sun's daily global irradiation over
    the 12 days [Wh/m²] per pixel."""
    loc = workdir / "loc"
    subprocess.run(["grass", "-c", str(tif), "-e", str(loc)], check=True, capture_output=True)

    def g(*cmd: str) -> None:
        subprocess.run(
            ["grass", str(loc / "PERMANENT"), "--exec", *cmd], check=True, capture_output=True
        )

    g("r.in.gdal", f"input={tif}", "output=dsm")
    g("g.region", "raster=dsm")
    g("r.slope.aspect", "elevation=dsm", "slope=slope", "aspect=aspect")
    step = 360 / sectors
    t0 = time.perf_counter()
    g("r.horizon", "elevation=dsm", f"step={step}", f"maxdistance={distance}", "output=hor")
    t_hor = time.perf_counter() - t0
    t0 = time.perf_counter()
    # r.sun mishandles r.horizon's negative angles on slightly tilted pixels (it drops the
    # beam for whole afternoons on open flat roofs): shown by benchmarks/rsun_minimal.py.
    # Raising them to 0° changes nothing physically (no beam from a sun below 0°).
    for name in subprocess.run(
        ["grass", str(loc / "PERMANENT"), "--exec", "g.list", "type=raster", "pattern=hor_*"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split():
        g("r.mapcalc", f"expression=pos{name[3:]} = max({name}, 0.0)")
    t_clamp = time.perf_counter() - t0
    t0 = time.perf_counter()
    for day in DAYS:
        g(
            "r.sun",
            "elevation=dsm",
            "slope=slope",
            "aspect=aspect",
            "horizon_basename=pos",
            f"horizon_step={step}",
            f"day={day}",
            "step=1",
            f"glob_rad=glob_{day}",
            "nprocs=2",
        )
    t_sun = time.perf_counter() - t0
    total = None
    for day in DAYS:
        out = workdir / f"glob_{day}.tif"
        g("r.out.gdal", f"input=glob_{day}", f"output={out}", "format=GTiff", "-c")
        with rasterio.open(out) as src:
            band = src.read(1).astype("float64")
        total = band if total is None else total + band
    return t_hor, t_clamp, t_sun, total


def cli_run(dsm: Path, out: Path, sectors: int, distance: float, env: dict) -> float:
    """Seconds of the whole ``pma-atlas solar compute`` command, as a user runs it."""
    t0 = time.perf_counter()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("pma-atlas")),
            "solar",
            "compute",
            "--dsm",
            str(dsm),
            "--weather",
            str(EPW),
            "--out",
            str(out),
            "--sectors",
            str(sectors),
            "--max-distance",
            str(distance),
            "--quiet",
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return time.perf_counter() - t0


def clear_sky_12_days(lat: float, lon: float, altitude: float, linke: float = 3.0):
    """pvlib clear sky (Ineichen, Linke turbidity as r.sun's default) on the 12 days, hourly,
    as the engine's sky input: the same days and a clear sky on both sides of the comparison."""
    import pandas as pd
    import pvlib

    from layers.solar.sky import Weather, sun_and_sky

    start = pd.Timestamp("2026-01-01", tz="UTC")
    times = pd.DatetimeIndex(
        [start + pd.Timedelta(days=d - 1, hours=h) for d in DAYS for h in range(24)]
    )
    loc = pvlib.location.Location(lat, lon, altitude=altitude)
    cs = loc.get_clearsky(times + pd.Timedelta(minutes=30), model="ineichen", linke_turbidity=linke)
    cs.index = times
    weather = Weather(
        cs[["ghi", "dni", "dhi"]],
        lat,
        lon,
        altitude,
        "pvlib clear sky",
        "ciel clair Ineichen",
        pd.Timedelta(minutes=30),
    )
    return sun_and_sky(weather, "isotropic")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--sectors", type=int, default=36)
    parser.add_argument("--max-distance", type=float, default=200.0)
    parser.add_argument("--grass", action="store_true", help="also time GRASS (if installed)")
    parser.add_argument("--grass-sectors", type=int, default=24)
    args = parser.parse_args()

    import pvlib  # noqa: F401  (imported before timing: the sky below is computation only)

    district = generate()  # 2000 × 2000 px at 0.5 m
    cell = district.dsm.cell_size_m
    t0 = time.perf_counter()
    sky = sun_and_sky(read_weather(EPW), "perez")
    tables = sky_tables(sky, args.sectors, 0.2)
    t_sky = time.perf_counter() - t0
    engine(district.dsm.array[:64, :64], cell, tables, args.sectors, 20)  # numba warm-up
    print(f"Ciel (8 760 h, pvlib + tables) : {t_sky:.2f} s, une fois par calcul\n")
    print(f"{'taille':>7}{'balayage s':>12}{'total s':>9}{'ns/px':>8}{'pic Mo':>8}")
    for n in sorted(args.sizes):
        z = district.dsm.array[-n:, :n]  # south-west corner: the terril's shadow included
        sweep = engine(z, cell, tables, args.sectors, args.max_distance)
        total = sweep + t_sky
        print(
            f"{n:>6}²{sweep:>12.2f}{total:>9.2f}{total / (n * n) * 1e9:>8.0f}{peak_rss_mb():>8.0f}"
        )

    if max(args.sizes) >= 2000:
        growth(district.dsm.array, cell, tables, args)

    n = 1000 if 1000 in args.sizes else max(args.sizes)
    z = district.dsm.array[-n:, :n]
    print(f"\nBalayage de {n}² selon la portée des ombres ({args.sectors} secteurs) :")
    for dist in (50.0, 100.0, 200.0, 400.0):
        t0 = time.perf_counter()
        irradiation_sweep(z, cell, tables, args.sectors, dist)
        print(f"  {dist:>5.0f} m : {time.perf_counter() - t0:6.2f} s")

    import geopandas as gpd
    from affine import Affine
    from shapely import box as shp_box

    from layers.assumptions import load_assumptions
    from layers.solar.roofs import roof_statistics

    side = 4000
    rng = np.random.default_rng(0)
    irr = Raster(
        rng.uniform(700, 1400, (side, side)).astype("float32"),
        Affine(0.5, 0, 680_000, 0, -0.5, 7_040_000),
        district.dsm.crs,
    )
    xs = 680_000 + (np.arange(100_000) % 316) * 6.3
    ys = 7_040_000 - (np.arange(100_000) // 316) * 6.3
    roofs = gpd.GeoDataFrame(
        geometry=shp_box(xs + 0.5, ys - 5.5, xs + 5.5, ys - 0.5), crs=district.dsm.crs
    )
    tilt = rng.uniform(0, 50, (side, side)).astype("float32")
    az = rng.uniform(0, 360, (side, side)).astype("float32")
    hyp = load_assumptions(ROOT / "geodata")
    t0 = time.perf_counter()
    stats = roof_statistics(roofs, irr, tilt, az, hyp.roof_rules())
    t_roofs = time.perf_counter() - t0
    print(f"\nStatistiques par toit : {len(stats):,} toits sur {side}² px en {t_roofs:.2f} s")

    if args.grass:
        if shutil.which("grass") is None:
            print("\nGRASS absent : `make bench-solar` l'installe (apt grass-core).")
            return
        compare_with_grass(district, sky, t_sky, n, args)


def compare_with_grass(district, sky, t_sky: float, n: int, args: argparse.Namespace) -> None:
    import os

    cell = district.dsm.cell_size_m
    z = district.dsm.array[-n:, :n]
    top = district.dsm.array.shape[0] - n
    transform = district.dsm.transform * district.dsm.transform.translation(0, top)
    dsm = Raster(z, transform, district.dsm.crs)
    sectors, distance = args.grass_sectors, args.max_distance
    tables_g = sky_tables(sky, sectors, 0.2)
    ours_t = engine(z, cell, tables_g, sectors, distance) + t_sky
    with tempfile.TemporaryDirectory() as tmp:
        tif = Path(tmp) / "dsm.tif"
        write_cog(tif, dsm, {}, "dsm")
        t_hor, t_clamp, t_sun, rsun = grass_run(tif, sectors, distance, Path(tmp))
        grass_t = t_hor + t_sun
        env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(tmp) / "numba-cache")}
        first = cli_run(tif, Path(tmp) / "out1", sectors, distance, env)
        later = cli_run(tif, Path(tmp) / "out2", sectors, distance, env)
    print(
        f"\nGRASS sur {n}² ({sectors} secteurs, {distance:.0f} m) : r.horizon {t_hor:.1f} s"
        f" + r.sun 12 jours {t_sun:.1f} s = {grass_t:.1f} s (sans les {t_clamp:.1f} s de la"
        " remise à 0° des horizons négatifs, notre correctif)"
    )
    print(
        f"  Atlas PMA en processus (année entière, ciel compris) : {ours_t:.2f} s → "
        f"{grass_t / ours_t:.0f}× plus rapide"
    )
    print(
        f"  Commande `pma-atlas solar compute` (lecture, calcul, COG, run.json) : premier "
        f"lancement (cache numba vide) {first:.1f} s → {grass_t / first:.0f}× ; lancements "
        f"suivants {later:.1f} s → {grass_t / later:.0f}×"
    )
    # agreement on open flat roofs: the same 12 days, a clear sky on both sides
    from pyproj import Transformer

    x, y = transform * (n / 2, n / 2)
    lon, lat = Transformer.from_crs(2154, 4326, always_xy=True).transform(x, y)
    cs = clear_sky_12_days(lat, lon, float(np.nanmean(z)))
    clear = irradiation_sweep(z, cell, sky_tables(cs, sectors, 0.2), sectors, distance)
    ground = district.dtm.array[-n:, :n]
    flat_roof = (clear.surface_tilt < 1.0) & (clear.svf > 0.98) & (z - ground > 5.0)
    ratio = (clear.irradiation[flat_roof] * 1000) / rsun[flat_roof]
    # the same question without either engine's shading: the clear sky's own horizontal sum
    ghi_sum = float(np.sum(cs.ghi))  # [Wh/m²] over the 12 days, what an open flat roof gets
    ours_vs_sky = np.median(clear.irradiation[flat_roof] * 1000) / ghi_sum
    sky_vs_rsun = ghi_sum / np.median(rsun[flat_roof])
    print(
        f"  Toits plats dégagés ({int(flat_roof.sum())} px), 12 jours de ciel clair : "
        f"Atlas PMA / r.sun = {np.median(ratio):.3f} (médiane), "
        f"{np.percentile(ratio, 5):.3f} à {np.percentile(ratio, 95):.3f} (5–95 %) ; "
        "horizons de r.horizon ramenés à ≥ 0° avant r.sun (voir benchmarks/rsun_minimal.py)"
    )
    same_sky = abs(ours_vs_sky - 1) < 0.01
    print(
        f"  dont : Atlas PMA / somme horizontale du même ciel pvlib = {ours_vs_sky:.3f} ; "
        f"ciel pvlib Ineichen (TL 3) / r.sun (ESRA, TL 3) = {sky_vs_rsun:.3f}"
        + (
            " → l'écart restant est celui des deux modèles de ciel clair, pas des ombres"
            if same_sky
            else " → écart non expliqué par les seuls modèles de ciel : à examiner"
        )
    )


if __name__ == "__main__":
    main()
