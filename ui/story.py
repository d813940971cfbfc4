"""The reading order: every chapter opens with a summary of two sentences, right under its
title, and ends with what its idea gave the next one and links to its neighbours (Previous,
Next) and to the references.

The order is written once, in app.py's navigation: the pages it lists under the sections of
:data:`READ`, in that order. It is read from app.py's source (as :func:`benchmarks.lecture.pages`
reads it) because a page cannot import the script that runs it, and app.py's ``st.Page``
calls need Streamlit's runtime. The texts are ``assets/text/summary_<page>.md`` and
``assets/text/ending_<page>.md``, ``<page>`` being the chapter file's stem.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import streamlit as st

from ui import present, text

APP = Path(__file__).resolve().parent.parent / "app.py"
#: The navigation's sections whose pages are read one after the other, in this order.
READ = ("Chapters", "Compare")
#: The page every chapter's ending links to beside its neighbours.
REFERENCES = "chapters/references.py"
#: The home page: presenter mode's first slide.
HOME = "chapters/home.py"


@dataclass(frozen=True)
class Page:
    """One entry of app.py's navigation: its section, its script (a path from the project's
    root, as ``st.page_link`` takes it) and its title."""

    section: str
    script: str
    title: str

    @property
    def name(self) -> str:
        """The script's stem: the name of the page's texts."""
        return Path(self.script).stem


@cache
def navigation(app: Path = APP) -> tuple[Page, ...]:
    """Every page of ``app``'s ``PAGES`` (a dict of sections to lists of ``st.Page(script,
    title=...)``), in the order the sidebar shows them."""
    tree = ast.parse(app.read_text(encoding="utf-8"))
    pages = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(getattr(target, "id", None) == "PAGES" for target in node.targets))
    return tuple(_page(ast.literal_eval(section), call)
                 for section, calls in zip(pages.keys, pages.values) for call in calls.elts)


def _page(section: str, call: ast.Call) -> Page:
    """The page an ``st.Page(script, title=..., ...)`` call in ``section`` makes."""
    title = next(k.value for k in call.keywords if k.arg == "title")
    return Page(section, ast.literal_eval(call.args[0]), ast.literal_eval(title))


def chapters() -> tuple[Page, ...]:
    """The chapters in reading order: the pages of the sections in :data:`READ`."""
    found = navigation()
    return tuple(page for section in READ for page in found if page.section == section)


def neighbours(script: str) -> tuple[Page | None, Page | None]:
    """The chapters before and after the one in ``script`` (a path or a file name; None at
    either end of the reading order)."""
    order = chapters()
    at = [page.name for page in order].index(Path(script).stem)
    return (order[at - 1] if at > 0 else None, order[at + 1] if at + 1 < len(order) else None)


def go(script: str) -> None:
    """Open the page in ``script``, keeping the session's choices. ``st.switch_page`` with no
    query parameters clears the address, which Streamlit refuses while widgets are bound to
    it; given an empty set it drops them without that check, and the bound widgets (whose
    values persist in the session) write theirs back on the new page."""
    st.switch_page(script, query_params={})


def slides() -> tuple[Page, ...]:
    """Presenter mode's slides: the home page, then the chapters in reading order."""
    home = next(page for page in navigation() if page.script == HOME)
    return (home, *chapters())


def slide_bar(script: str) -> None:
    """In presenter mode (:mod:`ui.present`), at the top of the page in ``script``: the
    previous slide, the slide's number and the next slide, as buttons that the keyboard's
    left and right arrows press."""
    if not present.active():
        return
    order = slides()
    at = [page.name for page in order].index(Path(script).stem)
    with st.container(horizontal=True, horizontal_alignment="distribute",
                      vertical_alignment="center"):
        if at > 0 and st.button(order[at - 1].title, key="present.previous", shortcut="Left",
                                icon=":material/arrow_back:"):
            go(order[at - 1].script)
        st.markdown(f"**Slide {at + 1} of {len(order)}**")
        present.leave_button()
        if at + 1 < len(order) and st.button(order[at + 1].title, key="present.next",
                                             shortcut="Right", icon=":material/arrow_forward:",
                                             icon_position="right", type="primary"):
            go(order[at + 1].script)


def opening(script: str) -> None:
    """The summary of the chapter in ``script`` (pass ``__file__``), drawn under its title
    (with presenter mode's slide bar above it)."""
    slide_bar(script)
    # In presenter mode the summary folds away like the other texts: the first screen is
    # the chapter's live result.
    with st.expander("In two sentences") if present.active() else st.container(border=True):
        text.story(f"summary_{Path(script).stem}")


def model(script: str) -> None:
    """Why the essay cares, in a classical chapter (pass ``__file__``): what the chapter's
    model claims about images and where the claim fails, pointing at the page's own live
    results as the evidence (``assets/text/model_<page>.md``)."""
    st.subheader("What the model claims, and where it fails")
    text.story(f"model_{Path(script).stem}")


def ending(script: str) -> None:
    """The end of the chapter in ``script`` (pass ``__file__``): what its idea gave the next
    one, then links to the previous chapter, the references and the next chapter."""
    before, after = neighbours(script)
    st.divider()
    text.story(f"ending_{Path(script).stem}")
    # One row, spread across the page, that wraps where a projector's page is too narrow.
    with st.container(horizontal=True, horizontal_alignment="distribute", gap="medium"):
        if before is not None:
            st.page_link(before.script, label=f"Previous: {before.title}",
                         icon=":material/arrow_back:")
        st.page_link(REFERENCES, label="References", icon=":material/menu_book:")
        if after is not None:
            st.page_link(after.script, label=f"Next: {after.title}",
                         icon=":material/arrow_forward:", icon_position="right")
