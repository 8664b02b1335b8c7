"""``solar dsm``: point clouds to IGN's height tiles (issue 28: what the intake must survive).

Clouds are written here with laspy on a 1 m grid, class 2 (ground) under class 6
(buildings), in Lambert-93, as a survey delivers them one kilometre at a time.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from layers.cli import main
from layers.solar.grid import lidar_file_name

TILE, BELOW = (684, 7042), (684, 7041)
GAP = ["--max-gap", "2"]  # points every 2 m: the surface's holes between them are filled


def _cloud(path, x0: float, y0: float, z: float = 40.0, step: float = 2.0) -> None:
    """A kilometre of points every ``step`` m from (x0, y0), a 6 m high block in its middle."""
    import laspy

    size = 1000.0
    xs, ys = np.meshgrid(np.arange(x0, x0 + size, step), np.arange(y0, y0 + size, step))
    x, y = xs.ravel(), ys.ravel()
    block = (np.abs(x - x0 - size / 2) < 20) & (np.abs(y - y0 - size / 2) < 20)
    header = laspy.LasHeader(point_format=1, version="1.4")
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([x0, y0, 0.0])
    las = laspy.LasData(header)
    las.x, las.y = x, y
    las.z = np.where(block, z + 6.0, z + 0.001 * (x - x0))
    las.classification = np.where(block, 6, 2).astype("uint8")
    las.write(path)


def _valid(path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1, masked=True)


@pytest.fixture
def below_tile(tmp_path):
    """The tile south of TILE, made from its own kilometre of points (up to its top row)."""
    (tmp_path / "b").mkdir()
    _cloud(tmp_path / "b" / "sud.las", 684_000.0, 7_040_002.0, z=30.0)
    out = tmp_path / "lidar"
    args = ["solar", "dsm", "--points", str(tmp_path / "b"), "--out", str(out), "--quiet"]
    assert main([*args, *GAP]) == 0
    return out


def test_a_cloud_never_replaces_its_neighbour_tile(tmp_path, below_tile):
    """Issue 28: a 1 km cloud spills one row into the tile below (IGN's tiles sit 0.25 m off
    the kilometre); that tile, already there, was replaced by the sliver (4 000 000 → a few
    thousand valid pixels). It is merged into now: what the cloud did not cover stays."""
    mns = below_tile / lidar_file_name(BELOW, "MNS")
    mnt = below_tile / lidar_file_name(BELOW, "MNT")
    before_s, before_t = _valid(mns), _valid(mnt)
    assert before_s.count() > 3_900_000
    (tmp_path / "a").mkdir()
    _cloud(tmp_path / "a" / "nord.las", 684_000.0, 7_041_000.0, z=50.0)
    assert main(["solar", "dsm", "--points", str(tmp_path / "a"), "--out", str(below_tile),
                 "--quiet", *GAP]) == 0  # fmt: skip
    after_s, after_t = _valid(mns), _valid(mnt)
    assert after_s.count() >= before_s.count()
    assert after_t.count() >= before_t.count()
    # rows the new cloud did not reach are untouched
    assert np.ma.allequal(after_s[1:], before_s[1:]) and np.ma.allequal(after_t[1:], before_t[1:])
    # the spill (row 0, at y = 7 041 000: a point every 4th pixel) is 20 m higher: the surface
    # takes it where it has points, keeps the rest; the terrain keeps the lower ground
    assert before_s[0].count() == 2000 and before_t[0].count() > 1900
    hit = np.zeros(2000, dtype=bool)
    hit[::4] = True
    assert (after_s[0][hit] >= before_s[0][hit] + 19).all()
    assert np.ma.allequal(after_s[0][~hit], before_s[0][~hit])
    assert np.ma.allclose(after_t[0], before_t[0], atol=1e-3)
    assert _valid(below_tile / lidar_file_name(TILE, "MNS")).count() > 3_900_000


def test_a_spill_one_row_thin_is_written_without_an_interpolation_error(tmp_path, capsys):
    """Issue 28: a cloud aligned on the kilometre leaves a strip one pixel thin in the tile
    below; interpolating it alone failed with a raw Qhull message (rc 1)."""
    (tmp_path / "a").mkdir()
    _cloud(tmp_path / "a" / "nord.las", 684_000.0, 7_041_000.0)
    out = tmp_path / "lidar"
    assert main(["solar", "dsm", "--points", str(tmp_path / "a"), "--out", str(out),
                 "--quiet", *GAP]) == 0  # fmt: skip
    assert "Qhull" not in capsys.readouterr().err
    strip = _valid(out / lidar_file_name(BELOW, "MNT"))
    assert 0 < strip.count() <= 2 * 2000 and strip[0].count() > 0


def _few(path, x, y, cls=6, scale=0.01) -> None:
    """A small cloud: points at (x, y), 40 m high, one class."""
    import laspy

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    header = laspy.LasHeader(point_format=1, version="1.4")
    header.scales = np.array([scale, scale, 0.01])
    header.offsets = np.array([np.floor(x.min()), np.floor(y.min()), 0.0])
    las = laspy.LasData(header)
    las.x, las.y, las.z = x, y, np.full(len(x), 40.0)
    las.classification = np.full(len(x), cls, dtype="uint8")
    las.write(path)


def _dsm(tmp_path, *extra) -> int:
    out = tmp_path / "lidar"
    return main(["solar", "dsm", "--points", str(tmp_path / "nuages"), "--out", str(out),
                 "--quiet", *extra])  # fmt: skip


def test_points_outside_their_header_are_refused(tmp_path, capsys):
    """Issue 28: a header patched into France over points at 1e9 m gave
    LHD_FXX_1000000_1000000_*, exit 0. The points are checked against the header."""
    import struct

    (tmp_path / "nuages").mkdir()
    path = tmp_path / "nuages" / "faux.las"
    _few(path, [1e9, 1e9 + 1], [1e9, 1e9 + 1])
    with open(path, "r+b") as fh:  # LAS 1.4 header: max x, min x, max y, min y at 179
        fh.seek(179)
        fh.write(struct.pack("<4d", 685_000.0, 684_000.0, 7_042_000.0, 7_041_000.0))
    assert _dsm(tmp_path) == 1
    err = capsys.readouterr().err
    assert "faux.las" in err and "emprise annoncée par l'en-tête" in err
    assert not list((tmp_path / "lidar").glob("*.tif"))


def test_points_spread_over_many_tiles_do_not_fill_the_memory(tmp_path):
    """Issue 28: memory grew ~77 MB per tile touched (40 points over 40 tiles: 3 GB).
    A tile's few points are kept as they come; a tile is finished when its last cloud is
    read. Measured with tracemalloc (numpy reports its arrays to it)."""
    import tracemalloc

    from layers.solar.points import rasterise

    (tmp_path / "nuages").mkdir()
    xs = 684_500.0 + 1000.0 * np.arange(12)
    _few(tmp_path / "nuages" / "epars.las", xs, np.full(12, 7_041_500.0))
    tracemalloc.start()
    try:
        names = rasterise([tmp_path / "nuages" / "epars.las"], tmp_path / "lidar")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(names) == 12  # one MNS per tile (no ground point: no MNT)
    assert peak < 600e6, f"{peak / 1e6:.0f} Mo"  # 12 tiles at once took 1.3 GB


def test_a_cloud_never_classified_is_refused_with_the_reason(tmp_path, capsys):
    """Issue 28: points of class 0 (never classified) gave « 0 dalles », exit 0."""
    (tmp_path / "nuages").mkdir()
    _few(tmp_path / "nuages" / "brut.las", [684_500.0, 684_501.0], [7_041_500.0] * 2, cls=0)
    assert _dsm(tmp_path) == 1
    err = capsys.readouterr().err
    assert "Aucune dalle écrite" in err and "classes lues : 0" in err


@pytest.mark.parametrize("gap", ["-1", "nan", "inf", "500"])
def test_an_impossible_max_gap_is_refused(tmp_path, capsys, gap):
    (tmp_path / "nuages").mkdir()
    _few(tmp_path / "nuages" / "n.las", [684_500.0, 684_501.0], [7_041_500.0] * 2)
    assert _dsm(tmp_path, "--max-gap", gap) == 1
    assert "--max-gap : entre 0 et 50 m" in capsys.readouterr().err
    assert not (tmp_path / "lidar").exists() or not list((tmp_path / "lidar").iterdir())


def test_a_coordinate_step_of_a_kilometre_is_refused(tmp_path, capsys):
    (tmp_path / "nuages").mkdir()
    _few(tmp_path / "nuages" / "km.las", [684_000.0, 685_000.0], [7_041_000.0] * 2, scale=1000)
    assert _dsm(tmp_path) == 1
    assert "trop grossier" in capsys.readouterr().err
