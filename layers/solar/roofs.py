"""From pixels to roofs: usable area, mean irradiation, tilt, orientation, kWc, kWh, class.

Rasterize the roof polygons on the irradiation grid (a pixel belongs to the roof that
contains its centre), keep the usable pixels (slope ≤ max, irradiation ≥ threshold, data,
optionally high enough above a terrain model), drop fragments smaller than a panel, then
sum per roof with ``numpy.bincount``. Areas are the sloped surface: pixel area / cos(tilt).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from rasterio.features import rasterize
from scipy import ndimage

from layers.assumptions import Assumptions, load_assumptions
from layers.errors import AtlasError
from layers.settings import DEFAULT_GEODATA
from layers.solar.raster import Raster, read_raster
from layers.solar.terrain import slope_aspect

ORIENTATIONS = ["nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest"]
LEVELS = ("bas", "central", "haut")


def orientation_label(azimuth: float, tilt: float) -> str:
    """French compass word for a roof's azimuth [deg]; « plat » under 5° of slope."""
    if np.isnan(azimuth) or tilt < 5:
        return "plat"
    return ORIENTATIONS[int(((azimuth + 22.5) % 360) // 45)]


def roof_class(irradiation: float, usable_m2: float, hyp: Assumptions) -> str:
    """Class of a roof from the mean irradiation of its usable part (thresholds in hyp)."""
    panel = hyp.get("solaire", "surface_panneau").central
    if not usable_m2 or usable_m2 < panel or np.isnan(irradiation):
        return "non adapté"
    for name in ("excellent", "bon", "moyen"):
        if irradiation >= hyp.get("solaire", f"classe_{name}").central:
            return name
    return "faible"


def roof_statistics(
    roofs: gpd.GeoDataFrame,
    irradiation: Raster,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    hyp: Assumptions,
    height_above_ground: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Per-roof statistics (one row per input polygon, input columns kept).

    ``roofs`` must be in the raster's CRS. Roofs partly outside the raster use the part
    inside (``part_couverte`` says how much); roofs over no data get zero usable area.
    """
    if roofs.crs is None or not roofs.crs.equals(irradiation.crs):
        raise AtlasError("Les toits doivent être dans le système de coordonnées du MNS.")
    irr = irradiation.array
    n = len(roofs)
    ids = rasterize(
        ((geom, i + 1) for i, geom in enumerate(roofs.geometry)),
        out_shape=irr.shape,
        transform=irradiation.transform,
        fill=0,
        dtype="int32",
    )
    cell = irradiation.cell_size_m
    tilt = np.where(np.isfinite(surface_tilt), surface_tilt, 0.0)
    sloped_area = cell * cell / np.cos(np.radians(tilt))
    data = (ids > 0) & np.isfinite(irr) & np.isfinite(surface_tilt)
    usable = (
        data
        & (surface_tilt <= hyp.get("solaire", "pente_max").central)
        & (irr >= hyp.get("solaire", "seuil_irradiation").central)
    )
    if height_above_ground is not None:
        usable &= height_above_ground >= hyp.get("solaire", "hauteur_min_toit").central
    usable = _drop_fragments(
        usable, ids, sloped_area, hyp.get("solaire", "surface_panneau").central
    )

    def per_roof(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(ids[mask], weights=weights[mask], minlength=n + 1)[1:]

    one = np.ones(irr.shape)
    foot_px = np.bincount(ids.ravel(), minlength=n + 1)[1:]
    data_px = per_roof(one, data)
    irr0 = np.where(np.isfinite(irr), irr, 0.0)
    area = per_roof(sloped_area, usable)
    energy = per_roof(irr0 * sloped_area, usable)
    rad = np.radians(np.where(np.isfinite(surface_azimuth), surface_azimuth, 0.0))
    sin_az = per_roof(np.sin(rad) * sloped_area, usable)
    cos_az = per_roof(np.cos(rad) * sloped_area, usable)
    tilt_sum = per_roof(tilt * sloped_area, usable)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_irr = energy / area
        mean_tilt = tilt_sum / area
        mean_az = np.degrees(np.arctan2(sin_az, cos_az)) % 360
        roof_mean = per_roof(irr0, data) / data_px
    footprint_m2 = roofs.geometry.area.to_numpy() * _crs_area_factor(roofs)
    out = roofs.copy()
    out["surface_emprise_m2"] = footprint_m2.round(1)
    out["part_couverte"] = np.clip(
        foot_px * cell * cell / np.maximum(footprint_m2, 1e-9), 0, 1
    ).round(3)
    out["part_avec_donnees"] = np.where(foot_px > 0, data_px / np.maximum(foot_px, 1), 0).round(3)
    out["irradiation_toit"] = np.round(roof_mean, 1)  # all roof pixels with data
    out["surface_utile_m2"] = area.round(1)
    out["irradiation_utile"] = np.round(mean_irr, 1)  # kWh/m²/an, usable part
    out["pente_dominante"] = np.round(mean_tilt, 1)
    out["orientation_dominante"] = np.round(mean_az, 1)
    out["orientation"] = [orientation_label(a, t) for a, t in zip(mean_az, mean_tilt, strict=True)]
    density, pr = (
        hyp.get("solaire", "puissance_surfacique"),
        hyp.get("solaire", "ratio_performance"),
    )
    for level in LEVELS:
        kwc = area * density.at(level)
        out[f"kwc_{level}"] = kwc.round(2)
        out[f"kwh_an_{level}"] = (energy * density.at(level) * pr.at(level)).round(0)
    out["classe"] = [roof_class(i, a, hyp) for i, a in zip(mean_irr, area, strict=True)]
    return out


def _crs_area_factor(gdf: gpd.GeoDataFrame) -> float:
    factor = float(gdf.crs.axis_info[0].unit_conversion_factor)
    return factor * factor


def _drop_fragments(
    usable: np.ndarray, ids: np.ndarray, area: np.ndarray, min_area: float
) -> np.ndarray:
    """Remove connected pieces (per roof) whose sloped area is smaller than a panel."""
    labels, n_labels = ndimage.label(usable, structure=np.ones((3, 3)))
    if n_labels == 0:
        return usable
    key = labels.astype(np.int64) * (int(ids.max()) + 1) + ids  # a piece never spans roofs
    flat = key[usable]
    uniq, inverse = np.unique(flat, return_inverse=True)
    piece_area = np.bincount(inverse, weights=area[usable])
    keep = usable.copy()
    keep[usable] = piece_area[inverse] >= min_area
    return keep


def roofs_from_files(
    roofs_path: Path,
    irradiation_path: Path,
    dsm_path: Path,
    out_path: Path,
    dtm_path: Path | None,
    weather: dict,
    geodata_dir: Path = DEFAULT_GEODATA,
) -> int:
    """File-level wrapper used by the CLI: read, compute, write ``roofs.gpkg``."""
    hyp = load_assumptions(geodata_dir)
    irr = read_raster(irradiation_path)
    dsm = read_raster(dsm_path)
    try:
        roofs = pyogrio.read_dataframe(roofs_path)
    except Exception as err:
        raise AtlasError(f"Fichier des toits illisible ({roofs_path}) : {err}") from err
    if roofs.crs is None:
        raise AtlasError(f"Fichier des toits sans système de coordonnées : {roofs_path}")
    roofs = roofs.to_crs(irr.crs)
    invalid = ~roofs.geometry.is_valid
    if invalid.any():
        roofs.loc[invalid, "geometry"] = roofs.geometry[invalid].make_valid()
    tilt, azimuth = slope_aspect(dsm.array, dsm.cell_size_m)
    height = None
    if dtm_path is not None:
        dtm = read_raster(dtm_path)
        if dtm.array.shape != dsm.array.shape:
            raise AtlasError("Le MNT doit avoir la même grille que le MNS.")
        height = dsm.array - dtm.array
    stats = roof_statistics(roofs, irr, tilt, azimuth, hyp, height)
    stats["climat"] = weather.get("name", "?")
    stats["hypotheses_version"] = hyp.version
    pyogrio.write_dataframe(
        stats,
        out_path,
        layer="roofs",
        driver="GPKG",
        layer_metadata={
            "ATLAS_SOURCE": "Atlas PMA, moteur solaire",
            "ATLAS_CLIMAT": str(weather.get("name")),
        },
    )
    return len(stats)
