"""Drawing images from the prior implicit in a denoiser (Kadkhodaie & Simoncelli 2021).

A denoiser trained on white Gaussian noise knows, by Tweedie's (Miyasawa's)
formula, the gradient of the log-density of noisy images: its residual
``D(y, s) - y`` equals ``s^2 grad log p_s(y)``. Starting from pure noise
and taking small steps up that gradient, while adding back a little fresh
noise, climbs from a blur of everything to one particular image: a sample
of what the denoiser believes images look like. Kadkhodaie & Simoncelli's
ascent sets its step from the denoiser's own residual: the effective noise
``sigma_t = ||d_t|| / sqrt(N)`` falls as the image forms, and ``beta``
controls how much fresh noise is injected (1: none, a deterministic ascent;
small: a more random one).

Constrained, the same ascent keeps a problem's measurements exactly: the
step is the denoiser's residual in the directions the measurements do not
see, plus the correction that makes ``A x`` equal to them
(:meth:`~denoisers.inverse.problems.Problem.pseudo_inverse`), so different
seeds give different images that all explain the same degraded input: what
varies between them is what the prior is unsure about.

References
----------
Z. Kadkhodaie and E. P. Simoncelli, "Stochastic solutions for linear inverse
problems using the prior implicit in a denoiser", Advances in Neural
Information Processing Systems 34 (NeurIPS 2021), pp. 13242-13254.
https://arxiv.org/abs/2007.13640
K. Miyasawa, "An empirical Bayes estimator of the mean of a normal
population", Bull. Inst. Internat. Statist. 38, 1961, pp. 181-188.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .. import get, run
from ..core import Float, Int, InvalidInput, Progress, Result, as_image, check_params, report
from ..threads import one_torch_thread
from .problems import Problem

SAMPLING = (
    Float("sigma_start", 0.05, 1.0, default=1.0,
          help="Standard deviation of the noise the ascent starts from (0-1 scale)."),
    Float("sigma_end", 0.002, 0.2, default=0.01,
          help="The ascent stops when the denoiser's residual is this small."),
    Float("h0", 0.001, 0.5, default=0.01,
          help="First step size; the steps grow towards 1 as h0 t / (1 + h0 (t - 1))."),
    Float("beta", 0.01, 1.0, default=0.5,
          help="1 injects no fresh noise (a deterministic ascent); smaller values, more."),
    Int("max_steps", 10, 5000, default=1000, help="A bound on the number of steps."),
)
#: At most this many frames of the trajectory are kept.
KEPT_FRAMES = 12


def sample(shape: tuple[int, ...], prior: str = "dncnn_bf", *, problem: Problem | None = None,
           y: Any = None, seed: int = 0, start_seed: int = 0, progress: Progress | None = None,
           **settings: Any) -> Result:
    """One image drawn from the prior implicit in the registered denoiser ``prior``.

    Parameters
    ----------
    shape : tuple
        (H, W) or (H, W, 3): the canvas of an unconditional sample; with a
        ``problem``, the shape of the image it restores.
    prior : str
        A registry key; the denoiser is called with the current noise level.
        The default, the bias-free DnCNN, is blind and keeps removing noise
        up to sigma 1 (``python -m benchmarks.inverse``, second table);
        the noise-conditional networks stop at their training range
        (sigma 100 / 255): start them there (``sigma_start``).
    problem, y : optional
        A problem from :func:`denoisers.inverse.make` and its degraded
        image: the sample then keeps ``A x = y`` (inpainting,
        super-resolution, demosaicing).
    seed : int
        Seed of the noise injected along the way: samples that share
        ``start_seed`` and differ in ``seed`` start from the same noise.
    start_seed : int
        Seed of the noise the ascent starts from.
    progress : callable, optional
        Receives the fraction of the way from ``sigma_start`` to ``sigma_end``.
    **settings
        :data:`SAMPLING`: ``sigma_start``, ``sigma_end``, ``h0``, ``beta``, ``max_steps``.

    Returns
    -------
    Result
        ``image``: the sample (its last denoised state), float32 clipped to
        [0, 1]; ``stages``: frames of the trajectory; ``curves``: the
        effective noise ``sigma`` (0-255 scale) and the step size per step.
    """

    given = check_params(SAMPLING, settings, "sample")
    method = get(prior)
    if (problem is None) != (y is None):
        raise InvalidInput("constrained sampling needs both a problem and its degraded image y")
    rng = np.random.default_rng(seed)
    start = np.random.default_rng(start_seed)
    if problem is not None:
        measured = as_image(y, name="degraded image").astype(np.float64)
        problem = problem.bound(shape)  # a super-resolution canvas is cropped to shape
        canvas = problem.start(measured).shape
        exact = problem.pseudo_inverse(measured)
    else:
        canvas = tuple(shape)
        exact = None

    def constrain(step: np.ndarray, denoised: np.ndarray) -> np.ndarray:
        if problem is None:
            return step
        return step + problem.pseudo_inverse(measured - problem.canvas_forward(denoised))

    start_time = time.perf_counter()
    level = given["sigma_start"]
    current = 0.5 + level * start.standard_normal(canvas)
    if exact is not None:
        current = current + exact - problem.pseudo_inverse(problem.canvas_forward(current))
    span = math.log(given["sigma_start"] / given["sigma_end"])
    frames, sigmas, steps = [], [], []
    denoised = current
    for t in range(1, given["max_steps"] + 1):
        with one_torch_thread():  # as in restore: a third of the time on the shared 2-core CPU
            denoised = run(method.key, current, float(min(level, 1.0))).image.astype(np.float64)
        step = constrain(denoised - current, denoised)
        level = float(np.sqrt(np.mean(step**2)))
        h = given["h0"] * t / (1 + given["h0"] * (t - 1))
        gamma = math.sqrt(max((1 - given["beta"] * h) ** 2 - (1 - h) ** 2, 0.0)) * level
        noise = rng.standard_normal(canvas)
        if exact is not None:
            noise = noise - problem.pseudo_inverse(problem.canvas_forward(noise))
        current = current + h * step + gamma * noise
        frames.append(current)
        sigmas.append(level * 255)
        steps.append(h)
        report(progress, math.log(given["sigma_start"] / max(level, 1e-12)) / span)
        if level <= given["sigma_end"]:
            break
    if exact is not None:  # the last denoised state, made to explain the measurements again
        denoised = denoised + problem.pseudo_inverse(measured - problem.canvas_forward(denoised))
    keep = np.unique(np.geomspace(1, len(frames), min(KEPT_FRAMES, len(frames))).round()) - 1
    finish = problem.finish if problem is not None else (lambda x: x)
    stages = {f"step {int(k) + 1}": np.clip(finish(frames[int(k)]), 0, 1).astype(np.float32)
              for k in keep}
    report(progress, 1.0)
    return Result(np.clip(finish(denoised), 0, 1).astype(np.float32), stages=stages,
                  curves={"sigma (0-255)": np.asarray(sigmas), "step size": np.asarray(steps)},
                  extras={"params": {"prior": method.key, "seed": seed,
                                     "start_seed": start_seed, **given},
                          "steps": len(frames)},
                  seconds=time.perf_counter() - start_time)
