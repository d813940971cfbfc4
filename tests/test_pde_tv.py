"""Tests of total-variation denoising (denoisers.pde.tv): the ROF energy, its two solvers,
the duality gap they stop on, vectorial colour and staircasing.

The registry-wide contract (shape, dtype, colour, determinism of the defaults, the
reference reaching the trace only, ...) is in test_registry.py; these check what is
particular to TV on small crops, so they stay fast.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from skimage import color, data
from skimage.restoration import denoise_tv_chambolle

import denoisers
from denoisers import noise
from denoisers.core import as_image
from denoisers.metrics import psnr
from denoisers.pde import evolution, tv

SIGMA = 25 / 255
SOLVERS = tv.SOLVERS


@functools.cache
def clean(name: str, size: int = 96) -> np.ndarray:
    """A size x size centre crop of a scikit-image sample image, grey float32."""
    image = getattr(data, name)()
    grey = as_image(color.rgb2gray(image) if image.ndim == 3 else image)
    row, col = grey.shape[0] // 2 - size // 2, grey.shape[1] // 2 - size // 2
    return np.ascontiguousarray(grey[row:row + size, col:col + size])


@functools.cache
def noisy(name: str, sigma: float = SIGMA, size: int = 96) -> np.ndarray:
    return noise.add_gaussian(clean(name, size), sigma, seed=1)


# --------------------------------------------------------------------------- operators

@pytest.mark.parametrize("shape", [(7, 9), (2, 2), (6, 5, 3)])
def test_the_flat_shift_operators_are_evolutions_gradient_and_divergence(shape, rng):
    """The solvers' fast operators (shifts of the flat (C, H, W) planes) compute
    exactly what evolution.gradient, divergence and magnitude do, on any image and
    on a field with Chambolle's zero last row and column."""
    image = rng.random(shape, dtype=np.float32)
    planes = tv._planes(image)
    down, right = np.empty_like(planes), np.empty_like(planes)
    tv._gradient(planes, down, right)
    expected = evolution.gradient(image)
    np.testing.assert_array_equal(tv._image(down, image.ndim), expected[0])
    np.testing.assert_array_equal(tv._image(right, image.ndim), expected[1])
    div = np.empty_like(planes)
    tv._divergence(down, right, div)
    np.testing.assert_allclose(tv._image(div, image.ndim), evolution.divergence(*expected),
                               atol=1e-6)
    length = np.empty((1, *planes.shape[1:]), np.float32)
    tv._magnitude(down, right, length, np.empty_like(planes))
    np.testing.assert_allclose(length[0], evolution.magnitude(*expected), rtol=1e-6)


# --------------------------------------------------------------------------- quality

@pytest.mark.parametrize("solver", SOLVERS)
def test_beats_the_noisy_input_by_3_db_on_camera(solver):
    """Measured on this 128x128 crop: +8.1 dB with either solver."""
    before = psnr(clean("camera", 128), noisy("camera", size=128))
    after = psnr(clean("camera", 128), tv.tv(noisy("camera", size=128), SIGMA,
                                             solver=solver).image)
    assert after - before > 3.0


def test_the_weight_rule_grows_with_sigma_and_stays_in_range():
    weights = [tv.tv_weight(s / 255) for s in (0, 5, 10, 25, 50, 100, 255)]
    assert weights == sorted(weights) and weights[1] < weights[-2]
    assert all(1e-3 <= w <= 1.0 for w in weights)
    assert tv.tv_weight(SIGMA) == pytest.approx(1.37 * SIGMA ** 1.23, abs=1e-4)


# --------------------------------------------------------------------------- convergence

