"""Noise models: seeded, of the stated strength, the noise-level estimator, and the page."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from denoisers import noise

ROOT = Path(__file__).resolve().parent.parent

FLAT = np.full((256, 256), 0.5, np.float32)


@pytest.mark.parametrize("sigma255", [5, 25, 50, 100])
def test_gaussian_std_is_within_two_percent_of_sigma_on_a_flat_image(sigma255):
    noisy = noise.add_gaussian(FLAT, sigma255 / 255, seed=3)
    assert abs(noisy.std() * 255 / sigma255 - 1) < 0.02
    assert abs(noisy.mean() - 0.5) < 0.01


@pytest.mark.parametrize("model, level",
                         [("gaussian", 0.1), ("poisson", 8.0), ("salt_pepper", 0.2)])
def test_models_are_seeded_and_deterministic(model, level):
    a = noise.add_noise(FLAT, model, level, seed=7)
    b = noise.add_noise(FLAT, model, level, seed=7)
    c = noise.add_noise(FLAT, model, level, seed=8)
    assert np.array_equal(a.image, b.image) and a.sigma == b.sigma
    assert not np.array_equal(a.image, c.image)
    assert a.image.dtype == np.float32 and a.image.shape == FLAT.shape


def test_clipping_is_a_choice():
    free = noise.add_gaussian(FLAT, 0.5, seed=0)
    clipped = noise.add_gaussian(FLAT, 0.5, seed=0, clip=True)
    assert free.min() < 0 and free.max() > 1
    assert clipped.min() == 0 and clipped.max() == 1
    assert np.array_equal(clipped, np.clip(free, 0, 1))


def test_poisson_noise_has_the_variance_of_photon_counts():
    peak = 20.0
    drawn = noise.add_noise(FLAT, "poisson", peak, seed=1)
    expected = np.sqrt(0.5 / peak)
    assert abs(drawn.image.std() / expected - 1) < 0.03
    assert drawn.sigma == pytest.approx(expected)
    assert abs(drawn.image.mean() - 0.5) < 0.01


def test_salt_and_pepper_hits_the_stated_fraction_with_black_and_white():
    drawn = noise.add_noise(FLAT, "salt_pepper", 0.2, seed=2).image
    hit = drawn != 0.5
    assert abs(hit.mean() - 0.2) < 0.01
    assert set(np.unique(drawn[hit])) == {0.0, 1.0}
    assert abs((drawn[hit] == 1).mean() - 0.5) < 0.03


def test_colour_noise_is_independent_per_channel():
    rgb = np.full((128, 128, 3), 0.5, np.float32)
    noisy = noise.add_gaussian(rgb, 0.1, seed=0) - 0.5
    corr = np.corrcoef(noisy.reshape(-1, 3).T)
    assert np.all(np.abs(corr[np.triu_indices(3, 1)]) < 0.03)


@pytest.mark.parametrize("call, message", [
    (lambda: noise.add_noise(FLAT, "speckle", 0.1), "unknown noise model 'speckle'"),
    (lambda: noise.add_poisson(FLAT, 0),
     r"'peak' parameter of poisson noise must be a float in \[0.01, 1e\+06\]; got 0"),
    (lambda: noise.add_noise(FLAT, "poisson", -3.0), r"'peak' parameter of poisson noise"),
    (lambda: noise.add_salt_pepper(FLAT, 1.5),
     r"'amount' parameter of salt_pepper noise must be a float in \[0, 1\]; got 1.5"),
    (lambda: noise.add_gaussian(FLAT, 2.0), "sigma is the noise standard deviation"),
])
def test_bad_noise_settings_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_level_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="'amount' parameter of salt_pepper noise"):
        noise.add_salt_pepper(FLAT, "a tenth")


@pytest.mark.parametrize("sigma255", [10, 25, 50])
def test_estimate_sigma_recovers_the_level_on_a_smooth_image(sigma255):
    y, x = np.mgrid[0:256, 0:256] / 256
    smooth = (0.3 + 0.4 * x * y).astype(np.float32)
    noisy = noise.add_gaussian(smooth, sigma255 / 255, seed=5)
    assert abs(noise.estimate_sigma(noisy) * 255 / sigma255 - 1) < 0.05


# --------------------------------------------------------------------------- the page

def _noise_page(**state) -> AppTest:
    """The "Noise and metrics" page, opened with the sidebar settings in ``state``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("chapters/noise_and_metrics.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _db(value: str) -> float:
    """A PSNR as the page writes it (``ui.text.db``), read back."""
    return math.inf if value == "∞ dB (identical)" else float(value.removesuffix(" dB"))


@pytest.mark.parametrize("state", [
    {"sigma": 25}, {"sigma": 100}, {"noise": "salt_pepper"}, {"noise": "poisson", "peak": 4},
], ids=["gaussian-25", "gaussian-100", "salt-pepper-10", "poisson-4"])
def test_the_page_shows_an_image_blurred_to_the_noisy_images_psnr(state):
    at = _noise_page(**state)
    shown = {m.label: m.value for m in at.metric}
    assert abs(_db(shown["PSNR, noisy"]) - _db(shown["PSNR, blurred"])) <= 0.011, shown
    assert not at.warning
    # The degraded image is drawn beside the noisy one, above their SSIM maps.
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    # Titles are drawn in short lines: read them with the line breaks as spaces.
    titled = [(s, [a["text"].replace("<br>", " ") for a in s["layout"]["annotations"]])
              for s in specs]
    spec, titles = next((s, ts) for s, ts in titled
                        if any(t.startswith("SSIM map of the noisy image") for t in ts))
    assert len(spec["data"]) == 4
    assert sum(t.startswith("noisy ") for t in titles) == 1, titles
    assert sum(t.startswith("blurred") for t in titles) == 1, titles


def test_the_page_says_when_the_psnr_cannot_be_matched_and_by_how_much():
    at = _noise_page(noise="poisson", peak=1)
    shown = {m.label: m.value for m in at.metric}
    gap = _db(shown["PSNR, blurred"]) - _db(shown["PSNR, noisy"])
    assert gap > 0.5
    assert len(at.warning) == 1 and f"{gap:.2f} dB higher" in at.warning[0].value


def test_without_noise_the_page_says_the_images_are_identical():
    at = _noise_page(sigma=0)
    shown = {m.label: m.value for m in at.metric}
    assert _db(shown["PSNR, noisy"]) == _db(shown["PSNR, blurred"]) == math.inf, shown
    assert not at.warning


def test_the_page_metrics_have_short_labels_with_the_detail_in_help():
    at = _noise_page()
    labels = [m.label for m in at.metric]
    assert len(labels) == 7 and max(len(label) for label in labels) <= 14, labels
    assert all(m.help for m in at.metric if m.label.startswith("σ"))


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("shape", [(30, 40), (30, 40, 3)])
def test_estimate_sigma_of_a_flat_image_is_zero(value, shape):
    assert noise.estimate_sigma(np.full(shape, value, np.float32)) == 0.0


def test_the_sidebar_offers_the_noise_levels_the_library_accepts():
    at = _noise_page(noise="salt_pepper")
    amount = at.sidebar.slider(key="level.amount")
    spec = noise.LEVELS["salt_pepper"]
    assert (amount.min, amount.max, amount.value) == (spec.low, spec.high, spec.default)
    at.sidebar.slider(key="level.amount").set_value(spec.high).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # The photon counts of the Poisson slider are all peaks the library accepts.
    from ui import scene
    assert all(noise.LEVELS["poisson"].accepts(float(p)) for p in scene.PEAKS)


# --------------------------------------------------------------------------- the models' details

RAMP = np.tile(np.linspace(0, 1, 256, dtype=np.float32), (256, 1))  # every grey level


@pytest.mark.parametrize("add, level", [(noise.add_gaussian, 0.1), (noise.add_poisson, 8.0),
                                        (noise.add_salt_pepper, 0.2)])
def test_the_default_seed_is_zero(add, level):
    assert np.array_equal(add(RAMP, level), add(RAMP, level, seed=0))
    assert not np.array_equal(add(RAMP, level), add(RAMP, level, seed=1))


@pytest.mark.parametrize("model, level", [("gaussian", 0.1), ("poisson", 8.0),
                                          ("salt_pepper", 0.2)])
def test_add_noise_draws_what_its_model_draws(model, level):
    """The model's own function with the same seed and clipping, the default seed 0 and no
    clipping."""
    add = {"gaussian": noise.add_gaussian, "poisson": noise.add_poisson,
           "salt_pepper": noise.add_salt_pepper}[model]
    assert np.array_equal(noise.add_noise(RAMP, model, level).image, add(RAMP, level, seed=0))
    assert np.array_equal(noise.add_noise(RAMP, model, level, seed=4).image,
                          add(RAMP, level, seed=4))
    if model != "salt_pepper":
        clipped = noise.add_noise(RAMP, model, level, seed=4, clip=True).image
        assert np.array_equal(clipped, add(RAMP, level, seed=4, clip=True))
        assert clipped.min() == 0 and clipped.max() == 1


def test_noise_is_not_clipped_unless_asked():
    for drawn in (noise.add_poisson(FLAT, 4.0), noise.add_noise(FLAT, "gaussian", 0.5).image,
                  noise.add_noise(FLAT, "poisson", 4.0).image):
        assert drawn.max() > 1
    assert noise.add_poisson(FLAT, 4.0, clip=True).max() == 1


def test_the_gaussian_sigma_is_the_level():
    drawn = noise.add_noise(RAMP, "gaussian", 0.07)
    assert drawn.sigma == 0.07 and isinstance(drawn.sigma, float)


def test_poisson_noise_counts_no_photon_where_an_unclipped_image_is_negative():
    image = RAMP - 0.25  # an unclipped noisy image may dip below 0
    drawn = noise.add_noise(image, "poisson", 10.0, seed=1)
    assert (drawn.image[image <= 0] == 0).all()
    assert drawn.sigma == pytest.approx(np.sqrt(np.clip(image, 0, None).mean() / 10.0))


def test_salt_and_pepper_sigma_is_the_rms_of_the_noise_it_adds():
    """E[(noisy - clean)²] = amount (x² + (1 - x)²) / 2 at a pixel of value x: measured over
    every grey level, and on colour, where a hit pixel turns black or white as a whole."""
    for image in (np.tile(RAMP, (4, 1)), np.tile(RAMP[..., None], (4, 1, 3)) ** [1, 2, 0.5]):
        for amount in (0.1, 0.6):
            drawn = noise.add_noise(image, "salt_pepper", amount, seed=3)
            rms = np.sqrt(np.mean((drawn.image.astype(np.float64) - image) ** 2))
            assert drawn.sigma == pytest.approx(rms, rel=0.02)


def test_salt_and_pepper_sets_whole_pixels_of_a_colour_image():
    rgb = np.full((64, 64, 3), 0.5, np.float32)
    drawn = noise.add_salt_pepper(rgb, 0.3, seed=1)
    hit = (drawn != 0.5).any(axis=-1)
    assert abs(hit.mean() - 0.3) < 0.03
    assert ((drawn[hit] == 0).all(axis=-1) | (drawn[hit] == 1).all(axis=-1)).all()


def test_an_unknown_model_is_named_with_the_models_there_are():
    with pytest.raises(ValueError, match=r"the models are: gaussian, poisson, salt_pepper, "
                                         r"correlated, poisson_gaussian$"):
        noise.add_noise(FLAT, "speckle", 0.1)


@pytest.mark.parametrize("call", [
    lambda im: noise.add_gaussian(im, 0.1), lambda im: noise.add_poisson(im, 8.0),
    lambda im: noise.add_salt_pepper(im, 0.1), lambda im: noise.add_noise(im, "gaussian", 0.1),
    noise.estimate_sigma])
def test_a_bad_image_is_called_image_in_the_message(call):
    with pytest.raises(ValueError, match=r"^image must have shape \(H, W\) or \(H, W, 3\)"):
        call(np.zeros(10))


def test_estimate_sigma_of_colour_is_the_mean_of_the_channels_estimates():
    """Noise of a different level in each channel: the mean of the three levels."""
    y, x = np.mgrid[0:256, 0:256] / 256
    smooth = (0.3 + 0.4 * x * y).astype(np.float32)
    rng = np.random.default_rng(6)
    levels = np.array([0.01, 0.04, 0.12])
    rgb = np.stack([smooth + s * rng.standard_normal(smooth.shape) for s in levels], axis=-1)
    each = [noise.estimate_sigma(rgb[..., c].astype(np.float32)) for c in range(3)]
    np.testing.assert_allclose(each, levels, rtol=0.05)
    assert noise.estimate_sigma(rgb.astype(np.float32)) == pytest.approx(np.mean(each), rel=1e-6)


def test_estimate_sigma_looks_at_the_diagonal_detail_only():
    """Stripes along the rows (every other row bright) are horizontal detail, not noise: the
    estimate sees the noise alone."""
    stripes = np.where(np.arange(256)[:, None] % 2 == 1, 0.7, 0.3) * np.ones((1, 256))
    noisy = noise.add_gaussian(stripes.astype(np.float32), 0.05, seed=2)
    assert noise.estimate_sigma(noisy) == pytest.approx(0.05, rel=0.05)


# --------------------------------------------------------------------------- a camera's noise

@pytest.mark.parametrize("preset", sorted(noise.PRESETS))
def test_poisson_gaussian_noise_has_the_variance_a_x_plus_b(preset):
    model = noise.PRESETS[preset]
    for level in (0.05, 0.3, 0.8):
        flat = np.full((256, 256), level, np.float32)
        residual = noise.add_poisson_gaussian(flat, model, seed=2) - flat
        assert abs(residual.var() / (model.a * level + model.b) - 1) < 0.05, level
        assert abs(residual.mean()) < 0.002


def test_the_presets_get_noisier_as_the_light_fades():
    mid_grey = [float(noise.PRESETS[name].sigma(0.5)) * 255
                for name in ("daylight", "indoors", "night")]
    assert mid_grey == sorted(mid_grey) and 4 < mid_grey[0] < 6 and 18 < mid_grey[2] < 22


def test_poisson_gaussian_noise_is_seeded_and_its_sigma_is_the_rms():
    model = noise.PRESETS["indoors"]
    first = noise.add_noise(RAMP, "poisson_gaussian", model, seed=5)
    assert np.array_equal(first.image, noise.add_poisson_gaussian(RAMP, model, seed=5))
    assert not np.array_equal(first.image, noise.add_poisson_gaussian(RAMP, model, seed=6))
    assert first.sigma == pytest.approx(np.sqrt(np.mean(model.a * RAMP + model.b)), rel=1e-6)
    assert abs((first.image - RAMP).std() / first.sigma - 1) < 0.03


def test_pure_read_out_noise_is_gaussian():
    residual = noise.add_poisson_gaussian(FLAT, noise.PoissonGaussian(0, 1e-3), seed=1) - FLAT
    assert abs(residual.std() / np.sqrt(1e-3) - 1) < 0.02


@pytest.mark.parametrize("a, b, message", [
    (-0.01, 1e-4, "a (the variance per unit of intensity) must be in"),
    (0.01, -1e-4, "b (the variance at black) must be in"),
    (0.5, 0.0, "must be in [0, 0.1]"),
    (float("nan"), 0.0, "must be a number"),
    (0.0, 0.0, "no noise at all"),
])
def test_bad_poisson_gaussian_settings_are_refused_in_words(a, b, message):
    with pytest.raises(noise.InvalidInput, match=re.escape(message)):
        noise.PoissonGaussian(a, b)


def test_correlated_noise_has_its_sigma_and_spreads_over_neighbours():
    sigma = 20 / 255
    residual = noise.add_correlated(FLAT, sigma, seed=3) - FLAT
    assert abs(residual.std() / sigma - 1) < 0.03
    # The blur [1 2 1] x [1 2 1] correlates horizontal neighbours by (2 + 2) / 6 = 2/3.
    neighbours = np.corrcoef(residual[:, :-1].ravel(), residual[:, 1:].ravel())[0, 1]
    assert neighbours == pytest.approx(2 / 3, abs=0.02)
    # Which is why the finest-scale estimate reads it as faint noise.
    assert noise.estimate_sigma(FLAT + residual) < 0.5 * sigma


def test_the_covariance_of_correlated_noise_is_what_the_noise_shows():
    sigma = 0.1
    residual = noise.add_correlated(np.zeros((512, 512), np.float32), sigma, seed=0)
    patches = np.lib.stride_tricks.sliding_window_view(residual, (8, 8))[::4, ::4]
    measured = np.cov(patches.reshape(-1, 64).T)
    expected = noise.CorrelatedNoise.of_kernel(sigma).covariance
    assert np.abs(measured - expected).max() < 0.1 * sigma**2
    assert noise.CorrelatedNoise.of_kernel(sigma).sigma == pytest.approx(sigma)
