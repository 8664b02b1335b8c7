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

An editor's files (logins, notes) also need the editor's session: the recipe holds a
per-session secret that the editor's browser carries in the cookie :data:`EDITOR_COOKIE`
(set at login, cleared at logout); the same link without it is refused
(:class:`SessionRequired`), so a forwarded or leaked link gives nothing away.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from layers.memo import Memo

EDITOR_COOKIE = "atlas_editeur"  # the editor session's secret, in the editor's browser


class SessionRequired(PermissionError):
    """An editor's file asked for without the editor's session (its cookie)."""


@dataclass(frozen=True)
class Recipe:
    """How to build one file, and how to name it.

    ``session``: the editor session's secret the request must carry (``None``: a reader's).
    """

    filename: str
    mime: str
    build: Callable[[], bytes]
    session: str | None = None


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class Downloads:
    """Registered recipes and the files built from them, each store bounded (LRU)."""

    def __init__(self, max_recipes: int = 2048, max_files: int = 64) -> None:
        self.recipes = Memo(max_recipes)
        self.files = Memo(max_files)  # ``files.misses``: how many files were built
        self._secret = secrets.token_bytes(32)
        self._revoked: set[str] = set()  # editor sessions ended (logout)

    def register(
        self,
        key: Hashable,
        filename: str,
        mime: str,
        build: Callable[[], bytes],
        session: str | None = None,
    ) -> str:
        """Remember how to build a file; returns its token (the same for the same ``key``).

        ``session``: an editor session's secret; only a request carrying it (the cookie
        :data:`EDITOR_COOKIE`) gets the file.
        """
        # keyed with this process's secret: a link cannot be computed from public inputs
        material = repr((key, session)).encode()
        token = hmac.new(self._secret, material, hashlib.sha256).hexdigest()[:32]
        self.recipes.get(token, lambda: Recipe(SAFE_NAME.sub("-", filename), mime, build, session))
        return token

    def fetch(
        self,
        token: str,
        gate: Callable[[Callable[[], bytes]], Callable[[], bytes]] = lambda b: b,
        session: str | None = None,
    ) -> tuple[Recipe, bytes] | None:
        """The recipe and its file (built now if it was not yet), or ``None`` if unknown.

        ``gate`` wraps the build (the route bounds how many files are built at once);
        concurrent requests for one file share one build. ``session``: the editor
        session's secret the request carries; an editor's file without the right one
        raises :class:`SessionRequired` (nothing is built).
        """
        recipe = self.recipes.peek(token)
        if not isinstance(recipe, Recipe):
            return None
        if recipe.session is not None and (
            recipe.session in self._revoked
            or not hmac.compare_digest((session or "").encode(), recipe.session.encode())
        ):
            raise SessionRequired(token)
        return recipe, self.files.get(token, gate(recipe.build))

    def revoke(self, session: str) -> None:
        """An editor session ended: its files are refused from now on, cookie or not."""
        self._revoked.add(session)


DOWNLOADS = Downloads()  # one per process: the pages register, the route serves
