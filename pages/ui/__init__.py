"""Streamlit helpers of the pages, by concern: loaders, selection, widgets, editors."""
