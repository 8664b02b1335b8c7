"""Pages through Streamlit's AppTest: every page runs, the filter drives the map."""

from __future__ import annotations

import json
import os
import re

import pytest
from streamlit.testing.v1 import AppTest

from layers.solar.store import StoreLayout
from tests.helpers import HOSTILE_NAME, ROOT, feature_count, geojson_collections, switch_to

PAGES = [
    "pages/accueil.py",
    "pages/parcs.py",
    "pages/signaletique.py",
    "pages/friches.py",
    "pages/cadastre_solaire.py",
]


def app(page: str | None = None, **params: str | list[str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    if page:
        switch_to(at, page).run()
    return at


def map_args(at: AppTest) -> dict:
    [component] = at.get("component_instance")
    return json.loads(component.proto.json_args)


def map_features(at: AppTest) -> int:
    return feature_count(map_args(at)["script"])


def epci_widget(at: AppTest):
    return at.sidebar.multiselect(key="filtre_epci")


def communes_widget(at: AppTest):
    return at.sidebar.multiselect(key="filtre_communes")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(page):
    at = app()
    if page != PAGES[0]:
        switch_to(at, page).run()
    assert not at.exception, at.exception
    assert at.title[0].value


def test_home_shows_all_communes_and_headline_figures():
    at = app()
    assert map_features(at) == 150
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Communes"] == "150"
    assert metrics["Population municipale (hab.)"].replace("\u202f", "") == "644460"
    assert metrics["Superficie (km²)"].startswith("1\u202f002")


def test_url_selects_an_epci():
    at = app(epci="CAHC")
    assert map_features(at) == 14
    assert epci_widget(at).value == ["CAHC"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Population municipale (hab.)"].replace("\u202f", "") == "126133"


def test_url_selects_a_commune():
    at = app(epci="CALL", commune="62498")
    assert map_features(at) == 1
    assert communes_widget(at).value == ["62498"]
    assert "Lens" in at.caption[0].value


def test_invalid_url_values_give_a_notice_not_a_crash():
    at = app(epci=["CAHC", "<script>alert(1)</script>"], commune="00000")
    assert not at.exception
    assert map_features(at) == 14
    notices = [w.value for w in at.sidebar.warning]
    assert len(notices) == 2
    assert any("Intercommunalité inconnue" in n for n in notices)
    assert all("<script>" not in n for n in notices)  # escaped for Markdown


# AppTest (Streamlit 1.67) with file-based st.Page: runs after the first one leave out what
# app.py draws around the page (sidebar widgets, URL writes) from the tree and query
# params it reports; the real browser keeps them (tests/browser checks the URL and the
# sidebar across pages). So each test below interacts once with a first run's widgets and
# asserts on what the page itself shows.


def test_sidebar_filter_changes_the_map_and_the_url():
    at = app()
    epci_widget(at).set_value(["CALL"]).run()
    assert map_features(at) == 36
    at = app(epci="CALL")
    epci_widget(at).select("CAHC").run()
    assert map_features(at) == 50
    at = app(epci="CAHC")
    epci_widget(at).set_value([]).run()
    assert map_features(at) == 150


def test_commune_options_follow_the_epci():
    assert len(communes_widget(app()).options) == 150
    assert len(communes_widget(app(epci="CAHC")).options) == 14
    at = app(epci="CAHC", commune="62427")  # Hénin-Beaumont
    assert map_features(at) == 1
    epci_widget(at).set_value(["CALL"]).run()  # Hénin-Beaumont is not in CALL: dropped
    assert map_features(at) == 36


def test_selection_follows_the_user_between_pages():
    at = app(epci="CAHC")
    switch_to(at, "pages/friches.py").run()
    assert "CAHC" in at.caption[0].value


def fetched_downloads(at) -> dict[str, bytes]:
    """Every download link of the page, fetched through the app's route: {name: bytes}."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from layers.routes import routes

    client = TestClient(Starlette(routes=routes()))
    files = {}
    for link in at.get("link_button"):
        url = link.proto.url
        if "/api/fichiers/" in url:
            resp = client.get(url)
            assert resp.status_code == 200
            files[url.rsplit("/", 1)[1]] = resp.content
    return files


def test_downloads_carry_the_selection():
    import io

    import pandas as pd

    downloads = fetched_downloads(app(epci="CAHC"))
    csv = next(v for k, v in downloads.items() if k.endswith(".csv"))
    table = pd.read_csv(io.BytesIO(csv), sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    assert len(table) == 14 and set(table["EPCI"]) == {"CAHC"}
    assert "62427" in set(table["Code INSEE"])  # Hénin-Beaumont is in the CAHC
    geojson = json.loads(next(v for k, v in downloads.items() if k.endswith(".geojson")))
    assert len(geojson["features"]) == 14
    assert {f["properties"]["epci_code"] for f in geojson["features"]} == {"CAHC"}
    assert geojson["metadata"]["licence"]  # provenance travels with the file


def test_hostile_geodata_is_shown_as_text(hostile_geodata, monkeypatch):
    monkeypatch.setenv("ATLAS_GEODATA", str(hostile_geodata))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.query_params["commune"] = "62498"
    at.run()
    assert not at.exception
    script = map_args(at)["script"]
    assert HOSTILE_NAME not in script
    # widget labels are text: Streamlit shows the name, it does not parse it
    assert f"{HOSTILE_NAME} (62498)" in communes_widget(at).options
    assert map_features(at) == 1


def test_broken_geodata_gives_a_french_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_GEODATA", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert at.error and "Impossible de charger les données du territoire" in at.error[0].value


# --- Chaîne des Parcs --------------------------------------------------------------------


def parks_on_map(at: AppTest) -> int:
    return sum(
        1
        for c in geojson_collections(map_args(at)["script"])
        for f in c["features"]
        if str(f["properties"].get("parc_id", "")).startswith("P")
    )


def test_parks_page_filters_by_type_from_the_url():
    at = app("pages/parcs.py", type="terril")
    assert not at.exception
    assert parks_on_map(at) == 3  # Base 11/19, Pinchonvalles, terrils of the Parc des Iles


def test_parks_page_follows_the_epci_selection():
    assert parks_on_map(app("pages/parcs.py")) == 19
    at = app("pages/parcs.py", epci="CAHC")
    assert parks_on_map(at) == 3
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parcs"] == "3"


def test_parks_page_type_widget_changes_the_map():
    at = app("pages/parcs.py")
    at.multiselect(key="parcs_types").set_value(["canal / berges"]).run()
    assert parks_on_map(at) == 3


def test_park_card_from_the_url():
    at = app("pages/parcs.py", parc="P09")
    assert not at.exception
    assert any("Base 11/19" in h.value for h in at.subheader)
    assert any("Friches à moins de 1\u202f000 m" in m.value for m in at.markdown)  # issue 30


def test_park_card_for_an_indicative_outline_warns():
    at = app("pages/parcs.py", parc="P14")  # Olhain, drawn as a circle
    assert any("Géométrie indicative" in w.value for w in at.warning)


def test_parks_page_ignores_unknown_url_values():
    at = app("pages/parcs.py", type=["terril", "<b>volcan</b>"], parc="P99")
    assert not at.exception
    assert parks_on_map(at) == 3
    assert any("volcan" in w.value and "<b>" not in w.value for w in at.warning)


def test_context_layers_from_the_url():
    at = app("pages/parcs.py", epci="CAHC", couche="puits")
    assert feature_count(map_args(at)["script"], ("Point",)) > 0


# --- Friches -----------------------------------------------------------------------------


def sites_on_map(at: AppTest) -> int:
    from tests.helpers import clustered_points

    return len(clustered_points(map_args(at)["script"]))


def test_friches_page_counts():
    at = app("pages/friches.py")
    assert not at.exception
    assert sites_on_map(at) == 307
    assert sites_on_map(app("pages/friches.py", epci="CAHC")) == 83


def test_friches_status_and_verification_filters_from_the_url():
    assert sites_on_map(app("pages/friches.py", statut="friche avec projet")) == 19
    assert sites_on_map(app("pages/friches.py", verification="non vérifiés")) == 239


def test_friches_status_widget_changes_the_map():
    at = app("pages/friches.py", epci="CAHC")
    at.multiselect(key="friches_statuts").set_value(["friche sans projet"]).run()
    n = sites_on_map(at)
    assert 0 < n < 83
    labels = at.multiselect(key="friches_statuts").options
    assert any(label.startswith("friche sans projet (") for label in labels)


def test_friches_search_and_screening_label():
    at = app("pages/friches.py")
    at.text_input(key="friches_activite_un").input("cokerie").run()
    assert 0 < sites_on_map(at) < 20
    assert any("premier repérage, pas une étude" in i.value for i in at.info)


# --- Cadastre solaire ----------------------------------------------------------------------


@pytest.fixture
def offline_ban(monkeypatch):
    monkeypatch.setenv("ATLAS_BAN_URL", "off")


def test_cadastre_page_says_the_territory_is_fictional(offline_ban, demo_store):
    at = app("pages/cadastre_solaire.py")
    assert not at.exception
    assert any("Territoire fictif" in e.value for e in at.error)
    script = map_args(at)["script"]
    assert "/api/tuiles/solaire/" in script
    assert feature_count(script) == 1  # the computed area only: no roof is sent unasked


def test_cadastre_roof_card_from_the_url(offline_ban, demo_tables):
    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    assert not at.exception
    assert any(h.value.startswith("Votre toit") for h in at.subheader)
    assert any("Classe du toit" in m.value for m in at.markdown)
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert "/api/fichiers/" in links["Télécharger la fiche du toit (PDF)"]
    assert any("Potentiel maximal technique" in i.value for i in at.info)


def test_download_files_are_built_only_when_asked(offline_ban, demo_tables):
    """Issue 12: a rerun registers the file (same link), the click builds it, once."""
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from layers.downloads import DOWNLOADS
    from layers.routes import routes

    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[12])
    built = DOWNLOADS.files.misses
    url = {b.proto.label: b.proto.url for b in at.get("link_button")}[
        "Télécharger la fiche du toit (PDF)"
    ]
    at.run()  # a rerun: nothing built, the same link
    assert DOWNLOADS.files.misses == built
    assert (
        url
        == {b.proto.label: b.proto.url for b in at.get("link_button")}[
            "Télécharger la fiche du toit (PDF)"
        ]
    )
    client = TestClient(Starlette(routes=routes()))
    first = client.get(url)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert "attachment" in first.headers["content-disposition"]
    assert client.get(url).content == first.content
    assert DOWNLOADS.files.misses == built + 1  # built at the first click, kept for the next
    gone = client.get("/api/fichiers/" + "0" * 32 + "/x.pdf")
    assert gone.status_code == 404 and "expiré" in gone.text


def test_cadastre_building_the_lidar_did_not_see_gets_no_figures(offline_ban, demo_tables):
    """Issue 27, item 7: the demo's house built after the survey: said so, no estimate."""
    from layers.demo.territory import NEWER_ADDRESS

    _cad, roofs, _ = demo_tables
    newer = roofs.loc[roofs["adresse"].fillna("").str.startswith(NEWER_ADDRESS), "cleabs"].iloc[0]
    at = app("pages/cadastre_solaire.py", toit=newer)
    assert not at.exception
    assert any(h.value.startswith("Votre toit") for h in at.subheader)
    assert any("pas dans le relevé LiDAR" in w.value for w in at.warning)
    assert not any("Classe du toit" in m.value for m in at.markdown)
    assert not at.table and not at.get("select_slider")  # no estimate, no simulator
    labels = {b.proto.label for b in at.get("link_button")}
    assert "Télécharger la fiche du toit (PDF)" not in labels


def test_cadastre_laid_out_roof_walks_its_modules(offline_ban, demo_tables):
    """Issue 27: the slider's stops are whole modules; one more changes the estimate."""
    _cad, roofs, _ = demo_tables
    pick = roofs[(roofs["panneaux"] >= 8) & (roofs["pans"] >= 2)].sort_values("cleabs")
    at = app("pages/cadastre_solaire.py", toit=pick["cleabs"].iloc[0])
    slider = at.get("select_slider")[0]
    assert len(slider.proto.options) == int(pick["panneaux"].iloc[0])
    assert slider.proto.options[0] == "0,425 kWc · 1 panneau"
    assert any("Pans du toit" in m.value for m in at.markdown)
    before = at.table[0].value.loc["Production (kWh/an)", "central"]
    at.session_state["cadastre_kwc"] = 0.85 * 4  # 8 modules
    at.run()
    assert at.table[0].value.loc["Production (kWh/an)", "central"] != before
    shown = [str(getattr(e, "proto", "")) for e in at.main]  # the plan's caption among them
    assert any("Vos 8 panneaux en bleu fonc" in text for text in shown)


def test_cadastre_unknown_roof_in_the_url_is_said(offline_ban, demo_tables):
    at = app("pages/cadastre_solaire.py", toit="BATIMENT_INCONNU<script>")
    assert not at.exception
    assert any("Toit inconnu" in w.value for w in [*at.warning, *at.info])
    assert not any(h.value.startswith("Votre toit") for h in at.subheader)


def test_cadastre_simulator_changes_the_estimate(offline_ban, demo_tables):
    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    before = at.table[0].value.loc["Économie 1re année (€)", "central"]
    at.text_input(key="cadastre_conso__saisie").input("800").run()
    after = at.table[0].value.loc["Économie 1re année (€)", "central"]
    assert before != after


def test_cadastre_address_search_offline(offline_ban, demo_tables):
    _cad, _roofs, addresses = demo_tables
    label = addresses.iloc[0]["label"]
    at = app("pages/cadastre_solaire.py")
    at.text_input(key="cadastre_adresse_un").input(label)
    at.button[0].click().run()
    assert not at.exception
    assert any("injoignable" in i.value for i in at.info) is False  # offline by choice
    assert at.radio(key="cadastre_choix").options[0].replace("\\", "").startswith(label)


def test_cadastre_territory_view_per_selection(offline_ban, demo_tables):
    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", epci="CAHC")
    assert any("Secteur pas encore couvert" in i.value for i in at.info)
    at = app("pages/cadastre_solaire.py", epci="CALL")
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Toits analysés"].replace("\u202f", "")) == (roofs["epci"] == "CALL").sum()
    links = [b.proto.url for b in at.get("link_button")]
    assert any("/api/telechargements/toits.csv?insee=" in u for u in links)


def test_thousands_of_junk_url_values_give_one_notice():
    """Issue 11, low: 3 000 junk EPCI codes gave 3 000 warnings."""
    at = app(epci=",".join(f"JUNK{i}" for i in range(3000)))
    assert not at.exception
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 1 and "3000 valeurs" in warnings[0]
    assert map_features(at) == 150


@pytest.mark.parametrize("value", ["-5", "NaN"])
def test_bad_distance_in_url_is_said(value):
    at = app("pages/parcs.py", distance=value)
    assert not at.exception
    assert any("distance" in w.value and value in w.value for w in at.warning)
    assert at.select_slider(key="parcs_distance_un").value == "1000"


def test_cadastre_click_after_search_is_not_undone_by_reruns(offline_ban, demo_tables):
    """Issue 11: after a search, choosing another roof snapped back to the searched one."""
    _cad, roofs, addresses = demo_tables
    row = addresses.dropna(subset=["cleabs"]).iloc[25]
    at = app("pages/cadastre_solaire.py")
    at.text_input(key="cadastre_adresse_un").input(row["label"])
    at.button[0].click().run()
    assert at.session_state["cadastre_toit_un"] == row["cleabs"]
    other = roofs.dropna(subset=["adresse"]).iloc[300]
    at.session_state["cadastre_toit_un"] = other["cleabs"]  # what a map click does
    at.run()
    at.text_input(key="cadastre_conso__saisie").input("900").run()  # any later rerun
    assert at.session_state["cadastre_toit_un"] == other["cleabs"]
    assert any(other["adresse"] in h.value.replace("\\", "") for h in at.subheader)


def test_cadastre_service_labels_are_plain_text(monkeypatch, demo_store):
    """Issue 11: a BAN label made a link and fetched a remote image (Markdown)."""
    from tests.ban import RECORDED, recorded_ban

    hostile = "[Gagnez](https://evil.example) ![x](https://evil.example/p.png) **gras**"
    RECORDED["piege"] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [2.8316, 50.4325]},
                "properties": {"label": hostile, "score": 0.9, "citycode": "62498"},
            }
        ],
    }
    with recorded_ban() as url:
        monkeypatch.setenv("ATLAS_BAN_URL", url)
        at = app("pages/cadastre_solaire.py")
        at.text_input(key="cadastre_adresse_un").input("piege")
        at.button[0].click().run()
    option = at.radio(key="cadastre_choix").options[0]
    assert "](" not in option.replace("\\](", "") and "**" not in option.replace("\\*", "")
    assert option.replace("\\", "").startswith(hostile)


