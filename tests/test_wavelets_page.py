"""The wavelet chapter's page under AppTest: the pyramid, the thresholds marked, spinning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import pywt
from conftest import open_page
from streamlit.testing.v1 import AppTest

import denoisers
from benchmarks import quality
from denoisers.core import Result
from ui import wavelet_views

PAGE = "chapters/wavelets.py"


def _page(**state) -> AppTest:
    return open_page(PAGE, **state)  # at 256, the smallest working size the sidebar offers


def _specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _titles(spec: dict) -> list[str]:
    return [re.sub("<[^>]+>", " ", a["text"]) for a in spec["layout"].get("annotations", ())]


def _names(spec: dict) -> list[str]:
    return [t.get("name") or "" for t in spec["data"]]


def _marked(spec: dict) -> bool:
    names = _names(spec)
    return any(n.startswith("−T (") for n in names) and any(n.startswith("+T (") for n in names)


@pytest.fixture(scope="module")
def grey() -> AppTest:
    return _page()


def test_the_page_shows_the_pyramid_before_and_after(grey):
    pyramids = [s for s in _specs(grey) if _titles(s) == ["before thresholding",
                                                           "after thresholding"]]
    assert pyramids, [_titles(s) for s in _specs(grey)]
    assert pyramids[0]["layout"].get("shapes"), "no borders between the subbands"
    assert any("Thresholding kept" in c.value for c in grey.caption)


def test_the_histogram_and_the_shrinkage_curves_mark_the_threshold(grey):
    histograms = [s for s in _specs(grey) if "coefficients" in _names(s)]
    shrinkage = [s for s in _specs(grey) if {"hard", "soft"} <= set(_names(s))]
    assert histograms and _marked(histograms[0]), [_names(s) for s in _specs(grey)]
    assert shrinkage and _marked(shrinkage[0]), [_names(s) for s in _specs(grey)]


def test_the_thresholds_are_shown_per_subband_beside_the_noise(grey):
    bars = [s for s in _specs(grey) if {"horizontal", "vertical", "diagonal"} <= set(_names(s))]
    assert bars and any(n.startswith("noise σ") for n in _names(bars[0]))
    table = next(d.value for d in grey.dataframe if "diagonal" in d.value.columns)
    assert list(table.columns) == ["horizontal", "vertical", "diagonal"]
    assert list(table.index) == sorted(table.index) and len(table) >= 3


def test_cycle_spinning_is_compared_with_a_single_transform(grey):
    said = next(m.value for m in grey.markdown if "cycle spinning (4×4 shifts) gives" in m.value)
    with_, without = (float(v) for v in re.findall(r"\*\*([0-9.]+) dB\*\*", said))
    assert with_ > without, said
    panels = [s for s in _specs(grey) if any("without cycle spinning" in t for t in _titles(s))]
    assert panels


def test_the_page_runs_on_a_colour_sample_and_says_the_insides_are_the_luminance():
    at = _page(image="astronaut")
    assert at.session_state["scene"].colour
    assert any("luminance" in c.value for c in at.caption)
    specs = _specs(at)
    assert any(_marked(s) for s in specs if "coefficients" in _names(s))
    noise = [n for s in specs for n in _names(s) if n.startswith("noise σ (")]
    assert noise and abs(float(noise[0][9:-1]) - 25 * 0.57735) < 0.1, noise


def test_the_page_runs_on_a_real_photo_with_no_reference():
    at = _page(real=True)
    assert at.session_state["scene"].clean is None
    assert any("no PSNR" in m.value for m in at.markdown)


def test_the_pyramid_display_keeps_the_thumbnail_and_scales_the_details():
    before = np.zeros((32, 32), np.float32)
    before[:4, :4] = 0.5           # a 3-level pyramid's thumbnail, in grey levels
    before[4:, :] = 0.1            # details
    after = np.where(before > 0.2, before, 0).astype(np.float32)
    shown_before, shown_after, white = wavelet_views.pyramid_display(before, after, 3)
    assert np.all(shown_before[:4, :4] == 0.5) and np.all(shown_after[:4, :4] == 0.5)
    assert white == pytest.approx(0.1) and np.all(shown_before[4:] == 1.0)
    assert np.all(shown_after[4:] == 0.0)


def test_the_threshold_table_has_one_row_per_level():
    noisy = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    res: Result = denoisers.run("wavelet", noisy, 0.1, trace=True, levels=3, shifts=1)
    table = wavelet_views.threshold_table(res)
    assert list(table.index) == [1, 2, 3]
    # VisuShrink's universal threshold would be the same everywhere; BayesShrink's is not,
    # but each value is the trace's own, on the 0-255 scale.
    assert table.loc[1, "diagonal"] == pytest.approx(res.extras["histogram"]["threshold"] * 255)


def test_the_subband_borders_follow_the_traces_blocks():
    """PyWavelets' symmetric border makes each level a little more than half the next: the
    borders are drawn where the trace's blocks say, and the kept fraction counts subband
    coefficients only (not the layout's padding between subbands of unequal size)."""
    noisy = np.random.default_rng(1).random((61, 70)).astype(np.float32)
    res: Result = denoisers.run("wavelet", noisy, 0.1, trace=True, levels=3, shifts=1)
    blocks = tuple(tuple(b) for b in res.extras["blocks"])
    before, after = res.stages["coefficients"], res.stages["thresholded"]
    assert len(blocks) == 4 and blocks[-1] == before.shape
    lines = wavelet_views._subband_lines(before.shape, 3, blocks)
    assert sorted({y for _, y, _, y1 in lines if y == y1}) == [h - 0.5 for h, _ in blocks[:-1]]
    assert sorted({x for x, _, x1, _ in lines if x == x1}) == [w - 0.5 for _, w in blocks[:-1]]
    # Each detail subband's size from PyWavelets itself, counted here.
    coeffs = pywt.wavedec2(noisy, "db2", mode="symmetric", level=3)
    details = sum(band.size for level in coeffs[1:] for band in level)
    kept = wavelet_views._kept_fraction(before, after, 3, blocks)
    h, w = blocks[0]
    mask = np.ones(before.shape, bool)
    mask[:h, :w] = False
    assert kept == pytest.approx(np.count_nonzero(after[mask]) / details)
    assert 0 < kept < 1


def test_the_story_quotes_the_sparsity_table():
    """The chapter's figures on Set12 at σ = 25 are the table's (with cycle spinning,
    without, and scikit-image's ``denoise_wavelet`` at its train400-chosen best), and
    the table's peer ran at the setting the text names."""
    root = Path(__file__).resolve().parent.parent
    story = (root / "assets" / "text" / "wavelets_intro.md").read_text()
    flat = " ".join(story.split())
    table = (root / "assets" / "benchmarks" / "sparsity" / "quality_set12.md").read_text()

    def mean_at_25(key: str) -> str:
        row = next(line for line in table.splitlines() if f"(`{key}`) |" in line)
        return row.split("|")[3].split("/")[0].strip()

    for key, said in [("wavelet", "with its default 4×4 shifts"),
                      ("wavelet:shifts=1", "with no spinning"),
                      ("skimage-wavelet", "at its best")]:
        assert f"{mean_at_25(key)} dB {said}" in flat, (key, mean_at_25(key))
    spun, single, peer = (float(mean_at_25(k)) for k in
                          ("wavelet", "wavelet:shifts=1", "skimage-wavelet"))
    assert f"worth about {spun - single:.1f} dB, and {spun - peer:.1f} dB over" in flat
    setting = quality.describe_setting("skimage-wavelet",
                                       quality.peer_setting("skimage-wavelet", 25))
    peers = " ".join(table.split())
    assert f"`skimage-wavelet` {setting}" in peers or f"{setting} (σ=25)" in peers
    assert setting in flat
