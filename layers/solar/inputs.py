"""Checks of a territory build's inputs, before any work: one French line per problem.

A bad input must never replace good figures. Every LiDAR HD tile is checked against what
its IGN name promises (Lambert-93, 0.5 m, 2000 × 2000 px, the bounds of its 1 km square,
one band of float heights in a sane range, some valid pixels); every building layer
against what a BD TOPO ``batiment`` layer is (polygons with unique, plain identifiers,
coordinates that fit the declared system and the tiles' extent); an address file against
the BAN's (readable, finite coordinates). The build calls these before it writes anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import rasterio

from layers.solar.errors import InputError
from layers.solar.grid import CELL, TILE_PX, Key, tile_bounds, tile_transform
from layers.solar.store import ROOF_ID

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

NODATA = -99999.0  # what IGN's LiDAR HD tiles declare
HEIGHT_MIN, HEIGHT_MAX = -100.0, 5000.0  # [m] France lies within -10 … 4 810 m
NODATA_BELOW = -9999.0  # IGN writes -99999 where it has no data, declared or not
SHOWN = 5  # offending lines named in a message


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read a MiB at a time (the build's records, the fetch's journal).

    Parameters
    ----------
    path
        Any file.

    Returns
    -------
    str
        The hexadecimal digest.
    """
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_height_tile(path: Path, array: np.ndarray, key: Key, what: str, tags: dict) -> None:
    """Write one MNS/MNT tile as IGN ships it: float32, nodata −99 999, IGN's grid.

    Written whole or not at all (under a temporary name, then renamed).

    Parameters
    ----------
    path
        The file to write (IGN's name: :func:`grid.lidar_file_name`).
    array
        2 000 × 2 000 heights [m], NaN for no data.
    key
        The tile ``(x_km, y_km)`` [km]: its transform comes from :mod:`grid`.
    what
        The band's description (« hauteurs MNS [m] »).
    tags
        GeoTIFF tags saying where the heights come from (a fictional tile says so).

    Returns
    -------
    None
    """
    data = np.where(np.isfinite(array), array, NODATA).astype("float32")
    profile = {
        "driver": "GTiff",
        "width": TILE_PX,
        "height": TILE_PX,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:2154",
        "transform": tile_transform(key),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
    }
    tmp = path.with_suffix(".tmp.tif")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(data, 1)
        dst.update_tags(**tags)
        dst.set_band_description(1, what)
    tmp.replace(path)  # a tile appears whole or not at all


NO_HEIGHT = "aucune hauteur valide (tout est « sans donnée »)"


def valid_heights(data: np.ndarray, nodata: float | None) -> np.ndarray:
    """Where a height tile holds a height.

    Parameters
    ----------
    data
        Heights [m] as read.
    nodata
        The file's declared nodata value, or ``None``.

    Returns
    -------
    numpy.ndarray
        Booleans: finite, not the declared nodata and not IGN's −99 999.
    """
    ok = np.isfinite(data) & (data > NODATA_BELOW)
    if nodata is not None and not math.isnan(nodata):
        ok &= data != nodata
    return ok


def check_tile(path: Path, key: tuple[int, int], read_data: bool = True) -> str | None:
    """What is wrong with one MNS/MNT tile, in French.

    Parameters
    ----------
    path
        The GeoTIFF.
    key
        The tile ``(x_km, y_km)`` its name says it is [km]: its grid must match.
    read_data
        ``False`` checks the header only (a tile only lent as a halo, whose checksum did
        not change, is not read again).

    Returns
    -------
    str or None
        The problem (« nom : … »), or ``None`` for a sound tile: one band of float32 heights
        in Lambert-93 on IGN's grid, with valid heights within plausible bounds.
    """
    import rasterio
    from rasterio.errors import RasterioError

    name = Path(path).name
    try:
        with rasterio.open(path) as src:
            problem = _header_problem(src, key)
            if problem or not read_data:
                return f"{name} : {problem}" if problem else None
            data = src.read(1)
            nodata = src.nodata
    except (RasterioError, OSError) as err:
        return f"{name} : fichier illisible ou tronqué ({type(err).__name__})"
    problem = height_problem(data, nodata)
    return f"{name} : {problem}" if problem else None


