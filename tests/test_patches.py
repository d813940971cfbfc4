"""The patch tools' torch routines against plain references: the k nearest of a window
(torch.topk), overlap-adding per-corner sums, and BM3D's band filter in the 2-D transform
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


@pytest.mark.parametrize("k", [1, 5, 16, 32, 49])
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
    _add_per_corner(found, sums, weight_sums, window, top=3)
    np.testing.assert_allclose(found.result(), expected.result(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(found.weights, expected.weights, rtol=1e-6)


def _add_per_corner(aggregator, sums, weights, window=None, top=0, left=0):
    """Add per-corner sums (R, C, s, s) of weight x patch with their weights (R, C): windowed,
    laid pixel first, overlap-added, added as a rectangle."""
    size = sums.shape[-1]
    window = np.ones((size, size)) if window is None else window
    by_pixel = np.moveaxis(sums * window, (-2, -1), (0, 1)).reshape(size * size,
                                                                    *sums.shape[:2])
    aggregator.add_rectangle(patches.overlap_add(by_pixel), weights, top, left)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overlap_add_sums_every_patch_over_the_pixels_it_covers(rng, dtype):
    """Against a loop over the corners, two channels, a non-square rectangle."""
    by_pixel = rng.random((2, 9, 4, 5)).astype(dtype)  # (channels, 3x3, rows, cols)
    expected = np.zeros((2, 6, 7))
    for i, j in np.ndindex(4, 5):
        expected[:, i:i + 3, j:j + 3] += by_pixel[:, :, i, j].reshape(2, 3, 3)
    found = patches.overlap_add(by_pixel)
    assert found.dtype == dtype and found.shape == (2, 6, 7)
    np.testing.assert_allclose(found, expected, rtol=1e-6)
    with pytest.raises(ValueError, match="the patches' pixels must be a square number; got 8"):
        patches.overlap_add(np.ones((8, 2, 2)))


@pytest.mark.parametrize("length", [1, 2, 16, 32, 64])
def test_the_transform_is_the_kronecker_product_then_the_haar_matrix(rng, length):
    """The torch 3-D transform, group axis first, against the plain matrix products: groups
    shorter than bm3d._HAAR_SPLIT by one product, longer ones with their first Haar level by
    hand."""
    transform = bm3d._Transform(8, "bior1.5")
    forward, inverse = bm3d.block_transform(8, "bior1.5")
    groups = rng.random((length, 5, 3, 64)).astype(np.float32)  # (g, groups, channels, n²)
    expected = np.einsum("ij,j...->i...", bm3d.haar_matrix(length),
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


# --------------------------------------------------------------------------- against loops


def test_grid_steps_from_zero_and_ends_at_the_last_corner():
    assert patches.grid(10, 3, 3).tolist() == [0, 3, 6, 7]
    assert patches.grid(10, 4, 3).tolist() == [0, 3, 6]  # the last corner is on the step
    assert patches.grid(5, 5, 2).tolist() == [0]
    assert patches.grid(6, 1, 1).tolist() == [0, 1, 2, 3, 4, 5]
    assert patches.grid(10, 3, 3).dtype == np.int64


@pytest.mark.parametrize("length, size, step, message", [
    (5, 6, 1, r"patch side must be in \[1, 5\]; got 6"),
    (5, 0, 1, r"patch side must be in \[1, 5\]; got 0"),
    (5, 2, 0, "step must be >= 1; got 0"),
])
def test_grid_refuses_a_patch_too_large_or_a_step_below_one(length, size, step, message):
    with pytest.raises(ValueError, match=message):
        patches.grid(length, size, step)


def test_reference_grid_lists_every_corner_row_by_row():
    rows, cols = patches.reference_grid((9, 11, 3), 4, 3)
    expected = [(r, c) for r in (0, 3, 5) for c in (0, 3, 6, 7)]
    assert list(zip(rows.tolist(), cols.tolist())) == expected


@pytest.mark.parametrize("channels", [None, 3])
def test_extract_cuts_the_patches_a_loop_cuts(rng, channels):
    image = rng.random((9, 10) if channels is None else (9, 10, channels)).astype(np.float32)
    rows, cols = np.array([[0, 4], [6, 2]]), np.array([[7, 0], [3, 5]])
    found = patches.extract(image, rows, cols, 3)
    assert found.shape == (2, 2, 3, 3) + (() if channels is None else (channels,))
    assert found.dtype == np.float32
    for i in range(2):
        for j in range(2):
            r, c = rows[i, j], cols[i, j]
            assert np.array_equal(found[i, j], image[r:r + 3, c:c + 3])


@pytest.mark.parametrize("row, col", [(-1, 0), (0, -1), (7, 0), (0, 8)])
def test_extract_refuses_a_patch_outside_the_image(row, col):
    with pytest.raises(ValueError, match=r"patch of side 3 leaves the image of shape \(9, 10\)"):
        patches.extract(np.zeros((9, 10)), np.array([0, row]), np.array([0, col]), 3)
    assert patches.extract(np.zeros((9, 10)), np.array([6]), np.array([7]), 3).shape == (1, 3, 3)


def _matches_by_loop(image, rows, cols, size, radius, k):
    """Every candidate of every window by hand: the mean squared difference, sorted by
    distance then row-major position, the reference first; inf and the reference's own
    corner where the window holds fewer than k."""
    height, width = image.shape
    out = []
    for r, c in zip(rows, cols):
        ref = image[r:r + size, c:c + size].astype(np.float64)
        found = []
        for position, (dy, dx) in enumerate((dy, dx) for dy in range(-radius, radius + 1)
                                            for dx in range(-radius, radius + 1)):
            y, x = r + dy, c + dx
            if 0 <= y <= height - size and 0 <= x <= width - size:
                d = np.mean((image[y:y + size, x:x + size] - ref) ** 2)
                found.append((-1.0 if dy == dx == 0 else d, position, y, x))
        found.sort()
        found = [(0.0 if d < 0 else d, y, x) for d, _, y, x in found[:k]]
        found += [(np.inf, r, c)] * (k - len(found))
        out.append(found)
    return (np.array([[y for _, y, _ in f] for f in out]),
            np.array([[x for _, _, x in f] for f in out]),
            np.array([[d for d, _, _ in f] for f in out]))


@pytest.mark.parametrize("size, radius, k", [(3, 2, 4), (2, 3, 10), (4, 1, 9), (3, 1, 12)])
def test_block_match_finds_what_a_loop_over_the_window_finds(rng, size, radius, k):
    image = rng.random((13, 12)).astype(np.float32)
    rows = np.array([0, 5, 10 - size + 3, 2, 5, 13 - size])
    cols = np.array([0, 7, 1, 12 - size, 3, 12 - size])
    found = patches.block_match(image, rows, cols, size=size, radius=radius, k=k)
    expected_rows, expected_cols, expected_dist = _matches_by_loop(image, rows, cols, size,
                                                                   radius, k)
    assert np.array_equal(found.rows, expected_rows)
    assert np.array_equal(found.cols, expected_cols)
    np.testing.assert_allclose(found.distances, expected_dist, rtol=1e-5, atol=1e-7)
    assert found.distances.dtype == np.float32 and found.rows.dtype == np.int64


def test_block_match_in_many_bands_finds_what_one_band_finds(rng, monkeypatch):
    image = rng.random((30, 17)).astype(np.float32)
    rows, cols = patches.reference_grid(image.shape, 4, 2)
    unique_rows, per_row = np.unique(rows, return_counts=True)  # 14 rows of 8 references
    whole = patches.block_match(image, rows, cols, size=4, radius=3, k=6)
    assert patches._bands(unique_rows, per_row, 4, 7, 17) == [(0, 14)]
    # One value short of what two consecutive rows (2 apart) of references hold at once.
    two_rows = 3 * (2 + 4) * 7 * 17 + 3 * 2 * 7 * 17 + 3 * 16 * 7 * 7
    monkeypatch.setattr(patches, "_BAND_VALUES", two_rows - 1)
    assert patches._bands(unique_rows, per_row, 4, 7, 17) == [(i, i + 1) for i in range(14)]
    banded = patches.block_match(image, rows, cols, size=4, radius=3, k=6)
    for name in ("rows", "cols", "distances"):
        assert np.array_equal(getattr(banded, name), getattr(whole, name)), name
    monkeypatch.setattr(patches, "_BAND_VALUES", two_rows)
    assert patches._bands(unique_rows, per_row, 4, 7, 17)[0] == (0, 2)


def test_bands_split_the_rows_within_the_budget(monkeypatch):
    unique_rows, per_row = np.arange(0, 20, 2), np.full(10, 3)
    budget = lambda first, last: (3 * (unique_rows[last - 1] - unique_rows[first] + 4) * 5 * 9  # noqa: E731
                                  + 3 * (last - first) * 5 * 9 + 3 * 3 * (last - first) * 25)
    monkeypatch.setattr(patches, "_BAND_VALUES", budget(0, 3))
    bands = patches._bands(unique_rows, per_row, 4, 5, 9)
    assert bands[0] == (0, 3)
    assert [b for band in bands for b in band][::2] == [band[0] for band in bands]
    assert bands[-1][1] == 10 and all(a[1] == b[0] for a, b in zip(bands, bands[1:]))
    assert all(budget(first, last) <= budget(0, 3) for first, last in bands)


@pytest.mark.parametrize("call, message", [
    (lambda im: patches.block_match(im[..., None], [0], [0], size=3, radius=1, k=2),
     r"block matching needs a 2-D image; got shape \(10, 9, 1\)"),
    (lambda im: patches.block_match(im, [8], [0], size=3, radius=1, k=2),
     r"patch of side 3 leaves the image of shape \(10, 9\)"),
    (lambda im: patches.block_match(im, [0], [-1], size=3, radius=1, k=2), "leaves the image"),
    (lambda im: patches.block_match(im, [0], [0], size=3, radius=-1, k=2),
     "radius must be >= 0 and k >= 1; got radius=-1, k=2"),
    (lambda im: patches.block_match(im, [0], [0], size=3, radius=1, k=0),
     "radius must be >= 0 and k >= 1; got radius=1, k=0"),
    (lambda im: patches.grid_match(im, [0, 8], [0, 3], size=3, radius=1, k=2),
     r"patch of side 3 leaves the image of shape \(10, 9\)"),
    (lambda im: patches.grid_match(im, [0], [0, 7], size=3, radius=1, k=2), "leaves the image"),
])
def test_block_matching_refuses_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.zeros((10, 9), np.float32))


def test_block_match_of_no_reference_is_empty():
    found = patches.block_match(np.zeros((6, 6)), [], [], size=2, radius=1, k=3)
    assert found.rows.shape == found.cols.shape == found.distances.shape == (0, 3)


@pytest.mark.parametrize("shape, size, step, radius, k", [
    ((23, 29), 4, 2, 3, 7), ((41, 19), 3, 1, 2, 5), ((18, 50), 5, 3, 4, 16)])
def test_grid_match_finds_what_block_match_finds(rng, shape, size, step, radius, k):
    image = rng.random(shape).astype(np.float32) + 3.0  # an offset the centring removes
    grid_rows, grid_cols = patches.grid(shape[0], size, step), patches.grid(shape[1], size, step)
    found = patches.grid_match(image, grid_rows, grid_cols, size=size, radius=radius, k=k)
    rows, cols = patches.reference_grid(shape, size, step)
    expected = patches.block_match(image, rows, cols, size=size, radius=radius, k=k)
    assert np.array_equal(found.rows, expected.rows)
    assert np.array_equal(found.cols, expected.cols)
    np.testing.assert_allclose(found.distances, expected.distances, atol=2e-5)


def test_grid_match_on_unevenly_spaced_columns_finds_what_block_match_finds(rng):
    """Tiles of columns at several spacings (each run of one spacing is one strided product)."""
    image = rng.random((20, 60)).astype(np.float32)
    # Tiles of four columns: their first columns 0, 5, 17, 29, 38 make a run of spacing 5
    # from 0, one of spacing 12 from 17 and a last tile alone.
    grid_rows = np.array([0, 3, 4, 10, 15])
    grid_cols = np.array([0, 1, 2, 3, 5, 6, 8, 11, 17, 18, 20, 21, 29, 30, 32, 33, 38, 40, 52,
                          55])
    found = patches.grid_match(image, grid_rows, grid_cols, size=5, radius=4, k=6)
    expected = patches.block_match(image, np.repeat(grid_rows, grid_cols.size),
                                   np.tile(grid_cols, grid_rows.size), size=5, radius=4, k=6)
    assert np.array_equal(found.rows, expected.rows)
    assert np.array_equal(found.cols, expected.cols)
    np.testing.assert_allclose(found.distances, expected.distances, atol=2e-5)


def test_evenly_spaced_runs_cover_the_starts_in_order():
    starts = np.array([0, 12, 24, 30, 36, 40, 50])
    runs = patches._evenly_spaced(starts)
    assert runs == [(0, 3), (3, 5), (5, 6), (6, 7)]
    assert patches._evenly_spaced(np.array([5])) == [(0, 1)]


def test_grid_match_with_k_beyond_the_window_is_block_match(rng):
    image = rng.random((12, 12)).astype(np.float32)
    found = patches.grid_match(image, [0, 5], [2, 9], size=3, radius=1, k=9)
    expected = patches.block_match(image, [0, 0, 5, 5], [2, 9, 2, 9], size=3, radius=1, k=9)
    assert np.array_equal(found.rows, expected.rows)
    # The window of (0, 2) holds 6 patches (rows 0 and 1, columns 1 to 3): the rest are
    # missing, at distance inf and the reference's own corner.
    assert np.isfinite(found.distances[0, :6]).all() and np.isinf(found.distances[0, 6:]).all()
    assert (found.rows[0, 6:] == 0).all() and (found.cols[0, 6:] == 2).all()


def test_matches_count_those_within_the_threshold_and_at_least_one():
    matches = patches.Matches(np.zeros((3, 3)), np.zeros((3, 3)),
                              np.array([[0, 1, 2], [0, 0.5, np.inf], [0, 3, 4]], np.float32))
    assert matches.count(1.0).tolist() == [2, 2, 1]
    assert matches.count(-1.0).tolist() == [1, 1, 1]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 12, 16])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_window_sums_are_sums_of_consecutive_entries(rng, size, axis):
    values = rng.random((20, 18, 17))
    length = values.shape[axis]
    starts = np.minimum([0, 3, length - size, 1], length - size)
    found = patches.window_sums(values, size, starts, axis)
    expected = np.stack([np.take(values, range(s, s + size), axis=axis).sum(axis=axis)
                         for s in starts], axis=axis)
    np.testing.assert_allclose(found, expected, rtol=1e-12)


@pytest.mark.parametrize("size, starts", [(0, [0]), (3, [-1]), (3, [18]), (21, [0])])
def test_window_sums_refuse_windows_that_leave_the_axis(size, starts):
    with pytest.raises(ValueError, match="leave an axis of 20"):
        patches.window_sums(np.zeros(20), size, np.array(starts), 0)


def _aggregate_by_loop(shape, blocks, rows, cols, weights, window):
    numerator, denominator = np.zeros(shape), np.zeros(shape)
    size = blocks.shape[-1]
    window = np.ones((size, size)) if window is None else window
    for block, r, c, w in zip(blocks, rows, cols, weights):
        numerator[r:r + size, c:c + size] += w * window * block
        denominator[r:r + size, c:c + size] += w * window
    mean = np.divide(numerator, denominator, out=np.zeros(shape), where=denominator > 0)
    return mean, denominator


@pytest.mark.parametrize("window", ["none", "kaiser", "any"])
def test_aggregator_is_the_weighted_mean_a_loop_computes(rng, window):
    shape, size = (14, 17), 4
    window = {"none": None, "kaiser": bm3d.kaiser_window(size, 2.0),
              "any": rng.random((size, size)) + 0.1}[window]
    rows, cols = rng.integers(0, 8, 30), rng.integers(0, 11, 30)
    blocks, weights = rng.random((30, size, size)), rng.random(30) + 0.1
    expected, denominator = _aggregate_by_loop(shape, blocks, rows, cols, weights, window)
    aggregator = patches.Aggregator(shape, window)
    aggregator.add(blocks[:12], rows[:12], cols[:12], weights[:12])
    aggregator.add(blocks[12:], rows[12:], cols[12:], weights[12:])
    found = aggregator.result()
    assert found.dtype == np.float32 and found.shape == shape
    np.testing.assert_allclose(found, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(aggregator.weights, denominator, rtol=1e-6, atol=1e-7)
    assert (found[12:, :] == 0).all() and (found[:, 15:] == 0).all()  # no patch there
    one_call = patches.aggregate(shape, blocks, rows, cols, weights, window)
    np.testing.assert_allclose(one_call, expected, rtol=1e-6, atol=1e-7)


def test_aggregator_weighs_each_patch_one_without_weights(rng):
    blocks, rows, cols = rng.random((6, 3, 3)), np.array([0, 1, 2, 0, 4, 4]), np.arange(6)
    expected, denominator = _aggregate_by_loop((7, 9), blocks, rows, cols, np.ones(6), None)
    aggregator = patches.Aggregator((7, 9))
    assert (aggregator.weights == 0).all() and (aggregator.result() == 0).all()
    aggregator.add(blocks, rows, cols)
    np.testing.assert_allclose(aggregator.result(), expected, rtol=1e-6)
    np.testing.assert_allclose(aggregator.weights, denominator)
    np.testing.assert_allclose(patches.aggregate((7, 9), blocks, rows, cols), expected,
                               rtol=1e-6)


def test_aggregator_adds_sums_at_an_offset_as_it_adds_patches(rng):
    size, window = 3, rng.random((3, 3)) + 0.5
    blocks, weights = rng.random((4, 5, size, size)), rng.random((4, 5)) + 0.1
    rows, cols = np.mgrid[2:6, 1:6]
    expected = patches.Aggregator((9, 8), window)
    expected.add(blocks, rows, cols, weights)
    found = patches.Aggregator((9, 8), window)
    _add_per_corner(found, blocks * weights[..., None, None], weights, window, top=2, left=1)
    np.testing.assert_allclose(found.result(), expected.result(), rtol=1e-6)
    np.testing.assert_allclose(found.weights, expected.weights, rtol=1e-6)
    uniform = patches.Aggregator((9, 8))
    _add_per_corner(uniform, blocks * weights[..., None, None], weights, top=2, left=1)
    reference, _ = _aggregate_by_loop((9, 8), blocks.reshape(-1, size, size), rows.ravel(),
                                      cols.ravel(), weights.ravel(), None)
    np.testing.assert_allclose(uniform.result(), reference, rtol=1e-6)


def test_aggregator_refuses_patches_of_another_side():
    aggregator = patches.Aggregator((8, 8))
    aggregator.add(np.ones((2, 3, 3)), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="takes patches of side 3; got 4"):
        aggregator.add(np.ones((1, 4, 4)), [0], [0])
    with pytest.raises(ValueError, match="takes patches of side 5; got 3"):
        patches.Aggregator((8, 8), np.ones((5, 5))).add_rectangle(np.ones((3, 3)),
                                                                 np.ones((1, 1)), 0, 0)
    with pytest.raises(ValueError, match=r"the patches of 2x2 corners cover 4x4 pixels; got a "
                                         r"total of shape \(4, 5\)"):
        patches.Aggregator((8, 8)).add_rectangle(np.ones((4, 5)), np.ones((2, 2)), 0, 0)


def test_extract_names_the_image_size_without_its_channels():
    with pytest.raises(ValueError, match=r"leaves the image of shape \(9, 10\)$"):
        patches.extract(np.zeros((9, 10, 3)), np.array([7]), np.array([0]), 3)


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_block_matching_compares_any_image_as_float32(rng, dtype):
    """An 8-bit image (differences that would wrap around) or a float64 one: the matches
    of its float32 copy."""
    image = (rng.random((20, 18)) * 255).astype(dtype)
    as_float = image.astype(np.float32)
    rows, cols = patches.reference_grid(image.shape, 4, 3)
    for match in (lambda im: patches.block_match(im, rows, cols, size=4, radius=3, k=5),
                  lambda im: patches.grid_match(im, patches.grid(20, 4, 3),
                                                patches.grid(18, 4, 3), size=4, radius=3, k=5)):
        found, expected = match(image), match(as_float)
        for name in ("rows", "cols", "distances"):
            assert np.array_equal(getattr(found, name), getattr(expected, name)), name


def test_block_match_with_no_search_or_one_match_is_the_reference_itself(rng):
    image = rng.random((10, 9)).astype(np.float32)
    for radius, k in ((0, 1), (0, 3), (2, 1)):
        found = patches.block_match(image, [4], [2], size=3, radius=radius, k=k)
        assert found.rows.shape == (1, k)
        assert found.rows[0, 0] == 4 and found.cols[0, 0] == 2 and found.distances[0, 0] == 0
        if radius == 0:  # nothing else in the window
            assert np.isinf(found.distances[0, 1:]).all()


def test_block_match_of_one_reference_finds_what_a_loop_finds(rng):
    image = rng.random((11, 12)).astype(np.float32)
    found = patches.block_match(image, [3], [5], size=3, radius=2, k=6)
    rows, cols, dist = _matches_by_loop(image, [3], [5], 3, 2, 6)
    assert np.array_equal(found.rows, rows) and np.array_equal(found.cols, cols)
    np.testing.assert_allclose(found.distances, dist, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("rows, cols", [([0, 3], [-1, 2]), ([-1, 3], [0, 2]), ([0], [7]),
                                        ([8], [0])])
def test_grid_match_refuses_corners_outside_the_image(rows, cols):
    with pytest.raises(ValueError, match="leaves the image"):
        patches.grid_match(np.zeros((10, 9), np.float32), rows, cols, size=3, radius=2, k=3)
    with pytest.raises(ValueError, match="leaves the image"):
        patches.block_match(np.zeros((10, 9), np.float32), np.repeat(rows, len(cols)),
                            np.tile(cols, len(rows)), size=3, radius=2, k=3)


def test_grid_match_of_an_empty_grid_is_empty():
    for rows, cols in (([], [0, 2]), ([0, 2], [])):
        found = patches.grid_match(np.zeros((6, 6)), rows, cols, size=2, radius=1, k=3)
        assert found.rows.shape == found.distances.shape == (0, 3)


@pytest.mark.parametrize("shape, size, step, radius, k, first", [
    ((35, 20), 3, 4, 1, 4, 0),   # 9 grid rows: the last tile of rows holds one
    ((35, 6), 3, 4, 1, 4, 0),    # two grid columns: a narrow tile of columns
    ((23, 29), 4, 2, 3, 20, 0),  # a corner window holds 16 candidates, fewer than k
    ((30, 25), 4, 2, 2, 6, 3),   # rows from the fourth on, as a band of BM3D asks for
])
def test_grid_match_by_matrix_products_finds_what_block_match_finds(rng, monkeypatch, shape,
                                                                   size, step, radius, k,
                                                                   first):
    """Where the window holds more than k candidates, by matrix products (block_match is not
    called), whatever the grid's tiles and the rows it starts from."""
    image = rng.random(shape).astype(np.float32)
    grid_rows, grid_cols = patches.grid(shape[0], size, step)[first:], \
        patches.grid(shape[1], size, step)
    rows, cols = np.repeat(grid_rows, len(grid_cols)), np.tile(grid_cols, len(grid_rows))
    expected = patches.block_match(image, rows, cols, size=size, radius=radius, k=k)

    def refused(*args, **kwargs):
        raise AssertionError("grid_match fell back on block_match")

    monkeypatch.setattr(patches, "block_match", refused)
    found = patches.grid_match(image, grid_rows, grid_cols, size=size, radius=radius, k=k)
    assert np.array_equal(found.rows, expected.rows)
    assert np.array_equal(found.cols, expected.cols)
    np.testing.assert_allclose(found.distances, expected.distances, atol=2e-5)
    assert (found.distances >= 0).all()


