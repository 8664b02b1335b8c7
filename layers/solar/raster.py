"""Rasters with their georeferencing, read and written at the edges (GeoTIFF / COG)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import CRS
from rasterio.shutil import copy as rio_copy

from layers.errors import AtlasError


class RasterError(AtlasError):
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
    """Metres per unit of a projected CRS (1 for metres, 0.3048006 for US survey feet)."""
    if not crs.is_projected:
        raise RasterError(
            "Le modèle de surface doit être dans un système projeté (mètres ou pieds), "
            f"pas en coordonnées géographiques ({crs.to_string()})."
        )
    return float(crs.axis_info[0].unit_conversion_factor)


def pixel_size_m(transform: Affine, crs: CRS) -> float:
    """Square pixel size in metres; rotated or non-square grids are refused."""
    if transform.b != 0 or transform.d != 0:
        raise RasterError("Grille tournée non prise en charge : rééchantillonnez le MNS.")
    if not np.isclose(abs(transform.a), abs(transform.e), rtol=1e-6):
        raise RasterError("Pixels non carrés non pris en charge.")
    return abs(transform.a) * linear_unit_to_m(crs)


def read_raster(path: Path, window: rasterio.windows.Window | None = None) -> Raster:
    """Read band 1 as float32 with NaN for nodata; CRS must be projected."""
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
    """Shape, transform and CRS of a raster file without reading its pixels."""
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
    """An empty float32 tiled GeoTIFF (NaN nodata) that tiles are written into."""
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


def to_cog(src: Path, dst: Path, tags: dict[str, str]) -> None:
    """Convert a GeoTIFF to a Cloud-Optimised GeoTIFF (GDAL COG driver) with tags."""
    with rasterio.open(src, "r+") as ds:
        ds.update_tags(**tags)
    rio_copy(src, dst, driver="COG", compress="DEFLATE", predictor=3, overview_resampling="average")


def write_cog(path: Path, raster: Raster, tags: dict[str, str], description: str) -> None:
    """Write a whole in-memory raster as a COG (used for small rasters and tests)."""
    tmp = Path(path).with_suffix(".tmp.tif")
    height, width = raster.array.shape
    create_tiled_gtiff(tmp, height, width, raster.transform, raster.crs, description)
    with rasterio.open(tmp, "r+") as dst:
        dst.write(raster.array.astype("float32"), 1)
    to_cog(tmp, path, tags)
    tmp.unlink()
