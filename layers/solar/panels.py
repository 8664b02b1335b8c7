"""Panels on a roof face: a whole number of standard modules, where they fit, and their yield.

**Layout.** A face is turned into its own frame: ``s`` along the contour (horizontal),
``t`` up the slope in true length (plan distance / cos slope), so that a module keeps its
real size. The face less its edge setback, less each obstacle grown by its setback, is
the allowed area. A grid of modules — portrait, then landscape, ``gap_m`` apart — is slid
across it (``offsets`` positions per axis, the first on the allowed area's corner) and the
position holding the most whole modules is kept: on a rectangle that is the analytic
maximum. On a flat face, rows of modules tilted ``flat_tilt`` face ``flat_azimuth``, spaced
so that no row shades the next at noon on the winter solstice (the sun's lowest noon).

**Yield.** A module gets the irradiation of the plane it lies on, unshaded
(:func:`unshaded_irradiation`, the engine's own sky), times the mean shading factor of
the pixels under it (their irradiation over that of their own plane unshaded): the
plane's geometry from the face's least-squares fit, the shade from each pixel's horizon.
kWh/yr = peak power [kWc] × irradiation [kWh/m²/yr] × performance ratio, the chain of
the roof card. A module under ``min_irradiation`` is not placed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from layers.solar.configurations import Configuration, ranked_configurations
from layers.solar.irradiation import annual_irradiation
from layers.solar.sky import SkyTables

SOLSTICE_DECLINATION = 23.44  # [deg] the sun's declination at the winter solstice


@dataclass(frozen=True)
class PanelRules:
    """The standard module and how modules are laid.

    Attributes
    ----------
    width_m, height_m
        Module size [m] (short and long side).
    peak_w
        Module peak power [Wc].
    gap_m
        Space between modules [m].
    edge_setback_m
        Kept free along the face's edges [m] (ridge, eaves, verges).
    obstacle_setback_m
        Kept free around an obstacle (chimney, skylight, HVAC) [m].
    flat_tilt
        Tilt of modules on a flat face [deg].
    flat_azimuth
        Azimuth of modules on a flat face [deg] clockwise from north.
    latitude
        Of the place [deg]: the winter solstice's noon sun spaces the rows.
    offsets
        Grid positions tried along each axis.
    """

    width_m: float = 1.134
    height_m: float = 1.722
    peak_w: float = 425.0
    gap_m: float = 0.02
    edge_setback_m: float = 0.3
    obstacle_setback_m: float = 0.3
    flat_tilt: float = 10.0
    flat_azimuth: float = 180.0
    latitude: float = 50.45
    offsets: int = 6

    @property
    def kwc(self) -> float:
        """One module's peak power [kWc]."""
        return self.peak_w / 1000.0


def solstice_noon_elevation(latitude: float) -> float:
    """The sun's elevation at noon on the winter solstice [deg].

    Parameters
    ----------
    latitude
        [deg], northern hemisphere.

    Returns
    -------
    float
        ``90 − latitude − 23.44``.
    """
    return 90.0 - abs(latitude) - SOLSTICE_DECLINATION


def row_pitch(depth_m: float, tilt: float, latitude: float) -> float:
    """Distance between the fronts of two rows of tilted modules [m].

    No row shades the next at noon on the winter solstice.

    Parameters
    ----------
    depth_m
        The module's side going up the tilt [m].
    tilt
        Module tilt [deg].
    latitude
        [deg].

    Returns
    -------
    float
        ``d·cos(tilt) + d·sin(tilt) / tan(h)``, h the solstice's noon elevation.
    """
    t, h = math.radians(tilt), math.radians(solstice_noon_elevation(latitude))
    return depth_m * math.cos(t) + depth_m * math.sin(t) / math.tan(h)


