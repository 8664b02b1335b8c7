"""Issue 18 §4: the build on files exactly as IGN and PVGIS ship them (tests/data/real).

- a real LiDAR HD classified cloud (70 840 points, classes 1, 2, 6) → ``solar dsm`` →
  ``solar build`` with the 40 outlines IGN's building-detection tool drew from it, under a
  real PVGIS-SARAH2 TMY: every outline on the cloud gets a plausible roof, whose slope and
  orientation agree with what the points themselves say (local planes of the raw points,
  an independent reference);
- the 2 273 real BD TOPO buildings of Olemps in IGN's shapefile schema (upper-case
  columns, ``ID``, PolygonZ, a DBF without .cpg) over two surface tiles made from their
  own heights.
"""

from __future__ import annotations

import numpy as np
import pyogrio
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

from layers.cli import main
from layers.solar.store import StoreLayout
from tests.helpers import ROOT

pytestmark = pytest.mark.build
REAL = ROOT / "tests" / "data" / "real"
CLOUD = REAL / "lidar" / "870000_6618000.subset.50mx100m.las"
OUTLINES = REAL / "lidar" / "870000_6618000.subset.postIA.shp"
PVGIS = REAL / "weather" / "pvgis-sarah2_tmy_50.811_3.310_2005-2020_data.csv"
FAST = ["--sectors", "16", "--max-distance", "60", "--quiet"]


@pytest.fixture(scope="module")
def real_store(tmp_path_factory):
    base = tmp_path_factory.mktemp("reel")
    assert main(["solar", "dsm", "--points", str(CLOUD.parent), "--out", str(base / "lidar"),
                 "--quiet"]) == 0  # fmt: skip
    outlines = pyogrio.read_dataframe(OUTLINES)
    outlines["cleabs"] = [f"LIDARPROD{i:04d}" for i in range(len(outlines))]  # no id shipped
    pyogrio.write_dataframe(outlines, base / "contours.gpkg", layer="batiment", driver="GPKG")
    args = ["solar", "build", "--lidar", str(base / "lidar"), "--buildings",
            str(base / "contours.gpkg"), "--weather", str(PVGIS), "--out", str(base / "magasin"),
            *FAST]  # fmt: skip
    assert main(args) == 0
    roofs = pyogrio.read_dataframe(StoreLayout(base / "magasin").gpkg, layer="toits")
    return base, roofs


def test_dsm_tiles_are_on_the_ign_grid(real_store):
    base, _ = real_store
    names = sorted(p.name for p in (base / "lidar").glob("*.tif"))
    assert names == [
        "LHD_FXX_0870_6618_MNS_O_0M50_LAMB93_IGN69.tif",
        "LHD_FXX_0870_6618_MNT_O_0M50_LAMB93_IGN69.tif",
    ]
    import laspy

    las = laspy.read(CLOUD)
    with rasterio.open(base / "lidar" / names[0]) as mns:
        assert (mns.width, mns.height, mns.crs.to_epsg()) == (2000, 2000, 2154)
        assert mns.bounds.left == 869_999.75 and mns.bounds.top == 6_618_000.25
        x, y = mns.xy(0, 0)  # pixel centres on multiples of 0.5 m
        assert x % 0.5 == 0 and y % 0.5 == 0
        data = mns.read(1, masked=True)
        # the surface spans the cloud's heights (no smoothing beyond the points)
        assert data.min() >= las.z.min() - 0.01 and data.max() <= las.z.max() + 0.01
        covered = (~data.mask).sum() * 0.25
        assert 0.9 * 100 * 62 < covered < 1.1 * 100 * 62  # the cloud's 100 × 62 m
    with rasterio.open(base / "lidar" / names[1]) as mnt:
        ground = las.z[las.classification == 2]
        values = mnt.read(1, masked=True).compressed()
        assert ground.min() - 0.01 <= values.min() and values.max() <= ground.max() + 0.01


