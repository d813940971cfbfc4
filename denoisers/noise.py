"""Noise models and noise-level estimation.

Every model is seeded and explicit: the same image, level and seed give the
same noisy image, bit for bit. Images are float32 in [0, 1]; ``clip=True``
clips the noisy image back to [0, 1] as a camera would, which biases dark and
bright regions and changes every comparison, so it is always a visible choice.

Two models are a camera's rather than a textbook's: Poisson-Gaussian noise,
whose variance ``a x + b`` grows with the light ``x`` a pixel received
(photon counts plus the sensor's read-out noise; :class:`PoissonGaussian`,
with :data:`PRESETS` that look like a phone's), and correlated noise, white
noise passed through the small blur a camera's demosaicking applies, which
spreads each grain over several pixels (:func:`add_correlated`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core import Float, InvalidInput, as_image, check_params, check_sigma

#: The level of each noise model as a spec entry: its name, meaning and range.
#: The site draws the controls of the levels from it and every function here
#: checks its level against it (Gaussian noise's sigma as every method checks
#: sigma: :func:`denoisers.core.check_sigma`).
LEVELS = {
    "gaussian": Float("sigma", 0.0, 1.0, default=25 / 255,
                      help="The standard deviation on the [0, 1] scale of the image."),
    "poisson": Float("peak", 0.01, 1e6, default=16.0,
                     help="Photons counted at a white pixel: the fewer, the noisier."),
    "salt_pepper": Float("amount", 0.0, 1.0, default=0.1, step=0.01,
                         help="The fraction of pixels set to black or white at random."),
    "correlated": Float("sigma", 0.0, 1.0, default=15 / 255,
                        help="The standard deviation of each pixel's noise on the [0, 1] "
                             "scale, its grain spread over 3x3 pixels."),
}

#: The noise models the site offers: those of :data:`LEVELS`, then Poisson-Gaussian noise,
#: whose level is a :class:`PoissonGaussian` (two numbers).
MODELS = (*LEVELS, "poisson_gaussian")

#: The largest ``a`` and ``b`` a :class:`PoissonGaussian` accepts: a standard deviation of
#: 0.32 (81 on the 0-255 scale) at white, noisier than any photograph worth denoising.
MAX_VARIANCE = 0.1

#: The blur through which :func:`add_correlated` passes white noise: bilinear interpolation's
#: 3x3 kernel, the filter with which the simplest demosaicking fills in a missing colour.
DEMOSAIC_KERNEL = np.outer([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]) / 16.0


@dataclass(frozen=True)
class PoissonGaussian:
    """Signal-dependent noise whose variance at intensity ``x`` is ``a x + b``.

    A sensor counts photons (Poisson noise, variance proportional to the
    light) and adds read-out noise (Gaussian, constant): on the [0, 1] scale
    the noisy value is ``a P(x / a) + N(0, b)`` with P a Poisson count, so
    ``a`` is the variance per unit of intensity and ``b`` the variance at
    black. Both are checked on creation: each in [0, :data:`MAX_VARIANCE`],
    not both 0.

    Reference: A. Foi, M. Trimeche, V. Katkovnik and K. Egiazarian,
    "Practical Poissonian-Gaussian noise modeling and fitting for single-image
    raw-data", IEEE TIP 17(10), 2008.
    """

    a: float
    b: float

    def __post_init__(self) -> None:
        for name, meaning in (("a", "the variance per unit of intensity"),
                              ("b", "the variance at black")):
            value = getattr(self, name)
            if not isinstance(value, (int, float, np.floating)) or not np.isfinite(value):
                raise InvalidInput(f"{name} ({meaning}) must be a number; got {value!r}")
            if not 0 <= value <= MAX_VARIANCE:
                raise InvalidInput(f"{name} ({meaning}) must be in [0, {MAX_VARIANCE:g}]; "
                                   f"got {value:g}")
        if self.a == 0 and self.b == 0:
            raise InvalidInput("a and b are both 0: that is no noise at all")

    def variance(self, intensity: np.ndarray | float) -> np.ndarray:
        """The noise variance at ``intensity`` (negative intensities count as 0)."""
        return self.a * np.clip(intensity, 0, None) + self.b

    def sigma(self, intensity: np.ndarray | float) -> np.ndarray:
        """The noise standard deviation at ``intensity``, on the [0, 1] scale."""
        return np.sqrt(self.variance(intensity))


@dataclass(frozen=True, eq=False)
class CorrelatedNoise:
    """Stationary Gaussian noise known by its covariance in ``n`` x ``n`` patches.

    ``covariance`` (n², n²), row-major over a patch's pixels, on the [0, 1]
    scale; white noise of level sigma has ``sigma² I``. It is what
    :func:`denoisers.noise_level.fit_grain` measures on a photo and what BM3D
    is told to shrink each transform coefficient by its own noise.
    """

    covariance: np.ndarray

    @property
    def sigma(self) -> float:
        """Each pixel's noise standard deviation (the root of the mean variance)."""
        return float(np.sqrt(np.mean(np.diag(self.covariance))))

    @classmethod
    def of_kernel(cls, sigma: float, kernel: np.ndarray = DEMOSAIC_KERNEL,
                  size: int = 8) -> CorrelatedNoise:
        """The covariance of :func:`add_correlated`'s noise: white noise blurred by ``kernel``
        and scaled to ``sigma`` per pixel, in ``size`` x ``size`` patches.

        Parameters
        ----------
        sigma : float
            Each pixel's noise standard deviation, [0, 1] scale.
        kernel : ndarray, 2-D
            The blur, smaller than ``size`` on each side.
        size : int
            The side of the patches.
        """
        kernel = np.asarray(kernel, dtype=np.float64) * (sigma / np.linalg.norm(kernel))
        k = kernel.shape[0]
        padded = np.zeros((size + k - 1, size + k - 1))
        rows, cols = np.indices((size, size)).reshape(2, -1)
        # pixel p's noise is the sum over the kernel of weights times white noise; two pixels'
        # covariance is the overlap of their kernels.
        footprints = []
        for r, c in zip(rows, cols):
            padded[:] = 0
            padded[r:r + k, c:c + k] = kernel
            footprints.append(padded.ravel().copy())
        weights = np.array(footprints)
        return cls(weights @ weights.T)


