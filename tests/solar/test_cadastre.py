"""The cadastre page's library on a store: lookups, addresses, figures, map, tiles, PDF.

Runs on the demo store that ``make test`` (``pma-atlas data prepare``) computed: a
fictional 2 × 2 km territory in the IGN formats, built by ``layers.solar.build``.
"""

from __future__ import annotations

import io
import re

import geopandas as gpd
import numpy as np
import pytest
from PIL import Image

from layers.assumptions import load_assumptions
from layers.cadastre import (
    address_candidates,
    covered_communes,
    get_roof,
    locate,
    open_cadastre,
    roof_at_latlng,
    roofs_near_latlng,
    roofs_of,
)
from layers.cadastre_colours import map_classes
from layers.cadastre_figures import territory_potential
from layers.cadastre_map import MapView, cadastre_map
from layers.cadastre_sheet import RoofSheet, roof_sheet_pdf
from layers.cadastre_tiles import render_tile, tiles_under
from layers.geocode import Address, local_search
from layers.solar.store import StoreLayout
from layers.territory import Selection
from layers.web_tiles import colorize, lonlat_to_tile
from tests.helpers import GEODATA, feature_count, unescape_js


@pytest.fixture(scope="module")
def cad(demo_store):
    store = open_cadastre(demo_store)
    assert store is not None
    return store


@pytest.fixture(scope="module")
def roofs(cad):
    """Every roof, read directly (the tests' independent view of the store)."""
    return cad.reader.read("toits")


@pytest.fixture(scope="module")
def addresses(cad):
    return cad.reader.read("adresses")


def test_demo_store_is_flagged_synthetic_everywhere(cad, roofs, addresses):
    assert cad.synthetic
    assert roofs["qualite"].str.startswith("synthétique").all()
    assert addresses["synthetique"].eq("oui").all()
    assert "Uccle" in cad.climate
    assert roofs["epci"].notna().all()  # placed inside the PMA, across two EPCI
    assert set(roofs["epci"]) == {"CALL", "CABBALR"}
    assert len(cad.tiles) == 4


def test_roof_at_a_point_and_by_cleabs(cad, roofs):
    row = roofs.iloc[10]
    inside = gpd.GeoSeries([row.geometry.representative_point()], crs=2154).to_crs(4326).iloc[0]
    assert roof_at_latlng(cad, inside.y, inside.x) == row["cleabs"]
    roof = get_roof(cad, row["cleabs"])
    assert roof is not None and roof["kwh_an_central"] == row["kwh_an_central"]
    assert roof.geometry.bounds[0] == pytest.approx(inside.x, abs=0.01)  # EPSG:4326
    assert get_roof(cad, "BATIMENT_INCONNU") is None
    assert get_roof(cad, "x' OR '1'='1") is None  # hostile: never reaches SQL
    assert roof_at_latlng(cad, 50.0, 2.0) is None


def test_addresses_lead_to_their_roof(cad, territory, addresses):
    row = addresses.dropna(subset=["cleabs"]).iloc[25]
    pt = gpd.GeoSeries([row.geometry], crs=2154).to_crs(4326).iloc[0]
    address = Address(row["label"], pt.x, pt.y, row["code_insee"], "t", synthetic=True)
    assert locate(address, cad, territory) == ("toit", row["cleabs"])
    lens = territory.mairies[territory.mairies["insee"] == "62498"].geometry.iloc[0]
    assert locate(Address("Mairie", lens.x, lens.y, "62498", "t"), cad, territory) == (
        "non_couvert",
        None,
    )
    assert locate(Address("Paris", 2.35, 48.86, "75101", "t"), cad, territory) == ("hors_pma", None)


def test_address_search_reads_only_candidates(cad, territory, addresses):
    row = addresses.iloc[40]
    found = address_candidates(cad, row["label"])
    assert 0 < len(found) <= 200 < len(addresses)
    results = local_search(row["label"], lambda q: address_candidates(cad, q), territory)
    assert results[0].label == row["label"] and results[0].synthetic
    assert address_candidates(cad, "'; DROP TABLE toits; --").empty