def test_cadastre_missing_address_file_is_said(offline_ban, monkeypatch, tmp_path, demo_store):
    """Issue 11: ATLAS_ADRESSES pointing to a missing file raised an uncaught exception."""
    monkeypatch.setenv("ATLAS_ADRESSES", str(tmp_path / "absent.csv"))
    at = app("pages/cadastre_solaire.py")
    at.text_input(key="cadastre_adresse_un").input("mairie Lens")
    at.button[0].click().run()
    assert not at.exception
    assert any("fichier d'adresses local configuré est illisible" in w.value for w in at.warning)
    assert all(str(tmp_path) not in w.value for w in at.warning)
    assert "Lens" in at.radio(key="cadastre_choix").options[0]


def test_cadastre_consumption_changes_the_card_and_its_text(offline_ban, demo_tables):
    """Issue 21: 4 200 → 9 000 kWh/an used to leave the card identical."""
    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    before = at.table[0].value.loc["Consommé sur place (% de la production)", "central"]
    at.text_input(key="cadastre_conso__saisie").input("9 000").run()
    after = at.table[0].value.loc["Consommé sur place (% de la production)", "central"]
    assert before != after
    headline = [m.value for m in at.markdown if "Classe du toit" in m.value][0]
    assert "9\u202f000 kWh/an" in headline


