"""Chaîne des Parcs signage: the sign model, validation, a synthetic sample, rollout figures.

A sign goes demandé → conçu → fabriqué → posé (or « à reprendre » when damaged or wrong);
each step has its date. Costs are excluding VAT (HT); the Region co-funds up to 50 %.
No real signage inventory is public: the shipped sample is synthetic and says so.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from layers.errors import AtlasError
from layers.territory import Territory


class Status(StrEnum):
    """A sign's rollout step, as the inventory's ``statut`` column spells it.

    Members are the persisted French strings (``Status.INSTALLED == "posé"``): compare and
    store them as such; the order is the rollout's.
    """

    REQUESTED = "demandé"
    DESIGNED = "conçu"
    MADE = "fabriqué"
    INSTALLED = "posé"
    TO_REDO = "à reprendre"  # installed, then to be redone


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)  # plain strings, rollout order
STEP_DATES: dict[str, str] = {  # a step → its date column
    Status.REQUESTED: "date_demande",
    Status.DESIGNED: "date_conception",
    Status.MADE: "date_fabrication",
    Status.INSTALLED: "date_pose",
    Status.TO_REDO: "date_reprise",
}
TYPES = ("totem d'entrée", "panneau d'information", "jalonnement directionnel", "balise")
STATUS_COLORS: dict[str, str] = {
    Status.REQUESTED: "#9e9e9e",
    Status.DESIGNED: "#42a5f5",
    Status.MADE: "#ffa726",
    Status.INSTALLED: "#2e7d32",
    Status.TO_REDO: "#c62828",
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


TEXT_MAX = {"notes": 2000}  # every other text field: TEXT_MAX_DEFAULT characters
TEXT_MAX_DEFAULT = 200
COST_MAX = 1_000_000.0  # € HT for one sign: above this, a typing error
YEAR_MIN = 1990
SIGN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def validate(
    sign: Mapping[str, object],
    territory: Territory | None,
    today: dt.date | None = None,
) -> list[str]:
    """Every problem of one sign (empty list when it is valid).

    ``territory=None`` skips the "inside the PMA" test (imports check it for all rows at
    once, see :func:`outside_pma`).
    """
    today = today or dt.date.today()
    problems = []
    if sign.get("statut") not in STATUSES:
        problems.append(
            f"statut inconnu « {str(sign.get('statut'))[:40]} » (attendu : {', '.join(STATUSES)})"
        )
    if sign.get("type_panneau") not in TYPES:
        problems.append(f"type de panneau inconnu « {str(sign.get('type_panneau'))[:40]} »")
    sign_id = sign.get("sign_id")
    if not _missing(sign_id) and not SIGN_ID_PATTERN.match(str(sign_id)):
        problems.append(
            f"identifiant « {str(sign_id)[:40]} » invalide (lettres, chiffres, . _ -, "
            "40 caractères au plus)"
        )
    for field in STEP_DATES.values():
        value = sign.get(field)
        if _missing(value):
            continue
        day = parse_date(value)
        if day is None:
            problems.append(f"{field} : date illisible « {str(value)[:20]} » (AAAA-MM-JJ)")
        elif day > today:
            problems.append(f"{field} : date dans le futur ({day.isoformat()})")
    status = sign.get("statut")
    if status in STEP_DATES and _missing(sign.get(STEP_DATES[status])):
        problems.append(f"date de l'étape « {status} » manquante")
    for field in TEXT_FIELDS:
        value = sign.get(field)
        limit = TEXT_MAX.get(field, TEXT_MAX_DEFAULT)
        if not _missing(value) and len(str(value)) > limit:
            problems.append(f"{field} : texte trop long ({len(str(value))} > {limit} caractères)")
    cost, cost_bad = _number(sign.get("cout_ht"))
    region, region_bad = _number(sign.get("cofinancement_region"))
    if cost_bad:
        problems.append(f"cout_ht : nombre illisible « {str(sign.get('cout_ht'))[:20]} »")
    elif cost is not None and not 0 <= cost <= COST_MAX:
        from layers.formatting import fmt_int, fmt_number

        problems.append(
            f"cout_ht : {fmt_number(cost)} € hors de la plage 0 – {fmt_int(COST_MAX)} €"
        )
    if region_bad:
        problems.append(
            "cofinancement_region : nombre illisible "
            f"« {str(sign.get('cofinancement_region'))[:20]} »"
        )
    elif region is not None and region < 0:
        problems.append("cofinancement régional négatif")
    elif region is not None and region > (cost or 0.0) * REGION_SHARE_MAX + 0.01:
        problems.append("cofinancement régional supérieur à 50 % du coût HT")
    year = sign.get("annee")
    if not _missing(year):
        number, bad = _number(year)
        if bad or number is None or number != int(number):
            problems.append(f"annee : année illisible « {str(year)[:20]} » (ex. 2025)")
        elif not YEAR_MIN <= number <= today.year + 10:
            problems.append(f"annee : {int(number)} hors de {YEAR_MIN} – {today.year + 10}")
    geom = sign.get("geometry")
    if not isinstance(geom, Point) or geom.is_empty:
        problems.append("position manquante (point)")
    elif not (math.isfinite(geom.x) and math.isfinite(geom.y)):
        problems.append("position illisible")
    elif territory is not None and outside_pma([geom], territory)[0]:
        problems.append(f"point hors du PMA ({geom.x:.5f}, {geom.y:.5f})")
    return problems


TEXT_FIELDS = ("parc_id", "parc_nom", "maitre_ouvrage", "notes", "qualite")


def outside_pma(points: Sequence[Point], territory: Territory) -> np.ndarray:
    """For each point, whether it lies outside every commune of the PMA (vectorised)."""
    import shapely

    area = territory.union_4326
    xs = np.array([p.x for p in points], dtype=float)
    ys = np.array([p.y for p in points], dtype=float)
    return ~shapely.contains_xy(area, xs, ys)


def _missing(value: object) -> bool:
    if type(value) is str:
        return value.strip() in ("", "NaT", "nan")
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "NaT", "nan")


def parse_date(value: object) -> dt.date | None:
    """A date from ISO text, a ``date``/``datetime``/``Timestamp``; None if unreadable."""
    if isinstance(value, dt.datetime):  # Timestamp is a datetime
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def parse_number(value: object) -> float | None:
    """A finite number from a number or text written the French or English way.

    ``"1 234,50"`` → 1234.5, ``"1234.5"`` → 1234.5, ``""`` → None; raises ``ValueError``
    on anything else (``"abc"``, ``"inf"``, ``1e400``).
    """
    if type(value) is str and value and "," not in value:
        try:  # fast path: plain decimal text
            out = float(value)
        except ValueError:
            pass
        else:
            if not math.isfinite(out):
                raise ValueError(value)
            return out
    if _missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float | np.integer | np.floating):
        out = float(value)
    else:
        text = re.sub(r"[\s\u00a0\u202f']", "", str(value))
        if "," in text and "." in text:
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", ".")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            raise ValueError(value)
        out = float(text)
    if not math.isfinite(out):
        raise ValueError(value)
    return out


def _number(value: object) -> tuple[float | None, bool]:
    """(number or None, unreadable?)."""
    try:
        return parse_number(value), False
    except (ValueError, OverflowError):
        return None, True


def normalise(sign: Mapping[str, object]) -> dict:
    """A validated sign with typed values: numbers as float/int, dates as ISO text."""
    out = dict(sign)
    for field in ("cout_ht", "cofinancement_region"):
        if field in out:
            out[field] = parse_number(out[field])
    if "annee" in out:
        year = parse_number(out["annee"])
        out["annee"] = None if year is None else int(year)
    for field in STEP_DATES.values():
        if field in out:
            day = None if _missing(out[field]) else parse_date(out[field])
            out[field] = None if day is None else day.isoformat()
    for field in TEXT_FIELDS:
        if field in out and _missing(out[field]):
            out[field] = None if field != "notes" else ""
    return out


def check(sign: Mapping[str, object], territory: Territory) -> None:
    """Raise :class:`SignValidationError` listing the problems of a sign."""
    problems = validate(sign, territory)
    if problems:
        raise SignValidationError("Panneau refusé : " + " ; ".join(problems) + ".")


def status_change(
    current: Mapping[str, object],
    new_status: str,
    day: dt.date | None,
    comment: str = "",
    position: Point | None = None,
    today: dt.date | None = None,
) -> dict:
    """The changes an editor's status form makes.

    A new status gets its step date (``day``, or today when left empty). When the status
    is unchanged, its step date is kept unless the editor gives one: a comment-only save
    never moves the date a sign was installed. A comment is appended to the notes, dated;
    optionally a new position.
    """
    today = today or dt.date.today()
    step = STEP_DATES[new_status]
    changes: dict[str, object] = {}
    if new_status != current.get("statut"):
        changes["statut"] = new_status
        changes[step] = (day or today).isoformat()
    elif day is not None or _missing(current.get(step)):
        changes[step] = (day or today).isoformat()
    if comment.strip():
        notes = str(current.get("notes") or "")
        changes["notes"] = f"{notes} [{today.isoformat()}] {comment.strip()}".strip()
    if position is not None:
        changes["geometry"] = position
    return changes


def new_sign(
    park_id: str,
    park_name: str,
    kind: str,
    status: str,
    day: dt.date,
    cost: float | None,
    region: float | None,
    position: Point,
) -> dict:
    """A sign entered by an editor (validated by the store when added)."""
    return {
        "parc_id": park_id,
        "parc_nom": park_name,
        "type_panneau": kind,
        "statut": status,
        STEP_DATES[status]: day.isoformat(),
        "maitre_ouvrage": "",
        "cout_ht": cost,
        "cofinancement_region": region,
        "annee": day.year,
        "notes": "",
        "qualite": "saisie éditeur",
        "geometry": position,
    }


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
            if STATUSES.index(status if status != Status.TO_REDO else Status.INSTALLED) >= i:
                steps[STEP_DATES[step]] = (base + dt.timedelta(days=60 * i)).isoformat()
        if status == Status.TO_REDO:
            steps[STEP_DATES[Status.TO_REDO]] = (base + dt.timedelta(days=400)).isoformat()
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
    other = ~done_2020 & (signs["statut"].isin([Status.MADE, Status.INSTALLED, Status.TO_REDO]))
    signs.loc[other, "cofinancement_region"] = (signs.loc[other, "cout_ht"] / 2).round(2)
    signs.insert(0, "sign_id", [f"S{i + 1:04d}" for i in range(len(signs))])
    signs["qualite"] = SYNTHETIC
    for field in STEP_DATES.values():
        if field not in signs:
            signs[field] = None
    return signs[list(FIELDS) + ["geometry"]]


def _draw(rng: np.random.Generator, done_2020: bool) -> tuple[str, int]:
    if done_2020:
        return Status.INSTALLED, 2020
    status = str(rng.choice(STATUSES, p=[0.15, 0.15, 0.15, 0.45, 0.10]))
    return status, int(rng.integers(2021, 2026))


@dataclass(frozen=True)
class SignFilter:
    """Filters on top of the shared selection; empty = no restriction."""

    parks: tuple[str, ...] = ()  # park ids, NO_PARK for signs without one
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    years: tuple[int, ...] = ()


NO_PARK = "sans parc"  # a sign may lack a park (an import without ``parc_id``)
NO_YEAR = "année inconnue"


def park_key(values: pd.Series) -> pd.Series:
    """``parc_id`` as text, ``""`` where a sign has no park (sortable, filterable)."""
    return values.map(lambda v: "" if _missing(v) else str(v))


def park_choices(signs: pd.DataFrame) -> list[str]:
    """The parks of ``signs`` for a filter, ``""`` (« sans parc ») last."""
    keys = set(park_key(signs["parc_id"]))
    return sorted(keys - {""}) + ([""] if "" in keys else [])


def year_choices(signs: pd.DataFrame) -> list[int]:
    """The years of ``signs`` (unreadable or missing years left out)."""
    years = pd.to_numeric(signs["annee"], errors="coerce").dropna()
    return sorted({int(y) for y in years})


def park_label(signs: pd.DataFrame) -> pd.Series:
    """The park name to show per sign: its name, its id, or « sans parc »."""
    names = signs["parc_nom"].map(lambda v: None if _missing(v) else str(v))
    ids = park_key(signs["parc_id"])
    return names.fillna(ids.where(ids != "", NO_PARK))


def apply_filter(signs: gpd.GeoDataFrame, flt: SignFilter) -> gpd.GeoDataFrame:
    """Keep the signs matching every criterion (``""`` in ``parcs`` = signs with no park)."""
    keep = pd.Series(True, index=signs.index)
    if flt.parks:
        keep &= park_key(signs["parc_id"]).isin(flt.parks)
    for column, wanted in (
        ("type_panneau", flt.types),
        ("statut", flt.statuses),
        ("annee", flt.years),
    ):
        if wanted:
            keep &= signs[column].isin(wanted)
    return signs[keep]


def progress_by(signs: pd.DataFrame, column: str) -> pd.DataFrame:
    """Signs, installed signs and % installed per value of ``column``."""
    grouped = signs.assign(**{column: signs[column].fillna(NO_PARK)}).groupby(column)
    out = pd.DataFrame(
        {
            "panneaux": grouped.size(),
            "posés": grouped["statut"].agg(lambda s: int((s == Status.INSTALLED).sum())),
        }
    )
    out["% posés"] = (out["posés"] / out["panneaux"] * 100).round(1)
    return out.reset_index()


INSTALLED = Status.INSTALLED
INSTALLED_DEFINITION = (
    "« Posés » : panneaux dont le statut actuel est « posé », comptés à leur date de pose ; "
    "les panneaux « à reprendre » (posés puis à refaire) n'y sont pas."
)


def installed_over_time(signs: pd.DataFrame) -> pd.DataFrame:
    """Cumulative number of installed signs per month, by ``date_pose``.

    Same definition as the headline « Posés » (:data:`INSTALLED_DEFINITION`): only signs
    whose current status is « posé », so the curve ends on the headline figure.
    """
    installed = signs[signs["statut"] == INSTALLED]
    dates = pd.to_datetime(installed["date_pose"], errors="coerce").dropna()
    if dates.empty:
        return pd.DataFrame({"mois": [], "panneaux posés (cumul)": []})
    monthly = dates.dt.to_period("M").value_counts().sort_index()
    full = pd.period_range(monthly.index.min(), monthly.index.max(), freq="M")
    cumul = monthly.reindex(full, fill_value=0).cumsum()
    return pd.DataFrame({"mois": full.to_timestamp(), "panneaux posés (cumul)": cumul.values})


def steps_since(signs: pd.DataFrame, since: dt.date) -> pd.DataFrame:
    """Rollout steps (demandé, conçu, fabriqué, posé, à reprendre) dated on or after ``since``.

    What changed on the ground in a period, whether it was typed in the app or imported.
    """
    frame = pd.DataFrame(
        {
            "Panneau": signs["sign_id"].to_numpy(),
            "Parc": park_label(signs).to_numpy(),
            "Type": signs["type_panneau"].astype(str).to_numpy(),
        }
    )
    parts = []
    for status, field in STEP_DATES.items():
        if field not in signs:
            continue
        days = pd.to_datetime(signs[field], errors="coerce", format="mixed").to_numpy()
        part = frame.assign(_jour=days, Étape=status)
        parts.append(part[part["_jour"] >= pd.Timestamp(since)])
    if not parts:
        return pd.DataFrame(columns=["Date", "Panneau", "Parc", "Type", "Étape"])
    out = pd.concat(parts).sort_values(["_jour", "Panneau"], ascending=False)
    out.insert(0, "Date", out["_jour"].dt.strftime("%d/%m/%Y"))
    return out.drop(columns="_jour").reset_index(drop=True)


COST = "Coût HT (€)"
REGION = "Cofinancement Région (€)"
# one palette for the cost and the Region's share, on the page's chart and the council PDF
COST_COLORS = {COST: "#546e7a", REGION: "#2e7d32"}


def costs_by_year(signs: pd.DataFrame) -> pd.DataFrame:
    """HT costs and Region co-funding per year [€]."""
    years = pd.to_numeric(signs["annee"], errors="coerce")
    label = years.map(lambda y: NO_YEAR if pd.isna(y) else str(int(y)))
    grouped = (
        signs.assign(_annee=label, _ordre=years.fillna(9999))
        .groupby(["_ordre", "_annee"])[["cout_ht", "cofinancement_region"]]
        .sum()
        .reset_index(level=0, drop=True)
    )
    grouped.columns = [COST, REGION]
    return grouped.reset_index().rename(columns={"_annee": "Année"})


def headline_figures(signs: pd.DataFrame) -> dict[str, str]:
    """The signage page's headline figures, for officials: label (with unit) → French string."""
    from layers.formatting import fmt_int

    n = len(signs)
    posed = int((signs["statut"] == INSTALLED).sum())
    return {
        "Panneaux": fmt_int(n),
        "Posés": fmt_int(posed),
        "% posés": f"{posed / n * 100:.0f} %" if n else "—",
        "Coût HT (€)": fmt_int(signs["cout_ht"].sum()),
        "Cofinancement Région (€)": fmt_int(signs["cofinancement_region"].sum()),
        "À reprendre": fmt_int(int((signs["statut"] == Status.TO_REDO).sum())),
    }


