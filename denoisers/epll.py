"""EPLL: restore the whole image so that every one of its patches is likely under a learned prior.

Zoran & Weiss (2011) learned a Gaussian mixture of clean 8x8 patches
(:mod:`denoisers.gmm`) and asked for the image whose *expected patch
log-likelihood* -- the sum of the log-likelihoods of all its overlapping
patches -- is highest while staying close to the noisy image. Half-quadratic
splitting makes that tractable: auxiliary patches z_i are tied to the
image's patches by a penalty beta that grows step by step; for a fixed image
each z_i is the MAP patch under the prior at noise variance 1/beta (the most
likely component, then its Wiener filter), and for fixed patches each pixel
becomes a weighted average of its noisy value and of the mean of the patch
estimates that cover it (the authors' form of the image step).

References
----------
D. Zoran and Y. Weiss, "From learning models of natural image patches to
whole image restoration", Proc. IEEE ICCV 2011, pp. 479-486.
https://doi.org/10.1109/ICCV.2011.6126278
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import metrics
from .core import Int, InvalidInput, Method, Param, Progress, Result, View, report, validated
from .gmm import WEIGHTS, GaussianMixture
from .lazy import F, torch
from .threads import in_order, one_torch_thread

FAMILY = "Low rank and patch priors"

#: The mixture the method loads (tests point it elsewhere).
PRIOR_FILE: Path = WEIGHTS

#: Patches whose components are shortlisted at once (bounds the memory: 512 x K x (rank + 1)
#: floats, 3.4 MB for 80 components; 512 took 15% less CPU time than 4096 on 256x256).
_CHUNK = 512

#: Patches per part when a step's patches are shared among threads (:func:`_map_in_parts`).
_PART = 8192

#: Leading eigenvectors of every component in the low-rank log-likelihood that shortlists
#: the components of a patch (:func:`shortlist`). On 256x256 centre crops of Set12's 05, 09
#: and 12 at sigma 25 the mean PSNR was 28.623 dB with the full form, 28.456 with rank 8
#: (3 shortlisted), 28.600 with 16 (2), 28.622 with 20 (2), 28.626 with 24 (2).
_RANK = 20

#: Components shortlisted per patch, among which the full log-likelihood picks one.
_SHORTLIST = 2

#: The schedule of the penalty beta, in units of 1 / sigma²: Zoran & Weiss's
#: [1, 4, 8, 16, 32], doubling after that for the longer runs the spec allows.
_SCHEDULE = (1.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)

#: How many components, atoms and samples a trace shows of the prior.
_SHOWN_COMPONENTS = 8
_SHOWN_ATOMS = 8


@dataclass(frozen=True)
class Prior:
    """A mixture ready for the half-quadratic steps: float32 torch tensors."""

    mixture: GaussianMixture
    log_weights: torch.Tensor  # (K,)
    means: torch.Tensor  # (K, d)
    eigenvalues: torch.Tensor  # (K, d)
    eigenvectors: torch.Tensor  # (K, d, d), columns
    projected_means: torch.Tensor  # (K, d): V_k^T mu_k


@functools.lru_cache(maxsize=2)
def load_prior(path: str) -> Prior:
    """The mixture in ``path``, loaded once per process; an :class:`InvalidInput` if missing."""
    mixture = GaussianMixture.load(path)
    vectors = torch.as_tensor(mixture.eigenvectors, dtype=torch.float32)
    means = torch.as_tensor(mixture.means, dtype=torch.float32)
    return Prior(mixture=mixture,
                 log_weights=torch.log(torch.as_tensor(mixture.weights, dtype=torch.float32)),
                 means=means,
                 eigenvalues=torch.as_tensor(mixture.eigenvalues, dtype=torch.float32),
                 eigenvectors=vectors,
                 projected_means=torch.einsum("kij,ki->kj", vectors, means))


def prior_size(path: Path = PRIOR_FILE) -> int:
    """How many numbers the patch prior learned from its training patches: each component's
    weight, mean and symmetric covariance, ``K (1 + d + d (d + 1) / 2)``."""
    mixture = load_prior(str(path)).mixture
    k, d = mixture.means.shape
    return k * (1 + d + d * (d + 1) // 2)


def posterior_scores(prior: Prior, patches: torch.Tensor,
                     noise_variance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """log(w_k N(y; mu_k, Sigma_k + s I)) of DC-free ``patches`` (n, d) for every component
    (n, K), at noise variance ``s``, and the whitened projections z (n, K, d),
    z_k = diag(l_k + s)^-1/2 V_k^T (y - mu_k), from one product of the patches (with a
    column of ones, for the means) with all components' whitening matrices side by side.
    The full form, for a few patches (the view of one); :func:`map_patches` shortlists.

    Parameters
    ----------
    prior : Prior
        The Gaussian mixture as float32 tensors (:func:`load_prior`), K
        components over patches of d = s² pixels.
    patches : torch.Tensor, shape (n, d)
        Flattened patches with their mean removed, on the [0, 1] scale.
    noise_variance : float
        The variance ``s`` of the white noise the patches are seen through
        ([0, 1] scale squared; sigma² / beta at a half-quadratic step).
    """
    k, d = prior.means.shape
    scale = torch.rsqrt(prior.eigenvalues + noise_variance)  # (K, d)
    whiten = torch.cat([prior.eigenvectors * scale[:, None, :],
                        -(prior.projected_means * scale)[:, None, :]], dim=1)  # (K, d + 1, d)
    stacked = whiten.permute(1, 0, 2).reshape(d + 1, k * d)
    ones = torch.ones(len(patches), 1, dtype=patches.dtype)
    z = (torch.cat([patches, ones], dim=1) @ stacked).reshape(-1, k, d)
    constant = prior.log_weights + torch.log(scale).sum(1)
    return constant - 0.5 * torch.linalg.vector_norm(z, dim=2).square(), z


def shortlist(prior: Prior, patches: torch.Tensor, noise_variance: float) -> torch.Tensor:
    """The :data:`_SHORTLIST` components (n, c) of highest low-rank log-likelihood for every
    DC-free patch of ``patches`` (n, d) at noise variance ``s`` (``noise_variance``).

    The quadratic form ``(y - mu)^T (Sigma + s I)^-1 (y - mu)`` keeps its exact
    terms along each component's :data:`_RANK` leading eigenvectors and
    weighs the rest of ``||y - mu||²`` by the mean of ``1 / (l_j + s)`` over
    the other eigenvalues (but the last, the DC direction, which DC-free
    patches do not enter); the log-determinant is exact. One product of the
    patches (with a column of ones, for the means) with the K x (rank + 1)
    vectors side by side, in chunks of :data:`_CHUNK` patches: a fraction
    ``(rank + 1) / d`` of the full form's work, and no (n, K, d) array.

    Parameters
    ----------
    prior : Prior
        The Gaussian mixture as float32 tensors (:func:`load_prior`), K
        components over patches of d = s² pixels.
    patches : torch.Tensor, shape (n, d)
        Flattened patches with their mean removed, on the [0, 1] scale.
    noise_variance : float
        The variance ``s`` of the white noise the patches are seen through
        ([0, 1] scale squared; sigma² / beta at a half-quadratic step).
    """
    k, d = prior.means.shape
    rank = min(_RANK, d - 2)
    tail = (1.0 / (prior.eigenvalues[:, rank:-1] + noise_variance)).mean(1)  # (K,)
    lead = prior.eigenvalues[:, :rank]
    gain = (tail[:, None] - 1.0 / (lead + noise_variance)).clamp_min(0.0).sqrt()  # (K, r)
    vectors = torch.cat([prior.eigenvectors[:, :, :rank],
                         -prior.projected_means[:, None, :rank]], dim=1) * gain[:, None, :]
    # [y, 1] times this: the weighed projections of y - mu_k (K r columns), then y . mu_k
    stacked = torch.cat([vectors.permute(1, 0, 2).reshape(d + 1, k * rank),
                         torch.cat([prior.means.T, torch.zeros(1, k)])], dim=1)
    squared_means = prior.means.square().sum(1)
    constant = prior.log_weights - 0.5 * torch.log(prior.eigenvalues + noise_variance).sum(1)
    ones = torch.ones(len(patches), 1, dtype=patches.dtype)
    best = torch.empty(len(patches), min(_SHORTLIST, k), dtype=torch.int64)
    for start in range(0, len(patches), _CHUNK):
        chunk = patches[start:start + _CHUNK]
        products = torch.cat([chunk, ones[:len(chunk)]], dim=1) @ stacked
        leading = products[:, :k * rank].square_().reshape(-1, k, rank).sum(2)
        energy = chunk.square().sum(1, keepdim=True) - 2.0 * products[:, k * rank:] + squared_means
        scores = constant - 0.5 * (tail * energy - leading)
        best[start:start + _CHUNK] = scores.topk(best.shape[1], dim=1).indices
    return best


def map_patches(prior: Prior, patches: torch.Tensor,
                noise_variance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Approximate MAP estimates of DC-free ``patches`` (n, d) seen through white noise of
    ``noise_variance``: each patch takes the component with the highest posterior among its
    :func:`shortlist` and is Wiener-filtered under it, mu + V diag(l / (l + s)) V^T (y - mu).

    Returns the estimates (n, d) and the chosen component of each patch (n,).

    Parameters
    ----------
    prior : Prior
        The Gaussian mixture as float32 tensors (:func:`load_prior`), K
        components over patches of d = s² pixels.
    patches : torch.Tensor, shape (n, d)
        Flattened patches with their mean removed, on the [0, 1] scale.
    noise_variance : float
        The variance ``s`` of the white noise the patches are seen through
        ([0, 1] scale squared; sigma² / beta at a half-quadratic step).
    """
    candidates = shortlist(prior, patches, noise_variance)
    chosen = _most_likely(prior, patches, noise_variance, candidates)
    filters = prior.eigenvectors * (prior.eigenvalues / (prior.eigenvalues + noise_variance)
                                    )[:, None, :] @ prior.eigenvectors.transpose(1, 2)
    estimates = torch.empty_like(patches)
    for component, members in _groups(chosen, len(prior.means)):
        mean = prior.means[component]
        estimates[members] = mean + (patches[members] - mean) @ filters[component]
    return estimates, chosen


