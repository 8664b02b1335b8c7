"""The build's compute stage: windows of 2 × 2 tiles, swept once, each tile written.

A :class:`BlockJob` is what one worker process receives (plain data, picklable); a block is
computed by :func:`compute_block` into each tile's COG and roof table, and reported back as
:class:`TileDone` rows. :func:`run_blocks` runs the jobs here, in local processes or on
dask.distributed, and yields a :class:`BlockResult` per block as blocks finish. Nothing
here touches the manifest: :mod:`layers.solar.build` records what comes back.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numba
import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.windows import from_bounds

from layers.solar.grid import CELL, GRID_LEFT, GRID_TOP, TILE_PX, Key, tile_of, tile_origin
from layers.solar.inputs import valid_heights
from layers.solar.irradiation import irradiation_sweep, warm_up
from layers.solar.machine import available_memory, usable_cores
from layers.solar.pipeline import SkyParams, dask_client, finished
from layers.solar.raster import Raster, write_cog
from layers.solar.rules import RoofRules
from layers.solar.sky import SkyTables
from layers.solar.store import StoreLayout

LIDAR = dict[Key, dict[str, Path]]  # (x_km, y_km) → {"MNS": path, "MNT": path}
PRODUCER = {"units": "kWh/m2/an", "producer": "Atlas PMA (layers.solar.build)"}


class TileDone(NamedTuple):
    """A tile a block computed."""

    key: Key
    missing: list[Key]  # neighbours within the shadows' reach that had no tile
    no_building: bool  # nothing to compute: an empty raster was written


class BlockResult(NamedTuple):
    """What a worker returns for one block."""

    done: list[TileDone]
    seconds: float  # the block's own time in its process [s]
    who: str  # host:pid
    peak_mb: float  # the process's peak RSS [MB]
    startup_s: float  # loading the kernels before this process's first block (0 after)


@dataclass(frozen=True, eq=False)
class BlockJob:
    """Up to 2 × 2 tiles computed in one window (what a worker process receives).

    Attributes
    ----------
    keys, names
        The tiles to compute and their store names, in the same order.
    lidar
        Every LiDAR tile of the folder: the window's halo reads the neighbours.
    buildings
        The block's buildings, with their tile in ``_tile``.
    params
        The build's parameters (``BuildParams``: margin, ground, sky…).
    rules
        The roof rules.
    out
        The store's folder.
    """

    keys: list[Key]
    names: list[str]
    lidar: LIDAR
    buildings: gpd.GeoDataFrame
    params: SkyParams
    rules: RoofRules
    out: Path

    @property
    def margin_m(self) -> float:
        """How far buildings may reach across their tile's edge [m]."""
        return float(getattr(self.params, "margin", 0.0))

    @property
    def ground(self) -> bool:
        """Whether the ground gets irradiation too (not only the roofs)."""
        return bool(getattr(self.params, "ground", False))

    @property
    def reach_km(self) -> int:
        """Tiles within this many km of a tile shade it or hold its buildings' edges."""
        return math.ceil((self.params.max_distance + self.margin_m) / 1000)


@dataclass(frozen=True)
class Window:
    """A block's window on IGN's global grid: its tiles, their margin, the halo.

    The margin holds the buildings across the tiles' edges; the halo casts shade on them.

    Attributes
    ----------
    left, top
        The window's corner [Lambert-93 m].
    width, height
        The window's size with margin and halo [px].
    margin, halo
        [px].
    offsets
        Each tile's (row, col) in the block (without margin).
    core
        The block's tiles' size, without margin nor halo [px].
    """

    left: float
    top: float
    width: int
    height: int
    margin: int
    halo: int
    offsets: dict[Key, tuple[int, int]]
    core: tuple[int, int]

    @classmethod
    def of(cls, job: BlockJob) -> Window:
        """The window of a block (see :class:`Window`).

        Parameters
        ----------
        job
            The block.

        Returns
        -------
        Window
        """
        margin = int(math.ceil(job.margin_m / CELL))
        halo = int(math.ceil(job.params.max_distance / CELL)) + 2
        kx0, kx1 = min(k[0] for k in job.keys), max(k[0] for k in job.keys)
        ky0, ky1 = min(k[1] for k in job.keys), max(k[1] for k in job.keys)
        left0, top0 = tile_origin((kx0, ky1))
        width, height = (kx1 - kx0 + 1) * TILE_PX, (ky1 - ky0 + 1) * TILE_PX
        grow = margin + halo
        return cls(
            left=left0 - grow * CELL,
            top=top0 + grow * CELL,
            width=width + 2 * grow,
            height=height + 2 * grow,
            margin=margin,
            halo=halo,
            offsets={k: ((ky1 - k[1]) * TILE_PX, (k[0] - kx0) * TILE_PX) for k in job.keys},
            core=(height, width),
        )

    @property
    def inner_shape(self) -> tuple[int, int]:
        """The tiles with their margin, without the halo [px]: what gets irradiation."""
        return (self.core[0] + 2 * self.margin, self.core[1] + 2 * self.margin)

    @property
    def inner_transform(self) -> Affine:
        """The transform of :attr:`inner_shape`."""
        return Affine(CELL, 0, self.left + self.halo * CELL, 0, -CELL, self.top - self.halo * CELL)

    @property
    def inner(self) -> tuple[int, int, int, int]:
        """``(row0, row1, col0, col1)`` of the inner part in the window [px]."""
        rows, cols = self.inner_shape
        return (self.halo, self.halo + rows, self.halo, self.halo + cols)

    @property
    def origin(self) -> tuple[int, int]:
        """The window's (row, col) on IGN's global grid: lines of the sweep follow it."""
        return (
            int(round((GRID_TOP - self.top) / CELL)),
            int(round((self.left - GRID_LEFT) / CELL)),
        )


