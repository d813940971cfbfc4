"""The epilogue's page under AppTest: a problem, denoisers as its prior, the sampler."""

from __future__ import annotations

import csv
import json
import statistics

import pytest
from conftest import ROOT, compared_sizes, no_problems, open_page
from streamlit.testing.v1 import AppTest

from denoisers import inverse

PAGE = "chapters/epilogue.py"
#: Two quick priors, and few iterations, so that a restoration takes a second or two.
QUICK = {"prior.priors": ["tv", "drunet"], "prior.deblur.pnp_hqs.iterations": 3,
         "prior.sample.settings.max_steps": 10}


def _page(side: int = 256, **state) -> AppTest:
    return open_page(PAGE, side=side, timeout=180, warnings=False, **{**QUICK, **state})


def _table(at: AppTest):
    assert at.dataframe, "no metrics table"
    return at.dataframe[0].value


def _image_captions(at: AppTest) -> list[str]:
    return [img.caption for image in at.image for img in image.proto.imgs]


def _trace_names(at: AppTest) -> list[str]:
    return [t.get("name", "") for c in at.get("plotly_chart")
            for t in json.loads(c.proto.spec)["data"]]


def test_the_page_opens_on_deblurring_with_its_baseline_and_one_button():
    at = _page()
    assert [t.value for t in at.title] == ["Denoisers as priors (2013–2021)"]
    headers = [h.value for h in at.subheader]
    assert "One denoiser, every inverse problem" in headers
    assert "Drawing images from a denoiser" in headers
    assert "Iteration by iteration" not in headers  # nothing has run yet
    labels = [b.label for b in at.button]
    assert labels == ["Run Total variation (ROF), DRUNet (small) as the prior",
                      "Run the sampler"], labels
    assert list(_table(at).index) == ["degraded input", "Wiener deconvolution"]


def test_the_restorations_beat_the_degraded_image_and_can_be_scrubbed():
    at = _page()
    at.button(key="prior.run").click().run()
    no_problems(at, warnings=False)
    table = _table(at)
    assert list(table.index) == ["degraded input", "Wiener deconvolution",
                                 "Total variation (ROF)", "DRUNet (small)"]
    for prior in ("Total variation (ROF)", "DRUNet (small)"):
        assert table.loc[prior, "PSNR (dB)"] > table.loc["degraded input", "PSNR (dB)"] + 1
    slider = at.select_slider(key="prior.iterations.at")
    assert slider.options == ["start", "iteration 1", "iteration 2", "iteration 3"]
    assert {"Total variation (ROF)", "DRUNet (small)"} <= set(_trace_names(at))
    slider.set_value("iteration 1").run()
    no_problems(at, warnings=False)
    captions = _image_captions(at)
    assert any(c.startswith("DRUNet (small), iteration 1 — ") for c in captions), captions
    # Served from the cache on a rerun: no button waits.
    assert [b.label for b in at.button] == ["Run the sampler"]


@pytest.mark.parametrize("name", ["inpaint", "super_resolution"])
def test_each_grey_problem_shows_its_degraded_image_and_baseline(name):
    at = _page(**{"prior.problem": name})
    baseline = {"inpaint": "biharmonic inpainting",
                "super_resolution": "bicubic interpolation"}[name]
    assert list(_table(at).index) == ["degraded input", baseline]
    assert any(inverse.PROBLEMS[name].title in c.value for c in at.caption)


def test_demosaicing_a_grey_image_says_so_and_offers_a_colour_sample():
    at = _page(**{"prior.problem": "demosaic"})
    assert any("Demosaicing needs a colour image" in i.value for i in at.info)
    assert not at.dataframe
    at.toggle(key="prior.colour").set_value(True).run()
    no_problems(at, warnings=False)
    assert list(_table(at).index) == ["degraded input", "bilinear interpolation"]
    assert any("of astronaut" in c.value for c in at.caption)
    assert not any("Demosaicing needs" in i.value for i in at.info)  # the notice is gone


