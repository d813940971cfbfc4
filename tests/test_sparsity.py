"""Tests of the sparsity chapter's building blocks: the DCT atoms and the atom mosaic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import fft

from denoisers.sparsity import atoms_mosaic, dct_atoms


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