# the table people read (screen and CSV): French headers; editors' columns only for editors
TABLE_COLUMNS = {
    "sign_id": "Panneau",
    "parc_nom": "Parc",
    "type_panneau": "Type",
    "statut": "Statut",
    "date_demande": "Demandé le",
    "date_conception": "Conçu le",
    "date_fabrication": "Fabriqué le",
    "date_pose": "Posé le",
    "date_reprise": "À reprendre depuis le",
    "maitre_ouvrage": "Maître d'ouvrage",
    "cout_ht": "Coût HT (€)",
    "cofinancement_region": "Cofinancement Région (€)",
    "annee": "Année",
    "qualite": "Données",
}
EDITOR_COLUMNS = {
    "notes": "Notes des éditeurs",
    "version": "Version",
    "modifie_par": "Modifié par",
    "modifie_le": "Modifié le",
}


def sign_table(signs: pd.DataFrame, editor: bool = False) -> pd.DataFrame:
    """The inventory as people read it: French headers, dates ``JJ/MM/AAAA``, no raw ids.

    Editors' logins, notes and versions are only for logged-in editors (``editor=True``):
    a reader's table and CSV never carry them.
    """
    from layers.formatting import fmt_when

    columns = dict(TABLE_COLUMNS) | (EDITOR_COLUMNS if editor else {})
    out = pd.DataFrame(index=signs.index)
    for column, label in columns.items():
        if column not in signs:
            continue
        values = signs[column]
        if column == "parc_nom":
            values = park_label(signs)
        elif column in STEP_DATES.values():
            values = values.map(lambda v: "" if _missing(v) else fmt_when(str(v)[:10]))
        elif column == "modifie_le":
            values = values.map(fmt_when)
        elif values.dtype == object:
            values = values.map(lambda v: "" if _missing(v) else v)
        out[label] = values
    return out.reset_index(drop=True)


def fingerprint(signs: gpd.GeoDataFrame) -> int:
    """A number that changes whenever any value or position of ``signs`` changes.

    Keys the rendered signage map: the inventory changes with every edit.
    """
    import pandas as pd

    values = signs.drop(columns="geometry").astype(str)
    values["_position"] = signs.geometry.to_wkt()
    return int(pd.util.hash_pandas_object(values, index=False).sum()) ^ len(signs)
