"""Image-quality metrics: PSNR, SSIM and method noise.

PSNR and SSIM come from ``skimage.metrics`` with the data range always given
(1.0 for float images in [0, 1]) and SSIM in the settings of Wang, Bovik,
Sheikh & Simoncelli (2004): an 11x11 Gaussian window of standard deviation
1.5, K1 = 0.01, K2 = 0.03 and population (not sample) covariances. Colour
SSIM is the mean over the RGB channels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft

from .core import InvalidInput, as_image

DATA_RANGE = 1.0

#: How SSIM is computed, in words, for any page that shows it.
SSIM_SETTINGS = (
    "SSIM as in Wang et al. 2004: Gaussian window with standard deviation 1.5, "
    "K1 = 0.01, K2 = 0.03, population covariances, data range 1; colour images "
    "average the R, G and B channels."
)


def psnr(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB, ``10 log10(1 / MSE)`` for images in [0, 1].

    The estimate is compared as it is (not clipped); identical images give inf.
    """
    from skimage.metrics import peak_signal_noise_ratio  # deferred: it imports scipy.stats

    a, b = _pair(clean, estimate)
    with np.errstate(divide="ignore"):  # identical images: inf, without a warning
        return float(peak_signal_noise_ratio(a, b, data_range=DATA_RANGE))


