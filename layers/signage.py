"""Chaîne des Parcs signage: the sign model, validation, a synthetic sample, rollout figures.

A sign goes demandé → conçu → fabriqué → posé (or « à reprendre » when damaged or wrong);
each step has its date. Costs are excluding VAT (HT); the Region co-funds up to 50 %.
No real signage inventory is public: the shipped sample is synthetic and says so.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from layers.errors import AtlasError
from layers.territory import Territory

STATUSES = ("demandé", "conçu", "fabriqué", "posé", "à reprendre")
STEP_DATES = {
    "demandé": "date_demande",
    "conçu": "date_conception",
    "fabriqué": "date_fabrication",
    "posé": "date_pose",
    "à reprendre": "date_reprise",
}
TYPES = ("totem d'entrée", "panneau d'information", "jalonnement directionnel", "balise")
STATUS_COLORS = {
    "demandé": "#9e9e9e",
    "conçu": "#42a5f5",
    "fabriqué": "#ffa726",
    "posé": "#2e7d32",
    "à reprendre": "#c62828",
}
FIELDS = (
    "sign_id",
    "parc_id",
    "parc_nom",
    "type_panneau",
    "statut",
    "date_demande",
    "date_conception",
    "date_fabrication",
    "date_pose",
    "date_reprise",
    "maitre_ouvrage",
    "cout_ht",
    "cofinancement_region",
    "annee",
    "notes",
    "qualite",
)
REGION_SHARE_MAX = 0.5
SYNTHETIC = "synthétique — échantillon généré, aucun panneau réel"


class SignValidationError(AtlasError):
    """A sign (or an import file) breaks a rule; the message lists every problem in French."""


def validate(
    sign: Mapping[str, object], territory: Territory, today: dt.date | None = None
) -> list[str]:
    """Every problem of one sign (empty list when it is valid)."""
    today = today or dt.date.today()
    problems = []
    if sign.get("statut") not in STATUSES:
        problems.append(
            f"statut inconnu « {str(sign.get('statut'))[:40]} » (attendu : {', '.join(STATUSES)})"
        )
    if sign.get("type_panneau") not in TYPES:
        problems.append(f"type de panneau inconnu « {str(sign.get('type_panneau'))[:40]} »")
    for field in STEP_DATES.values():
        value = sign.get(field)
        if value in (None, "", "NaT") or (isinstance(value, float) and math.isnan(value)):
            continue
        try:
            day = dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            problems.append(f"{field} : date illisible « {str(value)[:20]} » (AAAA-MM-JJ)")
            continue
        if day > today:
            problems.append(f"{field} : date dans le futur ({day.isoformat()})")
    status = sign.get("statut")
    if status in STEP_DATES and not sign.get(STEP_DATES[status]):
        problems.append(f"date de l'étape « {status} » manquante")
    cost = _num(sign.get("cout_ht"))
    region = _num(sign.get("cofinancement_region"))
    if cost is not None and cost < 0:
        problems.append("coût HT négatif")
    if region is not None and cost is not None and region > cost * REGION_SHARE_MAX + 0.01:
        problems.append("cofinancement régional supérieur à 50 % du coût HT")
    geom = sign.get("geometry")
    if not isinstance(geom, Point) or geom.is_empty:
        problems.append("position manquante (point)")
    elif not territory.communes.contains(geom).any():
        problems.append(f"point hors du PMA ({geom.x:.5f}, {geom.y:.5f})")
    return problems


def _num(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def check(sign: Mapping[str, object], territory: Territory) -> None:
    """Raise :class:`SignValidationError` listing the problems of a sign."""
    problems = validate(sign, territory)
    if problems:
        raise SignValidationError("Panneau refusé : " + " ; ".join(problems) + ".")


COSTS = {
    "totem d'entrée": (6000, 9000),
    "panneau d'information": (2500, 4000),
    "jalonnement directionnel": (400, 800),
    "balise": (150, 300),
}
DONE_2020 = ("Canal d'Aire", "Berges de la Souchez")  # Region: 37,500 € obtained in 2020


def generate_sample(
    parks: gpd.GeoDataFrame, links: gpd.GeoDataFrame, seed: int = 2020
) -> gpd.GeoDataFrame:
    """A reproducible synthetic rollout from the real park layer (EPSG:4326 in and out).

    Entrance totems on park outlines, information panels inside, waymarking along the
    links. The Canal d'Aire and Berges de la Souchez signs are installed in 2020 with
    Region co-funding of 50 % totalling 37,500 € (the 2020 grant); the rest is spread over
    2021–2026 with statuses drawn at random. Every row says it is synthetic.
    """
    rng = np.random.default_rng(seed)
    parks_m = parks.to_crs(2154)
    rows: list[dict] = []

    def add(park, kind, point, status, year):
        low, high = COSTS[kind]
        cost = float(round(rng.uniform(low, high), -1))
        steps = {}
        base = dt.date(year, 1, 15) + dt.timedelta(days=int(rng.integers(0, 200)))
        for i, step in enumerate(STATUSES[:4]):
            if STATUSES.index(status if status != "à reprendre" else "posé") >= i:
                steps[STEP_DATES[step]] = (base + dt.timedelta(days=60 * i)).isoformat()
        if status == "à reprendre":
            steps["date_reprise"] = (base + dt.timedelta(days=400)).isoformat()
        rows.append(
            {
                "parc_id": park["parc_id"],
                "parc_nom": park["nom"],
                "type_panneau": kind,
                "statut": status,
                **steps,
                "maitre_ouvrage": park["maitre_ouvrage"] or "commune ou EPCI (à préciser)",
                "cout_ht": cost,
                "cofinancement_region": 0.0,
                "annee": year,
                "notes": "",
                "geometry": point,
            }
        )

    for _, park in parks_m.iterrows():
        if park["type"] == "étude de cas":
            continue
        done = any(name in park["nom"] for name in DONE_2020)
        ring = (
            park.geometry.exterior
            if park.geometry.geom_type == "Polygon"
            else max(park.geometry.geoms, key=lambda g: g.area).exterior
        )
        for _ in range(int(rng.integers(1, 4))):
            pt = ring.interpolate(float(rng.random()), normalized=True)
            status, year = _draw(rng, done)
            add(park, "totem d'entrée", pt, status, year)
        inner = park.geometry.representative_point()
        status, year = _draw(rng, done)
        add(park, "panneau d'information", inner, status, year)
    links_m = links.to_crs(2154)
    for _, link in links_m.iterrows():
        line = link.geometry if link.geometry.geom_type != "Polygon" else link.geometry.exterior
        park = parks_m[parks_m["parc_id"] == link.get("de", "")]
        owner = park.iloc[0] if len(park) else parks_m.iloc[0]
        n = max(1, int(line.length // 1500))
        for i in range(n):
            pt = line.interpolate((i + 0.5) / n, normalized=True)
            status, year = _draw(rng, False)
            add(owner, "jalonnement directionnel" if i % 2 == 0 else "balise", pt, status, year)
    signs = gpd.GeoDataFrame(rows, crs=2154).to_crs(4326)
    done_2020 = signs["parc_nom"].str.contains("|".join(DONE_2020)) & (signs["annee"] == 2020)
    total = signs.loc[done_2020, "cout_ht"].sum()
    if total > 0:  # share the 37,500 € grant at 50 % of a matching cost
        cost = (signs.loc[done_2020, "cout_ht"] / total * 75_000).round(0)
        cost.iloc[0] += 75_000 - cost.sum()  # exact total after rounding
        signs.loc[done_2020, "cout_ht"] = cost
        signs.loc[done_2020, "cofinancement_region"] = cost / 2
    other = ~done_2020 & (signs["statut"].isin(["fabriqué", "posé", "à reprendre"]))
    signs.loc[other, "cofinancement_region"] = (signs.loc[other, "cout_ht"] / 2).round(2)
    signs.insert(0, "sign_id", [f"S{i + 1:04d}" for i in range(len(signs))])
    signs["qualite"] = SYNTHETIC
    for field in STEP_DATES.values():
        if field not in signs:
            signs[field] = None
    return signs[list(FIELDS) + ["geometry"]]


def _draw(rng: np.random.Generator, done_2020: bool) -> tuple[str, int]:
    if done_2020:
        return "posé", 2020
    status = str(rng.choice(STATUSES, p=[0.15, 0.15, 0.15, 0.45, 0.10]))
    return status, int(rng.integers(2021, 2026))


@dataclass(frozen=True)
class SignFilter:
    """Filters on top of the shared selection; empty = no restriction."""

    parcs: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    statuts: tuple[str, ...] = ()
    annees: tuple[int, ...] = ()


def apply_filter(signs: gpd.GeoDataFrame, flt: SignFilter) -> gpd.GeoDataFrame:
    """Keep the signs matching every criterion."""
    keep = pd.Series(True, index=signs.index)
    for column, wanted in (
        ("parc_id", flt.parcs),
        ("type_panneau", flt.types),
        ("statut", flt.statuts),
        ("annee", flt.annees),
    ):
        if wanted:
            keep &= signs[column].isin(wanted)
    return signs[keep]


def progress_by(signs: pd.DataFrame, column: str) -> pd.DataFrame:
    """Signs, installed signs and % installed per value of ``column``."""
    grouped = signs.groupby(column)
    out = pd.DataFrame(
        {
            "panneaux": grouped.size(),
            "posés": grouped["statut"].agg(lambda s: int((s == "posé").sum())),
        }
    )
    out["% posés"] = (out["posés"] / out["panneaux"] * 100).round(1)
    return out.reset_index()


def installed_over_time(signs: pd.DataFrame) -> pd.DataFrame:
    """Cumulative number of installed signs per month (from ``date_pose``)."""
    dates = pd.to_datetime(signs["date_pose"], errors="coerce").dropna()
    if dates.empty:
        return pd.DataFrame({"mois": [], "panneaux posés (cumul)": []})
    monthly = dates.dt.to_period("M").value_counts().sort_index()
    full = pd.period_range(monthly.index.min(), monthly.index.max(), freq="M")
    cumul = monthly.reindex(full, fill_value=0).cumsum()
    return pd.DataFrame({"mois": full.to_timestamp(), "panneaux posés (cumul)": cumul.values})


def costs_by_year(signs: pd.DataFrame) -> pd.DataFrame:
    """HT costs and Region co-funding per year [€]."""
    grouped = signs.groupby("annee")[["cout_ht", "cofinancement_region"]].sum()
    grouped.columns = ["Coût HT (€)", "Cofinancement Région (€)"]
    return grouped.reset_index().rename(columns={"annee": "Année"})


def key_numbers(signs: pd.DataFrame) -> dict[str, str]:
    """Headline figures for officials."""
    from layers.formatting import fmt_int

    n = len(signs)
    posed = int((signs["statut"] == "posé").sum())
    return {
        "Panneaux": fmt_int(n),
        "Posés": fmt_int(posed),
        "% posés": f"{posed / n * 100:.0f} %" if n else "—",
        "Coût HT (€)": fmt_int(signs["cout_ht"].sum()),
        "Cofinancement Région (€)": fmt_int(signs["cofinancement_region"].sum()),
        "À reprendre": fmt_int(int((signs["statut"] == "à reprendre").sum())),
    }
