"""State shared across pages: the selection (EPCI, communes) and what lives in the URL.

The sidebar's choice follows the user from page to page and is mirrored in the URL
(``?epci=CALL&commune=62498``), so a link reproduces the view; page widgets that should
survive a page change are remembered here too.
"""

from __future__ import annotations

import streamlit as st

from layers.assets import missing_assets
from layers.formatting import group_notices, md_escape
from layers.mapping import URL_BASEMAP, basemap_choices, default_basemap, parse_basemap
from layers.territory import (
    URL_COMMUNE,
    URL_EPCI,
    Selection,
    Territory,
    parse_selection,
    selection_to_params,
)
from pages.ui.loaders import get_settings

K_EPCI, K_COMMUNES, K_BASEMAP = "filtre_epci", "filtre_communes", "fond_de_carte"
K_INIT, K_NOTICES = "_selection_lue_url", "_avis_url"


def _init_from_url(territory: Territory) -> None:
    """Read the selection from the URL once per session (links reproduce a view)."""
    params = {k: st.query_params.get_all(k) for k in (URL_EPCI, URL_COMMUNE)}
    selection, notices = parse_selection(params, territory)
    basemap, basemap_notices = parse_basemap(st.query_params.get_all(URL_BASEMAP), get_settings())
    st.session_state[K_EPCI] = list(selection.epci)
    st.session_state[K_COMMUNES] = list(selection.communes)
    st.session_state[K_BASEMAP] = basemap
    st.session_state[K_NOTICES] = notices + basemap_notices
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
        st.markdown("**Territoire**")
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
        for notice in group_notices(st.session_state.get(K_NOTICES, [])):
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
    _write_url(selection, current_basemap())
    return selection


def _write_url(selection: Selection, basemap: str) -> None:
    params = selection_to_params(selection)
    if basemap != default_basemap(get_settings()):  # a shared view keeps its basemap
        params[URL_BASEMAP] = [basemap]
    for key in (URL_EPCI, URL_COMMUNE, URL_BASEMAP):
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
    """The basemap id chosen in the sidebar (the default before the sidebar is drawn)."""
    return st.session_state.get(K_BASEMAP) or default_basemap(get_settings())


def page_state_from_url(page: str, spec: dict[str, tuple[str, list[str] | None]]) -> list[str]:
    """Once per session and page, seed widget state from the URL; returns French notices.

    ``spec`` maps a widget key to (URL parameter, allowed values or None for free text).
    Multi-valued widgets get lists; a single value is used as such for ``selectbox`` keys
    ending in ``_un``. Values outside the allowed list are dropped with a notice.
    """
    flag = f"_url_lu_{page}"
    if flag in st.session_state:
        return []
    st.session_state[flag] = True
    notices = []
    for key, (param, allowed) in spec.items():
        values = st.query_params.get_all(param)
        if not values:
            continue
        if allowed is not None:
            bad = [v for v in values if v not in allowed]
            notices += [
                f"Valeur ignorée pour « {param} » : {v[:40]} (valeurs possibles : "
                f"{', '.join(allowed[:8])}{'…' if len(allowed) > 8 else ''})"
                for v in bad
            ]
            values = [v for v in values if v in allowed]
        if not values:
            continue
        st.session_state[key] = values[0] if key.endswith("_un") else values
        st.session_state[f"_mem_{key}"] = st.session_state[key]
    return notices


def restore_widgets(keys: list[str]) -> None:
    """Give back to widgets the values they had when the user left the page."""
    for key in keys:
        if key not in st.session_state and f"_mem_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"_mem_{key}"]


def remember_widgets(keys: list[str]) -> None:
    """Keep widget values beyond the page's life (Streamlit drops them on page change)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[f"_mem_{key}"] = st.session_state[key]


def write_page_url(params: dict[str, object]) -> None:
    """Mirror page choices in the URL (None or empty removes the parameter)."""
    for name, value in params.items():
        if value in (None, "", [], ()):
            if name in st.query_params:
                del st.query_params[name]
            continue
        wanted = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        if st.query_params.get_all(name) != wanted:
            st.query_params[name] = wanted if len(wanted) > 1 else wanted[0]


def show_notices(notices: list[str]) -> None:
    """URL values that were ignored, as warnings (escaped)."""
    for notice in group_notices(notices):
        st.warning(f"Lien : {md_escape(notice)}", icon="⚠️")
