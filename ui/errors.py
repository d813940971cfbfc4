"""Keep tracebacks away from visitors: one guard around every page."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

log = logging.getLogger("deep_deep_trouble")


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Show a plain message instead of a traceback if ``what`` fails.

    A ValueError from the library carries a message written for people (a
    bad parameter, an image too small); anything else is logged on the
    server with its traceback and summarised on the page. Streamlit's own
    rerun and stop signals are BaseExceptions and pass through untouched.
    """
    try:
        yield
    except ValueError as error:
        st.warning(f"{what}: {error}")
    except Exception:  # noqa: BLE001 - the last line of defence of a page
        log.exception("%s failed", what)
        st.error(
            f"{what} failed unexpectedly. The rest of the site still works; "
            "try another image, method or setting."
        )
