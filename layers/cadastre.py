"""The app's view of a cadastre store: open it, find a roof, say where the store reaches.

A store is what ``pma-atlas solar build`` writes (see :mod:`layers.solar.build`): roofs in
a GeoPackage with an R-tree (``toits``), addresses (``adresses``), per-commune totals
(``communes``), the computed area (``couverture``) and the irradiation as COG tiles.
Nothing here loads all roofs or the whole raster: a roof is found by the spatial index
(a click, an address) or by its ``cleabs`` (a shared link), and the territory view reads
the per-commune totals. This module never computes irradiation itself.

The cadastre's other jobs sit beside it, one module each: ``cadastre_colours`` (the map's
classes, all the tile route needs), ``cadastre_estimate`` (a roof's economics and their
wording), ``cadastre_map`` (the folium map), ``cadastre_figures`` (the territory tab and
downloads), ``cadastre_sheet`` (the roof's PDF) and ``cadastre_demo`` (the demo store).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from layers.formatting import fmt_float
from layers.geocode import Address
from layers.solar.errors import SolarError
from layers.solar.store import ADDRESS_TO_ROOF_M, Reader
from layers.solar.store import CLASSES as CLASS_COLUMNS
from layers.territory import Selection, Territory, selected_communes

LOG = logging.getLogger("atlas.cadastre")
_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)
CLASS_ORDER = list(CLASS_COLUMNS)
NEAR_M = 150.0  # roof outlines drawn around the chosen point


@dataclass(frozen=True)
class Cadastre:
    """The app's view of an opened store: the engine's :class:`Reader`, its area in EPSG:4326.

    Everything about the store's files goes through ``reader`` (:mod:`layers.solar.store`);
    this adds what a web map needs (longitudes and latitudes) and French wording.
    """

    reader: Reader
    coverage: BaseGeometry  # EPSG:4326 polygon of the computed tiles

    @property
    def path(self) -> Path:
        """The store's folder."""
        return self.reader.path

    @property
    def communes(self) -> pd.DataFrame:
        """Per-commune totals (insee, commune, epci, toits, kWc, kWh…)."""
        return self.reader.communes

    @property
    def synthetic(self) -> bool:
        """Whether the roofs come from fictional buildings."""
        return self.reader.synthetic

    @property
    def has_addresses(self) -> bool:
        """Whether the store holds an address layer."""
        return self.reader.has_addresses

    @property
    def version(self) -> str:
        """The key of whatever is cached from this store."""
        return self.reader.version

    @property
    def vrt(self) -> Path:
        """The whole irradiation raster (a VRT over the tiles' COGs)."""
        return self.reader.layout.vrt

    @property
    def tiles(self) -> list[str]:
        """Names of the computed LiDAR tiles (``0684_7041``…)."""
        return self.reader.tiles

    @property
    def climate(self) -> str:
        """Which typical year the estimates used, in one French line."""
        return describe_climate(self.reader.climate)


def describe_climate(w: object) -> str:
    """Which typical year, where, from when, in one French line.

    « Uccle (BEL), SRC-TMYx — EPW, 50,80° N 4,36° E, année type 2007–2021, 1 113,5
    kWh/m²/an au sol »: one range of years, the one the typical year was built from.
    """
    if not isinstance(w, dict):
        return "climat non renseigné"
    name, source = str(w.get("nom", "?")), str(w.get("source", "?"))
    parts = [source] if source != name else []
    lat, lon = w.get("latitude"), w.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        parts.append(
            f"{fmt_float(abs(lat), 2)}° {'N' if lat >= 0 else 'S'} "
            f"{fmt_float(abs(lon), 2)}° {'E' if lon >= 0 else 'O'}"
        )
    if w.get("periode"):
        parts.append(f"année type {w['periode']}")
    if isinstance(w.get("ghi_kwh_m2"), int | float):
        parts.append(f"{fmt_float(w['ghi_kwh_m2'], 1)} kWh/m²/an au sol")
    return f"{name} — " + ", ".join(parts)


def open_cadastre(path: Path) -> Cadastre | None:
    """Open a store; ``None`` when nothing is computed there yet, SolarError when damaged."""
    try:
        reader = Reader.open(Path(path))
    except SolarError as err:  # the details to the log, the French sentence to the page
        LOG.error("magasin du cadastre %s : %s (%s)", path, err, err.__cause__)
        raise
    if reader is None:
        return None
    coverage = gpd.GeoSeries([reader.coverage], crs=2154).to_crs(4326).iloc[0]
    return Cadastre(reader=reader, coverage=coverage)


def roof_at_latlng(cad: Cadastre, lat: float, lng: float) -> str | None:
    """``cleabs`` of the roof under a clicked point (latitude, longitude), or ``None``."""
    hits = cad.reader.roofs_under(*_TO_L93.transform(lng, lat))
    return None if hits.empty else str(hits["cleabs"].iloc[0])


