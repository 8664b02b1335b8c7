"""Signalétique: where the Chaîne des Parcs signs stand, rollout figures, editing for planners."""

import datetime as dt

import streamlit as st
from shapely.geometry import Point

from layers import charts
from layers import signage_edits as edits
from layers.errors import AtlasError
from layers.export import to_csv_bytes, to_geojson_bytes
from layers.formatting import fmt_float, fmt_int, fmt_when, md_escape, public_message
from layers.signage import (
    COST_COLORS,
    INSTALLED_DEFINITION,
    NO_PARK,
    STATUSES,
    TYPES,
    SignFilter,
    apply_filter,
    costs_by_year,
    fingerprint,
    headline_figures,
    installed_over_time,
    park_choices,
    park_label,
    sign_table,
    steps_since,
    year_choices,
)
from layers.signage_report import (
    CouncilReport,
    council_pdf,
    history_table,
    progress_tables,
    sign_epci,
    signage_map,
)
from layers.signage_store import open_store
from layers.territory import describe_selection, selected_communes, within_selection
from layers.urls import PagePath, page_link
from pages.ui import editors, loaders, state, widgets

FILTER_KEYS = {
    "parcs": "sig_parcs",
    "types": "sig_types",
    "statuts": "sig_statuts",
    "annees": "sig_annees",
}


SYNTHETIC_SHORT = (
    "**Échantillon synthétique** : ces panneaux sont générés, ce n'est pas l'inventaire réel "
    "(explications sous la carte)."
)
SYNTHETIC_DETAILS = (
    "**Échantillon synthétique.** Aucun inventaire public des panneaux n'existe : les "
    "panneaux affichés sont générés à partir des vrais parcs (entrées sur les contours, "
    "jalonnement le long des liaisons) et de faits connus (Canal d'Aire et Berges de la "
    "Souchez posés en 2020, 37 500 € de la Région à 50 %). Importez l'inventaire réel "
    "avec `pma-atlas signs import`."
)


def render() -> None:
    """Draw the page (registered by app.py with st.Page; never run as a script)."""
    territory = loaders.get_territory()
    planning = loaders.get_planning()
    selection = state.current_selection()
    settings = loaders.get_settings()
    editor = editors.editor_session()
    try:
        store = open_store(settings.signage_target, territory)
        signs_all = store.signs()
    except AtlasError as err:
        st.error(f"Inventaire de la signalétique indisponible. {md_escape(public_message(err))}")
        st.stop()

    st.title("Signalétique de la Chaîne des Parcs")
    st.error(SYNTHETIC_SHORT, icon=":material/science:")
    st.caption(f"Territoire : {md_escape(describe_selection(territory, selection))}")

    in_sel = within_selection(signs_all, territory, selection)
    parks_names = dict(zip(planning.parks["parc_id"], planning.parks["nom"], strict=True))
    signs = apply_filter(in_sel, _filters(in_sel, parks_names))

    widgets.figures(headline_figures(signs))
    by_epci, by_park = progress_tables(signs, sign_epci(signs, territory))
    parks_shown = within_selection(planning.parks, territory, selection)
    _map(signs, parks_shown, planning, settings, selection, editor)
    st.caption(SYNTHETIC_DETAILS)
    _progress(signs, by_epci, by_park)
    since, history = _changes(store, signs)
    if editor:
        _editor_tools(store, signs, parks_names, history, editor)
    public = signs.drop(columns=EDITOR_COLUMNS, errors="ignore")
    today, edits = dt.date.today(), 0 if history is None else len(history)

    def report() -> CouncilReport:  # built when the PDF is asked for, not at each rerun
        return CouncilReport(
            signs=public,
            parks=parks_shown,
            communes=selected_communes(territory, selection),
            by_epci=by_epci,
            by_park=by_park,
            selection_label=describe_selection(territory, selection),
            today=today,
            since=since,
            edits=edits,
            link=page_link(settings, PagePath.SIGNAGE),
        )

    _table_and_files(signs, public, report, (today, since, edits), selection, editor)
    state.remember_widgets(list(FILTER_KEYS.values()))