def test_territory_potential_equals_the_sum_of_its_roofs(cad, territory, roofs):
    def counted(selection):
        figures = territory_potential(cad, territory, selection).headline_figures
        return figures["Toits analysés"].replace("\u202f", "")

    everything = territory_potential(cad, territory, Selection(("CALL", "CAHC", "CABBALR")))
    classes, per_commune = everything.classes, everything.per_commune
    assert everything.headline_figures["Toits analysés"].replace("\u202f", "") == str(len(roofs))
    assert classes["Part des toits (%)"].sum() == pytest.approx(100, abs=0.5)
    assert per_commune["Toits"].sum() == len(roofs)
    gwh = roofs["kwh_an_central"].sum() / 1e6
    assert per_commune["GWh/an (central)"].sum() == pytest.approx(gwh, abs=0.01)
    excellent = (roofs["classe"] == "excellent").mean() * 100
    assert classes.set_index("Classe").loc["excellent"].iloc[0] == pytest.approx(excellent, abs=0.1)
    assert counted(Selection(("CALL",))) == str((roofs["epci"] == "CALL").sum())
    one = per_commune["Commune"].iloc[0]
    insee = territory.communes.set_index("nom").loc[one, "insee"]
    epci = territory.epci_of[insee]
    assert counted(Selection((epci,), (insee,))) == str((roofs["insee"] == insee).sum())
    assert counted(Selection(("CAHC",))) == "0"
    assert territory_potential(cad, territory, Selection(("CAHC",))).per_commune.empty
    # issue 27, the planner's view: faces and modules per commune and per EPCI, summing up
    per_epci = everything.per_epci
    for column, total in (
        ("Pans", roofs["pans"].sum()),
        ("Panneaux", roofs["panneaux"].sum()),
        ("Non vus (LiDAR)", (roofs["classe"] == "non vu par le relevé LiDAR").sum()),
        ("MWc (central)", roofs["kwc_central"].sum() / 1000),
    ):
        assert per_commune[column].sum() == pytest.approx(total, abs=0.01), column
        assert per_epci[column].sum() == pytest.approx(total, abs=0.01), column
    assert per_epci["Panneaux"].sum() > 0 and roofs["panneaux"].sum() > len(roofs)
    names = set(per_epci["Intercommunalité"])
    assert names <= set(territory.epci_names.values()) and len(names) == roofs["epci"].nunique()
    figures = everything.headline_figures
    assert figures["Panneaux posables"].replace("\u202f", "") == str(roofs["panneaux"].sum())
    assert covered_communes(cad, territory, Selection(("CAHC",))) == []


def test_the_planners_csv_holds_every_epci_then_every_commune(cad, territory, roofs):
    import io

    import pandas as pd

    from layers.cadastre_figures import planner_csv, roof_table

    potential = territory_potential(cad, territory, Selection(("CALL", "CAHC", "CABBALR")))
    raw = planner_csv(potential)
    assert raw.startswith("\ufeff".encode())  # French spreadsheets: BOM, ; and decimal comma
    table = pd.read_csv(io.BytesIO(raw), sep=";", decimal=",", encoding="utf-8-sig")
    assert list(table.columns[:5]) == ["Niveau", "Territoire", "Toits", "Pans", "Panneaux"]
    levels = table.groupby("Niveau")
    assert levels["Panneaux"].sum()["commune"] == levels["Panneaux"].sum()["intercommunalité"]
    assert levels["Panneaux"].sum()["commune"] == roofs["panneaux"].sum()
    assert levels["GWh/an (central)"].sum()["commune"] == pytest.approx(
        roofs["kwh_an_central"].sum() / 1e6, abs=0.01
    )
    rows = roof_table(roofs.head(20).assign(toit_id=roofs["cleabs"].head(20)))
    assert {"Pans", "Panneaux", "Puissance calculée par"} <= set(rows.columns)
    assert set(rows["Puissance calculée par"]) == {"panneaux"}


