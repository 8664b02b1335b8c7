"""Cadastre solaire: a resident finds their roof and gets an honest estimate; officials see
the territory's potential."""

import datetime as dt

import streamlit as st

from layers import charts
from layers.cadastre import (
    ADDRESS_TO_ROOF_M,
    ADVICE,
    CLASS_ORDER,
    PRESENCE,
    address_candidates,
    cadastre_map,
    covered_communes,
    estimate_table,
    get_roof,
    locate,
    map_classes,
    pays_back,
    roof_at,
    roof_estimate,
    roof_headline,
    roof_sheet_pdf,
    roofs_near,
    tariff_caption,
    territory_figures,
    view_bounds,
)
from layers.errors import AtlasError
from layers.formatting import fmt_float, fmt_int, md_escape
from layers.geocode import search
from layers.solar.economics import RESIDENTIAL_MAX_KWC, water_heater
from layers.territory import describe_selection, selected_communes
from pages.ui import loaders, state, widgets
from pages.ui.shared import shared


def render() -> None:
    """Draw the page (registered by app.py with st.Page; never run as a script)."""
    territory = loaders.get_territory()
    selection = state.current_selection()
    settings = loaders.get_settings()
    cad = loaders.get_cadastre()
    hyp = loaders.get_assumptions()
    eco = hyp.groups["economie"]
    K_ROOF, K_QUERY = "cadastre_toit_un", "cadastre_adresse_un"
    K_KWC, K_CONS, K_SHARE = "cadastre_kwc", "cadastre_conso", "cadastre_part"
    K_PRICE, K_GROWTH, K_PERSONS = "cadastre_prix", "cadastre_hausse", "cadastre_personnes"
    notices = state.page_state_from_url("cadastre", {K_ROOF: ("toit", None)})
    state.restore_widgets([K_ROOF, K_QUERY])

    st.title("Cadastre solaire")
    if cad is None:
        state.show_notices(notices)
        st.warning("Aucun toit n'est encore calculé : lancez `pma-atlas data prepare`.")
        st.stop()
    version = cad.version

    def _roof(cleabs: str | None):
        """A roof of the store by its cleabs (one indexed read, shared by all sessions)."""
        if not cleabs:
            return None
        return shared("donnees", ("cadastre-toit", version, cleabs), lambda: get_roof(cad, cleabs))

    asked = st.session_state.get(K_ROOF)
    if asked and _roof(asked) is None:
        notices.append(f"Toit inconnu dans le cadastre : {str(asked)[:40]}")
        st.session_state[K_ROOF] = None
    state.show_notices(notices)
    if cad.synthetic:
        st.error(
            "**Territoire fictif de démonstration.** Les toits, rues et adresses de ce cadastre "
            "sont inventés (modèle de surface synthétique au format LiDAR HD de l'IGN) pour "
            "montrer l'outil : ils ne décrivent aucun bâtiment réel. Le cadastre de l'Artois "
            "sera calculé sur le LiDAR HD de l'IGN.",
            icon=":material/science:",
        )
    mine, territory_tab = st.tabs(["Mon toit", "Potentiel du territoire"])

    with mine:
        st.markdown("Cherchez votre adresse ou cliquez un toit sur la carte.")
        with st.form("recherche_adresse", border=False):
            q_col, b_col = st.columns([4, 1], vertical_alignment="bottom")
            q_col.text_input(
                "Adresse", key=K_QUERY, placeholder="ex. : 3 rue des Lampistes, Loos-en-Gohelle"
            )
            submitted = b_col.form_submit_button("Chercher", use_container_width=True)

        def _locate(address) -> tuple[str, str | None]:
            """Status and roof of an address (spatial index), shared by all sessions."""
            return shared(
                "donnees",
                ("cadastre-adresse", version, address),
                lambda: locate(address, cad, territory),
            )

        def _apply(address) -> None:
            """Show the roof of a search result — once, when it is chosen, never on reruns."""
            status, roof_id = _locate(address)
            if status == "toit" and roof_id:
                st.session_state[K_ROOF] = roof_id

        if submitted:
            addresses = (lambda q: address_candidates(cad, q)) if cad.has_addresses else None
            if settings.address_file:
                try:
                    addresses = loaders.address_file(str(settings.address_file))
                except AtlasError as err:
                    loaders.LOG.error("ATLAS_ADRESSES : %s", err)
                    st.warning(
                        "Le fichier d'adresses local configuré est illisible : recherche sans "
                        "lui (l'administrateur est prévenu dans le journal du serveur)."
                    )
            try:
                with st.spinner("Recherche de l'adresse…"):
                    results, notice = search(
                        st.session_state[K_QUERY], territory, settings.ban_url, addresses
                    )
            except AtlasError as err:
                results, notice = [], None
                st.error(md_escape(err))
            if notice:
                st.info(md_escape(notice))
            if not results and st.session_state.get(K_QUERY, "").strip():
                st.warning("Aucune adresse trouvée. Vérifiez l'orthographe ou cliquez votre toit.")
            st.session_state["_cadastre_resultats"] = results
            st.session_state["cadastre_choix"] = 0
            if results:
                _apply(results[0])
        results = st.session_state.get("_cadastre_resultats", [])
        if results:
            # labels come from the address service: shown as plain text, never as Markdown
            labels = {i: md_escape(f"{r.label} — {r.source}") for i, r in enumerate(results)}
            pick = st.radio(
                "Résultats",
                list(labels),
                format_func=labels.__getitem__,
                key="cadastre_choix",
                on_change=lambda: _apply(results[st.session_state["cadastre_choix"]]),
            )
            status, _ = _locate(results[pick])
            if status == "hors_pma":
                st.warning(
                    "Cette adresse est hors du Pôle Métropolitain de l'Artois : Atlas PMA ne "
                    "couvre que ses 150 communes."
                )
            elif status == "non_couvert":
                st.info(
                    "Secteur pas encore couvert : aucun toit n'a encore été calculé à cette "
                    "adresse. La carte montre en pointillés le secteur déjà calculé."
                )
            elif status == "sans_toit":
                st.info(
                    f"Aucun toit calculé à moins de {ADDRESS_TO_ROOF_M:.0f} m de cette adresse : "
                    "cliquez-le sur la carte."
                )

        def _pick(lat: float, lng: float) -> None:
            hit = roof_at(cad, lat, lng)
            if hit:
                st.session_state[K_ROOF] = hit

        @st.fragment
        def roof_view() -> None:
            """Map and roof card: a click on a roof reruns only this part of the page."""
            chosen = st.session_state.get(K_ROOF) or None
            basemap = state.current_basemap()
            covered = covered_communes(cad, territory, selection)
            if not chosen and not covered:
                st.info(
                    "Secteur pas encore couvert : aucun toit de la sélection n'est encore calculé. "
                    "La carte montre en pointillés le secteur déjà calculé."
                )

            def _map():
                roof = _roof(chosen)
                near = None
                if roof is not None:
                    centre = roof.geometry.representative_point()
                    near = roofs_near(cad, centre.y, centre.x)
                return cadastre_map(
                    cad,
                    settings,
                    map_classes(hyp),
                    basemap,
                    selected=roof,
                    near=near,
                    bounds=view_bounds(cad, territory, selection),
                    area=selected_communes(territory, selection),
                )

            with st.spinner("Carte…"):
                widgets.clickable_map(
                    ("cadastre", version, basemap, chosen, selection),
                    _map,
                    key="carte_cadastre",
                    on_click=_pick,
                    height=480,
                )
            st.caption(
                "Couleurs : irradiation annuelle de chaque point des toits (kWh/m²/an ; le sol "
                "n'est pas calculé), "
                "à partir du zoom 11 ; en pointillés, le secteur calculé. Cliquez un toit pour sa "
                "fiche ; les contours des toits voisins apparaissent en zoomant. "
                f"Climat : {md_escape(cad.climate)}."
            )

            @st.fragment
            def roof_card() -> None:
                """The chosen roof and its simulator: moving a slider reruns only this part."""
                roof = _roof(chosen)
                if roof is None:
                    return
                max_kwc = float(roof["kwc_central"])
                address = roof.get("adresse")
                title = address if isinstance(address, str) and address else f"bâtiment {chosen}"
                st.subheader(f"Votre toit : {md_escape(title)}")
                if cad.synthetic:
                    st.caption("Toit et adresse fictifs (territoire de démonstration).")
                if max_kwc < 0.5:
                    st.warning(
                        "Ce toit n'offre pas de surface utile suffisante pour des panneaux "
                        "(pente, ombre ou taille)."
                    )
                with st.expander("Simuler mon projet", expanded=True):
                    c1, c2 = st.columns(2)
                    st.session_state.setdefault(K_KWC, round(min(max_kwc, 3.0), 1))
                    st.session_state[K_KWC] = min(
                        st.session_state[K_KWC], round(max(max_kwc, 0.1), 1)
                    )
                    c1.slider(
                        "Puissance installée (kWc)",
                        0.1,
                        round(max(max_kwc, 0.1), 1),
                        key=K_KWC,
                        step=0.1,
                        help="Jusqu'au maximum technique du toit.",
                    )
                    c2.number_input(
                        "Consommation du foyer (kWh/an)",
                        500,
                        30000,
                        step=100,
                        key=K_CONS,
                        value=int(eco["consommation_menage"].central),
                    )
                    c3, c4, c5 = st.columns(3)
                    c3.selectbox(
                        "Présence au foyer en journée",
                        list(PRESENCE),
                        index=1,
                        key=K_SHARE,
                        help="Plus le foyer consomme pendant que les panneaux produisent, plus "
                        "la part consommée sur place est grande.",
                    )
                    c4.number_input(
                        "Prix de l'électricité (€/kWh)",
                        0.05,
                        1.0,
                        step=0.01,
                        key=K_PRICE,
                        value=float(eco["prix_electricite"].central),
                        format="%.4f",
                    )
                    c5.number_input(
                        "Hausse annuelle du prix (%)",
                        -5.0,
                        15.0,
                        step=0.5,
                        key=K_GROWTH,
                        value=float(eco["evolution_prix"].central),
                    )
                kwc = float(st.session_state[K_KWC])
                est = roof_estimate(
                    roof,
                    hyp,
                    kwc,
                    consumption=float(st.session_state[K_CONS]),
                    autonomy=eco["autonomie_max"].at(PRESENCE[st.session_state[K_SHARE]]),
                    price=float(st.session_state[K_PRICE]),
                    price_growth=float(st.session_state[K_GROWTH]),
                )
                st.markdown(roof_headline(roof, est, kwc))
                # always one element here: a warning appearing before the inputs' followers
                # would re-mount them and drop the keyboard focus (tested in the browser)
                if not pays_back(est):
                    st.warning(
                        "Dans le cas central, cette installation ne se rembourse pas en "
                        "20 ans (la durée du contrat d'achat du surplus). Une puissance plus "
                        "petite, mieux adaptée à votre consommation, peut changer la donne : "
                        "essayez le simulateur ci-dessus.",
                        icon=":material/warning:",
                    )
                else:
                    st.caption(
                        "Dans le cas central, l'installation se rembourse dans les 20 ans du "
                        "contrat d'achat du surplus ; le cas défavorable est dans le tableau."
                    )
                if not est.low.residential:
                    st.warning(
                        f"Au-delà de {fmt_int(RESIDENTIAL_MAX_KWC)} kWc le barème résidentiel ne "
                        "s'applique plus : estimation sans prime ni tarif d'achat du surplus. "
                        "Demandez une étude."
                    )
                a, b, c = st.columns(3)
                a.metric("Surface utile (m²)", fmt_float(roof["surface_utile_m2"], 0))
                b.metric(
                    "Orientation, pente",
                    f"{roof['orientation']}, {fmt_int(roof['pente_dominante'])}°",
                )
                c.metric(
                    "Puissance max. (kWc)",
                    f"{fmt_float(roof['kwc_bas'], 1)} – {fmt_float(roof['kwc_haut'], 1)}",
                )
                st.table(estimate_table(est))
                if hyp.expired("economie"):
                    st.warning(md_escape(tariff_caption(hyp)), icon=":material/history:")
                else:
                    st.caption(md_escape(tariff_caption(hyp)))
                with st.expander("Chauffe-eau solaire (estimation simple)"):
                    persons = st.number_input(
                        "Personnes dans le foyer", 1, 10, value=3, key=K_PERSONS
                    )
                    wh = water_heater(int(persons), hyp, price=float(st.session_state[K_PRICE]))
                    st.markdown(
                        f"Économie ≈ **{fmt_int(wh.saved_kwh[0])} à "
                        f"{fmt_int(wh.saved_kwh[2])} kWh/an** ({fmt_int(wh.saved_eur[0])} à "
                        f"{fmt_int(wh.saved_eur[2])} €/an face à un chauffe-eau électrique), pour "
                        f"{fmt_int(wh.cost[2])} à {fmt_int(wh.cost[0])} € avant aides."
                    )
                epci_code = territory.epci_of.get(str(roof.get("insee") or ""))
                epci_name = territory.epci_names.get(epci_code, "votre intercommunalité")
                st.info(
                    f"Votre intercommunalité : **{md_escape(epci_name)}**. {md_escape(ADVICE)}",
                    icon=":material/info:",
                )
                link = f"{settings.public_url}/cadastre_solaire?toit={chosen}"
                today = dt.date.today().isoformat()
                simulated = tuple(
                    st.session_state[k] for k in (K_KWC, K_CONS, K_SHARE, K_PRICE, K_GROWTH)
                )
                widgets.download_link(
                    "Télécharger la fiche du toit (PDF)",
                    ("fiche", version, chosen, simulated, today),
                    f"atlas-pma-toit-{chosen}.pdf",
                    "application/pdf",
                    lambda: roof_sheet_pdf(cad, roof, est, kwc, hyp, link, today),
                )
                widgets.assumptions_expander(hyp, "economie")

            if chosen:
                roof_card()
            # a click reruns only this view: the address in the URL follows it here
            state.remember_widgets([K_ROOF])
            state.write_page_url({"toit": st.session_state.get(K_ROOF) or None})

        roof_view()

    with territory_tab:
        st.caption(f"Territoire : {md_escape(describe_selection(territory, selection))}")
        figures, classes, per_commune = shared(
            "donnees",
            ("cadastre-territoire", selection),
            lambda: territory_figures(cad, territory, selection),
        )
        cols = st.columns(len(figures))
        for col, (label, value) in zip(cols, figures.items(), strict=True):
            col.metric(label, value)
        if per_commune.empty:
            st.info(
                "Secteur pas encore couvert : aucun toit de cette sélection n'est encore "
                "calculé. Le secteur calculé est tracé en pointillés sur la carte de l'onglet "
                "« Mon toit »."
            )
        else:
            left, right = st.columns(2)
            left.dataframe(classes, hide_index=True, width="stretch")
            right.altair_chart(
                charts.bar(
                    per_commune,
                    "Commune",
                    "GWh/an (central)",
                    "Production possible des toits par commune, valeur centrale",
                    decimals=2,
                ),
                width="stretch",
            )
            st.dataframe(per_commune, hide_index=True, width="stretch")
            covered = covered_communes(cad, territory, selection)
            query = "&".join(f"insee={code}" for code in covered)
            d1, d2 = st.columns(2)
            d1.link_button(
                "Toits (CSV)",
                f"{settings.api_url}/telechargements/toits.csv?{query}",
                help="Un tableau par toit de la sélection, préparé au moment du clic.",
            )
            d2.link_button(
                "Toits (GeoPackage)",
                f"{settings.api_url}/telechargements/toits.gpkg?{query}",
                help="Les contours des toits et leurs chiffres, pour un SIG (QGIS…).",
            )
        st.caption(
            "Classes : " + ", ".join(CLASS_ORDER) + " (seuils dans les hypothèses). "
            f"Climat utilisé : {md_escape(cad.climate)}."
        )
        widgets.assumptions_expander(hyp, "solaire")

    state.remember_widgets([K_ROOF, K_QUERY])
    state.write_page_url({"toit": st.session_state.get(K_ROOF) or None})


if __name__ == "__main__":  # run alone by Streamlit's legacy mode: see app.py
    from app import main

    main()
