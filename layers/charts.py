"""Accessible charts (Vega-Lite through Altair): a text description, no unnamed SVG parts.

Streamlit's ``st.bar_chart`` / ``st.line_chart`` draw SVG mark groups without an
accessible name (axe ``svg-img-alt``, serious; RGAA 1.1). These builders give each chart
a French description that says what it shows **and its values** (the chart's text
alternative), and hide the individual marks from assistive technologies. Pages render
them with ``st.altair_chart``.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from layers.formatting import fmt_float

MAX_DESCRIBED = 30  # values listed in a description; beyond, the table next to it has them

# Vega's number and time formats in French (d3 locale fr-FR, with the narrow no-break space
# as thousands separator, as layers.formatting): axes, tooltips and month names
FRENCH = {
    "number": {"decimal": ",", "thousands": "\u202f", "grouping": [3], "currency": ["", "\u00a0€"]},
    "time": {
        "dateTime": "%A %e %B %Y à %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["", ""],
        "days": ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"],
        "shortDays": ["dim.", "lun.", "mar.", "mer.", "jeu.", "ven.", "sam."],
        "months": [
            "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
            "septembre", "octobre", "novembre", "décembre",
        ],
        "shortMonths": [
            "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
            "nov.", "déc.",
        ],
    },
}  # fmt: skip


def _describe(title: str, labels: list[str], values: list[str]) -> str:
    pairs = [f"{a} : {b}" for a, b in zip(labels, values, strict=True)][:MAX_DESCRIBED]
    more = " …" if len(labels) > MAX_DESCRIBED else ""
    return f"{title}. " + " ; ".join(pairs) + more


def _finish(chart: alt.Chart, description: str) -> alt.Chart:
    return (
        chart.properties(description=description, height=260)
        .configure(locale=FRENCH)
        .configure_mark(aria=False)
        .configure_axis(aria=False)
        .configure_legend(aria=False)
    )


SHORT_LABEL = 12  # characters: categories this short are written level under their bar


def _category_axis(labels) -> alt.Axis:
    """Level labels when they are short, else slanted, never upright.

    Vega turned « CALL », « CABBALR » 90° (issue 30).
    """
    longest = max((len(str(v)) for v in labels), default=0)
    if longest <= SHORT_LABEL:
        return alt.Axis(labelAngle=0)
    return alt.Axis(labelAngle=-40, labelAlign="right", labelLimit=160)


def bar(frame: pd.DataFrame, category: str, value: str, title: str, decimals: int = 1) -> alt.Chart:
    """Vertical bars of ``value`` per ``category``."""
    chart = (
        alt.Chart(frame)
        .mark_bar(color="#1b6e5a")
        .encode(
            x=alt.X(
                f"{category}:N", sort=None, title=category, axis=_category_axis(frame[category])
            ),
            y=alt.Y(f"{value}:Q", title=value),
            tooltip=[category, alt.Tooltip(value, format=f".{decimals}f")],
        )
    )
    labels = [str(v) for v in frame[category]]
    values = [f"{fmt_float(v, decimals)} {value}" for v in frame[value]]
    return _finish(chart, _describe(title, labels, values))


def line(frame: pd.DataFrame, x: str, y: str, title: str) -> alt.Chart:
    """A line of ``y`` over time ``x`` (monthly)."""
    chart = (
        alt.Chart(frame)
        .mark_line(color="#1b6e5a", point=True)
        .encode(x=alt.X(f"{x}:T", title=x), y=alt.Y(f"{y}:Q", title=y), tooltip=[x, y])
    )
    if frame.empty:
        return _finish(chart, f"{title}. Aucune donnée.")
    last = frame.iloc[-1]
    description = (
        f"{title}. De {pd.Timestamp(frame[x].iloc[0]):%m/%Y} à {pd.Timestamp(last[x]):%m/%Y}, "
        f"{fmt_float(last[y], 0)} au total."
    )
    return _finish(chart, description)


def grouped_bars(
    frame: pd.DataFrame,
    category: str,
    title: str,
    unit: str,
    colors: dict[str, str] | None = None,
) -> alt.Chart:
    """Side-by-side bars of every other column of ``frame`` per ``category``.

    ``colors``: column → colour (the same as the PDF's, one palette); Vega's otherwise.
    """
    long = frame.melt(id_vars=[category], var_name="série", value_name="valeur")
    scale = alt.Scale(domain=list(colors), range=list(colors.values())) if colors else alt.Undefined
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(f"{category}:N", title=category, axis=_category_axis(frame[category])),
            xOffset="série:N",
            y=alt.Y("valeur:Q", title=unit),
            color=alt.Color("série:N", title=None, scale=scale),
            tooltip=[category, "série", alt.Tooltip("valeur", format=",.0f")],
        )
    )
    labels = [f"{r[category]} ({r['série']})" for _, r in long.iterrows()]
    values = [f"{fmt_float(v, 0)} {unit}" for v in long["valeur"]]
    return _finish(chart, _describe(title, labels, values))
