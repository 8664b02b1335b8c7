"""Cadastre solaire: a resident finds their roof and gets an honest estimate; officials see
the territory's potential.

The decisions (which address source, which roof to show, what to say) are taken in
:mod:`layers.resident` and :mod:`layers.cadastre`; this page asks and draws.
"""

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from layers import charts
from layers.assumptions import Assumptions
from layers.cadastre import (
    CLASS_ORDER,
    AddressStatus,
    Cadastre,
    coverage_note,
    covered_communes,
    get_roof,
    locate,
    roof_at_latlng,
    roofs_near_latlng,
)
from layers.cadastre_colours import map_classes
from layers.cadastre_estimate import ADVICE, PRESENCE
from layers.cadastre_figures import planner_csv, territory_potential
from layers.cadastre_map import MapView, cadastre_map, chosen_panels, view_bounds
from layers.cadastre_panels import RoofPanels, modules_text, power_stops, roof_panels
from layers.cadastre_sheet import Overlay, RoofSheet, roof_sheet_pdf, roof_thumbnail
from layers.economics import water_heater
from layers.formatting import fmt_int, md_escape
from layers.resident import (
    Simulation,
    chosen_roof,
    find_address,
    roof_title,
    status_message,
    unseen_notice,
)
from layers.resident import roof_card as resident_card
from layers.settings import Settings
from layers.territory import Selection, Territory, describe_selection, selected_communes
from layers.urls import ROOFS, PagePath, link, page_link
from pages.ui import loaders, state, widgets
from pages.ui.shared import shared

K_ROOF, K_QUERY = "cadastre_toit_un", "cadastre_adresse_un"
K_RESULTS, K_PICK, K_RELOAD = "_cadastre_resultats", "cadastre_choix", "_cadastre_recharger"
K_KWC, K_CONS, K_SHARE = "cadastre_kwc", "cadastre_conso", "cadastre_part"
K_PRICE, K_GROWTH, K_PERSONS = "cadastre_prix", "cadastre_hausse", "cadastre_personnes"
SIMULATED = (K_KWC, K_CONS, K_SHARE, K_PRICE, K_GROWTH)
DEFAULT_KWC = 3.0  # a first visit's power: a common household installation


@dataclass(frozen=True)
class Page:
    """What every part of the page reads (loaded once per run)."""

    territory: Territory
    selection: Selection
    settings: Settings
    cad: Cadastre
    hyp: Assumptions

    def roof(self, cleabs: str | None):
        """A roof of the store by its cleabs (one indexed read, shared by all sessions)."""
        if not cleabs:
            return None
        key = ("cadastre-toit", self.cad.version, cleabs)
        return shared("donnees", key, lambda: get_roof(self.cad, cleabs))

    def laid(self, roof, cleabs: str) -> RoofPanels:
        """The roof's faces, modules and configurations (shared by all sessions)."""
        key = ("cadastre-pans", self.cad.version, cleabs)
        return shared("donnees", key, lambda: roof_panels(self.cad.reader, roof, cleabs))

    def status(self, address) -> tuple[AddressStatus, str | None]:
        """Status and roof of an address (spatial index), shared by all sessions."""
        key = ("cadastre-adresse", self.cad.version, address)
        return shared("donnees", key, lambda: locate(address, self.cad, self.territory))


def render() -> None:
    """Draw the page (registered by app.py with st.Page; never run as a script)."""
    notices = state.page_state_from_url("cadastre", {K_ROOF: ("toit", None)})
    state.restore_widgets([K_ROOF, K_QUERY])
    st.title("Cadastre solaire")
    cad = loaders.get_cadastre()
    if cad is None:
        state.show_notices(notices)
        st.warning("Aucun toit n'est encore calculé : lancez `pma-atlas data prepare`.")
        st.stop()
    page = Page(
        loaders.get_territory(),
        state.current_selection(),
        loaders.get_settings(),
        cad,
        loaders.get_assumptions(),
    )
    asked = st.session_state.get(K_ROOF)
    if asked and page.roof(asked) is None:
        notices.append(f"Toit inconnu dans le cadastre : {str(asked)[:40]}")
        st.session_state[K_ROOF] = None
    state.show_notices(notices)
    if cad.synthetic:
        st.error(
            "**Territoire fictif de démonstration** : toits, rues et adresses inventés, "
            "aucun bâtiment réel (explications en bas de page).",
            icon=":material/science:",
        )
    mine, territory_tab = st.tabs(["Mon toit", "Potentiel du territoire"])
    with mine:
        st.markdown("Cherchez votre adresse ou cliquez un toit sur la carte.")
        search_form(page)
        search_results(page)
        roof_view(page)
    with territory_tab:
        territory_view(page)
    if cad.synthetic:
        st.caption(
            "**Territoire fictif de démonstration.** Les toits, rues et adresses de ce cadastre "
            "sont inventés (modèle de surface synthétique au format LiDAR HD de l'IGN) pour "
            "montrer l'outil : ils ne décrivent aucun bâtiment réel. Le cadastre de l'Artois "
            "sera calculé sur le LiDAR HD de l'IGN."
        )
    state.remember_widgets([K_ROOF, K_QUERY])
    state.write_page_url({"toit": st.session_state.get(K_ROOF) or None})


