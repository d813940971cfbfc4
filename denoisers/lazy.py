"""Modules imported on first use, so that ``import denoisers`` and the registry stay light.

torch takes over a second to import. The families that need it only when a method runs
(EPLL and the Gaussian mixture it learns) name it through :class:`LazyModule`, which
imports the real module the first time an attribute is asked of it; listing the methods
(the home page's timeline, the References page) then never waits for torch.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for the module ``name`` and imports it on the first attribute asked."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


#: torch, and its functional neural-network operations.
torch = LazyModule("torch")
F = LazyModule("torch.nn.functional")
