"""Total-variation denoising (Rudin, Osher & Fatemi 1992).

The ROF model: the estimate ``u`` minimises the energy

    E(u) = 1/2 ||u - f||² + w TV(u),        TV(u) = sum over pixels of |grad u|

with ``f`` the noisy image and ``w`` the weight. TV charges a jump by its
height times its length, however sharp, so edges survive, while noise (many
small oscillations) costs a lot of variation and is removed. Its well-known
flaw is *staircasing*: a smooth ramp comes out as flat terraces.

Two solvers of the same problem, both on the dual field ``q`` (one 2-vector
per pixel, ``|q| <= w``), with Chambolle's discrete operators
(:func:`~.evolution.gradient`, :func:`~.evolution.divergence`):

- Chambolle's projection (2004): a fixed-point iteration on ``q`` with
  ``u = f + div q``; simple, and slow near the end (its error decays like
  1/k);
- Chambolle & Pock's primal-dual algorithm (2011), in its accelerated form
  for a strongly convex fidelity (their Algorithm 2): alternating steps on
  ``u`` and ``q`` whose sizes adapt, with an error decaying like 1/k².

Both stop when the relative duality gap ``(E(u) - D(q)) / E(u)`` falls
below a tolerance (the dual value ``D(q)`` bounds the least energy from
below, so the gap bounds how far ``E(u)`` is from it). Chambolle's
projection is the default, as the chapter tells the story; the primal-dual
algorithm reaches the default gap of 1e-3 in about ten times fewer
iterations (four times less time at 512x512 and strong noise, where the
projection takes up to about a second). A colour image is
handled as one vector-valued image: ``|grad u|`` at a pixel is the length of
the gradients of the three channels together (vectorial TV), so the
channels share their edges; its variation weighs :data:`COLOUR_FACTOR`
times as much as a grey image's, which keeps one default weight right for
both.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import noise
from ..core import Choice, Float, Int, Method, Param, Progress, Result, report, validated
from .evolution import FAMILY, MAX_FRAMES, Recorder

#: The solvers of :func:`tv`, in history's order.
SOLVERS = ("chambolle", "chambolle-pock")
#: The default solver: Chambolle and Pock's primal-dual steps (2011), which reach the
#: default gap in fewer passes over the image than Chambolle's projection (2004), the
#: other choice, for the same minimiser (``python -m benchmarks.speed --targets`` times it
#: beside scikit-image's ``denoise_tv_chambolle`` at the same weight).
SOLVER = "chambolle-pock"
#: The relative duality gap at which the solvers stop by default.
TOLERANCE = 1e-3
#: The most iterations by default (a cap; the gap usually stops the solver long before).
ITERATIONS = 1500
#: How often (iterations) the solver checks the gap to decide whether to stop.
CHECK_EVERY = 5
#: Chambolle's step (his convergence proof needs 1/8; 1/4 is the step used in practice).
CHAMBOLLE_STEP = 0.25
#: The squared norm of the gradient operator, a bound used by the primal-dual steps.
GRADIENT_NORM2 = 8.0
#: The weight of the total variation of a colour image, relative to a grey one's (fitted).
COLOUR_FACTOR = 1.4
#: The primal-dual's first primal step and its acceleration (Chambolle & Pock's gamma).
PRIMAL_DUAL_STEP = 0.5
PRIMAL_DUAL_GAMMA = 0.5


# --------------------------------------------------------------------------- the weight

def tv_weight(sigma: float) -> float:
    """The default weight ``w`` of :func:`tv` for noise ``sigma`` on the [0, 1] scale:
    ``1.37 sigma^1.23``, between 1e-3 and 1 (fitted on twelve sample images; see
    :func:`tv`'s Notes)."""
    return round(min(1.0, max(1e-3, 1.37 * sigma ** 1.23)), 4)


# --------------------------------------------------------------------------- operators
#
# The solvers work on planes: an image of shape (C, H, W) (C = 1 for grey),
# C-contiguous, so that every difference is a shift of the flat array: one
# fast contiguous pass instead of a strided one. A dual field (down, right)
# keeps zeros on the last row (down) and the last column (right), as
# Chambolle's gradient does; the shifts then never mix two rows or two
# channels, and the results are those of evolution.gradient and
# evolution.divergence exactly.

def _planes(image: np.ndarray) -> np.ndarray:
    """``image`` (H, W) or (H, W, C) as contiguous float32 planes (C, H, W)."""
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)
    return np.ascontiguousarray(planes, dtype=np.float32)


