"""Finding an address: the national address base (BAN) online, a local search offline.

Online: the BAN geocoding API (``/search/?q=…``, GeoJSON answer) at a configurable URL.
Offline (or when the API does not answer): a local address file in the BAN CSV format,
then commune names and town halls shipped in ``geodata/``. Results carry their source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from layers.errors import AtlasError
from layers.solar.ban import fold, read_ban
from layers.territory import Territory

MIN_CHARS, MAX_CHARS = 3, 200
BAN_COLUMNS = [
    "id",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "lon",
    "lat",
]


class GeocodeError(AtlasError):
    """The search text is unusable (empty, too short, too long)."""


class GeocoderUnavailable(AtlasError):
    """The online geocoder did not answer (network, HTTP error, malformed answer)."""


@dataclass(frozen=True)
class Address:
    """A search result (WGS84) and where it came from."""

    label: str
    lon: float
    lat: float
    citycode: str
    source: str
    score: float = 0.0
    synthetic: bool = False


def clean_query(text: str) -> str:
    """Normalise a user's search text, or raise :class:`GeocodeError` in French."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]", " ", str(text or ""))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) < MIN_CHARS:
        raise GeocodeError(f"Saisissez au moins {MIN_CHARS} caractères (numéro, rue, commune).")
    if len(cleaned) > MAX_CHARS:
        raise GeocodeError(f"Adresse trop longue (plus de {MAX_CHARS} caractères).")
    return cleaned


def _norm(text: str) -> list[str]:
    return fold(text).split()


MAX_ANSWER_BYTES = 512_000  # a BAN answer of 5 results is ~3 kB
MAX_LABEL = 200


