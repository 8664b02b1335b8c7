"""French number formatting and safe text for HTML and Markdown."""

from __future__ import annotations

import html
import math
import re

NBSP = "\u202f"  # narrow no-break space, the French thousands separator


MISSING = "—"


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def fmt_int(value: float) -> str:
    """``12345`` → ``"12 345"`` (narrow no-break space); ``"—"`` for a missing/non-finite value."""
    number = _finite(value)
    if number is None:
        return MISSING
    return f"{round(number):,}".replace(",", NBSP)


def fmt_float(value: float, decimals: int = 1) -> str:
    """``1002.42`` → ``"1 002,4"``; ``"—"`` for a missing or non-finite value."""
    number = _finite(value)
    if number is None:
        return MISSING
    text = f"{number:,.{decimals}f}"
    return text.replace(",", NBSP).replace(".", ",")


def escape(value: object) -> str:
    """HTML-escape any value for a popup, tooltip, legend or attribution."""
    return html.escape("" if value is None else str(value), quote=True)


_MD_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:")


def md_escape(value: object) -> str:
    """Escape an untrusted string so that Streamlit Markdown shows it as plain text."""
    text = str(value).replace("\n", " ")
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)


PDF_ENCODING = "windows-1252"  # the core fonts' widest encoding: €, « », –, —, …, ’
_PDF_CHARS = {
    "≈": "~",
    "₂": "2",
    "≤": "jusqu'à",  # « installation ≤ 9 kWc » → « installation jusqu'à 9 kWc »
    "≥": "au moins",
    NBSP: "\u00a0",  # a no-break space: a number is never cut at the end of a line
    "\u2009": " ",
}


def pdf_text(text: object) -> str:
    """Text for the PDF core fonts in :data:`PDF_ENCODING`; signs it lacks spelled out.

    « € », « – », guillemets and the ellipsis are kept (they were « EUR », « - », '"' in
    Latin-1); thousands are separated by a no-break space.
    """
    out = str(text)
    for a, b in _PDF_CHARS.items():
        out = out.replace(a, b)
    return out.encode(PDF_ENCODING, "replace").decode(PDF_ENCODING)


