"""Explicit settings, read from the environment once per process and passed down.

The app reads them through ``pages.ui.loaders.get_settings`` (once per process and per
``ATLAS_*`` environment), the CLI and the server's routes through
:meth:`Settings.from_env`; nothing else reads an ``ATLAS_*`` variable (``fetch_services``
reads the download mirrors for ``pma-atlas solar fetch``). Nothing here reads the
environment or the disk at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GEODATA = PROJECT_ROOT / "geodata"
DEFAULT_STATIC_DIR = PROJECT_ROOT / "static" / "vendor"
DEFAULT_WEATHER = "BEL_VLG_Uccle.064470_TMYx.2007-2021.epw"  # in geodata/ (see SOURCES.md)
DEMO_STORE = "cadastre-demo"  # in geodata/: the fictional territory `make run` computes

_TRUE = {"1", "true", "yes", "oui", "on", "vrai"}


@dataclass(frozen=True)
class Settings:
    """Run-time settings of the app.

    Attributes
    ----------
    geodata_dir
        Folder holding ``catalog.toml`` and the layers (``ATLAS_GEODATA``).
    offline
        Load Leaflet from the app's own static files instead of CDNs (``ATLAS_OFFLINE``),
        for intranets without internet access.
    static_url
        URL prefix under which Streamlit serves ``static/vendor`` (``ATLAS_STATIC_URL``).
    static_dir
        Folder of the vendored web assets on disk.
    tiles_url, tiles_attribution
        An extra basemap (e.g. an intranet tile server), offered first when set
        (``ATLAS_TILES_URL``, ``ATLAS_TILES_ATTRIBUTION``).
    ban_url
        The BAN geocoding endpoint (``ATLAS_BAN_URL``; ``off`` for offline-only search).
    address_file
        A local address file in the BAN CSV format (``ATLAS_ADRESSES``), searched offline.
    public_url
        The app's public address (``ATLAS_PUBLIC_URL``): every link that leaves the
        browser — PDF sheets, shared views — is built on it (``urls.page_link``).
    signage_store
        The signage inventory (``ATLAS_SIGNALETIQUE``): a GeoPackage path or a PostGIS DSN.
    cadastre_store
        The solar cadastre's store, made by ``pma-atlas solar build`` (``ATLAS_CADASTRE``);
        default: the fictional demo territory ``geodata/cadastre-demo``.
    api_url
        URL prefix of the app's own routes — map tiles, downloads (``ATLAS_API_URL``,
        default ``/api``; set it when a proxy serves the app under a sub-path).
    cache_dir
        Where computed sky tables are kept between runs (``ATLAS_CACHE_DIR``, else
        ``$XDG_CACHE_HOME/atlas-pma``, else ``~/.cache/atlas-pma``).
    """

    geodata_dir: Path = DEFAULT_GEODATA
    offline: bool = False
    static_url: str = "/app/static/vendor"
    static_dir: Path = DEFAULT_STATIC_DIR
    tiles_url: str | None = None
    tiles_attribution: str = "Fond de carte local"
    ban_url: str | None = "https://api-adresse.data.gouv.fr/search/"
    address_file: Path | None = None
    public_url: str = "http://localhost:8501"
    signage_store: str | None = None
    cadastre_store: Path | None = None
    api_url: str = "/api"
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "atlas-pma")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from environment variables (unset ones keep their default)."""
        return cls(
            geodata_dir=Path(env.get("ATLAS_GEODATA") or DEFAULT_GEODATA),
            offline=env.get("ATLAS_OFFLINE", "").strip().lower() in _TRUE,
            static_url=(env.get("ATLAS_STATIC_URL") or "/app/static/vendor").rstrip("/"),
            static_dir=Path(env.get("ATLAS_STATIC_DIR") or DEFAULT_STATIC_DIR),
            tiles_url=env.get("ATLAS_TILES_URL") or None,
            tiles_attribution=env.get("ATLAS_TILES_ATTRIBUTION") or "Fond de carte local",
            ban_url=(
                None
                if env.get("ATLAS_BAN_URL", "x").strip().lower() in ("", "aucun", "off")
                else env.get("ATLAS_BAN_URL") or "https://api-adresse.data.gouv.fr/search/"
            ),
            address_file=Path(env["ATLAS_ADRESSES"]) if env.get("ATLAS_ADRESSES") else None,
            public_url=(env.get("ATLAS_PUBLIC_URL") or "http://localhost:8501").rstrip("/"),
            signage_store=env.get("ATLAS_SIGNALETIQUE") or None,
            cadastre_store=Path(env["ATLAS_CADASTRE"]) if env.get("ATLAS_CADASTRE") else None,
            api_url=(env.get("ATLAS_API_URL") or "/api").rstrip("/"),
            cache_dir=Path(
                env.get("ATLAS_CACHE_DIR")
                or Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "atlas-pma"
            ),
        )

    @property
    def cadastre_path(self) -> Path:
        """Where the solar cadastre's store is (``ATLAS_CADASTRE`` or the demo store)."""
        return self.cadastre_store or self.geodata_dir / DEMO_STORE

    @property
    def signage_target(self) -> str:
        """Where the signage inventory lives: a GeoPackage path or a ``postgresql://`` DSN."""
        return self.signage_store or str(self.geodata_dir / "signaletique.gpkg")


def fetch_services(env: Mapping[str, str]):
    """Where ``pma-atlas solar fetch`` asks (public services by default; mirrors allowed).

    ``ATLAS_GEOPF_WMS`` (LiDAR HD rasters), ``ATLAS_GEOPF_WFS`` (BD TOPO), ``ATLAS_BAN_DATA_URL``
    (the BAN's département files; ``ATLAS_BAN_URL`` is already the geocoder's address),
    ``ATLAS_PVGIS_URL`` (PVGIS API, ``…/api/v5_3``).
    """
    from layers.solar.fetch import Services

    default = Services()
    return Services(
        wms=env.get("ATLAS_GEOPF_WMS") or default.wms,
        wfs=env.get("ATLAS_GEOPF_WFS") or default.wfs,
        ban=env.get("ATLAS_BAN_DATA_URL") or default.ban,
        pvgis=env.get("ATLAS_PVGIS_URL") or default.pvgis,
    )
