"""Tests of the non-local means chapter's building blocks: patch distances, weights, estimate."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from skimage import data, restoration

import denoisers
from denoisers import metrics, noise
from denoisers.core import as_image
from denoisers.nonlocal_means import (
    SPEC,
    nlm,
    nlm_h,
    nlm_patch,
    nlm_pixel,
    nlm_search,
    nlm_weights,
    patch_distances,
)

SIGMA = 0.1

#: Largest |nlm_pixel - skimage| (on the [0, 1] scale) allowed at interior pixels.
#: Measured on the 40x40 camera crop below with sigma = 0.1, over its 14x14 interior
#: pixels: max 1.33e-3 (mean 1.9e-4) at h = 0.35 sigma, 5.9e-4 (1.6e-4) at h = 0.6 sigma,
#: 7.4e-4 at h = sigma. The gap is skimage's two shortcuts, reproduced exactly below.
SKIMAGE_TOLERANCE = 2e-3


@functools.cache
def noisy_crop() -> np.ndarray:
    """A 40x40 crop of the camera image with Gaussian noise of sigma 0.1 (float32 values)."""
    clean = as_image(data.camera())[200:240, 200:240].astype(np.float64)
    noise = np.random.default_rng(0).standard_normal(clean.shape)
    return np.clip(clean + SIGMA * noise, 0, 1).astype(np.float32)


@functools.cache
def skimage_slow(h: float) -> np.ndarray:
    """scikit-image's classic (fast_mode=False) NL-means of the crop: 7x7 patches, 21x21 window."""
    return restoration.denoise_nl_means(noisy_crop().astype(np.float64), patch_size=7,
                                        patch_distance=10, h=h, sigma=SIGMA, fast_mode=False)


def _schraudolph_exp(y: np.ndarray) -> np.ndarray:
    """skimage's fast_exp (skimage/_shared/fast_exp.h): exp from the bits of a double."""
    high = np.trunc(1512775.3951951856938 * y).astype(np.int64) + 1072632447
    return (high.astype(np.uint64) << np.uint64(32)).view(np.float64)


def stripes(rng: np.random.Generator, period: int = 5) -> np.ndarray:
    """Vertical stripes (one bright column in ``period``, contrast 3 sigma) plus noise."""
    profile = np.where(np.arange(48) % period == 0, 0.65, 0.35)
    return np.tile(profile, (48, 1)) + SIGMA * rng.standard_normal((48, 48))


@pytest.mark.parametrize("pixel, patch, search", [
    ((20, 20), 7, 21), ((0, 0), 7, 21), ((39, 5), 5, 11), ((10, 39), 3, 1), ((3, 3), 1, 9)])
def test_weights_are_a_normalised_non_negative_window(pixel, patch, search):
    weights = nlm_weights(noisy_crop(), pixel, SIGMA, patch=patch, search=search)
    assert weights.shape == (search, search)
    assert np.all(weights >= 0)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_the_pixel_itself_gets_the_largest_weight(kernel):
    for pixel in [(20, 20), (5, 30), (33, 12)]:
        weights = nlm_weights(noisy_crop(), pixel, SIGMA, kernel=kernel)
        centre = weights.shape[0] // 2
        assert weights[centre, centre] == weights.max()


def test_weights_concentrate_on_the_matching_stripes(rng):
    # Same-phase columns are 1 in 5 of the window (24% of a uniform weight); measured
    # over 20 noise seeds, their share of the weight was 97.5% at least (99.9% mean).
    image = stripes(rng)
    for col in (20, 22):  # on a bright stripe, and between two
        weights = nlm_weights(image, (24, col), SIGMA, patch=7, search=21)
        same_phase = (np.arange(21) - 10) % 5 == 0
        assert weights[:, same_phase].sum() > 0.8


def test_patch_distances_are_mean_squared_differences_with_a_mirrored_border(rng):
    image = rng.random((12, 10))
    distances = patch_distances(image, (0, 9), patch=3, search=5, kernel="flat")
    padded = np.pad(image, 3, mode="symmetric")  # pixel (0, 9) is padded (3, 12)
    reference = padded[2:5, 11:14]
    for di, dj in [(0, 0), (-2, 2), (1, -1), (2, 2)]:
        other = padded[2 + di:5 + di, 11 + dj:14 + dj]
        assert distances[2 + di, 2 + dj] == pytest.approx(np.mean((reference - other) ** 2))
    assert distances[2, 2] == 0.0