def _map_in_parts(prior: Prior, patches: torch.Tensor,
                  noise_variance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`map_patches` of parts of :data:`_PART` patches, side by side on the cores
    (:func:`~denoisers.threads.in_order`): every patch is filtered on its own, so the
    parts, which are the same on any number of threads, give the same result."""
    def mapped(part: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.inference_mode():
            return map_patches(prior, part, noise_variance)

    estimates, chosen = zip(*in_order(mapped, torch.split(patches, _PART)))
    return torch.cat(estimates), torch.cat(chosen)


def _most_likely(prior: Prior, patches: torch.Tensor, noise_variance: float,
                 candidates: torch.Tensor) -> torch.Tensor:
    """The component of highest exact log-likelihood (the full quadratic form) among each
    patch's ``candidates`` (n, c): each component's whitening applied to the patches that
    have it on their list."""
    scale = torch.rsqrt(prior.eigenvalues + noise_variance)  # (K, d)
    whiten = prior.eigenvectors * scale[:, None, :]
    shift = prior.projected_means * scale
    constant = prior.log_weights + torch.log(scale).sum(1)
    pairs = candidates.reshape(-1)
    scores = torch.empty(len(pairs), dtype=patches.dtype)
    for component, members in _groups(pairs, len(prior.means)):
        z = patches[members // candidates.shape[1]] @ whiten[component] - shift[component]
        scores[members] = constant[component] - 0.5 * z.square().sum(1)
    best = scores.reshape(candidates.shape).argmax(1, keepdim=True)
    return candidates.gather(1, best)[:, 0]


def _groups(labels: torch.Tensor, count: int) -> Iterator[tuple[int, torch.Tensor]]:
    """The positions (in order) of every label in ``labels`` among ``0 .. count - 1``."""
    order = torch.argsort(labels, stable=True)
    sizes = torch.bincount(labels, minlength=count).tolist()
    for label, members in enumerate(torch.split(order, sizes)):
        if len(members):
            yield label, members


#: The parameters of :func:`epll`, checked by every call (its Method's spec).
EPLL: tuple[Param, ...] = (
    Int("iterations", 1, len(_SCHEDULE), default=5,
        help=("Half-quadratic steps, beta = (1, 4, 8, 16, 32, ...) / sigma²: each picks a "
              "component for every patch, Wiener-filters it and averages the patches back "
              "with the noisy image. The paper uses 5.")),
)


@validated(EPLL)
def epll(noisy: np.ndarray, sigma: float, *, iterations: int = 5, trace: bool = False,
         progress: Progress | None = None, reference: np.ndarray | None = None) -> Result:
    """Denoise with the expected patch log-likelihood under a learned Gaussian mixture.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, float32 in [0, 1] (colour images go through
        :func:`denoisers.run`, channel by channel in opponent space). Images
        under 8 pixels a side are mirrored up to 8 and cropped back.
    sigma : float
        Noise standard deviation on the [0, 1] scale; it sets the whole
        schedule. At 0 the image is returned as it is.
    iterations : int
        Half-quadratic steps, with beta = (1, 4, 8, 16, 32, 64, 128,
        256)[:iterations] / sigma²; the paper's 5.
    trace : bool
        Also return the estimate after every step, the map of the component
        chosen for every patch at the last step and a picture of the prior
        (its components' leading eigenvectors and patches drawn from it).
    progress : callable, optional
        Receives the fraction done after each step.
    reference : ndarray, optional
        The clean image: with ``trace``, the PSNR after every step is
        returned in ``curves["PSNR (dB)"]``. The estimate never depends on it.

    Returns
    -------
    Result
        ``image``: the estimate. With ``trace``: stages ``"step t"`` (the
        estimate after step t, t = 1..iterations); extras ``"components"``
        (int, (H - 7, W - 7): the component chosen at the last step for the
        patch with its top-left corner at each pixel), ``"prior"``
        (:func:`prior_view`), ``"betas"`` (the schedule, in 1 / sigma²
        units) and ``"params"``; with ``reference``, curves ``"PSNR (dB)"``
        per step (``extras["curve_x"]``).

    Notes
    -----
    Each step cuts every overlapping 8x8 patch (stride 1), removes its mean,
    chooses the mixture component with the largest posterior at noise
    variance 1/beta, Wiener-filters the patch under it, puts the mean back,
    averages at every pixel the estimates of the patches that cover it, and
    takes ``x = (lambda y + beta d avg) / (lambda + beta d)`` with
    ``lambda = 64 / sigma²`` as in the paper and d = 64, the number of
    patches that cover an inner pixel. This is the image step of Zoran &
    Weiss's own code (``EPLLhalfQuadraticSplit.m``: ``scol2im(...,
    'average')``, then ``counts = patchSize^2`` for every pixel), not the
    exact minimiser ``(lambda y + beta sum_i P_i^T z_i) / (lambda + beta
    sum_i P_i^T P_i)``, which weighs a pixel by the patches that cover it:
    near the border, where fewer do, that leaves the noisy image almost as it
    was (on a flat 40x40 image at sigma 0.1 the 7-pixel border kept 3.6 times
    the interior's error; averaging brings it to 1.14 times). The first step
    weighs the noisy image and the patches equally; the last trusts the
    patches 32 to 1. The result is clipped to [0, 1], as the authors' code
    ends. Nothing is tuned by hand besides the schedule: every choice follows
    sigma.

    The prior (``assets/weights/epll_gmm.npz``) has 80 components, fitted by
    ``python -m denoisers.train epll`` to 400 000 patches of train400, grown
    from a 48-component mixture (see ``assets/weights/README.md``); Zoran &
    Weiss used 200 components and two million patches.

    Choosing the component is most of the work. The full log-likelihood of
    every patch under every component is one (n, 64) x (64, 64 K) product
    per step for n patches and K components (7.9 s for a 256x256 image with
    80 components on one core of the shared 2-core machine). Instead each
    patch's components are ranked by a low-rank log-likelihood
    (:func:`shortlist`: exact along each component's 20 leading
    eigenvectors, the rest of the patch weighed by the mean inverse variance
    of the other directions), one (n, 65) x (65, 21 K) product; the full
    form then picks the better of the two best, and each patch is
    Wiener-filtered under its chosen component only, the patches grouped by
    component: Set12's 05 (256x256) took 2.8 s of CPU time against 10.0 s
    with the full form (medians of 3 interleaved runs; their wall times, at
    load average 29 to 37, were 21 s against 56 s). On the noisy patches
    of Set12's 05 the choice is the full form's for 86 to 98% of them (the
    others are near ties), and the PSNR does not move: Set12 at sigma 25
    gives 29.34 dB as the full form did (29.338 against 29.336, each image
    within 0.011 dB; ``assets/benchmarks/patch_priors/epll_fast``), and
    31.79 / 26.13 dB at sigma 15 / 50 against 31.81 / 26.13 (``epll_fast_15_50``
    beside it). All in
    float32 torch, chunked, on one torch thread (two ran 2.5 times slower
    under load); a step's patches are mapped in parts side by side on the
    cores instead (:func:`_map_in_parts`): camera's 256x256 centre at sigma
    25 took 1.5 s on an idle 2-core CPU against 2.3 s in one part.

    At sigma 25 on 256x256 centre crops of camera, astronaut (grey) and coins
    and three 180x180 train400 images (``python -m benchmarks.quality --data
    CROPS --sigmas 25 --methods epll --per-image``, the folder as in
    ``assets/weights/README.md``) the average image step and the clipping
    give 29.17 / 29.20 / 27.99 / 27.51 / 26.12 / 27.85 dB, +0.38 to +0.65 dB
    over the exact minimiser (27.97 against 27.49 on average). Going on past
    the paper's five steps (beta doubling) had gained +0.06 to +0.15 dB at six
    steps and +0.09 to +0.25 at eight with the exact minimiser, for 1.2 and
    1.6 times the time. On Set12 (``python -m benchmarks.quality --data
    ../shared/data/set12 --methods epll``) it gives 31.81 / 29.34 / 26.13 dB at
    sigma 15 / 25 / 50 (with the exact minimiser: 31.37 / 28.87 / 25.63 with
    the 48-component prior, 28.93 at sigma 25 with this one), against the
    published 32.14 / 29.69 / 26.47 of the authors' 200-component prior.

    References
    ----------
    .. [1] D. Zoran and Y. Weiss, "From learning models of natural image
       patches to whole image restoration", Proc. IEEE ICCV 2011,
       pp. 479-486. https://doi.org/10.1109/ICCV.2011.6126278

    Examples
    --------
    >>> from denoisers import noise
    >>> clean = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (32, 1))
    >>> result = epll(noise.add_gaussian(clean, 0.1, seed=0), 0.1)
    >>> result.image.shape
    (32, 32)
    """
    if noisy.ndim != 2:
        raise InvalidInput("epll works on grey images; run a colour image through "
                           "denoisers.run, which takes it channel by channel")
    prior = load_prior(str(PRIOR_FILE))
    size = prior.mixture.size
    height, width = noisy.shape
    padded = np.pad(noisy, ((0, max(0, size - height)), (0, max(0, size - width))),
                    mode="symmetric")
    noisy_t = torch.as_tensor(padded, dtype=torch.float32)[None, None]
    shape = tuple(padded.shape)
    betas = _SCHEDULE[:iterations]
    steps: list[np.ndarray] = []
    chosen = torch.zeros(0, dtype=torch.int64)
    estimate = noisy_t
    if sigma > 0:
        counts = F.fold(torch.ones(1, size * size, _patch_count(shape, size)), shape, size)
        with torch.inference_mode(), one_torch_thread():
            for step, beta in enumerate(betas):
                columns = F.unfold(estimate, size)[0].T  # (n, d)
                dc = columns.mean(1, keepdim=True)
                cleaned, chosen = _map_in_parts(prior, columns - dc, sigma * sigma / beta)
                averaged = F.fold((cleaned + dc).T[None], shape, size) / counts
                # lambda / (beta d) = 1 / beta in units of 1 / sigma², at every pixel
                estimate = (noisy_t / beta + averaged) / (1.0 / beta + 1.0)
                if step == len(betas) - 1:
                    estimate = estimate.clamp(0.0, 1.0)  # as the authors' code ends
                if trace:
                    steps.append(estimate[0, 0, :height, :width].numpy().copy())
                report(progress, (step + 1) / len(betas))
    image = estimate[0, 0, :height, :width].numpy().astype(np.float32)
    result = Result(image)
    if trace:
        grid = (shape[0] - size + 1, shape[1] - size + 1)
        result.stages = {f"step {t + 1}": s for t, s in enumerate(steps)}
        result.extras["display"] = {name: "image" for name in result.stages}
        result.extras["components"] = (chosen.reshape(grid).numpy() if len(chosen)
                                       else np.zeros(grid, np.int64))
        result.extras["prior"] = prior_view(prior.mixture)
        result.extras["betas"] = np.array(betas)
        result.extras["params"] = {"iterations": iterations}
        if reference is not None and steps:
            result.curves["PSNR (dB)"] = np.array([metrics.psnr(reference, s) for s in steps])
            result.extras["curve_x"] = ("half-quadratic step", np.arange(1, len(steps) + 1))
    report(progress, 1.0)
    return result


def _patch_count(shape: tuple[int, int], size: int) -> int:
    return (shape[0] - size + 1) * (shape[1] - size + 1)


def prior_view(mixture: GaussianMixture, *, components: int = _SHOWN_COMPONENTS,
               atoms: int = _SHOWN_ATOMS, seed: int = 0) -> dict[str, np.ndarray]:
    """What the prior believes patches look like: for its ``components`` heaviest
    components, their weights, their covariances' ``atoms`` leading eigenvectors as patches
    (components, atoms, s, s) with those eigenvalues, and ``atoms`` patches drawn from each
    component (components, atoms, s, s), mean zero.

    Parameters
    ----------
    mixture : GaussianMixture
        The patch prior (:class:`~denoisers.gmm.GaussianMixture`).
    components : int
        How many of its components to show, the heaviest first.
    atoms : int
        How many leading eigenvectors, and how many drawn patches, per
        component.
    seed : int
        Seed of the generator the patches are drawn with.
    """
    size = mixture.size
    order = np.argsort(mixture.weights)[::-1][:components]
    rng = np.random.default_rng(seed)
    unit = rng.standard_normal((len(order), atoms, size * size))
    scale = np.sqrt(mixture.eigenvalues[order])[:, None, :]
    drawn = mixture.means[order][:, None, :] + np.einsum("kij,knj->kni",
                                                        mixture.eigenvectors[order], unit * scale)
    leading = np.transpose(mixture.eigenvectors[order][:, :, :atoms], (0, 2, 1))
    return {"components": order, "weights": mixture.weights[order],
            "eigenvalues": mixture.eigenvalues[order][:, :atoms],
            "atoms": leading.reshape(len(order), atoms, size, size).astype(np.float32),
            "samples": drawn.reshape(len(order), atoms, size, size).astype(np.float32)}


def epll_patch(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
               iterations: int = 5) -> View:
    """EPLL's view of pixel ``probe``: the last step on the 8x8 patch centred there.

    The patch is cut from the estimate the last step started from (the
    step before, or the noisy image), its mean removed, and weighed against
    every component at that step's noise variance by the full
    log-likelihood; the component is chosen as the method chose it (the
    better of its two :func:`shortlist` ones), so on a near tie it can be
    the posterior's second.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy image the traced run was given, float32 on the [0, 1]
        scale (for a grey method on a colour image, its luminance).
    sigma : float
        Its noise standard deviation, on the [0, 1] scale.
    result : Result
        What :func:`epll` returned for ``noisy`` and ``sigma`` with
        ``trace=True`` and the same parameters (the last step's input is cut
        from its trace).
    probe : (row, col)
        The pixel to look at, inside the image.
    iterations : int
        As for :func:`epll` (the traced run's value); the view reads the
        number of steps and the last one's noise variance from ``result``.

    Returns
    -------
    View
        ``extras["patch"]`` with ``"corner"`` (its top-left pixel), ``"input"``
        (the patch the last step saw), ``"estimate"`` (its Wiener estimate,
        mean restored), ``"component"`` (the chosen one), ``"posterior"``
        (K,: the posterior probability of every component), ``"shortlist"``
        (the components the method chose among, :func:`shortlist`) and
        ``"atoms"`` (the chosen component's leading eigenvectors, (8, 8, 8)).
    """
    prior = load_prior(str(PRIOR_FILE))
    size = prior.mixture.size
    grid = result.extras["components"].shape
    row = int(np.clip(probe[0] - size // 2, 0, grid[0] - 1))
    col = int(np.clip(probe[1] - size // 2, 0, grid[1] - 1))
    last = len(result.extras["betas"])
    source = result.stages.get(f"step {last - 1}", noisy)  # the noisy image before step 2
    missing = (max(0, size - source.shape[0]), max(0, size - source.shape[1]))
    source = np.pad(source, ((0, missing[0]), (0, missing[1])), mode="symmetric")
    patch = torch.as_tensor(source[row:row + size, col:col + size].reshape(1, -1),
                            dtype=torch.float32)
    dc = float(patch.mean())
    noise_variance = sigma * sigma / float(result.extras["betas"][-1])
    with torch.inference_mode():
        estimate, chosen = map_patches(prior, patch - dc, noise_variance)
        scores, _ = posterior_scores(prior, patch - dc, noise_variance)
        posterior = torch.softmax(scores[0].double(), 0).numpy()
        listed = [int(k) for k in shortlist(prior, patch - dc, noise_variance)[0]]
    component = int(chosen[0])
    atoms = prior.mixture.eigenvectors[component][:, :_SHOWN_ATOMS].T.reshape(-1, size, size)
    return View(extras={"patch": {
        "corner": (row, col),
        "input": patch.reshape(size, size).numpy().copy(),
        "estimate": (estimate + dc).reshape(size, size).numpy().copy(),
        "component": component,
        "posterior": posterior,
        "shortlist": listed,
        "atoms": atoms.astype(np.float32)}})


METHODS: tuple[Method, ...] = (
    Method(
        key="epll",
        name="EPLL",
        year=2011,
        family=FAMILY,
        paper=("D. Zoran and Y. Weiss, \"From learning models of natural image patches to "
               "whole image restoration\", Proc. IEEE ICCV 2011, pp. 479-486"),
        url="https://doi.org/10.1109/ICCV.2011.6126278",
        idea=(
            "Learn, once and for all, what clean 8x8 patches of photographs look like: a "
            "mixture of Gaussians fitted to patches of clean images, each component a kind "
            "of patch (flat, an edge at some angle, a texture) with the covariance that "
            "describes it. Then ask for the image all of whose overlapping patches are "
            "likely under that prior while it stays close to the noisy one. Half-quadratic "
            "splitting alternates two easy steps: every patch picks its most likely "
            "component and is Wiener-filtered under it, then each pixel averages its noisy "
            "value with all the patch estimates that cover it; a penalty that grows step by "
            "step makes the patches and the image agree. A prior learned from data, not "
            "from the noisy image itself, came within a whisker of BM3D in 2011."),
        run=epll,
        params=EPLL,
        slow=True,
        look=epll_patch,
    ),
)
