"""Widgets shared by the pages: maps, downloads, sources and assumptions."""

from __future__ import annotations

import contextlib
import re
import zlib
from collections.abc import Callable, Iterable
from datetime import date

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from layers.assumptions import Assumptions
from layers.catalog import LayerInfo
from layers.downloads import DOWNLOADS
from layers.export import layer_metadata, to_csv_bytes, to_geojson_bytes, to_gpkg_bytes
from layers.formatting import (
    fmt_date,
    fmt_input,
    fmt_number,
    french_columns,
    french_table,
    md_escape,
    parse_number,
)
from layers.messages import Level
from layers.urls import FILE, link
from pages.ui.loaders import get_settings
from pages.ui.maps import MapPayload, component_payload, overlay_script
from pages.ui.shared import shared

QUALITY_BADGES = {"réel": "🟢 réel", "indicatif": "🟠 indicatif", "synthétique": "🟣 synthétique"}


def _send_map(
    payload: MapPayload,
    key: str,
    height: int,
    returned: list[str],
    on_change: Callable[[], None] | None = None,
    overlay: str | None = None,
) -> None:
    """Send a rendered map to the streamlit-folium component, as ``st_folium`` does.

    ``overlay``: a layer's script (:func:`pages.ui.maps.overlay_script`) the component
    swaps on the drawn map without reloading it.
    """
    from streamlit_folium import _component_func

    defaults = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_count": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": payload.bounds,
        "zoom": payload.zoom,
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }
    hash_key = payload.component_key(key)

    def _changed() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    _component_func(
        script=payload.script,
        header=payload.header,
        html=payload.html,
        id=payload.map_id,
        key=hash_key,
        height=height,
        width=None,
        returned_objects=returned,
        default={k: v for k, v in defaults.items() if k in returned},
        zoom=None,
        center=None,
        feature_group=overlay,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(payload.css_links),
        js_links=list(payload.js_links),
        on_change=_changed,
        wrap_longitude=False,
    )


def rendered_map(signature: tuple, build: Callable[[], folium.Map]) -> MapPayload:
    """The map for ``signature`` (everything it depends on), built and rendered once."""
    return shared("cartes", signature, lambda: component_payload(build()))


def show_map(
    signature: tuple, build: Callable[[], folium.Map], key: str, height: int = 540
) -> None:
    """Render a display-only map (no event sent back, so panning never reruns the page).

    ``build()`` runs only when no session has drawn the map for ``signature`` yet.
    """
    _send_map(rendered_map(signature, build), key, height, [])


WIDE_FIGURE = 8  # characters: a longer value (a range « 809 – 2 914 ») needs a wider column


def message(level: Level, text: str, icon: str | None = None) -> None:
    """One message of a workflow, as its level says (one element, always the same kind).

    ``text`` is drawn as Markdown: the workflow escapes what it did not write.
    """
    if level == Level.CAPTION:
        st.caption(text)
        return
    draw = {
        Level.INFO: st.info,
        Level.WARNING: st.warning,
        Level.ERROR: st.error,
        Level.SUCCESS: st.success,
    }[Level(level)]
    draw(text, icon=icon)