def ssim(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Structural similarity index (Wang et al. 2004) between two images."""
    return float(_ssim(clean, estimate, full=False))


def ssim_map(clean: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """The local SSIM at every pixel, shape (H, W) (mean over channels for colour)."""
    return ssim_with_map(clean, estimate)[1]


def ssim_with_map(clean: np.ndarray, estimate: np.ndarray) -> tuple[float, np.ndarray]:
    """:func:`ssim` and :func:`ssim_map` from one computation of the local statistics.

    The index is the mean of the map away from a border of half the 11x11
    window (5 pixels), as scikit-image computes it; for colour, the mean
    over channels of each channel's index, and the map is the channel mean.
    """
    index, local = _ssim(clean, estimate, full=True)
    local = np.asarray(local, dtype=np.float32)
    return float(index), (local.mean(axis=-1) if local.ndim == 3 else local)


def method_noise(noisy: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """What a method removed: ``noisy - estimate`` (Buades, Coll & Morel 2005).

    For a good denoiser it looks like noise; structure in it is image content
    the method destroyed.
    """
    a, b = _pair(noisy, estimate)
    return a - b


def _ssim(clean: np.ndarray, estimate: np.ndarray, *, full: bool):
    from skimage.metrics import structural_similarity  # deferred: it imports scipy.stats

    a, b = _pair(clean, estimate)
    return structural_similarity(
        a, b, data_range=DATA_RANGE, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, channel_axis=-1 if a.ndim == 3 else None, full=full,
    )


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = as_image(a, name="reference"), as_image(b, name="estimate")
    if a.shape != b.shape:
        raise InvalidInput(f"images must have the same shape; got {a.shape} and {b.shape}")
    return a, b


#: How close, in dB, :func:`blur_to_psnr` brings the PSNR to its target when it can.
MATCH_TOLERANCE_DB = 0.01


@dataclass(frozen=True)
class PsnrMatch:
    """A clean image degraded to a chosen PSNR: blurred and, if need be, shifted in brightness.

    Attributes
    ----------
    image : ndarray, float32
        The degraded image, same shape as the clean one, in [0, 1].
    width : float
        Standard deviation in pixels of the Gaussian blur applied.
    shift : float
        Brightness added to every pixel after the blur, on the [0, 1] scale
        (negative: darker), before clipping to [0, 1]; 0 when the blur alone
        reached the target.
    psnr : float
        The PSNR of ``image`` against the clean image, in dB.
    target : float
        The PSNR asked for, in dB.
    """

    image: np.ndarray
    width: float
    shift: float
    psnr: float
    target: float

    @property
    def matched(self) -> bool:
        """Whether ``psnr`` is within :data:`MATCH_TOLERANCE_DB` of ``target``."""
        if math.isinf(self.target) or math.isinf(self.psnr):
            return self.target == self.psnr
        return abs(self.psnr - self.target) <= MATCH_TOLERANCE_DB

    @property
    def shortfall(self) -> float:
        """How far above the target the PSNR stayed, in dB (0 when matched)."""
        return 0.0 if self.matched else self.psnr - self.target


def blur_to_psnr(clean: np.ndarray, target: float, *, max_width: float | None = None
                 ) -> PsnrMatch:
    """The clean image blurred, and shifted in brightness if need be, down to ``target`` dB.

    A teaching aid: two images with the same PSNR, one noisy and one
    blurred, have very different SSIM.

    Parameters
    ----------
    clean : ndarray, shape (H, W) or (H, W, 3)
        The clean image, in [0, 1].
    target : float
        The PSNR to reach, in dB; ``inf`` returns the image unchanged.
    max_width : float, optional
        The widest blur used, as a standard deviation in pixels; ``None``
        takes 1/32 of the shorter side (16 pixels at 512x512), beyond which
        the image is no longer a picture but a few blobs.

    Returns
    -------
    PsnrMatch
        The image, the blur width and brightness shift used, and the PSNR
        reached: within :data:`MATCH_TOLERANCE_DB` of ``target`` unless
        ``matched`` is False.

    Notes
    -----
    The blur is a Gaussian of standard deviation ``width`` with mirrored
    borders, computed in the DCT-II domain, where it multiplies coefficient
    (k, l) by ``exp(-2 pi² width² ((k / 2H)² + (l / 2W)²))``, the frequency
    response of a continuous Gaussian. From a width of about 1.5 pixels on
    it is ``scipy.ndimage.gaussian_filter`` in mode ``"reflect"`` (without
    truncating the kernel) to within 1e-6; narrower, the sampled kernel
    that scipy uses blurs a little less. The orthonormal DCT keeps sums of
    squares (Parseval), so the MSE of any width is a weighted sum of the
    squared coefficients, and the width that meets the target is found by
    root finding (Brent) on it without blurring the image once per trial.

    The MSE grows with the width, but only up to the image's variance (the
    limit is a flat image at its mean), so a blur alone cannot fall below
    ``10 log10(1 / var)`` dB, and the widest blur allowed, ``max_width``,
    stops well before that. Below what ``max_width`` reaches, every pixel
    of the widest blur is shifted by the same amount, towards white or
    black, whichever leaves more room, and clipped to [0, 1]; the shift is
    found by root finding too. Even a shift all the way to a uniform white
    (or black) image has a finite MSE, ``mean((1 - clean)²)`` (or
    ``mean(clean²)``): a lower target cannot be reached, and then
    ``image`` is that uniform image and ``matched`` is False. Gaussian
    noise of sigma 100 on the 0-255 scale (8.1 dB) is matched on the
    sample images; Poisson noise at a peak of one photon can be out of
    reach (camera at 512: 2.97 dB, against 4.69 dB for a uniform black
    image).
    """
    image = as_image(clean, name="clean")
    if isinstance(target, bool) or not isinstance(target, int | float | np.integer | np.floating) \
            or math.isnan(target):
        raise InvalidInput(f"target must be a PSNR in dB (a number, inf for no change); "
                           f"got {target!r}")
    target = float(target)
    height, width_px = image.shape[:2]
    if max_width is None:
        max_width = min(height, width_px) / 32.0
    if not isinstance(max_width, int | float | np.integer | np.floating) or not max_width > 0:
        raise InvalidInput(f"max_width must be a positive number of pixels; got {max_width!r}")
    if target == math.inf:
        return PsnrMatch(image.copy(), 0.0, 0.0, math.inf, math.inf)
    want = 10.0 ** (-target / 10.0)  # the target MSE on the [0, 1] scale
    from scipy import optimize  # deferred: the rest of the module does not need it

    x = image.astype(np.float64)
    coefficients = fft.dctn(x, type=2, norm="ortho", axes=(0, 1))
    power = coefficients**2 if x.ndim == 2 else (coefficients**2).sum(axis=2)
    fy2 = (np.arange(height) / (2.0 * height)) ** 2
    fx2 = (np.arange(width_px) / (2.0 * width_px)) ** 2

    def gain(w: float) -> np.ndarray:
        spread = -2.0 * np.pi**2 * w * w
        return np.outer(np.exp(spread * fy2), np.exp(spread * fx2))

    def blur_mse(w: float) -> float:
        return float(np.sum(power * (1.0 - gain(w)) ** 2) / x.size)

    def blurred(w: float) -> np.ndarray:
        g = gain(w)
        return fft.idctn(coefficients * (g if x.ndim == 2 else g[..., None]), type=2,
                         norm="ortho", axes=(0, 1))

    shift = 0.0
    if blur_mse(max_width) >= want:
        width = optimize.brentq(lambda w: blur_mse(w) - want, 0.0, float(max_width),
                                xtol=1e-9, rtol=1e-10)
        out = blurred(width)
    else:
        width = float(max_width)
        base = np.clip(blurred(width), 0.0, 1.0)
        sign = 1.0 if np.mean((1.0 - x) ** 2) >= np.mean(x**2) else -1.0

        def shifted_mse(d: float) -> float:
            return float(np.mean((np.clip(base + sign * d, 0.0, 1.0) - x) ** 2))

        if shifted_mse(1.0) <= want:
            shift = sign
        else:
            shift = sign * optimize.brentq(lambda d: shifted_mse(d) - want, 0.0, 1.0,
                                           xtol=1e-12, rtol=1e-10)
        out = base + shift
    result = np.clip(out, 0.0, 1.0).astype(np.float32)
    return PsnrMatch(result, float(width), float(shift), psnr(image, result), target)
