"""Chaîne des Parcs: placeholder page, clearly labelled as coming soon."""

import streamlit as st

from layers.formatting import md_escape
from layers.territory import describe_selection
from pages import _shared

territory = _shared.get_territory()
selection = _shared.current_selection()

st.title("Chaîne des Parcs")
st.info(
    "**Page à venir.** Cette page n'affiche encore aucune donnée.", icon=":material/construction:"
)
st.markdown(
    "Elle présentera les périmètres des parcs de la Chaîne des Parcs (espaces néo-"
    "naturels, terrils, bases de loisirs, berges et canaux), les liaisons entre parcs "
    "(cavaliers, voies vertes), les études de cas comme Lys-Romane, et une fiche par "
    "parc."
)
st.caption(
    f"Territoire choisi (conservé d'une page à l'autre) : "
    f"{md_escape(describe_selection(territory, selection))}"
)
