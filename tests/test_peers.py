"""The library's hand-written algorithms against scikit-learn's on the same data: batch OMP
(denoisers/ksvd.py) against ``orthogonal_mp_gram``, and EM for a Gaussian mixture with full
covariances (denoisers/gmm.py) against ``GaussianMixture`` from the same start."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import orthogonal_mp_gram
from sklearn.mixture import GaussianMixture as SklearnMixture

from denoisers import gmm, ksvd


@pytest.fixture
def dictionary(rng) -> np.ndarray:
    """40 random unit-norm atoms of length 16 (rows)."""
    atoms = rng.standard_normal((40, 16))
    return atoms / np.linalg.norm(atoms, axis=1, keepdims=True)


@pytest.mark.parametrize("atoms", [1, 3, 6])
def test_batch_omp_with_a_fixed_count_is_scikit_learn_s(rng, dictionary, atoms):
    signals = rng.standard_normal((60, 16))
    codes = ksvd.omp(dictionary, signals, max_atoms=atoms).dense(len(dictionary))
    expected = orthogonal_mp_gram(dictionary @ dictionary.T, dictionary @ signals.T,
                                  n_nonzero_coefs=atoms)
    np.testing.assert_allclose(codes, expected.T, atol=1e-5)


def test_batch_omp_to_a_tolerance_is_scikit_learn_s(rng, dictionary):
    """Signals of a few atoms plus a little noise, coded until the squared residual is at
    most the tolerance: the same atoms and coefficients."""
    truth = np.zeros((60, len(dictionary)))
    for row in truth:
        row[rng.choice(len(dictionary), 3, replace=False)] = rng.uniform(1, 2, 3)
    signals = truth @ dictionary + 0.01 * rng.standard_normal((60, 16))
    codes = ksvd.omp(dictionary, signals, tolerance=0.05).dense(len(dictionary))
    expected = orthogonal_mp_gram(dictionary @ dictionary.T, dictionary @ signals.T, tol=0.05,
                                  norms_squared=(signals**2).sum(axis=1))
    np.testing.assert_allclose(codes, expected.T, atol=1e-5)


def test_em_is_scikit_learn_s_from_the_same_start(rng):
    """Five EM iterations from one start, each covariance's diagonal raised by the same
    floor: the same weights, means and covariances."""
    centres = np.array([[0, 0, 0, 0], [3, 3, 0, 0], [0, -3, 3, 1]], float)
    data = np.concatenate([c + rng.standard_normal((500, 4)) * (0.5 + i) for i, c in
                           enumerate(centres)])
    start_covariances = np.stack([np.eye(4)] * 3)
    start = gmm.GaussianMixture.from_covariances(np.full(3, 1 / 3), centres + 0.5,
                                                 start_covariances, 2)
    ours, _ = gmm.fit(data, 3, iterations=5, start=start, floor=1e-6, tolerance=-np.inf)
    peer = SklearnMixture(3, covariance_type="full", reg_covar=1e-6, max_iter=5, tol=0.0,
                          weights_init=np.full(3, 1 / 3), means_init=centres + 0.5,
                          precisions_init=np.linalg.inv(start_covariances))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # five iterations, on purpose
        peer.fit(data)
    np.testing.assert_allclose(ours.weights, peer.weights_, atol=1e-8)
    np.testing.assert_allclose(ours.means, peer.means_, atol=1e-8)
    np.testing.assert_allclose(ours.covariances, peer.covariances_, atol=1e-8)
