"""The app's own HTTP routes, served beside the Streamlit app (``serve.py``, ``st.App``).

- ``GET /api/tuiles/solaire/{z}/{x}/{y}.png``: an irradiation map tile, drawn on demand
  from the cadastre store's COGs (:mod:`layers.cadastre_tiles`), cached in memory and by
  the browser (``ETag`` = the store's version).
- ``GET /api/fichiers/{jeton}/{nom}``: a file a page registered, built on the first
  click (:mod:`layers.downloads`); links stay valid across reruns.
- ``GET /api/telechargements/toits.{csv|gpkg}?insee=…``: the roofs of some communes,
  built when asked — never on a page rerun — and the same from any app process, so the
  link works behind a load balancer without sticky sessions.
- ``GET /api/toits/{cleabs}.geojson``: one roof, its faces and its modules as RFC 7946
  GeoJSON (WGS84), for installers and citizen cooperatives; ``ETag`` = the store's
  version and the roof; 404 for an unknown roof.

The handlers read the settings from the environment, like the pages, and run blocking
work in a thread so the server keeps answering.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from layers.cadastre_tiles import render_tile
from layers.errors import USER_ERRORS, AtlasError
from layers.memo import Memo
from layers.settings import Settings
from layers.solar.store import version_of
from layers.urls import API, FILE, HOME_ALIAS, ROOF_GEOJSON, ROOFS, TILE, route_path

LOG = logging.getLogger("atlas.routes")
T = TypeVar("T")


@lru_cache(maxsize=4)
def _breaks(geodata_dir: str):
    from layers.assumptions import load_assumptions
    from layers.cadastre_colours import map_classes

    return map_classes(load_assumptions(Path(geodata_dir)))


@lru_cache(maxsize=1)
def _tiles() -> Memo:
    """Rendered tiles (PNG bytes, or None where nothing is computed): ~1 000 × 5–30 kB.

    Single flight: a map opened on many screens at once draws each tile once.
    """
    return Memo(1024)


@lru_cache(maxsize=1)
def _empty_png() -> bytes:
    """A transparent 256 px tile (Leaflet shows nothing; no error in the console)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (256, 256), (0, 0, 0, 0)).save(buf, "PNG", optimize=True)
    return buf.getvalue()


