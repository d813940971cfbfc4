"""Local filters: Gaussian smoothing, the Wiener filter, the median and the bilateral filter.

The first two are *linear*: each output pixel is a fixed weighted sum of
input pixels, i.e. a multiplication of the spectrum by a gain. The last two
are *robust*: the median ignores outliers in a window, and the bilateral
filter weights each neighbour by how similar it is, so that edges survive.

Every default that depends on the noise level (the Gaussian width, the median
radius, the bilateral widths) is a rule fitted to PSNR-optimal values measured
on twelve scikit-image sample images (camera, astronaut, coffee, chelsea,
brick, moon, text, grass, gravel, page, coins, rocket; colour ones converted
to grey) at sigma = 5, 10, 15, 25, 35, 50, 75 and 100 on the 0-255 scale; the
measurements are summarised in each function's Notes.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft, ndimage

from .core import Float, Int, Method, Param, Progress, Result, View, report, validated

LINEAR = "Linear filters"
ROBUST = "Robust & edge-preserving"

#: Number of radial frequency bins of the gain curves (0 to 0.5 cycles/pixel).
_RADIAL_BINS = 64
#: Side of the grid on which the Gaussian kernel's frequency response is shown.
_RESPONSE_SIDE = 128
#: The most samples a side of the Wiener filter's spectra as the trace shows them.
_SPECTRUM_SIDE = 256


# --------------------------------------------------------------------------- helpers

def _disk(radius: int) -> np.ndarray:
    """Boolean disk footprint of the given radius: offsets with dy² + dx² <= radius²."""
    dy, dx = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    return dy * dy + dx * dx <= radius * radius


def _neighbourhood(image: np.ndarray, probe: tuple[int, int], radius: int) -> np.ndarray:
    """The (2r+1)² patch centred on ``probe``, mirrored across the borders."""
    row, col = probe
    padded = np.pad(image, radius, mode="symmetric")
    return padded[row:row + 2 * radius + 1, col:col + 2 * radius + 1].copy()


def _radial_frequencies() -> np.ndarray:
    """The frequencies (cycles/pixel) at which :func:`_radial_average` samples."""
    return np.linspace(0.0, 0.5, _RADIAL_BINS)


#: The x axis of the radial curves, in the form views expect in ``extras["curve_x"]``.
_FREQUENCY_AXIS = ("frequency (cycles per pixel)", _radial_frequencies())


def _radial_average(centred: np.ndarray) -> np.ndarray:
    """Average a centred (fftshifted) spectrum over rings of equal frequency |f|.

    Returns the mean over each ring at :func:`_radial_frequencies`; rings
    that hold no sample (tiny images) are interpolated from their neighbours.
    """
    fy = fft.fftshift(fft.fftfreq(centred.shape[0]))[:, None]
    fx = fft.fftshift(fft.fftfreq(centred.shape[1]))[None, :]
    return _ring_mean(centred, np.hypot(fy, fx))


def _ring_mean(values: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    """Mean of ``values`` over rings of equal ``frequency`` (cycles/pixel, same shape)."""
    ring = np.rint(frequency / 0.5 * (_RADIAL_BINS - 1)).astype(int)
    inside = ring < _RADIAL_BINS
    sums = np.bincount(ring[inside], weights=values[inside], minlength=_RADIAL_BINS)
    counts = np.bincount(ring[inside], minlength=_RADIAL_BINS)
    freqs = _radial_frequencies()
    filled = counts > 0
    return np.interp(freqs, freqs[filled], sums[filled] / counts[filled]).astype(np.float32)


def _log_power(power: np.ndarray) -> np.ndarray:
    """log10 of a (non-negative) power spectrum, with a floor at 1e-10."""
    return np.log10(np.maximum(power, 1e-10)).astype(np.float32)


def _centred_view(quadrant: np.ndarray, side: int = _SPECTRUM_SIDE) -> np.ndarray:
    """A spectrum given on its first quadrant, shown whole with zero frequency in the centre.

    ``quadrant[k, l]`` is the value at frequency (k / 2H, l / 2W) cycles per
    pixel, 0 to 0.5 along each axis, of a spectrum symmetric in both axes
    (the DCT's). It is averaged over blocks to at most ``side / 2`` samples
    a side, then mirrored about both zero frequencies: at most ``side`` x
    ``side`` values, whatever the image size (a picture of a spectrum, not
    data to compute with: a 1024x1024 heatmap costs the browser seconds).
    """
    half = side // 2
    fy, fx = -(-quadrant.shape[0] // half), -(-quadrant.shape[1] // half)
    rows, cols = -(-quadrant.shape[0] // fy), -(-quadrant.shape[1] // fx)
    padded = np.pad(quadrant, ((0, rows * fy - quadrant.shape[0]),
                               (0, cols * fx - quadrant.shape[1])), mode="edge")
    blocks = padded.reshape(rows, fy, cols, fx).mean(axis=(1, 3))
    top = np.concatenate([blocks[::-1, ::-1], blocks[::-1, :]], axis=1)
    bottom = np.concatenate([blocks[:, ::-1], blocks], axis=1)
    return np.concatenate([top, bottom], axis=0).astype(np.float32)


def _symmetric_smoothing(quadrant: np.ndarray, width: float) -> np.ndarray:
    """Gaussian smoothing, ``width`` samples, of a spectrum given on its first quadrant.

    ``quadrant`` holds samples 0..H (0..W) of a spectrum of period 2H (2W)
    along each axis that is even about 0 and about H (W): the periodogram of
    an image extended by its mirror images. The result is exactly
    ``scipy.ndimage.gaussian_filter(full, width, mode="wrap")`` on the whole
    (2H, 2W) period, restricted to the quadrant, computed by a type-1 DCT
    (the transform of such even sequences), which turns the convolution
    into a product.
    """
    if width <= 0:
        return quadrant
    radius = int(4.0 * width + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / width) ** 2)
    taps /= taps.sum()
    spectrum = fft.dctn(quadrant, type=1)
    for axis in (0, 1):
        period = 2 * (quadrant.shape[axis] - 1)
        k = np.arange(quadrant.shape[axis])[:, None]
        gain = (taps[None, :] * np.cos(2.0 * np.pi * k * np.arange(-radius, radius + 1)[None, :]
                                       / period)).sum(axis=1)
        shape = [1, 1]
        shape[axis] = -1
        spectrum *= gain.reshape(shape)
    return fft.idctn(spectrum, type=1)


# --------------------------------------------------------------------------- Gaussian

def gaussian_width(sigma: float) -> float:
    """The default Gaussian width (pixels) for noise ``sigma`` on the [0, 1] scale."""
    return round(min(10.0, 0.3 + 0.027 * 255.0 * sigma), 2)


#: The parameters of :func:`gaussian`, checked by every call (its Method's spec).
GAUSSIAN: tuple[Param, ...] = (
    Float("width", 0.3, 10.0, step=0.1, rule=gaussian_width,
          help=("Standard deviation of the bell-shaped kernel, in pixels. Wider removes "
                "more noise and blurs more. Auto: 0.3 + 0.027 x sigma (sigma on 0-255).")),
)


@validated(GAUSSIAN)
def gaussian(noisy: np.ndarray, sigma: float, *, width: float | None = None,
             trace: bool = False, progress: Progress | None = None) -> Result:
    """Smooth with a Gaussian kernel: a low-pass linear filter.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the default width.
    width : float, optional
        Standard deviation of the kernel in pixels; ``None`` applies
        :func:`gaussian_width`.
    trace : bool
        Also return the kernel, its frequency response and its radial profile.
    progress : callable, optional
        Receives 1.0 when done (the filter takes milliseconds).

    Returns
    -------
    Result
        ``image``: the smoothed image. With ``trace``: stages ``"kernel"``
        (the 2-D kernel, summing to 1) and ``"frequency response"`` (the
        gain ``|H(f)|`` on a 128x128 grid, zero frequency in the centre);
        curve ``"radial frequency response"`` (the gain against frequency,
        sampled at the frequencies in ``extras["curve_x"]``, 0 to 0.5 cycles/pixel).

    Notes
    -----
    Each output pixel is a weighted average of its neighbours, with weights
    falling off as a bell curve of standard deviation ``width``. Averaging n
    independent noisy values divides the noise variance by about n, but
    every edge and texture finer than the kernel is blurred in the same way:
    the filter cannot tell noise from detail, it only removes high
    frequencies (its gain is ``exp(-2 pi² width² f²)``).

    Cost: O(HW·width) with the separable ``scipy.ndimage.gaussian_filter``
    (mirror boundary, kernel truncated at 4 widths).

    Default: ``width = 0.3 + 0.027 sigma_255`` (sigma_255 = 255·sigma),
    capped at 10. The PSNR-optimal width, median over the twelve sample
    images, was 0.44, 0.58, 0.70, 0.96, 1.24, 1.59, 2.07, 2.53 at sigma_255 =
    5, 10, 15, 25, 35, 50, 75, 100; the line is the one with the least mean
    PSNR loss to each image's own optimum (0.74 dB; fitted without any one
    of the images, the intercept stays in [0.28, 0.31] and the slope in
    [0.024, 0.029]). Smooth images want more (moon: 2.6 at sigma_255 = 25,
    where the rule loses 4 dB on it), textures less (grass: 0.6).

    References
    ----------
    R. C. Gonzalez and R. E. Woods, *Digital Image Processing*, 4th ed.,
    Pearson, 2018, ch. 3.5 (smoothing spatial filters).
    A. Rosenfeld, *Picture Processing by Computer*, Academic Press, 1969.
    T. Lindeberg, *Scale-Space Theory in Computer Vision*, Springer, 1994.
    https://doi.org/10.1007/978-1-4757-6465-9

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.linear import gaussian
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = gaussian(noisy, 25 / 255).image  # width from sigma (gaussian_width)
    >>> psnr(clean, out) > psnr(clean, noisy) + 3
    True

    A wider kernel removes more noise but blurs the edges more, and loses:

    >>> psnr(clean, gaussian(noisy, 25 / 255, width=4.0).image) < psnr(clean, out)
    True
    """
    width = gaussian_width(sigma) if width is None else width
    image = ndimage.gaussian_filter(noisy, width, mode="reflect")
    result = Result(image.astype(np.float32))
    if trace:
        radius = int(4.0 * width + 0.5)
        delta = np.zeros((2 * radius + 1, 2 * radius + 1), np.float64)
        delta[radius, radius] = 1.0
        kernel = ndimage.gaussian_filter(delta, width, mode="constant")
        response = np.abs(fft.fftshift(fft.fft2(kernel, s=(_RESPONSE_SIDE, _RESPONSE_SIDE))))
        result.stages = {"kernel": kernel.astype(np.float32),
                         "frequency response": response.astype(np.float32)}
        result.curves = {"radial frequency response": _radial_average(response)}
        result.extras["curve_x"] = _FREQUENCY_AXIS
    report(progress, 1.0)
    return result


# --------------------------------------------------------------------------- Wiener

#: The parameters of :func:`wiener`, checked by every call (its Method's spec).
WIENER: tuple[Param, ...] = (
    Float("smoothing", 0.0, 8.0, default=6.0, step=0.25,
          help=("How much the noisy spectrum is averaged over neighbouring frequencies "
                "before the noise power is subtracted (in frequency samples). 0 uses "
                "the raw, very noisy spectrum: the gain is speckled and so is the "
                "result. It matters most below 4; above that the estimate hardly "
                "changes (6 is about the best on average).")),
    Float("noise_factor", 0.25, 4.0, default=1.0, step=0.05,
          help=("Multiplies the assumed noise power: above 1 removes more noise and "
                "more detail, below 1 keeps more of both.")),
)


@validated(WIENER)
def wiener(noisy: np.ndarray, sigma: float, *, smoothing: float = 6.0,
           noise_factor: float = 1.0, trace: bool = False,
           progress: Progress | None = None) -> Result:
    """Empirical Wiener filter: attenuate each frequency by its estimated signal-to-noise ratio.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale.
    smoothing : float
        Standard deviation, in frequency samples of the mirror-extended
        (2H, 2W) spectrum, of the Gaussian that averages the noisy power
        spectrum before the noise is subtracted (0: the raw periodogram).
        It matters most from 0 to about 4; see the Notes.
    noise_factor : float
        Multiplies the noise power sigma²: above 1 removes more noise and
        more detail, below 1 less.
    trace : bool
        Also return the spectra and the gain.
    progress : callable, optional
        Receives 1.0 when done (the filter takes milliseconds).

    Returns
    -------
    Result
        ``image``: the filtered image. With ``trace``: stages ``"noisy
        spectrum"`` and ``"estimated signal spectrum"`` (log10 of power per
        pixel) and ``"gain"`` (H(f) in [0, 1]), pictures of the spectrum of
        the mirror-extended image with zero frequency in the centre: the
        frequencies from -0.5 to 0.5 cycles/pixel, averaged over blocks to
        at most 256x256 values (the full (2H, 2W) grid up to 256 a side;
        log10 of the block's mean power); curve ``"radial gain"`` (the ring
        average of the gain, at full resolution, at ``extras["curve_x"]``,
        0 to 0.5 cycles/pixel).

    Notes
    -----
    A natural image's power is concentrated at low frequencies, while white
    noise spreads the same power sigma² over every frequency. The Wiener
    gain ``H(f) = S(f) / (S(f) + sigma²)`` keeps the frequencies where the
    signal power S dominates and silences those where noise dominates; it
    is the linear filter with the least mean squared error when S is known.
    Here S is estimated from the noisy image by spectral subtraction:
    ``S = max(P - sigma², 0)`` with P the smoothed periodogram, so that
    ``H = max(1 - sigma² / P, 0)``. Fine detail whose power is below the
    noise floor (texture, thin edges) is removed with the noise; the gain
    is the same everywhere in the image, so edges ring slightly.

    The image is extended by mirror images of itself to twice its size, so
    the borders join without jumps that would leak power across the
    spectrum. That is what the DCT-II does: the image's DCT coefficients
    are, up to a phase, the DFT of the (2H, 2W) mirror extension, whose
    spectrum is symmetric about both axes, and a filter with such a
    symmetric gain acts on the DCT coefficients as it would on the
    extension's DFT. So the filter is computed on the (H, W) DCT, and the
    periodogram is smoothed on its (H+1, W+1) quadrant with a type-1 DCT
    (:func:`_symmetric_smoothing`), exactly as a wrap-around Gaussian
    smoothing of the whole (2H, 2W) periodogram would.

    Cost: a DCT of the image and its inverse, and a type-1 DCT of the
    periodogram and its inverse, O(HW log HW) whatever the smoothing
    (about 50 ms at 512x512 on one CPU core).

    The default ``smoothing = 6`` samples and ``noise_factor = 1`` were
    chosen on the twelve sample images: on the full images (172 to 640
    pixels a side) the mean PSNR varies by at most 0.15 dB for smoothing in [5, 12] at
    sigma_255 = 10 to 50 (0.4 dB at 100, which prefers 12), and on 128x128
    crops 4-6 is best; the raw periodogram (smoothing 0) is 3-7 dB worse; a
    noise factor of 1.3 or more lowers the mean PSNR at sigma_255 = 10 to
    50. Smoothing the log spectrum or
    averaging it over rings of equal frequency (an isotropic spectrum) were
    both worse on average. Where the smoothing matters: the mean PSNR over
    eight sample images at the site's working size of 512 (camera,
    astronaut, moon, brick, coins, grass, text, coffee; colour ones as the
    mean of their channels) at smoothing 0, 0.5, 1, 2, 3, 4, 6, 10, 20
    was 23.55, 24.37, 26.54, 27.95, 28.33, 28.47, 28.56, 28.59, 28.50 dB at
    sigma_255 = 25 and 12.62, 13.75, 17.56, 21.03, 22.30, 22.85, 23.29,
    23.48, 23.29 at sigma_255 = 100: almost all the change lies below 4,
    so the site's slider stops at 8. The noise factor moves the mean PSNR
    at sigma_255 = 25 from 22.13 dB (0.25) through 28.56 (1) to 26.22 (4).

    References
    ----------
    N. Wiener, *Extrapolation, Interpolation, and Smoothing of Stationary
    Time Series, with Engineering Applications*, Technology Press of MIT and
    Wiley, 1949.
    J. S. Lim, *Two-Dimensional Signal and Image Processing*, Prentice Hall,
    1990, ch. 9.2 (Wiener filtering, spectral subtraction).

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.linear import wiener
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = wiener(noisy, 25 / 255).image
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 3
    True
    """
    height, width = noisy.shape
    image = noisy.astype(np.float64)
    mean = image.mean()
    # The DCT-II of the image is, up to a phase, the DFT of its mirror
    # extension to (2H, 2W): the quadrant 0..H, 0..W of that spectrum (the
    # rest is its mirror image; row H and column W are 0).
    coefficients = fft.dctn(image - mean, type=2)
    periodogram = np.zeros((height + 1, width + 1))
    periodogram[:height, :width] = coefficients**2 / (4.0 * height * width)
    power = _symmetric_smoothing(periodogram, smoothing)
    noise = noise_factor * sigma * sigma
    signal = np.maximum(power - noise, 0.0)
    gain = signal / np.maximum(signal + noise, 1e-20)
    filtered = fft.idctn(coefficients * gain[:height, :width], type=2) + mean
    result = Result(filtered.astype(np.float32))
    if trace:
        shown = np.s_[:height, :width]  # row H and column W (the highest frequency) left out
        result.stages = {"noisy spectrum": _log_power(_centred_view(periodogram[shown])),
                         "estimated signal spectrum": _log_power(_centred_view(signal[shown])),
                         "gain": _centred_view(gain[shown])}
        frequency = np.hypot(np.arange(height + 1)[:, None] / (2.0 * height),
                             np.arange(width + 1)[None, :] / (2.0 * width))
        result.curves = {"radial gain": _ring_mean(gain, frequency)}
        result.extras["curve_x"] = _FREQUENCY_AXIS
    report(progress, 1.0)
    return result


# --------------------------------------------------------------------------- median

def median_radius(sigma: float) -> int:
    """The default median radius (pixels) for noise ``sigma`` on the [0, 1] scale."""
    return int(min(7, max(1, round(0.075 * 255.0 * sigma))))


#: The parameters of :func:`median`, checked by every call (its Method's spec).
MEDIAN: tuple[Param, ...] = (
    Int("radius", 1, 7, rule=median_radius,
        help=("Radius of the disk-shaped window, in pixels. Larger removes more noise "
              "and more detail. Auto: 0.075 x sigma rounded (sigma on 0-255), 1 to 7.")),
)


@validated(MEDIAN)
def median(noisy: np.ndarray, sigma: float, *, radius: int | None = None,
           trace: bool = False, progress: Progress | None = None) -> Result:
    """Replace each pixel by the median of the pixels in a disk around it.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the default radius.
    radius : int, optional
        Radius of the disk in pixels; ``None`` applies :func:`median_radius`.
    trace : bool
        Also return the footprint; :func:`median_window` shows one pixel's window.
    progress : callable, optional
        Receives 1.0 when done (at most about a second).

    Returns
    -------
    Result
        ``image``: the filtered image. With ``trace``: stage ``"footprint"``
        (the disk, 1 inside).

    Notes
    -----
    The median of a window is the middle value once they are sorted: a few
    outliers (salt-and-pepper specks) cannot move it, and a straight edge
    through the window keeps its place, because more than half the pixels
    lie on one side. It removes Gaussian noise less well than an average of
    the same size, and it rounds corners, erases lines thinner than the
    radius and flattens gentle ramps into terraces.

    Cost: O(HW·r²) comparisons (``scipy.ndimage.median_filter`` with a disk
    footprint, mirror boundary).

    Default: ``radius = round(0.075 * sigma_255)`` clipped to [1, 7],
    sigma_255 = 255·sigma. The PSNR-optimal radius, median over the twelve
    sample images, was 1, 1, 2, 2, 3, 3.5, 5.5, 6 at sigma_255 = 5, 10, 15,
    25, 35, 50, 75, 100; among rules ``round(a + b sigma_255)`` the one
    above has the least mean PSNR loss to each image's optimum (0.48 dB),
    and leaving any one image out of the fit changes it at most by one step.

    References
    ----------
    J. W. Tukey, "Nonlinear (nonsuperposable) methods for smoothing data",
    Conference Record EASCON 1974, p. 673.
    J. W. Tukey, *Exploratory Data Analysis*, Addison-Wesley, 1977 (running
    medians).
    T. S. Huang, G. J. Yang and G. Y. Tang, "A fast two-dimensional median
    filtering algorithm", IEEE Trans. Acoust., Speech, Signal Process. 27(1),
    1979. https://doi.org/10.1109/TASSP.1979.1163188

    Examples
    --------
    The median shines on impulse noise, where averaging filters smear each
    outlier over its neighbours:

    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.linear import gaussian, median
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> hit = noise.add_noise(clean, "salt_pepper", 0.1, seed=0)  # 10% of pixels hit
    >>> out = median(hit.image, hit.sigma).image
    >>> psnr(clean, out) > psnr(clean, hit.image) + 5
    True
    >>> psnr(clean, out) > psnr(clean, gaussian(hit.image, hit.sigma).image)
    True
    """
    radius = median_radius(sigma) if radius is None else radius
    footprint = _disk(radius)
    image = ndimage.median_filter(noisy, footprint=footprint, mode="reflect")
    result = Result(image.astype(np.float32))
    if trace:
        result.stages = {"footprint": footprint.astype(np.float32)}
        result.extras["display"] = {"window": "image"}
    report(progress, 1.0)
    return result


def median_window(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
                  radius: int | None = None) -> View:
    """The median's view of pixel ``probe``: its window and the sorted values in the disk.

    Returns stage ``"window"`` (the noisy (2r+1)² patch around ``probe``,
    mirrored at the borders) and ``extras["window"]``: ``{"probe", "values",
    "median"}``, the sorted values inside the footprint and the one picked,
    which is ``result.image`` at ``probe``.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy image the traced run was given, float32 on the [0, 1]
        scale (for a grey method on a colour image, its luminance).
    sigma : float
        Its noise standard deviation, on the [0, 1] scale.
    result : Result
        What :func:`median` returned for ``noisy`` and ``sigma`` with
        ``trace=True`` and the same parameters.
    probe : (row, col)
        The pixel to look at, inside the image.
    radius : int, optional
        As for :func:`median`: the traced run's disk radius in pixels;
        ``None`` applies :func:`median_radius`.
    """
    radius = median_radius(sigma) if radius is None else radius
    window = _neighbourhood(noisy, probe, radius)
    values = np.sort(window[_disk(radius)])
    return View(stages={"window": window},
                extras={"window": {"probe": probe, "values": values,
                                   "median": float(values[values.size // 2])}})


# --------------------------------------------------------------------------- bilateral

#: The widest spatial weights offered (pixels): the window's area, and the time, grow as
#: its square (see :func:`bilateral`).
_MAX_SPACE = 6.0


def bilateral_space(sigma: float) -> float:
    """The default spatial width (pixels) for noise ``sigma`` on the [0, 1] scale."""
    return round(min(_MAX_SPACE, 1.2 + 0.02 * 255.0 * sigma), 2)


def bilateral_range(sigma: float) -> float:
    """The default range width, in multiples of ``sigma``, for noise ``sigma`` on [0, 1]."""
    return round(min(10.0, 1.8 + 0.05 * 255.0 * sigma), 2)


#: The parameters of :func:`bilateral`, checked by every call (its Method's spec).
BILATERAL: tuple[Param, ...] = (
    Float("sigma_space", 0.5, _MAX_SPACE, step=0.1, rule=bilateral_space,
          help=("How far the averaging reaches: standard deviation of the distance "
                "weights, in pixels (the window is a disk of radius 2x this). The "
                "time grows with its square. Auto: 1.2 + 0.02 x sigma (sigma on "
                "0-255).")),
    Float("range_factor", 0.1, 10.0, step=0.1, rule=bilateral_range,
          help=("How different in brightness a neighbour may be and still count: "
                "standard deviation of the similarity weights, as a multiple of the "
                "noise sigma. Large values turn the filter into a plain Gaussian blur. "
                "Auto: 1.8 + 0.05 x sigma (sigma on 0-255).")),
)


@validated(BILATERAL)
def bilateral(noisy: np.ndarray, sigma: float, *, sigma_space: float | None = None,
              range_factor: float | None = None, trace: bool = False,
              progress: Progress | None = None) -> Result:
    """Average each pixel with the neighbours that are both near and similar in value.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the defaults and
        the range width.
    sigma_space : float, optional
        Standard deviation of the spatial Gaussian, in pixels; the window is
        the disk of radius ``ceil(2 sigma_space)``. ``None`` applies
        :func:`bilateral_space`.
    range_factor : float, optional
        The range Gaussian's standard deviation as a multiple of the noise
        sigma: ``sigma_range = range_factor * sigma``. ``None`` applies
        :func:`bilateral_range`.
    trace : bool
        Also return the spatial weights; :func:`bilateral_weights` shows one
        pixel's weights.
    progress : callable, optional
        Receives the fraction of the image's rows done.

    Returns
    -------
    Result
        ``image``: the filtered image; ``extras["sigma_range"]``: the range
        width on the [0, 1] scale. The weights of one pixel are
        :func:`bilateral_weights`' view of the traced result.

    Notes
    -----
    Like a Gaussian blur, it averages each pixel with its neighbours, but
    a neighbour's weight also falls with its difference in value: across an
    edge the other side differs by much more than the noise and is almost
    ignored, so edges stay sharp while flat regions are smoothed. Texture
    and faint detail whose contrast is close to the noise level are
    averaged away, and at high noise isolated noisy pixels survive because
    no neighbour resembles them.

    Cost: O(HW·r²): one vectorised pass over the image per pair of
    opposite window offsets (r = ceil(2 sigma_space); the range weight of
    p and p + o serves both offsets o and -o). It grows with the square of
    ``sigma_space``: about 0.05 s at 1.5 and 0.45 s at 6 at 512x512 on one
    busy CPU core, 1 s at 10. The site's slider stops at 6
    (:data:`_MAX_SPACE`): wider windows take seconds and only blur more,
    the mean PSNR of six sample images (camera, astronaut, moon, brick,
    grass, coffee; grey, 256 pixels a side) falling steadily past the best
    width (at sigma_255 = 25: 26.8 dB at 2, 24.5 at 6, 23.4 at 10).

    Default: ``sigma_space = 1.2 + 0.02 sigma_255`` and ``range_factor =
    1.8 + 0.05 sigma_255`` (sigma_255 = 255·sigma), capped at 6 and 10. They
    were fitted on a grid of sigma_space in [0.5, 6] by range_factor in
    [0.5, 7] on the twelve sample images: the pair shared by all images
    with the best mean PSNR was (1.25, 2), (1.25, 2.5), (1.5, 2.5), (1.5, 3),
    (2, 3), (2, 5), (3, 5), (4, 7) at sigma_255 = 5, 10, 15, 25, 35, 50, 75,
    100, and the two lines (chosen to minimise the mean PSNR loss to each
    image's own optimum, 0.54 dB) follow them. Smooth images (moon) want
    wider, textured ones (grass, gravel) narrower spatial weights. The
    range width of 2-3 sigma at low and moderate noise is in line with the
    study of Zhang & Gunturk (2008); it widens further at high noise, where
    the filter does best by coming closer to a plain Gaussian blur.

    References
    ----------
    C. Tomasi and R. Manduchi, "Bilateral filtering for gray and color
    images", Proc. ICCV 1998, pp. 839-846. https://doi.org/10.1109/ICCV.1998.710815
    M. Zhang and B. K. Gunturk, "Multiresolution bilateral filtering for
    image denoising", IEEE Trans. Image Process. 17(12), 2008.
    https://doi.org/10.1109/TIP.2008.2006658

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.linear import bilateral, gaussian
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = bilateral(noisy, 25 / 255).image
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))

    Its range weights keep the edges a Gaussian blur of the same noise level smears:

    >>> psnr(clean, out) > psnr(clean, gaussian(noisy, 25 / 255).image) + 1
    True
    """
    space, sigma_range = _bilateral_kernel(sigma, sigma_space, range_factor)
    image = _bilateral_sum(noisy, space, sigma_range, progress)
    result = Result(image, extras={"sigma_range": sigma_range})
    if trace:
        result.extras["display"] = {"window": "image"}
    return result


def _bilateral_kernel(sigma: float, sigma_space: float | None,
                      range_factor: float | None) -> tuple[np.ndarray, float]:
    """The spatial weights (a Gaussian on a disk of radius ceil(2 sigma_space)) and sigma_range."""
    sigma_space = bilateral_space(sigma) if sigma_space is None else sigma_space
    range_factor = bilateral_range(sigma) if range_factor is None else range_factor
    radius = math.ceil(2.0 * sigma_space)
    dy, dx = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    space = np.where(_disk(radius), np.exp(-(dy * dy + dx * dx) / (2.0 * sigma_space**2)), 0.0)
    return space, max(range_factor * sigma, 1e-6)


def bilateral_weights(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
                      sigma_space: float | None = None,
                      range_factor: float | None = None) -> View:
    """The bilateral filter's view of pixel ``probe``: the weights of its average.

    Returns, for the (2r+1)² window around ``probe``, stages ``"window"``
    (the noisy patch, mirrored at the borders), ``"space weights"`` (the
    spatial Gaussian, 0 outside the disk), ``"range weights"`` (``exp(-(v -
    v_probe)² / 2 sigma_range²)``) and ``"weights"`` (their product
    normalised to sum 1: the weights of the average that gives
    ``result.image`` at ``probe``).

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy image the traced run was given, float32 on the [0, 1]
        scale (for a grey method on a colour image, its luminance).
    sigma : float
        Its noise standard deviation, on the [0, 1] scale (it sets the
        default widths).
    result : Result
        What :func:`bilateral` returned for ``noisy`` and ``sigma`` with
        ``trace=True`` and the same parameters.
    probe : (row, col)
        The pixel to look at, inside the image.
    sigma_space, range_factor : float, optional
        As for :func:`bilateral`: the traced run's values; ``None`` chooses
        each from sigma, as the run did.
    """
    space, sigma_range = _bilateral_kernel(sigma, sigma_space, range_factor)
    radius = space.shape[0] // 2
    window = _neighbourhood(noisy, probe, radius)
    similar = np.exp(-((window - window[radius, radius]) ** 2) / (2.0 * sigma_range**2))
    weights = space * similar
    return View(stages={"window": window,
                        "space weights": space.astype(np.float32),
                        "range weights": similar.astype(np.float32),
                        "weights": (weights / weights.sum()).astype(np.float32)})


#: Rows of the image processed together by :func:`_bilateral_sum`: small enough that the
#: arrays of one block stay in the CPU cache through all the window offsets.
_BLOCK_ROWS = 64


def _bilateral_sum(noisy: np.ndarray, space: np.ndarray, sigma_range: float,
                   progress: Progress | None) -> np.ndarray:
    """Normalised bilateral average, vectorised over pixels, one pass per pair of offsets.

    The range weight between pixels p and p + o is the same as between
    p + o and p, so each exponential, computed once for an offset o, also
    serves the opposite offset -o (shifted by o): half the exponentials of
    one pass per offset. The image is processed in blocks of
    :data:`_BLOCK_ROWS` rows; ``progress`` receives the fraction of rows done.
    """
    radius = space.shape[0] // 2
    height, width = noisy.shape
    padded = np.pad(noisy, radius, mode="symmetric")
    scale = np.float32(-0.5 / sigma_range**2)
    centre_weight = np.float32(space[radius, radius])
    total = noisy * centre_weight
    weight = np.full_like(noisy, centre_weight)
    # One offset of each pair (o, -o): the half-plane dy > 0, or dy = 0 and dx > 0.
    pairs = [(dy, dx, np.float32(space[radius + dy, radius + dx]))
             for dy in range(radius + 1) for dx in range(-radius, radius + 1)
             if (dy > 0 or dx > 0) and space[radius + dy, radius + dx] != 0.0]
    r = radius
    for start in range(0, height, _BLOCK_ROWS):
        stop = min(height, start + _BLOCK_ROWS)
        rows = stop - start
        block_total, block_weight = total[start:stop], weight[start:stop]
        for dy, dx, w in pairs:
            # e[q] = w exp(-(I(q + o) - I(q))² / 2 sigma_range²) for every q that is
            # a pixel p of the block or p - o, in padded coordinates.
            left = r + min(0, -dx)
            right = r + width + max(0, -dx)
            e = padded[r + start:r + stop + dy, left + dx:right + dx] - \
                padded[r + start - dy:r + stop, left:right]
            np.multiply(e, e, out=e)
            np.multiply(e, scale, out=e)
            np.exp(e, out=e)
            e *= w
            forward = e[dy:dy + rows, r - left:r - left + width]  # p and p + o
            backward = e[:rows, r - dx - left:r - dx - left + width]  # p and p - o
            block_weight += forward
            block_weight += backward
            block_total += forward * padded[r + start + dy:r + stop + dy, r + dx:r + dx + width]
            block_total += backward * padded[r + start - dy:r + stop - dy, r - dx:r - dx + width]
        report(progress, stop / height)
    return total / weight


METHODS: tuple[Method, ...] = (
    Method(
        key="gaussian",
        name="Gaussian smoothing",
        year=1969,
        family=LINEAR,
        paper=("A. Rosenfeld, Picture Processing by Computer, Academic Press, 1969 "
               "(noise cleaning by local averaging); R. C. Gonzalez and R. E. Woods, "
               "Digital Image Processing, 4th ed., Pearson, 2018, ch. 3.5 "
               "(Gaussian smoothing filters)"),
        idea=("The simplest idea: noise makes each pixel jitter independently, while a photograph "
              "changes slowly from one pixel to the next. So replace every pixel by a weighted "
              "average of its neighbourhood, with weights falling off as a bell curve. Averaging "
              "many independent jitters cancels most of them. But the filter cannot tell noise "
              "from detail: edges, texture and fine lines are averaged with their surroundings "
              "too, so the image comes out blurred, the more so the wider the bell."),
        params=GAUSSIAN,
        run=gaussian,
    ),
    Method(
        key="wiener",
        name="Wiener filter",
        year=1949,
        family=LINEAR,
        paper=("N. Wiener, Extrapolation, Interpolation, and Smoothing of Stationary Time "
               "Series, with Engineering Applications, Technology Press of MIT and Wiley, 1949"),
        idea=("Split the image into waves of every frequency (its Fourier spectrum). A photograph "
              "puts most of its energy into slow, large waves; white noise spreads the same small "
              "energy over all of them. The Wiener filter keeps each wave in proportion to how "
              "much of it is signal rather than noise, estimated here from the noisy image "
              "itself: coarse waves pass untouched, fine ones where noise dominates are turned "
              "down or off. It is the best possible filter that treats the whole image the "
              "same way, but it still removes fine detail buried under the noise, and a faint "
              "ripple can appear along sharp edges."),
        params=WIENER,
        run=wiener,
    ),
    Method(
        key="median",
        name="Median filter",
        year=1974,
        family=ROBUST,
        paper=("J. W. Tukey, \"Nonlinear (nonsuperposable) methods for smoothing data\", "
               "Conference Record EASCON 1974, p. 673; J. W. Tukey, Exploratory Data "
               "Analysis, Addison-Wesley, 1977"),
        idea=("Instead of averaging a pixel's neighbourhood, sort its values and take the middle "
              "one. A few wild values, such as the white and black specks of salt-and-pepper "
              "noise, cannot move the middle value, and a straight edge stays where it is because "
              "most of the window lies on one side of it. Against the fine, everywhere jitter of "
              "Gaussian noise it is weaker than an average, and it rounds corners, wipes out "
              "lines thinner than the window and turns smooth shading into flat terraces."),
        params=MEDIAN,
        run=median,
        look=median_window,
    ),
    Method(
        key="bilateral",
        name="Bilateral filter",
        year=1998,
        family=ROBUST,
        paper=("C. Tomasi and R. Manduchi, \"Bilateral filtering for gray and color images\", "
               "Proc. Sixth International Conference on Computer Vision (ICCV), 1998, "
               "pp. 839-846, doi:10.1109/ICCV.1998.710815"),
        idea=("A blur that respects edges. Each pixel is averaged with its neighbours, but a "
              "neighbour only counts if it is both close and similar in brightness. Across an "
              "edge the other side is much brighter or darker than the noise could explain, so "
              "it gets almost no weight and the edge stays sharp, while flat areas are smoothed "
              "as by an ordinary blur. What it destroys is low-contrast texture, which looks "
              "just like noise to it; at high noise it leaves isolated speckles and can give "
              "flat, cartoon-like regions."),
        params=BILATERAL,
        run=bilateral,
        look=bilateral_weights,
        url="https://doi.org/10.1109/ICCV.1998.710815",
    ),
)
