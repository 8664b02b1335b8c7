"""Issue 18 §3: the build refuses what is wrong and never loses a good store.

Each case runs on a copy of one complete store; a refused input must leave every file of
it byte for byte as it was, with one French line and exit ≠ 0.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
from rasterio.crs import CRS

from layers.cli import main
from layers.solar.store import Manifest, StoreLayout
from tests.helpers import ROOT
from tests.solar.helpers import EPW

pytestmark = pytest.mark.build
FAST = ["--sectors", "4", "--max-distance", "20", "--quiet", "--sans-pans"]  # faces: test_build
MNS = "LHD_FXX_{:04d}_{:04d}_MNS_O_0M50_LAMB93_IGN69.tif"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A complete 4-tile store, its inputs, and the command that built it."""
    base = tmp_path_factory.mktemp("gardes")
    assert main(["solar", "demo-territory", "--out", str(base), "--km", "2"]) == 0
    store = base / "magasin"
    args = {
        "--lidar": str(base / "lidar"),
        "--buildings": str(base / "batiment.gpkg"),
        "--weather": str(EPW),
        "--out": str(store),
        "--addresses": str(base / "adresses-62.csv"),
    }
    assert main(_cmd(args)) == 0
    return base, store, args


def _cmd(args: dict, *extra: str) -> list[str]:
    return ["solar", "build", *[x for kv in args.items() for x in kv], *FAST, *extra]


def _digest(folder) -> dict:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".verrou")
    }


@pytest.fixture
def copy(good, tmp_path):
    """A copy of the store and of its LiDAR folder, and the command on them."""
    base, store, args = good
    out, lidar = tmp_path / "magasin", tmp_path / "lidar"
    shutil.copytree(store, out)
    shutil.copytree(base / "lidar", lidar)
    return out, lidar, {**args, "--out": str(out), "--lidar": str(lidar)}


def _first_tile(lidar):
    return sorted(lidar.glob("*_MNS_*.tif"))[0]


def _rewrite(path, data=None, **profile):
    with rasterio.open(path) as src:
        meta, values = src.profile.copy(), src.read()
    meta.update(profile)
    if data is not None:
        values = data(values)
    meta["count"] = values.shape[0]
    meta["height"], meta["width"] = values.shape[1], values.shape[2]
    meta.pop("blockxsize", None), meta.pop("blockysize", None), meta.update(tiled=False)
    path.unlink()
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(values.astype(meta["dtype"]))


def _refused(copy, capsys, expected: str, *extra: str) -> None:
    out, _lidar, args = copy
    before = _digest(out)
    assert main(_cmd(args, *extra)) != 0
    err = capsys.readouterr().err
    assert expected in err, err
    assert "Traceback" not in err
    assert _digest(out) == before  # byte for byte


def test_a_tile_in_the_wrong_crs_is_refused(copy, capsys):
    tile = _first_tile(copy[1])
    with rasterio.open(tile) as src:
        b = src.bounds
    from rasterio.warp import transform_bounds

    w, s, e, n = transform_bounds(2154, 4326, *b)
    _rewrite(
        tile,
        crs=CRS.from_epsg(4326),
        transform=rasterio.transform.from_bounds(w, s, e, n, 2000, 2000),
    )
    _refused(copy, capsys, "EPSG:4326 au lieu de Lambert-93")


def test_a_tile_at_1_m_is_refused(copy, capsys):
    tile = _first_tile(copy[1])
    with rasterio.open(tile) as src:
        t = src.transform
    _rewrite(
        tile, data=lambda v: v[:, ::2, ::2], transform=rasterio.Affine(1.0, 0, t.c, 0, -1.0, t.f)
    )
    _refused(copy, capsys, "résolution 1 × 1 m")


def test_a_half_tile_is_refused(copy, capsys):
    _rewrite(_first_tile(copy[1]), data=lambda v: v[:, :1000, :])
    _refused(copy, capsys, "2000 × 1000 px au lieu de 2000 × 2000")


