"""Weighted nuclear norm minimisation (WNNM; Gu, Zhang, Zuo & Feng 2014).

Stack the patches that look like a reference patch as the columns of a
matrix: since they are nearly alike, the clean matrix is nearly of low rank
(a few singular values carry the picture), while noise spreads its energy
over all of them. WNNM shrinks every singular value of the noisy group by
its own amount, the smaller the value the larger the shrinkage, so large
components (the picture) are barely touched and small ones (the noise) are
killed. Groups are found by block matching and put back by averaging with
:mod:`denoisers.patches`, as BM3D does; the whole is iterated, adding a
little of the noisy image back in each time (iterative regularisation).

References
----------
S. Gu, L. Zhang, W. Zuo and X. Feng, "Weighted nuclear norm minimization
with application to image denoising", Proc. IEEE CVPR 2014, pp. 2862-2869.
https://doi.org/10.1109/CVPR.2014.366
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from . import metrics
from .core import Float, Int, InvalidInput, Method, Param, Progress, Result, View, report, validated
from .patches import Matches, extract, grid, grid_match, reference_grid
from .threads import in_order

FAMILY = "Low rank and patch priors"

#: Groups shrunk together in one batched eigendecomposition (bounds the memory).
_BATCH = 512
#: The small constant of the weights' denominator, on the [0, 1] scale.
_EPS = 1e-8
#: Fewer patches in each new grouping (the noise is lower): the authors' code's rule.
_FEWER = 10
#: The fewest patches a group keeps however many groupings there are.
_FEWEST = 10
#: Iterations between two block matchings (the authors' code's Innerloop).
_MATCH_EVERY = 2


@dataclass(frozen=True)
class Settings:
    """The defaults of one noise band, as in the authors' code (its ``ParSet``)."""

    size: int
    patches: int
    iterations: int
    gamma: float


def settings(sigma: float) -> Settings:
    """The band of defaults for ``sigma`` ([0, 1] scale): patch side, first group size,
    iterations and the factor gamma of the noise re-estimation."""
    level = 255.0 * sigma
    if level <= 20:
        return Settings(6, 60, 3, 0.54)
    if level <= 40:
        return Settings(7, 80, 3, 0.56)
    if level <= 60:
        return Settings(8, 110, 5, 0.58)
    return Settings(9, 130, 6, 0.58)


# --------------------------------------------------------------------------- the shrinkage

def weighted_shrinkage(values: np.ndarray, count: int, noise: np.ndarray | float,
                       c: float) -> tuple[np.ndarray, np.ndarray]:
    """Weighted singular-value thresholding of groups: the shrunk values and their weights.

    Parameters
    ----------
    values : array, shape (..., r)
        Singular values sigma_i(Y) of each noisy group (any order).
    count : int
        n, the number of patches (columns) in a group.
    noise : float or array broadcasting against ``values[..., 0]``
        sigma_n, the noise standard deviation of each group's pixels.
    c : float
        The constant of the weights.

    Returns
    -------
    shrunk : ndarray, shape (..., r)
        ``max(sigma_i(Y) - w_i, 0)``, the singular values of the estimate.
    weights : ndarray, shape (..., r)
        ``w_i = 2 c sqrt(n) sigma_n² / (sigma_i(X) + eps)``, with the clean
        singular value estimated as ``sigma_i(X) = sqrt(max(sigma_i(Y)² -
        n sigma_n², 0))``: a weight falls as its singular value grows, so
        the large components are kept and the small ones killed.

    Notes
    -----
    The paper minimises ``||Y - X||_F² / sigma_n² + sum_i w_i sigma_i(X)``
    with ``w_i = c sqrt(n) / (sigma_i(X) + eps)``; with weights that do not
    decrease along the singular values the solution is the weighted
    soft-thresholding of the singular values. The authors' code writes the
    same problem as ``||Y - X||_F² / 2 + sum_i w_i sigma_i(X)``, with the
    weight's numerator ``2 c sqrt(n) sigma_n²`` and c = 2.8 (2 sqrt 2), the
    scale used here.
    """
    values = np.asarray(values, np.float64)
    noise = np.asarray(noise, np.float64)[..., None]
    clean = np.sqrt(np.maximum(values ** 2 - count * noise ** 2, 0.0))
    weights = 2.0 * c * math.sqrt(count) * noise ** 2 / (clean + _EPS)
    return np.maximum(values - weights, 0.0), np.broadcast_to(weights, values.shape).copy()


