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


# --------------------------------------------------------------------------- the parts, one by one


@pytest.mark.parametrize("solver", ["pnp_hqs", "pnp_admm", "red"])
def test_each_data_step_weighs_the_noise_variance_over_the_denoiser_s(monkeypatch, solver):
    """rho = lam sigma² / level², the levels falling geometrically from sigma_start to the
    noise (HQS, ADMM) or fixed (RED)."""
    from denoisers.inverse import solvers

    problem = inverse.make("deblur")
    y = problem.degrade(GREY[:24, :24])
    rhos = []
    real = type(problem).data_step

    def spying(self, z, measured, rho):
        rhos.append(rho)
        return real(self, z, measured, rho)

    monkeypatch.setattr(type(problem), "data_step", spying)
    settings = {"red": {"sigma_denoiser": 0.03, "lam": 2.0}}.get(
        solver, {"sigma_start": 0.1, "lam": 0.5})
    inverse.restore(problem, y, prior="gaussian", solver=solver, iterations=4, **settings)
    noise = problem.sigma
    if solver == "red":
        expected = [2.0 * noise**2 / 0.03**2] * 4
    else:
        expected = [0.5 * noise**2 / level**2 for level in np.geomspace(0.1, noise, 4)]
    np.testing.assert_allclose(rhos, expected, rtol=1e-12)
    np.testing.assert_allclose(solvers.levels(0.1, noise, 4), np.geomspace(0.1, noise, 4))


@pytest.mark.parametrize("name", list(inverse.PROBLEMS))
def test_every_problem_takes_a_noise_level_from_0_to_0_2(name):
    default = inverse.make(name).sigma
    assert default == (pytest.approx(2.55 / 255) if name == "deblur" else 0.0)
    assert inverse.make(name, sigma=0.2).sigma == 0.2
    with pytest.raises(InvalidInput, match=rf"the 'sigma' parameter of {name} must be a float "
                                           r"in \[0, 0\.2\]; got 0\.25"):
        inverse.make(name, sigma=0.25)
    with pytest.raises(InvalidInput, match="'sigma' parameter"):
        inverse.make(name, sigma=-0.01)
    sigma = next(p for p in type(inverse.make(name)).SETTINGS if p.name == "sigma")
    assert "noise" in sigma.help


def _moments(kernel):
    rows, cols = np.mgrid[0:kernel.shape[0], 0:kernel.shape[1]]
    centre = (kernel * rows).sum(), (kernel * cols).sum()
    dy, dx = rows - centre[0], cols - centre[1]
    covariance = np.array([[(kernel * dy * dy).sum(), (kernel * dy * dx).sum()],
                           [(kernel * dy * dx).sum(), (kernel * dx * dx).sum()]])
    return centre, covariance


@pytest.mark.parametrize("length, angle", [(15, 30.0), (9, 60.0), (8, 0.0), (10, 90.0),
                                           (7, 135.0), (21, 170.0), (9, 0.0), (9, 90.0)])
