"""Tests of WNNM: the weighted shrinkage by hand, groups of known SVD, the method and its look."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import crop
from skimage import data

import denoisers
from denoisers import lowrank, metrics, noise
from denoisers.core import InvalidInput
from denoisers.patches import Aggregator, grid

SIGMA = 25 / 255
#: Three rounds (the last one matches anew) on a 64x64 crop: the machinery, quickly.
QUICK = {"iterations": 3}


@pytest.fixture(scope="module")
def camera() -> tuple[np.ndarray, np.ndarray]:
    clean = crop(data.camera(), 64)
    return clean, noise.add_gaussian(clean, SIGMA, seed=0)


def test_weighted_shrinkage_by_hand():
    # n = 3 patches, sigma_n = 0.5, c = 1: n sigma_n² = 0.75, 2 c sqrt(n) sigma_n² = sqrt(3)/2.
    shrunk, weights = lowrank.weighted_shrinkage(np.array([3.0, 2.0, 0.5]), 3, 0.5, 1.0)
    clean = np.array([math.sqrt(9 - 0.75), math.sqrt(4 - 0.75)])
    expected_weights = math.sqrt(3) / 2 / clean
    np.testing.assert_allclose(weights[:2], expected_weights, rtol=1e-6)
    np.testing.assert_allclose(shrunk, [3 - expected_weights[0], 2 - expected_weights[1], 0.0],
                               rtol=1e-6)
    assert weights[2] > 1e6  # a value under the noise: its clean estimate is 0, it is killed


def test_weights_fall_as_singular_values_grow(rng):
    values = np.sort(rng.uniform(0.0, 5.0, 40))[::-1]
    shrunk, weights = lowrank.weighted_shrinkage(values, 30, 0.2, 2.8)
    assert np.all(np.diff(weights) >= 0)          # largest value first, smallest weight first
    assert np.all(np.diff(shrunk) <= 1e-12)       # the order of the values is kept
    kept = shrunk > 0
    assert kept[0] and not kept[-1]
    assert np.all(kept[:kept.sum()])              # what is kept is the largest values


def test_shrink_groups_acts_on_the_singular_values_of_a_known_group():
    # A 4 x 3 group (4 patches of 3 pixels) whose mean patch is 0, of singular values 3, 2, 0.5.
    helmert = np.array([[1, -1, 0, 0], [1, 1, -2, 0], [1, 1, 1, -3]], np.float64).T
    left = helmert / np.linalg.norm(helmert, axis=0)        # columns orthogonal to (1, 1, 1, 1)
    right = np.linalg.qr(np.array([[2.0, 1, 0], [1, 3, 1], [0, 1, 4]]))[0]
    values = np.array([3.0, 2.0, 0.5])
    group = (left * values) @ right.T
    estimate, before, after, weights = lowrank.shrink_groups(group[None] + 0.25, np.array([0.5]),
                                                          1.0)
    np.testing.assert_allclose(before[0], values, rtol=1e-4)
    expected, expected_weights = lowrank.weighted_shrinkage(values, 4, 0.5, 1.0)
    np.testing.assert_allclose(after[0], expected, rtol=1e-4)
    np.testing.assert_allclose(weights[0, :2], expected_weights[:2], rtol=1e-4)
    np.testing.assert_allclose(estimate[0], (left * expected) @ right.T + 0.25, atol=1e-5)


def test_a_low_rank_group_is_recovered_from_its_noise(rng):
    clean = rng.uniform(0.2, 0.8, (60, 2)) @ rng.uniform(0.0, 1.0, (2, 49))   # rank 2
    noisy = clean + rng.normal(0.0, 0.1, clean.shape)
    estimate, _, after, _ = lowrank.shrink_groups(noisy[None], np.array([0.1]), 2.8)
    before_error = np.linalg.norm(noisy - clean)
    after_error = np.linalg.norm(estimate[0] - clean)
    assert after_error < 0.6 * before_error, (after_error, before_error)
    before = np.linalg.svd(noisy - noisy.mean(axis=0), compute_uv=False)
    assert np.all(after[0, :2] > 0.9 * before[:2])     # the picture's two components stay
    assert (after[0] == 0).sum() > 20                  # most of the noise floor goes


def test_wnnm_gains_on_a_photo(camera):
    clean, noisy = camera
    result = lowrank.wnnm(noisy, SIGMA, **QUICK)
    gain = metrics.psnr(clean, result.image) - metrics.psnr(clean, noisy)
    assert gain > 6.0, gain
    assert result.image.shape == noisy.shape and result.image.dtype == np.float32


def test_wnnm_is_deterministic(camera):
    _, noisy = camera
    first = lowrank.wnnm(noisy, SIGMA, iterations=2)
    second = lowrank.wnnm(noisy, SIGMA, iterations=2)
    np.testing.assert_array_equal(first.image, second.image)


def test_the_trace_measures_each_round(camera):
    clean, noisy = camera
    traced = lowrank.wnnm(noisy, SIGMA, trace=True, reference=clean, **QUICK)
    psnr = traced.curves["PSNR (dB)"]
    assert len(psnr) == 3 and psnr[-1] > metrics.psnr(clean, noisy) + 6.0
    assert psnr[-1] == pytest.approx(metrics.psnr(clean, traced.image), abs=1e-6)
    noise_levels = traced.curves["estimated noise σ (0-255)"]
    assert noise_levels[0] == pytest.approx(25.0) and noise_levels[-1] < 15.0
    ranks = traced.stages["rank kept"]
    assert ranks.min() >= 0 and ranks.max() <= 7 * 7
    assert ranks.max() >= ranks.min() + 5          # texture keeps more than flat areas


def test_bad_parameters_are_refused(camera):
    _, noisy = camera
    with pytest.raises(InvalidInput, match="'size' parameter of wnnm"):
        lowrank.wnnm(noisy, SIGMA, size=3)
    with pytest.raises(InvalidInput, match="'c' parameter of wnnm"):
        lowrank.wnnm(noisy, SIGMA, c=-1.0)
    with pytest.raises(InvalidInput, match="'patches' parameter of wnnm"):
        denoisers.run("wnnm", noisy, SIGMA, patches=5)
    with pytest.raises(InvalidInput, match="reference must have the noisy image's shape"):
        lowrank.wnnm(noisy, SIGMA, trace=True, reference=noisy[:10])


def test_the_look_matches_the_last_round_without_a_rerun(camera, monkeypatch):
    clean, noisy = camera
    traced = denoisers.run("wnnm", noisy, SIGMA, trace=True, **QUICK)

    def rerun(*args, **kwargs):
        raise AssertionError("the look reran WNNM")

    monkeypatch.setattr(lowrank, "_wnnm", rerun)
    monkeypatch.setattr(lowrank, "_iteration", rerun)
    view = denoisers.look("wnnm", noisy, SIGMA, traced, (30, 41), **QUICK)
    group = view.extras["group"]
    row, col = group["patch"]
    size, step = group["size"], traced.extras["params"]["step"]
    assert abs(row + (size - 1) / 2 - 30) <= step / 2 and abs(col + (size - 1) / 2 - 41) <= step / 2
    assert tuple(group["corners"][0]) == (row, col)
    assert group["rank"] == int((group["shrunk"] > 0).sum())
    # The last round matched anew (round 3 of 3), so the look's group is that round's group:
    # the rank it keeps is the one the rank map shows for this reference patch.
    at = (np.searchsorted(grid(64, size, step), row), np.searchsorted(grid(64, size, step), col))
    assert group["rank"] == traced.stages["rank kept"][at]


def test_a_group_of_identical_patches_is_kept_as_it_is(rng):
    patch = rng.random(49)
    group = np.repeat(patch[None, None], 80, axis=1) + rng.normal(0.0, 1e-9, (1, 80, 49))
    estimate, before, after, _ = lowrank.shrink_groups(group, np.array([0.03]), 2.8)
    assert np.all(np.isfinite(estimate)) and np.all(after == 0)
    np.testing.assert_allclose(estimate[0], np.repeat(patch[None], 80, axis=0), atol=1e-6)


def test_corner_sums_average_as_the_aggregator_does(rng):
    # WNNM's own put-back (whole patches summed at their corners, spread once) against the
    # shared per-pixel Aggregator, on overlapping patches with repeated corners.
    shape, size = (23, 31), 5
    rows = rng.integers(0, shape[0] - size + 1, (40, 9))
    cols = rng.integers(0, shape[1] - size + 1, (40, 9))
    patches = rng.random((40, 9, size, size)).astype(np.float32)
    sums = lowrank._CornerSums(shape, size)
    for half in (slice(0, 20), slice(20, 40)):
        sums.add(patches[half].reshape(20, 9, size * size), rows[half], cols[half])
    reference = Aggregator(shape)
    reference.add(patches, rows, cols)
    np.testing.assert_allclose(sums.mean(), reference.result(), rtol=1e-6, atol=1e-7)
