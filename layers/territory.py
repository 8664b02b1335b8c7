"""The PMA territory: communes, EPCI, the user's selection and the rows within it.

A :class:`Selection` (EPCI codes, commune INSEE codes) is what the shared sidebar produces
and what the URL carries (``?epci=CALL&commune=62498``). Every layer is restricted
through :func:`within_selection`, so key figures, tables and maps read the same frames.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry.base import BaseGeometry

from layers.catalog import LayerInfo, load_catalog, read_layer
from layers.formatting import fmt_float, fmt_int

METRIC_CRS = "EPSG:2154"  # Lambert-93: areas and lengths are measured here
DISPLAY_CRS = "EPSG:4326"
EPCI_ORDER = ("CALL", "CAHC", "CABBALR")
URL_EPCI = "epci"
URL_COMMUNE = "commune"
_MAX_SHOWN = 40  # characters of a rejected URL value echoed back to the user


@dataclass(frozen=True)
class Selection:
    """What the user chose: EPCI codes and commune INSEE codes (empty = everything)."""

    epci: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()

    @property
    def is_everything(self) -> bool:
        """True when nothing restricts the territory."""
        return not self.epci and not self.communes


@dataclass(frozen=True)
class Territory:
    """Communes, EPCI and town halls of the PMA, in EPSG:4326, with their catalogue entries."""

    communes: gpd.GeoDataFrame
    epci: gpd.GeoDataFrame
    mairies: gpd.GeoDataFrame
    catalog: Mapping[str, LayerInfo]

    @property
    def epci_names(self) -> dict[str, str]:
        """EPCI code → full name, in the usual order (CALL, CAHC, CABBALR)."""
        names = dict(zip(self.epci["epci_code"], self.epci["epci_nom"], strict=True))
        ordered = [c for c in EPCI_ORDER if c in names] + sorted(set(names) - set(EPCI_ORDER))
        return {code: names[code] for code in ordered}

    @cached_property
    def union_4326(self) -> BaseGeometry:
        """The PMA's outline (union of the communes, EPSG:4326), prepared for fast tests."""
        import shapely

        area = self.communes.geometry.union_all()
        shapely.prepare(area)
        return area

    @cached_property
    def epci_of(self) -> dict[str, str]:
        """Commune INSEE code → EPCI code."""
        return dict(zip(self.communes["insee"], self.communes["epci_code"], strict=True))

    @cached_property
    def _communes_by_name(self) -> pd.DataFrame:
        """INSEE code, name and EPCI of every commune, sorted by name once (no geometry)."""
        table = pd.DataFrame(self.communes[["insee", "nom", "epci_code"]])
        return table.sort_values("nom", key=_sort_key)

    def communes_of(self, epci: Sequence[str]) -> pd.DataFrame:
        """INSEE code and name of the communes of the given EPCI (all when empty), by name.

        Asked twice at every rerun (the sidebar's filter): from a table sorted once, not
        the communes' geometries sorted again (~4 ms a call).
        """
        frame = self._communes_by_name
        return frame[frame["epci_code"].isin(epci)] if epci else frame


def _sort_key(names: pd.Series) -> pd.Series:
    """Sort French names ignoring case and accents (É sorts with E)."""
    import unicodedata

    return names.map(
        lambda s: unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode().lower()
    )


def load_territory(geodata_dir: Path) -> Territory:
    """Read the territory layers listed in the catalogue of ``geodata_dir``."""
    catalog = load_catalog(geodata_dir)
    frames = {k: read_layer(catalog[k], geodata_dir) for k in ("communes", "epci", "mairies")}
    frames["communes"]["insee"] = frames["communes"]["insee"].astype(str)
    return Territory(catalog=catalog, **frames)


def _values(params: Mapping[str, str | Sequence[str]], key: str) -> list[str]:
    """All values of a URL parameter, accepting repeated keys and comma-separated lists."""
    raw = params.get(key, [])
    items = [raw] if isinstance(raw, str) else list(raw)
    return [v.strip() for item in items for v in str(item).split(",") if v.strip()]


def _shown(value: str) -> str:
    return value if len(value) <= _MAX_SHOWN else value[: _MAX_SHOWN - 1] + "…"


def parse_selection(
    params: Mapping[str, str | Sequence[str]], territory: Territory
) -> tuple[Selection, list[str]]:
    """Turn URL query parameters into a :class:`Selection`, ignoring invalid values.

    Parameters
    ----------
    params
        Query parameters: ``epci`` (codes, case-insensitive) and ``commune`` (INSEE codes),
        each repeated or comma-separated.
    territory
        The territory that defines valid codes.

    Returns
    -------
    selection, notices
        The valid part of the request, and one French notice per ignored value (the value
        is shortened and must still be displayed as plain text by the caller).
    """
    notices: list[str] = []
    known_epci = {code.upper(): code for code in territory.epci_names}
    epci: list[str] = []
    for value in _values(params, URL_EPCI):
        code = known_epci.get(value.upper())
        if code is None:
            notices.append(f"Intercommunalité inconnue ignorée : {_shown(value)}")
        elif code not in epci:
            epci.append(code)
    commune_epci = territory.epci_of
    communes: list[str] = []
    for value in _values(params, URL_COMMUNE):
        if value not in commune_epci:
            notices.append(f"Commune inconnue ignorée (code INSEE) : {_shown(value)}")
        elif epci and commune_epci[value] not in epci:
            notices.append(
                f"Commune {value} ignorée : elle n'appartient pas à l'intercommunalité choisie"
            )
        elif value not in communes:
            communes.append(value)
    order = {c: i for i, c in enumerate(territory.epci_names)}
    return Selection(tuple(sorted(epci, key=lambda code: order[code])), tuple(communes)), notices