def height_problem(data: np.ndarray, nodata: float | None) -> str | None:
    """What is wrong with a tile's heights, in French: the rules ``build`` and ``fetch`` share.

    Parameters
    ----------
    data
        The heights as read [m].
    nodata
        The file's declared nodata value, or ``None``.

    Returns
    -------
    str or None
        Not floats, infinite heights, no valid height at all (:data:`NO_HEIGHT`), heights
        out of [``HEIGHT_MIN`` ; ``HEIGHT_MAX``] m; ``None`` for sound heights.
    """
    if not np.issubdtype(data.dtype, np.floating):
        return f"hauteurs de type {data.dtype}, des flottants (float32) sont attendus"
    if np.isinf(data).any():
        return f"{int(np.isinf(data).sum())} hauteurs infinies"
    ok = valid_heights(data, nodata)
    if not ok.any():
        return NO_HEIGHT
    values = data[ok]
    low, high = float(values.min()), float(values.max())
    if low < HEIGHT_MIN or high > HEIGHT_MAX:
        return f"hauteurs de {low:.4g} à {high:.4g} m, hors de [{HEIGHT_MIN:g} ; {HEIGHT_MAX:g}] m"
    return None


def _header_problem(src, key: tuple[int, int]) -> str | None:
    if src.count != 1:
        return f"{src.count} bandes (une image en couleurs ?) : une bande de hauteurs attendue"
    epsg = src.crs.to_epsg() if src.crs else None
    if epsg != 2154:
        shown = f"EPSG:{epsg}" if epsg else (src.crs.to_string()[:40] if src.crs else "aucun")
        return f"système de coordonnées {shown} au lieu de Lambert-93 (EPSG:2154)"
    rx, ry = src.res
    if not (math.isclose(rx, CELL, abs_tol=1e-6) and math.isclose(ry, CELL, abs_tol=1e-6)):
        return f"résolution {rx:g} × {ry:g} m au lieu de 0,5 m"
    if (src.width, src.height) != (TILE_PX, TILE_PX):
        return f"{src.width} × {src.height} px au lieu de {TILE_PX} × {TILE_PX}"
    want = tile_bounds(key)
    got = tuple(src.bounds)
    if any(abs(a - b) > 1e-3 for a, b in zip(got, want, strict=True)):
        return (
            "emprise ({:.2f}, {:.2f}, {:.2f}, {:.2f}) différente de celle de son nom "
            "({:.2f}, {:.2f}, {:.2f}, {:.2f})".format(*got, *want)
        )
    if src.dtypes[0] not in ("float32", "float64"):
        return f"hauteurs de type {src.dtypes[0]}, des flottants (float32) sont attendus"
    return None


def check_tiles(tiles: dict[tuple[int, int], dict[str, Path]], read: set[tuple[int, int]]) -> None:
    """Check every tile before anything is written.

    Parameters
    ----------
    tiles
        ``{key: {"MNS": path, "MNT": path}}``.
    read
        The keys whose data are read too (the others: their header only).

    Returns
    -------
    None

    Raises
    ------
    InputError
        One French message listing the refused tiles.
    """
    problems = []
    for key in sorted(tiles):
        for kind in ("MNS", "MNT"):
            path = tiles[key].get(kind)
            if path is not None:
                problem = check_tile(path, key, read_data=key in read)
                if problem:
                    problems.append(problem)
    if problems:
        more = f" … et {len(problems) - SHOWN} autre(s)" if len(problems) > SHOWN else ""
        raise InputError(
            "Dalle(s) LiDAR refusée(s), rien n'a été calculé ni modifié : "
            + " ; ".join(problems[:SHOWN])
            + more
            + "."
        )


def _lines(mask: np.ndarray) -> str:
    """« lignes 3, 8, 12 … » for the rows where ``mask`` holds (1-based, as a table reads)."""
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r) + 1) for r in rows[:SHOWN])
    return f"ligne{'s' if len(rows) > 1 else ''} {shown}" + (" …" if len(rows) > SHOWN else "")


