"""The narrative: markdown files under assets/text, one per chapter section."""

from __future__ import annotations

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
