"""What the cadastre page shows, read from a cadastre store: roofs, figures, map, PDF.

A store is what ``pma-atlas solar build`` writes (see :mod:`layers.solar.build`): roofs in
a GeoPackage with an R-tree (``toits``), addresses (``adresses``), per-commune totals
(``communes``), the computed area (``couverture``) and the irradiation as COG tiles.
Nothing here loads all roofs or the whole raster: a roof is found by the spatial index
(a click, an address) or by its ``cleabs`` (a shared link), and the territory view reads
the per-commune totals. This module never computes irradiation itself.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from layers.assumptions import Assumptions
from layers.economics import YEARS, RoofEstimate, estimate
from layers.errors import AtlasError
from layers.formatting import (
    fmt_date,
    fmt_float,
    fmt_int,
    fmt_number,
    fmt_percent,
    md_escape,
    new_pdf,
    pdf_text,
    scale_length,
)
from layers.geocode import Address
from layers.mapping import (
    DataAttribution,
    Field,
    Legend,
    add_outlines,
    display_frame,
    make_tooltip,
    new_map,
)
from layers.settings import Settings
from layers.solar.errors import SolarError
from layers.solar.store import ADDRESS_TO_ROOF_M, Reader
from layers.solar.store import CLASSES as CLASS_COLUMNS
from layers.territory import Selection, Territory, selected_communes
from layers.urls import TILE, link
from layers.web_tiles import Breaks, colorize, hex_rgb

CLASS_ORDER = list(CLASS_COLUMNS)
ROOFS_FROM_ZOOM = 16
TILES_FROM_ZOOM = 11  # below, the irradiation means little: the computed area is drawn
NEAR_M = 150.0  # roof outlines drawn around the chosen point
LOG = logging.getLogger("atlas.cadastre")
_TO_L93 = Transformer.from_crs(4326, 2154, always_xy=True)


@dataclass(frozen=True)
class Cadastre:
    """The app's view of an opened store: the engine's :class:`Reader`, its area in EPSG:4326.

    Everything about the store's files goes through ``reader`` (:mod:`layers.solar.store`);
    this adds what a web map needs (longitudes and latitudes) and French wording.
    """

    reader: Reader
    coverage: BaseGeometry  # EPSG:4326 polygon of the computed tiles

    @property
    def path(self) -> Path:
        """The store's folder."""
        return self.reader.path

    @property
    def communes(self) -> pd.DataFrame:
        """Per-commune totals (insee, commune, epci, toits, kWc, kWh…)."""
        return self.reader.communes

    @property
    def synthetic(self) -> bool:
        """Whether the roofs come from fictional buildings."""
        return self.reader.synthetic

    @property
    def has_addresses(self) -> bool:
        """Whether the store holds an address layer."""
        return self.reader.has_addresses

    @property
    def version(self) -> str:
        """The key of whatever is cached from this store."""
        return self.reader.version

    @property
    def vrt(self) -> Path:
        """The whole irradiation raster (a VRT over the tiles' COGs)."""
        return self.reader.layout.vrt

    @property
    def tiles(self) -> list[str]:
        """Names of the computed LiDAR tiles (``0684_7041``…)."""
        return self.reader.tiles

    @property
    def climate(self) -> str:
        """Which typical year the estimates used, in one French line."""
        return describe_climate(self.reader.climate)


def describe_climate(w: object) -> str:
    """Which typical year, where, from when, in one French line.

    « Uccle (BEL), SRC-TMYx — EPW, 50,80° N 4,36° E, année type 2007–2021, 1 113,5
    kWh/m²/an au sol »: one range of years, the one the typical year was built from.
    """
    if not isinstance(w, dict):
        return "climat non renseigné"
    name, source = str(w.get("nom", "?")), str(w.get("source", "?"))
    parts = [source] if source != name else []
    lat, lon = w.get("latitude"), w.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        parts.append(
            f"{fmt_float(abs(lat), 2)}° {'N' if lat >= 0 else 'S'} "
            f"{fmt_float(abs(lon), 2)}° {'E' if lon >= 0 else 'O'}"
        )
    if w.get("periode"):
        parts.append(f"année type {w['periode']}")
    if isinstance(w.get("ghi_kwh_m2"), int | float):
        parts.append(f"{fmt_float(w['ghi_kwh_m2'], 1)} kWh/m²/an au sol")
    return f"{name} — " + ", ".join(parts)


