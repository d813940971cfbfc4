"""Every page runs under Streamlit's AppTest with its defaults and with uploads."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import denoisers

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "chapters").glob("*.py"))
TIMEOUT = 120


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)


def _open(page: str, **state) -> AppTest:
    at = _app()
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page != "chapters/home.py":
        at.switch_page(page).run()
    return at


def _problems(at: AppTest) -> list[str]:
    return [e.value for e in (*at.exception, *at.error, *at.warning)]


def _png(array: np.ndarray, **kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, **kwargs).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_is_reached_through_the_navigation(page):
    """Switching to a chapter file runs that chapter: st.navigation falls back to the home
    page for a file it does not list."""
    own_title = re.search(r'st\.title\("([^"]+)"\)', (ROOT / page).read_text()).group(1)
    at = _open(page, side=128)
    assert [t.value for t in at.title] == [own_title]


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_with_defaults(page):
    at = _open(page)
    assert not _problems(at), _problems(at)
    assert at.title, f"{page} has no title"


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_a_colour_image_with_poisson_noise_clipped(page):
    at = _open(page, image="astronaut", noise="poisson", clip=True)
    assert not _problems(at), _problems(at)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_a_real_noisy_upload(page):
    rng = np.random.default_rng(0)
    photo = np.clip(rng.normal(128, 20, (90, 120, 3)), 0, 255).astype(np.uint8)
    at = _app()
    at.run()
    at.sidebar.file_uploader[0].set_value(("photo.png", _png(photo), "image/png"))
    at.sidebar.toggle(key="real").set_value(True)
    at.run()
    if page != "chapters/home.py":
        at.switch_page(page).run()
    assert not _problems(at), _problems(at)
    assert at.session_state["scene"].source == "upload: photo.png"
    assert at.session_state["scene"].real


def test_a_bad_upload_gets_a_message_and_the_sample_stays():
    at = _app()
    at.run()
    at.sidebar.file_uploader[0].set_value(("notes.png", b"this is not an image", "image/png"))
    at.run()
    assert not at.exception
    assert any("notes.png" in e.value and "not an image" in e.value for e in at.sidebar.error)
    assert at.session_state["scene"].source == "camera"


def test_an_upload_with_alpha_is_converted_and_the_page_says_so():
    rgba = np.zeros((40, 50, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 128
    at = _app()
    at.run()
    at.sidebar.file_uploader[0].set_value(("logo.png", _png(rgba), "image/png"))
    at.run()
    assert not _problems(at), _problems(at)
    assert any("alpha" in i.value.lower() for i in at.sidebar.info)
    assert at.session_state["scene"].noisy.shape == (40, 50, 3)


def test_the_scene_persists_across_pages():
    at = _open("chapters/home.py", sigma=50, seed=3)
    at.switch_page("chapters/arena.py").run()
    scene = at.session_state["scene"]
    assert scene.sigma == pytest.approx(50 / 255) and scene.seed == 3


def test_arena_scores_every_chosen_method():
    at = _open("chapters/arena.py")
    table = at.dataframe[0].value
    assert "noisy input" in table.index
    chosen = at.multiselect(key="arena.methods").value
    families = {denoisers.get(k).family for k in chosen}
    assert len(families) == len(chosen) == len({m.family for m in denoisers.methods()} - {
        m.family for m in denoisers.methods() if all(o.slow for o in denoisers.methods()
                                                     if o.family == m.family)})
    assert len(table) == len(chosen) + 1
    noisy = table.loc["noisy input", "PSNR (dB)"]
    assert (table.loc[table.index != "noisy input", "PSNR (dB)"] > noisy).all()
    tradeoff = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                    if "run time" in c.proto.spec)
    points = dict(zip(tradeoff["data"][0]["text"], tradeoff["data"][0]["y"]))
    assert points == pytest.approx(table["PSNR (dB)"].drop("noisy input").to_dict())


def test_local_filters_page_shows_each_method():
    at = _open("chapters/local_filters.py")
    for key in ("gaussian", "wiener", "median", "bilateral"):
        at.segmented_control(key="local.method").set_value(key).run()
        assert not _problems(at), (key, _problems(at))
        assert any("Parameters used" in c.value for c in at.caption)


def test_a_parameter_out_of_auto_is_used():
    at = _open("chapters/local_filters.py")
    at.toggle(key="gaussian.width.auto").set_value(False).run()
    at.slider(key="gaussian.width").set_value(3.0).run()
    assert not _problems(at)
    assert any("width = 3" in c.value for c in at.caption)


def test_bm3d_page_runs_on_a_button_and_opens_a_group():
    at = _open("chapters/bm3d.py", side=256)
    assert not any("Profile used" in c.value for c in at.caption)
    at.button(key="run.bm3d.True").click().run()
    assert not _problems(at), _problems(at)
    assert any("Profile used" in c.value for c in at.caption)
    captions = [img.caption for image in at.image for img in image.proto.imgs]
    assert any("coefficients kept" in caption for caption in captions)


def test_the_deep_learning_scoreboard_puts_bm3d_beside_the_networks():
    at = _open("chapters/deep_learning.py", side=128)
    assert "classical method run so far: " in _verdict(at)
    # The classical methods before the networks: the learned ones have the next chapter.
    earlier = [m for m in denoisers.methods()
               if m.family not in (denoisers.nets.FAMILY, denoisers.unrolled.FAMILY)]
    slow = ", ".join(m.name for m in earlier if m.slow)
    assert _verdict(at).endswith(f". {slow} wait{'s' if ',' not in slow else ''} on the button "
                                 "above."), _verdict(at)
    at.button(key="deep.score").click().run()
    assert not _problems(at), _problems(at)
    table = next(d.value for d in at.dataframe if "BM3D / CBM3D" in d.value.index)
    assert {"DRUNet (small)", "Multi-layer perceptron", "noisy input"} <= set(table.index)
    assert "dB above the best classical method: " in _verdict(at)
    assert "so far" not in _verdict(at) and "button" not in _verdict(at)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_button_of_every_page_can_be_pressed(page):
    """Press each button once, new ones as they appear, at working size 256: no failure."""
    at = _open(page, side=256)
    pressed: list[str] = []
    while True:
        button = next((b for b in at.button if (b.key or b.label) not in pressed), None)
        if button is None:
            break
        pressed.append(button.key or button.label)
        button.click().run()
        assert not _problems(at), (page, button.label, _problems(at))
        assert len(pressed) < 20, f"{page} keeps showing new buttons: {pressed}"
    labels = [b.label for b in at.button]
    assert len(labels) == len(set(labels)), f"{page} shows two buttons alike: {labels}"


def test_a_section_that_fails_leaves_the_rest_of_the_page(monkeypatch):
    """A fault in one section is shown as the failure it is; the sections after it still run."""
    from ui import network_views

    def broken(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(network_views, "inside", broken)
    at = _open("chapters/deep_learning.py", side=128)
    errors = [e.value for e in at.error]
    assert len(errors) == 1
    assert "The view of the chosen pixel failed: ValueError: operands" in errors[0]
    assert not at.exception and not at.warning
    assert any(h.value == "The scoreboard" for h in at.subheader), "the page stopped at the fault"


def _verdict(at) -> str:
    """The scoreboard's sentence on who wins."""
    return next(m.value for m in at.markdown if " wins, " in m.value)


