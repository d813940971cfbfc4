"""A sign that the page is working, pinned where the visitor sees it however far they scrolled.

Streamlit fades a page while its script reruns but shows no spinner of its
own, and a spinner drawn in the page's flow is off-screen when the visitor
has scrolled to the slider they moved. :func:`busy` pins one to the top right
of the window; like every ``st.spinner`` it appears only when the work takes
more than half a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

_PREFIX = "busy-"

#: Pins every :func:`busy` container to the top right of the window, above the page.
STYLE = (f"<style>[class*='st-key-{_PREFIX}'] {{ position: fixed; top: 3.75rem; right: 1.5rem; "
         "z-index: 999990; width: auto !important; background: #ffffff; border-radius: 0.5rem; "
         "padding: 0 0.75rem; box-shadow: 0 1px 6px rgba(0, 0, 0, 0.18); }</style>")


def pin() -> None:
    """Draw the style that pins the signs (once per run of the app, before the page)."""
    st.html(STYLE)


@contextmanager
def busy(text: str, *, key: str) -> Iterator[None]:
    """Run the body with a timed spinner saying ``text`` pinned to the top of the window.

    The body draws where it would have drawn: only the spinner goes into the
    pinned container (``key`` names it, one per place that uses it).
    """
    box = st.container(key=f"{_PREFIX}{key}")
    with box.spinner(text, show_time=True):
        yield