def open_cadastre(path: Path) -> Cadastre | None:
    """Open a store; ``None`` when nothing is computed there yet, SolarError when damaged."""
    try:
        reader = Reader.open(Path(path))
    except SolarError as err:  # the details to the log, the French sentence to the page
        LOG.error("magasin du cadastre %s : %s (%s)", path, err, err.__cause__)
        raise
    if reader is None:
        return None
    coverage = gpd.GeoSeries([reader.coverage], crs=2154).to_crs(4326).iloc[0]
    return Cadastre(reader=reader, coverage=coverage)


def roof_at_latlng(cad: Cadastre, lat: float, lng: float) -> str | None:
    """``cleabs`` of the roof under a clicked point (latitude, longitude), or ``None``."""
    hits = cad.reader.roofs_under(*_TO_L93.transform(lng, lat))
    return None if hits.empty else str(hits["cleabs"].iloc[0])


def get_roof(cad: Cadastre, cleabs: str) -> pd.Series | None:
    """One roof by its ``cleabs`` (indexed), geometry in EPSG:4326; ``None`` if unknown."""
    row = cad.reader.roof(cleabs)
    if row is None:
        return None
    roof = gpd.GeoDataFrame([row], crs=2154).to_crs(4326).iloc[0].copy()
    roof["toit_id"] = cleabs
    return roof


def roofs_near_latlng(
    cad: Cadastre, lat: float, lng: float, radius: float = NEAR_M
) -> gpd.GeoDataFrame:
    """Roofs around a point (latitude, longitude), for their outlines on the map (EPSG:4326)."""
    rows = cad.reader.roofs_near(*_TO_L93.transform(lng, lat), radius)
    return rows.to_crs(4326).assign(toit_id=rows["cleabs"])


def locate(address: Address, cad: Cadastre | None, territory: Territory) -> tuple[str, str | None]:
    """Status of an address and its roof: ``hors_pma``, ``non_couvert``, ``sans_toit``, ``toit``."""
    from layers.geocode import in_pma

    if not in_pma(address, territory):
        return "hors_pma", None
    if cad is None or not cad.coverage.contains(Point(address.lon, address.lat)):
        return "non_couvert", None
    x, y = _TO_L93.transform(address.lon, address.lat)
    near = cad.reader.roofs_near(x, y, ADDRESS_TO_ROOF_M)
    if near.empty:
        return "sans_toit", None
    dist = near.distance(Point(x, y))
    if dist.min() > ADDRESS_TO_ROOF_M:
        return "sans_toit", None
    return "toit", str(near.loc[dist.idxmin(), "cleabs"])


SEARCH_CANDIDATES = 200


def address_candidates(cad: Cadastre, query: str) -> pd.DataFrame:
    """Addresses of the store whose text holds every distinctive word of ``query``.

    One bounded read (at most ``SEARCH_CANDIDATES`` rows): the address table is never
    loaded whole. The result has the columns :func:`layers.geocode.local_search` scores.
    """
    from layers.geocode import GENERIC, _norm
    from layers.solar.ban import fold

    words = [w for w in fold(query).split() if w not in GENERIC and (len(w) > 1 or w.isdigit())]
    rows = cad.reader.addresses(words[:6], SEARCH_CANDIDATES)
    if rows.empty:
        return pd.DataFrame()
    lonlat = rows.geometry.to_crs(4326)
    return pd.DataFrame(
        {
            "label": rows["label"],
            "lon": lonlat.x.round(7),
            "lat": lonlat.y.round(7),
            "code_insee": rows["code_insee"],
            "synthetique": rows["synthetique"],
            "_tokens": rows["label"].map(_norm),
        }
    )


