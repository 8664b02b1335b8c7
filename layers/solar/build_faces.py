"""The build's faces stage: each tile's roof faces and panels, from what the store holds.

Runs after the blocks, tile by tile, from the tile's surface model (the LiDAR folder) and
its irradiation COG with its neighbours' (the store): no sweep is redone, so a store built
before faces existed is brought up to date by ``solar build`` without recomputing its
sky. A tile's faces are redone when its record or the rules change (a digest per tile in
``manifest.pans``). Per tile, three parts: ``pans/<tile>.parquet`` (one row per face),
``panneaux/<tile>.parquet`` (one row per module), assembled into the layers ``pans`` and
``panneaux`` of ``toits.gpkg``, and ``non_vus/<tile>.parquet`` (the buildings the LiDAR
did not see: « non vu par le relevé LiDAR » in ``toits``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine

from layers.solar.build_blocks import mosaic
from layers.solar.faces import OBSTACLE, FaceRules, Faces, roof_faces, unseen_by_lidar
from layers.solar.grid import CELL, TILE_PX, Key, tile_origin
from layers.solar.panels import (
    PanelRules,
    layout_face,
    panel_irradiation,
    shading_factor,
    unshaded_irradiation,
)
from layers.solar.raster import rasterize_ids
from layers.solar.rules import RoofRules
from layers.solar.sky import SkyTables
from layers.solar.store import Manifest, StoreLayout, TileRecord, key_of
from layers.solar.terrain import slope_aspect

FACES_FORMAT = (
    2  # what this stage writes (2: each module's kWc): a change redoes every tile's faces
)
FACE_COLUMNS = {
    "cleabs": "the roof (BD TOPO identifier)",
    "pan": "the face's number on its roof (1: the largest)",
    "pente": "degrees — least-squares plane",
    "azimut": "degrees clockwise from north (180 = south); empty when flat (< 3°)",
    "surface_m2": "m² — true inclined area",
    "irradiation_moyenne": "kWh/m²/an — the plane unshaded × the mean shading of its pixels",
    "irradiation_utile": "kWh/m²/an — mean over its pixels above the usable threshold",
    "ombrage": "share of the unshaded plane's irradiation lost to shade (0–1)",
    "residu_m": "m — RMS distance of its pixels to its plane",
    "panneaux": "modules laid on it",
    "kwc": "kWc — its modules' peak power",
    "kwh_an": "kWh/an — its modules' yield (central performance ratio)",
}
PANEL_COLUMNS = {
    "cleabs": "the roof",
    "pan": "its face",
    "rang": "rank on its roof by yield (1: the best)",
    "kwc": "kWc — the module's peak power",
    "kwh_an": "kWh/an — the module's yield (central performance ratio)",
}


@dataclass(frozen=True)
class FaceStage:
    """What the faces stage needs besides each tile: its rules and the sky."""

    faces: FaceRules = field(default_factory=FaceRules)
    panels: PanelRules = field(default_factory=PanelRules)
    roofs: RoofRules | None = None

    def digest(self, record: TileRecord) -> str:
        """What a tile's faces depend on: the tile's own record, the rules, the format.

        Parameters
        ----------
        record
            The tile's record in the manifest.

        Returns
        -------
        str
            A SHA-256 (``manifest.pans[tile]``).
        """
        payload = {
            "format": FACES_FORMAT,
            "faces": asdict(self.faces),
            "panels": asdict(self.panels),
            "roofs": self.roofs.digest() if self.roofs is not None else None,
            "tile": asdict(record.entrees),
        }
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def faces_todo(manifest: Manifest, names: list[str], stage: FaceStage, out: Path) -> list[str]:
    """The stored tiles whose faces are missing or out of date (store names).

    Parameters
    ----------
    manifest
        The store's manifest (``pans``: tile → digest).
    names
        Every tile the store holds.
    stage
        The rules.
    out
        The store's folder.

    Returns
    -------
    list of str
    """
    layout = StoreLayout(out)
    todo = []
    for name in names:
        record = manifest.dalles.get(name)
        if record is None:
            continue
        fresh = manifest.pans.get(name) == stage.digest(record)
        if not (fresh and all(p.is_file() for p in layout.face_parts(name))):
            todo.append(name)
    return todo


@dataclass(frozen=True)
class TileFaces:
    """One tile's inputs for the faces stage."""

    name: str
    lidar: dict
    buildings: gpd.GeoDataFrame
    margin_m: float
    out: Path
    cogs: dict  # the store's irradiation COGs, as mosaic reads them (store_cogs)

    @property
    def key(self) -> Key:
        """The tile ``(x_km, y_km)``."""
        return key_of(self.name)


