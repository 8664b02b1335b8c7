"""The store's manifest, typed and read in one place (issue 29).

``data/manifeste-v1.json`` is the manifest a build wrote before issue 29 (the 4-tile
fictional territory, commit ab8a429): ``tuiles``, the parameters and the climate under the
engine's English keys, neighbours named ``684_7042``. Stores like it must still open, and a
build must not recompute them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from layers.cli import main
from layers.solar.store import MANIFEST_VERSION, Manifest, Reader, StoreLayout
from tests.solar.helpers import EPW

V1 = Path(__file__).parent / "data" / "manifeste-v1.json"
# the version 1 layout, spelled here (not taken from the code under test)
V1_PARAMETERS = {
    "n_sectors": "secteurs",
    "max_distance": "distance_ombre_m",
    "model": "modele_ciel",
    "albedo": "albedo",
    "margin": "marge_m",
    "ground": "sol",
}
V1_CLIMATE = {"name": "nom", "period": "periode", "altitude": "altitude_m", "hours": "heures"}


def test_a_version_1_manifest_is_read_in_the_current_language():
    old = json.loads(V1.read_text(encoding="utf-8"))
    manifest = Manifest.read(V1)
    assert sorted(manifest.dalles) == sorted(old["tuiles"])
    record = manifest.dalles["0684_7041"]
    was = old["tuiles"]["0684_7041"]
    assert record.entrees.parametres == {
        V1_PARAMETERS[k]: v for k, v in was["entrees"]["parametres"].items()
    }
    # neighbours named as the store names tiles, with their checksums unchanged
    assert record.entrees.voisins["0684_7042"] == was["entrees"]["voisins"]["684_7042"]
    assert all(len(name) == 9 for name in record.entrees.voisins)
    assert record.voisins_absents == [
        f"{int(x):04d}_{int(y):04d}" for x, y in (n.split("_") for n in was["voisins_absents"])
    ]
    assert record.duree_s == was["duree_s"] and record.calcule_par == was["calcule_par"]
    assert manifest.climat["nom"] == old["climat"]["name"]
    assert manifest.climat["periode"] == old["climat"]["period"]
    assert "name" not in manifest.climat and "n_sectors" not in manifest.parametres
    assert manifest.termine is True and manifest.synthetique is True
    assert manifest.dernier_calcul == old["dernier_calcul"]


def test_the_manifest_is_written_in_one_language_and_read_back_unchanged(tmp_path):
    manifest = Manifest.read(V1)
    path = tmp_path / "manifest.json"
    manifest.write(path)
    text = json.loads(path.read_text(encoding="utf-8"))
    assert text["version"] == MANIFEST_VERSION and "tuiles" not in text and "dalles" in text
    english = set(V1_PARAMETERS) - {"albedo"} | set(V1_CLIMATE)

    def keys(value) -> set[str]:
        if isinstance(value, dict):
            return set(value) | {k for v in value.values() for k in keys(v)}
        return set()

    assert not keys(text) & english
    assert Manifest.read(path) == manifest
    assert not list(tmp_path.glob("*.tmp"))  # written aside, then renamed


@pytest.mark.parametrize("broken", [[], {"dalles": []}, "texte"])
def test_a_malformed_manifest_is_refused(broken):
    with pytest.raises(ValueError):
        Manifest.from_json(broken)


def test_an_unreadable_tile_record_is_left_out_so_the_tile_is_recomputed():
    data = json.loads(V1.read_text(encoding="utf-8"))
    data["tuiles"]["0684_7041"]["entrees"] = "abîmé"
    manifest = Manifest.from_json(data)
    assert "0684_7041" not in manifest.dalles and len(manifest.dalles) == 3


def _as_version_1(path: Path) -> None:
    """Rewrite a store's manifest as a build before issue 29 wrote it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    back = {v: k for k, v in V1_PARAMETERS.items()}
    back_climate = {v: k for k, v in V1_CLIMATE.items()}

    def short(name: str) -> str:
        x, y = name.split("_")
        return f"{int(x)}_{int(y)}"

    for record in data["dalles"].values():
        record["entrees"]["parametres"] = {
            back[k]: v for k, v in record["entrees"]["parametres"].items()
        }
        record["entrees"]["voisins"] = {
            short(k): v for k, v in record["entrees"]["voisins"].items()
        }
        record["voisins_absents"] = [short(n) for n in record["voisins_absents"]]
    data["tuiles"] = data.pop("dalles")
    data["parametres"] = {back[k]: v for k, v in data["parametres"].items()}
    data["climat"] = {back_climate.get(k, k): v for k, v in data["climat"].items()}
    data.pop("version", None)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def test_a_store_written_before_opens_and_is_not_recomputed(demo_store, tmp_path, capsys):
    store = tmp_path / "magasin"
    shutil.copytree(demo_store, store)
    _as_version_1(StoreLayout(store).manifest)
    reader = Reader.open(store)
    assert reader is not None and reader.tiles == [
        "0684_7041",
        "0684_7042",
        "0685_7041",
        "0685_7042",
    ]
    assert reader.climate["nom"].startswith("Uccle")
    inputs = demo_store.parent / "cadastre-demo-entrees"
    args = ["solar", "build", "--lidar", str(inputs / "lidar"), "--buildings",
            str(inputs / "batiment.gpkg"), "--addresses", str(inputs / "adresses-62.csv"),
            "--weather", str(EPW), "--out", str(store), "--quiet"]  # fmt: skip
    before = StoreLayout(store).cog(reader.tiles[0]).stat().st_mtime_ns
    assert main(args) == 0
    assert "Dalles calculées : 0 (aucune) ; à jour : 4." in capsys.readouterr().out
    assert StoreLayout(store).cog(reader.tiles[0]).stat().st_mtime_ns == before
    text = json.loads(StoreLayout(store).manifest.read_text(encoding="utf-8"))
    assert text["version"] == MANIFEST_VERSION and "tuiles" not in text


def test_every_key_of_the_manifest_is_documented():
    """Issue 29: the manifest is documented like the roof columns, every key."""
    import inspect
    from dataclasses import fields

    from layers.solar.store import TileInputs, TileRecord

    for kind in (Manifest, TileRecord, TileInputs):
        doc = inspect.getdoc(kind) or ""
        section = doc.split("Attributes\n----------\n", 1)[-1]
        named = {
            n.strip() for line in section.splitlines() if line and not line.startswith(" ")
            for n in line.split(",")
        }  # fmt: skip
        assert {f.name for f in fields(kind)} <= named, kind.__name__
