"""The Beltrami flow (Sochen, Kimmel & Malladi 1998): the image as a surface.

A grey image is the surface (x, y, β I(x, y)) in three dimensions, a colour
image the surface (x, y, β R/√3, β G/√3, β B/√3) in five: a sheet over the pixel
grid that rises with the grey levels, steep at edges and rough where there
is noise. The Beltrami flow moves every channel by the Laplace-Beltrami
operator of that surface, the mean curvature flow that shrinks its area:
it smooths along the surface, so within regions, and hardly across an edge,
where the surface is a cliff; in colour one surface carries all three
channels, so an edge in any of them holds the others.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core import Float, Method, Param, Progress, Result, validated
from .diffusion import MAX_TIME, schedule
from .evolution import FAMILY, Recorder, divergence, evolve, gradient

#: The widest beta offered, on the [0, 1] scale of grey levels (sigma_255 = 2 -> beta 255).
MAX_BETA = 500.0


# --------------------------------------------------------------------------- the scheme

def _centred(forward: np.ndarray, axis: int) -> np.ndarray:
    """Central differences at the pixels from the forward ones along ``axis`` (0 or 1): the
    mean of the differences on both sides, the one across a border being 0."""
    out = forward.copy()
    if axis == 0:
        out[1:] += forward[:-1]
    else:
        out[:, 1:] += forward[:, :-1]
    out *= np.float32(0.5)
    return out


def _on_faces(centred: np.ndarray, axis: int) -> np.ndarray:
    """The mean of ``centred`` at a pixel and at its next neighbour along ``axis``: its value
    on the face between them (the last row or column keeps its own; its face is the border,
    where no flux passes)."""
    out = centred.copy()
    if axis == 0:
        out[:-1] += centred[1:]
        out[:-1] *= np.float32(0.5)
    else:
        out[:, :-1] += centred[:, 1:]
        out[:, :-1] *= np.float32(0.5)
    return out


def _dot(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """The sum over the channels of the products a_c b_c."""
    out = a[0] * b[0]
    for x, y in zip(a[1:], b[1:]):
        out += x * y
    return out


def metric(dy: list[np.ndarray], dx: list[np.ndarray],
           scale: np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The induced metric of the image surface from the derivatives of its channels.

    ``g_yy = 1 + scale sum_c (d_y I_c)²``, ``g_xx = 1 + scale sum_c (d_x I_c)²``,
    ``g_yx = scale sum_c d_y I_c d_x I_c`` (``scale`` is β² / C), and its
    determinant ``g``, each of shape (H, W).

    Parameters
    ----------
    dy, dx : list of ndarray, each (H, W)
        The vertical and horizontal derivatives of each of the C channels
        (one entry for a grey image).
    scale : numpy.float32
        β² / C: the surface's aspect ratio squared, shared among the channels.
    """
    gyy = 1.0 + scale * _dot(dy, dy)
    gxx = 1.0 + scale * _dot(dx, dx)
    gyx = scale * _dot(dy, dx)
    return gyy, gxx, gyx, gyy * gxx - gyx * gyx


def _channels(u: np.ndarray) -> list[np.ndarray]:
    return [u] if u.ndim == 2 else [np.ascontiguousarray(u[..., c]) for c in range(u.shape[2])]


def area(u: np.ndarray, beta: float) -> np.ndarray:
    """The area element sqrt(g) of the surface of ``u`` (H, W) or (H, W, C) at its pixels
    (central differences): 1 where the image is flat, large on edges and noise."""
    channels = _channels(u)
    scale = np.float32(beta * beta / len(channels))
    grads = [gradient(c) for c in channels]
    dy = [_centred(d, 0) for d, _ in grads]
    dx = [_centred(d, 1) for _, d in grads]
    return np.sqrt(metric(dy, dx, scale)[3])