@pytest.mark.parametrize(
    ("fill", "expected"),
    [
        (np.nan, "aucune hauteur valide"),
        (3e38, "hors de [-100 ; 5000] m"),
        (np.inf, "hauteurs infinies"),
    ],
)
def test_impossible_heights_are_refused(copy, capsys, fill, expected):
    def spoil(v):
        v = v.astype("float32")
        if np.isnan(fill):
            v[:] = np.nan
        else:
            v[0, 100:200, 100:200] = fill
        return v

    _rewrite(_first_tile(copy[1]), data=spoil)
    _refused(copy, capsys, expected)


def test_an_rgb_image_is_refused(copy, capsys):
    _rewrite(
        _first_tile(copy[1]),
        data=lambda v: np.repeat(np.clip(v, 0, 255), 3, axis=0).astype("uint8"),
        dtype="uint8",
        nodata=None,
    )
    _refused(copy, capsys, "3 bandes")


def test_a_truncated_tile_is_refused(copy, capsys):
    tile = _first_tile(copy[1])
    tile.write_bytes(tile.read_bytes()[:5000])
    _refused(copy, capsys, "illisible ou tronqué")


def _buildings(copy, tmp_path, change, layer="batiment"):
    out, _, args = copy
    frame = pyogrio.read_dataframe(args["--buildings"], layer="batiment")
    path = tmp_path / "batiment-modifie.gpkg"
    frame = change(frame)
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")
    return out, {**args, "--buildings": str(path)}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: f.set_geometry(f.geometry.centroid), "de type Point"),
        (lambda f: f.set_crs(4326, allow_override=True), "impossibles en degrés"),
        (lambda f: f.iloc[0:0], "couche vide"),
        (lambda f: f.assign(cleabs=[f["cleabs"].iloc[0]] * len(f)), "en double"),
        (
            lambda f: f.assign(cleabs=["x' OR '1'='1", *f["cleabs"].iloc[1:]]),
            "cleabs invalide « x' OR '1'='1 » (ligne 1)",
        ),
        (lambda f: f.assign(cleabs=[None, *f["cleabs"].iloc[1:]]), "cleabs manquant (ligne 1)"),
        (
            lambda f: f.set_geometry([None, None, *f.geometry.iloc[2:]], crs=f.crs),
            "2 sans géométrie (lignes 1, 2)",
        ),
    ],
)
def test_wrong_buildings_are_refused(copy, tmp_path, capsys, change, expected):
    out, args = _buildings(copy, tmp_path, change)
    before = _digest(out)
    assert main(_cmd(args)) != 0
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err, err
    assert _digest(out) == before


def test_a_partial_run_adds_and_never_removes(copy, tmp_path, capsys):
    out, lidar, args = copy
    before = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)
    names = sorted(before["cleabs"])
    # --area on one commune: its tiles only are looked at, the others stay
    assert main(_cmd(args, "--area", "62401")) == 0
    capsys.readouterr()
    assert names == sorted(
        pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)["cleabs"]
    )
    # a folder holding one tile only, with a building changed there: real work, nothing lost
    for extra in sorted(lidar.glob("*.tif")):
        if not extra.name.startswith(_first_tile(lidar).name[:17]):
            extra.unlink()
    frame = pyogrio.read_dataframe(args["--buildings"], layer="batiment")
    frame.loc[0, "hauteur"] = 42.0
    changed = tmp_path / "batiment.gpkg"
    pyogrio.write_dataframe(frame, changed, layer="batiment", driver="GPKG")
    assert main(_cmd({**args, "--buildings": str(changed)})) == 0
    text = capsys.readouterr().out
    assert "gardées du magasin (hors de ce calcul) : 3" in text, text
    after = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)
    assert sorted(after["cleabs"]) == names
    manifest = Manifest.read(StoreLayout(out).manifest)
    assert len(manifest.dalles) == 4 and manifest.termine is True


