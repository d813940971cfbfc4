"""BM3D / CBM3D and the patch tools under it: matching, grouping, aggregation, both passes.

Small crops (64-128 pixels a side) keep the whole file to a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import crop
from skimage import data

import denoisers
from denoisers import bm3d as bm3d_module
from denoisers import metrics, noise, patches
from denoisers.bm3d import PROFILES, bior15_matrix, haar_matrix, match_threshold

SIGMA = 25 / 255



@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return crop(data.camera(), 96)


@pytest.fixture(scope="module")
def traced(camera):
    noisy = noise.add_gaussian(camera, SIGMA, seed=11)
    return noisy, denoisers.run("bm3d", noisy, SIGMA, trace=True, probe=(40, 57))


# --------------------------------------------------------------------------- patches

def test_grid_covers_the_axis_and_ends_at_the_last_patch():
    assert patches.grid(20, 8, 3).tolist() == [0, 3, 6, 9, 12]
    assert patches.grid(21, 8, 3).tolist() == [0, 3, 6, 9, 12, 13]
    assert patches.grid(8, 8, 3).tolist() == [0]
    with pytest.raises(ValueError, match="patch side"):
        patches.grid(5, 8, 3)


def test_extract_cuts_grey_and_colour_patches(rng):
    image = rng.random((12, 10, 3)).astype(np.float32)
    rows, cols = np.array([[0, 4], [7, 2]]), np.array([[0, 5], [3, 4]])
    cut = patches.extract(image, rows, cols, 5)
    assert cut.shape == (2, 2, 5, 5, 3)
    assert np.array_equal(cut[1, 0], image[7:12, 3:8])
    assert np.array_equal(patches.extract(image[..., 1], rows, cols, 5), cut[..., 1])
    with pytest.raises(ValueError, match="leaves the image"):
        patches.extract(image, np.array([8]), np.array([0]), 5)


def test_window_sums_match_direct_sums(rng):
    values = rng.random((30, 4, 9))
    for size in (1, 3, 8, 11, 12):
        starts = np.array([0, 5, 30 - size])
        direct = np.stack([values[s:s + size].sum(axis=0) for s in starts])
        assert np.allclose(patches.window_sums(values, size, starts, axis=0), direct)
        assert np.allclose(patches.window_sums(np.moveaxis(values, 0, 2), size, starts, axis=2),
                           np.moveaxis(direct, 0, 2))


def test_block_matching_agrees_with_brute_force(rng):
    image = rng.random((30, 27)).astype(np.float32)
    rows, cols = patches.reference_grid(image.shape, 5, 4)
    found = patches.block_match(image, rows, cols, size=5, radius=4, k=6)
    for n, (r, c) in enumerate(zip(rows, cols)):
        ref = image[r:r + 5, c:c + 5]
        candidates = sorted(
            float(np.mean((image[y:y + 5, x:x + 5] - ref) ** 2))
            for y in range(max(0, r - 4), min(25, r + 4) + 1)
            for x in range(max(0, c - 4), min(22, c + 4) + 1))
        assert np.allclose(found.distances[n], candidates[:6], atol=1e-6)
        for y, x, d in zip(found.rows[n], found.cols[n], found.distances[n]):
            assert np.isclose(np.mean((image[y:y + 5, x:x + 5] - ref) ** 2), d, atol=1e-6)


@pytest.mark.parametrize("shape, size, step, radius, k",
                         [((30, 27), 5, 4, 4, 6), ((64, 50), 8, 3, 19, 16),
                          ((40, 100), 8, 3, 7, 32), ((9, 12), 8, 3, 3, 16)])
def test_grid_matching_finds_what_block_matching_finds(rng, shape, size, step, radius, k):
    """The matrix-product matcher of a grid agrees with the window sums, up to rounding."""
    image = rng.random(shape).astype(np.float32)
    rows, cols = patches.grid(shape[0], size, step), patches.grid(shape[1], size, step)
    expected = patches.block_match(image, *patches.reference_grid(shape, size, step),
                                   size=size, radius=radius, k=k)
    found = patches.grid_match(image, rows, cols, size=size, radius=radius, k=k)
    finite = np.isfinite(expected.distances)
    assert np.array_equal(np.isfinite(found.distances), finite)
    np.testing.assert_allclose(found.distances[finite], expected.distances[finite], atol=1e-6)
    assert np.array_equal(found.rows, expected.rows) and np.array_equal(found.cols, expected.cols)


def test_block_matching_finds_an_exact_copy_and_puts_the_reference_first(rng):
    image = rng.random((48, 48)).astype(np.float32)
    image[30:38, 25:33] = image[12:20, 10:18]  # a copy 18 rows and 15 columns away
    found = patches.block_match(image, np.array([12, 0]), np.array([10, 0]),
                                size=8, radius=19, k=4)
    assert (found.rows[0, 0], found.cols[0, 0], found.distances[0, 0]) == (12, 10, 0.0)
    assert (found.rows[0, 1], found.cols[0, 1], found.distances[0, 1]) == (30, 25, 0.0)
    assert np.all(np.diff(found.distances, axis=1) >= 0)
    # A flat image: every candidate is at distance 0, the reference still comes first.
    flat = patches.block_match(np.zeros((20, 20), np.float32), np.array([6]), np.array([6]),
                               size=4, radius=3, k=5)
    assert (flat.rows[0, 0], flat.cols[0, 0]) == (6, 6) and np.all(flat.distances == 0)


def test_a_window_smaller_than_k_pads_with_infinite_distances(rng):
    image = rng.random((10, 10)).astype(np.float32)
    found = patches.block_match(image, np.array([0]), np.array([0]), size=4, radius=1, k=8)
    assert np.isfinite(found.distances[0]).sum() == 4  # corners (0..1, 0..1)
    assert found.count(np.inf) == 8 and found.count(0.0)[0] == 1


def test_aggregating_every_patch_with_any_weights_gives_the_image_back(rng):
    image = rng.random((21, 17)).astype(np.float32)
    rows, cols = np.meshgrid(np.arange(21 - 6 + 1), np.arange(17 - 6 + 1), indexing="ij")
    cut = patches.extract(image, rows, cols, 6)
    assert np.allclose(patches.aggregate(image.shape, cut, rows, cols), image, atol=1e-6)
    window = bm3d_module.kaiser_window(6, 2.0)
    weights = rng.random(rows.shape) + 0.1
    assert np.allclose(patches.aggregate(image.shape, cut, rows, cols, weights, window), image,
                       atol=1e-6)


def test_the_aggregation_weight_map_counts_the_patches_over_each_pixel():
    accumulator = patches.Aggregator((5, 6))
    accumulator.add(np.ones((2, 3, 3)), np.array([0, 2]), np.array([0, 3]))
    expected = np.zeros((5, 6))
    expected[0:3, 0:3] += 1
    expected[2:5, 3:6] += 1
    assert np.array_equal(accumulator.weights, expected)
    assert accumulator.result()[4, 0] == 0  # no patch there
    with pytest.raises(ValueError, match="side 3"):
        accumulator.add(np.ones((1, 2, 2)), np.array([0]), np.array([0]))


# --------------------------------------------------------------------------- transforms

def test_the_transforms_are_invertible_and_the_haar_is_orthonormal():
    for size in (1, 2, 8, 32):
        h = haar_matrix(size)
        assert np.allclose(h @ h.T, np.eye(size))
        assert np.allclose(h[0], 1 / np.sqrt(size))
    b = bior15_matrix(8)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0)
    assert np.allclose(b[0], 1 / np.sqrt(8))  # the coarsest approximation is the mean
    assert np.linalg.cond(b) < 3


# --------------------------------------------------------------------------- the method

@pytest.mark.parametrize("name, least_gain", [("camera", 8.0), ("moon", 12.0)])
def test_bm3d_gains_over_the_noisy_input(name, least_gain):
    clean = crop(getattr(data, name)(), 96)
    noisy = noise.add_gaussian(clean, SIGMA, seed=3)
    gain = metrics.psnr(clean, denoisers.run("bm3d", noisy, SIGMA).image) - \
        metrics.psnr(clean, noisy)
    assert gain > least_gain


def test_the_wiener_pass_beats_the_basic_estimate(camera, traced):
    _, res = traced
    basic, final = res.stages["basic estimate"], res.stages["final estimate"]
    assert np.array_equal(final, res.image)
    assert metrics.psnr(camera, final) > metrics.psnr(camera, basic) + 0.2


def test_the_trace_follows_the_probe_block_through_both_passes(traced):
    noisy, res = traced
    first, second = res.extras["stage 1"], res.extras["stage 2"]
    for stage in (first, second):
        size = stage["block size"]
        blocks, distances = stage["matched blocks"], stage["match distances"]
        g = len(blocks)
        assert g & (g - 1) == 0 and stage["group"].shape == (g, size, size)
        # The reference block is the probe's, first in its group, at distance 0.
        assert tuple(blocks[0]) == stage["block"]
        assert abs(stage["block"][0] + size / 2 - 40) <= 2 and \
            abs(stage["block"][1] + size / 2 - 57) <= 2
        assert distances[0] == 0 and np.all(np.diff(distances) >= 0)
        assert np.all(distances <= stage["match threshold"])
        assert np.array_equal(stage["group"][0], noisy[blocks[0][0]:blocks[0][0] + size,
                                                       blocks[0][1]:blocks[0][1] + size])
    assert first["match threshold"] == pytest.approx(
        match_threshold(PROFILES["normal"].hard, SIGMA))
    kept = first["thresholded spectrum"] != 0
    assert first["retained coefficients"] == kept.sum() > 0
    assert np.all(np.abs(first["spectrum"][kept]) > first["threshold"])
    factors = second["Wiener factors"]
    assert factors.shape == second["group"].shape
    assert np.all((factors >= 0) & (factors <= 1))
    assert res.stages["aggregation weights"].shape == noisy.shape
    assert np.all(res.stages["aggregation weights"] > 0)


def test_bm3d_is_deterministic(camera):
    noisy = noise.add_gaussian(camera, SIGMA, seed=5)
    assert np.array_equal(denoisers.run("bm3d", noisy, SIGMA).image,
                          denoisers.run("bm3d", noisy, SIGMA).image)


def test_both_profiles_and_small_windows_run_at_any_size(rng):
    for shape in ((9, 12), (13, 40, 3)):
        noisy = rng.random(shape, dtype=np.float32)
        for profile in ("normal", "high"):
            out = denoisers.run("bm3d", noisy, 60 / 255, profile=profile, search=7).image
            assert out.shape == shape and np.all(np.isfinite(out))


def test_sigma_zero_gives_the_image_back(camera):
    out = denoisers.run("bm3d", camera, 0.0).image
    assert np.allclose(out, camera, atol=1e-4)


def test_cbm3d_keeps_colour_and_beats_bm3d_on_each_rgb_channel():
    clean = crop(data.astronaut(), 64)
    noisy = noise.add_gaussian(clean, SIGMA, seed=3)
    res = denoisers.run("bm3d", noisy, SIGMA, trace=True)
    assert res.image.shape == clean.shape and res.image.dtype == np.float32
    assert res.stages["basic estimate"].shape == clean.shape
    assert "luminance" in res.extras["colour"]
    per_channel = np.stack([denoisers.run("bm3d", np.ascontiguousarray(noisy[..., c]),
                                          SIGMA).image for c in range(3)], axis=-1)
    assert metrics.psnr(clean, res.image) > metrics.psnr(clean, per_channel) + 0.5


def test_bad_parameters_are_refused():
    noisy = np.full((16, 16), 0.5, np.float32)
    with pytest.raises(ValueError, match="'profile' parameter of bm3d must be one of"):
        denoisers.run("bm3d", noisy, SIGMA, profile="auto")
    with pytest.raises(ValueError,
                       match=r"'search' parameter of bm3d must be an odd int in \[7, 75"):
        denoisers.run("bm3d", noisy, SIGMA, search=5)
    with pytest.raises(ValueError, match=r"'search' parameter of bm3d must be an odd int"):
        denoisers.run("bm3d", noisy, SIGMA, search=40)
    with pytest.raises(ValueError, match="bm3d has no parameter 'lambda_3d'"):
        denoisers.run("bm3d", noisy, SIGMA, lambda_3d=2.7)


def test_close_to_the_reference_bm3d_package(camera):
    import bm3d as reference  # a test requirement: the claim it backs is checked every run
    noisy = noise.add_gaussian(camera, SIGMA, seed=13)
    ours = metrics.psnr(camera, denoisers.run("bm3d", noisy, SIGMA).image)
    theirs = metrics.psnr(camera, reference.bm3d(noisy.astype(np.float64), SIGMA))
    assert ours > theirs - 0.3


@pytest.mark.filterwarnings("ignore:Level value of .* is too high:UserWarning")
@pytest.mark.parametrize("size", [8, 16])
def test_the_bior15_matrix_is_pywavelets_full_periodic_decomposition(size):
    """Each column is PyWavelets' wavedec of a unit impulse, every row scaled to unit norm
    (PyWavelets warns that the boundary effects dominate at full depth; periodization is
    exact at any depth)."""
    pywt = pytest.importorskip("pywt")
    levels = int(np.log2(size))
    columns = [np.concatenate(pywt.wavedec(impulse, "bior1.5", mode="periodization",
                                           level=levels)) for impulse in np.eye(size)]
    expected = np.stack(columns, axis=1)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(bior15_matrix(size), expected, atol=1e-12)


def test_a_tiny_image_runs_without_a_warning_from_torch():
    """A 2x2 image's blocks are a read-only view of it; torch warns (once per process, so
    in a fresh one) when it wraps such an array: it must be copied first."""
    import subprocess
    import sys

    code = ("import numpy as np, denoisers\n"
            "x = np.random.default_rng(0).random((2, 2), dtype=np.float32)\n"
            "print(denoisers.run('bm3d', x, 0.1).image.shape)")
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "(2, 2)", done.stderr


# --------------------------------------------------------------------------- the look, by hand


def _nearest_block(probe: tuple[int, int], length: tuple[int, int], size: int, step: int):
    """The corner of the grid block (corners 0, step, ..., the last) whose centre is nearest."""
    corners = [sorted(set(range(0, n - size + 1, step)) | {n - size}) for n in length]
    return tuple(min(c, key=lambda v: (abs(v + (size - 1) / 2 - p), v))
                 for c, p in zip(corners, probe))


def _window_distances(image, corner, size, radius):
    """Every block of the search window around ``corner``: its MSE to the reference block."""
    image = image.astype(np.float64)
    r, c = corner
    reference = image[r:r + size, c:c + size]
    found = {}
    for y in range(max(r - radius, 0), min(r + radius, image.shape[0] - size) + 1):
        for x in range(max(c - radius, 0), min(c + radius, image.shape[1] - size) + 1):
            found[(y, x)] = np.mean((image[y:y + size, x:x + size] - reference) ** 2)
    return found


def _blocks(image, corners, size):
    return np.stack([image[y:y + size, x:x + size] for y, x in corners]).astype(np.float64)


def _spectrum(blocks, transform):
    """The 2-D transform T B T^T of each block, then the Haar transform across the group."""
    two_d = np.einsum("ij,gjk,lk->gil", transform, blocks, transform)
    return np.einsum("hg,gil->hil", haar_matrix(len(blocks)), two_d)


def _inverse(spectrum, transform):
    inverse = np.linalg.inv(transform)
    groups = np.einsum("gh,gil->hil", haar_matrix(len(spectrum)), spectrum)
    return np.einsum("ij,gjk,lk->gil", inverse, groups, inverse)


def _dct(size):
    """The orthonormal DCT-II matrix from its formula."""
    k, n = np.mgrid[0:size, 0:size]
    matrix = np.sqrt(2 / size) * np.cos(np.pi * (2 * n + 1) * k / (2 * size))
    matrix[0] /= np.sqrt(2)
    return matrix


@pytest.mark.parametrize("probe", [(40, 57), (41, 56)])
@pytest.mark.parametrize("stage", ["stage 1", "stage 2"])
def test_the_look_s_group_is_what_the_paper_s_steps_give_by_hand(traced, stage, probe):
    """The reference block nearest the probe; the g nearest blocks of its window (g the
    largest power of 2 within tau and N2), matched on the noisy image (stage 1) or the basic
    estimate (stage 2); their 3-D spectrum; hard thresholding at lambda_3D sigma or Wiener
    shrinkage with the basic estimate's spectrum; the filtered group by the inverse."""
    noisy, res = traced
    # The look computed here (the fixture's, cached, would hide its code from mutmut), and
    # the same as the traced run's.
    view = bm3d_module.bm3d_groups(noisy, SIGMA, res, probe).extras[stage]
    if probe == (40, 57):  # the traced run's probe
        assert set(view) == set(res.extras[stage])
        for key, value in view.items():
            np.testing.assert_array_equal(value, res.extras[stage][key], err_msg=key)
    settings = PROFILES["normal"].hard if stage == "stage 1" else PROFILES["normal"].wiener
    size, guide = settings.size, noisy if stage == "stage 1" else res.stages["basic estimate"]
    corner = _nearest_block(probe, noisy.shape, size, settings.step)
    assert view["block"] == corner and view["block size"] == size
    sigma = SIGMA if stage == "stage 1" else 0.0
    tau = settings.tau / 255**2 + 2 * sigma**2
    assert view["match threshold"] == pytest.approx(tau)
    distances = _window_distances(guide, corner, size, 39 // 2)
    within = sum(d <= tau for d in distances.values())
    g = 2 ** int(np.floor(np.log2(min(within, settings.group))))
    blocks = [tuple(b) for b in view["matched blocks"]]
    assert len(blocks) == g and blocks[0] == corner
    np.testing.assert_allclose(view["match distances"], [distances[b] for b in blocks],
                               rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(view["match distances"], sorted(distances.values())[:g],
                               rtol=1e-4, atol=1e-7)
    group = _blocks(noisy, blocks, size)
    np.testing.assert_allclose(view["group"], group, atol=1e-6)
    transform = bior15_matrix(size) if stage == "stage 1" else _dct(size)
    spectrum = _spectrum(group, transform)
    np.testing.assert_allclose(view["spectrum"], spectrum, atol=2e-4)
    expected_keys = {"block", "block size", "matched blocks", "match distances", "group",
                     "spectrum", "filtered group", "match threshold"}
    expected_keys |= ({"thresholded spectrum", "threshold", "retained coefficients"}
                      if stage == "stage 1" else
                      {"basic group", "basic spectrum", "Wiener factors", "shrunk spectrum"})
    assert set(view) == expected_keys  # the keys bm3d_groups documents
    for key in expected_keys - {"block", "block size", "threshold", "retained coefficients",
                                "match threshold", "matched blocks", "match distances"}:
        assert view[key].shape == (g, size, size) and view[key].dtype == np.float32, key
    assert view["match distances"].dtype == np.float32
    if stage == "stage 1":
        threshold = PROFILES["normal"].lambda_3d * SIGMA
        assert view["threshold"] == pytest.approx(threshold)
        kept = np.abs(spectrum) > threshold
        shrunk = np.where(kept, spectrum, 0)
        np.testing.assert_allclose(view["thresholded spectrum"], shrunk, atol=2e-4)
        assert view["retained coefficients"] == kept.sum()
    else:
        basic = _blocks(guide, blocks, size)
        np.testing.assert_allclose(view["basic group"], basic, atol=1e-6)
        basic_spectrum = _spectrum(basic, transform)
        np.testing.assert_allclose(view["basic spectrum"], basic_spectrum, atol=2e-4)
        factors = basic_spectrum**2 / (basic_spectrum**2 + SIGMA**2)
        np.testing.assert_allclose(view["Wiener factors"], factors, atol=1e-4)
        shrunk = factors * spectrum
        np.testing.assert_allclose(view["shrunk spectrum"], shrunk, atol=2e-4)
    np.testing.assert_allclose(view["filtered group"], _inverse(shrunk, transform), atol=2e-4)


def test_the_look_at_a_colour_image_is_its_luminance_s(colour_sample):
    noisy = noise.add_gaussian(colour_sample, SIGMA, seed=2)
    res = denoisers.run("bm3d", noisy, SIGMA, trace=True)
    view = bm3d_module.bm3d_groups(noisy, SIGMA, res, (30, 20), search=15)
    luminance = noisy.mean(axis=-1)
    first = view.extras["stage 1"]
    assert first["threshold"] == pytest.approx(PROFILES["normal"].lambda_3d * SIGMA / np.sqrt(3))
    np.testing.assert_allclose(first["group"], _blocks(luminance, first["matched blocks"], 8),
                               atol=1e-6)
    second = view.extras["stage 2"]
    basic = res.stages["basic estimate"].mean(axis=-1)
    np.testing.assert_allclose(second["basic group"], _blocks(basic, second["matched blocks"], 8),
                               atol=1e-6)


def test_the_look_takes_the_profile_and_window_of_the_run(camera):
    noisy = noise.add_gaussian(camera[:40, :44], SIGMA, seed=1)
    res = denoisers.run("bm3d", noisy, SIGMA, trace=True, profile="high", search=9)
    view = bm3d_module.bm3d_groups(noisy, SIGMA, res, (20, 21), profile="high", search=9)
    high = PROFILES["high"]
    for stage, settings in (("stage 1", high.hard), ("stage 2", high.wiener)):
        found = view.extras[stage]
        assert found["block size"] == settings.size
        assert found["block"] == _nearest_block((20, 21), (40, 44), settings.size, settings.step)
        offsets = np.abs(found["matched blocks"] - np.array(found["block"]))
        assert offsets.max() <= 4  # within the 9x9 window of corners
    assert view.extras["stage 1"]["threshold"] == pytest.approx(high.lambda_3d * SIGMA)


def test_the_transforms_are_the_dct_and_bior15_where_the_side_allows():
    for size in (1, 5, 8, 12):
        np.testing.assert_allclose(bm3d_module.dct_matrix(size), _dct(size), atol=1e-12)
    forward, inverse = bm3d_module.block_transform(8, "bior1.5")
    np.testing.assert_allclose(forward, bior15_matrix(8))
    np.testing.assert_allclose(inverse @ forward, np.eye(8), atol=1e-12)
    for size, name in ((12, "bior1.5"), (1, "bior1.5"), (6, "bior1.5"), (8, "dct")):
        forward, inverse = bm3d_module.block_transform(size, name)
        np.testing.assert_allclose(forward, _dct(size), atol=1e-12)
        np.testing.assert_allclose(inverse, _dct(size).T, atol=1e-12)


def test_a_profile_describes_its_settings():
    for profile in PROFILES.values():
        text = str(profile)
        hard, wiener = profile.hard, profile.wiener
        assert text.startswith(f"{profile.name} (stage 1: {hard.size}x{hard.size} blocks")
        for part in (f"up to {hard.group} per group", f"step {hard.step}",
                     f"tau {hard.tau:g} + 2 sigma²", f"lambda_3D {profile.lambda_3d:g}",
                     f"stage 2: {wiener.size}x{wiener.size} blocks", f"up to {wiener.group}",
                     f"step {wiener.step}", f"tau {wiener.tau:g}",
                     f"Kaiser beta {profile.beta:g})"):
            assert part in text, (part, text)
    assert "bior1.5" in str(PROFILES["normal"]) and "DCT" in str(PROFILES["high"])


# --------------------------------------------------------------------------- a whole pass by hand


def _reference_pass(channels, pilot, sigmas, settings, profile, radius):
    """One BM3D pass by the paper's steps, block by block in pixels (Dabov et al. 2007):
    every block of the grid matched (in channel 0 of the image, or of the pilot) against
    every block of its window, the group the largest power of 2 within tau and N2, its 3-D
    spectrum hard-thresholded at lambda_3D sigma (weight 1 / the coefficients kept) or
    Wiener-shrunk with the pilot's (weight 1 / ||W||²), each channel with its own sigma,
    and the filtered blocks averaged with those weights and a Kaiser window."""
    count, height, width = channels.shape
    n = min(settings.size, height, width)
    guide = (channels if pilot is None else pilot)[0].astype(np.float64)
    tau = settings.tau / 255**2 + 2 * (sigmas[0] if pilot is None else 0.0) ** 2
    power_of_2 = n >= 2 and not n & (n - 1)
    transform = bior15_matrix(n) if settings.transform == "bior1.5" and power_of_2 else _dct(n)
    window = np.outer(np.kaiser(n, profile.beta), np.kaiser(n, profile.beta))
    numerator, denominator = np.zeros(channels.shape), np.zeros(channels.shape)
    corners = [sorted(set(range(0, length - n + 1, settings.step)) | {length - n})
               for length in (height, width)]
    for r in corners[0]:
        for c in corners[1]:
            reference = guide[r:r + n, c:c + n]
            found = []
            for y in range(max(r - radius, 0), min(r + radius, height - n) + 1):
                for x in range(max(c - radius, 0), min(c + radius, width - n) + 1):
                    d = np.mean((guide[y:y + n, x:x + n] - reference) ** 2)
                    found.append((-1.0 if (y, x) == (r, c) else d, y, x))
            found.sort()
            within = min(sum(d <= tau for d, _, _ in found), settings.group)
            group = found[:2 ** int(np.floor(np.log2(within)))]
            for k in range(count):
                blocks = _blocks(channels[k], [(y, x) for _, y, x in group], n)
                spectrum = _spectrum(blocks, transform)
                if pilot is None:
                    kept = np.abs(spectrum) > profile.lambda_3d * sigmas[k]
                    shrunk, weight = np.where(kept, spectrum, 0), 1 / max(kept.sum(), 1)
                else:
                    basic = _spectrum(_blocks(pilot[k], [(y, x) for _, y, x in group], n),
                                      transform)
                    factors = basic**2 / (basic**2 + sigmas[k] ** 2)
                    shrunk, weight = factors * spectrum, 1 / np.sum(factors**2)
                for (_, y, x), block in zip(group, _inverse(shrunk, transform)):
                    numerator[k, y:y + n, x:x + n] += weight * window * block
                    denominator[k, y:y + n, x:x + n] += weight * window
    return numerator / denominator


@pytest.mark.parametrize("profile, shape, search", [("normal", (26, 23), 7),
                                                    ("high", (30, 27), 9),
                                                    ("normal", (21, 6), 7)])
def test_both_passes_are_the_paper_s_steps_done_by_hand(camera, monkeypatch, profile, shape,
                                                        search):
    """The whole method on small images, its bands of reference rows and its chunks of groups
    made small so that there are several of each, against :func:`_reference_pass`: the basic
    estimate, and the final one with that basic estimate as the pilot. The last image is
    narrower than a block (6 pixels: blocks of 6)."""
    monkeypatch.setattr(bm3d_module, "_BATCH_BLOCKS", 4)
    monkeypatch.setattr(bm3d_module, "_CHUNK_VALUES", 3 * 8 * 64)
    clean = camera[30:30 + shape[0], 40:40 + shape[1]]
    noisy = noise.add_gaussian(clean, SIGMA, seed=4)
    seen: list[float] = []
    res = bm3d_module.bm3d(noisy, SIGMA, profile=profile, search=search, trace=True,
                           progress=seen.append)
    chosen = PROFILES[profile]
    channels, sigmas = noisy[None].astype(np.float64), np.array([SIGMA])
    basic = _reference_pass(channels, None, sigmas, chosen.hard, chosen, search // 2)
    np.testing.assert_allclose(res.stages["basic estimate"], basic[0], atol=2e-4)
    pilot = res.stages["basic estimate"][None].astype(np.float64)
    final = _reference_pass(channels, pilot, sigmas, chosen.wiener, chosen, search // 2)
    np.testing.assert_allclose(res.image, final[0], atol=2e-4)
    assert res.image.dtype == res.stages["basic estimate"].dtype == np.float32
    # Progress: a report per band of each pass, rising to 1.
    assert len(seen) >= 4 and seen[-1] == 1.0 and 0 < seen[0]
    assert all(a < b for a, b in zip(seen, seen[1:])), seen


def test_cbm3d_is_the_paper_s_steps_in_the_opponent_channels(colour_sample, monkeypatch):
    """Colour: the groups matched on the luminance, every opponent channel filtered with its
    own sigma, back to RGB."""
    from denoisers import colour

    monkeypatch.setattr(bm3d_module, "_BATCH_BLOCKS", 12)
    noisy = noise.add_gaussian(colour_sample[:22, :20], SIGMA, seed=6)
    res = bm3d_module.bm3d(noisy, SIGMA, search=7, trace=True)
    chosen = PROFILES["normal"]
    channels = np.moveaxis(colour.to_opponent(noisy), -1, 0).astype(np.float64)
    sigmas = SIGMA * np.array([3 ** -0.5, 2 ** -0.5, 6 ** 0.5 / 4])
    basic = _reference_pass(channels, None, sigmas, chosen.hard, chosen, 3)
    np.testing.assert_allclose(res.stages["basic estimate"],
                               colour.from_opponent(np.moveaxis(basic, 0, -1)), atol=3e-4)
    pilot = np.moveaxis(colour.to_opponent(res.stages["basic estimate"]), -1, 0)
    final = _reference_pass(channels, pilot.astype(np.float64), sigmas, chosen.wiener, chosen, 3)
    np.testing.assert_allclose(res.image, colour.from_opponent(np.moveaxis(final, 0, -1)),
                               atol=3e-4)


def test_hard_thresholding_keeps_what_is_above_and_weighs_each_group():
    spectrum = np.array([[[0.5, -2.0, 0.1]], [[3.0, 0.0, -0.3]]], np.float32)  # (g, groups, n²)
    spectrum = np.concatenate([spectrum, np.zeros_like(spectrum)], axis=1)  # a second group
    shrunk, weights, kept = bm3d_module._hard_threshold(spectrum, 0.4)
    assert np.array_equal(kept[:, 0], [[True, True, False], [True, False, False]])
    assert np.array_equal(shrunk[:, 0], [[0.5, -2.0, 0.0], [3.0, 0.0, 0.0]])
    np.testing.assert_allclose(weights, [1 / 3, 1.0])  # 3 kept; none kept counts as 1
    _, weights, _ = bm3d_module._hard_threshold(spectrum[:, :1], 2.5)
    np.testing.assert_allclose(weights, [1.0])  # one kept


def test_wiener_shrinkage_weighs_each_group_by_its_factors():
    spectrum = np.array([[[1.0, 2.0]], [[-1.0, 0.5]]])
    pilot = np.array([[[0.3, 0.0]], [[2.0, 0.1]]])
    shrunk, weights, factors = bm3d_module._wiener_shrink(np.tile(spectrum, (1, 2, 1)),
                                                          np.tile(pilot, (1, 2, 1)) *
                                                          [[[1.0], [0.1]]], 0.2)
    expected = pilot**2 / (pilot**2 + 0.04)
    np.testing.assert_allclose(factors[:, 0], expected[:, 0], rtol=1e-6)
    np.testing.assert_allclose(shrunk[:, 0], expected[:, 0] * spectrum[:, 0], rtol=1e-6)
    second = (0.1 * pilot) ** 2 / ((0.1 * pilot) ** 2 + 0.04)
    np.testing.assert_allclose(weights, [1 / np.sum(expected**2), 1 / np.sum(second**2)],
                               rtol=1e-6)
    assert 1 / np.sum(second**2) > 1  # a group whose factors are small weighs more than 1


def test_a_read_only_array_becomes_a_tensor_without_a_warning():
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    values.flags.writeable = False
    tensor = bm3d_module._tensor(values)  # warnings are errors in this suite
    assert tensor.numpy().tolist() == values.tolist()


@pytest.mark.parametrize("size", [0, 3, 6, 12])
def test_the_transforms_refuse_a_side_that_is_not_a_power_of_2(size):
    with pytest.raises(ValueError, match=rf"^the Haar transform needs a power of 2; got {size}$"):
        haar_matrix(size)
    with pytest.raises(ValueError,
                       match=rf"^the bior1.5 transform needs a power of 2 >= 2; got {size}$"):
        bior15_matrix(size)
    with pytest.raises(ValueError, match="needs a power of 2 >= 2; got 1"):
        bior15_matrix(1)
    assert bior15_matrix(2).shape == (2, 2)


def test_the_look_takes_the_method_s_default_window_and_any_image_size(camera):
    import inspect

    defaults = [inspect.signature(f).parameters["search"].default
                for f in (bm3d_module.bm3d, bm3d_module.bm3d_groups)]
    assert defaults[0] == defaults[1]
    for shape in ((20, 6), (6, 20)):
        noisy = noise.add_gaussian(camera[:shape[0], :shape[1]], SIGMA, seed=1)
        res = denoisers.run("bm3d", noisy, SIGMA, trace=True)
        view = bm3d_module.bm3d_groups(noisy, SIGMA, res, (3, 3), search=7)
        for stage in ("stage 1", "stage 2"):
            assert view.extras[stage]["block size"] == 6
            assert view.extras[stage]["group"].shape[1:] == (6, 6)
