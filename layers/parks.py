"""Chaîne des Parcs: parks, the links between them, optional context layers, park cards.

Communes, EPCI and areas are computed here (spatial join and Lambert-93 areas), never typed
by hand: the shipped park layer carries only what cannot be computed (name, type, status,
owner, geometry quality, source).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from layers.catalog import LayerInfo, read_layer
from layers.formatting import fmt_float, fmt_int
from layers.mapping import (
    DataAttribution,
    Field,
    Legend,
    add_outlines,
    add_points,
    add_polygons,
    display_frame,
    frame_bounds,
    make_tooltip,
    new_map,
)
from layers.settings import Settings
from layers.territory import METRIC_CRS, Territory

MIN_SHARE = 0.01  # a park "is in" a commune when ≥ 1 % of its area (or ≥ 0.5 ha) lies there
MIN_HA = 0.5
LINK_TOUCH_M = 50.0  # a link "touches" a park closer than this
TYPE_COLORS = {
    "espace néo-naturel": "#2e7d32",
    "terril": "#5d4037",
    "base de loisirs": "#0277bd",
    "parc urbain": "#7cb342",
    "canal / berges": "#00838f",
    "étude de cas": "#8e24aa",
}
CONTEXT_LAYERS = {
    "terrils": "Terrils (UNESCO)",
    "patrimoine_bati": "Patrimoine bâti minier",
    "puits": "Anciens puits de mine",
    "friches": "Friches (Cartofriches)",
}


@dataclass(frozen=True)
class Planning:
    """Parks and links (EPSG:4326) with computed attributes, and the context layers."""

    parks: gpd.GeoDataFrame
    cavaliers: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    context: Mapping[str, gpd.GeoDataFrame]
    catalog: Mapping[str, LayerInfo] = field(default_factory=dict)


def communes_of_shapes(shapes: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """For each shape, the communes it covers (≥ 1 % of its area or ≥ 0.5 ha) and their EPCI.

    Returns a frame indexed like ``shapes`` with ``communes`` (names, "A, B"),
    ``insee_list`` ("62065,62498") and ``epci`` ("CALL, CAHC").
    """
    shapes_m = shapes.to_crs(METRIC_CRS)[["geometry"]].assign(_row=range(len(shapes)))
    comm_m = communes.to_crs(METRIC_CRS)[["insee", "nom", "epci_code", "geometry"]]
    parts = gpd.overlay(shapes_m, comm_m, how="intersection", keep_geom_type=True)
    parts["part_ha"] = parts.area / 10_000
    total = shapes_m.area.to_numpy() / 10_000
    parts = parts[
        (parts["part_ha"] >= MIN_HA) | (parts["part_ha"] >= MIN_SHARE * total[parts["_row"]])
    ]
    parts = parts.sort_values(["_row", "part_ha"], ascending=[True, False])
    grouped = parts.groupby("_row")
    out = (
        pd.DataFrame(
            {
                "communes": grouped["nom"].agg(", ".join),
                "insee_list": grouped["insee"].agg(",".join),
                "epci": grouped["epci_code"].agg(lambda s: ", ".join(dict.fromkeys(s))),
            }
        )
        .reindex(range(len(shapes)))
        .fillna("")
    )
    out.index = shapes.index
    return out


def enrich_parks(parks: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``surface_ha`` (Lambert-93) and the communes/EPCI computed by spatial join."""
    out = parks.copy()
    out["surface_ha"] = out.to_crs(METRIC_CRS).area / 10_000
    return out.join(communes_of_shapes(out, communes))


def load_planning(geodata_dir: Path, territory: Territory) -> Planning:
    """Read the park, link and context layers and compute their derived attributes."""
    cat = territory.catalog

    def read(layer_id: str) -> gpd.GeoDataFrame:
        return read_layer(cat[layer_id], geodata_dir)

    parks = enrich_parks(read("parcs"), territory.communes)
    cavaliers = read("cavaliers")
    cavaliers = cavaliers.join(communes_of_shapes(cavaliers, territory.communes))
    links = read("liaisons_indicatives")
    links = links.assign(longueur_m=links.to_crs(METRIC_CRS).length)
    links = links.join(communes_of_points_along(links, territory.communes))
    context = {k: read(k) for k in CONTEXT_LAYERS}
    return Planning(parks, cavaliers, links, context, cat)