def check_buildings(frame: gpd.GeoDataFrame, name: str) -> None:
    """Check a BD TOPO ``batiment`` layer as read, before reprojection.

    Parameters
    ----------
    frame
        The layer: polygons with a ``cleabs`` column and a CRS.
    name
        The file's name, for the message.

    Returns
    -------
    None

    Raises
    ------
    InputError
        No CRS, empty or non-polygon geometries, impossible coordinates, missing, hostile or
        duplicated ``cleabs`` (French message with the table's line numbers).
    """
    import shapely

    where = f"Bâtiments ({name})"
    if len(frame) == 0:
        raise InputError(f"{where} : couche vide, aucun bâtiment.")
    if frame.crs is None:
        raise InputError(f"{where} : sans système de coordonnées déclaré.")
    geoms = frame.geometry.to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise InputError(f"{where} : {int(empty.sum())} sans géométrie ({_lines(empty)}).")
    kinds = shapely.get_type_id(geoms)
    polygonal = np.isin(kinds, [3, 6])  # Polygon, MultiPolygon
    if not polygonal.all():
        bad = sorted(set(frame.geometry.geom_type[~polygonal]))
        raise InputError(
            f"{where} : {int((~polygonal).sum())} géométrie(s) de type {', '.join(bad)} "
            f"({_lines(~polygonal)}) : des polygones (emprises de bâtiments) sont attendus."
        )
    x0, y0, x1, y1 = frame.total_bounds
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise InputError(f"{where} : coordonnées non finies.")
    if frame.crs.is_geographic and (min(x0, y0) < -180 or max(x1, y1) > 180):
        raise InputError(
            f"{where} : coordonnées ({x0:.0f}, {y0:.0f}) impossibles en degrés : le système "
            f"déclaré ({frame.crs.to_string()[:30]}) est sans doute faux (Lambert-93 ?)."
        )
    ids = frame["cleabs"]
    missing = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        raise InputError(f"{where} : identifiant cleabs manquant ({_lines(missing)}).")
    hostile = ~ids.astype(str).str.fullmatch(ROOF_ID.pattern).to_numpy()
    if hostile.any():
        first = str(ids[hostile].iloc[0])[:30]
        raise InputError(
            f"{where} : identifiant cleabs invalide « {first} » ({_lines(hostile)}) : "
            "lettres, chiffres, _ et - seulement."
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        first = str(ids[dup].iloc[0])
        raise InputError(
            f"{where} : identifiant cleabs en double « {first} » avec des géométries "
            f"différentes ({_lines(dup)}) : un bâtiment, un contour."
        )


@dataclass
class AddressReport:
    """Addresses kept and lines refused (unreadable or impossible coordinates)."""

    kept: int
    rejected: int
    lines: str

    def __str__(self) -> str:
        if not self.rejected:
            return f"{self.kept} adresses"
        return (
            f"{self.kept} adresses ; {self.rejected} ignorée(s), coordonnées illisibles ou "
            f"impossibles ({self.lines} du fichier)"
        )


def check_addresses(frame: pd.DataFrame, name: str) -> tuple[pd.DataFrame, AddressReport]:
    """Keep the BAN rows with usable coordinates.

    Parameters
    ----------
    frame
        The address table (``lon``, ``lat`` in degrees, as text or numbers).
    name
        The file's name, for the messages.

    Returns
    -------
    tuple
        The rows kept (``lon``/``lat`` as floats) and an :class:`AddressReport` of what was
        refused, with the file's line numbers.

    Raises
    ------
    InputError
        No row, or no row with readable coordinates.
    """
    import pandas as pd

    if len(frame) == 0:
        raise InputError(f"Fichier d'adresses {name} : aucune adresse (en-tête seul ?).")
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    if not ok.any():
        raise InputError(
            f"Fichier d'adresses {name} : aucune coordonnée lisible (lon, lat en degrés)."
        )
    # line numbers as in the file: the header is line 1
    rejected = np.flatnonzero(~ok)
    shown = ", ".join(str(int(r) + 2) for r in rejected[:SHOWN])
    lines = f"ligne{'s' if len(rejected) > 1 else ''} {shown}" + (
        " …" if len(rejected) > SHOWN else ""
    )
    kept = frame[ok].copy()
    kept["lon"], kept["lat"] = lon[ok], lat[ok]
    return kept, AddressReport(int(ok.sum()), len(rejected), lines if len(rejected) else "")
