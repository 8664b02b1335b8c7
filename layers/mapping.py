"""Folium builders: basemaps, vector layers, legends, attribution, escaped tooltips.

Every string that reaches the browser as HTML (tooltips, popups, legend, attribution) is
escaped here, in Python, before folium sees it: folium's ``GeoJsonTooltip`` inserts
property values with ``innerHTML``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import shapely
from branca.element import MacroElement
from jinja2 import Template

from layers.assets import map_assets
from layers.formatting import escape, fmt_int
from layers.memo import Memo
from layers.settings import Settings
from layers.territory import Territory

COORD_PRECISION = 1e-5  # degrees, about 1 m: enough for display, halves the payload
PMA_BOUNDS = ((50.33, 2.37), (50.66, 3.08))  # (south, west), (north, east)


@dataclass(frozen=True)
class Basemap:
    """A tile basemap: French label, XYZ URL template, HTML attribution."""

    label: str
    url: str
    attribution: str
    max_zoom: int = 19


def _basemaps() -> dict[str, Basemap]:
    import xyzservices.providers as xyz

    ign = '<a href="https://geoservices.ign.fr/">IGN</a> – Géoplateforme'
    return {
        "plan-ign": Basemap(
            "Plan IGN v2 (Géoplateforme)", xyz.GeoportailFrance.plan.build_url(), ign, 19
        ),
        "ortho-ign": Basemap(
            "Photographies aériennes IGN (Géoplateforme)",
            xyz.GeoportailFrance.orthos.build_url(),
            ign,
            19,
        ),
        "osm": Basemap(
            "OpenStreetMap",
            xyz.OpenStreetMap.Mapnik.build_url(),
            xyz.OpenStreetMap.Mapnik.html_attribution,
            19,
        ),
    }


BASEMAPS = _basemaps()
NO_BASEMAP = "aucun"


def basemap_choices(settings: Settings) -> dict[str, str]:
    """Basemap id → French label, in the order offered to users (a local server first)."""
    choices = {"local": "Fond local (intranet)"} if settings.tiles_url else {}
    choices.update({k: b.label for k, b in BASEMAPS.items()})
    choices[NO_BASEMAP] = "Aucun fond de carte"
    return choices


URL_BASEMAP = "fond"  # the basemap in a shared view's address: ?fond=ortho-ign


def default_basemap(settings: Settings) -> str:
    """The basemap a visitor gets first.

    A configured local server, else Plan IGN online and none offline (``ATLAS_OFFLINE``:
    every Géoplateforme tile would fail, a grey map).
    """
    if settings.tiles_url:
        return "local"
    return NO_BASEMAP if settings.offline else "plan-ign"


def parse_basemap(values: Sequence[str], settings: Settings) -> tuple[str, list[str]]:
    """The basemap a URL asks for (``?fond=``) and French notices for a value not offered."""
    default = default_basemap(settings)
    if not values:
        return default, []
    choices = basemap_choices(settings)
    if values[0] in choices:
        return values[0], []
    return default, [
        f"Valeur ignorée pour « {URL_BASEMAP} » : {values[0][:40]} "
        f"(valeurs possibles : {', '.join(choices)})"
    ]


def resolve_basemap(basemap_id: str, settings: Settings) -> Basemap | None:
    """The basemap for an id (``None`` for no basemap); an unknown id gets the default."""
    if basemap_id not in basemap_choices(settings):
        basemap_id = default_basemap(settings)
    if basemap_id == NO_BASEMAP:
        return None
    if basemap_id == "local" and settings.tiles_url:
        return Basemap("Fond local", settings.tiles_url, escape(settings.tiles_attribution))
    return BASEMAPS[basemap_id]


MAX_ZOOM = 19
NARROW_MAP_PX = 520  # a map narrower than this (a phone) folds its legend and attribution


def new_map(
    settings: Settings,
    basemap_id: str = "plan-ign",
    bounds: Sequence[Sequence[float]] = PMA_BOUNDS,
    fit_max_zoom: int = 15,
) -> folium.Map:
    """A folium map loading only Leaflet (CDN or offline copy), fitted to ``bounds``."""
    fmap = folium.Map(
        tiles=None,
        control_scale=False,  # Leaflet's own scale adds miles: a metric one below
        zoom_start=10,
        location=[(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2],
    )
    fmap.default_js, fmap.default_css = map_assets(settings)
    # a map without a basemap has no tile layer to set its zoom range: clustered layers
    # then fail (« Map has no maxZoom specified ») and the map vanished offline
    fmap.options["maxZoom"] = MAX_ZOOM
    fmap.options["minZoom"] = 0
    basemap = resolve_basemap(basemap_id, settings)
    if basemap is not None:
        folium.TileLayer(
            tiles=basemap.url,
            attr=basemap.attribution,
            name=basemap.label,
            max_zoom=basemap.max_zoom,
            control=False,
        ).add_to(fmap)
    fmap.fit_bounds([list(bounds[0]), list(bounds[1])], max_zoom=fit_max_zoom)
    KeyboardFriendly(MAP_LABEL).add_to(fmap)
    MetricScale().add_to(fmap)
    TooltipYieldsToPopup().add_to(fmap)
    CompactControls().add_to(fmap)
    FitBesideLegends(bounds, fit_max_zoom).add_to(fmap)
    return fmap


def add_outlines(fmap: folium.Map, communes: gpd.GeoDataFrame | None) -> None:
    """Commune (thin) and intercommunality (thicker) limits, to get one's bearings.

    Drawn as lines, without fill or tooltip, under everything else: on a grey or offline
    background the themes' shapes no longer float on nothing, and clicks still reach the
    map (a roof, a sign's position).
    """
    if communes is None or communes.empty:
        return
    lines, border = outline_geojson(communes)
    group = folium.FeatureGroup(name="Limites des communes et des EPCI", control=False)
    folium.GeoJson(
        lines,
        style_function=lambda _f: {"color": "#6d6d6d", "weight": 0.8, "opacity": 0.8},
        interactive=False,
    ).add_to(group)
    if border is not None:
        folium.GeoJson(
            border,
            style_function=lambda _f: {"color": "#303030", "weight": 2.2, "opacity": 0.8},
            interactive=False,
        ).add_to(group)
    group.add_to(fmap)


_OUTLINES = Memo(16)


def outline_geojson(communes: gpd.GeoDataFrame) -> tuple[dict, dict | None]:
    """The communes' limits and their EPCI's (``None`` without ``epci_code``) as GeoJSON.

    Kept by content (the outlines' WKB): every roof's map on the cadastre page draws the
    same limits, which cost ~70 ms to reproject, dissolve and serialise each time. The
    dicts are shared by the maps: folium only writes each feature's ``id`` into them,
    the same value every time.
    """
    digest = hashlib.sha256(b"".join(shapely.to_wkb(communes.geometry.values)))
    if "epci_code" in communes.columns:
        digest.update("|".join(map(str, communes["epci_code"])).encode())
    key = (str(communes.crs), digest.hexdigest())
    return _OUTLINES.get(key, lambda: _outline_geojson(communes))


def _outline_geojson(communes: gpd.GeoDataFrame) -> tuple[dict, dict | None]:
    frame = communes.to_crs(4326)
    lines = gpd.GeoDataFrame(geometry=frame.geometry.boundary, crs=4326)
    lines["geometry"] = shapely.set_precision(lines.geometry.values, COORD_PRECISION)
    if "epci_code" not in frame.columns:
        return json.loads(lines.to_json(drop_id=True)), None
    epci = frame.dissolve("epci_code")
    border = gpd.GeoDataFrame(geometry=epci.geometry.boundary, crs=4326)
    border["geometry"] = shapely.set_precision(border.geometry.values, COORD_PRECISION)
    return json.loads(lines.to_json(drop_id=True)), json.loads(border.to_json(drop_id=True))


class MetricScale(MacroElement):
    """A scale bar in metres and kilometres only (French readers: no miles, no feet)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


class TooltipYieldsToPopup(MacroElement):
    """Once a click opens a popup, the hover tooltip goes; it comes back at the next hover.

    Issue 30: it stayed beside the popup and covered the legend.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on('popupopen', function(e) {
            var map = e.target;
            map.eachLayer(function(layer) {
                if (layer.getTooltip && layer.getTooltip() && layer.isTooltipOpen
                    && layer.isTooltipOpen()) { layer.closeTooltip(); }
            });
        });
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "TooltipYieldsToPopup"


class CompactControls(MacroElement):
    """The controls take little room (issue 21: ≤ 15 % of a phone's map).

    The attribution holds to one line beside the scale (it covered the scale and up to
    12 % of the map, three lines on the cadastre's); a tap or a click unfolds it whole and
    folds it back, and it shows whole under the mouse or while one of its links has the
    keyboard's focus (no ``role=button``: it holds links, and a button holding links is
    announced wrongly). On a map narrower than :data:`NARROW_MAP_PX`, a folded legend
    shows only « Légende ».
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
        .leaflet-control-attribution:not(.atlas-open):not(:focus-within):not(:hover) {
          max-width: calc(100vw - 120px); white-space: nowrap; overflow: hidden;
          text-overflow: ellipsis; cursor: pointer;
        }
        @media (max-width: {{ this.narrow - 1 }}px) {
          .atlas-legend:not([open]) .atlas-legend-title { display: none; }
        }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var box = map.attributionControl && map.attributionControl.getContainer();
            if (!box) { return; }
            box.addEventListener('click', function(event) {
                if (!event.target.closest('a')) { box.classList.toggle('atlas-open'); }
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "CompactControls"
        self.narrow = NARROW_MAP_PX


class FitBesideLegends(MacroElement):
    """Fit the view to what is shown **beside** the open legends, not under them.

    Issue 21: the parks map put the chosen park (and part of the chain) under its legend.
    Once the page's controls exist, the view is fitted again with, for each open legend,
    a padding on the side where it costs the map least (its width or its height, as a
    share of the map's). A folded legend (a phone) takes no room.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            setTimeout(function() {
                var box = map.getContainer().getBoundingClientRect();
                if (!box.width || !box.height) { return; }
                var pad = {top: 10, right: 10, bottom: 10, left: 10};
                var legends = map.getContainer().querySelectorAll('.atlas-legend[open]');
                for (var i = 0; i < legends.length; i++) {
                    var r = legends[i].getBoundingClientRect();
                    var right = r.left + r.width / 2 > box.left + box.width / 2;
                    var bottom = r.top + r.height / 2 > box.top + box.height / 2;
                    if (r.width / box.width <= r.height / box.height) {
                        var side = right ? 'right' : 'left';
                        var w = right ? box.right - r.left : r.right - box.left;
                        pad[side] = Math.max(pad[side], w + 8);
                    } else {
                        var edge = bottom ? 'bottom' : 'top';
                        var h = bottom ? box.bottom - r.top : r.bottom - box.top;
                        pad[edge] = Math.max(pad[edge], h + 8);
                    }
                }
                map.fitBounds({{ this.bounds|tojson }}, {
                    paddingTopLeft: [pad.left, pad.top],
                    paddingBottomRight: [pad.right, pad.bottom],
                    maxZoom: {{ this.max_zoom }},
                    animate: false
                });
            }, 0);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: Sequence[Sequence[float]], max_zoom: int) -> None:
        super().__init__()
        self._name = "FitBesideLegends"
        self.bounds = [list(bounds[0]), list(bounds[1])]
        self.max_zoom = max_zoom


def frame_bounds(gdf: gpd.GeoDataFrame) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((south, west), (north, east))`` of a frame in EPSG:4326, PMA bounds when empty."""
    if gdf.empty:
        return PMA_BOUNDS
    west, south, east, north = gdf.to_crs(4326).total_bounds
    return (float(south), float(west)), (float(north), float(east))


Field = tuple[str, str, Callable[[object], str] | None]
TIP_PREFIX = "_t"  # display columns holding escaped, formatted tooltip values


def tooltip_columns(frame: gpd.GeoDataFrame, fields: Sequence[Field]) -> dict[str, list[str]]:
    """Escaped, formatted values per tooltip field: ``{"_t0": [...], "_t1": [...]}``.

    ``fields`` are (column, French label, formatter or None). Values are HTML-escaped here
    because folium's tooltip inserts them with ``innerHTML``.
    """
    return {
        f"{TIP_PREFIX}{i}": [
            escape("" if v is None else fmt(v) if fmt else v) for v in frame[column]
        ]
        for i, (column, _label, fmt) in enumerate(fields)
    }


def make_tooltip(fields: Sequence[Field]) -> folium.GeoJsonTooltip:
    """A hover tooltip over the columns made by :func:`tooltip_columns` (labels escaped)."""
    return folium.GeoJsonTooltip(
        fields=[f"{TIP_PREFIX}{i}" for i in range(len(fields))],
        aliases=[escape(label) for _c, label, _f in fields],
        sticky=True,
        style="font-size:13px;",
    )


def display_frame(
    gdf: gpd.GeoDataFrame,
    fields: Sequence[Field],
    keep: Sequence[str] = (),
    precision: float = COORD_PRECISION,
) -> gpd.GeoDataFrame:
    """A light copy for the browser: EPSG:4326, rounded coordinates, only needed columns.

    Only the escaped tooltip values and the columns in ``keep`` (used for styling) are sent.
    ``precision`` [degrees]: 1e-5 (about 1 m) by default; finer for objects of a metre (a
    solar module).
    """
    out = gdf.to_crs(4326)[list(keep) + ["geometry"]].copy()
    for name, values in tooltip_columns(gdf, fields).items():
        out[name] = values
    out["geometry"] = shapely.set_precision(out.geometry.values, precision, mode="pointwise")
    return out


def add_polygons(
    fmap: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    fields: Sequence[Field],
    color_by: str,
    colors: Mapping[str, str],
    dashed: bool = False,
    fill_opacity: float = 0.35,
) -> folium.GeoJson:
    """Add polygons coloured by a category column, with an escaped hover tooltip."""
    data = display_frame(gdf, fields, keep=[color_by])

    def style(feature: dict) -> dict:
        color = colors.get(feature["properties"][color_by], "#555555")
        return {
            "color": color,
            "weight": 1.5,
            "fillColor": color,
            "fillOpacity": fill_opacity,
            "dashArray": "6 4" if dashed else None,
        }

    layer = folium.GeoJson(
        data,
        name=name,
        style_function=style,
        highlight_function=lambda _f: {"weight": 4, "fillOpacity": min(fill_opacity + 0.25, 1)},
        tooltip=make_tooltip(fields),
    )
    layer.add_to(fmap)
    return layer


def add_points(
    fmap: folium.Map,
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    fields: Sequence[Field],
    color: str,
    show: bool = True,
    radius: int = 5,
) -> folium.GeoJson:
    """Add points as circle markers with an escaped tooltip, in their own toggleable layer."""
    layer = folium.GeoJson(
        display_frame(gdf, fields),
        name=name,
        show=show,
        marker=folium.CircleMarker(
            radius=radius, weight=1, color="#ffffff", fill=True, fill_color=color, fill_opacity=0.95
        ),
        tooltip=make_tooltip(fields),
    )
    layer.add_to(fmap)
    return layer


_CLUSTER_CALLBACK = """(function () {
var T = @@TABLES@@;
var R = @@RADIUS@@;
return function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]), {
        radius: R, weight: 2.5, color: T.couleur[row[2]], fillColor: T.couleur[row[2]],
        fillOpacity: row[3] ? 0.85 : 0.0
    });
    var html = [];
    for (var i = 0; i < T.libelles.length; i++) {
        html.push("<b>" + T.libelles[i] + "</b> " + T.valeurs[i][row[4 + i]]);
    }
    html = html.join("<br>");
    marker.bindTooltip(html, {sticky: true});
    marker.bindPopup(html);
    return marker;
};
})()"""


# groups are a neutral slate blue with their count: never a status colour (green, orange,
# red bubbles read as « posé », « fabriqué », « à reprendre » on the signage map)
CLUSTER_ICON = """function (cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? 30 : (n < 100 ? 36 : 44);
    return L.divIcon({
        html: '<div style="background:#37474f;color:#fff;border:2px solid #fff;'
            + 'border-radius:50%;width:' + size + 'px;height:' + size + 'px;'
            + 'line-height:' + (size - 4) + 'px;text-align:center;font:bold 12px sans-serif;'
            + 'box-shadow:0 1px 4px rgba(0,0,0,.4)">' + n + '</div>',
        className: 'atlas-groupe', iconSize: L.point(size, size)
    });
}"""


def clustered_points(
    frame: gpd.GeoDataFrame,
    fields: Sequence[Field],
    colours: Sequence[str],
    filled: Sequence[bool],
    settings: Settings,
    name: str,
    until_zoom: int,
    radius: int = 7,
) -> folium.plugins.FastMarkerCluster:
    """Points drawn in the browser from compact rows, clustered until ``until_zoom``.

    Each point: a circle of its colour, filled or hollow, with a tooltip (hover) and the
    same text as a popup (tap, keyboard). Rows carry indices into escaped lookup tables
    (``[lat, lon, colour, filled, value of field 1, …]``): 10 000 points weigh ~0.5 MB
    where one GeoJSON marker each weighed ~4 MB. Every text is HTML-escaped here.
    """
    import json

    import folium.plugins
    import pandas as pd

    from layers.assets import cluster_assets

    points = frame.to_crs(4326).geometry
    lookups: dict = {"libelles": [escape(label) for _c, label, _f in fields], "valeurs": []}
    codes = []
    for column, _label, fmt in fields:
        values = frame[column].map(
            lambda v, f=fmt: (
                "" if v is None or (isinstance(v, float) and v != v) else (f(v) if f else v)
            )
        )
        cat = pd.Categorical(values.astype(str))
        lookups["valeurs"].append([escape(c) for c in cat.categories])
        codes.append(cat.codes)
    palette = pd.Categorical(list(colours))
    lookups["couleur"] = [str(c) for c in palette.categories]
    lat = points.y.round(6).to_numpy()
    lon = points.x.round(6).to_numpy()
    fill = list(filled)
    rows = [
        [float(lat[i]), float(lon[i]), int(palette.codes[i]), int(bool(fill[i]))]
        + [int(c[i]) for c in codes]
        for i in range(len(frame))
    ]
    tables = json.dumps(lookups, ensure_ascii=False).replace("<", "\\u003c")
    cluster = folium.plugins.FastMarkerCluster(
        rows,
        icon_create_function=CLUSTER_ICON,
        # folium writes « var callback = <this>; »: a function expression, tables inside
        callback=_CLUSTER_CALLBACK.replace("@@TABLES@@", tables).replace(
            "@@RADIUS@@", str(int(radius))
        ),
        name=name,
        options={
            "disableClusteringAtZoom": until_zoom,
            "showCoverageOnHover": False,
            "maxClusterRadius": 45,
        },
    )
    cluster.default_js, cluster.default_css = cluster_assets(settings)
    return cluster


class Legend(MacroElement):
    """A Leaflet control listing symbols and labels; every label is escaped.

    A ``<details>`` element: its title (« Légende : … ») folds and unfolds it, by touch,
    mouse or keyboard, announced as expandable. Open on a wide map; folded on a map
    narrower than :data:`NARROW_MAP_PX` (a phone), where an open legend hid up to a quarter
    of the map (issue 21: overlays ≤ 15 %).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var box = L.DomUtil.create('details', 'atlas-legend');
                box.setAttribute('aria-label', {{ this.title|tojson }});
                box.style.cssText = 'background:rgba(255,255,255,.92);padding:4px 9px;'
                    + 'border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.35);'
                    + 'font:12px/1.4 sans-serif;color:#222;max-width:240px';
                box.innerHTML = {{ this.html|tojson }};
                box.open = map.getContainer().clientWidth >= {{ this.narrow }};
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                return box;
            };
            legend.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str,
        items: Sequence[tuple[str, str]],
        *,
        dashed: Sequence[str] = (),
        shapes: Mapping[str, str] | None = None,
        position: str = "topright",
    ) -> None:
        super().__init__()
        self._name = "Legend"
        self.title = title
        self.position = position
        self.narrow = NARROW_MAP_PX
        lines = [
            "<summary style='font-weight:bold;cursor:pointer;padding:2px 0'>Légende"
            f"<span class='atlas-legend-title'> : {escape(title)}</span></summary>"
        ]
        for color, label in items:
            shape = (shapes or {}).get(label, "area")
            swatch = legend_swatch(color, shape, dashed=label in dashed)
            lines.append(f"<div>{swatch}{escape(label)}</div>")
        self.html = "".join(lines)


LEGEND_SHAPES = ("area", "point", "hollow", "line")


def legend_swatch(color: str, shape: str = "area", dashed: bool = False) -> str:
    """A legend symbol drawn as the map draws the thing (HTML, the colour escaped).

    ``area``: a filled box with its outline (a polygon; dashed for an indicative one);
    ``point``: a filled circle (a marker); ``hollow``: an empty circle (an unverified
    point); ``line``: a stroke (a path; dashed for an indicative one).
    """
    if shape not in LEGEND_SHAPES:
        raise ValueError(f"forme de légende inconnue : {shape}")
    c = escape(color)
    border = "dashed" if dashed else "solid"
    base = "display:inline-block;vertical-align:middle;margin-right:6px;"
    if shape == "point":
        return (
            f"<span aria-hidden='true' style='{base}width:10px;height:10px;border-radius:50%;"
            f"background:{c};border:2px solid {c}'></span>"
        )
    if shape == "hollow":
        return (
            f"<span aria-hidden='true' style='{base}width:10px;height:10px;border-radius:50%;"
            f"background:#ffffff;border:2px solid {c}'></span>"
        )
    if shape == "line":
        return (
            f"<span aria-hidden='true' style='{base}width:16px;height:0;"
            f"border-top:3px {border} {c}'></span>"
        )
    return (
        f"<span aria-hidden='true' style='{base}width:14px;height:10px;"
        f"background:{c}59;border:2px {border} {c}'></span>"
    )


class KeyboardFriendly(MacroElement):
    """The map is one stop for the Tab key, not one per shape.

    Chromium puts every interactive SVG shape in the Tab order: a keyboard user had to
    press Tab 1 400 times to get past the cadastre's roofs (WCAG 2.1.1 / 2.4.3). Shapes
    leave the Tab order (``tabindex=-1``, also for layers added later); the map container
    keeps its own stop (arrow keys pan, +/- zoom) and says where its content is as text.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var box = map.getContainer();
            box.setAttribute('aria-label', {{ this.label|tojson }});
            box.setAttribute('role', 'region');
            function untab() {
                var shapes = box.querySelectorAll('path.leaflet-interactive');
                for (var i = 0; i < shapes.length; i++) {
                    shapes[i].setAttribute('tabindex', '-1');
                }
            }
            var french = {'.leaflet-control-zoom-in': 'Zoomer',
                          '.leaflet-control-zoom-out': 'Dézoomer',
                          '.leaflet-control-layers-toggle': 'Couches de la carte'};
            function speakFrench() {
                for (var sel in french) {
                    var el = box.querySelector(sel);
                    if (el) { el.title = french[sel]; el.setAttribute('aria-label', french[sel]); }
                }
            }
            // Leaflet focuses the map on a press; a focus scrolls the page to show the
            // whole map, the map moves under the pointer and Leaflet reads a drag: the
            // first tap on a marker of a partly shown map opened nothing. Focus first,
            // without scrolling.
            function focusInPlace() {
                if (document.activeElement !== box) { box.focus({preventScroll: true}); }
            }
            box.addEventListener('mousedown', focusInPlace, true);
            box.addEventListener('touchstart', focusInPlace, {capture: true, passive: true});
            map.on('layeradd zoomend moveend', function() { setTimeout(untab, 0); });
            map.whenReady(function() { setTimeout(speakFrench, 0); });
            map.whenReady(untab);
            setTimeout(untab, 0);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, label: str) -> None:
        super().__init__()
        self._name = "KeyboardFriendly"
        self.label = label


MAP_LABEL = (
    "Carte interactive (flèches : déplacer, + et − : zoomer). Ses informations sont aussi "
    "données sous forme de texte sur la page (tableaux, fiches)."
)


class DataAttribution(MacroElement):
    """Adds the data producers and dates to the map's attribution control (escaped)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.html|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__()
        self._name = "DataAttribution"
        self.html = "Données : " + " ; ".join(escape(t) for t in dict.fromkeys(texts))


EPCI_COLORS = {"CALL": "#1b9e77", "CAHC": "#d95f02", "CABBALR": "#7570b3"}
MAIRIE_COLOR = "#c2185b"


def territory_map(
    communes: gpd.GeoDataFrame,
    territory: Territory,
    settings: Settings,
    basemap_id: str = "plan-ign",
) -> folium.Map:
    """Home-page map: the selected communes coloured by EPCI.

    Also their town halls (a layer hidden by default), tooltips, layer control, legend and
    attribution.
    """
    fmap = new_map(settings, basemap_id, frame_bounds(communes))
    names = territory.epci_names
    fields: list[Field] = [
        ("nom", "Commune", None),
        ("insee", "Code INSEE", None),
        ("epci_nom", "Intercommunalité", None),
        ("population", "Population", lambda v: f"{fmt_int(v)} hab."),  # type: ignore[arg-type]
    ]
    add_polygons(
        fmap, communes, name="Communes", fields=fields, color_by="epci_code", colors=EPCI_COLORS
    )
    mairies = territory.mairies[territory.mairies["insee"].isin(communes["insee"])]
    if not mairies.empty:
        add_points(
            fmap,
            mairies,
            name="Mairies",
            color=MAIRIE_COLOR,
            show=False,
            fields=[("nom", "Mairie de", None), ("adresse", "Adresse", None)],
        )
    folium.LayerControl(collapsed=True).add_to(fmap)
    shown = [c for c in names if c in set(communes["epci_code"])] or list(names)
    items = [(EPCI_COLORS.get(c, "#555555"), f"{c} — {names[c]}") for c in shown]
    items.append((MAIRIE_COLOR, "Mairies (à cocher dans le sélecteur de couches)"))
    Legend("Intercommunalités", items).add_to(fmap)
    DataAttribution(
        [territory.catalog["communes"].attribution, territory.catalog["mairies"].attribution]
    ).add_to(fmap)
    return fmap


def map_payload(fmap: folium.Map) -> str:
    """The map's HTML as folium renders it (what the browser has to parse), for sizing."""
    return fmap.get_root().render()
