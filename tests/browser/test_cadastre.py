"""The resident's journey on the cadastre page, at desktop and phone sizes, offline."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from playwright.sync_api import expect

from tests.ban import recorded_ban
from tests.browser.harness import MAP_FRAME, download_from_link, streamlit_server, wait_map_idle
from tests.browser.test_journeys import click_at_lat_lng

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def cadastre_server(demo_store):
    with recorded_ban() as ban, streamlit_server({"ATLAS_BAN_URL": ban}) as url:
        yield url


class Demo:
    """The demo store's roofs and addresses, read by the test itself."""

    def __init__(self, tables) -> None:
        self.cad, self.roofs, addresses = tables
        self.addresses = addresses.dropna(subset=["cleabs"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def demo(demo_tables):
    return Demo(demo_tables)


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["bureau", "telephone"])
def test_search_click_simulate_download(
    browser, router, cadastre_server, demo, artifacts, viewport
):
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="fr-FR",
        is_mobile=width < 500,
        has_touch=width < 500,
        accept_downloads=True,
    )
    page = context.new_page()
    page.route("**/*", router)
    page.goto(f"{cadastre_server}/cadastre_solaire")
    expect(page.get_by_text("Territoire fictif de démonstration.")).to_be_visible(timeout=TIMEOUT)

    # 1. search an address of the demo district (keyboard only)
    row = demo.addresses.iloc[25]
    field = page.get_by_label("Adresse")
    field.fill(row["label"])
    field.press("Enter")
    expect(page.get_by_text(re.compile(re.escape(row["label"]) + " — fichier"))).to_be_visible(
        timeout=TIMEOUT
    )
    expect(page.get_by_role("heading", name=re.compile("^Votre toit"))).to_be_visible(
        timeout=TIMEOUT
    )
    expect(page).to_have_url(re.compile(rf"toit={row['toit_id']}"), timeout=TIMEOUT)

    # 2. click a neighbouring roof on the map: the card follows the click
    searched = demo.roofs.set_index("toit_id").loc[row["toit_id"]].geometry
    frame = page.frame_locator(MAP_FRAME)
    expect(frame.locator("path.leaflet-interactive").first).to_be_attached(timeout=TIMEOUT)
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    wait_map_idle(page)  # the map settled on the searched roof
    map_frame = next(f for f in page.frames if "st_folium" in f.url)
    size = map_frame.evaluate("() => [window.map.getSize().x, window.map.getSize().y]")
    # the irradiation under it is drawn from the store's COGs by the app's tile route
    tile = frame.locator('img.leaflet-tile[src*="/api/tuiles/solaire/"]').first
    expect(tile).to_be_attached(timeout=TIMEOUT)
    page.wait_for_function(
        """() => [...document.querySelectorAll('iframe')].some(f => {
            try { return [...f.contentDocument.querySelectorAll('img.leaflet-tile')]
                .some(i => i.src.includes('/api/tuiles/solaire/') && i.complete
                           && i.naturalWidth === 256); } catch (e) { return false; } })""",
        timeout=TIMEOUT,
    )
    others = demo.roofs[(demo.roofs["toit_id"] != row["toit_id"]) & demo.roofs["adresse"].notna()]
    metric = others.geometry.to_crs(2154)
    centre = gpd.GeoSeries([searched], crs=4326).to_crs(2154).iloc[0]
    others = others.assign(d=metric.distance(centre).values).sort_values("d")
    neighbour = None
    for cand in others.head(30).itertuples():
        pt = cand.geometry.representative_point()
        x, y = map_frame.evaluate(
            "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]);"
            " return [p.x, p.y]; }",
            [pt.y, pt.x],
        )
        if 40 < x < size[0] - 40 and 40 < y < size[1] - 40 and cand.adresse != row["label"]:
            neighbour = cand
            break
    assert neighbour is not None, "no neighbouring roof visible around the searched one"
    p2 = neighbour.geometry.representative_point()
    click_at_lat_lng(page, p2.y, p2.x)
    expect(page).to_have_url(re.compile(rf"toit={neighbour.toit_id}"), timeout=TIMEOUT)
    mine = page.get_by_role(
        "heading", name=re.compile("^Votre toit : " + re.escape(neighbour.adresse))
    )
    expect(mine).to_be_visible(timeout=TIMEOUT)
    # the previous roof's card goes once the run ends (while it runs, a loaded machine can
    # show both for a moment)
    heading = page.get_by_role("heading", name=re.compile("^Votre toit"))
    expect(heading).to_have_count(1, timeout=TIMEOUT)
    expect(heading).to_contain_text(neighbour.adresse, timeout=TIMEOUT)
    # the searched address's results, about another roof now, are gone (issue 21)
    expect(page.get_by_text(re.compile(re.escape(row["label"]) + " — fichier"))).to_have_count(
        0, timeout=TIMEOUT
    )

    # 3. change the household consumption: the estimate changes
    table = page.locator('[data-testid="stTable"]')
    before = table.inner_text()
    conso = page.get_by_label("Consommation du foyer (kWh/an)")
    conso.fill("900")
    conso.press("Enter")
    expect(table).not_to_have_text(before, timeout=TIMEOUT)
    # that rerun did not snap back to the searched roof (issue 11)
    expect(heading).to_contain_text(neighbour.adresse)
    expect(page).to_have_url(re.compile(rf"toit={neighbour.toit_id}"))

    # 4. download the PDF roof sheet
    link = page.get_by_role("link", name=re.compile("Télécharger la fiche du toit"))
    download = download_from_link(page, link.click)
    assert download.suggested_filename.endswith(".pdf")
    path = artifacts / f"fiche-{width}.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    page.screenshot(path=artifacts / f"cadastre-{width}.png", full_page=True)

    # 5. a search landing outside the computed sector: the previous card goes (issue 21)
    field.fill("Place Jean Jaurès Lens")  # the recorded BAN answers it; Lens is not computed
    field.press("Enter")
    expect(page.get_by_text("Secteur pas encore couvert").first).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("heading", name=re.compile("^Votre toit"))).to_have_count(
        0, timeout=TIMEOUT
    )
    expect(page).not_to_have_url(re.compile("toit="), timeout=TIMEOUT)
    context.close()


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["bureau", "telephone"])
def test_the_verdict_leads_the_roof_card(
    browser, router, cadastre_server, demo, viewport, artifacts
):
    """Issue 30: the verdict (class, production, payback) sat below five simulator inputs;
    at 1280 × 800 it started at the bottom edge of the screen that showed the card's title.
    The inputs then speak French numbers (« 4 200 », « 0,194 »)."""
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", is_mobile=width < 500
    )
    page = context.new_page()
    page.route("**/*", router)
    roof = demo.roofs["toit_id"].iloc[10]
    page.goto(f"{cadastre_server}/cadastre_solaire?toit={roof}")
    title = page.get_by_role("heading", name=re.compile("^Votre toit"))
    expect(title).to_be_visible(timeout=TIMEOUT)
    # the whole card drawn first (its last link): on a loaded machine the page could still
    # be too short to bring the title to the top when it was scrolled
    expect(page.get_by_role("link", name=re.compile("fiche du toit"))).to_be_attached(
        timeout=TIMEOUT
    )
    wait_map_idle(page)
    title.evaluate("e => e.scrollIntoView({block: 'start'})")
    verdict = page.get_by_text(re.compile("^Classe du toit"))
    expect(verdict).to_be_visible(timeout=TIMEOUT)
    box, field = verdict.bounding_box(), page.get_by_label("Consommation du foyer (kWh/an)")
    page.screenshot(path=artifacts / f"verdict-{width}.png")
    assert box is not None and box["y"] + box["height"] <= height * 0.6, box  # read first
    assert field.bounding_box()["y"] > box["y"]  # then the simulator
    expect(field).to_have_value("4\u202f200")
    expect(page.get_by_label("Prix de l'électricité (€/kWh)")).to_have_value("0,194")
    context.close()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["bureau", "telephone"])