def mosaic(
    lidar: LIDAR, kind: str, left: float, top: float, width: int, height: int
) -> tuple[np.ndarray, list[Key]]:
    """Heights of a window read from every tile it touches, and the tiles missing.

    Parameters
    ----------
    lidar
        The LiDAR tiles (``scan_lidar``).
    kind
        ``"MNS"`` or ``"MNT"``.
    left, top
        The window's corner [Lambert-93 m].
    width, height
        Its size [px].

    Returns
    -------
    tuple
        ``(heights, missing)``: float32 heights [m], NaN where no tile or no data; the tiles
        the window touches that have no such file.
    """
    out = np.full((height, width), np.nan, dtype="float32")
    right, bottom = left + width * CELL, top - height * CELL
    missing = []
    x0, y0 = tile_of(left + CELL, top - CELL)
    x1, y1 = tile_of(right - CELL, bottom + CELL)
    for x_km in range(x0, x1 + 1):
        for y_km in range(y1, y0 + 1):
            path = lidar.get((x_km, y_km), {}).get(kind)
            if path is None:
                missing.append((x_km, y_km))
                continue
            _paste(path, out, left, top)
    return out, missing


def _paste(path: Path, out: np.ndarray, left: float, top: float) -> None:
    """Copy the part of a height tile that falls in the window ``out`` (corner left, top)."""
    height, width = out.shape
    right, bottom = left + width * CELL, top - height * CELL
    with rasterio.open(path) as src:
        t_left, t_bottom, t_right, t_top = src.bounds
        i_left, i_right = max(left, t_left), min(right, t_right)
        i_bottom, i_top = max(bottom, t_bottom), min(top, t_top)
        if i_left >= i_right or i_bottom >= i_top:
            return
        win = from_bounds(i_left, i_bottom, i_right, i_top, src.transform).round_offsets()
        win = win.round_lengths()
        data = src.read(1, window=win, masked=True).astype("float32").filled(np.nan)
    data[~valid_heights(data, None)] = np.nan  # IGN's -99999, declared or not
    r0 = int(round((top - i_top) / CELL))
    c0 = int(round((i_left - left) / CELL))
    out[r0 : r0 + data.shape[0], c0 : c0 + data.shape[1]] = data


