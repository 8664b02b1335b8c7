"""Whole-raster runs: blocks with a halo, scheduled with Dask, written as a COG, with a report.

A block's core is computed from a window grown by a halo as wide as ``max_distance`` (so a
ray never misses an obstacle that an untiled run would see) and one more pixel (for the
3×3 slope). Results are written block by block: memory is bounded by the block size.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from pyproj import CRS
from rasterio.windows import Window
from tqdm import tqdm

from layers.solar.errors import SolarError
from layers.solar.irradiation import SweepResult, irradiation_sweep
from layers.solar.raster import (
    Raster,
    RasterError,
    create_tiled_gtiff,
    pixel_size_m,
    raster_profile,
    read_raster,
    to_cog,
)
from layers.solar.rules import RoofRules
from layers.solar.sky import SkyTables, Weather, cached_sky_tables, sky_tables, sun_and_sky

MIN_SECTORS, MAX_SECTORS = 4, 360  # azimuth sectors of the horizon search
MAX_DISTANCE_M = 2000.0  # [m] shadows searched this far at most


@dataclass(frozen=True)
class SkyParams:
    """What every run of the engine is computed with (defaults are the CLI's).

    Impossible values are refused in French at construction.
    """

    n_sectors: int = 36
    max_distance: float = 200.0  # [m]
    model: str = "perez"
    albedo: float = 0.2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_distance) and math.isfinite(self.albedo)):
            raise SolarError("Paramètres invalides : distance et albédo doivent être finis.")
        if not MIN_SECTORS <= self.n_sectors <= MAX_SECTORS or self.max_distance <= 0:
            raise SolarError(
                f"Paramètres invalides : secteurs ≥ {MIN_SECTORS}, distance > 0 "
                f"(secteurs entre {MIN_SECTORS} et {MAX_SECTORS})."
            )
        if self.max_distance > MAX_DISTANCE_M:
            raise SolarError(
                f"Paramètres invalides : distance d'ombre de {self.max_distance:g} m ; au plus "
                f"{MAX_DISTANCE_M:g} m (au-delà, le relief lointain compte peu et le calcul "
                "explose)."
            )
        if not 0 <= self.albedo <= 1:
            raise SolarError("L'albédo doit être compris entre 0 et 1.")


@dataclass(frozen=True)
class SolarParams(SkyParams):
    """Parameters of a ``solar compute`` run (defaults are the CLI's)."""

    block_size: int = 1024  # a block's core side [px]
    workers: int = 1  # blocks computed at once (each uses every core through numba)
    scheduler: str | None = None  # dask.distributed scheduler address

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.block_size < 16:
            raise SolarError("Paramètres invalides : bloc ≥ 16 px.")


def compute_raster(dsm: Raster, weather: Weather, params: SolarParams) -> SweepResult:
    """An untiled run on an in-memory raster (tests, small areas).

    Parameters
    ----------
    dsm
        The surface model [m], projected CRS.
    weather
        A year of hourly weather (``sky.read_weather``).
    params
        Sky model, albedo, sectors, reach.

    Returns
    -------
    SweepResult
        The whole raster's irradiation [kWh/m²/yr] and geometry.
    """
    tables = sky_tables(sun_and_sky(weather, params.model), params.n_sectors, params.albedo)
    return irradiation_sweep(
        dsm.array, dsm.cell_size_m, tables, params.n_sectors, params.max_distance
    )


@dataclass(frozen=True)
class Block:
    """A core window and the halo-grown window read to compute it."""

    core: Window
    read: Window

    @property
    def offset(self) -> tuple[int, int, int, int]:
        """The core's (row0, row1, col0, col1) inside the read window."""
        r0 = int(self.core.row_off - self.read.row_off)
        c0 = int(self.core.col_off - self.read.col_off)
        return r0, r0 + int(self.core.height), c0, c0 + int(self.core.width)


def blocks(height: int, width: int, size: int, halo: int) -> Iterator[Block]:
    """Cover a raster with square blocks, each read with a halo around it.

    Parameters
    ----------
    height, width
        The raster's size [px].
    size
        A block's core side [px] (the last row and column of blocks may be smaller).
    halo
        Pixels read around each core [px], clipped to the raster.

    Yields
    ------
    Block
        Each block's core window and read window (rasterio windows), row by row.
    """
    for row in range(0, height, size):
        for col in range(0, width, size):
            h, w = min(size, height - row), min(size, width - col)
            r0, c0 = max(0, row - halo), max(0, col - halo)
            r1, c1 = min(height, row + h + halo), min(width, col + w + halo)
            yield Block(Window(col, row, w, h), Window(c0, r0, c1 - c0, r1 - r0))


def _block_task(
    dsm_path: str, block: Block, tables: SkyTables, params: SolarParams
) -> tuple[Block, np.ndarray]:
    raster = read_raster(Path(dsm_path), window=block.read)
    origin = (int(block.read.row_off), int(block.read.col_off))
    out = irradiation_sweep(
        raster.array,
        raster.cell_size_m,
        tables,
        params.n_sectors,
        params.max_distance,
        core=block.offset,
        origin=origin,
    )
    return block, out.irradiation


@contextmanager
def dask_client(scheduler: str) -> Iterator:
    """A dask.distributed client, closed on leaving (``solar compute`` and ``solar build``).

    Parameters
    ----------
    scheduler
        The scheduler's address (``tcp://hote:8786``).

    Yields
    ------
    dask.distributed.Client

    Raises
    ------
    SolarError
        The ``dask`` extra is not installed.
    """
    try:
        from dask.distributed import Client
    except ImportError as err:  # pragma: no cover - depends on the install
        raise SolarError(
            "Le calcul distribué demande l'extra « dask » (pip install 'atlas-pma[dask]')."
        ) from err
    with Client(scheduler) as client:
        yield client


def finished(client, fn: Callable, jobs: list[tuple]) -> Iterator:
    """Run jobs on a cluster and yield their results as each one finishes.

    Parameters
    ----------
    client
        A dask.distributed client (:func:`dask_client`).
    fn
        The function each job calls (importable by the workers).
    jobs
        Its arguments, one tuple per job.

    Yields
    ------
    object
        ``fn(*job)``, in the order jobs finish.
    """
    from dask.distributed import as_completed

    for future in as_completed([client.submit(fn, *job, pure=False) for job in jobs]):
        yield future.result()


def _run_blocks(
    dsm_path: Path,
    all_blocks: list[Block],
    tables: SkyTables,
    params: SolarParams,
    sink: Callable[[Block, np.ndarray], None],
    progress: bool,
) -> None:
    """Run blocks and hand each result to ``sink``.

    A dask.distributed cluster when an address is given, else local threads in batches of
    ``workers`` (memory stays bounded by the batch; numba's kernels release the GIL).
    """
    bar = tqdm(total=len(all_blocks), desc="Blocs", unit="bloc", disable=not progress)
    if params.scheduler:
        with dask_client(params.scheduler) as client:
            shared = client.scatter(tables, broadcast=True)
            jobs = [(str(dsm_path), t, shared, params) for t in all_blocks]
            for result in finished(client, _block_task, jobs):
                sink(*result)
                bar.update()
    else:
        from concurrent.futures import ThreadPoolExecutor

        batch = max(1, params.workers)
        with ThreadPoolExecutor(max_workers=batch) as pool:
            for i in range(0, len(all_blocks), batch):
                for block, array in pool.map(
                    lambda t: _block_task(str(dsm_path), t, tables, params),
                    all_blocks[i : i + batch],
                ):
                    sink(block, array)
                    bar.update()
    bar.close()


@dataclass
class RunReport:
    """What ``run.json`` records."""

    parameters: dict
    weather: dict
    dsm: dict
    outputs: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


def library_versions() -> dict[str, str]:
    """The versions of the libraries a result depends on (read from metadata, not imported).

    Returns
    -------
    dict
        Python, numpy, numba, pvlib, rasterio, GDAL… → version (``"absent"`` if missing).
    """
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "absent"

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": version("numba"),
        "pvlib": version("pvlib"),
        "rasterio": rasterio.__version__,
        "gdal": rasterio.__gdal_version__,
        "dask": version("dask"),
    }


def compute(
    dsm_path: Path,
    weather_path: Path,
    out_dir: Path,
    params: SolarParams,
    roofs_path: Path | None = None,
    dtm_path: Path | None = None,
    progress: bool = True,
    rules: RoofRules | None = None,
    cache_dir: Path | None = None,
) -> RunReport:
    """Compute ``out_dir/irradiation.tif`` (COG), ``roofs.gpkg`` (with roofs) and ``run.json``.

    All or nothing: inputs are checked first, outputs are written in a hidden folder
    beside ``out_dir`` and moved into it only once everything succeeded, so a bad input
    (corrupt, truncated or empty raster, no valid pixel, unreadable roofs or weather)
    raises an :class:`SolarError` in French and leaves nothing new in ``out_dir``.

    Parameters
    ----------
    dsm_path
        The surface model (GeoTIFF, projected CRS, heights [m]).
    weather_path
        A year of hourly weather: EPW or PVGIS TMY (csv/json).
    out_dir
        Where the outputs go.
    params
        Sky model, albedo, sectors, reach, block size, workers or scheduler.
    roofs_path
        Building footprints (any vector format with a CRS): per-roof statistics.
    dtm_path
        The terrain model on the same grid: roofs' height above ground is checked.
    progress
        Show a tqdm bar.
    rules
        The roof rules (needed with ``roofs_path``).
    cache_dir
        Where the weather file's sky tables are kept between runs (``None``: none kept).

    Returns
    -------
    RunReport
        What was computed, from what, with which versions and timings [s] (also
        ``run.json``).

    Raises
    ------
    SolarError
        Any input refused, in French; nothing is left in ``out_dir``.
    """
    out_dir = Path(out_dir)
    if roofs_path is not None and rules is None:
        raise SolarError("Les statistiques par toit demandent leurs règles (RoofRules).")
    check_raster(dsm_path, "MNS")
    if dtm_path is not None:
        check_raster(dtm_path, "MNT")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        report = _compute(
            dsm_path, weather_path, staging, params, roofs_path, dtm_path, progress, rules,
            cache_dir,
        )  # fmt: skip
        report.outputs = {
            k: (str(out_dir / Path(v).name) if isinstance(v, str) else v)
            for k, v in report.outputs.items()
        }
        (staging / "run.json").write_text(
            json.dumps(asdict(report), indent=2, ensure_ascii=False, default=str),
            encoding="utf-8",
        )
        out_dir.mkdir(exist_ok=True)
        for item in staging.iterdir():
            os.replace(item, out_dir / item.name)
    except SolarError:
        raise
    except (rasterio.errors.RasterioError, OSError, ValueError) as err:
        raise RasterError(f"Calcul impossible : entrée illisible ou abîmée ({err}).") from err
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def check_raster(path: Path, label: str) -> None:
    """Read a surface model whole, block by block, before anything is written.

    Parameters
    ----------
    path
        The raster.
    label
        What it is, for the message (« MNS »).

    Returns
    -------
    None

    Raises
    ------
    RasterError
        Corrupt, truncated, empty or all-nodata file, or no CRS.
    """
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise RasterError(f"{label} {Path(path).name} : aucun système de coordonnées.")
            if src.width < 3 or src.height < 3:
                raise RasterError(f"{label} {Path(path).name} : raster vide ou trop petit.")
            valid = 0
            for _, window in src.block_windows(1):
                block = src.read(1, window=window, masked=True)
                valid += int(np.isfinite(block.filled(np.nan)).sum())
    except RasterError:
        raise
    except (rasterio.errors.RasterioError, OSError, ValueError) as err:
        raise RasterError(
            f"{label} illisible ou abîmé ({Path(path).name}) : {str(err).splitlines()[0][:200]}"
        ) from err
    if valid == 0:
        raise RasterError(f"{label} {Path(path).name} : aucun pixel valide (tout en nodata).")
    pixel_size_m(src.transform, CRS.from_wkt(src.crs.to_wkt()))


def _compute(
    dsm_path: Path,
    weather_path: Path,
    out_dir: Path,
    params: SolarParams,
    roofs_path: Path | None,
    dtm_path: Path | None,
    progress: bool,
    rules: RoofRules | None = None,
    cache_dir: Path | None = None,
) -> RunReport:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    profile = raster_profile(dsm_path)
    cell = pixel_size_m(profile["transform"], profile["crs"])
    tables, weather = cached_sky_tables(
        weather_path, params.model, params.n_sectors, params.albedo, cache_dir
    )
    timings["sky"] = time.perf_counter() - t0

    out_dir.mkdir(parents=True, exist_ok=True)
    halo = int(math.ceil(params.max_distance / cell)) + 1
    all_blocks = list(blocks(profile["height"], profile["width"], params.block_size, halo))
    tmp = out_dir / "irradiation.tmp.tif"
    create_tiled_gtiff(
        tmp,
        profile["height"],
        profile["width"],
        profile["transform"],
        profile["crs"],
        "irradiation annuelle [kWh/m2/an]",
    )
    t1 = time.perf_counter()
    with rasterio.open(tmp, "r+") as dst:
        _run_blocks(
            dsm_path,
            all_blocks,
            tables,
            params,
            lambda block, arr: dst.write(arr, 1, window=block.core),
            progress,
        )
    timings["blocks"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    target = out_dir / "irradiation.tif"
    tags = {
        "units": "kWh/m2/an",
        "quantity": "irradiation annuelle (plan de chaque pixel)",
        "model": params.model,
        "weather": str(weather["name"]),
        "weather_source": str(weather["source"]),
        "producer": "Atlas PMA (layers.solar)",
    }
    to_cog(tmp, target, tags)
    tmp.unlink()
    timings["cog"] = time.perf_counter() - t2

    report = RunReport(
        parameters={
            **asdict(params),
            "dsm": str(dsm_path),
            "weather_file": str(weather_path),
            "roofs": str(roofs_path) if roofs_path else None,
            "dtm": str(dtm_path) if dtm_path else None,
        },
        weather=weather,
        dsm={
            "height": profile["height"],
            "width": profile["width"],
            "crs": profile["crs"].to_string(),
            "cell_size_m": cell,
            "halo_px": halo,
            "blocks": len(all_blocks),
        },
        outputs={"irradiation": str(target)},
        versions=library_versions(),
    )
    if roofs_path is not None and rules is not None:  # checked by compute()
        from layers.solar.roofs import roofs_from_files

        t3 = time.perf_counter()
        roofs_out = out_dir / "roofs.gpkg"
        n_roofs = roofs_from_files(
            roofs_path,
            target,
            dsm_path,
            roofs_out,
            dtm_path,
            weather,
            rules,
        )
        timings["roofs"] = time.perf_counter() - t3
        report.outputs["roofs"] = str(roofs_out)
        report.outputs["n_roofs"] = n_roofs
    timings["total"] = time.perf_counter() - t0
    report.timings_s = {k: round(v, 3) for k, v in timings.items()}
    return report