#: Poisson-Gaussian settings that look like a phone's photographs, brightest light first:
#: at mid-grey a standard deviation of about 5, 10 and 20 on the 0-255 scale, and at black
#: a fifth to a third of that.
PRESETS = {
    "daylight": PoissonGaussian(a=0.0008, b=1.5e-5),
    "indoors": PoissonGaussian(a=0.003, b=6e-5),
    "night": PoissonGaussian(a=0.012, b=3e-4),
}


@dataclass(frozen=True)
class Noisy:
    """A noisy image and the sigma a denoiser should be told.

    ``sigma`` is the model's root-mean-square noise level on the [0, 1]
    scale: the given sigma for Gaussian noise, and the expected RMS of the
    noise for the others (their noise depends on the signal).
    """

    image: np.ndarray
    sigma: float


def add_gaussian(image: np.ndarray, sigma: float, *, seed: int = 0,
                 clip: bool = False) -> np.ndarray:
    """Add white Gaussian noise of standard deviation ``sigma`` (0-1 scale).

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image (converted by
        :func:`~denoisers.core.as_image`).
    sigma : float
        The noise standard deviation on the [0, 1] scale (25 / 255 is the
        literature's "sigma 25"), in [0, 1].
    seed : int
        Seed of the generator: the same image, sigma and seed give the same
        noise, bit for bit.
    clip : bool
        Clip the result to [0, 1], as a camera would (this biases dark and
        bright regions).

    Returns
    -------
    ndarray
        The noisy image, float32, the shape of ``image``.
    """
    clean = as_image(image, name="image")
    sigma = check_sigma(sigma)
    rng = np.random.default_rng(seed)
    noisy = clean + np.float32(sigma) * rng.standard_normal(clean.shape, dtype=np.float32)
    return _clipped(noisy, clip)