def figures(values: dict[str, str]) -> None:
    """Key figures, as many per row as fit whole: five short ones, three when one is a range.

    At 1280 px five columns cut « 809 – 2 914 » to « 809 – 2… » (issue 21). Rows are
    balanced (six figures: two rows of three). On a phone (``shell.PHONE_CSS``): three per
    row when all are short, two otherwise — the container's key says which.
    """
    items = list(values.items())
    short = all(len(v) <= WIDE_FIGURE for _, v in items)
    per_row = 5 if short else 3
    per_row = -(-len(items) // -(-len(items) // per_row)) if items else per_row  # balanced rows
    key = f"chiffres_{'courts' if short else 'longs'}_{zlib.crc32(repr(list(values)).encode())}"
    with st.container(key=key):
        for start in range(0, len(items), per_row):
            row = items[start : start + per_row]
            for col, (label, value) in zip(st.columns(per_row), row, strict=False):
                col.metric(label, value)


def filters_box(label: str, active: int, key: str):
    """The page's filters, folded by default; the label says how many are active.

    Folded, the filters take one line: on a phone an open box pushed the map below the
    first screen (parcs: 477 px of filters). ``key`` keeps the box open or folded while
    its label's count changes.
    """
    if active:
        label = f"{label} — {active} actif{'s' if active > 1 else ''}"
    return st.expander(label, expanded=False, key=key, icon=":material/filter_list:")


def table(frame, where=None, static: bool = False, **options) -> None:
    """A table, its numbers the French way (``layers.formatting.french_table``), full width.

    A table of more than three columns keeps its first (text) column pinned while it
    scrolls sideways (issue 21: wide tables were cut on a phone).

    ``where``: a column or container to draw it in (``st`` by default). ``static``: a
    small read-only table whose rows are named by its index (a roof's estimate) drawn as
    an HTML table — screen readers read it as a table, row and column headers included;
    a data grid is a canvas they cannot walk.

    A styled table is drawn through ``_replayed``, whose element Streamlit replays
    from its cache at the next rerun: marshalling a pandas Styler costs ~25 ms per 1 000
    cells at every rerun (Streamlit rebuilds its display values cell by cell), which had
    made every page's rerun 40–50 ms slower (measured with ``benchmarks/load.py``).
    """
    if static:
        (where if where is not None else st).table(french_table(frame))
        return
    config = dict(options.pop("column_config", None) or {})
    first = frame.columns[0] if len(frame.columns) else None
    if (
        first is not None
        and len(frame.columns) > 3
        and first not in config
        and not pd.api.types.is_numeric_dtype(frame[first])
    ):
        # on a phone a wide table scrolls sideways: its first column (what each row is)
        # stays in view
        config[first] = st.column_config.Column(pinned=True)
    # a styled table is replayed by Streamlit from _replayed's cache; a plain one (nothing
    # to style) or a widget (options: selection…) is drawn directly
    replay = bool(french_columns(frame, tuple(config))) and not options
    with where if where is not None else contextlib.nullcontext():
        (_replayed if replay else _dataframe)(frame, config, **options)


def _dataframe(frame: pd.DataFrame, config: dict, **options) -> None:
    """``frame`` French-styled (the columns in ``config`` drawn as configured), full width."""
    st.dataframe(
        french_table(frame, skip=tuple(config)),
        hide_index=True,
        width="stretch",
        column_config=config or None,
        **options,
    )


# ≤ 5 000 cells each (STYLED_CELLS_MAX): ≤ ~25 MB per process
_replayed = st.cache_data(max_entries=128, show_spinner=False)(_dataframe)


def sources(layers: Iterable[LayerInfo]) -> None:
    """An expander listing the producer, source, licence, date and quality of each layer."""
    with st.expander("Sources et licences des données"):
        for info in layers:
            st.markdown(
                f"**{md_escape(info.title)}** — {QUALITY_BADGES[info.quality]} "
                f"({md_escape(info.quality_label)})  \n"
                f"Producteur : {md_escape(info.producer)} · Date : {md_escape(info.date)} · "
                f"Licence : {md_escape(info.licence)}  \n"
                f"Source : {md_escape(info.source)}"
            )


def file_stamp() -> str:
    """Today's date for download file names."""
    return date.today().isoformat()


def picture(key: tuple, build: Callable[[], bytes], alt: str, caption: str) -> None:
    """A PNG built only when the browser asks for it, with its text alternative and caption.

    The image is a file of the download registry (``key``: everything it depends on):
    a rerun sends a link, not the picture, and the browser keeps what it has loaded.
    ``st.image`` gave the image no alt. ``alt`` and ``caption`` are plain text, escaped.
    """
    from html import escape

    settings = get_settings()
    token = DOWNLOADS.register((key, settings), "plan.png", "image/png", build)
    url = link(settings, FILE, token=token, name="plan.png") + route_query()
    st.html(
        f'<figure style="margin:0"><img src="{escape(url)}" alt="{escape(alt)}" '
        'style="width:100%;height:auto;display:block;aspect-ratio:1" />'
        '<figcaption style="font-size:0.875rem;color:rgba(49,51,63,0.75);text-align:center;'
        f'margin-top:0.3rem">{escape(caption)}</figcaption></figure>'
    )


def clickable_map(
    signature: tuple,
    build: Callable[[], folium.Map],
    key: str,
    on_click: Callable[[float, float], None],
    height: int = 560,
    overlay: tuple[tuple, Callable[[], folium.FeatureGroup]] | None = None,
) -> None:
    """Render a map that reports only clicks; ``on_click(lat, lng)`` runs as a callback.

    ``build()`` runs only when no session has drawn the map for ``signature`` yet.
    ``overlay``: ``(signature, build)`` of a layer drawn over it that changes without
    reloading the map (the roof's chosen modules follow the power slider).
    """

    def _changed() -> None:
        clicked = (st.session_state.get(key) or {}).get("last_object_clicked")
        if clicked:
            on_click(clicked["lat"], clicked["lng"])

    script = None
    if overlay is not None:
        wanted, group = overlay
        script = shared("cartes", ("calque", *wanted), lambda: overlay_script(group()))
    payload = rendered_map(signature, build)
    _send_map(payload, key, height, ["last_object_clicked"], _changed, script)


ROUTE = re.compile(r"[0-9a-f]{8,64}")


def route_query() -> str:
    """``?route=…``: the proxy's route of this browser, so a shared link finds its process.

    Behind ``deploy/`` (several processes, sticky routes), a file's recipe lives in the
    process that drew the page. A link opened elsewhere (sent by mail, another browser)
    carried no route cookie and failed about one time in two (« lien expiré »); nginx
    now routes ``/api/fichiers/…?route=`` by the route the link carries. Without a proxy,
    nothing is added.
    """
    route = st.context.cookies.get("atlas_route")
    return f"?route={route}" if isinstance(route, str) and ROUTE.fullmatch(route) else ""


def download_link(
    label: str,
    key: tuple,
    filename: str,
    mime: str,
    build: Callable[[], bytes],
    session: str | None = None,
) -> None:
    """A download, built only when clicked (``/api/fichiers/…``, see layers.downloads).

    ``key`` is everything the file depends on; the settings are added. The link survives
    reruns: the same key gives the same link, and the route builds the file once.
    ``session``: the editor session's secret (``editors.file_session``) for an editor's
    file — the link then works only in that editor's browser.
    """
    settings = get_settings()
    token = DOWNLOADS.register((key, settings), filename, mime, build, session=session)
    st.link_button(
        label,
        link(settings, FILE, token=token, name=filename) + route_query(),
        icon=":material/download:",
        help="Le fichier est préparé au moment du clic.",
    )


def downloads(
    stem: str,
    signature: tuple,
    table: pd.DataFrame,
    frame: gpd.GeoDataFrame,
    layer_name: str,
    info: LayerInfo,
) -> None:
    """CSV, GeoJSON and GeoPackage downloads of a filtered result, built when clicked.

    ``signature`` is what ``table`` and ``frame`` depend on (selection, filters).
    """
    stamp = file_stamp()
    meta = layer_metadata(info)
    cols = st.columns(3)
    with cols[0]:
        download_link(
            "Tableau (CSV)",
            (stem, "csv", signature),
            f"{stem}-{stamp}.csv",
            "text/csv",
            lambda: to_csv_bytes(table),
        )
    with cols[1]:
        download_link(
            "Carte (GeoJSON)",
            (stem, "geojson", signature),
            f"{stem}-{stamp}.geojson",
            "application/geo+json",
            lambda: to_geojson_bytes(frame, meta),
        )
    with cols[2]:
        download_link(
            "SIG (GeoPackage)",
            (stem, "gpkg", signature),
            f"{stem}-{stamp}.gpkg",
            "application/geopackage+sqlite3",
            lambda: to_gpkg_bytes(frame, layer_name, meta),
        )


def assumptions_expander(hyp: Assumptions, group: str) -> None:
    """Show every assumption of a group with its range, unit, source and date."""
    with st.expander(f"Hypothèses de calcul (version du {md_escape(fmt_date(hyp.version))})"):
        for item in hyp.groups[group].values():
            link = f" — [source]({item.url})" if item.url.startswith("https://") else ""
            st.markdown(
                f"**{md_escape(item.title)}** : {fmt_number(item.low)} / "
                f"{fmt_number(item.central)} / {fmt_number(item.high)} "
                f"{md_escape(item.unit)} (bas / central / haut)  \n"
                f"{md_escape(item.source)} ({md_escape(fmt_date(item.date))}){link}"
            )
            if item.expired():
                st.warning(md_escape(item.validity_note()), icon=":material/history:")
        st.caption(
            "Modifiables dans geodata/hypotheses.toml (un seul fichier, versionné ; "
            "voir « Mettre à jour les hypothèses » dans le README)."
        )


def page_links(pages: dict[str, list[st.Page]]) -> None:
    """The site menu at the top of the sidebar: one link per page, by section.

    Plain links (``st.page_link``), reachable by keyboard, announced as links, the
    current page marked by Streamlit; no list markup that assistive technologies would
    read as broken.
    """
    # On a phone Streamlit still renders its own menu (a <ul> of <div>s, axe: list,
    # listitem) whatever navigation's position; hidden (display: none also takes it out of
    # the accessibility tree), since these links replace it. Checked by the axe tests.
    st.html("<style>[data-testid='stSidebarNav']{display:none !important}</style>")
    with st.sidebar:
        st.markdown("**Atlas PMA — pages**")
        for section, entries in pages.items():
            st.caption(section)
            for page in entries:
                st.page_link(page)


def _read_number(key: str, low: float, high: float, decimals: int, unit: str) -> None:
    """``french_number``'s callback: the typed text → the number, or a French refusal."""
    typed = st.session_state[f"{key}__saisie"]
    value = parse_number(typed)
    if value is None or not low <= value <= high:
        kept = fmt_input(st.session_state[key], decimals)
        st.session_state[f"{key}__avis"] = (
            f"« {md_escape(str(typed)[:30])} » n'est pas retenu : un nombre entre "
            f"{fmt_input(low, decimals)} et {fmt_input(high, decimals)} {unit} est attendu "
            f"(valeur gardée : {kept})."
        )
        st.session_state[f"{key}__saisie"] = kept
        return
    st.session_state[key] = round(value, decimals)
    st.session_state[f"{key}__saisie"] = fmt_input(st.session_state[key], decimals)
    st.session_state.pop(f"{key}__avis", None)


def french_number(
    where, label: str, key: str, bounds: tuple[float, float], decimals: int, unit: str
) -> None:
    """A number field that reads and shows numbers the French way (« 4 200 », « 0,194 »).

    Streamlit's ``number_input`` has no locale (« 4200 », « 0.1940 »): this is a text field
    whose text is parsed (a decimal comma or point, spaces between thousands). The number
    lives in ``st.session_state[key]`` (seeded by the caller); a text that is not a number
    within ``bounds`` is refused in French and the number kept. The line under the field is
    always there (the range, or the refusal), so that later widgets never re-mount.
    """
    low, high = bounds
    text_key = f"{key}__saisie"
    if text_key not in st.session_state:
        st.session_state[text_key] = fmt_input(st.session_state[key], decimals)
    where.text_input(
        label, key=text_key, on_change=_read_number, args=(key, low, high, decimals, unit)
    )
    refusal = st.session_state.get(f"{key}__avis")
    if refusal:
        where.error(refusal, icon=":material/error:")
    else:
        where.caption(f"De {fmt_input(low, decimals)} à {fmt_input(high, decimals)} {unit}.")