def test_a_roof_face_by_face_its_modules_follow_the_power(
    browser, router, cadastre_server, demo, artifacts, viewport
):
    """Issue 27: the card lists the faces, the plan draws the chosen modules and follows
    the power slider (keyboard), the map holds every possible module at street zoom."""
    width, height = viewport
    roofs = demo.cad.reader.read("toits", read_geometry=False)
    pick = roofs[(roofs["panneaux"] >= 8) & (roofs["pans"] >= 2)].sort_values("cleabs").iloc[0]
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="fr-FR", is_mobile=width < 500,
        has_touch=width < 500,
    )  # fmt: skip
    page = context.new_page()
    page.route("**/*", router)
    page.goto(f"{cadastre_server}/cadastre_solaire?toit={pick['cleabs']}")
    expect(page.get_by_text("Pans du toit", exact=True)).to_be_visible(timeout=TIMEOUT)
    faces = page.locator("li", has_text=re.compile(r"^pan "))
    expect(faces).to_have_count(int(pick["pans"]), timeout=TIMEOUT)
    caption = page.get_by_text(re.compile(r"^Vos \d+ panneaux? en bleu foncé"))
    expect(caption).to_contain_text("Vos 7 panneaux", timeout=TIMEOUT)  # 3 kWc: 7 × 425 Wc
    image = page.get_by_role("img", name=re.compile("^Plan du toit vu du dessus"))
    expect(image).to_have_js_property("naturalWidth", 360, timeout=TIMEOUT)  # it loads
    before = image.get_attribute("src")
    # the map, framed on the roof at street zoom: its faces, every possible module, and
    # the simulated project's 7 in dark blue
    page.locator(MAP_FRAME).scroll_into_view_if_needed()
    wait_map_idle(page)
    frame = page.frame_locator(MAP_FRAME)
    chosen = frame.locator('path.leaflet-interactive[fill="#102a6e"]')
    possible = frame.locator('path.leaflet-interactive[fill="#9db4e0"]')
    expect(chosen).to_have_count(7, timeout=TIMEOUT)
    expect(possible).to_have_count(int(pick["panneaux"]), timeout=TIMEOUT)
    map_frame = next(f for f in page.frames if "st_folium" in f.url)
    map_frame.evaluate("() => { window.__same_map = true; }")
    # one module more, from the keyboard: the plan and the map follow, the map not reloaded
    thumb = page.get_by_role("slider", name=re.compile("Puissance installée"))
    thumb.focus()
    thumb.press("ArrowRight")
    expect(caption).to_contain_text("Vos 8 panneaux", timeout=TIMEOUT)
    expect(image).not_to_have_attribute("src", before or "", timeout=TIMEOUT)
    expect(image).to_have_js_property("naturalWidth", 360, timeout=TIMEOUT)
    expect(page.get_by_text("3,4 kWc · 8 panneaux").first).to_be_visible(timeout=TIMEOUT)
    expect(chosen).to_have_count(8, timeout=TIMEOUT)
    assert map_frame.evaluate("() => window.__same_map === true")  # swapped, not reloaded
    expect(thumb).to_be_focused()
    page.locator(MAP_FRAME).screenshot(path=artifacts / f"pans-carte-{width}.png")
    caption.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"pans-{width}.png")
    context.close()