def test_every_outline_on_the_cloud_gets_a_plausible_roof(real_store):
    import laspy

    _, roofs = real_store
    las = laspy.read(CLOUD)
    cloud = box(las.x.min(), las.y.min(), las.x.max(), las.y.max())
    share = roofs.geometry.intersection(cloud).area / roofs.geometry.area
    on = roofs[share > 0.95]
    off = roofs[share < 0.05]
    assert len(on) == 6 and len(off) >= 30
    assert (on["classe"] != "sans données").all()
    assert (on["surface_utile_m2"] > 0).all()
    assert on["pente_dominante"].between(15, 45).all()  # pitched houses
    assert on["irradiation_utile"].between(850, 1400).all()  # under a 1 100 kWh/m² climate
    # no LiDAR under them: unknown, never « non adapté » nor « nord »
    assert (off["classe"] == "sans données").all()
    assert (off["orientation"] == "indéterminée").all()


def test_roof_slopes_and_orientations_agree_with_the_points(real_store):
    """An independent reference: local planes fitted to the raw points of each roof."""
    import laspy
    import shapely
    from scipy.spatial import cKDTree

    _, roofs = real_store
    las = laspy.read(CLOUD)
    roof_pts = np.isin(las.classification, [1, 6])
    pts = np.c_[las.x[roof_pts], las.y[roof_pts], las.z[roof_pts]]
    _, idx = cKDTree(pts[:, :2]).query(pts[:, :2], k=12)
    centred = pts[idx] - pts[idx].mean(axis=1, keepdims=True)
    _, vectors = np.linalg.eigh(np.einsum("nki,nkj->nij", centred, centred))
    normal = vectors[:, :, 0] * np.sign(vectors[:, 2:3, 0])
    slope = np.degrees(np.arccos(np.clip(normal[:, 2], -1, 1)))
    aspect = (np.degrees(np.arctan2(normal[:, 0], normal[:, 1])) + 360) % 360
    where = shapely.points(pts[:, 0], pts[:, 1])
    checked = 0
    for _, roof in roofs[roofs["classe"] != "sans données"].iterrows():
        inside = shapely.contains(roof.geometry, where) & (slope > 10) & (slope < 60)
        if inside.sum() < 80:
            continue
        checked += 1
        assert abs(np.median(slope[inside]) - roof["pente_dominante"]) < 6.0

        # the engine's dominant orientation is a main face of the roof's points: as many
        # points face it (±45°) as half of the best-faced direction, or more
        def facing(azimuth, a=aspect[inside]):
            return (np.abs((a - azimuth + 180) % 360 - 180) < 45).mean()

        best = max(facing(az) for az in range(0, 360, 5))
        assert facing(roof["orientation_dominante"]) >= 0.5 * best
    assert checked >= 4


def test_the_store_says_which_climate(real_store):
    from layers.cadastre import open_cadastre

    base, _ = real_store
    cad = open_cadastre(base / "magasin")
    text = cad.climate
    assert "PVGIS TMY" in text and "50,81° N" in text and "1 099,7".replace(" ", "\u202f") in text


@pytest.fixture(scope="module")
def olemps(tmp_path_factory):
    """Two 1 km surface tiles under Olemps, from the buildings' own heights (flat ground)."""
    from rasterio.features import rasterize

    base = tmp_path_factory.mktemp("olemps")
    lidar = base / "lidar"
    lidar.mkdir()
    shp = REAL / "bdtopo-olemps" / "BATIMENT.shp"
    frame = pyogrio.read_dataframe(shp)
    cent = frame.geometry.centroid
    keys = (np.floor((cent.x + 0.25) / 1000).astype(int), np.floor((cent.y - 0.25) / 1000) + 1)
    counts = {}
    for k in zip(keys[0], keys[1].astype(int), strict=True):
        counts[k] = counts.get(k, 0) + 1
    chosen = sorted(counts, key=counts.get, reverse=True)[:2]
    for kx, ky in chosen:
        left, top = kx * 1000 - 0.25, ky * 1000 + 0.25
        transform = Affine(0.5, 0, left, 0, -0.5, top)
        height = frame["HAUTEUR"].fillna(6.0).clip(3, 30).to_numpy()
        shapes = [(g, 400.0 + h) for g, h in zip(frame.geometry.force_2d(), height, strict=True)]
        mns = rasterize(shapes, (2000, 2000), transform=transform, fill=400.0, dtype="float32")
        for kind, data in (("MNS", mns), ("MNT", np.full_like(mns, 400.0))):
            name = f"LHD_FXX_{kx:04d}_{ky:04d}_{kind}_O_0M50_LAMB93_IGN69.tif"
            with rasterio.open(lidar / name, "w", driver="GTiff", width=2000, height=2000,
                               count=1, dtype="float32", crs="EPSG:2154", transform=transform,
                               nodata=-99999.0) as dst:  # fmt: skip
                dst.write(data, 1)
    args = ["solar", "build", "--lidar", str(lidar), "--buildings", str(shp), "--weather",
            str(PVGIS), "--out", str(base / "magasin"), "--sectors", "8", "--max-distance",
            "30", "--quiet", "--sans-pans"]  # fmt: skip
    assert main(args) == 0
    roofs = pyogrio.read_dataframe(StoreLayout(base / "magasin").gpkg, layer="toits")
    on_tiles = sum(counts[k] for k in chosen)
    return frame, roofs, on_tiles


