"""Chaîne des Parcs: parks, links, context layers, a park card — for planners."""

from dataclasses import dataclass

import geopandas as gpd
import streamlit as st

from layers.formatting import fmt_float, fmt_int, md_escape
from layers.parks import (
    CONTEXT_LAYERS,
    TYPE_COLORS,
    ParkFilter,
    Planning,
    filter_parks,
    headline_figures,
    length_km_in,
    lengths_by_epci,
    park_at,
    park_card,
    park_totals,
    parks_map,
    parks_table,
    unique_values,
)
from layers.territory import (
    METRIC_CRS,
    Selection,
    Territory,
    commune_totals,
    describe_selection,
    selected_communes,
    within_selection,
)
from pages.ui import loaders, state, widgets
from pages.ui.shared import shared

K_TYPES, K_STATUTS, K_GEOM = "parcs_types", "parcs_statuts", "parcs_geometries"
K_CONTEXT, K_PARK, K_DIST = "parcs_couches", "parcs_parc_un", "parcs_distance_un"
KEYS = [K_TYPES, K_STATUTS, K_GEOM, K_CONTEXT, K_PARK, K_DIST]
GEOMETRIES = ["réelle", "indicative"]
DISTANCES = [str(d) for d in (250, 500, 1000, 2000, 3000, 5000)]
INTRO = (
    "Le schéma directeur de la Chaîne des Parcs (Michel Desvigne, adopté en 2015) relie les "
    "grands espaces de nature du PMA : environ 4 200 ha et 420 km de voies douces selon le "
    "PMA. Les contours **pleins** viennent des couches ouvertes de la Mission Bassin Minier ; "
    "les contours **en pointillés** sont indicatifs (aucun jeu de données ouvert des "
    "périmètres de la Chaîne des Parcs n'existe)."
)


@dataclass(frozen=True)
class Page:
    """What the parts of the page read (loaded once per run)."""

    territory: Territory
    planning: Planning
    selection: Selection
    parks: gpd.GeoDataFrame  # the selection's parks, filtered
    flt: ParkFilter


def render() -> None:
    """Draw the page (registered by app.py with st.Page; never run as a script)."""
    territory, planning = loaders.get_territory(), loaders.get_planning()
    selection = state.current_selection()
    parks_all = planning.parks
    types = unique_values(parks_all, "type", list(TYPE_COLORS))
    statuts = unique_values(parks_all, "statut", ["ouvert", "en travaux", "en étude"])
    notices = state.page_state_from_url(
        "parcs",
        {
            K_TYPES: ("type", types),
            K_STATUTS: ("statut", statuts),
            K_GEOM: ("geometrie", GEOMETRIES),
            K_CONTEXT: ("couche", list(CONTEXT_LAYERS)),
            K_PARK: ("parc", list(parks_all["parc_id"])),
            K_DIST: ("distance", DISTANCES),
        },
    )
    state.restore_widgets(KEYS)
    st.title("Chaîne des Parcs")
    st.caption(f"Territoire : {md_escape(describe_selection(territory, selection))}")
    state.show_notices(notices)
    in_selection = shared(
        "donnees", ("parcs", selection), lambda: within_selection(parks_all, territory, selection)
    )
    filters(in_selection, types, statuts)
    flt = ParkFilter(
        tuple(st.session_state[K_TYPES]),
        tuple(st.session_state[K_STATUTS]),
        tuple(st.session_state[K_GEOM]),
    )
    parks = shared("donnees", ("parcs", selection, flt), lambda: filter_parks(in_selection, flt))
    page = Page(territory, planning, selection, parks, flt)
    headline(page)
    park_view(page)
    st.markdown(INTRO)
    st.subheader("Liaisons par intercommunalité")
    widgets.table(
        shared("donnees", ("parcs-liaisons",), lambda: lengths_by_epci(planning, territory))
    )
    st.caption(
        "Cavaliers : longueur publiée par la Mission Bassin Minier, répartie au prorata de "
        "la surface dans chaque EPCI. Liaisons indicatives : lignes à vol d'oiseau."
    )
    st.subheader(f"Parcs de la sélection ({len(parks)})")
    table = shared("donnees", ("parcs-table", selection, flt), lambda: parks_table(parks))
    widgets.table(table)
    widgets.downloads(
        "atlas-pma-parcs", (selection, flt), table, parks, "parcs", planning.catalog["parcs"]
    )
    widgets.sources(
        [
            planning.catalog[k]
            for k in ("parcs", "cavaliers", "liaisons_indicatives", *CONTEXT_LAYERS)
        ]
    )
    state.remember_widgets(KEYS)
    state.write_page_url(page_url())


