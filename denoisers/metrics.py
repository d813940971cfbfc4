"""Image-quality metrics: PSNR, SSIM and method noise.

PSNR and SSIM come from ``skimage.metrics`` with the data range always given
(1.0 for float images in [0, 1]) and SSIM in the settings of Wang, Bovik,
Sheikh & Simoncelli (2004): an 11x11 Gaussian window of standard deviation
1.5, K1 = 0.01, K2 = 0.03 and population (not sample) covariances. Colour
SSIM is the mean over the RGB channels.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

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
    a, b = _pair(clean, estimate)
    return float(peak_signal_noise_ratio(a, b, data_range=DATA_RANGE))


def ssim(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Structural similarity index (Wang et al. 2004) between two images."""
    return float(_ssim(clean, estimate, full=False))


def ssim_map(clean: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """The local SSIM at every pixel, shape (H, W) (mean over channels for colour)."""
    _, local = _ssim(clean, estimate, full=True)
    local = np.asarray(local, dtype=np.float32)
    return local.mean(axis=-1) if local.ndim == 3 else local


def method_noise(noisy: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """What a method removed: ``noisy - estimate`` (Buades, Coll & Morel 2005).

    For a good denoiser it looks like noise; structure in it is image content
    the method destroyed.
    """
    a, b = _pair(noisy, estimate)
    return a - b


def _ssim(clean: np.ndarray, estimate: np.ndarray, *, full: bool):
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


def blur_to_psnr(clean: np.ndarray, target: float, *, iterations: int = 30) -> np.ndarray:
    """The clean image Gaussian-blurred until its PSNR falls to ``target`` dB.

    A teaching aid: two images with the same PSNR, one noisy and one
    blurred, have very different SSIM. The blur width (in pixels, up to 20)
    is found by bisection, as PSNR falls monotonically with it; a target the
    widest blur cannot reach returns that widest blur.
    """
    from scipy.ndimage import gaussian_filter

    image = as_image(clean, name="clean")
    axes = (1.0, 1.0, 0.0)[: image.ndim]
    low, high = 0.0, 20.0
    for _ in range(iterations):
        width = (low + high) / 2
        if psnr(image, gaussian_filter(image, [width * a for a in axes], mode="reflect")) > target:
            low = width
        else:
            high = width
    return gaussian_filter(image, [high * a for a in axes], mode="reflect")
