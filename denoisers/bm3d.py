"""BM3D: group similar blocks into 3-D stacks and filter each stack in a 3-D transform domain.

Dabov, Foi, Katkovnik and Egiazarian (2007) joined the two ideas of the
decade before them: non-local means' observation that a photograph repeats
itself, and the wavelet shrinkage observation that a good transform
concentrates an image into a few large coefficients. BM3D stacks the blocks
that look alike into a 3-D *group*; a 2-D transform of each block followed
by a 1-D transform across the stack makes the group very sparse (the blocks
are nearly the same, so across the stack almost everything lands in the
first coefficient), and shrinking the small coefficients removes the noise
while the few large ones keep the detail every block shares. Each block is
estimated by every group it joins, and the estimates are averaged back.

Two passes: hard thresholding of the noisy groups gives a *basic
estimate*; matching on that cleaner estimate and empirical Wiener shrinkage
of the noisy groups, with the basic estimate's groups as the pilot, gives
the *final estimate*. CBM3D (Dabov et al., ICIP 2007) does the same on a
colour image in a luminance-chrominance space, grouping on the luminance
only and filtering every channel with the same groups.

The block cutting, matching and aggregation are in :mod:`denoisers.patches`.

References
----------
K. Dabov, A. Foi, V. Katkovnik and K. Egiazarian, "Image denoising by sparse
3-D transform-domain collaborative filtering", IEEE Trans. Image Process.
16(8), 2007, pp. 2080-2095. https://doi.org/10.1109/TIP.2007.901238
K. Dabov, A. Foi, V. Katkovnik and K. Egiazarian, "Color image denoising via
sparse 3D collaborative filtering with grouping constraint in
luminance-chrominance space", Proc. IEEE ICIP 2007, pp. I-313-I-316.
https://doi.org/10.1109/ICIP.2007.4378954
M. Lebrun, "An analysis and implementation of the BM3D image denoising
method", Image Processing On Line 2, 2012, pp. 175-213.
https://doi.org/10.5201/ipol.2012.l-bm3d
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft

from . import colour, metrics
from .core import (
    Choice,
    Int,
    InvalidInput,
    Method,
    Param,
    Progress,
    Result,
    View,
    report,
    validated,
)
from .patches import Aggregator, Matches, extract, grid, grid_match, overlap_add
from .threads import in_order, one_torch_thread

if TYPE_CHECKING:
    import torch

FAMILY = "Collaborative filtering"

#: Reference blocks matched and filtered together, a band of whole grid rows (bounds the
#: memory of a band's block spectra).
_BATCH_BLOCKS = 4096

#: Most float32 values in one array of a batch of groups filtered at once (16 MB): arrays
#: above 32 MB get fresh pages from the system, zeroed, on every allocation (glibc's
#: largest mmap threshold); whole bands of colour groups, three channels a batch, took
#: longer than the channels one by one.
_CHUNK_VALUES = 1 << 22

#: From this group length on, the Haar transform's first level is done by hand
#: (:meth:`_Transform.haar`): on 4 M values a product with the 32 x 32 matrix took 8.2 ms,
#: the level and a 16 x 16 product 5.3 (inverse 6.8 and 4.8); at 16 entries and fewer the
#: plain product was as fast or faster.
_HAAR_SPLIT = 32
_ROOT_HALF = math.sqrt(0.5)


# --------------------------------------------------------------------------- profiles

@dataclass(frozen=True)
class StageSettings:
    """The settings of one BM3D pass (Dabov et al. 2007, Table 1).

    Attributes
    ----------
    size : int
        Block side N1, in pixels.
    group : int
        Most blocks in a group, N2 (a power of 2).
    step : int
        Distance between reference blocks, N_step, in pixels.
    tau : float
        Largest block distance (mean squared difference per pixel on the
        0-255 scale) for a block to join a group, tau_match / N1²; see
        :func:`match_threshold`.
    transform : {"dct", "bior1.5"}
        The 2-D transform of each block (:func:`block_transform`).
    """

    size: int
    group: int
    step: int
    tau: float
    transform: str = "dct"


_TRANSFORM_NAMES = {"dct": "DCT", "bior1.5": "bior1.5"}


@dataclass(frozen=True)
class Profile:
    """A BM3D parameter profile: both passes, the hard threshold and the Kaiser window."""

    name: str
    hard: StageSettings
    wiener: StageSettings
    lambda_3d: float
    beta: float = 2.0

    def __str__(self) -> str:
        hard, wiener = self.hard, self.wiener
        return (f"{self.name} (stage 1: {hard.size}x{hard.size} blocks, "
                f"{_TRANSFORM_NAMES[hard.transform]}, up to {hard.group} per group, "
                f"step {hard.step}, tau {hard.tau:g} + 2 sigma², "
                f"lambda_3D {self.lambda_3d:g}; stage 2: {wiener.size}x{wiener.size} blocks, "
                f"{_TRANSFORM_NAMES[wiener.transform]}, up to {wiener.group}, "
                f"step {wiener.step}, tau {wiener.tau:g}; Kaiser beta {self.beta:g})")


#: The profiles of Dabov et al. (2007), Table 1: "normal", and "high", the
#: paper's set for sigma > 40 (larger blocks, a higher threshold, looser
#: matching). The 2-D transform of the first pass is the paper's: bior1.5
#: for 8x8 blocks, the DCT for 12x12.
PROFILES: dict[str, Profile] = {
    "normal": Profile("normal", StageSettings(8, 16, 3, 2500.0, "bior1.5"),
                      StageSettings(8, 32, 3, 400.0), lambda_3d=2.7),
    "high": Profile("high", StageSettings(12, 16, 4, 5000.0),
                    StageSettings(11, 32, 6, 3500.0), lambda_3d=2.8),
}


# --------------------------------------------------------------------------- transforms

def dct_matrix(size: int) -> np.ndarray:
    """The orthonormal DCT-II matrix D (size x size): ``D @ x`` is the DCT of ``x``."""
    return fft.dct(np.eye(size), norm="ortho", axis=0)


def haar_matrix(size: int) -> np.ndarray:
    """The orthonormal 1-D Haar transform matrix (size x size) for ``size`` a power of 2.

    Row 0 is the mean (DC) direction; then the differences, coarse to fine.
    """
    if size < 1 or size & (size - 1):
        raise InvalidInput(f"the Haar transform needs a power of 2; got {size}")
    matrix = np.ones((1, 1))
    while matrix.shape[0] < size:
        half = matrix.shape[0]
        matrix = np.vstack([np.kron(matrix, [1.0, 1.0]),
                            np.kron(np.eye(half), [1.0, -1.0])]) / math.sqrt(2.0)
    return matrix


def kaiser_window(size: int, beta: float) -> np.ndarray:
    """The separable 2-D Kaiser window (size x size) that weights a block's pixels."""
    window = np.kaiser(size, beta)
    return np.outer(window, window)


