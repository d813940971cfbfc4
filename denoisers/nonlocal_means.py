"""Non-local means: average the pixels whose neighbourhoods look alike, wherever they are.

Local filters average a pixel with the pixels *near* it and so blur
whatever detail lies there. Buades, Coll and Morel (2005) average it
instead with the pixels whose surrounding patch *looks like* its own,
anywhere in a large search window: a photograph repeats itself (along an
edge, across a texture, over a flat wall), and the many look-alike pixels
average the noise away while pixels across an edge, whose patches differ,
barely count.

The method (:func:`nlm`) computes this for every pixel at once, one
search-window offset at a time; the chapter's views look at one pixel with
the same parameters and the same arithmetic: the patch distances and
normalised weights around it (:func:`patch_distances`, :func:`nlm_weights`),
the estimate they make (:func:`nlm_pixel`, equal to the method's there) and
the most similar patches (:func:`nlm_look`).

References
----------
A. Buades, B. Coll and J.-M. Morel, "A non-local algorithm for image
denoising", Proc. CVPR 2005, vol. 2, pp. 60-65. https://doi.org/10.1109/CVPR.2005.38
A. Buades, B. Coll and J.-M. Morel, "A review of image denoising
algorithms, with a new one", Multiscale Model. Simul. 4(2), 2005,
pp. 490-530. https://doi.org/10.1137/040616024
A. Buades, B. Coll and J.-M. Morel, "Non-Local Means Denoising", Image
Processing On Line 1, 2011, pp. 208-212. https://doi.org/10.5201/ipol.2011.bcm_nlm
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .colour import luminance
from .core import (
    Choice,
    Float,
    Int,
    InvalidInput,
    Method,
    Progress,
    Result,
    View,
    as_image,
    check_params,
    check_sigma,
    report,
    validated,
)
from .lazy import torch
from .linear import _neighbourhood
from .threads import one_torch_thread

FAMILY = "Non-local means"

#: How many of the most similar patches a pixel's view shows.
SIMILAR_SHOWN = 8


# --------------------------------------------------------------------------- rules

#: The defaults by noise level, tuned as :func:`nlm` Notes say: (largest sigma on the
#: 0-255 scale, patch side, search side, h / sigma); above the last row, the last row.
_DEFAULTS = (
    (35.0, 7, 21, 0.80),
    (100.0, 9, 21, 0.70),
)


def _row(sigma: float) -> tuple[float, int, int, float]:
    """The row of :data:`_DEFAULTS` for noise ``sigma`` on the [0, 1] scale."""
    return next((row for row in _DEFAULTS if 255.0 * sigma <= row[0]), _DEFAULTS[-1])


def nlm_patch(sigma: float) -> int:
    """The default patch side for noise ``sigma`` on the [0, 1] scale (see :func:`nlm`)."""
    return _row(sigma)[1]


def nlm_search(sigma: float) -> int:
    """The default search-window side for noise ``sigma`` on the [0, 1] scale."""
    return _row(sigma)[2]


def nlm_h(sigma: float) -> float:
    """The default filtering width h for noise ``sigma`` on the [0, 1] scale: a factor of sigma."""
    return _row(sigma)[3] * sigma


#: The parameters of NL-means: one spec for the method and for every view of one pixel, so
#: that both compute the same thing.
PATCH = Int("patch", 1, 31, odd=True, rule=nlm_patch,
            help="Side of the square patches compared (odd: a patch has a centre pixel). "
                 "Auto: 7 up to σ = 35, 9 above.")
SEARCH = Int("search", 1, 41, odd=True, rule=nlm_search,
             help="Side of the square search window around the pixel (odd). The time grows "
                  "with its square. Auto: 21.")
H = Float("h", 0.0, 1.0, rule=nlm_h, step=0.001,
          help="Filtering width on the [0, 1] scale: how much farther than the noise explains "
               "a patch may be and still count. Auto: 0.8 σ up to σ = 35, 0.7 σ above.")
KERNEL = Choice("kernel", ("flat", "gaussian"), default="gaussian",
                help="How the pixels inside a patch are weighted in its distance: all alike, "
                     "or by a Gaussian about the patch's centre (the 2005 paper's choice).")
SPEC = (PATCH, SEARCH, H, KERNEL)


def _settings(sigma: float, patch: int | None, search: int | None,
              h: float | None) -> tuple[int, int, float]:
    """``patch``, ``search`` and ``h``, each one that is None chosen from ``sigma``."""
    return (nlm_patch(sigma) if patch is None else int(patch),
            nlm_search(sigma) if search is None else int(search),
            nlm_h(sigma) if h is None else float(h))


# --------------------------------------------------------------------------- helpers

def _grey(image: np.ndarray) -> np.ndarray:
    """``image`` as a float64 grey (H, W) array; a ValueError for colour or bad input."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 3:
        raise InvalidInput(f"image must be grey, of shape (H, W); got a colour image of shape "
                         f"{array.shape} (convert it to grey or pass one channel)")
    return as_image(array, name="image").astype(np.float64)


