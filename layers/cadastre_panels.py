"""A roof's faces and modules as the card, the map, the PDF and the CLI give them (issue 27).

The store holds each face (``pans``) and each module (``panneaux``, ranked by yield) of
the roofs whose tile went through the faces stage (:mod:`layers.solar.build_faces`).
Here they become what a resident reads: one French line per face, and the
configurations — the best N modules → kWc and kWh/yr (low, central, high) — the power
slider walks through. The low and high yields are the roof's own ratios (its
``kwh_an_bas`` and ``kwh_an_haut`` over ``kwh_an_central``), so that all the modules
give the roof's figures to the kWh: one definition from the store to the PDF.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np

from layers.formatting import fmt_float, fmt_int, fmt_number
from layers.solar.configurations import Configuration, ranked_configurations
from layers.solar.labels import orientation_label
from layers.solar.store import Reader

LEVELS = ("bas", "central", "haut")
PANEL_COLOUR = "#102a6e"  # the modules, one colour: the map, the card's plan, the PDF


@dataclass(frozen=True)
class RoofPanels:
    """One roof's faces, modules (Lambert-93, best first) and configurations."""

    faces: gpd.GeoDataFrame
    panels: gpd.GeoDataFrame
    configurations: list[Configuration]

    @property
    def laid_out(self) -> bool:
        """Whether the roof went through the faces stage (it has faces)."""
        return len(self.faces) > 0

    def best(self, kwc: float) -> Configuration | None:
        """The configuration of the most modules whose power stays within ``kwc``.

        ``None`` when no module fits (or ``kwc`` is under one module's power).
        """
        fitting = [c for c in self.configurations if c.kwc <= kwc + 1e-6]
        return fitting[-1] if fitting else None

    def chosen(self, kwc: float) -> gpd.GeoDataFrame:
        """The modules of :meth:`best` (the ``n`` best ranked)."""
        config = self.best(kwc)
        return self.panels.iloc[: config.panels if config else 0]


def yield_ratios(roof: Mapping[str, Any]) -> tuple[float, float, float]:
    """The roof's low and high kWh/yr over its central one (1, 1, 1 when it has none)."""
    central = float(roof.get("kwh_an_central") or 0.0)
    if not central > 0:
        return (1.0, 1.0, 1.0)
    return tuple(float(roof.get(f"kwh_an_{lv}") or 0.0) / central for lv in LEVELS)  # type: ignore[return-value]


def roof_panels(reader: Reader, roof: Mapping[str, Any], cleabs: str) -> RoofPanels:
    """The faces, modules and configurations of one roof (two indexed reads).

    Parameters
    ----------
    reader
        The store.
    roof
        The roof's row (its ``kwh_an_*`` give the yield ratios).
    cleabs
        Its identifier.

    Returns
    -------
    RoofPanels
        Empty frames and no configuration for a store or tile without faces.
    """
    faces, panels = reader.faces_of(cleabs)
    kwc = panels["kwc"].to_numpy() if "kwc" in panels else np.zeros(len(panels))
    kwh = panels["kwh_an"].to_numpy() if "kwh_an" in panels else np.zeros(len(panels))
    return RoofPanels(faces, panels, ranked_configurations(kwc, kwh, yield_ratios(roof)))


def face_name(face: Mapping[str, Any]) -> str:
    """« pan sud-ouest », or « pan plat » (no azimuth under 3° of slope)."""
    azimuth = face.get("azimut")
    slope = float(face.get("pente") or 0.0)
    if azimuth is None or (isinstance(azimuth, float) and math.isnan(azimuth)):
        return "pan plat"
    return f"pan {orientation_label(float(azimuth), slope)}"


def modules_text(n: int) -> str:
    """« 1 panneau », « 12 panneaux », « 1 024 panneaux »."""
    return "1 panneau" if n == 1 else f"{fmt_int(n)} panneaux"


def face_line(face: Mapping[str, Any]) -> str:
    """One face as a resident reads it (plain text, French numbers, units).

    « pan sud-ouest, 35°, 24 m², 12 panneaux, 5,1 kWc, 4 900 kWh/an », or, for a face
    with no module, « pan nord, 42°, 31 m², pas de panneau (trop peu de soleil ou trop
    petit) ».
    """
    head = (
        f"{face_name(face)}, {fmt_int(face.get('pente') or 0)}°, "
        f"{fmt_int(face.get('surface_m2') or 0)} m²"
    )
    n = int(face.get("panneaux") or 0)
    if n == 0:
        return f"{head}, pas de panneau (trop peu de soleil, trop pentu ou trop petit)"
    return (
        f"{head}, {modules_text(n)}, {fmt_float(face.get('kwc') or 0.0, 1)} kWc, "
        f"{fmt_int(face.get('kwh_an') or 0)} kWh/an"
    )


def power_stops(max_kwc: float, laid: RoofPanels) -> dict[float, str]:
    """The power slider's stops [kWc] and their French labels.

    A roof laid out: one stop per configuration — 1, 2 … N best modules, « 4,25 kWc ·
    10 panneaux »; a roof without layout: every 0,1 kWc up to its maximum, « 4,3 kWc ».
    """
    if laid.configurations:
        return {
            c.kwc: f"{fmt_number(c.kwc)} kWc · {modules_text(c.panels)}"
            for c in laid.configurations
        }
    top = round(max(max_kwc, 0.1), 1)
    stops = [round(i / 10, 1) for i in range(1, int(round(top * 10)) + 1)]
    return {v: f"{fmt_float(v, 1)} kWc" for v in stops}


def configurations_json(configs: list[Configuration]) -> list[dict]:
    """The configurations as the CLI and the route give them (French keys)."""
    return [
        {
            "panneaux": c.panels,
            "kwc": c.kwc,
            "kwh_an_bas": c.kwh[0],
            "kwh_an_central": c.kwh[1],
            "kwh_an_haut": c.kwh[2],
        }
        for c in configs
    ]


__all__ = [
    "RoofPanels",
    "configurations_json",
    "face_line",
    "face_name",
    "modules_text",
    "power_stops",
    "roof_panels",
    "yield_ratios",
]