def test_a_second_build_into_a_locked_store_is_refused(copy, capsys):
    import fcntl

    out, _, args = copy
    with open(StoreLayout(out).lock, "w", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("autre-machine:4242 depuis 29/11/2026 10:00")
        held.flush()
        before = _digest(out)
        assert main(_cmd(args)) == 1
        err = capsys.readouterr().err
        assert "Un autre calcul écrit déjà dans ce magasin (autre-machine:4242" in err
        assert _digest(out) == before
    assert main(_cmd(args, "--dry-run")) == 0  # a dry run writes nothing: no lock needed


def test_addresses_header_only_or_unreadable_coordinates(copy, tmp_path, capsys):
    out, _, args = copy
    ban = args["--addresses"]
    header = open(ban, encoding="utf-8").readline()
    empty = tmp_path / "vide.csv"
    empty.write_text(header, encoding="utf-8")
    before = _digest(out)
    assert main(_cmd({**args, "--addresses": str(empty)})) == 1
    assert "aucune adresse" in capsys.readouterr().err
    assert _digest(out) == before
    lines = open(ban, encoding="utf-8").read().splitlines()
    cols = lines[0].split(";")
    lon = cols.index("lon")
    spoiled = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = line.split(";")
        if i < 4:
            cells[lon] = ["abc", "1e400", "nan", "inf"][i]
        spoiled.append(";".join(cells))
    bad = tmp_path / "adresses-abimees.csv"
    bad.write_text("\n".join(spoiled) + "\n", encoding="utf-8")
    assert main(_cmd({**args, "--addresses": str(bad)})) == 0
    assert "4 ignorée(s)" in capsys.readouterr().out
    stored = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="adresses")
    assert np.isfinite(stored.geometry.x).all() and np.isfinite(stored.geometry.y).all()
    assert len(stored) <= len(lines) - 1 - 4


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--max-distance", "nan"], "finis"),
        (["--max-distance", "inf"], "finis"),
        (["--max-distance", "1e7", "--dry-run"], "au plus 2000 m"),
        (["--sectors", "100000000"], "entre 4 et 360"),
    ],
)
def test_absurd_parameters_are_refused_at_once(copy, capsys, extra, expected):
    _refused(copy, capsys, expected, *extra)


def test_roof_lookup_with_impossible_coordinates(copy, capsys):
    out = copy[0]
    args = ["solar", "roof", "--store", str(out), "--lon", "nan", "--lat", "inf"]
    assert main(args) == 2
    assert "coordonnées invalides" in capsys.readouterr().err


def test_a_full_disk_gives_one_french_line_and_a_whole_store(copy, tmp_path):
    out, _, args = copy
    # a changed building forces one tile to be recomputed; writing it exceeds the limit
    frame = pyogrio.read_dataframe(args["--buildings"], layer="batiment")
    frame.loc[0, "hauteur"] = 99.0
    changed = tmp_path / "batiment.gpkg"
    pyogrio.write_dataframe(frame, changed, layer="batiment", driver="GPKG")
    before = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000));"
        "from layers.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *_cmd({**args, "--buildings": str(changed)})],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    assert "Disque plein, quota ou droits" in run.stderr and "Traceback" not in run.stderr
    after = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)
    assert after.equals(before)  # the app still reads the store as it was


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [("[]", "mal formé"), ("{pas du json", "illisible")],
)
def test_a_damaged_manifest_is_said_in_french_without_internals(copy, manifest, expected):
    from layers.cadastre import open_cadastre
    from layers.solar.errors import SolarError

    out = copy[0]
    (StoreLayout(out).manifest).write_text(manifest, encoding="utf-8")
    with pytest.raises(SolarError) as err:
        open_cadastre(out)
    assert expected in str(err.value)
    assert "Expecting" not in str(err.value) and "line 1" not in str(err.value)