def _pixel(pixel: object, shape: tuple[int, ...]) -> tuple[int, int]:
    """``pixel`` as a (row, col) inside an image of ``shape``, or a ValueError."""
    try:
        row, col = pixel  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InvalidInput(f"pixel must be a (row, col) pair; got {pixel!r}") from None
    for value in (row, col):
        if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
            raise InvalidInput(f"pixel must be a (row, col) pair of ints; got {pixel!r}")
    if not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise InvalidInput(f"pixel {(int(row), int(col))} is outside the image: rows run "
                         f"0..{shape[0] - 1} and columns 0..{shape[1] - 1}")
    return int(row), int(col)


def _patch_taps(patch: int, kernel: str) -> np.ndarray:
    """The 1-D weights whose outer product weights a patch's pixels; they sum to 1."""
    if kernel == "flat" or patch == 1:
        taps = np.ones(patch)
    else:
        offsets = np.arange(patch) - patch // 2
        taps = np.exp(-offsets**2 / (2.0 * ((patch - 1) / 4.0) ** 2))
    return taps / taps.sum()


def _checked(sigma: float, patch: int | None, search: int | None, h: float | None,
             kernel: str) -> tuple[int, int, float, str]:
    """The parameters checked by :data:`SPEC` and the auto ones chosen from ``sigma``."""
    values = check_params(SPEC, {"patch": patch, "search": search, "h": h, "kernel": kernel},
                          "non-local means")
    return (*_settings(sigma, values["patch"], values["search"], values["h"]), values["kernel"])


