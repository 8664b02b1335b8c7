"""The build's last stage: the tiles' outputs assembled into the store's tables.

:func:`assemble` reads every tile's roofs and writes ``toits.gpkg`` (roofs with their
commune and EPCI, addresses tied to roofs, per-commune totals, the coverage),
``irradiation.vrt`` and the 4 m overview. Each file is written under a temporary name and
renamed: the app never sees a half-written table. :func:`signature` says whether the
tables are already up to date.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
from affine import Affine
from pyproj import CRS

from layers.solar.grid import CELL, TILE_PX, tile_box, tile_origin
from layers.solar.inputs import sha256_file
from layers.solar.roofs import NO_DATA, NOT_SEEN, UNDETERMINED
from layers.solar.store import (
    ADDRESS_TO_ROOF_M,
    CLASSES,
    Manifest,
    StoreLayout,
    key_of,
)

FINISH_VERSION = 3  # what assemble writes (3: roof figures from modules); a change redoes it
OVERVIEW_CELL = 4.0  # [m] the whole territory in one COG, for maps at low zoom
PRODUCER = {"units": "kWh/m2/an", "producer": "Atlas PMA (layers.solar.build)"}
TOTALS = ["surface_utile_m2", "kwc_bas", "kwc_central", "kwc_haut"] + [
    f"kwh_an_{level}" for level in ("bas", "central", "haut")
]


@dataclass(frozen=True, eq=False)
class Context:
    """What the tables are assembled with besides the tiles' roofs.

    Attributes
    ----------
    communes
        ``insee``, ``nom``, ``epci_code`` and polygons (``None``: roofs without commune).
    addresses
        The BAN file given (its checksum is part of :func:`signature`).
    ban_rows
        That file as ``ban.read_ban`` read it.
    performance_ratio
        Low, central, high: the range of a roof's kWh/yr from its modules
        (:func:`figures_from_panels`).
    """

    communes: gpd.GeoDataFrame | None = None
    addresses: Path | None = None
    ban_rows: pd.DataFrame | None = None
    performance_ratio: tuple[float, float, float] | None = None


def signature(manifest: Manifest, context: Context) -> str:
    """What the assembled tables depend on besides the tiles (records, communes, addresses).

    Parameters
    ----------
    manifest
        The manifest with every tile's record.
    context
        Communes and addresses.

    Returns
    -------
    str
        A SHA-256: equal signatures mean the store's tables are already up to date.
    """
    records = {name: asdict(record.entrees) for name, record in manifest.dalles.items()}
    digest = hashlib.sha256(json.dumps(records, sort_keys=True).encode())
    digest.update(f"assemblage {FINISH_VERSION} {context.performance_ratio}".encode())
    digest.update(json.dumps(manifest.pans, sort_keys=True).encode())
    if context.communes is not None:
        digest.update(context.communes[["insee", "nom", "epci_code"]].to_csv().encode())
        digest.update(b"".join(context.communes.geometry.to_wkb()))
    if context.addresses is not None:
        digest.update(sha256_file(context.addresses).encode())
    return digest.hexdigest()


def assemble(out: Path, names: list[str], context: Context) -> bool:
    """All roofs in one GeoPackage (R-tree), addresses, per-commune totals, coverage, a VRT.

    Parameters
    ----------
    out
        The store's folder.
    names
        Every tile the store holds (store names).
    context
        Communes and addresses.

    Returns
    -------
    bool
        Whether the roofs are fictional (their BD TOPO ``qualite`` field says
        « synthétique »).
    """
    layout = StoreLayout(out)
    parts = [gpd.read_parquet(layout.roofs_part(n)) for n in names]
    roofs = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    communes = context.communes
    if communes is not None:
        _place_in_communes(roofs, communes)
    ban = tie_addresses(context.ban_rows, roofs) if context.ban_rows is not None else None
    if ban is not None and communes is not None:  # the département file: keep the PMA's
        ban = ban[ban["code_insee"].isin(set(communes["insee"]))]
    if ban is not None:
        first = ban.dropna(subset=["cleabs"]).drop_duplicates("cleabs").set_index("cleabs")
        roofs["adresse"] = roofs["cleabs"].map(first["label"])
    ready, faces, panels = _faces_and_panels(layout, names)
    if faces is not None:
        roofs = figures_from_panels(roofs, (ready, faces), context.performance_ratio)
        roofs = without_unseen(roofs, unseen_of(layout, ready))
    tmp = layout.gpkg_in_progress
    tmp.unlink(missing_ok=True)
    pyogrio.write_dataframe(roofs, tmp, layer="toits", driver="GPKG", spatial_index=True)
    index_column(tmp, "toits", "cleabs")
    if faces is not None:
        for layer, frame in (("pans", faces), ("panneaux", panels)):
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG", spatial_index=True)
            index_column(tmp, layer, "cleabs")
    if ban is not None:
        pyogrio.write_dataframe(ban, tmp, layer="adresses", driver="GPKG", spatial_index=True)
    if "insee" in roofs.columns:
        pyogrio.write_dataframe(commune_totals(roofs), tmp, layer="communes", driver="GPKG")
    _write_coverage(tmp, names)
    os.replace(tmp, layout.gpkg)
    write_vrt(layout, names)
    write_overview(out, names)
    quality = roofs["qualite"] if "qualite" in roofs.columns else pd.Series([], dtype=str)
    return bool(len(quality) and str(quality.iloc[0]).startswith("synthétique"))


# what toits gains from its faces (build_faces), summed per commune in the communes layer
FACE_TOTALS = ("pans", "panneaux")
FACE_ROOF_COLUMNS = {
    "pans": "faces found on the roof (layer pans)",
    "panneaux": "modules laid on it (layer panneaux)",
    "calcul_puissance": "« panneaux » (kWc and kWh/an of its modules) or « surface » "
    "(usable area × power density: its tile has no faces yet)",
}
PANELS, AREA = "panneaux", "surface"  # the values of calcul_puissance


def figures_from_panels(
    roofs: gpd.GeoDataFrame, laid_out: tuple, performance_ratio: tuple | None
) -> gpd.GeoDataFrame:
    """A roof's kWc and kWh/yr from its modules, wherever its tile has faces (issue 27).

    ``kwc_bas`` = ``kwc_central`` = ``kwc_haut`` = its modules' peak power (a whole number
    of modules has one power); ``kwh_an_{level}`` = its modules' yield at the central
    performance ratio × that level's ratio over the central one. A roof whose tile has
    faces but that holds no module is « non adapté » with 0 kWc. Roofs of tiles without
    faces yet keep the area × density figures (``calcul_puissance`` says which).

    Parameters
    ----------
    roofs
        The tiles' roofs (``roofs.ROOF_STATISTICS_COLUMNS``).
    laid_out
        ``(tiles, faces)``: the store names of the tiles whose faces are made, and those
        faces (``build_faces.FACE_COLUMNS``).
    performance_ratio
        Low, central, high [-]; ``None``: the low and high kWh are the central's.

    Returns
    -------
    geopandas.GeoDataFrame
        ``roofs`` with :data:`FACE_ROOF_COLUMNS` and the figures replaced.
    """
    tiles, faces = laid_out
    out = roofs.copy()
    per_roof = faces.groupby("cleabs")[["panneaux", "kwc", "kwh_an"]].sum()
    laid = out["dalle"].isin(set(tiles))
    out["pans"] = out["cleabs"].map(faces.groupby("cleabs").size()).fillna(0).astype(int)
    out["panneaux"] = out["cleabs"].map(per_roof["panneaux"]).fillna(0).astype(int)
    out["calcul_puissance"] = np.where(laid, PANELS, AREA)
    kwc = out["cleabs"].map(per_roof["kwc"]).fillna(0.0).round(3)
    kwh = out["cleabs"].map(per_roof["kwh_an"]).fillna(0.0)
    low, mid, high = performance_ratio or (1.0, 1.0, 1.0)
    for level, ratio in (("bas", low / mid), ("central", 1.0), ("haut", high / mid)):
        out.loc[laid, f"kwc_{level}"] = kwc[laid]
        out.loc[laid, f"kwh_an_{level}"] = (kwh[laid] * ratio).round(0)
    empty = laid & (out["panneaux"] == 0) & (out["classe"] != NO_DATA)
    out.loc[empty, "classe"] = "non adapté"
    return out


# what a building the LiDAR did not see keeps: no figure (empty: NaN, which every sum
# skips), no face and no module (0)
UNSEEN_ZERO = ["pans", "panneaux"]
UNSEEN_NAN = [
    "surface_utile_m2",
    "irradiation_toit",
    "irradiation_utile",
    "pente_dominante",
    "orientation_dominante",
] + [f"{kind}_{level}" for kind in ("kwc", "kwh_an") for level in ("bas", "central", "haut")]


def without_unseen(roofs: gpd.GeoDataFrame, unseen: set[str]) -> gpd.GeoDataFrame:
    """The buildings the LiDAR did not see: « non vu par le relevé LiDAR », no figures.

    Never a flat-roof estimate from the ground: their usable area, irradiation, slope,
    orientation, power and yield are empty (NaN: a sum skips them, a CSV leaves the cell
    blank), their faces and modules 0.

    Parameters
    ----------
    roofs
        The roofs (after :func:`figures_from_panels`).
    unseen
        The ``cleabs`` the faces stage found unseen (``faces.unseen_by_lidar``).

    Returns
    -------
    geopandas.GeoDataFrame
    """
    out = roofs.copy()
    hit = out["cleabs"].isin(unseen)
    if not hit.any():
        return out
    out.loc[hit, "classe"] = NOT_SEEN
    out.loc[hit, "orientation"] = UNDETERMINED
    for column in UNSEEN_ZERO:
        if column in out:
            out.loc[hit, column] = 0
    for column in UNSEEN_NAN:
        if column in out:
            out.loc[hit, column] = np.nan
    return out


def unseen_of(layout: StoreLayout, ready: list[str]) -> set[str]:
    """The ``cleabs`` of every unseen building of the tiles with faces.

    Parameters
    ----------
    layout
        The store.
    ready
        Tiles (store names) whose faces stage ran.

    Returns
    -------
    set of str
    """
    parts = [layout.face_parts(n)[2] for n in ready]
    return {c for p in parts if p.is_file() for c in pd.read_parquet(p)["cleabs"]}


def _faces_and_panels(layout: StoreLayout, names: list[str]):
    """The tiles with faces, their faces and modules (``[]``, ``None``, ``None``: none yet)."""
    ready = [n for n in names if all(p.is_file() for p in layout.face_parts(n))]
    if not ready:
        return ready, None, None
    frames = []
    for which in (0, 1):  # pans, panneaux
        pieces = [gpd.read_parquet(layout.face_parts(n)[which]) for n in ready]
        frames.append(gpd.GeoDataFrame(pd.concat(pieces, ignore_index=True), crs=2154))
    return ready, frames[0], frames[1]


def _place_in_communes(roofs: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> None:
    """Each roof's ``insee``, ``commune`` and ``epci``: the commune its inner point is in."""
    where = gpd.GeoDataFrame(geometry=roofs.geometry.representative_point(), crs=roofs.crs)
    joined = gpd.sjoin(
        where,
        communes[["insee", "nom", "epci_code", "geometry"]].to_crs(roofs.crs),
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated()]
    roofs["insee"] = joined["insee"].to_numpy()
    roofs["commune"] = joined["nom"].to_numpy()
    roofs["epci"] = joined["epci_code"].to_numpy()


