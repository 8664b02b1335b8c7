"""The signage store, one suite for every backend (GeoPackage and PostGIS).

The PostGIS run needs ``ATLAS_TEST_POSTGIS_DSN`` (``make test`` starts a server and sets
it); without it the PostGIS tests fail — they never skip silently.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from shapely.geometry import Point

from layers.formatting import fmt_when
from layers.signage import SignValidationError
from layers.signage_store import (
    ConflictError,
    StoreError,
    UndoError,
    create_geopackage,
    create_postgis,
    gpkg_blob,
    gpkg_point,
    mask_dsn,
    open_store,
)

DSN_ENV = "ATLAS_TEST_POSTGIS_DSN"


@pytest.fixture(scope="module")
def sample(signs_sample):
    return signs_sample.head(12).copy()


@pytest.fixture(params=["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request, tmp_path, sample, territory):
    if request.param == "geopackage":
        path = tmp_path / "signaletique.gpkg"
        create_geopackage(path, sample)
        return open_store(path, territory)
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        pytest.fail(f"{DSN_ENV} absent : lancez la suite avec `make test` (PostGIS démarré)")
    create_postgis(dsn, sample, force=True)
    return open_store(dsn, territory)


def test_roundtrip(store, sample):
    signs = store.signs()
    assert len(signs) == len(sample) and signs.crs.to_epsg() == 4326
    first = store.get(sample["sign_id"].iloc[0])
    assert first["version"] == 1
    assert first["geometry"].equals_exact(sample.geometry.iloc[0], 1e-9)
    assert first["qualite"].startswith("synthétique")


def test_update_history_and_undo(store, sample):
    sid = sample["sign_id"].iloc[0]
    before = store.get(sid)
    v2 = store.update(
        sid,
        {"statut": "à reprendre", "date_reprise": "2025-03-01", "notes": "panneau tagué"},
        before["version"],
        "alice",
    )
    assert v2 == 2
    after = store.get(sid)
    assert after["statut"] == "à reprendre" and after["modifie_par"] == "alice"
    hist = store.history()
    assert hist.iloc[0]["qui"] == "alice" and hist.iloc[0]["avant"]["statut"] == before["statut"]
    assert hist.iloc[0]["apres"]["statut"] == "à reprendre"
    store.undo(int(hist.iloc[0]["id"]), "bob")
    restored = store.get(sid)
    assert restored["statut"] == before["statut"] and restored["version"] == 3
    assert len(store.history()) == 2  # the undo is itself traced


def test_concurrent_editors_do_not_overwrite_each_other(store, sample):
    sid = sample["sign_id"].iloc[1]
    opened = store.get(sid)["version"]
    store.update(sid, {"notes": "première"}, opened, "alice")
    with pytest.raises(ConflictError, match="modifié par alice") as conflict:
        store.update(sid, {"notes": "seconde"}, opened, "bob")
    assert store.get(sid)["notes"] == "première"
    # issue 30: when, as the deletion message says it (Paris time), not a raw UTC timestamp
    when = fmt_when(store.get(sid)["modifie_le"])
    assert re.search(r"le \d{2}/\d{2}/\d{4} à \d{2}:\d{2} depuis", str(conflict.value))
    assert f"le {when} depuis" in str(conflict.value) and "+00:00" not in str(conflict.value)


def test_race_between_two_threads(store, sample):
    sid = sample["sign_id"].iloc[2]
    opened = store.get(sid)["version"]
    outcomes = []

    def edit(user):
        try:
            store.update(sid, {"notes": user}, opened, user)
            outcomes.append("ok")
        except ConflictError:
            outcomes.append("conflit")

    threads = [threading.Thread(target=edit, args=(u,)) for u in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflit", "ok"]
    assert store.get(sid)["version"] == opened + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"statut": "volé"}, "statut inconnu"),
        ({"date_pose": "2999-01-01"}, "date dans le futur"),
        ({"geometry": Point(2.35, 48.86)}, "hors du PMA"),
        ({"cofinancement_region": 1e9}, "supérieur à 50 %"),
    ],
)
def test_bad_input_changes_nothing(store, sample, changes, message):
    sid = sample["sign_id"].iloc[3]
    before = store.get(sid)
    with pytest.raises(SignValidationError, match=message):
        store.update(sid, changes, before["version"], "alice")
    assert store.get(sid) == before
    assert store.history().empty


def test_unknown_field_is_refused(store, sample):
    sid = sample["sign_id"].iloc[3]
    with pytest.raises(StoreError, match="non modifiable"):
        store.update(sid, {"sign_id": "X"}, 1, "alice")


def test_add_and_import_all_or_nothing(store, sample):
    new = sample.iloc[0].to_dict()
    sid = store.add({**new, "notes": "ajouté"}, "alice")
    assert store.get(sid)["notes"] == "ajouté" and sid not in set(sample["sign_id"])
    bad = _fresh(sample.head(3))
    bad.loc[bad.index[2], "statut"] = "inconnu"
    with pytest.raises(SignValidationError, match="ligne 3"):
        store.import_signs(bad, "alice")
    assert len(store.signs()) == len(sample) + 1
    assert store.import_signs(_fresh(sample.head(2)), "alice").added == 2
    assert len(store.signs()) == len(sample) + 3


def _fresh(frame):
    """Rows of the sample as a new file would give them: no ids, moved a little."""
    out = frame.copy()
    out["sign_id"] = None
    out["geometry"] = out.geometry.translate(0.0005, 0.0005)
    return out


def test_history_is_append_only(store, sample):
    sid = sample["sign_id"].iloc[4]
    store.update(sid, {"notes": "x"}, 1, "alice")
    with pytest.raises(StoreError):
        with store._tx() as cur:
            cur.execute("DELETE FROM historique")
    assert len(store.history()) == 1


# --- issue 11: each defect as a test -----------------------------------------------------


def test_history_with_an_addition_then_a_change_reads(store, sample):
    """Critical 1: the "before" of an addition is None, never NaN (pandas 3 crash)."""
    sid = store.add({**sample.iloc[0].to_dict(), "notes": "neuf"}, "alice")
    store.update(sid, {"statut": "à reprendre", "date_reprise": "2025-01-02"}, 1, "bob")
    hist = store.history()
    assert list(hist["action"]) == ["modification", "ajout"]
    assert hist.iloc[1]["avant"] is None and hist.iloc[1]["apres"]["notes"] == "neuf"
    assert hist.iloc[0]["avant"]["statut"] == sample.iloc[0]["statut"]
    assert all(isinstance(v, dict) or v is None for v in hist["avant"])
    assert len(store.history(sign_id=sid)) == 2


def test_import_twice_changes_nothing(store, sample):
    """Critical 2: the identity rule makes a second import of the same file a no-op."""
    rows = _fresh(sample.head(5))
    first = store.import_signs(rows, "import")
    assert (first.added, first.unchanged) == (5, 0)
    n, hist = len(store.signs()), len(store.history())
    second = store.import_signs(rows, "import")
    assert (second.added, second.updated, second.unchanged) == (0, 0, 5)
    assert len(store.signs()) == n and len(store.history()) == hist


def test_import_with_ids_refuses_changed_content_unless_asked(store, sample):
    rows = sample.head(2).copy()  # same ids as stored
    rows.loc[rows.index[0], "notes"] = "corrigé"
    with pytest.raises(StoreError, match="existe déjà avec un autre contenu"):
        store.import_signs(rows, "import")
    assert store.get(rows.iloc[0]["sign_id"])["notes"] != "corrigé"
    report = store.import_signs(rows, "import", update_existing=True)
    assert (report.updated, report.unchanged) == (1, 1)
    assert store.get(rows.iloc[0]["sign_id"])["notes"] == "corrigé"
    assert store.get(rows.iloc[0]["sign_id"])["version"] == 2


def test_import_refuses_duplicate_ids(store, sample):
    rows = _fresh(sample.head(3))
    rows["sign_id"] = ["A1", "A2", "A1"]
    with pytest.raises(SignValidationError, match="ligne 3 : identifiant A1 déjà utilisé ligne 1"):
        store.import_signs(rows, "import")
    assert len(store.signs()) == len(sample)


def test_import_never_reuses_a_deleted_signs_id(store, sample):
    """Issue 30: importing a sign with a deleted one's id was accepted, and the deletion
    could then no longer be undone."""
    sid = sample["sign_id"].iloc[5]
    store.delete(sid, store.get(sid)["version"], "alice")
    rows = sample[sample["sign_id"] == sid].copy()
    n, hist = len(store.signs()), len(store.history())
    with pytest.raises(
        StoreError, match=f"ligne 1 : {sid} est l'identifiant d'un panneau supprimé"
    ):
        store.import_signs(rows, "import")
    assert len(store.signs()) == n and len(store.history()) == hist
    deletion = int(store.history(sign_id=sid).iloc[0]["id"])
    store.undo(deletion, "alice")  # still undoable
    assert store.get(sid)["statut"] == sample.iloc[5]["statut"]


def test_import_refuses_an_unknown_park(store, sample, planning):
    """Issue 30: a sign of park « P99 » was accepted; the line and the known parks are said."""
    rows = _fresh(sample.head(3))
    rows.loc[rows.index[1], "parc_id"] = "P99"
    rows.loc[rows.index[2], "parc_id"] = None  # a sign may have no park
    parks = set(planning.parks["parc_id"])
    with pytest.raises(
        SignValidationError, match="ligne 2 : parc inconnu « P99 » \\(parcs connus : P01"
    ):
        store.import_signs(rows, "import", parks=parks)
    assert len(store.signs()) == len(sample)
    rows.loc[rows.index[1], "parc_id"] = "P02"
    assert store.import_signs(rows, "import", parks=parks).added == 3


def test_import_failing_midway_leaves_nothing(store, sample, monkeypatch):
    """One transaction: a failure after the rows are written rolls all of them back."""
    rows = _fresh(sample.head(6))

    def boom(*args, **kwargs):
        raise RuntimeError("coupure")

    monkeypatch.setattr(type(store), "_log_many", boom)
    with pytest.raises(RuntimeError):
        store.import_signs(rows, "import")
    monkeypatch.undo()
    assert len(store.signs()) == len(sample) and store.history().empty


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cout_ht", float("inf"), "illisible"),
        ("cout_ht", "1e400", "illisible"),
        ("cout_ht", "abc", "illisible"),
        ("cout_ht", -10.0, "hors de la plage"),
        ("cout_ht", 5e9, "hors de la plage"),
        ("cofinancement_region", -1.0, "négatif"),
        ("annee", "deux mille", "année illisible"),
        ("annee", "2024.5", "année illisible"),
        ("annee", 1850, "hors de"),
        ("notes", "x" * 5000, "trop long"),
        ("parc_nom", "y" * 500, "trop long"),
        ("sign_id", "a b;DROP", "identifiant"),
    ],
)
def test_absurd_values_are_refused_everywhere(store, sample, field, value, message):
    """Critical 3 and low: every number (and text size) checked, in forms and imports."""
    row = _fresh(sample.head(1))
    row[field] = row[field].astype(object)
    row.loc[row.index[0], field] = value
    with pytest.raises(SignValidationError, match=message):
        store.import_signs(row, "import")
    if field != "sign_id":
        with pytest.raises(SignValidationError, match=message):
            store.add({**sample.iloc[0].to_dict(), field: value}, "alice")
        sid = sample["sign_id"].iloc[5]
        with pytest.raises(SignValidationError, match=message):
            store.update(sid, {field: value}, 1, "alice")
    assert len(store.signs()) == len(sample) and store.history().empty


def test_french_decimals_are_stored_as_numbers(store, sample):
    row = _fresh(sample.head(1))
    row["cout_ht"] = "1 234,50"
    row["cofinancement_region"] = "617,25"
    row["annee"] = "2024"
    store.import_signs(row, "import")
    added = store.signs().query("cout_ht == 1234.5")
    assert len(added) == 1 and added.iloc[0]["cofinancement_region"] == 617.25
    assert int(added.iloc[0]["annee"]) == 2024


def test_stored_non_finite_numbers_read_as_missing(store, sample):
    """Values written before validation existed (or by hand) cannot break the page."""
    sid = sample["sign_id"].iloc[0]
    with store._tx() as cur:
        cur.execute(
            f"UPDATE panneaux SET cout_ht = {store.placeholder} WHERE sign_id = "
            f"{store.placeholder}",
            (float("inf"), sid),
        )
    signs = store.signs()
    assert signs.loc[signs["sign_id"] == sid, "cout_ht"].isna().all()
    assert signs["cout_ht"].notna().sum() == len(sample) - 1


def test_undo_keeps_later_changes_by_others(store, sample):
    """Critical 6: undoing alice's status change keeps bob's later note."""
    sid = sample["sign_id"].iloc[6]
    before = store.get(sid)
    store.update(sid, {"statut": "à reprendre", "date_reprise": "2025-02-01"}, 1, "alice")
    store.update(sid, {"notes": "vu par bob"}, 2, "bob")
    alice_entry = int(store.history().query("qui == 'alice'").iloc[0]["id"])
    store.undo(alice_entry, "carole")
    now = store.get(sid)
    assert now["statut"] == before["statut"] and now["notes"] == "vu par bob"
    assert now["version"] == 4 and store.history().iloc[0]["action"] == "annulation"


def test_undo_refused_when_a_later_change_touched_the_same_field(store, sample):
    sid = sample["sign_id"].iloc[7]
    store.update(sid, {"notes": "alice"}, 1, "alice")
    store.update(sid, {"notes": "bob"}, 2, "bob")
    alice_entry = int(store.history().query("qui == 'alice'").iloc[0]["id"])
    with pytest.raises(UndoError, match="modifié depuis par bob"):
        store.undo(alice_entry, "carole")
    assert store.get(sid)["notes"] == "bob" and store.get(sid)["version"] == 3
    with pytest.raises(UndoError):  # undoing twice: the second finds nothing to undo
        latest = int(store.history().iloc[0]["id"])
        store.undo(latest, "carole")
        store.undo(latest, "carole")


def test_delete_then_undo_restores_the_sign(store, sample):
    """Critical 7: editors can delete; the deletion is traced and undoable."""
    sid = sample["sign_id"].iloc[8]
    before = store.get(sid)
    with pytest.raises(ConflictError):
        store.delete(sid, 99, "alice")
    store.delete(sid, 1, "alice")
    with pytest.raises(KeyError):
        store.get(sid)
    entry = store.history().iloc[0]
    assert entry["action"] == "suppression" and entry["apres"] is None
    store.undo(int(entry["id"]), "bob")
    back = store.get(sid)
    assert back["statut"] == before["statut"] and back["geometry"].equals_exact(
        before["geometry"], 1e-7
    )


def test_undo_an_addition_deletes_it_unless_changed(store, sample):
    sid = store.add(sample.iloc[0].to_dict(), "alice")
    added = int(store.history().iloc[0]["id"])
    store.undo(added, "alice")
    with pytest.raises(KeyError):
        store.get(sid)
    sid2 = store.add(sample.iloc[1].to_dict(), "alice")
    added2 = int(store.history().iloc[0]["id"])
    store.update(sid2, {"notes": "complété"}, 1, "bob")
    with pytest.raises(UndoError, match="bob"):
        store.undo(added2, "alice")
    assert store.get(sid2)["notes"] == "complété"


def test_conflict_message_names_the_other_change(store, sample):
    """Critical 5 (store side): a stale version gets the other editor's change."""
    sid = sample["sign_id"].iloc[9]
    store.update(sid, {"statut": "à reprendre", "date_reprise": "2025-01-01"}, 1, "bob")
    with pytest.raises(ConflictError, match=r"bob .*statut : .* → à reprendre"):
        store.update(sid, {"notes": "alice"}, 1, "alice")


