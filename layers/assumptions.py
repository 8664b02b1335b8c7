"""Calculation assumptions, read from ``geodata/hypotheses.toml`` (one versioned file).

Every value is a low / central / high range with its unit, source and date, so the UI can
show *why* a number is what it is, and a planner can change it in one place.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from layers.errors import AtlasError
from layers.solar.rules import RoofRules, Span

if TYPE_CHECKING:
    from layers.solar.panels import PanelRules

ASSUMPTIONS_FILE = "hypotheses.toml"


LEVELS = ("bas", "central", "haut")  # the French names of the three levels (file, columns)


# hypotheses.toml's French keys → Range's fields (the others have the same name)
FILE_KEYS = {
    "titre": "title",
    "unite": "unit",
    "bas": "low",
    "haut": "high",
    "valable_jusqu_au": "valid_until",
}


@dataclass(frozen=True)
class Range:
    """A low / central / high value with its provenance.

    The code's names are English; ``hypotheses.toml`` (a persisted format, French) names
    them as :data:`FILE_KEYS` says: ``titre`` → ``title``, ``bas`` → ``low``…
    """

    title: str
    unit: str
    low: float
    central: float
    high: float
    source: str
    url: str
    date: str
    valid_until: str = ""  # ISO date after which the rule (a tariff…) no longer holds

    def __post_init__(self) -> None:
        if not self.low <= self.central <= self.high:
            raise AtlasError(f"Hypothèse « {self.title} » : il faut bas ≤ central ≤ haut.")

    def expired(self, today: dt.date | None = None) -> bool:
        """Whether the rule's validity date (``valid_until``) is past."""
        if not self.valid_until:
            return False
        try:
            until = dt.date.fromisoformat(self.valid_until)
        except ValueError:
            return True  # an unreadable date is flagged, never trusted
        return (today or dt.date.today()) >= until

    def validity_note(self, today: dt.date | None = None) -> str:
        """« » when valid; else a French warning naming the date (page and PDF say it)."""
        if not self.expired(today):
            return ""
        try:
            until = dt.date.fromisoformat(self.valid_until).strftime("%d/%m/%Y")
        except ValueError:
            until = self.valid_until
        return (
            f"hypothèse périmée : valable jusqu'au {until}, pas encore mise à jour — "
            "le chiffre qui en dépend est à vérifier"
        )

    def at(self, level: str) -> float:
        """The value of a level named the French way (``"bas"``, ``"central"``, ``"haut"``)."""
        return {"bas": self.low, "central": self.central, "haut": self.high}[level]


@dataclass(frozen=True)
class Assumptions:
    """All assumptions of one version of ``hypotheses.toml``."""

    version: str
    groups: dict[str, dict[str, Range]]

    def expired(self, group: str, today: dt.date | None = None) -> list[Range]:
        """The assumptions of ``group`` past their validity date."""
        return [r for r in self.groups.get(group, {}).values() if r.expired(today)]

    def roof_rules(self) -> RoofRules:
        """The ``solaire`` assumptions as the engine's typed :class:`RoofRules` (central values)."""

        def central(name: str) -> float:
            return float(self.get("solaire", name).central)

        def span(name: str) -> Span:
            r = self.get("solaire", name)
            return Span(float(r.low), float(r.central), float(r.high))

        try:
            return RoofRules(
                max_tilt=central("pente_max"),
                min_irradiation=central("seuil_irradiation"),
                min_height=central("hauteur_min_toit"),
                panel_area=central("surface_panneau"),
                class_thresholds=tuple(
                    (name, central(f"classe_{name}")) for name in ("moyen", "bon", "excellent")
                ),
                power_density=span("puissance_surfacique"),
                performance_ratio=span("ratio_performance"),
            )
        except ValueError as err:
            raise AtlasError(f"Hypothèses « solaire » : {err}.") from err

    def panel_rules(self) -> PanelRules:
        """The ``panneaux`` assumptions as the engine's :class:`PanelRules` (central values).

        The standard module (size, peak power) and how modules are laid (gap, setbacks,
        flat roofs' tilt and azimuth); the latitude that spaces flat-roof rows stays the
        PMA's (50,45° N).
        """
        from layers.solar.panels import PanelRules  # the engine's geometry, when asked

        def central(name: str) -> float:
            return float(self.get("panneaux", name).central)

        try:
            rules = PanelRules(
                width_m=central("module_largeur"),
                height_m=central("module_longueur"),
                peak_w=central("module_puissance"),
                gap_m=central("espacement"),
                edge_setback_m=central("recul_bords"),
                obstacle_setback_m=central("recul_obstacles"),
                flat_tilt=central("inclinaison_toit_plat"),
                flat_azimuth=central("orientation_toit_plat"),
            )
        except ValueError as err:
            raise AtlasError(f"Hypothèses « panneaux » : {err}.") from err
        if not (0 < rules.width_m <= rules.height_m <= 5 and 0 < rules.peak_w <= 2000):
            raise AtlasError(
                "Hypothèses « panneaux » : le module doit mesurer 0 < largeur ≤ longueur ≤ 5 m "
                "et sa puissance être entre 0 et 2 000 Wc."
            )
        if min(rules.gap_m, rules.edge_setback_m, rules.obstacle_setback_m) < 0:
            raise AtlasError("Hypothèses « panneaux » : jeu et reculs sont positifs ou nuls.")
        if not 0 <= rules.flat_tilt < 60:
            raise AtlasError("Hypothèses « panneaux » : inclinaison sur toit plat entre 0 et 60°.")
        return rules

    def get(self, group: str, name: str) -> Range:
        """One assumption, e.g. ``get("pv_sol", "densite")``."""
        try:
            return self.groups[group][name]
        except KeyError as err:
            raise AtlasError(f"Hypothèse inconnue : {group}.{name}") from err


def load_assumptions(geodata_dir: Path) -> Assumptions:
    """Read and validate the assumptions file of ``geodata_dir``."""
    path = Path(geodata_dir) / ASSUMPTIONS_FILE
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise AtlasError(f"Fichier d'hypothèses introuvable : {path}") from err
    except tomllib.TOMLDecodeError as err:
        raise AtlasError(f"Fichier d'hypothèses illisible ({path}) : {err}") from err
    groups: dict[str, dict[str, Range]] = {}
    for group, entries in raw.items():
        if not isinstance(entries, dict):
            continue
        try:
            groups[group] = {
                name: Range(**{FILE_KEYS.get(k, k): v for k, v in values.items()})
                for name, values in entries.items()
            }
        except (TypeError, KeyError) as err:
            raise AtlasError(f"Hypothèses « {group} » incomplètes ({path}) : {err}") from err
    return Assumptions(version=str(raw.get("version", "?")), groups=groups)
