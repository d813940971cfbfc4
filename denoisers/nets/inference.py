"""Running the trained networks, and looking inside them.

Weights live in ``assets/weights/<name>.pt`` (written by
``python -m denoisers.train``); a model is loaded once per process, put in
eval mode with its batch normalisation folded into the convolutions, and run
under ``torch.inference_mode`` on the GPU when there is one.

The inside views:

- the predicted noise (``noisy - estimate``);
- feature maps of the first, a middle and the last hidden layer, on a
  window around the probe pixel (:func:`look`, like the two below);
- the first layer's filters;
- the *equivalent kernel* of the probe pixel (Mohan, Kadkhodaie, Simoncelli
  & Fernandez-Granda 2020): the gradient of that output pixel with respect
  to the input image. A ReLU network is piecewise linear, so locally
  ``f(y) = J(y) y + b(y)``; for a bias-free network ``b = 0`` and the
  output pixel is exactly the weighted average ``J[p] · y`` of the input
  with those weights — an adaptive filter, like NL-means' weights;
- the receptive field: the support of that gradient.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..core import InvalidInput, Progress, Result, View, report
from .architectures import DRUNet, FFDNet, PatchMLP, build, fold_batch_norm, run_padded, to_tensor

WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "assets" / "weights"
#: Side of the window (around the probe) on which feature maps and kernels are computed.
WINDOW = 64


@dataclass(frozen=True)
class Network:
    """A loaded model and what its weights file says about it."""

    name: str
    model: nn.Module
    sigma_range: tuple[float, float]
    trained: dict[str, Any]
    bias_free: bool

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def weights_path(name: str) -> Path:
    return WEIGHTS_DIR / f"{name}.pt"


@lru_cache(maxsize=8)
def load(name: str) -> Network:
    """The network ``name`` from its committed weights, ready for inference."""
    path = weights_path(name)
    if not path.exists():
        raise InvalidInput(
            f"the weights of {name!r} are not in {WEIGHTS_DIR}; train them with "
            f"`python -m denoisers.train {name} --data DIR --val DIR --out {path}`")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = build(saved["config"])
    model.load_state_dict(saved["state"])
    model.eval()
    model = fold_batch_norm(model)
    for p in model.parameters():
        p.requires_grad_(False)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    bias_free = not any(m.bias is not None for m in model.modules()
                        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)))
    return Network(name, model.to(device, memory_format=torch.channels_last),
                   tuple(saved["sigma_range"]), saved.get("trained", {}), bias_free)


def weight_count(name: str) -> int:
    """How many learned weights the network ``name`` has (its parameters, not the running
    statistics of its batch normalisation)."""
    saved = torch.load(weights_path(name), map_location="cpu", weights_only=True)
    return sum(p.numel() for p in build(saved["config"]).parameters())


def to_image(tensor: torch.Tensor) -> np.ndarray:
    """(1, C, H, W) tensor to an (H, W[, 3]) float32 array."""
    array = tensor[0].detach().float().cpu().numpy()
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def clamp_sigma(net: Network, sigma: float, label: str) -> tuple[float, str | None]:
    """Sigma within the range the network was trained on, and a note (naming the network
    ``label``) if it was moved.

    Parameters
    ----------
    net : Network
        The loaded network; ``net.sigma_range`` is its training range, on the
        0-255 scale.
    sigma : float
        The noise standard deviation it is to be told, on the [0, 1] scale.
    label : str
        The network's name as the note gives it.
    """
    low, high = (s / 255 for s in net.sigma_range)
    if low <= sigma <= high:
        return sigma, None
    kept = min(high, max(low, sigma))
    return kept, f"{_trained_for(net, label)}; it was told σ = {kept * 255:.1f}"


def clamp_map(net: Network, sigma_map: np.ndarray, label: str) -> tuple[np.ndarray, str | None]:
    """A noise-level map within the range the network was trained on, float32, and a note
    (naming the network ``label``) saying how much of it was moved, if any was.

    Parameters
    ----------
    net : Network
        The loaded network; ``net.sigma_range`` is its training range, on the
        0-255 scale.
    sigma_map : ndarray, shape (H, W)
        The noise standard deviation at every pixel, on the [0, 1] scale.
    label : str
        The network's name as the note gives it.
    """
    low, high = (s / 255 for s in net.sigma_range)
    kept = np.clip(sigma_map, low, high).astype(np.float32)
    moved = float(np.mean(kept != np.asarray(sigma_map, np.float32)))
    if not moved:
        return kept, None
    return kept, (f"{_trained_for(net, label)}; the noise level it was told was moved into "
                  f"that range at {100 * moved:.3g} % of the pixels")


def _trained_for(net: Network, label: str) -> str:
    """The start of a clamping note: the network ``label`` and its training range (0-255)."""
    return f"{label} was trained for σ in [{net.sigma_range[0]:g}, {net.sigma_range[1]:g}]"


def blind_note(net: Network, sigma: float, label: str) -> str | None:
    """A warning when a blind network meets noise outside the range it was trained on.

    Parameters
    ----------
    net : Network
        The loaded network; ``net.sigma_range`` is its training range, on the
        0-255 scale.
    sigma : float
        The noise standard deviation it is to be told, on the [0, 1] scale.
    label : str
        The network's name as the note gives it.
    """
    low, high = net.sigma_range
    if low <= sigma * 255 <= high:
        return None
    return (f"{label} is blind and was trained for σ in [{low:g}, {high:g}]; noise of "
            f"σ = {sigma * 255:.0f} is outside what it learned")


def ensemble_estimate(model: nn.Module, noisy: torch.Tensor,
                      sigma: float | torch.Tensor) -> torch.Tensor:
    """The network's mean estimate over the eight flips and quarter turns of ``noisy``.

    Test-time self-ensemble (Timofte, Rothe & Van Gool, "Seven ways to
    improve example-based single image super resolution", CVPR 2016): each
    transformed image is denoised, turned back, and the eight estimates are
    averaged. Their errors are partly independent, so the mean is better, at
    eight times the cost.

    Parameters
    ----------
    model : torch.nn.Module
        The network, in eval mode.
    noisy : torch.Tensor, shape (N, C, H, W)
        The noisy batch, on the [0, 1] scale.
    sigma : float or torch.Tensor, shape (N, 1, H, W)
        The noise level the network is told, or a map of it turned with the
        image ([0, 1] scale; blind networks ignore it).
    """
    def turned(x: torch.Tensor, turns: int, flip: bool) -> torch.Tensor:
        x = torch.rot90(x, turns, (2, 3))
        return x.flip(3) if flip else x

    total = torch.zeros_like(noisy)
    for turns in range(4):
        for flip in (False, True):
            level = turned(sigma, turns, flip) if isinstance(sigma, torch.Tensor) else sigma
            y = run_padded(model, turned(noisy, turns, flip), level)
            y = y.flip(3) if flip else y
            total += torch.rot90(y, -turns, (2, 3))
    return total / 8


def told_sigma(net: Network, sigma: float, label: str = "") -> tuple[float, str | None]:
    """The sigma the network is given (clamped to its training range) and a note, naming
    the network ``label`` (its key by default), where that sigma is out of its range.

    Parameters
    ----------
    net : Network
        The loaded network; ``net.sigma_range`` is its training range, on the
        0-255 scale.
    sigma : float
        The noise standard deviation of the image, on the [0, 1] scale.
    label : str
        The network's name as the note gives it; empty for ``net.name``.
    """
    label = label or net.name
    return (clamp_sigma(net, sigma, label) if _takes_level(net)
            else (sigma, blind_note(net, sigma, label)))


def denoise(name: str, noisy: np.ndarray, sigma: float, *, self_ensemble: bool = False,
            trace: bool = False, progress: Progress | None = None, label: str = "",
            sigma_map: np.ndarray | None = None) -> Result:
    """Run network ``name`` on ``noisy`` (grey, or colour for a colour model).

    ``self_ensemble`` averages the estimates of the eight flips and turns
    of the image (:func:`ensemble_estimate`). With ``trace``: stage
    ``"predicted noise"`` and ``extras["filters"]`` (:func:`first_filters`);
    the views of one pixel are :func:`look`'s, of the image as it is. Notes
    name the network ``label``.

    Parameters
    ----------
    name : str
        The weights' name in ``assets/weights`` (``"dncnn"``, ``"ffdnet_colour"``, ...).
    noisy : ndarray, shape (H, W) or (H, W, C)
        The noisy image, float32 on the [0, 1] scale, with the channels the
        network was trained on (1, or 3 for a colour model).
    sigma : float
        The noise standard deviation on the [0, 1] scale; a non-blind network
        is told it clamped to its training range (:func:`told_sigma`).
    self_ensemble : bool
        Average the estimates of the eight flips and quarter turns.
    trace : bool
        Also return the predicted noise and the first layer's filters.
    progress : callable, optional
        Receives the fraction done (0.5 after the network ran, with
        ``trace``; 1.0 at the end).
    label : str
        The network's name in the notes; empty for ``name``.
    sigma_map : ndarray, shape (H, W), optional
        For a network that takes a noise-level map (FFDNet, DRUNet): the noise
        standard deviation at every pixel, clamped to the training range
        (:func:`clamp_map`, with a note where it was), in place of ``sigma``
        everywhere.
    """
    net = load(name)
    told, note = told_sigma(net, sigma, label)
    x = to_tensor(noisy, net.device)
    if sigma_map is not None:
        levels, note = clamp_map(net, sigma_map, label or net.name)
        told = torch.from_numpy(levels)[None, None]
    with torch.inference_mode():
        estimate = to_image(ensemble_estimate(net.model, x, told) if self_ensemble
                            else run_padded(net.model, x, told))
    result = Result(estimate.astype(np.float32, copy=False))
    if note:
        result.extras["note"] = note
    report(progress, 0.5 if trace else 1.0)
    if trace:
        result.stages["predicted noise"] = (noisy - result.image).astype(np.float32)
        result.extras["display"] = {"predicted noise": "signed"}
        result.extras["filters"] = first_filters(net)
        report(progress, 1.0)
    return result


def window_around(shape: tuple[int, ...], probe: tuple[int, int], side: int) -> tuple[slice, slice]:
    """Rows and columns of a ``side`` x ``side`` window holding ``probe``, inside the image.

    Parameters
    ----------
    shape : tuple of int
        The image's shape; its first two entries are (H, W).
    probe : (row, col)
        The pixel the window must hold, centred on it where the borders allow.
    side : int
        The window's side in pixels (shorter where the image is).
    """
    slices = []
    for centre_, size in zip(probe, shape[:2]):
        start = min(max(0, centre_ - side // 2), max(0, size - side))
        slices.append(slice(start, min(size, start + side)))
    return slices[0], slices[1]


def look(name: str, noisy: np.ndarray, sigma: float, probe: tuple[int, int]) -> View:
    """Network ``name``'s view of pixel ``probe``, computed on a window around it.

    Extras: ``"window"`` (top, left and the noisy ``WINDOW``-sided window),
    ``"features"`` (:func:`recording` of the window's forward pass), ``"equivalent
    kernel"`` and ``"kernel check"`` (:func:`equivalent_kernel`: the
    kernel, ``J·y``, the output and whether the two are exactly equal) and
    ``"receptive field"`` (:func:`receptive_field`). One forward and one
    backward pass on the window: the image is not denoised again. The
    window (64 pixels) is wider than the receptive field of the plain
    networks (25 pixels for 12 layers of 3x3), so their kernel is whole.

    Parameters
    ----------
    name : str
        The weights' name in ``assets/weights``.
    noisy : ndarray, shape (H, W) or (H, W, C)
        The noisy image as the network sees it, float32 on the [0, 1] scale.
    sigma : float
        Its noise standard deviation on the [0, 1] scale (clamped as
        :func:`denoise` clamps it).
    probe : (row, col)
        The pixel to look at, inside the image.
    """
    net = load(name)
    told, _ = told_sigma(net, sigma)
    rows, cols = window_around(noisy.shape, probe, WINDOW)
    local = (probe[0] - rows.start, probe[1] - cols.start)
    window = np.ascontiguousarray(noisy[rows, cols])
    with recording(net) as features:  # the kernel's forward pass gives the feature maps too
        kernel, linear_part, output = equivalent_kernel(net, window, told, local)
    return View(extras={
        "window": (rows.start, cols.start, window),
        "features": features,
        "equivalent kernel": kernel,
        "kernel check": {"output": output, "J·y": linear_part,
                         "exact": net.bias_free and not _takes_level(net)},
        "receptive field": receptive_field(kernel),
    })


def _takes_level(net: Network) -> bool:
    return isinstance(net.model, (FFDNet, DRUNet, PatchMLP))


def equivalent_kernel(net: Network, window: np.ndarray, sigma: float,
                      pixel: tuple[int, int]) -> tuple[np.ndarray, float, float]:
    """The gradient of output pixel ``pixel`` with respect to the input window.

    Returns the kernel (shape of the window, summed over channels for colour),
    ``J · y`` (the kernel applied to the input) and the output pixel itself;
    the two are equal for a bias-free, blind network.

    Parameters
    ----------
    net : Network
        The loaded network.
    window : ndarray, shape (h, w) or (h, w, C)
        The noisy window the kernel is computed on, float32 on the [0, 1] scale.
    sigma : float
        The noise level the network is told ([0, 1] scale).
    pixel : (row, col)
        The output pixel, in the window's coordinates.
    """
    with torch.enable_grad():
        x = to_tensor(window, net.device).requires_grad_(True)
        out = run_padded(net.model, x, sigma)
        value = out[0, :, pixel[0], pixel[1]].mean()
        (grad,) = torch.autograd.grad(value, x)
    kernel = grad[0].sum(dim=0).float().cpu().numpy()
    linear_part = float((grad * x.detach()).sum())
    return kernel.astype(np.float32), linear_part, float(value.detach())


def receptive_field(kernel: np.ndarray, threshold: float = 1e-7) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the box where the kernel is non-zero."""
    rows = np.flatnonzero(np.abs(kernel).max(axis=1) > threshold)
    cols = np.flatnonzero(np.abs(kernel).max(axis=0) > threshold)
    if rows.size == 0:
        return 0, 0, 0, 0
    return int(rows[0]), int(cols[0]), int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def hidden_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The model's ReLU/Tanh activations (or residual blocks), in order."""
    acts = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.ReLU, nn.Tanh))]
    if isinstance(model, DRUNet):
        acts = [(n, m) for n, m in model.named_modules()
                if n.startswith(("encoders.", "bottom.", "decoders.")) and n.count(".") == 1]
    return acts


