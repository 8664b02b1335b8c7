"""A synthetic — fictional — multi-tile territory written in the IGN and BAN file formats.

What the PMA's GIS team will receive, in the same shape, so that the territory build is
exercised on real formats before the real files arrive:

- LiDAR HD **MNS** and **MNT** tiles: 1 km × 1 km GeoTIFF, 2 000 × 2 000 px at 0.5 m,
  EPSG:2154, float32 heights in metres with a nodata value, named
  ``LHD_FXX_XXXX_YYYY_MNS_O_0M50_LAMB93_IGN69.tif`` (``…_MNT_…``) where XXXX/YYYY are the
  tile's upper-left corner in km (left edge at XXXX·1000 − 0.25 m, top at YYYY·1000 + 0.25 m);
- a BD TOPO **batiment** layer (GeoPackage, EPSG:2154, MultiPolygon Z) with its fields
  ``cleabs``, ``nature``, ``usage_1``, ``hauteur``, ``nombre_de_logements``…, one invalid
  (self-intersecting) ring included, as real deliveries sometimes have;
- **BAN** addresses in the département CSV format (``adresses-62.csv``).

Content: per km², the demo district's corons, detached houses, flat roofs and trees
(:func:`layers.demo.district.generate`, one seed per tile), one terril, one warehouse straddling
an inner tile corner (for seamlessness tests) and a nodata hole. Everything is flagged
synthetic: raster tags, a field of every building and address, layer metadata. None of it
describes real buildings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from affine import Affine
from shapely import force_3d
from shapely.geometry import MultiPolygon, Polygon, box

from layers.demo.district import QUALITY_NOTE, generate
from layers.solar.grid import CELL, TILE_PX, lidar_file_name, tile_transform
from layers.solar.inputs import NODATA
from layers.solar.inputs import write_height_tile as _write_tile

__all__ = ["NODATA", "lidar_file_name", "tile_transform", "write_territory"]

FIRST_TILE = (684, 7042)  # upper-left corner [km] of the north-west tile, Loos-en-Gohelle
TAGS = {
    "ATLAS_QUALITE": "synthétique",
    "ATLAS_NOTE": QUALITY_NOTE,
    "producer": "Atlas PMA (layers.demo.territory), format IGN LiDAR HD",
    "units": "m (IGN69)",
}


@dataclass(frozen=True)
class TerritoryFiles:
    """What :func:`write_territory` wrote."""

    lidar_dir: Path
    tiles: list[tuple[int, int]]
    buildings: Path
    addresses: Path
    corner_building: str  # cleabs of the warehouse across the inner tile corner


def write_territory(
    out: Path,
    km: int = 2,
    seed: int = 62,
    communes: gpd.GeoDataFrame | None = None,
    first_tile: tuple[int, int] = FIRST_TILE,
    density: float = 1.0,
) -> TerritoryFiles:
    """Write a ``km`` × ``km`` tile territory under ``out``.

    ``lidar/`` (MNS and MNT tiles), ``batiment.gpkg``, ``adresses-62.csv`` and
    ``LISEZMOI.json``; deterministic for a given seed. ``communes`` (``insee``, ``nom``,
    polygons) names the commune of each fictional address after the real one it lies in
    (default: all in Loos-en-Gohelle). ``first_tile``: the north-west tile [km] (the
    benchmarks move it by a kilometre so that 2 × 2 tiles make one compute block).
    ``density``: the buildings' density of every tile (see
    :func:`layers.demo.district.generate`: 1 a mining cité, 0.25 a suburb, 0.02 fields
    with a pond without LiDAR data).
    """
    if km < 1:
        raise ValueError("km ≥ 1")
    out = Path(out)
    lidar = out / "lidar"
    lidar.mkdir(parents=True, exist_ok=True)
    side = km * TILE_PX
    dsm = np.empty((side, side), dtype="float32")
    dtm = np.empty((side, side), dtype="float32")
    parts = []
    x_first, y_first = first_tile
    for j in range(km):  # rows of tiles, north to south
        for i in range(km):
            x_km, y_km = x_first + i, y_first - j
            district = generate(
                1000.0,
                CELL,
                seed=seed + 101 * j + i,
                # generate() puts pixel edges on its origin: shift by the IGN quarter metre
                origin=(x_km * 1000 - CELL / 2, (y_km - 1) * 1000 + CELL / 2),
                terril=(i, j) == (0, km - 1),  # one terril, in the south-west tile
                density=density,
            )
            rows = slice(j * TILE_PX, (j + 1) * TILE_PX)
            cols = slice(i * TILE_PX, (i + 1) * TILE_PX)
            dsm[rows, cols] = district.dsm.array
            dtm[rows, cols] = district.dtm.array
            roofs = district.roofs
            k = j * km + i
            if k:  # every tile repeats the demo's street names: one « cité » per tile
                named = roofs["adresse"] != ""
                roofs.loc[named, "adresse"] = roofs.loc[named, "adresse"] + f" cité {k + 1}"
            parts.append(roofs)
    transform = tile_transform((x_first, y_first))

    # a warehouse across the inner corner of the first four tiles (flat roof, 12 m)
    cx, cy = (x_first + min(1, km - 1)) * 1000.0, (y_first - min(1, km - 1)) * 1000.0
    warehouse = box(cx - 28.0, cy - 19.0, cx + 24.0, cy + 21.0) if km > 1 else None
    if warehouse is not None:
        inv = ~transform
        c0, r1 = (int(round(v)) for v in inv * (warehouse.bounds[0], warehouse.bounds[1]))
        c1, r0 = (int(round(v)) for v in inv * (warehouse.bounds[2], warehouse.bounds[3]))
        dsm[r0:r1, c0:c1] = dtm[r0:r1, c0:c1] + 12.0
    # a nodata hole (a LiDAR gap) in the north-east tile, away from the corner
    hole_r, hole_c = TILE_PX // 3, side - TILE_PX // 3
    dsm[hole_r : hole_r + 60, hole_c : hole_c + 60] = np.nan

    tiles = []
    for j in range(km):
        for i in range(km):
            x_km, y_km = x_first + i, y_first - j
            rows = slice(j * TILE_PX, (j + 1) * TILE_PX)
            cols = slice(i * TILE_PX, (i + 1) * TILE_PX)
            _write_tile(
                lidar / lidar_file_name((x_km, y_km), "MNS"), dsm[rows, cols], (x_km, y_km),
                "MNS LiDAR HD (fictif) [m]", TAGS,
            )  # fmt: skip
            _write_tile(
                lidar / lidar_file_name((x_km, y_km), "MNT"), dtm[rows, cols], (x_km, y_km),
                "MNT LiDAR HD (fictif) [m]", TAGS,
            )  # fmt: skip
            tiles.append((x_km, y_km))

    roofs = pd.concat(parts, ignore_index=True)
    if warehouse is not None:  # the warehouse replaced whatever stood there
        roofs = roofs[~roofs.intersects(warehouse)]
    newer = _after_survey(dsm, dtm, transform, roofs)
    buildings = _bd_topo(roofs, warehouse, dtm, transform, seed, newer)
    bpath = out / "batiment.gpkg"
    pyogrio.write_dataframe(
        buildings,
        bpath,
        layer="batiment",
        driver="GPKG",
        layer_metadata={"ATLAS_QUALITE": "synthétique", "ATLAS_NOTE": QUALITY_NOTE},
    )
    apath = _ban(buildings, out / "adresses-62.csv", communes)
    (out / "LISEZMOI.json").write_text(
        json.dumps(
            {
                "qualite": "synthétique",
                "note": QUALITY_NOTE,
                "tuiles_km": km * km,
                "graine": seed,
                "format": "IGN LiDAR HD (MNS, MNT), BD TOPO batiment, BAN adresses-62.csv",
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    corner = buildings["cleabs"].iloc[-2] if warehouse is not None else ""
    return TerritoryFiles(lidar, tiles, bpath, apath, corner)


NEWER_ADDRESS = "2 allée de la Maison Neuve Fictive"  # built after the (fictional) survey


def _after_survey(
    dsm: np.ndarray, dtm: np.ndarray, transform: Affine, roofs: gpd.GeoDataFrame
) -> Polygon | None:
    """A 10 × 8 m house the BD TOPO has and the LiDAR did not see (built after the survey).

    The first open ground, scanning from the first tile's centre: no roof near, the
    surface model on the ground, no LiDAR hole. The build must say « non vu par le relevé
    LiDAR » and give it no figure (issue 27).
    """
    inv = ~transform
    x0, y0 = transform * (TILE_PX // 2, TILE_PX // 2)
    for step in range(0, 400, 20):
        for dx, dy in ((step, 0), (0, -step), (-step, 0), (0, step)):
            house = box(x0 + dx, y0 + dy, x0 + dx + 10.0, y0 + dy + 8.0)
            c0, r1 = (int(round(v)) for v in inv * (house.bounds[0], house.bounds[1]))
            c1, r0 = (int(round(v)) for v in inv * (house.bounds[2], house.bounds[3]))
            if min(r0, c0) < 0 or max(r1, c1) > dsm.shape[0]:
                continue
            raised = dsm[r0:r1, c0:c1] - dtm[r0:r1, c0:c1]
            near = roofs.intersects(house.buffer(15.0)).any()
            if not near and np.isfinite(raised).all() and (np.abs(raised) < 0.3).all():
                return house
    return None


def _bd_topo(
    roofs: gpd.GeoDataFrame,
    warehouse: Polygon | None,
    dtm: np.ndarray,
    transform: Affine,
    seed: int,
    newer: Polygon | None = None,
) -> gpd.GeoDataFrame:
    """The generated roofs as a BD TOPO ``batiment`` layer (MultiPolygon Z, its fields).

    ``newer``: a house on open ground in the surface model (built after the survey).
    """
    rng = np.random.default_rng(seed)
    geoms = list(roofs.geometry)
    kinds = list(roofs["type_bati"])
    heights = [float(h) + 3.0 for h in roofs["hauteur_egout"]]
    addresses = list(roofs["adresse"])
    if newer is not None:
        geoms.append(newer)
        kinds.append("maison construite après le relevé LiDAR")
        heights.append(6.0)
        addresses.append(NEWER_ADDRESS)
    if warehouse is not None:
        geoms.append(warehouse)
        kinds.append("entrepôt, toit plat")
        heights.append(12.0)
        addresses.append("1 rue de l'Entrepôt Fictif")
    # one self-intersecting ("bow-tie") footprint, as some deliveries contain
    x, y = geoms[0].bounds[0] + 300.0, geoms[0].bounds[1] + 5.0
    geoms.append(Polygon([(x, y), (x + 8, y + 6), (x + 8, y), (x, y + 6), (x, y)]))
    kinds.append("annexe (contour invalide)")
    heights.append(3.0)
    addresses.append("")
    inv = ~transform
    z_ground = []
    for g in geoms:
        c, r = inv * (g.centroid.x, g.centroid.y)
        r = min(max(int(r), 0), dtm.shape[0] - 1)
        c = min(max(int(c), 0), dtm.shape[1] - 1)
        z_ground.append(float(dtm[r, c]))
    usage = [
        "Industriel" if k.startswith("entrepôt") else "Annexe" if "annexe" in k else "Résidentiel"
        for k in kinds
    ]
    frame = gpd.GeoDataFrame(
        {
            "cleabs": [f"BATIMENT{700000000000000 + i:016d}" for i in range(len(geoms))],
            "nature": ["Indifférenciée"] * len(geoms),
            "usage_1": usage,
            "usage_2": [None] * len(geoms),
            "construction_legere": [False] * len(geoms),
            "etat_de_l_objet": ["En service"] * len(geoms),
            "hauteur": np.round(heights, 1),
            "nombre_d_etages": [1 if u != "Résidentiel" else 2 for u in usage],
            "nombre_de_logements": [
                int(rng.integers(1, 3)) if u == "Résidentiel" else 0 for u in usage
            ],
            "altitude_minimale_sol": np.round(z_ground, 2),
            "altitude_maximale_toit": np.round(np.add(z_ground, heights), 2),
            "adresse_fictive": addresses,
            "qualite": QUALITY_NOTE,
            "geometry": [
                MultiPolygon([force_3d(g, z)])
                for g, z in zip(geoms, np.add(z_ground, heights), strict=True)
            ],
        },
        crs="EPSG:2154",
    )
    return frame


def _ban(buildings: gpd.GeoDataFrame, path: Path, communes: gpd.GeoDataFrame | None = None) -> Path:
    """Fictional addresses of the buildings that have one, in the BAN CSV format."""
    have = buildings[buildings["adresse_fictive"] != ""]
    pts = have.geometry.representative_point()
    lonlat = gpd.GeoSeries(pts, crs=buildings.crs).to_crs(4326)
    insee = pd.Series("62528", index=have.index)
    name = pd.Series("Loos-en-Gohelle", index=have.index)
    if communes is not None:
        where = gpd.sjoin(
            gpd.GeoDataFrame(geometry=pts, crs=buildings.crs),
            communes[["insee", "nom", "geometry"]].to_crs(buildings.crs),
            how="left",
            predicate="within",
        )
        where = where[~where.index.duplicated()]
        insee = where["insee"].fillna("62528")
        name = where["nom"].fillna("Loos-en-Gohelle")
    numero = have["adresse_fictive"].str.split(" ", n=1).str[0]
    voie = have["adresse_fictive"].str.split(" ", n=1).str[1]
    frame = pd.DataFrame(
        {
            "id": [f"{c}_fictif_{i:06d}" for i, c in enumerate(insee)],
            "id_fantoir": "",
            "numero": numero.to_numpy(),
            "rep": "",
            "nom_voie": voie.to_numpy(),
            "code_postal": np.where(insee == "62528", "62750", ""),  # others: not known here
            "code_insee": insee.to_numpy(),
            "nom_commune": name.to_numpy(),
            "code_insee_ancienne_commune": "",
            "nom_ancienne_commune": "",
            "x": pts.x.round(2).to_numpy(),
            "y": pts.y.round(2).to_numpy(),
            "lon": lonlat.x.round(6).to_numpy(),
            "lat": lonlat.y.round(6).to_numpy(),
            "type_position": "bâtiment",
            "alias": "",
            "nom_ld": "",
            "libelle_acheminement": name.str.upper().str.replace("-", " ").to_numpy(),
            "nom_afnor": voie.str.upper().to_numpy(),
            "source_position": "synthétique (Atlas PMA)",
            "source_nom_voie": "synthétique (Atlas PMA)",
            "certification_commune": "0",
            "cad_parcelles": "",
        }
    )
    frame.to_csv(path, sep=";", index=False)
    return path
