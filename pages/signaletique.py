"""Signalétique: placeholder page, clearly labelled as coming soon."""

import streamlit as st

from layers.formatting import md_escape
from layers.territory import describe_selection
from pages import _shared

_shared.ensure_app_shell()

territory = _shared.get_territory()
selection = _shared.current_selection()

st.title("Signalétique")
st.info(
    "**Page à venir.** Cette page n'affiche encore aucune donnée.", icon=":material/construction:"
)
st.markdown(
    "Elle présentera l'emplacement des panneaux de la Chaîne des Parcs et leur avancement"
    " (conçu, fabriqué, posé), les coûts et le cofinancement régional, pour le suivi par "
    "les élus."
)
st.caption(
    f"Territoire choisi (conservé d'une page à l'autre) : "
    f"{md_escape(describe_selection(territory, selection))}"
)
