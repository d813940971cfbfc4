"""Total-variation denoising (Rudin, Osher & Fatemi 1992)."""

from __future__ import annotations

from ..core import Method

METHODS: tuple[Method, ...] = ()