def roofs_of(cad: Cadastre, insee: list[str]) -> gpd.GeoDataFrame:
    """All roofs of some communes (for a download asked for), in EPSG:4326."""
    rows = cad.reader.roofs_of(insee)
    return rows.to_crs(4326).assign(toit_id=rows["cleabs"])


DEMO_KM = 2  # the demo store: 2 × 2 LiDAR tiles (4 km²), a minute to compute


def prepare_demo_store(
    geodata_dir: Path, progress: bool = False, cache_dir: Path | None = None
) -> bool:
    """Compute the fictional demo territory's store when missing or stale; True if built.

    ``cache_dir``: where the sky tables are kept (:attr:`Settings.cache_dir`).

    Inputs in the IGN/BAN formats go to ``geodata/cadastre-demo-entrees`` (written once),
    the store to ``geodata/cadastre-demo``. The build is incremental: a later call only
    checks checksums (seconds) and recomputes what changed, e.g. after an edit of the
    ``solaire`` assumptions.
    """
    from layers.assumptions import load_assumptions
    from layers.demo.territory import write_territory
    from layers.settings import DEFAULT_WEATHER, DEMO_STORE
    from layers.solar.build import BuildJob, BuildOptions, build
    from layers.territory import load_territory

    geodata_dir = Path(geodata_dir)
    inputs, store = geodata_dir / f"{DEMO_STORE}-entrees", geodata_dir / DEMO_STORE
    communes = load_territory(geodata_dir).communes
    if not (inputs / "LISEZMOI.json").is_file():
        write_territory(inputs, DEMO_KM, communes=communes)
    report = build(
        BuildJob(
            lidar_dir=inputs / "lidar",
            buildings=inputs / "batiment.gpkg",
            weather=geodata_dir / DEFAULT_WEATHER,
            out=store,
            rules=load_assumptions(geodata_dir).roof_rules(),
            communes=communes,
            addresses=inputs / "adresses-62.csv",
            # two app processes (or test workers) starting at once: one builds
            options=BuildOptions(progress=progress, wait=True, cache_dir=cache_dir),
        )
    )
    return report.assembled  # True whenever a tile was computed, too


def covered_communes(cad: Cadastre | None, territory: Territory, selection: Selection) -> list[str]:
    """INSEE codes of the selection's communes that have computed roofs."""
    if cad is None or cad.communes.empty:
        return []
    keep = set(selected_communes(territory, selection)["insee"])
    return sorted(set(cad.communes["insee"].dropna()) & keep)


NOT_YET_COVERED = (
    "Secteur pas encore couvert : aucun toit de la sélection n'est encore calculé. "
    "La carte montre en pointillés le secteur déjà calculé."
)


def coverage_note(cad: Cadastre, territory: Territory, selection: Selection) -> str | None:
    """What the map's page says when the selection has no computed roof (``None`` if it has).

    A store computed outside the PMA (another territory's LiDAR) has roofs on the map that
    no EPCI or commune of the atlas holds: « pas encore couvert » would deny what the map
    shows (issue 30), so it says where the store is instead.
    """
    if covered_communes(cad, territory, selection):
        return None
    if not cad.coverage.is_empty and not cad.coverage.intersects(territory.union_4326):
        named = cad.communes.get("commune", pd.Series(dtype=str)).dropna().astype(str)
        where = f" ({', '.join(sorted(set(named))[:3])})" if len(named) else ""
        return (
            f"Ce cadastre couvre un secteur hors du Pôle Métropolitain de l'Artois{where} : "
            "ses toits s'affichent sur la carte et se choisissent d'un clic ou par adresse ; "
            "le filtre par intercommunalité et par commune ne s'y applique pas."
        )
    return NOT_YET_COVERED


