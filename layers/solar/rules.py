"""Typed inputs of the roof statistics: what makes a pixel usable and a roof's power.

An application builds one :class:`RoofRules` from its own configuration (Atlas PMA: the
``solaire`` group of ``geodata/hypotheses.toml``, through
:meth:`layers.assumptions.Assumptions.roof_rules`); the engine never reads a configuration
file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

LEVELS = ("bas", "central", "haut")  # the three levels, as the store's columns name them


@dataclass(frozen=True)
class Span:
    """A low / central / high value (``low ≤ central ≤ high``)."""

    low: float
    central: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.central <= self.high:
            raise ValueError(f"bas ≤ central ≤ haut attendu : {self}")

    def at(self, level: str) -> float:
        """The value of a level, named as the store's columns.

        Parameters
        ----------
        level
            ``"bas"``, ``"central"`` or ``"haut"``.

        Returns
        -------
        float
        """
        return {"bas": self.low, "central": self.central, "haut": self.high}[level]


@dataclass(frozen=True)
class RoofRules:
    """The rules of :func:`layers.solar.roofs.roof_statistics`.

    Parameters
    ----------
    max_tilt
        Steepest usable pixel [deg].
    min_irradiation
        Least annual irradiation of a usable pixel [kWh/m²/yr].
    min_height
        Least height above the ground of a roof pixel [m] (walls and ground left out).
    panel_area
        Area of one panel [m²]: a roof with less usable area is « non adapté ».
    class_thresholds
        Least mean irradiation of the usable part [kWh/m²/yr] for « moyen », « bon »,
        « excellent » (increasing); below: « faible ».
    power_density
        Peak power per usable area [kWc/m²].
    performance_ratio
        System losses (inverter, cables, temperature, soiling) [-].
    """

    max_tilt: float
    min_irradiation: float
    min_height: float
    panel_area: float
    class_thresholds: tuple[tuple[str, float], ...]
    power_density: Span
    performance_ratio: Span

    def __post_init__(self) -> None:
        values = [v for _, v in self.class_thresholds]
        if values != sorted(values):
            raise ValueError("seuils de classes d'irradiation non croissants")

    def digest(self) -> str:
        """A checksum of every rule: a store's tile records it, and a change recomputes its roofs.

        Returns
        -------
        str
            SHA-256 (hexadecimal) of the rules as sorted JSON.
        """
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()
