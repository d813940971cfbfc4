"""Keep tracebacks away from visitors: a guard around every page and every section."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from denoisers.core import InvalidInput

log = logging.getLogger("deep_deep_trouble")


@contextmanager
def guard(what: str) -> Iterator[None]:
    """Run the body; if it fails, say so in its place and let the rest of the page go on.

    An :class:`~denoisers.core.InvalidInput` carries a message written for
    people (a bad upload, a parameter out of range): it is shown as a
    warning. Any other exception, a ``ValueError`` from numpy included, is a
    fault: it is logged on the server with its traceback and shown as an
    error naming its type, never as a traceback. Streamlit's own rerun and
    stop signals are BaseExceptions and pass through untouched.
    """
    try:
        yield
    except InvalidInput as error:
        st.warning(f"{what}: {error}")
    except Exception as error:  # noqa: BLE001 - the last line of defence of a section
        log.exception("%s failed", what)
        st.error(f"{what} failed: {type(error).__name__}: {error}. The rest of the page "
                 "still works; try another image, method or setting.")


@contextmanager
def section(title: str) -> Iterator[None]:
    """A titled part of a page, guarded so that its failure never takes the rest with it."""
    st.subheader(title)
    with guard(title):
        yield
