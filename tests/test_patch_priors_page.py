"""The low-rank and patch-priors chapter under AppTest: WNNM waits on its button, then
shows its curves, its rank map and one clicked group's singular values."""

from __future__ import annotations


from streamlit.testing.v1 import AppTest

from conftest import chart_titles, no_problems, open_page

PAGE = "chapters/patch_priors.py"


#: Two quick rounds on a coarse grid: the page's flow, not WNNM's quality, is under test.
QUICK = {"wnnm.iterations.auto": False, "wnnm.iterations": 2, "wnnm.step": 6}


def _page(side: int = 256, **state) -> AppTest:
    return open_page(PAGE, side=side, timeout=300, **state)


def test_the_page_says_how_long_wnnm_takes_before_it_runs():
    at = _page()
    assert [t.value for t in at.title] == ["Low rank and patch priors (2011–2014)"]
    assert "run.wnnm.True" in [b.key for b in at.button]
    assert any("WNNM takes about" in c.value for c in at.caption)
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
