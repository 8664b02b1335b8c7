"""The resident's journey on the cadastre, without Streamlit: find an address, say where.

Where it stands (a roof, not yet computed, outside the PMA), which roof to show.

The page (``pages/cadastre_solaire.py``) asks and draws; every decision is taken here and
returned as plain objects, so it is tested without a browser.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from layers.cadastre import ADDRESS_TO_ROOF_M, Cadastre, address_candidates, locate
from layers.errors import USER_ERRORS
from layers.geocode import Address, Addresses, search
from layers.settings import Settings
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
    messages: list[tuple[str, str]] = field(default_factory=list)


STATUS_TEXT = {
    "hors_pma": (
        "warning",
        "Cette adresse est hors du Pôle Métropolitain de l'Artois : Atlas PMA ne couvre que "
        "ses 150 communes.",
    ),
    "non_couvert": (
        "info",
        "Secteur pas encore couvert : aucun toit n'a encore été calculé à cette adresse. La "
        "carte montre en pointillés le secteur déjà calculé.",
    ),
    "sans_toit": (
        "info",
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
    messages = [("warning", warning)] if warning else []
    try:
        results, notice = search(query, territory, settings.ban_url, source)
    except USER_ERRORS as err:
        return SearchOutcome([], None, [*messages, ("error", str(err))])
    if notice:
        messages.append(("info", notice))
    if not results:
        if query.strip():
            messages.append(
                ("warning", "Aucune adresse trouvée. Vérifiez l'orthographe ou cliquez votre toit.")
            )
        return SearchOutcome([], None, messages)
    return SearchOutcome(results, chosen_roof(results[0], status_of), messages)


def chosen_roof(
    address: Address, status_of: Callable[[Address], tuple[str, str | None]]
) -> str | None:
    """The roof to show for a chosen address: its own, or none (never the previous one)."""
    status, roof = status_of(address)
    return roof if status == "toit" else None


def status_message(status: str) -> tuple[str, str] | None:
    """(level, French text) of an address's status; ``None`` when its roof is shown."""
    return STATUS_TEXT.get(status)