def test_cadastre_simulator_reads_and_shows_french_numbers(offline_ban, demo_tables):
    """Issue 30: the simulator showed « 0.1952 », « 2.00 », « 4200 »."""
    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    shown = {t.label: t.value for t in at.text_input if t.key.endswith("__saisie")}
    assert shown == {
        "Consommation du foyer (kWh/an)": "4\u202f200",
        "Prix de l'électricité (€/kWh)": "0,194",
        "Hausse annuelle du prix (%)": "2",
    }
    at.text_input(key="cadastre_prix__saisie").input("0,25").run()
    assert at.session_state["cadastre_prix"] == 0.25
    assert at.text_input(key="cadastre_prix__saisie").value == "0,25"
    before = at.table[0].value.loc["Économie 1re année (€)", "central"]
    at.text_input(key="cadastre_prix__saisie").input("beaucoup").run()  # refused, kept
    assert at.session_state["cadastre_prix"] == 0.25
    assert any("« beaucoup » n'est pas retenu" in e.value for e in at.error)
    assert at.table[0].value.loc["Économie 1re année (€)", "central"] == before
    at.text_input(key="cadastre_conso__saisie").input("90 000").run()  # out of range
    assert at.session_state["cadastre_conso"] == 4200
    assert any("entre 500 et 30\u202f000 kWh/an" in e.value for e in at.error)


