"""The app's own URLs, defined once for the routes, the pages and every link to them.

The routes are mounted from these templates and every link (map tiles, downloads) is
built from the same templates; ``app.py`` registers the pages under :class:`PagePath` and
every link to a page (PDFs, shared views) is :func:`page_link`, at the public address.

Starlette mounts the routes under :data:`API`; a browser reaches them under
``settings.api_url`` (the same ``/api`` unless a proxy serves the app under a sub-path).
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlencode

from layers.settings import Settings

# the routes' paths, defined once: Starlette mounts them under API; links are built from
# the same templates under ``settings.api_url`` (the prefix the browser sees, behind a proxy)
API = "/api"
FILE = "/fichiers/{token}/{name}"
TILE = "/tuiles/solaire/{z}/{x}/{y}.png"
ROOFS = "/telechargements/toits.{fmt}"
ROOF_GEOJSON = "/toits/{cleabs}.geojson"


class PagePath(StrEnum):
    """Each page's path (``st.Page(url_path=…)`` in ``app.py``), as users see it."""

    HOME = "accueil"
    PARKS = "parcs"
    SIGNAGE = "signaletique"
    BROWNFIELDS = "friches"
    SOLAR = "cadastre_solaire"


# the home page is served at "/" (Streamlit's default page); its name in the menu's terms
# is answered with a redirect there, the query kept, never a « Page introuvable »
HOME_ALIAS = f"/{PagePath.HOME.value}"
_CONVERTERS = {
    "token": "str",
    "name": "str",
    "fmt": "str",
    "cleabs": "str",
    "z": "int",
    "x": "int",
    "y": "int",
}


def link(settings: Settings, template: str, query: str = "", **params: object) -> str:
    """The URL of a route for a browser: ``settings.api_url`` + the template filled in.

    A parameter left out stays a ``{placeholder}`` (Leaflet fills ``{z}/{x}/{y}``).
    """
    path = template.format_map({**{k: f"{{{k}}}" for k in _CONVERTERS}, **params})
    return f"{settings.api_url}{path}" + (f"?{query}" if query else "")


def route_path(template: str) -> str:
    """The Starlette path of a template (``{z}`` → ``{z:int}``), under API."""
    return API + template.format_map({k: f"{{{k}:{v}}}" for k, v in _CONVERTERS.items()})


def page_link(settings: Settings, page: PagePath, **query: object) -> str:
    """The public address of a page, with its query: what PDFs and shared views carry.

    ``settings.public_url`` (never ``localhost`` once configured); parameters ``None`` are
    left out, the others URL-encoded (``toit=BATIMENT…``, ``epci=CALL``).
    """
    params = urlencode({k: v for k, v in query.items() if v is not None})
    path = "/" if page == PagePath.HOME else f"/{page.value}"
    return f"{settings.public_url}{path}" + (f"?{params}" if params else "")