def _filters(in_sel, parks_names: dict) -> SignFilter:
    state.restore_widgets(list(FILTER_KEYS.values()))
    active = sum(bool(st.session_state.get(k)) for k in FILTER_KEYS.values())
    with widgets.filters_box("Filtres", active, key="signaletique_filtres_boite"):
        c1, c2, c3, c4 = st.columns(4)
        c1.multiselect(
            "Parc",
            park_choices(in_sel),
            key=FILTER_KEYS["parcs"],
            format_func=lambda p: parks_names.get(p, p) if p else NO_PARK,
            placeholder="Tous",
        )
        c2.multiselect("Type", list(TYPES), key=FILTER_KEYS["types"], placeholder="Tous")
        c3.multiselect("Statut", list(STATUSES), key=FILTER_KEYS["statuts"], placeholder="Tous")
        c4.multiselect(
            "Année", year_choices(in_sel), key=FILTER_KEYS["annees"], placeholder="Toutes"
        )
    return SignFilter(*(tuple(st.session_state[k]) for k in FILTER_KEYS.values()))


def _map(signs, parks_shown, planning, settings, selection, editor: str | None) -> None:
    clicked = st.session_state.get("_sig_clic")
    area = selected_communes(loaders.get_territory(), selection)

    def _remember_click(lat: float, lng: float) -> None:
        st.session_state["_sig_clic"] = (lat, lng)

    basemap, chosen_sign = state.current_basemap(), st.session_state.get("sig_panneau_un")
    # the inventory changes with every edit: the map's key includes its exact content
    signature = ("signaletique", selection, fingerprint(signs), basemap, chosen_sign)

    def _build():
        return signage_map(
            signs,
            parks_shown,
            settings,
            [planning.catalog["parcs"].attribution, "panneaux : échantillon synthétique"],
            basemap,
            chosen_sign,
            area=area,
        )

    if not editor:
        widgets.show_map(signature, _build, key="carte_signaletique", height=480)
        return
    widgets.clickable_map(
        signature, _build, key="carte_signaletique", on_click=_remember_click, height=480
    )
    if clicked:
        st.caption(
            f"Dernier point cliqué : {fmt_float(clicked[0], 5)}, {fmt_float(clicked[1], 5)} "
            "(sert à ajouter un panneau ou à corriger une position)."
        )


def _progress(signs, by_epci, by_park) -> None:
    st.subheader("Avancement")
    st.caption(INSTALLED_DEFINITION)
    left, right = st.columns(2)
    left.markdown("**Part posée par intercommunalité (%)**")
    left.altair_chart(
        charts.bar(by_epci, "EPCI", "% posés", "Part des panneaux posés par intercommunalité"),
        width="stretch",
    )
    right.markdown("**Panneaux posés (cumul)**")
    right.altair_chart(
        charts.line(
            installed_over_time(signs),
            "mois",
            "panneaux posés (cumul)",
            "Nombre cumulé de panneaux posés, par mois",
        ),
        width="stretch",
    )
    widgets.table(
        by_park,
        column_config={
            "% posés": st.column_config.ProgressColumn(
                "% posés", min_value=0, max_value=100, format="%.0f %%"
            )
        },
    )
    st.markdown("**Coûts et cofinancement régional par année (€ HT)**")
    st.altair_chart(
        charts.grouped_bars(
            costs_by_year(signs),
            "Année",
            "Coûts HT et cofinancement régional par année",
            "€ HT",
            colors=COST_COLORS,
        ),
        width="stretch",
    )


def _changes(store, signs):
    """Steps dated in the period (on the ground) and edits made in the app; the history."""
    st.subheader("Ce qui a changé")
    since = st.date_input(
        "Depuis le",
        value=dt.date.today() - dt.timedelta(days=30),
        max_value=dt.date.today(),
        format="DD/MM/YYYY",
    )
    steps = steps_since(signs, since)
    st.markdown(f"**Étapes datées depuis le {since:%d/%m/%Y}** ({fmt_int(len(steps))})")
    if steps.empty:
        st.caption("Aucune étape (demande, conception, fabrication, pose) datée sur cette période.")
    else:
        widgets.table(steps)
    try:
        history = store.history(since=since.isoformat())
    except AtlasError as err:
        st.warning(md_escape(err))
        return since, None
    st.markdown(f"**Modifications de l'inventaire** ({fmt_int(len(history))})")
    if history.empty:
        st.caption("Aucune modification de l'inventaire sur cette période.")
    else:
        widgets.table(history_table(history))
    return since, history