MAP_COLORS = ("#3b4b5c", "#6c8ebf", "#f3d250", "#f28c28", "#c62828")


def map_classes(hyp: Assumptions) -> Breaks:
    """Colour classes of the irradiation map, from the same thresholds as the roof classes.

    ``solaire.carte_tres_faible`` (the map's darkest class) and ``solaire.classe_moyen``,
    ``classe_bon``, ``classe_excellent`` of ``hypotheses.toml``: one source for the map,
    its legend and the roof cards.
    """

    def t(name: str) -> float:
        return float(hyp.get("solaire", name).central)

    lows = [t("carte_tres_faible"), t("classe_moyen"), t("classe_bon"), t("classe_excellent")]
    if lows != sorted(lows):
        raise AtlasError("Hypothèses : seuils de classes d'irradiation non croissants.")
    n = [fmt_int(v) for v in lows]
    labels = [
        f"moins de {n[0]}",
        f"{n[0]} à {n[1]} (faible)",
        f"{n[1]} à {n[2]} (moyen)",
        f"{n[2]} à {n[3]} (bon)",
        f"{n[3]} et plus (excellent)",
    ]
    return list(zip([0.0, *lows], MAP_COLORS, labels, strict=True))


ADVICE = (
    "Potentiel maximal technique : le calcul ne voit ni la charpente, ni l'état de la "
    "toiture, ni les règles d'urbanisme ou de patrimoine (secteurs protégés, Bassin minier "
    "UNESCO, abords de monuments). Conseil gratuit et neutre : France Rénov' "
    "(0 808 800 700, france-renov.gouv.fr) et l'espace conseil de votre intercommunalité. "
    "Méfiez-vous du démarchage à domicile : ne signez rien le jour même, demandez plusieurs "
    "devis d'installateurs RGE."
)


def years_text(year: int | None) -> str:
    """A payback year in words: « 12 ans », or « plus de 20 ans » (never a bare « > »)."""
    return f"{year} ans" if year else f"plus de {YEARS} ans"


def payback_text(est: RoofEstimate) -> str:
    """The payback as a resident should read it: the central case first, then the range.

    « 14 ans (de 11 ans à plus de 20 ans selon les hypothèses) », or, when the central
    case does not pay back within 20 years, « Non rentabilisé en 20 ans dans le cas
    central (perte nette de 1 051 €) ; 17 ans dans le cas le plus favorable ».
    """
    low, mid, high = est.low.payback_year, est.central.payback_year, est.high.payback_year
    if mid:
        span = dict.fromkeys(years_text(y) for y in (high, low))
        spread = " à ".join(span)
        return f"{years_text(mid)}" + (
            f" (de {spread} selon les hypothèses)" if len(span) > 1 else ""
        )
    loss = -est.central.savings_20y
    text = f"Non rentabilisé en {YEARS} ans dans le cas central"
    if loss > 0:
        text += f" (perte nette de {fmt_int(loss)} € sur {YEARS} ans)"
    if high:
        return text + f" ; {years_text(high)} dans le cas le plus favorable"
    return text + " ni dans le cas le plus favorable"


@dataclass(frozen=True)
class Simulated:
    """What the resident simulated, as the roof sheet prints it (one definition with the card).

    ``kwc``: the simulated power; ``lines``: (label, French value) of every input;
    ``replaced``: key of an ``economie`` assumption → the value the simulation used instead.
    """

    kwc: float
    lines: tuple[tuple[str, str], ...]
    replaced: Mapping[str, str]


PRESENCE = {  # the simulator's question → level of ``economie.autonomie_max``
    "rare (absents en journée)": "bas",
    "partielle": "central",
    "fréquente (télétravail, retraite)": "haut",
}


