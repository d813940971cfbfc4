"""Trainable nonlinear reaction diffusion (TNRD), in torch.

Chen & Pock's network is the Perona-Malik flow of the PDE chapter with its
free choices learned. Perona-Malik takes explicit steps

    u <- u + dt * div(g(|grad u|) grad u) = u - dt * sum_d D_d^T psi(D_d u),

with two finite differences ``D_d`` and one influence function
``psi(s) = s g(s)``. A TNRD stage takes the same kind of step with
``filters`` learned filters ``K_i`` (zero-mean, from the DCT basis), a
learned influence function ``phi_i`` for each (a weighted sum of ``centres``
Gaussian radial basis functions) and a reaction term that pulls towards the
noisy image ``f``:

    u_t = u_{t-1} - ( sum_i K_i^T phi_i(K_i u_{t-1}) + lambda_t (u_{t-1} - f) ),

and every stage has its own filters, functions and ``lambda_t``. Training is
greedy then joint: the network grows a stage at a time (the loss on the
output of the stages so far), then all stages are trained together
(``denoisers.train``'s ``greedy_steps``).

The influence functions are evaluated through a table: the Gaussian sum is
sampled on :data:`TABLE` points (a matrix product, so the weights' gradient
flows through it) and each filter response reads it by linear interpolation
instead of summing ``centres`` exponentials. The table's step
is a fifteenth of the Gaussians' width, so the interpolated function differs
from the exact sum by less than 0.1 % of its largest value.

Reference: Y. Chen and T. Pock, "Trainable Nonlinear Reaction Diffusion: A
Flexible Framework for Fast and Effective Image Restoration", IEEE TPAMI
39(6), 2017 (arXiv:1508.02848).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .padding import mirror_pad

#: Points at which each influence function is tabulated.
TABLE = 1024
#: The filter responses (of unit-norm filters on images in [0, 1]) the Gaussian centres cover:
#: Chen & Pock's [-310, 310] on the 0-255 scale.
SPAN = 310 / 255
#: The table reaches this many Gaussian widths beyond the outer centres, where the sum has
#: decayed to nothing (exp(-4.5**2 / 2) = 4e-5 of a weight).
MARGIN = 4.5


def dct_basis(size: int) -> np.ndarray:
    """The orthonormal 2-D DCT-II basis of ``size`` x ``size`` patches without its constant
    atom, lowest frequencies first: shape ``(size**2 - 1, size, size)``."""
    k = np.arange(size)
    one = np.cos(np.pi * (k[None, :] + 0.5) * k[:, None] / size) * np.sqrt(2 / size)
    one[0] /= np.sqrt(2)
    atoms = [(i + j, i, j) for i in range(size) for j in range(size) if i or j]
    return np.stack([np.outer(one[i], one[j]) for _, i, j in sorted(atoms)])


class InfluenceFunctions(nn.Module):
    """``channels`` learned influence functions, each a weighted sum of ``centres`` Gaussians
    of width equal to their spacing, on responses in [-SPAN, SPAN]; started as the line
    ``phi(z) = slope * z``.

    The weights are stored divided by :attr:`unit` so that Adam's steps (about its learning
    rate on every weight) are a small fraction of a function's size.
    """

    def __init__(self, channels: int, centres: int = 63, slope: float = 0.01) -> None:
        super().__init__()
        self.centres = torch.linspace(-SPAN, SPAN, centres)
        self.width = float(self.centres[1] - self.centres[0])
        self.low = -SPAN - MARGIN * self.width
        self.step = 2 * (SPAN + MARGIN * self.width) / (TABLE - 1)
        points = self.low + self.step * torch.arange(TABLE)
        self.register_buffer("gaussians", torch.exp(
            -0.5 * ((points[:, None] - self.centres[None, :]) / self.width) ** 2), persistent=False)
        # The Gaussians sum to about sqrt(2 pi) inside the span, so weights slope * c / sqrt(2 pi)
        # draw the line.
        self.unit = slope * SPAN
        start = self.centres / SPAN / math.sqrt(2 * math.pi)
        self.weight = nn.Parameter(start.repeat(channels, 1))

    def tables(self) -> torch.Tensor:
        """Each function sampled on the table's points: shape ``(channels, TABLE)``."""
        return self.unit * self.weight @ self.gaussians.T

    def curves(self, z: torch.Tensor) -> torch.Tensor:
        """Every function at the responses ``z`` (any shape): shape ``(channels, *z.shape)``,
        for plotting."""
        grid = z.reshape(1, 1, -1, 1).expand(1, len(self.weight), -1, 1)
        return self.forward(grid)[0, :, :, 0].reshape(len(self.weight), *z.shape)

    def forward(self, responses: torch.Tensor) -> torch.Tensor:
        """``phi_i`` applied to channel ``i`` of ``responses`` ``(N, channels, H, W)``.

        One ``grid_sample`` reads every response's table by linear interpolation (each
        channel's table is one image of a batch, its responses that image's sampling grid),
        clamped at the table's ends; it is twice as fast as gathering from a flat table, in
        training and in use, and its gradients reach both the responses and the tables.
        """
        n, c, h, w = responses.shape
        across = (responses - self.low) * (2 / (self.step * (TABLE - 1))) - 1
        across = across.transpose(0, 1).reshape(c, n * h, w, 1)
        grid = torch.cat([across, torch.zeros_like(across)], dim=-1)
        out = F.grid_sample(self.tables().view(c, 1, 1, TABLE), grid, mode="bilinear",
                            padding_mode="border", align_corners=True)
        return out.view(c, n, h, w).transpose(0, 1)


