"""The real-photographs page: a photo's noise curve fitted and told by default, one σ against
the curve, the grain's spectrum and BM3D told it, and bad settings said in words."""

from __future__ import annotations

import io

import numpy as np
from conftest import ROOT, no_problems, open_page
from PIL import Image
from skimage import data
from skimage.transform import resize
from streamlit.testing.v1 import AppTest

from denoisers import noise

PAGE = "chapters/real_photographs.py"


def _photo(model: noise.PoissonGaussian | None, side: int = 128) -> bytes:
    """The camera at ``side`` with ``model``'s noise (none for None), as an 8-bit PNG."""
    clean = resize(data.camera() / 255.0, (side, side), anti_aliasing=True).astype(np.float32)
    photo = clean if model is None else noise.add_poisson_gaussian(clean, model, seed=3)
    buffer = io.BytesIO()
    Image.fromarray((np.clip(photo, 0, 1) * 255).round().astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def _uploaded(png: bytes, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.sidebar.file_uploader[0].set_value(("night.png", png, "image/png"))
    at.sidebar.toggle(key="real").set_value(True)
    at.run()
    at.switch_page(PAGE).run()
    no_problems(at, warnings=False)
    return at


def _told(at: AppTest) -> list[str]:
    return [m.value for m in at.main.markdown if m.value.startswith("Told one σ")]


def test_a_noisy_upload_is_told_its_fitted_curve_by_default():
    truth = noise.PRESETS["night"]
    at = _uploaded(_photo(truth))
    scene = at.session_state["scene"]
    assert scene.real and scene.curve is not None
    a, b = scene.curve
    assert abs(a / truth.a - 1) < 0.3 and abs(np.sqrt(a * 0.5 + b) / truth.sigma(0.5) - 1) < 0.15
    assert any("Noise fitted to the photo" in c.value for c in at.sidebar.caption)
    # The comparison ran both ways, and says which part one σ left grainy.
    told = _told(at)
    assert len(told) == 1 and "the brightest part" in told[0] and "the darkest part" in told[0]
    # Off, every method is told the one σ, and the page says there is nothing to compare.
    at.sidebar.toggle(key="real_curve").set_value(False).run()
    assert at.session_state["scene"].curve is None and not _told(at)
    assert any("one level everywhere" in i.value for i in at.main.info)


def test_a_photo_without_noise_gets_a_sentence_not_a_curve():
    """The clean camera, saved in 8 bits: what the estimator cannot tell is said in the
    sidebar and on the page, and the methods are told one σ."""
    at = _uploaded(_photo(None))
    assert at.session_state["scene"].curve is None
    (said,) = [c.value for c in at.sidebar.caption if c.value.startswith("One σ ≈")]
    problem = said.split("wavelet scale. ", 1)[1]
    assert "cannot be told from noise" in problem or "no measurable noise" in problem
    assert problem in [i.value for i in at.main.info]


def test_the_night_button_draws_a_cameras_noise_and_one_sigma_smooths_the_shadows():
    at = open_page(PAGE, side=128)
    assert at.session_state["scene"].curve is None
    at.main.button(key="photos.night").click().run()
    no_problems(at)
    assert at.session_state["noise"] == "poisson_gaussian" and at.session_state["light"] == "night"
    (told,) = _told(at)
    # With the clean image, each part's PSNR both ways: the shadows gain most from the curve.
    assert "less noisy than one σ says" in told and "dB with the curve" in told
    psnr = at.main.dataframe[0].value["PSNR (dB)"]
    assert psnr["the curve"] > psnr["one σ"]


def test_bm3d_runs_on_the_stabilised_image_behind_its_button():
    at = open_page(PAGE, side=128, noise="poisson_gaussian", light="night")
    at.main.selectbox(key="photos.method").set_value("BM3D / CBM3D").run()
    no_problems(at)
    assert not _told(at)  # slow: it waits for its button
    at.main.button(key="photos.run").click().run()
    no_problems(at)
    assert _told(at)
    assert any("generalised Anscombe transform" in c.value for c in at.main.caption)


def test_grain_is_measured_and_bm3d_told_it_beats_bm3d_told_one_sigma():
    at = open_page(PAGE, side=128)
    assert any("no coarser than a pixel" in m.value for m in at.main.markdown)
    at.main.button(key="photos.grain").click().run()
    assert at.session_state["noise"] == "correlated"
    assert any("spreads over several pixels" in m.value for m in at.main.markdown)
    # Before it runs, the button says how long the two runs take.
    assert any(c.value.startswith("BM3D / CBM3D: 2 runs") for c in at.main.caption)
    at.main.button(key="photos.grain.run").click().run()
    no_problems(at)
    psnr = at.main.dataframe[-1].value["PSNR (dB)"]
    assert psnr["BM3D, told the grain"] > psnr["BM3D, one σ (finest scale)"] + 1


def test_custom_settings_the_model_refuses_are_said_and_indoors_drawn():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in dict(side=128, noise="poisson_gaussian", light="custom", noise_a=0.0,
                           noise_b=0.0).items():
        at.session_state[key] = value
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception and not at.main.error
    assert any("no noise at all" in e.value and "indoor setting is used" in e.value
               for e in at.sidebar.error)
    assert at.session_state["scene"].curve == (noise.PRESETS["indoors"].a,
                                               noise.PRESETS["indoors"].b)