@pytest.mark.parametrize("factor", [0.35, 0.6])
def test_nlm_pixel_agrees_with_skimage_classic_nl_means(factor):
    h = factor * SIGMA
    expected = skimage_slow(h)
    for pixel in [(13, 13), (20, 17), (26, 26), (15, 24)]:
        ours = nlm_pixel(noisy_crop(), pixel, SIGMA, patch=7, search=21, h=h, kernel="gaussian")
        assert ours == pytest.approx(expected[pixel], abs=SKIMAGE_TOLERANCE)


@pytest.mark.parametrize("factor", [0.35, 0.6])
def test_skimage_is_our_gaussian_nl_means_plus_its_two_shortcuts(factor):
    # skimage evaluates exp(-x) with Schraudolph's approximation and drops a patch
    # whose bias-corrected distance, summed row by row, passes 5 h² before its last
    # row. Applied to our distances, the two reproduce skimage to rounding error.
    image, h = noisy_crop().astype(np.float64), factor * SIGMA
    expected = skimage_slow(h)
    offsets = np.arange(7) - 3
    ramp = np.exp(-offsets**2 / (2 * 1.5**2))
    kernel = np.outer(ramp, ramp) / np.outer(ramp, ramp).sum()
    for row, col in [(13, 13), (20, 17), (26, 26)]:
        distances = patch_distances(image, (row, col), patch=7, search=21, kernel="gaussian")
        weights = _schraudolph_exp(-np.maximum(distances - 2 * SIGMA**2, 0) / h**2)
        around = image[row - 13:row + 14, col - 13:col + 14]
        patches = sliding_window_view(around, (7, 7))
        terms = kernel * ((patches - patches[10, 10]) ** 2 - 2 * SIGMA**2) / h**2
        partial = np.cumsum(terms.sum(axis=-1), axis=-1)[..., :-1]
        weights[(partial > 5).any(axis=-1)] = 0.0
        values = around[3:24, 3:24]
        assert np.sum(weights * values) / weights.sum() == pytest.approx(
            expected[row, col], abs=1e-12)


def test_defaults_follow_sigma_through_the_spec_rules():
    for sigma in (5 / 255, 15 / 255, 25 / 255, 50 / 255, 1.0):
        auto = {p.name: p.resolve(None, sigma) for p in SPEC if p.auto}
        assert auto == {"patch": nlm_patch(sigma), "search": nlm_search(sigma), "h": nlm_h(sigma)}
        assert auto["patch"] % 2 == auto["search"] % 2 == 1
        assert 0 < auto["h"] <= sigma
    explicit = dict(patch=nlm_patch(SIGMA), search=nlm_search(SIGMA), h=nlm_h(SIGMA))
    np.testing.assert_array_equal(nlm_weights(noisy_crop(), (20, 20), SIGMA),
                                  nlm_weights(noisy_crop(), (20, 20), SIGMA, **explicit))


def test_zero_h_keeps_only_patches_the_noise_explains():
    image = noisy_crop()
    weights = nlm_weights(image, (20, 20), 0.0, search=21)  # sigma 0 gives h 0
    assert weights.sum() == pytest.approx(1.0)
    assert weights[10, 10] == 1.0  # no other patch is identical
    weights = nlm_weights(image, (20, 20), SIGMA, patch=7, search=21, h=0.0)
    distances = patch_distances(image, (20, 20), patch=7, search=21)
    np.testing.assert_array_equal(weights > 0, distances <= 2 * SIGMA**2)