def roof_headline(roof: Mapping[str, Any], est: RoofEstimate, kwc: float) -> str:
    """The roof card's first sentence (Markdown, every value escaped or formatted).

    The central case leads; the payback says plainly when it exceeds 20 years.
    """
    share = est.household_share
    return (
        f"**Classe du toit : {md_escape(roof['classe'])}**. Avec {fmt_float(kwc, 1)} kWc, "
        f"il produirait ≈ **{fmt_percent(share[1])}** de la consommation de votre foyer "
        f"({fmt_int(est.consumption_kwh)} kWh/an ; {fmt_percent(share[0])} à "
        f"{fmt_percent(share[2])} selon les hypothèses). Retour sur investissement : "
        f"**{md_escape(payback_text(est))}**."
    )


def tariff_caption(hyp: Assumptions) -> str:
    """What the estimate table's caption says of the tariff and premium, and if they expired."""
    text = (
        "Défavorable : peu de soleil et installation chère ; favorable : beaucoup de soleil "
        "et installation bon marché. Tarif d'achat du surplus et prime (≤ 9 kWc) : barème CRE"
    )
    expired = hyp.expired("economie")
    if not expired:
        return text + " en vigueur, voir les hypothèses."
    notes = "; ".join(f"{r.title} : {r.validity_note()}" for r in expired)
    return text + f" des hypothèses — {notes}."


def pays_back(est: RoofEstimate) -> bool:
    """Whether the central case pays back within the contract's 20 years."""
    return est.central.payback_year is not None


# the three cases of an estimate, as a resident reads them: the unfavourable case has the
# highest investment and the least sun (« bas » read as the lowest investment)
CASES = ("défavorable", "central", "favorable")


def estimate_table(est: RoofEstimate) -> pd.DataFrame:
    """The estimate as one table: rows with units, columns défavorable / central / favorable.

    The page shows it and the PDF sheet prints it: one source for both.
    """
    scenarios = (est.low, est.central, est.high)
    rows = {
        "Production (kWh/an)": [fmt_int(v) for v in est.production],
        "Investissement (€ TTC)": [fmt_int(r.investment) for r in scenarios],
        "Prime (€)": [fmt_int(r.premium) for r in scenarios],
        "Économie 1re année (€)": [fmt_int(r.first_year_savings) for r in scenarios],
        "Gain net sur 20 ans (€)": [fmt_int(r.savings_20y) for r in scenarios],
        "Retour sur investissement": [years_text(r.payback_year) for r in scenarios],
        "Consommé sur place (% de la production)": [
            fmt_percent(r.self_consumed_kwh / p if p > 0 else 0.0)
            for r, p in zip(scenarios, est.production, strict=True)
        ],
        "Part de la consommation du foyer": [fmt_percent(v) for v in est.household_share],
        "CO₂ évité (t/an)": [fmt_float(v, 2) for v in est.co2_t],
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(CASES))


ROOF_FIELDS: list[Field] = [
    ("adresse", "Adresse (fictive)", None),
    ("classe", "Classe", None),
    ("irradiation_utile", "Irradiation", lambda v: f"{fmt_int(v)} kWh/m²/an" if v == v else "—"),  # type: ignore[arg-type]
    ("kwc_central", "Puissance", lambda v: f"{fmt_float(v, 1)} kWc"),  # type: ignore[arg-type]
]


class MinZoomLayer(folium.MacroElement):
    """Shows a layer only from a zoom level on (roof outlines when zoomed in)."""

    _template = folium.elements.Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }}, layer = {{ this.layer.get_name() }};
            function sync() {
                var wanted = map.getZoom() >= {{ this.zoom }};
                if (wanted && !map.hasLayer(layer)) { map.addLayer(layer); }
                if (!wanted && map.hasLayer(layer)) { map.removeLayer(layer); }
            }
            map.on('zoomend', sync);
            sync();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: folium.map.Layer, zoom: int) -> None:
        super().__init__()
        self._name = "MinZoomLayer"
        self.layer = layer
        self.zoom = zoom


def roof_fields(cad: Cadastre) -> list[Field]:
    """Tooltip fields of the roof outlines (addresses said fictional on a synthetic store)."""
    label = "Adresse (fictive)" if cad.synthetic else "Adresse"
    return [(("adresse", label, None)), *ROOF_FIELDS[1:]]