def scale_length(metres: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not over ``metres`` (a scale bar's length)."""
    import math

    power = 10 ** math.floor(math.log10(max(metres, 1.0)))
    return max(f * power for f in (1, 2, 5) if f * power <= max(metres, 1.0))


def new_pdf():
    """An A4 document for the core fonts in :data:`PDF_ENCODING`, text left searchable."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = PDF_ENCODING
    pdf.set_compression(False)  # text stays searchable by simple tools (and tests)
    pdf.set_auto_page_break(False)
    return pdf


def group_notices(notices: list[str], limit: int = 3) -> list[str]:
    """At most ``limit`` notices; beyond, one grouped notice (3 000 junk URL values → 1)."""
    if len(notices) <= limit:
        return list(notices)
    shown = " ; ".join(n[:80] for n in notices[: limit - 1])
    return [f"{len(notices)} valeurs de l'adresse ignorées, dont : {shown} …"]


_ABS_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:;,()«»\"']+/)+([^\s/:;,()«»\"']+)")


def public_message(err: object) -> str:
    """An error message fit for any reader: server paths cut to their file name.

    The full message (with paths) belongs in the server log, not in a browser.
    """
    return _ABS_PATH.sub(r"\1", str(err))


def fmt_when(value: object, with_time: bool = True) -> str:
    """A stored UTC ISO timestamp as a French reader expects it, in Paris time.

    ``"2026-11-29T15:40:00+00:00"`` → ``"29/11/2026 à 16:40"``; a plain date
    ``"2025-07-16"`` → ``"16/07/2025"``; ``"—"`` for a missing or unreadable value.
    """
    import datetime as dt
    from zoneinfo import ZoneInfo

    text = "" if value is None else str(value).strip()
    if not text or text in ("nan", "NaT", "None"):
        return MISSING
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).strftime("%d/%m/%Y")
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return MISSING
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(ZoneInfo("Europe/Paris"))
    return local.strftime("%d/%m/%Y à %H:%M" if with_time else "%d/%m/%Y")


def fmt_date(value: object) -> str:
    """An ISO date or month as a French reader writes it; anything else as it is.

    ``"2026-12-07"`` → ``"07/12/2026"``, ``"2026-01"`` → ``"01/2026"``, ``"2024"`` → ``"2024"``.
    """
    text = "" if value is None else str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return fmt_when(text, with_time=False)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return f"{text[5:]}/{text[:4]}"
    return text


_TYPED_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")


def parse_number(text: object) -> float | None:
    """A number as a French reader types it, ``None`` when it is not one.

    ``"4 200"`` → 4200.0, ``"0,194"`` → 0.194, ``"2"`` → 2.0; a decimal point works too
    (``"0.194"``); spaces of any kind between digits are thousands separators.
    """
    compact = re.sub(r"[\s\u202f\u00a0]", "", "" if text is None else str(text))
    if not _TYPED_NUMBER.fullmatch(compact):
        return None
    number = _finite(compact.replace(",", "."))
    return number


def fmt_input(value: object, decimals: int) -> str:
    """A number as a field shows it for editing: French, ``decimals`` at most.

    No trailing zeros: ``4200`` → ``"4 200"``, ``0.194`` → ``"0,194"``, ``2.0`` → ``"2"``.
    """
    return fmt_cell(value, decimals)


def fmt_year(value: object) -> str:
    """``2025.0`` → ``"2025"`` (no thousands separator, no decimals); ``"—"`` if missing."""
    number = _finite(value)
    return MISSING if number is None else str(int(round(number)))


def fmt_percent(fraction: object, decimals: int = 0) -> str:
    """``0.384`` → ``"38 %"`` (French: a narrow no-break space before %); ``"—"`` if missing."""
    number = _finite(fraction)
    return MISSING if number is None else f"{fmt_float(number * 100, decimals)}{NBSP}%"


def fmt_number(value: object) -> str:
    """A number as short as ``:g`` but French: ``0.1952`` → ``"0,1952"``, ``2300`` → ``"2 300"``."""
    number = _finite(value)
    if number is None:
        return MISSING
    if number == int(number):
        return fmt_int(number)
    return f"{number:g}".replace(".", ",")


def fmt_cell(value: object, decimals: int = 2) -> str:
    """A table cell the French way, at most ``decimals`` decimals, empty when missing.

    ``9.96`` → ``"9,96"``, ``1502.1`` → ``"1 502,1"``, ``17966`` → ``"17 966"`` (trailing
    zeros dropped).
    """
    number = _finite(value)
    if number is None:
        return ""
    if number == int(number):
        return fmt_int(number)
    text = f"{number:,.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace(",", NBSP).replace(".", ",")


# styling costs ~17 µs per cell at every rerun (Streamlit marshals the Styler each time):
# beyond 5 000 cells (~85 ms), a table is shown with the browser's number format
STYLED_CELLS_MAX = 5_000


def french_columns(frame, skip=()) -> list:
    """The columns :func:`french_table` formats: numeric, not boolean, not in ``skip``.

    Empty when the frame is left as is: nothing numeric, more than ``STYLED_CELLS_MAX``
    cells, or duplicated column names.
    """
    import pandas as pd

    numeric = [
        c
        for c in frame.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    if not numeric or frame.size > STYLED_CELLS_MAX or not frame.columns.is_unique:
        return []
    return numeric


def french_table(frame, skip=()):
    """``frame`` for ``st.dataframe``: numbers shown the French way, sorted as numbers.

    ``skip``: columns drawn otherwise (a progress bar configured by the page).

    A pandas Styler whose display values are :func:`fmt_cell` (Streamlit shows them and
    keeps the raw values for sorting). A frame of more than ``STYLED_CELLS_MAX`` cells is
    returned as is (styling the 60 000 cells of 4 000 signs would cost each rerun ~1 s).
    """
    numeric = french_columns(frame, skip)
    if not numeric:
        return frame
    if not frame.index.is_unique:
        frame = frame.reset_index(drop=True)
    return frame.style.format(fmt_cell, subset=numeric)