def beltrami_step(beta: float, dt: float) -> Callable[[np.ndarray], np.ndarray]:
    """One explicit step of the Beltrami flow of an image (H, W) or (H, W, C).

    ``I_c += dt (1/sqrt(g)) div(sqrt(g) g^{-1} grad I_c)``, with the flux on the
    faces between pixels: the difference across the face, the other
    derivative averaged from the central differences of the two pixels, and
    the metric from both; the factor 1/sqrt(g) at the pixel from its central
    differences. For one channel the flux is ``grad I / sqrt(g)``.
    """
    beta2 = beta * beta
    tau = np.float32(dt)

    def step(u: np.ndarray) -> np.ndarray:
        channels = _channels(u)
        scale = np.float32(beta2 / len(channels))
        grads = [gradient(c) for c in channels]
        dy = [d for d, _ in grads]
        dx = [d for _, d in grads]
        cy = [_centred(d, 0) for d in dy]
        cx = [_centred(d, 1) for d in dx]
        x_down = [_on_faces(d, 0) for d in cx]  # d_x I on the faces below the pixels
        y_right = [_on_faces(d, 1) for d in cy]  # d_y I on the faces to their right
        if len(channels) == 1:
            down = [dy[0] / np.sqrt(1.0 + scale * (dy[0] * dy[0] + x_down[0] * x_down[0]))]
            right = [dx[0] / np.sqrt(1.0 + scale * (dx[0] * dx[0] + y_right[0] * y_right[0]))]
        else:
            gyy, gxx, gyx, g = metric(dy, x_down, scale)
            root = np.sqrt(g)
            a, b = gxx / root, gyx / root  # sqrt(g) g^{yy} and -sqrt(g) g^{yx}
            down = [a * y - b * x for y, x in zip(dy, x_down)]
            gyy, gxx, gyx, g = metric(y_right, dx, scale)
            root = np.sqrt(g)
            a, b = gyy / root, gyx / root  # sqrt(g) g^{xx} and -sqrt(g) g^{xy}
            right = [a * x - b * y for y, x in zip(y_right, dx)]
        rate = tau / np.sqrt(metric(cy, cx, scale)[3])
        moved = [c + rate * divergence(p, q) for c, p, q in zip(channels, down, right)]
        return moved[0] if u.ndim == 2 else np.stack(moved, axis=-1)

    return step


# --------------------------------------------------------------------------- the method

def beltrami_beta(sigma: float) -> float:
    """The default aspect ratio beta of :func:`beltrami` for noise ``sigma`` on [0, 1]."""
    return round(min(MAX_BETA, 2.0 / max(sigma, 1e-6)), 2)


def beltrami_time(sigma: float) -> float:
    """The default stopping time of :func:`beltrami` for noise ``sigma`` on [0, 1]."""
    return round(min(MAX_TIME, 1.9 + 0.035 * 255.0 * sigma), 2)


#: The parameters of :func:`beltrami`, checked by every call (its Method's spec).
BELTRAMI: tuple[Param, ...] = (
    Float("beta", 0.1, MAX_BETA, step=0.1, rule=beltrami_beta,
          help=("How tall the image surface stands over the pixel grid: grey levels (0-1) "
                "are multiplied by beta. Small beta is the heat equation (blurs edges); "
                "large beta diffuses only where the image is nearly flat, keeping edges "
                "and slowing down. Auto: 2 / sigma (sigma on 0-1), 20 at sigma 25 on 0-255.")),
    Float("time", 0.0, MAX_TIME, step=0.05, rule=beltrami_time,
          help=("How long the flow runs: the stopping time t (steps of at most 0.2). "
                "Auto: 1.9 + 0.035 x sigma (sigma on 0-255).")),
)


