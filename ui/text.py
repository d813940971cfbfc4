"""The words the pages show: the narrative (markdown files under assets/text, one per
chapter section), the one way a PSNR is written, and visitor text made safe to show."""

from __future__ import annotations

import math
import re
from functools import cache
from pathlib import Path

import streamlit as st

TEXT_DIR = Path(__file__).resolve().parent.parent / "assets" / "text"

#: Characters that open markup anywhere in a line of Streamlit markdown: escapes, code,
#: emphasis, links and images, HTML and autolinks, entities, LaTeX, strikethrough, tables,
#: headings, e-mail autolinks, and the colon of directives (``:red[…]``), icons
#: (``:material/…:``) and emoji short codes.
_MARKUP = re.compile(r"([\\`*_\[\]<>&$~|#!@:])")
#: What opens a block only at the start of a line: a list item (``-``, ``+``, ``1.``, ``1)``).
_BLOCK_START = re.compile(r"^(\d*)([-+.)])")
#: "www." starts a link in GitHub's markdown without any markup around it.
_WWW = re.compile(r"(www)\.", re.IGNORECASE)
#: Invisible and unbreakable: after a colon, it keeps an emoji short code from matching.
WORD_JOINER = "\u2060"


@cache
def _read(name: str) -> str:
    return (TEXT_DIR / f"{name}.md").read_text(encoding="utf-8")


#: The texts that stay open in presenter mode: a chapter's summary and its ending.
ALWAYS_OPEN = ("summary_", "ending_")


def story(name: str) -> None:
    """Draw ``assets/text/<name>.md`` as markdown; in presenter mode (:mod:`ui.present`),
    folded in an expander named after its heading or first words, so that the live result
    comes up on the first screen (a chapter's summary and ending stay open)."""
    from . import present  # deferred: present draws widgets of ui.links, which imports this

    body = _read(name)
    if not present.active() or name.startswith(ALWAYS_OPEN):
        st.markdown(body)
        return
    with st.expander(f"Read: {folded_title(body)}"):
        st.markdown(body)


def folded_title(body: str, words: int = 8) -> str:
    """The name of a folded text: its first heading, else its first ``words`` words."""
    first = body.strip().splitlines()[0] if body.strip() else ""
    if first.startswith("#"):
        return first.lstrip("#").strip()
    plain_words = re.sub(r"[*_`\[\]]|\(http\S*?\)", "", body).split()
    return " ".join(plain_words[:words]) + ("…" if len(plain_words) > words else "")


def plain(text: str) -> str:
    """``text`` from a visitor (a file name, a value in a link) escaped so that markdown,
    where Streamlit writes it (``st.markdown``, ``st.error``, a caption), shows it as it is:
    no link, image, HTML, emphasis, code, heading, list, LaTeX, icon or emoji comes out of
    it. Line breaks and other control characters become spaces (a name is one line), the
    ends are stripped, every markup character gets a backslash, and a colon is followed by
    an invisible word joiner (emoji short codes are matched after escapes are read)."""
    line = "".join(" " if c.isspace() or not c.isprintable() else c for c in text).strip()
    escaped = _WWW.sub(r"\1\\.", _BLOCK_START.sub(r"\1\\\2", _MARKUP.sub(r"\\\1", line)))
    return escaped.replace(":", ":" + WORD_JOINER)


def db(value: float, *, unit: bool = True) -> str:
    """A PSNR as the pages write it: two decimals and "dB" (left out with ``unit=False``,
    where a table's column names it); an infinite PSNR, of an image identical to the clean
    one, is "∞ dB (identical)" rather than "inf dB"."""
    number = "∞" if math.isinf(value) else f"{value:.2f}"
    shown = f"{number} dB" if unit else number
    return f"{shown} (identical)" if math.isinf(value) else shown
