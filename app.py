"""Atlas PMA — entry point: page config, navigation, the shared sidebar. Nothing else.

Each page's url_path is its file name: see ``_shared.ensure_app_shell`` for why.
"""

import streamlit as st

from pages import _shared

st.set_page_config(
    page_title="Atlas PMA", page_icon="🗺️", layout="wide", initial_sidebar_state="auto"
)

navigation = st.navigation(
    {
        "Atlas PMA": [
            st.Page("pages/accueil.py", title="Accueil", icon=":material/map:", default=True),
        ],
        "Thématiques": [
            st.Page(
                "pages/parcs.py", title="Chaîne des Parcs", icon=":material/park:", url_path="parcs"
            ),
            st.Page(
                "pages/signaletique.py",
                title="Signalétique",
                icon=":material/signpost:",
                url_path="signaletique",
            ),
            st.Page(
                "pages/friches.py", title="Friches", icon=":material/factory:", url_path="friches"
            ),
            st.Page(
                "pages/cadastre_solaire.py",
                title="Cadastre solaire",
                icon=":material/solar_power:",
                url_path="cadastre_solaire",
            ),
        ],
    }
)
_shared.sidebar(_shared.get_territory())
navigation.run()
