"""Brownfields (Cartofriches): filtering, ground-mounted PV screening, figures, map.

The PV estimate is a first screening from documented assumptions (``hypotheses.toml``),
never a feasibility study: installable MWc = surface [ha] × usable share × MWc/ha, yearly
energy = MWc × specific yield [kWh/kWc/yr]. Low, central and high values combine the low,
central and high assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd

from layers.assumptions import LEVELS, Assumptions
from layers.formatting import fmt_float, fmt_int, fmt_when
from layers.mapping import (
    DataAttribution,
    Field,
    Legend,
    add_outlines,
    clustered_points,
    frame_bounds,
    new_map,
)
from layers.settings import Settings
from layers.territory import Territory

VERIFIED_LABELS = {True: "vérifié", False: "non vérifié (candidat BASIAS/BASOL)"}
STATUS_COLORS = {
    "friche sans projet": "#d73027",
    "friche avec projet": "#1a9850",
    "friche potentielle": "#fc8d59",
}
OTHER_COLOR = "#777777"
CLUSTER_UNTIL_ZOOM = 13  # from this zoom on, every site is drawn on its own


@dataclass(frozen=True)
class BrownfieldFilter:
    """What the planner asked for; empty tuples mean "no restriction"."""

    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    surface_ha: tuple[float, float] | None = None
    verified: bool | None = None  # True: verified sites only; False: unverified; None: all
    activity: str = ""  # words searched in the past activity and the name


def pv_estimate(surface_m2: np.ndarray | float, hyp: Assumptions) -> dict[str, np.ndarray]:
    """Installable power [MWc] and yearly energy [GWh/yr] per level (bas, central, haut)."""
    area_ha = np.asarray(surface_m2, dtype=float) / 10_000
    share, density = hyp.get("pv_sol", "part_mobilisable"), hyp.get("pv_sol", "densite")
    yield_ = hyp.get("pv_sol", "productible")
    out: dict[str, np.ndarray] = {}
    for level in LEVELS:
        mwc = area_ha * share.at(level) * density.at(level)
        out[f"mwc_{level}"] = mwc
        out[f"gwh_{level}"] = mwc * yield_.at(level) / 1000  # MWc·kWh/kWc = MWh
    return out


def prepare(friches: gpd.GeoDataFrame, hyp: Assumptions) -> gpd.GeoDataFrame:
    """Add surface in ha, the PV screening columns and a small-site flag."""
    out = friches.copy()
    out["surface_ha"] = out["site_surface"].astype(float) / 10_000
    for name, values in pv_estimate(out["site_surface"].to_numpy(), hyp).items():
        out[name] = values
    out["petit_site"] = out["surface_ha"] < hyp.get("pv_sol", "seuil_surface").central
    return out


def option_counts(friches: pd.DataFrame, column: str) -> dict[str, int]:
    """Value → number of sites, most frequent first (for "Statut (n)" labels)."""
    counts = friches[column].fillna("non renseigné").value_counts()
    return {str(k): int(v) for k, v in counts.items()}


def apply_filter(friches: gpd.GeoDataFrame, flt: BrownfieldFilter) -> gpd.GeoDataFrame:
    """Keep the sites matching every criterion of ``flt``."""
    keep = pd.Series(True, index=friches.index)
    if flt.statuses:
        keep &= friches["site_statut"].fillna("non renseigné").isin(flt.statuses)
    if flt.types:
        keep &= friches["site_type"].fillna("non renseigné").isin(flt.types)
    if flt.surface_ha is not None:
        low, high = flt.surface_ha
        keep &= friches["surface_ha"].between(low, high)
    if flt.verified is not None:
        keep &= friches["verifie"].astype(bool) == flt.verified
    query = flt.activity.strip().casefold()
    if query:
        text = friches["activite_libelle"].fillna("") + " " + friches["site_nom"].fillna("")
        keep &= text.str.casefold().str.contains(query, regex=False)
    return friches[keep]


def figures_by_epci(friches: gpd.GeoDataFrame, territory: Territory) -> pd.DataFrame:
    """Sites, hectares and PV range per EPCI (plus a total row), French headers with units."""
    epci = friches["insee"].map(territory.epci_of)
    grouped = friches.assign(EPCI=epci.fillna("hors PMA")).groupby("EPCI")
    table = grouped.agg(
        sites=("site_id", "size"),
        verifies=("verifie", "sum"),
        ha=("surface_ha", "sum"),
        mwc_bas=("mwc_bas", "sum"),
        mwc_central=("mwc_central", "sum"),
        mwc_haut=("mwc_haut", "sum"),
        gwh_central=("gwh_central", "sum"),
    )
    order = [c for c in territory.epci_names if c in table.index]
    table = table.reindex(order + [i for i in table.index if i not in order])
    table.loc["Total"] = table.sum()
    table = table.reset_index().rename(
        columns={
            "sites": "Sites",
            "verifies": "dont vérifiés",
            "ha": "Surface (ha)",
            "mwc_bas": "MWc (bas)",
            "mwc_central": "MWc (central)",
            "mwc_haut": "MWc (haut)",
            "gwh_central": "GWh/an (central)",
        }
    )
    table[["Sites", "dont vérifiés"]] = table[["Sites", "dont vérifiés"]].astype(int)
    return table.round(1)


def site_table(friches: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-site table for display and download (French headers, units)."""
    return pd.DataFrame(
        {
            "Identifiant": friches["site_id"],
            "Nom": friches["site_nom"],
            "Commune": friches["comm_nom"],
            "Code INSEE": friches["insee"],
            "Statut": friches["site_statut"],
            "Type": friches["site_type"],
            "Vérifié par le Cerema": friches["verifie"].map({True: "oui", False: "non"}),
            "Surface (ha)": friches["surface_ha"].round(2),
            "Activité passée": friches["activite_libelle"],
            "Pollution connue": friches["sol_pollution_existe"],
            "Propriétaire (type)": friches["proprio_personne"],
            "Zonage d'urbanisme": friches["urba_zone_lib"],
            "PV sol MWc (bas)": friches["mwc_bas"].round(2),
            "PV sol MWc (central)": friches["mwc_central"].round(2),
            "PV sol MWc (haut)": friches["mwc_haut"].round(2),
            "PV sol GWh/an (central)": friches["gwh_central"].round(2),
            "Site < seuil ADEME": friches["petit_site"].map({True: "oui", False: "non"}),
            "Source": friches["source_nom"],
            "Mise à jour": friches["site_actu_date"],
        }
    ).reset_index(drop=True)


