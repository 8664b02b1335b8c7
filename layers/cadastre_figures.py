"""The territory's potential (the « Territoire » tab) and the per-roof download table."""

from __future__ import annotations

from dataclasses import dataclass

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


def territory_potential(
    cad: Cadastre | None, territory: Territory, selection: Selection
) -> TerritoryPotential:
    """The selection's potential, from the store's per-commune totals."""
    covered = covered_communes(cad, territory, selection)
    if cad is None or not covered:
        return TerritoryPotential({"Toits analysés": "0"}, pd.DataFrame(), pd.DataFrame())
    rows = cad.communes[cad.communes["insee"].isin(covered)]
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
    counts = pd.Series(  # a store built before a class existed has no column for it
        {c: rows[col].sum() if col in rows else 0 for c, col in CLASS_COLUMNS.items()},
        dtype=float,
    )
    shares = counts / max(counts.sum(), 1) * 100
    classes = pd.DataFrame({"Classe": shares.index, "Part des toits (%)": shares.round(1).values})
    per_commune = pd.DataFrame(
        {
            "Commune": rows["commune"].to_numpy(),
            "Toits": rows["toits"].to_numpy(),
            "Surface utile (m²)": rows["surface_utile_m2"].round(0).to_numpy(),
            "MWc (central)": (rows["kwc_central"] / 1000).round(3).to_numpy(),
            "GWh/an (central)": (rows["kwh_an_central"] / 1e6).round(3).to_numpy(),
        }
    ).sort_values("Commune")
    return TerritoryPotential(figures, classes, per_commune)


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
            "Qualité des données": roofs.get("qualite", ""),
        }
    )
