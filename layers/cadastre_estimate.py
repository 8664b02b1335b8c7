"""A roof's economics and how the card and the sheet word them (one definition for both)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from layers.assumptions import Assumptions
from layers.economics import YEARS, RoofEstimate, estimate
from layers.formatting import (
    fmt_float,
    fmt_int,
    fmt_percent,
    md_escape,
)
from layers.solar.configurations import Configuration


def roof_estimate(
    roof: pd.Series,
    hyp: Assumptions,
    kwc: float | None = None,
    config: Configuration | None = None,
    **user: float | None,
) -> RoofEstimate:
    """Economics of a roof at ``kwc`` (default: its maximum).

    With ``config`` (the best modules of a roof laid out panel by panel,
    :mod:`layers.cadastre_panels`), its power and its three yields; else ``kwc`` × the
    roof's specific yields (kWh per kWc, low / central / high).
    """
    if config is not None:
        return estimate(config.kwc, config.kwh, hyp, **user)
    kwc = float(roof["kwc_central"]) if kwc is None else kwc
    yields = []
    for level in ("bas", "central", "haut"):
        k = float(roof[f"kwc_{level}"])
        yields.append(float(roof[f"kwh_an_{level}"]) / k if k > 0 else 0.0)
    production = tuple(kwc * y for y in yields)
    return estimate(kwc, production, hyp, **user)  # type: ignore[arg-type]


ADVICE = (
    "Potentiel maximal technique : le calcul ne voit ni la charpente, ni l'état de la "
    "toiture, ni les règles d'urbanisme ou de patrimoine (secteurs protégés, Bassin minier "
    "UNESCO, abords de monuments). Conseil gratuit et neutre : France Rénov' "
    "(0 808 800 700, france-renov.gouv.fr) et l'espace conseil de votre intercommunalité. "
    "Méfiez-vous du démarchage à domicile : ne signez rien le jour même, demandez plusieurs "
    "devis d'installateurs RGE."
)


def years_text(year: int | None) -> str:
    """A payback year in words: « 12 ans », or « plus de 20 ans » (never a bare « > »)."""
    return f"{year} ans" if year else f"plus de {YEARS} ans"


def payback_text(est: RoofEstimate) -> str:
    """The payback as a resident should read it: the central case first, then the range.

    « 14 ans (de 11 ans à plus de 20 ans selon les hypothèses) », or, when the central
    case does not pay back within 20 years, « Non rentabilisé en 20 ans dans le cas
    central (perte nette de 1 051 €) ; 17 ans dans le cas le plus favorable ».
    """
    low, mid, high = est.low.payback_year, est.central.payback_year, est.high.payback_year
    if mid:
        span = dict.fromkeys(years_text(y) for y in (high, low))
        spread = " à ".join(span)
        return f"{years_text(mid)}" + (
            f" (de {spread} selon les hypothèses)" if len(span) > 1 else ""
        )
    loss = -est.central.savings_20y
    text = f"Non rentabilisé en {YEARS} ans dans le cas central"
    if loss > 0:
        text += f" (perte nette de {fmt_int(loss)} € sur {YEARS} ans)"
    if high:
        return text + f" ; {years_text(high)} dans le cas le plus favorable"
    return text + " ni dans le cas le plus favorable"


@dataclass(frozen=True)
class Simulated:
    """What the resident simulated, as the roof sheet prints it (one definition with the card).

    ``kwc``: the simulated power; ``lines``: (label, French value) of every input;
    ``replaced``: key of an ``economie`` assumption → the value the simulation used instead.
    """

    kwc: float
    lines: tuple[tuple[str, str], ...]
    replaced: Mapping[str, str]


PRESENCE = {  # the simulator's question → level of ``economie.autonomie_max``
    "rare (absents en journée)": "bas",
    "partielle": "central",
    "fréquente (télétravail, retraite)": "haut",
}


def roof_headline(roof: Mapping[str, Any], est: RoofEstimate, kwc: float) -> str:
    """The roof card's first sentence (Markdown, every value escaped or formatted).

    The central case leads; the payback says plainly when it exceeds 20 years.
    """
    share = est.household_share
    return (
        f"**Classe du toit : {md_escape(roof['classe'])}**. Avec {fmt_float(kwc, 1)} kWc, "
        f"il produirait ≈ **{fmt_percent(share[1])}** de la consommation de votre foyer "
        f"({fmt_int(est.consumption_kwh)} kWh/an ; {fmt_percent(share[0])} à "
        f"{fmt_percent(share[2])} selon les hypothèses). Retour sur investissement : "
        f"**{md_escape(payback_text(est))}**."
    )


def tariff_caption(hyp: Assumptions) -> str:
    """What the estimate table's caption says of the tariff and premium, and if they expired."""
    text = (
        "Défavorable : peu de soleil et installation chère ; favorable : beaucoup de soleil "
        "et installation bon marché. Tarif d'achat du surplus et prime (≤ 9 kWc) : barème CRE"
    )
    expired = hyp.expired("economie")
    if not expired:
        return text + " en vigueur, voir les hypothèses."
    notes = "; ".join(f"{r.title} : {r.validity_note()}" for r in expired)
    return text + f" des hypothèses — {notes}."


def pays_back(est: RoofEstimate) -> bool:
    """Whether the central case pays back within the contract's 20 years."""
    return est.central.payback_year is not None


# the three cases of an estimate, as a resident reads them: the unfavourable case has the
# highest investment and the least sun (« bas » read as the lowest investment)
CASES = ("défavorable", "central", "favorable")


def estimate_table(est: RoofEstimate) -> pd.DataFrame:
    """The estimate as one table: rows with units, columns défavorable / central / favorable.

    The page shows it and the PDF sheet prints it: one source for both.
    """
    scenarios = (est.low, est.central, est.high)
    rows = {
        "Production (kWh/an)": [fmt_int(v) for v in est.production],
        "Investissement (€ TTC)": [fmt_int(r.investment) for r in scenarios],
        "Prime (€)": [fmt_int(r.premium) for r in scenarios],
        "Économie 1re année (€)": [fmt_int(r.first_year_savings) for r in scenarios],
        "Gain net sur 20 ans (€)": [fmt_int(r.savings_20y) for r in scenarios],
        "Retour sur investissement": [years_text(r.payback_year) for r in scenarios],
        "Consommé sur place (% de la production)": [
            fmt_percent(r.self_consumed_kwh / p if p > 0 else 0.0)
            for r, p in zip(scenarios, est.production, strict=True)
        ],
        "Part de la consommation du foyer": [fmt_percent(v) for v in est.household_share],
        "CO₂ évité (t/an)": [fmt_float(v, 2) for v in est.co2_t],
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(CASES))
