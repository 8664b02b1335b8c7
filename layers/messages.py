"""How a workflow's message is shown: the levels ``layers`` returns and pages draw.

A workflow in ``layers/`` returns ``(Level, French text)`` pairs; the page draws each with
``pages.ui.widgets.message``, which names the one Streamlit element of every level (never
looked up by name: a misspelt level fails here, at import, not on a user's screen).
"""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """A message's level, as Streamlit's elements name them."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    SUCCESS = "success"
    CAPTION = "caption"  # a quiet line under a figure, not a box


Message = tuple[Level, str]
