"""An editor logs in, changes a sign's status, sees the progress change, reloads: persisted."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from layers.auth import hash_password
from tests.browser.harness import (
    axe_violations,
    choose_option,
    english_left,
    streamlit_server,
)

TIMEOUT = 30_000


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory, prepared_geodata, demo_store):
    tmp = tmp_path_factory.mktemp("signaletique")
    store = tmp / "signaletique.gpkg"
    shutil.copy(prepared_geodata / "signaletique.gpkg", store)
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        f'[editeurs]\nalice = "{hash_password("mot-de-passe-solide")}"\n'
        f'bob = "{hash_password("autre-mot-de-passe")}"\n',
        encoding="utf-8",
    )
    with streamlit_server(
        {"ATLAS_SIGNALETIQUE": str(store)}, extra_args=["--secrets.files", str(secrets)]
    ) as url:
        yield url, store


def metric(page, label):
    """The value of the metric labelled exactly ``label`` (« Posés » is not « % posés »)."""
    exact = page.locator('[data-testid="stMetricLabel"]').filter(
        has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")
    )
    box = page.locator('[data-testid="stMetric"]').filter(has=exact).first
    expect(box).to_be_visible(timeout=TIMEOUT)
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def test_editor_changes_a_status_and_it_persists(page, editor_server, artifacts, territory):
    from layers.signage_store import open_store

    url, store_path = editor_server
    store = open_store(store_path, territory)
    target = store.signs().query("statut == 'demandé'").iloc[0]["sign_id"]
    page.goto(f"{url}/signaletique")
    expect(page.get_by_text("Échantillon synthétique.")).to_be_visible(timeout=TIMEOUT)
    before = int(metric(page, "Posés"))
    login(page, url, "alice", "mot-de-passe-solide")
    open_sign(page, target, "demandé")
    status = page.get_by_role("combobox", name="Nouveau statut")
    expect(status).to_have_count(1, timeout=TIMEOUT)  # the previous sign's form is gone
    expect(status).to_have_value("demandé")
    status.click()
    page.keyboard.type("posé")
    expect(page.get_by_role("option", name="posé", exact=True)).to_be_visible()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Posés").first).to_contain_text(
        str(before + 1), timeout=TIMEOUT
    )
    page.screenshot(path=artifacts / "signaletique-editeur.png", full_page=True)

    page.reload()
    expect(page.get_by_text("Échantillon synthétique.")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Posés").first).to_contain_text(
        str(before + 1), timeout=TIMEOUT
    )
    assert store.get(target)["statut"] == "posé" and store.get(target)["modifie_par"] == "alice"
    assert store.history().iloc[0]["qui"] == "alice"


def test_reader_has_no_edit_controls(page, editor_server):
    url, _ = editor_server
    page.goto(f"{url}/signaletique")
    expect(page.get_by_text("Échantillon synthétique.")).to_be_visible(timeout=TIMEOUT)
    assert page.get_by_role("heading", name="Modifier (éditeur)").count() == 0


def login(page, url, name, password):
    page.goto(f"{url}/signaletique")
    expect(page.get_by_text("Échantillon synthétique.")).to_be_visible(timeout=TIMEOUT)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_label("Identifiant").fill(name)
    sidebar.get_by_label("Mot de passe", exact=True).fill(password)
    sidebar.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Modifier (éditeur)")).to_be_visible(timeout=TIMEOUT)


def open_sign(page, target, status):
    panel = page.locator('[data-testid="stSelectbox"]').filter(has_text="Panneau").first
    panel.locator("input").click()
    page.keyboard.type(target)
    expect(page.get_by_role("option", name=re.compile(rf"^{target} —"))).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(rf"Statut : {status} · version"))).to_be_visible(
        timeout=TIMEOUT
    )


def choose_status(page, status):
    box = page.get_by_role("combobox", name="Nouveau statut")
    expect(box).to_have_count(1, timeout=TIMEOUT)
    box.click()
    page.keyboard.type(status)
    expect(page.get_by_role("option", name=status, exact=True)).to_be_visible()
    page.keyboard.press("Enter")


def test_two_editors_stale_form_gets_the_conflict(browser, router, editor_server, territory):
    """Issue 11, critical 5: bob's form, opened before alice saved, must not overwrite her."""
    from layers.signage_store import open_store

    url, store_path = editor_server
    store = open_store(store_path, territory)
    target = store.signs().query("statut == 'conçu'").iloc[0]["sign_id"]
    pages = []
    for name, password in (("alice", "mot-de-passe-solide"), ("bob", "autre-mot-de-passe")):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
        pg = context.new_page()
        pg.route("**/*", router)
        login(pg, url, name, password)
        open_sign(pg, target, "conçu")
        pages.append(pg)
    alice, bob = pages
    choose_status(alice, "fabriqué")
    alice.get_by_role("button", name="Enregistrer").click()
    expect(alice.get_by_text(f"Panneau {target} enregistré.")).to_be_visible(timeout=TIMEOUT)
    assert store.get(target)["statut"] == "fabriqué"

    choose_status(bob, "à reprendre")
    bob.get_by_role("button", name="Enregistrer").click()
    conflict = bob.get_by_text(re.compile(r"modifié par alice .*statut : conçu → fabriqué"))
    expect(conflict).to_be_visible(timeout=TIMEOUT)
    now = store.get(target)
    assert now["statut"] == "fabriqué" and now["modifie_par"] == "alice"
    assert store.history(sign_id=target).iloc[0]["qui"] == "alice"
    for pg in pages:
        pg.context.close()


