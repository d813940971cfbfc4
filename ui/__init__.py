"""Streamlit and plotly helpers shared by the pages.

The arrows go one way: pages -> ui -> denoisers. Everything that touches
Streamlit's caches, session state or widgets lives here, so pages stay a
title, a few paragraphs and calls into this package.
"""