@pytest.mark.parametrize("kwargs, message", [
    ({"patch": 6}, r"'patch' parameter of non-local means must be an odd int in \[1, 31\]"),
    ({"search": 20}, r"'search' parameter of non-local means must be an odd int in \[1, 41\]"),
    ({"search": 43}, r"'search' parameter of non-local means must be an odd int in \[1, 41\]"),
    ({"search": 0}, "'search' parameter of non-local means must be an odd int"),
    ({"pixel": (40, 3)}, "outside the image: rows run 0..39"),
    ({"pixel": (-1, 3)}, "outside the image"),
    ({"pixel": (1.5, 3)}, "pair of ints"),
    ({"pixel": 5}, "a \\(row, col\\) pair"),
    ({"image": np.zeros((16, 16, 3))}, "must be grey"),
    ({"image": np.zeros(16)}, "shape \\(H, W\\)"),
    ({"kernel": "box"}, "'kernel' parameter of non-local means must be one of 'flat', "),
    ({"patch": "7"}, "'patch' parameter of non-local means must be an odd int"),
    ({"h": -0.1}, r"'h' parameter of non-local means must be a float in \[0, 1\] or None"),
    ({"sigma": 25}, "sigma is the noise standard deviation"),
])
def test_bad_inputs_raise_clear_errors(kwargs, message):
    """Each function refuses a bad input with the same message; parameters by the one spec."""
    call = {"image": noisy_crop(), "pixel": (5, 5), "sigma": SIGMA} | kwargs
    for function in (nlm_weights, nlm_pixel):
        with pytest.raises(ValueError, match=message):
            function(**call)
    if "sigma" not in kwargs and "h" not in kwargs:
        distance_call = {k: v for k, v in call.items() if k != "sigma"}
        with pytest.raises(ValueError, match=message):
            patch_distances(**distance_call)


# --------------------------------------------------------------------------- the method

#: Pixels sampled on the 40x40 crop: corners, edges, next to the border and inside.
SAMPLED = [(0, 0), (0, 39), (39, 0), (39, 39), (1, 20), (20, 38), (38, 7), (3, 3), (20, 20),
           (13, 27)]


@pytest.mark.parametrize("params", [
    {}, {"kernel": "gaussian"}, {"patch": 3, "search": 9, "h": 0.05},
    {"patch": 9, "search": 41}, {"patch": 5, "search": 11, "h": 0.0}, {"patch": 1, "search": 3}])
def test_the_method_equals_the_pixel_view_at_every_sampled_pixel(params):
    image = noisy_crop()
    estimate = nlm(image, SIGMA, **params).image
    for pixel in SAMPLED:
        assert estimate[pixel] == pytest.approx(nlm_pixel(image, pixel, SIGMA, **params),
                                                abs=1e-5), pixel


def test_the_method_equals_the_pixel_view_on_an_image_smaller_than_its_window(rng):
    image = rng.random((6, 9)).astype(np.float32)
    estimate = nlm(image, SIGMA, search=21).image
    for pixel in [(0, 0), (5, 8), (2, 4), (5, 0)]:
        assert estimate[pixel] == pytest.approx(nlm_pixel(image, pixel, SIGMA, search=21),
                                                abs=1e-5)


@pytest.mark.parametrize("sigma_255", [15, 25, 50])
def test_gain_over_the_noisy_image_and_over_the_bilateral_filter(grey_samples, sigma_255):
    # Measured on the three 96x96 crops (seed 1): the gain over the noisy image was at
    # least 7.2 dB at sigma 15, 9.0 at 25 and 10.9 at 50; over the bilateral filter at
    # least 1.4 dB at sigma 15 and 25, and at 50 1.4 on moon and 2.3 on camera, while on
    # the brick texture the bilateral filter, close to a blur there, did 0.2 dB better.
    sigma = sigma_255 / 255
    for name, clean in grey_samples.items():
        noisy = noise.add_gaussian(clean, sigma, seed=1, clip=False)
        ours = metrics.psnr(clean, nlm(noisy, sigma).image)
        assert ours - metrics.psnr(clean, noisy) > 6.0, name
        bilateral = metrics.psnr(clean, denoisers.run("bilateral", noisy, sigma).image)
        if sigma_255 < 50 or name != "brick":
            assert ours > bilateral + 1.0, name


def test_the_method_is_deterministic_and_leaves_torch_threads_as_they_were():
    import torch

    before = torch.get_num_threads()
    first, second = nlm(noisy_crop(), SIGMA).image, nlm(noisy_crop(), SIGMA).image
    np.testing.assert_array_equal(first, second)
    assert torch.get_num_threads() == before


