"""Accueil: the territory at a glance — map of the communes, key figures, table."""

import streamlit as st

from layers.export import layer_metadata, to_csv_bytes, to_geojson_bytes
from layers.formatting import md_escape
from layers.mapping import territory_map
from layers.territory import (
    commune_totals,
    communes_table,
    describe_selection,
    headline_figures,
    selected_communes,
)
from pages.ui import loaders, state, widgets
from pages.ui.shared import shared


def render() -> None:
    """Draw the page (registered by app.py with st.Page; never run as a script)."""
    territory = loaders.get_territory()
    selection = state.current_selection()
    communes = shared(
        "donnees", ("communes", selection), lambda: selected_communes(territory, selection)
    )
    info = territory.catalog["communes"]

    st.title("Atlas du Pôle Métropolitain de l'Artois")
    st.markdown(
        "Choisissez une intercommunalité ou une commune dans « Menu et filtres » : le choix "
        "suit d'une page à l'autre et reste dans l'adresse, qu'on peut partager."
    )
    st.caption(f"Territoire affiché : {md_escape(describe_selection(territory, selection))}")

    totals = shared("donnees", ("chiffres", selection), lambda: commune_totals(communes))
    widgets.figures(headline_figures(totals))

    basemap = state.current_basemap()
    widgets.show_map(
        ("accueil", selection, basemap),
        lambda: territory_map(communes, territory, loaders.get_settings(), basemap),
        key="carte_accueil",
    )
    st.caption(
        "Le territoire du PMA : Lens-Liévin (CALL), Hénin-Carvin (CAHC) et Béthune-Bruay, "
        "Artois-Lys Romane (CABBALR). "
        f"Communes colorées par intercommunalité. {widgets.QUALITY_BADGES[info.quality]} — "
        f"{md_escape(info.attribution)}. Superficies calculées en Lambert-93 sur des contours "
        "simplifiés (écart de l'ordre du pour cent avec les superficies officielles)."
    )

    st.subheader("Communes de la sélection")
    table = shared("donnees", ("tableau", selection), lambda: communes_table(communes))
    widgets.table(table)
    stamp = widgets.file_stamp()
    left, right = st.columns(2)
    with left:
        widgets.download_link(
            "Télécharger le tableau (CSV)",
            ("communes.csv", selection),
            f"atlas-pma-communes-{stamp}.csv",
            "text/csv",
            lambda: to_csv_bytes(table),
        )
    with right:
        widgets.download_link(
            "Télécharger les contours (GeoJSON)",
            ("communes.geojson", selection),
            f"atlas-pma-communes-{stamp}.geojson",
            "application/geo+json",
            lambda: to_geojson_bytes(
                communes[["insee", "nom", "epci_code", "epci_nom", "population", "geometry"]],
                layer_metadata(info),
            ),
        )
    widgets.sources([territory.catalog[k] for k in ("communes", "epci", "mairies")])


if __name__ == "__main__":  # run alone by Streamlit's legacy mode: see app.py
    from app import main

    main()
