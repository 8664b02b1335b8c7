"""BD TOPO buildings for ``solar fetch``: the WFS asked box by box, each answer checked whole.

A box is one LiDAR tile (1 km²). Its buildings come page after page (``STARTINDEX``,
``COUNT``); an answer is **verified** when the buildings received (distinct ``cleabs``)
are exactly the ``numberMatched`` the service announced, and there is at least one. Only
a verified answer is kept in the cache (``DIR/.bdtopo/``): an empty answer, or one whose
count the service does not give (``numberMatched`` missing or ``"unknown"``, allowed by
WFS 2.0), cannot be told from a failure; it is used for this run and asked again by the
next (the journal lists those boxes). A service that ignores ``STARTINDEX`` (a page that
brings no building not seen before) fails its box at once instead of being asked forever;
a count below the announced one fails its box. Features that are not polygons (points,
lines) are left out and counted; a feature without ``cleabs`` or malformed fails its box
with the reason.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from layers.solar.fetch_http import Fetcher, FetchError
from layers.solar.grid import Key, tile_bounds

WFS_PAGE = 1000
MAX_PAGES = 200  # 200 000 buildings in one km²: no real box comes near
POLYGONS = ("Polygon", "MultiPolygon")


def wfs_params(bbox: tuple[float, float, float, float], start: int, count: int) -> dict:
    """The WFS 2.0.0 GetFeature parameters of one page of BD TOPO buildings.

    Parameters
    ----------
    bbox
        ``(left, bottom, right, top)`` [Lambert-93 m].
    start
        Index of the page's first building.
    count
        Buildings per page.

    Returns
    -------
    dict
        Query parameters (``BDTOPO_V3:batiment``, GeoJSON, EPSG:2154).
    """
    return {
        "SERVICE": "WFS",
        "VERSION": "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES": "BDTOPO_V3:batiment",
        "OUTPUTFORMAT": "application/json",
        "SRSNAME": "EPSG:2154",
        "BBOX": "{:.2f},{:.2f},{:.2f},{:.2f},EPSG:2154".format(*bbox),
        "COUNT": str(count),
        "STARTINDEX": str(start),
    }


@dataclass
class BoxAnswer:
    """The buildings of one box as the service answered them."""

    features: list[dict] = field(default_factory=list)  # polygons, one per ``cleabs``
    matched: int | None = None  # ``numberMatched``, when the service gives a number
    received: int = 0  # distinct ``cleabs`` received, polygons or not
    left_out: int = 0  # features that are not polygons

    @property
    def verified(self) -> bool:
        """The service's count was met exactly, and the box is not empty."""
        return self.matched is not None and self.received == self.matched and self.received > 0


def _page_features(page: object) -> tuple[list[dict], int | None]:
    """A page's features and its ``numberMatched`` (``None``: not given or ``"unknown"``)."""
    if not isinstance(page, dict) or not isinstance(page.get("features"), list):
        raise FetchError("réponse WFS sans liste « features »")
    for feature in page["features"]:
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        properties = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict) or not isinstance(properties, dict):
            raise FetchError("entité WFS mal formée (géométrie ou propriétés manquantes)")
        if not isinstance(properties.get("cleabs"), str) or not properties["cleabs"]:
            raise FetchError("entité WFS sans identifiant « cleabs »")
    matched = page.get("numberMatched")
    return page["features"], (matched if type(matched) is int and matched >= 0 else None)


def wfs_box(fetcher: Fetcher, url: str, bbox: tuple[float, float, float, float]) -> BoxAnswer:
    """Every building in one box, page after page, checked against ``numberMatched``.

    Parameters
    ----------
    fetcher
        The HTTP client (retries, deadlines, size caps).
    url
        The WFS's address.
    bbox
        ``(left, bottom, right, top)`` [Lambert-93 m].

    Returns
    -------
    BoxAnswer
        The polygons (one per ``cleabs``), the announced and received counts.

    Raises
    ------
    FetchError
        The service does not page (a page brings no new building), sends fewer buildings than
        it announced, or malformed features; in French.
    """
    answer = BoxAnswer()
    seen: dict[str, dict] = {}
    start = 0
    for _ in range(MAX_PAGES):
        got, answer.matched = _page_features(
            fetcher.get_json(url, wfs_params(bbox, start, WFS_PAGE))
        )
        before = len(seen)
        for feature in got:
            seen.setdefault(feature["properties"]["cleabs"], feature)
        start += len(got)
        if not got:
            break
        if len(seen) == before:
            raise FetchError(
                f"le service WFS ne pagine pas : la page commençant au bâtiment {start - len(got)} "
                "ne rapporte aucun bâtiment nouveau (STARTINDEX ignoré ?)"
            )
        if answer.matched is not None and len(seen) >= answer.matched:
            break
        if answer.matched is None and len(got) < WFS_PAGE:
            break
    else:
        raise FetchError(f"plus de {MAX_PAGES * WFS_PAGE} bâtiments annoncés dans 1 km² : arrêté")
    answer.received = len(seen)
    if answer.matched is not None and answer.received != answer.matched:
        raise FetchError(
            f"{answer.received} bâtiments reçus pour {answer.matched} annoncés (numberMatched)"
        )
    answer.features = [f for f in seen.values() if f["geometry"].get("type") in POLYGONS]
    answer.left_out = answer.received - len(answer.features)
    return answer


@dataclass
class BuildingsResult:
    """What the buildings of an area came to."""

    features: list[dict]
    unverified: list[str]  # boxes whose answer could not be verified: asked again next run
    left_out: int  # features that were not polygons


def area_buildings(fetcher: Fetcher, url: str, keys: list[Key], cache: Path) -> BuildingsResult:
    """The buildings of every box, verified answers from and into the cache.

    An empty answer is asked a second time in the same run before it is believed for this
    run; it is never cached.

    Parameters
    ----------
    fetcher
        The HTTP client.
    url
        The WFS's address.
    keys
        The boxes (LiDAR tiles).
    cache
        ``DIR/.bdtopo``: one JSON file per verified box.

    Returns
    -------
    BuildingsResult
        Every polygon once (a building across two boxes comes in both), the unverified boxes.
    """
    cache.mkdir(parents=True, exist_ok=True)
    features: dict[str, dict] = {}
    unverified: list[str] = []
    left_out = 0
    for key in keys:
        name = f"{key[0]:04d}_{key[1]:04d}"
        part = cache / f"{name}.json"
        if part.is_file():
            got = json.loads(part.read_text(encoding="utf-8"))
        else:
            answer = wfs_box(fetcher, url, tile_bounds(key))
            if answer.received == 0:
                answer = wfs_box(fetcher, url, tile_bounds(key))
            got, left_out = answer.features, left_out + answer.left_out
            if answer.verified:
                tmp = part.with_name(f".{part.name}.tmp")
                tmp.write_text(json.dumps(got), encoding="utf-8")
                os.replace(tmp, part)
            else:
                unverified.append(name)
        for feature in got:
            features.setdefault(feature["properties"]["cleabs"], feature)
    return BuildingsResult(list(features.values()), unverified, left_out)