def _service_text(value: object) -> str:
    """Text from the address service, made plain: no control characters, bounded length."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", str(value or ""))
    return re.sub(r"\s+", " ", text).strip()[:MAX_LABEL]


def ban_search(
    query: str, url: str, limit: int = 5, deadline_s: float = 4.0, read_timeout: float = 1.0
) -> list[Address]:
    """Ask the BAN API; raise :class:`GeocoderUnavailable` when it cannot answer.

    The whole exchange has a deadline (``deadline_s`` plus at most one ``read_timeout``,
    5 s by default): a server that trickles its answer byte by byte is abandoned, and an
    answer larger than ``MAX_ANSWER_BYTES`` is refused, so the page falls back to the
    offline search instead of hanging.
    """
    import time

    import requests

    start = time.monotonic()
    try:
        with requests.get(
            url,
            params={"q": query, "limit": str(limit)},
            timeout=(min(2.0, deadline_s), read_timeout),
            stream=True,
        ) as resp:
            resp.raise_for_status()
            body = bytearray()
            while True:
                if time.monotonic() - start > deadline_s:
                    raise GeocoderUnavailable("Le service d'adresses est trop lent.")
                chunk = resp.raw.read1(65_536, decode_content=True)
                if not chunk:
                    break
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise GeocoderUnavailable("Réponse du service d'adresses trop volumineuse.")
        features = json.loads(bytes(body))["features"]
        return [
            Address(
                label=_service_text(f["properties"]["label"]),
                lon=float(f["geometry"]["coordinates"][0]),
                lat=float(f["geometry"]["coordinates"][1]),
                citycode=_service_text(f["properties"].get("citycode", ""))[:5],
                source="Base Adresse Nationale (en ligne)",
                score=float(f["properties"].get("score", 0.0)),
            )
            for f in features[:limit]
        ]
    except GeocoderUnavailable:
        raise
    except (requests.RequestException, ValueError, KeyError, TypeError, IndexError) as err:
        raise GeocoderUnavailable(f"Le service d'adresses ne répond pas ({err}).") from err


def read_ban_csv(path: Path) -> pd.DataFrame:
    """A local address file in the BAN CSV format (``;``-separated, UTF-8), with tokens."""
    frame = read_ban(path, BAN_COLUMNS)
    frame["_tokens"] = frame["label"].map(_norm)
    return frame


GENERIC = {
    "rue", "de", "du", "des", "la", "le", "les", "l", "d", "a", "au", "aux", "et", "en",
    "avenue", "av", "bd", "boulevard", "place", "pl", "chemin", "impasse", "allee", "route",
    "cite", "residence", "square", "quai", "sentier", "voie", "mairie", "bis", "ter",
}  # fmt: skip


def _score(query_tokens: list[str], label_tokens: list[str], strict: bool = False) -> float:
    """Share of the query's words found in a label; house numbers must all be there.

    ``strict``: every distinctive word (not a number, not « rue », « de »…) must be found
    too — « 8 rue de Lens » is not the town hall at « 8 rue de l'Estrée-Blanche, Rombly ».
    """
    numbers = [t for t in query_tokens if t.isdigit()]
    if any(n not in label_tokens for n in numbers):
        return 0.0
    hits = [any(lt.startswith(t) for lt in label_tokens) for t in query_tokens]
    if strict and not all(
        hit
        for t, hit in zip(query_tokens, hits, strict=True)
        if not t.isdigit() and t not in GENERIC
    ):
        return 0.0
    return sum(hits) / max(len(query_tokens), 1)


Addresses = pd.DataFrame | Callable[[str], pd.DataFrame] | None


def local_search(
    query: str, addresses: Addresses, territory: Territory, limit: int = 5
) -> list[Address]:
    """Search the local addresses, then commune names and town halls.

    ``addresses``: a BAN-format frame (:func:`read_ban_csv`), or a function giving the
    candidate rows for a query (a cadastre store's address table, read on demand).
    """
    tokens = _norm(query)
    results: list[Address] = []
    source = addresses
    if callable(addresses):
        addresses = addresses(query)
    if "mairie" in tokens:  # « mairie de Lens »: the town halls first, then addresses
        results += _town_halls(tokens, territory, limit)
    if addresses is not None and len(addresses):
        scores = addresses["_tokens"].map(lambda lt: _score(tokens, lt))
        best = addresses.assign(match=scores)
        best = best[best["match"] >= 0.6].sort_values("match", ascending=False).head(limit)
        synthetic = "synthetique" in addresses.columns
        for row in best.itertuples():
            results.append(
                Address(
                    str(row.label),
                    float(str(row.lon)),
                    float(str(row.lat)),
                    str(row.code_insee),
                    "fichier d'adresses local",
                    float(str(row.match)),
                    bool(synthetic and row.synthetique == "oui"),
                )
            )
    if not results and any(t.isdigit() for t in tokens):
        results += _nearest_numbers(query, tokens, source, limit)
    if len(results) < limit and "mairie" not in tokens:
        results += _town_halls(tokens, territory, limit - len(results))
    if not results:  # « 8 rue de Lens »: at least the commune, said to be approximate
        named = territory.communes[
            territory.communes["nom"].map(lambda n: set(_norm(n)) <= set(tokens))
        ]
        for row in named.head(limit).itertuples():
            centre = row.geometry.representative_point()
            results.append(
                Address(
                    f"{row.nom} (commune ; adresse précise introuvable hors ligne)",
                    float(centre.x),
                    float(centre.y),
                    row.insee,
                    "communes et mairies (hors ligne)",
                    0.5,
                )
            )
    return results[:limit]


def _town_halls(tokens: list[str], territory: Territory, limit: int) -> list[Address]:
    """The town halls whose commune and address hold the query's distinctive words."""
    mairies = territory.mairies
    # ranked on the distinctive words only: « de » must not favour « rue des Poilus »
    distinct = [t for t in tokens if t not in GENERIC] or tokens
    labels = ("mairie " + mairies["nom"] + " " + mairies["adresse"]).map(_norm)
    scores = labels.map(lambda lt: _score(distinct, lt) if _score(tokens, lt, strict=True) else 0.0)
    # the commune named in full first (« mairie Lens »: Lens before Loison-sous-Lens)
    exact = mairies["nom"].map(lambda n: set(_norm(n)) <= set(tokens)).astype(float)
    scores = scores + 0.01 * exact * (scores > 0)
    found = []
    for i in scores[scores >= 0.6].sort_values(ascending=False).index[:limit]:
        row = mairies.loc[i]
        found.append(
            Address(
                f"Mairie de {row['nom']} — {row['adresse']}",
                float(row.geometry.x),
                float(row.geometry.y),
                row["insee"],
                "communes et mairies (hors ligne)",
                float(scores[i]),
            )
        )
    return found


NEAREST_SOURCE = "fichier d'adresses local (numéro le plus proche)"


def _nearest_numbers(
    query: str, tokens: list[str], addresses: Addresses, limit: int
) -> list[Address]:
    """The numbers of the asked street nearest the asked one, when it has no such number.

    « 4 rue des Lampistes » where only odd numbers exist: 3 and 5 of that street, said so.
    """
    asked = int(next(t for t in tokens if t.isdigit()))
    words = [t for t in tokens if not t.isdigit()]
    if callable(addresses):
        addresses = addresses(" ".join(words))
    if addresses is None or not len(addresses) or not words:
        return []
    scores = addresses["_tokens"].map(lambda lt: _score(words, lt, strict=True))
    street = addresses.assign(match=scores)
    street = street[street["match"] >= 0.6]
    numbers = street["_tokens"].map(lambda lt: next((int(t) for t in lt if t.isdigit()), None))
    street = street.assign(_n=numbers).dropna(subset=["_n"])
    if street.empty:
        return []
    street = street.assign(_gap=(street["_n"] - asked).abs()).sort_values(["_gap", "_n"])
    synthetic = "synthetique" in street.columns
    return [
        Address(
            f"{row.label} (pas de n° {asked} ; le plus proche)",
            float(str(row.lon)),
            float(str(row.lat)),
            str(row.code_insee),
            NEAREST_SOURCE,
            float(str(row.match)) * 0.9,
            bool(synthetic and row.synthetique == "oui"),
        )
        for row in street.head(min(limit, 2)).itertuples()
    ]


def search(
    query: str,
    territory: Territory,
    ban_url: str | None,
    addresses: Addresses,
    limit: int = 5,
) -> tuple[list[Address], str | None]:
    """BAN when reachable, else the offline search; returns (results, French notice)."""
    text = clean_query(query)
    notice = None
    if ban_url:
        try:
            online = ban_search(text, ban_url, limit)
            local = local_search(text, addresses, territory, limit) if addresses is not None else []
            return ([a for a in local if a.synthetic] + online)[:limit], None
        except GeocoderUnavailable:
            notice = (
                "Service national d'adresses injoignable : recherche hors ligne "
                "(fichier d'adresses local, communes et mairies)."
            )
    return local_search(text, addresses, territory, limit), notice


def in_pma(address: Address, territory: Territory) -> bool:
    """Whether the point lies in one of the PMA's communes."""
    from shapely.geometry import Point

    return bool(territory.communes.contains(Point(address.lon, address.lat)).any())