def _editor_tools(store, signs, parks_names: dict, history, editor: str) -> None:
    st.subheader("Modifier (éditeur)")
    flash = st.session_state.pop("_sig_message", None)
    if flash:
        st.success(md_escape(flash))
    clicked = st.session_state.get("_sig_clic")
    opened = st.session_state.get("_sig_ouvert")
    ids = edits.sign_choices(list(signs["sign_id"]), opened["sign_id"] if opened else None)
    if ids:
        _edit_sign(store, signs, ids, opened, clicked, editor)
    _add_sign(store, parks_names, clicked, editor)
    if history is not None and not history.empty:
        with st.expander("Annuler une modification"):
            labels = edits.undo_choices(history)
            entry = st.selectbox("Modification", list(labels), format_func=labels.__getitem__)
            st.caption(
                "Seul ce que cette modification a changé est rétabli ; si quelqu'un a "
                "modifié les mêmes champs depuis, rien n'est fait et vous êtes prévenu."
            )
            if st.button("Annuler cette modification"):
                _show(edits.undo(store, int(entry), editor))


def _show(outcome: edits.Outcome) -> None:
    """An action's outcome: on success, re-read the form and rerun; else say why."""
    if not outcome.ok:
        st.error(md_escape(outcome.message))
        return
    st.session_state["_sig_message"] = outcome.message
    if outcome.reload:
        st.session_state.pop("_sig_ouvert", None)
    st.rerun()


def _edit_sign(store, signs, ids, opened, clicked, editor: str) -> None:
    names = dict(zip(signs["sign_id"], park_label(signs), strict=True))
    sid = st.selectbox(
        "Panneau",
        ids,
        key="sig_panneau_un",
        format_func=lambda i: f"{i} — {names.get(i, 'supprimé')}",
    )
    # the form works on the version the editor opened, not on a fresh read: a stale
    # submit is then a conflict, never a silent overwrite of someone else's change
    if not opened or opened["sign_id"] != sid:
        try:
            opened = store.get(sid)
        except KeyError:
            opened = None
        st.session_state["_sig_ouvert"] = opened
    if opened is None:
        st.warning(f"Le panneau {sid} n'existe plus (supprimé entre-temps).")
        return
    st.caption(
        f"Statut : {md_escape(opened['statut'])} · version {opened['version']} · "
        f"modifié par {md_escape(opened['modifie_par'])} le "
        f"{md_escape(fmt_when(opened['modifie_le']))}"
    )

    def _reload() -> None:
        st.session_state.pop("_sig_ouvert", None)

    st.button("Recharger le panneau", on_click=_reload, key="sig_recharger")
    form = edits.form_key(opened)  # a new sign or version gets fresh, empty fields
    with st.form(f"changer_statut_{form}"):
        a, b = st.columns(2)
        new_status = a.selectbox(
            "Nouveau statut", list(STATUSES), index=STATUSES.index(opened["statut"])
        )
        day = b.date_input(
            "Date de l'étape (vide : aujourd'hui pour un nouveau statut, inchangée sinon)",
            value=None,
            max_value=dt.date.today(),
            format="DD/MM/YYYY",
        )
        comment = st.text_input("Commentaire", max_chars=500)
        move = st.checkbox("Déplacer au dernier point cliqué sur la carte", disabled=not clicked)
        if st.form_submit_button("Enregistrer"):
            position = Point(clicked[1], clicked[0]) if move and clicked else None
            _show(edits.save(store, opened, new_status, day, comment, editor, position))
    with st.expander("Supprimer ce panneau"):
        st.caption(
            "La suppression est inscrite dans l'historique et peut être annulée "
            "(« Annuler une modification »)."
        )
        sure = st.checkbox(f"Je confirme la suppression du panneau {sid}", key=f"sur_{form}")
        if st.button("Supprimer", disabled=not sure, type="primary"):
            _show(edits.remove(store, opened, editor))