def test_grid_match_with_k_beyond_the_window_returns_k(rng):
    image = rng.random((12, 12)).astype(np.float32)
    found = patches.grid_match(image, [0, 5], [2, 9], size=3, radius=1, k=12)
    assert found.rows.shape == (4, 12) and np.isinf(found.distances[:, 9:]).all()


def test_grid_match_distances_of_a_repeating_image_are_never_negative(rng):
    """Identical patches, far from zero: the three-term distance cancels to 0, never below."""
    tile = rng.random((4, 4)).astype(np.float32) + 50.0
    image = np.tile(tile, (6, 6))
    found = patches.grid_match(image, patches.grid(24, 4, 1), patches.grid(24, 4, 1), size=4,
                               radius=4, k=8)
    assert (found.distances >= 0).all()


def test_bands_of_rows_not_starting_at_zero(monkeypatch):
    """The budget counts the span between a band's rows, wherever they start."""
    unique_rows, per_row = np.arange(14) * 2 + 9, np.full(14, 8)
    two_rows = 3 * (2 + 4) * 7 * 17 + 3 * 2 * 7 * 17 + 3 * 16 * 7 * 7
    monkeypatch.setattr(patches, "_BAND_VALUES", two_rows)
    assert patches._bands(unique_rows, per_row, 4, 7, 17) == [(i, i + 2) for i in range(0, 14, 2)]