def view_bounds(
    cad: Cadastre, territory: Territory, selection: Selection
) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((south, west), (north, east))``: the computed part of the selection, else all of it."""
    chosen = selected_communes(territory, selection)
    inside = chosen.to_crs(4326).union_all().intersection(cad.coverage) if len(chosen) else None
    area = inside if inside is not None and not inside.is_empty else cad.coverage
    west, south, east, north = area.bounds
    return (south, west), (north, east)


def cadastre_map(
    cad: Cadastre,
    settings: Settings,
    breaks: Breaks,
    basemap_id: str = "plan-ign",
    selected: pd.Series | None = None,
    near: gpd.GeoDataFrame | None = None,
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None,
    area: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """The cadastre map: irradiation, computed area, nearby roofs, legend, attribution.

    Irradiation tiles are served on demand from the store (:mod:`layers.routes`); the
    outlines of the roofs ``near`` the chosen one show from zoom 16.
    """
    chosen = str(selected["toit_id"]) if selected is not None else None
    if selected is not None:
        west, south, east, north = selected.geometry.bounds
        pad = 0.0006
        bounds = ((south - pad, west - pad), (north + pad, east + pad))
    elif bounds is None:
        west, south, east, north = cad.coverage.bounds
        bounds = ((south, west), (north, east))
    fmap = new_map(settings, basemap_id, bounds, fit_max_zoom=19)
    fmap.options["maxZoom"] = 21
    add_outlines(fmap, area)
    west, south, east, north = cad.coverage.bounds
    folium.TileLayer(
        # versioned: a rebuilt store gets new URLs, so browsers may keep tiles for good
        tiles=link(settings, TILE, query=f"v={cad.version}"),
        name="Irradiation annuelle",
        attr="Atlas PMA — irradiation calculée",
        overlay=True,
        control=True,
        min_zoom=TILES_FROM_ZOOM,
        max_native_zoom=19,
        max_zoom=21,
        opacity=0.85,
        bounds=[[south, west], [north, east]],
    ).add_to(fmap)
    folium.GeoJson(
        gpd.GeoDataFrame(geometry=[cad.coverage], crs=4326),
        name="Secteur calculé",
        style_function=lambda _f: {
            "color": "#1b6e5a",
            "weight": 2,
            "dashArray": "6 4",
            "fill": False,
        },
        interactive=False,
    ).add_to(fmap)
    if near is not None and len(near):
        fields = roof_fields(cad)
        if "adresse" not in near.columns:
            near = near.assign(adresse="")
        data = display_frame(near, fields, keep=["toit_id", "classe"])
        outlines = folium.GeoJson(
            data,
            name="Toits",
            tooltip=make_tooltip(fields),
            style_function=lambda f: {
                "color": "#000000" if f["properties"]["toit_id"] == chosen else "#263238",
                "weight": 4 if f["properties"]["toit_id"] == chosen else 1,
                "fillOpacity": 0.0 if f["properties"]["toit_id"] != chosen else 0.15,
                "fillColor": "#ffffff",
            },
            show=False,
        )
        outlines.add_to(fmap)
        MinZoomLayer(outlines, ROOFS_FROM_ZOOM).add_to(fmap)
    Legend(
        "Irradiation annuelle (kWh/m²/an)",
        [(c, label) for _v, c, label in reversed(breaks)]
        + [("#1b6e5a", "contour : secteur calculé")],
    ).add_to(fmap)
    texts = ["Atlas PMA, moteur solaire — climat " + cad.climate]
    if cad.synthetic:
        texts.insert(0, "TERRITOIRE FICTIF (données synthétiques)")
    DataAttribution(texts).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap


def roof_estimate(
    roof: pd.Series, hyp: Assumptions, kwc: float | None = None, **user: float | None
) -> RoofEstimate:
    """Economics of a roof at ``kwc`` (default: its maximum), from its specific yields."""
    kwc = float(roof["kwc_central"]) if kwc is None else kwc
    yields = []
    for level in ("bas", "central", "haut"):
        k = float(roof[f"kwc_{level}"])
        yields.append(float(roof[f"kwh_an_{level}"]) / k if k > 0 else 0.0)
    production = tuple(kwc * y for y in yields)
    return estimate(kwc, production, hyp, **user)  # type: ignore[arg-type]


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


def roof_thumbnail(
    cad: Cadastre, roof: pd.Series, breaks: Breaks, size_px: int = 360, margin_m: float = 25.0
) -> tuple[bytes, float]:
    """PNG of the irradiation around a roof, the roof outlined, and its width in metres.

    What is not coloured (ground, no data) shows light grey, not black.
    """
    import rasterio
    from PIL import Image, ImageDraw
    from rasterio.windows import from_bounds

    with rasterio.open(cad.vrt) as src:
        geom = gpd.GeoSeries([roof.geometry], crs=4326).to_crs(src.crs).iloc[0]
        w, s, e, n = geom.buffer(margin_m).bounds
        window = from_bounds(w, s, e, n, transform=src.transform)
        data = src.read(1, window=window, boundless=True, fill_value=np.nan)
        transform = src.window_transform(window)
    img = Image.fromarray(colorize(data, breaks, alpha=255), "RGBA").resize((size_px, size_px))
    draw = ImageDraw.Draw(img)
    sx, sy = size_px / data.shape[1], size_px / data.shape[0]
    inv = ~transform
    for part in getattr(geom, "geoms", [geom]):
        pts = [((inv * xy[:2])[0] * sx, (inv * xy[:2])[1] * sy) for xy in part.exterior.coords]
        draw.line(pts, fill=(0, 0, 0, 255), width=3)
    ground = Image.new("RGBA", img.size, (236, 236, 236, 255))
    buf = io.BytesIO()
    Image.alpha_composite(ground, img).convert("RGB").save(buf, "PNG")
    return buf.getvalue(), float(e - w)


def _thumbnail_legend(pdf, breaks: Breaks, width_m: float, x: float, y: float, side: float):
    """Scale bar and colour classes under the roof's map extract."""
    metres = scale_length(width_m / 3)
    bar = metres / width_m * side
    pdf.set_fill_color(30, 30, 30)
    pdf.rect(x, y + 1, bar, 1.2, style="F")
    pdf.set_font("Helvetica", "", 7)
    pdf.set_xy(x + bar + 1.5, y - 0.2)
    pdf.cell(20, 3.5, pdf_text(f"{fmt_int(metres)} m"))
    pdf.set_xy(x + 32, y - 0.2)
    pdf.cell(40, 3.5, pdf_text("contour noir : ce toit"))
    pdf.set_xy(x, y + 4)
    pdf.cell(side, 3.5, pdf_text("Irradiation annuelle (kWh/m²/an) :"))
    row = y + 8
    for _value, colour, label in reversed(breaks):
        pdf.set_fill_color(*hex_rgb(colour))
        pdf.rect(x, row + 0.5, 4, 2.6, style="F")
        pdf.set_xy(x + 5, row)
        pdf.cell(side - 5, 3.5, pdf_text(label))
        row += 3.6
    return row