def _image(planes: np.ndarray, ndim: int) -> np.ndarray:
    """Planes (C, H, W) back as an image of ``ndim`` dimensions (a view)."""
    return planes[0] if ndim == 2 else np.moveaxis(planes, 0, -1)


def _gradient(u: np.ndarray, down: np.ndarray, right: np.ndarray) -> None:
    """Forward differences of planes ``u`` into ``down`` and ``right`` (zero on the last
    row and column)."""
    width = u.shape[-1]
    flat_u, flat_down, flat_right = u.reshape(-1), down.reshape(-1), right.reshape(-1)
    np.subtract(flat_u[width:], flat_u[:-width], out=flat_down[:-width])
    down[:, -1] = 0.0
    np.subtract(flat_u[1:], flat_u[:-1], out=flat_right[:-1])
    right[:, :, -1] = 0.0


def _divergence(down: np.ndarray, right: np.ndarray, out: np.ndarray) -> None:
    """Backward differences of a field (zero on the last row and column) into ``out``:
    minus the adjoint of :func:`_gradient`."""
    width = out.shape[-1]
    flat_out = out.reshape(-1)
    np.add(down, right, out=out)
    flat_out[width:] -= down.reshape(-1)[:-width]
    flat_out[1:] -= right.reshape(-1)[:-1]


def _magnitude(down: np.ndarray, right: np.ndarray, out: np.ndarray,
               scratch: np.ndarray) -> None:
    """The length of a field at each pixel, over both directions and every channel,
    into ``out`` (1, H, W)."""
    np.multiply(down, down, out=scratch)
    if down.shape[0] == 1:
        np.multiply(right, right, out=out)
        out += scratch
    else:
        scratch += right * right
        np.sum(scratch, axis=0, keepdims=True, out=out)
    np.sqrt(out, out=out)


def energy(u: np.ndarray, noisy: np.ndarray, weight: float) -> float:
    """The ROF energy ``1/2 ||u - f||² + weight TV(u)`` of ``u`` for the noisy image ``f``.

    TV is vectorial for colour images: at each pixel the length of the
    forward differences of all channels together. ``weight`` is the
    weight of TV in the energy (:func:`tv` reports it as
    ``extras["tv weight"]``: its ``weight``, times :data:`COLOUR_FACTOR`
    for colour). Computed in float64.

    Parameters
    ----------
    u : ndarray, shape (H, W) or (H, W, C)
        The image whose energy is measured, on the [0, 1] scale.
    noisy : ndarray, shape of ``u``
        The noisy image ``f``.
    weight : float
        The weight of TV in the energy, >= 0 (for a :func:`tv` result, its
        ``extras["tv weight"]``).
    """
    u, f = _planes(u).astype(np.float64), _planes(noisy).astype(np.float64)
    down, right = np.zeros_like(u), np.zeros_like(u)
    _gradient(u, down, right)
    total_variation = np.sqrt((down * down + right * right).sum(axis=0)).sum()
    return float(0.5 * np.sum((u - f) ** 2) + weight * total_variation)


# --------------------------------------------------------------------------- the solvers

