"""Friches: placeholder page, clearly labelled as coming soon."""

import streamlit as st

from layers.formatting import md_escape
from layers.territory import describe_selection
from pages import _shared

territory = _shared.get_territory()
selection = _shared.current_selection()

st.title("Friches")
st.info(
    "**Page à venir.** Cette page n'affiche encore aucune donnée.", icon=":material/construction:"
)
st.markdown(
    "Elle présentera les 307 sites de Cartofriches (Cerema) du PMA, leur surface, leur "
    "statut et une première estimation du potentiel photovoltaïque au sol."
)
st.caption(
    f"Territoire choisi (conservé d'une page à l'autre) : "
    f"{md_escape(describe_selection(territory, selection))}"
)