def test_roofs_of_communes_for_downloads(cad, roofs):
    insee = roofs["insee"].dropna().iloc[0]
    got = roofs_of(cad, [insee, "'; --"])
    assert len(got) == (roofs["insee"] == insee).sum()
    assert got.crs.to_epsg() == 4326


def test_map_has_tiles_coverage_nearby_outlines_and_legend(cad, settings, roofs):
    roof = get_roof(cad, roofs["cleabs"].iloc[100])
    centre = roof.geometry.representative_point()
    near = roofs_near_latlng(cad, centre.y, centre.x)
    assert 1 < len(near) < len(roofs)
    html = unescape_js(
        cadastre_map(
            cad, settings, map_classes(load_assumptions(GEODATA)), MapView(selected=roof, near=near)
        )
        .get_root()
        .render()
    )
    assert feature_count(html) == len(near) + 1  # roofs around + the coverage outline
    assert "/api/tuiles/solaire/{z}/{x}/{y}.png" in html
    assert "getZoom() >= 16" in html
    assert "TERRITOIRE FICTIF" in html and "kWh/m²/an" in html and "secteur calculé" in html


def test_map_tiles_show_the_raster_values(cad, roofs):
    """A tile drawn from the COGs has, at a roof, the colour of that roof's irradiation."""
    import rasterio

    breaks = map_classes(load_assumptions(GEODATA))
    row = roofs.sort_values("surface_emprise_m2").iloc[-1]  # a big flat roof: uniform colour
    pt = gpd.GeoSeries([row.geometry.representative_point()], crs=2154)
    lonlat = pt.to_crs(4326).iloc[0]
    x, y = lonlat_to_tile(lonlat.x, lonlat.y, 19)
    png = render_tile(cad.path, 19, x, y, breaks)
    assert png is not None
    img = np.asarray(Image.open(io.BytesIO(png)))
    assert img.shape == (256, 256, 4) and img[..., 3].max() > 0
    with rasterio.open(cad.vrt) as src:
        value = next(src.sample([(pt.iloc[0].x, pt.iloc[0].y)]))[0]
    # where the point falls in the tile (Web Mercator pixel)
    from layers.web_tiles import map_tile_bounds

    merc = pt.to_crs(3857).iloc[0]
    west, south, east, north = map_tile_bounds(19, x, y)
    col = int((merc.x - west) / (east - west) * 256)
    r = int((north - merc.y) / (north - south) * 256)
    expected = colorize(np.array([[value]], dtype="float32"), breaks)[0, 0]
    assert tuple(img[r, col]) == tuple(expected)
    assert render_tile(cad.path, 19, 0, 0, breaks) is None  # nothing computed there
    assert render_tile(cad.path, 30, x, y, breaks) is None  # zoom out of range
    assert len(tiles_under(cad.path, 13, *lonlat_to_tile(lonlat.x, lonlat.y, 13))) >= 1
    # zoomed out, the 4 m overview of the whole store is drawn (one file), same classes
    far = render_tile(cad.path, 12, *lonlat_to_tile(lonlat.x, lonlat.y, 12), breaks)
    assert far is not None
    colours = {tuple(c) for c in np.asarray(Image.open(io.BytesIO(far)))[..., :3].reshape(-1, 3)}
    assert colours <= {(0, 0, 0)} | {
        tuple(int(c[k : k + 2], 16) for k in (1, 3, 5)) for _v, c, _l in breaks
    }
    assert (StoreLayout(cad.path).overview).is_file()


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


