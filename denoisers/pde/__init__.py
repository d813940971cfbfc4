"""Partial differential equations and energy minimisation (1990-2004).

The image as a function evolving in time: the heat equation (linear
diffusion, which is Gaussian blurring), Perona & Malik's anisotropic
diffusion that stops at edges, Rudin, Osher & Fatemi's total variation, and
the Beltrami flow that treats the image as a surface. One module an idea;
:mod:`.evolution` holds the operators and the trace they share.
"""

from __future__ import annotations

from ..core import Method
from . import beltrami, diffusion, tv

METHODS: tuple[Method, ...] = diffusion.METHODS + tv.METHODS + beltrami.METHODS