class _Solver:
    """What both solvers hold: the data ``f`` and weight, the dual field ``q = (down,
    right)``, the estimate ``u`` and the buffers of its gradient and their length."""

    def __init__(self, f: np.ndarray, weight: float) -> None:
        self.f, self.weight = f, weight
        self.down, self.right = np.zeros_like(f), np.zeros_like(f)
        self.u = f.copy()
        self.grad_down, self.grad_right = np.zeros_like(f), np.zeros_like(f)
        self.scratch = np.empty_like(f)
        self.norm = np.empty((1, *f.shape[1:]), np.float32)

    @property
    def estimate(self) -> np.ndarray:
        return self.u

    def dual(self) -> np.ndarray:
        return np.concatenate([self.down, self.right])


class _Chambolle(_Solver):
    """Chambolle's projection (2004) on the dual field ``q``, ``|q| <= w`` at each pixel.

    ``u = f + div q`` and ``q <- (q + tau grad u) / (1 + tau |grad u| / w)``:
    a gradient step on the dual problem ``max D(q) = 1/2 ||f||² - 1/2 ||f +
    div q||²`` followed by a rescaling that keeps ``|q| <= w``.

    The iteration runs on scaled variables, which spares it two of its
    eighteen passes over the image: the field ``r = q / w`` (``|r| <= 1``;
    ``down`` and ``right`` hold it) and the image ``v = a u = a f + tau div
    r`` with ``a = tau / w``, whose gradient ``h = grad v`` is ``a grad u``.
    The step becomes ``r <- (r + h) / (1 + |h|)``: the same iterates, up to
    float32 rounding. After each step the state holds ``div r``, ``h`` and
    ``|h|``, which the next step and the duality gap both use.
    """

    def __init__(self, f: np.ndarray, weight: float) -> None:
        super().__init__(f, weight)
        self.scale = np.float32(CHAMBOLLE_STEP / weight)
        self.scaled_f = f * self.scale
        self.v = self.scaled_f.copy()
        self.residual = np.zeros_like(f)
        self.denominator = np.empty_like(self.norm)
        self._measure()

    def _measure(self) -> None:
        _gradient(self.v, self.grad_down, self.grad_right)
        _magnitude(self.grad_down, self.grad_right, self.norm, self.scratch)

    def step(self) -> None:
        np.add(self.norm, np.float32(1.0), out=self.denominator)
        for r, h in ((self.down, self.grad_down), (self.right, self.grad_right)):
            r += h
            r /= self.denominator
        _divergence(self.down, self.right, self.residual)
        np.multiply(self.residual, np.float32(CHAMBOLLE_STEP), out=self.v)
        self.v += self.scaled_f
        self._measure()

    @property
    def estimate(self) -> np.ndarray:
        """``u = f + w div r``, computed when asked for."""
        np.multiply(self.residual, np.float32(self.weight), out=self.u)
        self.u += self.f
        return self.u

    def dual(self) -> np.ndarray:
        return super().dual() * np.float32(self.weight)

    def gap(self) -> tuple[float, float]:
        """The energy ``E(u)`` and the duality gap ``E(u) - D(q)``.

        With ``u = f + div q`` the gap is ``sum(w |grad u| - q . grad u)``,
        a sum of non-negative terms (``|q| <= w``); in the scaled variables
        ``|grad u| = |h| / a``, ``q . grad u = (w / a) r . h`` and ``div q
        = w div r``.
        """
        w, a = self.weight, float(self.scale)
        variation = float(self.norm.sum(dtype=np.float64)) / a
        fidelity = 0.5 * w * w * float(np.vdot(self.residual, self.residual))
        alignment = w / a * (float(np.vdot(self.down, self.grad_down))
                             + float(np.vdot(self.right, self.grad_right)))
        return fidelity + w * variation, w * variation - alignment


