"""The roof's one-page PDF sheet: map extract, the simulated project, its figures."""

from __future__ import annotations

import io
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from layers.assumptions import Assumptions
from layers.cadastre import Cadastre
from layers.cadastre_colours import map_classes
from layers.cadastre_estimate import (
    ADVICE,
    Simulated,
    estimate_table,
    payback_text,
)
from layers.cadastre_panels import PANEL_COLOUR, modules_text
from layers.cadastre_tiles import irradiation_around
from layers.economics import RoofEstimate
from layers.formatting import (
    fmt_date,
    fmt_float,
    fmt_int,
    fmt_number,
    new_pdf,
    pdf_text,
    scale_length,
)
from layers.web_tiles import Breaks, colorize, hex_rgb

PANEL_FILL = (*hex_rgb(PANEL_COLOUR), 255)  # the chosen modules: dark blue, white edges


@dataclass(frozen=True, eq=False)
class Overlay:
    """What is drawn over a roof's extract: its faces and the chosen modules (Lambert-93)."""

    faces: gpd.GeoDataFrame
    panels: gpd.GeoDataFrame


def roof_thumbnail(
    cad: Cadastre,
    roof: pd.Series,
    breaks: Breaks,
    size_px: int = 360,
    margin_m: float = 25.0,
    overlay: Overlay | None = None,
) -> tuple[bytes, float]:
    """PNG of the irradiation around a roof, the roof outlined, and its width in metres.

    What is not coloured (ground, no data) shows light grey, not black. With ``overlay``,
    the roof's faces are outlined in white and the chosen modules filled dark blue.
    """
    from PIL import Image, ImageDraw

    geom = gpd.GeoSeries([roof.geometry], crs=4326).to_crs(2154).iloc[0]
    w, s, e, n = geom.buffer(margin_m).bounds
    data, transform = irradiation_around(cad.path, (w, s, e, n))
    img = Image.fromarray(colorize(data, breaks, alpha=255), "RGBA").resize((size_px, size_px))
    draw = ImageDraw.Draw(img)
    sx, sy = size_px / data.shape[1], size_px / data.shape[0]
    inv = ~transform

    def pixels(ring) -> list[tuple[float, float]]:
        return [((inv * xy[:2])[0] * sx, (inv * xy[:2])[1] * sy) for xy in ring.coords]

    for part in getattr(geom, "geoms", [geom]):
        draw.line(pixels(part.exterior), fill=(0, 0, 0, 255), width=3)
    if overlay is not None:
        for face in overlay.faces.geometry:
            for part in getattr(face, "geoms", [face]):
                draw.line(pixels(part.exterior), fill=(255, 255, 255, 255), width=1)
        for module in overlay.panels.geometry:
            draw.polygon(pixels(module.exterior), fill=PANEL_FILL, outline=(255, 255, 255, 255))
    ground = Image.new("RGBA", img.size, (236, 236, 236, 255))
    buf = io.BytesIO()
    Image.alpha_composite(ground, img).convert("RGB").save(buf, "PNG")
    return buf.getvalue(), float(e - w)


def _thumbnail_legend(pdf, breaks: Breaks, width_m: float, x: float, y: float, side: float):
    """Scale bar and colour classes under the roof's map extract."""
    metres = scale_length(width_m / 3)
    bar = metres / width_m * side
    pdf.set_fill_color(30, 30, 30)
    pdf.rect(x, y + 1, bar, 1.2, style="F")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(x + bar + 1.5, y - 0.2)
    pdf.cell(20, 3.5, pdf_text(f"{fmt_int(metres)} m"))
    pdf.set_xy(x + 32, y - 0.2)
    pdf.cell(40, 3.5, pdf_text("contour noir : ce toit"))
    pdf.set_xy(x, y + 4)
    pdf.cell(side, 3.5, pdf_text("Irradiation annuelle (kWh/m²/an) :"))
    row = y + 8
    for _value, colour, label in reversed(breaks):
        pdf.set_fill_color(*hex_rgb(colour))
        pdf.rect(x, row + 0.5, 4, 2.6, style="F")
        pdf.set_xy(x + 5, row)
        pdf.cell(side - 5, 3.5, pdf_text(label))
        row += 3.6
    return row


@dataclass(frozen=True, eq=False)
class RoofSheet:
    """What a roof's sheet prints besides the store and the assumptions.

    Attributes
    ----------
    roof
        The roof (EPSG:4326, with ``toit_id``, ``commune``, its figures).
    estimate
        Its economics at the simulated power.
    simulated
        What the resident simulated (one definition with the card).
    link
        The public address of the roof's view (« Revoir ce toit »).
    today
        An ISO date, printed the French way.
    overlay
        The roof's faces and the simulated project's modules, drawn on the extract
        (``None``: a roof without layout).
    faces
        One line per face (the card's).
    """

    roof: pd.Series
    estimate: RoofEstimate
    simulated: Simulated
    link: str
    today: str
    overlay: Overlay | None = None
    faces: tuple[str, ...] = ()