@dataclass(frozen=True)
class Frame:
    """A face's frame: ``s`` along the contour, ``t`` up the slope in true length."""

    azimuth: float  # the way the modules face [deg]
    stretch: float  # true length per plan length up the slope (1 / cos slope)

    def _axes(self):
        g = math.radians(self.azimuth)
        along = np.array([math.cos(g), -math.sin(g)])  # horizontal, along the contour
        up = np.array([-math.sin(g), -math.cos(g)])  # up the slope, in plan
        return along, up

    def to_face(self, geom: BaseGeometry) -> BaseGeometry:
        """Plan → face frame.

        Parameters
        ----------
        geom
            A geometry in plan [m].

        Returns
        -------
        BaseGeometry
            The same in the face's frame (``s``, ``t``) [m].
        """
        along, up = self._axes()
        k = self.stretch
        matrix = [along[0], along[1], up[0] * k, up[1] * k, 0.0, 0.0]
        from shapely import affinity

        return affinity.affine_transform(geom, matrix)

    def to_plan(self, geoms: np.ndarray) -> np.ndarray:
        """Face frame → plan.

        Parameters
        ----------
        geoms
            Geometries in the face's frame [m].

        Returns
        -------
        numpy.ndarray
            The same in plan [m].
        """
        along, up = self._axes()
        k = 1.0 / self.stretch
        inverse = np.array([[along[0], up[0] * k], [along[1], up[1] * k]])
        return shapely.transform(geoms, lambda xy: xy @ inverse.T)


@dataclass(frozen=True)
class Layout:
    """The modules laid on one face.

    Attributes
    ----------
    panels
        Plan polygons (the face's coordinates), one per module.
    portrait
        Long side up the slope.
    tilt
        Module tilt [deg] (the face's slope, or ``flat_tilt`` on a flat face).
    azimuth
        Module azimuth [deg].
    """

    panels: np.ndarray
    portrait: bool
    tilt: float
    azimuth: float


def _allowed(face: BaseGeometry, obstacles: BaseGeometry | None, rules: PanelRules, frame: Frame):
    shape = frame.to_face(face).buffer(-rules.edge_setback_m, join_style="mitre")
    if obstacles is not None and not obstacles.is_empty:
        grown = frame.to_face(obstacles).buffer(rules.obstacle_setback_m, join_style="mitre")
        shape = shape.difference(grown)
    return shape


