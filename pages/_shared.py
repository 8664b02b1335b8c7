"""Streamlit helpers shared by app.py and the pages: cached loading, the sidebar, maps.

Only this module, ``app.py`` and the pages import Streamlit; everything they show comes
from ``layers/``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

from layers.assets import missing_assets
from layers.catalog import LayerInfo
from layers.errors import AtlasError
from layers.formatting import group_notices, md_escape, public_message
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

LOG = logging.getLogger("atlas.pages")
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
        LOG.error("territoire : %s", err)
        st.error(
            f"Impossible de charger les données du territoire. {md_escape(public_message(err))}"
        )
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


def clickable_map(fmap: folium.Map, key: str, on_click, height: int = 560) -> None:  # noqa: ANN001
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


def downloads(stem: str, table, frame, layer_name: str, info: LayerInfo) -> None:  # noqa: ANN001
    """CSV, GeoJSON and GeoPackage download buttons for a filtered result.

    Built eagerly on purpose: Streamlit's deferred (callable) data is revoked by the next
    rerun, so a click during a rerun downloads nothing (seen in the cadastre browser test).
    """
    from layers.export import layer_metadata, to_csv_bytes, to_geojson_bytes, to_gpkg_bytes

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


@st.cache_resource(show_spinner="Chargement des parcs et des liaisons…")
def _planning(geodata_dir: str):  # noqa: ANN202 - cached resource
    from layers.parks import load_planning

    return load_planning(Path(geodata_dir), _territory(geodata_dir))


@st.cache_resource(show_spinner="Chargement des friches…")
def _brownfields(geodata_dir: str):  # noqa: ANN202 - cached resource
    from layers.assumptions import load_assumptions
    from layers.brownfields import prepare
    from layers.catalog import read_layer

    territory = _territory(geodata_dir)
    hyp = load_assumptions(Path(geodata_dir))
    return prepare(read_layer(territory.catalog["friches"], Path(geodata_dir)), hyp), hyp


def _guarded(loader, what: str):  # noqa: ANN001, ANN202
    try:
        return loader(str(get_settings().geodata_dir))
    except AtlasError as err:
        LOG.error("%s : %s", what, err)
        st.error(f"Impossible de charger {what}. {md_escape(public_message(err))}")
        st.stop()
        raise


def get_planning():  # noqa: ANN201
    """Parks, links and context layers (cached), or a French error and a stopped page."""
    return _guarded(_planning, "les parcs")


def get_brownfields():  # noqa: ANN201
    """(prepared brownfields, assumptions) (cached), or a French error and a stopped page."""
    return _guarded(_brownfields, "les friches")


def assumptions_expander(hyp, group: str) -> None:  # noqa: ANN001
    """Show every assumption of a group with its range, unit, source and date."""
    with st.expander(f"Hypothèses de calcul (version {md_escape(hyp.version)})"):
        for item in hyp.groups[group].values():
            link = f" — [source]({item.url})" if item.url.startswith("https://") else ""
            st.markdown(
                f"**{md_escape(item.titre)}** : {item.bas:g} / {item.central:g} / "
                f"{item.haut:g} {md_escape(item.unite)} (bas / central / haut)  \n"
                f"{md_escape(item.source)} ({md_escape(item.date)}){link}"
            )
        st.caption("Modifiables dans geodata/hypotheses.toml (un seul fichier, versionné).")


def ensure_app_shell() -> None:
    """Rerun through app.py when Streamlit ran a page file on its own.

    Because the design keeps pages in ``pages/``, Streamlit's legacy multipage mode runs
    ``pages/<name>.py`` directly for the very first request of a fresh server when that
    request is a deep link (``/parcs?…``). That run has no shared sidebar; the legacy mode
    is only switched off by a public ``st.navigation`` call, which that run never makes.
    We switch it off ourselves and rerun: page hashes derive from ``url_path`` only, and
    app.py gives every page the url_path the legacy mode infers (its file name), so the
    rerun lands on the same page, inside app.py. Covered by a browser test on a fresh server.
    """
    if K_INIT not in st.session_state:
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Chargement du cadastre solaire…")
def _cadastre(geodata_dir: str):  # noqa: ANN202 - cached resource
    from layers.solar.cadastre import load_cadastre

    return load_cadastre(Path(geodata_dir) / "demo", _territory(geodata_dir))


def get_cadastre():  # noqa: ANN201
    """The computed roofs (cached) or None when nothing is computed yet."""
    return _guarded(_cadastre, "le cadastre solaire")


@st.cache_resource
def _assumptions(geodata_dir: str):  # noqa: ANN202 - cached resource
    from layers.assumptions import load_assumptions

    return load_assumptions(Path(geodata_dir))


def get_assumptions():  # noqa: ANN201
    """The versioned assumptions (cached)."""
    return _guarded(_assumptions, "les hypothèses de calcul")


@st.cache_resource
def _address_file(path: str):  # noqa: ANN202 - cached resource
    from layers.geocode import read_ban_csv

    return read_ban_csv(Path(path))


def _secrets() -> dict:
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        return {k: st.secrets[k] for k in st.secrets}
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return {}


@st.cache_resource
def _login_guard():  # noqa: ANN202 - one guard per server process, shared by every session
    from layers.auth import LoginGuard

    return LoginGuard()


def editor_session() -> str | None:
    """The logged-in editor's name, with the login/logout controls in the sidebar.

    OIDC through ``st.login`` when an ``[auth]`` section is configured — then only the
    accounts listed in ``editeurs_autorises`` may edit; otherwise editors and their
    password hashes in ``[editeurs]`` of ``secrets.toml`` (``pma-atlas signs
    hash-password NAME``), with a lockout after repeated failures. Readers never see
    edit controls; a malformed configuration disables editing instead of breaking the page.
    """
    from layers.auth import allowed_oidc_editor, editor_accounts

    secrets = _secrets()
    with st.sidebar:
        st.markdown("#### Édition")
        if "auth" in secrets:
            if getattr(st.user, "is_logged_in", False):
                identity = str(st.user.get("email") or "")
                st.caption(f"Connecté : {md_escape(st.user.get('name') or identity)}")
                st.button("Se déconnecter", on_click=st.logout)
                if allowed_oidc_editor(identity, secrets.get("editeurs_autorises")):
                    return identity
                st.warning(
                    "Ce compte n'est pas autorisé à modifier l'inventaire : demandez à "
                    "l'administrateur de l'ajouter à la liste des éditeurs."
                )
                return None
            st.button("Se connecter (éditeurs)", on_click=st.login)
            return None
        editors, problem = editor_accounts(secrets.get("editeurs"))
        if problem:
            LOG.warning("secrets.toml : %s", problem)
        if not editors:
            st.caption(
                "Édition désactivée : aucun éditeur n'est configuré"
                + (" (configuration à corriger, voir le journal du serveur)." if problem else ".")
            )
            return None
        user = st.session_state.get("_editeur")
        if user in editors:
            st.caption(f"Connecté en éditeur : {md_escape(user)}")
            if st.button("Se déconnecter"):
                del st.session_state["_editeur"]
                st.rerun()
            return user
        with st.form("connexion_editeur"):
            name = st.text_input("Identifiant", max_chars=64)
            password = st.text_input("Mot de passe", type="password", max_chars=256)
            if st.form_submit_button("Se connecter"):
                ok, message = _login_guard().attempt(editors, name, password)
                if ok:
                    st.session_state["_editeur"] = name
                    st.rerun()
                st.error(message)
    return None