class _PrimalDual(_Solver):
    """Chambolle & Pock's accelerated primal-dual algorithm (2011, Algorithm 2) for ROF.

    With ``K = grad`` and the fidelity ``1/2 ||u - f||²`` (strongly convex,
    modulus 1)::

        q    <- project(q + s grad ubar)          onto |q| <= w at each pixel
        u'   <- (u + t div q + t f) / (1 + t)     the proximal step of the fidelity
        th    = 1 / sqrt(1 + 2 gamma t);  t <- th t;  s <- s / th
        ubar <- u' + th (u' - u)

    with ``t s L² = 1`` (``L² = 8`` bounds ``||grad||²``) kept throughout.
    """

    def __init__(self, f: np.ndarray, weight: float) -> None:
        super().__init__(f, weight)
        self.tau = PRIMAL_DUAL_STEP
        self.sigma = 1.0 / (GRADIENT_NORM2 * self.tau)
        self.previous, self.extrapolated = f.copy(), f.copy()
        self.divergence = np.zeros_like(f)

    def step(self) -> None:
        _gradient(self.extrapolated, self.grad_down, self.grad_right)
        s = np.float32(self.sigma)
        for q, g in ((self.down, self.grad_down), (self.right, self.grad_right)):
            g *= s
            q += g
        _magnitude(self.down, self.right, self.norm, self.scratch)
        self.norm *= np.float32(1.0 / self.weight)
        np.maximum(self.norm, np.float32(1.0), out=self.norm)
        self.down /= self.norm
        self.right /= self.norm
        _divergence(self.down, self.right, self.divergence)
        self.previous, self.u = self.u, self.previous
        u, t = self.u, self.tau
        np.add(self.divergence, self.f, out=u)
        u *= np.float32(t)
        u += self.previous
        u *= np.float32(1.0 / (1.0 + t))
        theta = 1.0 / math.sqrt(1.0 + 2.0 * PRIMAL_DUAL_GAMMA * t)
        self.tau, self.sigma = theta * t, self.sigma / theta
        np.subtract(u, self.previous, out=self.extrapolated)
        self.extrapolated *= np.float32(theta)
        self.extrapolated += u

    def gap(self) -> tuple[float, float]:
        """The energy ``E(u)`` and the duality gap ``E(u) - D(q)``.

        With ``d = div q`` the gap is ``1/2 ||u - f - d||² + sum(w |grad u|
        - q . grad u)``, two non-negative terms.
        """
        w = self.weight
        g_down, g_right, norm = self.grad_down, self.grad_right, self.norm
        _gradient(self.u, g_down, g_right)
        _magnitude(g_down, g_right, norm, self.scratch)
        variation = float(norm.sum(dtype=np.float64))
        alignment = float(np.vdot(self.down, g_down)) + float(np.vdot(self.right, g_right))
        difference = self.scratch
        np.subtract(self.u, self.f, out=difference)
        fidelity = 0.5 * float(np.vdot(difference, difference))
        difference -= self.divergence
        mismatch = 0.5 * float(np.vdot(difference, difference))
        return fidelity + w * variation, mismatch + w * variation - alignment


_SOLVER_CLASSES: dict[str, Callable[[np.ndarray, float], _Solver]] = {
    "chambolle": _Chambolle, "chambolle-pock": _PrimalDual}


def _relative(energy_and_gap: tuple[float, float]) -> tuple[float, float]:
    value, gap = energy_and_gap
    return value, (max(gap, 0.0) / value if value > 0 else 0.0)


def _kept_iterations(cap: int) -> frozenset[int]:
    """Iterations whose frames a trace keeps: spread geometrically over 1..cap (the solvers
    change most at first), at most MAX_FRAMES - 1 of them; the stopping one is added."""
    spread = np.geomspace(1, max(cap, 1), MAX_FRAMES - 1).round().astype(int)
    return frozenset(int(k) for k in spread)


# --------------------------------------------------------------------------- the method