def test_pdf_sheet(cad, roofs, territory):
    from layers.resident import Simulation, roof_card

    hyp = load_assumptions(GEODATA)
    roof = get_roof(cad, roofs["cleabs"].iloc[3])
    sim = Simulation(kwc=3.0, consumption=9000, presence="partielle", price=0.21, price_growth=3)
    card = roof_card(roof, sim, hyp, territory, True)
    link = "http://x/cadastre_solaire?toit=T"
    sheet = RoofSheet(roof, card.estimate, card.simulated, link, "2026-11-28")
    pdf = roof_sheet_pdf(cad, hyp, sheet)
    assert pdf.startswith(b"%PDF")
    assert b"TERRITOIRE FICTIF" in pdf and b"Revoir ce toit" in pdf
    assert roof["cleabs"].encode() in pdf
    assert b"/Type /Page" in pdf and pdf.count(b"/Type /Page\n") <= 1
    # issue 21: the map extract has a scale and a legend; euros, not « EUR »
    import io

    from pypdf import PdfReader

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = " ".join(page.extract_text().split()).replace("\u00a0", " ")
    assert re.search(r"\d+ m contour noir : ce toit", text)
    assert "Irradiation annuelle (kWh/m²/an)" in text and "(excellent)" in text
    assert "€" in text and "EUR" not in text
    # issue 30: the inputs it was computed with, French dates and signs, the three cases
    assert "Consommation du foyer : 9 000 kWh/an" in text
    assert "remplacée par votre simulation : 9 000 kWh/an" in text
    assert "Prix de l'électricité : 0,21 €/kWh" in text
    assert "Édité le 28/11/2026" in text and "2026-11-28" not in text
    assert not re.search(r"\b\d{4}-\d{2}\b", text), "an ISO date"
    assert "<=" not in text and "jusqu'à 9 kWc" in text
    assert "défavorable central favorable" in text
    # the page is used to its foot: the lowest line within 30 mm of the bottom
    lowest: list[float] = []
    page.extract_text(visitor_text=lambda t, cm, tm, *_: t.strip() and lowest.append(tm[5]))
    assert min(lowest) < 30 / 25.4 * 72, min(lowest)


def test_demo_addresses_are_unique(addresses):
    assert addresses["label"].is_unique


def test_damaged_store_is_a_french_error(tmp_path):
    from layers.solar.errors import SolarError

    assert open_cadastre(tmp_path) is None  # nothing computed yet
    (StoreLayout(tmp_path).manifest).write_text("{pas du json", encoding="utf-8")
    (StoreLayout(tmp_path).gpkg).write_bytes(b"pas une base")
    with pytest.raises(SolarError, match="illisible"):
        open_cadastre(tmp_path)


def test_editing_the_solar_assumptions_makes_the_demo_stale(cad, tmp_path, demo_store):
    """Issue 13: an edit of the ``solaire`` assumptions recomputes the demo's roofs (make
    run); an edit of the economics does not (the roof card computes those live)."""
    import shutil

    from layers.settings import DEFAULT_WEATHER
    from layers.solar.build import BuildJob, BuildOptions, build

    inputs = demo_store.parent / "cadastre-demo-entrees"

    def stale(edit: tuple[str, str, str]) -> list[str]:
        """Tiles to recompute once ``edit[1]`` → ``edit[2]`` in section ``edit[0]``
        (bas, central and haut alike)."""
        shutil.copy(GEODATA / "hypotheses.toml", tmp_path / "hypotheses.toml")
        text = (tmp_path / "hypotheses.toml").read_text(encoding="utf-8")
        start = text.index(edit[0])
        end = text.index("\n[", start + 1)
        text = text[:start] + text[start:end].replace(edit[1], edit[2]) + text[end:]
        (tmp_path / "hypotheses.toml").write_text(text, encoding="utf-8")
        report = build(
            BuildJob(
                lidar_dir=inputs / "lidar",
                buildings=inputs / "batiment.gpkg",
                weather=GEODATA / DEFAULT_WEATHER,
                out=cad.path,
                rules=load_assumptions(tmp_path).roof_rules(),
                options=BuildOptions(dry_run=True, progress=False),
            )
        )
        return report.to_compute

    assert stale(("[solaire.classe_bon]", " = 1100", " = 1150")) == cad.tiles
    assert stale(("[economie.prix_electricite]", " = 0.194", " = 0.2100")) == []


