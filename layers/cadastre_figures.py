"""The territory's potential (the « Territoire » tab) and the per-roof download table."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from layers.cadastre import Cadastre, covered_communes
from layers.formatting import (
    fmt_float,
    fmt_int,
)
from layers.solar.store import CLASSES as CLASS_COLUMNS
from layers.territory import Selection, Territory


@dataclass(frozen=True)
class TerritoryPotential:
    """The « Territoire » tab: headline figures, class shares, one row per commune."""

    headline_figures: dict[str, str]  # label (with its unit) → French string
    classes: pd.DataFrame  # Classe, Part des toits (%)
    per_commune: pd.DataFrame  # empty when nothing of the selection is computed
    per_epci: pd.DataFrame = field(default_factory=pd.DataFrame)  # the same, per EPCI


def territory_potential(
    cad: Cadastre | None, territory: Territory, selection: Selection
) -> TerritoryPotential:
    """The selection's potential, from the store's per-commune totals."""
    covered = covered_communes(cad, territory, selection)
    if cad is None or not covered:
        return TerritoryPotential({"Toits analysés": "0"}, pd.DataFrame(), pd.DataFrame())
    rows = cad.communes[cad.communes["insee"].isin(covered)].copy()
    for column in FACE_COUNTS:  # a store built before faces existed has none
        if column not in rows:
            rows[column] = 0
    figures = {
        "Toits analysés": fmt_int(rows["toits"].sum()),
        "Surface utile (m²)": fmt_int(rows["surface_utile_m2"].sum()),
        "Puissance (MWc)": (
            f"{fmt_float(rows['kwc_bas'].sum() / 1000, 1)} – "
            f"{fmt_float(rows['kwc_haut'].sum() / 1000, 1)}"
        ),
        "Production (GWh/an)": (
            f"{fmt_float(rows['kwh_an_bas'].sum() / 1e6, 2)} – "
            f"{fmt_float(rows['kwh_an_haut'].sum() / 1e6, 2)}"
        ),
    }
    if rows["panneaux"].sum() > 0:
        figures["Pans de toit"] = fmt_int(rows["pans"].sum())
        figures["Panneaux posables"] = fmt_int(rows["panneaux"].sum())
    if rows["classe_non_vu"].sum() > 0:
        figures["Non vus par le LiDAR (bâtiments)"] = fmt_int(rows["classe_non_vu"].sum())
    counts = pd.Series(  # a store built before a class existed has no column for it
        {c: rows[col].sum() if col in rows else 0 for c, col in CLASS_COLUMNS.items()},
        dtype=float,
    )
    shares = counts / max(counts.sum(), 1) * 100
    classes = pd.DataFrame({"Classe": shares.index, "Part des toits (%)": shares.round(1).values})
    per_commune = _planner_table(rows, {"Commune": rows["commune"].to_numpy()}).sort_values(
        "Commune"
    )
    names = territory.epci_names
    by_epci = rows.groupby("epci", sort=False)[
        ["toits", "surface_utile_m2", "kwc_central", "kwh_an_central", *FACE_COUNTS]
    ].sum()
    by_epci = by_epci.reindex([c for c in names if c in by_epci.index])  # the usual order
    per_epci = _planner_table(
        by_epci, {"Intercommunalité": [names[c] for c in by_epci.index]}
    ).reset_index(drop=True)
    return TerritoryPotential(figures, classes, per_commune, per_epci)


FACE_COUNTS = ["pans", "panneaux", "classe_non_vu"]


def _planner_table(rows: pd.DataFrame, first: dict) -> pd.DataFrame:
    """One row per commune (or EPCI): roofs, faces, modules, MWc, GWh/yr (issue 27).

    The same columns in the tab, its chart and its CSV (one definition).
    """
    return pd.DataFrame(
        {
            **first,
            "Toits": rows["toits"].to_numpy(),
            "Pans": rows["pans"].to_numpy(),
            "Panneaux": rows["panneaux"].to_numpy(),
            "Non vus (LiDAR)": rows["classe_non_vu"].to_numpy(),
            "Surface utile (m²)": rows["surface_utile_m2"].round(0).to_numpy(),
            "MWc (central)": (rows["kwc_central"] / 1000).round(3).to_numpy(),
            "GWh/an (central)": (rows["kwh_an_central"] / 1e6).round(3).to_numpy(),
        }
    )


def planner_csv(potential: TerritoryPotential) -> bytes:
    """The tab's tables as one CSV: every EPCI, then every commune (French spreadsheet).

    Parameters
    ----------
    potential
        :func:`territory_potential`'s.

    Returns
    -------
    bytes
        ``;``-separated, decimal comma, UTF-8 with BOM (:func:`layers.export.to_csv_bytes`).
    """
    from layers.export import to_csv_bytes

    epci = potential.per_epci.rename(columns={"Intercommunalité": "Territoire"})
    communes = potential.per_commune.rename(columns={"Commune": "Territoire"})
    table = pd.concat(
        [epci.assign(Niveau="intercommunalité"), communes.assign(Niveau="commune")],
        ignore_index=True,
    )
    return to_csv_bytes(table[["Niveau", *[c for c in table.columns if c != "Niveau"]]])


def roof_table(roofs: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-roof table for downloads (French headers with units)."""
    return pd.DataFrame(
        {
            "Toit (cleabs BD TOPO)": roofs["toit_id"],
            "Adresse": roofs.get("adresse", ""),
            "Commune": roofs.get("commune", ""),
            "Classe": roofs["classe"],
            "Surface utile (m²)": roofs["surface_utile_m2"],
            "Irradiation (kWh/m²/an)": roofs["irradiation_utile"],
            "Pente (°)": roofs["pente_dominante"],
            "Orientation": roofs["orientation"],
            "kWc (bas)": roofs["kwc_bas"],
            "kWc (central)": roofs["kwc_central"],
            "kWc (haut)": roofs["kwc_haut"],
            "kWh/an (bas)": roofs["kwh_an_bas"],
            "kWh/an (central)": roofs["kwh_an_central"],
            "kWh/an (haut)": roofs["kwh_an_haut"],
            "Pans": roofs.get("pans", 0),
            "Panneaux": roofs.get("panneaux", 0),
            "Puissance calculée par": roofs.get("calcul_puissance", "surface"),
            "Qualité des données": roofs.get("qualite", ""),
        }
    )