def test_a_motion_kernel_is_a_centred_line_at_its_angle(length, angle):
    """Sum 1, an odd side (length, or length + 1), its mass centred, spread along the
    direction anticlockwise from the horizontal (rows grow downwards) with the variance of a
    segment of that length (end to end, (length - 1)² / 12), and hardly across it (the
    anti-aliasing spreads a point over a pixel: at most 1/4 more either way)."""
    from denoisers.inverse.problems import motion_kernel

    kernel = motion_kernel(length, angle)
    side = length if length % 2 else length + 1
    assert kernel.shape == (side, side) and kernel.min() >= 0
    assert kernel.sum() == pytest.approx(1.0)
    centre, covariance = _moments(kernel)
    np.testing.assert_allclose(centre, (side // 2, side // 2), atol=1e-9)
    direction = np.array([-np.sin(np.radians(angle)), np.cos(np.radians(angle))])
    across = np.array([direction[1], -direction[0]])
    along_variance = direction @ covariance @ direction
    segment = (length - 1) ** 2 / 12
    assert segment <= along_variance <= segment * 1.03 + 0.25
    assert across @ covariance @ across <= 0.25


def test_a_gaussian_kernel_is_the_normalised_gaussian_of_its_width():
    from denoisers.inverse.problems import gaussian_kernel

    for width in (0.3, 1.6, 2.2):
        kernel = gaussian_kernel(width)
        radius = max(1, int(np.ceil(3 * width)))
        assert kernel.shape == (2 * radius + 1, 2 * radius + 1)
        dy, dx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
        expected = np.exp(-(dy**2 + dx**2) / (2 * width**2))
        np.testing.assert_allclose(kernel, expected / expected.sum(), rtol=1e-12)


def test_the_text_mask_writes_rows_of_text():
    from denoisers.inverse.problems import text_mask

    mask = text_mask((96, 80))
    assert mask.shape == (96, 80) and mask.dtype == bool
    assert 0.05 < mask.mean() < 0.5
    assert np.array_equal(mask, text_mask((96, 80), "Deep, Deep Trouble"))
    assert not np.array_equal(mask, text_mask((96, 80), "Another text"))
    rows = mask.any(axis=1)
    assert not rows[:2].any()  # a margin above the first row of text
    # rows of text separated by blank rows: several bands
    starts = np.flatnonzero(rows[1:] & ~rows[:-1])
    assert len(starts) >= 5
    assert mask.any(axis=0).mean() > 0.9  # the text runs across the whole width


@pytest.mark.parametrize("name", ["inpaint", "super_resolution"])
def test_sampling_starts_at_its_level_around_grey_on_the_measurements(monkeypatch, name):
    """With an identity 'denoiser' the ascent stops at its first step, showing where it
    started: grey plus noise of sigma_start, moved onto A x = y when constrained."""
    from denoisers.core import Result
    from denoisers.inverse import sampling

    monkeypatch.setattr(sampling, "run", lambda key, x, level: Result(x.astype(np.float32)))
    result = inverse.sample((40, 40), sigma_start=0.1, sigma_end=0.05, h0=0.05, start_seed=3)
    start = result.stages["step 1"].astype(np.float64)
    assert abs(start.mean() - 0.5) < 0.02 and start.std() == pytest.approx(0.1, rel=0.1)
    assert result.extras["steps"] == 1
    problem = inverse.make(name)
    clean = GREY[:32, :32]
    y = problem.degrade(clean)
    constrained = inverse.sample(clean.shape, problem=problem, y=y, sigma_start=0.05,
                                 sigma_end=0.01, h0=0.05)
    first = constrained.stages["step 1"].astype(np.float64)
    # A x = y but where the noise of the start took a pixel past [0, 1] and the stage clipped it
    assert np.median(np.abs(problem.forward(first) - y)) < 1e-3


def test_sampling_steps_follow_their_schedule_up_to_max_steps(monkeypatch):
    """A 'denoiser' that halves the distance to grey: step sizes h0 t / (1 + h0 (t - 1)),
    one per step, as many steps as allowed, progress rising to 1."""
    from denoisers.core import Result
    from denoisers.inverse import sampling

    monkeypatch.setattr(sampling, "run",
                        lambda key, x, level: Result((0.5 + 0.5 * (x - 0.5)).astype(np.float32)))
    seen: list[float] = []
    result = inverse.sample((16, 16), sigma_start=0.5, sigma_end=0.002, h0=0.05, max_steps=10,
                            beta=1.0, progress=seen.append)
    t = np.arange(1, 11)
    np.testing.assert_allclose(result.curves["step size"], 0.05 * t / (1 + 0.05 * (t - 1)))
    assert result.extras["steps"] == 10 and len(result.curves["sigma (0-255)"]) == 10
    assert len(seen) == 11 and seen[-1] == 1.0, seen
    assert 0 < seen[0] and all(a < b for a, b in zip(seen[:-2], seen[1:-1])), seen
    again = inverse.sample((16, 16), sigma_start=0.5, sigma_end=0.002, h0=0.05, max_steps=10,
                           beta=0.5, seed=0)
    assert np.array_equal(again.image, inverse.sample(
        (16, 16), sigma_start=0.5, sigma_end=0.002, h0=0.05, max_steps=10, beta=0.5).image)


def test_constrained_sampling_needs_both_the_problem_and_y():
    with pytest.raises(InvalidInput, match=r"^constrained sampling needs both a problem and its "
                                           r"degraded image y$"):
        inverse.sample((8, 8), problem=inverse.make("inpaint"))
    with pytest.raises(InvalidInput, match=r"the 'h0' parameter of sample must be"):
        inverse.sample((8, 8), h0=2.0)


def test_a_text_mask_problem_knows_the_pixels_the_text_leaves_uncovered():
    from denoisers.inverse.problems import text_mask

    known = inverse.make("inpaint", mask="text").known((48, 40, 3))
    assert known.shape == (48, 40) and known.dtype == np.float64
    np.testing.assert_array_equal(known, ~text_mask((48, 40)))


@pytest.mark.parametrize("image", [GREY[:40, :36], COLOUR[:40, :36]])
def test_the_inpainting_baseline_keeps_the_known_pixels_and_fills_each_channel(image):
    """scikit-image's biharmonic inpainting of the missing pixels only, channel by channel."""
    from skimage.restoration import inpaint_biharmonic

    problem = inverse.make("inpaint", missing=0.4)
    y = problem.degrade(image)
    estimate = problem.baseline(y)
    known = problem.known(image.shape) == 1
    np.testing.assert_allclose(estimate[known], y[known], atol=1e-6)
    channels = [y] if y.ndim == 2 else [y[..., c] for c in range(3)]
    expected = [inpaint_biharmonic(c.astype(np.float64), ~known) for c in channels]
    np.testing.assert_allclose(estimate, expected[0] if y.ndim == 2 else np.stack(expected, -1),
                               atol=1e-5)


def test_an_unbound_super_resolution_adjoint_of_colour_is_the_whole_canvas(rng):
    problem = inverse.make("super_resolution", factor=3)
    assert problem.adjoint(rng.random((5, 4, 3))).shape == (15, 12, 3)


def test_a_mosaic_must_be_grey():
    with pytest.raises(InvalidInput, match=r"^a Bayer mosaic has shape \(H, W\); got shape "
                                           r"\(8, 8, 3\)"):
        inverse.make("demosaic").baseline(np.zeros((8, 8, 3)))


def _shares_edges(size: int = 24) -> np.ndarray:
    """Black and white squares: a blurred, noisy copy leaves [0, 1]."""
    return np.kron(np.array([[0.0, 1.0], [1.0, 0.0]]), np.ones((size // 2, size // 2)))


@pytest.mark.parametrize("solver, iterations", [("pnp_hqs", 3), ("pnp_admm", 30)])
def test_restore_traces_its_iterations_as_documented(solver, iterations):
    """Stages: the start and at most KEPT_ITERATES iterates (the first and the last among
    them), clipped to [0, 1]; curves: the RMS of A x - y and the denoiser's level (0-255)
    per iteration; progress: the fraction done after each; params: what was used."""
    from denoisers.inverse import solvers

    problem = inverse.make("deblur")
    y = problem.degrade(_shares_edges(), seed=1)
    assert y.min() < 0 and y.max() > 1
    seen: list[float] = []
    result = inverse.restore(problem, y, prior="gaussian", solver=solver, iterations=iterations,
                             sigma_start=0.1, progress=seen.append, prior_params={"width": 0.6})
    assert seen == pytest.approx([(k + 1) / iterations for k in range(iterations)])
    kept = sorted(int(name.split()[1]) for name in result.stages if name != "start")
    assert kept[0] == 1 and kept[-1] == iterations
    assert len(kept) == min(iterations, solvers.KEPT_ITERATES)
    np.testing.assert_allclose(result.stages["start"], np.clip(y, 0, 1), atol=1e-7)
    for stage in result.stages.values():
        assert stage.dtype == np.float32 and stage.min() >= 0 and stage.max() <= 1
    np.testing.assert_allclose(result.curves["denoiser level"],
                               np.geomspace(0.1, problem.sigma, iterations) * 255)
    residual = result.curves["residual"]
    assert len(residual) == iterations
    final = np.sqrt(np.mean((problem.forward(result.image.astype(np.float64)) - y) ** 2))
    # the last iterate's, before the final clipping: near the clipped image's
    assert final / 2 < residual[-1] < final * 2
    params = result.extras["params"]
    assert params["solver"] == solver and params["prior"] == "gaussian"
    assert params["prior_params"] == {"width": 0.6} and params["iterations"] == iterations


def test_restore_takes_the_problem_s_own_iterations_and_first_level_and_red_its_own():
    problem = inverse.make("inpaint")
    y = problem.degrade(GREY[:16, :16])
    hqs = inverse.restore(problem, y, prior="gaussian")
    assert len(hqs.curves["residual"]) == problem.iterations == 20
    assert hqs.curves["denoiser level"][0] == pytest.approx(20.0)  # 20 / 255 for inpainting
    red = inverse.restore(problem, y, prior="gaussian", solver="red")
    assert len(red.curves["residual"]) == 20 and red.extras["params"]["sigma_denoiser"] == 5 / 255
    red = inverse.restore(inverse.make("deblur"), y, prior="gaussian", solver="red")
    assert len(red.curves["residual"]) == 20  # RED's own default, not the problem's 8


def test_restore_names_what_it_refuses():
    problem = inverse.make("deblur")
    for call, message in [
        (lambda: inverse.restore("deblur", GREY), r"^problem must come from "
                                                  r"denoisers\.inverse\.make; got 'deblur'$"),
        (lambda: inverse.restore(problem, GREY, solver="fista"),
         r"^solver must be one of pnp_hqs, pnp_admm, red; got 'fista'$"),
        (lambda: inverse.restore(problem, GREY, solver="red", lam=1000.0),
         r"the 'lam' parameter of red must be"),
        (lambda: inverse.restore(problem, GREY[0]), r"^degraded image must have shape"),
        (lambda: inverse.restore(problem, GREY, reference=GREY[0]), r"^reference must have shape"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            call()


def test_the_cnn_prior_is_the_default():
    problem = inverse.make("inpaint")
    result = inverse.restore(problem, problem.degrade(GREY[:16, :16]), iterations=1)
    assert result.extras["params"]["prior"] == "drunet"


def _transfer_by_roll(kernel, shape):
    padded = np.zeros(shape)
    padded[:kernel.shape[0], :kernel.shape[1]] = kernel
    return np.fft.fft2(np.roll(padded, (-(kernel.shape[0] // 2), -(kernel.shape[1] // 2)),
                               axis=(0, 1)))


@pytest.mark.parametrize("image", [GREY[:32, :30], COLOUR[:32, :30]])
def test_the_wiener_deconvolution_is_its_formula(image):
    """X = conj(H) Y / (|H|² + balance |L|²), L the discrete Laplacian, per channel."""
    problem = inverse.make("deblur", kernel="motion", length=7, angle=30.0)
    y = problem.degrade(image, seed=2).astype(np.float64)
    transfer = _transfer_by_roll(problem.kernel, y.shape[:2])
    laplacian = _transfer_by_roll(np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]), y.shape[:2])
    weights = np.conj(transfer) / (np.abs(transfer) ** 2 + 0.01 * np.abs(laplacian) ** 2)
    channels = [y] if y.ndim == 2 else [y[..., c] for c in range(3)]
    expected = [np.real(np.fft.ifft2(np.fft.fft2(c) * weights)) for c in channels]
    np.testing.assert_allclose(problem.wiener(y, 0.01),
                               expected[0] if y.ndim == 2 else np.stack(expected, -1), atol=1e-10)


@pytest.mark.parametrize("sigma, image", [(0.0, GREY), (0.02, GREY), (0.01, COLOUR)])
def test_the_deblurring_balance_leaves_the_noise_level_as_residual(sigma, image):
    """The discrepancy principle, precisely: the residual's RMS is sigma (0.5 / 255 for a
    noiseless blur), grey or colour."""
    problem = inverse.make("deblur", sigma=sigma)
    y = problem.degrade(image, seed=0).astype(np.float64)
    balance = problem.wiener_balance(y)
    residual = y - problem.forward(problem.wiener(y, balance))
    assert np.sqrt(np.mean(residual**2)) == pytest.approx(max(sigma, 0.5 / 255), rel=1e-4)


def test_keys_cubic_kernel_has_its_values_and_support():
    from denoisers.inverse.problems import _cubic

    np.testing.assert_allclose(_cubic(np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, -0.5, -3.0])),
                               [1.0, 0.5625, 0.0, -0.0625, 0.0, 0.0, 0.5625, 0.0])


def test_the_super_resolution_baseline_of_colour_is_bicubic_per_channel():
    from PIL import Image

    problem = inverse.make("super_resolution", factor=2)
    y = problem.degrade(COLOUR)
    estimate = problem.baseline(y)
    assert estimate.shape == COLOUR.shape
    for c in range(3):
        resized = Image.fromarray(y[..., c].astype(np.float32), mode="F").resize(
            (COLOUR.shape[1], COLOUR.shape[0]), Image.Resampling.BICUBIC)
        np.testing.assert_allclose(estimate[..., c], np.asarray(resized), atol=1e-6)


def test_an_unknown_problem_is_named_with_those_there_are():
    with pytest.raises(InvalidInput, match=r"^no inverse problem is called 'denoise'; the "
                                           r"problems are: deblur, inpaint, super_resolution, "
                                           r"demosaic$"):
        inverse.make("denoise")


def test_a_problem_checks_its_image_and_keeps_a_float_s_precision():
    problem = inverse.make("deblur")
    with pytest.raises(InvalidInput, match=r"^image must have shape \(H, W\) or \(H, W, 3\)"):
        problem.forward(np.zeros(9))
    x = GREY[:16, :16].astype(np.float64)
    tiny = problem.forward(x + 1e-9) - problem.forward(x)  # below float32's resolution at 0.5
    np.testing.assert_allclose(tiny, 1e-9, rtol=1e-3)
    np.testing.assert_allclose(problem.forward(x[..., None]), problem.forward(x))


def test_degrading_and_the_baselines_give_float32_and_seed_0_by_default():
    for name, image in (("inpaint", GREY), ("super_resolution", GREY), ("deblur", GREY),
                        ("demosaic", COLOUR)):
        problem = inverse.make(name)
        y = problem.degrade(image)
        assert y.dtype == np.float32, name
        np.testing.assert_array_equal(y, problem.degrade(image, seed=0))
        assert problem.baseline(y).dtype == np.float32, name


def test_an_unbound_problem_says_so_in_its_repr():
    assert repr(inverse.make("super_resolution", factor=4)) == \
        "make('super_resolution', factor=4, sigma=0.0)"


def test_restore_reports_the_problem_the_noise_it_used_and_its_time():
    from denoisers.inverse import solvers

    for problem in (inverse.make("deblur"), inverse.make("inpaint")):
        result = inverse.restore(problem, problem.degrade(GREY[:16, :16]), prior="gaussian",
                                 iterations=2)
        assert result.extras["problem"] == repr(problem)
        used = result.extras["params"]["noise level used"]
        assert used == (problem.sigma or solvers.NOISE_FLOOR)
        assert isinstance(result.seconds, float) and 0 < result.seconds < 60


class _Constant:
    """A 'denoiser' that answers ``value`` everywhere and checks the level it is given."""

    def __init__(self, value):
        self.value, self.levels = value, []

    def __call__(self, key, x, level):
        from denoisers.core import Result

        assert 0 <= level <= 1, level
        self.levels.append(level)
        return Result(np.full(x.shape, self.value, np.float32))


def test_a_sampling_step_is_the_ascent_written_out(monkeypatch):
    """Kadkhodaie & Simoncelli's step: x + h (D(x) - x) + gamma n, with
    gamma² = ((1 - beta h)² - (1 - h)²) sigma² and sigma the RMS of D(x) - x; the start
    0.5 + sigma_start n0; the curves and the parameters as recorded."""
    from denoisers.inverse import sampling

    monkeypatch.setattr(sampling, "run", _Constant(0.5))
    settings = {"sigma_start": 0.05, "sigma_end": 0.002, "h0": 0.2, "beta": 0.5,
                "max_steps": 10}
    result = inverse.sample((12, 12), seed=4, start_seed=7, **settings)
    start = 0.5 + 0.05 * np.random.default_rng(7).standard_normal((12, 12))
    level = np.sqrt(np.mean((0.5 - start) ** 2))
    gamma = np.sqrt((1 - 0.5 * 0.2) ** 2 - (1 - 0.2) ** 2) * level
    first = start + 0.2 * (0.5 - start) + gamma * np.random.default_rng(4).standard_normal((12, 12))
    np.testing.assert_allclose(result.stages["step 1"], first, atol=1e-6)
    assert result.stages["step 1"].dtype == np.float32
    assert result.curves["sigma (0-255)"][0] == pytest.approx(level * 255)
    assert result.extras["params"] == {"prior": "dncnn_bf", "seed": 4, "start_seed": 7,
                                       **settings}
    assert isinstance(result.seconds, float) and 0 < result.seconds < 60


def test_sampling_keeps_at_most_12_frames_from_the_first_to_the_last(monkeypatch):
    from denoisers.inverse import sampling

    monkeypatch.setattr(sampling, "run", _Constant(0.5))
    result = inverse.sample((8, 8), sigma_start=0.05, sigma_end=0.002, h0=0.001, beta=1.0,
                            max_steps=40)
    steps = sorted(int(name.split()[1]) for name in result.stages)
    assert result.extras["steps"] == 40
    assert steps[0] == 1 and steps[-1] == 40
    assert sampling.KEPT_FRAMES - 2 <= len(steps) <= sampling.KEPT_FRAMES  # rounding merges a few


@pytest.mark.parametrize("value", [1.5, -0.5])
def test_a_sample_and_its_frames_stay_in_the_unit_range(monkeypatch, value):
    from denoisers.inverse import sampling

    monkeypatch.setattr(sampling, "run", _Constant(value))
    result = inverse.sample((8, 8), sigma_start=0.05, sigma_end=0.002, h0=0.5, max_steps=10)
    np.testing.assert_array_equal(result.image, np.full((8, 8), min(max(value, 0), 1)))
    assert result.image.dtype == np.float32
    for frame in result.stages.values():
        assert frame.min() >= 0 and frame.max() <= 1


def test_sampling_never_asks_the_denoiser_for_a_level_above_1(monkeypatch):
    """A start far from the denoiser's answer: the step's RMS exceeds 1, the level asked
    for stays 1."""
    from denoisers.inverse import sampling

    constant = _Constant(0.0)
    monkeypatch.setattr(sampling, "run", constant)
    inverse.sample((8, 8), sigma_start=1.0, max_steps=10)
    assert constant.levels[1] == 1.0  # the first step's RMS was above 1


def test_constrained_sampling_keeps_the_measurements_at_every_step(monkeypatch):
    from denoisers.inverse import sampling

    monkeypatch.setattr(sampling, "run", _Constant(0.5))
    problem = inverse.make("inpaint")
    clean = GREY[:16, :16]
    y = problem.degrade(clean)
    result = inverse.sample(clean.shape, problem=problem, y=y, sigma_start=0.05, sigma_end=0.002,
                            h0=0.2, beta=0.2, max_steps=10)
    for frame in result.stages.values():
        np.testing.assert_allclose(problem.forward(frame.astype(np.float64)), y, atol=1e-6)
    with pytest.raises(InvalidInput, match=r"^degraded image must have shape"):
        inverse.sample(clean.shape, problem=problem, y=np.zeros(5))
