"""Atlas PMA — entry point: page config, navigation, the shared sidebar. Nothing else.

Every page is a module of ``pages/`` exposing ``render()``, registered here with
``st.Page(render, url_path=…)``: no page file is a script. Streamlit still sees a
``pages/`` folder and, on a fresh server whose very first request is a deep link
(``/parcs?…``), runs that file in its legacy multipage mode before this script has run;
the file's ``__main__`` guard then calls :func:`main`, whose ``st.navigation`` call ends
the legacy mode — public API only (covered by a browser test on a fresh server).
"""

import streamlit as st

from layers.urls import PagePath
from pages import accueil, cadastre_solaire, friches, parcs, signaletique
from pages.ui import loaders, shell, state, widgets

PAGES = {
    "Atlas PMA": [
        st.Page(
            accueil.render,
            title="Accueil",
            icon=":material/map:",
            url_path=PagePath.HOME,
            default=True,
        ),
    ],
    "Thématiques": [
        st.Page(
            parcs.render, title="Chaîne des Parcs", icon=":material/park:", url_path=PagePath.PARKS
        ),
        st.Page(
            signaletique.render,
            title="Signalétique",
            icon=":material/signpost:",
            url_path=PagePath.SIGNAGE,
        ),
        st.Page(
            friches.render,
            title="Friches",
            icon=":material/factory:",
            url_path=PagePath.BROWNFIELDS,
        ),
        st.Page(
            cadastre_solaire.render,
            title="Cadastre solaire",
            icon=":material/solar_power:",
            url_path=PagePath.SOLAR,
        ),
    ],
}


def main() -> None:
    """Configure the page, draw the shared sidebar, run the page the URL asks for."""
    st.set_page_config(
        page_title="Atlas PMA", page_icon="🗺️", layout="wide", initial_sidebar_state="auto"
    )
    # Streamlit's own menu renders a <ul> whose children are <div>s (axe: list, listitem,
    # serious; RGAA 9.3), in the sidebar and, on a phone, even with position="top": it is
    # hidden and widgets.page_links draws plain links instead.
    navigation = st.navigation(PAGES, position="hidden")
    shell.french_shell(loaders.get_settings().offline)
    widgets.page_links(PAGES)
    state.sidebar(loaders.get_territory())
    navigation.run()


if __name__ == "__main__":
    main()
