"""The fighting-back chapter under AppTest: TNRD beside Perona-Malik, scrubbed stage by stage
and filter by filter without running again; Deep K-SVD beside K-SVD, one clicked patch coded
by both without running either again; and the trade-off from the saved tables."""

from __future__ import annotations

import dataclasses
import functools
import json
import re

import numpy as np
import pytest
from conftest import chart_titles, no_problems, open_page
from streamlit.testing.v1 import AppTest

import denoisers
from denoisers import ksvd
from denoisers.nets import deep_ksvd
from denoisers.pde.diffusion import MAX_STEP, edge_stopping, perona_malik_kappa
from ui import unrolled_views

PAGE = "chapters/fighting_back.py"


@pytest.fixture(scope="module")
def page() -> AppTest:
    return open_page(PAGE, side=128, timeout=240)


@pytest.fixture(scope="module")
def run_page() -> AppTest:
    """The page with K-SVD and Deep K-SVD run on their button."""
    at = open_page(PAGE, side=128, timeout=240)
    at.button(key="fighting.dksvd.run").click().run()
    no_problems(at)
    return at


def _image_captions(at: AppTest) -> list[str]:
    return [img.caption for image in at.image for img in image.proto.imgs]


def _refusing(monkeypatch, *keys: str) -> None:
    """Make every run of the methods ``keys`` fail the test."""
    for key in keys:
        method = denoisers.get(key)

        @functools.wraps(method.run)  # the same signature: the page asks for the same run
        def refuse(*args, **kwargs):
            raise AssertionError("a method ran again")

        monkeypatch.setitem(denoisers._REGISTRY, key, dataclasses.replace(method, run=refuse))


def test_the_page_reads_and_waits_for_deep_k_svd_s_button(page):
    assert [t.value for t in page.title] == ["Fighting back (2015–2021)"]
    assert "Run K-SVD, Deep K-SVD" in [b.label for b in page.button]
    assert len(page.latex) == 2 and "lambda_t" in page.latex[0].value


def test_tnrd_runs_beside_perona_malik_with_its_psnr_per_stage(page):
    table = page.dataframe[0].value
    assert {"TNRD", denoisers.get("perona_malik").name} <= set(table.index), table
    assert "PSNR after each stage" in chart_titles(page)


def test_scrubbing_the_stages_and_filters_never_runs_tnrd_again(page, monkeypatch):
    _refusing(monkeypatch, "tnrd", "perona_malik")
    for stage in (1, 3, 5):
        page.slider(key="fighting.tnrd.stage").set_value(stage).run()
        no_problems(page)
        assert any(t.startswith(f"after stage {stage}") for t in chart_titles(page))
        assert any(c.startswith(f"Stage {stage}'s 48 learned filters")
                   for c in _image_captions(page)), _image_captions(page)
    page.slider(key="fighting.tnrd.inside.filter").set_value(17).run()
    no_problems(page)
    assert "filter 17" in chart_titles(page)
    captions = [c.value for c in page.caption]
    assert any(c.startswith("Of stage 5's 48 functions") for c in captions), captions


def test_deep_k_svd_shows_both_dictionaries_its_thresholds_and_one_patch_coded_twice(run_page):
    titles = chart_titles(run_page)
    for title in ("K-SVD: learned from this noisy image", "Deep K-SVD: learned from train400",
                  "The patch's two codes", "noisy patch"):
        assert any(t.startswith(title) for t in titles), (title, titles)
    assert any(t.startswith("Deep K-SVD's threshold, patch by patch") for t in titles)
    assert any(t.startswith("K-SVD:") and t.endswith("atoms") for t in titles)
    table = next(d.value for d in run_page.dataframe if "Deep K-SVD" in d.value.index)
    assert "K-SVD" in table.index


