"""Signage model, sample, figures, council PDF; the page for readers and editors (AppTest)."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely.geometry import Point
from streamlit.testing.v1 import AppTest

from layers.auth import hash_password, verify_password
from layers.errors import AtlasError
from layers.formatting import fmt_int
from layers.signage import (
    STATUSES,
    costs_by_year,
    generate_sample,
    installed_over_time,
    progress_by,
    steps_since,
    validate,
)
from layers.signage_report import council_pdf
from layers.signage_setup import read_import
from tests.helpers import GEODATA, ROOT, switch_to


@pytest.fixture(scope="module")
def sample(signs_sample):
    return signs_sample.copy()


def test_sample_is_reproducible_synthetic_and_valid(sample, planning, territory):
    again = generate_sample(planning.parks, planning.links)
    assert sample.drop(columns="geometry").equals(again.drop(columns="geometry"))
    assert sample["qualite"].str.startswith("synthétique").all()
    assert all(not validate(row, territory) for row in sample.to_dict("records"))
    assert set(sample["statut"]) <= set(STATUSES)


def test_sample_matches_the_2020_facts(sample):
    done = sample[
        sample["parc_nom"].str.contains("Canal d'Aire|Berges de la Souchez")
        & (sample["annee"] == 2020)
    ]
    assert len(done) > 0 and (done["statut"] == "posé").all()
    assert done["cofinancement_region"].sum() == pytest.approx(37_500)
    assert (done["cofinancement_region"] / done["cout_ht"]).round(3).eq(0.5).all()
    assert (sample["cofinancement_region"] <= sample["cout_ht"] * 0.5 + 0.01).all()


def test_validation_messages(territory):
    good = {
        "statut": "posé",
        "type_panneau": "balise",
        "date_pose": "2024-05-01",
        "cout_ht": 200,
        "cofinancement_region": 100,
        "geometry": Point(2.83, 50.43),
    }
    assert validate(good, territory) == []
    bad = {
        **good,
        "statut": "x",
        "date_pose": "2999-01-01",
        "cofinancement_region": 150,
        "geometry": Point(2.35, 48.86),
    }
    problems = " ".join(validate(bad, territory, today=dt.date(2026, 11, 28)))
    for text in ("statut inconnu", "futur", "50 %", "hors du PMA"):
        assert text in problems


def test_figures_on_a_hand_made_inventory():
    import pandas as pd

    signs = pd.DataFrame(
        {
            "type_panneau": ["balise", "balise", "balise", "totem d'entrée"],
            "statut": ["posé", "posé", "conçu", "posé"],
            "date_pose": ["2021-03-10", "2021-03-25", None, "2022-01-05"],
            "annee": [2021, 2021, 2022, 2022],
            "cout_ht": [200.0, 300.0, 250.0, 8000.0],
            "cofinancement_region": [100.0, 0.0, 0.0, 4000.0],
        }
    )
    prog = progress_by(signs, "type_panneau").set_index("type_panneau")
    assert prog.loc["balise", "panneaux"] == 3 and prog.loc["balise", "posés"] == 2
    assert prog.loc["balise", "% posés"] == pytest.approx(66.7)
    assert prog.loc["totem d'entrée", "% posés"] == 100.0
    cumul = installed_over_time(signs).set_index("mois")["panneaux posés (cumul)"]
    assert list(cumul) == [2] + [2] * 9 + [3]  # March 2021 … January 2022
    costs = costs_by_year(signs).set_index("Année")
    assert costs.loc["2021", "Coût HT (€)"] == 500 and costs.loc["2022", "Coût HT (€)"] == 8250
    assert costs.loc["2022", "Cofinancement Région (€)"] == 4000


def council_report(sample, planning, territory, since=dt.date(2025, 1, 1)):
    from layers.signage_report import CouncilReport, progress_tables, sign_epci

    by_epci, by_park = progress_tables(sample, sign_epci(sample, territory))
    return CouncilReport(
        signs=sample,
        parks=planning.parks,
        communes=territory.communes,
        by_epci=by_epci,
        by_park=by_park,
        selection_label="Tout le PMA",
        today=dt.date(2026, 11, 28),
        since=since,
        edits=3,
        link="https://atlas.exemple.fr/signaletique",
    )


def test_council_pdf_is_the_one_page_an_elected_group_reads(sample, planning, territory):
    """Issue 21: no outlines, no scale, a sentence for a legend, a gap, figures run together,
    no park table, cost chart or what changed."""
    import io
    import re

    from pypdf import PdfReader

    report = council_report(sample, planning, territory)
    reader = PdfReader(io.BytesIO(council_pdf(report)))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    flat = " ".join(text.split())
    for expected in (
        "Chaîne des Parcs — avancement de la signalétique",
        "état au 28/11/2026",
        "Données synthétiques",
        "Avancement par intercommunalité",
        "Avancement par parc",
        "Coûts et cofinancement par année",
        "Ce qui a changé depuis le 01/01/2025",
        "3 modification(s) saisie(s)",
        "intercommunalité (EPCI)",
        "commune",
        "https://atlas.exemple.fr/signaletique",
        *STATUSES,
        *territory.communes["epci_code"].unique(),
    ):
        assert expected in flat, expected
    # the figures, each its own box, the page's definitions (one figure, one definition)
    posed = int((sample["statut"] == "posé").sum())
    lines = [line.strip() for line in text.splitlines()]
    assert str(posed) in lines and "Posés" in lines  # not « Panneaux : 94Posés : 42 »
    steps = steps_since(sample, dt.date(2025, 1, 1))
    assert f"{len(steps)} étape(s) datée(s)" in flat
    costs = costs_by_year(sample)
    first = costs.iloc[0]
    assert fmt_int(first["Coût HT (€)"]).replace("\u202f", "\xa0") + " €" in text
    # French everywhere: euros, no « EUR », no decimal point, a scale in km or m
    assert "EUR" not in text and not re.search(r"\d\.\d", text)
    assert re.search(r"0 — \d+ (km|m)\b", flat)
    # no large gap splits the page: between two lines of text, never more than 2 cm
    heights = []
    reader.pages[0].extract_text(
        visitor_text=lambda t, _cm, tm, _f, _s: heights.append(tm[5]) if t.strip() else None
    )
    ys = sorted(set(heights))
    assert max(b - a for a, b in zip(ys, ys[1:], strict=False)) < 20 / 25.4 * 72
    assert "Panneaux posés (cumul, par mois)" in flat  # the rollout over time


def test_council_map_draws_communes_epci_parks_and_signs(sample, planning, territory):
    import io

    import numpy as np
    from PIL import Image

    from layers.signage_report import STATUS_COLORS, _map_image, _MapFrame

    frame = _MapFrame.of(council_report(sample, planning, territory))
    png, span_m = _map_image(frame, size=600), frame.width
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours = {tuple(p) for p in np.unique(pixels, axis=0)}
    assert (40, 40, 40) in colours  # EPCI limits
    assert (150, 150, 150) in colours  # commune limits
    assert (220, 237, 200) in colours  # parks
    for status in set(sample["statut"]):
        rgb = tuple(int(STATUS_COLORS[status][i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, status
    west, south, east, north = territory.communes.to_crs(2154).total_bounds
    assert max(east - west, north - south) <= span_m < 1.2 * max(east - west, north - south)


def test_passwords():
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong", stored)
    assert not verify_password("x", "garbage")


def test_import_file_formats(tmp_path, sample, territory):
    csv = tmp_path / "panneaux.csv"
    rows = (
        sample.head(3)
        .drop(columns="geometry")
        .assign(lon=sample.head(3).geometry.x, lat=sample.head(3).geometry.y)
    )
    rows.to_csv(csv, sep=";", index=False)
    frame = read_import(csv)
    assert len(frame) == 3 and frame.crs.to_epsg() == 4326
    broken = tmp_path / "casse.csv"
    broken.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(AtlasError, match="lon et lat"):
        read_import(broken)


# --- the page ---------------------------------------------------------------------------


def page(secrets: dict | None = None, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for k, v in params.items():
        at.query_params[k] = v
    if secrets:
        for k, v in secrets.items():
            at.secrets[k] = v
    at.run()
    switch_to(at, "pages/signaletique.py").run()
    return at


def test_reader_sees_no_edit_controls(store_copy):
    at = page()
    assert not at.exception
    assert any("Échantillon synthétique" in e.value for e in at.error)
    assert not [s for s in at.subheader if s.value.startswith("Modifier")]
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert "/api/fichiers/" in links["Synthèse A4 pour le conseil (PDF)"]


def test_editor_logs_in_and_changes_a_status(store_copy):
    from layers.signage_store import open_store
    from layers.territory import load_territory

    secrets = {"editeurs": {"alice": hash_password("mot-de-passe-solide")}}
    at = page(secrets)
    at.text_input[0].input("alice")
    at.text_input[1].input("mot-de-passe-solide")
    at.button[0].click().run()
    assert not at.exception
    assert any(s.value.startswith("Modifier") for s in at.subheader)
    before = {m.label: m.value for m in at.metric}["Posés"]
    store = open_store(store_copy, load_territory(GEODATA))
    target = store.signs().query("statut != 'posé'").iloc[0]["sign_id"]
    at.selectbox(key="sig_panneau_un").set_value(target).run()
    form_select = [s for s in at.selectbox if s.label == "Nouveau statut"][0]
    form_select.set_value("posé")
    [b for b in at.button if b.label == "Enregistrer"][0].click().run()
    assert store.get(target)["statut"] == "posé"
    assert store.get(target)["modifie_par"] == "alice"
    assert int({m.label: m.value for m in at.metric}["Posés"]) == int(before) + 1


def test_wrong_password_is_refused(store_copy):
    at = page({"editeurs": {"alice": hash_password("mot-de-passe-solide")}})
    at.text_input[0].input("alice")
    at.text_input[1].input("non")
    at.button[0].click().run()
    assert any("incorrect" in e.value for e in at.error)
    assert not [s for s in at.subheader if s.value.startswith("Modifier")]


@pytest.fixture(autouse=True)
def _fresh_login_guard():
    """The lockout counts are per server process: start every test with none."""
    from pages.ui import editors

    editors.login_guard.clear()
    yield
    editors.login_guard.clear()


EDITORS = {"editeurs": {"alice": hash_password("mot-de-passe-solide")}}


def login(at: AppTest, name: str = "alice", password: str = "mot-de-passe-solide") -> AppTest:
    at.sidebar.text_input[0].input(name)
    at.sidebar.text_input[1].input(password)
    [b for b in at.sidebar.button if b.label == "Se connecter"][0].click().run()
    return at


def button(at: AppTest, label: str):
    return [b for b in at.button if b.label == label][0]


def open_sign(at: AppTest, sign_id: str) -> AppTest:
    at.selectbox(key="sig_panneau_un").set_value(sign_id).run()
    return at


def _store(path):
    from layers.signage_store import open_store
    from layers.territory import load_territory

    return open_store(path, load_territory(GEODATA))


def test_page_reads_a_history_with_an_addition_then_a_change(store_copy):
    """Issue 11, critical 1: the page crashed for everyone (pandas 3, NaN "before")."""
    store = _store(store_copy)
    sample = store.signs().iloc[0].to_dict()
    sid = store.add({**sample, "notes": "ajouté"}, "alice")
    store.update(sid, {"statut": "à reprendre", "date_reprise": "2025-01-02"}, 1, "alice")
    at = page()
    assert not at.exception, at.exception
    shown = [d.value for d in at.dataframe if "Changement" in d.value.columns][0]
    assert list(shown["Action"][:2]) == ["modification", "ajout"]
    assert "statut" in shown["Changement"].iloc[0] and shown["Changement"].iloc[1] == (
        "ajout du panneau"
    )
    # undo goes through the same code: the editor's undo list reads too
    at = login(page(EDITORS))
    assert not at.exception
    assert any(e.label == "Annuler une modification" for e in at.expander)


def test_page_survives_absurd_stored_numbers(store_copy):
    """Critical 3: a stored inf/1e308 cost no longer breaks the page for everyone."""
    import sqlite3

    con = sqlite3.connect(store_copy)
    with con:
        con.execute("UPDATE panneaux SET cout_ht = 9e999 WHERE sign_id = 'S0001'")
        con.execute("UPDATE panneaux SET cofinancement_region = 1e308 WHERE sign_id = 'S0002'")
    con.close()
    at = page()
    assert not at.exception, at.exception
    cost = {m.label: m.value for m in at.metric}["Coût HT (€)"]
    assert cost.replace("\u202f", "").isdigit()


def test_stale_form_gets_the_conflict_message(store_copy):
    """Critical 5: the form carries the version it was opened with."""
    store = _store(store_copy)
    target = store.signs().query("statut == 'demandé'").iloc[0]["sign_id"]
    at = open_sign(login(page(EDITORS)), target)
    # bob changes the sign while alice's form is open
    store.update(target, {"notes": "bob est passé"}, store.get(target)["version"], "bob")
    at.run()  # any rerun (a filter, a click) must not refresh the opened version
    [s for s in at.selectbox if s.label == "Nouveau statut"][0].set_value("conçu")
    button(at, "Enregistrer").click().run()
    assert any("modifié par bob" in e.value and "notes" in e.value for e in at.error)
    now = store.get(target)
    assert now["statut"] == "demandé" and now["notes"] == "bob est passé"
    assert store.history().iloc[0]["qui"] == "bob"
    # reloading gives the current version; the change then goes through
    button(at, "Recharger le panneau").click().run()
    [s for s in at.selectbox if s.label == "Nouveau statut"][0].set_value("conçu")
    button(at, "Enregistrer").click().run()
    assert store.get(target)["statut"] == "conçu"


def test_editor_deletes_a_sign_and_undoes_it(store_copy):
    """Critical 7: deletion exists, is traced and undoable from the page."""
    store = _store(store_copy)
    n = len(store.signs())
    target = store.signs().iloc[3]["sign_id"]
    at = open_sign(login(page(EDITORS)), target)
    assert button(at, "Supprimer").disabled
    [c for c in at.checkbox if c.label.startswith("Je confirme")][0].check().run()
    button(at, "Supprimer").click().run()
    assert not at.exception
    assert len(store.signs()) == n - 1
    assert any(f"Panneau {target} supprimé" in s.value for s in at.success)
    entry = int(store.history().iloc[0]["id"])
    [s for s in at.selectbox if s.label == "Modification"][0].set_value(entry)
    button(at, "Annuler cette modification").click().run()
    assert len(store.signs()) == n and store.get(target)["sign_id"] == target


def test_undo_refused_in_the_page_when_someone_changed_it_since(store_copy):
    """Critical 6 through the page: a clear message, nothing written."""
    store = _store(store_copy)
    target = store.signs().iloc[4]["sign_id"]
    store.update(target, {"notes": "alice"}, 1, "alice")
    store.update(target, {"notes": "bob"}, 2, "bob")
    alice = int(store.history().query("qui == 'alice'").iloc[0]["id"])
    at = login(page(EDITORS))
    [s for s in at.selectbox if s.label == "Modification"][0].set_value(alice)
    button(at, "Annuler cette modification").click().run()
    assert any("modifié depuis par bob" in e.value for e in at.error)
    assert store.get(target)["notes"] == "bob"


def test_login_locks_after_repeated_failures(store_copy):
    """Medium: 5 wrong passwords lock the name, even a new session, even the right password."""
    at = page(EDITORS)
    for _ in range(5):
        login(at, "alice", "mauvais-mot-de-passe")
    fresh = login(page(EDITORS))  # another session (a new tab) is locked too
    assert any("Trop d'essais" in e.value for e in fresh.error)
    assert not [s for s in fresh.subheader if s.value.startswith("Modifier")]


def test_malformed_editor_configuration_disables_editing_only(store_copy):
    """Low: `editeurs = "alice"` in secrets no longer breaks the page for everyone."""
    at = page({"editeurs": "alice"})
    assert not at.exception, at.exception
    assert any("configuration à corriger" in c.value for c in at.sidebar.caption)


def test_oidc_accounts_need_the_allow_list():
    from layers.auth import allowed_oidc_editor

    allowed = ["Alice@PMA.fr"]
    assert allowed_oidc_editor("alice@pma.fr", allowed)
    assert not allowed_oidc_editor("mallory@gmail.com", allowed)
    assert not allowed_oidc_editor("alice@pma.fr", None)
    assert not allowed_oidc_editor("alice@pma.fr", "alice@pma.fr")  # wrong type: nobody


# --- imports as users make them (issue 11) ------------------------------------------------


@pytest.fixture
def gpkg_store(tmp_path, sample):
    from layers.signage_store import create_geopackage

    path = tmp_path / "inventaire.gpkg"
    create_geopackage(path, sample.head(5))
    return path


def _csv_rows(sample, n=3, **overrides):
    rows = (
        sample.iloc[10 : 10 + n]
        .drop(columns=["geometry", "sign_id"])
        .assign(lon=sample.iloc[10 : 10 + n].geometry.x, lat=sample.iloc[10 : 10 + n].geometry.y)
    )
    for key, value in overrides.items():
        rows[key] = rows[key].astype(object)
        rows.iloc[-1, rows.columns.get_loc(key)] = value
    return rows


def test_excel_csv_with_bom_and_french_decimals_imports(tmp_path, sample, gpkg_store, capsys):
    from layers.cli import main
    from layers.signage_store import open_store
    from layers.territory import load_territory

    rows = _csv_rows(sample, cout_ht="1 234,50")
    csv = tmp_path / "excel.csv"
    rows.to_csv(csv, sep=";", index=False, encoding="utf-8-sig")  # Excel « CSV UTF-8 »
    assert main(["signs", "import", str(csv), "--target", str(gpkg_store)]) == 0
    assert "3 panneau(x) ajouté(s)" in capsys.readouterr().out
    store = open_store(gpkg_store, load_territory(GEODATA))
    assert (store.signs()["cout_ht"] == 1234.5).sum() == 1
    assert main(["signs", "import", str(csv), "--target", str(gpkg_store)]) == 0
    assert "0 panneau(x) ajouté(s), 0 mis à jour, 3 déjà présent(s)" in capsys.readouterr().out
    assert len(store.signs()) == 8


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cout_ht", "abc", "ligne 4 : cout_ht : nombre illisible « abc »"),
        ("annee", "deux mille", "ligne 4 : annee : année illisible"),
        ("annee", "2024.5", "ligne 4 : annee : année illisible"),
        ("cout_ht", "inf", "ligne 4 : cout_ht : nombre illisible"),
        ("cofinancement_region", "-3", "ligne 4 : cofinancement régional négatif"),
        ("notes", "z" * 5_000, "ligne 4 : notes : texte trop long"),
        ("notes", "z" * 5_000_000, "texte trop long"),
    ],
)
def test_garbage_in_a_csv_is_refused_with_its_line(
    tmp_path, sample, gpkg_store, capsys, field, value, message
):
    from layers.cli import main

    csv = tmp_path / "inventaire.csv"
    _csv_rows(sample, **{field: value}).to_csv(csv, sep=";", index=False)
    before = gpkg_store.read_bytes()
    assert main(["signs", "import", str(csv), "--target", str(gpkg_store)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "rien n'a été modifié" in err
    assert gpkg_store.read_bytes() == before


def test_geopackage_with_typed_dates_imports(tmp_path, sample, gpkg_store, territory):
    """Issue 11: typed date columns (NaT, Timestamp) could not be imported."""
    import pandas as pd

    from layers.signage_setup import import_file
    from layers.signage_store import open_store

    rows = sample.iloc[20:24].drop(columns="sign_id").copy()
    for col in ("date_demande", "date_conception", "date_fabrication", "date_pose"):
        rows[col] = pd.to_datetime(rows[col])  # NaT where empty
    rows["date_reprise"] = pd.to_datetime(rows["date_reprise"])
    path = tmp_path / "typed.gpkg"
    rows.to_file(path, layer="panneaux", driver="GPKG")
    report = import_file(path, str(gpkg_store), GEODATA, "import")
    assert report.added == 4
    stored = open_store(gpkg_store, territory).signs().tail(4)
    assert stored["date_demande"].str.match(r"^\d{4}-\d{2}-\d{2}$").all()


def test_cli_signs_default_to_the_configured_store(tmp_path, sample, monkeypatch, capsys):
    """`signs import` without --target writes where the app reads (ATLAS_SIGNALETIQUE)."""
    from layers.cli import main
    from layers.signage_store import create_geopackage

    target = tmp_path / "configuree.gpkg"
    create_geopackage(target, sample.head(2))
    monkeypatch.setenv("ATLAS_SIGNALETIQUE", str(target))
    csv = tmp_path / "a.csv"
    _csv_rows(sample).to_csv(csv, sep=";", index=False)
    assert main(["signs", "import", str(csv)]) == 0
    assert str(target) in capsys.readouterr().out
    assert main(["signs", "init"]) == 1  # refuses to replace it
    assert "--force" in capsys.readouterr().err


@pytest.mark.postgis
def test_cli_postgis_init_twice_refused_and_dsn_masked(sample, capsys, monkeypatch):
    import os

    from layers.cli import main

    dsn = os.environ.get("ATLAS_TEST_POSTGIS_DSN") or pytest.fail("PostGIS absent")
    user, rest = dsn.split("://", 1)[1].split("@", 1)
    with_password = f"postgresql://{user}:motdepasse-secret@{rest}"
    assert main(["signs", "init", "--target", with_password, "--force"]) == 0
    out = capsys.readouterr().out
    assert "motdepasse-secret" not in out and "***" in out
    assert main(["signs", "init", "--target", with_password]) == 1
    err = capsys.readouterr().err
    assert "existe déjà" in err and "motdepasse-secret" not in err


@pytest.mark.apptest
def test_readers_see_no_server_path_or_error_details(tmp_path, monkeypatch):
    """Issue 11, low: absolute paths and database details reached readers."""
    import tomllib

    corrupt = tmp_path / "secret-dir" / "signaletique.gpkg"
    corrupt.parent.mkdir()
    corrupt.write_bytes(b"ceci n'est pas une base" * 50)
    monkeypatch.setenv("ATLAS_SIGNALETIQUE", str(corrupt))
    at = page()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "indisponible" in shown and "secret-dir" not in shown and str(tmp_path) not in shown
    monkeypatch.setenv("ATLAS_SIGNALETIQUE", "postgresql://dbuser:pw@127.0.0.1:1/basename")
    at = page()
    shown = " ".join(e.value for e in at.error)
    assert "indisponible" in shown
    assert not any(leak in shown for leak in ("dbuser", "127.0.0.1", "basename"))
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"  # no traceback in a browser


def test_the_page_and_the_council_pdf_use_one_palette_for_costs(sample, planning, territory):
    """Issue 30: the page's cost chart (Vega's blue and orange) and the council PDF (grey and
    green) told cost and Région apart with different colours."""
    import io

    from pypdf import PdfReader

    from layers import charts
    from layers.signage import COST_COLORS, costs_by_year
    from layers.signage_report import council_pdf
    from layers.web_tiles import hex_rgb

    chart = charts.grouped_bars(costs_by_year(sample), "Année", "Coûts", "€ HT", COST_COLORS)
    scale = chart.to_dict()["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == COST_COLORS
    pdf = council_pdf(council_report(sample, planning, territory))
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()
    for color in COST_COLORS.values():
        fill = " ".join(f"{c / 255:.4f}" for c in hex_rgb(color))  # fpdf2's fill colour
        assert f"{fill} rg".encode() in content, (color, fill)


def test_short_category_labels_are_written_level():
    """Issue 30: the EPCI names under the signage bars were turned 90°."""
    import pandas as pd

    from layers import charts

    epci = pd.DataFrame({"EPCI": ["CALL", "CAHC", "CABBALR"], "% posés": [40.0, 55.0, 30.0]})
    axis = charts.bar(epci, "EPCI", "% posés", "Part").to_dict()["encoding"]["x"]["axis"]
    assert axis["labelAngle"] == 0
    long = pd.DataFrame({"Commune": ["Hénin-Beaumont-sur-Deûle"], "v": [1.0]})
    axis = charts.bar(long, "Commune", "v", "x").to_dict()["encoding"]["x"]["axis"]
    assert -90 < axis["labelAngle"] < 0