@validated(BELTRAMI)
def beltrami(noisy: np.ndarray, sigma: float, *, beta: float | None = None,
             time: float | None = None, trace: bool = False, progress: Progress | None = None,
             reference: np.ndarray | None = None) -> Result:
    """The Beltrami flow: shrink the area of the image seen as a surface.

    Parameters
    ----------
    noisy : ndarray, shape (H, W) or (H, W, 3)
        The noisy image, grey or colour (RGB, handled jointly), of any float
        or integer type (taken to float32 in [0, 1] scale by
        :func:`~denoisers.core.as_image`); the result is float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the defaults.
    beta : float, optional
        The aspect ratio β of the surface: the height of a grey level of 1
        above the pixel grid, in pixels. ``None`` applies :func:`beltrami_beta`.
    time : float, optional
        The stopping time t; ``None`` applies :func:`beltrami_time`. 0
        returns the noisy image.
    trace : bool
        Also return the evolution (run :data:`~.evolution.OVERRUN` times as
        long) and the surface's area element at the stop.
    progress : callable, optional
        Receives the fraction of the steps done, ending at 1.0.
    reference : ndarray, optional
        The clean image, for the trace's PSNR curve only: the estimate does
        not depend on it.

    Returns
    -------
    Result
        ``image``: I(t). With ``trace``: curves ``"residual RMS / σ"`` and
        (with ``reference``) ``"PSNR (dB)"`` per step against time
        (``extras["curve_x"]``); ``extras["evolution"]``, ``"stop"``,
        ``"discrepancy stop"`` (see :class:`~.evolution.Recorder`); stage
        ``"area element √g"`` at the stop (1 where the image is flat, large
        on edges and remaining noise: where the flow slows down);
        ``extras["params"]``.

    Notes
    -----
    The image is a surface over the pixel grid, its height β times the
    grey level (for colour, one surface in five dimensions carries the
    three channels). The distance between neighbouring points on it is
    measured by the induced metric ``g_ij = δ_ij + (β²/C) Σ_c ∂_i I_c ∂_j I_c``
    (C = 1 or 3 channels) with determinant g, and the flow that shrinks the
    surface's area moves every channel by its Laplace-Beltrami operator,
    ``I_c,t = (1/√g) ∂_μ(√g g^{μν} ∂_ν I_c)``. For a grey image that is
    ``(1/√g) div(∇I / √g)`` with ``g = 1 + β²|∇I|²``: where the image is flat
    (β|∇I| << 1) the heat equation; across an edge (β|∇I| >> 1) the
    flux along the gradient falls like 1/(β|∇I|)² and the edge stays, while
    diffusion along it goes on. In colour the metric is shared: an edge in
    one channel slows the flow across it in all three, so colour edges stay
    aligned, where filtering each channel alone would smear the weak ones.
    Sochen et al. write the colour surface as (x, y, βR, βG, βB); dividing
    β² by the number of channels is their flow with β/√3, chosen so that a
    grey image stored as RGB flows exactly as the grey image with the same
    β, and one rule serves both.

    Scheme: explicit, ``ceil(t / 0.2)`` equal steps of ``dt <= 0.2``. The
    flux is computed on the faces between pixels (the forward difference
    across the face, the other derivative averaged from the central
    differences of the two pixels, the metric from both), its divergence
    is :func:`~.evolution.divergence` (a reflecting border) and the factor
    1/√g comes from the pixel's central differences. For a grey image each
    neighbour's weight is ``dt / (√g_pixel √g_face) <= dt``, so with ``dt <=
    1/4`` a step is an average of the pixel and its neighbours and keeps
    the grey levels' range (0.2, as for :func:`~.diffusion.heat`, damps the
    checkerboard). In colour the eigenvalues of ``g^{μν}`` are at most 1,
    so the flow is no faster than the heat equation, but the cross terms
    make a step no longer an average; measured on 200x200 crops of
    astronaut with noise sigma_255 = 10, 25, 50 and β = 1 to 1000 (the
    paper's β: ours / √3), 150 steps of 0.2 or 0.25 never left the noisy
    image's range, while 0.3 did (by up to 0.3) at small β, where the flow
    is the heat equation.

    Cost: about 4.5 ms a step for a grey 512x512 image and 17 ms for a
    colour one on this project's 2-core CPU: the default takes 61 ms grey
    and 0.23 s in colour at sigma_255 = 25 (t = 2.77, 14 steps), 75 ms and
    0.32 s at 50, 0.11 s and 0.46 s at 100 (t = 5.4, 27 steps).

    Default: ``β = 2 / sigma`` (sigma on the [0, 1] scale: 20.4 at
    sigma_255 = 25) and ``t = 1.9 + 0.035 sigma_255``, fitted jointly on
    the twelve grey images of :mod:`.diffusion` (sigma_255 = 10, 15, 25,
    35, 50) and six colour ones (astronaut, coffee, chelsea, rocket, cat,
    immunohistochemistry at full size; sigma_255 = 10, 25, 50): with β σ in
    {0.5, 0.75, 1, 1.5, 2, 3, 4} (grey) and {1.15, 1.3, 1.73, 2.31, 2.6,
    3.46, 5.2} (colour), every step of 0.2 up to past the best, the β σ and line for t
    with the least mean of the two sets' mean PSNR losses to each image's
    best. It loses 0.44 dB on the grey images on average (camera 0.13,
    astronaut 0.15, coffee 0.04, text 0.11 at sigma_255 = 25; moon, which
    wants t = 13-17, 2.7) and 0.34 dB on the colour ones. Alone, the grey
    images prefer β σ = 2-3 with t = 2.7 + 0.02 sigma_255 or 5.2 + 0.03
    sigma_255 (0.36 and 0.35 dB), and the colour ones a larger β σ = 4 and
    t = 5.6 + 0.035 sigma_255 (0.07 dB), at twice the steps; with the
    paper's unscaled colour metric the best joint rule lost 0.75 dB grey
    and 0.25 dB colour, its colour runs wanting 1.6 times the grey ones'
    time.

    References
    ----------
    N. Sochen, R. Kimmel and R. Malladi, "A general framework for low level
    vision", IEEE Trans. Image Process. 7(3), 1998, pp. 310-318.
    https://doi.org/10.1109/83.661181
    R. Kimmel, R. Malladi and N. Sochen, "Images as embedded maps and
    minimal surfaces: movies, color, texture, and volumetric medical
    images", Int. J. Comput. Vis. 39(2), 2000, pp. 111-129.

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> from denoisers.pde.beltrami import beltrami
    >>> clean = data.astronaut()[100:148, 200:248] / 255  # a 48x48 colour crop
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = beltrami(noisy, 25 / 255).image  # the three channels evolve together
    >>> out.shape, out.dtype
    ((48, 48, 3), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 3
    True
    """
    beta = beltrami_beta(sigma) if beta is None else beta
    time = beltrami_time(sigma) if time is None else time
    steps, dt = schedule(time)
    recorder = (Recorder(noisy, sigma, reference, time=lambda k: k * dt) if trace else None)
    image = evolve(noisy, beltrami_step(beta, dt), steps, recorder=recorder, progress=progress)
    result = Result(image)
    if recorder is not None:
        recorder.onto(result, steps, "time t")
        result.stages["area element √g"] = area(image, beta).astype(np.float32)
        result.extras["display"] = {"area element √g": "map"}
        result.extras["params"] = {"beta": beta, "time": time}
    return result


METHODS: tuple[Method, ...] = (
    Method(
        key="beltrami",
        name="Beltrami flow",
        year=1998,
        family=FAMILY,
        paper=("N. Sochen, R. Kimmel and R. Malladi, \"A general framework for low level "
               "vision\", IEEE Transactions on Image Processing 7(3), 1998, pp. 310-318, "
               "doi:10.1109/83.661181"),
        idea=("Picture the image as a landscape: each pixel's brightness is a height, so an "
              "edge is a cliff and noise is a field of tiny bumps. The Beltrami flow pulls this "
              "surface tight, like a soap film, shrinking its area: the bumps flatten fast, "
              "while moving along a cliff face costs so much area that the cliff stays put. "
              "A colour image is one surface that carries all three colours at once, so an "
              "edge in one colour holds the others in place and colours do not bleed. A single "
              "knob, the height scale beta, slides it from plain heat flow, which blurs "
              "everything, to a flow that stops at every edge and noise speck alike."),
        params=BELTRAMI,
        run=beltrami,
        colour=True,
        url="https://doi.org/10.1109/83.661181",
    ),
)
