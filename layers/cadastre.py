"""What the cadastre page shows: roofs and their estimates, the map, territory figures, PDF.

Reads the engine's outputs (``irradiation.tif``, ``roofs.gpkg``, ``run.json``) from a
folder — today the synthetic demo district in ``geodata/demo`` — and never computes
irradiation itself.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry

from layers.assumptions import Assumptions
from layers.errors import AtlasError
from layers.formatting import fmt_float, fmt_int, pdf_text
from layers.geocode import Address, read_ban_csv
from layers.mapping import DataAttribution, Field, Legend, display_frame, make_tooltip, new_map
from layers.settings import Settings
from layers.solar.economics import RoofEstimate, estimate
from layers.solar.tiles import Breaks, colorize
from layers.territory import Selection, Territory, selected_communes

CLASS_ORDER = ["excellent", "bon", "moyen", "faible", "non adapté"]
CLASS_COLORS = {
    "excellent": "#c62828",
    "bon": "#f28c28",
    "moyen": "#f3d250",
    "faible": "#6c8ebf",
    "non adapté": "#9e9e9e",
}
ROOFS_FROM_ZOOM = 16
ADDRESS_TO_ROOF_M = 15.0  # an address point farther than this from any roof finds none


@dataclass(frozen=True)
class Cadastre:
    """The engine's outputs for one covered area."""

    roofs: gpd.GeoDataFrame  # EPSG:4326, one row per roof, with ``insee`` of its commune
    irradiation_path: Path
    run: dict
    coverage: BaseGeometry  # shapely polygon (EPSG:4326) of the computed area
    synthetic: bool
    addresses: pd.DataFrame | None

    @property
    def climate(self) -> str:
        """Which typical year the estimates used."""
        w = self.run.get("weather", {})
        return (
            f"{w.get('name', '?')} ({w.get('source', '?')}, {w.get('ghi_kwh_m2', '?')} kWh/m²/an)"
        )


def load_cadastre(folder: Path, territory: Territory) -> Cadastre | None:
    """Read a computed area, or ``None`` when nothing has been computed there yet."""
    folder = Path(folder)
    roofs_path, irr_path, run_path = (
        folder / "roofs.gpkg",
        folder / "irradiation.tif",
        folder / "run.json",
    )
    if not (roofs_path.is_file() and irr_path.is_file() and run_path.is_file()):
        return None
    import rasterio
    from rasterio.warp import transform_bounds

    roofs = pyogrio.read_dataframe(roofs_path).to_crs(4326)
    communes = territory.communes[["insee", "nom", "geometry"]]
    pts = gpd.GeoDataFrame(geometry=roofs.geometry.representative_point(), crs=4326)
    joined = gpd.sjoin(pts, communes, predicate="within", how="left")
    roofs["insee"] = joined["insee"].reindex(roofs.index).fillna("").to_numpy()
    roofs["commune"] = joined["nom"].reindex(roofs.index).fillna("hors PMA").to_numpy()
    with rasterio.open(irr_path) as src:
        coverage = box(*transform_bounds(src.crs, "EPSG:4326", *src.bounds))
    synthetic = "qualite" in roofs.columns and roofs["qualite"].str.startswith("synthétique").any()
    addresses_path = folder / "adresses-demo.csv"
    addresses = read_ban_csv(addresses_path) if addresses_path.is_file() else None
    run = json.loads(run_path.read_text(encoding="utf-8"))
    return Cadastre(roofs, irr_path, run, coverage, bool(synthetic), addresses)


def roof_at(cad: Cadastre, lat: float, lng: float) -> str | None:
    """Id of the roof under a clicked point."""
    hit = cad.roofs[cad.roofs.contains(Point(lng, lat))]
    return None if hit.empty else str(hit["toit_id"].iloc[0])


def locate(address: Address, cad: Cadastre | None, territory: Territory) -> tuple[str, str | None]:
    """Status of an address and its roof: ``hors_pma``, ``non_couvert``, ``sans_toit``, ``toit``."""
    from layers.geocode import in_pma

    if not in_pma(address, territory):
        return "hors_pma", None
    pt = Point(address.lon, address.lat)
    if cad is None or not cad.coverage.contains(pt):
        return "non_couvert", None
    metric = cad.roofs.to_crs(2154)
    p_m = gpd.GeoSeries([pt], crs=4326).to_crs(2154).iloc[0]
    dist = metric.distance(p_m)
    if dist.min() > ADDRESS_TO_ROOF_M:
        return "sans_toit", None
    return "toit", str(cad.roofs.loc[dist.idxmin(), "toit_id"])


