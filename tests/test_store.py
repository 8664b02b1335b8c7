"""The signage store, one suite for every backend (GeoPackage and PostGIS).

The PostGIS run needs ``ATLAS_TEST_POSTGIS_DSN`` (``make test`` starts a server and sets
it); without it the PostGIS tests fail — they never skip silently.
"""

from __future__ import annotations

import os
import threading

import pytest
from shapely.geometry import Point

from layers.signage import SignValidationError, generate_sample
from layers.store import (
    ConflictError,
    StoreError,
    create_geopackage,
    create_postgis,
    gpkg_blob,
    gpkg_point,
    open_store,
)
from tests.conftest import GEODATA

DSN_ENV = "ATLAS_TEST_POSTGIS_DSN"


@pytest.fixture(scope="module")
def sample(territory):
    from layers.parks import load_planning

    planning = load_planning(GEODATA, territory)
    return generate_sample(planning.parks, planning.links).head(12)


@pytest.fixture(params=["geopackage", "postgis"])
def store(request, tmp_path, sample, territory):
    if request.param == "geopackage":
        path = tmp_path / "signaletique.gpkg"
        create_geopackage(path, sample)
        return open_store(path, territory)
    dsn = os.environ.get(DSN_ENV)
    if not dsn:
        pytest.fail(f"{DSN_ENV} absent : lancez la suite avec `make test` (PostGIS démarré)")
    create_postgis(dsn, sample)
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
    with pytest.raises(ConflictError, match="modifié par alice"):
        store.update(sid, {"notes": "seconde"}, opened, "bob")
    assert store.get(sid)["notes"] == "première"


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
    bad = sample.head(3).copy()
    bad.loc[bad.index[2], "statut"] = "inconnu"
    with pytest.raises(StoreError, match="ligne 3"):
        store.import_signs(bad, "alice")
    assert len(store.signs()) == len(sample) + 1
    assert store.import_signs(sample.head(2), "alice") == 2
    assert len(store.signs()) == len(sample) + 3


def test_history_is_append_only(store, sample):
    sid = sample["sign_id"].iloc[4]
    store.update(sid, {"notes": "x"}, 1, "alice")
    with pytest.raises(Exception, match="ajout seul"):
        with store._tx() as cur:
            cur.execute("DELETE FROM historique")
    assert len(store.history()) == 1


def test_gpkg_blob_roundtrip():
    p = Point(2.83, 50.43)
    assert gpkg_point(gpkg_blob(p)).equals(p)


def test_missing_gpkg(tmp_path, territory):
    with pytest.raises(StoreError, match="introuvable"):
        open_store(tmp_path / "nope.gpkg", territory)


def test_unreachable_postgis(territory):
    store = open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", territory)
    with pytest.raises(StoreError, match="injoignable"):
        store.signs()


def test_two_editors_adding_at_once_get_distinct_ids(store, sample):
    new = sample.iloc[0].to_dict()
    ids, errors = [], []

    def add(user):
        try:
            ids.append(store.add({**new, "notes": user}, user))
        except Exception as err:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(err)

    threads = [threading.Thread(target=add, args=(u,)) for u in ("alice", "bob", "carole")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 3
    assert len(store.signs()) == len(sample) + 3
