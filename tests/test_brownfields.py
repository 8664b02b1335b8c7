"""Brownfields: the PV screening formula by hand, filters, figures, map."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from layers.assumptions import Assumptions, Range, load_assumptions
from layers.brownfields import (
    BrownfieldFilter,
    apply_filter,
    brownfields_map,
    figures_by_epci,
    option_counts,
    prepare,
    pv_estimate,
    site_table,
)
from layers.catalog import read_layer
from layers.errors import AtlasError
from layers.formatting import escape
from tests.helpers import GEODATA, clustered_points


def rng(bas, central, haut):
    return Range("t", "u", bas, central, haut, "s", "", "2026")


HYP = Assumptions(
    "test",
    {
        "pv_sol": {
            "part_mobilisable": rng(0.5, 0.8, 1.0),
            "densite": rng(0.5, 0.7, 1.0),
            "productible": rng(900, 1000, 1100),
            "seuil_surface": rng(1.5, 1.5, 1.5),
        }
    },
)


@pytest.fixture(scope="module")
def friches(territory):
    return prepare(read_layer(territory.catalog["friches"], GEODATA), load_assumptions(GEODATA))


def test_pv_formula_by_hand():
    out = pv_estimate(100_000.0, HYP)  # 10 ha
    assert out["mwc_bas"] == pytest.approx(10 * 0.5 * 0.5)  # 2.5 MWc
    assert out["mwc_central"] == pytest.approx(10 * 0.8 * 0.7)  # 5.6 MWc
    assert out["mwc_haut"] == pytest.approx(10 * 1.0 * 1.0)  # 10 MWc
    assert out["gwh_central"] == pytest.approx(5.6 * 1000 / 1000)  # 5.6 GWh/yr
    assert out["gwh_haut"] == pytest.approx(10 * 1100 / 1000)  # 11 GWh/yr
    assert pv_estimate(0.0, HYP)["mwc_central"] == 0


def test_prepare_flags_small_sites():
    frame = gpd.GeoDataFrame(
        {"site_surface": [10_000.0, 20_000.0]}, geometry=[Point(2.8, 50.4)] * 2, crs=4326
    )
    out = prepare(frame, HYP)
    assert list(out["surface_ha"]) == [1.0, 2.0]
    assert list(out["petit_site"]) == [True, False]


def test_assumptions_validation(tmp_path):
    with pytest.raises(AtlasError, match="bas ≤ central ≤ haut"):
        rng(2, 1, 3)
    with pytest.raises(AtlasError, match="introuvable"):
        load_assumptions(tmp_path)
    (tmp_path / "hypotheses.toml").write_text('[g.x]\ntitre = "x"\n', encoding="utf-8")
    with pytest.raises(AtlasError, match="incomplètes"):
        load_assumptions(tmp_path)
    shipped = load_assumptions(GEODATA)
    with pytest.raises(AtlasError, match="inconnue"):
        shipped.get("pv_sol", "nope")
    for item in shipped.groups["pv_sol"].values():
        assert item.source and item.date and item.unit


def test_counts_match_the_source(friches, territory):
    # PROVENANCE: 307 sites, CABBALR 124, CALL 100, CAHC 83; 239 unverified candidates
    table = figures_by_epci(friches, territory).set_index("EPCI")
    assert table.loc["CABBALR", "Sites"] == 124
    assert table.loc["CALL", "Sites"] == 100
    assert table.loc["CAHC", "Sites"] == 83
    assert table.loc["Total", "Sites"] == 307
    assert table.loc["Total", "Surface (ha)"] == pytest.approx(
        friches["site_surface"].sum() / 10_000, abs=0.1
    )
    assert len(apply_filter(friches, BrownfieldFilter(verified=False))) == 239
    assert len(apply_filter(friches, BrownfieldFilter(verified=True))) == 68


def test_filters(friches):
    avec = apply_filter(friches, BrownfieldFilter(statuses=("friche avec projet",)))
    assert len(avec) == option_counts(friches, "site_statut")["friche avec projet"] == 19
    big = apply_filter(friches, BrownfieldFilter(surface_ha=(10.0, 1000.0)))
    assert (big["surface_ha"] >= 10).all() and len(big) < len(friches)
    cok = apply_filter(friches, BrownfieldFilter(activity="COKERIE"))
    text = (cok["activite_libelle"].fillna("") + cok["site_nom"].fillna("")).str.lower()
    assert len(cok) > 0 and text.str.contains("cokerie").all()
    assert apply_filter(friches, BrownfieldFilter(activity="zzz-introuvable")).empty


def test_site_table_units(friches):
    table = site_table(friches.head(3))
    assert "Surface (ha)" in table and "PV sol MWc (central)" in table
    assert set(table["Vérifié par le Cerema"]) <= {"oui", "non"}


def test_map_counts_and_escaping(friches, territory, settings):
    sample = friches.head(20).copy()
    sample.loc[sample.index[0], "site_nom"] = "<script>alert(1)</script>"
    html = brownfields_map(sample, territory, settings).get_root().render()
    points = clustered_points(html)
    assert len(points) == 20
    names = [p["values"]["Site"] for p in points]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in names and "<script>alert" not in html
    assert "markerClusterGroup" in html
    empty = brownfields_map(friches.iloc[0:0], territory, settings).get_root().render()
    assert clustered_points(empty) == []


def test_sites_have_a_tooltip_and_a_popup_and_verified_ones_are_filled(
    friches, territory, settings
):
    """Issue 21: no tooltip, no popup, every marker hollow even when « vérifiés »."""
    html = brownfields_map(friches, territory, settings).get_root().render()
    assert "bindTooltip" in html and "bindPopup" in html
    points = clustered_points(html)  # in the frame's order
    assert [p["filled"] for p in points] == [bool(v) for v in friches["verifie"]]
    assert any(p["filled"] for p in points) and not all(p["filled"] for p in points)
    assert [p["values"]["Site"] for p in points] == [escape(n) for n in friches["site_nom"]]
    first = points[0]["values"]
    assert first["Surface"].endswith(" ha") and first["Statut"]
