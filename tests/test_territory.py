"""Territory: selection parsing, clipping and key figures.

Expected counts and populations are those published with the source data
(``shared/data/PROVENANCE.md``: INSEE populations légales, DGCL composition 2026).
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from layers.territory import (
    Selection,
    commune_totals,
    communes_table,
    describe_selection,
    parse_selection,
    selected_communes,
    selection_to_params,
    within_selection,
)


@pytest.mark.parametrize(
    ("params", "epci", "communes", "n_notices"),
    [
        ({}, (), (), 0),
        ({"epci": "CAHC"}, ("CAHC",), (), 0),
        ({"epci": ["cahc"]}, ("CAHC",), (), 0),
        ({"epci": "CABBALR,CALL"}, ("CALL", "CABBALR"), (), 0),
        ({"epci": ["CALL", "CALL", "CAHC"]}, ("CALL", "CAHC"), (), 0),
        ({"epci": "CALL", "commune": "62498"}, ("CALL",), ("62498",), 0),
        ({"commune": "62498"}, (), ("62498",), 0),
        ({"epci": "FOO"}, (), (), 1),
        ({"epci": "CAHC", "commune": "62498"}, ("CAHC",), (), 1),  # Lens is not in CAHC
        ({"commune": ["99999", "abc", "62498"]}, (), ("62498",), 2),
        ({"epci": " , ,"}, (), (), 0),
    ],
)
def test_parse_selection(territory, params, epci, communes, n_notices):
    selection, notices = parse_selection(params, territory)
    assert selection == Selection(epci, communes)
    assert len(notices) == n_notices


def test_parse_selection_shortens_hostile_values(territory):
    hostile = "<script>alert(1)</script>" * 20
    _, notices = parse_selection({"epci": hostile}, territory)
    assert len(notices) == 1
    assert len(notices[0]) < 120 and notices[0].endswith("…")


@pytest.mark.parametrize(
    "selection",
    [Selection(), Selection(("CAHC",)), Selection(("CALL", "CAHC"), ("62498",))],
)
def test_url_round_trip(territory, selection):
    params = selection_to_params(selection)
    assert parse_selection(params, territory) == (selection, [])


@pytest.mark.parametrize(
    ("epci", "n", "population"),
    [("CALL", 36, 242_591), ("CAHC", 14, 126_133), ("CABBALR", 100, 275_736)],
)
def test_commune_totals_per_epci(territory, epci, n, population):
    figures = commune_totals(selected_communes(territory, Selection((epci,))))
    assert (figures.n_communes, figures.population) == (n, population)


def test_commune_totals_whole_territory(territory):
    figures = commune_totals(selected_communes(territory, Selection()))
    assert figures.n_communes == 150
    assert figures.population == 242_591 + 126_133 + 275_736
    assert figures.area_km2 == pytest.approx(1002, rel=0.01)  # "1,002 km²" (PMA)
    assert figures.density == pytest.approx(figures.population / figures.area_km2)


def test_commune_totals_area_is_measured_in_lambert93():
    # a 2 km x 3 km rectangle drawn in Lambert-93, handed over in WGS84
    square = gpd.GeoDataFrame(
        {"population": [10]}, geometry=[box(680_000, 7_030_000, 682_000, 7_033_000)], crs=2154
    ).to_crs(4326)
    assert commune_totals(square).area_km2 == pytest.approx(6.0, rel=1e-4)


def test_commune_totals_empty(territory):
    figures = commune_totals(territory.communes.iloc[0:0])
    assert (figures.n_communes, figures.population, figures.area_km2, figures.density) == (
        0,
        0,
        0.0,
        0.0,
    )


def test_commune_selection_wins_over_epci(territory):
    lens = selected_communes(territory, Selection(("CALL",), ("62498",)))
    assert list(lens["nom"]) == ["Lens"]


def test_communes_of_is_limited_and_sorted(territory):
    cahc = territory.communes_of(["CAHC"])
    assert len(cahc) == 14 and set(cahc["epci_code"]) == {"CAHC"}
    assert list(cahc["nom"]) == sorted(cahc["nom"], key=lambda s: s.lower().replace("é", "e"))
    assert len(territory.communes_of([])) == 150


def test_clip_by_attribute(territory):
    clipped = within_selection(territory.mairies, territory, Selection(("CAHC",)))
    assert len(clipped) == 14


def test_clip_spatial_keeps_intersecting_features(territory):
    lens = territory.communes.loc[territory.communes["insee"] == "62498"].geometry.iloc[0]
    bethune = territory.communes.loc[territory.communes["nom"] == "Béthune"].geometry.iloc[0]
    inside_lens = lens.representative_point()
    inside_bethune = bethune.representative_point()
    points = gpd.GeoDataFrame({"nom": ["a", "b"]}, geometry=[inside_lens, inside_bethune], crs=4326)
    kept = within_selection(points, territory, Selection(("CALL",)))
    assert list(kept["nom"]) == ["a"]
    # same test in Lambert-93: the selection is reprojected, not the layer
    kept_l93 = within_selection(points.to_crs(2154), territory, Selection(("CALL",)))
    assert list(kept_l93["nom"]) == ["a"]


def test_clip_cut_shortens_lines_at_the_border(territory):
    lens = territory.communes.loc[territory.communes["insee"] == "62498"].geometry.iloc[0]
    inside = lens.representative_point()
    far = Point(inside.x + 1.0, inside.y)  # about 70 km east, outside the PMA
    line = gpd.GeoDataFrame({"id": [1]}, geometry=[LineString([inside, far])], crs=4326)
    whole = within_selection(line, territory, Selection(communes=("62498",)))
    cut = within_selection(line, territory, Selection(communes=("62498",)), cut=True)
    assert whole.geometry.iloc[0].length == pytest.approx(1.0)
    assert 0 < cut.geometry.iloc[0].length < 0.1
    assert cut.geometry.iloc[0].within(lens.buffer(1e-9))


def test_clip_empty_selection_result(territory):
    nowhere = gpd.GeoDataFrame({"id": [1]}, geometry=[Point(0, 45)], crs=4326)
    assert within_selection(nowhere, territory, Selection(("CAHC",))).empty
    assert len(within_selection(nowhere, territory, Selection())) == 1  # no selection: untouched


def test_communes_table_units_and_order(territory):
    table = communes_table(selected_communes(territory, Selection(("CAHC",))))
    assert list(table.columns) == [
        "Code INSEE",
        "Commune",
        "EPCI",
        "Population (hab.)",
        "Superficie (km²)",
        "Densité (hab./km²)",
    ]
    assert table["Population (hab.)"].sum() == 126_133
    assert table["Superficie (km²)"].sum() == pytest.approx(112.3, abs=0.1)


def test_describe_selection(territory):
    assert "150 communes" in describe_selection(territory, Selection())
    assert describe_selection(territory, Selection(("CAHC",))).startswith("CAHC — ")
    assert describe_selection(territory, Selection(communes=("62498",))) == "Commune(s) : Lens"


def test_clip_by_commune_list(territory):
    frame = gpd.GeoDataFrame(
        {"insee_list": ["62498,62065", "62427", ""]}, geometry=[Point(0, 0)] * 3, crs=4326
    )
    assert len(within_selection(frame, territory, Selection(communes=("62065",)))) == 1
    assert (
        len(within_selection(frame, territory, Selection(("CAHC",)))) == 1
    )  # 62427 Hénin-Beaumont
    assert len(within_selection(frame, territory, Selection(("CABBALR",)))) == 0
