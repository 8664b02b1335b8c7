"""Cached, typed loaders for the pages: each returns its layer or stops the page in French.

Loading is cached here (``st.cache_resource``: one copy per server process, shared by
every session), never inside ``layers/``. Errors are logged with their details and shown
to readers without server paths.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import geopandas as gpd
import pandas as pd
import streamlit as st

from layers.assumptions import Assumptions, load_assumptions
from layers.brownfields import prepare
from layers.cadastre import Cadastre, open_cadastre
from layers.catalog import read_layer
from layers.errors import USER_ERRORS
from layers.formatting import md_escape, public_message
from layers.geocode import read_ban_csv
from layers.parks import Planning, load_planning
from layers.settings import Settings
from layers.solar.store import version_of
from layers.territory import Territory, load_territory

LOG = logging.getLogger("atlas.pages")
T = TypeVar("T")


def get_settings() -> Settings:
    """The settings, parsed once per process (and per ``ATLAS_*`` environment: tests vary it)."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(_SETTINGS_ENV)))
    return _settings_of(env)


_SETTINGS_ENV = ("ATLAS_", "XDG_CACHE_HOME")


@functools.lru_cache(maxsize=8)
def _settings_of(env: tuple[tuple[str, str], ...]) -> Settings:
    return Settings.from_env(dict(env))


@st.cache_resource(show_spinner="Chargement du territoire…")
def _territory(geodata_dir: str) -> Territory:
    return load_territory(Path(geodata_dir))


def get_territory() -> Territory:
    """The territory (cached), or a French error and a stopped page."""
    try:
        return _territory(str(get_settings().geodata_dir))
    except USER_ERRORS as err:
        LOG.error("territoire : %s", err)
        st.error(
            f"Impossible de charger les données du territoire. {md_escape(public_message(err))}"
        )
        st.stop()
        raise  # for type checkers: st.stop() never returns


@st.cache_resource(show_spinner="Chargement des parcs et des liaisons…")
def _planning(geodata_dir: str) -> Planning:
    return load_planning(Path(geodata_dir), _territory(geodata_dir))


@st.cache_resource(show_spinner="Chargement des friches…")
def _brownfields(geodata_dir: str) -> tuple[gpd.GeoDataFrame, Assumptions]:
    territory = _territory(geodata_dir)
    hyp = load_assumptions(Path(geodata_dir))
    return prepare(read_layer(territory.catalog["friches"], Path(geodata_dir)), hyp), hyp


def _guarded(loader: Callable[[str], T], what: str) -> T:
    try:
        return loader(str(get_settings().geodata_dir))
    except USER_ERRORS as err:
        LOG.error("%s : %s", what, err)
        st.error(f"Impossible de charger {what}. {md_escape(public_message(err))}")
        st.stop()
        raise


def get_planning() -> Planning:
    """Parks, links and context layers (cached), or a French error and a stopped page."""
    return _guarded(_planning, "les parcs")


def get_brownfields() -> tuple[gpd.GeoDataFrame, Assumptions]:
    """(prepared brownfields, assumptions) (cached), or a French error and a stopped page."""
    return _guarded(_brownfields, "les friches")


@st.cache_resource(show_spinner="Ouverture du cadastre solaire…", max_entries=2)
def _cadastre(store: str, version: str) -> Cadastre | None:
    return open_cadastre(Path(store))


def get_cadastre() -> Cadastre | None:
    """The cadastre store, opened once per version (a rebuild is picked up), or None.

    Only its small tables are in memory (coverage, per-commune totals): roofs and
    irradiation are read on demand.
    """
    store = get_settings().cadastre_path
    return _guarded(lambda _g: _cadastre(str(store), version_of(store)), "le cadastre solaire")


@st.cache_resource
def _assumptions(geodata_dir: str) -> Assumptions:
    return load_assumptions(Path(geodata_dir))


def get_assumptions() -> Assumptions:
    """The versioned assumptions (cached)."""
    return _guarded(_assumptions, "les hypothèses de calcul")


@st.cache_resource
def address_file(path: str) -> pd.DataFrame:
    return read_ban_csv(Path(path))
