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
from ui import probe, scene
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
    return [w.value for w in at.warning if f"for {key} (" in _read(w.value)[0]]


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


# --------------------------------------------------------------------------- a page's whole state

WAVELETS = "chapters/wavelets.py"
SPARSITY = "chapters/sparsity.py"
PDE = "chapters/pde.py"
PERONA_MALIK = {"pde.method": "Perona–Malik anisotropic diffusion"}
DCT_PROBE = "sparsity.dct.probe"


def _used(at: AppTest) -> str:
    """The caption with the parameters the page's method used."""
    return next(c.value for c in at.caption if c.value.startswith("Parameters used:"))


def _now(at: AppTest) -> tuple[int, int]:
    """The pixel a probe's caption says is chosen ("now row R, column C")."""
    caption = next(c.value for c in at.caption if "now row " in c.value)
    row, col = re.search(r"now row (\d+), column (\d+)", caption).groups()
    return int(row), int(col)


def test_a_link_gives_a_method_its_parameters():
    at = _linked({"wavelet.rule": "VisuShrink", "wavelet.mode": "hard", "wavelet.wavelet": "sym4",
                  "wavelet.levels": "3", "wavelet.shifts": "2"}, WAVELETS)
    no_problems(at)
    assert [at.selectbox(key=f"wavelet.{k}").value for k in ("rule", "mode", "wavelet")] == [
        "VisuShrink", "hard", "sym4"]
    assert (at.slider(key="wavelet.levels").value, at.slider(key="wavelet.shifts").value) == (3, 2)
    assert "levels = 3" in _used(at) and "rule = VisuShrink" in _used(at)


def test_a_link_turns_an_auto_parameter_off_and_sets_it():
    at = _linked({**PERONA_MALIK, "perona_malik.kappa.auto": "false",
                  "perona_malik.kappa": "0.2"}, PDE)
    no_problems(at)
    assert at.toggle(key="perona_malik.kappa.auto").value is False
    assert at.slider(key="perona_malik.kappa").value == pytest.approx(0.2)
    assert "kappa = 0.2," in _used(at)


def test_a_link_gives_the_sparsity_page_its_block_step_and_pixel():
    at = _linked({"dct.block": "4", "dct.step": "2", DCT_PROBE: "40,50"}, SPARSITY)
    no_problems(at)
    assert (at.slider(key="dct.block").value, at.slider(key="dct.step").value) == (4, 2)
    assert _now(at) == (40, 50)


@pytest.mark.parametrize(("page", "query", "key", "widget", "used"), [
    (WAVELETS, {"wavelet.levels": "99"}, "wavelet.levels", "slider", 6),
    (WAVELETS, {"wavelet.rule": "<b>Visu</b>"}, "wavelet.rule", "selectbox", "BayesShrink"),
    (SPARSITY, {"dct.block": "2.5"}, "dct.block", "slider", 2),
    (PDE, {**PERONA_MALIK, "perona_malik.kappa.auto": "maybe"}, "perona_malik.kappa.auto",
     "toggle", True),
    (PDE, {"pde.edge.time": "1e9"}, "pde.edge.time", "slider", 20.0),
])
def test_a_bad_page_value_in_a_link_is_clamped_or_dropped_with_a_note(page, query, key, widget,
                                                                       used):
    at = _linked(query, page)
    assert getattr(at, widget)(key=key).value == used
    assert f": {_said(used)} is used instead." in _read(_one_note(at, key))[0]


@pytest.mark.parametrize(("value", "problem"), [
    ("abc", "is not two whole numbers, row and column"),
    ("1,2,3", "is not two whole numbers, row and column"),
    ("4²,5", "is not two whole numbers, row and column"),
    ("9999,5", "is outside the 256x256 image"),
    ("-1,5", "is outside the 256x256 image"),
    (["10,10", "20,20"], "is given 2 times"),
    (LONG, "is longer than the 200 characters a value may have"),
])
def test_a_bad_pixel_in_a_link_is_said_and_the_starting_pixel_used(value, problem):
    at = _linked({DCT_PROBE: value}, SPARSITY)
    note = _read(_one_note(at, DCT_PROBE))[0]
    assert f"{problem}: the starting pixel is used instead." in note
    assert _now(at) == probe.starting_pixel(at.session_state["scene"].clean)
    assert DCT_PROBE not in at.query_params, "the bad pixel leaves the address"


def test_a_click_is_written_into_the_link():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["side"] = 256
    at.run()
    at.switch_page(SPARSITY)
    at.session_state[DCT_PROBE] = {"x": 25, "y": 50, "width": 100, "height": 100}
    at.run()
    assert _now(at) == (128, 64)
    assert at.query_params[DCT_PROBE] == "128,64"


BM3D = "chapters/bm3d.py"
BM3D_RUN = "run.bm3d.True"


def test_a_run_pressed_goes_into_the_link_and_the_link_runs_it_again():
    at = _linked({"bm3d.search": "21"}, BM3D, side=128)
    assert at.button(key=BM3D_RUN), "a link that asks for no run shows the button"
    at.button(key=BM3D_RUN).click().run()
    assert at.query_params["run"] == BM3D_RUN
    again = _linked({**at.query_params, "bm3d.probe": "30,40"}, BM3D, side=128)
    no_problems(again)
    assert not [b for b in again.button if b.key == BM3D_RUN], "the link pressed it"
    assert again.slider(key="bm3d.search").value == 21
    assert any(c.value.startswith("Profile used") for c in again.caption)
    assert _now(again) == (30, 40)


def test_a_run_done_leaves_the_link_when_its_settings_change():
    at = _linked({"run": BM3D_RUN}, BM3D, side=128)
    assert not [b for b in at.button if b.key == BM3D_RUN]
    at.slider(key="bm3d.search").set_value(21).run()
    assert at.button(key=BM3D_RUN), "new settings wait for a press, not for the old link"
    assert "run" not in at.query_params


def test_a_run_the_page_does_not_have_asks_for_nothing():
    at = _linked({"run": ["nope", LONG]}, BM3D, side=128)
    no_problems(at)
    assert at.button(key=BM3D_RUN)


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