def compute_block(job: BlockJob, tables: SkyTables) -> list[TileDone]:
    """Compute the tiles of one block in one window; write each tile's COG and roofs.

    The window is the block's bounding box grown by the margin and the halo: the halo is
    read and swept once for up to four tiles (a lone tile's window is 2.3 × its pixels, a
    full block's 1.6 ×). Only the wanted tiles (and the margin around them, for buildings
    across their edges) get irradiation; every pixel of the window casts shade. Lines
    follow the global grid, so the figures do not depend on how tiles are grouped. By
    default only the roofs (pixels a footprint touches, grown by one) get horizons and sums;
    a block without any building is not read nor swept (``params.ground`` computes all).

    Parameters
    ----------
    job
        The block.
    tables
        The sky tables of the weather (``sky.cached_sky_tables``).

    Returns
    -------
    list of TileDone
        One per tile of the block.
    """
    if not job.ground and job.buildings.empty:
        # no building: nothing to compute (fields, water, woods); the tile is recorded as
        # such and its raster is empty, so the coverage stays honest
        return _empty_block(job)
    win = Window.of(job)
    dsm, missing = mosaic(job.lidar, "MNS", win.left, win.top, win.width, win.height)
    dtm, _ = mosaic(job.lidar, "MNT", win.left, win.top, win.width, win.height)
    wanted = np.zeros(win.inner_shape, dtype=bool)
    for r, c in win.offsets.values():  # the wanted tiles, each with its margin
        wanted[r : r + TILE_PX + 2 * win.margin, c : c + TILE_PX + 2 * win.margin] = True
    if not job.ground:
        wanted &= roof_mask(job.buildings, win.inner_transform, win.inner_shape)
    result = irradiation_sweep(
        dsm,
        CELL,
        tables,
        job.params.n_sectors,
        job.params.max_distance,
        core=win.inner,
        origin=win.origin,
        where=wanted,
    )
    r0, r1, c0, c1 = win.inner
    height_above = (dsm - dtm)[r0:r1, c0:c1]
    done = []
    for key, name in zip(job.keys, job.names, strict=True):
        _tile_outputs(job, win, key, name, result, height_above)
        near = [
            m
            for m in missing
            if abs(m[0] - key[0]) <= job.reach_km and abs(m[1] - key[1]) <= job.reach_km
        ]
        mine = job.buildings["_tile"] == key
        done.append(TileDone(key, near, not bool(mine.any())))
    return done


def _tile_outputs(job: BlockJob, win: Window, key: Key, name: str, result, height_above) -> None:
    """One tile of a swept block: its COG (its own pixels) and its roofs' statistics."""
    from layers.solar.roofs import roof_statistics

    crs = CRS.from_epsg(2154)
    r, c = win.offsets[key]
    m = win.margin
    irr = result.irradiation
    write_tile_cog(job.out, name, key, irr[m + r : m + r + TILE_PX, m + c : m + c + TILE_PX])
    mine = job.buildings[job.buildings["_tile"] == key].drop(columns="_tile")
    stats = roof_statistics(
        mine.set_crs(crs, allow_override=True),
        Raster(irr, win.inner_transform, crs),
        result.surface_tilt,
        result.surface_azimuth,
        job.rules,
        height_above,
    )
    write_roofs(job.out, name, stats)


