"""Signage for elected officials: the map of signs and a one-page A4 PDF for a council."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from layers.formatting import (
    escape,
    fmt_int,
    fmt_percent,
    fmt_when,
    fmt_year,
    new_pdf,
    pdf_text,
    scale_length,
)
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
from layers.signage import (
    COST,
    COST_COLORS,
    INSTALLED_DEFINITION,
    REGION,
    STATUS_COLORS,
    STATUSES,
    costs_by_year,
    headline_figures,
    installed_over_time,
    park_label,
    progress_by,
    steps_since,
)
from layers.signage_store import describe_change
from layers.territory import Territory
from layers.web_tiles import hex_rgb

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
        "Signalétique (échantillon synthétique)",
        [(STATUS_COLORS[s], s) for s in STATUSES],
        shapes=dict.fromkeys(STATUSES, "point"),  # signs are drawn as circles
    ).add_to(fmap)
    DataAttribution(attribution).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


@dataclass(frozen=True)
class CouncilReport:
    """What the council page shows, as the signage page computed it (one definition each)."""

    signs: gpd.GeoDataFrame  # the signs shown (public columns)
    parks: gpd.GeoDataFrame  # the parks of the selection
    communes: gpd.GeoDataFrame  # the selection's communes (``epci_code`` for the EPCI limits)
    by_epci: pd.DataFrame  # progress_tables()
    by_park: pd.DataFrame
    selection_label: str
    today: dt.date
    since: dt.date  # « ce qui a changé depuis le … » (the page's date)
    edits: int  # in-app edits of the inventory since ``since``
    link: str = ""  # the page's public address


SYNTHETIC_LINE = "Données synthétiques (échantillon de démonstration), pas l'inventaire réel."
MARGIN = 12.0
INK = (30, 30, 30)
GREEN = (46, 125, 50)


@dataclass(frozen=True)
class _MapFrame:
    """The council map's layers in Lambert-93 and its frame, projected once."""

    communes: gpd.GeoDataFrame
    epci: gpd.GeoSeries  # the EPCI outlines (communes dissolved), empty without ``epci_code``
    parks: gpd.GeoDataFrame
    signs: gpd.GeoDataFrame
    west: float
    south: float
    width: float  # [m]
    height: float  # [m]

    @classmethod
    def of(cls, report: CouncilReport) -> _MapFrame:
        """Project the report's layers and frame them.

        The frame follows the territory's shape (the PMA is wider than tall), between a
        1 : 2 strip and a square.
        """
        communes, parks, signs = (f.to_crs(2154) for f in (report.communes, report.parks,
                                                             report.signs))  # fmt: skip
        epci = (
            communes.dissolve("epci_code").geometry
            if "epci_code" in communes and len(communes)
            else gpd.GeoSeries([], crs=2154)
        )
        frames = [f for f in (communes, parks, signs) if len(f)]
        if not frames:
            return cls(communes, epci, parks, signs, 0.0, 0.0, 1.0, 1.0)
        west, south, east, north = pd.concat([f.geometry for f in frames]).total_bounds
        width = max(east - west, 1.0) * 1.04
        height = min(max(north - south, 1.0) * 1.04, width)
        width = max(width, height)
        height = max(height, width / 2)
        return cls(communes, epci, parks, signs,
                   west + (east - west) / 2 - width / 2, south + (north - south) / 2 - height / 2,
                   width, height)  # fmt: skip


def _map_image(frame: _MapFrame, size: int = 1000) -> bytes:
    """The map (PNG, ``size`` px wide): communes, EPCI limits, parks, signs."""
    tall = max(1, round(size * frame.height / frame.width))
    img = Image.new("RGB", (size, tall), "white")
    draw = ImageDraw.Draw(img)

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - frame.west) / frame.width * size, tall - (y - frame.south) / frame.width * size

    def rings(geom):
        for poly in getattr(geom, "geoms", [geom]):
            if poly.is_empty:
                continue
            yield [px(x, y) for x, y in poly.exterior.coords]

    for geom in frame.parks.geometry:
        for ring in rings(geom):
            draw.polygon(ring, outline=GREEN, fill=(220, 237, 200))
    for geom in frame.communes.geometry:
        for ring in rings(geom):
            draw.line(ring, fill=(150, 150, 150), width=1)
    for geom in frame.epci:
        for ring in rings(geom):
            draw.line(ring, fill=(40, 40, 40), width=3)
    for point, status in zip(frame.signs.geometry, frame.signs["statut"], strict=True):
        x, y = px(point.x, point.y)
        rgb = hex_rgb(STATUS_COLORS.get(status, "#555555"))
        draw.ellipse([x - 7, y - 7, x + 7, y + 7], fill=rgb, outline=(255, 255, 255), width=2)
    return _png(img)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _heading(pdf, x: float, y: float, text: str) -> None:
    pdf.set_xy(x, y)
    pdf.set_font("Helvetica", "B", 10.5)
    pdf.set_text_color(*INK)
    pdf.cell(0, 5, pdf_text(text))


