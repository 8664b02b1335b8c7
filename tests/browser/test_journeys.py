"""Real-browser journeys: Debian chromium driven by Playwright, fully offline."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import MAP_FRAME, choose_option, wait_map_idle
from tests.helpers import HOSTILE_NAME

TIMEOUT = 30_000
POLYGONS = "path.leaflet-interactive"


def polygons(page):
    return page.frame_locator(MAP_FRAME).locator(POLYGONS)


def open_page(page, url):
    page.goto(url)
    expect(page.locator('[data-testid="stSidebar"]')).to_be_visible(timeout=TIMEOUT)


def pick_epci(page, label):
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    choose_option(page, box.locator("input"), label)
    page.keyboard.press("Escape")


def test_home_renders_the_150_communes(page, server, router, artifacts):
    open_page(page, server)
    expect(polygons(page)).to_have_count(150, timeout=TIMEOUT)
    expect(page.get_by_text("Atlas du Pôle Métropolitain de l'Artois")).to_be_visible()
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".atlas-legend")).to_contain_text("CABBALR")
    expect(frame.locator(".leaflet-control-attribution")).to_contain_text("IGN")
    assert router.served, "Leaflet must come from the local npm copy"
    assert router.tiles > 0, "the basemap asked for tiles"
    page.screenshot(path=artifacts / "accueil.png", full_page=True)


def test_url_restricts_to_cahc(page, server):
    open_page(page, f"{server}/?epci=CAHC")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    expect(page.get_by_text("Territoire affiché : CAHC")).to_be_visible()


def test_url_commune_shows_lens(page, server):
    open_page(page, f"{server}/?epci=CALL&commune=62498")
    expect(polygons(page)).to_have_count(1, timeout=TIMEOUT)
    expect(page.get_by_text("Commune(s) : Lens")).to_be_visible()


def test_invalid_url_value_shows_a_notice(page, server):
    open_page(page, f"{server}/?epci=NIMPORTE")
    expect(polygons(page)).to_have_count(150, timeout=TIMEOUT)
    expect(page.get_by_text("Intercommunalité inconnue ignorée")).to_be_visible()


def test_sidebar_filter_changes_the_map_and_follows_pages(page, server, artifacts):
    open_page(page, f"{server}/?epci=CAHC")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    pick_epci(page, "CALL — CA de Lens - Liévin")
    expect(polygons(page)).to_have_count(50, timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"epci=CAHC&epci=CALL"), timeout=TIMEOUT)
    page.get_by_role("link", name="Friches").click()
    expect(page.get_by_role("heading", name="Friches")).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"/friches\?epci=CAHC&epci=CALL"), timeout=TIMEOUT)
    expect(
        polygons(page).or_(page.frame_locator(MAP_FRAME).locator(".marker-cluster")).first
    ).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text("CAHC — CA d'Hénin-Carvin + CALL")).to_be_visible()
    page.get_by_role("link", name="Accueil").click()
    expect(polygons(page)).to_have_count(50, timeout=TIMEOUT)


def test_tooltip_on_hover(page, server):
    open_page(page, f"{server}/?commune=62498")
    expect(polygons(page)).to_have_count(1, timeout=TIMEOUT)
    polygons(page).first.hover(force=True)
    tooltip = page.frame_locator(MAP_FRAME).locator(".leaflet-tooltip")
    expect(tooltip).to_contain_text("Lens", timeout=TIMEOUT)
    expect(tooltip).to_contain_text("hab.")


@pytest.mark.parametrize(
    ("link", "slug"),
    [
        ("Chaîne des Parcs", "parcs"),
        ("Signalétique", "signaletique"),
        ("Friches", "friches"),
        ("Cadastre solaire", "cadastre_solaire"),
    ],
)
def test_screenshot_of_each_page(page, server, artifacts, link, slug):
    open_page(page, server)
    page.get_by_role("link", name=link).click()
    expect(page).to_have_url(re.compile(rf"/{slug}"), timeout=TIMEOUT)
    expect(page.get_by_role("heading", name=link)).to_be_visible(timeout=TIMEOUT)
    page.screenshot(path=artifacts / f"{slug}.png", full_page=True)


def test_hostile_name_is_text_not_markup(page, hostile_server, artifacts):
    open_page(page, f"{hostile_server}/?commune=62498")
    expect(polygons(page)).to_have_count(1, timeout=TIMEOUT)
    polygons(page).first.hover(force=True)
    frame = page.frame_locator(MAP_FRAME)
    tooltip = frame.locator(".leaflet-tooltip")
    expect(tooltip).to_contain_text(HOSTILE_NAME, timeout=TIMEOUT)  # shown literally
    assert frame.locator(".leaflet-tooltip img").count() == 0
    assert page.locator('img[src="x"]').count() == 0
    page.wait_for_timeout(500)  # an absence: no event to wait for, a margin for onerror
    assert page.dialogs == []  # type: ignore[attr-defined]
    page.screenshot(path=artifacts / "nom-hostile.png", full_page=True)


def test_offline_mode_loads_leaflet_from_the_app(page, offline_server, router, artifacts):
    open_page(page, f"{offline_server}/?epci=CAHC")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    assert router.served == [], "offline mode must not ask a CDN for Leaflet"
    page.screenshot(path=artifacts / "hors-ligne.png", full_page=True)


def test_phone_viewport(browser, router, server, artifacts):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="fr-FR", is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    phone.route("**/*", router)
    phone.goto(f"{server}/?epci=CAHC")
    expect(polygons(phone)).to_have_count(14, timeout=TIMEOUT)
    frame_box = phone.locator(MAP_FRAME).bounding_box()
    assert frame_box is not None and frame_box["width"] <= 390  # the map fits the screen
    phone.screenshot(path=artifacts / "accueil-telephone.png", full_page=True)
    context.close()


def test_town_halls_layer_can_be_switched_on(page, server):
    open_page(page, f"{server}/?epci=CAHC")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    frame = page.frame_locator(MAP_FRAME)
    frame.locator(".leaflet-control-layers").hover()
    frame.locator(".leaflet-control-layers-overlays label", has_text="Mairies").click()
    expect(polygons(page)).to_have_count(28, timeout=TIMEOUT)  # + 14 town-hall markers


def test_deep_link_on_a_fresh_server_keeps_the_shell(page, fresh_server):
    # the very first request of a new server is a deep link to a page
    open_page(page, f"{fresh_server}/parcs?epci=CAHC")
    expect(page.get_by_role("heading", name="Chaîne des Parcs")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Intercommunalités")
    expect(page.get_by_text("Territoire : CAHC")).to_be_visible()


def click_at_lat_lng(page, lat, lng):
    """Click the map where a geographic point is, as a user would (real mouse events).

    The map is read once idle: a position read mid-zoom or mid-pan clicks elsewhere.
    """
    wait_map_idle(page)
    frame = next(f for f in page.frames if "st_folium" in f.url)
    x, y = frame.evaluate(
        "([lat, lng]) => { const p = window.map.latLngToContainerPoint("
        "[lat, lng]); return [p.x, p.y]; }",
        [lat, lng],
    )
    box = page.locator(MAP_FRAME).bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_click_a_park_shows_its_card(page, server, planning, artifacts):
    parks = planning.parks
    target = parks[parks["nom"] == "Terrils 40 et 41"]
    inside = target.geometry.iloc[0].representative_point()
    open_page(page, f"{server}/parcs?commune=62443")  # Hersin-Coupigny
    expect(polygons(page).first).to_be_visible(timeout=TIMEOUT)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    wait_map_idle(page)  # the map settled after fitBounds
    click_at_lat_lng(page, inside.y, inside.x)
    expect(page.get_by_text("Fiche : Terrils 40 et 41")).to_be_visible(timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(rf"parc={target['parc_id'].iloc[0]}"), timeout=TIMEOUT)
    page.screenshot(path=artifacts / "parcs-fiche.png", full_page=True)


def test_filter_brownfields_by_status_changes_the_map(page, server, artifacts):
    open_page(page, f"{server}/friches?commune=62215")  # Carvin: 2 with a project, 12 potential
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    page.get_by_text("Filtres", exact=True).click()  # folded by default (phone: map first)
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Statut (")
    choose_option(page, box.locator("input"), re.compile(r"^friche avec projet"))
    page.keyboard.press("Escape")
    expect(polygons(page)).to_have_count(2, timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"statut=friche"), timeout=TIMEOUT)
    page.screenshot(path=artifacts / "friches-filtre.png", full_page=True)


def test_brownfields_cluster_when_zoomed_out(page, server):
    open_page(page, f"{server}/friches")
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator(".atlas-groupe").first).to_be_visible(timeout=TIMEOUT)
    assert frame.locator(".atlas-groupe").count() < 100


def test_a_brownfield_says_what_it_is_on_hover_and_on_tap(page, server, artifacts):
    """Issue 21: none of the 307 markers had a tooltip or a popup; all were hollow."""
    open_page(page, f"{server}/friches?commune=62907&verification=v%C3%A9rifi%C3%A9s")
    frame = page.frame_locator(MAP_FRAME)
    site = frame.locator(POLYGONS).first
    expect(site).to_be_visible(timeout=TIMEOUT)
    # « vérifiés » chosen: every site drawn is filled, as the legend says
    opacities = frame.locator(POLYGONS).evaluate_all(
        "els => els.map(e => e.getAttribute('fill-opacity'))"
    )
    assert opacities and all(float(o) > 0.5 for o in opacities)
    site.hover()
    tooltip = frame.locator(".leaflet-tooltip")
    expect(tooltip).to_contain_text("Site", timeout=TIMEOUT)
    expect(tooltip).to_contain_text("ha")
    site.click()
    expect(frame.locator(".leaflet-popup-content")).to_contain_text("Vérification")
    # issue 30: the hover tooltip stayed beside the popup and covered the legend
    expect(tooltip).to_have_count(0, timeout=TIMEOUT)
    page.screenshot(path=artifacts / "friches-fiche.png", full_page=True)


def swatch_style(page, label):
    """The legend symbol before ``label`` as the browser draws it (radius, size, fill)."""
    frame = next(f for f in page.frames if "st_folium" in f.url)
    frame.wait_for_function("() => !!document.querySelector('.atlas-legend')", timeout=TIMEOUT)
    return frame.evaluate(
        """(label) => {
            const line = [...document.querySelectorAll('.atlas-legend div')]
                .find(d => d.textContent.trim() === label);
            const s = getComputedStyle(line.querySelector('span'));
            return {radius: s.borderTopLeftRadius, height: parseFloat(s.height),
                    top: s.borderTopStyle, fill: s.backgroundColor};
        }""",
        label,
    )


def test_legend_symbols_are_drawn_as_the_map_draws(page, server):
    """Issue 30: legend symbols were squares for circles and a filled box for a line."""
    open_page(page, f"{server}/friches?commune=62215")
    expect(polygons(page).first).to_be_attached(timeout=TIMEOUT)
    point = swatch_style(page, "friche avec projet")
    assert point["radius"] == "50%" or point["radius"].startswith("5")  # a circle
    assert swatch_style(page, "vide : candidat non vérifié")["fill"] == "rgb(255, 255, 255)"
    open_page(page, f"{server}/parcs")
    expect(polygons(page).first).to_be_attached(timeout=TIMEOUT)
    line = swatch_style(page, "cavalier (réel)")
    assert line["height"] == 0 and line["top"] == "solid"  # a stroke, not a box
    assert swatch_style(page, "liaison indicative")["top"] == "dashed"
    area = swatch_style(page, "contour réel (couche Mission Bassin Minier)")
    assert area["height"] > 0 and area["radius"] == "0px"  # parks are areas


@pytest.mark.parametrize("path", ["friches", "parcs"])
def test_headline_figures_are_shown_whole_at_1280_px(page, server, path):
    """Issue 21: five figures in a row cut « 809 – 2 914 » to « 809 – 2… »."""
    page.set_viewport_size({"width": 1280, "height": 900})
    open_page(page, f"{server}/{path}")
    expect(page.locator('[data-testid="stMetricValue"]').first).to_be_visible(timeout=TIMEOUT)
    cut = page.evaluate(
        """() => [...document.querySelectorAll(
            '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *')]
            .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)"""
    )
    assert cut == []


def test_the_home_page_under_its_name_is_the_home_page(page, server):
    """Issue 30: /accueil opened a blocking « Page introuvable » dialog."""
    open_page(page, f"{server}/accueil?epci=CAHC")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    expect(page).to_have_url(re.compile(r"/\?epci=CAHC$"))
    assert page.get_by_text("Page introuvable").count() == 0
    assert page.get_by_role("dialog").count() == 0


def test_api_without_a_slash_is_a_404_not_the_app(server):
    """Issue 30: /api answered the app's HTML with a 200."""
    import urllib.error
    import urllib.request

    for path in ("/api", "/api/", "/api/rien"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{server}{path}", timeout=10)
        assert err.value.code == 404, path


def basemap_box(page):
    return page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Fond de carte")


def test_offline_the_default_basemap_is_none(page, offline_server, router):
    """Issue 30: offline, Plan IGN stayed the default: a grey map, every tile failing."""
    open_page(page, f"{offline_server}/?epci=CAHC")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    expect(basemap_box(page)).to_have_value("Aucun fond de carte")
    assert router.tiles == 0, "offline, no tile was asked for"
    assert "fond=" not in page.url  # the default is not written in the address


def test_the_basemap_is_in_the_shared_address(page, server, router):
    """Issue 30: the basemap choice belongs in the shared URL, both ways."""
    open_page(page, f"{server}/?epci=CAHC&fond=ortho-ign")
    expect(polygons(page)).to_have_count(14, timeout=TIMEOUT)
    expect(basemap_box(page)).to_have_value(re.compile("^Photographies aériennes"))
    expect(page).to_have_url(re.compile(r"fond=ortho-ign"))
    choose_option(page, basemap_box(page), "OpenStreetMap")
    expect(page).to_have_url(re.compile(r"fond=osm"), timeout=TIMEOUT)
    open_page(page, f"{server}/?fond=inconnu")
    expect(page.get_by_text(re.compile("Valeur ignorée pour « fond »"))).to_be_visible(
        timeout=TIMEOUT
    )


def test_the_server_starts_in_french_without_asking_for_its_external_ip(demo_store, tmp_path):
    """Issue 30: `make run` printed « Did not auto detect external IP… » (Streamlit, headless,
    asks a public service for the machine's address): started as `make run` starts it."""
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.browser.harness import ROOT, free_port

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"),
             "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.3)
            time.sleep(1)  # the banner is printed once the server listens
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    text = log.read_text(encoding="utf-8")
    assert f"Atlas PMA servi sur http://localhost:{port}" in text
    assert "external IP" not in text and "You can now view" not in text, text