def test_clicking_another_patch_codes_it_without_running_either_method(run_page, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a method ran again")

    # Deep K-SVD's look codes one patch (DeepKSVD.codes); only a run denoises the image.
    monkeypatch.setattr(deep_ksvd.DeepKSVD, "denoise", refuse)
    monkeypatch.setattr(ksvd, "_ksvd", refuse)
    run_page.session_state["fighting.dksvd.probe"] = {"x": 20, "y": 90, "width": 256,
                                                       "height": 256}
    run_page.run()
    no_problems(run_page)
    captions = [c.value for c in run_page.caption]
    assert any("now row 90, column 20" in c for c in captions), captions
    assert any("8x8 patch at row 86, column 16" in c for c in captions), captions


def test_the_trade_off_draws_every_measured_method_and_answers_with_numbers(page):
    points = unrolled_views.tradeoff_points()
    assert {"bm3d", "drunet", "wiener"} <= set(points)
    assert points["wiener"][1] == 0 and points["drunet"][1] > 1_000_000
    charts = [json.loads(c.proto.spec) for c in page.get("plotly_chart")]
    weights = next(c for c in charts if "weights learned" in
                   c["layout"]["xaxis"].get("title", {}).get("text", ""))
    assert len(weights["data"][0]["x"]) == len(points)
    text = " ".join(m.value for m in page.markdown)
    assert "the best network" in text or "not in the saved tables yet" in text


def test_perona_malik_s_step_is_its_influence_function_on_a_unit_norm_difference():
    """phi(k u) summed back through k^T, with k the unit-norm difference, is Perona-Malik's
    dt D^T psi(D u): along a row, the flux through each link is dt d g(|d|)."""
    difference = np.diff(np.random.default_rng(0).random(40).astype(np.float32))
    sigma = 25 / 255
    phi, kappa_response = unrolled_views.classical_influence(difference / np.sqrt(2), sigma)
    kappa = perona_malik_kappa(sigma)
    g = edge_stopping("exponential", kappa)
    np.testing.assert_allclose(phi / np.sqrt(2), MAX_STEP * difference * g(np.abs(difference)),
                               rtol=1e-5, atol=1e-7)
    assert kappa_response == pytest.approx(kappa / np.sqrt(2))


def test_the_finite_differences_are_unit_norm_and_zero_mean():
    kernels = unrolled_views.finite_differences(7)
    np.testing.assert_allclose(np.linalg.norm(kernels.reshape(2, -1), axis=1), 1)
    np.testing.assert_allclose(kernels.sum(axis=(1, 2)), 0, atol=1e-12)


@pytest.mark.parametrize("text, name", [("fighting_tnrd", "tnrd25"),
                                        ("fighting_deep_ksvd", "deep_ksvd25")])
def test_the_weights_the_text_counts_are_the_committed_model_s(text, name):
    from denoisers.nets.inference import weight_count
    from ui.text import TEXT_DIR

    said = re.search(r"([\d,]+)\s+weights", (TEXT_DIR / f"{text}.md").read_text(encoding="utf-8"))
    assert said and int(said.group(1).replace(",", "")) == weight_count(name)


def test_the_summary_measures_the_lead_recovered_or_the_shortfall():
    points = {"bm3d": (2.0, 0, 29.90), "wnnm": (3.0, 0, 30.00), "drunet": (0.3, 2_000_000, 30.40),
              "tnrd": (0.9, 25_000, 30.20), "deep_ksvd": (4.0, 40_000, 29.80)}
    text = unrolled_views.tradeoff_summary(points)
    assert "WNNM, gives **30.00 dB**" in text and "a lead of 0.40 dB" in text
    assert "TNRD gives **30.20 dB** with 25,000 weights (80 times fewer)" in text
    assert "50% of that lead recovered" in text
    assert "0.20 dB short of the best classical method" in text
    del points["tnrd"], points["deep_ksvd"]
    assert "not in the saved tables yet" in unrolled_views.tradeoff_summary(points)


def test_without_noise_both_sections_say_there_is_nothing_to_show():
    at = open_page(PAGE, side=128, sigma=0)
    at.button(key="fighting.dksvd.run").click().run()
    no_problems(at)
    assert [i.value for i in at.info].count(unrolled_views.NO_NOISE) == 2