@contextmanager
def recording(net: Network) -> Iterator[dict[str, np.ndarray]]:
    """While open, every forward pass stores the activations of the first, a middle and the
    last hidden layer in the dict it yields: label to an array (channels, h, w) in float16
    (h, w: the input's, or half of it for networks working on sub-images)."""
    layers = hidden_layers(net.model)
    chosen = {"first": layers[0], "middle": layers[len(layers) // 2], "last": layers[-1]}
    maps: dict[str, np.ndarray] = {}
    hooks = [module.register_forward_hook(_keeper(maps, f"{label} ({name})"))
             for label, (name, module) in chosen.items()]
    try:
        yield maps
    finally:
        for hook in hooks:
            hook.remove()


def _keeper(store: dict[str, np.ndarray], label: str):
    def hook(module: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        store[label] = output[0].detach().float().cpu().numpy().astype(np.float16)
    return hook


def first_filters(net: Network) -> np.ndarray:
    """The first convolution's filters on the image, shape (n, k, k).

    For networks that work on the 4 sub-images of a pixel-unshuffled image,
    the 4 sub-image kernels of the first channel are put back into one
    (2k, 2k) filter on the image.
    """
    conv = next(m for m in net.model.modules() if isinstance(m, nn.Conv2d))
    weight = conv.weight.detach().float().cpu().numpy()
    if isinstance(net.model, (FFDNet, DRUNet)):
        n, _, k, _ = weight.shape
        sub = weight[:, :4]  # the 4 sub-images of the first colour channel
        full = np.zeros((n, 2 * k, 2 * k), np.float32)
        for i in range(2):
            for j in range(2):
                full[:, i::2, j::2] = sub[:, 2 * i + j]
        return full
    return weight[:, 0]