def _window(tile: TileFaces) -> tuple[float, float, int, Affine]:
    margin = int(math.ceil(tile.margin_m / CELL))
    left, top = tile_origin(tile.key)
    left, top = left - margin * CELL, top + margin * CELL
    size = TILE_PX + 2 * margin
    return left, top, size, Affine(CELL, 0, left, 0, -CELL, top)


def store_cogs(out: Path) -> dict:
    """The store's irradiation COGs by tile, as :func:`build_blocks.mosaic` reads them.

    Parameters
    ----------
    out
        The store's folder.

    Returns
    -------
    dict
        ``{(x_km, y_km): {"IRR": path}}``, listed once for a whole faces stage.
    """
    return {key_of(p.stem): {"IRR": p} for p in StoreLayout(out).cog_dir.glob("*.tif")}


def tile_faces(tile: TileFaces, stage: FaceStage, tables: SkyTables):
    """One tile's faces and modules.

    Parameters
    ----------
    tile
        The tile, its LiDAR, its buildings, the margin around it, the store.
    stage
        The rules.
    tables
        The year's sky (the build's, cached).

    Returns
    -------
    tuple
        ``(pans, panneaux, non_vus)``: faces and modules in Lambert-93 (columns
        :data:`FACE_COLUMNS` and :data:`PANEL_COLUMNS`), and the ``cleabs`` of the
        buildings the LiDAR did not see (:func:`faces.unseen_by_lidar`; judged with the
        tile's terrain model, none without one).
    """
    left, top, size, transform = _window(tile)
    z, _ = mosaic(tile.lidar, "MNS", left, top, size, size)
    irr, _ = mosaic(tile.cogs, "IRR", left, top, size, size)
    buildings = tile.buildings.reset_index(drop=True)
    ids = rasterize_ids(buildings.geometry.to_numpy(), transform, (size, size))
    unseen = _unseen(tile, (z, ids, len(buildings)), (left, top, size), stage)
    if unseen.any():  # no faces on the ground: such a building gets no figure at all
        ids = np.where(unseen[np.maximum(ids, 1) - 1] & (ids > 0), 0, ids)
    faces = roof_faces(z, ids, CELL, stage.faces)
    tilt, azimuth = slope_aspect(np.nan_to_num(z, nan=0.0).astype("float32"), CELL)
    shade = shading_factor(irr, tilt, azimuth, tables)
    pans, panels = _tables(faces, ids, buildings, (shade, transform), stage, tables)
    names = buildings["cleabs"].to_numpy()[unseen]
    return pans, panels, pd.DataFrame({"cleabs": pd.Series(names, dtype=str)})


def _unseen(tile: TileFaces, grid, window, stage: FaceStage) -> np.ndarray:
    """Which of the tile's buildings the LiDAR did not see (none without a terrain model)."""
    z, ids, n = grid
    left, top, size = window
    if "MNT" not in tile.lidar.get(tile.key, {}) or stage.roofs is None:
        return np.zeros(n, dtype=bool)
    ground, _ = mosaic(tile.lidar, "MNT", left, top, size, size)
    return unseen_by_lidar(z, ground, ids, n, stage.roofs.min_height)


def _polygons(labels: np.ndarray, transform: Affine) -> dict[int, object]:
    """Each positive label's polygon (its pixels' outline, holes included)."""
    from rasterio.features import shapes
    from shapely.geometry import shape
    from shapely.ops import unary_union

    inside = labels > 0
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    if not len(rows):
        return {}
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1  # the labels' box only
    labels, inside = labels[r0:r1, c0:c1], inside[r0:r1, c0:c1]
    transform = transform * Affine.translation(int(c0), int(r0))
    pieces: dict[int, list] = {}
    for geom, value in shapes(labels, mask=inside, transform=transform, connectivity=4):
        pieces.setdefault(int(value), []).append(shape(geom))
    return {k: unary_union(v) for k, v in pieces.items()}


