"""The inverse problems and the plug-and-play / RED solvers (denoisers.inverse)."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from denoisers import InvalidInput, inverse
from denoisers.metrics import psnr

GREY = data.camera()[200:264, 220:284].astype(np.float32) / 255
COLOUR = data.astronaut()[100:164, 180:244].astype(np.float32) / 255

#: (problem, settings, image): every operator, including the non-default choices.
CASES = [
    ("deblur", {}, GREY),
    ("deblur", {"kernel": "motion", "length": 9, "angle": 60.0}, COLOUR),
    ("inpaint", {}, GREY),
    ("inpaint", {"mask": "text"}, COLOUR),
    ("super_resolution", {"factor": 2}, GREY),
    ("super_resolution", {"factor": 3}, COLOUR),
    ("super_resolution", {"factor": 4}, GREY[:61, :59]),
    ("demosaic", {}, COLOUR),
]
IDS = [f"{name}-{'-'.join(map(str, s.values())) or 'default'}-{'x'.join(map(str, im.shape))}"
       for name, s, im in CASES]


@pytest.mark.parametrize(("name", "settings", "image"), CASES, ids=IDS)
def test_adjoint_passes_the_dot_product_test(name, settings, image) -> None:
    """<A x, y> = <x, A^T y> for random x and y."""
    problem = inverse.make(name, shape=image.shape, **settings)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(image.shape)
    ax = problem.forward(x)
    y = rng.standard_normal(ax.shape)
    left, right = np.sum(ax * y), np.sum(x * problem.adjoint(y))
    assert abs(left - right) <= 1e-5 * abs(left)


def _dense(function, shape: tuple[int, ...]) -> np.ndarray:
    """The matrix of a linear ``function`` on arrays of ``shape``, column by column."""
    columns = []
    for index in range(int(np.prod(shape))):
        basis = np.zeros(int(np.prod(shape)))
        basis[index] = 1
        columns.append(np.ravel(function(basis.reshape(shape))))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize(("name", "settings", "shape"), [
    ("deblur", {"width": 1.0}, (9, 10)),
    ("deblur", {"kernel": "motion", "length": 5}, (9, 9, 3)),
    ("inpaint", {}, (8, 9, 3)),
    ("super_resolution", {"factor": 2}, (8, 10)),
    ("super_resolution", {"factor": 3}, (9, 6, 3)),
    ("demosaic", {}, (6, 8, 3)),
])
def test_data_step_solves_its_problem_exactly(name, settings, shape) -> None:
    """data_step(z, y, rho) = argmin ||A x - y||^2 + rho ||x - z||^2, against a dense solve."""
    problem = inverse.make(name, **settings)
    rng = np.random.default_rng(2)
    z = rng.standard_normal(shape)
    y = problem.canvas_forward(rng.standard_normal(shape))
    rho = 0.37
    matrix = _dense(problem.canvas_forward, shape)
    normal = matrix.T @ matrix + rho * np.eye(matrix.shape[1])
    expected = np.linalg.solve(normal, matrix.T @ y.ravel() + rho * z.ravel()).reshape(shape)
    np.testing.assert_allclose(problem.data_step(z, y, rho), expected, atol=1e-9)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_super_resolution_of_any_size_comes_back_at_that_size(factor: int) -> None:
    clean = GREY[:61, :59]
    problem = inverse.make("super_resolution", factor=factor, shape=clean.shape)
    y = problem.degrade(clean)
    assert y.shape == (-(-61 // factor), -(-59 // factor))
    assert problem.baseline(y).shape == clean.shape
    assert problem.adjoint(y).shape == clean.shape
    assert psnr(clean, problem.baseline(y)) > 20


def test_degrade_is_seeded_and_adds_the_noise_it_names() -> None:
    problem = inverse.make("deblur")
    assert problem.sigma == pytest.approx(2.55 / 255)
    first = problem.degrade(GREY, seed=3)
    np.testing.assert_array_equal(first, problem.degrade(GREY, seed=3))
    assert not np.array_equal(first, problem.degrade(GREY, seed=4))
    assert np.std(first - problem.forward(GREY)) == pytest.approx(2.55 / 255, rel=0.1)
    noiseless = inverse.make("inpaint")
    np.testing.assert_array_equal(noiseless.degrade(GREY, seed=3), noiseless.degrade(GREY, 4))


def test_operators_do_what_they_say() -> None:
    """A blur keeps a flat image flat; inpainting zeroes the missing fraction; a Bayer
    mosaic of a pure red image is red at the even-even sites only."""
    flat = np.full((32, 32), 0.4)
    np.testing.assert_allclose(inverse.make("deblur").forward(flat), flat, atol=1e-12)
    kept = inverse.make("inpaint", missing=0.3).forward(np.ones((100, 100)))
    assert np.mean(kept == 0) == pytest.approx(0.3, abs=0.02)
    red = np.zeros((4, 4, 3))
    red[..., 0] = 1
    mosaic = inverse.make("demosaic").forward(red)
    np.testing.assert_array_equal(mosaic, np.tile([[1, 0], [0, 0]], (2, 2)))


@pytest.mark.parametrize("name", list(inverse.PROBLEMS))
def test_plug_and_play_with_the_cnn_prior_beats_the_baseline(name: str) -> None:
    clean = COLOUR if name == "demosaic" else GREY
    problem = inverse.make(name)
    y = problem.degrade(clean, seed=0)
    result = inverse.restore(problem, y, prior="drunet", reference=clean)
    assert result.image.shape == clean.shape and result.image.dtype == np.float32
    gain = psnr(clean, result.image) - psnr(clean, problem.baseline(y))
    assert gain > 0.5, f"{name}: {gain:.2f} dB over the baseline"
    curve = result.curves["PSNR (dB)"]
    assert len(curve) == problem.iterations
    assert curve[-1] == pytest.approx(psnr(clean, result.image), abs=1e-4)


@pytest.mark.parametrize("solver", ["pnp_admm", "red"])
def test_every_solver_improves_on_the_degraded_image(solver: str) -> None:
    problem = inverse.make("deblur")
    y = problem.degrade(GREY, seed=0)
    result = inverse.restore(problem, y, prior="drunet", solver=solver, iterations=6)
    assert psnr(GREY, result.image) > psnr(GREY, y) + 1.0


def test_restore_is_deterministic_and_the_reference_only_feeds_the_curve() -> None:
    problem = inverse.make("super_resolution")
    y = problem.degrade(GREY)
    first = inverse.restore(problem, y, prior="tv", iterations=3)
    second = inverse.restore(problem, y, prior="tv", iterations=3, reference=GREY)
    np.testing.assert_array_equal(first.image, second.image)
    assert "PSNR (dB)" not in first.curves and len(second.curves["PSNR (dB)"]) == 3
    assert len(first.curves["residual"]) == 3 and first.extras["params"]["prior"] == "tv"


@pytest.mark.parametrize(("cores", "running", "given"), [(2, 0, 2), (2, 2, 1), (4, 2, 2)])
def test_restore_runs_the_denoiser_on_the_cores_it_is_given_and_gives_the_count_back(
        monkeypatch: pytest.MonkeyPatch, cores: int, running: int, given: int) -> None:
    """Alone, a restoration's network runs on every core; beside other computations, on
    its share of them (denoisers.threads.workers); the thread count comes back after."""
    import torch

    from denoisers import threads
    from denoisers.inverse import solvers

    counts = []

    def counting(key, x, sigma, **params):
        counts.append(torch.get_num_threads())
        return real(key, x, sigma, **params)

    real = solvers.run
    monkeypatch.setattr(solvers, "run", counting)
    monkeypatch.setenv(threads.WORKERS_VARIABLE, str(cores))
    monkeypatch.setattr(threads, "_running", running)
    before = torch.get_num_threads()
    problem = inverse.make("deblur")
    inverse.restore(problem, problem.degrade(GREY), prior="tv", iterations=2)
    assert counts == [given, given] and torch.get_num_threads() == before


@pytest.mark.parametrize(("call", "message"), [
    (lambda: inverse.make("denoise"), "no inverse problem is called 'denoise'"),
    (lambda: inverse.make("deblur", width=50.0), "width"),
    (lambda: inverse.make("super_resolution", factor=5), "factor"),
    (lambda: inverse.make("demosaic").degrade(GREY), "needs a colour image"),
    (lambda: inverse.restore(inverse.make("deblur"), GREY, prior="nope"), "no method"),
    (lambda: inverse.restore(inverse.make("deblur"), GREY, solver="fista"), "solver must be"),
    (lambda: inverse.restore(inverse.make("deblur"), GREY, iterations=0), "iterations"),
    (lambda: inverse.restore(inverse.make("deblur"), GREY, prior="tv",
                             prior_params={"weight": -1.0}), "weight"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call()


def test_an_unconstrained_sample_is_deterministic_and_its_noise_falls() -> None:
    settings = {"sigma_start": 0.5, "sigma_end": 0.05, "h0": 0.05}
    first = inverse.sample((24, 24), seed=1, **settings)
    again = inverse.sample((24, 24), seed=1, **settings)
    np.testing.assert_array_equal(first.image, again.image)
    other = inverse.sample((24, 24), seed=2, **settings)
    assert not np.array_equal(first.image, other.image)
    sigmas = first.curves["sigma (0-255)"]
    assert sigmas[-1] <= 0.05 * 255 < sigmas[0] and first.extras["steps"] == len(sigmas)
    assert first.image.shape == (24, 24) and first.stages


@pytest.mark.parametrize(("name", "clean"), [("inpaint", GREY[:32, :32]),
                                             ("super_resolution", GREY[:31, :33])])
def test_a_constrained_sample_keeps_the_measurements(name: str, clean: np.ndarray) -> None:
    """Every sample explains the degraded image: A x = y up to the final clipping."""
    problem = inverse.make(name)
    y = problem.degrade(clean)
    result = inverse.sample(clean.shape, problem=problem, y=y, sigma_start=0.3, sigma_end=0.05,
                            h0=0.05)
    assert result.image.shape == clean.shape
    assert np.abs(problem.forward(result.image) - y).max() < 0.05
    assert psnr(clean, result.image) > psnr(clean, np.full_like(clean, 0.5)) + 3


def test_pseudo_inverse_explains_the_measurements_with_the_smallest_image() -> None:
    rng = np.random.default_rng(5)
    for problem, shape in ((inverse.make("inpaint"), (10, 10)),
                           (inverse.make("super_resolution", factor=3), (12, 9)),
                           (inverse.make("demosaic"), (6, 6, 3))):
        x = rng.standard_normal(shape)
        y = problem.canvas_forward(x)
        exact = problem.pseudo_inverse(y)
        np.testing.assert_allclose(problem.canvas_forward(exact), y, atol=1e-9)
        # the smallest solution: orthogonal to the null space (x - exact lies in it)
        assert abs(np.sum(exact * (x - exact))) < 1e-8 * np.sum(x * x)
    with pytest.raises(InvalidInput, match="constrained sampling"):
        inverse.make("deblur").pseudo_inverse(np.zeros((8, 8)))


def test_the_deblurring_baseline_leaves_a_residual_of_the_noise_level() -> None:
    """The discrepancy principle: the Wiener-type estimate explains y up to noise of std sigma,
    and it is sharper than the blurred input."""
    problem = inverse.make("deblur")
    clean = data.camera()[::2, ::2].astype(np.float32) / 255
    y = problem.degrade(clean, seed=0)
    estimate = problem.baseline(y)
    residual = y - problem.forward(estimate.astype(np.float64))
    assert np.sqrt(np.mean(residual**2)) == pytest.approx(problem.sigma, rel=0.05)
    assert psnr(clean, estimate) > psnr(clean, y) + 1


def test_a_problem_answers_the_same_whatever_was_asked_of_it_before():
    """No hidden state: degrading an image of another shape changes nothing a problem
    says afterwards, and binding gives a new problem that crops its canvas to the shape."""
    problem = inverse.make("super_resolution", factor=4)
    canvas = np.random.default_rng(0).random((64, 60))
    before = problem.finish(canvas), problem.adjoint(canvas[::4, ::4])
    problem.degrade(GREY[:61, :59])
    after = problem.finish(canvas), problem.adjoint(canvas[::4, ::4])
    assert all(np.array_equal(a, b) for a, b in zip(before, after))
    assert problem.shape is None and before[0].shape == (64, 60)
    bound = problem.bound((61, 59))
    assert bound is not problem and problem.shape is None
    assert bound.finish(canvas).shape == bound.adjoint(canvas[::4, ::4]).shape == (61, 59)
    assert repr(bound) == "make('super_resolution', factor=4, sigma=0.0).bound((61, 59))"