def _distances_and_values(image: np.ndarray, pixel: object, patch: int, search: int,
                          kernel: str) -> tuple[np.ndarray, np.ndarray]:
    """The (search, search) patch distances and centre values around ``pixel``."""
    grey = _grey(image)
    row, col = _pixel(pixel, grey.shape)
    half = patch // 2
    # Every patch of the search window lies in this mirrored neighbourhood.
    around = _neighbourhood(grey, (row, col), search // 2 + half)
    patches = sliding_window_view(around, (patch, patch))
    reference = patches[search // 2, search // 2]
    taps = _patch_taps(patch, kernel)
    distances = np.einsum("ijkl,kl->ij", (patches - reference) ** 2, np.outer(taps, taps))
    values = around[half:half + search, half:half + search]
    return distances, values


# --------------------------------------------------------------------------- one pixel

def patch_distances(image: np.ndarray, pixel: tuple[int, int], *, patch: int = 7,
                    search: int = 21, kernel: str = "gaussian") -> np.ndarray:
    """Squared distance between the patch around ``pixel`` and every patch of its search window.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The noisy grey image (float on the [0, 1] scale).
    pixel : (row, col)
        The pixel being denoised.
    patch : int
        Side of the square patches compared (odd).
    search : int
        Side of the square search window centred on ``pixel`` (odd).
    kernel : {"flat", "gaussian"}
        How the pixels of a patch count in its distance: ``"flat"`` all
        alike (the plain mean, as in the IPOL implementation),
        ``"gaussian"`` by a Gaussian of standard deviation
        ``(patch - 1) / 4`` pixels centred on the patch (Buades et al.'s
        original weighted distance, with the width scikit-image uses).

    Returns
    -------
    ndarray, float64, shape (search, search)
        ``d²[i, j]``: the kernel-weighted mean of the squared differences
        between the patch centred on ``pixel`` and the one centred on the
        pixel at offset ``(i - search // 2, j - search // 2)``; 0 in the
        centre. The image is mirrored (edge pixel repeated) wherever a
        patch or the window crosses its border.

    Raises
    ------
    ValueError
        For a colour image, an even or non-positive ``patch`` or
        ``search``, a ``pixel`` outside the image or an unknown ``kernel``.

    Notes
    -----
    For two patches of the same clean content under white noise of
    standard deviation sigma, every difference is noise of variance
    2 sigma², so ``d²`` is about 2 sigma²; for different content it
    exceeds that by the squared difference of the clean patches.

    Cost: one extraction of the (search + patch - 1)² neighbourhood and
    search²·patch² multiply-adds, vectorised with
    ``numpy.lib.stride_tricks.sliding_window_view``.
    """
    if patch is None or search is None:
        raise InvalidInput("patch_distances takes the patch and search sides as odd ints; "
                           "only the functions given sigma choose them from it")
    patch, search, _, kernel = _checked(0.0, patch, search, 0.0, kernel)
    return _distances_and_values(image, pixel, patch, search, kernel)[0]


def _weights_from_distances(distances: np.ndarray, sigma: float, h: float) -> np.ndarray:
    """NL-means weights from patch distances: bias removed, exponential, normalised."""
    excess = np.maximum(distances - 2.0 * sigma * sigma, 0.0)
    if h == 0:
        weights = (excess == 0.0).astype(np.float64)
    else:
        weights = np.exp(-excess / (h * h))
    return weights / weights.sum()


def nlm_weights(image: np.ndarray, pixel: tuple[int, int], sigma: float, *,
                patch: int | None = None, search: int | None = None, h: float | None = None,
                kernel: str = "gaussian") -> np.ndarray:
    """The normalised weights NL-means gives to each pixel of the search window around ``pixel``.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The noisy grey image (float on the [0, 1] scale).
    pixel : (row, col)
        The pixel being denoised.
    sigma : float
        Noise standard deviation on the [0, 1] scale: its expected
        contribution ``2 sigma²`` is removed from every patch distance.
    patch : int, optional
        Side of the square patches compared (odd); ``None`` applies
        :func:`nlm_patch`.
    search : int, optional
        Side of the square search window centred on ``pixel`` (odd);
        ``None`` applies :func:`nlm_search`.
    h : float, optional
        Filtering width on the [0, 1] scale: a patch whose distance exceeds
        the noise's by ``h²`` gets weight e⁻¹ relative to a perfect match.
        ``None`` applies :func:`nlm_h`. 0 keeps only the patches no farther
        than the noise explains.
    kernel : {"flat", "gaussian"}
        The weighting of pixels inside a patch; see :func:`patch_distances`.

    Returns
    -------
    ndarray, float64, shape (search, search)
        Non-negative weights summing to 1; ``weights[i, j]`` belongs to the
        pixel at offset ``(i - search // 2, j - search // 2)`` from
        ``pixel`` (mirrored across the image border).

    Raises
    ------
    ValueError
        As :func:`patch_distances`, and for a ``sigma`` outside [0, 1] or a
        negative ``h``.

    Notes
    -----
    The weight of the pixel q in the estimate at p is

        w(p, q) ∝ exp(-max(d²(p, q) - 2 sigma², 0) / h²)

    with d² the mean squared difference of the patches around p and q
    (:func:`patch_distances`). This is the pixelwise form of Buades, Coll
    and Morel's IPOL description (2011): subtracting 2 sigma², the
    distance that noise alone gives two identical patches, lets every
    patch the noise can explain count fully (weight 1, as the pixel's
    own), and the exponential then falls with the excess. The pixel's
    own weight is therefore the largest; IPOL's code replaces it by the
    largest weight among the other patches (the same value as soon as one
    of them is within the noise), scikit-image keeps it at 1 as here.
    The defaults are :func:`nlm`'s (see its Notes).

    Cost: that of :func:`patch_distances`, plus search² exponentials.

    References
    ----------
    A. Buades, B. Coll and J.-M. Morel, "A non-local algorithm for image
    denoising", Proc. CVPR 2005, vol. 2, pp. 60-65.
    https://doi.org/10.1109/CVPR.2005.38
    A. Buades, B. Coll and J.-M. Morel, "Non-Local Means Denoising",
    Image Processing On Line 1, 2011, pp. 208-212.
    https://doi.org/10.5201/ipol.2011.bcm_nlm
    """
    sigma = check_sigma(sigma)
    patch, search, h, kernel = _checked(sigma, patch, search, h, kernel)
    distances, _ = _distances_and_values(image, pixel, patch, search, kernel)
    return _weights_from_distances(distances, sigma, h)


def nlm_pixel(image: np.ndarray, pixel: tuple[int, int], sigma: float, *,
              patch: int | None = None, search: int | None = None, h: float | None = None,
              kernel: str = "gaussian") -> float:
    """The NL-means estimate at ``pixel``: the weighted average of its search window.

    Parameters
    ----------
    image, pixel, sigma, patch, search, h, kernel
        As for :func:`nlm_weights`.

    Returns
    -------
    float
        ``sum(weights * window)``, with ``window`` the (search, search)
        pixels around ``pixel`` (mirrored across the border) and
        ``weights`` those of :func:`nlm_weights`: the value :func:`nlm`
        gives that pixel with the same parameters (up to float32 rounding).

    Raises
    ------
    ValueError
        As :func:`nlm_weights`.

    Notes
    -----
    For an interior pixel (at least ``search // 2 + patch // 2`` pixels
    from every border) and ``kernel="gaussian"`` this is the value that
    ``skimage.restoration.denoise_nl_means(image, patch_size=patch,
    patch_distance=search // 2, h=h, sigma=sigma, fast_mode=False)``
    computes there (scikit-image 0.26), up to two shortcuts of its loop:
    it evaluates the exponential with Schraudolph's bit-level
    approximation (a few per cent off), and gives weight 0 to a patch
    whose bias-corrected distance, summed row by row, passes 5 h² before
    the last row. Applied to these distances, the two reproduce its output
    to rounding error; without them the two estimates differ by about
    1e-3 on the [0, 1] scale (sigma = 0.1). Near the border scikit-image
    also mirrors differently (the edge pixel is not repeated) and shrinks
    the search window to the image. Its default ``fast_mode=True``
    (Darbon et al. 2008) uses a flat distance, but summed over a
    (patch - 1)² box that lies half a pixel off the centre and divided
    by patch², and it drops weights below exp(-5); it differs from
    ``kernel="flat"`` by up to about 1e-2.

    References
    ----------
    J. Darbon, A. Cunha, T. F. Chan, S. Osher and G. J. Jensen, "Fast
    nonlocal filtering applied to electron cryomicroscopy", Proc. ISBI
    2008, pp. 1331-1334. https://doi.org/10.1109/ISBI.2008.4541250
    N. N. Schraudolph, "A fast, compact approximation of the exponential
    function", Neural Computation 11(4), 1999, pp. 853-862.
    https://doi.org/10.1162/089976699300016467
    """
    sigma = check_sigma(sigma)
    patch, search, h, kernel = _checked(sigma, patch, search, h, kernel)
    distances, values = _distances_and_values(image, pixel, patch, search, kernel)
    return float(np.sum(_weights_from_distances(distances, sigma, h) * values))


# --------------------------------------------------------------------------- the method

def _window_sums(values: torch.Tensor, taps: list[float], dim: int,
                 out: torch.Tensor) -> torch.Tensor:
    """``out[i] = sum_k taps[k] values[i + k]`` along ``dim``: one pass per tap, no running sum
    (a cumulative sum in float32 would carry its rounding across the whole image)."""
    length = out.shape[dim]
    torch.mul(values.narrow(dim, 0, length), taps[0], out=out)
    for k in range(1, len(taps)):
        out.add_(values.narrow(dim, k, length), alpha=taps[k])
    return out


def _nlm(channels: np.ndarray, sigma: float, patch: int, search: int, h: float, kernel: str,
         progress: Progress | None) -> tuple[np.ndarray, np.ndarray]:
    """NL-means of a (C, H, W) image, the patch distance averaged over the channels.

    Returns the estimate (C, H, W) and the sum of the (unnormalised) weights
    at each pixel (H, W). Loops over the offsets o of half the search
    window: the distance between the patches at p and p + o serves both the
    pixel p (weight of p + o) and the pixel p + o (weight of p), as it is
    the same pair of patches of the mirrored image.
    """
    count, height, width = channels.shape
    radius, half = search // 2, patch // 2
    pad = radius + half
    padded = torch.from_numpy(np.pad(channels, ((0, 0), (pad, pad), (pad, pad)),
                                     mode="symmetric"))
    taps = _patch_taps(patch, kernel).tolist()
    bias, scale = 2.0 * sigma * sigma, (-1.0 / (h * h) if h > 0 else 0.0)
    centre = padded[:, pad:pad + height, pad:pad + width]
    total = centre.clone()
    weight = torch.ones(height, width)
    # The largest region of pairs, (H + r) x (W + 2r), widened by the patch for the sums.
    largest = (height + radius + 2 * half) * (width + 2 * radius + 2 * half)
    squares = torch.empty(count * largest)
    mean = torch.empty(largest) if count > 1 else None
    rows_summed, distances = torch.empty(largest), torch.empty(largest)
    for dy in range(radius + 1):
        for dx in range(1 if dy == 0 else -radius, radius + 1):
            # q runs over the pixels p and p - o (padded coordinates): rows from pad - dy,
            # columns from pad - max(dx, 0), (H + dy) x (W + |dx|) of them.
            rows, cols = height + dy, width + abs(dx)
            top, left = pad - dy - half, pad - max(dx, 0) - half
            span_r, span_c = rows + 2 * half, cols + 2 * half
            diff = squares[:count * span_r * span_c].view(count, span_r, span_c)
            torch.sub(padded[:, top + dy:top + dy + span_r, left + dx:left + dx + span_c],
                      padded[:, top:top + span_r, left:left + span_c], out=diff)
            diff.square_()
            if mean is None:
                squared = diff[0]
            else:
                squared = torch.mean(diff, 0, out=mean[:span_r * span_c].view(span_r, span_c))
            by_row = _window_sums(squared, taps, 1,
                                  rows_summed[:span_r * cols].view(span_r, cols))
            found = _window_sums(by_row, taps, 0, distances[:rows * cols].view(rows, cols))
            if h > 0:
                found.sub_(bias).clamp_(min=0.0).mul_(scale).exp_()
            else:
                torch.le(found, bias, out=found)  # 1.0 within the noise, else 0.0
            # Pixel p pairs with p + o at q = p; pixel p with p - o at q = p - o.
            forward = found[dy:dy + height, max(dx, 0):max(dx, 0) + width]
            backward = found[:height, max(dx, 0) - dx:max(dx, 0) - dx + width]
            weight.add_(forward).add_(backward)
            total.addcmul_(forward, padded[:, pad + dy:pad + dy + height,
                                           pad + dx:pad + dx + width])
            total.addcmul_(backward, padded[:, pad - dy:pad - dy + height,
                                            pad - dx:pad - dx + width])
        report(progress, (dy + 1) / (radius + 1) * 0.99)
    return (total / weight).numpy(), weight.numpy()


@validated(SPEC)
def nlm(noisy: np.ndarray, sigma: float, *, patch: int | None = None, search: int | None = None,
        h: float | None = None, kernel: str = "gaussian", trace: bool = False,
        progress: Progress | None = None) -> Result:
    """Non-local means: average each pixel with the pixels whose patches look like its own.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was. A colour image is denoised channel by
        channel in the opponent colour space by :func:`denoisers.run`.
    sigma : float
        Noise standard deviation on the [0, 1] scale: ``2 sigma²`` is
        removed from every patch distance, and the defaults follow it.
    patch : int, optional
        Side of the square patches compared (odd); ``None`` applies
        :func:`nlm_patch`.
    search : int, optional
        Side of the square search window around each pixel (odd), at most
        41; ``None`` applies :func:`nlm_search`.
    h : float, optional
        Filtering width on the [0, 1] scale: a patch farther than the noise
        explains by ``h²`` (in mean squared difference) counts e⁻¹ as much
        as one within the noise; ``None`` applies :func:`nlm_h`.
    kernel : {"flat", "gaussian"}
        How the pixels of a patch count in its distance: all alike, or by
        a Gaussian of standard deviation ``(patch - 1) / 4`` about its
        centre (see :func:`patch_distances`).
    trace : bool
        Also return the method noise and the map of the weight each pixel
        found; :func:`nlm_look` shows one pixel's weights and most similar
        patches.
    progress : callable, optional
        Receives the fraction of the search window done.

    Returns
    -------
    Result
        ``image``: the estimate. With ``trace``: stages ``"method noise"``
        (noisy minus estimate) and ``"weight found"`` (the sum of the
        unnormalised weights at each pixel: how many pixels of its window
        counted, a pixel within the noise counting 1, the pixel itself
        included).

    Notes
    -----
    The estimate at p is ``sum_q w(p, q) v(q) / sum_q w(p, q)`` over the
    ``search x search`` window around p, with ``w(p, q) = exp(-max(d²(p,
    q) - 2 sigma², 0) / h²)`` and d² the mean squared difference of the
    patches around p and q (:func:`nlm_weights`; Buades, Coll & Morel's
    IPOL form of the 2005 method). The image is mirrored at its borders
    (the edge pixel repeated), exactly as :func:`nlm_pixel` mirrors it, so
    the two give the same value at every pixel, borders included.

    Method noise: Buades et al. judged a denoiser by what it removes,
    ``noisy - estimate``. For an ideal denoiser it is the noise alone; any
    structure in it is image the method destroyed. The trace returns it.

    Computation: one pass over the image per offset o of half the window
    (the pair of patches at p and p + o serves both pixels), each a
    handful of vectorised torch operations on the whole image: the squared
    differences, their window sums along the rows and then the columns
    (one pass per tap of the patch), the exponential, and the running sums
    of weights and weighted values. The cost is O(HW · search² · patch),
    with no Python loop over pixels. torch runs on one thread during a
    call (see :func:`~denoisers.threads.one_torch_thread`). At 512x512 and sigma_255 = 25
    it took 1.8 to 3.5 s on the project's 2-core machine while other jobs
    ran (load average 6 to 10), 0.5 to 0.7 times scikit-image's fast mode
    timed in the same runs (``benchmarks.nonlocal_means``); hence
    ``slow=True``.

    Colour: a colour image goes through :func:`denoisers.run`'s opponent
    colour space, channel by channel, each with its own sigma, rather than
    one patch distance over the three RGB channels (IPOL's colour
    version). At sigma 25 on three colour samples (astronaut, coffee,
    chelsea; 256x256) the opponent path with the defaults gave 29.70,
    30.70 and 29.58 dB (mean 29.99); one Gaussian-weighted 7x7 distance
    over RGB gave 29.42, 30.94 and 28.52 at h = 0.8 sigma (mean 29.63),
    29.37, 30.88 and 28.89 at 0.7 sigma (29.71), and no better than
    29.85 on average with each image's best of h = 0.4, 0.55, 0.7 and 0.8
    sigma: better on coffee, worse on the other two (centre crops, noise
    seed 3). In the opponent space the three channels' noise is
    independent and each channel is denoised with its own sigma.

    Defaults (:data:`_DEFAULTS`): a 21x21 window and the Gaussian-weighted distance at
    every sigma; a 7x7 patch and ``h = 0.8 sigma`` up to sigma_255 = 35, a
    9x9 patch and ``h = 0.7 sigma`` above. Tuned on nine images (six of
    train400, 180x180: test_006, 076, 146, 216, 286 and 356; the centre
    256x256 of astronaut, coffee and chelsea made grey) at sigma_255 = 15,
    25 and 50, over 3x3 and 5x5 flat and 5x5, 7x7 and 9x9 Gaussian
    patches and h from 0.5 to 1.1 sigma. Mean PSNR of the best setting
    and of the default: 30.82 dB (3x3 flat, 0.8 sigma) and 30.78 at
    sigma_255 = 15; 28.35 at 25 (the default is the best); 25.28 at 50
    (the default is the best, with 5x5 flat at 0.6 sigma). The kernel is
    a choice and cannot follow sigma: the Gaussian was within 0.04 dB of
    the best at each sigma, the flat kernel needed 3x3, 5x5 and 5x5
    patches for the same. The switch at 35 lies between the sigmas tuned
    at. IPOL's table (a flat distance with h = 0.35 to 0.4 sigma) smooths
    less: its row for sigma_255 = 25 (5x5, 0.4 sigma) gave 27.74 dB on
    the nine images, 0.61 below the default. Checked, after
    tuning, against scikit-image on Set12 and camera:
    ``python -m benchmarks.nonlocal_means`` gave a Set12 mean of
    31.18, 28.67 and 25.17 dB at sigma_255 = 15, 25 and 50, against
    30.85, 28.46 and 25.07 for scikit-image's fast mode (7x7 patches,
    patch_distance 11) at its best h, chosen on train400 (0.6, 0.6 and
    0.5 sigma; ``python -m benchmarks.peers``), a lead of 0.34, 0.21 and
    0.10 dB (at h = 0.8 sigma it was 30.67, 27.82 and 23.98); on camera
    31.37, 29.31 and 26.75 against 30.97, 29.08 and 26.79.

    References
    ----------
    A. Buades, B. Coll and J.-M. Morel, "A non-local algorithm for image
    denoising", Proc. CVPR 2005, vol. 2, pp. 60-65.
    https://doi.org/10.1109/CVPR.2005.38
    A. Buades, B. Coll and J.-M. Morel, "A review of image denoising
    algorithms, with a new one", Multiscale Model. Simul. 4(2), 2005,
    pp. 490-530. https://doi.org/10.1137/040616024
    A. Buades, B. Coll and J.-M. Morel, "Non-Local Means Denoising",
    Image Processing On Line 1, 2011, pp. 208-212.
    https://doi.org/10.5201/ipol.2011.bcm_nlm

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> from denoisers.nonlocal_means import nlm
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = nlm(noisy, 25 / 255).image  # patch, search and h from sigma
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 4
    True
    """
    patch, search, h = _settings(sigma, patch, search, h)
    with one_torch_thread():
        estimate, found = _nlm(noisy[None], sigma, patch, search, h, kernel, progress)
    result = Result(estimate[0].astype(np.float32))
    if trace:
        result.stages = {"method noise": (noisy - result.image).astype(np.float32),
                         "weight found": found.astype(np.float32)}
        result.extras["display"] = {"method noise": "signed", "weight found": "map"}
    report(progress, 1.0)
    return result


def _grey_view(image: np.ndarray) -> np.ndarray:
    """``image`` as the grey view of a trace sees it: a colour image's luminance channel."""
    return luminance(image) if image.ndim == 3 else image


def nlm_look(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
             patch: int | None = None, search: int | None = None, h: float | None = None,
             kernel: str = "gaussian") -> View:
    """NL-means' view of pixel ``probe``: its weights and the patches most like its own.

    Computed from the noisy image with :func:`nlm_weights`' arithmetic, never
    by rerunning :func:`nlm`; ``result`` is the traced run whose estimate at
    ``probe`` the view explains.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy image the traced run was given, float32 on the [0, 1]
        scale (for a grey method on a colour image, its luminance).
    sigma : float
        Its noise standard deviation, on the [0, 1] scale (it sets the
        defaults).
    result : Result
        What :func:`nlm` returned for ``noisy`` and ``sigma`` with
        ``trace=True`` and the same parameters.
    probe : (row, col)
        The pixel to look at, inside the image.
    patch, search, h, kernel
        As for :func:`nlm`: the traced run's values (``None`` chooses from
        sigma, as the run did).

    Returns
    -------
    View
        Stages ``"weights"`` (the normalised weights over the search window,
        whose weighted average of the window is the estimate there) and
        ``"search window"`` (the noisy pixels they weight); extras
        ``"similar"``: ``"probe"``, ``"patch"`` (the side), ``"reference"``
        (the noisy patch around the pixel), ``"tiles"`` (the
        :data:`SIMILAR_SHOWN` patches of the window nearest to it, nearest
        first, the pixel's own left out), their ``"offsets"`` (row, column
        from the pixel), ``"distances"`` (mean squared difference) and
        ``"weights"`` (normalised), ``"estimate"`` (the weighted average)
        and ``"result"`` (the traced estimate there, the same value).
    """
    patch, search, h, kernel = _checked(sigma, patch, search, h, kernel)
    distances, values = _distances_and_values(noisy, probe, patch, search, kernel)
    weights = _weights_from_distances(distances, sigma, h)
    radius, half = search // 2, patch // 2
    around = _neighbourhood(_grey(noisy), probe, radius + half)
    flat = distances.ravel().copy()
    flat[flat.size // 2] = np.inf  # the pixel's own patch is the reference, not a match
    nearest = np.argsort(flat, kind="stable")[:min(SIMILAR_SHOWN, flat.size - 1)]
    rows, cols = np.unravel_index(nearest, distances.shape)
    tiles = np.stack([around[r:r + patch, c:c + patch] for r, c in zip(rows, cols)]) \
        if len(nearest) else np.zeros((0, patch, patch))
    return View(
        stages={"weights": weights.astype(np.float32),
                "search window": values.astype(np.float32)},
        extras={"display": {**result.extras.get("display", {}), "search window": "image"},
                "similar": {
                    "probe": probe, "patch": patch,
                    "reference": around[radius:radius + patch,
                                        radius:radius + patch].astype(np.float32),
                    "tiles": tiles.astype(np.float32),
                    "offsets": np.stack([rows - radius, cols - radius], axis=1),
                    "distances": distances[rows, cols],
                    "weights": weights[rows, cols],
                    "estimate": float(np.sum(weights * values)),
                    "result": float(_grey_view(result.image)[probe]),
                }})


METHODS: tuple[Method, ...] = (
    Method(
        key="nlm",
        name="Non-local means",
        year=2005,
        family=FAMILY,
        paper=("A. Buades, B. Coll and J.-M. Morel, \"A non-local algorithm for image "
               "denoising\", Proc. IEEE CVPR 2005, vol. 2, pp. 60-65"),
        url="https://doi.org/10.1109/CVPR.2005.38",
        idea=("Compare patches, not pixels. A local filter averages a pixel with its neighbours "
              "and blurs whatever detail lies there; the bilateral filter keeps only neighbours "
              "of similar brightness, but one noisy pixel is a poor witness of its own value. "
              "Buades, Coll and Morel compare instead the small patch around the pixel with the "
              "patch around every other pixel of a large window, and average the pixels whose "
              "patches look alike, wherever they are: a photograph repeats itself along an edge, "
              "across a texture, over a flat wall, so each pixel finds many look-alikes whose "
              "noise averages away, while a pixel across an edge, whose patch differs, barely "
              "counts. Fine repeated texture survives; what is unique in the image (a corner, a "
              "lone dot) finds few matches and stays noisy."),
        params=SPEC,
        run=nlm,
        look=nlm_look,
        slow=True,
    ),
)
