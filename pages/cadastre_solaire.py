"""Cadastre solaire: placeholder page, clearly labelled as coming soon."""

import streamlit as st

from layers.formatting import md_escape
from layers.territory import describe_selection
from pages import _shared

_shared.ensure_app_shell()

territory = _shared.get_territory()
selection = _shared.current_selection()

st.title("Cadastre solaire")
st.info(
    "**Page à venir.** Cette page n'affiche encore aucune donnée.", icon=":material/construction:"
)
st.markdown(
    "Elle présentera le potentiel solaire de chaque toiture calculé à partir d'un modèle "
    "numérique de surface, avec les ombres portées, et une estimation honnête (kWc, "
    "kWh/an, économies) sous forme de fourchette."
)
st.caption(
    f"Territoire choisi (conservé d'une page à l'autre) : "
    f"{md_escape(describe_selection(territory, selection))}"
)
