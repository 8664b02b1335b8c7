"""Issue 21, signage: what editors and readers hit (each test failed before its fix)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from layers.auth import LoginGuard, hash_password
from layers.signage import NO_PARK, SignFilter, apply_filter, park_choices, status_change
from layers.signage_store import (
    ConflictError,
    DeletedError,
    UndoError,
    create_geopackage,
    open_store,
)
from tests.helpers import switch_to

ROOT = Path(__file__).resolve().parents[1]
EDITORS = {"editeurs": {"alice": hash_password("mot-de-passe-solide")}}


@pytest.fixture
def gpkg(tmp_path, signs_sample, territory):
    path = tmp_path / "signaletique.gpkg"
    create_geopackage(path, signs_sample.head(12).copy())
    return open_store(path, territory)


# --- the store ---------------------------------------------------------------------------


def test_saving_a_sign_deleted_since_names_who_deleted_it(gpkg):
    sid = gpkg.signs().iloc[1]["sign_id"]
    gpkg.delete(sid, 1, "bob")
    with pytest.raises(DeletedError, match=f"{sid} a été supprimé par bob le"):
        gpkg.update(sid, {"notes": "alice"}, 1, "alice")
    with pytest.raises(KeyError):  # still a KeyError for callers that only know that
        gpkg.update(sid, {"notes": "alice"}, 1, "alice")
    with pytest.raises(KeyError) as never:  # never existed: a plain KeyError
        gpkg.update("S9999", {"notes": "x"}, 1, "alice")
    assert not isinstance(never.value, DeletedError)


def test_undoing_a_deletion_increases_the_version(gpkg):
    sid = gpkg.signs().iloc[2]["sign_id"]
    gpkg.delete(sid, 1, "bob")
    gpkg.undo(int(gpkg.history().iloc[0]["id"]), "bob")
    assert gpkg.get(sid)["version"] == 2
    with pytest.raises(ConflictError):  # alice's form, open before the deletion, is stale
        gpkg.update(sid, {"notes": "vieux formulaire"}, 1, "alice")


def test_ids_are_never_reused_after_a_deletion(gpkg, signs_sample):
    last = sorted(gpkg.signs()["sign_id"])[-1]
    gpkg.delete(last, 1, "bob")
    deletion = int(gpkg.history().iloc[0]["id"])
    new_id = gpkg.add(signs_sample.iloc[0].to_dict(), "alice")
    assert new_id != last and int(new_id[1:]) == int(last[1:]) + 1
    gpkg.undo(deletion, "bob")  # the old deletion can still be undone
    assert gpkg.get(last)["sign_id"] == last and gpkg.get(new_id)


def test_two_undos_of_one_deletion_restore_it_once(gpkg):
    sid = gpkg.signs().iloc[3]["sign_id"]
    gpkg.delete(sid, 1, "bob")
    entry = int(gpkg.history().iloc[0]["id"])
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def run():
        barrier.wait()
        try:
            gpkg.undo(entry, "alice")
        except UndoError as err:
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (gpkg.signs()["sign_id"] == sid).sum() == 1
    assert len(errors) == 3


def test_the_store_refuses_two_rows_with_one_id(gpkg):
    import sqlite3

    con = sqlite3.connect(gpkg.path)
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO panneaux (sign_id, geom) SELECT sign_id, geom FROM panneaux")
    con.close()


def test_a_comment_only_save_keeps_the_step_date():
    sign = {"statut": "posé", "date_pose": "2025-07-16", "notes": ""}
    changes = status_change(sign, "posé", None, "lame décollée")
    assert "date_pose" not in changes and "statut" not in changes
    assert changes["notes"].endswith("lame décollée")
    changes = status_change(sign, "à reprendre", None, "")
    assert changes["statut"] == "à reprendre" and changes["date_reprise"]


def test_parallel_wrong_logins_get_at_most_the_limit_of_checks(monkeypatch):
    import layers.auth as auth

    checks = []
    slow = threading.Event()

    def counting(password, stored):
        checks.append(1)
        slow.wait(0.05)
        return False

    monkeypatch.setattr(auth, "verify_password", counting)
    guard = LoginGuard(max_failures=5)
    barrier = threading.Barrier(16)
    results = []

    def run():
        barrier.wait()
        results.append(guard.attempt({"alice": "x"}, "alice", "faux"))

    threads = [threading.Thread(target=run) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checks) == 5
    locked = [m for ok, m in results if m and "bloqué 15 minutes" in m]
    assert len(locked) == 11 and "administrateur" in locked[0]


def test_signs_without_a_park_are_filterable_as_sans_parc(signs_sample):
    signs = signs_sample.head(6).copy()
    signs.loc[signs.index[:2], ["parc_id", "parc_nom"]] = None
    choices = park_choices(signs)
    assert choices[-1] == "" and all(isinstance(c, str) for c in choices)
    assert len(apply_filter(signs, SignFilter(parks=("",)))) == 2
    from layers.signage import park_label

    assert list(park_label(signs))[:2] == [NO_PARK, NO_PARK]


# --- the page ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_login_guard():
    from pages.ui import editors

    editors.login_guard.clear()
    yield
    editors.login_guard.clear()


def _page(secrets=None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    at.run()
    switch_to(at, "pages/signaletique.py").run()
    return at


def _login(at):
    at.sidebar.text_input[0].input("alice")
    at.sidebar.text_input[1].input("mot-de-passe-solide")
    [b for b in at.sidebar.button if b.label == "Se connecter"][0].click().run()
    return at


def _button(at, label):
    return [b for b in at.button if b.label == label][0]


def _status_box(at):
    return [s for s in at.selectbox if s.label == "Nouveau statut"][0]


@pytest.mark.apptest
def test_the_page_survives_signs_without_a_park(store_copy, territory):
    store = open_store(store_copy, territory)
    sid = store.signs().iloc[0]["sign_id"]
    store.update(sid, {"parc_id": None, "parc_nom": None}, 1, "import")
    at = _page()
    assert not at.exception, at.exception
    parks = [m for m in at.multiselect if m.label == "Parc"][0]
    assert "" in parks.options or NO_PARK in parks.options
    table = [d for d in at.dataframe if "Panneau" in d.value.columns][-1].value
    assert NO_PARK in set(table["Parc"])


@pytest.mark.apptest
def test_saving_a_sign_another_editor_deleted_never_writes_another_sign(store_copy, territory):
    store = open_store(store_copy, territory)
    ids = list(store.signs()["sign_id"])
    first, target = ids[0], ids[1]
    before_first = store.get(first)
    at = _login(_page(EDITORS))
    at.selectbox(key="sig_panneau_un").set_value(target).run()
    _status_box(at).set_value("à reprendre")
    store.delete(target, store.get(target)["version"], "bob")  # bob, meanwhile
    _button(at, "Enregistrer").click().run()
    assert any(f"{target} a été supprimé par bob" in e.value for e in at.error)
    assert store.get(first) == before_first
    assert not any("enregistré" in s.value for s in at.success)


@pytest.mark.apptest
def test_a_comment_does_not_follow_to_the_next_sign(store_copy, territory):
    store = open_store(store_copy, territory)
    posed = store.signs().query("statut == 'posé'")
    a, b = posed.iloc[0]["sign_id"], posed.iloc[1]["sign_id"]
    date_a = store.get(a)["date_pose"]
    at = _login(_page(EDITORS))
    at.selectbox(key="sig_panneau_un").set_value(a).run()
    [t for t in at.text_input if t.label == "Commentaire"][0].input("lame décollée")
    _button(at, "Enregistrer").click().run()
    assert "lame décollée" in store.get(a)["notes"]
    assert store.get(a)["date_pose"] == date_a  # a comment-only save keeps the date
    at.selectbox(key="sig_panneau_un").set_value(b).run()
    assert [t for t in at.text_input if t.label == "Commentaire"][0].value == ""
    _button(at, "Enregistrer").click().run()
    assert "lame décollée" not in (store.get(b)["notes"] or "")


@pytest.mark.apptest
def test_readers_never_see_editor_columns(store_copy, territory):
    store = open_store(store_copy, territory)
    sid = store.signs().iloc[0]["sign_id"]
    store.update(sid, {"notes": "note interne"}, 1, "alice")
    at = _page()
    table = [d for d in at.dataframe if "Panneau" in d.value.columns][-1].value
    assert not {"Modifié par", "Notes des éditeurs", "modifie_par", "notes"} & set(table.columns)
    assert "sign_id" not in table.columns  # French headers
    from layers.downloads import DOWNLOADS

    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    token = links["Tableau (CSV)"].split("/")[-2]
    _recipe, body = DOWNLOADS.fetch(token)
    text = body.decode("utf-8-sig")
    assert "alice" not in text and "note interne" not in text
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert rows and all("," not in r["Année"] and " " not in r["Année"] for r in rows)


def test_download_tokens_cannot_be_computed_from_public_inputs():
    import hashlib

    from layers.downloads import Downloads

    key = ("signaletique.csv", "tout le PMA")
    one, two = Downloads(), Downloads()
    token = one.register(key, "a.csv", "text/csv", lambda: b"")
    assert token == one.register(key, "a.csv", "text/csv", lambda: b"")  # stable in a process
    assert token != two.register(key, "a.csv", "text/csv", lambda: b"")
    assert token != hashlib.sha256(repr(key).encode()).hexdigest()[:32]


def test_an_editors_file_needs_the_editors_session():
    """Issue 30: an editor's download link (logins, notes) worked without any session."""
    from layers.downloads import Downloads, SessionRequired

    files = Downloads()
    built = []
    token = files.register(("csv", "alice"), "a.csv", "text/csv", lambda: built.append(1) or b"x",
                           session="secret-alice")  # fmt: skip
    for cookie in (None, "", "secret-bob"):
        with pytest.raises(SessionRequired):
            files.fetch(token, session=cookie)
    assert built == []  # nothing built for a refused request
    _recipe, body = files.fetch(token, session="secret-alice")
    assert body == b"x"
    files.revoke("secret-alice")  # logout
    with pytest.raises(SessionRequired):
        files.fetch(token, session="secret-alice")
    reader = files.register(("csv", "lecteur"), "b.csv", "text/csv", lambda: b"y")
    assert files.fetch(reader)[1] == b"y"  # a reader's file needs no session


def test_the_route_refuses_an_editors_file_without_the_session_cookie():
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from layers.downloads import DOWNLOADS, EDITOR_COOKIE
    from layers.routes import routes

    token = DOWNLOADS.register(("test", "notes"), "n.csv", "text/csv", lambda: b"notes",
                               session="s3cret")  # fmt: skip
    client = TestClient(Starlette(routes=routes()))
    refused = client.get(f"/api/fichiers/{token}/n.csv")
    assert refused.status_code == 403 and "session d'éditeur" in refused.text
    assert "notes" not in refused.text
    client.cookies.set(EDITOR_COOKIE, "s3cret")
    assert client.get(f"/api/fichiers/{token}/n.csv").content == b"notes"


def test_the_cost_message_is_written_the_french_way(territory, signs_sample):
    from layers.signage import validate

    sign = signs_sample.iloc[0].to_dict()
    sign["cout_ht"] = 5e9
    message = " ".join(validate(sign, territory))
    assert "0 – 1\u202f000\u202f000 €" in message and "1,000,000" not in message
    assert "5\u202f000\u202f000\u202f000 €" in message