def _face_shade(faces: Faces, shade: np.ndarray, plane: np.ndarray, min_irr: float):
    """Per face: mean shading factor, and mean irradiation over its usable pixels (NaN)."""
    n = len(faces)
    labels = faces.labels.ravel()
    ok = (labels > 0) & np.isfinite(shade.ravel())
    f = labels[ok] - 1
    s = shade.ravel()[ok].astype("float64")
    count = np.bincount(f, minlength=n)
    mean = np.divide(np.bincount(f, s, n), count, out=np.full(n, np.nan), where=count > 0)
    value = plane[f] * s
    use = value >= min_irr
    ucount = np.bincount(f[use], minlength=n)
    usable = np.divide(
        np.bincount(f[use], value[use], n), ucount, out=np.full(n, np.nan), where=ucount > 0
    )
    return mean, usable


def _layouts(faces: Faces, outlines, obstacles, stage: FaceStage, tables, limits):
    """Every face's modules: ``(face index per module, modules, their plane unshaded)``.

    ``limits`` is ``(max_tilt, min_irradiation, each face's plane unshaded)``: a face too
    steep, or whose plane even unshaded stays under the threshold (a north face), gets
    no module and is not laid out.
    """
    max_tilt, min_irr, plane = limits
    owner, modules, planes = [], [], []
    for i in range(len(faces)):
        geom = outlines.get(i + 1)
        if geom is None or faces.slope[i] > max_tilt or plane[i] * 1.05 < min_irr:
            continue
        roof = int(faces.roof[i])
        layout = layout_face(geom, faces.slope[i], faces.azimuth[i], obstacles.get(roof),
                             stage.panels)  # fmt: skip
        if len(layout.panels):
            owner += [i] * len(layout.panels)
            modules += list(layout.panels)
            planes.append((len(layout.panels), layout.tilt, layout.azimuth))
    if not modules:
        return np.zeros(0, dtype=int), np.empty(0, dtype=object), np.zeros(0)
    counts, tilts, azimuths = (np.array(v, dtype=float) for v in zip(*planes, strict=True))
    top = unshaded_irradiation(tilts, azimuths, tables).astype("float64")
    return np.array(owner), np.array(modules, dtype=object), np.repeat(top, counts.astype(int))


def _face_row(faces: Faces, i: int, name: str, number: int, shade_stats, energy) -> dict:
    plane, mean_shade, usable = shade_stats
    geom, modules, kwh, kwc = energy
    shaded = not np.isnan(mean_shade[i])
    return {
        "cleabs": name,
        "pan": number,
        "pente": round(float(faces.slope[i]), 1),
        "azimut": None if np.isnan(faces.azimuth[i]) else round(float(faces.azimuth[i]), 1),
        "surface_m2": round(float(faces.area_m2[i]), 1),
        "irradiation_moyenne": round(float(plane[i] * mean_shade[i])) if shaded else None,
        "irradiation_utile": None if np.isnan(usable[i]) else round(float(usable[i])),
        "ombrage": round(1 - min(float(mean_shade[i]), 1.0), 3) if shaded else None,
        "residu_m": round(float(faces.residual_m[i]), 3),
        "panneaux": len(modules),
        "kwc": round(len(modules) * kwc, 3),
        "kwh_an": round(float(kwh.sum())),
        "geometry": geom,
    }