async def solar_tile(request: Request, settings: Settings) -> Response:
    """One irradiation tile of the configured store."""
    store = settings.cadastre_path
    z, x, y = (request.path_params[k] for k in ("z", "x", "y"))  # ints: the route says so
    if not (0 <= z <= 24 and 0 <= x < 2**z and 0 <= y < 2**z):
        return _not_found()
    version = version_of(store)
    etag = f'"{version}-{z}-{x}-{y}"'
    # the page asks ?v=<store version>: such a URL never changes content, cache it for good;
    # any other URL (old page, no version) is revalidated at every use
    versioned = request.query_params.get("v") == version and version != "absent"
    cache = "public, max-age=31536000, immutable" if versioned else "no-cache"
    headers = {"Cache-Control": cache, "ETag": etag}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        breaks = _breaks(str(settings.geodata_dir))
        png = await run_in_threadpool(
            _tiles().get,
            (str(store), version, z, x, y),
            lambda: render_tile(store, z, x, y, breaks),
        )
    except Exception:  # a damaged COG must not take the map down: log, draw nothing
        LOG.exception("tuile %s/%s/%s du magasin %s", z, x, y, store)
        return Response(_empty_png(), media_type="image/png", headers={"Cache-Control": "no-store"})
    if png is None:  # nothing computed there (or no store yet): never cached for long
        headers["Cache-Control"] = "no-cache"
    return Response(png or _empty_png(), media_type="image/png", headers=headers)


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` as RFC 9110 reads it: ``*``, lists, weak (``W/``) validators."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _not_found() -> Response:
    return Response("Introuvable.", status_code=404, media_type="text/plain; charset=utf-8")


async def not_found(request: Request, settings: Settings) -> Response:
    """Any other ``/api`` or ``/api/…`` address: 404, never the app's page with a 200."""
    return _not_found()


async def home_alias(request: Request, settings: Settings) -> Response:
    """``/accueil`` (the home page's name): a redirect to ``/``, its query kept.

    Relative (``./``), so that it holds behind a proxy that serves the app under a sub-path.
    """
    query = request.url.query
    return RedirectResponse("./" + (f"?{query}" if query else ""), status_code=307)


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    # the app frames its own components (maps), never is framed by another site
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response (the app's pages too).

    Plain ASGI (not ``BaseHTTPMiddleware``): websockets pass through untouched.
    """

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        """Pass the request on; add the headers to the response's start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


def middleware() -> list:
    """The app's middleware, for ``st.App(..., middleware=middleware())``."""
    from starlette.middleware import Middleware

    return [Middleware(SecurityHeaders)]


BUILDS_AT_ONCE = 2  # files built at the same time by one process (others wait their turn)
BUILD_WAIT_S = 60.0  # how long a request waits for its turn before « réessayez »
_GATE = threading.BoundedSemaphore(BUILDS_AT_ONCE)
ROOF_FILES = Memo(4)  # the last roof files built, by (store version, format, communes)


class Busy(Exception):
    """Every build slot stayed taken for :data:`BUILD_WAIT_S`."""


def gated(build: Callable[[], T]) -> Callable[[], T]:
    """``build`` run when one of the :data:`BUILDS_AT_ONCE` slots is free, memory returned.

    Issue 21: 16 concurrent whole-territory GeoPackages were built at once (391 → 767 MB,
    and the process kept it). Now identical requests share one build (the callers'
    single-flight memos), different ones queue for a slot, and after a large build the
    C allocator gives its free pages back to the system (glibc ``malloc_trim``).
    """

    def run() -> T:
        if not _GATE.acquire(timeout=BUILD_WAIT_S):
            raise Busy
        try:
            return build()
        finally:
            _GATE.release()
            _give_memory_back()

    return run


@lru_cache(maxsize=1)
def _libc():
    """glibc, loaded once (``None`` elsewhere: nothing to trim)."""
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _give_memory_back() -> None:
    """Hand the allocator's free pages back to the system (Linux glibc; elsewhere no-op)."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


# What a failure of a file route answers, in one place: (exceptions, status, French text,
# headers, logged); the first row that matches wins, anything else is a 500 (logged whole).
ERROR_ANSWERS: tuple[tuple[tuple[type[Exception], ...], int, str, dict[str, str], bool], ...] = (
    (
        (Busy,),
        503,
        "Le serveur prépare déjà d'autres fichiers : réessayez dans une minute.",
        {"Retry-After": "60"},
        False,  # load, not a fault
    ),
    (USER_ERRORS, 503, "Fichier indisponible : le cadastre n'est pas lisible.", {}, True),
)
UNEXPECTED = (500, "Le fichier n'a pas pu être préparé ; réessayez plus tard.")


def error_answer(err: Exception, what: str) -> Response:
    """The answer to ``err`` raised while preparing ``what`` (:data:`ERROR_ANSWERS`)."""
    for kinds, status, text, headers, logged in ERROR_ANSWERS:
        if isinstance(err, kinds):
            if logged:
                LOG.error("%s : %s", what, err)
            return Response(
                text, status_code=status, media_type="text/plain; charset=utf-8", headers=headers
            )
    LOG.error("%s", what, exc_info=err)
    status, text = UNEXPECTED
    return Response(text, status_code=status, media_type="text/plain; charset=utf-8")


def roof_geojson(store: Path, cleabs: str) -> bytes | None:
    """A roof, its faces and its modules as one RFC 7946 FeatureCollection (WGS84).

    Each feature says what it is in ``properties.objet`` (« toit », « pan », « panneau »)
    and carries the store's columns (NaN as ``null``); ``None`` for an unknown roof or no
    store.
    """
    import json

    import geopandas as gpd

    from layers.solar.store import Reader

    reader = Reader.open(store)
    if reader is None:
        return None
    roof = reader.roof(cleabs)
    if roof is None:
        return None
    faces, panels = reader.faces_of(cleabs)
    one = gpd.GeoDataFrame([roof], geometry="geometry", crs=2154)
    features = []
    for what, frame in (("toit", one), ("pan", faces), ("panneau", panels)):
        if frame.empty:
            continue
        frame = frame.to_crs(4326)
        frame.insert(0, "objet", what)
        features += json.loads(frame.to_json(drop_id=True, to_wgs84=True))["features"]
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, default=str).encode()


async def roof_geojson_answer(request: Request, settings: Settings) -> Response:
    """``/api/toits/{cleabs}.geojson`` (:func:`roof_geojson`), revalidated by ``ETag``."""
    from layers.solar.store import ROOF_ID

    cleabs = request.path_params["cleabs"]
    store = settings.cadastre_path
    if not ROOF_ID.fullmatch(cleabs):
        return _not_found()
    etag = f'"{version_of(store)}-{cleabs}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    try:
        body = await run_in_threadpool(roof_geojson, store, cleabs)
    except Exception as err:
        return error_answer(err, f"GeoJSON du toit {cleabs}")
    if body is None:
        return _not_found()
    return Response(body, media_type="application/geo+json", headers=headers)


def roofs_file(store: Path, insee: list[str], fmt: str) -> tuple[bytes, str]:
    """(file bytes, MIME type) of the roofs of some communes from a store."""
    from layers.cadastre import open_cadastre, roofs_of
    from layers.cadastre_figures import roof_table
    from layers.export import to_csv_bytes, to_gpkg_bytes

    cad = open_cadastre(store)
    if cad is None:
        raise AtlasError("Aucun cadastre calculé.")
    roofs = roofs_of(cad, insee)
    if fmt == "csv":
        return to_csv_bytes(roof_table(roofs)), "text/csv; charset=utf-8"
    meta = {
        "qualite": "synthétique (territoire fictif)" if cad.synthetic else "calcul Atlas PMA",
        "source": "Atlas PMA, moteur solaire — climat " + cad.climate,
    }
    return to_gpkg_bytes(roofs, "toits", meta), "application/geopackage+sqlite3"


async def roofs_download(request: Request, settings: Settings) -> Response:
    """The roofs of the communes listed in ``?insee=`` as CSV or GeoPackage."""
    fmt = request.path_params["fmt"]
    insee = request.query_params.getlist("insee")[:200]
    if fmt not in ("csv", "gpkg") or not insee:
        return Response("demande invalide", status_code=400, media_type="text/plain")
    store = settings.cadastre_path
    key = (str(store), version_of(store), fmt, tuple(sorted(set(insee))))
    try:
        body, mime = await run_in_threadpool(
            ROOF_FILES.get, key, gated(lambda: roofs_file(store, insee, fmt))
        )
    except Exception as err:
        return error_answer(err, "téléchargement des toits")
    name = f"atlas-pma-toits-{dt.date.today().isoformat()}.{fmt}"
    return Response(
        body,
        media_type=mime,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def prepared_file(request: Request, settings: Settings) -> Response:
    """A file a page registered (:mod:`layers.downloads`), built on its first request."""
    from layers.downloads import DOWNLOADS, EDITOR_COOKIE, SessionRequired

    token = request.path_params["token"]
    session = request.cookies.get(EDITOR_COOKIE)
    try:
        found = await run_in_threadpool(DOWNLOADS.fetch, token, gated, session)
    except SessionRequired:
        return Response(
            "Ce fichier contient des données réservées aux éditeurs : ouvrez le lien depuis "
            "votre session d'éditeur (connectez-vous sur la page Signalétique, puis cliquez "
            "à nouveau).",
            status_code=403,
            media_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "private, no-store"},
        )
    except Exception as err:
        return error_answer(err, f"fichier à télécharger {token}")
    if found is None:
        return Response(
            "Ce lien de téléchargement a expiré : rechargez la page puis cliquez à nouveau.",
            status_code=404,
            media_type="text/plain; charset=utf-8",
        )
    recipe, body = found
    return Response(
        body,
        media_type=recipe.mime,
        headers={
            "Content-Disposition": f'attachment; filename="{recipe.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def routes(settings: Settings | None = None) -> list[Route]:
    """Every route of the app, for ``st.App(..., routes=routes())``.

    ``settings``: read once here from the environment when not given, and handed to every
    request (never re-read per request).
    """
    settings = settings or Settings.from_env(os.environ)

    def bound(handler):
        async def endpoint(request: Request) -> Response:
            return await handler(request, settings)

        endpoint.__name__ = handler.__name__
        return endpoint

    return [
        Route(route_path(FILE), bound(prepared_file)),
        Route(route_path(TILE), bound(solar_tile)),
        Route(route_path(ROOFS), bound(roofs_download)),
        Route(route_path(ROOF_GEOJSON), bound(roof_geojson_answer)),
        Route(API, bound(not_found)),
        Route(API + "/{rest:path}", bound(not_found)),
        Route(HOME_ALIAS, bound(home_alias)),
    ]
