"""The engine's errors, with French messages shown as they are.

They are sentences for the person who gave the input (a planner at the command line, a
resident in the app).

``layers.solar`` raises nothing else on purpose; an application catches
:class:`SolarError` (the Atlas PMA app: ``layers.errors.USER_ERRORS``).
"""

from __future__ import annotations


class SolarError(Exception):
    """Base of the engine's errors: a computation or a store that cannot go on."""


class InputError(SolarError):
    """An input is unusable (LiDAR tile, buildings, addresses, weather, surface model).

    The message names the file and the reason; nothing has been written.
    """
