"""Non-local means: average the pixels whose neighbourhoods look alike, wherever they are.

Local filters average a pixel with the pixels *near* it and so blur
whatever detail lies there. Buades, Coll and Morel (2005) average it
instead with the pixels whose surrounding patch *looks like* its own,
anywhere in a large search window: a photograph repeats itself (along an
edge, across a texture, over a flat wall), and the many look-alike pixels
average the noise away while pixels across an edge, whose patches differ,
barely count.

For now this module holds the building blocks the chapter's views share:
the patch distances and normalised weights NL-means gives around one pixel
(:func:`patch_distances`, :func:`nlm_weights`) and the estimate they make
(:func:`nlm_pixel`). It registers no method yet.

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

from .core import Choice, Float, Int, InvalidInput, as_image, check_params, check_sigma
from .linear import _neighbourhood

#: The parameters Buades, Coll & Morel (IPOL 2011) recommend for grey images:
#: (largest sigma on the 0-255 scale, patch side, search side, h / sigma).
_IPOL_GREY = (
    (15.0, 3, 21, 0.40),
    (30.0, 5, 21, 0.40),
    (45.0, 7, 35, 0.35),
    (75.0, 9, 35, 0.35),
    (100.0, 11, 35, 0.30),
)


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


def _patch_kernel(patch: int, kernel: str) -> np.ndarray:
    """The (patch, patch) weights of the patch distance, summing to 1."""
    if kernel == "flat":
        weights = np.ones((patch, patch))
    else:
        spread = (patch - 1) / 4.0
        offsets = np.arange(patch) - patch // 2
        if spread == 0.0:
            weights = np.ones((1, 1))
        else:
            ramp = np.exp(-offsets**2 / (2.0 * spread**2))
            weights = np.outer(ramp, ramp)
    return weights / weights.sum()


def _distances_and_values(image: np.ndarray, pixel: object, patch: int, search: int,
                          kernel: str) -> tuple[np.ndarray, np.ndarray]:
    """Validated inputs to the (search, search) patch distances and centre values."""
    grey = _grey(image)
    checked = check_params(SPEC, {"patch": patch, "search": search, "kernel": kernel},
                           "non-local means")
    patch, search, kernel = checked["patch"], checked["search"], checked["kernel"]
    row, col = _pixel(pixel, grey.shape)
    half = patch // 2
    # Every patch of the search window lies in this mirrored neighbourhood.
    around = _neighbourhood(grey, (row, col), search // 2 + half)
    patches = sliding_window_view(around, (patch, patch))
    reference = patches[search // 2, search // 2]
    weights = _patch_kernel(patch, kernel)
    distances = np.einsum("ijkl,kl->ij", (patches - reference) ** 2, weights)
    values = around[half:half + search, half:half + search]
    return distances, values


# --------------------------------------------------------------------------- rules

def nlm_h(sigma: float, patch: int = 7) -> float:
    """The default filtering width h for noise ``sigma`` on the [0, 1] scale.

    ``h = f sigma`` with the factor f that Buades, Coll & Morel's IPOL
    table gives to grey images with patches of side ``patch``: 0.40 for
    3x3 and 5x5, 0.35 for 7x7 and 9x9, 0.30 for 11x11 (smaller patches
    take the nearest row, larger ones the last).
    """
    factor = _IPOL_GREY[-1][3]
    for _, side, _, row_factor in _IPOL_GREY:
        if patch <= side:
            factor = row_factor
            break
    return factor * sigma


#: The parameters of NL-means, one spec for every function here (and the method to come).
PATCH = Int("patch", 1, 31, default=7, odd=True,
            help="Side of the square patches compared (odd: a patch has a centre pixel).")
SEARCH = Int("search", 1, 101, default=21, odd=True,
             help="Side of the square search window around the pixel (odd).")
H = Float("h", 0.0, 1.0, rule=nlm_h,
          help="Filtering width on the [0, 1] scale; auto: the IPOL table's factor of sigma "
               "for the patch side.")
KERNEL = Choice("kernel", ("flat", "gaussian"),
                help="How the pixels inside a patch are weighted in its distance.")
SPEC = (PATCH, SEARCH, H, KERNEL)


# --------------------------------------------------------------------------- weights

def patch_distances(image: np.ndarray, pixel: tuple[int, int], *, patch: int = 7,
                    search: int = 21, kernel: str = "flat") -> np.ndarray:
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
    return _distances_and_values(image, pixel, patch, search, kernel)[0]


def _weights_from_distances(distances: np.ndarray, sigma: float, h: float | None,
                            patch: int) -> np.ndarray:
    """NL-means weights from patch distances: bias removed, exponential, normalised."""
    sigma = check_sigma(sigma)
    h = check_params((H,), {"h": h}, "non-local means")["h"]
    if h is None:
        h = nlm_h(sigma, patch)
    excess = np.maximum(distances - 2.0 * sigma * sigma, 0.0)
    if h == 0:
        weights = (excess == 0.0).astype(np.float64)
    else:
        weights = np.exp(-excess / (h * h))
    return weights / weights.sum()


def nlm_weights(image: np.ndarray, pixel: tuple[int, int], sigma: float, *, patch: int = 7,
                search: int = 21, h: float | None = None, kernel: str = "flat") -> np.ndarray:
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
    patch : int
        Side of the square patches compared (odd).
    search : int
        Side of the square search window centred on ``pixel`` (odd).
    h : float, optional
        Filtering width on the [0, 1] scale: a patch whose distance exceeds
        the noise's by ``h²`` gets weight e⁻¹ relative to a perfect match.
        ``None`` applies :func:`nlm_h` (0.35 sigma for 7x7 patches). 0
        keeps only the patches no farther than the noise explains.
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

    Default h: the IPOL table for grey images recommends (patch, search,
    h/sigma) = (3x3, 21x21, 0.40) for sigma_255 <= 15, (5x5, 21x21, 0.40)
    up to 30, (7x7, 35x35, 0.35) up to 45, (9x9, 35x35, 0.35) up to 75 and
    (11x11, 35x35, 0.30) up to 100. The defaults here are a 7x7 patch and
    a 21x21 window (the sizes of the 2005 paper), and :func:`nlm_h` takes
    the factor from the table row with the same patch: 0.35 sigma.

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
    distances, _ = _distances_and_values(image, pixel, patch, search, kernel)
    return _weights_from_distances(distances, sigma, h, int(patch))


def nlm_pixel(image: np.ndarray, pixel: tuple[int, int], sigma: float, *, patch: int = 7,
              search: int = 21, h: float | None = None, kernel: str = "flat") -> float:
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
        ``weights`` those of :func:`nlm_weights`.

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
    distances, values = _distances_and_values(image, pixel, patch, search, kernel)
    weights = _weights_from_distances(distances, sigma, h, int(patch))
    return float(np.sum(weights * values))