def test_colour_goes_through_the_opponent_channels(colour_sample):
    noisy = noise.add_gaussian(colour_sample, 25 / 255, seed=2, clip=False)
    result = denoisers.run("nlm", noisy, 25 / 255, trace=True)
    assert result.image.shape == colour_sample.shape and result.image.dtype == np.float32
    assert metrics.psnr(colour_sample, result.image) > metrics.psnr(colour_sample, noisy) + 4
    assert "opponent" in result.extras["colour"]


def test_the_trace_holds_the_method_noise_and_the_weight_found():
    image = noisy_crop()
    result = nlm(image, SIGMA, trace=True)
    np.testing.assert_allclose(result.stages["method noise"], image - result.image, atol=1e-7)
    found = result.stages["weight found"]
    assert found.shape == image.shape and found.min() >= 1.0
    assert found.max() <= nlm_search(SIGMA) ** 2


def test_the_look_explains_the_traced_estimate_with_its_nearest_patches():
    image = noisy_crop()
    traced = denoisers.run("nlm", image, SIGMA, trace=True)
    for pixel in [(0, 0), (20, 20), (39, 12)]:
        view = denoisers.look("nlm", image, SIGMA, traced, pixel)
        similar = view.extras["similar"]
        weights = view.stages["weights"]
        np.testing.assert_allclose(weights, nlm_weights(image, pixel, SIGMA), atol=1e-7)
        assert similar["estimate"] == pytest.approx(similar["result"], abs=1e-5)
        assert np.all(np.diff(similar["distances"]) >= 0)
        assert len(similar["tiles"]) == 8 and (0, 0) not in map(tuple, similar["offsets"])
        radius = weights.shape[0] // 2
        for (dy, dx), weight in zip(similar["offsets"], similar["weights"]):
            assert weights[radius + dy, radius + dx] == pytest.approx(weight)
            assert weight <= weights[radius, radius] + 1e-7
        patch = similar["patch"]
        row, col = pixel
        padded = np.pad(image, 30, mode="symmetric")
        dy, dx = similar["offsets"][0]
        top, left = 30 + row + dy - patch // 2, 30 + col + dx - patch // 2
        np.testing.assert_allclose(similar["tiles"][0], padded[top:top + patch, left:left + patch])


@pytest.mark.parametrize("params, message", [
    ({"patch": 4}, r"'patch' parameter of nlm must be an odd int in \[1, 31\]"),
    ({"search": 43}, r"'search' parameter of nlm must be an odd int in \[1, 41\]"),
    ({"h": 2.0}, r"'h' parameter of nlm must be a float in \[0, 1\]"),
    ({"kernel": "box"}, "'kernel' parameter of nlm must be one of 'flat', 'gaussian'"),
])
def test_bad_parameters_of_the_method_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        nlm(noisy_crop(), SIGMA, **params)
    with pytest.raises(ValueError, match=message):
        denoisers.run("nlm", noisy_crop(), SIGMA, **params)


# --------------------------------------------------------------------------- the look, in detail


@pytest.mark.parametrize("params", [{"patch": 5, "search": 9, "h": 0.05, "kernel": "flat"},
                                    {"patch": 3, "search": 7, "h": 0.2}])