def add_poisson(image: np.ndarray, peak: float, *, seed: int = 0,
                clip: bool = False) -> np.ndarray:
    """Photon (shot) noise: counts ~ Poisson(peak * image), rescaled by ``peak``.

    ``peak`` is the photon count of a white pixel; the lower, the noisier.

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image.
    peak : float
        The expected photon count of a white pixel, in [0.01, 1e6]: the noise
        at grey level v has standard deviation sqrt(v / peak).
    seed : int
        Seed of the generator.
    clip : bool
        Clip the result to [0, 1] (counts above ``peak`` exceed 1 otherwise).

    Returns
    -------
    ndarray
        The noisy image, float32, the shape of ``image``.
    """
    clean = as_image(image, name="image")
    peak = _level("poisson", peak)
    rng = np.random.default_rng(seed)
    counts = rng.poisson(np.clip(clean, 0, None).astype(np.float64) * peak)
    return _clipped((counts / peak).astype(np.float32), clip)


def add_salt_pepper(image: np.ndarray, amount: float, *, seed: int = 0) -> np.ndarray:
    """Set a fraction ``amount`` of pixels to 0 or 1 at random (impulse noise).

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image.
    amount : float
        The fraction of pixels hit, in [0, 1]; half of them (at random) become
        0, half 1, in every channel at once.
    seed : int
        Seed of the generator.

    Returns
    -------
    ndarray
        The noisy image, float32, the shape of ``image``.
    """
    clean = as_image(image, name="image")
    amount = _level("salt_pepper", amount)
    rng = np.random.default_rng(seed)
    hit = rng.random(clean.shape[:2]) < amount
    salt = rng.random(clean.shape[:2]) < 0.5
    noisy = clean.copy()
    noisy[hit & salt] = 1.0
    noisy[hit & ~salt] = 0.0
    return noisy


def add_poisson_gaussian(image: np.ndarray, model: PoissonGaussian, *, seed: int = 0,
                         clip: bool = False) -> np.ndarray:
    """Poisson-Gaussian noise: ``a P(x / a) + N(0, b)``, variance ``a x + b`` at intensity x.

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image.
    model : PoissonGaussian
        The noise's ``a`` and ``b`` (:data:`PRESETS` has a phone's).
    seed : int
        Seed of the generator.
    clip : bool
        Clip the result to [0, 1], as a camera would.

    Returns
    -------
    ndarray
        The noisy image, float32, the shape of ``image``.
    """
    clean = np.clip(as_image(image, name="image"), 0, None).astype(np.float64)
    if not isinstance(model, PoissonGaussian):
        raise InvalidInput(f"the noise model must be a PoissonGaussian; got {model!r}")
    rng = np.random.default_rng(seed)
    shot = model.a * rng.poisson(clean / model.a) if model.a > 0 else clean
    noisy = shot + np.sqrt(model.b) * rng.standard_normal(clean.shape)
    return _clipped(noisy.astype(np.float32), clip)


def add_correlated(image: np.ndarray, sigma: float, *, seed: int = 0,
                   clip: bool = False) -> np.ndarray:
    """Correlated Gaussian noise: white noise blurred by :data:`DEMOSAIC_KERNEL`, scaled so
    that each pixel's noise has standard deviation ``sigma``.

    This is the grain of a photo a camera processed before it was saved: each
    grain covers about 3x3 pixels, so the finest wavelet band, where the
    usual estimator looks, holds little of it.

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image.
    sigma : float
        Each pixel's noise standard deviation on the [0, 1] scale, in [0, 1].
    seed : int
        Seed of the generator; each channel gets its own noise.
    clip : bool
        Clip the result to [0, 1].

    Returns
    -------
    ndarray
        The noisy image, float32, the shape of ``image``.
    """
    from scipy.ndimage import convolve

    clean = as_image(image, name="image")
    sigma = _level("correlated", sigma)
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(clean.shape)
    kernel = DEMOSAIC_KERNEL if clean.ndim == 2 else DEMOSAIC_KERNEL[..., None]
    grain = convolve(white, kernel, mode="wrap") * (sigma / np.linalg.norm(DEMOSAIC_KERNEL))
    return _clipped((clean + grain).astype(np.float32), clip)