def search_form(page: Page) -> None:
    """The address field; a search replaces the results and the roof shown."""
    with st.form("recherche_adresse", border=False):
        q_col, b_col = st.columns([4, 1], vertical_alignment="bottom")
        q_col.text_input(
            "Adresse", key=K_QUERY, placeholder="ex. : 3 rue des Lampistes, Loos-en-Gohelle"
        )
        submitted = b_col.form_submit_button("Chercher", use_container_width=True)
    if not submitted:
        return
    with st.spinner("Recherche de l'adresse…"):
        outcome = find_address(
            st.session_state.get(K_QUERY, ""),
            page.cad,
            page.territory,
            page.settings,
            loaders.address_file,
            page.status,
        )
    for level, text in outcome.messages:
        widgets.message(level, md_escape(text))
    st.session_state[K_RESULTS] = outcome.results
    st.session_state[K_PICK] = 0
    st.session_state[K_ROOF] = outcome.roof  # none when the address has no roof: no old card


def search_results(page: Page) -> None:
    """The addresses found, the chosen one's status (a roof, or why not)."""
    results = st.session_state.get(K_RESULTS, [])
    if not results:
        return

    def _choose() -> None:
        chosen = results[st.session_state[K_PICK]]
        st.session_state[K_ROOF] = chosen_roof(chosen, page.status)

    # labels come from the address service: shown as plain text, never as Markdown
    labels = {i: md_escape(f"{r.label} — {r.source}") for i, r in enumerate(results)}
    pick = st.radio(
        "Résultats", list(labels), format_func=labels.__getitem__, key=K_PICK, on_change=_choose
    )
    said = status_message(page.status(results[pick])[0])
    if said:
        widgets.message(*said)


def _clicked(page: Page, lat: float, lng: float) -> None:
    """A roof clicked on the map: it is shown; the address results, about another place, go."""
    hit = roof_at_latlng(page.cad, lat, lng)
    if not hit:
        return
    st.session_state[K_ROOF] = hit
    if st.session_state.get(K_RESULTS):
        st.session_state[K_RESULTS] = []
        st.session_state[K_RELOAD] = True  # the list is outside this fragment: redraw all


@st.fragment
def roof_view(page: Page) -> None:
    """Map and roof card: a click on a roof reruns only this part of the page."""
    if st.session_state.pop(K_RELOAD, False):
        st.rerun(scope="app")
    chosen = st.session_state.get(K_ROOF) or None
    basemap = state.current_basemap()
    note = None if chosen else coverage_note(page.cad, page.territory, page.selection)
    if note:
        st.info(note)

    def _map():
        roof = page.roof(chosen)
        near = laid = None
        if roof is not None:
            centre = roof.geometry.representative_point()
            near = roofs_near_latlng(page.cad, centre.y, centre.x)
            mine = page.laid(roof, str(chosen))
            laid = (mine.faces, mine.panels)
        return cadastre_map(
            page.cad,
            page.settings,
            map_classes(page.hyp),
            MapView(
                basemap,
                selected=roof,
                near=near,
                bounds=view_bounds(page.cad, page.territory, page.selection),
                area=selected_communes(page.territory, page.selection),
                laid=laid,
            ),
        )

    overlay = None
    roof = page.roof(chosen)
    if roof is not None:  # the simulated project's modules, redrawn with the slider
        mine = page.laid(roof, str(chosen))
        n = mine.best(float(st.session_state.get(K_KWC, DEFAULT_KWC)))
        count = n.panels if n is not None else 0
        overlay = (
            (page.cad.version, chosen, count),
            lambda: chosen_panels(mine.panels.iloc[:count]),
        )
    with st.spinner("Carte…"):
        widgets.clickable_map(
            ("cadastre", page.cad.version, basemap, chosen, page.selection),
            _map,
            key="carte_cadastre",
            on_click=lambda lat, lng: _clicked(page, lat, lng),
            height=480,
            overlay=overlay,
        )
    st.caption(
        "Couleurs : irradiation annuelle de chaque point des toits (kWh/m²/an ; le sol "
        "n'est pas calculé), à partir du zoom 11 ; en pointillés, le secteur calculé. "
        "Cliquez un toit pour sa fiche ; les contours des toits voisins apparaissent en "
        "zoomant, puis, au zoom de la rue, les pans du toit choisi et les panneaux qu'il peut "
        "recevoir (survol : rang et production) ; en bleu foncé, ceux de votre simulation, qui "
        f"suivent le curseur de puissance. Climat : {md_escape(page.cad.climate)}."
    )
    if chosen:
        roof_card(page, chosen)
    # a click reruns only this view: the address in the URL follows it here
    state.remember_widgets([K_ROOF])
    state.write_page_url({"toit": st.session_state.get(K_ROOF) or None})