def test_the_look_uses_the_parameters_of_the_run_it_explains(params):
    """Non-default settings reach every part of the view: the weights, the window, the
    reference patch and the nearest patches, as the one-pixel functions give them."""
    from denoisers.nonlocal_means import nlm_look

    image = noisy_crop()
    traced = nlm(image, SIGMA, trace=True, **params)
    pixel = (1, 30)
    view = nlm_look(image, SIGMA, traced, pixel, **params)
    patch, search = params["patch"], params["search"]
    kernel = params.get("kernel", "gaussian")
    weights, window = view.stages["weights"], view.stages["search window"]
    assert weights.dtype == window.dtype == np.float32
    np.testing.assert_allclose(weights, nlm_weights(image, pixel, SIGMA, **params), atol=1e-7)
    margin = search // 2 + patch // 2
    padded = np.pad(image.astype(np.float64), margin, mode="symmetric")
    row, col = pixel[0] + margin, pixel[1] + margin
    r = search // 2
    np.testing.assert_allclose(window, padded[row - r:row + r + 1, col - r:col + r + 1],
                               atol=1e-7)
    similar = view.extras["similar"]
    assert similar["probe"] == pixel and similar["patch"] == patch
    h = patch // 2
    assert similar["reference"].dtype == similar["tiles"].dtype == np.float32
    np.testing.assert_allclose(similar["reference"],
                               padded[row - h:row + h + 1, col - h:col + h + 1], atol=1e-7)
    distances = patch_distances(image, pixel, patch=patch, search=search, kernel=kernel)
    for (dy, dx), tile, distance in zip(similar["offsets"], similar["tiles"],
                                        similar["distances"]):
        top, left = row + dy - h, col + dx - h
        np.testing.assert_allclose(tile, padded[top:top + patch, left:left + patch], atol=1e-7)
        assert distance == pytest.approx(distances[r + dy, r + dx])
    assert similar["estimate"] == pytest.approx(nlm_pixel(image, pixel, SIGMA, **params))
    assert similar["estimate"] == pytest.approx(similar["result"], abs=1e-5)


def test_the_look_draws_its_window_as_an_image_beside_the_run_s_own_stages():
    from denoisers.nonlocal_means import nlm_look

    image = noisy_crop()
    view = nlm_look(image, SIGMA, nlm(image, SIGMA, trace=True), (20, 20))
    assert view.extras["display"] == {"method noise": "signed", "weight found": "map",
                                      "search window": "image"}
    assert set(view.stages) == {"weights", "search window"}
    untraced = nlm_look(image, SIGMA, nlm(image, SIGMA), (20, 20))
    assert untraced.extras["display"] == {"search window": "image"}


@pytest.mark.parametrize("search, shown", [(1, 0), (3, 8), (5, 8)])
def test_the_look_shows_the_nearest_patches_but_never_the_pixel_s_own(search, shown):
    from denoisers.nonlocal_means import nlm_look

    image = noisy_crop()
    params = {"patch": 3, "search": search, "h": 0.1}
    view = nlm_look(image, SIGMA, nlm(image, SIGMA, **params), (10, 10), **params)
    similar = view.extras["similar"]
    assert similar["tiles"].shape == (shown, 3, 3) and len(similar["offsets"]) == shown
    assert (0, 0) not in map(tuple, similar["offsets"])


def test_the_look_lists_tied_patches_in_window_order():
    """A flat image: every patch is as near as any other, so the first in row-major order
    (the pixel's own left out) are shown."""
    from denoisers.nonlocal_means import nlm_look

    image = np.full((30, 30), 0.5, np.float32)
    params = {"patch": 3, "search": 9, "h": 0.1}
    view = nlm_look(image, SIGMA, nlm(image, SIGMA, **params), (15, 15), **params)
    offsets = [tuple(o) for o in view.extras["similar"]["offsets"]]
    assert offsets == [(-4, dx) for dx in range(-4, 4)]


def test_weights_and_distances_follow_the_kernel_asked_for(rng):
    image = rng.random((24, 24)).astype(np.float32)
    for kernel in ("flat", "gaussian"):
        distances = patch_distances(image, (12, 12), patch=5, search=7, kernel=kernel)
        excess = np.maximum(distances - 2 * SIGMA**2, 0)
        expected = np.exp(-excess / 0.08**2)
        np.testing.assert_allclose(nlm_weights(image, (12, 12), SIGMA, patch=5, search=7,
                                               h=0.08, kernel=kernel),
                                   expected / expected.sum(), rtol=1e-9)
    flat = patch_distances(image, (12, 12), patch=5, search=7, kernel="flat")
    assert not np.allclose(flat, patch_distances(image, (12, 12), patch=5, search=7))


@pytest.mark.parametrize("sides", [{"patch": None, "search": 5}, {"patch": 5, "search": None}])
def test_patch_distances_need_both_sides(sides):
    with pytest.raises(ValueError, match=r"^patch_distances takes the patch and search sides as "
                                         r"odd ints; only the functions given sigma choose"):
        patch_distances(noisy_crop(), (3, 3), **sides)


