"""Linear and anisotropic diffusion: the heat equation and Perona & Malik (1990).

Both move the noisy image by an explicit scheme on the pixel grid, ``u_{k+1}
= u_k + dt div(c grad u_k)``, with the forward differences and the divergence
of :mod:`.evolution` (a reflecting border): ``c = 1`` is the heat equation,
whose 5-point Laplacian this is; Perona & Malik make ``c`` small across
edges. Both stop at a time chosen from sigma.

Every default that follows sigma is a rule fitted on the twelve
scikit-image sample images the local filters' rules were fitted on (camera,
astronaut, coffee, chelsea, brick, moon, text, grass, gravel, page, coins,
rocket; the colour ones converted to grey, at their full size) at sigma =
10, 15, 25, 35 and 50 on the 0-255 scale, one seeded noise draw each: the
rule with the least mean PSNR loss to each image's own optimum. The
measurements are summarised in each function's Notes.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..core import Choice, Float, Method, Param, Progress, Result, validated
from .evolution import FAMILY, Recorder, divergence, evolve, gradient, magnitude

#: The largest time step of the explicit schemes (see :func:`heat`).
MAX_STEP = 0.2
#: The longest stopping time offered; ``MAX_TIME / MAX_STEP`` steps.
MAX_TIME = 50.0
#: How many gradients the traced curves g(s) and s g(s) are sampled at (0 to 4 kappa).
_CURVE_SAMPLES = 201


def schedule(time: float, largest: float = MAX_STEP) -> tuple[int, float]:
    """The number of steps, and the equal step of at most ``largest``, that reach ``time``
    exactly (no step and ``largest`` for a time of 0)."""
    steps = math.ceil(time / largest - 1e-9)
    return steps, (time / steps if steps else largest)


def laplacian(u: np.ndarray) -> np.ndarray:
    """The 5-point Laplacian of ``u`` (H, W[, C]) with a reflecting border:
    ``divergence(gradient(u))``, the sum of the four differences to the neighbours, a
    neighbour across the border being the pixel itself."""
    return divergence(*gradient(u))


def _traced(noisy: np.ndarray, sigma: float, reference: np.ndarray | None, dt: float,
            trace: bool) -> Recorder | None:
    """The recorder of a traced diffusion with step ``dt`` (its axis in time), or None."""
    return Recorder(noisy, sigma, reference, time=lambda k: k * dt) if trace else None


# --------------------------------------------------------------------------- heat

def heat_time(sigma: float) -> float:
    """The default stopping time of :func:`heat` for noise ``sigma`` on the [0, 1] scale."""
    return round(min(MAX_TIME, 0.49 * (255.0 * sigma / 25.0) ** 1.3), 2)


#: The parameters of :func:`heat`, checked by every call (its Method's spec).
HEAT: tuple[Param, ...] = (
    Float("time", 0.0, MAX_TIME, step=0.05, rule=heat_time,
          help=("How long the heat flows: the stopping time t. The result is a Gaussian "
                "blur of width sqrt(2t) pixels, so longer removes more noise and blurs "
                "more. Auto: 0.49 x (sigma / 25)^1.3 (sigma on 0-255).")),
)


@validated(HEAT)
def heat(noisy: np.ndarray, sigma: float, *, time: float | None = None, trace: bool = False,
         progress: Progress | None = None, reference: np.ndarray | None = None) -> Result:
    """Let the image diffuse like heat: the linear diffusion u_t = Δu, stopped at time t.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the default time.
    time : float, optional
        The stopping time t (pixels², the variance of the equivalent
        Gaussian is 2t); ``None`` applies :func:`heat_time`. 0 returns the
        noisy image.
    trace : bool
        Also return the evolution: :data:`~.evolution.OVERRUN` times as long,
        its kept frames, the residual and (with ``reference``) the PSNR per step.
    progress : callable, optional
        Receives the fraction of the steps done, ending at 1.0.
    reference : ndarray, optional
        The clean image, for the trace's PSNR curve only: the estimate does
        not depend on it.

    Returns
    -------
    Result
        ``image``: u(t). With ``trace``: curves ``"residual RMS / σ"`` and
        (with ``reference``) ``"PSNR (dB)"`` at every step, their x axis in
        ``extras["curve_x"]`` (time t); ``extras["evolution"]``, ``"stop"``
        and ``"discrepancy stop"`` (see :class:`~.evolution.Recorder`);
        stage ``"removed"`` (noisy − estimate, drawn signed);
        ``extras["gaussian width"]``: the width sqrt(2t) of the Gaussian blur
        it equals; ``extras["params"]``.

    Notes
    -----
    Heat spreads from warm to cold until the temperature is even; an image
    left to diffuse the same way loses its noise first, because the noise
    is the fastest, finest variation, and then its edges and texture. The
    solution at time t is the image convolved with a Gaussian of variance
    2t (Koenderink 1984: the scale space), so this is :func:`gaussian`
    smoothing reached step by step, and every edge blurs as much as the noise.

    Scheme: ``u_{k+1} = u_k + dt Δu_k`` with the 5-point Laplacian and a
    reflecting border (:func:`laplacian`), ``ceil(t / 0.2)`` equal steps of
    ``dt <= 0.2``. The explicit scheme multiplies the highest frequency,
    the checkerboard (+1, -1, ...), by ``1 - 8 dt`` per step: at ``dt =
    0.25``, the usual limit, that is -1, so the checkerboard part of the
    noise flips sign forever and is never damped; at 0.2 it is multiplied
    by -0.6 each step. On camera (no noise), u(t) differs from
    ``scipy.ndimage.gaussian_filter(f, sqrt(2t), mode="reflect")`` by an RMS
    of 3.9e-4 at t = 2 and 1.2e-4 at t = 8 (0.0026 and 0.0012 with dt = 0.25).

    Cost: 5 array operations a step, about 1 ms a step at 512x512 on
    this project's 2-core CPU: the default takes 3 ms at sigma_255 = 25
    (t = 0.49, 3 steps), 6 ms at 50 and 13 ms at 100 (t = 2.97).

    Default: ``t = 0.49 (sigma_255 / 25)^1.3`` (sigma_255 = 255·sigma),
    a Gaussian of width ``sqrt(2t)`` = 0.55, 0.71, 0.99, 1.23, 1.55 at
    sigma_255 = 10, 15, 25, 35, 50 (the local filters' fitted width is
    0.57, 0.71, 0.98, 1.25, 1.65 there). The PSNR-optimal t, median over
    the twelve images on a grid of steps of 0.05 to 1, 0.1 to 3 and 0.25 to
    10, was 0.15, 0.25, 0.45, 0.73, 1.3; the rule has the least mean loss to
    each image's best (0.81 dB over the five levels; camera loses at most
    0.01 dB, astronaut 0.06, text 0.17, coffee and coins 0.35 and 0.6 at
    sigma_255 = 10 only, brick and rocket up to 0.86 and 0.74, chelsea and
    gravel 0.4-0.66; grass and page want far shorter times and lose 0.9-2.6
    dB, moon a far longer one and loses 3.7-4.1). Left out of the fit, one
    image at a time moves the factor within [0.47, 0.54] and the power
    within [1.25, 1.4]. On the trace's own curve (steps of t/3, whole
    images, sigma_255 = 25, seed 0) the default's PSNR and the curve's best
    are: camera 27.32 and 27.32 dB, astronaut 27.38 and 27.38, coffee 26.66
    and 26.66, text 28.53 and 28.53, rocket 28.03 and 28.16, brick 29.63
    and 29.79, coins 25.70 and 25.96, chelsea 29.26 and 29.71, gravel 25.31
    and 25.89, grass 22.39 and 23.62, page 21.53 and 23.82, moon 30.84 and
    34.00.

    References
    ----------
    J. J. Koenderink, "The structure of images", Biol. Cybern. 50, 1984,
    pp. 363-370. https://doi.org/10.1007/BF00336961
    A. P. Witkin, "Scale-space filtering", Proc. IJCAI 1983, pp. 1019-1022.

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> from denoisers.pde.diffusion import heat
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = heat(noisy, 25 / 255).image
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 3
    True
    """
    time = heat_time(sigma) if time is None else time
    steps, dt = schedule(time)
    tau = np.float32(dt)
    recorder = _traced(noisy, sigma, reference, dt, trace)
    image = evolve(noisy, lambda u: u + tau * laplacian(u), steps, recorder=recorder,
                   progress=progress)
    result = Result(image)
    if recorder is not None:
        recorder.onto(result, steps, "time t")
        result.stages["removed"] = noisy - image
        result.extras["display"] = {"removed": "signed"}
        result.extras["gaussian width"] = math.sqrt(2.0 * time)
        result.extras["params"] = {"time": time}
    return result


# --------------------------------------------------------------------------- Perona-Malik

#: The edge-stopping functions offered, the default first.
DIFFUSIVITIES = ("exponential", "rational", "tukey")
#: Tukey's biweight is zero past sqrt(5) kappa: Black et al. (1998) match it to the others
#: by its flux's peak, at sigma_e = sigma / sqrt(5) for a biweight of scale sigma.
_TUKEY = math.sqrt(5.0)


def edge_stopping(name: str, kappa: float) -> Callable[[np.ndarray], np.ndarray]:
    """The edge-stopping function ``g(s)`` named ``name`` (one of :data:`DIFFUSIVITIES`)
    with edge threshold ``kappa``, for gradients ``s >= 0`` (float32 arrays in and out).

    ``"exponential"``: ``exp(-(s/kappa)²)``; ``"rational"``: ``1 / (1 + (s/kappa)²)``;
    ``"tukey"``: ``(1 - (s/(sqrt(5) kappa))²)²`` up to ``sqrt(5) kappa``, 0 beyond.
    Each is 1 at ``s = 0``.
    """
    if name == "exponential":
        scale = np.float32(-1.0 / (kappa * kappa))
        return lambda s: np.exp(s * s * scale)
    if name == "rational":
        scale = np.float32(1.0 / (kappa * kappa))
        return lambda s: 1.0 / (1.0 + s * s * scale)
    if name == "tukey":
        scale = np.float32(1.0 / (_TUKEY * kappa) ** 2)

        def tukey(s: np.ndarray) -> np.ndarray:
            inside = np.maximum(1.0 - s * s * scale, 0.0)
            return inside * inside
        return tukey
    raise ValueError(f"no diffusivity {name!r}; the diffusivities are {DIFFUSIVITIES}")


def perona_malik_step(g: Callable[[np.ndarray], np.ndarray],
                      dt: float) -> Callable[[np.ndarray], np.ndarray]:
    """One step of Perona & Malik's scheme: each of the four differences to a neighbour,
    weighted by ``g`` of its own size, ``u + dt div(g(|∇u|) ∇u)`` per link."""
    tau = np.float32(dt)

    def step(u: np.ndarray) -> np.ndarray:
        down, right = gradient(u)
        return u + tau * divergence(g(np.abs(down)) * down, g(np.abs(right)) * right)

    return step


def perona_malik_kappa(sigma: float) -> float:
    """The default edge threshold of :func:`perona_malik` for noise ``sigma`` on [0, 1]."""
    return round(min(1.0, max(0.005, 2.0 * sigma)), 4)


def perona_malik_time(sigma: float) -> float:
    """The default stopping time of :func:`perona_malik` for noise ``sigma`` on [0, 1]."""
    return round(min(MAX_TIME, 0.7 + 0.02 * 255.0 * sigma), 2)


#: The parameters of :func:`perona_malik`, checked by every call (its Method's spec).
PERONA_MALIK: tuple[Param, ...] = (
    Choice("diffusivity", DIFFUSIVITIES,
           help=("How diffusion slows down across a gradient of size s: exponential "
                 "exp(-(s/κ)²) favours high-contrast edges, rational 1/(1+(s/κ)²) wide "
                 "regions, Tukey's biweight (Black et al. 1998) stops diffusing "
                 "altogether past √5 κ. The auto κ and time are fitted for the "
                 "exponential (see the Notes for the others).")),
    Float("kappa", 0.005, 1.0, step=0.005, rule=perona_malik_kappa,
          help=("The edge threshold κ, a difference between neighbours on the 0-1 scale: "
                "far smaller differences diffuse as heat does, far larger ones hardly "
                "at all. Auto: 2 x sigma.")),
    Float("time", 0.0, MAX_TIME, step=0.05, rule=perona_malik_time,
          help=("How long the diffusion runs: the stopping time t (steps of at most 0.2). "
                "Auto: 0.7 + 0.02 x sigma (sigma on 0-255).")),
)


@validated(PERONA_MALIK)
def perona_malik(noisy: np.ndarray, sigma: float, *, diffusivity: str = "exponential",
                 kappa: float | None = None, time: float | None = None,
                 trace: bool = False, progress: Progress | None = None,
                 reference: np.ndarray | None = None) -> Result:
    """Anisotropic diffusion: diffuse within regions, not across their edges.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the defaults.
    diffusivity : {"exponential", "rational", "tukey"}
        The edge-stopping function g (see :func:`edge_stopping`).
    kappa : float, optional
        The edge threshold κ, in grey levels on the [0, 1] scale: the
        difference between neighbours at which g has fallen to exp(-1)
        (exponential) or 1/2 (rational); Tukey's g is 0 past sqrt(5) κ.
        ``None`` applies :func:`perona_malik_kappa`.
    time : float, optional
        The stopping time t; ``None`` applies :func:`perona_malik_time`.
        0 returns the noisy image.
    trace : bool
        Also return the evolution (run :data:`~.evolution.OVERRUN` times as
        long), the diffusivity map at the stop and the curves g(s) and s g(s).
    progress : callable, optional
        Receives the fraction of the steps done, ending at 1.0.
    reference : ndarray, optional
        The clean image, for the trace's PSNR curve only: the estimate does
        not depend on it.

    Returns
    -------
    Result
        ``image``: u(t). With ``trace``: curves ``"residual RMS / σ"`` and
        (with ``reference``) ``"PSNR (dB)"`` per step against time
        (``extras["curve_x"]``); ``extras["evolution"]``, ``"stop"``,
        ``"discrepancy stop"`` (see :class:`~.evolution.Recorder`); stage
        ``"diffusivity g(|∇u|)"``: the edge-stopping map at the stop, with
        |∇u| the length of the forward differences (1: diffuses freely,
        0: an edge kept); ``extras["flux"]``: ``{"s", "flux", "kappa"}``,
        the flux ``φ(s) = s g(s)`` at gradients s from 0 to 4κ, and
        ``extras["diffusivity"]``: ``{"s", "g", "kappa"}``, g(s) at the same
        s; ``extras["params"]``.

    Notes
    -----
    The heat equation blurs edges as much as noise because it diffuses at
    the same rate everywhere. Perona and Malik let the rate depend on the
    image: ``u_t = div(g(|∇u|) ∇u)`` with a diffusivity g that is 1 where
    the image is flat and falls towards 0 across large gradients. Noise,
    whose differences are small compared with κ, is smoothed as by heat;
    an edge, whose difference is large, is left almost alone, and since the
    flux ``φ(s) = s g(s)`` falls beyond its peak (κ/√2 for the exponential,
    κ for the rational and for Tukey's), an edge steeper than that even
    sharpens. The price: isolated noise spikes larger than κ survive too,
    and long runs give piecewise flat, staircased images.

    Scheme (Perona & Malik 1990, eq. 8): each pixel exchanges with its
    four neighbours, every link weighted by g of its own difference,
    ``u += dt sum_n g(|∇_n u|) ∇_n u``, with a reflecting border; g <= 1,
    so the scheme is stable and keeps the grey levels' range for ``dt <=
    1/4``. Here ``dt <= 0.2`` (``ceil(t / 0.2)`` equal steps), because at 1/4
    the checkerboard component of the noise in flat regions, where g is
    near 1, is not damped (see :func:`heat`). Black et al. (1998) write
    Tukey's diffusivity as ``1/2 (1 - (s/σ_e)²)²`` with σ_e = √5 κ; its
    factor 1/2 only slows time down, so here every g is 1 at 0 and t means
    the same for all three (the heat equation's time in flat regions).

    Cost: about 2 ms a step at 512x512 on this project's 2-core CPU (a
    little more with Tukey's): the default takes 13 ms at sigma_255 = 25
    (t = 1.2, 6 steps), 19 ms at 50 and 29 ms at 100 (t = 2.7, 14 steps).

    Default, fitted for the exponential: ``κ = 2 sigma`` and ``t = 0.7 +
    0.02 sigma_255`` (sigma_255 = 255·sigma). Over κ/σ in {0.5, 0.75, 1,
    1.25, 1.5, 1.75, 2, 2.5, 3, 4} and every step of 0.2 up to past the
    best, the pair with the least mean loss to each image's best was
    κ = 2.5σ at sigma_255 = 10 and 15 and κ = 2σ at 25, 35 and 50, with
    t = 0.6, 0.8, 1.2, 1.4, 1.8; with κ = 2σ throughout, the line for t has
    the least mean loss (0.51 dB: camera loses at most 0.1 dB, coffee 0.12,
    coins 0.17, astronaut and text 0.4 at sigma_255 = 10 and less above,
    rocket, brick, chelsea and page up to 0.6-0.95, the textures grass and
    gravel 0.7-1.05, moon 1.4-4). Left out of the fit, one image at a time
    moves the line within 0.7-0.8 + 0.017-0.02 sigma_255. On the trace's
    own curve (steps of 0.2, whole images, sigma_255 = 25, seed 0) the
    default's PSNR and the curve's best are: camera 28.10 and 28.11 dB,
    astronaut 28.62 and 28.62, coffee 27.51 and 27.51, text 28.80 and
    28.80, brick 29.86 and 29.86, coins 26.87 and 26.87, rocket 29.21 and
    29.29, chelsea 29.62 and 29.73, page 25.34 and 25.49, gravel 25.17 and
    25.43, grass 23.13 and 23.69, moon 32.44 and 34.90.

    The other diffusivities have their own best pairs, but a rule of sigma
    alone cannot follow the choice of g. Tukey's wants about the same:
    κ = 2σ (1.75σ at 35) and t = 0.6, 0.6, 0.8, 1.2, 1.4, and loses up to
    0.6 dB with the exponential's rule on the usual images (1-2 dB on grass
    and gravel). The rational diffusivity, whose heavy tail lets some flux
    through every edge, wants a smaller κ for longer: κ = σ, σ, 0.75σ,
    0.75σ, 0.6σ and t = 1.4, 1.4, 2.4, 2.6, 4.0, where its mean PSNR is
    0.25-0.4 dB above the exponential's at its best; with the exponential's
    rule it loses 0.2-1.3 dB: set κ and t by hand for it.

    References
    ----------
    P. Perona and J. Malik, "Scale-space and edge detection using
    anisotropic diffusion", IEEE Trans. Pattern Anal. Mach. Intell. 12(7),
    1990, pp. 629-639. https://doi.org/10.1109/34.56205
    M. J. Black, G. Sapiro, D. H. Marimont and D. Heeger, "Robust
    anisotropic diffusion", IEEE Trans. Image Process. 7(3), 1998,
    pp. 421-432. https://doi.org/10.1109/83.661192

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> from denoisers.pde.diffusion import heat, perona_malik
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = perona_malik(noisy, 25 / 255).image
    >>> psnr(clean, out) > psnr(clean, noisy) + 3
    True

    Diffusion that stops at the edges keeps what the heat equation blurs:

    >>> psnr(clean, out) > psnr(clean, heat(noisy, 25 / 255).image) + 1
    True
    """
    kappa = perona_malik_kappa(sigma) if kappa is None else kappa
    time = perona_malik_time(sigma) if time is None else time
    g = edge_stopping(diffusivity, kappa)
    steps, dt = schedule(time)
    recorder = _traced(noisy, sigma, reference, dt, trace)
    image = evolve(noisy, perona_malik_step(g, dt), steps, recorder=recorder, progress=progress)
    result = Result(image)
    if recorder is not None:
        recorder.onto(result, steps, "time t")
        result.stages["diffusivity g(|∇u|)"] = g(magnitude(*gradient(image))).astype(np.float32)
        result.extras["display"] = {"diffusivity g(|∇u|)": "map"}
        s = np.linspace(0.0, 4.0 * kappa, _CURVE_SAMPLES, dtype=np.float32)
        result.extras["flux"] = {"s": s, "flux": s * g(s), "kappa": kappa}
        result.extras["diffusivity"] = {"s": s, "g": g(s), "kappa": kappa}
        result.extras["params"] = {"diffusivity": diffusivity, "kappa": kappa, "time": time}
    return result


METHODS: tuple[Method, ...] = (
    Method(
        key="heat",
        name="Heat equation (linear diffusion)",
        year=1983,
        family=FAMILY,
        paper=("A. P. Witkin, \"Scale-space filtering\", Proc. IJCAI 1983, pp. 1019-1022; "
               "J. J. Koenderink, \"The structure of images\", Biological Cybernetics 50, "
               "1984, pp. 363-370, doi:10.1007/BF00336961"),
        idea=("Treat the grey levels as temperatures and let heat flow: every pixel "
              "continually exchanges with its neighbours, warm flowing to cold, until "
              "differences even out. The noise, the finest and fastest variation, evens out "
              "first, so stopping the flow at the right moment leaves a cleaner image. How "
              "long it runs is the only choice: a short time removes little noise, a long one "
              "blurs everything. It turns out to be exactly a Gaussian blur, whose width "
              "grows with the square root of the time, and like it the flow cannot tell an "
              "edge from noise: both melt at the same rate."),
        params=HEAT,
        run=heat,
        url="https://doi.org/10.1007/BF00336961",
    ),
    Method(
        key="perona_malik",
        name="Perona–Malik anisotropic diffusion",
        year=1990,
        family=FAMILY,
        paper=("P. Perona and J. Malik, \"Scale-space and edge detection using anisotropic "
               "diffusion\", IEEE Transactions on Pattern Analysis and Machine Intelligence "
               "12(7), 1990, pp. 629-639, doi:10.1109/34.56205; M. J. Black, G. Sapiro, "
               "D. H. Marimont and D. Heeger, \"Robust anisotropic diffusion\", IEEE "
               "Transactions on Image Processing 7(3), 1998, pp. 421-432, "
               "doi:10.1109/83.661192"),
        idea=("Heat flow that stops at edges. Each pixel still exchanges with its "
              "neighbours, but the exchange is throttled by how different they are: small "
              "differences, like those noise makes, flow freely and are smoothed away, while "
              "a large jump between two pixels is taken for an edge and almost nothing "
              "crosses it. So regions are cleaned while their borders stay sharp, and may even "
              "sharpen. The threshold between the two, kappa, decides what counts as an edge; "
              "noise specks stronger than it survive as spots, and a long run turns smooth "
              "shading into flat steps."),
        params=PERONA_MALIK,
        run=perona_malik,
        url="https://doi.org/10.1109/34.56205",
    ),
)
