"""Accessibility in a real browser: axe-core on every page at desktop and phone sizes,
inside the map frames too, and keyboard-only journeys (RGAA 4.1 / WCAG 2.1 AA)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import (
    APP_IDLE,
    MAP_FRAME,
    axe_violations,
    download_from_link,
    wait_map_idle,
)

TIMEOUT = 30_000
SIZES = {"bureau": (1280, 900), "telephone": (390, 844)}
PAGES = {
    "accueil": "",
    "parcs": "parcs?parc=P01&couche=friches",
    "signaletique": "signaletique",
    "friches": "friches?epci=CAHC",
    "cadastre": "cadastre_solaire?toit=BATIMENT0700000000000010",  # a roof of the demo store
}


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def sized_page(request, browser, router):
    width, height = SIZES[request.param]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", is_mobile=width < 500
    )
    page = context.new_page()
    page.route("**/*", router)
    yield page
    context.close()


def settle(page) -> None:
    expect(page.locator('[data-testid="stMain"] h1').first).to_be_visible(timeout=TIMEOUT)
    expect(page.frame_locator(MAP_FRAME).first.locator(".leaflet-container")).to_be_attached(
        timeout=TIMEOUT
    )
    wait_map_idle(page)  # the map's layers and legend are drawn


@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_violation(sized_page, server, name):
    sized_page.goto(f"{server}/{PAGES[name]}")
    settle(sized_page)
    assert axe_violations(sized_page) == []


def tab_to(page, target, limit: int = 120) -> None:
    """Press Tab until ``target`` has the focus (it must be reachable by keyboard).

    The app's rerun is let finish first, and ``target`` is found again at each press: a
    late rerun (a map reporting its view on a loaded machine) may draw it anew, and a
    handle kept from before would never be the focused element.
    """
    page.wait_for_function(APP_IDLE, timeout=30_000)
    for _ in range(limit):
        if target.evaluate("e => e === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"not reachable with Tab in {limit} presses: {target}")


LOOK = """e => {
    const out = [];
    for (let el = e, i = 0; el && i < 4; i++, el = el.parentElement) {
        const s = getComputedStyle(el);
        out.push([s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow,
                  s.borderTopColor, s.borderBottomColor, s.backgroundColor].join('|'));
    }
    return out.join(' / ');
}"""


def focus_is_visible(page, target) -> bool:
    """The focused control looks different from the same control without the focus."""
    focused = target.evaluate(LOOK)
    page.keyboard.press("Shift+Tab")
    page.wait_for_function("el => document.activeElement !== el", arg=target.element_handle())
    unfocused = target.evaluate(LOOK)
    page.keyboard.press("Tab")
    page.wait_for_function("el => document.activeElement === el", arg=target.element_handle())
    return focused != unfocused and target.evaluate("e => e === document.activeElement")


def test_cadastre_by_keyboard_search_card_simulator_pdf(page, server, demo_tables):
    """Search → roof card → simulator → PDF with the keyboard only; the focus is shown."""
    _cad, _roofs, addresses = demo_tables
    row = addresses.dropna(subset=["cleabs"]).iloc[40]
    page.goto(f"{server}/cadastre_solaire")
    settle(page)
    field = page.get_by_label("Adresse")
    tab_to(page, field)
    page.keyboard.type(row["label"])
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name=re.compile("^Votre toit"))
    expect(heading).to_be_visible(timeout=TIMEOUT)
    table = page.locator('[data-testid="stTable"]')
    before = table.inner_text()
    conso = page.get_by_label("Consommation du foyer (kWh/an)")
    tab_to(page, conso)
    assert focus_is_visible(page, conso)
    page.keyboard.press("Control+A")
    page.keyboard.type("1200")
    page.keyboard.press("Enter")
    expect(table).not_to_have_text(before, timeout=TIMEOUT)
    pdf = page.get_by_role("link", name=re.compile("Télécharger la fiche du toit"))
    tab_to(page, pdf)
    assert focus_is_visible(page, pdf)
    download = download_from_link(page, lambda: page.keyboard.press("Enter"))
    assert download.suggested_filename.endswith(".pdf")
    # the roof's figures are text too (table), not only colours on the map
    assert "Production (kWh/an)" in table.inner_text()
