"""Deployment helpers: N app processes behind nginx (see deploy/README.md)."""