def _figures(pdf, figures: dict[str, str], y: float) -> float:
    """The key figures, each in its own box (value above, label below)."""
    width = (210 - 2 * MARGIN - 2.5 * (len(figures) - 1)) / len(figures)
    for i, (label, value) in enumerate(figures.items()):
        x = MARGIN + i * (width + 2.5)
        pdf.set_fill_color(242, 245, 242)
        pdf.rect(x, y, width, 17, style="F")
        pdf.set_xy(x, y + 1.5)
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(width, 7, pdf_text(value), align="C")
        pdf.set_xy(x + 1, y + 9)
        pdf.set_font("Helvetica", "", 7.5)
        pdf.multi_cell(width - 2, 3.3, pdf_text(label), align="C")
    return y + 17


def _map_block(pdf, report: CouncilReport, x: float, y: float, side: float) -> float:
    """Map with its frame, EPCI names, scale bar, north, and a legend of the map's symbols."""
    frame = _MapFrame.of(report)
    high = side * frame.height / frame.width
    pdf.image(io.BytesIO(_map_image(frame)), x=x, y=y, w=side, h=high)
    pdf.set_draw_color(120, 120, 120)
    pdf.rect(x, y, side, high)
    pdf.set_font("Helvetica", "B", 7.5)
    for code, geom in frame.epci.items():
        point = geom.representative_point()
        mx = x + (point.x - frame.west) / frame.width * side
        my = y + high - (point.y - frame.south) / frame.width * side
        pdf.set_xy(mx - 10, my - 2)
        pdf.cell(20, 4, pdf_text(code), align="C")
    bar_m = scale_length(frame.width / 4)
    bar = bar_m / frame.width * side
    bx, by = x + 4, y + high - 6
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(bx - 2, by - 4.5, bar + 18, 8, style="F")
    pdf.set_fill_color(*INK)
    pdf.rect(bx, by, bar, 1.4, style="F")
    pdf.set_font("Helvetica", "", 7.5)
    pdf.set_xy(bx, by - 4)
    label = fmt_int(bar_m / 1000) + " km" if bar_m >= 1000 else fmt_int(bar_m) + " m"
    pdf.cell(bar, 3.5, pdf_text(f"0 — {label}"))
    pdf.set_xy(x + side - 9, y + 2)
    pdf.set_font("Helvetica", "B", 9)
    pdf.cell(7, 4, "N ^", align="C")
    # legend: the map's own symbols
    ly = y + high + 2.5
    pdf.set_font("Helvetica", "", 7.5)
    lx = x
    for status in STATUSES:
        pdf.set_fill_color(*hex_rgb(STATUS_COLORS[status]))
        pdf.ellipse(lx, ly + 0.6, 2.6, 2.6, style="F")
        pdf.set_xy(lx + 3.2, ly)
        pdf.cell(16, 3.8, pdf_text(status))
        lx += 3.5 + pdf.get_string_width(pdf_text(status)) + 3
    ly += 5
    pdf.set_fill_color(220, 237, 200)
    pdf.set_draw_color(*GREEN)
    pdf.rect(x, ly + 0.5, 4, 2.8, style="FD")
    pdf.set_xy(x + 5, ly)
    pdf.cell(14, 3.8, "parc")
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.2)
    pdf.line(x + 18, ly + 1.9, x + 23, ly + 1.9)
    pdf.set_xy(x + 24, ly)
    pdf.cell(18, 3.8, "commune")
    pdf.set_draw_color(40, 40, 40)
    pdf.set_line_width(0.7)
    pdf.line(x + 40, ly + 1.9, x + 45, ly + 1.9)
    pdf.set_line_width(0.2)
    pdf.set_xy(x + 46, ly)
    pdf.cell(40, 3.8, pdf_text("intercommunalité (EPCI)"))
    return ly + 5


def _fit(pdf, text: str, width: float) -> str:
    """``text`` cut with « … » to ``width`` mm in the current font."""
    text = pdf_text(text)
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _bars(
    pdf, rows: list[tuple[str, float, str]], x: float, y: float, width: float, label_w: float
) -> float:
    """Horizontal bars 0–100 %: (label, percent, text after the bar)."""
    pdf.set_font("Helvetica", "", 7.5)
    text_w = 20.0
    bar_w = width - label_w - text_w - 2
    for label, percent, text in rows:
        pdf.set_xy(x, y)
        pdf.cell(label_w, 4.2, _fit(pdf, label, label_w - 1))
        pdf.set_fill_color(228, 228, 228)
        pdf.rect(x + label_w, y + 0.8, bar_w, 2.6, style="F")
        pdf.set_fill_color(*GREEN)
        pdf.rect(x + label_w, y + 0.8, bar_w * max(0.0, min(percent, 100.0)) / 100, 2.6, style="F")
        pdf.set_xy(x + label_w + bar_w + 1, y)
        pdf.cell(text_w, 4.2, pdf_text(text), align="R")
        y += 4.6
    return y