def test_the_coverage_note_says_where_a_store_is(cad, territory):
    """Issue 30: a store built outside the PMA said « Secteur pas encore couvert » over the
    roofs its map showed."""
    from types import SimpleNamespace

    import pandas as pd
    from shapely.geometry import box

    from layers.cadastre import NOT_YET_COVERED, coverage_note
    from layers.territory import Selection

    assert coverage_note(cad, territory, Selection()) is None  # the demo: Loos-en-Gohelle
    lens = Selection(communes=("62498",))
    assert coverage_note(cad, territory, lens) == NOT_YET_COVERED  # inside, not computed
    olemps = SimpleNamespace(  # a store of real IGN tiles in the Aveyron
        coverage=box(2.53, 44.33, 2.56, 44.36),
        communes=pd.DataFrame({"insee": ["12174"], "commune": ["Olemps"]}),
    )
    note = coverage_note(olemps, territory, Selection())
    assert note is not None and "hors du Pôle Métropolitain de l'Artois (Olemps)" in note
    assert "pas encore couvert" not in note


def test_the_app_reads_the_store_rasters_as_gdal_reads_its_vrt(cad, roofs):
    """Issue 29: map tiles and the sheet's extract read the COGs one way
    (``cadastre_tiles.read_irradiation``); the extract equals what GDAL reads through the
    store's VRT, an independent path, pixel for pixel, also across a tile edge."""
    import rasterio
    from rasterio.windows import from_bounds

    from layers.cadastre_tiles import irradiation_around

    edge = 685_000.25  # the line between tiles 0684 and 0685 (IGN's quarter-metre offset)
    l93 = roofs.to_crs(2154).geometry
    boxes = [l93.iloc[i].buffer(25).bounds for i in (5, 500, 3000)]
    # roofs on both sides of the edge: the box around the one nearest to it
    y = l93.centroid.y.iloc[int((l93.centroid.x - edge).abs().argmin())]
    boxes.append((edge - 30.0, y - 30.0, edge + 30.0, y + 30.0))
    with rasterio.open(cad.vrt) as vrt:
        for box in boxes:
            window = from_bounds(*box, transform=vrt.transform)
            expected = vrt.read(1, window=window, boundless=True, fill_value=np.nan)
            values, transform = irradiation_around(cad.path, box)
            assert values.shape == expected.shape
            assert np.array_equal(values, expected, equal_nan=True), box
            assert transform == vrt.window_transform(window)
    assert np.isfinite(values).any() and np.isfinite(values[:, :60]).any()
    assert np.isfinite(values[:, 60:]).any()  # both tiles read


def test_the_tile_route_loads_neither_maps_nor_pdfs(demo_store):
    """Issue 29: the tile route imported the whole cadastre module (folium, the PDF code)
    to get the colour classes."""
    from tests.helpers import loaded_in_a_fresh_interpreter

    code = f"from layers.routes import _breaks, solar_tile; _breaks({str(demo_store.parent)!r})"
    heavy = ("folium", "fpdf", "streamlit", "numba")
    cadastre = ("layers.cadastre", "layers.cadastre_map", "layers.cadastre_sheet",
                "layers.cadastre_estimate", "layers.solar.build")  # fmt: skip
    loaded = loaded_in_a_fresh_interpreter(code, heavy + cadastre)
    assert [m for m in loaded if m.split(".")[0] in heavy or m in cadastre] == []


def test_the_cadastre_page_loads_no_compiled_kernel():
    """Issue 27 measured it: the card's faces and modules pulled in numba (the roofs'
    and panels' kernels) and grew the app by ~90 Mo (bench-load: 328 → 417 Mo). The
    words and configurations the app needs live in kernel-free engine modules."""
    from tests.helpers import loaded_in_a_fresh_interpreter

    code = (
        "import layers.cadastre_map, layers.cadastre_sheet, layers.resident, "
        "layers.cadastre_figures, layers.cadastre_panels, layers.cadastre_estimate"
    )
    assert loaded_in_a_fresh_interpreter(code, ("numba", "pvlib")) == []
