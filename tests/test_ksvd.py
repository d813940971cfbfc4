"""Tests of K-SVD denoising: the overcomplete DCT, batch OMP, the dictionary update, the method."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

import denoisers
from denoisers import metrics, noise
from denoisers.core import as_image
from denoisers.ksvd import (
    KSVD,
    code_patch,
    ksvd,
    ksvd_update,
    learn_dictionary,
    omp,
    overcomplete_dct,
)

SIGMA = 25 / 255
#: Few iterations on few patches: the method's machinery, fast.
QUICK = {"iterations": 3, "training": 2000}


def _camera_crop(size: int = 64) -> np.ndarray:
    image = as_image(data.camera())
    top, left = 200, 220
    return np.ascontiguousarray(image[top:top + size, left:left + size])


def _random_dictionary(rng: np.random.Generator, atoms: int = 128, length: int = 64) -> np.ndarray:
    flat = rng.standard_normal((atoms, length))
    return flat / np.linalg.norm(flat, axis=1, keepdims=True)


def _planted(rng: np.random.Generator, dictionary: np.ndarray, signals: int, sparsity: int):
    """Signals that are exact combinations of ``sparsity`` atoms each, and their supports."""
    supports = np.array([rng.choice(len(dictionary), sparsity, replace=False)
                         for _ in range(signals)])
    values = rng.choice([-1.0, 1.0], (signals, sparsity)) * rng.uniform(1.0, 2.0,
                                                                          (signals, sparsity))
    x = np.einsum("nk,nkd->nd", values, dictionary[supports])
    return x, supports, values


# --------------------------------------------------------------------------- dictionary

def test_overcomplete_dct_has_unit_norm_atoms_and_a_constant_first_atom():
    atoms = overcomplete_dct(8, 256)
    assert atoms.shape == (256, 8, 8)
    np.testing.assert_allclose(np.linalg.norm(atoms.reshape(256, -1), axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(atoms[0], np.full((8, 8), 1 / 8), atol=1e-12)
    # Every other atom has a zero mean (the 1-D atoms past the first are centred).
    np.testing.assert_allclose(atoms[1:].mean(axis=(1, 2)), 0.0, atol=1e-12)
    # Separable: atom 16 u + v is the outer product of the 1-D atoms u and v.
    assert np.linalg.matrix_rank(atoms[16 * 3 + 5]) == 1


def test_overcomplete_dct_refuses_a_number_of_atoms_that_is_not_a_square():
    with pytest.raises(denoisers.InvalidInput, match="square"):
        overcomplete_dct(8, 200)
    with pytest.raises(denoisers.InvalidInput, match="square"):
        overcomplete_dct(8, 49)


# --------------------------------------------------------------------------- OMP

def test_omp_recovers_a_planted_sparse_signal_exactly(rng):
    dictionary = _random_dictionary(rng)
    for sparsity in (1, 2, 3, 4):
        x, supports, values = _planted(rng, dictionary, 200, sparsity)
        codes = omp(dictionary, x, max_atoms=sparsity)
        assert np.all(codes.counts == sparsity)
        for i in range(len(x)):
            order = np.argsort(codes.atoms[i])
            truth = np.argsort(supports[i])
            np.testing.assert_array_equal(codes.atoms[i][order], supports[i][truth])
            np.testing.assert_allclose(codes.coefficients[i][order], values[i][truth], atol=1e-8)
        np.testing.assert_allclose(codes.reconstruct(dictionary), x, atol=1e-5)


def test_omp_with_an_error_stop_uses_as_few_atoms_as_the_signal_needs(rng):
    dictionary = _random_dictionary(rng)
    x, supports, _ = _planted(rng, dictionary, 100, 3)
    codes = omp(dictionary, x, tolerance=1e-6, max_atoms=32)
    assert np.all(codes.counts == 3)
    # A zero signal, or one under the tolerance, uses no atom at all.
    codes = omp(dictionary, np.vstack([np.zeros(64), 0.01 * dictionary[5]]), tolerance=1e-3)
    np.testing.assert_array_equal(codes.counts, [0, 0])


def test_omp_stops_once_the_residual_is_under_the_tolerance(rng):
    dictionary = overcomplete_dct(8, 256).reshape(256, -1)
    x = rng.standard_normal((500, 64))
    tolerance = 64 * 0.5 ** 2
    codes = omp(dictionary, x, tolerance=tolerance, max_atoms=64)
    error = ((x - codes.reconstruct(dictionary)) ** 2).sum(axis=1)
    assert np.all(error <= tolerance * (1 + 1e-4))
    # One atom fewer would not have been enough: each signal stops at the first step that fits.
    fewer = omp(dictionary, x, tolerance=0.0, max_atoms=64)
    for i in range(0, 500, 50):
        k = codes.counts[i]
        if k > 0:
            assert np.array_equal(fewer.atoms[i, :k], codes.atoms[i, :k])
            short = omp(dictionary, x[i:i + 1], max_atoms=k - 1)
            short_error = ((x[i] - short.reconstruct(dictionary)[0]) ** 2).sum()
            assert short_error > tolerance


# --------------------------------------------------------------------------- K-SVD

def test_a_dictionary_update_never_raises_the_representation_error(rng):
    truth = _random_dictionary(rng, 64, 32)
    x, _, _ = _planted(rng, truth, 1500, 3)
    x += 0.01 * rng.standard_normal(x.shape)
    start = _random_dictionary(rng, 64, 32)
    flat = start
    for _ in range(5):
        codes = omp(flat, x, max_atoms=3).dense(64)
        before = ((x - codes @ flat) ** 2).sum()
        flat, updated = ksvd_update(flat, x, codes)
        after = ((x - updated @ flat) ** 2).sum()
        assert after <= before * (1 + 1e-9)
        np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 1.0, atol=1e-9)


def test_learning_updates_the_atoms_as_ksvd_update_does_on_dense_codes(rng):
    # learn_dictionary updates on the codes' nonzero entries; ksvd_update takes dense codes
    truth = _random_dictionary(rng, 64, 32)
    x, _, _ = _planted(rng, truth, 800, 3)
    start = _random_dictionary(rng, 64, 32)
    codes = omp(start, x, max_atoms=3)
    dense, _ = ksvd_update(start, x, codes.dense(64))
    sparse, _ = learn_dictionary(start, x, iterations=1, max_atoms=3)
    np.testing.assert_allclose(sparse, dense, atol=1e-5)
    np.testing.assert_allclose(codes.reconstruct(start), codes.dense(64) @ start, atol=1e-5)


def test_ksvd_lowers_the_representation_error_iteration_by_iteration(rng):
    truth = _random_dictionary(rng, 64, 32)
    x, _, _ = _planted(rng, truth, 2000, 3)
    x += 0.01 * rng.standard_normal(x.shape)
    _, history = learn_dictionary(_random_dictionary(rng, 64, 32), x, iterations=8, max_atoms=3)
    errors = history["error"]
    assert len(errors) == 8 and np.all(np.diff(errors) < 0)
    assert errors[-1] < 0.75 * errors[0]


def test_learning_on_the_image_makes_its_patches_sparser():
    clean = _camera_crop(96)
    noisy = noise.add_gaussian(clean, SIGMA, seed=3)
    result = ksvd(noisy, SIGMA, iterations=5, training=4000, trace=True)
    atoms = result.curves["atoms per patch"]
    assert atoms[-1] < atoms[0]


# --------------------------------------------------------------------------- the method

def test_ksvd_gains_over_the_noisy_image_on_a_camera_crop():
    clean = _camera_crop()
    noisy = noise.add_gaussian(clean, SIGMA, seed=1)
    out = ksvd(noisy, SIGMA, **QUICK).image
    assert out.dtype == np.float32 and out.shape == clean.shape
    assert metrics.psnr(clean, out) > metrics.psnr(clean, noisy) + 5.0


def test_learning_beats_the_fixed_overcomplete_dct_on_a_crop():
    clean = _camera_crop(96)
    noisy = noise.add_gaussian(clean, SIGMA, seed=2)
    learned = metrics.psnr(clean, ksvd(noisy, SIGMA, iterations=6, training=8000).image)
    fixed = metrics.psnr(clean, ksvd(noisy, SIGMA, learn=False).image)
    assert learned > fixed + 0.1


def test_without_learning_the_dictionary_is_the_overcomplete_dct():
    noisy = noise.add_gaussian(_camera_crop(), SIGMA, seed=1)
    result = ksvd(noisy, SIGMA, learn=False, trace=True)
    assert "learned dictionary" not in result.stages and not result.curves
    assert np.array_equal(ksvd(noisy, SIGMA, learn=False).image,
                          ksvd(noisy, SIGMA, iterations=0).image)


def test_ksvd_is_deterministic():
    noisy = noise.add_gaussian(_camera_crop(), SIGMA, seed=4)
    np.testing.assert_array_equal(ksvd(noisy, SIGMA, **QUICK).image,
                                  ksvd(noisy, SIGMA, **QUICK).image)


def test_the_trace_shows_the_dictionaries_the_curves_and_one_patch():
    noisy = noise.add_gaussian(_camera_crop(), SIGMA, seed=5)
    result = ksvd(noisy, SIGMA, trace=True, **QUICK)
    # The 256 atoms as a 16 x 16 mosaic of 8 x 8 tiles with 1-pixel lines.
    for name in ("overcomplete DCT", "learned dictionary"):
        assert result.stages[name].shape == (16 * 9 - 1, 16 * 9 - 1)
        assert result.extras["display"][name] == "image"
    assert result.stages["atoms per patch"].shape == (57, 57)
    assert len(result.curves["representation error (0-255)"]) == 3
    assert result.extras["curve_x"][1].tolist() == [1, 2, 3]
    patch = result.extras["patch"]
    assert patch["atoms"].shape == (len(patch["coefficients"]), 8, 8)
    rebuilt = patch["mean"] + np.tensordot(patch["coefficients"], patch["atoms"], axes=1)
    np.testing.assert_allclose(rebuilt, patch["reconstruction"], atol=1e-5)
    error = ((patch["noisy"] - patch["reconstruction"]) ** 2).sum()
    assert error <= 64 * (1.15 * SIGMA) ** 2 * (1 + 1e-4)
    assert result.extras["params"] == {"learn": True, "iterations": 3, "training": 2000,
                                       "gain": 1.15}


def test_any_patch_s_code_is_the_one_the_last_coding_gave():
    """code_patch, over the trace's dictionary, gives the trace's centre patch its very code,
    and any other patch a code within the same tolerance."""
    noisy = noise.add_gaussian(_camera_crop(), SIGMA, seed=5)
    result = ksvd(noisy, SIGMA, trace=True, **QUICK)
    centre = result.extras["patch"]
    again = code_patch(noisy, SIGMA, centre["corner"], result.extras["dictionary"])
    np.testing.assert_array_equal(again["indices"], centre["indices"])
    np.testing.assert_allclose(again["coefficients"], centre["coefficients"], atol=1e-6)
    np.testing.assert_allclose(again["reconstruction"], centre["reconstruction"], atol=1e-6)
    other = code_patch(noisy, SIGMA, (3, 40), result.extras["dictionary"])
    assert other["corner"] == (3, 40)
    np.testing.assert_array_equal(other["noisy"], noisy[3:11, 40:48])
    error = ((other["noisy"] - other["reconstruction"]) ** 2).sum()
    assert error <= 64 * (1.15 * SIGMA) ** 2 * (1 + 1e-4) and len(other["indices"]) >= 1


def test_progress_is_reported_during_learning_and_ends_at_one():
    seen: list[float] = []
    ksvd(noise.add_gaussian(_camera_crop(), SIGMA, seed=6), SIGMA, progress=seen.append, **QUICK)
    assert len(seen) >= 4 and seen[-1] == 1.0 and seen == sorted(seen)


def test_a_float64_image_and_a_noiseless_one():
    noisy = noise.add_gaussian(_camera_crop(32), SIGMA, seed=7)
    assert ksvd(noisy.astype(np.float64), SIGMA, **QUICK).image.dtype == np.float32
    np.testing.assert_array_equal(ksvd(noisy, 0.0).image, noisy)


@pytest.mark.parametrize("params, message", [
    ({"iterations": 31}, "'iterations' parameter of ksvd must be an int in \\[0, 30\\]"),
    ({"iterations": 2.0}, "'iterations' parameter of ksvd must be an int"),
    ({"training": 10}, "'training' parameter of ksvd must be an int in"),
    ({"gain": 2.0}, "'gain' parameter of ksvd must be a float in \\[1, 1.5\\]"),
    ({"learn": "yes"}, "'learn' parameter of ksvd must be a bool"),
    ({"atoms": 256}, "ksvd has no parameter 'atoms'"),
])
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(denoisers.InvalidInput, match=message):
        ksvd(np.zeros((16, 16)), SIGMA, **params)


def test_the_spec_is_the_registered_one():
    assert denoisers.get("ksvd").params is KSVD
