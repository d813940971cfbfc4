"""Metrics agree with scikit-image in the settings of Wang et al. 2004."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from denoisers import metrics, noise


def test_psnr_is_ten_log_of_the_inverse_mse(grey_samples):
    clean = grey_samples["camera"]
    noisy = noise.add_gaussian(clean, 0.1, seed=0)
    mse = np.mean((clean.astype(np.float64) - noisy) ** 2)
    assert metrics.psnr(clean, noisy) == pytest.approx(10 * np.log10(1 / mse), abs=1e-4)
    assert metrics.psnr(clean, noisy) == pytest.approx(
        peak_signal_noise_ratio(clean, noisy, data_range=1.0))


def test_ssim_matches_skimage_with_gaussian_weights(grey_samples, colour_sample):
    for clean in (grey_samples["brick"], colour_sample):
        noisy = noise.add_gaussian(clean, 0.1, seed=1)
        expected = structural_similarity(
            clean, noisy, data_range=1.0, gaussian_weights=True, sigma=1.5,
            use_sample_covariance=False, channel_axis=-1 if clean.ndim == 3 else None)
        assert metrics.ssim(clean, noisy) == pytest.approx(expected, abs=1e-6)
        assert metrics.ssim(clean, clean) == pytest.approx(1.0)


def test_ssim_map_is_local_and_its_interior_averages_to_ssim(grey_samples):
    clean = grey_samples["camera"]
    damaged = clean.copy()
    damaged[:40, :40] = 0.5
    local = metrics.ssim_map(clean, damaged)
    assert local.shape == clean.shape
    assert local[:30, :30].mean() < 0.5 and local[60:, 60:].mean() > 0.99
    # skimage's mean leaves out a border of half the 11x11 window
    assert float(local[5:-5, 5:-5].mean()) == pytest.approx(metrics.ssim(clean, damaged), abs=1e-5)


def test_method_noise_is_noisy_minus_estimate(grey_samples):
    noisy = grey_samples["moon"]
    estimate = noisy * 0.5
    assert np.allclose(metrics.method_noise(noisy, estimate), noisy * 0.5)


def test_shape_mismatch_is_refused(grey_samples):
    with pytest.raises(ValueError, match="same shape"):
        metrics.psnr(grey_samples["camera"], grey_samples["camera"][:10, :10])


def test_ssim_with_map_is_ssim_and_its_map_from_one_computation(grey_samples, colour_sample):
    for clean in (grey_samples["camera"], colour_sample):
        noisy = noise.add_gaussian(clean, 0.1, seed=2)
        index, local = metrics.ssim_with_map(clean, noisy)
        assert index == metrics.ssim(clean, noisy)
        assert np.array_equal(local, metrics.ssim_map(clean, noisy))
        assert local.shape == clean.shape[:2]


def test_blur_to_psnr_reaches_the_target_and_keeps_more_structure(grey_samples):
    clean = grey_samples["camera"]
    noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    target = metrics.psnr(clean, noisy)
    match = metrics.blur_to_psnr(clean, target, max_width=20.0)  # wider than 1/32 of 96 pixels
    assert match.matched and match.shift == 0
    assert metrics.psnr(clean, match.image) == pytest.approx(target, abs=metrics.MATCH_TOLERANCE_DB)
    # The page's point: at the same PSNR a blur keeps far more structure than this noise
    # (measured 0.69 against 0.33 on this crop).
    assert metrics.ssim(clean, match.image) > metrics.ssim(clean, noisy) + 0.2


#: Targets from a barely visible blur (40 dB) to heavier damage than Gaussian noise of
#: sigma 100 on the 0-255 scale does (8.1 dB).
TARGETS = (40.0, 34.0, 28.0, 24.0, 20.0, 17.0, 14.0, 11.0, 8.0, 6.5)


@pytest.mark.parametrize("name", ["camera", "brick", "moon", "astronaut"])
def test_blur_to_psnr_matches_every_target_within_the_tolerance(name, grey_samples,
                                                              colour_sample):
    clean = colour_sample if name == "astronaut" else grey_samples[name]
    for target in TARGETS:
        match = metrics.blur_to_psnr(clean, target)
        reached = metrics.psnr(clean, match.image)
        assert match.matched, (name, target, reached)
        assert abs(reached - target) <= metrics.MATCH_TOLERANCE_DB, (name, target, reached)
        assert match.psnr == pytest.approx(reached, abs=1e-9)
        assert match.image.shape == clean.shape and match.image.dtype == np.float32
        assert 0.0 <= match.image.min() and match.image.max() <= 1.0
        assert 0.0 <= match.width <= min(clean.shape[:2]) / 32 + 1e-9
        # The brightness shift is used only where the widest blur falls short.
        assert match.shift == 0 or match.width == pytest.approx(min(clean.shape[:2]) / 32)


def test_blur_to_psnr_blurs_alone_while_it_can_and_shifts_only_beyond(grey_samples):
    clean = grey_samples["camera"]
    widest = min(clean.shape) / 32
    floor = metrics.psnr(clean, metrics.blur_to_psnr(clean, 40.0, max_width=widest).image)
    mild, strong = metrics.blur_to_psnr(clean, 24.0), metrics.blur_to_psnr(clean, 8.0)
    assert mild.shift == 0 and 1.5 < mild.width < widest
    assert strong.width == pytest.approx(widest) and strong.shift != 0
    # From about 1.5 pixels on, the blur is scipy's (sampled) Gaussian with mirrored
    # borders, untruncated here.
    reference = ndimage.gaussian_filter(clean.astype(np.float64), mild.width, mode="reflect",
                                        truncate=12.0)
    np.testing.assert_allclose(mild.image, reference, atol=1e-6)
    assert floor > 8.0


def test_blur_to_psnr_says_when_no_image_can_be_that_far(grey_samples):
    clean = grey_samples["moon"]
    # Gaussian noise of sigma 255 on the 0-255 scale (unclipped) is farther from the image than
    # anything in [0, 1] made by blurring and shifting it, even a uniform white or black image.
    target = metrics.psnr(clean, noise.add_gaussian(clean, 1.0, seed=0))
    white = metrics.psnr(clean, np.ones_like(clean))
    black = metrics.psnr(clean, np.zeros_like(clean))
    assert target < min(white, black)
    match = metrics.blur_to_psnr(clean, target)
    assert not match.matched
    assert match.psnr == pytest.approx(min(white, black), abs=1e-6)
    assert match.shortfall == pytest.approx(match.psnr - target) and match.shortfall > 0
    assert np.ptp(match.image) == 0.0 and abs(match.shift) == 1.0


def test_blur_to_psnr_without_noise_and_with_a_bad_target(grey_samples):
    clean = grey_samples["moon"]
    match = metrics.blur_to_psnr(clean, float("inf"))
    assert match.matched and match.width == 0 and np.array_equal(match.image, clean)
    for bad in (float("nan"), "20", None):
        with pytest.raises(ValueError, match="target"):
            metrics.blur_to_psnr(clean, bad)


def test_psnr_of_identical_images_is_infinite_without_a_warning(grey_samples):
    clean = grey_samples["camera"]
    assert metrics.psnr(clean, clean.copy()) == np.inf  # warnings are errors in this suite


def test_psnr_keeps_the_data_range_one_for_images_that_leave_it(grey_samples):
    """Unclipped noise leaves [0, 1]: the peak is still 1, not the float dtype's range."""
    clean = grey_samples["camera"] - 0.05  # dips below 0
    noisy = noise.add_gaussian(clean, 0.1, seed=4)
    mse = np.mean((clean.astype(np.float64) - noisy) ** 2)
    assert clean.min() < 0
    assert metrics.psnr(clean, noisy) == pytest.approx(10 * np.log10(1 / mse), abs=1e-4)


