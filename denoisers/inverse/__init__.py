"""The denoiser as a prior: inverse problems restored with any registered denoiser.

>>> import numpy as np
>>> from denoisers import inverse
>>> from denoisers.metrics import psnr
>>> clean = np.tile(np.linspace(0, 1, 48), (48, 1))   # a smooth ramp
>>> problem = inverse.make("deblur")                 # Gaussian blur 1.6 px, noise 2.55 / 255
>>> y = problem.degrade(clean, seed=0)
>>> restored = inverse.restore(problem, y, prior="tv", solver="pnp_hqs", reference=clean)
>>> restored.image.shape, bool(psnr(clean, restored.image) > psnr(clean, y))
((48, 48), True)

:mod:`.problems` holds the degradations (deblurring, inpainting,
super-resolution, demosaicing), each with its operator, adjoint, exact
data-fidelity step and classical baseline; :mod:`.solvers` the plug-and-play
and RED iterations; :mod:`.sampling` draws images from the prior implicit in
a denoiser, unconstrained or keeping a problem's measurements.
"""

from __future__ import annotations

from typing import Any

from ..core import InvalidInput
from .problems import PROBLEMS, Problem
from .sampling import SAMPLING, sample
from .solvers import SOLVERS, restore, solver_spec

__all__ = ["PROBLEMS", "SAMPLING", "SOLVERS", "Problem", "make", "restore", "sample",
           "solver_spec"]


def make(name: str, *, shape: tuple[int, ...] | None = None, **settings: Any) -> Problem:
    """The inverse problem ``name`` with ``settings`` (checked; the rest at their defaults),
    bound to clean images of ``shape`` if given (:meth:`Problem.bound`).

    ``name`` is one of ``deblur`` (Gaussian blur of std 1.6 px and noise of
    std 2.55 / 255 by default, or a motion blur), ``inpaint`` (50 % of the
    pixels missing at random, or a text mask; no noise), ``super_resolution``
    (bicubic downsampling by 2, 3 or 4; no noise) and ``demosaic`` (an RGGB
    Bayer mosaic of a colour image; no noise). Each problem's ``SETTINGS``
    lists what can be set.

    Parameters
    ----------
    name : str
        One of :data:`PROBLEMS`' keys: ``"deblur"``, ``"inpaint"``,
        ``"super_resolution"``, ``"demosaic"``.
    shape : tuple of int, optional
        The clean images' shape, (H, W) or (H, W, 3): an estimate is cropped
        back to it. ``None`` leaves the problem unbound.
    **settings
        The problem's settings by name (its ``SETTINGS``: ``sigma`` for all,
        ``kernel`` and ``width`` for deblurring, ...), checked like a method's
        parameters; the rest take their defaults.
    """
    if name not in PROBLEMS:
        raise InvalidInput(f"no inverse problem is called {name!r}; the problems are: "
                           f"{', '.join(PROBLEMS)}")
    return PROBLEMS[name](shape=shape, **settings)
