"""Rasters with their georeferencing, read and written at the edges (GeoTIFF / COG)."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.shutil import copy as rio_copy

from layers.solar.errors import SolarError


class RasterError(SolarError):
    """A surface model is unreadable, unprojected, rotated or otherwise unusable."""


@dataclass(frozen=True)
class Raster:
    """A 2-D array travelling with its georeferencing (like rio-tiler's ImageData)."""

    array: np.ndarray  # float32, NaN where there is no data
    transform: Affine
    crs: CRS

    @property
    def cell_size_m(self) -> float:
        """Pixel size in metres (the CRS's linear unit converted, e.g. US feet)."""
        return pixel_size_m(self.transform, self.crs)


def linear_unit_to_m(crs: CRS) -> float:
    """Metres per unit of a projected CRS.

    Parameters
    ----------
    crs
        A pyproj CRS.

    Returns
    -------
    float
        1 for metres, 0.3048006 for US survey feet… [m per unit].

    Raises
    ------
    RasterError
        The CRS is geographic (degrees).
    """
    if not crs.is_projected:
        raise RasterError(
            "Le modèle de surface doit être dans un système projeté (mètres ou pieds), "
            f"pas en coordonnées géographiques ({crs.to_string()})."
        )
    return float(crs.axis_info[0].unit_conversion_factor)


def pixel_size_m(transform: Affine, crs: CRS) -> float:
    """The side of a raster's square pixels in metres.

    Parameters
    ----------
    transform
        The raster's affine transform.
    crs
        Its projected CRS.

    Returns
    -------
    float
        Pixel side [m].

    Raises
    ------
    RasterError
        A rotated or non-square grid, or a geographic CRS.
    """
    if transform.b != 0 or transform.d != 0:
        raise RasterError("Grille tournée non prise en charge : rééchantillonnez le MNS.")
    if not np.isclose(abs(transform.a), abs(transform.e), rtol=1e-6):
        raise RasterError("Pixels non carrés non pris en charge.")
    return abs(transform.a) * linear_unit_to_m(crs)


def read_raster(path: Path, window: rasterio.windows.Window | None = None) -> Raster:
    """Read band 1 of a raster file as float32, NaN for no data.

    Parameters
    ----------
    path
        A GeoTIFF (or any GDAL raster) in a projected CRS.
    window
        The part to read; ``None``: all of it.

    Returns
    -------
    Raster
        Heights (or values), the window's transform and the CRS.

    Raises
    ------
    RasterError
        Unreadable file, no CRS, a geographic CRS, rotated or non-square pixels.
    """
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise RasterError(f"{path} : aucun système de coordonnées (CRS).")
            data = src.read(1, window=window, masked=True).astype("float32")
            transform = src.window_transform(window) if window is not None else src.transform
            crs = CRS.from_wkt(src.crs.to_wkt())
    except rasterio.errors.RasterioIOError as err:
        raise RasterError(f"Modèle de surface illisible ({path}) : {err}") from err
    array = data.filled(np.nan)
    array[~np.isfinite(array)] = np.nan
    raster = Raster(array, transform, crs)
    raster.cell_size_m  # noqa: B018 - validates CRS and grid
    return raster


def raster_profile(path: Path) -> dict:
    """Shape, transform and CRS of a raster file, without reading its pixels.

    Parameters
    ----------
    path
        A raster file.

    Returns
    -------
    dict
        ``height``, ``width`` [px], ``transform`` (Affine), ``crs`` (pyproj CRS).

    Raises
    ------
    RasterError
        The file has no CRS.
    """
    with rasterio.open(path) as src:
        if src.crs is None:
            raise RasterError(f"{path} : aucun système de coordonnées (CRS).")
        return {
            "height": src.height,
            "width": src.width,
            "transform": src.transform,
            "crs": CRS.from_wkt(src.crs.to_wkt()),
        }


def create_tiled_gtiff(
    path: Path, height: int, width: int, transform: Affine, crs: CRS, description: str
) -> None:
    """Create an empty float32 tiled GeoTIFF (NaN nodata, deflate) that tiles are written into.

    Parameters
    ----------
    path
        The file to create.
    height, width
        Its size [px].
    transform
        Its affine transform.
    crs
        Its CRS.
    description
        The band's description (« irradiation [kWh/m²/an] »).

    Returns
    -------
    None
    """
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": 1,
        "dtype": "float32",
        "nodata": np.nan,
        "transform": transform,
        "crs": crs.to_wkt(),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "IF_SAFER",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.set_band_description(1, description)


def _cog_options(width: int, height: int) -> dict:
    """COG creation options: DEFLATE + float predictor, overviews down to ~64 px.

    5 levels for a 2 000 px LiDAR tile: a map tile at a low zoom reads a few kB per COG.
    """
    levels = max(1, int(np.log2(max(width, height) / 64)))
    return {
        "driver": "COG",
        "compress": "DEFLATE",
        "predictor": 3,
        "overview_resampling": "average",
        "overview_count": levels,
    }


def to_cog(src: Path, dst: Path, tags: dict[str, str]) -> None:
    """Convert a GeoTIFF to a Cloud-Optimised GeoTIFF (GDAL's COG driver), tags added.

    Parameters
    ----------
    src
        The GeoTIFF (its tags are updated in place).
    dst
        The COG to write: DEFLATE with the float predictor, overviews down to ~64 px.
    tags
        GeoTIFF tags (provenance, units).

    Returns
    -------
    None
    """
    with rasterio.open(src, "r+") as ds:
        ds.update_tags(**tags)
        options = _cog_options(ds.width, ds.height)
    rio_copy(src, dst, **options)


def write_cog(path: Path, raster: Raster, tags: dict[str, str], description: str) -> None:
    """Write a whole in-memory raster as a Cloud-Optimised GeoTIFF.

    The raster goes to GDAL as an in-memory dataset (no intermediate file, nothing
    compressed twice), written under a temporary name then renamed.

    Parameters
    ----------
    path
        The COG to write.
    raster
        Values and georeferencing.
    tags
        GeoTIFF tags (provenance, units).
    description
        The band's description.

    Returns
    -------
    None
    """
    from rasterio.io import MemoryFile

    height, width = raster.array.shape
    tmp = Path(path).with_suffix(".tmp.tif")
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            height=height,
            width=width,
            count=1,
            dtype="float32",
            nodata=np.nan,
            transform=raster.transform,
            crs=raster.crs.to_wkt(),
        ) as ds:
            ds.write(raster.array.astype("float32", copy=False), 1)
            ds.set_band_description(1, description)
            ds.update_tags(**tags)
        with mem.open() as ds:
            rio_copy(ds, tmp, **_cog_options(width, height))
    os.replace(tmp, path)


