"""The width of the page's main column, as the browser reports it.

The server never sees the window, so a comparison of images once sent a
layout for every width and let a CSS container query show the one that fits
(:func:`ui.views.show_panels`); but a browser draws every plotly chart it is
sent, shown or not, and each took 150 to 300 ms of a 2-core machine's
Chromium: a warm page opened in 1.5 s instead of 1.1 s. A component of no
height at the top of the main column (``frontend/viewport/index.html``)
reports the column's width in CSS pixels once a session, and again after a
resize of 8 px or more; until it has, every layout is sent as before.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

#: The session-state key of the last width reported, in CSS pixels.
KEY = "ddt-viewport"

#: The main column's width on a desktop, in CSS pixels: the ``width`` that pages give
#: :func:`ui.views.compare` for a comparison across the whole column.
DESKTOP = 900

_component = components.declare_component(
    "ddt_viewport", path=str(Path(__file__).parent / "frontend" / "viewport"))


def watch() -> None:
    """Draw the reporting component (no height, no gap) at the top of the main column."""
    with st.container(key=f"{KEY}-frame"):
        # The frame and its wrapper take no height, and the wrapper's gap to the next
        # element is taken back.
        st.html(f"<style>.st-key-{KEY}-frame, div:has(> .st-key-{KEY}-frame) {{ "
                "height: 0 !important; min-height: 0 !important; overflow: hidden; }\n"
                f"div:has(> .st-key-{KEY}-frame) {{ margin-bottom: -1rem; }}</style>")
        _component(key=KEY, known=width(), default=None)


def width() -> int | None:
    """The main column's width in CSS pixels, or None before the browser has said."""
    value = st.session_state.get(KEY)
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def frame_width(desktop: int) -> float | None:
    """The width, in CSS pixels, of a frame ``desktop`` pixels wide in the desktop's
    :data:`DESKTOP`-pixel column (its share of the column), or None while unknown."""
    column = width()
    return None if column is None else column * min(1.0, desktop / DESKTOP)
