"""A roof's configurations: the best N modules → kWc and kWh/yr (low, central, high).

Plain NumPy: the app walks them with its power slider without loading the engine's
compiled kernels (:mod:`layers.solar.panels` lays the modules out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Configuration:
    """The best ``panels`` modules of a roof: power and yield (low, central, high)."""

    panels: int
    kwc: float
    kwh: tuple[float, float, float]


def ranked_configurations(
    kwc: np.ndarray, kwh_central: np.ndarray, ratios: tuple[float, float, float]
) -> list[Configuration]:
    """N modules → kWc and kWh/yr from the modules a store holds, best first.

    What the store keeps: each module's peak power and its yield at the central
    performance ratio. The low and high yields are the central one × ``ratios`` — the
    roof's own ``kwh_an_bas / kwh_an_central`` and ``kwh_an_haut / kwh_an_central``, so
    that the configuration of every module is the roof's figure to the kWh.

    Parameters
    ----------
    kwc
        Each module's peak power [kWc].
    kwh_central
        Each module's yield [kWh/yr], central.
    ratios
        Low, central, high yield over the central one [-] (central: 1).

    Returns
    -------
    list of Configuration
        One per N = 1 … number of modules; ties keep the given order.
    """
    kwh = np.asarray(kwh_central, dtype="float64")
    order = np.argsort(-kwh, kind="stable")
    power = np.cumsum(np.asarray(kwc, dtype="float64")[order])
    total = np.cumsum(kwh[order])
    return [
        Configuration(
            n + 1,
            round(float(power[n]), 3),
            tuple(round(float(total[n] * r), 0) for r in ratios),  # type: ignore[arg-type]
        )
        for n in range(len(order))
    ]


__all__ = ["Configuration", "ranked_configurations"]