def _mwc_range(row: pd.Series) -> str:
    return (
        f"{fmt_float(row['mwc_bas'], 2)} – {fmt_float(row['mwc_haut'], 2)} MWc "
        f"(central {fmt_float(row['mwc_central'], 2)})"
    )


TOOLTIP_FIELDS: list[Field] = [
    ("site_nom", "Site", None),
    ("comm_nom", "Commune", None),
    ("site_statut", "Statut", None),
    ("verif_txt", "Vérification", None),
    ("surface_txt", "Surface", None),
    ("activite_libelle", "Activité passée", None),
    ("pv_txt", "PV au sol (repérage)", None),
    ("site_actu_date", "Mise à jour", lambda v: fmt_when(str(v)[:10])),
]


def brownfields_map(
    friches: gpd.GeoDataFrame,
    territory: Territory,
    settings: Settings,
    basemap_id: str = "plan-ign",
    area: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Sites as circles coloured by status (hollow when unverified), clustered when zoomed out."""
    fmap = new_map(settings, basemap_id, frame_bounds(area if area is not None else friches))
    add_outlines(fmap, area)
    data = friches.assign(
        verif_txt=friches["verifie"].map(VERIFIED_LABELS),
        surface_txt=friches["surface_ha"].map(lambda v: f"{fmt_float(v, 2)} ha"),
        pv_txt=friches.apply(_mwc_range, axis=1) if len(friches) else [],
        couleur=friches["site_statut"].map(STATUS_COLORS).fillna(OTHER_COLOR),
    )
    if len(data):
        clustered_points(
            data,
            TOOLTIP_FIELDS,
            data["couleur"],
            data["verifie"].fillna(False).astype(bool),
            settings,
            "Friches",
            CLUSTER_UNTIL_ZOOM,
        ).add_to(fmap)
    items = [(c, s) for s, c in STATUS_COLORS.items()] + [(OTHER_COLOR, "autre statut")]
    Legend("Friches (Cartofriches)", items, shapes={label: "point" for _, label in items}).add_to(
        fmap
    )
    checked, candidate = "plein : vérifié par le Cerema", "vide : candidat non vérifié"
    Legend(
        "Vérification",
        [("#444444", checked), ("#444444", candidate)],
        shapes={checked: "point", candidate: "hollow"},
        position="bottomleft",
    ).add_to(fmap)
    DataAttribution([territory.catalog["friches"].attribution]).add_to(fmap)
    return fmap


def headline_figures(friches: gpd.GeoDataFrame) -> dict[str, str]:
    """The brownfields page's headline figures: label (with its unit) → French string."""
    return {
        "Sites": fmt_int(len(friches)),
        "dont vérifiés": fmt_int(int(friches["verifie"].sum())),
        "Surface (ha)": fmt_float(friches["surface_ha"].sum(), 1),
        "PV au sol (MWc)": (
            f"{fmt_int(friches['mwc_bas'].sum())} – {fmt_int(friches['mwc_haut'].sum())}"
        ),
        "Production (GWh/an)": (
            f"{fmt_int(friches['gwh_bas'].sum())} – {fmt_int(friches['gwh_haut'].sum())}"
        ),
    }
