"""What the PDE methods share: an image that evolves in time, and what a trace keeps of it.

Each method of the chapter moves the noisy image ``f`` step by step,
``u_0 = f``, ``u_{k+1} = u_k + dt F(u_k)`` for a diffusion or one iteration
of a solver for total variation, and stops after a number of steps chosen
from sigma. The discrete operators here (:func:`gradient`,
:func:`divergence`) are the ones Chambolle (2004) uses: forward differences
with a zero difference across the last row and column (a reflecting,
Neumann border), and the divergence that is minus their adjoint, so that
``sum(gradient(u) . p) == -sum(u divergence(p))`` holds exactly.

A traced run (:class:`Recorder`) keeps what the chapter draws, the same for
every method:

- the evolution: at most :data:`MAX_FRAMES` frames, spread over the run and
  always holding the stopping step, downscaled to :data:`FRAME_SIDE` pixels
  and stored as float16, so a trace of a 512x512 colour image stays under
  8 MB;
- the PSNR against the clean image at every step, when the caller gives the
  clean image as ``reference`` (the contract's convention: only the trace
  sees it);
- the discrepancy principle (Morozov 1966), a stopping rule that needs no
  clean image: the RMS of the residual ``u_k - f`` grows from 0 as the
  image is smoothed, and the rule stops where it reaches sigma, the RMS of
  the noise that should have been removed.

To show the stopping-time problem, a traced diffusion runs on past its
stopping step (``overrun`` times as long), so the PSNR curve visibly rises,
peaks and falls; the estimate returned is the image at the stopping step,
the same with or without the trace.

References
----------
A. Chambolle, "An algorithm for total variation minimization and
applications", J. Math. Imaging Vis. 20, 2004, pp. 89-97.
https://doi.org/10.1023/B:JMIV.0000011325.36760.1e
V. A. Morozov, "On the solution of functional equations by the method of
regularization", Soviet Math. Dokl. 7, 1966, pp. 414-417.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import metrics
from ..core import Progress, Result, report
from ..images import downscale

#: The family of every method of the chapter.
FAMILY = "PDEs & energy minimisation"
#: The most frames of an evolution a trace keeps.
MAX_FRAMES = 20
#: The longest side of a kept frame; larger images are downscaled for display.
FRAME_SIDE = 256
#: How much longer than its stopping time a traced diffusion runs.
OVERRUN = 3.0


# --------------------------------------------------------------------------- operators

def gradient(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward differences (down, right) of ``u`` (H, W) or (H, W, C); zero on the last
    row (for the first) and the last column (for the second)."""
    down = np.zeros_like(u)
    right = np.zeros_like(u)
    down[:-1] = u[1:] - u[:-1]
    right[:, :-1] = u[:, 1:] - u[:, :-1]
    return down, right