def communes_of_points_along(lines: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.DataFrame:
    """Communes crossed by each line (``insee_list``), for clipping lines like areas."""
    joined = gpd.sjoin(lines[["geometry"]], communes[["insee", "geometry"]], predicate="intersects")
    insee = joined.groupby(level=0)["insee"].agg(",".join)
    return pd.DataFrame({"insee_list": insee}).reindex(lines.index).fillna("")


@dataclass(frozen=True)
class ParkFilter:
    """Park filters on top of the shared selection; empty = no restriction."""

    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    geometries: tuple[str, ...] = ()


def filter_parks(parks: gpd.GeoDataFrame, flt: ParkFilter) -> gpd.GeoDataFrame:
    """Apply type, status and geometry-quality filters."""
    keep = pd.Series(True, index=parks.index)
    for column, wanted in (
        ("type", flt.types),
        ("statut", flt.statuses),
        ("geometrie", flt.geometries),
    ):
        if wanted:
            keep &= parks[column].isin(wanted)
    return parks[keep]


def length_km_in(
    area_m: object, cavaliers: gpd.GeoDataFrame, links: gpd.GeoDataFrame
) -> tuple[float, float]:
    """Kilometres of cavaliers and of indicative links inside ``area_m`` (Lambert-93 shape).

    A cavalier is a thin polygon with a published length: its length inside the area is
    that length times the share of its surface inside. Indicative links are lines, cut.
    """
    cav = cavaliers.to_crs(METRIC_CRS)
    share = cav.intersection(area_m).area / cav.area
    km_cav = float((share * cav["longueur_m"]).sum()) / 1000
    km_links = float(links.to_crs(METRIC_CRS).intersection(area_m).length.sum()) / 1000
    return km_cav, km_links


def lengths_by_epci(planning: Planning, territory: Territory) -> pd.DataFrame:
    """Kilometres of links per EPCI (cavaliers, indicative links, total)."""
    epci_m = territory.epci.to_crs(METRIC_CRS)
    rows = []
    for code, geom in zip(epci_m["epci_code"], epci_m.geometry, strict=True):
        km_cav, km_ind = length_km_in(geom, planning.cavaliers, planning.links)
        rows.append(
            {
                "EPCI": code,
                "Cavaliers (km)": km_cav,
                "Liaisons indicatives (km)": km_ind,
                "Total (km)": km_cav + km_ind,
            }
        )
    order = {c: i for i, c in enumerate(territory.epci_names)}
    table = pd.DataFrame(rows).sort_values("EPCI", key=lambda s: s.map(order))
    return table.round(2).reset_index(drop=True)


@dataclass(frozen=True)
class ParkTotals:
    """Totals of the parks of a selection (the numbers behind the headline figures)."""

    n_parks: int
    hectares: float
    hectares_indicative: float
    ha_per_1000: float  # park hectares per 1,000 inhabitants of the selection
    km_cavaliers: float
    km_indicative: float


STUDY_TYPE = "étude de cas"  # study perimeters are not park land: left out of the hectares


def park_totals(parks: gpd.GeoDataFrame, population: int, km: tuple[float, float]) -> ParkTotals:
    """Count parks, sum their area (and the part drawn indicatively), ratio to population.

    Study perimeters (type « étude de cas ») are counted as parks but not in the hectares.
    """
    land = parks[parks["type"] != STUDY_TYPE]
    hectares = float(land["surface_ha"].sum())
    indicative = float(land.loc[land["geometrie"] == "indicative", "surface_ha"].sum())
    return ParkTotals(
        len(parks),
        hectares,
        indicative,
        hectares / population * 1000 if population else 0.0,
        km[0],
        km[1],
    )


def park_at(parks: gpd.GeoDataFrame, lat: float, lng: float) -> str | None:
    """Id of the (smallest) park under a clicked point, or ``None``."""
    hit = parks[parks.contains(Point(lng, lat))]
    if hit.empty:
        return None
    return str(hit.sort_values("surface_ha")["parc_id"].iloc[0])


@dataclass(frozen=True)
class ParkCard:
    """What the park card shows."""

    park: dict
    brownfields: pd.DataFrame  # nearby sites with their distance [m]
    links: pd.DataFrame  # links touching the park
    distance_m: float


def park_card(planning: Planning, park_id: str, distance_m: float) -> ParkCard:
    """Details of one park: nearby brownfields within ``distance_m`` and touching links."""
    row = planning.parks.loc[planning.parks["parc_id"] == park_id]
    if row.empty:
        raise KeyError(park_id)
    geom_m = row.to_crs(METRIC_CRS).geometry.iloc[0]
    friches = planning.context["friches"].to_crs(METRIC_CRS)
    dist = friches.distance(geom_m)
    near = friches.assign(distance_m=dist)[dist <= distance_m].sort_values("distance_m")
    near_table = pd.DataFrame(
        {
            "Site": near["site_nom"],
            "Commune": near["comm_nom"],
            "Statut": near["site_statut"],
            "Vérifié": near["verifie"].map({True: "oui", False: "non"}),
            "Surface (ha)": (near["site_surface"] / 10_000).round(2),
            "Distance (m)": near["distance_m"].round(0).astype(int),
        }
    ).reset_index(drop=True)
    touching = []
    for frame, kind in (
        (planning.cavaliers, "cavalier (réel)"),
        (planning.links, "liaison indicative"),
    ):
        frame_m = frame.to_crs(METRIC_CRS)
        hit = frame_m[frame_m.distance(geom_m) <= LINK_TOUCH_M]
        for _, link in hit.iterrows():
            touching.append(
                {
                    "Liaison": link["nom"],
                    "Nature": kind,
                    "Longueur (km)": round(float(link["longueur_m"]) / 1000, 2),
                }
            )
    park = row.drop(columns="geometry").iloc[0].to_dict()
    return ParkCard(park, near_table, pd.DataFrame(touching), distance_m)


def parks_table(parks: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-park table with French headers and units."""
    return (
        pd.DataFrame(
            {
                "Identifiant": parks["parc_id"],
                "Parc": parks["nom"],
                "Type": parks["type"],
                "Statut": parks["statut"],
                "Détail du statut": parks["statut_detail"],
                "Maître d'ouvrage": parks["maitre_ouvrage"].replace("", "non renseigné"),
                "Surface (ha)": parks["surface_ha"].round(1),
                "Communes": parks["communes"],
                "EPCI": parks["epci"],
                "Géométrie": parks["geometrie"],
                "Note sur la géométrie": parks["geometrie_note"],
                "Source": parks["source"],
                "Lien source": parks["source_url"],
                "Date": parks["date_source"],
            }
        )
        .sort_values("Parc", key=lambda s: s.str.casefold())
        .reset_index(drop=True)
    )


PARK_FIELDS: list[Field] = [
    ("nom", "Parc", None),
    ("type", "Type", None),
    ("statut", "Statut", None),
    ("surface_ha", "Surface", lambda v: f"{fmt_float(v, 1)} ha"),  # type: ignore[arg-type]
    ("communes", "Communes", None),
    ("geometrie", "Géométrie", None),
]


def _add_parks(fmap: folium.Map, parks: gpd.GeoDataFrame, selected: str | None) -> None:
    data = display_frame(parks, PARK_FIELDS, keep=["parc_id", "type", "geometrie"])

    def style(feature: dict) -> dict:
        p = feature["properties"]
        color = TYPE_COLORS.get(p["type"], "#555555")
        chosen = p["parc_id"] == selected
        return {
            "color": "#000000" if chosen else color,
            "weight": 4 if chosen else 2,
            "fillColor": color,
            "fillOpacity": 0.45 if chosen else 0.3,
            "dashArray": "7 5" if p["geometrie"] == "indicative" else None,
        }

    folium.GeoJson(
        data,
        name="Parcs",
        style_function=style,
        tooltip=make_tooltip(PARK_FIELDS),
        highlight_function=lambda _f: {"weight": 4},
    ).add_to(fmap)


def _add_links(fmap: folium.Map, cavaliers: gpd.GeoDataFrame, links: gpd.GeoDataFrame) -> None:
    fields: list[Field] = [
        ("nom", "Liaison", None),
        ("longueur_m", "Longueur", lambda v: f"{fmt_float(float(v) / 1000, 2)} km"),  # type: ignore[arg-type]
    ]
    if len(cavaliers):
        folium.GeoJson(
            display_frame(cavaliers, fields),
            name="Cavaliers (réels)",
            style_function=lambda _f: {
                "color": "#6d4c41",
                "weight": 3,
                "fillColor": "#6d4c41",
                "fillOpacity": 0.6,
            },
            tooltip=make_tooltip(fields),
        ).add_to(fmap)
    if len(links):
        folium.GeoJson(
            display_frame(links, fields),
            name="Liaisons indicatives",
            style_function=lambda _f: {
                "color": "#6d4c41",
                "weight": 2,
                "dashArray": "2 6",
                "opacity": 0.9,
            },
            tooltip=make_tooltip(fields),
        ).add_to(fmap)


CONTEXT_COLORS = {
    "terrils": "#3e2723",
    "patrimoine_bati": "#b71c1c",
    "puits": "#212121",
    "friches": "#ef6c00",
}


# context layer → (geometry kind, tooltip fields, fill-ins for missing values, fill opacity)
CONTEXT_STYLE: dict[str, tuple[str, list[Field], dict[str, str], float]] = {
    "terrils": (
        "polygons",
        [
            ("nom", "Terril", None),
            ("forme", "Forme", None),
            ("perimetre", "Périmètre UNESCO", None),
        ],
        {"nom": "terril sans nom"},
        0.5,
    ),
    "patrimoine_bati": (
        "polygons",
        [
            ("nom", "Bâtiment", None),
            ("typologie", "Typologie", None),
            ("protection", "Protection", None),
        ],
        {},
        0.7,
    ),
    "puits": (
        "points",
        [
            ("fosse", "Fosse", None),
            ("compagnie", "Compagnie", None),
            ("fermeture", "Fermeture", None),
        ],
        {"fosse": "?", "fermeture": "?"},
        0,
    ),
    "friches": (
        "points",
        [
            ("site_nom", "Friche", None),
            ("site_statut", "Statut", None),
            ("surface_ha", "Surface", lambda v: f"{fmt_float(float(v), 2)} ha"),  # type: ignore[arg-type]
        ],
        {},
        0,
    ),
}


def _add_context(fmap: folium.Map, name: str, frame: gpd.GeoDataFrame) -> None:
    if frame.empty:
        return
    kind, fields, fill, opacity = CONTEXT_STYLE[name]
    data = frame.fillna(fill)
    if name == "friches":
        data = data.assign(surface_ha=data["site_surface"] / 10_000)
    if kind == "polygons":
        add_polygons(
            fmap,
            data.assign(_c=name),
            name=CONTEXT_LAYERS[name],
            fields=fields,
            color_by="_c",
            colors={name: CONTEXT_COLORS[name]},
            fill_opacity=opacity,
        )
    else:
        add_points(
            fmap,
            data,
            name=CONTEXT_LAYERS[name],
            fields=fields,
            color=CONTEXT_COLORS[name],
            radius=3 if name == "puits" else 4,
        )


def parks_map(
    planning: Planning,
    parks: gpd.GeoDataFrame,
    cavaliers: gpd.GeoDataFrame,
    links: gpd.GeoDataFrame,
    context: Mapping[str, gpd.GeoDataFrame],
    settings: Settings,
    basemap_id: str = "plan-ign",
    selected: str | None = None,
    area: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Parks (solid = real outline, dashed = indicative), links, chosen context layers."""
    focus = parks[parks["parc_id"] == selected] if selected else parks
    fmap = new_map(
        settings,
        basemap_id,
        frame_bounds(focus if len(focus) else (area if area is not None else parks)),
    )
    add_outlines(fmap, area)
    for name, frame in context.items():
        _add_context(fmap, name, frame)
    _add_links(fmap, cavaliers, links)
    if len(parks):
        _add_parks(fmap, parks, selected)
    types = [t for t in TYPE_COLORS if t in set(parks["type"])]
    dashed = ["contour indicatif (tracé approximatif)", "liaison indicative"]
    items = [(TYPE_COLORS[t], t) for t in types]
    items += [
        ("#555555", "contour réel (couche Mission Bassin Minier)"),
        ("#555555", dashed[0]),
        ("#6d4c41", "cavalier (réel)"),
        ("#6d4c41", dashed[1]),
    ]
    items += [(CONTEXT_COLORS[k], CONTEXT_LAYERS[k]) for k in context]
    # each symbol as the map draws it: links are lines, wells and brownfields are points
    shapes = {"cavalier (réel)": "line", dashed[1]: "line"}
    shapes |= {CONTEXT_LAYERS[k]: "point" for k in context if CONTEXT_STYLE[k][0] != "polygons"}
    Legend("Chaîne des Parcs", items, dashed=dashed, shapes=shapes).add_to(fmap)
    texts = [
        planning.catalog[k].attribution for k in ("parcs", "cavaliers") if k in planning.catalog
    ]
    texts += [planning.catalog[k].attribution for k in context if k in planning.catalog]
    DataAttribution(texts).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def headline_figures(fig: ParkTotals) -> dict[str, str]:
    """The parks page's headline figures: label (with its unit) → French string."""
    return {
        "Parcs": fmt_int(fig.n_parks),
        "Surface (ha)": fmt_float(fig.hectares, 0),
        "dont indicatifs (ha)": fmt_float(fig.hectares_indicative, 0),
        "ha pour 1 000 hab.": fmt_float(fig.ha_per_1000, 2),
        "Liaisons (km)": fmt_float(fig.km_cavaliers + fig.km_indicative, 1),
    }


def unique_values(frame: pd.DataFrame, column: str, order: Sequence[str] = ()) -> list[str]:
    """Distinct values of a column, in ``order`` first then alphabetically."""
    present = set(frame[column].dropna())
    return [v for v in order if v in present] + sorted(present - set(order), key=str.casefold)