def test_a_truncated_store_is_said_without_sqlite_internals(copy):
    from layers.cadastre import open_cadastre
    from layers.solar.errors import SolarError

    out = copy[0]
    gpkg = StoreLayout(out).gpkg
    gpkg.write_bytes(gpkg.read_bytes()[:4096])
    with pytest.raises(SolarError) as err:
        open_cadastre(out)
    text = str(err.value)
    assert "illisible" in text and "sqlite" not in text.lower() and "GDAL" not in text


# issue 28: what real extracts hold, and outlines without IGN identifiers


def test_exact_duplicate_rows_are_counted_once(copy, tmp_path, capsys):
    """A real BD TOPO extract with 4 buildings present twice (same cleabs, same geometry:
    what a join or overlapping WFS pages leave) was refused whole. They count once, said."""
    out, args = _buildings(copy, tmp_path, lambda f: pd.concat([f, f.iloc[[3, 5, 8, 13]]]))
    assert main(_cmd(args)) == 0
    assert "4 ligne(s) en double exact" in capsys.readouterr().err
    roofs = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)
    source = pyogrio.read_dataframe(copy[2]["--buildings"], layer="batiment", read_geometry=False)
    assert roofs["cleabs"].is_unique and set(roofs["cleabs"]) == set(source["cleabs"])


def test_one_cleabs_with_two_geometries_is_refused(copy, tmp_path, capsys):
    def moved(f):
        twin = f.iloc[[3]].copy()
        twin["geometry"] = twin.geometry.translate(5, 0)
        return pd.concat([f, twin])

    out, args = _buildings(copy, tmp_path, moved)
    before = _digest(out)
    assert main(_cmd(args)) != 0
    assert "géométries différentes" in capsys.readouterr().err
    assert _digest(out) == before


def test_outlines_without_ids_are_numbered_with_ids_and_only_then(copy, tmp_path, capsys):
    """Outlines drawn from a point cloud or a commune's own layer had no way on: the error
    names --ids; with it each outline gets an identifier from its geometry, the same on
    every run."""
    out, args = _buildings(copy, tmp_path, lambda f: f.drop(columns=["cleabs"]))
    before = _digest(out)
    assert main(_cmd(args)) != 0
    assert "--ids" in capsys.readouterr().err
    assert _digest(out) == before
    assert main(_cmd(args, "--ids")) == 0
    roofs = pyogrio.read_dataframe(StoreLayout(out).gpkg, layer="toits", read_geometry=False)
    made = roofs["cleabs"][roofs["cleabs"].str.startswith("GEOM")]
    assert len(made) > 100 and made.str.fullmatch(r"GEOM[0-9A-F]{16}").all()
    from layers.solar.build import read_buildings

    again = read_buildings(args["--buildings"], ids_from_geometry=True)
    assert set(made) <= set(again["cleabs"])  # stable: the same outline, the same id


def test_the_help_says_what_buildings_are_accepted(capsys):
    with pytest.raises(SystemExit):
        main(["solar", "build", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "GeoPackage" in said and "BATIMENT.shp" in said and "--ids" in said


def test_workers_default_to_what_fits_and_the_build_says_so(copy, capsys):
    from layers.solar.build_blocks import default_workers

    assert default_workers(cores=8, available=6e9).workers == 2  # memory decides
    assert default_workers(cores=2, available=64e9).workers == 2  # cores decide
    assert default_workers(cores=4, available=1e9).workers == 1  # at least one
    assert default_workers(cores=3, available=None).workers == 3  # memory unknown
    out, lidar, args = copy
    for tif in lidar.glob("*.tif"):
        _rewrite(tif, data=lambda v: np.where(v > -1000, v + 0.25, v))  # every tile changed
    assert main(_cmd(args)) == 0
    said = capsys.readouterr().err
    assert "processus de calcul (" in said and "cœur(s)" in said
