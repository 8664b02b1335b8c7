"""Errors of Atlas PMA: one small hierarchy, French messages for the UI and the CLI."""

from __future__ import annotations

from layers.solar.errors import SolarError


class AtlasError(Exception):
    """Base class: pages catch it and show ``str(err)`` (French) in ``st.error``."""


# what the app catches and shows: its own errors and the solar engine's (a library with
# its own base class, French messages too)
USER_ERRORS: tuple[type[Exception], ...] = (AtlasError, SolarError)


class CatalogError(AtlasError):
    """The layer catalogue is missing, unreadable or names an unknown layer."""


class InvalidLayerError(AtlasError):
    """A layer file is missing, corrupt, empty, without CRS or lacks required fields."""


class CRSMismatchError(InvalidLayerError):
    """A layer's CRS differs from the one its catalogue entry declares."""


class AssetError(AtlasError):
    """Offline web assets (Leaflet) could not be fetched or are missing."""