def roof_card(page: Page, chosen: str) -> None:
    """The chosen roof: its verdict first, then the simulator to adjust it, then the detail.

    What the card says is decided in ``layers.resident.roof_card``; drawn here. Moving an
    input reruns the map's part of the page (the map itself is not reloaded: only the
    chosen modules' layer is swapped); every slot keeps one element, so that an input
    never re-mounts (the keyboard focus stays where it is).
    """
    roof = page.roof(chosen)
    if roof is None:
        return
    unseen = unseen_notice(roof)
    if unseen is not None:  # no figure at all: never an estimate from the ground
        st.subheader(f"Votre toit : {md_escape(roof_title(roof))}")
        widgets.message(*unseen)
        st.info(md_escape(ADVICE), icon=":material/info:")
        return
    laid = page.laid(roof, chosen)
    stops = power_stops(float(roof["kwc_central"]), laid)
    seed_simulation(page, list(stops))
    sim = Simulation(
        kwc=float(st.session_state[K_KWC]),
        consumption=float(st.session_state[K_CONS]),
        presence=st.session_state[K_SHARE],
        price=float(st.session_state[K_PRICE]),
        price_growth=float(st.session_state[K_GROWTH]),
    )
    card = resident_card(roof, sim, page.hyp, page.territory, page.cad.synthetic, laid)
    st.subheader(f"Votre toit : {card.title}")
    for level, text in card.notes:
        widgets.message(level, text)
    st.markdown(card.headline)  # the verdict: class, share of the household, payback
    widgets.message(*card.payback, icon=":material/warning:")
    with st.container():  # always there, filled above the residential scale only
        if card.residential:
            st.warning(card.residential)
    widgets.figures(card.figures)
    simulator(page, stops, bool(laid.configurations))
    overlay = faces_view(page, roof, laid, card)
    widgets.table(card.table, static=True)
    widgets.message(*card.tariff, icon=":material/history:")
    water_heater_box(page)
    st.info(card.advice, icon=":material/info:")
    share = page_link(page.settings, PagePath.SOLAR, toit=chosen)
    today = dt.date.today().isoformat()
    widgets.download_link(
        "Télécharger la fiche du toit (PDF)",
        ("fiche", page.cad.version, chosen, tuple(st.session_state[k] for k in SIMULATED), today),
        f"atlas-pma-toit-{chosen}.pdf",
        "application/pdf",
        lambda: roof_sheet_pdf(
            page.cad,
            page.hyp,
            RoofSheet(
                roof, card.estimate, card.simulated, share, today, overlay, tuple(card.faces)
            ),
        ),
    )
    widgets.assumptions_expander(page.hyp, "economie")


def seed_simulation(page: Page, steps: list[float]) -> None:
    """The simulator's values before its widgets are drawn (the verdict comes first).

    A first visit gets 3 kWc (or the nearest stop under it) and the assumptions' central
    values; the power is kept on one of the roof's stops (a whole number of modules).
    """
    eco = page.hyp.groups["economie"]
    wanted = float(st.session_state.get(K_KWC, DEFAULT_KWC))
    under = [s for s in steps if s <= wanted + 1e-6]
    st.session_state[K_KWC] = under[-1] if under else steps[0]
    st.session_state.setdefault(K_CONS, float(eco["consommation_menage"].central))
    st.session_state.setdefault(K_SHARE, list(PRESENCE)[1])
    st.session_state.setdefault(K_PRICE, float(eco["prix_electricite"].central))
    st.session_state.setdefault(K_GROWTH, float(eco["evolution_prix"].central))


def simulator(page: Page, stops: dict[float, str], per_module: bool) -> None:
    """The project's inputs: power, consumption, presence, price and its growth (French
    numbers: « 4 200 », « 0,194 »); on a laid-out roof the power moves one module at a
    time."""
    with st.expander("Ajuster la simulation", expanded=True):
        c1, c2 = st.columns(2)
        c1.select_slider(
            "Puissance installée (kWc)", options=list(stops), key=K_KWC,
            format_func=stops.__getitem__,
            help="Jusqu'au maximum technique du toit"
            + (" : un cran = un panneau de plus, le meilleur restant." if per_module else "."),
        )  # fmt: skip
        widgets.french_number(
            c2, "Consommation du foyer (kWh/an)", K_CONS, (500, 30_000), 0, "kWh/an"
        )
        c3, c4, c5 = st.columns(3)
        c3.selectbox(
            "Présence au foyer en journée", list(PRESENCE), key=K_SHARE,
            help="Plus le foyer consomme pendant que les panneaux produisent, plus la part "
            "consommée sur place est grande.",
        )  # fmt: skip
        widgets.french_number(c4, "Prix de l'électricité (€/kWh)", K_PRICE, (0.05, 1.0), 4, "€/kWh")
        widgets.french_number(c5, "Hausse annuelle du prix (%)", K_GROWTH, (-5.0, 15.0), 1, "%/an")


