"""The PDE chapter's page under AppTest: every method, scrubbing, the demonstrations."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import denoisers

ROOT = Path(__file__).resolve().parent.parent
PAGE = "chapters/pde.py"
KEYS = ("heat", "perona_malik", "tv", "beltrami")


def _page(method: str, side: int = 256) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["side"] = side
    at.session_state["pde.method"] = method
    at.run()
    at.switch_page(PAGE).run()
    problems = [e.value for e in (*at.exception, *at.error)]
    assert not problems, problems
    return at


def _titles(at: AppTest) -> list[str]:
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [re.sub("<[^>]+>", " ", a["text"]) for s in specs
            for a in s["layout"].get("annotations", ())]


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


@pytest.mark.parametrize("key", KEYS)
def test_each_method_runs_with_its_evolution_and_a_time_slider(key):
    at = _page(key)
    time = at.select_slider(key=f"pde.{key}.evolution.time")
    res = denoisers.get(key)
    assert len(time.options) >= 5, time.options
    assert any(c.startswith("Parameters used:") for c in _captions(at))
    assert at.latex, f"{res.name}: no equation"
    if key != "tv":  # the diffusions mark their stop on the PSNR curve, which runs on past it
        names = [t["name"] for c in at.get("plotly_chart")
                 for t in json.loads(c.proto.spec)["data"]]
        assert any(n.startswith("default stop") for n in names), names


def test_scrubbing_the_evolution_shows_kept_frames_and_never_reruns_the_method(monkeypatch):
    at = _page("perona_malik")
    slider = at.select_slider(key="pde.perona_malik.evolution.time")
    method = denoisers.get("perona_malik")

    @functools.wraps(method.run)  # the same signature: the page asks for the same run
    def refuse(*args, **kwargs):
        raise AssertionError("the method ran again")

    monkeypatch.setitem(denoisers._REGISTRY, "perona_malik",
                        dataclasses.replace(method, run=refuse))
    captions = set()
    for index in (0, len(slider.options) // 2, len(slider.options) - 1):
        at.select_slider(key="pde.perona_malik.evolution.time").set_value(index).run()
        problems = [e.value for e in (*at.exception, *at.error)]
        assert not problems, problems
        captions.update(c for c in _image_captions(at) if c.startswith("Time t ="))
    assert len(captions) == 3, captions


def _image_captions(at: AppTest) -> list[str]:
    return [caption for element in at.get("image") for caption in element.captions]


def test_perona_malik_shows_its_flux_with_kappa_marked():
    at = _page("perona_malik")
    names = [t["name"] for c in at.get("plotly_chart") for t in json.loads(c.proto.spec)["data"]]
    assert sum(n.startswith("κ (") for n in names) == 2, names


def test_heat_is_shown_to_be_gaussian_blurring():
    at = _page("heat", side=256)
    said = next(m.value for m in at.markdown if "differ by" in m.value)
    grey_levels = float(re.search(r"differ by \*\*([0-9.e-]+)\*\*", said).group(1))
    assert grey_levels < 0.5, said  # on the 0-255 scale, at the default time for sigma 25


def test_tv_shows_its_staircase():
    at = _page("tv")
    assert any("noisy ramp" in t for t in _titles(at)), _titles(at)
