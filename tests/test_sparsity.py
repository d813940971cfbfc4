"""Tests of the sparsity chapter: the DCT atoms, the atom mosaic and the sliding-window DCT."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import fft

import denoisers
from denoisers import metrics, noise
from denoisers.sparsity import atoms_mosaic, dct, dct_atoms, dct_block, dct_threshold


def _frequencies(atoms: np.ndarray) -> list[tuple[int, int]]:
    """The (u, v) of each atom: where its orthonormal 2-D DCT puts its energy."""
    spectra = fft.dctn(atoms, axes=(1, 2), norm="ortho")
    size = atoms.shape[1]
    return [divmod(int(np.argmax(np.abs(s))), size) for s in spectra]


def test_dct_atoms_are_an_orthonormal_basis():
    atoms = dct_atoms()
    assert atoms.shape == (64, 8, 8)
    flat = atoms.reshape(64, 64)
    np.testing.assert_allclose(flat @ flat.T, np.eye(64), atol=1e-6)


def test_first_atom_is_constant():
    first = dct_atoms(8)[0]
    np.testing.assert_allclose(first, np.full((8, 8), 1 / 8), atol=1e-12)


def test_each_atom_is_one_dct_frequency():
    atoms = dct_atoms(8)
    spectra = fft.dctn(atoms, axes=(1, 2), norm="ortho")
    assert np.allclose(np.abs(spectra).max(axis=(1, 2)), 1.0)
    assert np.allclose(np.abs(spectra).sum(axis=(1, 2)), 1.0)
    assert len(set(_frequencies(atoms))) == 64


def test_a_patch_is_rebuilt_from_its_dct_coefficients(rng):
    atoms = dct_atoms(8)
    patch = rng.random((8, 8))
    coefficients = fft.dctn(patch, norm="ortho")
    weights = np.array([coefficients[u, v] for u, v in _frequencies(atoms)])
    np.testing.assert_allclose(np.tensordot(weights, atoms, axes=1), patch, atol=1e-12)
    # The same coefficients are the inner products with the atoms.
    np.testing.assert_allclose(atoms.reshape(64, 64) @ patch.ravel(), weights, atol=1e-12)


@pytest.mark.parametrize("size", [1, 4, 8])
def test_atoms_are_ordered_by_frequency(size):
    order = _frequencies(dct_atoms(size))
    assert order[0] == (0, 0)
    keys = [(u + v, u) for u, v in order]
    assert keys == sorted(keys)
    if size > 1:
        assert order[1:3] == [(0, 1), (1, 0)]


def test_mosaic_of_the_dct_is_an_eight_by_eight_grid_in_unit_range():
    mosaic = atoms_mosaic(dct_atoms(8), pad=1)
    assert mosaic.shape == (8 * 8 + 7, 8 * 8 + 7)
    assert mosaic.dtype == np.float32
    assert mosaic.min() >= 0.0 and mosaic.max() <= 1.0
    # The constant atom is positive: a white tile; the separators are white too.
    assert np.all(mosaic[:8, :8] == 1.0)
    assert np.all(mosaic[8, :] == 1.0) and np.all(mosaic[:, 8] == 1.0)
    # Each other tile reaches its own extremes, 0 and 1.
    tile = mosaic[:8, 9:17]
    assert tile.min() == pytest.approx(0.0, abs=1e-6)
    assert tile.max() == pytest.approx(1.0, abs=1e-6)


def test_mosaic_maps_zero_to_mid_grey_and_keeps_the_sign():
    atoms = np.zeros((2, 3, 3))
    atoms[0, 0, 0], atoms[0, 2, 2] = 2.0, -1.0
    mosaic = atoms_mosaic(atoms, pad=0)
    assert mosaic.shape == (3, 6)
    assert mosaic[0, 0] == 1.0 and mosaic[2, 2] == 0.25
    assert np.all(mosaic[0, 1:3] == 0.5)
    assert np.all(mosaic[:, 3:] == 0.5)  # an all-zero atom is uniformly grey


def test_mosaic_fills_an_incomplete_last_row(rng):
    mosaic = atoms_mosaic(rng.standard_normal((10, 3, 5)), pad=2, fill=0.0)
    # 10 atoms: 4 columns, 3 rows.
    assert mosaic.shape == (3 * 3 + 2 * 2, 4 * 5 + 3 * 2)
    assert np.all(mosaic[10:, 14:] == 0.0)  # the two missing tiles of the last row


@pytest.mark.parametrize("call, message", [
    (lambda: dct_atoms(0), r"'size' parameter of dct_atoms must be an int in \[1, 64\]"),
    (lambda: dct_atoms(True), "'size' parameter of dct_atoms must be an int"),
    (lambda: dct_atoms(8.0), "'size' parameter of dct_atoms must be an int"),
    (lambda: atoms_mosaic(np.zeros((8, 8))), "shape \\(n, h, w\\)"),
    (lambda: atoms_mosaic(np.zeros((0, 8, 8))), "shape \\(n, h, w\\)"),
    (lambda: atoms_mosaic(np.full((1, 2, 2), np.nan)), "NaN"),
    (lambda: atoms_mosaic(np.zeros((4, 2, 2)), pad=-1),
     r"'pad' parameter of atoms_mosaic must be an int in \[0, 64\]"),
    (lambda: atoms_mosaic(np.zeros((4, 2, 2)), fill=2.0),
     r"'fill' parameter of atoms_mosaic must be a float in \[0, 1\]"),
])
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_mosaic_without_rescaling_keeps_values_in_place():
    blocks = np.linspace(0, 1, 2 * 3 * 3).reshape(2, 3, 3)
    mosaic = atoms_mosaic(blocks, pad=1, rescale=False)
    assert np.allclose(mosaic[:3, :3], blocks[0]) and np.allclose(mosaic[:3, 4:], blocks[1])


# --------------------------------------------------------------------------- sliding-window DCT

SIGMA = 25 / 255


def _hard_threshold(block: np.ndarray, cut: float) -> tuple[np.ndarray, int]:
    """The block rebuilt from its DCT coefficients above ``cut`` and the DC one (scipy, float64);
    and how many it kept."""
    coefficients = fft.dctn(block.astype(np.float64), norm="ortho")
    kept = np.abs(coefficients) > cut
    kept[0, 0] = True
    return fft.idctn(np.where(kept, coefficients, 0.0), norm="ortho"), int(kept.sum())


def _reference(noisy: np.ndarray, cut: float, size: int, corners_r, corners_c,
               weighted: bool = False) -> np.ndarray:
    """The sliding-window DCT written out block by block, in float64."""
    total = np.zeros(noisy.shape)
    weight = np.zeros(noisy.shape)
    for r in corners_r:
        for c in corners_c:
            estimate, count = _hard_threshold(noisy[r:r + size, c:c + size], cut)
            w = 1.0 / count if weighted else 1.0
            total[r:r + size, c:c + size] += w * estimate
            weight[r:r + size, c:c + size] += w
    return total / weight


def test_dct_gains_over_the_noisy_input_on_a_camera_crop(grey_samples):
    clean = grey_samples["camera"]
    noisy = noise.add_gaussian(clean, SIGMA, seed=3)
    gain = metrics.psnr(clean, dct(noisy, SIGMA).image) - metrics.psnr(clean, noisy)
    assert gain > 5.0


def test_one_block_is_the_inverse_dct_of_its_thresholded_dct(rng):
    block = rng.random((8, 8)).astype(np.float32)
    expected, _ = _hard_threshold(block, 2.7 * 0.1)
    out = dct(block, 0.1, threshold=2.7, step=8).image
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected, atol=1e-5)
    # A threshold above every AC coefficient leaves the block's mean, the DC coefficient.
    flat = dct(block, 1.0, threshold=5.0, step=8).image
    np.testing.assert_allclose(flat, np.full((8, 8), block.mean()), atol=1e-5)


def test_non_overlapping_blocks_are_filtered_each_on_its_own(rng):
    image = rng.random((16, 24)).astype(np.float32)
    out = dct(image, 0.05, threshold=2.0, step=8).image
    for r in (0, 8):
        for c in (0, 8, 16):
            expected, _ = _hard_threshold(image[r:r + 8, c:c + 8], 0.1)
            np.testing.assert_allclose(out[r:r + 8, c:c + 8], expected, atol=1e-5)


@pytest.mark.parametrize("step, weights", [(1, "uniform"), (1, "sparsity"), (3, "uniform"),
                                           (3, "sparsity")])
def test_overlapping_blocks_are_averaged_as_written_out_block_by_block(rng, step, weights):
    image = rng.random((17, 20)).astype(np.float32)
    out = dct(image, 0.1, threshold=2.5, block=6, step=step, weights=weights).image
    # The grid of corners: every step, and the last block touching the border.
    rows = sorted({*range(0, 17 - 6 + 1, step), 17 - 6})
    cols = sorted({*range(0, 20 - 6 + 1, step), 20 - 6})
    expected = _reference(image, 0.25, 6, rows, cols, weighted=weights == "sparsity")
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_the_default_threshold_follows_the_rule_and_a_large_one_smooths_more(grey_samples):
    noisy = noise.add_gaussian(grey_samples["moon"], SIGMA, seed=0)
    np.testing.assert_array_equal(dct(noisy, SIGMA).image,
                                  dct(noisy, SIGMA, threshold=dct_threshold(SIGMA)).image)
    mild, strong = dct(noisy, SIGMA, threshold=1.0).image, dct(noisy, SIGMA, threshold=4.0).image
    assert np.std(noisy - strong) > np.std(noisy - mild)


def test_dct_is_deterministic_and_the_trace_does_not_change_the_estimate(grey_samples):
    noisy = noise.add_gaussian(grey_samples["brick"], SIGMA, seed=1)
    first = dct(noisy, SIGMA)
    traced = dct(noisy, SIGMA, trace=True)
    np.testing.assert_array_equal(first.image, dct(noisy, SIGMA).image)
    np.testing.assert_array_equal(first.image, traced.image)


def test_dct_takes_any_float_or_integer_image_and_returns_float32(rng):
    image = rng.random((20, 20))
    wide = dct(image, SIGMA).image
    assert wide.dtype == np.float32
    np.testing.assert_array_equal(wide, dct(image.astype(np.float32), SIGMA).image)
    assert dct((image * 255).astype(np.uint8), SIGMA).image.dtype == np.float32


def test_dct_reports_progress_up_to_one(grey_samples):
    seen: list[float] = []
    dct(grey_samples["camera"], SIGMA, progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) >= 1


def test_the_trace_counts_the_coefficients_each_block_kept(grey_samples):
    clean = grey_samples["camera"][:40, :40]
    noisy = noise.add_gaussian(clean, SIGMA, seed=2)
    traced = dct(noisy, SIGMA, trace=True)
    kept = traced.stages["coefficients kept per block"]
    assert kept.shape == (33, 33)
    assert kept.min() >= 1 and kept.max() <= 64
    _, count = _hard_threshold(noisy[5:13, 7:15], traced.extras["threshold"])
    assert kept[5, 7] == count
    np.testing.assert_allclose(traced.curves["blocks (%)"].sum(), 100.0, rtol=1e-5)
    assert traced.extras["params"] == {"threshold": dct_threshold(SIGMA), "block": 8, "step": 1,
                                       "weights": "uniform"}
    assert traced.extras["threshold"] == pytest.approx(dct_threshold(SIGMA) * SIGMA)


def test_the_look_shows_the_block_centred_at_the_probe(grey_samples):
    noisy = noise.add_gaussian(grey_samples["camera"][:48, :48], SIGMA, seed=0)
    traced = denoisers.run("dct", noisy, SIGMA, trace=True)
    view = denoisers.look("dct", noisy, SIGMA, traced, (20, 30))
    np.testing.assert_array_equal(view.stages["block"], noisy[16:24, 26:34])
    assert view.extras["block"]["corner"] == (16, 26)
    cut = view.extras["block"]["threshold"]
    coefficients = fft.dctn(noisy[16:24, 26:34].astype(np.float64), norm="ortho")
    np.testing.assert_allclose(view.stages["block DCT"], coefficients, atol=1e-5)
    kept = np.abs(coefficients) > cut
    kept[0, 0] = True
    np.testing.assert_allclose(view.stages["thresholded DCT"], np.where(kept, coefficients, 0),
                               atol=1e-5)
    expected, count = _hard_threshold(noisy[16:24, 26:34], cut)
    np.testing.assert_allclose(view.stages["reconstructed block"], expected, atol=1e-5)
    assert view.extras["block"]["kept"] == count
    assert count == traced.stages["coefficients kept per block"][16, 26]
    np.testing.assert_array_equal(view.stages["denoised block"], traced.image[16:24, 26:34])


def test_the_look_keeps_its_block_inside_the_image_and_on_the_grid(grey_samples):
    noisy = noise.add_gaussian(grey_samples["camera"][:30, :30], SIGMA, seed=0)
    traced = dct(noisy, SIGMA, trace=True)
    corner = dct_block(noisy, SIGMA, traced, (0, 29)).extras["block"]["corner"]
    assert corner == (0, 22)
    # With step 4 the grid is 0, 4, ..., 20 and 22: the block whose centre is nearest.
    coarse = dct(noisy, SIGMA, step=4, trace=True)
    view = dct_block(noisy, SIGMA, coarse, (15, 27), step=4)
    assert view.extras["block"]["corner"] == (12, 22)
    np.testing.assert_array_equal(view.stages["block"], noisy[12:20, 22:30])


def test_the_look_of_a_colour_image_shows_its_luminance(colour_sample):
    from denoisers import colour

    noisy = noise.add_gaussian(colour_sample, SIGMA, seed=0)
    traced = denoisers.run("dct", noisy, SIGMA, trace=True, probe=(30, 30))
    luminance = colour.luminance(noisy)
    np.testing.assert_array_equal(traced.stages["block"], luminance[26:34, 26:34])
    assert traced.stages["denoised block"].shape == (8, 8)


@pytest.mark.parametrize("params, message", [
    ({"threshold": 6.0}, r"'threshold' parameter of dct must be a float in \[0.5, 5\]"),
    ({"threshold": "2.7"}, "'threshold' parameter of dct must be a float"),
    ({"block": 1}, r"'block' parameter of dct must be an int in \[2, 16\]"),
    ({"block": 8.0}, "'block' parameter of dct must be an int"),
    ({"step": 0}, r"'step' parameter of dct must be an int in \[1, 8\]"),
    ({"weights": "median"}, "'weights' parameter of dct must be one of 'uniform', 'sparsity'"),
    ({"radius": 3}, "dct has no parameter 'radius'"),
])
def test_dct_refuses_bad_parameters(params, message):
    with pytest.raises(denoisers.InvalidInput, match=message):
        dct(np.full((16, 16), 0.5, np.float32), SIGMA, **params)


def test_dct_refuses_a_bad_sigma_and_image():
    with pytest.raises(denoisers.InvalidInput, match="sigma"):
        dct(np.zeros((16, 16)), 25)
    with pytest.raises(denoisers.InvalidInput, match="NaN"):
        dct(np.full((16, 16), np.nan), SIGMA)