def roof_sheet_pdf(
    cad: Cadastre,
    roof: pd.Series,
    est: RoofEstimate,
    simulated: Simulated,
    hyp: Assumptions,
    link: str,
    today: str,
) -> bytes:
    """A one-page A4 roof sheet: address, map extract, the project, its figures, link.

    The simulated project and its figures as three cases; the assumptions, those the
    simulation replaced saying so.

    ``today``: an ISO date, printed the French way.
    """
    pdf = new_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0, 9, pdf_text("Atlas PMA - fiche toit (cadastre solaire)"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 10)
    if cad.synthetic:
        pdf.set_text_color(170, 0, 0)
        pdf.multi_cell(
            0,
            5,
            new_x="LMARGIN",
            new_y="NEXT",
            text=pdf_text(
                "TERRITOIRE FICTIF : toit et adresse inventés pour la "
                "démonstration. Aucun bâtiment réel n'est représenté."
            ),
        )
        pdf.set_text_color(0, 0, 0)
    pdf.cell(
        0,
        6,
        pdf_text(
            f"Adresse : {roof.get('adresse', '?')} - {roof['commune']} - toit {roof['toit_id']}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.multi_cell(
        0, 5, pdf_text(f"Édité le {fmt_date(today)} — climat : {cad.climate}"),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    y = pdf.get_y() + 2
    breaks = map_classes(hyp)
    image, width_m = roof_thumbnail(cad, roof, breaks)
    pdf.image(io.BytesIO(image), x=10, y=y, w=70)
    _thumbnail_legend(pdf, breaks, width_m, x=10, y=y + 71, side=70)
    pdf.set_xy(85, y)
    _sheet_block(pdf, "Votre toit", [
        f"Retour sur investissement (cas central) : {payback_text(est)}",
        f"Classe : {roof['classe']} ({fmt_int(roof['irradiation_utile'])} kWh/m²/an, partie utile)",
        f"Surface utile : {fmt_float(roof['surface_utile_m2'], 0)} m² ; pente "
        f"{fmt_float(roof['pente_dominante'], 0)}° ; orientation {roof['orientation']}",
        f"Puissance maximale du toit : {fmt_float(roof['kwc_central'], 1)} kWc",
    ], x=85)  # fmt: skip
    _sheet_block(pdf, "Votre simulation", [f"{k} : {v}" for k, v in simulated.lines], x=85)
    pdf.set_y(max(pdf.get_y(), y + 71 + 8 + 3.6 * len(breaks)) + 3)
    _estimate_grid(pdf, estimate_table(est))
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(
        0,
        6,
        pdf_text(f"Hypothèses (geodata/hypotheses.toml, version du {fmt_date(hyp.version)})"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 8)
    for group in ("economie", "solaire"):
        for key, item in hyp.groups[group].items():
            used = simulated.replaced.get(key) if group == "economie" else None
            text = (
                f"- {item.title} : {fmt_number(item.low)} / {fmt_number(item.central)} / "
                f"{fmt_number(item.high)} {item.unit} ({fmt_date(item.date)})"
                + (f" - remplacée par votre simulation : {used}" if used else "")
                + (f" - ATTENTION, {item.validity_note()}" if item.expired() else "")
            )
            pdf.multi_cell(0, 3.8, pdf_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 4.5, pdf_text(ADVICE), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_text_color(0, 0, 160)
    pdf.cell(0, 5, pdf_text(f"Revoir ce toit : {link}"), link=link)
    return bytes(pdf.output())


def _sheet_block(pdf, title: str, lines: list[str], x: float) -> None:
    """A titled block of lines at ``x`` (the right of the map extract)."""
    pdf.set_x(x)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(115, 6, pdf_text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9.5)
    for line in lines:
        pdf.set_x(x)
        pdf.multi_cell(115, 4.8, pdf_text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _estimate_grid(pdf, table: pd.DataFrame) -> None:
    """The estimate table as the page shows it: one row a figure, three cases."""
    widths = (76, 38, 38, 38)
    pdf.set_font("Helvetica", "B", 9)
    pdf.set_fill_color(235, 238, 242)
    for width, head in zip(widths, ("Estimation", *table.columns), strict=True):
        pdf.cell(width, 6, pdf_text(head), border=1, fill=True, align="C")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for label, values in table.iterrows():
        pdf.cell(widths[0], 5.5, pdf_text(label), border=1)
        for width, value in zip(widths[1:], values, strict=True):
            pdf.cell(width, 5.5, pdf_text(value), border=1, align="R")
        pdf.ln()
