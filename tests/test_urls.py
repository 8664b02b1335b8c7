"""Issue 29: the pages' paths are defined once (``urls.PagePath``); links to them are built
by ``urls.page_link`` at the public address, never by hand."""

from __future__ import annotations

import ast
import re
from urllib.parse import parse_qs, urlsplit

from layers.settings import Settings
from layers.urls import HOME_ALIAS, PagePath, page_link
from tests.helpers import ROOT


def test_a_page_link_is_the_public_address_with_its_query():
    settings = Settings(public_url="https://atlas.pole-artois.fr/carto")
    url = page_link(settings, PagePath.SOLAR, toit="BATIMENT0000000312", epci=None)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "atlas.pole-artois.fr")
    assert parts.path == "/carto/cadastre_solaire"
    assert parse_qs(parts.query) == {"toit": ["BATIMENT0000000312"]}
    hostile = page_link(settings, PagePath.PARKS, parc="a&b=c d")
    assert parse_qs(urlsplit(hostile).query) == {"parc": ["a&b=c d"]}  # encoded, one value
    assert page_link(settings, PagePath.HOME) == "https://atlas.pole-artois.fr/carto/"
    assert HOME_ALIAS == "/accueil"


def test_every_page_is_registered_under_its_path_and_no_link_is_built_by_hand():
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    registered = {
        kw.value.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page"
        for kw in node.keywords
        if kw.arg == "url_path" and isinstance(kw.value, ast.Attribute)
    }
    assert registered == {p.name for p in PagePath}
    by_hand = re.compile(r"public_url\}?/|/(" + "|".join(p.value for p in PagePath) + r")\?")
    for path in [*(ROOT / "pages").rglob("*.py"), *(ROOT / "layers").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not by_hand.search(text), f"lien construit à la main dans {path.name}"