def roof_sheet_pdf(cad: Cadastre, hyp: Assumptions, sheet: RoofSheet) -> bytes:
    """A one-page A4 roof sheet: address, map extract, the project, its figures, link.

    The simulated project and its figures as three cases; the assumptions, those the
    simulation replaced saying so.
    """
    pdf = new_pdf()
    pdf.add_page()
    _sheet_heading(pdf, cad, sheet)
    roof = sheet.roof
    y = pdf.get_y() + 2
    breaks = map_classes(hyp)
    margin = 25.0 if sheet.overlay is None else 8.0  # the modules readable at 70 mm
    image, width_m = roof_thumbnail(cad, roof, breaks, 480, margin, sheet.overlay)
    pdf.image(io.BytesIO(image), x=10, y=y, w=70)
    below = _thumbnail_legend(pdf, breaks, width_m, x=10, y=y + 71, side=70)
    if sheet.overlay is not None:
        below = _panel_legend(pdf, len(sheet.overlay.panels), x=10, y=below, side=70)
    pdf.set_xy(85, y)
    _sheet_block(pdf, "Votre toit", [
        f"Retour sur investissement (cas central) : {payback_text(sheet.estimate)}",
        f"Classe : {roof['classe']} ({fmt_int(roof['irradiation_utile'])} kWh/m²/an, partie utile)",
        f"Surface utile : {fmt_float(roof['surface_utile_m2'], 0)} m² ; pente "
        f"{fmt_float(roof['pente_dominante'], 0)}° ; orientation {roof['orientation']}",
        _max_power(roof, sheet.overlay is not None),
    ], x=85)  # fmt: skip
    if sheet.faces:
        _sheet_block(pdf, "Pans du toit", list(sheet.faces), x=85)
    lines = [f"{k} : {v}" for k, v in sheet.simulated.lines]
    _sheet_block(pdf, "Votre simulation", lines, x=85)
    pdf.set_y(max(pdf.get_y(), below) + 3)
    _estimate_grid(pdf, estimate_table(sheet.estimate))
    _assumptions(pdf, hyp, sheet.simulated)
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 4.5, pdf_text(ADVICE), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_text_color(0, 0, 160)
    pdf.cell(0, 5, pdf_text(f"Revoir ce toit : {sheet.link}"), link=sheet.link)
    return bytes(pdf.output())


def _max_power(roof: pd.Series, laid_out: bool) -> str:
    """The sheet's line on the roof's power: from its modules, or its usable area."""
    power = f"Puissance maximale du toit : {fmt_float(roof['kwc_central'], 1)} kWc"
    if laid_out:
        n = int(roof.get("panneaux") or 0)
        return power + f" ({modules_text(n)} posés pan par pan)"
    return power + " (surface utile × puissance par m²)"


def _panel_legend(pdf, chosen: int, x: float, y: float, side: float) -> float:
    """What the modules drawn on the extract are; returns the y under it."""
    pdf.set_fill_color(*PANEL_FILL[:3])
    pdf.rect(x, y + 0.5, 4, 2.6, style="F")
    pdf.set_xy(x + 5, y)
    pdf.set_font("Helvetica", "", 7)
    pdf.multi_cell(
        side - 5, 3.5, pdf_text(f"vos {modules_text(chosen)} (les meilleurs) ; blanc : les pans"),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    return pdf.get_y()


def _sheet_heading(pdf, cad: Cadastre, sheet: RoofSheet) -> None:
    """The title, the fictional territory's warning, the address, the date and climate."""
    roof = sheet.roof
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
                "TERRITOIRE FICTIF : toit et adresse inventés pour la "
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
    pdf.multi_cell(
        0, 5, pdf_text(f"Édité le {fmt_date(sheet.today)} — climat : {cad.climate}"),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip


def _assumptions(pdf, hyp: Assumptions, simulated: Simulated) -> None:
    """Every assumption with its three levels; those the simulation replaced say so."""
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(
        0,
        6,
        pdf_text(f"Hypothèses (geodata/hypotheses.toml, version du {fmt_date(hyp.version)})"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 8)
    for group in ("economie", "solaire"):
        for key, item in hyp.groups[group].items():
            used = simulated.replaced.get(key) if group == "economie" else None
            text = (
                f"- {item.title} : {fmt_number(item.low)} / {fmt_number(item.central)} / "
                f"{fmt_number(item.high)} {item.unit} ({fmt_date(item.date)})"
                + (f" - remplacée par votre simulation : {used}" if used else "")
                + (f" - ATTENTION, {item.validity_note()}" if item.expired() else "")
            )
            pdf.multi_cell(0, 3.8, pdf_text(text), new_x="LMARGIN", new_y="NEXT")


def _sheet_block(pdf, title: str, lines: list[str], x: float) -> None:
    """A titled block of lines at ``x`` (the right of the map extract)."""
    pdf.set_x(x)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(115, 6, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)
    for line in lines:
        pdf.set_x(x)
        pdf.multi_cell(115, 4.8, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _estimate_grid(pdf, table: pd.DataFrame) -> None:
    """The estimate table as the page shows it: one row a figure, three cases."""
    widths = (76, 38, 38, 38)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_fill_color(235, 238, 242)
    for width, head in zip(widths, ("Estimation", *table.columns), strict=True):
        pdf.cell(width, 6, pdf_text(head), border=1, fill=True, align="C")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for label, values in table.iterrows():
        pdf.cell(widths[0], 5.5, pdf_text(label), border=1)
        for width, value in zip(widths[1:], values, strict=True):
            pdf.cell(width, 5.5, pdf_text(value), border=1, align="R")
        pdf.ln()
