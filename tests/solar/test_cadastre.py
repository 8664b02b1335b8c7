"""The cadastre page's library: the demo district's roofs, addresses, figures, map, tiles, PDF."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from layers.assumptions import load_assumptions
from layers.cadastre import (
    cadastre_map,
    load_cadastre,
    locate,
    map_classes,
    roof_at,
    roof_estimate,
    roof_sheet_pdf,
    territory_figures,
)
from layers.geocode import Address
from layers.settings import DEFAULT_STATIC_DIR
from layers.solar.demo import prepare_demo
from layers.solar.tiles import colorize, lonlat_to_tile
from layers.territory import Selection
from tests.conftest import GEODATA
from tests.helpers import feature_count, unescape_js

TILES = DEFAULT_STATIC_DIR.parent / "tiles" / "solaire"


@pytest.fixture(scope="module")
def cad(territory):
    breaks = map_classes(load_assumptions(GEODATA))
    prepare_demo(GEODATA, DEFAULT_STATIC_DIR.parent, breaks, progress=False)  # no-op when present
    return load_cadastre(GEODATA / "demo", territory)


def test_demo_is_flagged_synthetic_everywhere(cad):
    assert cad.synthetic
    assert cad.roofs["qualite"].str.startswith("synthétique").all()
    assert cad.addresses["synthetique"].eq("oui").all()
    assert cad.run["weather"]["name"].startswith("Uccle")
    assert "Uccle" in cad.climate
    assert set(cad.roofs["commune"]) == {"Loos-en-Gohelle"}  # placed inside the PMA


def test_roof_at_and_addresses(cad, territory):
    roof = cad.roofs.iloc[10]
    inside = roof.geometry.representative_point()
    assert roof_at(cad, inside.y, inside.x) == roof["toit_id"]
    row = cad.addresses[cad.addresses["toit_id"] == roof["toit_id"]].iloc[0]
    address = Address(
        row["label"], float(row["lon"]), float(row["lat"]), "62528", "t", synthetic=True
    )
    assert locate(address, cad, territory) == ("toit", roof["toit_id"])
    lens = territory.mairies[territory.mairies["insee"] == "62498"].geometry.iloc[0]
    assert locate(Address("Mairie", lens.x, lens.y, "62498", "t"), cad, territory) == (
        "non_couvert",
        None,
    )
    assert locate(Address("Paris", 2.35, 48.86, "75101", "t"), cad, territory) == ("hors_pma", None)


def test_estimate_scales_with_power(cad):
    hyp = load_assumptions(GEODATA)
    roof = cad.roofs.sort_values("kwc_central").iloc[-1]
    full = roof_estimate(roof, hyp)
    half = roof_estimate(roof, hyp, float(roof["kwc_central"]) / 2)
    assert half.production[1] == pytest.approx(full.production[1] / 2, rel=1e-6)
    assert full.production[1] == pytest.approx(roof["kwh_an_central"], rel=1e-6)
    assert full.production[0] < full.production[1] < full.production[2]


def test_territory_figures_follow_the_selection(cad, territory):
    figures, classes, per_commune = territory_figures(cad, territory, Selection(("CALL",)))
    assert figures["Toits analysés"].replace("\u202f", "") == str(len(cad.roofs))
    assert classes["Part des toits (%)"].sum() == pytest.approx(100, abs=0.5)
    assert per_commune["Toits"].sum() == len(cad.roofs)
    empty, _, none = territory_figures(cad, territory, Selection(("CAHC",)))
    assert empty["Toits analysés"] == "0" and none.empty


def test_map_has_tiles_outlines_and_legend(cad, settings):
    chosen = cad.roofs["toit_id"].iloc[0]
    html = unescape_js(
        cadastre_map(cad, settings, map_classes(load_assumptions(GEODATA)), selected=chosen)
        .get_root()
        .render()
    )
    assert feature_count(html) == len(cad.roofs)
    assert "/app/static/tiles/solaire/{z}/{x}/{y}.png" in html
    assert "getZoom() >= 16" in html
    assert "QUARTIER FICTIF" in html and "kWh/m²/an" in html


def test_tiles_exist_and_match_the_raster(cad):
    import rasterio

    roof = cad.roofs.iloc[5]
    pt = roof.geometry.representative_point()
    x, y = lonlat_to_tile(pt.x, pt.y, 16)
    tile = TILES / "16" / str(x) / f"{y}.png"
    assert tile.is_file()
    img = np.asarray(Image.open(tile))
    assert img.shape == (256, 256, 4) and img[..., 3].max() > 0
    assert len(list(TILES.glob("19/*/*.png"))) > 50  # many small tiles, not one image
    with rasterio.open(cad.irradiation_path) as src:
        assert src.tags()["units"] == "kWh/m2/an"


def test_colorize_classes():
    breaks = map_classes(load_assumptions(GEODATA))
    assert [b[0] for b in breaks] == [0.0, 700.0, 950.0, 1100.0, 1250.0]  # from the file
    values = np.array([[np.nan, 600.0, 800.0, 1000.0, 1200.0, 1300.0]])
    rgba = colorize(values, breaks)
    assert rgba[0, 0, 3] == 0
    for i, (_lower, color, _label) in enumerate(breaks, start=1):
        assert tuple(rgba[0, i, :3]) == tuple(int(color[k : k + 2], 16) for k in (1, 3, 5))


def test_map_classes_follow_the_assumptions_file(tmp_path):
    """Issue 13: the map's colour classes and legend come from hypotheses.toml."""
    import shutil

    shutil.copy(GEODATA / "hypotheses.toml", tmp_path / "hypotheses.toml")
    text = (tmp_path / "hypotheses.toml").read_text(encoding="utf-8")
    start = text.index("[solaire.classe_bon]")
    part = text[start:].replace("central = 1100", "central = 1150", 1)
    part = part.replace("bas = 1100", "bas = 1150", 1).replace("haut = 1100", "haut = 1150", 1)
    (tmp_path / "hypotheses.toml").write_text(text[:start] + part, encoding="utf-8")
    breaks = map_classes(load_assumptions(tmp_path))
    assert breaks[3][0] == 1150 and breaks[3][2].startswith("1\u202f150 à 1\u202f250")


def test_pdf_sheet(cad):
    hyp = load_assumptions(GEODATA)
    roof = cad.roofs.iloc[3]
    est = roof_estimate(roof, hyp, 3.0)
    pdf = roof_sheet_pdf(cad, roof, est, 3.0, hyp, "http://x/cadastre_solaire?toit=T", "2026-11-28")
    assert pdf.startswith(b"%PDF")
    assert b"QUARTIER FICTIF" in pdf and b"Revoir ce toit" in pdf
    assert b"/Type /Page" in pdf and pdf.count(b"/Type /Page\n") <= 1


def test_demo_addresses_are_unique(cad):
    assert cad.addresses["label"].is_unique
    assert cad.roofs["adresse"].is_unique


def test_editing_the_assumptions_makes_the_demo_stale(tmp_path):
    """Issue 13: editing hypotheses.toml recomputes the demo's figures (make run)."""
    import shutil

    from layers.solar.demo import demo_is_current

    geodata = tmp_path / "geodata"
    shutil.copytree(GEODATA, geodata)
    static = tmp_path / "static"
    shutil.copytree(TILES / "16", static / "tiles" / "solaire" / "16")
    assert demo_is_current(geodata, static)  # `make test` prepared it with today's file
    hyp = geodata / "hypotheses.toml"
    hyp.write_text(hyp.read_text(encoding="utf-8") + "\n# modifié\n", encoding="utf-8")
    assert not demo_is_current(geodata, static)