def get_roof(cad: Cadastre, cleabs: str) -> pd.Series | None:
    """One roof by its ``cleabs`` (indexed), geometry in EPSG:4326; ``None`` if unknown."""
    row = cad.reader.roof(cleabs)
    if row is None:
        return None
    roof = gpd.GeoDataFrame([row], crs=2154).to_crs(4326).iloc[0].copy()
    roof["toit_id"] = cleabs
    return roof


def roofs_near_latlng(
    cad: Cadastre, lat: float, lng: float, radius: float = NEAR_M
) -> gpd.GeoDataFrame:
    """Roofs around a point (latitude, longitude), for their outlines on the map (EPSG:4326)."""
    rows = cad.reader.roofs_near(*_TO_L93.transform(lng, lat), radius)
    return rows.to_crs(4326).assign(toit_id=rows["cleabs"])


class AddressStatus(StrEnum):
    """Where an address stands with the cadastre."""

    OUTSIDE = "hors_pma"  # outside the PMA's communes
    NOT_COVERED = "non_couvert"  # in the PMA, not computed yet
    NO_ROOF = "sans_toit"  # computed, no roof within ADDRESS_TO_ROOF_M
    ROOF = "toit"  # its roof is known


def locate(
    address: Address, cad: Cadastre | None, territory: Territory
) -> tuple[AddressStatus, str | None]:
    """Status of an address (:class:`AddressStatus`) and its roof's ``cleabs``."""
    from layers.geocode import in_pma

    if not in_pma(address, territory):
        return AddressStatus.OUTSIDE, None
    if cad is None or not cad.coverage.contains(Point(address.lon, address.lat)):
        return AddressStatus.NOT_COVERED, None
    x, y = _TO_L93.transform(address.lon, address.lat)
    near = cad.reader.roofs_near(x, y, ADDRESS_TO_ROOF_M)
    if near.empty:
        return AddressStatus.NO_ROOF, None
    dist = near.distance(Point(x, y))
    if dist.min() > ADDRESS_TO_ROOF_M:
        return AddressStatus.NO_ROOF, None
    return AddressStatus.ROOF, str(near.loc[dist.idxmin(), "cleabs"])


SEARCH_CANDIDATES = 200


def address_candidates(cad: Cadastre, query: str) -> pd.DataFrame:
    """Addresses of the store whose text holds every distinctive word of ``query``.

    One bounded read (at most ``SEARCH_CANDIDATES`` rows): the address table is never
    loaded whole. The result has the columns :func:`layers.geocode.local_search` scores.
    """
    from layers.geocode import GENERIC, _norm
    from layers.solar.ban import fold

    words = [w for w in fold(query).split() if w not in GENERIC and (len(w) > 1 or w.isdigit())]
    rows = cad.reader.addresses(words[:6], SEARCH_CANDIDATES)
    if rows.empty:
        return pd.DataFrame()
    lonlat = rows.geometry.to_crs(4326)
    return pd.DataFrame(
        {
            "label": rows["label"],
            "lon": lonlat.x.round(7),
            "lat": lonlat.y.round(7),
            "code_insee": rows["code_insee"],
            "synthetique": rows["synthetique"],
            "_tokens": rows["label"].map(_norm),
        }
    )


def roofs_of(cad: Cadastre, insee: list[str]) -> gpd.GeoDataFrame:
    """All roofs of some communes (for a download asked for), in EPSG:4326."""
    rows = cad.reader.roofs_of(insee)
    return rows.to_crs(4326).assign(toit_id=rows["cleabs"])


def covered_communes(cad: Cadastre | None, territory: Territory, selection: Selection) -> list[str]:
    """INSEE codes of the selection's communes that have computed roofs."""
    if cad is None or cad.communes.empty:
        return []
    keep = set(selected_communes(territory, selection)["insee"])
    return sorted(set(cad.communes["insee"].dropna()) & keep)


NOT_YET_COVERED = (
    "Secteur pas encore couvert : aucun toit de la sélection n'est encore calculé. "
    "La carte montre en pointillés le secteur déjà calculé."
)


def coverage_note(cad: Cadastre, territory: Territory, selection: Selection) -> str | None:
    """What the map's page says when the selection has no computed roof (``None`` if it has).

    A store computed outside the PMA (another territory's LiDAR) has roofs on the map that
    no EPCI or commune of the atlas holds: « pas encore couvert » would deny what the map
    shows (issue 30), so it says where the store is instead.
    """
    if covered_communes(cad, territory, selection):
        return None
    if not cad.coverage.is_empty and not cad.coverage.intersects(territory.union_4326):
        named = cad.communes.get("commune", pd.Series(dtype=str)).dropna().astype(str)
        where = f" ({', '.join(sorted(set(named))[:3])})" if len(named) else ""
        return (
            f"Ce cadastre couvre un secteur hors du Pôle Métropolitain de l'Artois{where} : "
            "ses toits s'affichent sur la carte et se choisissent d'un clic ou par adresse ; "
            "le filtre par intercommunalité et par commune ne s'y applique pas."
        )
    return NOT_YET_COVERED
