"""What pages build, kept once per server process and shared by every session.

A rerun should rebuild only what its change touched. Maps (rendered to their component
payload) and data (tables, figures, a roof read from the store) are kept here under a key
made of everything they depend on (selection, filters, basemap, settings), in bounded
least-recently-used stores: the second session asking for ``epci=CALL`` pays nothing.
Values are shared, never copied: callers must not modify them. Download files (CSV,
GeoPackage, PDF sheets) are not kept here: ``layers.downloads`` builds each when its link
is opened and keeps it in its own bounded store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from layers.memo import Memo
from pages.ui.loaders import get_settings

__all__ = ["Memo", "shared"]

T = TypeVar("T")

# entries per store: a rendered cadastre map is ~1 MB, a territory table a few kB
SIZES = {"cartes": 48, "donnees": 256}


@st.cache_resource
def _store(kind: str) -> Memo:
    return Memo(SIZES[kind])


def shared(kind: str, key: tuple, build: Callable[[], T]) -> T:
    """``build()`` once per process for ``key`` (plus the settings, which shape every output)."""
    return _store(kind).get((key, get_settings()), build)