def filters(in_selection: gpd.GeoDataFrame, types: list[str], statuts: list[str]) -> None:
    """Type, status and geometry filters (with their counts), context layers, distance."""

    def _count_label(column: str):
        counts = in_selection[column].value_counts()
        return lambda v: f"{v} ({int(counts.get(v, 0))})"

    active = sum(bool(st.session_state.get(k)) for k in (K_TYPES, K_STATUTS, K_GEOM, K_CONTEXT))
    with widgets.filters_box("Filtres et couches", active, key="parcs_filtres_boite"):
        c1, c2, c3 = st.columns(3)
        c1.multiselect(
            f"Type ({len(types)})", types, key=K_TYPES, placeholder="Tous les types",
            format_func=_count_label("type"),
        )  # fmt: skip
        c2.multiselect(
            f"Statut ({len(statuts)})", statuts, key=K_STATUTS, placeholder="Tous les statuts",
            format_func=_count_label("statut"),
        )  # fmt: skip
        c3.multiselect(
            "Géométrie (2)", GEOMETRIES, key=K_GEOM, placeholder="Réelle et indicative",
            format_func=_count_label("geometrie"),
        )  # fmt: skip
        c4, c5 = st.columns([2, 1])
        c4.multiselect(
            "Couches de contexte", list(CONTEXT_LAYERS), key=K_CONTEXT,
            format_func=CONTEXT_LAYERS.__getitem__, placeholder="Aucune",
        )  # fmt: skip
        if st.session_state.get(K_DIST) not in DISTANCES:
            st.session_state[K_DIST] = "1000"
        c5.select_slider(
            "Friches proches : distance", options=DISTANCES, key=K_DIST,
            format_func=lambda d: f"{fmt_int(int(d))} m",  # « 1 000 m », not « 1000 »
        )  # fmt: skip


def headline(page: Page) -> None:
    """The selection's five headline figures."""

    def _figures():
        chosen = selected_communes(page.territory, page.selection)
        km = length_km_in(
            chosen.to_crs(METRIC_CRS).union_all(), page.planning.cavaliers, page.planning.links
        )
        return park_totals(page.parks, commune_totals(chosen).population, km)

    figures = shared("donnees", ("parcs-chiffres", page.selection, page.flt), _figures)
    widgets.figures(headline_figures(figures))


def page_url() -> dict:
    """The page's state in its URL (what a shared link reproduces)."""
    dist = st.session_state[K_DIST]
    return {
        "type": st.session_state[K_TYPES],
        "statut": st.session_state[K_STATUTS],
        "geometrie": st.session_state[K_GEOM],
        "couche": st.session_state[K_CONTEXT],
        "parc": st.session_state.get(K_PARK) or None,
        "distance": None if dist == "1000" else dist,
    }


@st.fragment
def park_view(page: Page) -> None:
    """Park choice, map and card: choosing a park (list or click) reruns only them."""
    territory, selection, planning = page.territory, page.selection, page.planning
    options = [""] + list(page.parks.sort_values("nom")["parc_id"])
    names = dict(zip(planning.parks["parc_id"], planning.parks["nom"], strict=True))
    if st.session_state.get(K_PARK) not in options:
        st.session_state[K_PARK] = ""
    st.selectbox(
        "Parc (ou cliquer un parc sur la carte)",
        options,
        key=K_PARK,
        format_func=lambda i: names.get(i, "— aucun parc choisi —"),
    )
    chosen = st.session_state[K_PARK] or None
    layers = tuple(st.session_state[K_CONTEXT])
    basemap = state.current_basemap()

    def _map():
        context = {k: within_selection(planning.context[k], territory, selection) for k in layers}
        return parks_map(
            planning,
            page.parks,
            within_selection(planning.cavaliers, territory, selection),
            within_selection(planning.links, territory, selection),
            context,
            loaders.get_settings(),
            basemap,
            chosen,
            area=selected_communes(territory, selection),
        )

    def _clicked(lat: float, lng: float) -> None:
        hit = park_at(page.parks, lat, lng)
        if hit:
            st.session_state[K_PARK] = hit

    widgets.clickable_map(
        ("parcs", selection, page.flt, layers, basemap, chosen),
        _map,
        key="carte_parcs",
        on_click=_clicked,
    )
    if chosen:
        park_sheet(park_card(planning, chosen, float(st.session_state[K_DIST])))
    state.remember_widgets(KEYS)
    state.write_page_url(page_url())


def park_sheet(card) -> None:
    """A park's card: figures, status, owner, source, nearby brownfields, links."""
    p = card.park
    with st.container(border=True):
        st.subheader(f"Fiche : {p['nom']}")
        if p["geometrie"] == "indicative":
            st.warning(f"Géométrie indicative. {md_escape(p['geometrie_note'])}")
        a, b, c = st.columns(3)
        a.metric("Surface (ha)", fmt_float(p["surface_ha"], 1))
        b.metric("Statut", p["statut"])
        c.metric("EPCI", p["epci"] or "—")
        detail = md_escape(p["statut_detail"] or "non renseigné")
        owner = md_escape(p["maitre_ouvrage"] or "non renseigné")
        st.markdown(
            f"**Type** : {md_escape(p['type'])} · **Communes** : {md_escape(p['communes'])}  \n"
            f"**Détail du statut** : {detail} · **Maître d'ouvrage** : {owner}  \n"
            f"**Source** : {md_escape(p['source'])} ({md_escape(p['date_source'])})"
        )
        near = fmt_int(len(card.brownfields))
        st.markdown(f"**Friches à moins de {fmt_int(card.distance_m)} m** : {near}")
        if len(card.brownfields):
            widgets.table(card.brownfields)
        st.markdown(f"**Liaisons qui touchent le parc** : {len(card.links)}")
        if len(card.links):
            widgets.table(card.links)


if __name__ == "__main__":  # run alone by Streamlit's legacy mode: see app.py
    from app import main

    main()