def test_editing_by_keyboard_only(page, editor_server, territory):
    """Issue 13: log in, choose a sign, change its status and save with the keyboard only."""
    from layers.signage_store import open_store
    from tests.browser.test_accessibility import tab_to

    url, store_path = editor_server
    store = open_store(store_path, territory)
    target = store.signs().query("statut == 'demandé'").iloc[-1]["sign_id"]
    page.goto(f"{url}/signaletique")
    expect(page.get_by_text("Échantillon synthétique.")).to_be_visible(timeout=TIMEOUT)
    sidebar = page.locator('[data-testid="stSidebar"]')
    tab_to(page, sidebar.get_by_label("Identifiant"))
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("mot-de-passe-solide")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Modifier (éditeur)")).to_be_visible(timeout=TIMEOUT)
    panel = page.locator('[data-testid="stSelectbox"]').filter(has_text="Panneau").first
    tab_to(page, panel.locator("input"))
    page.keyboard.type(target)
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Statut : demandé · version"))).to_be_visible(
        timeout=TIMEOUT
    )
    status = page.get_by_role("combobox", name="Nouveau statut")
    tab_to(page, status)
    page.keyboard.type("conçu")
    page.keyboard.press("Enter")
    save = page.get_by_role("button", name="Enregistrer")
    tab_to(page, save)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Panneau {target} enregistré.")).to_be_visible(timeout=TIMEOUT)
    assert store.get(target)["statut"] == "conçu"
    assert axe_violations(page) == []  # the editor's forms too


def test_the_editor_reads_no_english(page, editor_server, territory):
    """Issue 30: the date field's « dd / mm / yyyy », the chart menus (« Show data »,
    « Download as PNG », « Copy Vega-Lite spec ») and, for screen readers, « Choose an
    option », « Choose date », « Show password », « Link to heading », « Close »."""
    from pages.ui.shell import DATE_PLACEHOLDERS, FRENCH

    english = [*FRENCH, *(k for k, v in DATE_PLACEHOLDERS.items() if k != v)]
    url, store_path = editor_server
    page.goto(f"{url}/signaletique")
    expect(page.get_by_text("Échantillon synthétique.")).to_be_visible(timeout=TIMEOUT)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("button", name="Afficher le mot de passe")).to_be_attached()
    assert english_left(page, english) == []
    login(page, url, "alice", "mot-de-passe-solide")
    panel = page.locator('[data-testid="stSelectbox"]').filter(has_text="Panneau").first
    choose_option(page, panel.locator("input"), re.compile(r"^S0002 —"))
    day = page.get_by_role("spinbutton", name=re.compile(r"^jour, Date de l'étape"))
    expect(day).to_have_text("jj", timeout=TIMEOUT)
    year = page.get_by_role("spinbutton", name=re.compile(r"^année, Date de l'étape"))
    expect(year).to_have_text("aaaa")
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    chart.hover()
    expect(page.get_by_role("button", name="Afficher les données").first).to_be_attached(
        timeout=TIMEOUT
    )
    assert english_left(page, english) == []


def test_an_editors_link_needs_the_editors_session(page, browser, router, editor_server):
    """Issue 30: the editor's download link (logins and notes) worked without a session."""
    from tests.browser.harness import download_from_link

    url, _store = editor_server
    login(page, url, "alice", "mot-de-passe-solide")
    link = page.get_by_role("link", name="Tableau (CSV)")
    expect(link).to_be_visible(timeout=TIMEOUT)
    href = link.get_attribute("href")
    download = download_from_link(page, link.click)
    assert "Modifié par" in download.path().read_text(encoding="utf-8-sig")  # editor's file
    stranger = browser.new_context(locale="fr-FR")
    answer = stranger.request.get(href if href.startswith("http") else f"{url}{href}")
    assert answer.status == 403 and "session d'éditeur" in answer.text()
    stranger.close()