def _add_sign(store, parks_names: dict, clicked, editor: str) -> None:
    with st.expander("Ajouter un panneau au dernier point cliqué"):
        if not clicked:
            st.caption("Cliquez d'abord sur la carte à l'emplacement du panneau.")
            return
        with st.form("ajouter", clear_on_submit=True):
            a, b, c = st.columns(3)
            park = a.selectbox("Parc", list(parks_names), format_func=lambda k: parks_names[k])
            kind = b.selectbox("Type", list(TYPES))
            status = c.selectbox("Statut", list(STATUSES))
            d, e, f = st.columns(3)
            day = d.date_input(
                "Date de l'étape",
                value=dt.date.today(),
                max_value=dt.date.today(),
                format="DD/MM/YYYY",
            )
            cost = e.number_input("Coût HT (€)", 0.0, 100000.0, step=100.0)
            region = f.number_input("Cofinancement Région (€)", 0.0, 50000.0, step=100.0)
            if st.form_submit_button("Ajouter"):
                position = Point(clicked[1], clicked[0])
                _show(
                    edits.add(
                        store,
                        (str(park), parks_names[park]),
                        kind,
                        status,
                        day,
                        cost,
                        region,
                        position,
                        editor,
                    )
                )


EDITOR_COLUMNS = ["version", "modifie_par", "modifie_le", "notes"]  # never to readers


def _table_and_files(signs, public, report, pdf_key: tuple, selection, editor) -> None:
    """The signs' table and its files; ``report()`` builds the council PDF's contents when
    it is asked for, ``pdf_key`` (today, since, edits) is what else the PDF depends on."""
    st.subheader(f"Panneaux ({fmt_int(len(signs))})")
    # readers never see editors' logins and notes, on screen or in the files
    table = sign_table(signs, editor=bool(editor))
    widgets.table(table)
    d1, d2, d3 = st.columns(3)
    # built when clicked; the key holds the exact inventory shown and who may see it; an
    # editor's files (logins, notes) need the editor's session, not only the link
    content = (selection, fingerprint(signs), editor or "lecteur")
    session = editors.file_session() if editor else None
    with d1:
        widgets.download_link(
            "Tableau (CSV)",
            ("signaletique.csv", *content),
            "atlas-pma-signaletique.csv",
            "text/csv",
            lambda: to_csv_bytes(table),
            session=session,
        )
    with d2:
        widgets.download_link(
            "Carte (GeoJSON)",
            ("signaletique.geojson", *content),
            "atlas-pma-signaletique.geojson",
            "application/geo+json",
            lambda: to_geojson_bytes(signs if editor else public, {"qualite": "synthétique"}),
            session=session,
        )
    with d3:
        widgets.download_link(
            "Synthèse A4 pour le conseil (PDF)",
            ("signaletique.pdf", *content, *pdf_key),
            "atlas-pma-signaletique-synthese.pdf",
            "application/pdf",
            lambda: council_pdf(report()),
            session=session,
        )
    with st.expander("Importer l'inventaire réel (format)"):
        st.markdown(
            "CSV (séparateur `;` ou `,`) avec les colonnes `lon`, `lat` (WGS84), `type_panneau` "
            f"({', '.join(TYPES)}), `statut` ({', '.join(STATUSES)}), les dates d'étape "
            "`date_demande`, `date_conception`, `date_fabrication`, `date_pose`, `date_reprise` "
            "(AAAA-MM-JJ), `parc_id` (facultatif : sans lui, le panneau est « sans parc » ; "
            "un parc inconnu est refusé), "
            "`parc_nom`, `maitre_ouvrage`, `cout_ht`, "
            "`cofinancement_region`, `annee`, `notes` ; ou une couche GeoPackage/GeoJSON avec les "
            "mêmes champs. Commande : `pma-atlas signs import fichier.csv`. Toutes les lignes sont "
            "vérifiées d'abord (statut, dates non futures, point dans le PMA, "
            "cofinancement ≤ 50 %, parc connu, jamais l'identifiant d'un panneau supprimé) ; "
            "à la moindre erreur rien n'est importé, et le fichier entre en une seule "
            "transaction."
        )


if __name__ == "__main__":  # run alone by Streamlit's legacy mode: see app.py
    from app import main

    main()
