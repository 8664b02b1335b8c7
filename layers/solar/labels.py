"""The words the store gives a roof: its class when it has no figure, its orientation.

Plain Python and NumPy (no compiled kernel): the app reads them to word a roof without
loading the engine's numba kernels (:mod:`layers.solar.roofs` computes with them).
"""

from __future__ import annotations

import numpy as np

NO_DATA = "sans données"
NOT_SEEN = "non vu par le relevé LiDAR"  # the faces stage's verdict (faces.unseen_by_lidar)
UNDETERMINED = "indéterminée"
ORIENTATIONS = ["nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest"]


def orientation_label(azimuth: float, tilt: float) -> str:
    """The French compass word of a roof's orientation.

    Parameters
    ----------
    azimuth
        Plane azimuth [deg], clockwise from north; NaN for none.
    tilt
        Plane tilt [deg].

    Returns
    -------
    str
        One of :data:`ORIENTATIONS` (eight 45° sectors: « nord », « nord-est »…), or
        « plat » under 5° of tilt or without an azimuth.
    """
    if np.isnan(azimuth) or tilt < 5:
        return "plat"
    return ORIENTATIONS[int(((azimuth + 22.5) % 360) // 45)]


def orientation_labels(azimuth: np.ndarray, tilt: np.ndarray) -> np.ndarray:
    """:func:`orientation_label` for whole arrays (one call for 100 000 roofs).

    Parameters
    ----------
    azimuth
        Plane azimuths [deg], clockwise from north; NaN for none.
    tilt
        Plane tilts [deg], shaped as ``azimuth``.

    Returns
    -------
    numpy.ndarray
        The labels (object array of str), shaped as ``azimuth``.
    """
    with np.errstate(invalid="ignore"):
        sector = np.nan_to_num(((azimuth + 22.5) % 360) // 45).astype(int) % 8
        labels = np.array(ORIENTATIONS, dtype=object)[sector]
        labels[np.isnan(azimuth) | (tilt < 5)] = "plat"
    return labels


__all__ = [
    "NOT_SEEN",
    "NO_DATA",
    "ORIENTATIONS",
    "UNDETERMINED",
    "orientation_label",
    "orientation_labels",
]
