"""LiDAR HD classified point clouds (LAS/LAZ/COPC) → MNS and MNT tiles as IGN ships them.

For places or dates where IGN has not yet published the rasters, ``pma-atlas solar dsm``
makes them from its point clouds (``LHD_FXX_…_PTS_…laz``), on the MNS grid: 1 km tiles of
2 000 × 2 000 px at 0.5 m, pixel centres on multiples of 0.5 m (edges a quarter metre
off), EPSG:2154, float32 heights in metres (IGN69), nodata −99 999, named
``LHD_FXX_XXXX_YYYY_MNS_O_0M50_LAMB93_IGN69.tif`` (and ``…_MNT_…``).

Classes (ASPRS codes as IGN uses them in LiDAR HD):

- **MNS** (surface): the highest point per pixel among ground (2), low/medium/high
  vegetation (3, 4, 5), buildings (6), water (9), bridges (17), perennial above-ground (64),
  virtual points (66) and other built structures (67); artefacts (65) and noise (7, 18)
  never. Unclassified points (1) only fill the pixels none of these reach: in IGN's real
  clouds a whole roof can be left unclassified (seen on the Myria3D sample: one of its six
  houses had no building point), and a hole there would make the roof unknown.
- **MNT** (terrain): the mean of ground (2), water (9) and virtual (66) points per pixel.

Gaps: a pixel of the MNS with no point takes the nearest pixel's value if it lies within
``max_gap_m`` (1 m: a few missed returns on a dark roof); further away it stays nodata.
The MNT has no ground under buildings: its gaps are filled by linear interpolation between
the ground pixels around (Delaunay, ``scipy.interpolate.griddata``), inside their convex
hull only; outside, nodata. Reader: laspy with the lazrs backend (LAZ, COPC).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from layers.solar.errors import SolarError
from layers.solar.grid import CELL, TILE_PX, lidar_file_name, tile_origin, tiles_of, tiles_touching

NODATA = -99999.0
MNS_CLASSES = (2, 3, 4, 5, 6, 9, 17, 64, 66, 67)
MNT_CLASSES = (2, 9, 66)
UNCLASSIFIED = 1
CHUNK = 2_000_000  # points read at once
DENSE_AT = 200_000  # points of a tile kept as they come; past it, per-pixel accumulators
MAX_SCALE = 0.05  # [m] the coarsest coordinate step accepted (IGN's clouds: 0.01 m)
MAX_GAP_M = 50.0  # [m] the widest --max-gap
FRANCE = (-400_000, 6_000_000, 1_400_000, 7_200_000)  # Lambert-93 bounds, generous [m]
STAGING = ".dsm-en-cours"
SUFFIXES = (".las", ".laz")


class PointsError(SolarError):
    """A point cloud cannot be read or is not in Lambert-93."""


@dataclass
class _Grid:
    """Per-pixel accumulators of one 1 km tile (80 MB)."""

    top: np.ndarray  # highest MNS point per pixel (−inf: none)
    loose: np.ndarray  # highest unclassified point per pixel (used where ``top`` has none)
    ground_sum: np.ndarray
    ground_n: np.ndarray

    @classmethod
    def new(cls) -> _Grid:
        shape = (TILE_PX, TILE_PX)
        return cls(
            np.full(shape, -np.inf, dtype="float32"),
            np.full(shape, -np.inf, dtype="float32"),
            np.zeros(shape, dtype="float64"),
            np.zeros(shape, dtype="int32"),
        )

    def add(self, row: np.ndarray, col: np.ndarray, z: np.ndarray, cls: np.ndarray) -> None:
        surf = np.isin(cls, MNS_CLASSES)
        np.maximum.at(self.top, (row[surf], col[surf]), z[surf])
        loose = cls == UNCLASSIFIED
        np.maximum.at(self.loose, (row[loose], col[loose]), z[loose])
        ground = np.isin(cls, MNT_CLASSES)
        np.add.at(self.ground_sum, (row[ground], col[ground]), z[ground])
        np.add.at(self.ground_n, (row[ground], col[ground]), 1)


@dataclass
class _Tile:
    """One tile's points.

    Kept as they come while few (a neighbour cloud's spill row costs next to nothing), as
    per-pixel accumulators once there are many.
    """

    parts: list = field(default_factory=list)  # (row, col, z, cls) arrays
    count: int = 0
    grid: _Grid | None = None

    def add(self, row: np.ndarray, col: np.ndarray, z: np.ndarray, cls: np.ndarray) -> None:
        if self.grid is not None:
            self.grid.add(row, col, z, cls)
            return
        self.parts.append((row, col, z, cls))
        self.count += len(z)
        if self.count >= DENSE_AT:
            self.dense()

    def dense(self) -> _Grid:
        if self.grid is None:
            self.grid = _Grid.new()
            for part in self.parts:
                self.grid.add(*part)
            self.parts = []
        return self.grid


def point_files(folder: Path) -> list[Path]:
    """The point clouds of a folder.

    Parameters
    ----------
    folder
        A folder, or one file.

    Returns
    -------
    list of Path
        Its ``.las``, ``.laz`` and ``.copc.laz`` files, sorted (or the file itself).
    """
    folder = Path(folder)
    if folder.is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)


def _checked_bounds(path: Path, header) -> tuple[float, float, float, float]:
    """A cloud's header checked (CRS, coordinate step, bounds in France): its bounds."""
    try:
        crs = header.parse_crs()
    except Exception:  # laspy raises several kinds on odd VLRs
        crs = None
    if crs is not None and crs.to_epsg() not in (2154, None):
        raise PointsError(
            f"{path.name} : nuage en {crs.to_string()[:40]}, Lambert-93 (EPSG:2154) attendu."
        )
    scales = [float(v) for v in header.scales]
    if not all(0 < v <= MAX_SCALE for v in scales):
        raise PointsError(
            f"{path.name} : coordonnées au pas de {max(scales):g} m, trop grossier pour une "
            f"grille de 0,5 m (au plus {MAX_SCALE:g} m ; IGN livre au centimètre)."
        )
    x0, y0 = (float(v) for v in header.mins[:2])
    x1, y1 = (float(v) for v in header.maxs[:2])
    if not _in_france(x0, y0, x1, y1):
        raise PointsError(
            f"{path.name} : coordonnées ({x0:.0f}, {y0:.0f}) hors de la France en Lambert-93."
        )
    return x0, y0, x1, y1


def _in_france(x0: float, y0: float, x1: float, y1: float) -> bool:
    return FRANCE[0] < x0 <= x1 < FRANCE[2] and FRANCE[1] < y0 <= y1 < FRANCE[3]


def _check_points(path: Path, x: np.ndarray, y: np.ndarray, bounds, step: float) -> None:
    """The points themselves inside what the header announces (a patched header lies)."""
    if not len(x):
        return
    tol = step + 1e-6
    x0, y0, x1, y1 = bounds
    if x.min() < x0 - tol or x.max() > x1 + tol or y.min() < y0 - tol or y.max() > y1 + tol:
        raise PointsError(
            f"{path.name} : des points ({x.min():.0f}–{x.max():.0f}, {y.min():.0f}–{y.max():.0f})"
            " sortent de l'emprise annoncée par l'en-tête : fichier abîmé ou en-tête modifié."
        )


def _accumulate(tiles: dict, x: np.ndarray, y: np.ndarray, z: np.ndarray, cls: np.ndarray):
    kx, ky = tiles_of(x, y)
    for key in set(zip(kx.tolist(), ky.tolist(), strict=True)):
        sel = (kx == key[0]) & (ky == key[1])
        left, top = tile_origin(key)
        col = np.floor((x[sel] - left) / CELL).astype(int).clip(0, TILE_PX - 1)
        row = np.floor((top - y[sel]) / CELL).astype(int).clip(0, TILE_PX - 1)
        tiles.setdefault(key, _Tile()).add(row, col, z[sel], cls[sel])


def _fill_nearest(values: np.ndarray, max_px: float) -> np.ndarray:
    """NaN pixels take their nearest valid pixel's value within ``max_px``; else stay NaN."""
    from scipy import ndimage

    empty = np.isnan(values)
    if not empty.any() or empty.all():
        return values
    dist, (ri, ci) = ndimage.distance_transform_edt(empty, return_indices=True)
    out = values[ri, ci]
    out[dist > max_px] = np.nan
    return out


def _fill_linear(values: np.ndarray) -> np.ndarray:
    """NaN pixels inside the valid pixels' convex hull get linear interpolation (Delaunay)."""
    from scipy.interpolate import griddata
    from scipy.spatial import QhullError

    valid = ~np.isnan(values)
    if valid.sum() < 3 or valid.all():
        return values
    rows, cols = np.nonzero(valid)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    if r1 - r0 < 2 or c1 - c0 < 2:  # a strip one pixel thin: nothing to interpolate across
        return values
    window = values[r0:r1, c0:c1]
    inside = ~np.isnan(window)
    gaps = np.argwhere(~inside)
    if len(gaps) == 0:
        return values
    known = np.argwhere(inside)
    try:
        filled = griddata(known, window[inside], gaps, method="linear")
    except QhullError:  # every known pixel on one line: left as it is
        return values
    out = values.copy()
    out[r0:r1, c0:c1][~inside] = filled
    return out


def _existing(path: Path) -> np.ndarray | None:
    """The heights of a tile already in the output folder (NaN where it has none)."""
    import rasterio

    from layers.solar.inputs import valid_heights

    if not path.is_file():
        return None
    with rasterio.open(path) as src:
        data = src.read(1, masked=True).astype("float64").filled(np.nan)
    data[~valid_heights(data, None)] = np.nan
    return data


def _merged(out: Path, key: tuple[int, int], surface: np.ndarray, ground: np.ndarray):
    """The raw heights of this run merged into the tiles already in ``out``, never replaced.

    A cloud covers part of a tile (IGN's tiles sit 0.25 m off the kilometre: a 1 km cloud
    spills a row into its neighbours): the surface keeps the higher of the two heights,
    the terrain the lower, and what this cloud did not cover stays as it was.
    """
    old = _existing(out / lidar_file_name(key, "MNS"))
    if old is not None:
        surface = np.fmax(old, surface)
    old = _existing(out / lidar_file_name(key, "MNT"))
    if old is not None:
        ground = np.fmin(old, ground)
    return surface, ground


def _write(path: Path, key: tuple[int, int], kind: str, data: np.ndarray, source: str) -> None:
    from layers.solar.inputs import write_height_tile

    tags = {
        "producer": "Atlas PMA (layers.solar.points) depuis nuages LiDAR HD",
        "source": source[:500],
        "units": "m (IGN69)",
    }
    write_height_tile(path, data, key, f"hauteurs {kind} [m]", tags)


def rasterise(
    sources: Iterable[Path],
    out: Path,
    max_gap_m: float = 1.0,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Turn LiDAR HD point clouds into MNS and MNT tiles on IGN's grid.

    Every file is read (and checked: its header, then its points against the header's
    bounds) before anything in ``out`` changes: tiles are written aside (``out/.dsm-en-cours``)
    and moved in at the end. Memory holds only the tiles in progress: a tile is finished
    once the last cloud that touches it is read. The surface (MNS) takes each pixel's highest
    point, the terrain (MNT) the mean of its ground points (class 2); gaps in the surface
    up to ``max_gap_m`` are filled from the nearest pixel, the terrain's linearly. A tile
    already in ``out`` is merged into, never replaced (:func:`_merged`): clouds may come
    one run at a time, and a cloud's spill into a neighbour tile leaves it whole.

    Parameters
    ----------
    sources
        LAS/LAZ files in Lambert-93 (EPSG:2154) with IGN's classification.
    out
        The folder the tiles are written to (created if needed).
    max_gap_m
        Widest gap of the surface filled [m].
    progress
        Called with the number of points of each chunk read.

    Returns
    -------
    list of str
        The file names written (:func:`grid.lidar_file_name`).

    Raises
    ------
    PointsError
        No file, an unreadable file, coordinates outside France in Lambert-93 or outside
        the header's bounds, a coordinate step over 5 cm, ``max_gap_m`` outside
        [0 ; 50] m, no classified point; in French.
    """
    paths = list(sources)
    if not paths:
        raise PointsError("Aucun nuage de points (.las, .laz) à lire.")
    if not (math.isfinite(max_gap_m) and 0 <= max_gap_m <= MAX_GAP_M):
        raise PointsError(f"--max-gap : entre 0 et {MAX_GAP_M:g} m ({max_gap_m!r} donné).")
    clouds = [(path, _header_bounds(path)) for path in paths]
    last = {key: i for i, (_, bounds) in enumerate(clouds) for key in tiles_touching(bounds)}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = out / STAGING
    shutil.rmtree(staging, ignore_errors=True)  # what a killed run left aside
    staging.mkdir()
    try:
        names = _stream(clouds, last, out, staging, max_gap_m, progress)
        for name in names:  # every cloud read and checked: the tiles go in place
            os.replace(staging / name, out / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return names


def _header_bounds(path: Path) -> tuple[float, float, float, float]:
    import laspy

    try:
        with laspy.open(path) as reader:
            return _checked_bounds(path, reader.header)
    except PointsError:
        raise
    except Exception as err:  # laspy/lazrs: not a LAS, unknown format
        raise PointsError(f"{Path(path).name} : nuage de points illisible ({err}).") from err


def _stream(clouds, last, out: Path, staging: Path, max_gap_m: float, progress) -> list[str]:
    """Read the clouds in turn; the names of the tiles written into ``staging``.

    A tile is finished once the last cloud that may touch it (by its checked header) is
    read: memory holds the tiles in progress, not the whole area.
    """
    tiles: dict[tuple[int, int], _Tile] = {}
    source = ", ".join(path.name for path, _ in clouds)
    names: list[str] = []
    classes: set[int] = set()
    for i, (path, bounds) in enumerate(clouds):
        classes |= _read(path, bounds, tiles, progress)
        for key in sorted(k for k in tiles if last[k] == i):
            names += _finish(key, tiles.pop(key).dense(), out, staging, max_gap_m, source)
    if not names:
        seen = ", ".join(str(c) for c in sorted(classes)) or "aucun point"
        raise PointsError(
            f"Aucune dalle écrite : aucun point du sol (classe 2) ni du sursol (classes 3 à 6, "
            f"9, 17…) ou non classé (1) dans les nuages (classes lues : {seen}). "
            "IGN livre des nuages LiDAR HD classés ; un nuage jamais classé (0) ne suffit pas."
        )
    return names


def _read(path: Path, bounds, tiles: dict, progress) -> set[int]:
    """One cloud into the tiles' accumulators; the classes it holds."""
    import laspy

    classes: set[int] = set()
    try:
        with laspy.open(path) as reader:
            step = float(max(reader.header.scales[:2]))
            for chunk in reader.chunk_iterator(CHUNK):
                x, y, z = (np.asarray(chunk.x), np.asarray(chunk.y), np.asarray(chunk.z))
                ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
                x, y, z = x[ok], y[ok], z[ok]
                cls = np.asarray(chunk.classification)[ok]
                _check_points(path, x, y, bounds, step)
                classes |= {int(c) for c in np.unique(cls)}
                _accumulate(tiles, x, y, z, cls)
                if progress:
                    progress(len(ok))
    except PointsError:
        raise
    except Exception as err:  # laspy/lazrs: truncated, not a LAS, unknown format
        raise PointsError(f"{Path(path).name} : nuage de points illisible ({err}).") from err
    return classes


def _finish(key, acc: _Grid, out: Path, staging: Path, max_gap_m: float, source: str):
    """A tile's MNS and MNT, merged into what ``out`` holds, written into ``staging``.

    Returns the names written.
    """
    top = np.where(np.isfinite(acc.top), acc.top, acc.loose).astype("float64")
    surface = np.where(np.isfinite(top), top, np.nan)
    ground = np.where(acc.ground_n > 0, acc.ground_sum / np.maximum(acc.ground_n, 1), np.nan)
    surface, ground = _merged(out, key, surface, ground)
    surface = _fill_nearest(surface, max_gap_m / CELL)
    ground = _fill_linear(ground)
    both = ~np.isnan(surface) & ~np.isnan(ground)  # the surface never lies below the terrain
    surface[both] = np.maximum(surface[both], ground[both])
    names = []
    for kind, data in (("MNS", surface), ("MNT", ground)):
        if np.isnan(data).all():
            continue
        name = lidar_file_name(key, kind)
        _write(staging / name, key, kind, data, source)
        names.append(name)
    return names