def divergence(down: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Backward differences of a field (down, right): minus the adjoint of :func:`gradient`."""
    div = np.zeros_like(down)
    div[0] = down[0]
    div[1:-1] = down[1:-1] - down[:-2]
    div[-1] = -down[-2]
    div[:, 0] += right[:, 0]
    div[:, 1:-1] += right[:, 1:-1] - right[:, :-2]
    div[:, -1] -= right[:, -2]
    return div


def magnitude(down: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The length of the field at each pixel, summed over colour channels (vectorial)."""
    squared = down * down + right * right
    return np.sqrt(squared.sum(axis=2) if squared.ndim == 3 else squared)


# --------------------------------------------------------------------------- the trace

@dataclass
class Recorder:
    """What a traced evolution of ``noisy`` keeps, step by step.

    ``record(step, u)`` is called with ``u_0`` (the noisy image) and after
    every step; ``keep`` are the steps whose frames are kept (set by
    :func:`evolve` from the length of the run). ``time`` turns
    a step into the time the page shows on its axis (``step * dt`` for a
    diffusion, the step itself for a solver).
    """

    noisy: np.ndarray
    sigma: float
    reference: np.ndarray | None
    time: Callable[[int], float] = float
    keep: frozenset[int] = frozenset()
    times: list[float] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    residual: list[float] = field(default_factory=list)
    frames: list[np.ndarray] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)

    def record(self, step: int, u: np.ndarray) -> None:
        self.times.append(self.time(step))
        if self.reference is not None:
            self.psnr.append(metrics.psnr(self.reference, u))
        self.residual.append(float(np.sqrt(np.mean(np.square(u - self.noisy)))))
        if step in self.keep:
            self.frames.append(downscale(u, FRAME_SIDE)[0].astype(np.float16))
            self.frame_times.append(self.time(step))

    def onto(self, result: Result, stop: int, axis: str) -> Result:
        """``result`` with the evolution, the curves and the discrepancy stop added.

        ``stop`` is the step the estimate was taken at; ``axis`` names the
        x axis of the curves ("time t" or "iteration").

        Parameters
        ----------
        result : Result
            The method's result, completed in place and returned.
        stop : int
            The step the estimate was taken at.
        axis : str
            The x axis' label for the curves, ``"time t"`` or ``"iteration"``.
        """
        times = np.asarray(self.times)
        if self.psnr:
            result.curves["PSNR (dB)"] = np.asarray(self.psnr)
        result.curves["residual RMS / σ"] = np.asarray(self.residual) / max(self.sigma, 1e-12)
        result.extras["curve_x"] = (axis, times)
        result.extras["evolution"] = {"times": np.asarray(self.frame_times),
                                      "frames": np.stack(self.frames)}
        result.extras["stop"] = float(self.time(stop))
        result.extras["discrepancy stop"] = discrepancy_stop(times, np.asarray(self.residual),
                                                             self.sigma)
        return result


def kept_steps(total: int, stop: int) -> frozenset[int]:
    """At most :data:`MAX_FRAMES` steps spread over 0..total, always with ``stop`` and both ends."""
    spread = np.linspace(0, total, MAX_FRAMES - 1).round().astype(int)
    return frozenset(int(s) for s in spread) | {stop}


def discrepancy_stop(times: np.ndarray, residual: np.ndarray, sigma: float) -> float | None:
    """The first time the residual's RMS reaches ``sigma`` (None if it never does).

    Parameters
    ----------
    times : ndarray, shape (n,)
        The time (or iteration) of every recorded step.
    residual : ndarray, shape (n,)
        The RMS of ``u_k - f`` at those steps, on the [0, 1] scale.
    sigma : float
        The noise standard deviation on the [0, 1] scale; 0 gives None.
    """
    reached = np.flatnonzero(residual >= sigma)
    return float(times[reached[0]]) if reached.size and sigma > 0 else None


def evolve(noisy: np.ndarray, step: Callable[[np.ndarray], np.ndarray], stop: int, *,
           recorder: Recorder | None = None, overrun: float = OVERRUN,
           progress: Progress | None = None) -> np.ndarray:
    """Apply ``step`` ``stop`` times to ``noisy`` and return the result.

    With a ``recorder`` (a traced run) the evolution goes on to
    ``ceil(overrun * stop)`` steps, recording every one; the image returned
    is still the one at ``stop``. Progress is reported after every step and
    ends at 1.0.

    Parameters
    ----------
    noisy : ndarray, shape (H, W) or (H, W, C)
        The starting image ``u_0``, float32.
    step : callable
        One step of the method, ``u_{k+1} = step(u_k)``.
    stop : int
        The number of steps whose result is returned (0 returns ``noisy``).
    recorder : Recorder, optional
        Given for a traced run: every step is recorded, and the run goes on
        past ``stop``.
    overrun : float
        How much longer than ``stop`` a traced run goes on (>= 1).
    progress : callable, optional
        Receives the fraction of the steps done.
    """
    total = max(stop, int(np.ceil(overrun * stop))) if recorder is not None else stop
    u = noisy
    estimate = noisy
    if recorder is not None:
        recorder.keep = kept_steps(total, stop)
        recorder.record(0, u)
    for k in range(1, total + 1):
        u = step(u)
        if k == stop:
            estimate = u
        if recorder is not None:
            recorder.record(k, u)
        report(progress, k / total)
    report(progress, 1.0)
    return estimate.astype(np.float32, copy=False)
