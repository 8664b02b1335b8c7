"""Signalétique: where the Chaîne des Parcs signs stand, rollout figures, editing for planners."""

import datetime as dt

import streamlit as st

from layers.errors import AtlasError
from layers.export import to_csv_bytes, to_geojson_bytes
from layers.formatting import md_escape
from layers.signage import (
    STATUSES,
    STEP_DATES,
    TYPES,
    SignFilter,
    apply_filter,
    costs_by_year,
    installed_over_time,
    key_numbers,
)
from layers.signage_report import council_pdf, progress_tables, signage_map
from layers.store import ConflictError, open_store
from layers.territory import clip, describe_selection
from pages import _shared

_shared.ensure_app_shell()

territory = _shared.get_territory()
planning = _shared.get_planning()
selection = _shared.current_selection()
settings = _shared.get_settings()
editor = _shared.editor_session()
try:
    store = open_store(settings.signage_target, territory)
    signs_all = store.signs()
except AtlasError as err:
    st.error(f"Inventaire de la signalétique indisponible. {md_escape(err)}")
    st.stop()

st.title("Signalétique de la Chaîne des Parcs")
st.error(
    "**Échantillon synthétique.** Aucun inventaire public des panneaux n'existe : les "
    "panneaux affichés sont générés à partir des vrais parcs (entrées sur les contours, "
    "jalonnement le long des liaisons) et de faits connus (Canal d'Aire et Berges de la "
    "Souchez posés en 2020, 37 500 € de la Région à 50 %). Importez l'inventaire réel "
    "avec `pma-atlas signs import`.",
    icon=":material/science:",
)
st.caption(f"Territoire : {md_escape(describe_selection(territory, selection))}")

in_sel = clip(signs_all, territory, selection)
K = {"parcs": "sig_parcs", "types": "sig_types", "statuts": "sig_statuts", "annees": "sig_annees"}
_shared.restore_widgets(list(K.values()))
parks_names = dict(zip(planning.parks["parc_id"], planning.parks["nom"], strict=True))
with st.expander("Filtres", expanded=False):
    c1, c2, c3, c4 = st.columns(4)
    c1.multiselect(
        "Parc",
        sorted(set(in_sel["parc_id"])),
        key=K["parcs"],
        format_func=lambda p: parks_names.get(p, p),
        placeholder="Tous",
    )
    c2.multiselect("Type", list(TYPES), key=K["types"], placeholder="Tous")
    c3.multiselect("Statut", list(STATUSES), key=K["statuts"], placeholder="Tous")
    c4.multiselect(
        "Année",
        sorted(set(int(a) for a in in_sel["annee"].dropna())),
        key=K["annees"],
        placeholder="Toutes",
    )
signs = apply_filter(in_sel, SignFilter(*(tuple(st.session_state[k]) for k in K.values())))

cols = st.columns(6)
for col, (label, value) in zip(cols, key_numbers(signs).items(), strict=True):
    col.metric(label, value)

epci_of = dict(zip(territory.communes["insee"], territory.communes["epci_code"], strict=True))
joined = signs.sjoin(territory.communes[["insee", "geometry"]], how="left", predicate="within")
epci_series = joined["insee"].map(epci_of).fillna("hors PMA").groupby(level=0).first()
by_epci, by_park = progress_tables(signs, epci_series.reindex(signs.index))

parks_shown = clip(planning.parks, territory, selection)
clicked = st.session_state.get("_sig_clic")


def _remember_click(lat: float, lng: float) -> None:
    st.session_state["_sig_clic"] = (lat, lng)


fmap = signage_map(
    signs,
    parks_shown,
    settings,
    [planning.catalog["parcs"].attribution, "panneaux : échantillon synthétique"],
    _shared.current_basemap(),
    st.session_state.get("sig_panneau_un"),
)
if editor:
    _shared.clickable_map(fmap, key="carte_signaletique", on_click=_remember_click, height=480)
    if clicked:
        st.caption(
            f"Dernier point cliqué : {clicked[0]:.5f}, {clicked[1]:.5f} (sert à ajouter "
            "un panneau ou à corriger une position)."
        )
else:
    _shared.show_map(fmap, key="carte_signaletique", height=480)

st.subheader("Avancement")
left, right = st.columns(2)
left.markdown("**Part posée par intercommunalité (%)**")
left.bar_chart(by_epci.set_index("EPCI")["% posés"], y_label="% posés")
right.markdown("**Panneaux posés (cumul)**")
right.line_chart(installed_over_time(signs).set_index("mois"))
st.dataframe(
    by_park,
    hide_index=True,
    width="stretch",
    column_config={
        "% posés": st.column_config.ProgressColumn(
            "% posés", min_value=0, max_value=100, format="%.0f %%"
        )
    },
)
st.markdown("**Coûts et cofinancement régional par année (€ HT)**")
costs = costs_by_year(signs)
st.bar_chart(costs.set_index("Année"), stack=False)

st.subheader("Ce qui a changé")
since = st.date_input(
    "Depuis le",
    value=dt.date.today() - dt.timedelta(days=30),
    max_value=dt.date.today(),
    format="DD/MM/YYYY",
)
history = store.history(since=since.isoformat())
if history.empty:
    st.caption("Aucune modification sur cette période.")
