"""Map builders: escaping, light payloads, assets online/offline, legend and attribution."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from shapely.geometry import Point, box

from layers.assets import LEAFLET_VERSION, cluster_assets, map_assets, missing_assets
from layers.mapping import (
    BASEMAPS,
    COORD_PRECISION,
    TIP_PREFIX,
    DataAttribution,
    Legend,
    basemap_choices,
    display_frame,
    frame_bounds,
    make_tooltip,
    map_payload,
    new_map,
    resolve_basemap,
    territory_map,
    tooltip_columns,
)
from layers.settings import Settings
from layers.territory import Selection, selected_communes
from tests.helpers import feature_count, geojson_collections, unescape_js

HOSTILE = "<img src=x onerror=alert(1)>"


def test_tooltip_escapes_values_and_labels():
    frame = gpd.GeoDataFrame({"nom": [HOSTILE], "n": [1234]}, geometry=[Point(2.8, 50.4)], crs=4326)
    fields = [("nom", "Nom <b>", None), ("n", "N", lambda v: f"{v} m²")]
    columns = tooltip_columns(frame, fields)
    assert columns == {
        f"{TIP_PREFIX}0": ["&lt;img src=x onerror=alert(1)&gt;"],
        f"{TIP_PREFIX}1": ["1234 m²"],
    }
    tooltip = make_tooltip(fields)
    assert tooltip.aliases == ["Nom &lt;b&gt;", "N"]


def test_hostile_name_never_reaches_the_page_as_markup(territory, settings):
    communes = territory.communes.copy()
    communes.loc[communes["insee"] == "62498", "nom"] = HOSTILE
    html = map_payload(territory_map(communes, territory, settings))
    assert HOSTILE not in unescape_js(html)
    tips = [
        f["properties"][f"{TIP_PREFIX}0"] for c in geojson_collections(html) for f in c["features"]
    ]
    assert sum("&lt;img src=x onerror=alert(1)&gt;" in t for t in tips) == 1


def test_display_frame_is_light_and_rounded(territory):
    communes = territory.communes
    light = display_frame(communes, [("nom", "Commune", None)], keep=["epci_code"])
    assert set(light.columns) == {"epci_code", f"{TIP_PREFIX}0", "geometry"}
    coords = light.geometry.get_coordinates().to_numpy()
    assert abs(coords / COORD_PRECISION - (coords / COORD_PRECISION).round()).max() < 1e-6
    # rounding to ~1 m moves each commune's area by far less than 0.1 %
    before = communes.to_crs(2154).area.to_numpy()
    after = light.to_crs(2154).area.to_numpy()
    assert abs(after / before - 1).max() < 1e-3


@pytest.mark.parametrize(("epci", "expected"), [((), 150), (("CAHC",), 14), (("CALL",), 36)])
def test_territory_map_features_follow_the_selection(territory, settings, epci, expected):
    communes = selected_communes(territory, Selection(epci))
    html = map_payload(territory_map(communes, territory, settings))
    assert feature_count(html) == expected
    assert feature_count(html, ("Point",)) == expected  # one town hall per commune
    communes_layer, _mairies = geojson_collections(html)
    props = communes_layer["features"][0]["properties"]
    # nothing else is shipped: style column + the four tooltip values
    assert set(props) == {"epci_code"} | {f"{TIP_PREFIX}{i}" for i in range(4)}


def test_territory_map_has_legend_and_attribution(territory, settings):
    html = unescape_js(
        map_payload(
            territory_map(selected_communes(territory, Selection(("CAHC",))), territory, settings)
        )
    )
    assert "CAHC — CA d&#x27;Hénin-Carvin" in html  # legend entry (escaped)
    assert "CALL —" not in html  # only EPCI on the map are listed
    assert "addAttribution" in html and "IGN, INSEE, DGCL — 2026" in html
    assert "data.geopf.fr" in html  # default basemap: Plan IGN v2


def test_map_loads_only_leaflet_online(settings):
    html = map_payload(new_map(settings))
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == [f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js"]


def test_offline_map_uses_no_cdn():
    offline = Settings(offline=True, static_url="/app/static/vendor")
    html = map_payload(new_map(offline))
    links = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert links == []
    js, css = map_assets(offline)
    assert js == [("leaflet", "/app/static/vendor/leaflet/leaflet.js")]
    assert css == [("leaflet_css", "/app/static/vendor/leaflet/leaflet.css")]


def test_missing_assets(tmp_path):
    assert len(missing_assets(tmp_path)) == 5
    (tmp_path / "leaflet").mkdir()
    for name in ("leaflet.js", "leaflet.css"):
        (tmp_path / "leaflet" / name).write_text("x")
    assert len(missing_assets(tmp_path)) == 3
    (tmp_path / "leaflet.markercluster").mkdir()
    for name in ("leaflet.markercluster.js", "MarkerCluster.css", "MarkerCluster.Default.css"):
        (tmp_path / "leaflet.markercluster" / name).write_text("x")
    assert missing_assets(tmp_path) == []


def test_cluster_assets_match_what_folium_asks_for(settings):
    import folium.plugins

    js, css = cluster_assets(settings)
    assert js == folium.plugins.MarkerCluster.default_js
    assert css == folium.plugins.MarkerCluster.default_css
    offline_js, _ = cluster_assets(Settings(offline=True))
    assert offline_js[0][1].startswith("/app/static/vendor/leaflet.markercluster/")


def test_basemaps(settings):
    assert "GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2" in BASEMAPS["plan-ign"].url
    assert "ORTHOIMAGERY.ORTHOPHOTOS" in BASEMAPS["ortho-ign"].url
    assert "openstreetmap" in BASEMAPS["osm"].url
    assert resolve_basemap("aucun", settings) is None
    assert resolve_basemap("n'importe quoi", settings) == BASEMAPS["plan-ign"]
    assert "local" not in basemap_choices(settings)
    local = Settings(
        tiles_url="http://tuiles.intranet/{z}/{x}/{y}.png", tiles_attribution="<b>PMA</b>"
    )
    assert list(basemap_choices(local))[0] == "local"
    assert resolve_basemap("local", local).attribution == "&lt;b&gt;PMA&lt;/b&gt;"
    html = map_payload(new_map(settings, "aucun"))
    assert "tileLayer" not in html.replace("L.tileLayer = ", "")


def test_legend_and_attribution_escape():
    legend = Legend("Titre <i>", [("#123456", "<script>x</script>")], dashed=["<script>x</script>"])
    assert "<script>x" not in legend.html and "&lt;script&gt;" in legend.html
    assert "dashed" in legend.html
    attribution = DataAttribution(["<b>IGN</b> — 2026", "<b>IGN</b> — 2026"])
    assert attribution.html == "Données : &lt;b&gt;IGN&lt;/b&gt; — 2026"


def test_frame_bounds(territory):
    lens = territory.communes[territory.communes["insee"] == "62498"]
    (south, west), (north, east) = frame_bounds(lens)
    assert 50.4 < south < north < 50.5 and 2.7 < west < east < 2.9
    square = gpd.GeoDataFrame(geometry=[box(2.5, 50.5, 2.6, 50.6)], crs=4326)
    assert frame_bounds(square) == ((50.5, 2.5), (50.6, 2.6))
    assert frame_bounds(square.iloc[0:0]) == ((50.33, 2.37), (50.66, 3.08))


def test_theme_maps_carry_commune_and_epci_limits(territory, settings):
    """Issue 21: no commune or EPCI outline on the theme maps (shapes floated on grey)."""
    from layers.mapping import add_outlines, new_map
    from layers.territory import Selection, selected_communes
    from tests.helpers import feature_count

    cahc = selected_communes(territory, Selection(epci=("CAHC",)))
    fmap = new_map(settings, "aucun")
    add_outlines(fmap, cahc)
    html = fmap.get_root().render()
    lines = ("LineString", "MultiLineString")
    # one line per commune, plus the EPCI's own border
    assert feature_count(html, lines) == len(cahc) + 1
    assert feature_count(html) == 0  # lines, not polygons: clicks reach the map
    assert '"interactive": false' in html


def test_the_limits_are_computed_once_per_set_of_outlines(territory, settings):
    """Every roof's map on the cadastre page drew the same limits again (~70 ms each):
    they are kept by content — the same communes give the same GeoJSON, kept once; a
    moved outline or another EPCI gives new ones."""
    from layers.mapping import add_outlines, new_map, outline_geojson
    from layers.territory import Selection, selected_communes
    from tests.helpers import feature_count

    cahc = selected_communes(territory, Selection(epci=("CAHC",)))
    first = outline_geojson(cahc)
    again = outline_geojson(cahc.copy())  # another frame, the same content
    assert again[0] is first[0] and again[1] is first[1]
    moved = cahc.copy()
    moved.loc[moved.index[0], "geometry"] = moved.geometry.iloc[0].buffer(0.001)
    assert outline_geojson(moved)[0] is not first[0]
    regrouped = cahc.assign(epci_code="AUTRE")
    assert outline_geojson(regrouped)[1] is not first[1]
    for _ in range(2):  # the kept GeoJSON draws the same map every time
        fmap = new_map(settings, "aucun")
        add_outlines(fmap, cahc)
        html = fmap.get_root().render()
        assert feature_count(html, ("LineString", "MultiLineString")) == len(cahc) + 1