def test_the_ssim_map_is_float32(grey_samples, colour_sample):
    for clean in (grey_samples["camera"], colour_sample):
        noisy = noise.add_gaussian(clean, 0.1, seed=2)
        assert metrics.ssim_map(clean, noisy).dtype == np.float32
        assert metrics.ssim_with_map(clean, noisy)[1].dtype == np.float32


@pytest.mark.parametrize("call, message", [
    (lambda im: metrics.psnr(im[0], im), r"^reference must have shape \(H, W\) or \(H, W, 3\)"),
    (lambda im: metrics.ssim(im, im[..., None, None]), r"^estimate must have shape"),
    (lambda im: metrics.method_noise(im, im[:1]), r"^estimate must be at least 2x2 pixels"),
    (lambda im: metrics.blur_to_psnr(im[0], 20.0), r"^clean must have shape"),
])
def test_a_bad_image_is_named_in_the_message(grey_samples, call, message):
    with pytest.raises(ValueError, match=message):
        call(grey_samples["moon"])


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, "4"])
def test_blur_to_psnr_refuses_a_max_width_that_is_not_positive(grey_samples, bad):
    with pytest.raises(ValueError,
                       match=rf"^max_width must be a positive number of pixels; got {bad!r}$"):
        metrics.blur_to_psnr(grey_samples["moon"], 20.0, max_width=bad)


def test_blur_to_psnr_takes_a_max_width_below_one_pixel(grey_samples):
    clean = grey_samples["camera"]
    match = metrics.blur_to_psnr(clean, 8.0, max_width=0.5)
    assert match.width == 0.5 and match.matched and match.shift != 0


def test_blur_to_psnr_of_an_infinite_target_changes_nothing(grey_samples):
    match = metrics.blur_to_psnr(grey_samples["camera"], float("inf"))
    assert (match.width, match.shift, match.psnr, match.target) == (0.0, 0.0, np.inf, np.inf)
    assert match.shortfall == 0.0


def _shift_towards(clean: np.ndarray) -> float:
    """+1 (white) or -1 (black): the uniform image farther from ``clean`` in MSE."""
    x = clean.astype(np.float64)
    return 1.0 if np.mean((1 - x) ** 2) >= np.mean(x**2) else -1.0


@pytest.mark.parametrize("offset", [0.0, 0.35, 0.45])
def test_blur_to_psnr_shifts_towards_the_farther_of_black_and_white(grey_samples, offset):
    """Dark and bright versions of two images, with means about 0.5 where the choice is
    close: beyond the widest blur, the shift goes the way that leaves more room, and the
    target is reached."""
    for name in ("camera", "moon"):
        clean = np.clip(grey_samples[name] * 0.6 + offset, 0, 1).astype(np.float32)
        for bright in (False, True):
            image = 1 - clean if bright else clean
            match = metrics.blur_to_psnr(image, 7.0)
            assert match.shift != 0 and np.sign(match.shift) == _shift_towards(image)
            assert match.matched, (name, offset, bright, match.psnr)
            assert metrics.psnr(image, match.image) == pytest.approx(7.0, abs=0.01)


def test_a_bright_image_out_of_reach_becomes_uniform_black(grey_samples):
    clean = 1 - grey_samples["moon"]  # bright: black is farther than white
    black = metrics.psnr(clean, np.zeros_like(clean))
    assert black < metrics.psnr(clean, np.ones_like(clean))
    match = metrics.blur_to_psnr(clean, black - 1.0)
    assert not match.matched and match.shift == -1.0
    assert np.array_equal(match.image, np.zeros_like(clean))
    assert match.psnr == pytest.approx(black, abs=1e-6)