def _progress_rows(frame: pd.DataFrame, limit: int) -> list[tuple[str, float, str]]:
    frame = frame.sort_values(["panneaux", frame.columns[0]], ascending=[False, True])
    rows = [
        (
            str(r.iloc[0]),
            float(r["% posés"]),
            f"{fmt_percent(r['% posés'] / 100)} ({fmt_int(r['posés'])}/{fmt_int(r['panneaux'])})",
        )
        for _, r in frame.head(limit).iterrows()
    ]
    if len(frame) > limit:
        rest = frame.iloc[limit:]
        done, total = int(rest["posés"].sum()), int(rest["panneaux"].sum())
        rows.append(
            (
                f"{len(rest)} autres parcs",
                done / total * 100 if total else 0.0,
                f"{fmt_percent(done / total if total else 0)} ({fmt_int(done)}/{fmt_int(total)})",
            )
        )
    return rows


def _costs(pdf, costs: pd.DataFrame, x: float, y: float, width: float) -> float:
    """Grouped bars per year: HT cost (dark) and Region co-funding (green), amounts in €."""
    if costs.empty:
        pdf.set_xy(x, y)
        pdf.set_font("Helvetica", "", 7.5)
        pdf.cell(width, 4, pdf_text("Aucun coût renseigné."))
        return y + 5
    top = float(costs[[COST, REGION]].to_numpy().max()) or 1.0
    label_w, text_w = 18.0, 22.0
    bar_w = width - label_w - text_w - 2
    pdf.set_font("Helvetica", "", 7.5)
    for _, r in costs.iterrows():
        for column in (COST, REGION):
            pdf.set_xy(x, y)
            pdf.cell(label_w, 3.4, pdf_text(r["Année"]) if column == COST else "")
            pdf.set_fill_color(*hex_rgb(COST_COLORS[column]))
            pdf.rect(x + label_w, y + 0.5, bar_w * float(r[column]) / top, 2.4, style="F")
            pdf.set_xy(x + label_w + bar_w + 1, y)
            pdf.cell(text_w, 3.4, pdf_text(fmt_int(r[column]) + " €"), align="R")
            y += 3.4
        y += 1.2
    for column, label, at in ((COST, "coût HT", x), (REGION, "cofinancement de la Région", x + 22)):
        pdf.set_fill_color(*hex_rgb(COST_COLORS[column]))
        pdf.rect(at, y + 0.8, 3, 2.2, style="F")
        pdf.set_xy(at + 4, y)
        pdf.cell(50 if column == REGION else 30, 3.8, pdf_text(label))
    return y + 5