class Stage(nn.Module):
    """One reaction-diffusion step: learned filters, influence functions and reaction weight."""

    def __init__(self, filters: int, size: int, centres: int) -> None:
        super().__init__()
        basis = torch.from_numpy(dct_basis(size)).float()
        self.register_buffer("basis", basis.flatten(1), persistent=False)
        if filters > len(basis):
            raise ValueError(f"at most {len(basis)} zero-mean {size}x{size} filters")
        self.coefficients = nn.Parameter(torch.eye(len(basis))[:filters].clone())
        self.influence = InfluenceFunctions(filters, centres)
        self.log_reaction = nn.Parameter(torch.tensor(math.log(0.02)))
        self.size = size

    def filters(self) -> torch.Tensor:
        """The filters ``(filters, 1, size, size)``: unit-norm combinations of the DCT atoms."""
        unit = self.coefficients / self.coefficients.norm(dim=1, keepdim=True)
        return (unit @ self.basis).view(-1, 1, self.size, self.size)

    @property
    def reaction(self) -> torch.Tensor:
        """The reaction weight ``lambda_t`` (positive)."""
        return self.log_reaction.exp()

    def forward(self, u: torch.Tensor, noisy: torch.Tensor) -> torch.Tensor:
        kernels = self.filters()
        half = self.size // 2
        responses = F.conv2d(mirror_pad(u, (half,) * 4), kernels)
        diffusion = F.conv_transpose2d(self.influence(responses), kernels)
        diffusion = diffusion[..., half:-half, half:-half]
        return u - diffusion - self.reaction * (u - noisy)


class TNRD(nn.Module):
    """Chen & Pock's TNRD: ``stages`` reaction-diffusion steps with ``filters`` learned
    ``size`` x ``size`` filters and influence functions each (see the module's notes). Trained
    for one noise level; ``sigma`` is accepted and ignored. Each channel of a colour batch is
    diffused on its own. ``active`` stages run (all of them unless training grows the network).
    """

    def __init__(self, stages: int = 5, filters: int = 48, size: int = 7,
                 centres: int = 63) -> None:
        super().__init__()
        self.stages = nn.ModuleList(Stage(filters, size, centres) for _ in range(stages))
        self.active = stages

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        return self.trajectory(noisy)[-1]

    def grow(self, step: int, steps: int) -> None:
        """Greedy training: at ``step`` of a growing phase ``steps`` long, run the first
        stages only, one more every ``steps / len(stages)`` steps (all of them after it)."""
        self.active = min(len(self.stages), 1 + step * len(self.stages) // steps)

    def trajectory(self, noisy: torch.Tensor) -> list[torch.Tensor]:
        """The image after every active stage (the last is the estimate)."""
        n, c, h, w = noisy.shape
        f = noisy.reshape(n * c, 1, h, w).contiguous()
        u, out = f, []
        for stage in self.stages[:self.active]:
            u = stage(u, f)
            out.append(u.view(n, c, h, w))
        return out