def test_cadastre_verdict_comes_before_the_simulator(offline_ban, demo_tables):
    """Issue 30: the verdict sat below five inputs, at the bottom edge at 1280 × 800."""
    _cad, roofs, _ = demo_tables
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    found = []
    for element in at.main:  # the page's elements in reading order
        value = getattr(element, "value", None)
        if isinstance(value, str) and value.startswith("**Classe du toit"):
            found.append("verdict")
        elif getattr(element, "key", None) == "cadastre_conso__saisie":
            found.append("simulateur")
    assert found == ["verdict", "simulateur"], found


def test_cadastre_expired_tariff_is_flagged_on_the_card(
    offline_ban, demo_tables, geodata_copy, monkeypatch
):
    _cad, roofs, _ = demo_tables
    hyp = geodata_copy / "hypotheses.toml"
    text = hyp.read_text(encoding="utf-8")
    hyp.write_text(
        re.sub(r'valable_jusqu_au = "[0-9-]+"', 'valable_jusqu_au = "2025-01-01"', text),
        encoding="utf-8",
    )
    shipped = os.environ["ATLAS_GEODATA"]
    monkeypatch.setenv("ATLAS_GEODATA", str(geodata_copy))
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    assert any("périmée" in w.value for w in at.warning)
    monkeypatch.setenv("ATLAS_GEODATA", shipped)
    at = app("pages/cadastre_solaire.py", toit=roofs["cleabs"].iloc[10])
    assert not any("périmée" in w.value for w in at.warning)  # the shipped ones are current


