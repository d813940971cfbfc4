"""Variance stabilisation (denoisers/stabilise.py): the generalised Anscombe transform makes
Poisson-Gaussian noise's standard deviation about 1, and its exact unbiased inverse returns
the intensity whose expected transformed value it is given, where the algebraic inverse
lands measurably too dark at low counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from denoisers import stabilise
from denoisers.core import InvalidInput
from denoisers.noise import PRESETS, PoissonGaussian, add_poisson_gaussian
from denoisers.stabilise import anscombe, inverse_anscombe

#: The presets and pure Poisson noise, at the intensities the stabilisation tests use: the
#: fewest counts (y / a) among them is 4.2 (night at 0.05).
MODELS = {**PRESETS, "poisson": PoissonGaussian(0.01, 0)}
LEVELS = (0.05, 0.2, 0.5, 0.9)
SIDE = 256


def _noisy(level: float, model: PoissonGaussian, seed: int, side: int = SIDE) -> np.ndarray:
    return add_poisson_gaussian(np.full((side, side), level, np.float32), model, seed=seed)


def _sigma2(model: PoissonGaussian) -> float:
    return model.b / model.a**2


def _algebraic(estimate: float, model: PoissonGaussian) -> float:
    """The algebraic inverse a ((D/2)^2 - 3/8 - s2), biased at low counts."""
    return model.a * ((estimate / 2) ** 2 - 3 / 8 - _sigma2(model))


def _reference_expectation(count: float, sigma2: float) -> float:
    """E[f(z) | count] computed independently of the module: scipy's Poisson pmf and adaptive
    quadrature of each Gaussian integral (f(k) itself for pure Poisson noise)."""
    ks = np.arange(int(count + 12 * np.sqrt(count) + 12) + 1)
    sigma = math.sqrt(sigma2)
    inner = []
    for k in ks:
        centre = k + 3 / 8 + sigma2
        if sigma == 0:
            inner.append(2 * np.sqrt(centre))
            continue
        low, high = max(0.0, centre - 14 * sigma), centre + 14 * sigma
        density = 1 / (sigma * math.sqrt(2 * math.pi))
        inner.append(integrate.quad(
            lambda x: 2 * math.sqrt(x) * density * math.exp(-((x - centre) / sigma) ** 2 / 2),
            low, high, points=[centre], epsabs=1e-13, epsrel=1e-12, limit=200)[0])
    return float(stats.poisson.pmf(ks, count) @ np.array(inner))


def _far_expectation(counts: np.ndarray, sigma2: float) -> np.ndarray:
    """E[f(z) | count] for counts where max(., 0) never bites (every Gaussian lies far above
    0): Poisson pmf times a 64-node Gauss-Hermite mean, computed here, not by the module."""
    low, top = counts.min(), counts.max()
    ks = np.arange(max(0, int(low - 12 * np.sqrt(low) - 12)), int(top + 12 * np.sqrt(top) + 12))
    nodes, weights = np.polynomial.hermite_e.hermegauss(64)
    inner = 2 * np.sqrt(ks[:, None] + 3 / 8 + sigma2 + np.sqrt(sigma2) * nodes) @ (
        weights / weights.sum())
    return stats.poisson.pmf(ks[None, :], counts[:, None]) @ inner


@pytest.mark.parametrize("name", MODELS)
def test_the_transform_makes_the_noise_standard_deviation_about_one(name):
    model = MODELS[name]
    for seed, level in enumerate(LEVELS):
        spread = float(anscombe(_noisy(level, model, seed), model).std())
        assert abs(spread - 1) < 0.05, (name, level, level / model.a, spread)


def test_low_counts_stabilise_less_well():
    """Below a count of about 1 the transformed noise is clearly weaker than 1 (the known
    limit of the transform), so the test above is not passing by being vacuous."""
    model = PoissonGaussian(0.05, 0)
    spread = float(anscombe(_noisy(0.02, model, seed=7), model).std())  # 0.4 counts
    assert 0.5 < spread < 0.75, spread


@pytest.mark.parametrize("name", MODELS)
def test_the_exact_inverse_of_the_mean_recovers_the_intensity(name):
    """The mean of the transformed noisy image estimates E[f | y]; the inverse of it is y to
    within four standard errors of that mean (carried through the inverse's slope)."""
    model = MODELS[name]
    for seed, level in enumerate(LEVELS, start=10):
        transformed = anscombe(_noisy(level, model, seed), model).astype(np.float64)
        mean, error = transformed.mean(), transformed.std() / np.sqrt(transformed.size)
        at = np.array([[mean - error, mean], [mean + error, mean]])
        low, estimate, high = inverse_anscombe(at, model).astype(np.float64)[[0, 0, 1], [0, 1, 0]]
        assert abs(estimate - level) <= 4 * (high - low) / 2 + 1e-6, (name, level, estimate)


def test_at_low_counts_the_exact_inverse_beats_the_algebraic_one():
    """At 0.4 counts (a = 0.05, y = 0.02) the algebraic inverse is about 0.005 too dark (a
    quarter of the intensity); the exact one is within its Monte-Carlo error (about 6e-5)."""
    for model in (PoissonGaussian(0.05, 0), PoissonGaussian(0.05, 1e-4)):
        transformed = anscombe(_noisy(0.02, model, seed=3, side=512), model).astype(np.float64)
        mean = transformed.mean()
        exact = float(inverse_anscombe(np.full((2, 2), mean), model)[0, 0])
        algebraic = _algebraic(mean, model)
        assert abs(exact - 0.02) < 3e-4, (model, exact)
        assert algebraic < 0.02 - 3e-3, (model, algebraic)
        assert abs(algebraic - 0.02) > 10 * abs(exact - 0.02), (model, exact, algebraic)


def test_pure_gaussian_noise_is_scaled_and_unscaled():
    model = PoissonGaussian(0, 0.01)
    image = np.random.default_rng(0).uniform(-0.2, 1.2, (16, 16)).astype(np.float32)
    transformed = anscombe(image, model)
    np.testing.assert_allclose(transformed, image / 0.1, rtol=1e-6)
    np.testing.assert_allclose(inverse_anscombe(transformed, model), image, rtol=1e-6,
                               atol=1e-7)
    assert inverse_anscombe(np.full((2, 2), -3.0), model)[0, 0] == pytest.approx(-0.3)


@pytest.mark.parametrize("sigma2", [0.0, 0.04, 2.08, 23.4])
def test_the_inverse_of_the_exact_expectation_is_the_intensity(sigma2):
    """Round trip against an expectation computed independently (scipy quadrature): the
    table's interpolation is good to about 1e-5 counts."""
    a = 0.01
    model = PoissonGaussian(a, sigma2 * a**2)
    for count in (0.0, 0.05, 0.4, 3.0, 30.0):
        expected = _reference_expectation(count, sigma2)
        recovered = float(inverse_anscombe(np.full((2, 2), expected), model)[0, 0])
        assert abs(recovered / a - count) <= 2e-5 + 1e-5 * count, (sigma2, count, recovered)


def test_the_gaussian_integral_matches_adaptive_quadrature_on_both_sides_of_the_switch():
    """E[2 sqrt(max(X, 0))], X ~ N(c, s^2): closed form below c = 8 s, Gauss-Hermite above."""
    for sigma in (0.2, 1.0, 4.0):
        centres = sigma * np.array([1.3, 2.0, 4.0, 7.9, 8.1, 12.0, 30.0])
        ours = stabilise._rectified_sqrt_mean(centres, sigma)
        for centre, value in zip(centres, ours, strict=True):
            reference = integrate.quad(
                lambda x, c=centre: 2 * math.sqrt(x) * stats.norm.pdf(x, c, sigma),
                max(0.0, centre - 14 * sigma), centre + 14 * sigma, points=[centre],
                epsabs=1e-13, epsrel=1e-12, limit=200)[0]
            assert value == pytest.approx(reference, rel=1e-10), (sigma, centre)


@pytest.mark.parametrize(("count", "sigma2"), [(0.4, 0.04), (3.0, 2.08), (0.7, 0.0)])
def test_the_reference_expectation_matches_monte_carlo(count, sigma2):
    """The quadrature reference above is itself right: the mean of f over a million draws of
    z = Poisson(count) + N(0, sigma2) agrees with it within four standard errors."""
    rng = np.random.default_rng(42)
    z = rng.poisson(count, 1_000_000) + np.sqrt(sigma2) * rng.standard_normal(1_000_000)
    f = 2 * np.sqrt(np.maximum(z + 3 / 8 + sigma2, 0))
    assert abs(f.mean() - _reference_expectation(count, sigma2)) < 4 * f.std() / 1000


@pytest.mark.parametrize("sigma2", [0.0, 2.08, 23.4, stabilise.LAMBDA_MAX])
def test_beyond_the_table_the_asymptotic_inverse_is_within_the_stated_bound(sigma2):
    """Past the table's end (1000 counts) the asymptotic inverse stands in for the exact one:
    within COUNT_BOUND = 3.5e-5 counts (s2 = 1000 is the worst case: 3.127e-5 at 1001)."""
    counts = stabilise.LAMBDA_MAX * np.array([1.001, 2.0, 10.0])
    recovered = stabilise._counts(_far_expectation(counts, sigma2), sigma2)
    assert np.all(np.abs(recovered - counts) <= stabilise.COUNT_BOUND), recovered - counts


@pytest.mark.parametrize("sigma2", [1e4, 1e6])
def test_without_a_table_for_large_read_noise_the_inverse_is_within_the_bound(sigma2):
    """From s2 + 3/8 = 1e4 up no table is built: the asymptotic inverse is within 1.1 / (8 s2)
    counts of the exact one at every count (1.2501e-5 measured at s2 = 1e4), plus the
    rounding of the reference expectation, which float64 holds to about 1e-13 of its size
    (1e-13 * 2 s2 counts, 2e-7 at s2 = 1e6)."""
    stabilise._table.cache_clear()
    counts = np.array([0.0, 1.0, 10.0, 1000.0])
    recovered = stabilise._counts(_far_expectation(counts, sigma2), sigma2)
    bound = 1.1 / (8 * sigma2) + 1e-12 * sigma2
    assert np.all(np.abs(recovered - counts) <= bound), recovered - counts
    assert bound <= stabilise.COUNT_BOUND
    assert stabilise._table.cache_info().currsize == 0


@pytest.mark.parametrize("sigma2", [0.0, 1e-3, 0.1, 1.0, 10.0, 100.0, 1e3, 9e3])
def test_the_table_increases_and_interpolates_to_a_hundred_thousandth_of_a_count(sigma2):
    expected, root = stabilise._table(sigma2)
    assert np.all(np.diff(expected) > 0) and np.all(np.diff(root) > 0)
    grid = stabilise._LAMBDAS
    between = np.sqrt(grid[1:-1] * grid[2:])  # geometric midpoints, where the error peaks
    recovered = stabilise._counts(stabilise._expected(between, sigma2), sigma2)
    assert np.all(np.abs(recovered - between) <= 1e-5 * (1 + between))


def test_estimates_below_the_expectation_at_black_map_to_black():
    model = PRESETS["night"]
    floor = stabilise._table(_sigma2(model))[0][0]
    out = inverse_anscombe(np.array([[floor, floor - 0.5], [-3.0, 0.0]]), model)
    assert np.all(out == 0)


def test_colour_images_keep_their_shape_in_float32():
    model = PRESETS["indoors"]
    image = np.random.default_rng(1).uniform(0, 1, (8, 9, 3)).astype(np.float32)
    transformed = anscombe(image, model)
    back = inverse_anscombe(transformed, model)
    assert transformed.shape == back.shape == (8, 9, 3)
    assert transformed.dtype == back.dtype == np.float32
    # the inverse of f(y) is not y (it is unbiased for E[f], not f), but close at these counts
    np.testing.assert_allclose(back, image, atol=model.a / 2)


def test_an_integer_estimate_is_taken_as_values_not_as_an_8_bit_image():
    model = PRESETS["night"]
    as_integers = inverse_anscombe(np.full((3, 3), 7, np.uint8), model)
    np.testing.assert_array_equal(as_integers, inverse_anscombe(np.full((3, 3), 7.0), model))


@pytest.mark.parametrize("model", [0.01, "night", (0.01, 1e-4), None])
def test_a_model_that_is_not_poisson_gaussian_is_refused(model):
    image = np.zeros((4, 4), np.float32)
    for function in (anscombe, inverse_anscombe):
        with pytest.raises(InvalidInput, match="noise model must be a PoissonGaussian"):
            function(image, model)


@pytest.mark.parametrize("array", [np.zeros((2, 4, 4, 3)), np.zeros(5), np.zeros((4, 4, 2)),
                                   np.full((4, 4), np.nan)])
def test_an_array_that_is_not_an_image_is_refused(array):
    model = PRESETS["daylight"]
    with pytest.raises(InvalidInput, match="image"):
        anscombe(array, model)
    with pytest.raises(InvalidInput, match="estimate"):
        inverse_anscombe(array, model)