def roof_mask(buildings: gpd.GeoDataFrame, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """The pixels of a window that roof statistics can read.

    Parameters
    ----------
    buildings
        Footprints in the window's CRS.
    transform
        The window's affine transform.
    shape
        ``(rows, cols)`` [px].

    Returns
    -------
    numpy.ndarray
        Booleans: pixels touched by a footprint, grown by one pixel — a superset of the
        pixels any roof statistic reads (centres inside a footprint), so the roofs' figures
        are those of a full computation.
    """
    from rasterio.features import rasterize
    from scipy import ndimage

    if buildings.empty:
        return np.zeros(shape, dtype=bool)
    touched = rasterize(
        ((g, 1) for g in buildings.geometry if g is not None and not g.is_empty),
        out_shape=shape,
        transform=transform,
        fill=0,
        all_touched=True,
        dtype="uint8",
    ).astype(bool)
    return ndimage.binary_dilation(touched, structure=np.ones((3, 3), dtype=bool))


def write_tile_cog(out: Path, name: str, key: Key, data: np.ndarray) -> None:
    """A tile's irradiation COG [kWh/m²/an] where the store keeps it.

    Parameters
    ----------
    out
        The store's folder.
    name, key
        The tile's store name and its ``(x_km, y_km)``.
    data
        Its TILE_PX × TILE_PX pixels.

    Returns
    -------
    None
    """
    left_k, top_k = tile_origin(key)
    write_cog(
        StoreLayout(out).cog(name),
        Raster(data, Affine(CELL, 0, left_k, 0, -CELL, top_k), CRS.from_epsg(2154)),
        PRODUCER,
        "irradiation annuelle [kWh/m2/an]",
    )


def write_roofs(out: Path, name: str, stats: gpd.GeoDataFrame) -> None:
    """A tile's roofs (GeoParquet) where the store keeps them, written then renamed.

    Parameters
    ----------
    out
        The store's folder.
    name
        The tile's store name.
    stats
        Its roofs' statistics; a column ``dalle`` (the tile) is added.

    Returns
    -------
    None
    """
    stats["dalle"] = name
    final = StoreLayout(out).roofs_part(name)
    tmp = final.with_name(f".{final.name}.tmp")
    stats.to_parquet(tmp)
    os.replace(tmp, final)


def _empty_block(job: BlockJob) -> list[TileDone]:
    """The outputs of tiles without a building: an empty raster, no roof."""
    empty = np.full((TILE_PX, TILE_PX), np.nan, dtype="float32")
    crs = CRS.from_epsg(2154)
    reach = job.reach_km
    done = []
    for key, name in zip(job.keys, job.names, strict=True):
        write_tile_cog(job.out, name, key, empty)
        write_roofs(job.out, name, gpd.GeoDataFrame({"cleabs": []}, geometry=[], crs=crs))
        near = [
            (key[0] + dx, key[1] + dy)
            for dx in range(-reach, reach + 1)
            for dy in range(-reach, reach + 1)
            if (dx, dy) != (0, 0) and (key[0] + dx, key[1] + dy) not in job.lidar
        ]
        done.append(TileDone(key, near, True))
    return done


_WARM: dict[str, float] = {}  # per process: the kernels' loading time, once


def block_task(threads: int, job: BlockJob, tables: SkyTables) -> BlockResult:
    """One block in a worker process, timed.

    A tile's time is its own; loading the kernels before the process's first block is
    counted apart.

    Parameters
    ----------
    threads
        numba threads for this process (0: as many as numba has).
    job
        The block.
    tables
        The sky tables.

    Returns
    -------
    BlockResult
    """
    import resource
    import socket

    if threads:
        numba.set_num_threads(min(threads, numba.get_num_threads()))
    startup = 0.0
    if "s" not in _WARM:
        startup = _WARM["s"] = warm_up(tables)
    t0 = time.perf_counter()
    done = compute_block(job, tables)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return BlockResult(done, seconds, f"{socket.gethostname()}:{os.getpid()}", peak, startup)


WORKER_BYTES = 2.5e9  # what one block process holds at its peak (2 × 2 tiles and halo) [bytes]


@dataclass(frozen=True)
class WorkerChoice:
    """How many local processes a build takes, and why (said to the user)."""

    workers: int
    cores: int
    available_gb: float | None

    def __str__(self) -> str:
        def french(x: float, digits: int) -> str:
            return f"{x:.{digits}f}".replace(".", ",")

        memory = (
            f", {french(self.available_gb, 0)} Go de mémoire disponibles "
            f"(~{french(WORKER_BYTES / 1e9, 1)} Go par processus)"
            if self.available_gb is not None
            else ""
        )
        return f"{self.workers} processus de calcul ({self.cores} cœur(s){memory})"


def default_workers(cores: int | None = None, available: float | None = None) -> WorkerChoice:
    """The local processes that fit: one per core, as memory allows.

    Parameters
    ----------
    cores
        Cores this process may use (default: its CPU affinity).
    available
        Memory available [bytes] (default: ``MemAvailable`` of ``/proc/meminfo``; unknown
        elsewhere: cores only).

    Returns
    -------
    WorkerChoice
        ``min(cores, available / WORKER_BYTES)``, at least 1.
    """
    if cores is None:
        cores = usable_cores()
    if available is None:
        available = available_memory()
    workers = cores if available is None else min(cores, int(available // WORKER_BYTES))
    gb = None if available is None else available / 1e9
    return WorkerChoice(max(1, workers), cores, gb)


def run_blocks(
    jobs: list[BlockJob], tables: SkyTables, workers: int, scheduler: str | None
) -> Iterator[BlockResult]:
    """Yield each block's :class:`BlockResult` as blocks finish.

    Parameters
    ----------
    jobs
        The blocks.
    tables
        The sky tables, shared by every block (sent once to a dask cluster).
    workers
        Local processes (1: this process), each with ``cores / workers`` numba threads.
    scheduler
        A dask.distributed scheduler address; ``None``: local.

    Yields
    ------
    BlockResult
        One per block, in the order blocks finish.
    """
    if not jobs:
        return
    workers = min(workers, len(jobs))  # a process per block at most
    if scheduler is None and workers <= 1:
        for job in jobs:
            yield block_task(0, job, tables)
        return
    if scheduler is not None:
        with dask_client(scheduler) as client:
            shared = client.scatter(tables, broadcast=True)  # the sky tables, sent once
            yield from finished(client, block_task, [(1, job, shared) for job in jobs])
        return
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import as_completed as done
    from multiprocessing import get_context

    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        pending = [pool.submit(block_task, threads, job, tables) for job in jobs]
        for future in done(pending):
            yield future.result()