def test_the_sampler_draws_three_samples_free_and_keeping_the_measurements():
    at = _page(**{"prior.problem": "inpaint"})
    at.button(key="prior.sample.run").click().run()
    no_problems(at, warnings=False)
    captions = _image_captions(at)
    assert sum(c in ("seed 1", "seed 2", "seed 3") for c in captions) == 6, captions
    assert "degraded" in captions and "step 1" in captions
    assert sum(c.startswith("spread (white: ") for c in captions) == 2, captions
    assert "σ" in _trace_names(at)
    assert any("inpainting" in c.value for c in at.caption)


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def test_bm3d_is_offered_but_not_chosen_by_default():
    at = open_page(PAGE, side=256, timeout=180, warnings=False)
    priors = at.multiselect(key="prior.priors")
    assert priors.value == ["tv", "drunet"]
    assert "bm3d" in priors.options or "BM3D / CBM3D" in priors.options, priors.options


def test_the_waiting_buttons_say_how_long_they_take():
    at = _page()
    captions = _captions(at)
    assert any(c.startswith("The restorations run when you press the button: about ")
               and "at 256x256" in c for c in captions), captions
    assert any(c.startswith("The sampler runs when you press the button: 6 climbs")
               and " — about " in c for c in captions), captions


def test_at_512_the_restorations_run_on_the_centre_256_and_the_switch_gives_the_full_size():
    at = _page(side=512)
    switch = at.toggle(key="prior.full")
    assert switch.label.startswith("Full size, 512x512: about ") and switch.value is False
    assert any("on its centre 256x256" in c for c in _captions(at)), _captions(at)
    assert any("at 256x256" in c for c in _captions(at)), _captions(at)
    switch.set_value(True).run()
    no_problems(at, warnings=False)
    assert not any("on its centre" in c for c in _captions(at)), _captions(at)
    assert any("at 512x512" in c for c in _captions(at)), _captions(at)
    at.toggle(key="prior.full").set_value(False).run()
    at.button(key="prior.run").click().run()
    no_problems(at, warnings=False)
    assert compared_sizes(at) == {(256, 256)}
    table = _table(at)
    assert table.loc["DRUNet (small)", "PSNR (dB)"] > table.loc["degraded input", "PSNR (dB)"] + 1


def test_at_256_there_is_no_switch():
    at = _page()
    assert "prior.full" not in [t.key for t in at.toggle]


def _mean_psnr(folder: str, problem: str, how: str) -> float:
    """A problem's mean PSNR over the images of a committed inverse benchmark's csv."""
    with (ROOT / "assets" / "benchmarks" / folder / "inverse.csv").open() as handle:
        found = [float(r["psnr"]) for r in csv.DictReader(handle)
                 if r["problem"] == problem and r["how"] == how]
    assert found, (folder, problem, how)
    return statistics.fmean(found)


def test_the_story_quotes_the_prior_s_margins_on_set12_and_off_it():
    """The opening quotes DRUNet's margin over each grey problem's baseline on Set12 and on
    the grey photographs that are not Set12, and BM3D against DRUNet as priors, as the
    tables measured them."""
    story = " ".join((ROOT / "assets" / "text" / "prior_intro.md").read_text().split())
    margins = {folder: [_mean_psnr(folder, p, "PnP-HQS, drunet prior")
                        - _mean_psnr(folder, p, "baseline")
                        for p in ("deblur", "inpaint", "super_resolution")]
               for folder in ("inverse", "inverse_grey5")}
    set12, grey5 = ([f"{m:.2f}" for m in margins[f]] for f in ("inverse", "inverse_grey5"))
    assert (f"by {set12[0]} dB at deblurring, {set12[1]} at inpainting and {set12[2]} at "
            f"super-resolution on Set12 crops, but by {grey5[0]}, {grey5[1]} and {grey5[2]} dB "
            "on five other grey photographs") in story
    bm3d, drunet = (_mean_psnr("inverse", "inpaint", f"PnP-HQS, {k} prior")
                    for k in ("bm3d", "drunet"))
    assert f"wins inpainting ({bm3d:.2f} dB against {drunet:.2f})" in story
