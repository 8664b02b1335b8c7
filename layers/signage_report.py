"""Signage for elected officials: the map of signs and a one-page A4 PDF for a council."""

from __future__ import annotations

import io

import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
from PIL import Image, ImageDraw

from layers.formatting import escape, fmt_int, fmt_when, fmt_year, pdf_text
from layers.mapping import (
    DataAttribution,
    Field,
    Legend,
    add_outlines,
    clustered_points,
    display_frame,
    frame_bounds,
    make_tooltip,
    new_map,
)
from layers.settings import Settings
from layers.signage import STATUS_COLORS, STATUSES, key_numbers, park_label, progress_by
from layers.store import describe_change
from layers.territory import Territory

SIGN_CLUSTER_UNTIL_ZOOM = 15  # from this zoom on, every sign is drawn on its own
SIGN_FIELDS: list[Field] = [
    ("sign_id", "Panneau", None),
    ("type_panneau", "Type", None),
    ("parc_nom", "Parc", None),
    ("statut", "Statut", None),
    ("annee", "Année", fmt_year),
    ("qualite", "Données", None),
]


def sign_epci(signs: gpd.GeoDataFrame, territory: Territory) -> pd.Series:
    """The EPCI code of each sign (``hors PMA`` outside every commune), on ``signs.index``."""
    joined = signs.sjoin(territory.communes[["insee", "geometry"]], how="left", predicate="within")
    codes = joined["insee"].map(territory.epci_of).fillna("hors PMA").groupby(level=0).first()
    return codes.reindex(signs.index)


def signage_map(
    signs: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    settings: Settings,
    attribution: list[str],
    basemap_id: str = "plan-ign",
    highlight: str | None = None,
    area: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Signs coloured by status, clustered, over the park outlines and commune limits."""
    fmap = new_map(settings, basemap_id, frame_bounds(signs if len(signs) else parks))
    add_outlines(fmap, area)
    if len(parks):
        folium.GeoJson(
            display_frame(parks, [("nom", "Parc", None)]),
            name="Parcs",
            style_function=lambda _f: {"color": "#2e7d32", "weight": 1, "fillOpacity": 0.08},
            tooltip=make_tooltip([("nom", "Parc", None)]),
        ).add_to(fmap)
    # one clustered layer drawn in the browser from compact rows: 10 000 signs are a few
    # bubbles until one zooms in, and ~50 bytes each (tooltip and popup on every sign)
    if len(signs):
        data = signs.assign(parc_nom=park_label(signs))
        clustered_points(
            data,
            SIGN_FIELDS,
            signs["statut"].map(STATUS_COLORS).fillna("#555555"),
            [True] * len(signs),
            settings,
            "Panneaux",
            SIGN_CLUSTER_UNTIL_ZOOM,
            radius=6,
        ).add_to(fmap)
    chosen = signs[signs["sign_id"] == highlight] if highlight else signs.iloc[0:0]
    for _, row in chosen.iterrows():
        folium.CircleMarker(
            (row.geometry.y, row.geometry.x),
            radius=11,
            weight=3,
            color="#000000",
            fill=True,
            fill_color=STATUS_COLORS.get(row["statut"], "#555555"),
            fill_opacity=0.95,
            tooltip=folium.Tooltip(escape(f"Panneau choisi : {row['sign_id']}")),
        ).add_to(fmap)
    Legend(
        "Signalétique (échantillon synthétique)", [(STATUS_COLORS[s], s) for s in STATUSES]
    ).add_to(fmap)
    DataAttribution(attribution).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def _map_image(signs: gpd.GeoDataFrame, parks: gpd.GeoDataFrame, size: int = 520) -> bytes:
    """A small static map (PNG) of parks and signs for the PDF, Lambert-93."""
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    frames = [f.to_crs(2154) for f in (parks, signs) if len(f)]
    if not frames:
        return _png(img)
    west, south, east, north = pd.concat([f.geometry for f in frames]).total_bounds
    span = max(east - west, north - south) * 1.05 or 1.0

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - west) / span * size, size - (y - south) / span * size

    for geom in parks.to_crs(2154).geometry:
        for poly in getattr(geom, "geoms", [geom]):
            draw.polygon(
                [px(x, y) for x, y in poly.exterior.coords],
                outline=(46, 125, 50),
                fill=(220, 237, 200),
            )
    for _, row in signs.to_crs(2154).iterrows():
        x, y = px(row.geometry.x, row.geometry.y)
        color = STATUS_COLORS[row["statut"]]
        rgb = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=rgb, outline=(255, 255, 255))
    return _png(img)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def council_pdf(
    signs: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    by_epci: pd.DataFrame,
    selection_label: str,
    today: str,
) -> bytes:
    """One A4 page: selection, date, key figures, a progress chart, a map extract."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0,
        9,
        pdf_text("Chaîne des Parcs - avancement de la signalétique"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(
        0,
        6,
        pdf_text(f"Territoire : {selection_label} - état au {today}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(170, 0, 0)
    pdf.cell(
        0,
        6,
        pdf_text("Données synthétiques (échantillon de démonstration), pas l'inventaire réel."),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    for label, value in key_numbers(signs).items():
        pdf.cell(63, 6, pdf_text(f"{label} : {value}"))
        if pdf.get_x() > 150:
            pdf.ln(6)
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(
        0,
        6,
        pdf_text("Part des panneaux posés par intercommunalité"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 9)
    for _, row in by_epci.iterrows():
        y = pdf.get_y()
        pdf.cell(30, 6, pdf_text(str(row.iloc[0])))
        pdf.set_fill_color(230, 230, 230)
        pdf.rect(42, y + 1, 120, 4, style="F")
        pdf.set_fill_color(46, 125, 50)
        pdf.rect(42, y + 1, 120 * float(row["% posés"]) / 100, 4, style="F")
        pdf.set_x(166)
        pdf.cell(
            0,
            6,
            pdf_text(
                f"{row['% posés']:.0f} % ({fmt_int(row['posés'])}/{fmt_int(row['panneaux'])})"
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(3)
    pdf.image(io.BytesIO(_map_image(signs, parks)), x=30, y=pdf.get_y(), w=150)
    pdf.set_y(pdf.get_y() + 152)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(
        0,
        4,
        pdf_text(
            "Légende : " + ", ".join(STATUSES) + " (gris, bleu, orange, "
            "vert, rouge). Source : inventaire Atlas PMA ; parcs : Mission "
            "Bassin Minier et compilation Atlas PMA."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def progress_tables(
    signs: gpd.GeoDataFrame, epci_of_point: pd.Series
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """% installed by EPCI and by park."""
    by_epci = progress_by(signs.assign(EPCI=epci_of_point), "EPCI")
    by_park = progress_by(signs.assign(Parc=park_label(signs)), "Parc")
    return by_epci, by_park


def history_table(history: pd.DataFrame) -> pd.DataFrame:
    """The history as officials read it: who changed which sign, when, and what."""
    return pd.DataFrame(
        {
            "Panneau": history["sign_id"],
            "Action": history["action"],
            "Par": history["qui"],
            "Quand": [fmt_when(q) for q in history["quand"]],
            "Changement": [
                describe_change(b, a)
                for b, a in zip(history["avant"], history["apres"], strict=True)
            ],
        }
    )
