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
    largest = table.dropna(subset=["kwc_central"]).sort_values("kwc_central")  # NaN: unseen
    roof = get_roof(cad, largest["cleabs"].iloc[-1]).copy()
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


# issue 27: the card per face, the power slider walking the best modules


def laid_roof(demo_store, territory, **sim_changes):
    """A demo roof with several faces and modules, its layout and its card."""
    from layers.assumptions import load_assumptions
    from layers.cadastre import get_roof
    from layers.cadastre_panels import roof_panels
    from layers.resident import Simulation, roof_card
    from tests.helpers import GEODATA

    cad = open_cadastre(demo_store)
    table = cad.reader.read("toits", read_geometry=False)
    pick = table[(table["panneaux"] >= 8) & (table["pans"] >= 2)].sort_values("cleabs")
    cleabs = str(pick["cleabs"].iloc[0])
    roof = get_roof(cad, cleabs)
    laid = roof_panels(cad.reader, roof, cleabs)
    values = {"kwc": 3.0, "consumption": 4200.0, "presence": "partielle", "price": 0.1952,
              "price_growth": 2.0, **sim_changes}  # fmt: skip
    hyp = load_assumptions(GEODATA)
    card = roof_card(roof, Simulation(**values), hyp, territory, True, laid)
    return cad, roof, laid, card


def test_the_card_lists_the_faces_and_simulates_the_best_modules(demo_store, territory):
    from layers.formatting import fmt_float

    _cad, roof, laid, card = laid_roof(demo_store, territory)
    # the slider's 3 kWc is the most modules within it: 7 × 425 Wc = 2,975 kWc
    best = laid.best(3.0)
    assert best is not None and best.kwc <= 3.0 < best.kwc + 0.425
    assert card.panels == best.panels == 7
    assert card.estimate.production == best.kwh  # their yields, not kWc × a mean yield
    # the best modules first: 7 of them give more than 7/N of the roof
    full = laid.configurations[-1]
    assert best.kwh[1] > full.kwh[1] * best.panels / full.panels
    assert card.headline.startswith(f"**Classe du toit : {roof['classe']}**. Avec 3,0 kWc")
    # one line per face, the largest first, as a resident reads it
    assert len(card.faces) == len(laid.faces) >= 2
    first = laid.faces.iloc[0]
    assert card.faces[0].startswith("pan ") and f"{int(round(first['pente']))}°" in card.faces[0]
    with_modules = [line for line in card.faces if "kWc" in line]
    assert with_modules and all("kWh/an" in line for line in with_modules)
    # the card says how: panel by panel, and the power is the modules'
    assert "panneau par panneau" in card.method and "425 Wc" in card.method
    assert card.figures["Puissance max. (kWc)"] == fmt_float(roof["kwc_central"], 1)
    assert card.figures["Panneaux posables"] == str(int(roof["panneaux"]))
    assert dict(card.simulated.lines)["Puissance simulée"] == "3,0 kWc (7 panneaux)"


def test_all_the_modules_give_the_roofs_own_figures(demo_store, territory):
    _cad, roof, laid, card = laid_roof(demo_store, territory, kwc=999.0)
    assert card.panels == int(roof["panneaux"]) == len(laid.panels)
    expected = tuple(float(roof[f"kwh_an_{lv}"]) for lv in ("bas", "central", "haut"))
    assert card.estimate.production == expected
    assert card.simulated.kwc == pytest.approx(float(roof["kwc_central"]))


def test_the_power_slider_stops_at_each_module(demo_store, territory):
    from layers.cadastre_panels import RoofPanels, power_stops

    _cad, roof, laid, _card = laid_roof(demo_store, territory)
    stops = power_stops(float(roof["kwc_central"]), laid)
    assert len(stops) == len(laid.panels)
    first, second = list(stops)[:2]
    assert stops[first] == "0,425 kWc · 1 panneau" and second == pytest.approx(0.85)
    assert list(stops.values())[-1].endswith(f"· {len(laid.panels)} panneaux")
    # a roof whose tile has no faces yet: every 0,1 kWc, no module named
    empty = RoofPanels(laid.faces.iloc[:0], laid.panels.iloc[:0], [])
    plain = power_stops(2.0, empty)
    assert list(plain)[:2] == [0.1, 0.2] and plain[2.0] == "2,0 kWc"


def test_the_plan_and_the_pdf_draw_the_chosen_modules(demo_store, territory):
    import io

    import numpy as np
    from PIL import Image
    from pypdf import PdfReader

    from layers.assumptions import load_assumptions
    from layers.cadastre_colours import map_classes
    from layers.cadastre_sheet import PANEL_FILL, Overlay, RoofSheet, roof_sheet_pdf, roof_thumbnail
    from tests.helpers import GEODATA

    cad, roof, laid, card = laid_roof(demo_store, territory)
    hyp = load_assumptions(GEODATA)

    def blue_share(n: int) -> float:
        overlay = Overlay(laid.faces, laid.panels.iloc[:n])
        png, _w = roof_thumbnail(cad, roof, map_classes(hyp), 360, 6.0, overlay)
        pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
        return float((pixels == PANEL_FILL[:3]).all(axis=1).mean())

    none, seven, every = blue_share(0), blue_share(7), blue_share(len(laid.panels))
    assert none == 0 < seven < every  # drawn, and more modules cover more of the plan
    overlay = Overlay(laid.faces, laid.panels.iloc[: card.panels])
    sheet = RoofSheet(roof, card.estimate, card.simulated, "https://atlas.example/x", "2026-12-07",
                      overlay, tuple(card.faces))  # fmt: skip
    text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(roof_sheet_pdf(cad, hyp, sheet))).pages
    )
    text = " ".join(text.split())
    assert "Pans du toit" in text and "vos 7 panneaux" in text
    assert "posés pan par pan" in text and "3,0 kWc (7 panneaux)" in text


def test_the_map_draws_the_faces_and_modules_at_street_zoom(demo_store, territory):
    from layers.assumptions import load_assumptions
    from layers.cadastre_colours import map_classes
    from layers.cadastre_map import FACES_FROM_ZOOM, MapView, cadastre_map
    from tests.helpers import GEODATA

    cad, roof, laid, _card = laid_roof(demo_store, territory)
    hostile = laid.faces.copy()
    fmap = cadastre_map(cad, Settings(), map_classes(load_assumptions(GEODATA)),
                        MapView(selected=roof, laid=(hostile, laid.panels)))  # fmt: skip
    html = fmap.get_root().render()
    assert "Pans et panneaux du toit" in html and "autres panneaux possibles" in html
    assert "vos panneaux (curseur de puissance)" in html
    assert f"getZoom() >= {FACES_FROM_ZOOM}" in html
    assert html.count('"_t0": "') >= len(laid.panels)  # one tooltip a module
    assert "(1 = le mieux expos" in html  # é is escaped in the JSON
    bare = cadastre_map(cad, Settings(), map_classes(load_assumptions(GEODATA)),
                        MapView(selected=roof)).get_root().render()  # fmt: skip
    assert "Pans et panneaux du toit" not in bare
    # the simulated project's modules: a layer of their own, swapped without the map
    from layers.cadastre_map import chosen_panels

    group = chosen_panels(laid.panels.iloc[:7])
    data = next(iter(group._children.values())).data
    assert len(data["features"]) == 7
    ranks = sorted(int(f["properties"]["_t0"].split(" ")[0]) for f in data["features"])
    assert ranks == list(range(1, 8))  # the 7 best