def test_readers_do_not_wait_for_a_writer(tmp_path, sample, territory):
    """Medium: reads under a held write lock answer at once (WAL, deferred reads)."""
    path = tmp_path / "s.gpkg"
    create_geopackage(path, sample)
    store = open_store(path, territory)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE panneaux SET notes = 'en cours' WHERE sign_id = 'S0001'")
    try:
        start = time.monotonic()
        signs = store.signs()
        assert time.monotonic() - start < 5  # the lock wait would be 10 s
        assert len(signs) == len(sample) and (signs["notes"] != "en cours").all()
        assert len(store.history()) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()


@pytest.mark.postgis
def test_postgis_init_twice_is_refused_without_force(territory, sample):
    """Critical 4: a second init would drop the inventory and its history."""
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        pytest.fail(f"{DSN_ENV} absent")
    create_postgis(dsn, sample, force=True)
    store = open_store(dsn, territory)
    store.update(sample["sign_id"].iloc[0], {"notes": "à garder"}, 1, "alice")
    with pytest.raises(StoreError, match="existe déjà"):
        create_postgis(dsn, sample.head(3))
    assert len(store.signs()) == len(sample) and len(store.history()) == 1


def test_errors_shown_to_readers_hide_server_details(tmp_path, territory, caplog):
    """Low: no server path or database user/host/port in what a reader sees; log has it."""
    store = open_store("postgresql://secret_user:pw@127.0.0.1:1/basename", territory)
    with pytest.raises(StoreError) as err:
        store.signs()
    for leak in ("secret_user", "127.0.0.1", "basename", ":1", "pw"):
        assert leak not in str(err.value)
    assert "secret_user:***@" in caplog.text and ":pw@" not in caplog.text
    corrupt = tmp_path / "abimé.gpkg"
    corrupt.write_bytes(b"pas une base" * 100)
    with pytest.raises(StoreError) as err:
        open_store(corrupt, territory).signs()
    assert str(tmp_path) not in str(err.value)


