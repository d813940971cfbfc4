"""Padding an image batch for a network: mirrored, and up to the multiple its input needs."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def mirror_pad(x: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
    """Mirror-pad the last two dimensions by ``pad`` (left, right, top, bottom, as ``F.pad``);
    an image too small to mirror that far is padded by replication instead."""
    h, w = x.shape[-2:]
    fits = max(pad[:2]) < w and max(pad[2:]) < h
    return F.pad(x, pad, mode="reflect" if fits else "replicate")


def pad_to(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Mirror-pad the last two dimensions up to multiples of ``multiple``.

    Returns the padded tensor and the original (H, W) to crop back to.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    return (mirror_pad(x, (0, pw, 0, ph)) if ph or pw else x), (h, w)