def shrink_groups(groups: np.ndarray, noise: np.ndarray, c: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Denoise groups of patches by weighted nuclear norm minimisation, all at once.

    Parameters
    ----------
    groups : array, shape (g, n, d)
        g groups of n patches of d pixels each (a patch per row: the
        group's matrix Y, patches as columns, is ``groups[j].T``).
    noise : array, shape (g,)
        The noise standard deviation of each group.
    c : float
        The constant of the weights (:func:`weighted_shrinkage`).

    Returns
    -------
    estimate : ndarray (g, n, d), float32
        The groups' low-rank estimates, the mean patch added back.
    before, after : ndarray (g, r), float64
        Each group's singular values, largest first, before and after
        shrinkage (r = min(n, d)).
    weights : ndarray (g, r)
        Their weights.

    Notes
    -----
    The mean patch of a group is removed before and added back after, as in
    the authors' code. The singular values and vectors come from the
    eigendecomposition of the smaller Gram matrix: the d x d ``Ycᵀ Yc = U S² Uᵀ``
    (torch, batched, float32, on one thread: on the project's loaded 2-core
    CPU a batch of 2048 Gram matrices of 49 x 49 took 0.5 s on one thread
    against 22 s on two; :func:`wnnm` runs batches side by side on threads
    of one torch thread each instead, 3.4 s against 4.9 s on an idle 2-core
    CPU for the 512x512 camera at sigma_255 = 25; float64 for a batch where float32 fails, as it
    may on nearly identical patches), the estimate being ``Yc U f(S) S⁻¹ Uᵀ``
    with no need for the other singular vectors; or, for groups of fewer
    patches than pixels (n < d), the n x n ``Yc Ycᵀ = V S² Vᵀ`` and ``V f(S)
    S⁻¹ Vᵀ Yc``. Only the vectors up to the largest rank kept in the batch
    enter the estimate (:func:`_projector`). The
    eigendecomposition is most of a WNNM run's time (about 80 % of this
    function's): LAPACK's, one small matrix after another, is exact, and the
    subspace iterations tried in its place lost quality or time: warm-started
    from the last round's 16 leading eigenvectors (one power step), 0.05 to
    0.26 dB on Set12's 01 and 05 at sigma_255 = 25; from random vectors, a
    first round's groups changed by 0.002 to 0.01 (RMS) with 16 vectors, and
    24 vectors with two power steps cost as much as LAPACK.
    """
    import torch

    data = torch.from_numpy(np.asarray(groups, np.float32))
    mean = data.mean(dim=1, keepdim=True)
    centred = data - mean
    # Patches as rows (n >= d) or, transposed, pixels as rows: the Gram matrix is the smaller.
    fewer_patches = groups.shape[1] < groups.shape[2]
    rows = centred.transpose(1, 2) if fewer_patches else centred
    eigenvalues, vectors = _eigh(rows.transpose(1, 2) @ rows)       # ascending
    rank = min(groups.shape[1], groups.shape[2])
    values = eigenvalues[:, -rank:].clamp_min(0.0).sqrt().numpy()  # ascending
    shrunk, weights = weighted_shrinkage(values, groups.shape[1], noise, c)
    ratio = np.divide(shrunk, values, out=np.zeros_like(values), where=values > 0)
    projector = _projector(vectors[:, :, -rank:], ratio)
    estimate = (torch.baddbmm(mean, projector, centred) if fewer_patches else
                torch.baddbmm(mean, centred, projector))
    largest_first = np.s_[:, ::-1]
    return (estimate.numpy(), values[largest_first].astype(np.float64),
            shrunk[largest_first], weights[largest_first])


def _projector(vectors, ratio: np.ndarray):
    """``U diag(ratio) Uᵀ`` for each group, with the eigenvectors U (g, m, r) and their
    ratios (g, r) in ascending order of the values: only the columns of the largest
    kept rank in the batch enter the products (values below a kept one are never kept)."""
    import torch

    kept = int((ratio > 0).sum(axis=1).max(initial=0))
    if kept == 0:
        return torch.zeros(vectors.shape[0], vectors.shape[1], vectors.shape[1])
    basis = vectors[:, :, -kept:]
    scale = torch.from_numpy(np.ascontiguousarray(ratio[:, -kept:], np.float32))
    return (basis * scale[:, None, :]) @ basis.transpose(1, 2)


def _eigh(gram):
    """The eigenvalues (ascending) and eigenvectors of a batch of symmetric matrices, in
    float32; the batch is redone in float64 where float32 LAPACK fails or returns NaN, as it
    may on a group of (nearly) identical patches."""
    import torch

    try:
        values, vectors = torch.linalg.eigh(gram)
        # One sum each: a NaN or an infinity anywhere makes it non-finite.
        if bool(torch.isfinite(values.sum() + vectors.sum())):
            return values, vectors
    except torch.linalg.LinAlgError:
        pass
    values, vectors = torch.linalg.eigh(gram.double())
    return values.float(), vectors.float()


# --------------------------------------------------------------------------- the method

def _size_rule(sigma: float) -> int:
    return settings(sigma).size


def _patches_rule(sigma: float) -> int:
    return settings(sigma).patches


def _iterations_rule(sigma: float) -> int:
    return settings(sigma).iterations


def _step_rule(sigma: float) -> int:
    return settings(sigma).size - 1


#: The parameters of :func:`wnnm`, checked by every call (its Method's spec).
WNNM: tuple[Param, ...] = (
    Int("size", 4, 10, default=None, rule=_size_rule,
        help="Side of the square patches, in pixels (auto: 6, 7, 8 or 9 as sigma grows)."),
    Int("patches", 10, 200, default=None, rule=_patches_rule,
        help=("How many similar patches make a group at the first block matching; each "
              "later matching takes 10 fewer, the image being less noisy (auto: 60 to 130 "
              "as sigma grows).")),
    Int("iterations", 1, 20, default=None, rule=_iterations_rule,
        help=("Rounds of shrinkage, each on the last estimate with a tenth of the noisy "
              "image added back; block matching is redone every second round (auto: 3, 3, 5 "
              "or 6 as sigma grows; the authors' 8 to 14 gained at most 0.1 dB here).")),
    Float("c", 0.5, 8.0, default=2.8, step=0.1,
          help=("Strength of the shrinkage: the weights are c sqrt(n) over the singular "
                "value. The authors' 2.8.")),
    Int("step", 1, 8, default=None, rule=_step_rule,
        help=("Distance between reference patches, in pixels (auto: the patch side less "
              "one, 5 to 8). Smaller is slower, rarely better.")),
    Int("search", 5, 40, default=20,
        help="Similar patches are looked for at most this many pixels from the reference."),
)

#: Fraction of the noisy image added back at each iteration (the paper's delta).
_DELTA = 0.1


@validated(WNNM)
def wnnm(noisy: np.ndarray, sigma: float, *, size: int | None = None,
         patches: int | None = None, iterations: int | None = None, c: float = 2.8,
         step: int | None = None, search: int = 20, trace: bool = False,
         progress: Progress | None = None, reference: np.ndarray | None = None) -> Result:
    """Denoise by shrinking the singular values of groups of similar patches.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image (float32 on the [0, 1] scale; colour images go
        through :func:`denoisers.run`, channel by channel). Images smaller
        than a patch are mirrored up to one and cropped back.
    sigma : float
        Noise standard deviation on the [0, 1] scale. At 0 the image is
        returned as it is.
    size : int, optional
        Patch side; None chooses it from sigma (6 up to sigma_255 = 20, 7
        up to 40, 8 up to 60, 9 above).
    patches : int, optional
        Patches per group at the first block matching; each later one takes
        10 fewer (at least 10). None: 60, 80, 110 or 130 by the same bands.
    iterations : int, optional
        Rounds of shrinkage; None: 3, 3, 5 or 6 by the same bands.
    c : float
        The constant of the weights ``w_i = c sqrt(n) / (sigma_i(X) + eps)``.
    step : int, optional
        Distance between reference patches (the last row and column are
        always references, so every pixel is covered); None: the patch side
        less one, so that neighbouring references overlap by a pixel.
    search : int
        Radius of the search window: candidates differ from the reference's
        corner by at most this many rows and columns.
    trace : bool
        Also return the rank kept per reference patch, the noise level per
        iteration and what :func:`wnnm_group` needs.
    progress : callable, optional
        Receives the fraction done after each batch of groups.
    reference : ndarray, optional
        The clean image: with ``trace``, the PSNR after each iteration goes
        into ``curves["PSNR (dB)"]``. The estimate never depends on it.

    Returns
    -------
    Result
        ``image``: the estimate. With ``trace``: stage ``"rank kept"`` (the
        number of singular values each reference patch's group keeps in the
        last iteration, at the grid of references); curves per iteration
        ``"estimated noise σ (0-255)"`` (the mean of the groups' noise
        levels) and, with a ``reference``, ``"PSNR (dB)"``; extras
        ``"last input"`` (the image the last iteration shrank) and
        ``"last group size"``.

    Notes
    -----
    Each iteration k:

    1. *Iterative regularisation.* ``y_k = x_{k-1} + delta (y - x_{k-1})``
       (x_0 = y, delta = 0.1): a little of the noise removed, and of the
       detail lost, comes back.
    2. *Noise level.* The noise left in each reference patch is
       re-estimated as ``gamma sqrt(|sigma² - mean((y - y_k)²)|)`` over the
       patch (gamma = 0.54 to 0.58 by sigma, as in the authors' code); the
       first iteration uses sigma.
    3. *Grouping* (every second iteration): for reference patches on a grid
       of ``step``, the most similar patches of ``y_k`` within ``search``
       pixels (:func:`~denoisers.patches.grid_match`).
    4. *Shrinkage.* Each group's matrix is denoised by weighted singular
       value thresholding (:func:`shrink_groups`) and the patches are put
       back by plain averaging.

    The defaults follow the authors' MATLAB code by sigma (patch side,
    group sizes, gamma; c = 2.8, delta = 0.1) but for three shortcuts,
    measured on Set12 with the quality benchmark's noise (the trace's PSNR
    after each round) and, first, on 256x256 centre crops of camera and
    astronaut (grey) with ``noise.add_gaussian(clean, sigma, seed=0)``:

    - a reference every ``size - 1`` pixels, 5 to 8 (their code: every
      ``size / 2 - 1``, 2 or 3), within +-20 (theirs +-30). The work is
      one eigendecomposition per group, so it falls as the square of the
      step: on Set12 at sigma_255 = 25 (3 rounds) every 4, 5 and 6 pixels
      gave 30.046 / 30.034 / 30.005 dB for CPU times of about 1 : 0.62 :
      0.45; at 15 every 4 and 5 gave 32.554 / 32.533; at 50 every 7 gave
      26.763 (5 rounds) against every 4's 26.79 (6 rounds). A coarser
      step for the first matching only (6 then 4) gave 30.029 at 25 for
      the time of every 5;
    - fewer rounds: 3, 3, 5, 6 by band where their code runs 8, 12, 14,
      14. The PSNR after each round (the trace's curve) peaks early and
      then drifts by hundredths: on Set12 at sigma_255 = 25 (every 4
      pixels) rounds 3 to 6 gave 30.046 / 30.043 / 30.029 / 30.010 dB, at
      50 (every 7) 26.713 / 26.750 / 26.763 / 26.759; on the crops, at 15
      the 3rd round gave 31.90 / 32.83 dB and the 8th 31.78 / 32.76, at 50
      the 14th 0.03-0.08 dB more than the 6th for 2.3 times the time;
    - the singular values from each group's Gram matrix rather than an SVD.

    On Set12 (``python -m benchmarks.quality --data ../shared/data/set12
    --sigmas 15 25 50 --methods wnnm --per-image``, noise not clipped, each
    image at its own size) the mean PSNR is 32.53 / 30.00 / 26.76 dB at
    sigma_255 = 15 / 25 / 50 (every 4 pixels and 3, 4, 6 rounds: 32.55 /
    30.04 / 26.79), against the published 32.70 / 30.26 / 27.05 and this
    library's BM3D's 32.34 / 29.92 / 26.73. Time: the 512x512 camera at
    sigma_255 = 25 took 5.0 s of CPU (15 s wall at load average 7 to 9 on
    the project's 2-core CPU) against 13.8 s (39 s wall) with every 4
    pixels and 4 rounds; a Set12 image took 9 s wall on average at
    sigma_255 = 25 under the same load. Putting the patches back by their
    corners (:class:`_CornerSums`) and projecting on the kept columns only
    took the CPU time of one 256x256 run (Set12's 01) from 4.5 / 5.1 / 13.2 s
    to 2.1 / 4.5 / 10.2 s at sigma_255 = 15 / 25 / 50, with the same
    estimate to 3e-4; the rest is mostly LAPACK's eigendecompositions
    (:func:`shrink_groups`).

    The weights use the paper's estimate of the clean singular values
    (:func:`weighted_shrinkage`); the authors' code solves for them in
    closed form instead, which with c = 2.8 shrank more and gave 0.3 dB
    less here (29.30 / 29.53 dB at sigma_255 = 25, 12 rounds).

    References
    ----------
    S. Gu, L. Zhang, W. Zuo and X. Feng, "Weighted nuclear norm minimization
    with application to image denoising", Proc. IEEE CVPR 2014, pp.
    2862-2869. https://doi.org/10.1109/CVPR.2014.366

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.lowrank import wnnm
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = wnnm(noisy, 25 / 255).image  # size, patches, iterations from sigma
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 5
    True
    """
    with _one_thread():
        return _wnnm(noisy, sigma, size=size, patches=patches, iterations=iterations, c=c,
                     step=step, search=search, trace=trace, progress=progress,
                     reference=reference)


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Run torch and BLAS on one thread: the batched decompositions ran 10 to 40 times
    faster so on the project's 2-core CPU under load (see :func:`shrink_groups`)."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(threads)


def _wnnm(noisy: np.ndarray, sigma: float, *, size: int | None, patches: int | None,
          iterations: int | None, c: float, step: int | None, search: int, trace: bool,
          progress: Progress | None, reference: np.ndarray | None) -> Result:
    """:func:`wnnm`'s work, its parameters checked."""
    band = settings(sigma)
    size = band.size if size is None else size
    patches = band.patches if patches is None else patches
    iterations = band.iterations if iterations is None else iterations
    step = size - 1 if step is None else step
    if reference is not None and np.shape(reference) != noisy.shape:
        raise InvalidInput(f"the reference must have the noisy image's shape {noisy.shape}; "
                           f"got {np.shape(reference)}")
    height, width = noisy.shape
    if sigma == 0:
        report(progress, 1.0)
        return Result(noisy.copy())
    image = _padded(noisy, size)
    rows, cols = reference_grid(image.shape, size, step)
    estimate = image.copy()
    noise_curve, psnr_curve = [], []
    matches = None
    count = patches
    for k in range(iterations):
        current = estimate + _DELTA * (image - estimate)
        if k % _MATCH_EVERY == 0:
            count = max(_FEWEST, patches - _FEWER * (k // _MATCH_EVERY))
            matches = grid_match(current, grid(image.shape[0], size, step),
                                 grid(image.shape[1], size, step), size=size, radius=search,
                                 k=count)
        noise = (np.full(len(rows), sigma) if k == 0 else
                 _local_noise(image, current, rows, cols, size, sigma, band.gamma))
        estimate, ranks = _iteration(current, matches, noise, size, c, progress,
                                     (k / iterations, (k + 1) / iterations))
        noise_curve.append(255.0 * float(noise.mean()))
        if reference is not None:
            psnr_curve.append(metrics.psnr(reference, estimate[:height, :width]))
    result = Result(np.ascontiguousarray(estimate[:height, :width], np.float32))
    if trace:
        shape = (len(grid(image.shape[0], size, step)), len(grid(image.shape[1], size, step)))
        result.stages["rank kept"] = ranks.reshape(shape).astype(np.float32)
        result.curves["estimated noise σ (0-255)"] = np.array(noise_curve)
        if reference is not None:
            result.curves["PSNR (dB)"] = np.array(psnr_curve)
        result.extras["curve_x"] = ("iteration", np.arange(1, iterations + 1))
        result.extras["last input"] = current[:height, :width].astype(np.float32)
        result.extras["last group size"] = count
        result.extras["params"] = {"size": size, "patches": patches, "iterations": iterations,
                                   "c": c, "step": step, "search": search}
    report(progress, 1.0)
    return result


def _padded(noisy: np.ndarray, size: int) -> np.ndarray:
    """The image, mirrored at the bottom and right to at least one patch a side."""
    height, width = noisy.shape
    return np.pad(noisy, ((0, max(0, size - height)), (0, max(0, size - width))),
                  mode="symmetric")


def _local_noise(noisy: np.ndarray, current: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 size: int, sigma: float, gamma: float) -> np.ndarray:
    """The noise left in each reference patch of ``current``: gamma sqrt|sigma² - mean((y -
    y_k)²)|, the mean over the patch, as in the authors' code."""
    removed = extract((noisy - current) ** 2, rows, cols, size).mean(axis=(-2, -1))
    return gamma * np.sqrt(np.abs(sigma ** 2 - removed))


def _iteration(current: np.ndarray, matches: Matches, noise: np.ndarray, size: int, c: float,
               progress: Progress | None, span: tuple[float, float]
               ) -> tuple[np.ndarray, np.ndarray]:
    """One round of shrinkage of every group, put back by averaging: the estimate and the
    rank each group kept."""
    sums = _CornerSums(current.shape, size)
    total = len(matches.rows)
    ranks = np.zeros(total, np.int64)

    def shrunk(start: int) -> tuple[np.ndarray, np.ndarray]:
        stop = min(total, start + _BATCH)
        rows, cols = matches.rows[start:stop], matches.cols[start:stop]
        groups = extract(current, rows, cols, size).reshape(*rows.shape, size * size)
        estimate, _, values, _ = shrink_groups(groups, noise[start:stop], c)
        return estimate, (values > 0).sum(axis=1)

    # The batches side by side on the cores (denoisers.threads.in_order), added in order.
    starts = range(0, total, _BATCH)
    for start, (estimate, kept) in zip(starts, in_order(shrunk, starts)):
        stop = start + len(kept)
        ranks[start:stop] = kept
        sums.add(estimate, matches.rows[start:stop], matches.cols[start:stop])
        report(progress, span[0] + (span[1] - span[0]) * stop / total)
    return sums.mean(), ranks


class _CornerSums:
    """The plain average of overlapping patch estimates, summed by the patches' corners.

    WNNM puts back some 80 patches per reference patch, a few million pixels
    a round, and many patches fall at the same corner. Adding each whole
    patch (s² values) to a row of a (corners, s²) table (torch's
    ``index_add_``, float32) and spreading the table over the image once at
    the end (s² shifted additions, float64) gives the same average as
    :class:`~denoisers.patches.Aggregator` (to float32 rounding) in about a
    quarter of its time: no index per pixel, one scatter per patch.
    """

    def __init__(self, shape: tuple[int, int], size: int) -> None:
        import torch

        self.shape, self.size = shape, size
        self.corners = (shape[0] - size + 1, shape[1] - size + 1)
        self.sums = torch.zeros(self.corners[0] * self.corners[1], size * size)
        self.counts = np.zeros(self.corners[0] * self.corners[1], np.int64)

    def add(self, patches: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> None:
        """Add patches (..., s²), flattened row by row, at top-left corners (rows, cols)."""
        import torch

        corners = (rows * self.corners[1] + cols).ravel()
        self.sums.index_add_(0, torch.from_numpy(corners),
                             torch.from_numpy(patches.reshape(len(corners), -1)))
        self.counts += np.bincount(corners, minlength=len(self.counts))

    def mean(self) -> np.ndarray:
        """The average (H, W) float32 of every patch added; 0 where none fell."""
        planes = self.sums.numpy().reshape(*self.corners, self.size, self.size)
        counts = self.counts.reshape(self.corners)
        numerator = self._spread(lambda u, v: planes[:, :, u, v])
        denominator = self._spread(lambda u, v: counts)
        mean = np.divide(numerator, denominator, out=np.zeros_like(numerator),
                         where=denominator > 0)
        return mean.astype(np.float32)

    def _spread(self, plane: Callable[[int, int], np.ndarray]) -> np.ndarray:
        """The float64 image whose pixel (y, x) sums ``plane(u, v)[y - u, x - v]`` over the
        patch's pixels (u, v)."""
        out = np.zeros(self.shape)
        for u in range(self.size):
            for v in range(self.size):
                out[u:u + self.corners[0], v:v + self.corners[1]] += plane(u, v)
        return out


def wnnm_group(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
               size: int | None = None, patches: int | None = None,
               iterations: int | None = None, c: float = 2.8, step: int | None = None,
               search: int = 20) -> View:
    """WNNM's view of pixel ``probe``: the last iteration's group of the patch there.

    The reference patch is the grid patch whose centre lies nearest the
    probe. Its similar patches are matched on the last iteration's input
    (``result.extras["last input"]``) and the group is shrunk as the last
    iteration shrank it, its noise level re-estimated the same way: one
    search window and one small decomposition, never a rerun.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy image the traced run was given, float32 on the [0, 1]
        scale (for a grey method on a colour image, its luminance).
    sigma : float
        Its noise standard deviation, on the [0, 1] scale (it sets the
        defaults).
    result : Result
        What :func:`wnnm` returned for ``noisy`` and ``sigma`` with
        ``trace=True`` and the same parameters (its ``extras["last input"]``
        is where the group is matched).
    probe : (row, col)
        The pixel to look at, inside the image.
    size, patches, iterations, c, step, search
        As for :func:`wnnm`: the traced run's values (``None`` chooses from
        sigma, as the run did).

    Returns
    -------
    View
        ``extras["group"]``: ``"patch"`` (the reference's top-left corner),
        ``"size"``, ``"corners"`` (n, 2) of its similar patches, most
        similar first, ``"noisy"`` and ``"estimate"`` (n, s, s) the group
        before and after, ``"singular values"`` and ``"shrunk"`` (largest
        first), ``"weights"``, ``"rank"`` (the values kept) and ``"noise"``
        (its sigma_n, [0, 1] scale).
    """
    used = result.extras["params"]
    size, step, search, c = used["size"], used["step"], used["search"], used["c"]
    current = _padded(result.extras["last input"], size)
    image = _padded(noisy, size)
    rows, cols = grid(current.shape[0], size, step), grid(current.shape[1], size, step)
    row = int(rows[np.argmin(np.abs(rows + (size - 1) / 2 - probe[0]))])
    col = int(cols[np.argmin(np.abs(cols + (size - 1) / 2 - probe[1]))])
    at_row, at_col = np.array([row]), np.array([col])
    count = result.extras["last group size"]
    band = settings(sigma)
    noise = (np.array([sigma]) if used["iterations"] == 1 else
             _local_noise(image, current, at_row, at_col, size, sigma, band.gamma))
    matches = grid_match(current, at_row, at_col, size=size, radius=search, k=count)
    group = extract(current, matches.rows, matches.cols, size).reshape(1, count, size * size)
    with _one_thread():
        estimate, before, after, weights = shrink_groups(group, noise, c)
    return View(extras={"group": {
        "patch": (row, col), "size": size,
        "corners": np.stack([matches.rows[0], matches.cols[0]], axis=1),
        "noisy": group[0].reshape(count, size, size).astype(np.float32),
        "estimate": estimate[0].reshape(count, size, size),
        "singular values": before[0], "shrunk": after[0], "weights": weights[0],
        "rank": int((after[0] > 0).sum()), "noise": float(noise[0])}})


METHODS: tuple[Method, ...] = (
    Method(
        key="wnnm",
        name="WNNM",
        year=2014,
        family=FAMILY,
        paper=("S. Gu, L. Zhang, W. Zuo and X. Feng, \"Weighted nuclear norm minimization with "
               "application to image denoising\", Proc. IEEE CVPR 2014, pp. 2862-2869"),
        url="https://doi.org/10.1109/CVPR.2014.366",
        idea=("Gather, for each small patch, the patches that look most like it, and lay them "
              "side by side as the columns of a matrix. Were they noise-free, the matrix would "
              "be nearly of low rank: a few patterns, mixed in different amounts, make up "
              "every column. Its singular values say how much each pattern carries; noise "
              "adds a floor of small ones. WNNM shrinks every singular value by its own "
              "weight, small for the large values (the picture) and large for the small ones "
              "(the noise), which plain nuclear-norm shrinkage, the same cut for all, cannot "
              "do. The groups are put back by averaging, a tenth of the noisy image is added "
              "back, and the whole is repeated a few times with the noise re-estimated. In "
              "2014 it edged past BM3D, at many times its cost: the classical field's last "
              "refinement before the networks."),
        params=WNNM,
        run=wnnm,
        slow=True,
        look=wnnm_group,
    ),
)
