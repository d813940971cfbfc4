"""The network architectures, in torch: MLP, DnCNN, FFDNet, a small DRUNet, TNRD
(:mod:`.tnrd`) and Deep K-SVD (:mod:`.deep_ksvd`).

Every model maps a noisy image batch ``(N, C, H, W)`` and a noise level
``sigma`` (a tensor of shape ``(N,)``, on the [0, 1] scale) to the estimate
of the clean batch. Blind models (DnCNN) ignore ``sigma``. Models are built
from a plain ``config`` dict, which is stored with their weights, so a
checkpoint says what it is.

``bias=False`` builds the bias-free variant of Mohan, Kadkhodaie, Simoncelli
& Fernandez-Granda (2020): no additive constant anywhere (convolutions
without bias, batch normalisation that only scales), so the network is
piecewise linear *and homogeneous*: ``f(y) = J(y) y`` exactly, and the
Jacobian row of an output pixel is the adaptive filter it applied.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..core import InvalidInput
from .deep_ksvd import DeepKSVD
from .padding import mirror_pad, pad_to
from .tnrd import TNRD


class ScaleNorm(nn.Module):
    """Batch normalisation without its additive parts (bias-free networks).

    Divides each channel by its running standard deviation (over the batch
    while training) and multiplies by a learned scale; subtracts no mean and
    adds no bias, so it is linear and homogeneous.
    """

    def __init__(self, channels: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.momentum, self.eps = momentum, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            var = x.float().pow(2).mean(dim=(0, 2, 3))
            with torch.no_grad():
                self.running_var.lerp_(var.detach(), self.momentum)
        else:
            var = self.running_var
        scale = self.weight / torch.sqrt(var + self.eps)
        return x * scale.to(x.dtype)[None, :, None, None]


def _norm(channels: int, bias: bool) -> nn.Module:
    return nn.BatchNorm2d(channels) if bias else ScaleNorm(channels)


def _conv(cin: int, cout: int, bias: bool, kernel: int = 3) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias)


class DnCNN(nn.Module):
    """DnCNN (Zhang, Zuo, Chen, Meng & Zhang 2017): residual learning with BN.

    conv+ReLU, (depth − 2) × (conv+BN+ReLU), conv; the stack predicts the
    noise and the model returns ``noisy − predicted noise``. Blind: trained
    over a range of sigma and told none.
    """

    def __init__(self, channels: int = 1, depth: int = 17, width: int = 64,
                 bias: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = [_conv(channels, width, bias), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [_conv(width, width, False), _norm(width, bias), nn.ReLU(inplace=True)]
        layers.append(_conv(width, channels, bias))
        self.body = nn.Sequential(*layers)

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        return noisy - self.body(noisy)


class FFDNet(nn.Module):
    """FFDNet (Zhang, Zuo & Zhang 2018): sub-images plus a noise-level map.

    The image is reversibly downsampled into 4 sub-images per channel (pixel
    unshuffle), a map filled with sigma is stacked on them, a plain
    conv+BN+ReLU stack maps that to the 4 clean sub-images, and pixel shuffle
    puts them back. Working at half resolution makes it 4x cheaper per layer
    than DnCNN and doubles its receptive field; the map lets one network
    handle every sigma and lets the visitor over- or under-smooth.
    """

    def __init__(self, channels: int = 1, depth: int = 15, width: int = 64,
                 bias: bool = True) -> None:
        super().__init__()
        cin, cout = 4 * channels + 1, 4 * channels
        layers: list[nn.Module] = [_conv(cin, width, bias), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [_conv(width, width, False), _norm(width, bias), nn.ReLU(inplace=True)]
        layers.append(_conv(width, cout, bias))
        self.body = nn.Sequential(*layers)

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sub = F.pixel_unshuffle(noisy, 2)
        level = level_map(sigma, sub)
        return F.pixel_shuffle(self.body(torch.cat([sub, level], dim=1)), 2)


class ResBlock(nn.Module):
    """x + conv(ReLU(conv(x))), as in DRUNet. The ReLU and the sum reuse the convolutions'
    fresh outputs: two fewer large allocations per block (their page faults were 3.5 % of a
    demosaicing restore's CPU time)."""

    def __init__(self, width: int, bias: bool) -> None:
        super().__init__()
        self.a, self.b = _conv(width, width, bias), _conv(width, width, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(F.relu(self.a(x), inplace=True)).add_(x)


class DRUNet(nn.Module):
    """A small noise-conditional U-Net in the spirit of DRUNet (Zhang et al. 2021).

    Pixel-unshuffled input plus a noise-level map; three scales joined by
    strided convolutions and transposed convolutions, residual blocks at each
    scale, additive skip connections, and no bias anywhere (as in DRUNet).
    Sides of the input must be multiples of 8; :func:`pad_to` handles others.
    """

    def __init__(self, channels: int = 1, widths: tuple[int, ...] = (32, 64, 128),
                 blocks: tuple[int, ...] = (1, 1, 2), bias: bool = False) -> None:
        super().__init__()
        widths, blocks = tuple(widths), tuple(blocks)
        self.head = _conv(4 * channels + 1, widths[0], bias)
        self.down = nn.ModuleList()
        self.encoders = nn.ModuleList()
        for level, (w, n) in enumerate(zip(widths[:-1], blocks[:-1])):
            self.encoders.append(nn.Sequential(*[ResBlock(w, bias) for _ in range(n)]))
            self.down.append(nn.Conv2d(w, widths[level + 1], 2, stride=2, bias=bias))
        self.bottom = nn.Sequential(*[ResBlock(widths[-1], bias) for _ in range(blocks[-1])])
        self.up = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for level in reversed(range(len(widths) - 1)):
            self.up.append(nn.ConvTranspose2d(widths[level + 1], widths[level], 2, stride=2,
                                              bias=bias))
            self.decoders.append(nn.Sequential(*[ResBlock(widths[level], bias)
                                                 for _ in range(blocks[level])]))
        self.tail = _conv(widths[0], 4 * channels, bias)
        self.multiple = 2 * 2 ** (len(widths) - 1)

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sub = F.pixel_unshuffle(noisy, 2)
        level = level_map(sigma, sub)
        x = self.head(torch.cat([sub, level], dim=1))
        skips = []
        for encode, down in zip(self.encoders, self.down):
            x = encode(x)
            skips.append(x)
            x = down(x)
        x = self.bottom(x)
        for up, decode, skip in zip(self.up, self.decoders, reversed(skips)):
            x = decode(up(x).add_(skip))
        return F.pixel_shuffle(self.tail(x), 2)


class PatchMLP(nn.Module):
    """The patch MLP of Burger, Schuler & Harmeling (2012), scaled down.

    A fully connected network from a ``patch`` x ``patch`` noisy patch (and
    the noise level) to the clean ``out`` x ``out`` patch at its centre,
    applied to every overlapping patch at once: the first layer is a
    convolution with a patch-sized kernel, the hidden layers are 1x1
    convolutions (the same weights for every patch), and the overlapping
    output patches are averaged back into the image.
    """

    def __init__(self, channels: int = 1, patch: int = 13, out: int = 7,
                 hidden: tuple[int, ...] = (256, 256, 256)) -> None:
        super().__init__()
        self.channels, self.patch, self.out = channels, patch, out
        self.first = nn.Conv2d(channels, hidden[0], patch, bias=True)
        self.level = nn.Conv2d(1, hidden[0], 1, bias=False)
        layers: list[nn.Module] = [nn.Tanh()]
        for cin, cout in zip(hidden[:-1], hidden[1:]):
            layers += [nn.Conv2d(cin, cout, 1), nn.Tanh()]
        layers.append(nn.Conv2d(hidden[-1], channels * out * out, 1))
        self.rest = nn.Sequential(*layers)

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        n, c, h, w = noisy.shape
        half = self.patch // 2
        padded = mirror_pad(noisy, (half, half, half, half))
        level = sigma.to(noisy.dtype).view(-1, 1, 1, 1).expand(-1, 1, h, w)
        patches = self.rest(self.first(padded) + self.level(level))
        # each output column is the out x out clean patch centred on a pixel
        o = self.out // 2
        summed = F.fold(patches.flatten(2), (h + 2 * o, w + 2 * o), self.out)
        counts = F.fold(torch.ones_like(patches[:1]).flatten(2), (h + 2 * o, w + 2 * o), self.out)
        return (summed / counts)[..., o:o + h, o:o + w]


ARCHITECTURES: dict[str, type[nn.Module]] = {
    "mlp": PatchMLP, "dncnn": DnCNN, "ffdnet": FFDNet, "drunet": DRUNet, "tnrd": TNRD,
    "deep_ksvd": DeepKSVD,
}


def build(config: dict[str, Any]) -> nn.Module:
    """A model from its config: ``{"arch": name, **keyword arguments}``."""
    config = dict(config)
    arch = config.pop("arch")
    if arch not in ARCHITECTURES:
        raise InvalidInput(f"unknown architecture {arch!r}; the architectures are: "
                         f"{', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**config)


def input_multiple(model: nn.Module) -> int:
    """The multiple the input's sides must be for ``model``."""
    return getattr(model, "multiple", 2 if isinstance(model, FFDNet) else 1)


def to_tensor(image: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(H, W[, 3]) float32 array to a (1, C, H, W) tensor."""
    array = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(array)).to(device)[None]


def level_map(sigma: torch.Tensor, sub: torch.Tensor) -> torch.Tensor:
    """The noise-level map stacked on the half-size sub-images ``sub`` (N, C, H/2, W/2).

    ``sigma`` is one level per image, shape (N,), or a level per pixel, shape
    (N, 1, H, W), which is pooled onto the sub-images' grid: each cell gets
    the root of its four pixels' mean variance.
    """
    if sigma.dim() == 4:
        return F.avg_pool2d(sigma.to(sub.dtype).square(), 2).sqrt()
    return sigma.to(sub.dtype).view(-1, 1, 1, 1).expand(-1, 1, *sub.shape[2:])


def run_padded(model: nn.Module, noisy: torch.Tensor,
               sigma: float | torch.Tensor) -> torch.Tensor:
    """``model`` on a (N, C, H, W) batch of any size: padded as it needs, cropped back.

    The batch goes in channels-last, the layout the convolutions run fastest in (on this
    project's 2-core CPU, 1.6 times faster than the default for DnCNN at 512x512, measured).

    Parameters
    ----------
    model : torch.nn.Module
        The network; its input sides must be multiples of
        :func:`input_multiple` (the batch is padded to them).
    noisy : torch.Tensor, shape (N, C, H, W)
        The noisy batch, on the [0, 1] scale.
    sigma : float or torch.Tensor, shape (N, 1, H, W)
        The noise level given to every image of the batch, or to every pixel
        (a map, padded as the batch is), on the [0, 1] scale; blind networks
        ignore it.
    """
    multiple = input_multiple(model)
    padded, (h, w) = pad_to(noisy, multiple)
    padded = padded.contiguous(memory_format=torch.channels_last)
    level = (pad_to(sigma, multiple)[0] if isinstance(sigma, torch.Tensor)
             else torch.full((padded.shape[0],), float(sigma), device=padded.device))
    return model(padded, level)[..., :h, :w]


def fold_batch_norm(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm/ScaleNorm into the convolution before it (inference only).

    A convolution followed by batch normalisation in eval mode is one
    affine map, so the pair becomes a single convolution: the weights are
    scaled per output channel and (for BatchNorm) a bias is added. The
    result computes the same function with one fewer pass over the data per
    layer. ScaleNorm folds into the weights alone, so a bias-free model stays
    bias-free.
    """
    for name, child in model.named_children():
        if isinstance(child, nn.Sequential):
            layers = list(child)
            folded: list[nn.Module] = []
            for layer in layers:
                if isinstance(layer, (nn.BatchNorm2d, ScaleNorm)) and folded and isinstance(
                        folded[-1], nn.Conv2d):
                    folded[-1] = _folded(folded[-1], layer)
                else:
                    folded.append(layer)
            setattr(model, name, nn.Sequential(*folded))
        else:
            fold_batch_norm(child)
    return model


def _folded(conv: nn.Conv2d, norm: nn.Module) -> nn.Conv2d:
    batch_norm = isinstance(norm, nn.BatchNorm2d)
    with torch.no_grad():
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        bias = conv.bias if conv.bias is not None else torch.zeros_like(scale)
        out = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                        padding=conv.padding, bias=batch_norm or conv.bias is not None)
        out.weight.copy_(conv.weight * scale[:, None, None, None])
        if batch_norm:
            out.bias.copy_((bias - norm.running_mean) * scale + norm.bias)
        elif conv.bias is not None:
            out.bias.copy_(bias * scale)
    return out
