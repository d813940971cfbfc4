"""Presenter mode: the site as a lecture's slides, read from the back of a room.

A switch in the sidebar (bound to the address: ``?present=1`` opens a link in presenter
mode) hides the sidebar, makes the text, the captions and the charts' labels large and
dark enough for a projector, folds each chapter's texts (its two-sentence summary too)
into expanders so that its live result comes up on the first screen, and puts Previous
and Next buttons with a slide counter at the top of every chapter, pressed by the
keyboard's left and right arrows. The image and the noise stay the sidebar's, the same on
every slide.
"""

from __future__ import annotations

import streamlit as st

#: The switch's key, and the address's parameter.
KEY = "present"

#: The projector's stylesheet: larger type everywhere (Streamlit sizes in rem, so the
#: root's size scales it: :data:`SCALE`), dark captions, the charts' tick, axis, legend
#: and colour-bar labels at 16 px in near-black (plotly writes its sizes inline, which an
#: !important rule overrides; the panels' titles keep the sizes their margins were made
#: for), the whole width used, and the sidebar gone (the slide bar's Leave button brings
#: it back).
SCALE = 1.25
STYLE = f"""<style>
html {{ font-size: {16 * SCALE:g}px; }}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] {{ display: none; }}
[data-testid="stMainBlockContainer"] {{ max-width: 100%; padding: 1.5rem 2.5rem 3rem; }}
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * {{
  color: #222 !important; font-size: 0.95rem !important; }}
.js-plotly-plot .annotation-text {{ fill: #111 !important; }}
.js-plotly-plot :is(.xtick, .ytick, .g-xtitle, .g-ytitle, .legendtext, .cbaxis) text,
.js-plotly-plot :is(.g-xtitle, .g-ytitle, .legendtext) {{
  font-size: 16px !important; fill: #111 !important; }}
.js-plotly-plot .modebar {{ top: auto !important; bottom: 0 !important; }}
</style>"""


def switch() -> bool:
    """The sidebar's presenter-mode switch; whether presenter mode is on."""
    from . import links  # deferred: links imports ui.text, which asks active()

    return links.toggle("Presenter mode", key=KEY,
                        help="For a projector: no sidebar, larger type and labels, each "
                             "chapter's live result on its first screen, and the arrow keys "
                             "turn the slides. Opens with ?present=1 in the address.")


def active() -> bool:
    """Whether presenter mode is on in this session."""
    return bool(st.session_state.get(KEY, False))


def _leave() -> None:
    st.session_state[KEY] = False


def style() -> None:
    """In presenter mode, the projector's stylesheet."""
    if active():
        st.html(STYLE)


def leave_button() -> None:
    """A small button that leaves presenter mode (the sidebar's switch is hidden in it)."""
    st.button("Leave", key=f"{KEY}.leave", on_click=_leave, icon=":material/close_fullscreen:",
              type="tertiary", help="Leave presenter mode: the sidebar comes back.")