def test_the_olemps_shapefile_builds_with_its_ign_schema(olemps):
    frame, roofs, on_tiles = olemps
    assert len(roofs) == on_tiles > 300
    assert set(roofs["cleabs"]) <= set(frame["ID"])  # ID is the cleabs
    assert roofs["cleabs"].str.startswith("BATIMENT").all()
    assert "Indifférenciée" in set(roofs["nature"])  # the DBF read as UTF-8, not « IndiffÃ© »
    assert roofs.geometry.is_valid.all() and not roofs.geometry.has_z.any()
    known = roofs[roofs["classe"] != "sans données"]
    assert len(known) > 0.9 * len(roofs)
    flat = known[known["surface_utile_m2"] > 20]
    assert flat["pente_dominante"].lt(5).mean() > 0.9  # the tiles' roofs are flat


def test_faces_agree_with_planes_fitted_to_the_points(real_store):
    """Issue 27, real data: each face against the least-squares plane of the classified
    building points inside it (half a metre in from its edges), where those points are a
    plane (RMS < 10 cm). Azimuths agree within a few degrees. Slopes come out ~4–5° low:
    the surface model's highest point per pixel sits higher in a pixel down the slope
    than up it on this survey (checked: the faces' pixels are exactly those maxima, and
    synthetic points on a 38.6° plane give a 38.6° surface) — measured here so that it
    shows when the surface model is mended."""
    import laspy
    import shapely

    base, _ = real_store
    faces = pyogrio.read_dataframe(StoreLayout(base / "magasin").gpkg, layer="pans")
    las = laspy.read(CLOUD)
    keep = np.asarray(las.classification) == 6
    pts = np.c_[las.x[keep], las.y[keep], las.z[keep]]
    where = shapely.points(pts[:, 0], pts[:, 1])
    d_slope, d_azimuth = [], []
    for _, face in faces.iterrows():
        inner = face.geometry.buffer(-0.5)
        inside = shapely.contains(inner, where) if not inner.is_empty else np.zeros(0, bool)
        if inside.sum() < 30:
            continue
        p = pts[inside]
        a_matrix = np.c_[p[:, 0] - p[:, 0].mean(), p[:, 1] - p[:, 1].mean(), np.ones(len(p))]
        (a, b, c), *_ = np.linalg.lstsq(a_matrix, p[:, 2], rcond=None)
        if np.sqrt(((p[:, 2] - a_matrix @ [a, b, c]) ** 2).mean()) > 0.10:
            continue  # not one plane (a wall, a dormer's cheek)
        d_slope.append(face["pente"] - np.degrees(np.arctan(np.hypot(a, b))))
        azimuth = np.degrees(np.arctan2(-a, -b)) % 360
        d_azimuth.append((face["azimut"] - azimuth + 180) % 360 - 180)
    assert len(d_slope) >= 6
    print(  # the distribution the issue asks for (pytest -s shows it)
        f"\n{len(d_slope)} pans : écart de pente (pan − points) médiane "
        f"{np.median(d_slope):+.1f}°, de {np.min(d_slope):+.1f}° à {np.max(d_slope):+.1f}° ; "
        f"écart d'azimut médiane {np.median(np.abs(d_azimuth)):.1f}°, max "
        f"{np.max(np.abs(d_azimuth)):.1f}°"
    )
    assert np.median(np.abs(d_azimuth)) < 3 and np.max(np.abs(d_azimuth)) < 8
    assert -6 < np.median(d_slope) < 0 and np.max(np.abs(d_slope)) < 8