def _best_grid(
    allowed: BaseGeometry, size: tuple[float, float], pitch: tuple[float, float], n: int
):
    """The grid position holding the most whole modules: their boxes (face frame).

    Every position (``n × n`` offsets, the first on the allowed area's corner) is tested
    in one vectorised call; ties go to the first position.
    """
    if allowed.is_empty:
        return np.empty(0, dtype=object)
    shapely.prepare(allowed)
    x0, y0, x1, y1 = allowed.bounds
    kx = int((x1 - x0 - size[0]) // pitch[0]) + 1
    ky = int((y1 - y0 - size[1]) // pitch[1]) + 1
    if kx <= 0 or ky <= 0:
        return np.empty(0, dtype=object)
    ox, oy = np.arange(n) * pitch[0] / n, np.arange(n) * pitch[1] / n
    # (offset x, offset y, row, column) → the box's lower-left corner
    x = x0 + ox[:, None, None, None] + np.arange(kx)[None, None, None, :] * pitch[0]
    y = y0 + oy[None, :, None, None] + np.arange(ky)[None, None, :, None] * pitch[1]
    x, y = np.broadcast_arrays(x, y)
    grid = np.broadcast_to(np.arange(n * n).reshape(n, n, 1, 1), x.shape).ravel()
    x, y = x.ravel(), y.ravel()
    fits = (x + size[0] <= x1 + 1e-9) & (y + size[1] <= y1 + 1e-9)
    x, y, grid = x[fits], y[fits], grid[fits]
    e = 1e-6  # a module on the allowed edge fits (rounding of the frame's turn)
    inside = shapely.contains(allowed, shapely.box(x + e, y + e, x + size[0] - e, y + size[1] - e))
    counts = np.bincount(grid[inside], minlength=n * n)
    if counts.max() == 0:
        return np.empty(0, dtype=object)
    chosen = inside & (grid == int(np.argmax(counts)))
    return shapely.box(x[chosen], y[chosen], x[chosen] + size[0], y[chosen] + size[1])


def layout_face(
    face: BaseGeometry,
    slope: float,
    azimuth: float,
    obstacles: BaseGeometry | None,
    rules: PanelRules = PanelRules(),
) -> Layout:
    """The most modules that fit on one face.

    Parameters
    ----------
    face
        The face in plan [m] (Lambert-93, or any metric frame).
    slope
        The face's slope [deg].
    azimuth
        The face's azimuth [deg] clockwise from north; NaN for a flat face.
    obstacles
        Obstacles on or next to the face (plan), or ``None``.
    rules
        The module and its setbacks (:class:`PanelRules`).

    Returns
    -------
    Layout
        The modules (plan polygons), portrait or landscape, their tilt and azimuth.
    """
    flat = math.isnan(azimuth)
    az = rules.flat_azimuth if flat else azimuth
    frame = Frame(az, 1.0 if flat else 1.0 / math.cos(math.radians(slope)))
    allowed = _allowed(face, obstacles, rules, frame)
    best, portrait = np.empty(0, dtype=object), True
    for upright in (True, False):
        across, up = (rules.width_m, rules.height_m) if upright else (rules.height_m, rules.width_m)
        if flat:  # rows of tilted modules: their plan depth, spaced for the solstice
            depth = up * math.cos(math.radians(rules.flat_tilt))
            pitch = row_pitch(up, rules.flat_tilt, rules.latitude)
            size, step = (across, depth), (across + rules.gap_m, pitch)
        else:
            size, step = (across, up), (across + rules.gap_m, up + rules.gap_m)
        boxes = _best_grid(allowed, size, step, rules.offsets)
        if len(boxes) > len(best):
            best, portrait = boxes, upright
    tilt = rules.flat_tilt if flat else slope
    return Layout(frame.to_plan(best) if len(best) else best, portrait, tilt, az)


def unshaded_irradiation(tilt: np.ndarray, azimuth: np.ndarray, tables: SkyTables) -> np.ndarray:
    """The irradiation of open planes, nothing above their horizon [kWh/m²/yr].

    The engine's own sky and model (:func:`irradiation.annual_irradiation` with a flat
    horizon and the open plane's sky view ``(1 + cos tilt) / 2``): the reference a
    shaded pixel or face is measured against.

    Parameters
    ----------
    tilt
        Plane tilts [deg].
    azimuth
        Plane azimuths [deg] clockwise from north (any value where the tilt is 0).
    tables
        The year's sky (``sky.sky_tables``).

    Returns
    -------
    numpy.ndarray
        Shaped as ``tilt``, float32.
    """
    tilt = np.atleast_1d(np.asarray(tilt, dtype="float32"))
    shape = tilt.shape
    flat_tilt = tilt.reshape(1, -1)
    az = np.nan_to_num(np.asarray(azimuth, dtype="float32").reshape(1, -1), nan=180.0)
    n = tables.beam.shape[0]
    horizon = np.zeros((n, 1, flat_tilt.shape[1]), dtype="float32")
    svf = ((1 + np.cos(np.radians(flat_tilt))) / 2).astype("float32")
    return annual_irradiation(horizon, flat_tilt, az, svf, tables).reshape(shape)


def shading_factor(
    irradiation: np.ndarray, tilt: np.ndarray, azimuth: np.ndarray, tables: SkyTables
) -> np.ndarray:
    """Each pixel's irradiation over that of its own plane unshaded [-] (1: no shade).

    Parameters
    ----------
    irradiation
        The pixels' irradiation [kWh/m²/yr] (NaN: not computed).
    tilt, azimuth
        Their planes [deg] (``SweepResult.surface_tilt``, ``surface_azimuth``).
    tables
        The year's sky.

    Returns
    -------
    numpy.ndarray
        Shaped as ``irradiation``; NaN where it is.
    """
    out = np.full(irradiation.shape, np.nan, dtype="float32")
    ok = np.isfinite(irradiation)
    if ok.any():
        open_sky = unshaded_irradiation(tilt[ok], azimuth[ok], tables)
        out[ok] = irradiation[ok] / np.maximum(open_sky, 1e-6)
    return out


def panel_irradiation(
    panels: np.ndarray, shade: np.ndarray, transform, plane_irradiation: float | np.ndarray
) -> np.ndarray:
    """Each module's irradiation: its plane unshaded × the mean shading under it.

    Parameters
    ----------
    panels
        Plan polygons of the modules (the raster's coordinates).
    shade
        Shading factor per pixel (:func:`shading_factor`), NaN where unknown.
    transform
        The raster's affine transform (``rasterio``).
    plane_irradiation
        The modules' plane unshaded [kWh/m²/yr] (:func:`unshaded_irradiation`): one value,
        or one per module (the modules of a whole tile in one call).

    Returns
    -------
    numpy.ndarray
        [kWh/m²/yr] per module; a module over no known pixel centre takes the pixel under
        its centroid (NaN if unknown).
    """
    from rasterio.transform import rowcol

    from layers.solar.raster import rasterize_ids

    n = len(panels)
    if n == 0:
        return np.zeros(0)
    ids = rasterize_ids(panels, transform, shade.shape).ravel()  # modules never overlap
    known = np.isfinite(shade.ravel()) & (ids > 0)
    count = np.bincount(ids[known], minlength=n + 1)[1:]
    total = np.bincount(ids[known], weights=shade.ravel()[known], minlength=n + 1)[1:]
    mean = np.divide(total, count, out=np.full(n, np.nan), where=count > 0)
    for i in np.flatnonzero(count == 0):
        c = panels[i].centroid
        r, q = rowcol(transform, c.x, c.y)
        inside = 0 <= r < shade.shape[0] and 0 <= q < shade.shape[1]
        mean[i] = shade[r, q] if inside else np.nan
    return plane_irradiation * mean


def configurations_from_yields(
    kwh_central: np.ndarray, rules: PanelRules, performance_ratio: tuple[float, float, float]
) -> list[Configuration]:
    """:func:`configurations` from the modules' yields at the central performance ratio.

    That is what the store keeps per module.

    Parameters
    ----------
    kwh_central
        Each module's kWh/yr at ``performance_ratio[1]``.
    rules
        The module.
    performance_ratio
        Low, central, high [-].

    Returns
    -------
    list of Configuration
    """
    per_kwc = np.asarray(kwh_central, dtype="float64") / (rules.kwc * performance_ratio[1])
    return configurations(per_kwc, rules, performance_ratio)


def configurations(
    kwh_per_kwc: np.ndarray, rules: PanelRules, performance_ratio: tuple[float, float, float]
) -> list[Configuration]:
    """N modules → kWc and kWh/yr, the modules taken best first (Google's solarPanelConfigs).

    Parameters
    ----------
    kwh_per_kwc
        Each module's irradiation [kWh/m²/yr], i.e. its yield per kWc before losses.
    rules
        The module (its peak power).
    performance_ratio
        Low, central, high [-].

    Returns
    -------
    list of Configuration
        One per N = 1 … number of modules.
    """
    ranked = np.sort(np.asarray(kwh_per_kwc, dtype="float64"))[::-1]
    total = np.cumsum(ranked) * rules.kwc
    return [
        Configuration(
            n + 1,
            round((n + 1) * rules.kwc, 3),
            tuple(round(float(total[n] * pr), 0) for pr in performance_ratio),  # type: ignore[arg-type]
        )
        for n in range(len(ranked))
    ]


__all__ = [
    "Configuration",
    "Frame",
    "Layout",
    "PanelRules",
    "configurations",
    "configurations_from_yields",
    "ranked_configurations",
    "layout_face",
    "panel_irradiation",
    "row_pitch",
    "shading_factor",
    "solstice_noon_elevation",
    "unshaded_irradiation",
]
