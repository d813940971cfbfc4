"""Classical models with their few free choices learned (2015-2021).

The answer the field gave to the networks' lead, in this site's own terms:
keep a classical model's computation exactly and learn only what its
authors had to choose by hand. TNRD (:mod:`denoisers.nets.tnrd`) is the
Perona-Malik flow of the PDE chapter, five explicit steps whose filters and
influence functions are learned; Deep K-SVD (:mod:`denoisers.nets.deep_ksvd`)
is the K-SVD denoiser of the sparsity chapter, its coding unrolled and its
dictionary, thresholds and averaging learned. Both are trained for one noise
level each; at sigma 0 there is no noise to remove and both return the image
as it is. torch is imported when a method first runs, as for the networks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import metrics
from .colour import luminance_view
from .core import Method, Progress, Result, View, report, validated

if TYPE_CHECKING:
    from .nets.deep_ksvd import DeepKSVD
    from .nets.inference import Network
    from .nets.tnrd import TNRD

FAMILY = "Learned classical models"

#: The noise levels (0-255 scale) TNRD and Deep K-SVD are trained for, one weights file each.
SIGMAS = (15, 25, 50)
#: Points at which a trace samples each learned influence function, over the span it covers.
CURVE_POINTS = 241

_DEEP_KSVD_PAPER = ("M. Scetbon, M. Elad and P. Milanfar, \"Deep K-SVD denoising\", IEEE TIP 30, "
                    "2021 (arXiv 2019). https://doi.org/10.1109/TIP.2021.3090531")
_TNRD_PAPER = ("Y. Chen and T. Pock, \"Trainable nonlinear reaction diffusion: A flexible "
               "framework for fast and effective image restoration\", IEEE TPAMI 39(6), 2017 "
               "(arXiv 2015). https://doi.org/10.1109/TPAMI.2016.2596743")


def nearest_model(name: str, sigma: float) -> int:
    """The noise level (0-255) of the model ``name`` (``"tnrd"``, ``"deep_ksvd"``) that
    denoises noise ``sigma`` (on [0, 1]): of :data:`SIGMAS` whose weights are present, the
    nearest on a log scale."""
    from .nets.inference import weights_path

    present = [s for s in SIGMAS if weights_path(f"{name}{s}").exists()] or list(SIGMAS)
    return min(present, key=lambda s: abs(np.log(s / max(sigma * 255, 1e-3))))


def _loaded(name: str, sigma: float) -> tuple[int, Network]:
    """The noise level (0-255) of the model ``name`` that runs at ``sigma``
    (:func:`nearest_model`) and that model, loaded once per process."""
    from .nets import inference

    level = nearest_model(name, sigma)
    return level, inference.load(f"{name}{level}")


@validated(())
def tnrd(noisy: np.ndarray, sigma: float, *, trace: bool = False,
         progress: Progress | None = None, reference: np.ndarray | None = None) -> Result:
    """Trainable nonlinear reaction diffusion (Chen & Pock 2015): Perona-Malik, learned.

    Five explicit steps ``u_t = u_{t-1} - sum_i K_i^T phi_i(K_i u_{t-1})
    - lambda_t (u_{t-1} - f)``, each with its own 48 learned 7x7 filters
    ``K_i``, 48 learned influence functions ``phi_i`` and reaction weight
    ``lambda_t`` (:class:`denoisers.nets.tnrd.TNRD`): the Perona-Malik step
    with two finite differences and one ``psi(s) = s g(s)`` replaced by
    learned ones. 26 645 weights in all, one model per noise level.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (the result is
        float32 whatever it was).
    sigma : float
        Noise standard deviation on the [0, 1] scale. The model trained for
        the nearest noise level runs (:func:`nearest_model`), on the image
        scaled by the ratio of the two levels so that its noise is the one
        it learned (the flow commutes with adding a constant, not with
        scaling, so this is an approximation that the note states).
    trace : bool
        Also return the image after every stage, the learned filters and
        influence functions and the reaction weights.
    progress : callable, optional
        Receives the fraction of the stages done.
    reference : ndarray, optional
        The clean image, for the trace's PSNR per stage only.

    Returns
    -------
    Result
        ``image``: the last stage's output. With ``trace``: stages
        ``"stage 1"`` ... ``"stage 5"``; curve ``"PSNR (dB)"`` per stage
        (with ``reference``); ``extras["tnrd"]``: ``{"filters"}`` of shape
        (stages, 48, 7, 7), ``{"responses", "influence"}`` (the functions
        sampled, shape (stages, 48, points)), ``{"reaction"}`` per stage and
        ``{"sigma"}`` the model's noise level (0-255).

    Notes
    -----
    Trained here by ``python -m denoisers.train tnrd25`` (and ``tnrd15``,
    ``tnrd50``) on train400: a stage at a time, then all together
    (``assets/weights/README.md`` records each run).

    References
    ----------
    Y. Chen and T. Pock, "Trainable nonlinear reaction diffusion: A flexible
    framework for fast and effective image restoration", IEEE TPAMI 39(6),
    2017. https://doi.org/10.1109/TPAMI.2016.2596743

    Examples
    --------
    >>> import denoisers
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:224, 160:224] / 255
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = denoisers.run("tnrd", noisy, 25 / 255).image
    >>> out.shape, out.dtype, psnr(clean, out) > psnr(clean, noisy) + 3
    ((64, 64), dtype('float32'), True)
    """
    if sigma == 0:
        return Result(noisy.copy())
    import torch

    from .nets import inference

    level, net = _loaded("tnrd", sigma)
    gain = level / 255 / max(sigma, 1e-6)
    x = inference.to_tensor(noisy * np.float32(gain), net.device)
    frames = []
    with torch.inference_mode():
        for t, u in enumerate(net.model.trajectory(x), start=1):
            frames.append((inference.to_image(u) / np.float32(gain)).astype(np.float32))
            report(progress, t / len(net.model.stages))
    result = Result(frames[-1])
    if abs(np.log(gain)) > 0.05:
        result.extras["note"] = (
            f"TNRD is trained for σ = {', '.join(map(str, SIGMAS))}; the σ = {level} model "
            f"ran on the image scaled by {gain:.2f}, so that its noise was the σ it learned")
    if trace:
        result.stages = {f"stage {t}": frame for t, frame in enumerate(frames, start=1)}
        if reference is not None:
            result.curves["PSNR (dB)"] = np.array([metrics.psnr(reference, f) for f in frames])
            result.extras["curve_x"] = ("stage", np.arange(1, len(frames) + 1))
        result.extras["tnrd"] = _tnrd_insides(net.model, level)
    return result


def _tnrd_insides(model: TNRD, level: int) -> dict[str, np.ndarray | int]:
    """What a trace shows of a TNRD model: each stage's filters, its influence functions
    sampled over the responses they cover, its reaction weight, and the model's sigma."""
    import torch

    from .nets.tnrd import SPAN

    responses = torch.linspace(-SPAN, SPAN, CURVE_POINTS)
    with torch.inference_mode():
        return {
            "filters": np.stack([s.filters()[:, 0].numpy() for s in model.stages]),
            "responses": responses.numpy(),
            "influence": np.stack([s.influence.curves(responses).numpy() for s in model.stages]),
            "reaction": np.array([s.reaction.item() for s in model.stages]),
            "sigma": level,
        }