def test_the_defaults_switch_after_sigma_35_as_documented():
    """"7 up to sigma = 35, 9 above"; "0.8 sigma up to sigma = 35, 0.7 sigma above"."""
    for sigma_255, patch, factor in ((35, 7, 0.8), (35.5, 9, 0.7), (100, 9, 0.7), (255, 9, 0.7)):
        sigma = sigma_255 / 255
        assert nlm_patch(sigma) == patch and nlm_search(sigma) == 21
        assert nlm_h(sigma) == pytest.approx(factor * sigma)


@pytest.mark.parametrize("pixel, message", [
    ((3, 20), r"pixel \(3, 20\) is outside the image: rows run 0\.\.29 and columns 0\.\.19$"),
    ((30, 3), r"pixel \(30, 3\) is outside the image"),
    ((-1, 3), r"pixel \(-1, 3\) is outside the image"),
])
def test_a_pixel_outside_a_tall_image_is_refused(pixel, message):
    image = np.zeros((30, 20), np.float32)
    with pytest.raises(ValueError, match=message):
        nlm_weights(image, pixel, SIGMA)
    assert nlm_weights(image, (25, 19), SIGMA).shape == (21, 21)  # below the width, inside


def test_a_bad_image_is_called_image():
    with pytest.raises(ValueError, match=r"^image must have shape \(H, W\)"):
        nlm_weights(np.zeros(16), (1, 1), SIGMA)


@pytest.mark.parametrize("kernel", ["flat", "gaussian"])
def test_the_method_and_the_pixel_view_take_the_kernel_asked_for(kernel):
    image = noisy_crop()
    params = {"patch": 5, "search": 11, "h": 0.08, "kernel": kernel}
    estimate = nlm(image, SIGMA, **params).image
    for pixel in [(0, 0), (20, 20), (13, 27)]:
        distances = patch_distances(image, pixel, patch=5, search=11, kernel=kernel)
        weights = np.exp(-np.maximum(distances - 2 * SIGMA**2, 0) / 0.08**2)
        padded = np.pad(image.astype(np.float64), 5, mode="symmetric")
        window = padded[pixel[0]:pixel[0] + 11, pixel[1]:pixel[1] + 11]
        expected = np.sum(weights * window) / weights.sum()
        assert nlm_pixel(image, pixel, SIGMA, **params) == pytest.approx(expected, abs=1e-9)
        assert estimate[pixel] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("count", [2, 3])
def test_several_channels_share_the_distance_averaged_over_them(rng, count):
    """The (C, H, W) core: weights from the patch distance averaged over the channels, each
    channel the weighted average of its own window."""
    from denoisers.nonlocal_means import _nlm

    channels = rng.random((count, 14, 13)).astype(np.float32)
    estimate, found = _nlm(channels, SIGMA, 3, 7, 0.15, "gaussian", None)
    assert estimate.shape == channels.shape and found.shape == channels.shape[1:]
    for pixel in [(0, 0), (7, 6), (13, 12), (2, 11)]:
        distances = np.mean([patch_distances(c, pixel, patch=3, search=7) for c in channels],
                            axis=0)
        weights = np.exp(-np.maximum(distances - 2 * SIGMA**2, 0) / 0.15**2)
        assert found[pixel] == pytest.approx(weights.sum(), rel=1e-5)
        for c in range(count):
            padded = np.pad(channels[c].astype(np.float64), 3, mode="symmetric")
            window = padded[pixel[0]:pixel[0] + 7, pixel[1]:pixel[1] + 7]
            assert estimate[c][pixel] == pytest.approx(np.sum(weights * window) / weights.sum(),
                                                       abs=1e-5)


def test_the_method_reports_its_progress_row_by_row_up_to_done():
    seen: list[float] = []
    nlm(noisy_crop(), SIGMA, search=21, progress=seen.append)
    assert len(seen) == 21 // 2 + 2 and seen[-1] == 1.0
    assert 0 < seen[0] and all(a < b for a, b in zip(seen, seen[1:]))
    assert seen[-2] > 0.95