#: The parameters of :func:`tv`, checked by every call (its Method's spec).
TV: tuple[Param, ...] = (
    Float("weight", 1e-3, 1.0, step=0.005, rule=tv_weight,
          help=("How much total variation costs against fidelity to the noisy image "
                "(lambda, on the [0, 1] scale of the image). More removes more noise and "
                "flattens more detail into terraces. Auto: 1.37 x sigma^1.23 (sigma on the "
                "0-1 scale: 0.079 at sigma 25 of 255).")),
    Choice("solver", SOLVERS, default=SOLVER,
           help=("How the minimum is found: Chambolle's projection (2004) or Chambolle & "
                 "Pock's accelerated primal-dual algorithm (2011). Both reach the same "
                 "image; the primal-dual one needs about ten times fewer iterations.")),
    Int("iterations", 1, 10000, default=ITERATIONS,
        help=("The most iterations the solver runs; it stops earlier once the duality gap "
              "is below the tolerance.")),
    Float("tolerance", 0.0, 0.01, default=TOLERANCE, step=1e-4,
          help=("The relative duality gap at which the solver stops: an upper bound on how "
                "far the energy is from its minimum, relative to it. 0 runs every "
                "iteration.")),
)


@validated(TV)
def tv(noisy: np.ndarray, sigma: float, *, weight: float | None = None,
       solver: str = SOLVER, iterations: int = ITERATIONS, tolerance: float = TOLERANCE,
       trace: bool = False, progress: Progress | None = None,
       reference: np.ndarray | None = None) -> Result:
    """Total-variation denoising: the image of least ROF energy.

    Parameters
    ----------
    noisy : ndarray, shape (H, W) or (H, W, 3)
        The noisy image, of any float or integer type (taken to float32 in
        [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was. A colour image is denoised as one
        vector-valued image (vectorial TV).
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the default weight.
    weight : float, optional
        The weight ``w`` of the total variation in the energy (lambda), on
        the [0, 1] scale of the image; ``None`` applies :func:`tv_weight`.
        For a grey image it is exactly the ``weight`` of
        ``skimage.restoration.denoise_tv_chambolle``, which minimises the
        same energy with the same operators; a colour image's total
        variation is weighted ``COLOUR_FACTOR * w`` (see the Notes).
    solver : {"chambolle", "chambolle-pock"}
        Chambolle's projection (2004) or Chambolle & Pock's accelerated
        primal-dual algorithm (2011, Algorithm 2). Both minimise the same
        energy; the second needs far fewer iterations.
    iterations : int
        The most iterations the solver runs.
    tolerance : float
        The solver stops at the first check (every :data:`CHECK_EVERY`
        iterations) where the relative duality gap is below this; 0 runs
        all ``iterations``.
    trace : bool
        Also return the evolution over the iterations, the energy, the gap
        and the dual field.
    progress : callable, optional
        Receives the fraction of ``iterations`` done at each check, and 1.0
        at the end.
    reference : ndarray, optional
        The clean image, for the trace's PSNR at each iteration only; the
        estimate never depends on it.

    Returns
    -------
    Result
        ``image``: the estimate. ``extras``: ``"tv weight"`` (the weight of
        the total variation in the energy minimised: ``w``, or
        ``COLOUR_FACTOR * w`` for colour), ``"iterations"`` (the
        iterations run) and ``"gap"`` (the relative duality gap at the
        end). With ``trace``: curves ``"energy per pixel"`` (``E(u)``
        divided by the number of values), ``"relative duality gap"``,
        ``"residual RMS / σ"`` and, given a ``reference``, ``"PSNR (dB)"``,
        one value per iteration from the first (``extras["curve_x"]`` is
        ``("iteration", 1..n)``); ``extras["evolution"]``: frames of the
        estimate kept at iterations spread geometrically, the last one
        included (see :class:`~.evolution.Recorder`); stage ``"dual field
        |q| / w"`` (drawn as a map): the length of the dual field at each
        pixel over the TV weight, 1 where the estimate changes (an edge, a
        riser of a staircase) and below 1 inside its flat regions.

    Notes
    -----
    Rudin, Osher & Fatemi's model: ``u`` minimises ``E(u) = 1/2 ||u -
    f||² + w TV(u)``, ``TV(u) = sum_pixels sqrt(sum_c |grad u_c|²)`` with
    forward differences (zero across the last row and column). TV lets an
    edge through at the cost of its height times its length, whatever its
    sharpness, while noise, many small oscillations, costs much variation:
    the minimiser is the noisy image with its oscillations flattened,
    piecewise smooth, with sharp edges. Its defects: contrast is lost (a
    region of area A and perimeter L drops by about ``w L / A``), fine
    texture goes with the noise, and smooth ramps become terraces
    (*staircasing*, see :func:`staircase_demo`).

    The dual problem: ``w TV(u) = max over |q| <= w of <q, grad u>``,
    hence ``min E = max D(q) = 1/2 ||f||² - 1/2 ||f + div q||²``, with
    ``u = f + div q`` at the optimum. Both solvers keep a feasible ``q``,
    so ``D(q)`` bounds the least energy from below and the relative
    duality gap ``(E(u) - D(q)) / E(u)`` bounds the relative excess
    energy of ``u``; they stop when it is below ``tolerance``. At the
    default 1e-3 the energy is within 0.1 % of its minimum (measured
    against ten times as many iterations: 3e-4 to 8e-4 above on camera
    and astronaut at sigma_255 = 5, 25, 100, either solver) and the
    estimate within about 1/255 RMS of the minimiser (0.1 to 0.9 grey
    levels, most at sigma_255 = 100). Chambolle's gap falls roughly like
    k^-1.5 here, the primal-dual's like k^-3.

    Colour: vectorial TV (Blomgren & Chan 1998; Bresson & Chan 2008 for
    Chambolle's projection): the dual field is one vector of 2 x 3
    components per pixel, projected as a whole, so the three channels
    share their edges instead of each smoothing on its own. The gradient
    of three noisy channels is longer than one's, so the same weight
    smooths a colour image less; its TV is weighted ``COLOUR_FACTOR *
    w``, 1.4: on astronaut, coffee, chelsea and rocket at sigma_255 = 5,
    10, 25, 50, 75, 100, 1.4 w loses 0.03 dB on average to each case's
    best factor (1.3 to 1.7), w itself 1.39 dB.

    Default weight: ``w = 1.37 sigma^1.23`` (sigma on the [0, 1] scale;
    w / sigma = 0.56, 0.80, 1.10 at sigma_255 = 5, 25, 100), between
    1e-3 and 1. Fitted on twelve grey scikit-image samples (camera,
    astronaut, coffee, chelsea, brick, moon, text, grass, gravel, page,
    coins, rocket) at sigma_255 = 5, 10, 15, 25, 35, 50, 75, 100 as the
    rule of this form with the least mean PSNR loss to each image's own
    best weight: 0.21 dB (left out one image at a time, 1.34 to 1.40 and
    1.23 to 1.25). Textures want less (grass: w / sigma = 0.52 at
    sigma_255 = 25), smooth images more (moon: 1.03). Checked on Set12
    (never fitted on) at sigma_255 = 25 against
    ``skimage.restoration.denoise_tv_chambolle`` at its best weight for
    each image (a grid of 0.02 sigma steps, its default stopping): the
    mean PSNR is 0.07 dB lower (28.08 against 28.15 dB; Barbara 0.38 dB
    lower, starfish 0.15, the others within 0.07), on camera and
    astronaut (grey, 512x512) 0.04 and 0.02 dB higher (Chambolle's
    projection: 0.07 lower, 0.05 and 0.02 higher).

    Cost: O(HW) per iteration, numpy in float32. At 512x512 grey, an
    iteration takes about 1.2 ms with Chambolle's projection and 2 ms with
    the primal-dual algorithm (plus 1 ms for its gap, computed every 5
    iterations) on a 2-core CPU. To the default gap, on the twelve
    samples above (times per 512x512) at sigma_255 = 5, 25, 50, 100:

    - Chambolle's projection (the default) needs 15-75, 90-290, 230-485,
      525-785 iterations: 0.03-0.14, 0.16-0.38, 0.34-0.62, 0.58-1.15 s.
      It stays under a second at sigma_255 = 25 and 50, comes close to it
      at 75 and passes it on some images at 100;
    - the primal-dual algorithm needs 10-25, 25-45, 40-65, 65-90
      iterations: 0.03-0.08, 0.06-0.14, 0.08-0.14, 0.12-0.27 s (camera at
      sigma_255 = 25: 40 iterations, 0.09 s), four times faster at strong
      noise: the page offers it as the other solver.

    A colour image costs about three times as much per iteration and
    needs fewer: astronaut in colour, 512x512, takes 0.26 and 0.46 s at
    sigma_255 = 25 and 100 with the primal-dual algorithm (25 and 55
    iterations), 0.64 and 2.4 s with Chambolle's projection.

    References
    ----------
    L. I. Rudin, S. Osher and E. Fatemi, "Nonlinear total variation based
    noise removal algorithms", Physica D 60, 1992, pp. 259-268.
    https://doi.org/10.1016/0167-2789(92)90242-F
    A. Chambolle, "An algorithm for total variation minimization and
    applications", J. Math. Imaging Vis. 20, 2004, pp. 89-97.
    https://doi.org/10.1023/B:JMIV.0000011325.36760.1e
    A. Chambolle and T. Pock, "A first-order primal-dual algorithm for
    convex problems with applications to imaging", J. Math. Imaging Vis.
    40, 2011, pp. 120-145. https://doi.org/10.1007/s10851-010-0251-1
    P. Blomgren and T. F. Chan, "Color TV: total variation methods for
    restoration of vector-valued images", IEEE Trans. Image Process. 7,
    1998, pp. 304-309. https://doi.org/10.1109/83.661180
    X. Bresson and T. F. Chan, "Fast dual minimization of the vectorial
    total variation norm and applications to color image processing",
    Inverse Probl. Imaging 2, 2008, pp. 455-484.
    https://doi.org/10.3934/ipi.2008.2.455

    Examples
    --------
    >>> import numpy as np
    >>> from denoisers import noise
    >>> clean = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> result = tv(noisy, 25 / 255)
    >>> result.image.dtype, result.extras["gap"] < 1e-3
    (dtype('float32'), True)
    """
    weight = tv_weight(sigma) if weight is None else weight
    lam = weight * (COLOUR_FACTOR if noisy.ndim == 3 else 1.0)
    f = _planes(noisy)
    state = _SOLVER_CLASSES[solver](f, lam)
    recorder = None
    energies: list[float] = []
    gaps: list[float] = []
    if trace:
        recorder = Recorder(noisy, sigma, reference, keep=_kept_iterations(iterations))
    gap = math.inf
    done = 0
    for k in range(1, iterations + 1):
        state.step()
        done = k
        checked = k % CHECK_EVERY == 0 or k == iterations
        if trace or checked:
            value, gap = _relative(state.gap())
        stopping = k == iterations or (checked and gap < tolerance)
        if recorder is not None:
            energies.append(value / f.size)
            gaps.append(gap)
            if stopping:
                recorder.keep = recorder.keep | {k}
            recorder.record(k, _image(state.estimate, noisy.ndim))
        if checked:
            report(progress, k / iterations)
        if stopping:
            break
    image = np.ascontiguousarray(_image(state.estimate, noisy.ndim), dtype=np.float32)
    used = {"weight": float(weight), "solver": solver, "iterations": int(iterations),
            "tolerance": float(tolerance)}
    result = Result(image, extras={"params": used, "tv weight": lam, "iterations": done,
                                   "gap": float(gap)})
    if recorder is not None:
        recorder.onto(result, done, "iteration")
        result.curves["energy per pixel"] = np.asarray(energies)
        result.curves["relative duality gap"] = np.asarray(gaps)
        dual = state.dual()
        length = np.sqrt(np.sum(dual * dual, axis=0)) / np.float32(lam)
        result.stages["dual field |q| / w"] = length.astype(np.float32)
        result.extras["display"] = {"dual field |q| / w": "map"}
    report(progress, 1.0)
    return result


