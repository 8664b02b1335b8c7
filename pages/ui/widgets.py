"""Widgets shared by the pages: maps, downloads, sources and assumptions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from layers.assumptions import Assumptions
from layers.catalog import LayerInfo
from layers.export import layer_metadata, to_csv_bytes, to_geojson_bytes, to_gpkg_bytes
from layers.formatting import md_escape

QUALITY_BADGES = {"réel": "🟢 réel", "indicatif": "🟠 indicatif", "synthétique": "🟣 synthétique"}


def show_map(fmap: folium.Map, key: str, height: int = 540) -> None:
    """Render a display-only map (no event sent back, so panning never reruns the page)."""
    st_folium(fmap, key=key, height=height, use_container_width=True, returned_objects=[])


def sources(layers: Iterable[LayerInfo]) -> None:
    """An expander listing the producer, source, licence, date and quality of each layer."""
    with st.expander("Sources et licences des données"):
        for info in layers:
            st.markdown(
                f"**{md_escape(info.title)}** — {QUALITY_BADGES[info.qualite]} "
                f"({md_escape(info.quality_label)})  \n"
                f"Producteur : {md_escape(info.producer)} · Date : {md_escape(info.date)} · "
                f"Licence : {md_escape(info.licence)}  \n"
                f"Source : {md_escape(info.source)}"
            )


def file_stamp() -> str:
    """Today's date for download file names."""
    return date.today().isoformat()


def clickable_map(
    fmap: folium.Map, key: str, on_click: Callable[[float, float], None], height: int = 560
) -> None:
    """Render a map that reports only clicks; ``on_click(lat, lng)`` runs as a callback."""

    def _changed() -> None:
        clicked = (st.session_state.get(key) or {}).get("last_object_clicked")
        if clicked:
            on_click(clicked["lat"], clicked["lng"])

    st_folium(
        fmap,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
        on_change=_changed,
    )


def downloads(
    stem: str,
    table: pd.DataFrame,
    frame: gpd.GeoDataFrame,
    layer_name: str,
    info: LayerInfo,
) -> None:
    """CSV, GeoJSON and GeoPackage download buttons for a filtered result.

    Built eagerly on purpose: Streamlit's deferred (callable) data is revoked by the next
    rerun, so a click during a rerun downloads nothing (seen in the cadastre browser test).
    """
    stamp = file_stamp()
    meta = layer_metadata(info)
    cols = st.columns(3)
    cols[0].download_button(
        "Tableau (CSV)",
        to_csv_bytes(table),
        file_name=f"{stem}-{stamp}.csv",
        mime="text/csv",
    )
    cols[1].download_button(
        "Carte (GeoJSON)",
        to_geojson_bytes(frame, meta),
        file_name=f"{stem}-{stamp}.geojson",
        mime="application/geo+json",
    )
    cols[2].download_button(
        "SIG (GeoPackage)",
        to_gpkg_bytes(frame, layer_name, meta),
        file_name=f"{stem}-{stamp}.gpkg",
        mime="application/geopackage+sqlite3",
    )


def assumptions_expander(hyp: Assumptions, group: str) -> None:
    """Show every assumption of a group with its range, unit, source and date."""
    with st.expander(f"Hypothèses de calcul (version {md_escape(hyp.version)})"):
        for item in hyp.groups[group].values():
            link = f" — [source]({item.url})" if item.url.startswith("https://") else ""
            st.markdown(
                f"**{md_escape(item.titre)}** : {item.low:g} / {item.central:g} / "
                f"{item.high:g} {md_escape(item.unite)} (bas / central / haut)  \n"
                f"{md_escape(item.source)} ({md_escape(item.date)}){link}"
            )
        st.caption("Modifiables dans geodata/hypotheses.toml (un seul fichier, versionné).")


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