def faces_view(page: Page, roof, laid: RoofPanels, card) -> Overlay | None:
    """The roof seen from above with the simulated project's modules, and its faces listed.

    Redrawn with the power slider (a new link per module count, the image built when the
    browser asks for it); the PDF prints the same picture.
    """
    if not laid.laid_out:
        st.caption(card.method)
        return None
    overlay = Overlay(laid.faces, laid.panels.iloc[: card.panels])
    left, right = st.columns([2, 3])
    with left:
        widgets.picture(
            ("cadastre-plan", page.cad.version, str(roof["toit_id"]), card.panels),
            lambda: roof_thumbnail(page.cad, roof, map_classes(page.hyp), 360, 6.0, overlay)[0],
            alt=f"Plan du toit vu du dessus : {modules_text(card.panels)} de votre simulation",
            caption=f"Vos {modules_text(card.panels)} en bleu foncé, vus du dessus ; en "
            "blanc, les pans ; couleurs : irradiation (légende de la carte).",
        )
    right.markdown("**Pans du toit**")
    right.markdown("\n".join(f"- {md_escape(line)}" for line in card.faces))
    right.caption(card.method)
    return overlay


def water_heater_box(page: Page) -> None:
    """A simple solar water-heater estimate for the household."""
    with st.expander("Chauffe-eau solaire (estimation simple)"):
        persons = st.number_input("Personnes dans le foyer", 1, 10, value=3, key=K_PERSONS)
        wh = water_heater(int(persons), page.hyp, price=float(st.session_state[K_PRICE]))
        st.markdown(
            f"Économie ≈ **{fmt_int(wh.saved_kwh[0])} à {fmt_int(wh.saved_kwh[2])} kWh/an** "
            f"({fmt_int(wh.saved_eur[0])} à {fmt_int(wh.saved_eur[2])} €/an face à un "
            f"chauffe-eau électrique), pour {fmt_int(wh.cost[2])} à {fmt_int(wh.cost[0])} € "
            "avant aides."
        )


def territory_view(page: Page) -> None:
    """The selection's potential: key figures, classes, per commune, downloads."""
    cad, territory, selection = page.cad, page.territory, page.selection
    st.caption(f"Territoire : {md_escape(describe_selection(territory, selection))}")
    potential = shared(
        "donnees",
        ("cadastre-territoire", selection),
        lambda: territory_potential(cad, territory, selection),
    )
    classes, per_commune = potential.classes, potential.per_commune
    widgets.figures(potential.headline_figures)
    if per_commune.empty:
        st.info(
            "Secteur pas encore couvert : aucun toit de cette sélection n'est encore calculé. "
            "Le secteur calculé est tracé en pointillés sur la carte de l'onglet « Mon toit »."
        )
    else:
        left, right = st.columns(2)
        widgets.table(classes, left)
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
        st.markdown("**Par intercommunalité** (pans, panneaux posables, puissance, production)")
        widgets.table(potential.per_epci)
        st.markdown("**Par commune**")
        widgets.table(per_commune)
        query = "&".join(f"insee={c}" for c in covered_communes(cad, territory, selection))
        widgets.download_link(
            "Communes et intercommunalités (CSV)",
            ("cadastre-territoire-csv", cad.version, selection),
            "atlas-pma-potentiel-solaire.csv",
            "text/csv",
            lambda: planner_csv(potential),
        )
        d1, d2 = st.columns(2)
        d1.link_button(
            "Toits (CSV)",
            link(page.settings, ROOFS, query=query, fmt="csv"),
            help="Un tableau par toit de la sélection, préparé au moment du clic.",
        )
        d2.link_button(
            "Toits (GeoPackage)",
            link(page.settings, ROOFS, query=query, fmt="gpkg"),
            help="Les contours des toits et leurs chiffres, pour un SIG (QGIS…).",
        )
    st.caption(
        "Classes : " + ", ".join(CLASS_ORDER) + " (seuils dans les hypothèses). "
        f"Climat utilisé : {md_escape(cad.climate)}."
    )
    widgets.assumptions_expander(page.hyp, "solaire")


if __name__ == "__main__":  # run alone by Streamlit's legacy mode: see app.py
    from app import main

    main()
