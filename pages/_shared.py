"""Streamlit helpers shared by app.py and the pages: cached loading, the sidebar, maps.

Only this module, ``app.py`` and the pages import Streamlit; everything they show comes
from ``layers/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date

import folium
import streamlit as st
from streamlit_folium import st_folium

from layers.assets import missing_assets
from layers.catalog import LayerInfo
from layers.errors import AtlasError
from layers.formatting import md_escape
from layers.mapping import basemap_choices
from layers.settings import Settings
from layers.territory import (
    URL_COMMUNE,
    URL_EPCI,
    Selection,
    Territory,
    load_territory,
    parse_selection,
    selection_to_params,
)

K_EPCI, K_COMMUNES, K_BASEMAP = "filtre_epci", "filtre_communes", "fond_de_carte"
K_INIT, K_NOTICES = "_selection_lue_url", "_avis_url"
QUALITY_BADGES = {"réel": "🟢 réel", "indicatif": "🟠 indicatif", "synthétique": "🟣 synthétique"}


def get_settings() -> Settings:
    """Settings from the environment (cheap to read; what they load is cached by value)."""
    return Settings.from_env(os.environ)


@st.cache_resource(show_spinner="Chargement du territoire…")
def _territory(geodata_dir: str) -> Territory:
    return load_territory(geodata_dir)  # type: ignore[arg-type]


def get_territory() -> Territory:
    """The territory (cached), or a French error and a stopped page."""
    try:
        return _territory(str(get_settings().geodata_dir))
    except AtlasError as err:
        st.error(f"Impossible de charger les données du territoire. {md_escape(err)}")
        st.stop()
        raise  # for type checkers: st.stop() never returns


def _init_from_url(territory: Territory) -> None:
    """Read the selection from the URL once per session (links reproduce a view)."""
    params = {k: st.query_params.get_all(k) for k in (URL_EPCI, URL_COMMUNE)}
    selection, notices = parse_selection(params, territory)
    st.session_state[K_EPCI] = list(selection.epci)
    st.session_state[K_COMMUNES] = list(selection.communes)
    st.session_state[K_NOTICES] = notices
    st.session_state[K_INIT] = True


def _on_epci_change(territory: Territory) -> None:
    """Keep only communes that belong to the chosen EPCI; clear URL notices."""
    allowed = set(territory.communes_of(st.session_state[K_EPCI])["insee"])
    st.session_state[K_COMMUNES] = [c for c in st.session_state[K_COMMUNES] if c in allowed]
    st.session_state[K_NOTICES] = []


def sidebar(territory: Territory) -> Selection:
    """The shared sidebar: EPCI and commune filters, basemap; mirrors the selection in the URL."""
    if K_INIT not in st.session_state:
        _init_from_url(territory)
    names = territory.epci_names
    with st.sidebar:
        st.markdown("#### Territoire")
        st.multiselect(
            "Intercommunalités (EPCI)",
            options=list(names),
            key=K_EPCI,
            format_func=lambda c: f"{c} — {names[c]}",
            placeholder="Tout le PMA",
            on_change=_on_epci_change,
            args=(territory,),
            help="Laisser vide pour tout le Pôle Métropolitain de l'Artois.",
        )
        communes = territory.communes_of(st.session_state[K_EPCI])
        labels = dict(zip(communes["insee"], communes["nom"], strict=True))
        st.multiselect(
            "Communes",
            options=list(labels),
            key=K_COMMUNES,
            format_func=lambda i: f"{labels[i]} ({i})",
            placeholder="Toutes les communes",
            help="Limitée aux communes des intercommunalités choisies.",
        )
        for notice in st.session_state.get(K_NOTICES, []):
            st.warning(f"Lien : {md_escape(notice)}", icon="⚠️")
        choices = basemap_choices(get_settings())
        st.selectbox(
            "Fond de carte", options=list(choices), key=K_BASEMAP, format_func=choices.__getitem__
        )
        settings = get_settings()
        if settings.offline and missing_assets(settings.static_dir):
            st.error(
                "Mode hors ligne : Leaflet est absent de static/vendor. "
                "Lancez `pma-atlas assets fetch` sur une machine reliée au registre npm."
            )
    selection = Selection(tuple(st.session_state[K_EPCI]), tuple(st.session_state[K_COMMUNES]))
    _write_url(selection)
    return selection


def _write_url(selection: Selection) -> None:
    params = selection_to_params(selection)
    for key in (URL_EPCI, URL_COMMUNE):
        if key in params:
            if st.query_params.get_all(key) != params[key]:
                st.query_params[key] = params[key]
        elif key in st.query_params:
            del st.query_params[key]


def current_selection() -> Selection:
    """The selection made in the sidebar (app.py draws the sidebar before any page)."""
    return Selection(
        tuple(st.session_state.get(K_EPCI, ())), tuple(st.session_state.get(K_COMMUNES, ()))
    )


def current_basemap() -> str:
    """The basemap id chosen in the sidebar."""
    return st.session_state.get(K_BASEMAP, "plan-ign")


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
