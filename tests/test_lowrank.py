"""WNNM's batched shrinkage against a plain SVD of each group, on either side of its Gram matrix."""

from __future__ import annotations

import numpy as np
import pytest

from denoisers import lowrank


def svd_shrinkage(group: np.ndarray, noise: float, c: float) -> tuple[np.ndarray, np.ndarray]:
    """One group (n patches as rows) shrunk through numpy's float64 SVD: the estimate and the
    shrunk singular values, largest first."""
    mean = group.mean(axis=0)
    left, values, right = np.linalg.svd(group - mean, full_matrices=False)
    shrunk, _ = lowrank.weighted_shrinkage(values, group.shape[0], noise, c)
    return (left * shrunk) @ right + mean, shrunk


@pytest.mark.parametrize("patches", [80, 49, 30, 12])
def test_shrink_groups_equals_the_svd_on_random_groups(rng, patches):
    # Low-rank groups of 7x7 patches plus noise, with more, as many or fewer patches than
    # pixels (the last two shrink through the n x n Gram matrix).
    clean = rng.uniform(0.2, 0.8, (64, patches, 3)) @ rng.uniform(0.0, 0.5, (64, 3, 49))
    groups = (clean + rng.normal(0.0, 0.05, clean.shape)).astype(np.float32)
    noise = rng.uniform(0.02, 0.06, 64)
    estimate, before, after, _ = lowrank.shrink_groups(groups, noise, 2.8)
    assert estimate.shape == groups.shape and before.shape == (64, min(patches, 49))
    for j in range(64):
        expected, shrunk = svd_shrinkage(groups[j].astype(np.float64), noise[j], 2.8)
        np.testing.assert_allclose(estimate[j], expected, atol=2e-5)
        np.testing.assert_allclose(after[j], shrunk[:after.shape[1]], atol=1e-4)
