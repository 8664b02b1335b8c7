"""``pma-atlas data check``: a table, exit code ≠ 0 on any problem, nothing modified."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import geopandas as gpd
from shapely.geometry import Polygon

from layers.catalog import load_catalog, write_layer
from layers.cli import main
from tests.helpers import GEODATA


def _digest(folder):
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir() if p.is_file()
    }


def test_check_shipped_geodata(capsys):
    assert main(["data", "check", "--geodata", str(GEODATA)]) == 0
    out = capsys.readouterr().out
    for layer in ("communes", "epci", "mairies"):
        assert layer in out
    assert "aucune erreur" in out and "ERREUR" not in out


def test_console_script_is_installed(tmp_path):
    exe = shutil.which("pma-atlas") or str(
        __import__("pathlib").Path(sys.executable).with_name("pma-atlas")
    )
    proc = subprocess.run(
        [exe, "data", "check", "--geodata", str(GEODATA)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "aucune erreur" in proc.stdout


def test_invalid_geometry_is_reported(geodata_copy, capsys):
    info = load_catalog(geodata_copy)["communes"]
    communes = gpd.read_file(geodata_copy / info.file, layer=info.layer)
    bowtie = Polygon([(2.8, 50.4), (2.9, 50.5), (2.9, 50.4), (2.8, 50.5), (2.8, 50.4)])
    communes.loc[0, "geometry"] = bowtie
    write_layer(communes, info, geodata_copy)
    before = _digest(geodata_copy)
    assert main(["data", "check", "--geodata", str(geodata_copy)]) == 1
    captured = capsys.readouterr()
    assert "1 géométrie(s) invalide(s)" in captured.out
    assert "1 couche(s) en erreur" in captured.err
    assert _digest(geodata_copy) == before  # checking never writes


def test_corrupt_file_is_reported(geodata_copy, capsys):
    (geodata_copy / "territoire.gpkg").write_bytes(b"\x00" * 100)
    assert main(["data", "check", "--geodata", str(geodata_copy)]) == 1
    assert "corrompu" in capsys.readouterr().out


def test_quality_metadata_mismatch(geodata_copy, capsys):
    info = load_catalog(geodata_copy)["mairies"]
    mairies = gpd.read_file(geodata_copy / info.file, layer=info.layer)
    meta = info.gpkg_metadata() | {"ATLAS_QUALITE": "synthétique"}
    write_layer(mairies, info, geodata_copy, metadata=meta)
    assert main(["data", "check", "--geodata", str(geodata_copy)]) == 1
    assert "synthétique" in capsys.readouterr().out


def test_duplicate_codes(geodata_copy, capsys):
    info = load_catalog(geodata_copy)["mairies"]
    mairies = gpd.read_file(geodata_copy / info.file, layer=info.layer)
    mairies.loc[1, "insee"] = mairies.loc[0, "insee"]
    write_layer(mairies, info, geodata_copy)
    assert main(["data", "check", "--geodata", str(geodata_copy)]) == 1
    assert "valeurs en double" in capsys.readouterr().out


def test_missing_catalog_exit_code(tmp_path, capsys):
    assert main(["data", "check", "--geodata", str(tmp_path)]) == 1
    assert "Catalogue des couches introuvable" in capsys.readouterr().err


def test_prepare_runs_the_check(capsys, demo_store):
    assert main(["data", "prepare", "--geodata", str(demo_store.parent)]) == 0
    assert "aucune erreur" in capsys.readouterr().out
