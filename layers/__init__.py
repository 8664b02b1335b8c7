"""Atlas PMA library: data, territory, maps — no Streamlit import here.

Pages (``pages/``) compose widgets and call this package; tests call it directly.
"""

__version__ = "0.1.0"
