"""Metrics agree with scikit-image in the settings of Wang et al. 2004."""

from __future__ import annotations

import numpy as np
import pytest
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


def test_blur_to_psnr_reaches_the_target_with_a_different_ssim(grey_samples):
    clean = grey_samples["camera"]
    noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    target = metrics.psnr(clean, noisy)
    blurred = metrics.blur_to_psnr(clean, target)
    assert metrics.psnr(clean, blurred) == pytest.approx(target, abs=0.05)
    assert metrics.ssim(clean, blurred) != pytest.approx(metrics.ssim(clean, noisy), abs=0.05)
