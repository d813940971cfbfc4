"""How noisy is a photograph? The noise-level function and the grain, read from one image.

A camera's noise is not one number. Its variance grows with the light a pixel
received, ``a x + b`` at intensity ``x`` (photon counts and read-out noise,
:class:`~denoisers.noise.PoissonGaussian`), and once the camera has demosaicked
and sharpened the picture, each grain covers several pixels. A denoiser told
one white-noise sigma is told the wrong thing twice; this module measures both
from the noisy image alone.

:func:`fit_noise_level` follows Foi et al. (2008). The image is cut into 2x2
blocks; each block's diagonal Haar detail ``(x00 - x01 - x10 + x11) / 2`` has
the variance of the noise at the block's intensity and none of a plane's
signal. Blocks whose neighbourhood is not close to a plane (edges, texture)
are set aside, by a test that compares what a plane leaves around a block
with the noise expected at its intensity, first from a rough estimate, then
from the fitted curve. The kept blocks are binned by intensity, each bin gives
a robust sigma (the mean square of its details within three sigmas, started
from the median absolute detail over 0.6745), and a line ``var = a x + b`` is
fitted to the bins' variances by weighted least squares, reweighted robustly,
with ``a, b >= 0``. Where the image cannot tell (too flat, too few smooth
areas, no noise, too much clipping, blocks of JPEG compression), the result
says so in a sentence instead of guessing.

:func:`fit_grain` measures correlated noise: the covariance of the noise in
n x n patches, read from the flat patches of the image (those whose
surroundings are flat) once each has lost its best-fitting plane, and its
power spectrum in the 2-D DCT, the quantity that BM3D for correlated noise
(Mäkinen, Azzari and Foi, 2020) needs in place of one sigma. The usual
finest-scale estimate (:func:`~denoisers.noise.estimate_sigma`) reads far less
than the grain holds, since blurred noise leaves little in the finest wavelet
band; both are given.

References
----------
A. Foi, M. Trimeche, V. Katkovnik and K. Egiazarian, "Practical
Poissonian-Gaussian noise modeling and fitting for single-image raw-data",
IEEE TIP 17(10), 2008. https://doi.org/10.1109/TIP.2008.2001399

Y. Mäkinen, L. Azzari and A. Foi, "Collaborative filtering of correlated
noise: exact transform-domain variance for improved shrinkage and patch
matching", IEEE TIP 29, 2020. https://doi.org/10.1109/TIP.2020.3014721
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .core import InvalidInput, as_image
from .noise import MAX_VARIANCE, PoissonGaussian, estimate_sigma

#: The median of |Z| for a standard normal Z: a first robust sigma is the median absolute
#: value of zero-mean samples divided by it.
MAD_TO_SIGMA = 0.6745

#: Each bin's sigma^2 is the mean square of its details within this many sigmas of 0 (the
#: rest, edges that slipped through, are dropped), divided by :data:`TRUNCATED_MOMENT`, the
#: mean square of a standard normal within +-3, and refined :data:`TRUNCATED_ROUNDS` times
#: from the median's first guess. It is 2.3 times more precise than the median's sigma^2.
TRUNCATION = 3.0
TRUNCATED_MOMENT = 0.97334
TRUNCATED_ROUNDS = 3

#: The variance of that estimate of sigma^2 from n normal samples is this times sigma^4 / n
#: (measured over 4000 draws of 500; the plain sample variance's is 2, the median's 5.4).
#: It weights the bins of the fit.
ESTIMATE_VARIANCE = 2.31

#: A block's activity is measured over the NEIGHBOURHOOD x NEIGHBOURHOOD blocks around it
#: (10 x 10 pixels): what a plane through them leaves unexplained (see :func:`_blocks`). For
#: noise alone, activity / sigma^2 is chi^2 with ACTIVITY_DOF degrees of freedom over their
#: number. A 3 x 3 neighbourhood (30 degrees of freedom) let the camera's grass, fainter
#: than the noise, through and inflated mid-grey bins by a quarter; 5 x 5 narrows the
#: statistic's spread enough to see it.
NEIGHBOURHOOD = 5
ACTIVITY_DOF = 4 * NEIGHBOURHOOD**2 - 6

#: A 2x2 block is smooth when its activity is at most this many times the noise variance at
#: its intensity: 1.37 is the 99th percentile of chi^2_94 / 94, so flat noisy areas lose 1 %
#: of their blocks, while an edge or a texture that adds 37 % to the noise's energy around a
#: block is set aside. The activity is independent of the block's diagonal detail for white
#: Gaussian noise (the 2x2 Haar transform is orthonormal), so the test biases nothing.
SMOOTH_THRESHOLD = 1.37

#: The most bins of intensity, and the fewest blocks a bin holds: a bin of 200 gives its
#: sigma^2 to +-11 % (sqrt(2.31 / 200)); 16 such bins pin a line's a and b to a few percent.
NUM_BINS = 16
MIN_PER_BIN = 200

#: The fewest usable bins a fit of a and b needs: two numbers, and at least two bins more to
#: check the line by (the robust reweighting needs bins to compare).
MIN_BINS = 4

#: A bin with more than this fraction of its pixels at exactly 0 or 1 is dropped: there the
#: noise was clipped, which shrinks its spread. Gaussian noise whose mean lies 2 sigma from
#: the limit has 2.3 % of its pixels clipped and its sigma read 2 % low (6.7 % and 5 % low
#: at 1.5 sigma, 0.6 % and 0.5 % at 2.5 sigma).
MAX_CLIPPED = 0.02

#: The narrowest range of intensities (bin means) on which a and b are told apart: over a
#: narrower range the line's intercept b is an extrapolation across several times its length
#: and trades off against a within the bins' scatter, so one sigma is fitted (a = 0).
MIN_SPAN = 0.15

#: Below half a grey level of an 8-bit image (0.5 / 255) nothing is measured: 8-bit rounding
#: alone has a standard deviation of 1 / (255 sqrt(12)) = 0.0011, so what is left is rounding
#: or a smoothed image, not noise to fit.
NOISE_FLOOR = 0.5 / 255

#: Rounds of robust reweighting of the line fit, and the bisquare's tuning constant (95 %
#: efficiency for normal errors); bins whose standardised residual exceeds it get no weight.
FIT_ROUNDS = 10
BISQUARE = 4.685

#: The patch sides :func:`fit_grain` accepts: at least 4 pixels for a plane to leave noise to
#: measure, at most 12 since the least-squares system that undoes the plane removal grows as
#: the fourth power of the side (a 12 x 12 patch: 10 440 equations in 85 autocovariances,
#: built once in about a second).
MIN_PATCH, MAX_PATCH = 4, 12

#: Flat patches are found from their surroundings (see :func:`_flat_residuals`): first the
#: FLAT_START fraction of patches whose 8 non-overlapping neighbours are the calmest, then,
#: with "typical" the median energy (what a plane leaves) of the patches kept, every patch
#: whose neighbours all have at most SURROUND_RATIO times the typical energy and whose own
#: energy is at most FLAT_RATIO times it, until that set stops changing (at most
#: FLAT_ROUNDS rounds).
#:
#: For noise alone a patch's energy is about chi^2 with nu degrees of freedom over nu
#: times its mean: nu = 61 for white noise in 8 x 8 patches, 19 for the 3x3 demosaicking
#: grain. With SURROUND_RATIO = 1.7 the 8 neighbours of a patch of pure noise all pass in
#: 99 % of cases for white noise and 73 % for that grain (the others are lost, not biased:
#: the neighbours' noise is not the patch's), while a texture or an edge that adds 70 % to
#: the noise's energy around a patch keeps it out. FLAT_RATIO = 3 drops a patch that holds
#: a small object of its own and almost no patch of noise (1 in 40 000 for the grain).
FLAT_START = 0.1
SURROUND_RATIO = 1.7
FLAT_RATIO = 3.0
FLAT_ROUNDS = 20

#: The fewest flat patches from which the grain is reported without a warning: 100 patches
#: of 64 pixels give the per-pixel variance to about +-5 % for the demosaicking grain.
MIN_FLAT_PATCHES = 100

#: The noise is called correlated when its per-pixel sigma exceeds the finest-scale estimate
#: by this factor: white noise reads the same on both (within a few percent), the 3x3
#: demosaicking grain reads about 3 times less on the finest scale.
CORRELATED_RATIO = 1.3

#: JPEG codes 8x8 blocks; at low quality it flattens each and leaves steps between them. The
#: mean absolute difference across the block boundaries (every 8th column and row) over the
#: mean one elsewhere, on Set12 with the indoor preset's noise: 0.97 to 1.02 never
#: compressed, 0.95 to 1.14 saved at JPEG quality 75, 1.24 to 1.50 at 50, 2.0 to 2.9 at 10.
#: Above this ratio the compression is called heavy (quality 50 and below).
BLOCKINESS_RATIO = 1.15
#: The side of the blocks JPEG codes.
JPEG_BLOCK = 8

_COMPRESSED = ("The photo looks compressed in 8x8 blocks (JPEG): compression removes noise "
               "unevenly, flattening some blocks and keeping others, so the noise measured "
               "here may be too low, and one σ is used.")

_NO_NOISE = (f"The image holds no measurable noise: its smooth areas vary by less than "
             f"{NOISE_FLOOR * 255:.1f} grey level of 255, so there is no noise to measure.")


@dataclass(frozen=True)
class NoiseFit:
    """The noise-level function of one image: what was measured, and the curve fitted.

    Attributes
    ----------
    model : PoissonGaussian or None
        The fitted ``a`` and ``b`` (variance ``a x + b`` at intensity ``x``); None when the
        image cannot tell (then ``problem`` says why).
    levels : ndarray
        The intensity of each bin (the mean of its blocks' local means), increasing.
    sigmas : ndarray
        The robust noise sigma measured in each bin.
    counts : ndarray
        How many smooth 2x2 blocks each bin holds.
    problem : str or None
        None, or one sentence for a visitor saying what the estimator cannot tell and why.
    """

    model: PoissonGaussian | None
    levels: np.ndarray
    sigmas: np.ndarray
    counts: np.ndarray
    problem: str | None

    def sigma(self, intensity: np.ndarray | float) -> np.ndarray:
        """The fitted noise standard deviation at ``intensity``.

        Parameters
        ----------
        intensity : float or ndarray
            Intensities on the [0, 1] scale (negative ones count as 0).

        Returns
        -------
        ndarray
            The noise sigma ``sqrt(a x + b)`` at each intensity, the shape of ``intensity``.
        """
        if self.model is None:
            raise InvalidInput(f"no noise-level function was fitted: {self.problem}")
        return np.asarray(self.model.sigma(np.asarray(intensity, dtype=np.float64)))


@dataclass(frozen=True)
class GrainFit:
    """The covariance of an image's noise in n x n patches, and its spectrum.

    Attributes
    ----------
    covariance : ndarray, shape (n * n, n * n)
        The noise covariance between the pixels of an n x n patch (flattened row by row);
        stationary: it depends only on the displacement between two pixels.
    sigma : float
        The per-pixel noise sigma, the square root of the covariance's mean diagonal.
    white_sigma : float
        What the usual finest-scale estimate (:func:`~denoisers.noise.estimate_sigma`)
        reads on the same image.
    spectrum : ndarray, shape (n, n)
        The noise power spectrum: the variance of each orthonormal 2-D DCT-II coefficient
        of an n x n patch (row frequency first).
    correlated : bool
        Whether the noise is measurably correlated: ``sigma`` above
        :data:`CORRELATED_RATIO` times ``white_sigma``.
    problem : str or None
        None, or one sentence for a visitor saying what the estimate cannot tell and why.
    """

    covariance: np.ndarray
    sigma: float
    white_sigma: float
    spectrum: np.ndarray
    correlated: bool
    problem: str | None


def fit_noise_level(image: np.ndarray) -> NoiseFit:
    """Fit the noise-level function ``sigma(x) = sqrt(a x + b)`` of one noisy image.

    The method of Foi et al. (2008), simplified: diagonal Haar details of the
    smooth 2x2 blocks, binned by intensity, a robust sigma per bin, and a
    weighted, robustly reweighted line through the bins' variances with
    ``a, b >= 0`` (see the module's docstring). Channels of a colour image are
    pooled, as if they shared one sensor's noise.

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The noisy image, float on the [0, 1] scale (it may leave [0, 1] a little) or an
        integer image.

    Returns
    -------
    NoiseFit
        The fitted model (None when the image cannot tell), the bins it was fitted to, and
        a sentence saying what the estimator could not tell, if anything.
    """
    noisy = as_image(image, name="image").astype(np.float64)
    found = _fitted(noisy)
    if blockiness(noisy) > BLOCKINESS_RATIO:
        return replace(found, problem=_COMPRESSED)
    return found


def _fitted(noisy: np.ndarray) -> NoiseFit:
    """:func:`fit_noise_level` of a float64 image, compression aside."""
    channels = [noisy] if noisy.ndim == 2 else [noisy[..., k] for k in range(3)]
    blocks = [_blocks(channel) for channel in channels]
    intensity, activity, detail, clipped = (np.concatenate(column) for column in zip(*blocks))
    if intensity.size == 0:
        return _unfit(_too_few(0, 0))
    rough = _rough_sigma(intensity, activity, detail)
    if rough.max() < NOISE_FLOOR:
        return _unfit(_NO_NOISE)
    smooth = activity <= SMOOTH_THRESHOLD * rough**2
    first = _fit(intensity[smooth], detail[smooth], clipped[smooth], intensity.size)
    if first.model is None:
        return first
    smooth = activity <= SMOOTH_THRESHOLD * first.model.variance(intensity)
    return _fit(intensity[smooth], detail[smooth], clipped[smooth], intensity.size)


def blockiness(image: np.ndarray) -> float:
    """How much larger the steps across JPEG's 8x8 block boundaries are than the steps
    elsewhere: the mean absolute difference between neighbours across every 8th column
    and row over the mean one elsewhere (about 1 for an image never compressed, or one
    whose grid was moved by resizing).

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The image, float on the [0, 1] scale or an integer image, at least 16 pixels a side
        (smaller images give 1).

    Returns
    -------
    float
        The ratio, channels pooled.
    """
    picture = as_image(image, name="image").astype(np.float64)
    if min(picture.shape[:2]) < 2 * JPEG_BLOCK:
        return 1.0
    across, elsewhere = [], []
    for axis in (0, 1):
        steps = np.abs(np.diff(picture, axis=axis))
        boundary = (np.arange(steps.shape[axis]) % JPEG_BLOCK) == JPEG_BLOCK - 1
        across.append(np.compress(boundary, steps, axis=axis).mean())
        elsewhere.append(np.compress(~boundary, steps, axis=axis).mean())
    return float(np.mean(across) / max(np.mean(elsewhere), 1e-12))


def fit_grain(image: np.ndarray, size: int = 8) -> GrainFit:
    """Measure the covariance and power spectrum of stationary, possibly correlated noise.

    The flat ``size`` x ``size`` patches of each channel (on a grid of stride
    ``size // 2``; a patch is flat when the patches around it are, which leaves
    its own noise out of the choice) lose their best-fitting plane; the sample
    covariance ``S`` of what is left is ``P C P`` with ``P`` the projection that
    removes a plane and ``C`` the noise covariance sought. Stationary noise has
    ``C[i, j] = g(p_i - p_j)``, an autocovariance of the displacement, so
    ``S`` is linear in ``g``, and least squares recovers ``g`` exactly, given
    that the noise is uncorrelated beyond ``size // 2`` pixels in either
    direction (4 for 8 x 8 patches; the demosaicking grain reaches 2): without
    such an assumption a constant or a quadratic added to ``g`` would be
    invisible after the plane removal, and the shorter the range, the steadier
    the solution. Channels are averaged.

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The noisy image, float on the [0, 1] scale or an integer image, at least
        ``size`` x ``size`` pixels.
    size : int
        The side n of the patches, in [:data:`MIN_PATCH`, :data:`MAX_PATCH`].

    Returns
    -------
    GrainFit
        The covariance, the per-pixel sigma, the finest-scale estimate for comparison, the
        DCT power spectrum, whether the noise is correlated, and a sentence saying what the
        estimate could not tell, if anything.
    """
    noisy = as_image(image, name="image").astype(np.float64)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not (
            MIN_PATCH <= size <= MAX_PATCH):
        raise InvalidInput(f"the patch size must be an int in [{MIN_PATCH}, {MAX_PATCH}]; "
                           f"got {size!r}")
    size = int(size)
    if min(noisy.shape[:2]) < size:
        raise InvalidInput(f"the image must be at least {size}x{size} pixels to measure the "
                           f"grain in {size}x{size} patches; got shape {noisy.shape}")
    projection, displacement, solve = _grain_design(size)
    channels = [noisy] if noisy.ndim == 2 else [noisy[..., k] for k in range(3)]
    second_moment = np.zeros((size * size, size * size))
    used = 0
    for channel in channels:
        residuals = _flat_residuals(channel, size, projection)
        second_moment += residuals.T @ residuals
        used += len(residuals)
    upper = np.triu_indices(size * size)
    autocovariance = solve @ (second_moment / max(used, 1))[upper]
    covariance = np.where(displacement >= 0, autocovariance[np.maximum(displacement, 0)], 0.0)
    if used == 0:  # nothing flat to measure: the covariance is unknown, not 0
        covariance = np.full_like(covariance, np.nan)
    sigma = float(np.sqrt(np.maximum(np.mean(np.diag(covariance)), 0.0)))
    dct = _dct_matrix(size)
    transform = np.kron(dct, dct)
    spectrum = np.einsum("ij,jk,ik->i", transform, covariance, transform).reshape(size, size)
    white = estimate_sigma(noisy)
    problem = None
    if used < MIN_FLAT_PATCHES * len(channels):
        problem = (f"Only {used // len(channels)} flat {size}x{size} patches per channel were "
                   f"found (at least {MIN_FLAT_PATCHES} are needed for a steady estimate): the "
                   "image is too small or too busy, and the grain measured is uncertain"
                   f"{' (here unknown)' if used == 0 else ''}.")
    elif sigma < NOISE_FLOOR:
        problem = _NO_NOISE
    correlated = problem is None and sigma > CORRELATED_RATIO * white
    return GrainFit(covariance=covariance, sigma=sigma, white_sigma=white, spectrum=spectrum,
                    correlated=bool(correlated), problem=problem)


def _blocks(channel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per interior 2x2 block of ``channel``: its local intensity (the mean of the block means
    around it), its activity, its diagonal Haar detail, and how many of its pixels sit at
    exactly 0 or 1. Blocks too near the border to have a full neighbourhood are left out.

    The activity gathers, over the n x n blocks around a block (n = :data:`NEIGHBOURHOOD`),
    what a plane cannot explain: the block means' residual from a plane (n^2 - 3 degrees of
    freedom, a quarter of the noise variance each, hence the factor 4), the horizontal and
    the vertical details' spread about their mean (a plane's slope is the same in each
    block: n^2 - 1 each) and the n^2 - 1 neighbours' diagonal details. For noise of variance
    sigma^2 alone the sum is sigma^2 times chi^2 with :data:`ACTIVITY_DOF` degrees of
    freedom; divided by them it estimates sigma^2. None of it involves the block's own
    diagonal detail, which for white Gaussian noise is independent of all of it."""
    height, width = channel.shape[0] // 2 * 2, channel.shape[1] // 2 * 2
    top_left, top_right = channel[0:height:2, 0:width:2], channel[0:height:2, 1:width:2]
    bottom_left, bottom_right = channel[1:height:2, 0:width:2], channel[1:height:2, 1:width:2]
    means = (top_left + top_right + bottom_left + bottom_right) / 4
    vertical = (top_left + top_right - bottom_left - bottom_right) / 2
    horizontal = (top_left - top_right + bottom_left - bottom_right) / 2
    diagonal = (top_left - top_right - bottom_left + bottom_right) / 2
    at_limit = (channel[:height, :width] == 0) | (channel[:height, :width] == 1)
    clipped = at_limit.reshape(height // 2, 2, width // 2, 2).sum(axis=(1, 3))
    side, reach = NEIGHBOURHOOD, NEIGHBOURHOOD // 2
    if min(means.shape) < side:
        empty = np.empty(0)
        return empty, empty, empty, empty
    rows, columns = np.indices(means.shape, dtype=np.float64)
    inner = (slice(reach, -reach), slice(reach, -reach))
    total = _window_sum(means)
    # The sums of the offsets from the window's centre times the means: a plane's slopes.
    along_rows = _window_sum(rows * means) - rows[inner] * total
    along_columns = _window_sum(columns * means) - columns[inner] * total
    moment = side * np.sum((np.arange(side) - reach) ** 2)  # the sum of squared offsets
    plane_residual = (_window_sum(means**2) - total**2 / side**2
                      - (along_rows**2 + along_columns**2) / moment)
    energy = 4 * plane_residual + _spread(vertical) + _spread(horizontal)
    energy += _window_sum(diagonal**2) - diagonal[inner] ** 2
    activity = np.maximum(energy, 0) / ACTIVITY_DOF
    return (total.ravel() / side**2, activity.ravel(), diagonal[inner].ravel(),
            clipped[inner].ravel().astype(np.float64))


def _window_sum(values: np.ndarray) -> np.ndarray:
    """The sum of ``values`` over each window of :data:`NEIGHBOURHOOD` x
    :data:`NEIGHBOURHOOD` that fits in the array (from a summed-area table)."""
    table = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
    table[1:, 1:] = values.cumsum(axis=0).cumsum(axis=1)
    n = NEIGHBOURHOOD
    return table[n:, n:] - table[:-n, n:] - table[n:, :-n] + table[:-n, :-n]


def _spread(values: np.ndarray) -> np.ndarray:
    """The sum of squared deviations from their mean of ``values`` over each window of
    :data:`NEIGHBOURHOOD` x :data:`NEIGHBOURHOOD`."""
    return _window_sum(values**2) - _window_sum(values) ** 2 / NEIGHBOURHOOD**2


def _robust_sigma(values: np.ndarray) -> float:
    """The sigma of zero-mean noise in ``values``, robust to a few outliers: the median's
    estimate, refined by the mean square within :data:`TRUNCATION` sigmas."""
    if values.size == 0:
        return 0.0
    magnitude = np.abs(values)
    sigma = float(np.median(magnitude) / MAD_TO_SIGMA)
    for _ in range(TRUNCATED_ROUNDS):
        kept = values[magnitude <= TRUNCATION * sigma]
        if kept.size == 0:
            break
        sigma = float(np.sqrt(np.mean(kept**2) / TRUNCATED_MOMENT))
    return sigma


def _rough_sigma(intensity: np.ndarray, activity: np.ndarray, detail: np.ndarray) -> np.ndarray:
    """A first noise sigma per block, before anything is fitted: per bin of intensity, the
    robust sigma of the details of its calmer half (activity below the bin's median).
    The activity is independent of the detail for noise, so choosing by it biases nothing;
    it only leaves out edges."""
    groups = np.array_split(np.argsort(intensity, kind="stable"), min(NUM_BINS, intensity.size))
    levels, sigmas = [], []
    for group in groups:
        calm = group[activity[group] <= np.median(activity[group])]
        levels.append(intensity[group].mean())
        sigmas.append(_robust_sigma(detail[calm]))
    return np.interp(intensity, levels, sigmas)


def _fit(intensity: np.ndarray, detail: np.ndarray, clipped: np.ndarray, total: int) -> NoiseFit:
    """Bin the smooth blocks by intensity, measure a robust sigma per bin and fit the line;
    ``total`` is the number of blocks examined (for the messages)."""
    if intensity.size < MIN_BINS * MIN_PER_BIN:
        return _unfit(_too_few(intensity.size, total))
    groups = np.array_split(np.argsort(intensity, kind="stable"),
                            min(NUM_BINS, intensity.size // MIN_PER_BIN))
    levels = np.array([intensity[g].mean() for g in groups])
    sigmas = np.array([_robust_sigma(detail[g]) for g in groups])
    counts = np.array([g.size for g in groups])
    usable = np.array([clipped[g].sum() <= MAX_CLIPPED * 4 * g.size for g in groups])
    levels, sigmas, counts = levels[usable], sigmas[usable], counts[usable]
    if usable.sum() < MIN_BINS:
        return _unfit(f"Only {usable.sum()} of {usable.size} intensity ranges are free of "
                      f"clipping (at least {MIN_BINS} are needed): too much of the image's "
                      "smooth area is pure black or white, where the noise is cut off.",
                      levels, sigmas, counts)
    if np.median(sigmas) < NOISE_FLOOR:
        return _unfit(_NO_NOISE, levels, sigmas, counts)
    span = levels[-1] - levels[0]
    free = span >= MIN_SPAN
    a, b = _fit_line(levels, sigmas**2, counts, free_slope=free)
    problem = None if free else (
        f"The smooth areas span intensities {levels[0]:.2f} to {levels[-1]:.2f} only (at "
        f"least {MIN_SPAN:g} apart is needed to tell noise that grows with the light from "
        "noise that does not): one sigma is given for every intensity.")
    if a + b < NOISE_FLOOR**2:
        return _unfit(_NO_NOISE, levels, sigmas, counts)
    if max(a, b) > MAX_VARIANCE:
        return _unfit(f"The noise measured (a = {a:.3g}, b = {b:.3g}) is stronger than the "
                      f"model describes (each at most {MAX_VARIANCE:g}): the image is "
                      "probably texture rather than noise.", levels, sigmas, counts)
    return NoiseFit(PoissonGaussian(a=a, b=b), levels, sigmas, counts, problem)


def _fit_line(levels: np.ndarray, variances: np.ndarray, counts: np.ndarray, *,
              free_slope: bool) -> tuple[float, float]:
    """``(a, b)`` of ``var = a x + b`` through the bins: least squares weighted by the inverse
    variance of each bin's estimate (:data:`ESTIMATE_VARIANCE` ``var^2 / count``, ``var`` from
    the current line), reweighted
    by a bisquare of the standardised residuals, with ``a, b >= 0`` (and ``a = 0`` unless
    ``free_slope``)."""
    predicted = variances
    robust = np.ones_like(variances)
    a = b = 0.0
    for _ in range(FIT_ROUNDS):
        floor = max(float(predicted.max()), NOISE_FLOOR**2) * 1e-6
        weights = robust * counts / np.maximum(predicted, floor) ** 2
        a, b = _weighted_line(levels, variances, weights, free_slope)
        predicted = a * levels + b
        spread = np.maximum(predicted, floor) * np.sqrt(ESTIMATE_VARIANCE / counts)
        scaled = (variances - predicted) / (spread * BISQUARE)
        robust = np.where(np.abs(scaled) < 1, (1 - scaled**2) ** 2, 0.0)
        if robust.sum() == 0:
            robust = np.ones_like(variances)
    return a, b


def _weighted_line(x: np.ndarray, y: np.ndarray, w: np.ndarray,
                   free_slope: bool) -> tuple[float, float]:
    """Weighted least squares ``y = a x + b`` with ``a, b >= 0``: where the free fit makes a
    term negative, that term is 0 and the other is refitted alone."""
    flat = float(np.sum(w * y) / np.sum(w))
    if not free_slope:
        return 0.0, flat
    sw, sx, sy = np.sum(w), np.sum(w * x), np.sum(w * y)
    sxx, sxy = np.sum(w * x * x), np.sum(w * x * y)
    determinant = sw * sxx - sx * sx
    a = (sw * sxy - sx * sy) / determinant
    b = (sxx * sy - sx * sxy) / determinant
    if a < 0:
        return 0.0, flat
    if b < 0:
        return float(max(sxy / sxx, 0.0)), 0.0
    return float(a), float(b)


def _unfit(problem: str, levels: np.ndarray | None = None, sigmas: np.ndarray | None = None,
           counts: np.ndarray | None = None) -> NoiseFit:
    """A fit that could not be made: the bins measured (none if not given) and why."""
    if levels is None or sigmas is None or counts is None:
        levels, sigmas, counts = np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    return NoiseFit(None, levels, sigmas, counts, problem)


def _too_few(smooth: int, total: int) -> str:
    """The sentence for an image with too few smooth blocks."""
    return (f"Only {smooth} of the image's {total} 2x2 blocks lie in smooth areas (at least "
            f"{MIN_BINS * MIN_PER_BIN} are needed): the image is edges and texture, or too "
            "small, or its grain spreads over several pixels (correlated noise, which no "
            "2x2 block sees alone), and texture cannot be told from noise.")


def _flat_residuals(channel: np.ndarray, size: int, projection: np.ndarray) -> np.ndarray:
    """The flat ``size`` x ``size`` patches of ``channel`` (on a grid of stride ``size // 2``),
    each less its best-fitting plane, one per row.

    A patch is flat when the patches around it, which do not overlap it, are all flat
    (their energy left by the plane at most :data:`SURROUND_RATIO` times the typical), and its
    own energy is not extreme (at most :data:`FLAT_RATIO` times the typical). Judging a patch
    by its surroundings leaves its own noise out of the choice: keeping the patches whose
    own energy is lowest would keep the quietest draws of the noise and read it too low."""
    stride = max(size // 2, 1)
    patches = sliding_window_view(channel, (size, size))[::stride, ::stride]
    grid = patches.shape[:2]
    residuals = patches.reshape(-1, size * size) @ projection
    energy = np.sum(residuals**2, axis=1).reshape(grid)
    step = -(-size // stride)  # grid steps to the nearest patch that does not overlap
    padded = np.pad(energy, step, constant_values=np.inf)
    surround = np.max([padded[step + dr:step + dr + grid[0], step + dc:step + dc + grid[1]]
                       for dr in (-step, 0, step) for dc in (-step, 0, step)
                       if (dr, dc) != (0, 0)], axis=0)
    surrounded = np.isfinite(surround)
    if not surrounded.any():
        return residuals[:0]
    keep = surround <= np.quantile(surround[surrounded], FLAT_START)
    for _ in range(FLAT_ROUNDS):
        typical = np.median(energy[keep])
        wider = (surround <= SURROUND_RATIO * typical) & (energy <= FLAT_RATIO * typical)
        if not wider.any() or np.array_equal(wider, keep):
            break
        keep = wider
    return residuals[keep.ravel()]


@functools.lru_cache(maxsize=None)
def _grain_design(size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``size`` x ``size`` patches: the projection P that removes a plane, the index of
    each pixel pair's displacement class (-1 for displacements beyond ``size // 2`` pixels in
    either direction, where the noise is taken as uncorrelated), and the least-squares operator
    that maps the upper triangle of ``P C P`` to the autocovariance of each class."""
    pixels = size * size
    rows, columns = np.divmod(np.arange(pixels), size)
    centre = (size - 1) / 2
    plane = np.stack([np.ones(pixels), rows - centre, columns - centre], axis=1)
    projection = np.eye(pixels) - plane @ np.linalg.pinv(plane)
    down = rows[:, None] - rows[None, :]
    across = columns[:, None] - columns[None, :]
    flip = (down < 0) | ((down == 0) & (across < 0))
    down, across = np.where(flip, -down, down), np.where(flip, -across, across)
    inner = (down <= size // 2) & (np.abs(across) <= size // 2)
    code = down * (2 * size - 1) + across + size - 1
    classes, displacement = np.unique(np.where(inner, code, -1), return_inverse=True)
    displacement = displacement.reshape(pixels, pixels) - (classes[0] == -1)
    upper = np.triu_indices(pixels)
    design = np.stack([(projection @ (displacement == k) @ projection)[upper]
                       for k in range(displacement.max() + 1)], axis=1)
    return projection, displacement, np.linalg.pinv(design)


def _dct_matrix(size: int) -> np.ndarray:
    """The orthonormal DCT-II matrix: row k is the k-th cosine, so ``D @ x`` transforms x."""
    k, n = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    dct = np.sqrt(2 / size) * np.cos(np.pi * (2 * n + 1) * k / (2 * size))
    dct[0] /= np.sqrt(2)
    return dct