def commune_totals(roofs: gpd.GeoDataFrame) -> pd.DataFrame:
    """The ``communes`` layer: per commune, roofs, usable area, kWc and kWh/yr, classes.

    Parameters
    ----------
    roofs
        Every roof, with ``insee``, ``commune``, ``epci`` and ``classe``.

    Returns
    -------
    pandas.DataFrame
        One row per commune (and one for roofs outside every commune).
    """
    classes = pd.get_dummies(roofs["classe"]).reindex(columns=list(CLASSES), fill_value=0)
    classes.columns = list(CLASSES.values())
    roofs = roofs.join(classes.astype(int))
    faces = [c for c in FACE_TOTALS if c in roofs.columns]  # a store with faces
    return (
        roofs.groupby(["insee", "commune", "epci"], dropna=False)
        .agg(
            toits=("cleabs", "size"),
            **{c: (c, "sum") for c in TOTALS},
            **{c: (c, "sum") for c in CLASSES.values()},
            **{c: (c, "sum") for c in faces},
        )
        .reset_index()
    )


def _write_coverage(gpkg: Path, names: list[str]) -> None:
    """The ``couverture`` layer: the computed tiles' union, their count and names."""
    from shapely import union_all

    pyogrio.write_dataframe(
        gpd.GeoDataFrame(
            {"dalles": [len(names)], "noms": [" ".join(names)]},
            geometry=[union_all([tile_box(key_of(n)) for n in names])],
            crs=2154,
        ),
        gpkg,
        layer="couverture",
        driver="GPKG",
    )


