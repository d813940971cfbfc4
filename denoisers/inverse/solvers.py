"""Plug-and-play and RED: any registered denoiser as the prior of an inverse problem.

A denoiser that removes white Gaussian noise of level ``s`` well knows what
images look like; these solvers split the restoration of ``y = A x + n``
into a step that only trusts the data (the problem's exact
:meth:`~denoisers.inverse.problems.Problem.data_step`, the minimiser of
``||A x - y||^2 + rho ||x - z||^2``) and a step that only trusts the prior
(one run of the denoiser), and alternate them.

- ``pnp_hqs``: half-quadratic splitting with a decreasing noise level, as in
  DPIR (Zhang et al. 2021): ``x = data_step(z, y, lam sigma^2 / s_k^2)``,
  ``z = D(x, s_k)`` with ``s_k`` falling geometrically from ``sigma_start``
  to the noise level: large steps first, fine detail last.
- ``pnp_admm``: the alternating direction method of multipliers with the
  denoiser in place of a proximal operator (Venkatakrishnan, Bouman &
  Wohlberg 2013), on the same schedule of levels.
- ``red``: regularisation by denoising (Romano, Elad & Milanfar 2017), the
  explicit prior ``x^T (x - D(x)) / 2`` minimised by its fixed-point
  iteration ``x = data_step(D(x, s), y, lam sigma^2)``.

A noiseless problem is solved as if its noise were ``NOISE_FLOOR``, so that
the data step stays a well-posed average rather than a hard projection.

References
----------
S. V. Venkatakrishnan, C. A. Bouman and B. Wohlberg, "Plug-and-play priors
for model based reconstruction", Proc. IEEE GlobalSIP 2013, pp. 945-948.
https://doi.org/10.1109/GlobalSIP.2013.6737048
Y. Romano, M. Elad and P. Milanfar, "The little engine that could:
regularization by denoising (RED)", SIAM J. Imaging Sci. 10(4), 2017,
pp. 1804-1844. https://doi.org/10.1137/16M1102884
K. Zhang, Y. Li, W. Zuo, L. Zhang, L. Van Gool and R. Timofte, "Plug-and-play
image restoration with deep denoiser prior", IEEE Trans. Pattern Anal. Mach.
Intell. 44(10), 2022, pp. 6360-6376. https://doi.org/10.1109/TPAMI.2021.3088914
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import get, run
from ..core import Float, Int, InvalidInput, Param, Progress, Result, as_image, check_params, report
from ..metrics import psnr
from ..threads import torch_threads, workers
from .problems import Problem

#: The noise level a noiseless problem is solved at (0-1 scale; 1 on the 0-255 scale).
NOISE_FLOOR = 1 / 255
#: At most this many iterates are kept as stages.
KEPT_ITERATES = 12

_ITERATIONS = Int("iterations", 1, 100, default=8,
                  help="How many data steps and denoiser runs alternate (by default the "
                       "problem's: 8 for deblurring and super-resolution, 20 for inpainting "
                       "and demosaicing).")
_START = Float("sigma_start", 0.005, 0.5, default=49 / 255,
               help="The denoiser's noise level at the first iteration (0-1 scale; by default "
                    "the problem's: 49 / 255, 20 / 255 for inpainting from its biharmonic "
                    "start); it falls geometrically to the problem's noise level.")

SOLVERS: dict[str, tuple[Param, ...]] = {
    "pnp_hqs": (_ITERATIONS, _START,
                Float("lam", 0.01, 10.0, default=0.23,
                      help="Weight of the data against the prior (DPIR's lambda).")),
    "pnp_admm": (_ITERATIONS, _START,
                 Float("lam", 0.01, 10.0, default=1.0,
                       help="Penalty of the splitting, as a multiple of (noise / level)^2.")),
    "red": (Int("iterations", 1, 200, default=20, help="Fixed-point iterations."),
            Float("sigma_denoiser", 0.002, 0.3, default=5 / 255,
                  help="The denoiser's fixed noise level (0-1 scale)."),
            Float("lam", 0.01, 100.0, default=1.0,
                  help="Weight of the prior: the data step's rho is lam times the noise "
                       "variance over the denoiser's.")),
}

Denoise = Callable[[np.ndarray, float], np.ndarray]


def solver_spec(problem: Problem, solver: str) -> tuple[Param, ...]:
    """The settings of ``solver`` on ``problem``: :data:`SOLVERS`'s, with a splitting's
    number of iterations and first denoiser level defaulting to the problem's."""
    if solver not in SOLVERS:
        raise InvalidInput(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    if solver == "red":
        return SOLVERS[solver]
    own = {"iterations": problem.iterations, "sigma_start": problem.sigma_start}
    return tuple(dataclasses.replace(p, default=own[p.name]) if p.name in own else p
                 for p in SOLVERS[solver])


def levels(start: float, end: float, count: int) -> np.ndarray:
    """``count`` denoiser levels falling geometrically from ``start`` to ``end``.

    Parameters
    ----------
    start : float
        The first level (the larger of ``start`` and ``end`` is used), on the
        [0, 1] scale of sigma.
    end : float
        The last level, usually the noise level of the measurements.
    count : int
        The number of levels, one per iteration.
    """
    return np.geomspace(max(start, end), end, count)


def _iterate_hqs(problem: Problem, y: np.ndarray, x: np.ndarray, denoise: Denoise, noise: float,
                 p: dict[str, Any]) -> Any:
    for level in levels(p["sigma_start"], noise, p["iterations"]):
        x = problem.data_step(x, y, p["lam"] * noise**2 / level**2)
        x = denoise(x, level)
        yield x, level


def _iterate_admm(problem: Problem, y: np.ndarray, x: np.ndarray, denoise: Denoise, noise: float,
                  p: dict[str, Any]) -> Any:
    v, u = x, np.zeros_like(x)
    for level in levels(p["sigma_start"], noise, p["iterations"]):
        x = problem.data_step(v - u, y, p["lam"] * noise**2 / level**2)
        v = denoise(x + u, level)
        u = u + x - v
        yield v, level


def _iterate_red(problem: Problem, y: np.ndarray, x: np.ndarray, denoise: Denoise, noise: float,
                 p: dict[str, Any]) -> Any:
    level = p["sigma_denoiser"]
    for _ in range(p["iterations"]):
        x = problem.data_step(denoise(x, level), y, p["lam"] * noise**2 / level**2)
        yield x, level


_ITERATE = {"pnp_hqs": _iterate_hqs, "pnp_admm": _iterate_admm, "red": _iterate_red}


def restore(problem: Problem, y: Any, prior: str = "drunet", solver: str = "pnp_hqs", *,
            prior_params: dict[str, Any] | None = None, reference: Any = None,
            progress: Progress | None = None, **solver_params: Any) -> Result:
    """Restore ``y = A x + n`` with the registered denoiser ``prior`` as the image prior.

    Parameters
    ----------
    problem : Problem
        From :func:`denoisers.inverse.make`; its operator, noise level and data step.
    y : array
        The degraded image (``problem.degrade(clean)``).
    prior : str
        A registry key: any denoiser (``"tv"``, ``"wavelet"``, ``"bm3d"``, ``"drunet"``...).
    solver : {"pnp_hqs", "pnp_admm", "red"}
        The splitting; see the module's notes.
    prior_params : dict, optional
        Parameters of the denoiser, checked by its spec.
    reference : array, optional
        The clean image: only feeds the PSNR-per-iteration curve.
    progress : callable, optional
        Receives the fraction done after each iteration.
    **solver_params
        The solver's settings (:func:`solver_spec`): ``iterations``,
        ``sigma_start``, ``lam``, ``sigma_denoiser``.

    Notes
    -----
    The iterations run torch on the threads :func:`~denoisers.threads.workers` gives a
    computation: the cores when it runs alone (DRUNet on a 256x256 colour image took
    0.29 s on two threads against 0.51 s on one, quiet), one each when it shares them.

    Returns
    -------
    Result
        ``image``: the estimate, float32, of the clean image's shape, clipped
        to [0, 1]; ``stages``: the degraded input's baseline and up to
        :data:`KEPT_ITERATES` iterates; ``curves``: ``"residual"`` (the RMS
        of ``A x - y``), ``"denoiser level"`` and, with ``reference``,
        ``"PSNR (dB)"``, per iteration; ``extras["params"]``.
    """

    if not isinstance(problem, Problem):
        raise InvalidInput(f"problem must come from denoisers.inverse.make; got {problem!r}")
    given = check_params(solver_spec(problem, solver), solver_params, solver)
    method = get(prior)
    observed = as_image(y, name="degraded image").astype(np.float64)
    clean = None if reference is None else as_image(reference, name="reference")
    prior_params = dict(prior_params or {})
    noise = max(problem.sigma, NOISE_FLOOR)

    def denoise(x: np.ndarray, level: float) -> np.ndarray:
        return run(method.key, x, float(min(level, 1.0)), **prior_params).image.astype(np.float64)

    start_time = time.perf_counter()
    x = problem.start(observed)
    keep = set(np.linspace(0, given["iterations"] - 1, KEPT_ITERATES).round().astype(int))
    stages: dict[str, np.ndarray] = {"start": _shown(problem, x)}
    curves: dict[str, list[float]] = {"residual": [], "denoiser level": []}
    if clean is not None:
        curves["PSNR (dB)"] = []
    iterations = _ITERATE[solver](problem, observed, x, denoise, noise, given)
    with torch_threads(workers()):
        for number, (x, level) in enumerate(iterations):
            residual = problem.canvas_forward(x) - observed
            curves["residual"].append(float(np.sqrt(np.mean(residual**2))))
            curves["denoiser level"].append(float(level) * 255)
            if clean is not None:
                curves["PSNR (dB)"].append(psnr(clean, _shown(problem, x)))
            if number in keep:
                stages[f"iteration {number + 1}"] = _shown(problem, x)
            report(progress, (number + 1) / given["iterations"])
    params = {"prior": method.key, "solver": solver, **given, "prior_params": prior_params,
              "noise level used": noise}
    return Result(_shown(problem, x), stages=stages,
                  curves={k: np.asarray(v) for k, v in curves.items()},
                  extras={"params": params, "problem": repr(problem)},
                  seconds=time.perf_counter() - start_time)


def _shown(problem: Problem, x: np.ndarray) -> np.ndarray:
    """An iterate on the canvas as an image: cropped, clipped to [0, 1], float32."""
    return np.clip(problem.finish(x), 0, 1).astype(np.float32)