def rasterize_ids(
    geometries: Sequence[object] | np.ndarray, transform: Affine, shape: tuple[int, int]
) -> np.ndarray:
    """Burn polygon ``i`` as value ``i + 1`` (0 elsewhere), later polygons on top.

    Same rule as GDAL's default (``rasterio.features.rasterize``): a pixel belongs to a
    polygon when its centre is inside (even-odd rule, holes and multipolygons included).
    A numba scanline over the coordinate arrays: no per-geometry Python object is built,
    which made rasterio's route (``__geo_interface__`` for each of 100 000 roofs) the
    slowest part of the roof statistics.

    Parameters
    ----------
    geometries
        Shapely polygons or multipolygons, in the raster's CRS.
    transform
        The raster's affine transform (north up).
    shape
        ``(rows, cols)`` [px].

    Returns
    -------
    numpy.ndarray
        int32 ids, shaped ``shape``.
    """
    import shapely

    geoms = np.asarray(geometries, dtype=object)
    parts, part_geom = shapely.get_parts(geoms, return_index=True)
    polys = shapely.get_type_id(parts) == 3
    parts, part_geom = parts[polys], part_geom[polys]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    inv = ~transform
    cols = inv.a * coords[:, 0] + inv.b * coords[:, 1] + inv.c
    rows = inv.d * coords[:, 0] + inv.e * coords[:, 1] + inv.f
    ring_start = np.searchsorted(coord_ring, np.arange(len(rings) + 1)).astype(np.int64)
    ring_geom = part_geom[ring_part].astype(np.int64)
    out = np.zeros(shape, dtype=np.int32)
    _scanline(cols, rows, ring_start, ring_geom, out)
    return out


@numba.njit(cache=True, nogil=True)
def _scanline(xs, ys, ring_start, ring_geom, out):  # pragma: no cover - numba
    n_rings = ring_start.shape[0] - 1
    height, width = out.shape
    crossings = np.empty(max(xs.shape[0], 1), dtype=np.float64)
    first = 0
    while first < n_rings:
        g = ring_geom[first]
        last = first
        while last + 1 < n_rings and ring_geom[last + 1] == g:
            last += 1
        lo = ring_start[first]
        hi = ring_start[last + 1]
        ymin, ymax = ys[lo], ys[lo]
        for k in range(lo, hi):
            ymin = min(ymin, ys[k])
            ymax = max(ymax, ys[k])
        r0 = max(int(math.ceil(ymin - 0.5)), 0)
        r1 = min(int(math.floor(ymax - 0.5)), height - 1)
        for r in range(r0, r1 + 1):
            yc = r + 0.5
            n = 0
            for ring in range(first, last + 1):
                for k in range(ring_start[ring], ring_start[ring + 1] - 1):
                    y1, y2 = ys[k], ys[k + 1]
                    if (y1 <= yc < y2) or (y2 <= yc < y1):
                        x1, x2 = xs[k], xs[k + 1]
                        crossings[n] = x1 + (yc - y1) * (x2 - x1) / (y2 - y1)
                        n += 1
            if n < 2:
                continue
            for i in range(1, n):  # insertion sort: a handful of crossings per row
                v = crossings[i]
                j = i - 1
                while j >= 0 and crossings[j] > v:
                    crossings[j + 1] = crossings[j]
                    j -= 1
                crossings[j + 1] = v
            for p in range(0, n - 1, 2):
                c0 = max(int(math.ceil(crossings[p] - 0.5)), 0)
                c1 = min(int(math.ceil(crossings[p + 1] - 0.5)), width)
                for c in range(c0, c1):
                    out[r, c] = g + 1
        first = last + 1