# --------------------------------------------------------------------------- staircasing

def staircase_demo(sigma: float, seed: int = 0, *, shape: tuple[int, int] = (64, 256),
                   **params: object) -> dict[str, np.ndarray | float]:
    """TV's staircasing: a smooth ramp with a step, denoised, seen along one scanline.

    The clean image rises linearly from left to right (0.2 to 0.7 of the
    grey range, 0.002 a column on 256 columns) and jumps by 0.15 at the
    middle column; every row is the same. Gaussian noise of ``sigma`` is
    added (seeded, independent at every pixel) and :func:`tv` run with its
    defaults, or ``params`` (``weight``, ``solver``, ...). TV keeps the
    step and climbs the ramp in flat treads: a staircase has exactly the
    variation of the ramp it follows, and its flat treads fit the noise
    better (Nikolova 2000: TV's minimisers are constant on whole regions).
    Since the noise differs from row to row, the treads are patches of
    slightly different extent in each row, not straight bands.

    Parameters
    ----------
    sigma : float
        The standard deviation of the added Gaussian noise, on the [0, 1] scale.
    seed : int
        Seed of the noise.
    shape : (int, int)
        The image's (height, width); the scanline is the middle row.
    **params
        Parameters of :func:`tv` (``weight``, ``solver``, ``iterations``, ...);
        the rest at their defaults.

    Returns
    -------
    dict
        ``"x"`` (column index), ``"clean"``, ``"noisy"`` and ``"tv"`` (the
        middle row of each image), ``"image"`` (the whole TV estimate) and
        ``"weight"`` (the weight used).

    References
    ----------
    M. Nikolova, "Local strong homogeneity of a regularized estimator",
    SIAM J. Appl. Math. 61, 2000, pp. 633-658.
    https://doi.org/10.1137/S0036139997327794
    """
    height, width = shape
    columns = np.arange(width)
    ramp = 0.2 + 0.5 * columns / (width - 1) + 0.15 * (columns >= width // 2)
    clean = np.tile(ramp.astype(np.float32), (height, 1))
    noisy = noise.add_gaussian(clean, sigma, seed=seed)
    result = tv(noisy, sigma, **params)
    row = height // 2
    return {"x": columns, "clean": clean[row], "noisy": noisy[row], "tv": result.image[row],
            "image": result.image, "weight": result.extras["params"]["weight"]}


METHODS: tuple[Method, ...] = (
    Method(
        key="tv",
        name="Total variation (ROF)",
        year=1992,
        family=FAMILY,
        paper=("L. I. Rudin, S. Osher and E. Fatemi, \"Nonlinear total variation based noise "
               "removal algorithms\", Physica D 60, 1992, pp. 259-268, "
               "doi:10.1016/0167-2789(92)90242-F; solved by A. Chambolle, J. Math. Imaging "
               "Vis. 20, 2004, doi:10.1023/B:JMIV.0000011325.36760.1e, and A. Chambolle and "
               "T. Pock, J. Math. Imaging Vis. 40, 2011, doi:10.1007/s10851-010-0251-1"),
        idea=("Look for the image that stays close to the noisy one but has the least total "
              "variation: the sum, over every pixel, of how steeply the brightness changes "
              "there. Noise is a swarm of tiny ups and downs and adds up to a lot of "
              "variation, so it goes. An edge costs only its height times its length, "
              "however sharp it is, so a clean jump survives where a blur would smear it. "
              "The price is a cartoon look: fine texture is flattened with the noise, "
              "contrast drops a little, and a gentle slope, such as a sky or a cheek, turns "
              "into a staircase of flat terraces. The image is found by an iterative solver "
              "that also proves how close it has come to the best possible one."),
        params=TV,
        run=tv,
        colour=True,
        url="https://doi.org/10.1016/0167-2789(92)90242-F",
    ),
)
