"""A synthetic — fictional — mining-town district to demonstrate the cadastre solaire.

Deterministic (seeded): rows of brick terraced houses (corons) with gable roofs of 35–45°,
ridges east–west (faces south/north) and north–south (faces east/west), a few flat-roofed
buildings, trees, and a terril (slag heap) to the south-west casting long winter shadows.
About 1 km² at 0.5 m, placed inside the PMA (Lambert-93, on Loos-en-Gohelle's land) and
flagged synthetic everywhere: raster tags, every roof row (``qualite``), file metadata.
None of it describes real buildings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from affine import Affine
from pyproj import CRS
from shapely.geometry import box

from layers.solar.raster import Raster, write_cog

ORIGIN = (684_400.0, 7_039_600.0)  # lower-left corner, Lambert-93, inside Loos-en-Gohelle
QUALITY_NOTE = (
    "synthétique — quartier fictif généré pour la démonstration ; "
    "aucun bâtiment réel n'est représenté"
)
STREETS = [
    "rue des Corons Fictifs",
    "rue de la Fosse Imaginaire",
    "rue du Chevalement",
    "rue des Lampistes",
    "rue de la Cité-Jardin",
    "rue du Terril Blanc",
    "rue des Galibots",
    "rue de la Berline",
    "allée des Mineurs de Fond",
    "rue du Carreau",
    "rue de la Lampe",
    "rue des Briquetiers",
]


@dataclass(frozen=True)
class District:
    """The generated surface model, its terrain, and its roofs (with fictional addresses)."""

    dsm: Raster
    dtm: Raster
    roofs: gpd.GeoDataFrame


def generate(
    size_m: float = 1000.0,
    cell: float = 0.5,
    seed: int = 62,
    origin: tuple[float, float] = ORIGIN,
    terril: bool = True,
    density: float = 1.0,
) -> District:
    """Build the district (``size_m`` square at ``cell`` metres, lower-left at ``origin``).

    The ground is one plane over the whole PMA (continuous across districts placed side by
    side); ``terril=False`` leaves the slag heap out. ``density`` (0–1] keeps that share
    of the mining cité's blocks and of its other buildings and trees (1: a dense cité,
    ~1 500 buildings per km²; 0.25: a suburb; 0.02: fields with a farm or two); below
    0.1 the district also has a pond, which LiDAR HD leaves without data (water).
    """
    if not 0 < density <= 1:
        raise ValueError("density in (0, 1]")
    rng = np.random.default_rng(seed)
    n = int(round(size_m / cell))
    x0, y0 = origin
    xs = x0 + (np.arange(n) + 0.5) * cell
    ys = y0 + size_m - (np.arange(n) + 0.5) * cell  # row 0 = north
    X, Y = np.meshgrid(xs - x0, ys - y0)
    # gentle slope, metres above sea level, continuous from one district to the next
    ground = 38.0 + 0.004 * (X + x0 - ORIGIN[0]) + 0.003 * (Y + y0 - ORIGIN[1])
    z = ground.copy()
    roofs: list[dict] = []

    # terril: a truncated cone in the south-west corner
    r = np.hypot(X - 170.0, Y - 150.0)
    if terril:
        z = np.maximum(z, ground + np.clip(62.0 * (1 - r / 210.0), 0, 55.0))
        taken = r < 230
    else:
        taken = np.zeros(X.shape, dtype=bool)

    def win(xa, ya, xb, yb):  # metres from the origin → array slices (row 0 = north)
        r0 = max(0, int((size_m - yb) / cell))
        r1 = min(n, int(np.ceil((size_m - ya) / cell)))
        c0, c1 = max(0, int(xa / cell)), min(n, int(np.ceil(xb / cell)))
        return slice(r0, r1), slice(c0, c1)

    def free(xa, ya, xb, yb):
        return not taken[win(xa, ya, xb, yb)].any()

    street_i = 0
    numbers: dict[str, int] = {}

    def next_address(street: str) -> str:  # unique house numbers along each street
        numbers[street] = numbers.get(street, -1) + 2
        return f"{numbers[street]} {street}"

    # corons: rows of terraced houses, in blocks of east–west and north–south ridges
    for block_y in range(40, 960, 34):
        for block_x in range(30, 940, 160):
            if rng.random() < 0.18:
                continue
            if density < 1 and rng.random() >= density:
                continue
            ew = (block_x // 160) % 3 != 1  # one block column in three: ridges north–south
            pitch = float(rng.uniform(35, 45))
            eave = float(rng.uniform(5.2, 6.2))
            street = STREETS[street_i % len(STREETS)]
            street_i += 1
            houses = int(rng.integers(10, 22)) if ew else int(rng.integers(3, 5))
            w, d = (6.0, 9.0) if ew else (9.0, 6.0)
            for i in range(houses):
                hx = block_x + (i * w if ew else 0)
                hy = block_y + (0 if ew else i * d)
                if hx + w > size_m - 10 or hy + d > size_m - 10 or not free(hx, hy, hx + w, hy + d):
                    continue
                sl = win(hx, hy, hx + w, hy + d)
                _gable(z[sl], X[sl], Y[sl], ground[sl], hx, hy, w, d, eave, pitch, ridge_ew=ew)
                taken[sl] = True
                roofs.append(
                    dict(
                        type_bati="coron, toit à deux pans",
                        pente=round(pitch, 1),
                        faitage="est-ouest" if ew else "nord-sud",
                        hauteur_egout=round(eave, 1),
                        adresse=next_address(street),
                        geometry=box(x0 + hx, y0 + hy, x0 + hx + w, y0 + hy + d),
                    )
                )
    # flat-roofed buildings (school, hall, workshops)
    for _ in range(6 if density == 1 else int(np.ceil(6 * density))):
        for _try in range(40):
            bw, bd = float(rng.uniform(20, 45)), float(rng.uniform(15, 30))
            bx, by = float(rng.uniform(20, size_m - 60)), float(rng.uniform(20, size_m - 50))
            if free(bx - 4, by - 4, bx + bw + 4, by + bd + 4):
                h = float(rng.uniform(7, 11))
                sl = win(bx, by, bx + bw, by + bd)
                inside = (X[sl] >= bx) & (X[sl] < bx + bw) & (Y[sl] >= by) & (Y[sl] < by + bd)
                z[sl] = np.where(inside, ground[sl] + h, z[sl])
                taken[win(bx - 4, by - 4, bx + bw + 4, by + bd + 4)] = True
                street = STREETS[street_i % len(STREETS)]
                roofs.append(
                    dict(
                        type_bati="bâtiment à toit plat",
                        pente=0.0,
                        faitage="",
                        hauteur_egout=round(h, 1),
                        adresse=next_address(street),
                        geometry=box(x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bd),
                    )
                )
                street_i += 1
                break
    # trees in gardens and along streets
    for _ in range(420 if density == 1 else int(420 * max(density, 0.25))):
        tx, ty = rng.uniform(5, size_m - 5, size=2)
        radius, height = float(rng.uniform(2.5, 4.5)), float(rng.uniform(7, 14))
        sl = win(tx - radius, ty - radius, tx + radius, ty + radius)
        if taken[sl].any():
            continue
        dist = np.hypot(X[sl] - tx, Y[sl] - ty)
        crown = ground[sl] + height * np.sqrt(np.clip(1 - (dist / radius) ** 2, 0, 1))
        z[sl] = np.where(dist < radius, np.maximum(z[sl], crown), z[sl])
    if density < 0.1:  # a pond in the fields: no LiDAR return from water
        pond = np.hypot((X - 0.7 * size_m) / 1.4, Y - 0.6 * size_m) < 0.12 * size_m
        z = np.where(pond & ~taken, np.nan, z)
    crs = CRS.from_epsg(2154)
    transform = Affine(cell, 0, x0, 0, -cell, y0 + size_m)
    gdf = gpd.GeoDataFrame(roofs, crs=crs)
    gdf.insert(0, "toit_id", [f"T{i + 1:05d}" for i in range(len(gdf))])
    gdf["qualite"] = QUALITY_NOTE
    return District(
        Raster(z.astype("float32"), transform, crs),
        Raster(ground.astype("float32"), transform, crs),
        gdf,
    )


def _gable(z, X, Y, ground, hx, hy, w, d, eave, pitch, ridge_ew):
    """Raise a gable roof over the footprint [hx, hx+w] × [hy, hy+d] (in place)."""
    inside = (X >= hx) & (X < hx + w) & (Y >= hy) & (Y < hy + d)
    if ridge_ew:
        to_ridge = (d / 2) - np.abs(Y - (hy + d / 2))
    else:
        to_ridge = (w / 2) - np.abs(X - (hx + w / 2))
    roof = ground + eave + np.tan(np.radians(pitch)) * to_ridge
    z[inside] = roof[inside]


def write_district(district: District, out_dir: Path) -> dict[str, Path]:
    """Write ``dsm.tif``, ``dtm.tif`` (COG) and ``roofs.gpkg``, all flagged synthetic."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tags = {
        "ATLAS_QUALITE": "synthétique",
        "ATLAS_NOTE": QUALITY_NOTE,
        "producer": "Atlas PMA (layers.demo.district)",
        "units": "m",
    }
    paths = {
        "dsm": out_dir / "dsm.tif",
        "dtm": out_dir / "dtm.tif",
        "roofs": out_dir / "roofs_input.gpkg",
    }
    write_cog(paths["dsm"], district.dsm, tags, "modèle numérique de surface (fictif) [m]")
    write_cog(paths["dtm"], district.dtm, tags, "modèle numérique de terrain (fictif) [m]")
    pyogrio.write_dataframe(
        district.roofs,
        paths["roofs"],
        layer="roofs",
        driver="GPKG",
        layer_metadata={"ATLAS_QUALITE": "synthétique", "ATLAS_NOTE": QUALITY_NOTE},
    )
    return paths
