"""The words the pages show: the narrative (markdown files under assets/text, one per
chapter section) and the one way a PSNR is written."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import streamlit as st

TEXT_DIR = Path(__file__).resolve().parent.parent / "assets" / "text"


@cache
def _read(name: str) -> str:
    return (TEXT_DIR / f"{name}.md").read_text(encoding="utf-8")


def story(name: str) -> None:
    """Draw ``assets/text/<name>.md`` as markdown."""
    st.markdown(_read(name))


def db(value: float, *, unit: bool = True) -> str:
    """A PSNR as the pages write it: two decimals and "dB" (left out with ``unit=False``,
    where a table's column names it); an infinite PSNR, of an image identical to the clean
    one, is "∞ dB (identical)" rather than "inf dB"."""
    number = "∞" if math.isinf(value) else f"{value:.2f}"
    shown = f"{number} dB" if unit else number
    return f"{shown} (identical)" if math.isinf(value) else shown
