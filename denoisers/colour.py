"""Colour handling shared by every grey method: the opponent colour space.

A method defined for grey images is applied to a colour image channel by
channel in a decorrelated space, so that the channels it sees are images of
their own. The opponent transform used by CBM3D (Dabov et al. 2007),

    L  = (R + G + B) / 3
    C1 = (R - B) / 2 + 1/2
    C2 = (R - 2G + B) / 4 + 1/2,

has orthogonal rows, so white Gaussian noise of standard deviation sigma in
RGB stays white and independent across the three channels, with standard
deviations sigma/sqrt(3), sigma/sqrt(2) and sigma*sqrt(6)/4; and a colour
image in [0, 1] maps to channels in [0, 1].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import Progress, Result

_FORWARD = np.array(
    [[1 / 3, 1 / 3, 1 / 3],
     [1 / 2, 0.0, -1 / 2],
     [1 / 4, -1 / 2, 1 / 4]],
    dtype=np.float64,
)
_OFFSET = np.array([0.0, 0.5, 0.5])
_INVERSE = np.linalg.inv(_FORWARD)
#: Noise standard deviation of each opponent channel per unit of RGB sigma.
CHANNEL_SIGMA = np.sqrt((_FORWARD**2).sum(axis=1))


def to_opponent(rgb: np.ndarray) -> np.ndarray:
    """RGB (H, W, 3) to the opponent space, channels in [0, 1] for RGB in [0, 1]."""
    return (rgb.astype(np.float64) @ _FORWARD.T + _OFFSET).astype(np.float32)


def from_opponent(opp: np.ndarray) -> np.ndarray:
    """The exact inverse of :func:`to_opponent`."""
    return ((opp.astype(np.float64) - _OFFSET) @ _INVERSE.T).astype(np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """The luminance channel of the opponent space, the one a grey method's trace shows."""
    return np.ascontiguousarray(to_opponent(rgb)[..., 0])


def luminance_view(image: np.ndarray, sigma: float) -> tuple[np.ndarray, float]:
    """What a grey view of ``image`` looks at, with the noise level there: a grey image and
    ``sigma`` as they are, a colour one's :func:`luminance` and the sigma of its noise."""
    if image.ndim == 2:
        return image, sigma
    return luminance(image), sigma * float(CHANNEL_SIGMA[0])


def by_channel(run: Callable[..., Result], rgb: np.ndarray, sigma: float, *,
               trace: bool = False, progress: Progress | None = None,
               **kwargs: Any) -> Result:
    """Apply a grey method to each opponent channel of ``rgb`` and map back.

    The trace (stages, curves, extras) is the luminance channel's, where the
    detail lives; ``extras["colour"]`` says so.

    Parameters
    ----------
    run : callable
        The grey method, ``run(image, sigma, *, trace, progress, **kwargs)
        -> Result``.
    rgb : ndarray, shape (H, W, 3)
        The colour image, float in [0, 1].
    sigma : float
        The noise standard deviation in RGB, on the [0, 1] scale; each
        opponent channel is given its own (:data:`CHANNEL_SIGMA` times
        this, at most 1).
    trace : bool
        Trace the luminance channel's run (the other two run untraced).
    progress : callable, optional
        Receives the fraction done over the three channels.
    **kwargs
        Passed to ``run`` for every channel (the method's parameters); a
        ``sigma_map`` (a noise level per pixel, RGB) is scaled per channel
        as ``sigma`` is.

    Returns
    -------
    Result
        The luminance channel's result with ``image`` the colour estimate,
        float32 (H, W, 3).
    """
    opp = to_opponent(rgb)
    level_map = kwargs.get("sigma_map")
    channels = []
    traced: Result | None = None
    for c in range(3):
        sub = None if progress is None else _sub_progress(progress, c / 3, 1 / 3)
        scale = float(CHANNEL_SIGMA[c])
        if kwargs.get("sigma_map") is not None:
            kwargs["sigma_map"] = level_map * scale
        result = run(np.ascontiguousarray(opp[..., c]), min(1.0, sigma * scale),
                     trace=trace and c == 0, progress=sub, **kwargs)
        channels.append(result.image)
        if c == 0:
            traced = result
    assert traced is not None
    traced.image = from_opponent(np.stack(channels, axis=-1))
    traced.extras["colour"] = (
        "applied channel by channel in the opponent colour space "
        "(luminance, red-blue, green-magenta); the insides shown are the luminance channel's"
    )
    return traced


def _sub_progress(progress: Progress, start: float, span: float) -> Progress:
    return lambda fraction: progress(start + span * fraction)