#: Analysis filters of the biorthogonal spline wavelet bior1.5 (Cohen, Daubechies
#: & Feauveau 1992): a smooth 10-tap low-pass and the Haar high-pass.
_BIOR15_LOW = np.array([3, -3, -22, 22, 128, 128, 22, -22, -3, 3]) / (128 * math.sqrt(2.0))
_BIOR15_HIGH = np.array([0, 0, 0, 0, -1, 1, 0, 0, 0, 0]) / math.sqrt(2.0)
#: Where the 10 taps sit relative to sample 2k: half the filter's length (10 // 2 = 5).
_BIOR15_SHIFT = _BIOR15_LOW.size // 2


def bior15_matrix(size: int) -> np.ndarray:
    """The bior1.5 wavelet transform matrix (size x size), full periodic decomposition.

    ``size`` is a power of 2. Row order: the coarsest approximation, then the
    details from coarse to fine (as ``pywt.wavedec`` orders them); every row
    is scaled to unit norm, so white noise of variance sigma² gives every
    coefficient the variance sigma². The transform is not orthogonal: its
    inverse is the matrix inverse.
    """
    if size < 2 or size & (size - 1):
        raise InvalidInput(f"the bior1.5 transform needs a power of 2 >= 2; got {size}")
    matrix = np.eye(size)
    length = size
    taps = np.arange(_BIOR15_LOW.size)
    # Output k of a level is the filter's correlation with the signal around sample 2k:
    # tap t meets sample 2k + _BIOR15_SHIFT - t (periodically), the alignment that makes this
    # matrix PyWavelets' wavedec(mode="periodization") exactly (tests/test_bm3d.py).
    while length > 1:
        half = length // 2
        level = np.eye(size)
        level[:length, :length] = 0.0
        for k in range(half):
            samples = (2 * k + _BIOR15_SHIFT - taps) % length
            np.add.at(level, (k, samples), _BIOR15_LOW)
            np.add.at(level, (half + k, samples), _BIOR15_HIGH)
        matrix = level @ matrix
        length = half
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def block_transform(size: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The 1-D transform of a block side and its inverse: "dct", or "bior1.5" (power of 2 sides).

    A "bior1.5" request for a side that is not a power of 2 gets the DCT.
    """
    if name == "bior1.5" and size >= 2 and not size & (size - 1):
        forward = bior15_matrix(size)
        return forward, np.linalg.inv(forward)
    forward = dct_matrix(size)
    return forward, forward.T


class _Transform:
    """The separable 3-D transform of groups (g, ..., n*n), group axis first: a 2-D transform
    per block, then the Haar transform along g.

    The 2-D transform is the 1-D one applied to the rows and the columns of
    each block, a product with the Kronecker square of its matrix. With the
    group axis first, each step is one matrix product over a whole batch,
    whatever lies between (groups, channels): the blocks as the rows of a
    (g x batch, n²) matrix, then the Haar matrix times the (g, batch x n²)
    matrix. The products run in torch on one thread
    (:func:`~denoisers.threads.one_torch_thread`): the bands of a pass run
    side by side on threads of their own instead (:func:`_run_pass`).
    """

    def __init__(self, size: int, name: str) -> None:
        import torch

        forward, inverse = block_transform(size, name)
        self.size = size
        # vec(T B T^T) = (T kron T) vec(B) for row-major vec; a row of blocks times its transpose.
        self._block = torch.from_numpy(np.kron(forward, forward).T.astype(np.float32))
        self._block_inverse = torch.from_numpy(np.kron(inverse, inverse).T.astype(np.float32))
        self._haar: dict[int, torch.Tensor] = {}

    def _haar_matrix(self, length: int) -> torch.Tensor:
        """The orthonormal Haar matrix (length x length), float32, built once per length."""
        import torch

        if length not in self._haar:
            self._haar[length] = torch.from_numpy(haar_matrix(length).astype(np.float32))
        return self._haar[length]

    def blocks(self, values: np.ndarray) -> np.ndarray:
        """The 2-D transform of every block of ``values`` (..., n²), float32."""
        return _rows_times(values, self._block)

    def blocks_inverse(self, spectra: np.ndarray) -> np.ndarray:
        """The blocks (..., n²), float32, of their 2-D spectra (..., n²)."""
        return _rows_times(spectra, self._block_inverse)

    def windowed_blocks(self, spectra: np.ndarray, window: np.ndarray) -> np.ndarray:
        """The blocks of 2-D spectra (corners, C, n²), each pixel times ``window`` (n, n), laid
        out pixel first, (C, n², corners) float32: the layout
        :func:`~denoisers.patches.overlap_add` takes, straight out of one matrix product."""
        import torch

        matrix = (self._block_inverse * torch.from_numpy(
            np.asarray(window, np.float32).ravel())).T
        values = _tensor(spectra)
        blocks = torch.empty(values.shape[1], values.shape[2], values.shape[0])
        with one_torch_thread():
            for c, channel in enumerate(blocks):  # one product a channel: no copy of the input
                torch.mm(matrix, values[:, c].T, out=channel)
        return blocks.numpy()

    def haar(self, values: np.ndarray) -> np.ndarray:
        """The Haar transform, float32, of ``values`` (g, ...) along their first axis.

        From :data:`_HAAR_SPLIT` entries on, the first level is done by hand: the Haar
        transform of g entries is that of the g / 2 sums of neighbouring pairs, then their
        g / 2 differences, all over the root of 2, which leaves the matrix product a
        quarter of its operations.
        """
        length = len(values)
        if length < _HAAR_SPLIT:
            return _group_times(self._haar_matrix(length), values)
        import torch

        pairs = _tensor(values).reshape(length // 2, 2, -1)
        first, second = pairs[:, 0], pairs[:, 1]
        out = torch.empty(length, pairs.shape[-1])
        with one_torch_thread():
            torch.mm(self._haar_matrix(length // 2), (first + second).mul_(_ROOT_HALF),
                     out=out[:length // 2])
            torch.sub(first, second, out=out[length // 2:]).mul_(_ROOT_HALF)
        return out.numpy().reshape(values.shape)

    def haar_inverse(self, values: np.ndarray) -> np.ndarray:
        """The inverse of :meth:`haar`, its first level by hand likewise."""
        length = len(values)
        if length < _HAAR_SPLIT:
            return _group_times(self._haar_matrix(length).T, values)
        import torch

        spectrum = _tensor(values).reshape(length, -1)
        differences = spectrum[length // 2:]
        out = torch.empty(length // 2, 2, spectrum.shape[-1])
        with one_torch_thread():
            sums = self._haar_matrix(length // 2).T @ spectrum[:length // 2]
            torch.add(sums, differences, out=out[:, 0]).mul_(_ROOT_HALF)
            torch.sub(sums, differences, out=out[:, 1]).mul_(_ROOT_HALF)
        return out.numpy().reshape(values.shape)

    def forward(self, groups: np.ndarray) -> np.ndarray:
        """The 3-D spectrum (g, ..., n²), float32, of groups (g, ..., n²)."""
        return self.haar(self.blocks(groups))

    def inverse(self, spectrum: np.ndarray) -> np.ndarray:
        """The groups (g, ..., n²), float32, of a 3-D spectrum (g, ..., n²)."""
        return self.blocks_inverse(self.haar_inverse(spectrum))


def _tensor(values: np.ndarray) -> torch.Tensor:
    """``values`` as a contiguous float32 tensor sharing their memory where it can: a
    read-only array (a view of the noisy image, say) is copied, since torch cannot wrap
    one without a warning."""
    import torch

    values = np.ascontiguousarray(values, np.float32)
    return torch.from_numpy(values if values.flags.writeable else values.copy())


def _rows_times(values: np.ndarray, matrix: torch.Tensor) -> np.ndarray:
    """``values @ matrix`` for values (..., n), one float32 matrix product on one torch thread."""
    with one_torch_thread():
        product = _tensor(values).reshape(-1, values.shape[-1]) @ matrix
    return product.numpy().reshape(*values.shape[:-1], matrix.shape[1])


def _group_times(matrix: torch.Tensor, values: np.ndarray) -> np.ndarray:
    """``matrix`` (g x g) applied along the first axis of values (g, ...), float32, as one
    matrix product on one torch thread."""
    with one_torch_thread():
        product = matrix @ _tensor(values).reshape(len(values), -1)
    return product.numpy().reshape(values.shape)


# --------------------------------------------------------------------------- filters

def _hard_threshold(spectrum: np.ndarray, threshold: float | np.ndarray, *,
                    overwrite: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hard-threshold the 3-D spectra (g, ..., n²) of groups at ``threshold``.

    ``threshold`` broadcasts against the trailing axes (one per channel,
    shape (C, 1) for spectra (g, s, C, n²)). Returns the thresholded
    spectra, the aggregation weight of each group, shape (...) (1 / the
    number of coefficients kept, or 1 if none is) and the mask of the kept
    coefficients. With ``overwrite`` the thresholded spectra are written
    over ``spectrum`` (a temporary of the caller's), sparing an array as
    large.
    """
    kept = np.abs(spectrum) > threshold
    retained = np.count_nonzero(kept, axis=(0, -1))
    weights = 1.0 / np.maximum(retained, 1).astype(np.float32)
    shrunk = np.multiply(spectrum, kept, out=spectrum if overwrite else None)
    return shrunk, weights, kept


def _wiener_shrink(spectrum: np.ndarray, pilot: np.ndarray, sigma: float | np.ndarray, *,
                   overwrite: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical Wiener shrinkage of the 3-D spectra (g, ..., n²) of noisy groups with the
    spectra of the pilot's groups.

    ``sigma`` broadcasts like the threshold of :func:`_hard_threshold`.
    Returns the shrunk spectra, the aggregation weight of each group, shape
    (...) (1 / ||W||²) and the shrinkage factors W, in [0, 1]. With
    ``overwrite`` they are written over ``spectrum`` and ``pilot``
    (temporaries of the caller's): on a chunk of groups that took half the
    time of new arrays.
    """
    variance = np.square(np.maximum(sigma, 1e-6)).astype(np.float32)
    factors = np.square(pilot, out=pilot if overwrite else None)  # the pilot's energy, then W
    np.divide(factors, factors + variance, out=factors)
    norm = np.einsum("g...k,g...k->...", factors, factors)
    weights = 1.0 / np.maximum(norm, 1e-12)
    return np.multiply(factors, spectrum, out=spectrum if overwrite else None), weights, factors


def coefficient_sigmas(covariance: np.ndarray, settings: StageSettings,
                       shape: tuple[int, ...]) -> np.ndarray:
    """The noise's standard deviation in each coefficient of a pass's 2-D block transform.

    For noise of covariance C in N1 x N1 blocks (row-major), coefficient k of
    the transform T has variance ``(T C T^T)_kk``; white noise of variance
    sigma² gives sigma² in every coefficient of an orthonormal transform.

    Parameters
    ----------
    covariance : ndarray, shape (N1², N1²)
        The noise's covariance in blocks of the pass's side, on the [0, 1]
        scale; symmetric, positive semi-definite.
    settings : StageSettings
        The pass: its block side and 2-D transform.
    shape : tuple of int
        The image's shape (blocks larger than the image shrink to it, and the
        covariance must be for the blocks used).

    Returns
    -------
    ndarray, shape (N1²,)
        The standard deviations, float64, row-major over the coefficients.
    """
    size = min(settings.size, *shape[:2])
    covariance = np.asarray(covariance, dtype=np.float64)
    if covariance.shape != (size * size, size * size):
        raise InvalidInput(f"the noise covariance must be for {size}x{size} blocks, shape "
                           f"({size * size}, {size * size}); got {covariance.shape}")
    if not np.isfinite(covariance).all() or not np.allclose(covariance, covariance.T,
                                                            atol=1e-9):
        raise InvalidInput("the noise covariance must be a finite symmetric matrix")
    forward, _ = block_transform(size, settings.transform)
    transform = np.kron(forward, forward)
    variances = np.einsum("ij,jk,ik->i", transform, covariance, transform)
    if variances.min() < -1e-9 or variances.max() > 1:
        raise InvalidInput("the noise covariance must give every coefficient a variance in "
                           "[0, 1] on the [0, 1] scale")
    return np.sqrt(np.clip(variances, 0, None))


def match_threshold(settings: StageSettings, sigma: float) -> float:
    """The largest block distance (mean squared difference per pixel, [0, 1] scale) in a group.

    ``tau_match / N1²`` of the profile plus ``2 sigma²``, the mean squared
    difference that independent noise of standard deviation ``sigma`` adds
    between two blocks (``sigma`` = 0 when matching on the basic estimate).
    """
    return settings.tau / 255.0**2 + 2.0 * sigma**2


def _group_sizes(matches: Matches, settings: StageSettings, sigma: float) -> np.ndarray:
    """The size of each group: the largest power of 2 <= the matches within tau (and <= N2)."""
    tau = match_threshold(settings, sigma)
    count = np.minimum(matches.count(tau), settings.group)
    return (2 ** np.floor(np.log2(count))).astype(np.int64)


# --------------------------------------------------------------------------- the two passes

def _run_pass(channels: np.ndarray, pilot: np.ndarray | None, sigmas: np.ndarray,
              settings: StageSettings, profile: Profile, radius: int,
              progress: Progress | None, span: tuple[float, float]
              ) -> tuple[np.ndarray, np.ndarray]:
    """One BM3D pass over channels (C, H, W): hard thresholding, or Wiener with a pilot.

    Block matching runs on channel 0 (the luminance) of the noisy image, or
    of the pilot in the Wiener pass; every channel is filtered with the same
    groups and its own sigma, all channels in one batch. The bands of
    reference blocks are matched and filtered on several threads
    (:func:`~denoisers.threads.in_order`) and added in order. Progress goes from
    ``span[0]`` to ``span[1]``. Returns the estimate per channel and the
    aggregation weights of channel 0.
    """
    n_channels, height, width = channels.shape
    size = min(settings.size, height, width)
    guide = channels[0] if pilot is None else pilot[0]
    # the luminance's per-pixel sigma: the root of its coefficients' mean variance
    match_sigma = float(np.sqrt(np.mean(np.square(sigmas[0])))) if pilot is None else 0.0
    transform = _Transform(size, settings.transform)
    accumulators = [Aggregator((height, width), kaiser_window(size, profile.beta))
                    for _ in range(n_channels)]

    def filtered(band: tuple[np.ndarray, np.ndarray]) -> BandSums:
        matches = grid_match(guide, *band, size=size, radius=radius, k=settings.group)
        lengths = _group_sizes(matches, settings, match_sigma)
        return _filter_band(transform, channels, pilot, matches, lengths, sigmas, profile)

    bands = _reference_bands(height, width, size, settings.step)
    for done, sums in enumerate(in_order(filtered, bands)):
        sums.add_to(accumulators)
        report(progress, span[0] + (span[1] - span[0]) * (done + 1) / len(bands))
    return np.stack([a.result() for a in accumulators]), accumulators[0].weights


def _reference_bands(height: int, width: int, size: int,
                     step: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The reference blocks of the grid, in bands of whole grid rows of at most
    :data:`_BATCH_BLOCKS` blocks: each band's grid rows and the grid columns."""
    rows_grid, cols_grid = grid(height, size, step), grid(width, size, step)
    per_band = max(1, _BATCH_BLOCKS // len(cols_grid))
    return [(rows_grid[first:first + per_band], cols_grid)
            for first in range(0, len(rows_grid), per_band)]


@dataclass(frozen=True)
class BandSums:
    """The filtered blocks of one band's groups, overlap-added, every channel.

    Attributes
    ----------
    totals : ndarray (C, R + n - 1, W)
        At each pixel of the rows ``top`` to ``top + R + n - 1``, in channel c,
        the sum of weight x window x block over the band's filtered blocks.
    weights : ndarray (R, W - n + 1, C)
        At [i, j, c], the sum of the aggregation weights of the filtered blocks
        with their corner at (top + i, j), in channel c.
    top : int
        The image row of the first corner row.
    """

    totals: np.ndarray
    weights: np.ndarray
    top: int

    def add_to(self, accumulators: list[Aggregator]) -> None:
        """Add the band into the accumulator of each channel."""
        for c, accumulator in enumerate(accumulators):
            accumulator.add_rectangle(self.totals[c], self.weights[:, :, c], self.top, 0)


def _filter_band(transform: _Transform, channels: np.ndarray, pilot: np.ndarray | None,
                 matches: Matches, lengths: np.ndarray, sigmas: np.ndarray,
                 profile: Profile) -> BandSums:
    """Filter the groups of one band of reference blocks (their ``matches`` and group
    ``lengths``) in every channel (C, H, W): the filtered blocks, overlap-added.

    Every block of the band's groups has its corner in the rows ``top`` to
    ``bottom`` of the matches. The 2-D transform is linear and the same in
    every group, so each of those blocks is transformed once
    (:func:`_block_spectra`) and a group gathers its blocks' spectra; the
    groups of one length are then Haar-transformed, filtered and transformed
    back along the group at once. Likewise the filtered blocks, weighted,
    are summed per corner in the 2-D transform domain, and each corner's sum
    gets one inverse 2-D transform (the Kaiser window folded into its matrix),
    instead of every block of every group; the corners' blocks are then
    overlap-added (:func:`~denoisers.patches.overlap_add`), here on the
    band's thread, and :meth:`BandSums.add_to` adds the band into the image.
    Only the corners some group holds are transformed, either way: about
    half of the band's (on a 768x512 photograph at sigma 25, 40 to 48 %).
    """
    size, n_channels = transform.size, len(channels)
    top, bottom = int(matches.rows.min()), int(matches.rows.max()) + 1
    width = channels.shape[2] - size + 1
    corners = (matches.rows - top) * width + matches.cols  # (groups, N2) in the band's rows
    held = np.zeros((bottom - top) * width, bool)
    held[corners[np.arange(corners.shape[1]) < lengths[:, None]]] = True
    used = np.flatnonzero(held)  # sorted, as np.unique would give them, without sorting
    position = np.cumsum(held) - 1  # of each used corner in `used`
    at = (top + used // width, used % width)
    spectra = _block_spectra(transform, channels, *at)  # (used, C, n²)
    pilot_spectra = None if pilot is None else _block_spectra(transform, pilot, *at)
    sums = np.zeros_like(spectra)
    weight_sums = np.zeros(spectra.shape[:2])
    sigmas = np.asarray(sigmas, np.float64)
    if sigmas.ndim == 1:
        sigmas = sigmas[:, None]  # (C, 1): broadcast over n²; (C, n²) for correlated noise
    for length in np.unique(lengths):
        chosen = np.flatnonzero(lengths == length)
        per_chunk = max(1, _CHUNK_VALUES // (length * spectra[0].size))
        for first in range(0, len(chosen), per_chunk):
            part = chosen[first:first + per_chunk]
            # (length, groups) indices into `used`, the group axis first (_Transform)
            index = position[corners[part, :length]].T
            filtered, weights = _filter_groups(transform, spectra, pilot_spectra, index, sigmas,
                                               profile)
            _add_at(sums, index, filtered)
            _add_at(weight_sums, index, np.broadcast_to(weights, (*index.shape, n_channels)))
    by_pixel = np.zeros((n_channels, size * size, (bottom - top) * width), np.float32)
    by_pixel[:, :, used] = transform.windowed_blocks(sums, kaiser_window(size, profile.beta))
    totals = overlap_add(by_pixel.reshape(n_channels, size * size, bottom - top, width))
    corner_weights = np.zeros(((bottom - top) * width, n_channels))
    corner_weights[used] = weight_sums
    return BandSums(totals, corner_weights.reshape(bottom - top, width, n_channels), top)


def _filter_groups(transform: _Transform, spectra: np.ndarray, pilot_spectra: np.ndarray | None,
                   index: np.ndarray, sigmas: np.ndarray, profile: Profile
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Filter the groups of blocks ``index`` (length, groups) into the block spectra
    (corners, C, n²): hard thresholding, or Wiener shrinkage with the pilot's spectra, each
    channel with its sigma (C, 1). Returns the filtered block spectra (length, groups, C,
    n²), each times its group's aggregation weight, and the weights (groups, C)."""
    spectrum = transform.haar(np.take(spectra, index, axis=0))
    if pilot_spectra is None:
        shrunk, weights, _ = _hard_threshold(
            spectrum, (profile.lambda_3d * sigmas).astype(np.float32), overwrite=True)
    else:
        shrunk, weights, _ = _wiener_shrink(
            spectrum, transform.haar(np.take(pilot_spectra, index, axis=0)), sigmas,
            overwrite=True)
    filtered = transform.haar_inverse(shrunk)
    filtered *= weights[..., None]
    return filtered, weights


def _block_spectra(transform: _Transform, channels: np.ndarray, rows: np.ndarray,
                   cols: np.ndarray) -> np.ndarray:
    """The 2-D transforms (blocks, C, n²), float32, of the blocks of channels (C, H, W) with
    their corners at ``rows``, ``cols``."""
    size = transform.size
    windows = np.moveaxis(sliding_window_view(channels, (size, size), axis=(1, 2)), 0, 2)
    return transform.blocks(windows[rows, cols].reshape(len(rows), len(channels), size * size))


def _add_at(sums: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``sums[index] += values``, repeated indices adding up: sums (n, ...), C-contiguous,
    and values index.shape + (...), by ``torch.index_add_`` on one thread (in index
    order)."""
    import torch

    flat = sums.reshape(len(sums), -1)
    added = np.ascontiguousarray(values, sums.dtype).reshape(index.size, flat.shape[1])
    with one_torch_thread():
        torch.from_numpy(flat).index_add_(0, torch.from_numpy(index.ravel()),
                                          torch.from_numpy(added))


def _groups(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int) -> np.ndarray:
    """Groups (g, s, size²) of ``image`` at corners rows, cols (g, s), the group axis first
    (:class:`_Transform`)."""
    return extract(image, rows, cols, size).reshape(*rows.shape, size * size)


def _snap(probe: tuple[int, int], rows: np.ndarray, cols: np.ndarray,
          size: int) -> tuple[int, int]:
    """The grid block whose centre lies nearest to the probe pixel."""
    row = rows[np.argmin(np.abs(rows + (size - 1) / 2 - probe[0]))]
    col = cols[np.argmin(np.abs(cols + (size - 1) / 2 - probe[1]))]
    return int(row), int(col)


def _group_view(image: np.ndarray, pilot: np.ndarray | None, sigma: float,
                settings: StageSettings, profile: Profile, radius: int,
                probe: tuple[int, int]) -> dict:
    """One pass's group of the grid block nearest ``probe``: its blocks, spectrum and filter.

    Block matching for that one reference block, exactly as :func:`_run_pass`
    does it for every block (on ``image``, or on ``pilot`` in the Wiener
    pass), costs one search window instead of a whole pass.
    """
    height, width = image.shape
    size = min(settings.size, height, width)
    row, col = _snap(probe, grid(height, size, settings.step), grid(width, size, settings.step),
                     size)
    match_sigma = sigma if pilot is None else 0.0
    matches = grid_match(image if pilot is None else pilot, np.array([row]), np.array([col]),
                         size=size, radius=radius, k=settings.group)
    length = int(_group_sizes(matches, settings, match_sigma)[0])
    rows, cols = matches.rows[:, :length].T, matches.cols[:, :length].T  # (g, 1)
    transform = _Transform(size, settings.transform)
    shape = (length, size, size)
    groups = _groups(image, rows, cols, size)
    spectrum = transform.forward(groups)
    trace = {"block": (row, col), "block size": size,
             "matched blocks": np.concatenate([rows, cols], axis=1),
             "match distances": matches.distances[0, :length].astype(np.float32),
             "group": groups.reshape(shape), "spectrum": spectrum.reshape(shape)}
    if pilot is None:
        threshold = profile.lambda_3d * sigma
        shrunk, _, kept = _hard_threshold(spectrum, threshold)
        trace.update({"thresholded spectrum": shrunk.reshape(shape),
                      "threshold": threshold,
                      "retained coefficients": int(kept.sum())})
    else:
        basic = _groups(pilot, rows, cols, size)
        basic_spectrum = transform.forward(basic)
        shrunk, _, factors = _wiener_shrink(spectrum, basic_spectrum, sigma)
        trace.update({"basic group": basic.reshape(shape),
                      "basic spectrum": basic_spectrum.reshape(shape),
                      "Wiener factors": factors.reshape(shape),
                      "shrunk spectrum": shrunk.reshape(shape)})
    trace["filtered group"] = transform.inverse(shrunk).reshape(shape)
    trace["match threshold"] = match_threshold(settings, match_sigma)
    return trace


# --------------------------------------------------------------------------- the method

#: The parameters of :func:`bm3d`, checked by every call (its Method's spec).
BM3D: tuple[Param, ...] = (
    Choice("profile", ("normal", "high"), default="normal",
           help=("The paper's parameter set: normal (8x8 blocks) or high (12x12 and "
                 "11x11 blocks, a higher threshold), which the paper used above "
                 "sigma 40; here normal does better at every sigma.")),
    Int("search", 7, 75, default=39, odd=True,
        help=("Side of the search window for similar blocks, in pixels (odd: the "
              "reference block's corner is at its centre). Larger finds more look-alikes "
              "and costs time as its square.")),
)


@validated(BM3D)
def bm3d(noisy: np.ndarray, sigma: float, *, profile: str = "normal", search: int = 39,
         trace: bool = False, progress: Progress | None = None,
         reference: np.ndarray | None = None,
         noise_covariance: np.ndarray | None = None) -> Result:
    """BM3D (grey) and CBM3D (colour): collaborative filtering of groups of similar blocks.

    Parameters
    ----------
    noisy : ndarray, shape (H, W) or (H, W, 3)
        The noisy image, of any float or integer type (the result is float32
        whatever it was); a colour image is filtered as CBM3D.
    sigma : float
        Noise standard deviation on the [0, 1] scale; sets the thresholds.
    profile : {"normal", "high"}
        The parameter set of Dabov et al. (2007), Table 1: "normal" (8x8
        blocks), or "high" (12x12 and 11x11 blocks, a higher threshold and
        looser matching), which the paper uses above sigma = 40 on the
        0-255 scale; see Notes.
    search : int
        Side of the square search window of block matching, in pixels, odd
        (7 to 75): candidate blocks have their corner within ``search // 2``
        rows and columns of the reference's. The paper's is 39.
    trace : bool
        Also return both estimates and the aggregation weights;
        :func:`bm3d_groups` shows the groups of one block.
    progress : callable, optional
        Receives the fraction done after each band of reference blocks.
    reference : ndarray, optional
        The clean image, for the trace only: with it, the curve ``"PSNR
        (dB)"`` gives the PSNR after each pass. The estimate never depends
        on it.
    noise_covariance : ndarray, shape (N1², N1²), optional
        For correlated noise: the covariance of the noise (per RGB channel)
        in N1 x N1 blocks, row-major (:func:`denoisers.noise_level.fit_grain`
        estimates it from the image). Each 2-D transform coefficient is then
        thresholded and shrunk with its own sigma, the root of the diagonal
        of ``T C T^T`` (Mäkinen, Azzari & Foi 2020), and ``sigma`` is
        replaced by the noise's per-pixel level for block matching.

    Returns
    -------
    Result
        ``image``: the final estimate. With ``trace``: stages ``"basic
        estimate"`` (after hard thresholding, the oracle of the second
        pass), ``"final estimate"`` (after Wiener filtering) and
        ``"aggregation weights"`` (the total weight each pixel of the final
        estimate received); ``extras["profile"]`` is the :class:`Profile`
        used. For a colour image the weights are the luminance channel's.

    Notes
    -----
    **Stage 1, hard thresholding.** Reference blocks of N1 x N1 pixels lie on
    a grid of step N_step (plus the last row and column, so that every pixel
    is covered). For each, block matching finds, within the search window,
    the N2 blocks of the noisy image nearest to it in mean squared
    difference, the reference itself first, keeps those within the match
    threshold and cuts the group to the largest power of 2. The group's 3-D
    transform is a 2-D transform of each block (the bior1.5 wavelet for 8x8
    blocks, as in the paper, or the DCT) followed by the orthonormal 1-D
    Haar transform along the group; coefficients below lambda_3D sigma are
    set to zero, and the inverse transform gives an estimate of every block
    of the group. Each estimate is added into the image with the weight
    ``1 / N_kept`` (a group that kept few coefficients is smooth, hence
    reliable) times a Kaiser window (beta = 2) that plays down block edges;
    dividing by the summed weights gives the *basic estimate*.

    **Stage 2, Wiener filtering.** Block matching runs again, on the basic
    estimate, with a tighter threshold and up to N2 = 32 blocks. The same
    blocks are cut from the noisy image and from the basic estimate; the
    shrinkage ``W = |T(basic)|² / (|T(basic)|² + sigma²)`` per coefficient of
    the orthonormal 3-D transform (2-D DCT, then Haar), applied to the noisy
    group's spectrum, is the empirical Wiener filter with the basic estimate
    as the oracle. Weights ``1 / ||W||²`` times the Kaiser window aggregate
    the *final estimate*.

    **Colour (CBM3D).** The image is taken to the opponent space of
    :mod:`denoisers.colour` (a luminance and two chrominances, whose noise
    stays white, of standard deviation sigma x (0.577, 0.707, 0.612)).
    Block matching runs on the luminance only, where the signal-to-noise
    ratio is highest; every group is cut from all three channels, each
    filtered with its own sigma, and the result is taken back to RGB.

    **Profiles** (Dabov et al. 2007, Table 1; tau_match is given, as in the
    paper, for the mean squared difference per pixel on the 0-255 scale):

    ======= ====== === === ====== ========= ========= ======== ====
    profile pass   N1  N2  N_step tau_match 2-D       lambda3D beta
    ======= ====== === === ====== ========= ========= ======== ====
    normal  hard   8   16  3      2500      bior1.5   2.7      2.0
    normal  Wiener 8   32  3      400       DCT       --       2.0
    high    hard   12  16  4      5000      DCT       2.8      2.0
    high    Wiener 11  32  6      3500      DCT       --       2.0
    ======= ====== === === ====== ========= ========= ======== ====

    The search window is 39 x 39 in every pass (the ``search`` parameter).
    Blocks larger than the image are shrunk to its side (bior1.5 needs a
    power of 2; other sides get the DCT).

    The one change from the paper: the first pass compares the noisy blocks
    with the match threshold ``tau_match + 2 sigma²``
    (:func:`match_threshold`). The noise of two blocks adds 2 sigma² to
    their mean squared difference on average, so the threshold applies to
    the difference of the underlying clean blocks. The paper's normal
    profile uses tau_match alone, and its high profile hard-thresholds each
    block's 2-D spectrum before comparing (lambda_2D = 2), which does not
    fit the window-sum block matching of
    :func:`denoisers.patches.block_match`. Without either, at sigma = 50
    almost no block meets tau_match = 2500 and most groups shrink to the
    reference alone; at sigma <= 25 the correction changes the PSNR by less
    than 0.01 dB. With it the normal profile beat the high one at every
    sigma tried (by 0.25 dB at sigma = 50 on three Set12 images, by 0.15
    and 0.04 dB at sigma = 75 and 100 on one), so "normal" is the default
    everywhere and "high" is kept to compare with the paper.

    Measured against the reference ``bm3d`` package (Mäkinen, Azzari & Foi,
    version 4.0.3, its default profile "np") on the same noisy Set12 images
    (``python -m benchmarks.quality --peers bm3d``): mean PSNR 32.34 /
    29.92 / 26.73 dB at sigma = 15 / 25 / 50 against its 32.39 / 29.97 /
    26.76 (the paper reports 32.37 / 29.97 / 26.72), no image more than
    0.14 dB apart; CBM3D is within 0.12 dB of its ``bm3d_rgb`` on 256x256
    crops of astronaut, coffee and chelsea at sigma = 25, and 1.4 to 1.7 dB
    better than this function run on each RGB channel alone. On a quiet
    2-core CPU (``python -m benchmarks.speed --targets``) a grey 512x512
    image took 1.3 s against the package's 7.9 s, and a colour 768x512 one
    3.7 s against its 29.5 s, both on the two cores.

    Cost: block matching is O(H W S² N1² / N_step²) per pass for a window
    of side S (1521 displacements for S = 39): the inner products of the
    reference blocks with their candidates are matrix products over tiles
    of neighbouring references (:func:`denoisers.patches.grid_match`). The
    filtering runs in bands of about 4096 reference blocks: the 2-D
    transform of every block of a band is computed once and shared by
    every group that holds it; the groups, bucketed by size and with every
    colour channel in one batch, get the Haar transform across the group as
    one matrix product; the filtered blocks are summed per corner in the
    2-D transform domain, each corner's sum is transformed back once and
    the band's blocks are overlap-added on its own thread
    (:func:`denoisers.patches.overlap_add`). The bands are matched
    and filtered on as many threads as :func:`denoisers.threads.workers`
    allows (both cores of an idle 2-core machine) and added up in order,
    so the result is the same bit for bit on any number of threads.

    References
    ----------
    K. Dabov, A. Foi, V. Katkovnik and K. Egiazarian, "Image denoising by
    sparse 3-D transform-domain collaborative filtering", IEEE Trans. Image
    Process. 16(8), 2007, pp. 2080-2095. https://doi.org/10.1109/TIP.2007.901238
    K. Dabov, A. Foi, V. Katkovnik and K. Egiazarian, "Color image denoising
    via sparse 3D collaborative filtering with grouping constraint in
    luminance-chrominance space", Proc. IEEE ICIP 2007.
    https://doi.org/10.1109/ICIP.2007.4378954
    M. Lebrun, "An analysis and implementation of the BM3D image denoising
    method", Image Processing On Line 2, 2012, pp. 175-213.
    https://doi.org/10.5201/ipol.2012.l-bm3d
    Y. Mäkinen, L. Azzari and A. Foi, "Collaborative filtering of correlated
    noise: exact transform-domain variance for improved shrinkage and patch
    matching", IEEE Trans. Image Process. 29, 2020, pp. 8339-8354 (the
    reference implementation). https://doi.org/10.1109/TIP.2020.3014721

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.bm3d import bm3d
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = bm3d(noisy, 25 / 255).image
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 5
    True

    A colour image is denoised as CBM3D does it, the groups matched on luminance:

    >>> rgb = data.astronaut()[100:148, 200:248] / 255  # a 48x48 colour crop
    >>> noisy_rgb = noise.add_gaussian(rgb, 25 / 255, seed=0)
    >>> out = bm3d(noisy_rgb, 25 / 255).image
    >>> out.shape, psnr(rgb, out) > psnr(rgb, noisy_rgb) + 5
    ((48, 48, 3), True)
    """
    chosen = PROFILES[profile]
    radius = search // 2
    is_colour = noisy.ndim == 3
    if is_colour:
        channels = np.moveaxis(colour.to_opponent(noisy), -1, 0)
        sigmas = sigma * colour.CHANNEL_SIGMA
    else:
        channels = noisy[None]
        sigmas = np.array([sigma])
    channels = np.ascontiguousarray(channels, dtype=np.float32)
    hard_sigmas = wiener_sigmas = sigmas
    if noise_covariance is not None:
        scales = colour.CHANNEL_SIGMA if is_colour else np.ones(1)
        hard_sigmas, wiener_sigmas = (
            scales[:, None] * coefficient_sigmas(noise_covariance, stage, noisy.shape)
            for stage in (chosen.hard, chosen.wiener))
    basic, _ = _run_pass(channels, None, hard_sigmas, chosen.hard, chosen, radius, progress,
                         (0.0, 0.5))
    final, weights = _run_pass(channels, basic, wiener_sigmas, chosen.wiener, chosen, radius,
                               progress, (0.5, 1.0))
    image = _to_image(final, is_colour)
    result = Result(image)
    if trace:
        result.stages = {"basic estimate": _to_image(basic, is_colour),
                         "final estimate": image,
                         "aggregation weights": weights}
        result.extras["display"] = {"basic estimate": "image", "final estimate": "image"}
        result.extras["profile"] = chosen
        if reference is not None:
            result.curves["PSNR (dB)"] = np.array(
                [metrics.psnr(reference, result.stages[name])
                 for name in ("basic estimate", "final estimate")])
            result.extras["curve_x"] = ("pass", np.array([1, 2]))
        if is_colour:
            result.extras["colour"] = (
                "CBM3D: grouped on the luminance of the opponent colour space, every channel "
                "filtered with the same groups; the groups and weights shown are the "
                "luminance channel's")
    return result


def bm3d_groups(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
                profile: str = "normal", search: int = 39) -> View:
    """BM3D's view of pixel ``probe``: the group of its block in each pass, from the inside.

    The reference block is the block of the grid whose centre is nearest
    to ``probe``. Its first-pass group is matched on the noisy image; its
    second-pass group on ``result``'s basic estimate, the oracle of the
    Wiener pass. One block's matching and filtering cost a search window,
    not a pass, so choosing another block never reruns the method.

    Parameters
    ----------
    noisy : ndarray, shape (H, W) or (H, W, 3)
        The noisy image the traced run was given, float32 on the [0, 1]
        scale.
    sigma : float
        Its noise standard deviation, on the [0, 1] scale.
    result : Result
        What :func:`bm3d` returned for ``noisy`` and ``sigma`` with
        ``trace=True`` and the same parameters (its basic estimate is the
        second pass's oracle).
    probe : (row, col)
        The pixel to look at, inside the image.
    profile, search
        As for :func:`bm3d`: the values of the traced run.

    Returns
    -------
    View
        ``extras["stage 1"]`` and ``extras["stage 2"]``, the group in each
        pass, with ``"block"`` (the reference block's top-left corner),
        ``"block size"`` n, ``"matched blocks"`` (g, 2) top-left corners of
        the group's blocks, most similar first: the reference itself, at
        distance 0, then the others; ``"match distances"`` (g,) their mean
        squared difference per pixel to the reference ([0, 1] scale),
        ``"match threshold"``, ``"group"`` (g, n, n) the noisy blocks,
        ``"spectrum"`` their 3-D transform (the 2-D transform of each
        block, then the Haar transform across the group; (0, 0, 0) is the
        group's mean) and ``"filtered group"``. Stage 1 adds
        ``"thresholded spectrum"``, ``"threshold"`` and ``"retained
        coefficients"``; stage 2 adds ``"basic group"``, ``"basic
        spectrum"``, ``"Wiener factors"`` (g, n, n), in [0, 1], and
        ``"shrunk spectrum"``. For a colour image, the luminance channel's.
    """
    chosen = PROFILES[profile]
    basic, _ = colour.luminance_view(result.stages["basic estimate"], sigma)
    noisy, sigma = colour.luminance_view(noisy, sigma)
    return View(extras={
        "stage 1": _group_view(noisy, None, sigma, chosen.hard, chosen, search // 2, probe),
        "stage 2": _group_view(noisy, basic, sigma, chosen.wiener, chosen, search // 2, probe)})


def _to_image(channels: np.ndarray, is_colour: bool) -> np.ndarray:
    """(C, H, W) opponent channels back to an (H, W) or RGB (H, W, 3) float32 image."""
    if is_colour:
        return colour.from_opponent(np.moveaxis(channels, 0, -1))
    return channels[0].astype(np.float32)


METHODS: tuple[Method, ...] = (
    Method(
        key="bm3d",
        name="BM3D / CBM3D",
        year=2007,
        family=FAMILY,
        paper=("K. Dabov, A. Foi, V. Katkovnik and K. Egiazarian, \"Image denoising by sparse "
               "3-D transform-domain collaborative filtering\", IEEE Trans. Image Process. "
               "16(8), 2007, pp. 2080-2095, doi:10.1109/TIP.2007.901238; colour: \"Color image "
               "denoising via sparse 3D collaborative filtering with grouping constraint in "
               "luminance-chrominance space\", Proc. ICIP 2007, doi:10.1109/ICIP.2007.4378954"),
        idea=("Find, for each small block of the image, the blocks that look most like it "
              "nearby, and stack them into a 3-D group. Transform the group (a 2-D transform "
              "of each block, then one across the stack): because the blocks are nearly "
              "alike, almost all of the group's content lands in a few large coefficients, "
              "while the noise stays spread thinly over all of them. Zero the small ones, "
              "transform back, and every block of the group comes out cleaner; a block is "
              "estimated by every group it joins, and the estimates are averaged. A second "
              "pass repeats the grouping on this first estimate and replaces the zeroing by "
              "a gentler Wiener shrinkage. For a decade it was the method to beat."),
        params=BM3D,
        run=bm3d,
        colour=True,
        slow=True,
        look=bm3d_groups,
        noise_spectrum=True,
        url="https://doi.org/10.1109/TIP.2007.901238",
    ),
)
