"""The low-rank and patch-priors chapter under AppTest: WNNM waits on its button, then
shows its curves, its rank map and one clicked group's singular values."""

from __future__ import annotations

import numpy as np
from conftest import chart_titles, compared_sizes, no_problems, open_page
from streamlit.testing.v1 import AppTest

from ui import timing, wnnm_views

PAGE = "chapters/patch_priors.py"


#: Two quick rounds on a coarse grid: the page's flow, not WNNM's quality, is under test.
QUICK = {"wnnm.iterations.auto": False, "wnnm.iterations": 2, "wnnm.step": 6}


def _page(side: int = 256, **state) -> AppTest:
    return open_page(PAGE, side=side, timeout=300, **state)


def test_the_page_says_how_long_wnnm_takes_before_it_runs():
    at = _page()
    assert [t.value for t in at.title] == ["Patch priors (2011–2014)"]
    assert "run.wnnm.True" in [b.key for b in at.button]
    # The time is the speed benchmark's when it has timed WNNM, "seconds or more" if not.
    said = ("seconds or more" if timing.expected_seconds("wnnm", (256, 256), 25 / 255) is None
            else "about")
    assert any(c.value.startswith(f"At this size (256x256) WNNM takes {said}")
               for c in at.caption)
    assert "One group and its singular values" not in [h.value for h in at.subheader]


def test_wnnm_runs_on_its_button_and_shows_a_group():
    at = _page(**QUICK)
    at.button(key="run.wnnm.True").click().run()
    no_problems(at)
    headers = [h.value for h in at.subheader]
    assert "WNNM, round by round" in headers
    assert "One group and its singular values" in headers
    titles = chart_titles(at)
    assert any(t.startswith("PSNR (dB)") for t in titles), titles
    assert any(t.startswith("rank kept by each group") for t in titles), titles
    assert any(t.startswith("kept ") and "the noise assumed here" in t for t in titles), titles


def test_the_weights_chart_reads_where_the_weights_matter():
    """The noise's singular values get weights near 10⁹ (their clean estimate is zero):
    a linear axis squashed the others flat. The log axis ends at twice the largest value."""
    values = np.array([900.0, 300.0, 40.0, 20.0, 10.0])
    weights = np.array([2.0, 6.0, 60.0, 1.2e9, 1.3e9])
    fig = wnnm_views.weights_figure(values, weights)
    axis = fig.layout.yaxis
    assert axis.type == "log"
    assert np.isclose(10 ** axis.range[1], 1800.0)
    assert 10 ** axis.range[0] < 2.0
    assert [t.name for t in fig.data] == ["singular value", "weight (taken off)"]


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_at_512_epll_and_wnnm_wait_for_the_centre_256_and_offer_the_full_size():
    at = _page(side=512)
    labels = {t.key: t.label for t in at.toggle}
    for key in ("priors.epll.full", "priors.wnnm.full"):
        assert labels[key].startswith("Full size, 512x512: "), labels
        assert at.toggle(key=key).value is False
    for name in ("EPLL", "WNNM"):
        assert any(c.startswith(f"{name} runs on the centre 256x256 of the image (512x512)")
                   for c in _captions(at)), _captions(at)
        assert any(c.startswith(f"At this size (256x256) {name} takes") for c in _captions(at))


def test_at_512_wnnm_runs_on_the_centre_256_and_its_group_is_picked_there():
    at = _page(side=512, **QUICK)
    at.button(key="run.wnnm.True").click().run()
    no_problems(at)
    assert any(c.startswith("WNNM ran on the centre 256x256 of the image (512x512)")
               for c in _captions(at)), _captions(at)
    assert "One group and its singular values" in [h.value for h in at.subheader]
    assert compared_sizes(at) == {(256, 256)}


def test_the_switch_gives_wnnm_the_full_size():
    at = _page(side=512)
    at.toggle(key="priors.wnnm.full").set_value(True).run()
    no_problems(at)
    assert any(c.startswith("At this size (512x512) WNNM takes") for c in _captions(at))
    assert not any(c.startswith("WNNM runs on the centre") for c in _captions(at))
    # EPLL keeps its own switch: still the centre.
    assert any(c.startswith("EPLL runs on the centre 256x256") for c in _captions(at))


def test_at_256_there_is_no_switch():
    at = _page()
    assert not [t for t in at.toggle if t.key.endswith(".full")]