def _tables(faces: Faces, ids, buildings, grid, stage: FaceStage, tables: SkyTables):
    """The tile's face and module tables; ``grid`` is ``(shading factor, transform)``."""
    shade, transform = grid
    cleabs = buildings["cleabs"].to_numpy()
    outlines = _polygons(faces.labels, transform)
    obstacles = _polygons(np.where(faces.labels == OBSTACLE, ids, 0).astype("int32"), transform)
    rules = stage.roofs
    min_irr = rules.min_irradiation if rules is not None else 0.0
    max_tilt = rules.max_tilt if rules is not None else 90.0
    pr = rules.performance_ratio.central if rules is not None else 0.8
    plane = unshaded_irradiation(faces.slope, faces.azimuth, tables) if len(faces) else np.zeros(0)
    mean_shade, usable = _face_shade(faces, shade, plane, min_irr)
    limits = (max_tilt, min_irr, plane)
    owner, modules, top = _layouts(faces, outlines, obstacles, stage, tables, limits)
    yields = panel_irradiation(modules, shade, transform, top)  # one pass for the tile
    keep = np.isfinite(yields) & (yields >= min_irr)  # under the threshold: not placed
    # each module's kWh rounded once: a face's, a roof's and a configuration's are their sums
    owner, modules, kwh = owner[keep], modules[keep], np.round(yields[keep] * stage.panels.kwc * pr)
    face_rows, panel_rows = [], []
    numbered: dict[int, int] = {}
    for i in np.lexsort((-faces.area_m2, faces.roof)):  # per roof, the largest face first
        roof = int(faces.roof[i])
        numbered[roof] = numbered.get(roof, 0) + 1
        mine = owner == i
        name = cleabs[roof - 1]
        energy = (outlines.get(i + 1), modules[mine], kwh[mine], stage.panels.kwc)
        face_rows.append(
            _face_row(faces, i, name, numbered[roof], (plane, mean_shade, usable), energy)
        )
        for module, e in zip(modules[mine], kwh[mine], strict=True):
            panel_rows.append(
                {
                    "cleabs": name,
                    "pan": numbered[roof],
                    "kwc": stage.panels.kwc,
                    "kwh_an": round(float(e)),
                    "geometry": module,
                }
            )
    return _frames(face_rows, panel_rows)


def _frames(face_rows: list[dict], panel_rows: list[dict]):
    pans = gpd.GeoDataFrame(
        face_rows or {c: [] for c in [*FACE_COLUMNS, "geometry"]}, geometry="geometry", crs=2154
    )
    panels = gpd.GeoDataFrame(
        panel_rows or {c: [] for c in ["cleabs", "pan", "kwc", "kwh_an", "geometry"]},
        geometry="geometry",
        crs=2154,
    )
    if len(panels):
        panels = panels.sort_values(["cleabs", "kwh_an"], ascending=[True, False], kind="stable")
        panels["rang"] = panels.groupby("cleabs").cumcount() + 1
    else:
        panels["rang"] = pd.Series(dtype="int64")
    panels = panels[[*PANEL_COLUMNS, "geometry"]].reset_index(drop=True)
    return pans, panels


def _write_parts(name: str, out: Path, frames) -> None:
    layout = StoreLayout(out)
    for frame, path in zip(frames, layout.face_parts(name), strict=True):
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        frame.to_parquet(tmp)
        tmp.replace(path)


def _one(args):
    tile, stage, tables = args
    return tile_faces(tile, stage, tables)


def run_faces(tiles: list[TileFaces], stage: FaceStage, tables: SkyTables, workers: int):
    """Compute the faces of ``tiles``; yield each tile's name once its parts are written.

    Parameters
    ----------
    tiles
        The tiles (:func:`faces_todo`'s, with their inputs).
    stage
        The rules.
    tables
        The year's sky.
    workers
        Local processes (1: this one), as for the blocks.

    Yields
    ------
    str
        The store name of each tile done, in order; the caller records it.
    """
    jobs = [(tile, stage, tables) for tile in tiles]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _write_parts(job[0].name, job[0].out, _one(job))
            yield job[0].name
        return
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=get_context("spawn")) as pool:
        for job, frames in zip(jobs, pool.map(_one, jobs), strict=True):
            _write_parts(job[0].name, job[0].out, frames)
            yield job[0].name


__all__ = [
    "FACES_FORMAT",
    "FACE_COLUMNS",
    "PANEL_COLUMNS",
    "FaceStage",
    "TileFaces",
    "faces_todo",
    "store_cogs",
    "run_faces",
    "tile_faces",
]
