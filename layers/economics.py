"""A rooftop installation's economics, as low / central / high — never one number.

Rules (tariffs, premium, prices) come from ``geodata/hypotheses.toml`` with their source
and date. Only the French residential regime (≤ 9 kWc) is modelled; above it the estimate
is flagged and counts neither premium nor a specific tariff.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from layers.assumptions import Assumptions

RESIDENTIAL_MAX_KWC = 9.0
YEARS = 20


@dataclass(frozen=True)
class Scenario:
    """Inputs of one simulation."""

    kwc: float  # installed peak power [kWc]
    production_kwh: float  # first-year production [kWh/an]
    consumption_kwh: float  # household consumption [kWh/an]
    self_share: float  # share of the production consumed on site [0-1]
    price: float  # electricity price [€/kWh], first year
    price_growth: float  # [%/an]
    cost_per_kwc: float  # installed price [€/kWc]
    surplus_tariff: float  # [€/kWh]
    premium_per_kwc: float  # [€/kWc]
    degradation: float  # [%/an]
    # when set, the self-consumed energy follows the consumption (see self_consumed) and
    # ``self_share`` is ignored: the most of the consumption PV can cover without battery
    autonomy_max: float | None = None  # [0-1]


def self_consumed(production_kwh: float, consumption_kwh: float, autonomy_max: float) -> float:
    """Energy consumed on site [kWh/an] without battery, from production and consumption.

    A smooth minimum of the production and of ``autonomy_max × consumption`` (the share of
    a household's consumption that happens while the panels produce):
    ``E = C·a·(1 − exp(−P / (C·a)))``. Small installations see almost all of their
    production consumed (E → P); large ones cannot cover more than ``C·a`` (the evening
    and night stay on the grid). With a = 0.30, a 3 000 kWh/an installation for a
    4 200 kWh/an household consumes 38 % of its production on site — the « au mieux
    40 % sans stockage » of photovoltaique.info (Hespul). More consumption, more
    self-consumption.
    """
    cap = max(consumption_kwh, 0.0) * max(autonomy_max, 0.0)
    if cap <= 0 or production_kwh <= 0:
        return 0.0
    return cap * -math.expm1(-production_kwh / cap)


@dataclass(frozen=True)
class Result:
    """What a scenario gives over ``YEARS`` years."""

    investment: float  # [€]
    premium: float  # [€]
    self_consumed_kwh: float  # first year
    surplus_kwh: float  # first year
    first_year_savings: float  # [€]
    savings_20y: float  # net gain after paying the installation [€]
    payback_year: int | None  # first year cumulative savings cover the net cost
    residential: bool  # ≤ 9 kWc regime applies


def simulate(s: Scenario) -> Result:
    """Year-by-year savings: self-consumed kWh at the (growing) price, surplus at the tariff."""
    residential = s.kwc <= RESIDENTIAL_MAX_KWC
    investment = s.kwc * s.cost_per_kwc
    premium = s.kwc * s.premium_per_kwc if residential else 0.0
    net_cost = investment - premium
    cumulative, payback = 0.0, None
    first_self = first_surplus = first_savings = 0.0
    for year in range(YEARS):
        production = s.production_kwh * (1 - s.degradation / 100) ** year
        if s.autonomy_max is None:
            self_kwh = min(production * s.self_share, s.consumption_kwh)
        else:
            self_kwh = self_consumed(production, s.consumption_kwh, s.autonomy_max)
        surplus = production - self_kwh
        price = s.price * (1 + s.price_growth / 100) ** year
        savings = self_kwh * price + surplus * (s.surplus_tariff if residential else 0.0)
        if year == 0:
            first_self, first_surplus, first_savings = self_kwh, surplus, savings
        cumulative += savings
        if payback is None and cumulative >= net_cost:
            payback = year + 1
    return Result(
        investment,
        premium,
        first_self,
        first_surplus,
        first_savings,
        cumulative - net_cost,
        payback,
        residential,
    )


@dataclass(frozen=True)
class RoofEstimate:
    """The three scenarios of a roof (low = little sun and dear; high = sunny and cheap)."""

    low: Result
    central: Result
    high: Result
    production: tuple[float, float, float]  # kWh/an
    household_share: tuple[float, float, float]  # production / the household's consumption
    co2_t: tuple[float, float, float]  # t CO₂e avoided per year
    consumption_kwh: float = 0.0  # the household's consumption used [kWh/an]


def estimate(
    kwc: float,
    production: tuple[float, float, float],
    hyp: Assumptions,
    consumption: float | None = None,
    self_share: float | None = None,
    price: float | None = None,
    price_growth: float | None = None,
    autonomy: float | None = None,
) -> RoofEstimate:
    """Low / central / high economics for ``kwc`` producing ``production`` (kWh/an, 3 levels).

    Unset user inputs take the central assumption; the scenarios differ by production,
    installed price, self-consumption and price growth. Without an explicit
    ``self_share``, the energy consumed on site follows the household's ``consumption``
    (:func:`self_consumed`, with ``autonomy`` or the assumption's levels).
    """
    eco = hyp.groups["economie"]
    cons = eco["consommation_menage"].central if consumption is None else consumption
    base_price = eco["prix_electricite"].central if price is None else price

    def scenario(level: str, cost_level: str, prod: float) -> Result:
        share = 0.0 if self_share is None else self_share
        auto = None
        if self_share is None:
            auto = eco["autonomie_max"].at(level) if autonomy is None else autonomy
        growth = eco["evolution_prix"].at(level) if price_growth is None else price_growth
        return simulate(
            Scenario(
                kwc=kwc,
                production_kwh=prod,
                consumption_kwh=cons,
                self_share=share,
                price=base_price,
                price_growth=growth,
                cost_per_kwc=eco["prix_installe"].at(cost_level),
                surplus_tariff=eco["tarif_surplus_9kwc"].central,
                premium_per_kwc=eco["prime_autoconsommation_9kwc"].central,
                degradation=eco["degradation"].central,
                autonomy_max=auto,
            )
        )

    low, mid, high = production
    typical = cons  # the household's own consumption when given, else the typical one
    co2 = eco["facteur_co2"]
    return RoofEstimate(
        low=scenario("bas", "haut", low),
        central=scenario("central", "central", mid),
        high=scenario("haut", "bas", high),
        production=production,
        household_share=(low / typical, mid / typical, high / typical),
        co2_t=(low * co2.low / 1000, mid * co2.central / 1000, high * co2.high / 1000),
        consumption_kwh=cons,
    )


@dataclass(frozen=True)
class WaterHeater:
    """A solar water heater's simple estimate (kWh/an and €/an saved, payback years)."""

    saved_kwh: tuple[float, float, float]
    saved_eur: tuple[float, float, float]
    cost: tuple[float, float, float]
    payback_years: tuple[float | None, float | None, float | None]


def water_heater(persons: int, hyp: Assumptions, price: float | None = None) -> WaterHeater:
    """Hot-water energy saved by a solar water heater replacing an electric one."""
    ce = hyp.groups["chauffe_eau"]
    p = hyp.get("economie", "prix_electricite").central if price is None else price
    levels = ("bas", "central", "haut")
    kwh = tuple(
        persons * ce["besoin_par_personne"].at(lv) * ce["couverture_solaire"].at(lv)
        for lv in levels
    )
    eur = tuple(k * p for k in kwh)
    cost = (ce["prix_installe"].high, ce["prix_installe"].central, ce["prix_installe"].low)
    payback = tuple(c / e if e > 0 else None for c, e in zip(cost, eur, strict=True))
    return WaterHeater(kwh, eur, cost, payback)  # type: ignore[arg-type]
