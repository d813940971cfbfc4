"""Wavelet shrinkage: VisuShrink, SureShrink and BayesShrink (1994-2000), with cycle spinning."""

from __future__ import annotations

from .core import Method

METHODS: tuple[Method, ...] = ()