def _in_use(at) -> str:
    """The sidebar's line saying which image is in use."""
    return next(m.value for m in at.sidebar.markdown if m.value.startswith("**In use:**"))


def test_a_sample_picked_after_an_upload_is_used_and_the_upload_cleared():
    photo = np.full((30, 40), 90, np.uint8)
    at = _app()
    at.run()
    assert "the sample *camera*" in _in_use(at)
    at.sidebar.file_uploader[0].set_value(("photo.png", _png(photo), "image/png"))
    at.run()
    assert at.session_state["scene"].source == "upload: photo.png"
    assert "your upload *photo.png* (40x30, grey)" in _in_use(at)
    at.sidebar.selectbox(key="image").set_value("astronaut").run()
    assert not _problems(at), _problems(at)
    assert at.session_state["scene"].source == "astronaut"
    assert "the sample *astronaut*" in _in_use(at)
    assert at.sidebar.file_uploader[0].value is None
    # The uploader works again after being cleared.
    at.sidebar.file_uploader[0].set_value(("photo.png", _png(photo), "image/png"))
    at.run()
    assert at.session_state["scene"].source == "upload: photo.png"


def test_a_bad_upload_is_also_reported_at_the_top_of_the_page():
    at = _app()
    at.run()
    at.sidebar.file_uploader[0].set_value(("notes.png", b"this is not an image", "image/png"))
    at.run()
    assert any("notes.png" in e.value and "could not be used" in e.value for e in at.main.error)
    at.switch_page("chapters/arena.py").run()
    assert any("notes.png" in e.value for e in at.main.error)
    assert "the sample *camera*" in _in_use(at)


