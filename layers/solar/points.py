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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from layers.solar.errors import SolarError
from layers.solar.grid import CELL, TILE_PX, lidar_file_name, tile_origin, tiles_of

NODATA = -99999.0
MNS_CLASSES = (2, 3, 4, 5, 6, 9, 17, 64, 66, 67)
MNT_CLASSES = (2, 9, 66)
UNCLASSIFIED = 1
CHUNK = 2_000_000  # points read at once
SUFFIXES = (".las", ".laz")


class PointsError(SolarError):
    """A point cloud cannot be read or is not in Lambert-93."""


@dataclass
class _Tile:
    """Accumulators of one 1 km tile."""

    top: np.ndarray  # highest MNS point per pixel (−inf: none)
    loose: np.ndarray  # highest unclassified point per pixel (used where ``top`` has none)
    ground_sum: np.ndarray
    ground_n: np.ndarray

    @classmethod
    def new(cls) -> _Tile:
        shape = (TILE_PX, TILE_PX)
        return cls(
            np.full(shape, -np.inf, dtype="float64"),
            np.full(shape, -np.inf, dtype="float64"),
            np.zeros(shape, dtype="float64"),
            np.zeros(shape, dtype="int32"),
        )


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


def _check_crs(path: Path, header) -> None:
    try:
        crs = header.parse_crs()
    except Exception:  # laspy raises several kinds on odd VLRs
        crs = None
    if crs is not None and crs.to_epsg() not in (2154, None):
        raise PointsError(
            f"{path.name} : nuage en {crs.to_string()[:40]}, Lambert-93 (EPSG:2154) attendu."
        )
    x0, y0 = header.mins[:2]
    x1, y1 = header.maxs[:2]
    if not (-400_000 < x0 <= x1 < 1_400_000 and 6_000_000 < y0 <= y1 < 7_200_000):
        raise PointsError(
            f"{path.name} : coordonnées ({x0:.0f}, {y0:.0f}) hors de la France en Lambert-93."
        )


def _accumulate(tiles: dict, x: np.ndarray, y: np.ndarray, z: np.ndarray, cls: np.ndarray):
    kx, ky = tiles_of(x, y)
    for key in set(zip(kx.tolist(), ky.tolist(), strict=True)):
        sel = (kx == key[0]) & (ky == key[1])
        left, top = tile_origin(key)
        col = np.floor((x[sel] - left) / CELL).astype(int).clip(0, TILE_PX - 1)
        row = np.floor((top - y[sel]) / CELL).astype(int).clip(0, TILE_PX - 1)
        acc = tiles.setdefault(key, _Tile.new())
        c, zz = cls[sel], z[sel]
        surf = np.isin(c, MNS_CLASSES)
        np.maximum.at(acc.top, (row[surf], col[surf]), zz[surf])
        loose = c == UNCLASSIFIED
        np.maximum.at(acc.loose, (row[loose], col[loose]), zz[loose])
        ground = np.isin(c, MNT_CLASSES)
        np.add.at(acc.ground_sum, (row[ground], col[ground]), zz[ground])
        np.add.at(acc.ground_n, (row[ground], col[ground]), 1)


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

    Every file is read (and checked) before anything is written; each tile is written
    under a temporary name, then renamed. The surface (MNS) takes each pixel's highest
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
        No file, an unreadable file, coordinates outside France in Lambert-93, no point.
    """
    import laspy

    paths = list(sources)
    if not paths:
        raise PointsError("Aucun nuage de points (.las, .laz) à lire.")
    tiles: dict[tuple[int, int], _Tile] = {}
    for path in paths:
        try:
            with laspy.open(path) as reader:
                _check_crs(path, reader.header)
                for chunk in reader.chunk_iterator(CHUNK):
                    x, y, z = (np.asarray(chunk.x), np.asarray(chunk.y), np.asarray(chunk.z))
                    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
                    _accumulate(tiles, x[ok], y[ok], z[ok], np.asarray(chunk.classification)[ok])
                    if progress:
                        progress(len(x))
        except PointsError:
            raise
        except Exception as err:  # laspy/lazrs: truncated, not a LAS, unknown format
            raise PointsError(f"{Path(path).name} : nuage de points illisible ({err}).") from err
    if not tiles:
        raise PointsError("Aucun point dans les fichiers lus.")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    source = ", ".join(p.name for p in paths)
    names = []
    for key, acc in sorted(tiles.items()):
        top = np.where(np.isfinite(acc.top), acc.top, acc.loose)
        surface = np.where(np.isfinite(top), top, np.nan)
        ground = np.where(acc.ground_n > 0, acc.ground_sum / np.maximum(acc.ground_n, 1), np.nan)
        surface, ground = _merged(out, key, surface, ground)
        surface = _fill_nearest(surface, max_gap_m / CELL)
        ground = _fill_linear(ground)
        if math.isfinite(max_gap_m):  # the surface never lies below the terrain
            both = ~np.isnan(surface) & ~np.isnan(ground)
            surface[both] = np.maximum(surface[both], ground[both])
        for kind, data in (("MNS", surface), ("MNT", ground)):
            if np.isnan(data).all():
                continue
            name = lidar_file_name(key, kind)
            _write(out / name, key, kind, data, source)
            names.append(name)
    return names
