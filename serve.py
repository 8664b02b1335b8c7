"""Atlas PMA with its own routes — what `make run` and the deployment serve.

``streamlit run serve.py`` serves the app (``app.py``: pages, sidebar) and, beside it,
the routes of :mod:`layers.routes` (irradiation map tiles, downloads built when asked),
through Streamlit's ASGI ``st.App``, with security headers on every response
(``nosniff``, no framing by other sites, a referrer policy). ``streamlit run app.py``
still works, without them.
"""

import os

import streamlit as st

from layers.routes import middleware, routes

app = st.App("app.py", routes=routes(), middleware=middleware())


def _say_where() -> None:
    """Where the atlas is served, in French (Streamlit's own English banner is hidden)."""
    from layers.settings import Settings

    port = st.get_option("server.port")
    address = st.get_option("server.address") or "localhost"
    public = Settings.from_env(os.environ).public_url
    print(
        f"Atlas PMA servi sur http://{address}:{port} (liens partagés et PDF : {public}).",
        flush=True,
    )


_say_where()