TEXT = ROOT / "assets" / "text"
BENCHMARKS = ROOT / "assets" / "benchmarks"


def _measured(table: str, key: str, column: int) -> str:
    """The mean PSNR (dB, as written) of method ``key`` in a benchmark table's ``column``."""
    text = (BENCHMARKS / table).read_text()
    row = next(line for line in text.splitlines() if f"(`{key}`) |" in line)
    return row.split("|")[column + 1].split("/")[0].strip()


def _published(method: str, column: int) -> str:
    text = (BENCHMARKS / "quality_set12.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith(f"| {method} "))
    return row.split("|")[column + 1].strip()


def test_the_story_quotes_the_benchmarks_it_cites():
    intro, inside = (TEXT / "deep_intro.md").read_text(), (TEXT / "deep_inside.md").read_text()
    bm3d = (TEXT / "bm3d_intro.md").read_text()
    sigma25 = 2  # the σ = 25 column of the Set12 tables
    for figure in (_measured("networks/quality_set12.md", "mlp", sigma25),
                   _measured("quality_set12.md", "bm3d", sigma25),
                   _measured("quality_set12.md", "bilateral", sigma25),
                   _published("MLP (2012)", sigma25), _published("BM3D (2007)", sigma25)):
        assert f"{figure} dB" in intro, figure
    for figure in (_measured("networks/quality_set12.md", "dncnn_bf", sigma25),
                   _measured("networks/quality_set12.md", "dncnn", sigma25)):
        assert figure in inside, figure
    for method in ("MLP (2012)", "WNNM (2014)", "BM3D (2007)"):
        assert _published(method, sigma25) in bm3d, method
    blind = (TEXT / "deep_blind.md").read_text()
    for key in ("bm3d", "drunet", "dncnn", "ffdnet", "dncnn_bf", "mlp"):  # the σ = 2 column
        assert f"{_measured('sigma_low/quality_set12.md', key, 1)}" in blind, key
    assert f"{_measured('sigma_low/quality_set12.md', 'mlp', 2)} at σ = 5" in blind


def test_the_story_points_only_at_what_the_site_has():
    stories = {p.name: p.read_text() for p in TEXT.glob("*.md")}
    for name, story in stories.items():
        assert "epilogue" not in story.lower(), name
        assert "in its chapter" not in story, name
        for link in re.findall(r"https://sinews\.siam\.org/\S+?(?=\))", story):
            assert link == "https://sinews.siam.org/Details-Page/deep-deep-trouble-4", name
    assert "sinews.siam.org" in stories["home.md"]


def test_the_network_looked_inside_runs_with_its_own_settings():
    """The self-ensemble, drawn from the network's spec, is the one the inside views use."""
    at = _open("chapters/deep_learning.py", side=128)
    at.segmented_control(key="deep.net").set_value("drunet").run()
    at.toggle(key="drunet.self_ensemble").set_value(True).run()
    assert not _problems(at), _problems(at)
    done = at.session_state["compute.done"]
    assert any(c.method.key == "drunet" and c.trace and ("self_ensemble", True) in c.params
               for c in done)


def test_a_network_run_above_is_the_one_looked_inside_without_a_second_button():
    """The perceptron is slow: once run with the other networks, choosing it under "Inside
    one network" shows its insides, not another Run button for the same run."""
    at = _open("chapters/deep_learning.py", side=128)
    at.button(key="deep.run").click().run()
    at.segmented_control(key="deep.net").set_value("mlp").run()
    assert not _problems(at), _problems(at)
    assert not [b for b in at.button if b.label == "Run Multi-layer perceptron"]
    assert any(c.method.key == "mlp" and c.trace for c in at.session_state["compute.done"])


def test_at_a_lecture_s_working_size_the_scoreboard_runs_on_the_centre():
    """At 512 the scoreboard's slow methods would take most of a minute: it runs on the
    centre 256x256 by default, says so, and offers the full size on a switch."""
    at = _open("chapters/deep_learning.py", side=512)
    assert not _problems(at), _problems(at)
    assert "deep.score.full" in [t.key for t in at.toggle]
    assert any(c.value.startswith("The scoreboard ran on the centre 256x256 of the image "
                                  "(512x512)") for c in at.caption)