@pytest.mark.parametrize("manifest", ["[]", "{pas du json"])
def test_cadastre_page_with_a_damaged_store_says_so_in_french(
    offline_ban, tmp_path, monkeypatch, manifest, demo_store
):
    """Issue 18 §3: `[]` crashed the page; garbage JSON showed parser internals."""
    import shutil

    store = tmp_path / "magasin"
    shutil.copytree(demo_store, store)
    (StoreLayout(store).manifest).write_text(manifest, encoding="utf-8")
    monkeypatch.setenv("ATLAS_CADASTRE", str(store))
    at = app("pages/cadastre_solaire.py")
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error)
    assert "illisible" in shown and "Expecting" not in shown and "line 1" not in shown


def test_tables_reach_the_browser_with_french_numbers():
    """Issue 21: the values a table shows are the French ones (1 502,1), whatever the
    browser's language; the raw numbers stay for sorting."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    from layers.formatting import NBSP

    at = app("pages/friches.py")
    by_epci = at.dataframe[0].proto.arrow_data
    shown = convert_arrow_bytes_to_pandas_df(by_epci.styler.display_values)
    raw = convert_arrow_bytes_to_pandas_df(by_epci.data)
    surface = [c for c in raw.columns if str(c).startswith("Surface")][0]
    total = raw[surface].iloc[-1]
    assert isinstance(total, float) and total > 1000  # raw: a number
    text = " ".join(str(v) for v in shown.to_numpy().ravel())
    assert NBSP in text and "," in text and f"{total:.1f}" not in text


def test_a_styled_table_is_replayed_not_styled_again_at_a_rerun(monkeypatch):
    """Styling a table cost every rerun ~25 ms per 1 000 cells (Streamlit rebuilds a
    Styler's display values cell by cell): the same table is now replayed from the
    cache; a different one is styled, and both still show French numbers."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    from layers.formatting import NBSP
    from pages.ui import widgets

    calls = []
    styled = widgets.french_table

    def counted(frame, skip=()):
        calls.append(len(frame))
        return styled(frame, skip)

    monkeypatch.setattr(widgets, "french_table", counted)
    widgets._replayed.clear()  # the cache is the process's: start from nothing
    at = app(epci="CAHC")  # the home page: one table of communes
    first = len(calls)
    assert first == 1
    at.run()
    assert len(calls) == first  # the same table: replayed, nothing styled again
    app_again = app(epci="CALL")  # another selection: another table, styled once
    assert len(calls) == first + 1
    for run in (at, app_again):
        shown = convert_arrow_bytes_to_pandas_df(
            run.dataframe[0].proto.arrow_data.styler.display_values
        )
        assert NBSP in " ".join(str(v) for v in shown.to_numpy().ravel())


def test_every_english_word_translated_still_exists_in_streamlit():
    """``pages/ui/shell.FRENCH`` rewrites Streamlit's own English words in the browser.

    Each English text must still be in the installed Streamlit's frontend: after an
    upgrade that renames one, this fails instead of leaving English on the page.
    """
    import re
    from pathlib import Path

    import streamlit

    from pages.ui.shell import FRENCH, FRENCH_PATTERNS

    bundle = "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in (Path(streamlit.__file__).parent / "static" / "static" / "js").glob("*.js")
    )
    missing = [english for english in FRENCH if english not in bundle]
    assert missing == []
    for pattern in FRENCH_PATTERNS:
        # every literal run of the pattern (« Select », « matches »…) is in the bundle
        literal = re.sub(r"\\b|\.\*|\^|\$", "", pattern)
        fragments = [f for f in re.split(r"\(.*?\)", literal) if f.strip()]
        assert fragments and all(f.replace("\\.", ".") in bundle for f in fragments), pattern
    # the date segments' words come from the browser's Intl, asked for by the date field
    assert "dateTimeField" in bundle and "DateField" in "".join(
        p.name for p in (Path(streamlit.__file__).parent / "static" / "static" / "js").glob("*.js")
    )


@pytest.mark.parametrize("page", ["pages/accueil.py", "pages/friches.py"])
def test_wide_tables_keep_their_first_column_in_view(page):
    """Issue 21: on a phone wide tables were cut; the first column stays pinned."""
    at = app(page)
    wide = [d for d in at.dataframe if len(json.loads(d.proto.columns or "{}")) > 0]
    assert wide
    for table in wide:
        config = json.loads(table.proto.columns)
        first = next(iter(k for k in config if k != "_index"))
        assert config[first].get("pinned") is True


def test_the_distance_selector_speaks_french():
    """Issue 21 (French formats): « 1000 » read « 1 000 m »."""
    at = app("pages/parcs.py")
    slider = next(s for s in at.select_slider if s.label.startswith("Friches proches"))
    shown = [o.replace("\u202f", " ") for o in slider.options]
    assert shown[-2:] == ["3 000 m", "5 000 m"] and slider.value == "1000"
