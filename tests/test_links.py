"""Hostile links and hostile file names: every value a link gives a bound widget is checked
(clamped or dropped, with a note naming it), and visitor text is shown literally."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, no_problems, problems
from ui import scene
from ui.text import WORD_JOINER, plain

TIMEOUT = 180
LONG = "9" * 10_000

#: Characters that must never reach markdown without a backslash before them.
MARKUP = set("\\`*_[]<>&$~|#!@:")


def _linked(query: dict[str, str | list[str]], page: str | None = None, *,
            side: int | None = 256) -> AppTest:
    """The site opened from a link carrying ``query`` (on ``page``, reached from the
    home page as a visitor does), at working size ``side`` (None: the link's own)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if side is not None:
        at.session_state["side"] = side
    at.query_params.update(query)
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _notes(at: AppTest, key: str) -> list[str]:
    """The warnings that name parameter ``key`` of the link."""
    return [w.value for w in at.warning if f"for {key} (" in w.value]


def _one_note(at: AppTest, key: str) -> str:
    """The one note on ``key``; nothing else on the page is a problem."""
    notes = _notes(at, key)
    assert len(notes) == 1, [w.value for w in at.warning]
    assert not [p for p in problems(at) if p not in notes], problems(at)
    return notes[0]


def _read(escaped: str) -> tuple[str, list[str]]:
    """``escaped`` as markdown shows it (backslash escapes resolved, word joiners gone),
    and the markup characters in it that had no backslash."""
    shown, bare, chars = [], [], iter(escaped)
    for char in chars:
        if char == "\\":
            shown.append(next(chars, "\\"))
        elif char != WORD_JOINER:
            shown.append(char)
            if char in MARKUP:
                bare.append(char)
    return "".join(shown), bare


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- the sidebar

SAMPLE = "Salt and pepper"
POISSON = "Poisson (photon counts)"


@pytest.mark.parametrize(("query", "key", "widget", "used"), [
    ({"sigma": "1e9"}, "sigma", "slider", 100),
    ({"sigma": "-5"}, "sigma", "slider", 0),
    ({"sigma": "nan"}, "sigma", "slider", 25),
    ({"sigma": "abc"}, "sigma", "slider", 25),
    ({"sigma": "30.7"}, "sigma", "slider", 30),
    ({"sigma": ["10", "20"]}, "sigma", "slider", 25),
    ({"sigma": LONG}, "sigma", "slider", 25),
    ({"seed": "-1"}, "seed", "number_input", 0),
    ({"seed": "abc"}, "seed", "number_input", 0),
    ({"seed": "1e20"}, "seed", "number_input", 2**31 - 1),
    ({"image": "../../etc/passwd"}, "image", "selectbox", "camera"),
    ({"image": "x" * 10_000}, "image", "selectbox", "camera"),
    ({"noise": "<script>"}, "noise", "selectbox", "gaussian"),
    ({"clip": "maybe"}, "clip", "toggle", False),
    ({"real": "maybe"}, "real", "toggle", False),
    ({"noise": POISSON, "peak": "3"}, "peak", "select_slider", 2),
    ({"noise": POISSON, "peak": "1e9"}, "peak", "select_slider", 255),
    ({"noise": SAMPLE, "level.amount": "5"}, "level.amount", "slider", 1.0),
    ({"noise": SAMPLE, "level.amount": "nan"}, "level.amount", "slider", 0.1),
])
def test_a_bad_value_in_a_link_is_clamped_or_dropped_with_a_note(query, key, widget, used):
    at = _linked(query)
    assert getattr(at.sidebar, widget)(key=key).value == used
    note = _one_note(at, key)
    assert len(note) < 400, "the note quotes a shortened value"
    assert f": {_said(used)} is used instead." in _read(note)[0]


def _said(used: object) -> str:
    """How a note names the value used."""
    if isinstance(used, bool):
        return "on" if used else "off"
    if isinstance(used, float):
        return f"{used:g}"
    return scene.NOISE_LABELS.get(used, str(used))


@pytest.mark.parametrize(("side", "used"), [("7", 256), ("300", 256), ("5000", scene.MAX_SIDE)])
def test_a_working_size_not_offered_is_read_as_the_nearest_one(side, used):
    at = _linked({"side": side}, side=None)
    assert at.sidebar.select_slider(key="side").value == used
    assert _one_note(at, "side")
    camera = 512
    assert max(at.session_state["scene"].noisy.shape) == min(used, camera)


def test_good_values_in_a_link_are_used_without_a_note():
    at = _linked({"image": "astronaut", "noise": POISSON, "peak": "8", "seed": "7",
                  "clip": "TRUE", "side": "384"}, side=None)
    no_problems(at)
    chosen = at.session_state["scene"]
    assert (chosen.source, chosen.seed, chosen.clip) == ("astronaut", 7, True)
    assert chosen.noise == "Poisson, peak 8" and max(chosen.noisy.shape) == 384


def test_a_clamped_value_is_written_back_into_the_link():
    at = _linked({"sigma": "1e9"})
    assert "sigma" not in at.query_params, "Streamlit drops the value it refuses"
    at.run()
    assert at.query_params["sigma"] == "100"
    assert not _notes(at, "sigma"), "the note is said once"
    assert at.session_state["scene"].sigma == pytest.approx(100 / 255)


def test_a_note_shows_a_hostile_value_literally():
    at = _linked({"noise": "[click](http://example.org)"})
    note = _one_note(at, "noise")
    shown, bare = _read(note)
    assert "“[click](http://example.org)”" in shown and not bare


# --------------------------------------------------------------------------- the pages

@pytest.mark.parametrize(("page", "key", "value", "used"), [
    ("chapters/pde.py", "pde.method", "xx", "heat"),
    ("chapters/pde.py", "pde.method", LONG, "heat"),
    ("chapters/local_filters.py", "local.method", "<b>tv</b>", "gaussian"),
    ("chapters/epilogue.py", "prior.problem", "../deblur", "deblur"),
])
def test_a_bad_method_choice_in_a_link_keeps_the_default(page, key, value, used):
    at = _linked({key: value}, page)
    assert at.button_group(key=key).value == used
    assert _one_note(at, key)


def test_a_good_method_choice_in_a_link_is_used():
    at = _linked({"pde.method": "Total variation (ROF)"}, "chapters/pde.py")
    no_problems(at)
    assert at.button_group(key="pde.method").value == "tv"


def test_the_arena_drops_unknown_and_repeated_methods_from_a_link():
    at = _linked({"arena.methods": ["Median filter (1974)", "Median filter (1974)", "nope",
                                    "Wiener filter (1949)"]}, "chapters/arena.py")
    assert at.multiselect(key="arena.methods").value == ["median", "wiener"]
    note = _one_note(at, "arena.methods")
    assert "1 unknown option and repeats 1 option" in _read(note)[0]
    table = at.dataframe[0].value
    assert set(table.index) == {"noisy input", "Median filter", "Wiener filter"}


def test_the_arena_keeps_its_default_methods_when_a_link_names_none_it_knows():
    default = _linked({}, "chapters/arena.py").multiselect(key="arena.methods").value
    at = _linked({"arena.methods": ["nope", "<script>"]}, "chapters/arena.py")
    assert at.multiselect(key="arena.methods").value == default
    assert _one_note(at, "arena.methods")


# --------------------------------------------------------------------------- file names

HOSTILE_NAMES = [
    "[click](http://example.org).png",
    "![x](http://example.org/x.png).png",
    "<img src=x onerror=alert(1)>.png",
    "**bold** _it_ `code` ~~gone~~.png",
    "# heading.png",
    "1. list.png",
    "- item.png",
    "$x^2$.png",
    ":material/home: :smile: :red[red].png",
    "www.example.org.png",
    "mail@example.org.png",
    "&lt;b&gt;.png",
    "back\\[slash].png",
    "two\nlines\r\n    indented.png",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_plain_shows_visitor_text_literally(name):
    escaped = plain(name)
    shown, bare = _read(escaped)
    assert shown == "".join(" " if c.isspace() else c for c in name).strip(), escaped
    assert not bare, escaped
    assert not re.match(r"\s*([-+#>]|\d+[.)])", escaped), "no block starts"
    assert "www." not in escaped.lower() and "://" not in escaped, "no bare autolinks"


NAME = "[click](http://example.org).png"


def _uploaded(data: bytes) -> AppTest:
    at = _linked({})
    at.sidebar.file_uploader[0].set_value((NAME, data, "image/png"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_uploaded_file_name_is_shown_escaped():
    at = _uploaded(_png(np.full((40, 50), 90, np.uint8)))
    in_use = next(m.value for m in at.sidebar.markdown if m.value.startswith("**In use:**"))
    assert f"*{plain(NAME)}*" in in_use and NAME not in in_use
    assert NAME in _read(in_use)[0], "shown as it is"
    assert at.session_state["scene"].source == f"upload: {plain(NAME)}"


def test_an_unusable_upload_is_reported_with_its_name_escaped():
    at = _uploaded(b"this is not an image")
    shown = [e.value for e in (*at.sidebar.error, *at.main.error)]
    assert len(shown) == 2, shown
    for message in shown:
        assert plain(NAME) in message and NAME not in message
        assert NAME in _read(message)[0], "shown as it is"
    assert at.session_state["scene"].source == "camera"