def _timeline(pdf, frame: pd.DataFrame, x: float, y: float, width: float, high: float) -> float:
    """Installed signs over time (cumulative, by month), the page's chart on paper."""
    pdf.set_font("Helvetica", "", 7)
    if frame.empty:
        pdf.set_xy(x, y)
        pdf.cell(width, 4, pdf_text("Aucun panneau posé daté."))
        return y + 5
    values = frame["panneaux posés (cumul)"].to_numpy(dtype=float)
    months = pd.DatetimeIndex(frame["mois"])
    top = max(float(values.max()), 1.0)
    left, base = x + 8, y + high
    plot_w = width - 10
    step = plot_w / max(len(values) - 1, 1)
    pdf.set_draw_color(200, 200, 200)
    pdf.set_line_width(0.15)
    for frac in (0.0, 0.5, 1.0):
        gy = base - frac * high
        pdf.line(left, gy, left + plot_w, gy)
        pdf.set_xy(x - 1, gy - 1.8)
        pdf.cell(8, 3.6, pdf_text(fmt_int(top * frac)), align="R")
    pdf.set_draw_color(*GREEN)
    pdf.set_line_width(0.6)
    points = [(left + i * step, base - v / top * high) for i, v in enumerate(values)]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        pdf.line(x0, y0, x1, y1)
    pdf.set_line_width(0.2)
    years = sorted({m.year for m in months})
    for year in years[:: max(1, len(years) // 6)]:
        first = int(np.argmax(months.year == year))
        pdf.set_xy(left + first * step - 5, base + 0.5)
        pdf.cell(10, 3.5, str(year), align="C")
    return base + 5


def _changes(pdf, report: CouncilReport, y: float, bottom: float) -> float:
    """What changed since the date: steps dated in the period, and in-app edits."""
    steps = steps_since(report.signs, report.since)
    counts = steps["Étape"].value_counts() if len(steps) else pd.Series(dtype=int)
    parts = [f"{fmt_int(counts[s])} {s}" for s in STATUSES if s in counts]
    _heading(pdf, MARGIN, y, f"Ce qui a changé depuis le {report.since:%d/%m/%Y}")
    pdf.set_font("Helvetica", "", 8)
    pdf.set_xy(MARGIN, y + 5.5)
    summary = (
        f"{fmt_int(len(steps))} étape(s) datée(s) sur le terrain"
        + (f" ({', '.join(parts)})" if parts else "")
        + f" ; {fmt_int(report.edits)} modification(s) saisie(s) dans l'Atlas."
    )
    pdf.multi_cell(210 - 2 * MARGIN, 4, pdf_text(summary))
    y = pdf.get_y() + 1
    widths = (20, 22, 110, 34)
    if len(steps):
        pdf.set_font("Helvetica", "B", 7.5)
        pdf.set_fill_color(235, 235, 235)
        pdf.set_xy(MARGIN, y)
        for w, head in zip(widths, ("Date", "Panneau", "Parc", "Étape"), strict=True):
            pdf.cell(w, 4.2, pdf_text(head), fill=True)
        y += 4.4
        pdf.set_font("Helvetica", "", 7.5)
        shown = steps.head(max(3, int((bottom - y - 4) // 4)))
        for _, r in shown.iterrows():
            pdf.set_xy(MARGIN, y)
            for w, col in zip(widths, ("Date", "Panneau", "Parc", "Étape"), strict=True):
                pdf.cell(w, 4, pdf_text(str(r[col])[:70]))
            y += 4
        if len(steps) > len(shown):
            pdf.set_xy(MARGIN, y)
            pdf.cell(
                0, 4, pdf_text(f"… et {fmt_int(len(steps) - len(shown))} autre(s) : voir la page.")
            )
            y += 4
    return y


def council_pdf(report: CouncilReport) -> bytes:
    """One A4 page for the elected group: figures, map, progress, costs, what changed.

    Every figure is the page's own (``headline_figures``, ``progress_tables``, ``costs_by_year``,
    ``steps_since``), written the French way; the « posés » definition is printed.
    """
    pdf = new_pdf()
    pdf.add_page()
    pdf.set_text_color(*INK)
    pdf.set_xy(MARGIN, 10)
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 8, pdf_text("Chaîne des Parcs — avancement de la signalétique"))
    pdf.set_xy(MARGIN, 18)
    pdf.set_font("Helvetica", "", 9.5)
    pdf.cell(
        0, 5, pdf_text(f"Territoire : {report.selection_label} — état au {report.today:%d/%m/%Y}")
    )
    pdf.set_xy(MARGIN, 23)
    pdf.set_text_color(170, 0, 0)
    pdf.cell(
        0,
        5,
        pdf_text("Données synthétiques (échantillon de démonstration), pas l'inventaire réel."),
    )
    pdf.set_text_color(*INK)
    y = _figures(pdf, headline_figures(report.signs), 30) + 5
    side = 96.0
    left_end = _map_block(pdf, report, MARGIN, y + 6, side)
    _heading(pdf, MARGIN, y, "Carte des panneaux")
    _heading(pdf, MARGIN, left_end + 2, "Panneaux posés (cumul, par mois)")
    left_end = _timeline(pdf, installed_over_time(report.signs), MARGIN, left_end + 9, side, 30)
    rx, rw = MARGIN + side + 6, 210 - 2 * MARGIN - side - 6
    _heading(pdf, rx, y, "Avancement par intercommunalité")
    ry = _bars(pdf, _progress_rows(report.by_epci, 3), rx, y + 6, rw, 22) + 3
    _heading(pdf, rx, ry, "Avancement par parc")
    ry = _bars(pdf, _progress_rows(report.by_park, 8), rx, ry + 6, rw, 44) + 3
    _heading(pdf, rx, ry, "Coûts et cofinancement par année")
    ry = _costs(pdf, costs_by_year(report.signs), rx, ry + 6, rw)
    y = _changes(pdf, report, max(left_end, ry) + 4, bottom=272) + 3
    pdf.set_xy(MARGIN, y)
    pdf.set_font("Helvetica", "", 7)
    pdf.set_text_color(90, 90, 90)
    foot = (
        INSTALLED_DEFINITION
        + " Sources : inventaire Atlas PMA (échantillon synthétique) ; parcs : Mission "
        "Bassin Minier et compilation Atlas PMA ; limites : IGN Admin Express."
    )
    if report.link:
        foot += f" Page en ligne : {report.link}"
    pdf.multi_cell(210 - 2 * MARGIN, 3.2, pdf_text(foot))
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