def test_add_a_rectangle_at_the_origin_by_default_and_on_top_of_what_was_added(rng):
    blocks, weights = rng.random((3, 4, 2, 2)), rng.random((3, 4)) + 0.1
    rows, cols = np.mgrid[0:3, 0:4]
    extra, extra_rows, extra_cols = rng.random((5, 2, 2)), np.array([0, 1, 2, 1, 0]), \
        np.array([0, 1, 2, 3, 3])
    expected = patches.Aggregator((6, 7))
    expected.add(extra, extra_rows, extra_cols)
    expected.add(blocks, rows, cols, weights)
    found = patches.Aggregator((6, 7))
    found.add(extra, extra_rows, extra_cols)
    _add_per_corner(found, blocks * weights[..., None, None], weights)
    np.testing.assert_allclose(found.result(), expected.result(), rtol=1e-6)
    np.testing.assert_allclose(found.weights, expected.weights, rtol=1e-6)


@pytest.mark.parametrize("window", ["2x2", "rank 2", "tiny"])
def test_aggregator_with_a_window_that_is_not_an_outer_product(rng, window):
    """A 2x2 window, one of rank 2 (a sum of two outer products), and a window scaled down
    to 1e-9 (the weighted mean does not depend on the window's scale)."""
    size = 2 if window == "2x2" else 3
    base = {"2x2": np.array([[1.0, 0.2], [0.3, 0.9]]),
            "rank 2": np.outer([1, 2, 1], [1, 1, 1]) + np.outer([0, 1, 3], [2, 0, 1]),
            "tiny": rng.random((3, 3)) + 0.1}[window]
    blocks, rows, cols = rng.random((25, size, size)), rng.integers(0, 8, 25), \
        rng.integers(0, 9, 25)
    expected, denominator = _aggregate_by_loop((10, 11), blocks, rows, cols, np.ones(25), base)
    scaled = base * 1e-9 if window == "tiny" else base
    found = patches.aggregate((10, 11), blocks, rows, cols, window=scaled)
    np.testing.assert_allclose(found, expected, rtol=1e-6, atol=1e-7)
