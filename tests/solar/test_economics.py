"""Economics against hand-computed cases (French ≤ 9 kWc regime)."""

from __future__ import annotations

import pytest

from layers.assumptions import load_assumptions
from layers.economics import Scenario, estimate, simulate, water_heater
from tests.helpers import GEODATA

HAND = Scenario(
    kwc=3.0,
    production_kwh=3000.0,
    consumption_kwh=4000.0,
    self_share=0.5,
    price=0.20,
    price_growth=0.0,
    cost_per_kwc=2000.0,
    surplus_tariff=0.04,
    premium_per_kwc=80.0,
    degradation=0.0,
)


def test_hand_computed_residential_case():
    r = simulate(HAND)
    # 1 500 kWh self-consumed × 0.20 € + 1 500 kWh sold × 0.04 € = 360 €/an
    assert r.self_consumed_kwh == 1500 and r.surplus_kwh == 1500
    assert r.first_year_savings == pytest.approx(360.0)
    assert r.investment == 6000 and r.premium == 240  # 3 kWc × 80 €/kWc
    assert r.payback_year == 16  # 5 760 € / 360 €/an = 16.0 years
    assert r.savings_20y == pytest.approx(20 * 360 - 5760)
    assert r.residential


def test_self_consumption_is_capped_by_consumption():
    r = simulate(Scenario(**{**HAND.__dict__, "consumption_kwh": 1000.0}))
    assert r.self_consumed_kwh == 1000 and r.surplus_kwh == 2000
    assert r.first_year_savings == pytest.approx(1000 * 0.20 + 2000 * 0.04)


def test_above_9_kwc_no_premium_no_tariff():
    r = simulate(Scenario(**{**HAND.__dict__, "kwc": 12.0, "production_kwh": 12000.0}))
    assert not r.residential and r.premium == 0
    assert r.first_year_savings == pytest.approx(min(6000, 4000) * 0.20)


def test_price_growth_and_degradation():
    s = Scenario(**{**HAND.__dict__, "price_growth": 2.0, "degradation": 0.5})
    r = simulate(s)
    expected = (
        sum(1500 * 0.995**y * 0.20 * 1.02**y + 1500 * 0.995**y * 0.04 for y in range(20)) - 5760
    )
    assert r.savings_20y == pytest.approx(expected)


def test_never_pays_back():
    r = simulate(Scenario(**{**HAND.__dict__, "cost_per_kwc": 20000.0}))
    assert r.payback_year is None and r.savings_20y < 0


def test_roof_estimate_orders_scenarios():
    hyp = load_assumptions(GEODATA)
    est = estimate(3.0, (2500.0, 2900.0, 3300.0), hyp)
    assert est.low.savings_20y < est.central.savings_20y < est.high.savings_20y
    assert est.low.payback_year is None or est.low.payback_year >= est.high.payback_year
    assert est.household_share[1] == pytest.approx(2900 / 4200)
    assert est.co2_t[1] == pytest.approx(2900 * 0.05 / 1000)
    custom = estimate(3.0, (2500.0, 2900.0, 3300.0), hyp, consumption=2000.0)
    assert custom.central.self_consumed_kwh <= 2000


def test_water_heater():
    hyp = load_assumptions(GEODATA)
    wh = water_heater(4, hyp, price=0.2)
    assert wh.saved_kwh[1] == pytest.approx(4 * 800 * 0.5)
    assert wh.saved_eur[1] == pytest.approx(4 * 800 * 0.5 * 0.2)
    assert wh.payback_years[1] == pytest.approx(5500 / 320)
