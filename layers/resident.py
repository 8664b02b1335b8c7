"""The resident's journey on the cadastre, without Streamlit: find an address, say where.

Where it stands (a roof, not yet computed, outside the PMA), which roof to show.

The page (``pages/cadastre_solaire.py``) asks and draws; every decision is taken here and
returned as plain objects, so it is tested without a browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd

from layers.assumptions import Assumptions
from layers.cadastre import ADDRESS_TO_ROOF_M, AddressStatus, Cadastre, address_candidates, locate
from layers.cadastre_estimate import (
    ADVICE,
    PRESENCE,
    Simulated,
    estimate_table,
    pays_back,
    roof_estimate,
    roof_headline,
    tariff_caption,
)
from layers.cadastre_panels import RoofPanels, face_line, modules_text
from layers.economics import RESIDENTIAL_MAX_KWC, RoofEstimate
from layers.errors import USER_ERRORS
from layers.formatting import fmt_float, fmt_int, fmt_number, md_escape
from layers.geocode import Address, Addresses, search
from layers.messages import Level, Message
from layers.settings import Settings
from layers.solar.labels import NOT_SEEN
from layers.territory import Territory

LOG = logging.getLogger("atlas.cadastre")


@dataclass(frozen=True)
class SearchOutcome:
    """What an address search gives the page.

    ``results``: the addresses to list (best first); ``roof``: the roof to show at once
    (the first result's, ``None`` when it has none: the previous card must go);
    ``messages``: (level, French text) to show, level ``info``, ``warning`` or ``error``.
    """

    results: list[Address]
    roof: str | None
    messages: list[Message] = field(default_factory=list)


STATUS_TEXT = {
    AddressStatus.OUTSIDE: (
        Level.WARNING,
        "Cette adresse est hors du Pôle Métropolitain de l'Artois : Atlas PMA ne couvre que "
        "ses 150 communes.",
    ),
    AddressStatus.NOT_COVERED: (
        Level.INFO,
        "Secteur pas encore couvert : aucun toit n'a encore été calculé à cette adresse. La "
        "carte montre en pointillés le secteur déjà calculé.",
    ),
    AddressStatus.NO_ROOF: (
        Level.INFO,
        f"Aucun toit calculé à moins de {ADDRESS_TO_ROOF_M:.0f} m de cette adresse : "
        "cliquez-le sur la carte.",
    ),
}


def address_source(
    cad: Cadastre, settings: Settings, read_file: Callable[[str], pd.DataFrame]
) -> tuple[Addresses, str | None]:
    """Where the offline search looks, and a warning when the configured file is unreadable.

    The administrator's address file (``ATLAS_ADRESSES``, read by ``read_file``) first,
    else the store's own address table (read on demand), else none.
    """
    store: Addresses = (lambda q: address_candidates(cad, q)) if cad.has_addresses else None
    if not settings.address_file:
        return store, None
    try:
        return read_file(str(settings.address_file)), None
    except USER_ERRORS as err:
        LOG.error("ATLAS_ADRESSES : %s", err)
        return store, (
            "Le fichier d'adresses local configuré est illisible : recherche sans lui "
            "(l'administrateur est prévenu dans le journal du serveur)."
        )


def find_address(
    query: str,
    cad: Cadastre,
    territory: Territory,
    settings: Settings,
    read_file: Callable[[str], pd.DataFrame],
    status_of: Callable[[Address], tuple[str, str | None]] | None = None,
) -> SearchOutcome:
    """Search ``query`` (BAN online when reachable, else offline) and choose what to show.

    ``status_of(address)`` gives (status, roof id) — :func:`layers.cadastre.locate` by
    default; the page passes a version shared by its sessions.
    """
    status_of = status_of or (lambda a: locate(a, cad, territory))
    source, warning = address_source(cad, settings, read_file)
    messages = [(Level.WARNING, warning)] if warning else []
    try:
        results, notice = search(query, territory, settings.ban_url, source)
    except USER_ERRORS as err:
        return SearchOutcome([], None, [*messages, (Level.ERROR, str(err))])
    if notice:
        messages.append((Level.INFO, notice))
    if not results:
        if query.strip():
            messages.append(
                (
                    Level.WARNING,
                    "Aucune adresse trouvée. Vérifiez l'orthographe ou cliquez votre toit.",
                )
            )
        return SearchOutcome([], None, messages)
    return SearchOutcome(results, chosen_roof(results[0], status_of), messages)


def chosen_roof(
    address: Address, status_of: Callable[[Address], tuple[str, str | None]]
) -> str | None:
    """The roof to show for a chosen address: its own, or none (never the previous one)."""
    status, roof = status_of(address)
    return roof if status == AddressStatus.ROOF else None


def status_message(status: AddressStatus) -> Message | None:
    """(level, French text) of an address's status; ``None`` when its roof is shown."""
    return STATUS_TEXT.get(status)


@dataclass(frozen=True)
class Simulation:
    """The resident's project, as the simulator's inputs give it."""

    kwc: float  # installed power [kWc]
    consumption: float  # the household's consumption [kWh/yr]
    presence: str  # a key of ``layers.cadastre.PRESENCE`` (« Présence au foyer en journée »)
    price: float  # electricity price [€/kWh]
    price_growth: float  # yearly price growth [%/yr]


@dataclass(frozen=True)
class RoofCard:
    """Everything the roof card shows, decided and worded here (French, Markdown-escaped).

    The page draws it: ``title``; ``notes`` (level, text) before the simulator;
    ``headline`` (Markdown); ``payback`` (level, text) — a warning when the central case
    does not pay back within the 20-year contract; ``residential`` (a warning above the
    residential scale, or ``None``); ``figures``; ``table`` (low / central / high);
    ``tariff`` (level, text) — a warning once the tariff's validity date is past;
    ``advice`` (the EPCI's name and the neutral-advice text).
    """

    title: str
    notes: list[Message]
    headline: str
    payback: Message
    residential: str | None
    figures: dict[str, str]
    table: pd.DataFrame
    tariff: Message
    advice: str
    estimate: RoofEstimate  # for the PDF
    simulated: Simulated  # the inputs, as the PDF prints them
    faces: list[str] = field(default_factory=list)  # one line per face (plain text)
    method: str = ""  # how the power and the production were computed (Markdown)
    panels: int = 0  # modules of the simulated project (0: the roof has no layout)


UNSEEN_TEXT = (
    "**Ce bâtiment n'apparaît pas dans le relevé LiDAR de l'IGN** : la BD TOPO le connaît, "
    "mais le modèle de surface montre le sol à sa place (construit après le relevé, ou "
    "trou dans le relevé). Sans mesure de son toit, Atlas PMA ne donne aucun chiffre — "
    "plutôt qu'une estimation fausse. Un installateur peut relever le toit sur place ; le "
    "cadastre le calculera au prochain relevé LiDAR HD."
)


def roof_title(roof: pd.Series) -> str:
    """What the card calls a roof: its address, else « bâtiment <cleabs> » (not escaped)."""
    address = roof.get("adresse")
    return address if isinstance(address, str) and address else f"bâtiment {roof['toit_id']}"


def unseen_notice(roof: pd.Series) -> Message | None:
    """What the card says instead of figures for a building the LiDAR did not see."""
    if str(roof.get("classe")) != NOT_SEEN:
        return None
    return (Level.WARNING, UNSEEN_TEXT)


def roof_card(
    roof: pd.Series,
    sim: Simulation,
    hyp: Assumptions,
    territory: Territory,
    synthetic: bool,
    laid: RoofPanels | None = None,
) -> RoofCard:
    """The card of ``roof`` for the project ``sim`` (no Streamlit: tested as is).

    ``laid``: the roof's faces and modules (:func:`layers.cadastre_panels.roof_panels`);
    when it has some, the simulated power is the best modules' that fit within
    ``sim.kwc``, and its production theirs.
    """
    eco = hyp.groups["economie"]
    config = laid.best(sim.kwc) if laid is not None and laid.configurations else None
    kwc = config.kwc if config is not None else sim.kwc
    if config is not None:
        sim = replace(sim, kwc=kwc)
    est = roof_estimate(
        roof,
        hyp,
        kwc,
        config,
        consumption=sim.consumption,
        autonomy=eco["autonomie_max"].at(PRESENCE[sim.presence]),
        price=sim.price,
        price_growth=sim.price_growth,
    )
    title = roof_title(roof)
    notes = []
    if synthetic:
        notes.append((Level.CAPTION, "Toit et adresse fictifs (territoire de démonstration)."))
    if float(roof["kwc_central"]) < 0.5:
        notes.append(
            (
                Level.WARNING,
                "Ce toit n'offre pas de surface utile suffisante pour des panneaux "
                "(pente, ombre ou taille).",
            )
        )
    if pays_back(est):
        payback = (
            Level.CAPTION,
            "Dans le cas central, l'installation se rembourse dans les 20 ans du contrat "
            "d'achat du surplus ; le cas défavorable est dans le tableau.",
        )
    else:
        payback = (
            Level.WARNING,
            "Dans le cas central, cette installation ne se rembourse pas en 20 ans (la durée "
            "du contrat d'achat du surplus). Une puissance plus petite, mieux adaptée à votre "
            "consommation, peut changer la donne : ajustez la simulation ci-dessous.",
        )
    residential = None
    if not est.low.residential:
        residential = (
            f"Au-delà de {fmt_int(RESIDENTIAL_MAX_KWC)} kWc le barème résidentiel ne "
            "s'applique plus : estimation sans prime ni tarif d'achat du surplus. "
            "Demandez une étude."
        )
    epci_code = territory.epci_of.get(str(roof.get("insee") or ""))
    epci_name = territory.epci_names.get(epci_code or "", "votre intercommunalité")
    return RoofCard(
        title=md_escape(title),
        notes=notes,
        headline=roof_headline({str(k): v for k, v in roof.items()}, est, kwc),
        payback=payback,
        residential=residential,
        figures={
            "Surface utile (m²)": fmt_float(roof["surface_utile_m2"], 0),
            "Orientation, pente": f"{roof['orientation']}, {fmt_int(roof['pente_dominante'])}°",
            **power_figure(roof, laid),
        },
        table=estimate_table(est),
        tariff=(
            Level.WARNING if hyp.expired("economie") else Level.CAPTION,
            md_escape(tariff_caption(hyp)),
        ),
        advice=f"Votre intercommunalité : **{md_escape(epci_name)}**. {md_escape(ADVICE)}",
        estimate=est,
        simulated=simulated(sim, config.panels if config is not None else 0),
        faces=[face_line(f) for f in laid.faces.to_dict("records")] if laid is not None else [],
        method=power_method(roof, laid, hyp),
        panels=config.panels if config is not None else 0,
    )


def power_figure(roof: pd.Series, laid: RoofPanels | None) -> dict[str, str]:
    """The card's power figures: the modules' power and count, or the area's range.

    Each value is short enough to show whole (« 5,1 (12 panneaux) » was cut at 1280 px).
    """
    label = "Puissance max. (kWc)"
    if laid is not None and laid.laid_out:
        return {
            label: fmt_float(roof["kwc_central"], 1),
            "Panneaux posables": fmt_int(roof.get("panneaux") or 0),
        }
    return {label: f"{fmt_float(roof['kwc_bas'], 1)} – {fmt_float(roof['kwc_haut'], 1)}"}


def power_method(roof: pd.Series, laid: RoofPanels | None, hyp: Assumptions) -> str:
    """How the card's power and production were computed, in one French sentence."""
    if laid is not None and laid.laid_out:
        module = hyp.groups.get("panneaux", {})
        wc = module["module_puissance"].central if "module_puissance" in module else None
        size = (
            f" de {fmt_int(wc)} Wc ({fmt_number(module['module_longueur'].central)} × "
            f"{fmt_number(module['module_largeur'].central)} m)"
            if wc
            else ""
        )
        return (
            f"Puissance et production calculées **panneau par panneau** : des modules{size} "
            "posés sur chaque pan du toit en gardant une bande libre le long des bords et "
            "autour des obstacles, chacun avec l'irradiation sous lui ; le curseur de "
            "puissance choisit les meilleurs d'abord."
        )
    return (
        "Puissance estimée d'après la surface utile du toit × la puissance installable par m² "
        "(les pans et panneaux de ce secteur ne sont pas encore calculés)."
    )


def simulated(sim: Simulation, panels: int = 0) -> Simulated:
    """The simulator's inputs worded for the roof sheet, and the assumptions they replace.

    ``panels``: the project's modules (0: a roof without layout, the power alone).
    """
    power = f"{fmt_float(sim.kwc, 1)} kWc" + (f" ({modules_text(panels)})" if panels else "")
    consumption = f"{fmt_int(sim.consumption)} kWh/an"
    price = f"{fmt_number(sim.price)} €/kWh"
    growth = f"{fmt_float(sim.price_growth, 1)} %/an"
    return Simulated(
        kwc=sim.kwc,
        lines=(
            ("Puissance simulée", power),
            ("Consommation du foyer", consumption),
            ("Présence au foyer en journée", sim.presence),
            ("Prix de l'électricité", price),
            ("Hausse annuelle du prix", growth),
        ),
        replaced={
            "consommation_menage": consumption,
            "prix_electricite": price,
            "evolution_prix": growth,
            "autonomie_max": f"présence « {sim.presence} »",
        },
    )
