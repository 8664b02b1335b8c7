"""The resident's search on the cadastre (layers.resident), without Streamlit (issue 21)."""

from __future__ import annotations

import dataclasses

import pytest

from layers.cadastre import open_cadastre
from layers.resident import chosen_roof, find_address, status_message
from layers.settings import Settings
from layers.solar.store import StoreLayout


@pytest.fixture(scope="module")
def cad(demo_store):
    return open_cadastre(demo_store)


@pytest.fixture
def offline() -> Settings:
    return dataclasses.replace(Settings(), ban_url=None)


def never(path: str):
    raise AssertionError("no address file is configured")


def test_an_address_of_the_store_shows_its_roof(cad, territory, offline):
    addresses = cad.reader.read("adresses", read_geometry=False).dropna(subset=["cleabs"])
    row = addresses.iloc[10]
    outcome = find_address(row["label"], cad, territory, offline, never)
    assert outcome.results[0].label == row["label"]
    assert outcome.roof == row["cleabs"]
    assert not [m for m in outcome.messages if m[0] != "info"]


def test_a_search_outside_the_sector_shows_no_roof_not_the_previous_one(cad, territory, offline):
    outcome = find_address("Mairie de Béthune", cad, territory, offline, never)
    assert outcome.results[0].label.startswith("Mairie de Béthune")
    assert outcome.roof is None  # the page replaces the shown roof with this: no stale card
    status = status_message("non_couvert")
    assert status is not None and "pas encore couvert" in status[1]


def test_an_address_outside_the_pma_is_said_so(cad, territory, offline):
    from layers.geocode import Address

    paris = Address("1 rue de Rivoli 75001 Paris", 2.35, 48.86, "75101", "test", 1.0)
    assert chosen_roof(paris, lambda a: ("hors_pma", None)) is None
    assert "hors du Pôle" in status_message("hors_pma")[1]


def test_nothing_found_says_what_to_do(cad, territory, offline):
    outcome = find_address("zzzz qqqq wwww", cad, territory, offline, never)
    assert outcome.results == [] and outcome.roof is None
    assert ("warning", "Aucune adresse trouvée. Vérifiez l'orthographe ou cliquez votre toit.") in (
        outcome.messages
    )


def test_an_unreadable_address_file_falls_back_to_the_store_with_a_warning(
    cad, territory, offline, tmp_path
):
    from layers.geocode import read_ban_csv

    bad = tmp_path / "adresses.csv"
    bad.write_text("pas;un;fichier\n", encoding="utf-8")
    settings = dataclasses.replace(offline, address_file=bad)
    addresses = cad.reader.read("adresses", read_geometry=False).dropna(subset=["cleabs"])
    outcome = find_address(addresses.iloc[3]["label"], cad, territory, settings, read_ban_csv)
    assert outcome.roof == addresses.iloc[3]["cleabs"]  # found in the store all the same
    assert any(level == "warning" and "illisible" in text for level, text in outcome.messages)


def test_a_too_short_query_is_one_french_error(cad, territory, offline):
    outcome = find_address("ab", cad, territory, offline, never)
    assert outcome.results == [] and outcome.messages[0][0] == "error"
    assert "caractères" in outcome.messages[0][1]


# --- the roof card as a model (issue 19) ---------------------------------------------------


def card_for(demo_store, territory, roof_changes=None, **sim_changes):
    import pyogrio

    from layers.assumptions import load_assumptions
    from layers.cadastre import get_roof, open_cadastre
    from layers.resident import Simulation, roof_card
    from tests.helpers import GEODATA

    cad = open_cadastre(demo_store)
    table = pyogrio.read_dataframe(StoreLayout(demo_store).gpkg, layer="toits")
    roof = get_roof(cad, table.sort_values("kwc_central")["cleabs"].iloc[-1]).copy()
    for key, value in (roof_changes or {}).items():
        roof[key] = value
    values = {"kwc": 3.0, "consumption": 4200.0, "presence": "partielle", "price": 0.1952,
              "price_growth": 2.0, **sim_changes}  # fmt: skip
    return roof, roof_card(roof, Simulation(**values), load_assumptions(GEODATA), territory, True)


def test_the_roof_card_is_decided_without_streamlit(demo_store, territory):
    from layers.formatting import md_escape

    roof, card = card_for(demo_store, territory)
    assert card.title == md_escape(roof["adresse"])
    assert ("caption", "Toit et adresse fictifs (territoire de démonstration).") in card.notes
    assert not [n for n in card.notes if n[0] == "warning"]  # the largest roof is usable
    assert card.headline.startswith(f"**Classe du toit : {roof['classe']}**. Avec 3,0 kWc")
    assert "4 200 kWh/an" in card.headline.replace("\u202f", " ")
    assert list(card.table.columns) == ["défavorable", "central", "favorable"]
    assert card.table.index[0] == "Production (kWh/an)"
    epci = territory.epci_names[territory.epci_of[str(roof["insee"])]]
    assert f"**{md_escape(epci)}**" in card.advice
    assert card.residential is None  # 3 kWc: the residential scale applies


def test_the_roof_card_warns_when_the_central_case_does_not_pay_back(demo_store, territory):
    from layers.cadastre_estimate import pays_back

    _roof, dear = card_for(demo_store, territory, price=0.06, price_growth=0.0)
    assert not pays_back(dear.estimate)
    assert dear.payback[0] == "warning" and "ne se rembourse pas en 20 ans" in dear.payback[1]
    _roof, cheap = card_for(demo_store, territory, price=0.6, price_growth=4.0)
    assert pays_back(cheap.estimate) and cheap.payback[0] == "caption"


def test_the_roof_card_says_a_roof_too_small_and_beyond_the_residential_scale(
    demo_store, territory
):
    _roof, small = card_for(demo_store, territory, roof_changes={"kwc_central": 0.3})
    assert any(level == "warning" and "surface utile" in text for level, text in small.notes)
    _roof, big = card_for(demo_store, territory, kwc=12.0)
    assert big.residential and "barème résidentiel" in big.residential
    # the household's consumption reaches the card (issue 21)
    _roof, more = card_for(demo_store, territory, consumption=9000.0)
    _roof, base = card_for(demo_store, territory)
    assert not more.table.equals(base.table)
