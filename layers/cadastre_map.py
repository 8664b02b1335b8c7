"""The cadastre's folium map: irradiation tiles, computed area, nearby roofs, legend."""

from __future__ import annotations

from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd

from layers.cadastre import Cadastre
from layers.cadastre_panels import PANEL_COLOUR, face_name
from layers.formatting import (
    fmt_float,
    fmt_int,
)
from layers.mapping import (
    DataAttribution,
    Field,
    Legend,
    add_outlines,
    display_frame,
    make_tooltip,
    new_map,
)
from layers.settings import Settings
from layers.territory import Selection, Territory, selected_communes
from layers.urls import TILE, link
from layers.web_tiles import Breaks

ROOFS_FROM_ZOOM = 16
TILES_FROM_ZOOM = 11  # below, the irradiation means little: the computed area is drawn


ROOF_FIELDS: list[Field] = [
    ("adresse", "Adresse (fictive)", None),
    ("classe", "Classe", None),
    ("irradiation_utile", "Irradiation", lambda v: f"{fmt_int(v)} kWh/m²/an" if v == v else "—"),  # type: ignore[arg-type]
    ("kwc_central", "Puissance", lambda v: f"{fmt_float(v, 1)} kWc" if v == v else "—"),  # type: ignore[arg-type]
]


class MinZoomLayer(folium.MacroElement):
    """Shows a layer only from a zoom level on (roof outlines when zoomed in)."""

    _template = folium.elements.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }}, layer = {{ this.layer.get_name() }};
            function sync() {
                var wanted = map.getZoom() >= {{ this.zoom }};
                if (wanted && !map.hasLayer(layer)) { map.addLayer(layer); }
                if (!wanted && map.hasLayer(layer)) { map.removeLayer(layer); }
            }
            map.on('zoomend', sync);
            sync();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.map.Layer, zoom: int) -> None:
        super().__init__()
        self._name = "MinZoomLayer"
        self.layer = layer
        self.zoom = zoom


def roof_fields(cad: Cadastre) -> list[Field]:
    """Tooltip fields of the roof outlines (addresses said fictional on a synthetic store)."""
    label = "Adresse (fictive)" if cad.synthetic else "Adresse"
    return [(("adresse", label, None)), *ROOF_FIELDS[1:]]


def view_bounds(
    cad: Cadastre, territory: Territory, selection: Selection
) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((south, west), (north, east))``: the computed part of the selection, else all of it."""
    chosen = selected_communes(territory, selection)
    inside = chosen.to_crs(4326).union_all().intersection(cad.coverage) if len(chosen) else None
    area = inside if inside is not None and not inside.is_empty else cad.coverage
    west, south, east, north = area.bounds
    return (south, west), (north, east)


@dataclass(frozen=True, eq=False)
class MapView:
    """What the cadastre map shows besides the store.

    Attributes
    ----------
    basemap_id
        The basemap (``mapping.BASEMAPS``).
    selected
        The chosen roof (EPSG:4326, with ``toit_id``): the map frames it.
    near
        Roofs around it, outlined from zoom 16.
    bounds
        ``((south, west), (north, east))`` without a chosen roof; ``None``: the store.
    area
        The selected communes, outlined.
    laid
        The chosen roof's faces and modules (Lambert-93 or any CRS), drawn from zoom
        :data:`FACES_FROM_ZOOM` (street level).
    """

    basemap_id: str = "plan-ign"
    selected: pd.Series | None = None
    near: gpd.GeoDataFrame | None = None
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None
    area: gpd.GeoDataFrame | None = None
    laid: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = None


FACES_FROM_ZOOM = 18  # a module (1,1 × 1,7 m) is a few pixels wide from here
POSSIBLE_COLOUR = "#9db4e0"  # the modules the roof can hold beyond the chosen ones
FACE_FIELDS: list[Field] = [
    ("nom", "Pan", None),
    ("pente", "Pente", lambda v: f"{fmt_int(v)}°"),  # type: ignore[arg-type]
    ("surface_m2", "Surface", lambda v: f"{fmt_int(v)} m²"),  # type: ignore[arg-type]
    ("panneaux", "Panneaux", lambda v: fmt_int(v)),  # type: ignore[arg-type]
    ("kwh_an", "Production", lambda v: f"{fmt_int(v)} kWh/an"),  # type: ignore[arg-type]
]
PANEL_FIELDS: list[Field] = [
    ("rang", "Panneau n°", lambda v: f"{fmt_int(v)} (1 = le mieux exposé)"),  # type: ignore[arg-type]
    ("kwh_an", "Production", lambda v: f"{fmt_int(v)} kWh/an"),  # type: ignore[arg-type]
]


def cadastre_map(
    cad: Cadastre, settings: Settings, breaks: Breaks, view: MapView | None = None
) -> folium.Map:
    """The cadastre map: irradiation, computed area, nearby roofs, legend, attribution.

    Irradiation tiles are served on demand from the store (:mod:`layers.routes`); the
    outlines of the roofs ``view.near`` the chosen one show from zoom 16.
    """
    view = view or MapView()
    selected, bounds = view.selected, view.bounds
    if selected is not None:
        west, south, east, north = selected.geometry.bounds
        pad = 0.0006
        bounds = ((south - pad, west - pad), (north + pad, east + pad))
    elif bounds is None:
        west, south, east, north = cad.coverage.bounds
        bounds = ((south, west), (north, east))
    fmap = new_map(settings, view.basemap_id, bounds, fit_max_zoom=19)
    fmap.options["maxZoom"] = 21
    add_outlines(fmap, view.area)
    _irradiation(fmap, cad, settings)
    if view.near is not None and len(view.near):
        chosen = str(selected["toit_id"]) if selected is not None else None
        _roof_outlines(fmap, cad, view.near, chosen)
    laid = view.laid is not None and len(view.laid[0]) > 0
    if laid:
        _faces_and_panels(fmap, view.laid)  # type: ignore[arg-type]
    Legend(
        "Irradiation annuelle (kWh/m²/an)",
        [(c, label) for _v, c, label in reversed(breaks)]
        + [("#1b6e5a", "contour : secteur calculé")]
        + (
            [
                (PANEL_COLOUR, "vos panneaux (curseur de puissance)"),
                (POSSIBLE_COLOUR, "autres panneaux possibles (zoom rue)"),
            ]  # fmt: skip
            if laid
            else []
        ),
    ).add_to(fmap)
    texts = ["Atlas PMA, moteur solaire — climat " + cad.climate]
    if cad.synthetic:
        texts.insert(0, "TERRITOIRE FICTIF (données synthétiques)")
    DataAttribution(texts).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def _irradiation(fmap: folium.Map, cad: Cadastre, settings: Settings) -> None:
    """The irradiation tiles (from zoom 11) and the computed area's dashed outline."""
    west, south, east, north = cad.coverage.bounds
    folium.TileLayer(
        # versioned: a rebuilt store gets new URLs, so browsers may keep tiles for good
        tiles=link(settings, TILE, query=f"v={cad.version}"),
        name="Irradiation annuelle",
        attr="Atlas PMA — irradiation calculée",
        overlay=True,
        control=True,
        min_zoom=TILES_FROM_ZOOM,
        max_native_zoom=19,
        max_zoom=21,
        opacity=0.85,
        bounds=[[south, west], [north, east]],
    ).add_to(fmap)
    folium.GeoJson(
        gpd.GeoDataFrame(geometry=[cad.coverage], crs=4326),
        name="Secteur calculé",
        style_function=lambda _f: {
            "color": "#1b6e5a",
            "weight": 2,
            "dashArray": "6 4",
            "fill": False,
        },
        interactive=False,
    ).add_to(fmap)