def index_column(gpkg: Path, layer: str, column: str) -> None:
    """An SQLite index on a column (the app fetches a roof by ``cleabs``).

    Parameters
    ----------
    gpkg
        The GeoPackage.
    layer, column
        What to index.

    Returns
    -------
    None
    """
    import sqlite3

    with sqlite3.connect(gpkg) as db:
        db.execute(f'CREATE INDEX IF NOT EXISTS "{layer}_{column}" ON "{layer}" ("{column}")')


def tie_addresses(frame: pd.DataFrame, roofs: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """BAN addresses with the ``cleabs`` of the building each one is on (or ≤ 15 m away).

    Parameters
    ----------
    frame
        The BAN rows (``ban.read_ban``): ``lon``, ``lat``, ``label``, ``code_insee``…
    roofs
        Every roof (Lambert-93).

    Returns
    -------
    geopandas.GeoDataFrame
        ``label``, ``recherche`` (folded), ``code_insee``, ``synthetique``, ``cleabs``
        (``NaN`` farther than ``ADDRESS_TO_ROOF_M`` from every roof), points in the roofs' CRS.
    """
    from layers.solar.ban import fold

    lon = pd.to_numeric(frame["lon"], errors="coerce")
    lat = pd.to_numeric(frame["lat"], errors="coerce")
    frame = frame[lon.notna() & lat.notna()]
    label = frame["label"]
    points = gpd.GeoSeries.from_xy(lon[frame.index], lat[frame.index], crs=4326).to_crs(roofs.crs)
    ban = gpd.GeoDataFrame(
        {
            "label": label.to_numpy(),
            "recherche": label.map(fold).to_numpy(),
            "code_insee": frame["code_insee"].to_numpy(),
            "synthetique": frame.get("source_position", pd.Series("", index=frame.index))
            .str.contains("synthétique")
            .map({True: "oui", False: "non"})
            .to_numpy(),
        },
        geometry=points.to_numpy(),
        crs=roofs.crs,
    )
    coverage = roofs.total_bounds
    near = gpd.sjoin_nearest(
        ban.cx[coverage[0] - 50 : coverage[2] + 50, coverage[1] - 50 : coverage[3] + 50],
        roofs[["cleabs", "geometry"]],
        how="left",
        max_distance=ADDRESS_TO_ROOF_M,
    )
    near = near[~near.index.duplicated()]
    ban["cleabs"] = near["cleabs"].reindex(ban.index)
    return ban


def write_overview(out: Path, names: list[str]) -> None:
    """``irradiation-apercu.tif``: the whole territory at 4 m (a COG with its own overviews).

    A map tile at zoom ≤ 14 covers 1.5 km or more: drawn from the tiles' COGs it would open
    up to a dozen files; from this one file it reads a few kB. Each tile contributes its
    own overview level (mean of 8 × 8 pixels), read and written one tile at a time.

    Parameters
    ----------
    out
        The store's folder.
    names
        Every tile the store holds.

    Returns
    -------
    None
    """
    from rasterio.enums import Resampling

    from layers.solar.raster import create_tiled_gtiff, to_cog

    layout = StoreLayout(out)
    keys = [key_of(n) for n in names]
    step = int(round(OVERVIEW_CELL / CELL))
    size = TILE_PX // step
    x0, y1 = min(k[0] for k in keys), max(k[1] for k in keys)
    width = (max(k[0] for k in keys) - x0 + 1) * size
    height = (y1 - min(k[1] for k in keys) + 1) * size
    left, top = tile_origin((x0, y1))
    tmp = out / ".irradiation-apercu.tif.tmp"
    transform = Affine(OVERVIEW_CELL, 0, left, 0, -OVERVIEW_CELL, top)
    crs = CRS.from_epsg(2154)
    create_tiled_gtiff(tmp, height, width, transform, crs, "irradiation annuelle [kWh/m2/an]")
    with rasterio.open(tmp, "r+") as dst:
        for key, name in zip(keys, names, strict=True):
            with rasterio.open(layout.cog(name)) as src:
                data = src.read(1, out_shape=(size, size), resampling=Resampling.average)
            row, col = (y1 - key[1]) * size, (key[0] - x0) * size
            dst.write(data, 1, window=rasterio.windows.Window(col, row, size, size))
    final = out / ".irradiation-apercu.cog.tmp"
    to_cog(tmp, final, PRODUCER)
    tmp.unlink()
    os.replace(final, layout.overview)


def write_vrt(layout: StoreLayout, names: list[str]) -> None:
    """``irradiation.vrt``: every tile's COG placed on one grid (QGIS opens the territory).

    Parameters
    ----------
    layout
        The store.
    names
        Every tile the store holds.

    Returns
    -------
    None
    """
    path = layout.vrt
    keys = [key_of(n) for n in names]
    x0, y1 = min(k[0] for k in keys), max(k[1] for k in keys)
    left, top = tile_origin((x0, y1))
    width = (max(k[0] for k in keys) - x0 + 1) * TILE_PX
    height = (y1 - min(k[1] for k in keys) + 1) * TILE_PX
    sources = "".join(
        f"""
    <ComplexSource>
      <SourceFilename relativeToVRT="1">{layout.cog(name).relative_to(layout.root)}</SourceFilename>
      <SourceBand>1</SourceBand>
      <SrcRect xOff="0" yOff="0" xSize="{TILE_PX}" ySize="{TILE_PX}"/>
      <DstRect xOff="{(k[0] - x0) * TILE_PX}" yOff="{(y1 - k[1]) * TILE_PX}" xSize="{TILE_PX}" ySize="{TILE_PX}"/>
      <NODATA>nan</NODATA>
    </ComplexSource>"""  # noqa: E501
        for name, k in zip(names, keys, strict=True)
    )
    wkt = CRS.from_epsg(2154).to_wkt()
    text = f"""<VRTDataset rasterXSize="{width}" rasterYSize="{height}">
  <SRS>{wkt}</SRS>
  <GeoTransform>{left}, {CELL}, 0, {top}, 0, {-CELL}</GeoTransform>
  <VRTRasterBand dataType="Float32" band="1">
    <NoDataValue>nan</NoDataValue>
    <Description>irradiation annuelle [kWh/m2/an]</Description>{sources}
  </VRTRasterBand>
</VRTDataset>
"""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
