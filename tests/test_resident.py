"""The resident's search on the cadastre (layers.resident), without Streamlit (issue 21)."""

from __future__ import annotations

import dataclasses

import pytest

from layers.cadastre import open_store
from layers.resident import chosen_roof, find_address, status_message
from layers.settings import Settings


@pytest.fixture(scope="module")
def cad(demo_store):
    return open_store(demo_store)


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