def add_noise(image: np.ndarray, model: str, level: float | PoissonGaussian, *,
              seed: int = 0, clip: bool = False) -> Noisy:
    """Add noise of one of :data:`MODELS` and return it with its RMS sigma.

    ``level`` is sigma on the [0, 1] scale for ``"gaussian"`` and
    ``"correlated"``, the peak photon count for ``"poisson"``, the fraction of
    pixels hit for ``"salt_pepper"`` (always within [0, 1], so ``clip`` does
    not apply) and a :class:`PoissonGaussian` for ``"poisson_gaussian"``.

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image.
    model : str
        One of :data:`MODELS`.
    level : float or PoissonGaussian
        The model's level (:data:`LEVELS`): sigma on the [0, 1] scale, the
        peak photon count or the fraction of pixels hit; for
        ``"poisson_gaussian"``, its ``a`` and ``b``.
    seed : int
        Seed of the generator.
    clip : bool
        Clip the result to [0, 1] (Gaussian and Poisson noise).

    Returns
    -------
    Noisy
        The noisy image (float32) and the sigma a denoiser should be told.
    """
    clean = as_image(image, name="image")
    if model == "poisson_gaussian":
        rms = np.sqrt(np.mean(level.variance(clean))) if isinstance(level, PoissonGaussian) else 0
        return Noisy(add_poisson_gaussian(clean, level, seed=seed, clip=clip), float(rms))
    if model in ("gaussian", "correlated"):
        add = add_gaussian if model == "gaussian" else add_correlated
        return Noisy(add(clean, level, seed=seed, clip=clip), float(level))
    if model == "poisson":
        noisy = add_poisson(clean, level, seed=seed, clip=clip)
        return Noisy(noisy, float(np.sqrt(np.clip(clean, 0, None).mean() / level)))
    if model == "salt_pepper":
        noisy = add_salt_pepper(clean, level, seed=seed)
        expected_square = level * 0.5 * (clean**2 + (1 - clean) ** 2).mean()
        return Noisy(noisy, float(min(1.0, np.sqrt(expected_square))))
    raise InvalidInput(f"unknown noise model {model!r}; the models are: {', '.join(MODELS)}")


def estimate_sigma(image: np.ndarray) -> float:
    """Estimate the standard deviation of white Gaussian noise in ``image``.

    The robust wavelet estimator of Donoho & Johnstone (1994): the median
    absolute deviation of the finest diagonal wavelet coefficients divided by
    0.6745, averaged over the channels of a colour image
    (``skimage.restoration.estimate_sigma`` underneath).

    References
    ----------
    D. L. Donoho and I. M. Johnstone, "Ideal spatial adaptation by wavelet
    shrinkage", Biometrika 81(3), 1994. https://doi.org/10.1093/biomet/81.3.425
    """
    from skimage.restoration import estimate_sigma as _estimate

    noisy = as_image(image, name="image")
    if np.ptp(noisy) == 0:  # a flat image holds no noise (skimage gives NaN for all zeros)
        return 0.0
    channel_axis = -1 if noisy.ndim == 3 else None
    return float(_estimate(noisy, channel_axis=channel_axis, average_sigmas=True))


def _level(model: str, value: object) -> float:
    """``value`` checked against the spec of ``model``'s level (:data:`LEVELS`)."""
    name = LEVELS[model].name
    return check_params((LEVELS[model],), {name: value}, f"{model} noise")[name]


def _clipped(noisy: np.ndarray, clip: bool) -> np.ndarray:
    return np.clip(noisy, 0.0, 1.0) if clip else noisy
