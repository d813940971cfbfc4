"""Deep K-SVD, in torch: the K-SVD denoiser's computation made differentiable and trained.

Elad & Aharon's K-SVD denoiser (the sparsity chapter) cuts every overlapping
patch out of the image, codes each over a redundant dictionary with a few
atoms, rebuilds the patches from their codes and averages them back into the
image. Scetbon, Elad & Milanfar kept that path step for step and made each
step learnable:

- the sparse coding is ``steps`` iterations of soft thresholding (ISTA),
  ``z <- S_theta(z + D^T (y - D z) / c)``, unrolled, in place of orthogonal
  matching pursuit (whose choice of atoms has no gradient);
- the threshold of each patch is predicted from the patch by a small
  perceptron (one per patch, as in the paper, or one per atom), in place of
  K-SVD's one error bound set from sigma;
- the dictionary, the step ``1/c`` and the weights with which a patch's
  pixels enter the average (uniform in K-SVD) are learned with it, end to
  end, on pairs of clean and noisy images.

The dictionary starts as K-SVD's overcomplete DCT made a Parseval frame
(:func:`parseval_frame`: the same span, every direction weighted alike), so
that ``c = 1`` and a few ISTA steps already code a patch. The DCT as it is
has ``c = 14`` (the largest eigenvalue of ``D D^T``; the smallest is 0.99):
seven steps of ``1/14`` recover under half of a patch, and the untrained
model gives 17-18 dB on Set12 at sigma 25 (the noisy images: 20.2), against
27.4 dB on its first four images from the Parseval start with every
threshold at 0.2 (``assets/weights/README.md``). Trained, the Parseval start
reached 29.12 dB in 15 minutes, the DCT start 29.18 in two hours.

As in the authors' code, the model works on images scaled to [-1, 1]: patches
keep their mean (the DCT's constant atom codes it) and rebuilt patches are
clipped to that range.

Reference: M. Scetbon, M. Elad and P. Milanfar, "Deep K-SVD Denoising", IEEE
TIP 30, 2021 (arXiv:1909.13164).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..ksvd import overcomplete_dct

#: Patches coded at once when no gradient is kept (bounds the memory of a large image).
CHUNK = 16384


def parseval_frame(atoms: np.ndarray) -> np.ndarray:
    """The Parseval frame of ``atoms`` (columns, ``(n, k)``, spanning ``n`` dimensions):
    ``(A A^T)^(-1/2) A``, which is ``U V^T`` of ``A = U S V^T``, so that ``A A^T = I``."""
    u, _, vt = np.linalg.svd(atoms, full_matrices=False)
    return u @ vt


def soft_threshold(x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
    """``sign(x) max(|x| - threshold, 0)``, elementwise (the proximal map of the l1 norm)."""
    return torch.sign(x) * F.relu(x.abs() - threshold)


class DeepKSVD(nn.Module):
    """Scetbon, Elad & Milanfar's Deep K-SVD (see the module's notes): ``patch`` x ``patch``
    patches coded over ``atoms`` atoms by ``steps`` unrolled ISTA iterations, with the
    thresholds predicted by a perceptron of ``hidden`` units, one per atom or, with
    ``per_patch``, one per patch (the paper's), all starting near ``threshold`` (on the
    [-1, 1] scale the model works on: about the noise's sigma there). Trained for one noise
    level; ``sigma`` is accepted and ignored. Each channel of a colour batch is denoised on its
    own."""

    def __init__(self, patch: int = 8, atoms: int = 256, steps: int = 7,
                 hidden: tuple[int, ...] = (128, 64, 32), per_patch: bool = False,
                 threshold: float = 0.2) -> None:
        super().__init__()
        start = parseval_frame(overcomplete_dct(patch, atoms).reshape(atoms, patch * patch).T)
        dictionary = torch.from_numpy(start).float()
        self.dictionary = nn.Parameter(dictionary)
        # 1/c is ISTA's step: c starts at the largest eigenvalue of D^T D (1: a safe, full step).
        self.log_c = nn.Parameter(torch.log(torch.linalg.matrix_norm(dictionary, ord=2) ** 2))
        layers: list[nn.Module] = []
        for cin, cout in zip((patch * patch, *hidden), hidden):
            layers += [nn.Linear(cin, cout), nn.ReLU()]
        layers.append(nn.Linear(hidden[-1], 1 if per_patch else atoms))
        self.thresholds = nn.Sequential(*layers)
        # Every threshold starts near ``threshold`` (on [-1, 1]): the last layer's bias, with its
        # weights shrunk tenfold so that the patches move it by a few percent.
        with torch.no_grad():
            layers[-1].weight.mul_(0.1)
            layers[-1].bias.fill_(threshold * float(self.log_c.exp()))
        # The weight of each pixel of a patch in the average, kept positive through its log.
        self.log_pixel_weights = nn.Parameter(torch.zeros(patch * patch))
        self.patch, self.steps = patch, steps

    def forward(self, noisy: torch.Tensor, sigma: torch.Tensor | None = None) -> torch.Tensor:
        return self.denoise(noisy)[0]

    def codes(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The sparse codes ``(..., atoms)`` of ``patches`` ``(..., patch**2)`` (on [-1, 1])
        and their thresholds."""
        c = self.log_c.exp()
        d = self.dictionary
        threshold = self.thresholds(patches) / c
        pulled = patches @ d / c
        mixing = torch.eye(d.shape[1], device=d.device) - d.T @ d / c
        z = soft_threshold(pulled, threshold)
        for _ in range(self.steps):
            z = soft_threshold(z @ mixing + pulled, threshold)
        return z, threshold

    def denoise(self, noisy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The estimate ``(N, C, H, W)`` of ``noisy`` (on [0, 1], sides at least ``patch``)
        and the mean threshold of every patch, ``(N, C, H - patch + 1, W - patch + 1)``.

        Without gradients the patches are coded :data:`CHUNK` at a time, so that a large
        image's codes (256 numbers a pixel) are never all in memory at once.
        """
        n, c, h, w = noisy.shape
        x = 2 * noisy.reshape(n * c, 1, h, w) - 1
        patches = F.unfold(x, self.patch).transpose(1, 2)
        step = patches.shape[1] if torch.is_grad_enabled() else CHUNK
        rebuilt, thresholds = [], []
        for start in range(0, patches.shape[1], step):
            z, threshold = self.codes(patches[:, start:start + step])
            rebuilt.append((z @ self.dictionary.T).clamp(-1, 1))
            thresholds.append(threshold.mean(dim=-1))
        weights = self.log_pixel_weights.exp()
        weighted = torch.cat(rebuilt, dim=1) * weights
        total = F.fold(weighted.transpose(1, 2), (h, w), self.patch)
        count = F.fold(weights.expand_as(weighted).transpose(1, 2), (h, w), self.patch)
        size = (h - self.patch + 1, w - self.patch + 1)
        return (((total / count + 1) / 2).view(n, c, h, w),
                torch.cat(thresholds, dim=1).view(n, c, *size))
