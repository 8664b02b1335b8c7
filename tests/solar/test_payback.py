"""Issue 21, resident: the payback leads with the central case; consumption matters."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest

from layers.assumptions import load_assumptions
from layers.cadastre_estimate import estimate_table, payback_text, pays_back, roof_headline
from layers.economics import Scenario, estimate, self_consumed, simulate
from tests.helpers import GEODATA


@pytest.fixture(scope="module")
def hyp():
    return load_assumptions(GEODATA)


def test_self_consumption_follows_consumption_analytically():
    # small production: almost all of it consumed on site (E → P)
    assert self_consumed(10.0, 4200.0, 0.3) == pytest.approx(10.0, rel=0.01)
    # large production: capped by the share of consumption in production hours (E → C·a)
    assert self_consumed(1e6, 4200.0, 0.3) == pytest.approx(1260.0, rel=1e-6)
    # the closed form at one point, computed by hand: 1260 × (1 − e^(−3000/1260))
    assert self_consumed(3000.0, 4200.0, 0.3) == pytest.approx(1260 * (1 - math.exp(-3000 / 1260)))
    # 3 kWc for a 4 200 kWh household: ≈ 38 % of the production (« au mieux 40 % »)
    assert 0.33 < self_consumed(3000.0, 4200.0, 0.3) / 3000 < 0.42
    more = [self_consumed(3000.0, c, 0.3) for c in (2000, 4200, 9000)]
    assert more == sorted(more) and more[0] < more[2]


def test_the_households_consumption_changes_the_estimate(hyp):
    small = estimate(3.0, (2800.0, 3000.0, 3200.0), hyp, consumption=4200)
    large = estimate(3.0, (2800.0, 3000.0, 3200.0), hyp, consumption=9000)
    assert large.central.self_consumed_kwh > small.central.self_consumed_kwh * 1.3
    assert large.central.first_year_savings > small.central.first_year_savings
    assert large.household_share[1] == pytest.approx(3000 / 9000)


def test_hand_case_with_the_consumption_model():
    s = Scenario(3.0, 3000.0, 4200.0, 0.0, 0.20, 0.0, 2000.0, 0.04, 80.0, 0.0, autonomy_max=0.3)
    r = simulate(s)
    own = 1260 * (1 - math.exp(-3000 / 1260))
    assert r.self_consumed_kwh == pytest.approx(own)
    assert r.first_year_savings == pytest.approx(own * 0.20 + (3000 - own) * 0.04)


def _estimate_with(hyp, cost_per_kwc_levels):
    """An estimate whose installed prices are replaced (low, central, high)."""
    eco = dict(hyp.groups["economie"])
    price = eco["prix_installe"]
    eco["prix_installe"] = dataclasses.replace(
        price,
        low=cost_per_kwc_levels[0],
        central=cost_per_kwc_levels[1],
        high=cost_per_kwc_levels[2],
    )
    other = dataclasses.replace(hyp, groups={**hyp.groups, "economie": eco})
    return estimate(3.0, (2700.0, 3000.0, 3300.0), other)


def test_payback_leads_with_the_central_case(hyp):
    cheap = _estimate_with(hyp, (800, 900, 1000))
    text = payback_text(cheap)
    assert pays_back(cheap)
    assert text.startswith(f"{cheap.central.payback_year} ans")
    dear = _estimate_with(hyp, (2500, 4000, 5000))
    assert dear.central.payback_year is None and dear.central.savings_20y < 0
    text = payback_text(dear)
    assert text.startswith("Non rentabilisé en 20 ans dans le cas central")
    assert "perte nette de" in text and "€" in text
    assert not pays_back(dear)


def test_no_bare_greater_than_in_the_table_or_headline(hyp):
    dear = _estimate_with(hyp, (2500, 4000, 5000))
    table = estimate_table(dear)
    assert "plus de 20 ans" in set(table.loc["Retour sur investissement"])
    assert not any(str(v).startswith(">") for v in table.to_numpy().ravel())
    roof = {"classe": "bon"}
    headline = roof_headline(roof, dear, 3.0)
    assert "Non rentabilisé" in headline and "4 200" in headline.replace("\u202f", " ")


def test_expired_tariffs_are_flagged(hyp):
    tariff = hyp.get("economie", "tarif_surplus_9kwc")
    assert tariff.valid_until
    until = dt.date.fromisoformat(tariff.valid_until)
    after, before = until + dt.timedelta(days=1), until - dt.timedelta(days=1)
    assert tariff.expired(after)
    assert not tariff.expired(before)
    assert "périmée" in tariff.validity_note(after)
    assert tariff.validity_note(before) == ""


def test_no_dated_assumption_of_the_roof_card_is_past_its_date(hyp):
    """Issue 30: every payback depends on the tariff and the premium; shipped past their date,
    the card flags them « périmés ». This fails on the day one is: update it from the CRE."""
    dated = [r for r in hyp.groups["economie"].values() if r.valid_until]
    assert {r.title for r in dated} >= {
        hyp.get("economie", "tarif_surplus_9kwc").title,
        hyp.get("economie", "prime_autoconsommation_9kwc").title,
    }
    past = [f"{r.title} (valable jusqu'au {r.valid_until})" for r in dated if r.expired()]
    assert past == [], "hypothèses périmées : mettez-les à jour (geodata/hypotheses.toml)"
