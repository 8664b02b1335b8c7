"""Files to download, built only when someone asks for them.

A page does not build its CSV, GeoJSON, GeoPackage or PDF on every rerun: it *registers*
how to build it (:meth:`Downloads.register`, a recipe over data the page already holds)
and shows a link to ``/api/fichiers/<jeton>/<nom>``. The route (:mod:`layers.routes`)
builds the file on the first click, keeps it for the next ones, and serves it. The token
is a keyed hash (HMAC, a random secret per process) of what the file depends on (page,
selection, filters, settings, the editor for editors' files): nobody can compute a link
from public inputs, and a rerun re-registers the same link: a click during a rerun still
downloads, which Streamlit's deferred download buttons did not do. Recipes live in the memory of the
process that drew the page (sticky sessions route the click there, see ``deploy/``); an
old, evicted link answers « lien expiré, rechargez la page ».
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from layers.memo import Memo


@dataclass(frozen=True)
class Recipe:
    """How to build one file, and how to name it."""

    filename: str
    mime: str
    build: Callable[[], bytes]


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Downloads:
    """Registered recipes and the files built from them, each store bounded (LRU)."""

    def __init__(self, max_recipes: int = 2048, max_files: int = 64) -> None:
        self.recipes = Memo(max_recipes)
        self.files = Memo(max_files)  # ``files.misses``: how many files were built
        self._secret = secrets.token_bytes(32)

    def register(self, key: Hashable, filename: str, mime: str, build: Callable[[], bytes]) -> str:
        """Remember how to build a file; returns its token (the same for the same ``key``)."""
        # keyed with this process's secret: a link cannot be computed from public inputs
        token = hmac.new(self._secret, repr(key).encode(), hashlib.sha256).hexdigest()[:32]
        self.recipes.get(token, lambda: Recipe(SAFE_NAME.sub("-", filename), mime, build))
        return token

    def fetch(
        self, token: str, gate: Callable[[Callable[[], bytes]], Callable[[], bytes]] = lambda b: b
    ) -> tuple[Recipe, bytes] | None:
        """The recipe and its file (built now if it was not yet), or ``None`` if unknown.

        ``gate`` wraps the build (the route bounds how many files are built at once);
        concurrent requests for one file share one build.
        """
        recipe = self.recipes.peek(token)
        if not isinstance(recipe, Recipe):
            return None
        return recipe, self.files.get(token, gate(recipe.build))


DOWNLOADS = Downloads()  # one per process: the pages register, the route serves
