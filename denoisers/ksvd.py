"""Sparse coding over a learned dictionary: OMP and K-SVD (Elad & Aharon 2006)."""

from __future__ import annotations

from .core import Method

METHODS: tuple[Method, ...] = ()
