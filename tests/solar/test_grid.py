"""IGN's LiDAR HD grid: tile placement and file names (one module knows them)."""

from __future__ import annotations

import numpy as np
import pytest

from layers.solar.grid import (
    keys_of,
    lidar_file_name,
    parse_lidar_file_name,
    tile_bounds,
    tile_of,
    tiles_of,
)


def test_every_point_lies_in_the_bounds_of_the_tile_it_is_given():
    """The placement of many points (point clouds, buildings) against the tiles' own
    extent, IGN's pixel edges a quarter metre off the kilometre (not against itself).
    A point on an edge goes east or north: left and bottom edges are inclusive."""
    rng = np.random.default_rng(7)
    edges = np.array([-0.26, -0.25, -0.24, 999.74, 999.75, 999.76])
    x = np.concatenate([rng.uniform(683_000, 686_000, 2000), 684_000 + edges])
    y = np.concatenate([rng.uniform(7_040_000, 7_043_000, 2000), 7_042_000 - edges])
    keys = keys_of(x, y)
    kx, ky = tiles_of(x, y)
    assert keys == list(zip(kx.tolist(), ky.tolist(), strict=True))
    for px, py, key in zip(x, y, keys, strict=True):
        left, bottom, right, top = tile_bounds(key)
        assert left <= px < right and bottom <= py < top, (px, py, key)


@pytest.mark.parametrize(
    ("x", "y", "key"),
    [
        (684_000.0, 7_042_000.0, (684, 7042)),  # a pixel centre on the km: IGN's first pixel
        (684_999.74, 7_041_000.26, (684, 7042)),  # the tile's last pixel, just inside
        (684_999.76, 7_041_000.26, (685, 7042)),  # past the east edge (x_km·1000 + 999.75)
        (684_000.0, 7_042_000.26, (684, 7043)),  # past the north edge (y_km·1000 + 0.25)
        (683_999.75, 7_042_000.25, (684, 7043)),  # on both edges: east and north
    ],
)
def test_a_tile_spans_a_quarter_metre_off_the_kilometre(x, y, key):
    assert tile_of(x, y) == key
    left, bottom, right, top = tile_bounds(key)
    assert left <= x < right and bottom <= y < top


def test_ign_file_names_round_trip_and_nothing_else_parses():
    # the name IGN's download service gives the surface model of tile 0684_7042
    name = "LHD_FXX_0684_7042_MNS_O_0M50_LAMB93_IGN69.tif"
    assert lidar_file_name((684, 7042), "MNS") == name
    assert parse_lidar_file_name(name) == ((684, 7042), "MNS")
    assert parse_lidar_file_name(name.lower()) == ((684, 7042), "MNS")
    assert parse_lidar_file_name(lidar_file_name((1, 6100), "MNT")) == ((1, 6100), "MNT")
    for other in (
        "LHD_FXX_0684_7042_PTS_O_LAMB93_IGN69.copc.laz",  # the point cloud, not a raster
        "LHD_FXX_0684_7042_MNH_O_0M50_LAMB93_IGN69.tif",  # canopy height: not used
        "LHD_FXX_684_7042_MNS_O_0M50_LAMB93_IGN69.tif",
        "0684_7042.tif",
        "LHD_FXX_0684_7042_MNS_O_0M50_LAMB93_IGN69.tif.aux.xml",
    ):
        assert parse_lidar_file_name(other) is None, other
