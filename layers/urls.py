"""The app's own URLs, defined once for the routes and for every link to them.

The routes are mounted from these templates and every link (map tiles, downloads) is
built from the same templates.

Starlette mounts the routes under :data:`API`; a browser reaches them under
``settings.api_url`` (the same ``/api`` unless a proxy serves the app under a sub-path).
"""

from __future__ import annotations

from layers.settings import Settings

# the routes' paths, defined once: Starlette mounts them under API; links are built from
# the same templates under ``settings.api_url`` (the prefix the browser sees, behind a proxy)
API = "/api"
FILE = "/fichiers/{token}/{name}"
TILE = "/tuiles/solaire/{z}/{x}/{y}.png"
ROOFS = "/telechargements/toits.{fmt}"
# the home page is served at "/" (Streamlit's default page); its name in the menu's terms
# is answered with a redirect there, the query kept, never a « Page introuvable »
HOME_ALIAS = "/accueil"
_CONVERTERS = {"token": "str", "name": "str", "fmt": "str", "z": "int", "x": "int", "y": "int"}


def link(settings: Settings, template: str, query: str = "", **params: object) -> str:
    """The URL of a route for a browser: ``settings.api_url`` + the template filled in.

    A parameter left out stays a ``{placeholder}`` (Leaflet fills ``{z}/{x}/{y}``).
    """
    path = template.format_map({**{k: f"{{{k}}}" for k in _CONVERTERS}, **params})
    return f"{settings.api_url}{path}" + (f"?{query}" if query else "")


def route_path(template: str) -> str:
    """The Starlette path of a template (``{z}`` → ``{z:int}``), under API."""
    return API + template.format_map({k: f"{{{k}:{v}}}" for k, v in _CONVERTERS.items()})
