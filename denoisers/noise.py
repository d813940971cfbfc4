"""Noise models and noise-level estimation.

Every model is seeded and explicit: the same image, level and seed give the
same noisy image, bit for bit. Images are float32 in [0, 1]; ``clip=True``
clips the noisy image back to [0, 1] as a camera would, which biases dark and
bright regions and changes every comparison, so it is always a visible choice.
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
}

#: The noise models the site offers.
MODELS = tuple(LEVELS)


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


def add_noise(image: np.ndarray, model: str, level: float, *, seed: int = 0,
              clip: bool = False) -> Noisy:
    """Add noise of one of :data:`MODELS` and return it with its RMS sigma.

    ``level`` is sigma on the [0, 1] scale for ``"gaussian"``, the peak
    photon count for ``"poisson"`` and the fraction of pixels hit for
    ``"salt_pepper"`` (always within [0, 1], so ``clip`` does not apply).

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The clean image, float in [0, 1] or an integer image.
    model : str
        One of :data:`MODELS`: ``"gaussian"``, ``"poisson"``, ``"salt_pepper"``.
    level : float
        The model's level (:data:`LEVELS`): sigma on the [0, 1] scale, the
        peak photon count, or the fraction of pixels hit.
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
    if model == "gaussian":
        return Noisy(add_gaussian(clean, level, seed=seed, clip=clip), float(level))
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