def test_mask_dsn():
    assert mask_dsn("postgresql://u:s3cr3t@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert mask_dsn("host=h password=s3cr3t dbname=x") == "host=h password=*** dbname=x"
    assert mask_dsn("geodata/signaletique.gpkg") == "geodata/signaletique.gpkg"


def test_gpkg_blob_roundtrip():
    p = Point(2.83, 50.43)
    assert gpkg_point(gpkg_blob(p)).equals(p)


def test_missing_gpkg(tmp_path, territory):
    with pytest.raises(StoreError, match="introuvable"):
        open_store(tmp_path / "nope.gpkg", territory)


def test_unreachable_postgis(territory):
    store = open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", territory)
    with pytest.raises(StoreError, match="indisponible"):
        store.signs()


def test_two_editors_adding_at_once_get_distinct_ids(store, sample):
    new = sample.iloc[0].to_dict()
    ids, errors = [], []

    def add(user):
        try:
            ids.append(store.add({**new, "notes": user}, user))
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=add, args=(u,)) for u in ("alice", "bob", "carole")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 3
    assert len(store.signs()) == len(sample) + 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "backend", ["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)]
)
def test_sigkill_during_import_leaves_nothing(tmp_path, sample, territory, backend):
    """Critical 2: SIGKILL in the middle of a 30 000-row import: no row, no history."""
    import signal
    import subprocess
    import sys

    from layers.signage_setup import read_import, write_example_csv
    from tests.helpers import ROOT

    csv = tmp_path / "inventaire.csv"
    write_example_csv(csv, 30_000, territory)
    if backend == "geopackage":
        target = str(tmp_path / "s.gpkg")
        create_geopackage(Path(target), sample)
    else:
        target = os.environ.get(DSN_ENV) or pytest.fail(f"{DSN_ENV} absent")
        create_postgis(target, sample, force=True)
    store = open_store(target, territory)

    def writing() -> bool:
        if backend == "geopackage":
            wal = Path(f"{target}-wal")
            return wal.exists() and wal.stat().st_size > 2_000_000
        import psycopg

        with psycopg.connect(target) as con:
            return bool(
                con.execute(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = 'panneaux' AND l.mode = 'ShareRowExclusiveLock'"
                ).fetchone()[0]
            )

    proc = subprocess.Popen(
        [sys.executable, "-m", "layers.cli", "signs", "import", str(csv), "--target", target],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not writing() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL, "import finished before the kill"
    assert len(store.signs()) == len(sample)
    assert store.history().empty
    # and the same import, run to its end, adds every row
    assert store.import_signs(read_import(csv), "x").added == 30_000
