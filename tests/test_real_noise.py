"""Methods told how real noise behaves: a level per pixel for the networks that take a map,
the generalised Anscombe transform for the others, and a noise covariance for BM3D."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data
from skimage.transform import resize

import denoisers
from denoisers import noise
from denoisers.bm3d import PROFILES, coefficient_sigmas
from denoisers.core import InvalidInput
from denoisers.metrics import psnr

CAMERA = resize(data.camera() / 255.0, (128, 128), anti_aliasing=True).astype(np.float32)
NIGHT = noise.PRESETS["night"]


@pytest.fixture(scope="module")
def night():
    return noise.add_noise(CAMERA, "poisson_gaussian", NIGHT, seed=1)


@pytest.mark.parametrize("key", ["ffdnet", "drunet"])
def test_a_network_told_the_level_at_every_pixel_beats_one_sigma(key, night):
    one = denoisers.run(key, night.image, night.sigma).image
    mapped = denoisers.run(key, night.image, night.sigma, noise_model=NIGHT).image
    assert psnr(CAMERA, mapped) > psnr(CAMERA, one) + 0.5


def test_the_map_reaches_each_opponent_channel_of_a_colour_image():
    rgb = resize(data.astronaut()[100:356, 150:406] / 255.0, (96, 96)).astype(np.float32)
    noisy = noise.add_noise(rgb, "poisson_gaussian", NIGHT, seed=0)
    one = denoisers.run("ffdnet", noisy.image, noisy.sigma).image
    mapped = denoisers.run("ffdnet", noisy.image, noisy.sigma, noise_model=NIGHT).image
    assert mapped.shape == rgb.shape and not np.array_equal(mapped, one)
    assert psnr(rgb, mapped) > psnr(rgb, one)


def test_a_constant_map_is_the_same_as_sigma():
    noisy = noise.add_gaussian(CAMERA, 20 / 255, seed=0)
    method = denoisers.get("ffdnet")
    told = method.run(noisy, 20 / 255).image
    mapped = method.run(noisy, 20 / 255, sigma_map=np.full(CAMERA.shape, 20 / 255)).image
    assert np.allclose(told, mapped, atol=1e-5)


def test_a_map_beyond_the_training_range_is_clamped_with_a_note():
    noisy = noise.add_gaussian(CAMERA, 20 / 255, seed=0)
    method = denoisers.get("ffdnet")
    high = method.run(noisy, 20 / 255, sigma_map=np.full(CAMERA.shape, 0.9))
    assert "moved into that range at 100 % of the pixels" in high.extras["note"]
    assert np.array_equal(high.image, method.run(noisy, 100 / 255).image)
    half = np.full(CAMERA.shape, 20 / 255)
    half[:64] = 0.9
    assert "at 50 % of the pixels" in method.run(noisy, 20 / 255, sigma_map=half).extras["note"]
    assert "note" not in method.run(noisy, 20 / 255, sigma_map=np.full(CAMERA.shape, 0.1)).extras


@pytest.mark.parametrize("levels, message", [
    (np.full((5, 5), 0.1), "the image's shape"),
    (np.full((128, 128), -0.1), "standard deviations in [0, 1]"),
    (np.full((128, 128), np.nan), "standard deviations in [0, 1]"),
])
def test_a_bad_map_is_refused_in_words(levels, message):
    with pytest.raises(InvalidInput, match=message.replace("[", r"\[").replace("]", r"\]")):
        denoisers.get("ffdnet").run(CAMERA, 0.1, sigma_map=levels)


def test_a_blind_network_takes_no_map():
    with pytest.raises(InvalidInput, match="told no noise level per pixel"):
        denoisers.get("dncnn").run(CAMERA, 0.1, sigma_map=np.full(CAMERA.shape, 0.1))


def test_a_noise_model_of_the_wrong_kind_is_refused():
    with pytest.raises(InvalidInput, match="PoissonGaussian or a CorrelatedNoise"):
        denoisers.run("gaussian", CAMERA, 0.1, noise_model=(0.01, 0.001))


# --------------------------------------------------------------------------- correlated noise

def test_white_noise_gives_every_coefficient_its_sigma():
    """Both passes' 2-D transforms have rows of unit norm (bior1.5's as the DCT's), so white
    noise is thresholded exactly as without a covariance."""
    sigma = 0.05
    for stage in (PROFILES["normal"].hard, PROFILES["normal"].wiener):
        assert np.allclose(coefficient_sigmas(sigma**2 * np.eye(64), stage, (64, 64)), sigma)
    white = noise.add_gaussian(CAMERA, sigma, seed=0)
    told = denoisers.run("bm3d", white, sigma,
                         noise_model=noise.CorrelatedNoise(sigma**2 * np.eye(64))).image
    assert np.allclose(told, denoisers.run("bm3d", white, sigma).image, atol=1e-5)


def test_bm3d_told_the_noise_covariance_removes_grain_that_white_bm3d_leaves():
    sigma = 15 / 255
    grainy = noise.add_correlated(CAMERA, sigma, seed=0)
    covariance = noise.CorrelatedNoise.of_kernel(sigma)
    white = denoisers.run("bm3d", grainy, 2 * sigma).image  # the best of 1, 1.5, 2 and 3 sigma
    told = denoisers.run("bm3d", grainy, sigma, noise_model=covariance).image
    assert psnr(CAMERA, told) > psnr(CAMERA, white) + 1.0


def test_only_bm3d_is_told_a_covariance():
    covariance = noise.CorrelatedNoise.of_kernel(0.05)
    with pytest.raises(InvalidInput, match="assumes white noise"):
        denoisers.run("gaussian", CAMERA, 0.05, noise_model=covariance)


@pytest.mark.parametrize("covariance, message", [
    (np.eye(16), "for 8x8 blocks"),
    (np.triu(np.ones((64, 64))), "symmetric"),
    (4 * np.eye(64), "variance in"),
])
def test_a_bad_covariance_is_refused_in_words(covariance, message):
    with pytest.raises(InvalidInput, match=message):
        denoisers.run("bm3d", CAMERA, 0.05, noise_model=noise.CorrelatedNoise(covariance))