def _at_least_a_patch(noisy: np.ndarray, side: int) -> np.ndarray:
    """``noisy`` mirrored at the bottom and right to at least ``side`` pixels a side."""
    pad = ((0, max(0, side - noisy.shape[0])), (0, max(0, side - noisy.shape[1])))
    return np.pad(noisy, pad, mode="symmetric") if any(p for _, p in pad) else noisy


@validated(())
def deep_ksvd(noisy: np.ndarray, sigma: float, *, trace: bool = False,
              progress: Progress | None = None) -> Result:
    """Deep K-SVD (Scetbon, Elad & Milanfar 2019): the K-SVD denoiser, unrolled and trained.

    Every overlapping 8x8 patch is coded over a dictionary of 256 atoms by
    seven unrolled iterations of soft thresholding, with thresholds (one per
    atom) that a small perceptron predicts from the patch; the rebuilt
    patches are averaged back with learned weights per pixel of a patch
    (:class:`denoisers.nets.deep_ksvd.DeepKSVD`). K-SVD's computational path,
    with its dictionary, thresholds and averaging learned from pairs of clean
    and noisy images instead of from the noisy image alone.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (the result is
        float32 whatever it was).
    sigma : float
        Noise standard deviation on the [0, 1] scale. The model trained for
        the nearest noise level runs (:func:`nearest_model`), on the image's
        contrast scaled about mid-grey so that stronger noise than it learned
        becomes its own; a note says so when that level is not sigma.
    trace : bool
        Also return the thresholds as a map and the learned dictionary; one
        patch's code is the method's ``look`` (:func:`deep_ksvd_look`).
    progress : callable, optional
        Receives 1.0 when done.

    Returns
    -------
    Result
        ``image``: the estimate. With ``trace``: stage ``"threshold"`` (the
        mean of the 256 thresholds of the patch with its top-left corner at
        each pixel, shape (H - 7, W - 7), on the codes' scale);
        ``extras["deep_ksvd"]``: ``{"dictionary"}`` the learned atoms, shape
        (256, 8, 8), in the order of K-SVD's overcomplete DCT they started
        from, and ``{"sigma"}`` the model's noise level (0-255).

    Notes
    -----
    Trained here by ``python -m denoisers.train deep_ksvd25`` (and
    ``deep_ksvd15``, ``deep_ksvd50``) on train400 (``assets/weights/README.md``
    records each run). The paper predicts one threshold per patch; one per
    atom, from the same perceptron, is this site's choice.

    References
    ----------
    M. Scetbon, M. Elad and P. Milanfar, "Deep K-SVD denoising", IEEE TIP 30,
    2021. https://doi.org/10.1109/TIP.2021.3090531

    Examples
    --------
    >>> import denoisers
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:224, 160:224] / 255
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = denoisers.run("deep_ksvd", noisy, 25 / 255).image
    >>> out.shape, out.dtype, psnr(clean, out) > psnr(clean, noisy) + 3
    ((64, 64), dtype('float32'), True)
    """
    if sigma == 0:
        return Result(noisy.copy())
    import torch

    from .nets import inference

    level, net = _loaded("deep_ksvd", sigma)
    model: DeepKSVD = net.model
    # Noise above the model's is brought down to it by scaling the image about mid-grey
    # (contrast falls with it); below it, scaling up would push patches past the [-1, 1]
    # the model clips to, so the model runs as it is.
    gain = np.float32(min(1.0, level / 255 / sigma))
    padded = _at_least_a_patch(np.float32(0.5) + gain * (noisy - np.float32(0.5)), model.patch)
    with torch.inference_mode():
        estimate, thresholds = model.denoise(inference.to_tensor(padded, net.device))
    height, width = noisy.shape
    image = (inference.to_image(estimate)[:height, :width] - 0.5) / gain + 0.5
    result = Result(np.ascontiguousarray(image, np.float32))
    if abs(np.log(level / max(sigma * 255, 1e-3))) > 0.05:
        result.extras["note"] = (
            f"Deep K-SVD is trained for σ = {', '.join(map(str, SIGMAS))}; the σ = {level} "
            "model ran" + (f" on the image's contrast scaled by {gain:.2f} about mid-grey, so "
                           "that its noise was the σ it learned" if gain < 0.95 else ""))
    if trace:
        result.stages["threshold"] = inference.to_image(thresholds).astype(np.float32)
        result.extras["display"] = {"threshold": "map"}
        atoms = model.dictionary.detach().T.reshape(-1, model.patch, model.patch)
        result.extras["deep_ksvd"] = {"dictionary": atoms.cpu().numpy(), "sigma": level}
    report(progress, 1.0)
    return result


