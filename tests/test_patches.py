"""The patch tools' torch routines against plain references: the k nearest of a window
(torch.topk), aggregation of per-corner sums, and BM3D's band filter in the 2-D transform
domain against filtering every group in pixels (denoisers/patches.py, denoisers/bm3d.py)."""

from __future__ import annotations

import numpy as np
import pytest

from denoisers import bm3d, patches


def _stable_nearest(flat: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The plain reference of ``patches._k_nearest``: the first k of a stable sort."""
    nearest = np.argsort(flat, axis=1, kind="stable")[:, :k]
    picked = np.take_along_axis(flat, nearest, axis=1)
    picked[:, 0] = 0.0
    return nearest, picked


@pytest.mark.parametrize("k", [1, 5, 16, 49])
def test_the_k_nearest_are_the_first_k_of_a_stable_sort(rng, k):
    """Many ties (small integers), infinite distances and the reference's -1, up to k =
    the whole window: the same positions and values as a stable sort, ties by position."""
    flat = rng.integers(0, 4, (300, 49)).astype(np.float32)
    flat[rng.random(flat.shape) < 0.2] = np.inf
    flat[:, 24] = -1.0
    nearest, picked = patches._k_nearest(flat, k)
    expected_nearest, expected_picked = _stable_nearest(flat, k)
    assert np.array_equal(nearest, expected_nearest)
    assert np.array_equal(picked, expected_picked)


def test_aggregating_per_corner_sums_equals_adding_every_patch(rng):
    shape, size = (19, 23), 5
    rows = rng.integers(3, 10, 200)
    cols = rng.integers(0, shape[1] - size + 1, 200)
    blocks = rng.random((200, size, size))
    weights = rng.random(200) + 0.1
    window = bm3d.kaiser_window(size, 2.0)
    expected = patches.Aggregator(shape, window)
    expected.add(blocks, rows, cols, weights)
    # The same patches, summed per corner over the rows 3 to 9 and every column.
    sums = np.zeros((7, shape[1] - size + 1, size, size))
    weight_sums = np.zeros(sums.shape[:2])
    np.add.at(sums, (rows - 3, cols), weights[:, None, None] * blocks)
    np.add.at(weight_sums, (rows - 3, cols), weights)
    found = patches.Aggregator(shape, window)
    found.add_sums(sums, weight_sums, top=3)
    np.testing.assert_allclose(found.result(), expected.result(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(found.weights, expected.weights, rtol=1e-6)


def test_the_transform_is_the_kronecker_product_then_the_haar_matrix(rng):
    """The torch 3-D transform, group axis first, against the plain matrix products."""
    transform = bm3d._Transform(8, "bior1.5")
    forward, inverse = bm3d.block_transform(8, "bior1.5")
    groups = rng.random((16, 5, 3, 64)).astype(np.float32)  # (g, groups, channels, n²)
    expected = np.einsum("ij,j...->i...", bm3d.haar_matrix(16),
                         groups.astype(np.float64) @ np.kron(forward, forward).T)
    spectrum = transform.forward(groups)
    np.testing.assert_allclose(spectrum, expected, atol=1e-4)
    np.testing.assert_allclose(transform.inverse(spectrum), groups, atol=1e-4)


def _pixel_filter_band(transform, channels, pilot, matches, lengths, sigmas, profile):
    """The plain reference of ``bm3d._filter_band``: cut every group's blocks in pixels,
    filter the group in the full 3-D transform domain, add every block with its weight."""
    size = transform.size
    accumulators = [patches.Aggregator(channels.shape[1:], bm3d.kaiser_window(size, 2.0))
                    for _ in channels]
    for n, length in enumerate(lengths):
        rows, cols = matches.rows[n, :length, None], matches.cols[n, :length, None]
        for c, accumulator in enumerate(accumulators):
            group = bm3d._groups(channels[c], rows, cols, size)
            spectrum = transform.forward(group)
            if pilot is None:
                shrunk, weight, _ = bm3d._hard_threshold(
                    spectrum, np.float32(profile.lambda_3d * sigmas[c]))
            else:
                shrunk, weight, _ = bm3d._wiener_shrink(
                    spectrum, transform.forward(bm3d._groups(pilot[c], rows, cols, size)),
                    sigmas[c])
            accumulator.add(transform.inverse(shrunk).reshape(length, 1, size, size), rows,
                            cols, weight)
    return np.stack([a.result() for a in accumulators])


@pytest.mark.parametrize("wiener", [False, True])
def test_the_band_filter_equals_filtering_every_group_in_pixels(rng, wiener, monkeypatch):
    """Block spectra computed once per corner, and sums inverted once per corner, give
    what filtering each group's own blocks does, in both passes, three channels, the
    groups of a length in several chunks."""
    monkeypatch.setattr(bm3d, "_CHUNK_VALUES", 4 * 16 * 3 * 64)  # 4 groups of 16 a chunk
    profile = bm3d.PROFILES["normal"]
    settings = profile.wiener if wiener else profile.hard
    channels = rng.random((3, 40, 36)).astype(np.float32)
    pilot = (0.5 * channels + 0.25).astype(np.float32) if wiener else None
    sigmas = np.array([0.1, 0.07, 0.05])
    transform = bm3d._Transform(settings.size, settings.transform)
    matches = patches.grid_match(channels[0], patches.grid(40, 8, 3)[2:9],
                                 patches.grid(36, 8, 3), size=8, radius=6, k=settings.group)
    # Every power of 2 up to N2 (the group sizes bm3d._group_sizes gives), in turn.
    lengths = 2 ** (np.arange(len(matches.rows)) % (int(np.log2(settings.group)) + 1))
    accumulators = [patches.Aggregator((40, 36), bm3d.kaiser_window(8, 2.0)) for _ in range(3)]
    bm3d._filter_band(transform, channels, pilot, matches, lengths, sigmas,
                      profile).add_to(accumulators)
    found = np.stack([a.result() for a in accumulators])
    expected = _pixel_filter_band(transform, channels, pilot, matches, lengths, sigmas,
                                  profile)
    np.testing.assert_allclose(found, expected, atol=2e-5)
