"""Linear and anisotropic diffusion: the heat equation and Perona & Malik (1990)."""

from __future__ import annotations

from ..core import Method

METHODS: tuple[Method, ...] = ()