def deep_ksvd_look(noisy: np.ndarray, sigma: float, result: Result,
                   probe: tuple[int, int]) -> View:
    """The code Deep K-SVD gives the 8x8 patch around ``probe`` (its top-left corner four
    pixels up and left, clamped into the image; of a colour image's luminance, the channel
    its trace shows): ``extras["deep code"]`` with the patch's ``"corner"``, its
    ``"noisy"`` pixels, the 256 ``"coefficients"`` and ``"thresholds"`` of its code, the
    ``"indices"`` of the atoms it uses (largest coefficient first) and the patch they
    ``"reconstruction"`` (on [0, 1]); computed from the model, never by running the
    method again.

    Parameters
    ----------
    noisy : ndarray, shape (H, W) or (H, W, 3)
        The noisy image the method ran on.
    sigma : float
        Its noise standard deviation on the [0, 1] scale (it chooses the model).
    result : Result
        The method's traced result for that image (unused: one patch's code is
        computed afresh from the model, at the cost of one patch).
    probe : tuple of int
        The chosen pixel (row, column).
    """
    import torch


    noisy, sigma = luminance_view(noisy, sigma)
    _, net = _loaded("deep_ksvd", sigma)
    model: DeepKSVD = net.model
    padded = _at_least_a_patch(np.asarray(noisy, np.float32), model.patch)
    row = min(max(0, probe[0] - model.patch // 2), padded.shape[0] - model.patch)
    col = min(max(0, probe[1] - model.patch // 2), padded.shape[1] - model.patch)
    patch = padded[row:row + model.patch, col:col + model.patch]
    with torch.inference_mode():
        flat = torch.from_numpy(2 * patch.reshape(1, -1) - 1).to(net.device)
        z, threshold = model.codes(flat)
        rebuilt = ((z @ model.dictionary.T).clamp(-1, 1) + 1) / 2
    coefficients = z[0].cpu().numpy()
    used = np.flatnonzero(coefficients)
    return View(extras={"deep code": {
        "corner": (row, col), "noisy": patch.copy(), "coefficients": coefficients,
        "thresholds": threshold[0].cpu().numpy(),
        "indices": used[np.argsort(-np.abs(coefficients[used]))],
        "reconstruction": rebuilt[0].cpu().numpy().reshape(model.patch, model.patch)}})


METHODS: tuple[Method, ...] = (
    Method(
        key="tnrd", name="TNRD", year=2015, family=FAMILY, paper=_TNRD_PAPER, run=tnrd,
        idea="Chen and Pock kept Perona and Malik's computation — a few explicit diffusion "
             "steps, each a filter, a nonlinear influence function of its response and the "
             "filter's transpose — and learned what Perona and Malik had chosen by hand: 48 "
             "filters of 7x7 instead of two finite differences, and a free-form influence "
             "function for each, plus a reaction term that pulls towards the noisy image. Five "
             "such steps, each with its own choices, trained on pairs of clean and noisy images.",
        url="https://doi.org/10.1109/TPAMI.2016.2596743",
    ),
    Method(
        key="deep_ksvd", name="Deep K-SVD", year=2019, family=FAMILY, paper=_DEEP_KSVD_PAPER,
        run=deep_ksvd, look=deep_ksvd_look, slow=True,
        idea="Scetbon, Elad and Milanfar kept the K-SVD denoiser's path exactly — every "
             "overlapping patch coded over a redundant dictionary, rebuilt and averaged back — "
             "and made it trainable: the coding is a few unrolled steps of soft thresholding "
             "whose thresholds a small perceptron reads from each patch, and the dictionary, "
             "the thresholds and the averaging weights are learned end to end from pairs of "
             "clean and noisy images.",
        url="https://doi.org/10.1109/TIP.2021.3090531",
    ),
)
