"""Friches: the Cartofriches sites of the PMA, filters, a ground-PV first screening."""

import math

import streamlit as st

from layers.brownfields import (
    BrownfieldFilter,
    apply_filter,
    brownfields_map,
    figures_by_epci,
    headline_figures,
    option_counts,
    site_table,
)
from layers.formatting import md_escape
from layers.territory import describe_selection, selected_communes, within_selection
from pages.ui import loaders, state, widgets
from pages.ui.shared import shared

K_STATUTS, K_TYPES, K_VERIF = "friches_statuts", "friches_types", "friches_verif_un"
K_SURF, K_ACT = "friches_surface", "friches_activite_un"
KEYS = [K_STATUTS, K_TYPES, K_VERIF, K_SURF, K_ACT]
VERIFIED = {"tous": None, "vérifiés": True, "non vérifiés": False}  # label (and URL) → filter
VERIF = list(VERIFIED)
INTRO = (
    "Les sites de **Cartofriches** (Cerema, mise à jour du 10 mars 2024) situés dans le PMA. "
    "Les cercles **vides** sont des candidats issus des inventaires BASIAS/BASOL **non "
    "vérifiés** par le Cerema : ce ne sont pas forcément des friches. Les sites sont des "
    "points (les contours n'ont pas pu être obtenus)."
)
PV_NOTE = (
    "**Photovoltaïque au sol : premier repérage, pas une étude.** Puissance installable = "
    "surface × part mobilisable × densité (MWc/ha) ; production = puissance × productible "
    "(kWh/kWc/an). Les fourchettes combinent les hypothèses basses et hautes ci-dessous. "
    "Pollution, zonage, propriété, raccordement et biodiversité décident de la faisabilité."
)


def render() -> None:
    """Draw the page (registered by app.py with st.Page; never run as a script)."""
    territory = loaders.get_territory()
    friches_all, hyp = loaders.get_brownfields()
    selection = state.current_selection()
    info = territory.catalog["friches"]
    in_selection = shared(
        "donnees",
        ("friches", selection),
        lambda: within_selection(friches_all, territory, selection),
    )
    notices = state.page_state_from_url(
        "friches",
        {
            K_STATUTS: ("statut", list(option_counts(friches_all, "site_statut"))),
            K_TYPES: ("type", list(option_counts(friches_all, "site_type"))),
            K_VERIF: ("verification", VERIF),
            K_ACT: ("activite", None),
        },
    )
    state.restore_widgets(KEYS)
    st.title("Friches")
    st.caption(f"Territoire : {md_escape(describe_selection(territory, selection))}")
    state.show_notices(notices)
    flt = filters(in_selection, math.ceil(max(friches_all["surface_ha"].max(), 1.0)))
    friches = shared(
        "donnees", ("friches", selection, flt), lambda: apply_filter(in_selection, flt)
    )
    widgets.figures(headline_figures(friches))
    basemap = state.current_basemap()
    with st.spinner("Construction de la carte…"):
        widgets.show_map(
            ("friches", selection, flt, basemap),
            lambda: brownfields_map(
                friches,
                territory,
                loaders.get_settings(),
                basemap,
                area=selected_communes(territory, selection),
            ),
            key="carte_friches",
        )
    st.caption(
        "Les sites proches sont regroupés quand la carte est dézoomée (chiffre = nombre de "
        "sites) ; zoomez pour voir chaque site."
    )
    st.markdown(INTRO)
    st.info(PV_NOTE, icon=":material/solar_power:")
    st.subheader("Par intercommunalité")
    widgets.table(
        shared(
            "donnees", ("friches-epci", selection, flt), lambda: figures_by_epci(friches, territory)
        )
    )
    widgets.assumptions_expander(hyp, "pv_sol")
    st.subheader(f"Sites ({len(friches)})")
    table = shared("donnees", ("friches-table", selection, flt), lambda: site_table(friches))
    widgets.table(table)
    widgets.downloads(
        "atlas-pma-friches", (selection, flt), table, friches.drop(columns=["petit_site"]),
        "friches", info,
    )  # fmt: skip
    widgets.sources([info])
    state.remember_widgets(KEYS)
    state.write_page_url(page_url())


def filters(in_selection, max_ha: int) -> BrownfieldFilter:
    """Status, type, verification (with their counts), surface, past activity."""
    statut_counts = option_counts(in_selection, "site_statut")
    type_counts = option_counts(in_selection, "site_type")
    surface = st.session_state.get(K_SURF)
    if not surface or not all(isinstance(v, int) for v in surface):
        st.session_state[K_SURF] = (0, max_ha)
    st.session_state.setdefault(K_VERIF, "tous")
    n_verified = int(in_selection["verifie"].sum())
    verif_counts = {
        "tous": len(in_selection),
        "vérifiés": n_verified,
        "non vérifiés": len(in_selection) - n_verified,
    }
    full_surface = tuple(st.session_state[K_SURF]) == (0, max_ha)
    active = sum(
        [
            bool(st.session_state.get(K_STATUTS)),
            bool(st.session_state.get(K_TYPES)),
            st.session_state[K_VERIF] != "tous",
            not full_surface,
            bool(str(st.session_state.get(K_ACT) or "").strip()),
        ]
    )
    with widgets.filters_box("Filtres", active, key="friches_filtres_boite"):
        c1, c2, c3 = st.columns(3)
        c1.multiselect(
            f"Statut ({len(statut_counts)})", list(statut_counts), key=K_STATUTS,
            format_func=lambda v: f"{v} ({statut_counts.get(v, 0)})",
            placeholder="Tous les statuts",
        )  # fmt: skip
        c2.multiselect(
            f"Type ({len(type_counts)})", list(type_counts), key=K_TYPES,
            format_func=lambda v: f"{v} ({type_counts.get(v, 0)})", placeholder="Tous les types",
        )  # fmt: skip
        c3.radio(
            "Vérification par le Cerema", VERIF, key=K_VERIF, horizontal=True,
            format_func=lambda v: f"{v} ({verif_counts[v]})",
        )  # fmt: skip
        c4, c5 = st.columns(2)
        # whole hectares: Streamlit formats a slider's floats with a decimal point
        # (« 0.00 – 110.00 »), whole numbers read the same in French
        c4.slider("Surface (ha)", 0, max_ha, key=K_SURF, step=1, format="%d ha")
        c5.text_input(
            "Activité passée ou nom (recherche)",
            key=K_ACT,
            placeholder="ex. : cokerie, garage, textile…",
        )
    return BrownfieldFilter(
        statuses=tuple(st.session_state[K_STATUTS]),
        types=tuple(st.session_state[K_TYPES]),
        surface_ha=(float(st.session_state[K_SURF][0]), float(st.session_state[K_SURF][1])),
        verified=VERIFIED[st.session_state[K_VERIF]],
        activity=st.session_state[K_ACT],
    )


def page_url() -> dict:
    """The page's state in its URL (what a shared link reproduces)."""
    verif = st.session_state[K_VERIF]
    return {
        "statut": st.session_state[K_STATUTS],
        "type": st.session_state[K_TYPES],
        "verification": None if verif == "tous" else verif,
        "activite": st.session_state[K_ACT].strip() or None,
    }


if __name__ == "__main__":  # run alone by Streamlit's legacy mode: see app.py
    from app import main

    main()