else:
    st.dataframe(
        history.assign(
            avant=history["avant"].map(lambda d: (d or {}).get("statut")),
            apres=history["apres"].map(lambda d: (d or {}).get("statut")),
        ).rename(
            columns={
                "sign_id": "Panneau",
                "action": "Action",
                "qui": "Par",
                "quand": "Quand (UTC)",
                "avant": "Statut avant",
                "apres": "Statut après",
            }
        ),
        hide_index=True,
        width="stretch",
    )

if editor:
    st.subheader("Modifier (éditeur)")
    ids = list(signs["sign_id"])
    if ids:
        sid = st.selectbox(
            "Panneau",
            ids,
            key="sig_panneau_un",
            format_func=lambda i: f"{i} — {signs.set_index('sign_id').loc[i, 'parc_nom']}",
        )
        current = store.get(sid)
        st.caption(
            f"Statut actuel : {current['statut']} · version {current['version']} · "
            f"modifié par {md_escape(current['modifie_par'])} le {current['modifie_le']}"
        )
        with st.form("changer_statut"):
            a, b = st.columns(2)
            new_status = a.selectbox(
                "Nouveau statut", list(STATUSES), index=STATUSES.index(current["statut"])
            )
            day = b.date_input(
                "Date de l'étape",
                value=dt.date.today(),
                max_value=dt.date.today(),
                format="DD/MM/YYYY",
            )
            comment = st.text_input("Commentaire")
            move = st.checkbox(
                "Déplacer au dernier point cliqué sur la carte", disabled=not clicked
            )
            if st.form_submit_button("Enregistrer"):
                changes = {"statut": new_status, STEP_DATES[new_status]: day.isoformat()}
                if comment.strip():
                    changes["notes"] = (
                        (current.get("notes") or "") + f" [{day}] " + comment.strip()
                    ).strip()
                if move and clicked:
                    from shapely.geometry import Point

                    changes["geometry"] = Point(clicked[1], clicked[0])
                try:
                    store.update(sid, changes, int(current["version"]), editor)
                    st.success(f"Panneau {sid} enregistré.")
                    st.rerun()
                except ConflictError as err:
                    st.error(md_escape(err))
                except AtlasError as err:
                    st.error(md_escape(err))
    with st.expander("Ajouter un panneau au dernier point cliqué"):
        if not clicked:
            st.caption("Cliquez d'abord sur la carte à l'emplacement du panneau.")
        else:
            with st.form("ajouter"):
                a, b, c = st.columns(3)
                park = a.selectbox("Parc", list(parks_names), format_func=parks_names.get)
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
                    from shapely.geometry import Point

                    try:
                        new_id = store.add(
                            {
                                "parc_id": park,
                                "parc_nom": parks_names[park],
                                "type_panneau": kind,
                                "statut": status,
                                STEP_DATES[status]: day.isoformat(),
                                "maitre_ouvrage": "",
                                "cout_ht": cost,
                                "cofinancement_region": region,
                                "annee": day.year,
                                "notes": "",
                                "qualite": "saisie éditeur",
                                "geometry": Point(clicked[1], clicked[0]),
                            },
                            editor,
                        )
                        st.success(f"Panneau {new_id} ajouté.")
                    except AtlasError as err:
                        st.error(md_escape(err))
    if not history.empty:
        with st.expander("Annuler une modification"):
            entry = st.selectbox(
                "Modification",
                list(history["id"]),
                format_func=lambda i: " · ".join(
                    str(v)
                    for v in history.set_index("id").loc[i, ["sign_id", "action", "qui", "quand"]]
                ),
            )
            if st.button("Annuler cette modification"):
                try:
                    store.undo(int(entry), editor)
                    st.rerun()
                except AtlasError as err:
                    st.error(md_escape(err))

st.subheader(f"Panneaux ({len(signs)})")
table = signs.drop(columns="geometry")
st.dataframe(table, hide_index=True, width="stretch")
d1, d2, d3 = st.columns(3)
d1.download_button(
    "Tableau (CSV)",
    to_csv_bytes(table),
    file_name="atlas-pma-signaletique.csv",
    mime="text/csv",
)
d2.download_button(
    "Carte (GeoJSON)",
    to_geojson_bytes(signs, {"qualite": "synthétique"}),
    file_name="atlas-pma-signaletique.geojson",
    mime="application/geo+json",
)
d3.download_button(
    "Synthèse A4 pour le conseil (PDF)",
    council_pdf(
        signs,
        parks_shown,
        by_epci,
        describe_selection(territory, selection),
        dt.date.today().strftime("%d/%m/%Y"),
    ),
    file_name="atlas-pma-signaletique-synthese.pdf",
    mime="application/pdf",
)
with st.expander("Importer l'inventaire réel (format)"):
    st.markdown(
        "CSV (séparateur `;` ou `,`) avec les colonnes `lon`, `lat` (WGS84), `type_panneau` "
        f"({', '.join(TYPES)}), `statut` ({', '.join(STATUSES)}), les dates d'étape "
        "`date_demande`, `date_conception`, `date_fabrication`, `date_pose`, `date_reprise` "
        "(AAAA-MM-JJ), `parc_id`, `parc_nom`, `maitre_ouvrage`, `cout_ht`, "
        "`cofinancement_region`, `annee`, `notes` ; ou une couche GeoPackage/GeoJSON avec les "
        "mêmes champs. Commande : `pma-atlas signs import fichier.csv`. Toutes les lignes sont "
        "vérifiées d'abord (statut, dates non futures, point dans le PMA, cofinancement ≤ 50 %) ; "
        "à la moindre erreur rien n'est importé."
    )
_shared.remember_widgets(list(K.values()))
