"""The noise-level function and the grain, measured from one noisy image: known a and b are
found again, plain Gaussian noise reads flat, images that cannot tell say so, correlated noise
is told from white noise, and bad input is refused."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from skimage import data, transform
from skimage.restoration import estimate_sigma as skimage_sigma

from denoisers import noise
from denoisers.core import InvalidInput
from denoisers.noise import PoissonGaussian
from denoisers.noise_level import GrainFit, NoiseFit, blockiness, fit_grain, fit_noise_level

SIDE = 256


def _camera() -> np.ndarray:
    return transform.resize(data.camera(), (SIDE, SIDE), anti_aliasing=True)


def _ramp() -> np.ndarray:
    """A horizontal ramp from dark to bright with a bright disc, a dark square and a band of
    fine checkered texture: every intensity, flat areas, edges and texture."""
    y, x = np.mgrid[0:SIDE, 0:SIDE] / (SIDE - 1)
    image = 0.03 + 0.94 * x
    image[(x - 0.3) ** 2 + (y - 0.3) ** 2 < 0.02] = 0.85
    image[(np.abs(x - 0.7) < 0.12) & (np.abs(y - 0.7) < 0.12)] = 0.15
    band = y > 0.85
    image[band] = 0.5 + 0.3 * np.sin(40 * np.pi * x[band]) * np.sin(40 * np.pi * y[band])
    return image


IMAGES = {"camera": _camera(), "ramp": _ramp()}

MODELS = {
    **noise.PRESETS,
    "photon-limited": PoissonGaussian(a=0.005, b=1e-6),
    "gaussian-like": PoissonGaussian(a=0.0, b=0.0016),
    "both": PoissonGaussian(a=0.004, b=0.001),
    "both-strong": PoissonGaussian(a=0.006, b=0.0015),
}

#: A term is negligible when its share of the mean variance over [0, 1] (a / 2 for the
#: photon term, b for the constant one) is under this fraction of the other's: the presets'
#: b is 4-5 % of their a / 2, the photon-limited b 0.04 %, the Gaussian-like a 0.
NEGLIGIBLE = 0.06

#: A negligible term is checked in absolute terms: its contribution (a / 2 or b) within this
#: fraction of the true mean variance a / 2 + b. The fit's standard errors, from its 16 bins
#: of 300-800 blocks (each sigma^2 to +-5-9 %), are 1-1.4 % of the mean variance for b and
#: 2-3 % for a / 2, and over seeds 0-29 the worst errors on these images were 4.8 % (b, night)
#: and 5.9 % (a, Gaussian-like): 8 % leaves room for that. A term that small moves sigma(x) by
#: 4 % at most, and the sigma checks below bound sigma(x) directly.
NEGLIGIBLE_BOUND = 0.08


@pytest.mark.parametrize("model_name", list(MODELS))
@pytest.mark.parametrize("image_name", list(IMAGES))
def test_the_fit_finds_known_a_and_b_again(image_name, model_name):
    truth = MODELS[model_name]
    noisy = noise.add_poisson_gaussian(IMAGES[image_name], truth, seed=11)
    fit = fit_noise_level(noisy)
    assert fit.problem is None and fit.model is not None
    mean_variance = truth.a / 2 + truth.b
    for fitted, true, other in ((fit.model.a / 2, truth.a / 2, truth.b),
                                (fit.model.b, truth.b, truth.a / 2)):
        if true < NEGLIGIBLE * other:
            assert abs(fitted - true) <= NEGLIGIBLE_BOUND * mean_variance
        else:
            assert abs(fitted / true - 1) <= 0.15
    at = np.array([0.1, 0.5, 0.9])
    assert np.all(np.abs(fit.sigma(at) / truth.sigma(at) - 1) <= 0.15)
    assert len(fit.levels) == len(fit.sigmas) == len(fit.counts) >= 4
    assert np.all(np.diff(fit.levels) > 0) and fit.counts.sum() > 3000


def test_a_colour_image_pools_its_channels():
    clean = transform.resize(data.astronaut(), (SIDE, SIDE), anti_aliasing=True)
    truth = noise.PRESETS["indoors"]
    fit = fit_noise_level(noise.add_poisson_gaussian(clean, truth, seed=2))
    assert fit.problem is None
    assert abs(fit.model.a / truth.a - 1) <= 0.15
    at = np.array([0.1, 0.5, 0.9])
    assert np.all(np.abs(fit.sigma(at) / truth.sigma(at) - 1) <= 0.15)


def test_clipped_intensities_are_left_out_and_the_fit_holds():
    truth = noise.PRESETS["night"]
    free = fit_noise_level(noise.add_poisson_gaussian(IMAGES["camera"], truth, seed=4))
    clipped = fit_noise_level(noise.add_poisson_gaussian(IMAGES["camera"], truth, seed=4,
                                                         clip=True))
    assert clipped.problem is None and len(clipped.levels) < len(free.levels)
    assert clipped.levels[0] > free.levels[0]  # the darkest bins, clipped at 0, are dropped
    at = np.array([0.1, 0.5, 0.9])
    assert np.all(np.abs(clipped.sigma(at) / truth.sigma(at) - 1) <= 0.15)


@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_plain_gaussian_noise_reads_flat_and_agrees_with_the_wavelet_estimate(name):
    clean = (IMAGES["camera"] if name == "camera" else
             transform.resize(data.astronaut(), (SIDE, SIDE), anti_aliasing=True).mean(axis=2))
    sigma = 25 / 255
    noisy = noise.add_gaussian(clean, sigma, seed=5)
    fit = fit_noise_level(noisy)
    assert fit.problem is None
    low, mid, high = fit.sigma(np.array([0.1, 0.5, 0.9]))
    assert high / low < 1.05  # flat: a / 2 is a few percent of b at most
    assert abs(mid / skimage_sigma(noisy) - 1) < 0.10
    assert abs(mid / sigma - 1) < 0.05


def test_a_flat_image_falls_back_to_one_sigma_and_says_so():
    sigma = 10 / 255
    fit = fit_noise_level(noise.add_gaussian(np.full((SIDE, SIDE), 0.4), sigma, seed=6))
    assert fit.model is not None and fit.model.a == 0
    assert abs(np.sqrt(fit.model.b) / sigma - 1) < 0.05
    assert fit.problem is not None and "one sigma" in fit.problem


@pytest.mark.parametrize("shape", [(128, 128), (64, 64, 3)])
def test_an_image_without_noise_says_there_is_none(shape):
    fit = fit_noise_level(np.full(shape, 0.4))
    assert fit.model is None and "no measurable noise" in fit.problem
    with pytest.raises(InvalidInput, match="no measurable noise"):
        fit.sigma(0.5)
    grain = fit_grain(np.full(shape, 0.4))
    assert grain.sigma < 1e-9 and not grain.correlated and "no measurable noise" in grain.problem


def test_an_image_without_smooth_areas_says_so():
    rng = np.random.default_rng(7)
    texture = ndimage.gaussian_filter(rng.random((SIDE, SIDE)), 1.5)
    texture = (texture - texture.min()) / np.ptp(texture)
    fit = fit_noise_level(noise.add_gaussian(texture, 5 / 255, seed=7))
    assert fit.model is None and "smooth areas" in fit.problem


def test_an_image_too_small_to_fit_says_so():
    fit = fit_noise_level(noise.add_gaussian(np.full((20, 20), 0.5), 0.1, seed=8))
    assert fit.model is None and "smooth areas" in fit.problem
    grain = fit_grain(noise.add_gaussian(np.full((20, 20), 0.5), 0.1, seed=8))
    assert "flat 8x8 patches" in grain.problem and np.isnan(grain.sigma)


def test_correlated_noise_is_measured_where_the_wavelet_estimate_misses_it():
    sigma = 15 / 255
    grain = fit_grain(noise.add_correlated(IMAGES["camera"], sigma, seed=9))
    assert isinstance(grain, GrainFit) and grain.problem is None
    assert abs(grain.sigma / sigma - 1) < 0.15
    assert grain.white_sigma < 0.6 * grain.sigma
    assert grain.correlated
    spectrum = grain.spectrum
    assert spectrum.shape == (8, 8) and grain.covariance.shape == (64, 64)
    assert spectrum[:2, :2].min() > 10 * spectrum[4:, 4:].max()  # the grain is coarse
    assert np.allclose(grain.covariance, grain.covariance.T)
    # An orthonormal transform keeps the trace: the spectrum sums to n^2 sigma^2.
    assert spectrum.sum() == pytest.approx(np.trace(grain.covariance))


def test_white_noise_is_not_called_correlated():
    sigma = 15 / 255
    grain = fit_grain(noise.add_gaussian(IMAGES["camera"], sigma, seed=10))
    assert grain.problem is None and not grain.correlated
    assert abs(grain.sigma / sigma - 1) < 0.10
    assert abs(grain.white_sigma / grain.sigma - 1) < 0.10


def test_the_spectrum_of_white_noise_is_flat():
    """On a flat image (on the camera the lowest frequencies also hold some of the image's
    slow variation that a plane does not remove)."""
    sigma = 15 / 255
    grain = fit_grain(noise.add_gaussian(np.full((SIDE, SIDE), 0.5), sigma, seed=14))
    flatness = grain.spectrum / sigma**2  # white noise has the same power at every frequency
    assert 0.85 < flatness.min() and flatness.max() < 1.15
    assert np.allclose(grain.covariance, sigma**2 * np.eye(64), atol=0.05 * sigma**2)


def test_the_grain_of_a_colour_image_averages_its_channels():
    clean = transform.resize(data.astronaut(), (SIDE, SIDE), anti_aliasing=True)
    sigma = 15 / 255
    grain = fit_grain(noise.add_correlated(clean, sigma, seed=12), size=6)
    assert grain.problem is None and grain.correlated
    assert abs(grain.sigma / sigma - 1) < 0.15 and grain.spectrum.shape == (6, 6)


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 4, 4)), "an image", np.zeros((8, 8, 2))])
def test_bad_input_is_refused(bad):
    with pytest.raises(InvalidInput):
        fit_noise_level(bad)
    with pytest.raises(InvalidInput):
        fit_grain(bad)


@pytest.mark.parametrize("size", [3, 13, 8.0, True, "8"])
def test_a_bad_patch_size_is_refused(size):
    with pytest.raises(InvalidInput, match="patch size"):
        fit_grain(np.zeros((32, 32)), size=size)


def test_a_patch_larger_than_the_image_is_refused():
    with pytest.raises(InvalidInput, match="at least 8x8"):
        fit_grain(np.zeros((6, 40)))


def test_the_fit_is_a_frozen_record():
    fit = fit_noise_level(noise.add_gaussian(IMAGES["ramp"], 0.05, seed=13))
    assert isinstance(fit, NoiseFit)
    with pytest.raises(AttributeError):
        fit.model = None


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8)).save(
        buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer)).astype(np.float32) / 255


def test_a_heavily_compressed_photo_is_said_to_be_compressed():
    clean = transform.resize(data.camera() / 255.0, (256, 256), anti_aliasing=True)
    noisy = noise.add_poisson_gaussian(clean, noise.PRESETS["indoors"], seed=0)
    assert blockiness(noisy) < 1.05 and fit_noise_level(noisy).problem is None
    squeezed = _jpeg(noisy, 30)
    assert blockiness(squeezed) > 1.3
    found = fit_noise_level(squeezed)
    assert found.problem is not None and "compressed in 8x8 blocks" in found.problem
    # A resize moves the grid away from the blocks: nothing to see, nothing said.
    assert blockiness(transform.resize(squeezed, (200, 200), anti_aliasing=True)) < 1.1