def _roof_outlines(
    fmap: folium.Map, cad: Cadastre, near: gpd.GeoDataFrame, chosen: str | None
) -> None:
    """The outlines of the roofs around the chosen one (drawn bold), from zoom 16."""
    fields = roof_fields(cad)
    if "adresse" not in near.columns:
        near = near.assign(adresse="")
    data = display_frame(near, fields, keep=["toit_id", "classe"])
    outlines = folium.GeoJson(
        data,
        name="Toits",
        tooltip=make_tooltip(fields),
        style_function=lambda f: {
            "color": "#000000" if f["properties"]["toit_id"] == chosen else "#263238",
            "weight": 4 if f["properties"]["toit_id"] == chosen else 1,
            "fillOpacity": 0.0 if f["properties"]["toit_id"] != chosen else 0.15,
            "fillColor": "#ffffff",
        },
        show=False,
    )
    outlines.add_to(fmap)
    MinZoomLayer(outlines, ROOFS_FROM_ZOOM).add_to(fmap)


def _faces_and_panels(fmap: folium.Map, laid: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    """The chosen roof's faces (white outlines) and every module it can hold, from zoom 18.

    Each with its tooltip (face: slope, area, modules, kWh/yr; module: its rank, kWh/yr).
    """
    faces, panels = laid
    faces = faces.assign(nom=[face_name(f) for f in faces.to_dict("records")])
    group = folium.FeatureGroup(name="Pans et panneaux du toit", show=False)
    folium.GeoJson(
        display_frame(faces, FACE_FIELDS, precision=1e-7),
        tooltip=make_tooltip(FACE_FIELDS),
        style_function=lambda _f: {"color": "#ffffff", "weight": 2, "fillOpacity": 0.0},
    ).add_to(group)
    if len(panels):
        _modules(panels, POSSIBLE_COLOUR, 0.8).add_to(group)
    group.add_to(fmap)
    MinZoomLayer(group, FACES_FROM_ZOOM).add_to(fmap)


def chosen_panels(panels: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """The simulated project's modules (the best N), drawn over the possible ones.

    Sent to the map as a layer of its own (streamlit-folium's dynamic feature group): the
    power slider redraws it without reloading the map, so the resident's zoom stays.
    """
    group = folium.FeatureGroup(name="Vos panneaux")
    if len(panels):
        _modules(panels, PANEL_COLOUR, 0.95).add_to(group)
    return group


def _modules(panels: gpd.GeoDataFrame, colour: str, opacity: float) -> folium.GeoJson:
    """Modules filled with ``colour``, each with its rank and kWh/yr on hover."""
    style = {"color": "#ffffff", "weight": 0.5, "fillColor": colour, "fillOpacity": opacity}
    return folium.GeoJson(
        display_frame(panels, PANEL_FIELDS, precision=1e-7),
        tooltip=make_tooltip(PANEL_FIELDS),
        style_function=lambda _f: style,
    )
