"""From pixels to roofs: usable area, mean irradiation, tilt, orientation, kWc, kWh, class.

Rasterize the roof polygons on the irradiation grid (a pixel belongs to the roof that
contains its centre), keep the usable pixels (slope ≤ max, irradiation ≥ threshold, data,
optionally high enough above a terrain model), drop fragments smaller than a panel, then
sum per roof with ``numpy.bincount``. Areas are the sloped surface: pixel area / cos(tilt).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numba
import numpy as np
import pyogrio
from scipy import ndimage

from layers.solar.errors import SolarError
from layers.solar.labels import (  # noqa: F401 — the store's words, re-exported
    NO_DATA,
    NOT_SEEN,
    ORIENTATIONS,
    UNDETERMINED,
    orientation_label,
    orientation_labels,
)
from layers.solar.raster import Raster, rasterize_ids, read_raster
from layers.solar.rules import LEVELS, RoofRules
from layers.solar.terrain import slope_aspect

MIN_DATA_SHARE = 0.5  # below this share of its footprint with LiDAR data, a roof is unknown


def roof_classes(irradiation: np.ndarray, usable_m2: np.ndarray, rules: RoofRules) -> np.ndarray:
    """:func:`roof_class` for whole arrays.

    Parameters
    ----------
    irradiation
        Mean irradiation of each roof's usable part [kWh/m²/yr] (NaN: no data).
    usable_m2
        Usable area of each roof [m²].
    rules
        Class thresholds and the panel size (``RoofRules``).

    Returns
    -------
    numpy.ndarray
        One class name per roof (object array; the store's French words).
    """
    out = np.full(len(irradiation), "faible", dtype=object)
    with np.errstate(invalid="ignore"):
        for name, threshold in rules.class_thresholds:  # ascending: the best class wins
            out[irradiation >= threshold] = name
        out[(usable_m2 <= 0) | (usable_m2 < rules.panel_area) | np.isnan(irradiation)] = (
            "non adapté"
        )
    return out


def roof_class(irradiation: float, usable_m2: float, rules: RoofRules) -> str:
    """Class of a roof from the mean irradiation of its usable part [kWh/m²/yr].

    « non adapté » when less than one panel fits (or no data), else the best class whose
    threshold the irradiation reaches (``rules.class_thresholds``), else « faible ».

    Parameters
    ----------
    irradiation
        Mean irradiation of the roof's usable part [kWh/m²/yr].
    usable_m2
        Usable area [m²].
    rules
        Class thresholds [kWh/m²/yr] and panel area [m²].

    Returns
    -------
    str
        The class, in the store's French words.
    """
    if not usable_m2 or usable_m2 < rules.panel_area or np.isnan(irradiation):
        return "non adapté"
    for name, threshold in reversed(rules.class_thresholds):
        if irradiation >= threshold:
            return name
    return "faible"


# The columns :func:`roof_statistics` adds, with their unit: the store's persisted format
# (``toits.gpkg``, layer ``toits``), in French like every persisted name; documented here
# only. ``{level}`` is each of ``bas``, ``central``, ``haut`` (the rules' Span).
ROOF_STATISTICS_COLUMNS = {
    "surface_emprise_m2": "m² — the footprint's area",
    "part_couverte": "0–1 — share of the footprint on the raster",
    "part_avec_donnees": "0–1 — share of the covered footprint's pixels with data",
    "irradiation_toit": "kWh/m²/an — mean over every roof pixel with data",
    "surface_utile_m2": "m² — sloped area of the usable pieces (tilt, sun, height, ≥ 1 panel)",
    "irradiation_utile": "kWh/m²/an — mean over the usable area",
    "pente_dominante": "° — area-weighted tilt of the usable area",
    "orientation_dominante": "° from north, clockwise — area-weighted aspect of the usable area",
    "orientation": "text — « Sud », « Plat »… (UNDETERMINED without usable area or data)",
    "kwc_{level}": "kWc — usable area × power density",
    "kwh_an_{level}": "kWh/an — usable energy × power density × performance ratio",
    "classe": "text — the rules' class, NO_DATA when under MIN_DATA_SHARE has data",
}


def statistics_columns() -> list[str]:
    """The column names :func:`roof_statistics` adds, levels expanded.

    Returns
    -------
    list of str
        :data:`ROOF_STATISTICS_COLUMNS`' keys, ``{level}`` replaced by each of ``LEVELS``.
    """
    return [
        name.format(level=level)
        for name in ROOF_STATISTICS_COLUMNS
        for level in (LEVELS if "{level}" in name else ("",))
    ]


def roof_statistics(
    roofs: gpd.GeoDataFrame,
    irradiation: Raster,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    rules: RoofRules,
    height_above_ground: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Per-roof statistics (one row per input polygon, input columns kept).

    ``roofs`` must be in the raster's CRS. Roofs partly outside the raster use the part
    inside (``part_couverte`` says how much); roofs over no data get zero usable area.

    Parameters
    ----------
    roofs
        Building footprints (BD TOPO ``batiment``), one polygon per roof.
    irradiation
        Annual irradiation raster [kWh/m²/yr] and its transform.
    surface_tilt
        Plane tilt [deg] per pixel, shaped as the raster.
    surface_azimuth
        Plane azimuth [deg] per pixel, clockwise from north.
    rules
        What makes a pixel usable (tilt, irradiation, height above ground) and the
        power and classes per area (``RoofRules``).
    height_above_ground
        Height above the terrain model [m] per pixel; ``None``: not checked.

    Returns
    -------
    geopandas.GeoDataFrame
        The input rows plus the columns of :data:`ROOF_STATISTICS_COLUMNS` (units and
        meaning there). They are the store's persisted format, hence French names; the
        function hands them over as is so that what is computed is what is stored.
    """
    if roofs.crs is None or not roofs.crs.equals(irradiation.crs):
        raise SolarError("Les toits doivent être dans le système de coordonnées du MNS.")
    irr = irradiation.array
    n = len(roofs)
    ids = rasterize_ids(roofs.geometry.to_numpy(), irradiation.transform, irr.shape)
    cell = irradiation.cell_size_m
    hag = height_above_ground if height_above_ground is not None else np.zeros((1, 1), "float32")
    data, usable = _masks(
        ids,
        np.asarray(irr, dtype="float32"),
        np.asarray(surface_tilt, dtype="float32"),
        np.asarray(hag, dtype="float32"),
        height_above_ground is not None,
        float(rules.max_tilt),
        float(rules.min_irradiation),
        float(rules.min_height),
    )
    # connected usable pieces (8-neighbours); a piece is split where roofs meet
    labels, _ = ndimage.label(usable, structure=np.ones((3, 3)))
    sums = _per_roof(
        ids,
        labels,
        data,
        usable,
        np.asarray(irr, dtype="float32"),
        np.asarray(surface_tilt, dtype="float32"),
        np.asarray(surface_azimuth, dtype="float32"),
        float(cell * cell),
        float(rules.panel_area),
        n,
    )
    foot_px, data_px, irr_sum, area, energy, sin_az, cos_az, tilt_sum = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_irr = energy / area
        mean_tilt = tilt_sum / area
        mean_az = np.degrees(np.arctan2(sin_az, cos_az)) % 360
        roof_mean = irr_sum / data_px
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
    out["orientation"] = orientation_labels(mean_az, mean_tilt)
    density, pr = rules.power_density, rules.performance_ratio
    for level in LEVELS:
        kwc = area * density.at(level)
        out[f"kwc_{level}"] = kwc.round(2)
        out[f"kwh_an_{level}"] = (energy * density.at(level) * pr.at(level)).round(0)
    out["classe"] = roof_classes(mean_irr, area, rules)
    # a roof the LiDAR does not cover (or barely) is not « non adapté »: it is unknown
    # share of the whole footprint with data: on the raster (part_couverte) and not a hole
    share = out["part_couverte"].to_numpy() * out["part_avec_donnees"].to_numpy()
    unknown = share < MIN_DATA_SHARE
    out.loc[unknown, "classe"] = NO_DATA
    out.loc[unknown | ~(area > 0), "orientation"] = UNDETERMINED
    return out


def _crs_area_factor(gdf: gpd.GeoDataFrame) -> float:
    factor = float(gdf.crs.axis_info[0].unit_conversion_factor)
    return factor * factor


@numba.njit(cache=True, nogil=True)
def _masks(ids, irr, tilt, hag, use_hag, tilt_max, irr_min, height_min):  # pragma: no cover
    """Pixels of a roof with data, and those usable (slope, sun, height above ground)."""
    rows, cols = ids.shape
    data = np.zeros((rows, cols), dtype=np.bool_)
    usable = np.zeros((rows, cols), dtype=np.bool_)
    for r in range(rows):
        for c in range(cols):
            if ids[r, c] == 0:
                continue
            i, t = irr[r, c], tilt[r, c]
            if not (math.isfinite(i) and math.isfinite(t)):
                continue
            data[r, c] = True
            if t <= tilt_max and i >= irr_min and (not use_hag or hag[r, c] >= height_min):
                usable[r, c] = True
    return data, usable


@numba.njit(cache=True, nogil=True)
def _per_roof(
    ids, labels, data, usable, irr, tilt, azimuth, cell2, min_piece, n
):  # pragma: no cover
    """Sums per roof in two passes over the pixels (no per-roof Python work).

    Usable pieces (connected, within one roof) smaller than ``min_piece`` m² (one panel)
    are dropped. Returns footprint and data pixel counts, the irradiation sum over the
    roof's data pixels, then over its usable part: sloped area [m²], energy [kWh/an],
    area-weighted sin/cos of the aspect and the tilt.
    """
    rows, cols = ids.shape
    width = np.int64(n + 1)
    n_labels = labels.max() + 1
    # area per piece: per label while a label stays on one roof (nearly always), per
    # (label, roof) pair in a dict for the few labels that straddle two roofs
    by_label = np.zeros(n_labels)
    roof_of = np.zeros(n_labels, dtype=np.int64)
    mixed = np.zeros(n_labels, dtype=np.bool_)
    for r in range(rows):
        for c in range(cols):
            if usable[r, c]:
                lab = labels[r, c]
                if roof_of[lab] == 0:
                    roof_of[lab] = ids[r, c]
                elif roof_of[lab] != ids[r, c]:
                    mixed[lab] = True
    piece = numba.typed.Dict.empty(numba.types.int64, numba.types.float64)
    for r in range(rows):
        for c in range(cols):
            if usable[r, c]:
                lab = labels[r, c]
                a = cell2 / math.cos(math.radians(tilt[r, c]))
                if mixed[lab]:
                    key = np.int64(lab) * width + ids[r, c]
                    piece[key] = piece.get(key, 0.0) + a
                else:
                    by_label[lab] += a
    foot = np.zeros(n)
    data_px = np.zeros(n)
    irr_sum = np.zeros(n)
    area = np.zeros(n)
    energy = np.zeros(n)
    sin_az = np.zeros(n)
    cos_az = np.zeros(n)
    tilt_sum = np.zeros(n)
    for r in range(rows):
        for c in range(cols):
            k = ids[r, c] - 1
            if k < 0:
                continue
            foot[k] += 1.0
            if not data[r, c]:
                continue
            data_px[k] += 1.0
            irr_sum[k] += irr[r, c]
            if not usable[r, c]:
                continue
            lab = labels[r, c]
            size = piece[np.int64(lab) * width + ids[r, c]] if mixed[lab] else by_label[lab]
            if size < min_piece:
                continue
            t = tilt[r, c]
            a = cell2 / math.cos(math.radians(t))
            area[k] += a
            energy[k] += irr[r, c] * a
            az = azimuth[r, c]
            if math.isfinite(az):
                sin_az[k] += math.sin(math.radians(az)) * a
                cos_az[k] += math.cos(math.radians(az)) * a
            else:
                cos_az[k] += a
            tilt_sum[k] += t * a
    return foot, data_px, irr_sum, area, energy, sin_az, cos_az, tilt_sum


def roofs_from_files(
    roofs_path: Path,
    irradiation_path: Path,
    dsm_path: Path,
    out_path: Path,
    dtm_path: Path | None,
    weather: dict,
    rules: RoofRules,
) -> int:
    """File-level wrapper used by the CLI: read, compute, write ``roofs.gpkg``.

    Parameters
    ----------
    roofs_path
        Building footprints (GeoPackage or shapefile).
    irradiation_path
        Irradiation raster [kWh/m²/yr] (GeoTIFF / COG).
    dsm_path
        The surface model it was computed from [m] (tilts and azimuths).
    out_path
        The GeoPackage written (aside, then swapped in).
    dtm_path
        Terrain model [m] for the height above ground; ``None``: not checked.
    weather
        The weather's description, written with the roofs (``Weather.describe``).
    rules
        ``RoofRules``.

    Returns
    -------
    int
        Number of roofs written.
    """
    irr = read_raster(irradiation_path)
    dsm = read_raster(dsm_path)
    try:
        roofs = pyogrio.read_dataframe(roofs_path)
    except Exception as err:
        raise SolarError(f"Fichier des toits illisible ({roofs_path}) : {err}") from err
    if roofs.crs is None:
        raise SolarError(f"Fichier des toits sans système de coordonnées : {roofs_path}")
    roofs = roofs.to_crs(irr.crs)
    invalid = ~roofs.geometry.is_valid
    if invalid.any():
        roofs.loc[invalid, "geometry"] = roofs.geometry[invalid].make_valid()
    tilt, azimuth = slope_aspect(dsm.array, dsm.cell_size_m)
    height = None
    if dtm_path is not None:
        dtm = read_raster(dtm_path)
        if dtm.array.shape != dsm.array.shape:
            raise SolarError("Le MNT doit avoir la même grille que le MNS.")
        height = dsm.array - dtm.array
    stats = roof_statistics(roofs, irr, tilt, azimuth, rules, height)
    stats["climat"] = weather.get("name", "?")
    stats["regles"] = rules.digest()[:12]
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
