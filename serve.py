"""Atlas PMA with its own routes — what `make run` and the deployment serve.

``streamlit run serve.py`` serves the app (``app.py``: pages, sidebar) and, beside it,
the routes of :mod:`layers.routes` (irradiation map tiles, downloads built when asked),
through Streamlit's ASGI ``st.App``, with security headers on every response
(``nosniff``, no framing by other sites, a referrer policy). ``streamlit run app.py``
still works, without them.
"""

import streamlit as st

from layers.routes import middleware, routes

app = st.App("app.py", routes=routes(), middleware=middleware())