def selection_to_params(selection: Selection) -> dict[str, list[str]]:
    """URL parameters that reproduce ``selection`` (empty parts are left out)."""
    params: dict[str, list[str]] = {}
    if selection.epci:
        params[URL_EPCI] = list(selection.epci)
    if selection.communes:
        params[URL_COMMUNE] = list(selection.communes)
    return params


def selected_communes(territory: Territory, selection: Selection) -> gpd.GeoDataFrame:
    """The communes in the selection (communes win over EPCI when both are given)."""
    frame = territory.communes
    if selection.communes:
        return frame[frame["insee"].isin(selection.communes)]
    if selection.epci:
        return frame[frame["epci_code"].isin(selection.epci)]
    return frame


def selection_geometry(territory: Territory, selection: Selection) -> BaseGeometry:
    """Union of the selected communes (EPSG:4326)."""
    return selected_communes(territory, selection).geometry.union_all()


def within_selection(
    gdf: gpd.GeoDataFrame, territory: Territory, selection: Selection, *, cut: bool = False
) -> gpd.GeoDataFrame:
    """The rows of a layer within the selection — the one function every page uses.

    Unlike ``geopandas.clip``, geometries are kept whole unless ``cut=True``.

    Frames with an ``insee`` column (communes, town halls…) are filtered by attribute, frames
    with an ``insee_list`` column (comma-separated codes of the communes a park or a link
    covers, computed by spatial join) keep rows sharing a code with the selection. Other
    frames keep the features that intersect the selected communes; with ``cut=True``
    their geometries are also cut at the selection's border.
    """
    if selection.is_everything:
        return gdf
    if "insee" in gdf.columns:
        keep = selected_communes(territory, selection)["insee"]
        return gdf[gdf["insee"].astype(str).isin(keep)]
    if "insee_list" in gdf.columns:  # features spanning communes (parks, links)
        wanted = set(selected_communes(territory, selection)["insee"])
        hits = gdf["insee_list"].fillna("").map(lambda s: bool(wanted & set(s.split(","))))
        return gdf[hits]
    area = selection_geometry(territory, selection)
    if gdf.crs is not None and not gdf.crs.equals(territory.communes.crs):
        area = gpd.GeoSeries([area], crs=territory.communes.crs).to_crs(gdf.crs).iloc[0]
    kept = gdf[gdf.intersects(area)]
    if cut:
        kept = kept.copy()
        kept["geometry"] = kept.geometry.intersection(area)
        kept = kept[~kept.geometry.is_empty]
    return kept


@dataclass(frozen=True)
class CommuneTotals:
    """Totals of a set of communes (the numbers behind the home page's headline figures)."""

    n_communes: int
    population: int  # inhabitants (population municipale)
    area_km2: float  # computed in Lambert-93 from the shipped outlines [km²]

    @property
    def density(self) -> float:
        """Inhabitants per km² (0 when the area is 0)."""
        return self.population / self.area_km2 if self.area_km2 else 0.0


def commune_totals(communes: gpd.GeoDataFrame) -> CommuneTotals:
    """Count communes, sum population and area (measured in Lambert-93)."""
    area = float(communes.to_crs(METRIC_CRS).area.sum()) / 1e6 if len(communes) else 0.0
    return CommuneTotals(
        n_communes=int(len(communes)),
        population=int(communes["population"].sum()),
        area_km2=area,
    )


def headline_figures(totals: CommuneTotals) -> dict[str, str]:
    """The home page's headline figures: label (with its unit) → French string."""
    return {
        "Communes": fmt_int(totals.n_communes),
        "Population municipale (hab.)": fmt_int(totals.population),
        "Superficie (km²)": fmt_float(totals.area_km2, 1),
        "Densité (hab./km²)": fmt_int(totals.density),
    }


def communes_table(communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-commune table with French headers and units, sorted by name."""
    area = communes.to_crs(METRIC_CRS).area / 1e6
    table = pd.DataFrame(
        {
            "Code INSEE": communes["insee"].astype(str),
            "Commune": communes["nom"],
            "EPCI": communes["epci_code"],
            "Population (hab.)": communes["population"].astype(int),
            "Superficie (km²)": area.round(2),
            "Densité (hab./km²)": (communes["population"] / area).round(0),
        }
    )
    return table.sort_values("Commune", key=_sort_key).reset_index(drop=True)


def describe_selection(territory: Territory, selection: Selection) -> str:
    """A short French description of the selection, e.g. ``"CAHC — CA d'Hénin-Carvin"``."""
    names = territory.epci_names
    if selection.communes:
        chosen = territory.communes[territory.communes["insee"].isin(selection.communes)]
        listed = ", ".join(sorted(chosen["nom"], key=str.lower)[:5])
        more = len(chosen) - 5
        return f"Commune(s) : {listed}" + (f" et {more} autre(s)" if more > 0 else "")
    if selection.epci:
        return " + ".join(f"{c} — {names[c]}" for c in selection.epci)
    return (
        f"Tout le Pôle Métropolitain de l'Artois ({len(names)} intercommunalités, "
        f"{len(territory.communes)} communes)"
    )