@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sigma", [5 / 255, SIGMA, 100 / 255], ids=["5", "25", "100"])
def test_the_defaults_stop_on_a_duality_gap_below_1e_3(solver, sigma):
    result = tv.tv(noisy("astronaut", sigma), sigma, solver=solver)
    assert result.extras["gap"] < 1e-3
    assert result.extras["iterations"] < tv.ITERATIONS


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("sigma", [5 / 255, SIGMA, 100 / 255], ids=["5", "25", "100"])
def test_the_energy_is_within_0_1_percent_of_a_ten_times_longer_run(solver, sigma):
    f = noisy("camera", sigma)
    default = tv.tv(f, sigma, solver=solver)
    longer = tv.tv(f, sigma, solver=solver, tolerance=0.0,
                   iterations=10 * default.extras["iterations"])
    weight = tv.tv_weight(sigma)
    e_default, e_longer = tv.energy(default.image, f, weight), tv.energy(longer.image, f, weight)
    assert e_longer <= e_default * (1 + 1e-6)
    assert e_default <= e_longer * (1 + 1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_gap_bounds_the_excess_energy_at_every_iteration(solver):
    """The dual value is a true lower bound: E(u_k) - E_min <= gap_k for every k, with
    E_min from a run to a gap of 1e-7; and the traced energy is :func:`tv.energy`."""
    f = noisy("coins")
    weight = tv.tv_weight(SIGMA)
    traced = tv.tv(f, SIGMA, solver=solver, trace=True)
    best = tv.energy(tv.tv(f, SIGMA, solver="chambolle-pock", tolerance=1e-7,
                           iterations=5000).image, f, weight)
    energy = traced.curves["energy per pixel"] * f.size
    gap = traced.curves["relative duality gap"] * energy
    assert np.all(energy - best <= gap + 1e-6 * best)
    assert energy[-1] == pytest.approx(tv.energy(traced.image, f, weight), rel=1e-5)


def test_both_solvers_reach_the_same_minimiser():
    """Run to a gap of 1e-6, Chambolle's projection and the primal-dual algorithm agree
    to a few 1e-5 RMS (measured 2e-5 on this crop), far below a grey level (0.004)."""
    f = noisy("camera", size=64)
    images = [tv.tv(f, SIGMA, solver=s, tolerance=1e-6, iterations=5000).image for s in SOLVERS]
    difference = images[0] - images[1]
    assert np.sqrt(np.mean(difference ** 2)) < 1e-4
    assert np.abs(difference).max() < 1e-3


def test_matches_scikit_images_chambolle_on_the_same_problem():
    """scikit-image's ``denoise_tv_chambolle(f, weight)`` minimises ``1/2 ||u - f||² +
    weight TV(u)`` with the same forward differences and the same border: its weight
    is our w, with no rescaling. Both run to convergence, the images agree (measured:
    2e-4 at most, the float32 accuracy of our run)."""
    f = noisy("camera", size=48)
    weight = tv.tv_weight(SIGMA)
    ours = tv.tv(f, SIGMA, weight=weight, solver="chambolle-pock", tolerance=1e-7,
                 iterations=5000).image
    theirs = denoise_tv_chambolle(f.astype(np.float64), weight=weight, eps=1e-12,
                                  max_num_iter=4000)
    assert np.abs(ours - theirs).max() < 1e-3
    assert tv.energy(ours, f, weight) == pytest.approx(tv.energy(theirs, f, weight), rel=1e-5)


# --------------------------------------------------------------------------- colour

def _bars(faint: float) -> np.ndarray:
    """Vertical bars 8 pixels wide: red and green alternate by 0.4, blue by ``faint``."""
    on = (np.arange(64) // 8) % 2 == 1
    image = np.empty((32, 64, 3), np.float32)
    image[..., 0] = image[..., 1] = np.where(on, 0.7, 0.3)
    image[..., 2] = np.where(on, 0.5 + faint / 2, 0.5 - faint / 2)
    return image


def _contrast(channel: np.ndarray) -> float:
    """Mean of the bright bars minus mean of the dark ones."""
    on = (np.arange(channel.shape[1]) // 8) % 2 == 1
    return float(channel[:, on].mean() - channel[:, ~on].mean())


def test_colour_is_vectorial_an_edge_shared_by_the_channels_is_kept_in_each():
    """Thin bars whose blue contrast (0.1) is faint and whose red and green are strong.
    Per channel, TV shrinks a bar of width 8 by 2w/8 = 0.05 a side: the blue bars go.
    Vectorially the edge's cost is shared by the channels and the blue one is mostly
    kept (its share is 0.1 / 0.57 of the jump)."""
    clean_bars = _bars(0.1)
    f = noise.add_gaussian(clean_bars, 0.02, seed=3)
    weight = 0.2  # the weight of TV in both energies: a colour image's is COLOUR_FACTOR w
    result = tv.tv(f, 0.02, weight=weight / tv.COLOUR_FACTOR, tolerance=1e-5, iterations=5000)
    assert result.extras["tv weight"] == pytest.approx(weight)
    vectorial = result.image
    per_channel = np.stack([tv.tv(f[..., c], 0.02, weight=weight, tolerance=1e-5,
                                  iterations=5000).image for c in range(3)], axis=-1)
    assert _contrast(vectorial[..., 2]) > 0.7 * 0.1
    assert _contrast(per_channel[..., 2]) < 0.2 * 0.1
    # Each is the minimiser of its own energy: vectorial TV couples the channels.
    assert tv.energy(vectorial, f, weight) < tv.energy(per_channel, f, weight)
    per_channel_energy = [sum(tv.energy(u[..., c], f[..., c], weight) for c in range(3))
                          for u in (vectorial, per_channel)]
    assert per_channel_energy[1] < per_channel_energy[0]


def test_the_registered_method_handles_colour_itself_with_a_heavier_tv():
    method = denoisers.get("tv")
    assert method.colour and method.family == evolution.FAMILY and method.year == 1992
    f = noise.add_gaussian(clean("astronaut", 32)[..., None].repeat(3, axis=2), SIGMA, seed=2)
    result = denoisers.run("tv", f, SIGMA)
    assert "colour" not in result.extras  # not sent channel by channel through opponent space
    assert result.extras["params"]["weight"] == tv.tv_weight(SIGMA)
    assert result.extras["tv weight"] == pytest.approx(tv.COLOUR_FACTOR * tv.tv_weight(SIGMA))
    assert tv.tv(f[..., 0], SIGMA).extras["tv weight"] == tv.tv_weight(SIGMA)


# --------------------------------------------------------------------------- staircasing

def test_the_staircase_demo_turns_the_ramp_into_flat_treads():
    """The clean ramp rises by 0.002 at every column; TV's scanline climbs it in
    flat treads (measured at sigma 25: 51 % of its steps below half the ramp's slope,
    the longest tread 16 columns; 58 to 61 % with other seeds) and risers several
    times the ramp's slope, and keeps the step."""
    demo = tv.staircase_demo(SIGMA, seed=0)
    slope = float(np.diff(demo["clean"])[1])
    assert set(demo) >= {"x", "clean", "noisy", "tv", "image", "weight"}
    assert demo["tv"].shape == demo["clean"].shape == demo["x"].shape == (256,)
    steps = np.abs(np.diff(demo["tv"]))
    on_ramp = np.r_[steps[2:124], steps[132:253]]  # away from the borders and the step
    assert np.all(np.abs(np.diff(demo["clean"])[:127] - slope) < 1e-6)
    assert np.mean(on_ramp < slope / 2) > 0.4
    assert _longest_run(on_ramp < slope / 2) >= 6
    assert on_ramp.max() > 4 * slope
    assert demo["tv"][129] - demo["tv"][126] > 0.05  # the step (0.15) survives


def _longest_run(flags: np.ndarray) -> int:
    longest = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        longest = max(longest, current)
    return longest


# --------------------------------------------------------------------------- the trace

@pytest.mark.parametrize("solver", SOLVERS)
def test_the_trace_shows_the_evolution_energy_gap_and_dual_field(solver):
    f = noisy("camera", size=64)
    result = tv.tv(f, SIGMA, solver=solver, trace=True, reference=clean("camera", 64))
    done = result.extras["iterations"]
    label, x = result.extras["curve_x"]
    assert label == "iteration" and list(x) == list(range(1, done + 1))
    for name in ("PSNR (dB)", "energy per pixel", "relative duality gap", "residual RMS / σ"):
        assert result.curves[name].shape == (done,), name
    gap = result.curves["relative duality gap"]
    assert gap[-1] == result.extras["gap"] < 1e-3 < gap[0]
    assert result.curves["energy per pixel"][-1] < result.curves["energy per pixel"][0]
    evolution_ = result.extras["evolution"]
    assert evolution_["times"][-1] == done == result.extras["stop"]
    assert len(evolution_["frames"]) <= evolution.MAX_FRAMES
    np.testing.assert_allclose(evolution_["frames"][-1], result.image, atol=1e-3)
    dual = result.stages["dual field |q| / w"]
    assert dual.shape == f.shape and dual.max() <= 1 + 1e-5 and dual.max() > 0.99
    assert result.extras["display"]["dual field |q| / w"] == "map"
    assert result.extras["params"] == {"weight": tv.tv_weight(SIGMA), "solver": solver,
                                       "iterations": tv.ITERATIONS,
                                       "tolerance": tv.TOLERANCE}


@pytest.mark.parametrize("solver", SOLVERS)
def test_deterministic_and_the_same_with_or_without_the_trace(solver):
    f = noisy("brick", size=64)
    first, second = tv.tv(f, SIGMA, solver=solver), tv.tv(f, SIGMA, solver=solver)
    traced = tv.tv(f, SIGMA, solver=solver, trace=True)
    np.testing.assert_array_equal(first.image, second.image)
    np.testing.assert_array_equal(first.image, traced.image)
    assert first.extras["iterations"] == traced.extras["iterations"]


def test_a_cap_on_the_iterations_stops_the_solver_there():
    result = tv.tv(noisy("camera"), SIGMA, iterations=7)
    assert result.extras["iterations"] == 7 and result.extras["gap"] > 1e-3


# --------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("params, message", [
    ({"solver": "fista"}, r"'solver' parameter of tv must be one of 'chambolle', "
                          r"'chambolle-pock'"),
    ({"weight": 0.0}, r"'weight' parameter of tv must be a float in \[0.001, 1\]"),
    ({"weight": "0.1"}, r"'weight' parameter of tv must be a float"),
    ({"iterations": 0}, r"'iterations' parameter of tv must be an int in \[1, 10000\]"),
    ({"tolerance": -1e-3}, r"'tolerance' parameter of tv must be a float in \[0, 0.01\]"),
    ({"lam": 0.1}, r"tv has no parameter 'lam'"),
])
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(denoisers.InvalidInput, match=message):
        tv.tv(np.full((8, 8), 0.5, np.float32), SIGMA, **params)


def test_the_staircase_demo_is_a_ramp_with_a_step_on_its_middle_row():
    """0.2 to 0.7 across the columns, a jump of 0.15 at the middle one, every row the same;
    seeded noise (seed 0 by default); the scanlines are the middle row; parameters go to tv."""
    demo = tv.staircase_demo(SIGMA, shape=(10, 40), weight=0.05)
    clean = demo["clean"]
    assert clean.dtype == np.float32 and demo["weight"] == 0.05
    expected = 0.2 + 0.5 * np.arange(40) / 39 + 0.15 * (np.arange(40) >= 20)
    np.testing.assert_allclose(clean, expected, atol=1e-7)
    noisy = noise.add_gaussian(np.tile(clean, (10, 1)), SIGMA, seed=0)
    np.testing.assert_array_equal(demo["noisy"], noisy[5])
    np.testing.assert_array_equal(demo["tv"], demo["image"][5])
    np.testing.assert_array_equal(demo["image"], tv.tv(noisy, SIGMA, weight=0.05).image)
    again = tv.staircase_demo(SIGMA, shape=(10, 40), weight=0.05, seed=0)
    np.testing.assert_array_equal(again["noisy"], demo["noisy"])
    other = tv.staircase_demo(SIGMA, shape=(10, 40), weight=0.05, seed=1)
    assert not np.array_equal(other["noisy"], demo["noisy"])


def test_the_trace_keeps_frames_spread_geometrically_up_to_the_cap():
    from denoisers.pde.evolution import MAX_FRAMES

    kept = sorted(tv._kept_iterations(10**6))
    assert kept[0] == 1 and kept[-1] == 10**6 and len(kept) == MAX_FRAMES - 1
    ratios = np.array(kept[5:]) / np.array(kept[4:-1])
    np.testing.assert_allclose(ratios, 10 ** (6 / (MAX_FRAMES - 2)), rtol=0.05)
    assert tv._kept_iterations(1) == {1} and tv._kept_iterations(0) == {1}
    assert tv._kept_iterations(3) == {1, 2, 3}


def test_the_weight_rule_is_the_documented_one_to_four_decimals():
    for sigma_255 in (5, 25, 50, 100):
        sigma = sigma_255 / 255
        assert tv.tv_weight(sigma) == round(1.37 * sigma**1.23, 4)


def test_a_primal_dual_step_is_algorithm_2_of_chambolle_and_pock(rng):
    """theta = 1 / sqrt(1 + 2 gamma t), t <- theta t, s <- s / theta with t s L² = 1 kept,
    and the extrapolation ubar = u' + theta (u' - u)."""
    f = tv._planes(rng.random((9, 8)).astype(np.float32))
    solver = tv._PrimalDual(f, 0.1)
    assert solver.tau * solver.sigma * tv.GRADIENT_NORM2 == pytest.approx(1.0)
    for _ in range(3):
        before, t = solver.u.copy(), solver.tau
        solver.step()
        theta = 1 / np.sqrt(1 + 2 * tv.PRIMAL_DUAL_GAMMA * t)
        assert solver.tau == pytest.approx(theta * t)
        assert solver.tau * solver.sigma * tv.GRADIENT_NORM2 == pytest.approx(1.0)
        np.testing.assert_allclose(solver.extrapolated, solver.u + theta * (solver.u - before),
                                   atol=1e-6)


def test_a_flat_image_has_nothing_to_remove():
    """Zero energy: the relative gap is 0, not a division by zero, and the image comes back."""
    flat = np.full((12, 10), 0.4, np.float32)
    for solver in SOLVERS:
        result = tv.tv(flat, SIGMA, solver=solver, trace=True)
        np.testing.assert_allclose(result.image, flat, atol=1e-6)
        assert result.extras["gap"] == 0.0


def test_a_tiny_image_of_small_energy_still_runs_to_the_tolerance(rng):
    """An energy below 1 (a few pixels) is no reason to stop: the result is a long run's."""
    small = (0.5 + 0.05 * rng.standard_normal((4, 5))).astype(np.float32)
    for solver in SOLVERS:
        quick = tv.tv(small, SIGMA, weight=0.02, solver=solver).image
        long = tv.tv(small, SIGMA, weight=0.02, solver=solver, tolerance=0.0,
                     iterations=3000).image
        np.testing.assert_allclose(quick, long, atol=2e-3)


def test_the_staircase_step_is_at_the_middle_column_of_an_odd_width():
    clean = tv.staircase_demo(SIGMA, shape=(6, 41), weight=0.05)["clean"]
    jumps = np.diff(clean.astype(np.float64))
    assert jumps[19] == pytest.approx(0.15 + 0.5 / 40, abs=1e-6)  # from column 19 to 20
    assert np.allclose(np.delete(jumps, 19), 0.5 / 40, atol=1e-6)
