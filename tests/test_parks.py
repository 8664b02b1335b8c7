"""Chaîne des Parcs: spatial joins, areas and lengths against hand-made cases."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from layers.parks import (
    ParkFilter,
    Planning,
    communes_of_shapes,
    enrich_parks,
    filter_parks,
    length_km_in,
    lengths_by_epci,
    park_at,
    park_card,
    park_totals,
    parks_map,
)
from layers.territory import METRIC_CRS, Selection, within_selection
from tests.helpers import feature_count

X0, Y0 = 680_000, 7_030_000  # somewhere in the PMA, Lambert-93


def communes_ab() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"insee": ["1", "2"], "nom": ["A", "B"], "epci_code": ["E1", "E2"]},
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)],
        crs=METRIC_CRS,
    )


def test_communes_of_shapes_hand_made():
    shapes = gpd.GeoDataFrame(
        geometry=[
            box(X0 + 300, Y0 + 100, X0 + 1300, Y0 + 900),  # 70 % in A, 30 % in B
            box(X0 + 100, Y0 + 100, X0 + 1004, Y0 + 900),  # 3 200 m² (0.32 ha, 0.4 %) in B
            box(X0 + 5000, Y0, X0 + 5100, Y0 + 100),  # in no commune
        ],
        crs=METRIC_CRS,
    ).to_crs(4326)
    out = communes_of_shapes(shapes, communes_ab().to_crs(4326))
    assert list(out["communes"]) == ["A, B", "A", ""]
    assert list(out["insee_list"]) == ["1,2", "1", ""]
    assert list(out["epci"]) == ["E1, E2", "E1", ""]


def test_enrich_parks_area_in_lambert93():
    park = gpd.GeoDataFrame(
        {"nom": ["carré"]}, geometry=[box(X0 + 100, Y0 + 100, X0 + 400, Y0 + 400)], crs=METRIC_CRS
    ).to_crs(4326)
    out = enrich_parks(park, communes_ab().to_crs(4326))
    assert out["surface_ha"].iloc[0] == pytest.approx(9.0, rel=1e-6)  # 300 m × 300 m
    assert out["communes"].iloc[0] == "A"


def test_shipped_parks_match_published_areas(planning):
    parks = planning.parks.set_index("nom")
    # areas published with the source layers (parks_seed: area_ha)
    assert parks.loc["Parc de la Glissoire", "surface_ha"] == pytest.approx(52.1, abs=0.1)
    assert parks.loc["Parc de Wingles et étangs d'affaissement", "surface_ha"] == pytest.approx(
        215.7, abs=0.1
    )
    assert parks.loc["Parc des Iles", "surface_ha"] == pytest.approx(45, rel=0.01)
    assert parks.loc["Parc des Iles", "geometrie"] == "indicative"
    assert "Loos-en-Gohelle" in parks.loc["Base 11/19 – terrils jumeaux 74, 74A et 74B", "communes"]
    assert (planning.parks["communes"] != "").all()
    assert set(planning.parks["geometrie"]) == {"réelle", "indicative"}
    assert planning.parks["source"].str.len().gt(10).all()


def test_filter_parks(planning):
    terrils = filter_parks(planning.parks, ParkFilter(types=("terril",)))
    assert len(terrils) and set(terrils["type"]) == {"terril"}
    both = filter_parks(planning.parks, ParkFilter(statuses=("ouvert",), geometries=("réelle",)))
    assert set(both["statut"]) == {"ouvert"} and set(both["geometrie"]) == {"réelle"}
    assert len(filter_parks(planning.parks, ParkFilter())) == len(planning.parks)


def test_clip_parks_by_commune_list(planning, territory):
    cahc = within_selection(planning.parks, territory, Selection(("CAHC",)))
    assert len(cahc) and all("CAHC" in e for e in cahc["epci"])
    lens = within_selection(planning.parks, territory, Selection(communes=("62498",)))
    assert "Parc du Louvre-Lens (Centralité)" in set(lens["nom"])


def test_length_km_in_hand_made():
    area = box(X0, Y0, X0 + 1000, Y0 + 1000)
    cav = gpd.GeoDataFrame(
        {"longueur_m": [1000.0]},
        geometry=[box(X0 + 500, Y0 + 495, X0 + 1500, Y0 + 505)],
        crs=METRIC_CRS,
    ).to_crs(4326)
    links = gpd.GeoDataFrame(
        geometry=[LineString([(X0 - 1000, Y0 + 200), (X0 + 3000, Y0 + 200)])], crs=METRIC_CRS
    ).to_crs(4326)
    km_cav, km_links = length_km_in(area, cav, links)
    assert km_cav == pytest.approx(0.5, rel=1e-3)
    assert km_links == pytest.approx(1.0, rel=1e-3)


def test_lengths_by_epci_add_up(planning, territory):
    table = lengths_by_epci(planning, territory)
    assert list(table["EPCI"]) == ["CALL", "CAHC", "CABBALR"]
    total_cav = planning.cavaliers["longueur_m"].sum() / 1000
    assert table["Cavaliers (km)"].sum() == pytest.approx(total_cav, rel=0.02)
    total_links = planning.links.to_crs(METRIC_CRS).length.sum() / 1000
    assert table["Liaisons indicatives (km)"].sum() == pytest.approx(total_links, rel=0.02)


def test_park_totals():
    parks = gpd.GeoDataFrame(
        {
            "surface_ha": [10.0, 30.0, 500.0],
            "geometrie": ["réelle", "indicative", "indicative"],
            "type": ["terril", "parc urbain", "étude de cas"],
        },
        geometry=[Point(0, 0)] * 3,
        crs=4326,
    )
    fig = park_totals(parks, 20_000, (1.5, 2.0))
    assert (fig.n_parks, fig.hectares, fig.hectares_indicative) == (3, 40.0, 30.0)
    assert fig.ha_per_1000 == pytest.approx(2.0)
    assert park_totals(parks, 0, (0, 0)).ha_per_1000 == 0.0


def test_park_at(planning):
    glissoire = planning.parks[planning.parks["nom"] == "Parc de la Glissoire"]
    inside = glissoire.geometry.iloc[0].representative_point()
    assert park_at(planning.parks, inside.y, inside.x) == glissoire["parc_id"].iloc[0]
    assert park_at(planning.parks, 50.0, 2.0) is None


def test_park_card_nearby_brownfields_and_links(planning):
    park = box(X0, Y0, X0 + 200, Y0 + 200)
    parks = gpd.GeoDataFrame(
        {"parc_id": ["P1"], "nom": ["Test"], "surface_ha": [4.0]}, geometry=[park], crs=METRIC_CRS
    ).to_crs(4326)
    friches = gpd.GeoDataFrame(
        {
            "site_nom": ["près", "loin", "dedans"],
            "comm_nom": ["X"] * 3,
            "site_statut": ["s"] * 3,
            "verifie": [True, False, True],
            "site_surface": [10_000.0] * 3,
        },
        geometry=[Point(X0 + 300, Y0 + 100), Point(X0 + 900, Y0 + 100), Point(X0 + 100, Y0 + 100)],
        crs=METRIC_CRS,
    ).to_crs(4326)
    cav = gpd.GeoDataFrame(
        {"nom": ["touche", "loin"], "longueur_m": [500.0, 800.0]},
        geometry=[box(X0 + 210, Y0, X0 + 700, Y0 + 10), box(X0 + 2000, Y0, X0 + 2500, Y0 + 10)],
        crs=METRIC_CRS,
    ).to_crs(4326)
    links = gpd.GeoDataFrame(
        {"nom": ["ligne"], "longueur_m": [1000.0]},
        geometry=[LineString([(X0 + 100, Y0 + 100), (X0 + 1100, Y0 + 100)])],
        crs=METRIC_CRS,
    ).to_crs(4326)
    test_planning = Planning(parks, cav, links, {"friches": friches}, planning.catalog)
    card = park_card(test_planning, "P1", 500)
    assert list(card.brownfields["Site"]) == ["dedans", "près"]
    assert list(card.brownfields["Distance (m)"]) == [0, 100]
    assert sorted(card.links["Liaison"]) == ["ligne", "touche"]
    with pytest.raises(KeyError):
        park_card(test_planning, "P404", 500)


def test_parks_map_styles_and_layers(planning, settings):
    parks = planning.parks
    fmap = parks_map(
        planning,
        parks,
        planning.cavaliers,
        planning.links,
        {"puits": planning.context["puits"]},
        settings,
    )
    html = fmap.get_root().render()
    polygons = feature_count(html)
    assert polygons == len(parks) + len(planning.cavaliers)  # parks + cavalier outlines
    assert feature_count(html, ("LineString",)) == len(planning.links)
    assert feature_count(html, ("Point",)) == len(planning.context["puits"])
    assert "7 5" in html  # dashed outlines exist for indicative parks
    assert "contour indicatif" in html
