"""Annual irradiation per pixel [kWh/m²/yr] from terrain geometry and sky tables.

Per pixel and sector k, the sun counts when it is above the terrain horizon of sector k,
above the pixel's own plane (else it lights the back of the roof) and above 0°: one
lookup in the cumulative table of that sector. Sky diffuse is Perez (or isotropic): its
isotropic part scaled by the tilted sky view factor, its circumsolar part shaded like the
beam, its horizon band scaled by the relative sky view; ground-reflected light is
albedo · GHI · (1 − cos β)/2.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from layers.solar.sky import COS_85, SkyTables, SunSky, sector_of, sun_vectors


@numba.njit(parallel=True, nogil=True, cache=True)
def _annual(horizon, tilt, azimuth, svf, beam, step, iso, band, ground, out):  # pragma: no cover
    n_sectors, rows, cols = horizon.shape
    n_bins = beam.shape[1] - 1
    for r in numba.prange(rows):
        for c in range(cols):
            h0 = horizon[0, r, c]
            if math.isnan(h0) or math.isnan(tilt[r, c]):
                out[r, c] = np.nan
                continue
            b = math.radians(tilt[r, c])
            g = math.radians(azimuth[r, c])
            nx, ny, nz = math.sin(b) * math.sin(g), math.sin(b) * math.cos(g), math.cos(b)
            tan_b = math.tan(b)
            direct = 0.0
            for k in range(n_sectors):
                a = 2.0 * math.pi * k / n_sectors
                e_plane = math.degrees(math.atan(-tan_b * math.cos(a - g)))
                e_min = max(horizon[k, r, c], e_plane, 0.0)
                i = int(math.ceil(e_min / step))
                if i >= n_bins:
                    continue
                dot = nx * beam[k, i, 0] + ny * beam[k, i, 1] + nz * beam[k, i, 2]
                if dot > 0.0:
                    direct += dot
            open_view = (1.0 + nz) / 2.0
            sky = iso * svf[r, c] + band * math.sin(b) * svf[r, c] / open_view
            out[r, c] = (direct + sky + ground * (1.0 - nz) / 2.0) / 1000.0


def annual_irradiation(
    horizon: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    svf: np.ndarray,
    tables: SkyTables,
) -> np.ndarray:
    """Annual irradiation [kWh/m²/yr] of every pixel (NaN where no data)."""
    out = np.empty(surface_tilt.shape, dtype="float32")
    _annual(
        np.ascontiguousarray(horizon, dtype="float32"),
        np.ascontiguousarray(surface_tilt, dtype="float32"),
        np.ascontiguousarray(surface_azimuth, dtype="float32"),
        np.ascontiguousarray(svf, dtype="float32"),
        tables.beam,
        tables.step,
        tables.iso,
        tables.horizon_band,
        tables.ghi * tables.albedo,
        out,
    )
    return out


def hourly_poa(
    horizon: np.ndarray,
    surface_tilt: float,
    surface_azimuth: float,
    svf: float,
    sky: SunSky,
    albedo: float,
) -> dict[str, np.ndarray]:
    """Hour-by-hour plane-of-array irradiance [W/m²] of one pixel, without any binning.

    ``horizon`` is that pixel's horizon per sector [deg]. Returns the components
    (``beam``, ``circumsolar``, ``isotropic``, ``horizon``, ``ground``, ``total``) and
    ``sunlit`` (sun above 0°, the horizon and the plane).
    """
    n = horizon.shape[0]
    beta, gamma = np.radians(surface_tilt), np.radians(surface_azimuth)
    normal = np.array([np.sin(beta) * np.sin(gamma), np.sin(beta) * np.cos(gamma), np.cos(beta)])
    cos_aoi = sun_vectors(sky.azimuth, sky.elevation) @ normal
    above = (sky.elevation > 0) & (sky.elevation > horizon[sector_of(sky.azimuth, n)])
    sunlit = above & (cos_aoi > 0)
    front = np.where(sunlit, cos_aoi, 0.0)
    b = np.maximum(COS_85, np.cos(np.radians(sky.zenith)))
    parts = {
        "beam": sky.dni * front,
        "circumsolar": sky.dhi * sky.f1 * front / b,
        "isotropic": sky.dhi * (1 - sky.f1) * svf,
        "horizon": sky.dhi * sky.f2 * np.sin(beta) * svf / ((1 + np.cos(beta)) / 2),
        "ground": sky.ghi * albedo * (1 - np.cos(beta)) / 2,
    }
    parts["total"] = sum(parts.values())
    parts["sunlit"] = sunlit
    return parts