MAP_COLORS = ("#3b4b5c", "#6c8ebf", "#f3d250", "#f28c28", "#c62828")


def map_classes(hyp: Assumptions) -> Breaks:
    """Colour classes of the irradiation map, from the same thresholds as the roof classes.

    ``solaire.carte_tres_faible`` (the map's darkest class) and ``solaire.classe_moyen``,
    ``classe_bon``, ``classe_excellent`` of ``hypotheses.toml``: one source for the map,
    its legend and the roof cards.
    """

    def t(name: str) -> float:
        return float(hyp.get("solaire", name).central)

    lows = [t("carte_tres_faible"), t("classe_moyen"), t("classe_bon"), t("classe_excellent")]
    if lows != sorted(lows):
        raise AtlasError("Hypothèses : seuils de classes d'irradiation non croissants.")
    n = [fmt_int(v) for v in lows]
    labels = [
        f"moins de {n[0]}",
        f"{n[0]} à {n[1]} (faible)",
        f"{n[1]} à {n[2]} (moyen)",
        f"{n[2]} à {n[3]} (bon)",
        f"{n[3]} et plus (excellent)",
    ]
    return list(zip([0.0, *lows], MAP_COLORS, labels, strict=True))


ADVICE = (
    "Potentiel maximal technique : le calcul ne voit ni la charpente, ni l'état de la "
    "toiture, ni les règles d'urbanisme ou de patrimoine (secteurs protégés, Bassin minier "
    "UNESCO, abords de monuments). Conseil gratuit et neutre : France Rénov' "
    "(0 808 800 700, france-renov.gouv.fr) et l'espace conseil de votre intercommunalité. "
    "Méfiez-vous du démarchage à domicile : ne signez rien le jour même, demandez plusieurs "
    "devis d'installateurs RGE."
)


def payback_text(est: RoofEstimate) -> str:
    """The payback as a French range (« 9 ans à 14 ans », or « plus de 20 ans »)."""
    years = [r.payback_year for r in (est.high, est.central, est.low)]
    text = " à ".join(f"{p} ans" for p in dict.fromkeys(p for p in years if p)) or (
        "plus de 20 ans"
    )
    if None in years and any(years):
        text += " (ou plus de 20 ans dans le cas défavorable)"
    return text


def estimate_table(est: RoofEstimate) -> pd.DataFrame:
    """The estimate as one table: rows with units, columns bas / central / haut.

    The page shows it and the PDF sheet prints it: one source for both.
    """
    scenarios = (est.low, est.central, est.high)
    rows = {
        "Production (kWh/an)": [fmt_int(v) for v in est.production],
        "Investissement (€ TTC)": [fmt_int(r.investment) for r in scenarios],
        "Prime (€)": [fmt_int(r.premium) for r in scenarios],
        "Économie 1re année (€)": [fmt_int(r.first_year_savings) for r in scenarios],
        "Gain net sur 20 ans (€)": [fmt_int(r.savings_20y) for r in scenarios],
        "Retour sur investissement": [
            f"{r.payback_year} ans" if r.payback_year else "> 20 ans" for r in scenarios
        ],
        "Part d'un foyer type": [f"{v:.0%}" for v in est.household_share],
        "CO₂ évité (t/an)": [f"{v:.2f}" for v in est.co2_t],
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=["bas", "central", "haut"])


