"""The Beltrami flow (Sochen, Kimmel & Malladi 1998): the image as a surface."""

from __future__ import annotations

from ..core import Method

METHODS: tuple[Method, ...] = ()