ROOF_FIELDS: list[Field] = [
    ("adresse", "Adresse (fictive)", None),
    ("classe", "Classe", None),
    ("irradiation_utile", "Irradiation", lambda v: f"{fmt_int(v)} kWh/m²/an" if v == v else "—"),  # type: ignore[arg-type]
    ("kwc_central", "Puissance", lambda v: f"{fmt_float(v, 1)} kWc"),  # type: ignore[arg-type]
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


def cadastre_map(
    cad: Cadastre,
    settings: Settings,
    breaks: Breaks,
    basemap_id: str = "plan-ign",
    selected: str | None = None,
) -> folium.Map:
    """Irradiation tiles, roof outlines from zoom 16, the chosen roof highlighted, legend."""
    focus = cad.roofs[cad.roofs["toit_id"] == selected] if selected else None
    if focus is not None and len(focus):
        west, south, east, north = focus.total_bounds
        pad = 0.0006
        bounds = ((south - pad, west - pad), (north + pad, east + pad))
    else:
        west, south, east, north = cad.coverage.bounds
        bounds = ((south, west), (north, east))
    fmap = new_map(settings, basemap_id, bounds, fit_max_zoom=19)
    fmap.options["maxZoom"] = 21
    root = settings.static_url.rsplit("/", 1)[0]  # /app/static
    folium.TileLayer(
        tiles=f"{root}/tiles/solaire/{{z}}/{{x}}/{{y}}.png",
        name="Irradiation annuelle",
        attr="Atlas PMA — irradiation calculée",
        overlay=True,
        control=True,
        min_zoom=14,
        max_native_zoom=19,
        max_zoom=21,
        opacity=0.85,
    ).add_to(fmap)
    data = display_frame(cad.roofs, ROOF_FIELDS, keep=["toit_id", "classe"])
    outlines = folium.GeoJson(
        data,
        name="Toits",
        tooltip=make_tooltip(ROOF_FIELDS),
        style_function=lambda f: {
            "color": "#000000" if f["properties"]["toit_id"] == selected else "#263238",
            "weight": 4 if f["properties"]["toit_id"] == selected else 1,
            "fillOpacity": 0.0 if f["properties"]["toit_id"] != selected else 0.15,
            "fillColor": "#ffffff",
        },
        show=False,
    )
    outlines.add_to(fmap)
    MinZoomLayer(outlines, ROOFS_FROM_ZOOM).add_to(fmap)
    Legend(
        "Irradiation annuelle (kWh/m²/an)", [(c, label) for _v, c, label in reversed(breaks)]
    ).add_to(fmap)
    texts = ["Atlas PMA, moteur solaire — climat " + cad.climate]
    if cad.synthetic:
        texts.insert(0, "QUARTIER FICTIF (données synthétiques)")
    DataAttribution(texts).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def roof_estimate(
    roof: pd.Series, hyp: Assumptions, kwc: float | None = None, **user: float | None
) -> RoofEstimate:
    """Economics of a roof at ``kwc`` (default: its maximum), from its specific yields."""
    kwc = float(roof["kwc_central"]) if kwc is None else kwc
    yields = []
    for level in ("bas", "central", "haut"):
        k = float(roof[f"kwc_{level}"])
        yields.append(float(roof[f"kwh_an_{level}"]) / k if k > 0 else 0.0)
    production = tuple(kwc * y for y in yields)
    return estimate(kwc, production, hyp, **user)  # type: ignore[arg-type]


def territory_figures(
    cad: Cadastre | None, territory: Territory, selection: Selection
) -> tuple[dict[str, str], pd.DataFrame, pd.DataFrame]:
    """Key figures, class shares and a per-commune table of the roofs in the selection."""
    empty = ({"Toits analysés": "0"}, pd.DataFrame(), pd.DataFrame())
    if cad is None:
        return empty
    keep = set(selected_communes(territory, selection)["insee"])
    roofs = cad.roofs[cad.roofs["insee"].isin(keep)]
    if roofs.empty:
        return empty
    figures = {
        "Toits analysés": fmt_int(len(roofs)),
        "Surface utile (m²)": fmt_int(roofs["surface_utile_m2"].sum()),
        "Puissance (MWc)": (
            f"{fmt_float(roofs['kwc_bas'].sum() / 1000, 1)} – "
            f"{fmt_float(roofs['kwc_haut'].sum() / 1000, 1)}"
        ),
        "Production (GWh/an)": (
            f"{fmt_float(roofs['kwh_an_bas'].sum() / 1e6, 2)} – "
            f"{fmt_float(roofs['kwh_an_haut'].sum() / 1e6, 2)}"
        ),
    }
    shares = roofs["classe"].value_counts(normalize=True).reindex(CLASS_ORDER).fillna(0) * 100
    classes = pd.DataFrame({"Classe": shares.index, "Part des toits (%)": shares.round(1).values})
    per_commune = (
        roofs.groupby("commune")
        .agg(
            toits=("toit_id", "size"),
            m2=("surface_utile_m2", "sum"),
            mwc=("kwc_central", lambda s: s.sum() / 1000),
            gwh=("kwh_an_central", lambda s: s.sum() / 1e6),
        )
        .reset_index()
    )
    per_commune.columns = [
        "Commune",
        "Toits",
        "Surface utile (m²)",
        "MWc (central)",
        "GWh/an (central)",
    ]
    return figures, classes, per_commune.round(3)


def roof_table(roofs: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-roof table for downloads (French headers with units)."""
    return pd.DataFrame(
        {
            "Toit": roofs["toit_id"],
            "Adresse": roofs.get("adresse", ""),
            "Commune": roofs["commune"],
            "Classe": roofs["classe"],
            "Surface utile (m²)": roofs["surface_utile_m2"],
            "Irradiation (kWh/m²/an)": roofs["irradiation_utile"],
            "Pente (°)": roofs["pente_dominante"],
            "Orientation": roofs["orientation"],
            "kWc (bas)": roofs["kwc_bas"],
            "kWc (central)": roofs["kwc_central"],
            "kWc (haut)": roofs["kwc_haut"],
            "kWh/an (bas)": roofs["kwh_an_bas"],
            "kWh/an (central)": roofs["kwh_an_central"],
            "kWh/an (haut)": roofs["kwh_an_haut"],
            "Qualité des données": roofs.get("qualite", ""),
        }
    )


def roof_thumbnail(
    cad: Cadastre, roof: pd.Series, breaks: Breaks, size_px: int = 360, margin_m: float = 25.0
) -> bytes:
    """PNG of the irradiation around a roof, the roof outlined (for the PDF sheet)."""
    import rasterio
    from PIL import Image, ImageDraw
    from rasterio.windows import from_bounds

    with rasterio.open(cad.irradiation_path) as src:
        geom = gpd.GeoSeries([roof.geometry], crs=4326).to_crs(src.crs).iloc[0]
        w, s, e, n = geom.buffer(margin_m).bounds
        window = from_bounds(w, s, e, n, transform=src.transform)
        data = src.read(1, window=window, boundless=True, fill_value=np.nan)
        transform = src.window_transform(window)
    img = Image.fromarray(colorize(data, breaks, alpha=255), "RGBA").resize((size_px, size_px))
    draw = ImageDraw.Draw(img)
    sx, sy = size_px / data.shape[1], size_px / data.shape[0]
    inv = ~transform
    pts = [((inv * xy)[0] * sx, (inv * xy)[1] * sy) for xy in geom.exterior.coords]
    draw.line(pts, fill=(0, 0, 0, 255), width=3)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "PNG")
    return buf.getvalue()


def roof_sheet_pdf(
    cad: Cadastre,
    roof: pd.Series,
    est: RoofEstimate,
    kwc: float,
    hyp: Assumptions,
    link: str,
    today: str,
) -> bytes:
    """A one-page A4 roof sheet: address, map extract, figures as ranges, assumptions, link."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_compression(False)  # text stays searchable by simple tools (and tests)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0, 9, pdf_text("Atlas PMA - fiche toit (cadastre solaire)"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 10)
    if cad.synthetic:
        pdf.set_text_color(170, 0, 0)
        pdf.multi_cell(
            0,
            5,
            new_x="LMARGIN",
            new_y="NEXT",
            text=pdf_text(
                "QUARTIER FICTIF : toit et adresse inventés pour la "
                "démonstration. Aucun bâtiment réel n'est représenté."
            ),
        )
        pdf.set_text_color(0, 0, 0)
    pdf.cell(
        0,
        6,
        pdf_text(
            f"Adresse : {roof.get('adresse', '?')} - {roof['commune']} - toit {roof['toit_id']}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0, 6, pdf_text(f"Édité le {today} - climat : {cad.climate}"), new_x="LMARGIN", new_y="NEXT"
    )
    y = pdf.get_y() + 2
    pdf.image(io.BytesIO(roof_thumbnail(cad, roof, map_classes(hyp))), x=10, y=y, w=70)
    pdf.set_xy(85, y)
    lines = [
        f"Classe : {roof['classe']} ({fmt_int(roof['irradiation_utile'])} kWh/m2/an, partie utile)",
        f"Surface utile : {fmt_float(roof['surface_utile_m2'], 0)} m2 ; pente "
        f"{fmt_float(roof['pente_dominante'], 0)} deg ; orientation {roof['orientation']}",
        f"Puissance simulée : {fmt_float(kwc, 1)} kWc (maximum du toit "
        f"{fmt_float(roof['kwc_central'], 1)} kWc)",
        *(f"{label} : {' / '.join(values)}" for label, values in estimate_table(est).iterrows()),
        "(valeurs basse / centrale / haute)",
    ]
    for line in lines:
        pdf.set_x(85)
        pdf.multi_cell(115, 5, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), y + 72) + 4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(
        0,
        6,
        pdf_text("Hypothèses (geodata/hypotheses.toml, version " + hyp.version + ")"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 8)
    for group in ("economie", "solaire"):
        for item in list(hyp.groups[group].values())[:7]:
            pdf.multi_cell(
                0,
                4,
                pdf_text(
                    f"- {item.titre} : {item.low:g} / {item.central:g} / "
                    f"{item.high:g} {item.unite} ({item.date})"
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        4.5,
        pdf_text(ADVICE),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1)
    pdf.set_text_color(0, 0, 160)
    pdf.cell(0, 5, pdf_text(f"Revoir ce toit : {link}"), link=link)
    return bytes(pdf.output())
