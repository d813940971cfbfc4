"""Patches: cut an image into overlapping blocks, match similar blocks, put blocks back.

Every patch-based denoiser (non-local means, BM3D, WNNM, K-SVD) does the
same three things around its own filtering of a patch or a group of
patches:

1. choose *reference* patches on a grid (:func:`grid`, :func:`reference_grid`)
   and cut patches out of the image (:func:`extract`);
2. find, for each reference patch, the patches that look most like it within
   a search window around it (:func:`block_match`), by the mean squared
   difference of their pixels;
3. put the filtered patches back where they came from, each pixel of the
   result being the weighted mean of every estimate that covers it
   (:class:`Aggregator`, :func:`aggregate`).

Patches are square, ``size`` x ``size`` pixels, and are named by the
(row, column) of their top-left pixel; a patch at (r, c) covers rows r to
r + size - 1 and columns c to c + size - 1, and lies wholly inside the image
(0 <= r <= H - size). Everything is vectorised with numpy: no Python loop
runs over pixels or over reference patches; block matching loops over the
rows of its search window only, and over bands of reference patches to
bound its memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Upper bound on the number of float32 values block matching holds at once
#: for one band of reference patches (about 64 MB).
_BAND_VALUES = 16_000_000


# --------------------------------------------------------------------------- grids

def grid(length: int, size: int, step: int) -> np.ndarray:
    """Top-left coordinates of patches along one axis: 0, step, 2 step, ... and the last.

    Parameters
    ----------
    length : int
        The image's length along the axis (rows or columns).
    size : int
        The patch side, at most ``length``.
    step : int
        The distance between consecutive patches (>= 1).

    Returns
    -------
    ndarray of int64
        Increasing coordinates from 0 to ``length - size``; the last one is
        always ``length - size``, so that the patches cover every pixel.
    """
    if not 1 <= size <= length:
        raise ValueError(f"the patch side must be in [1, {length}]; got {size}")
    if step < 1:
        raise ValueError(f"the step must be >= 1; got {step}")
    coords = np.arange(0, length - size + 1, step, dtype=np.int64)
    if coords[-1] != length - size:
        coords = np.append(coords, length - size)
    return coords


def reference_grid(shape: tuple[int, ...], size: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the patches on a grid of ``step`` covering an image of ``shape``.

    Returns two int64 arrays of equal length, in row-major order (all the
    patches of the first grid row first).
    """
    rows, cols = grid(shape[0], size, step), grid(shape[1], size, step)
    return np.repeat(rows, len(cols)), np.tile(cols, len(rows))


def _pixel_offsets(size: int, width: int) -> np.ndarray:
    """Flat offsets, in an image of ``width`` columns, of a patch's pixels from its corner."""
    u, v = np.mgrid[0:size, 0:size]
    return (u * width + v).ravel()


def extract(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int) -> np.ndarray:
    """The patches of ``image`` with top-left corners ``(rows, cols)``.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C)
        The image.
    rows, cols : int arrays of one shape S
        Top-left corners of the patches, inside the image.
    size : int
        The patch side.

    Returns
    -------
    ndarray, shape S + (size, size) or S + (size, size, C)
        Copies of the patches, in the dtype of ``image``.
    """
    image = np.asarray(image)
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    height, width = image.shape[:2]
    if rows.size and (rows.min() < 0 or cols.min() < 0 or rows.max() > height - size
                      or cols.max() > width - size):
        raise ValueError(f"a patch of side {size} leaves the image of shape {image.shape[:2]}")
    index = (rows * width + cols)[..., None] + _pixel_offsets(size, width)
    flat = image.reshape(height * width, *image.shape[2:])
    return flat[index].reshape(*rows.shape, size, size, *image.shape[2:])


# --------------------------------------------------------------------------- block matching

@dataclass(frozen=True)
class Matches:
    """The result of :func:`block_match`, for n reference patches and k matches each.

    Attributes
    ----------
    rows, cols : int64 arrays, shape (n, k)
        Top-left corners of the matched patches, most similar first; the
        first is the reference patch itself.
    distances : float32 array, shape (n, k)
        Their mean squared difference per pixel to the reference patch
        (0 for the reference itself). Where the search window holds fewer
        than k patches, the missing matches have distance ``inf`` and the
        reference's own corner.
    """

    rows: np.ndarray
    cols: np.ndarray
    distances: np.ndarray

    def count(self, threshold: float) -> np.ndarray:
        """How many matches of each reference lie at distance <= ``threshold`` (>= 1)."""
        return np.maximum((self.distances <= threshold).sum(axis=1), 1)


def block_match(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, *, size: int,
                radius: int, k: int) -> Matches:
    """For each reference patch, the ``k`` most similar patches within its search window.

    Parameters
    ----------
    image : ndarray, shape (H, W)
        The (grey) image in which patches are compared.
    rows, cols : int arrays of shape (n,)
        Top-left corners of the reference patches.
    size : int
        The patch side.
    radius : int
        The search window: candidate corners differ from the reference's by
        at most ``radius`` rows and ``radius`` columns (a window of side
        ``2 radius + 1`` of corners); candidates that would leave the image
        are skipped, so windows shrink at the borders.
    k : int
        The number of matches returned per reference (>= 1).

    Returns
    -------
    Matches
        Corners and distances of the ``k`` nearest candidates, sorted by
        distance, the reference itself first (ties between other candidates
        go to the one met first in row-major order of the window).

    Notes
    -----
    The distance of a candidate is ``||P_ref - P||² / size²``, the mean
    squared difference of the pixels. For each displacement (dy, dx) of the
    window, the squared differences of the image and its displaced copy are
    summed over every patch with two cumulative sums (along the rows, then,
    at the reference rows only, along the columns) and read at the
    references' corners: O(H W (2 radius + 1)²) operations in all, whatever
    the number of references. The loop runs over the 2 radius + 1 values of
    dy, with every dx at once, in bands of reference rows sized to keep the
    memory under about 64 MB.
    """
    image = np.ascontiguousarray(image, dtype=np.float32)
    if image.ndim != 2:
        raise ValueError(f"block matching needs a 2-D image; got shape {image.shape}")
    rows, cols = np.asarray(rows, np.int64).ravel(), np.asarray(cols, np.int64).ravel()
    height, width = image.shape
    if rows.size and (rows.min() < 0 or cols.min() < 0 or rows.max() > height - size
                      or cols.max() > width - size):
        raise ValueError(f"a patch of side {size} leaves the image of shape {image.shape}")
    if radius < 0 or k < 1:
        raise ValueError(f"radius must be >= 0 and k >= 1; got radius={radius}, k={k}")
    n, side = rows.size, 2 * radius + 1
    k_found = min(k, side * side)
    out_rows = np.repeat(rows[:, None], k, axis=1)
    out_cols = np.repeat(cols[:, None], k, axis=1)
    out_dist = np.full((n, k), np.inf, np.float32)
    if n == 0:
        return Matches(out_rows, out_cols, out_dist)

    padded = np.pad(image, radius)
    order = np.argsort(rows, kind="stable")
    unique_rows, per_row = np.unique(rows, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(per_row)])
    for first, last in _bands(unique_rows, per_row, size, side, width):
        members = order[starts[first]:starts[last]]
        distances = _band_distances(padded, image, unique_rows[first:last], rows[members],
                                    cols[members], size, radius)
        _select(distances, rows[members], cols[members], radius, size, image.shape, k_found,
                out_rows, out_cols, out_dist, members)
    return Matches(out_rows, out_cols, out_dist)


def _bands(unique_rows: np.ndarray, per_row: np.ndarray, size: int, side: int,
           width: int) -> list[tuple[int, int]]:
    """Split the sorted distinct reference rows into bands [first, last) within the memory budget."""
    bands, first = [], 0
    while first < len(unique_rows):
        last = first + 1
        while last < len(unique_rows):
            span = int(unique_rows[last] - unique_rows[first]) + size
            values = (2 * span * side * width + (last + 1 - first) * side * (width + 1)
                      + int(per_row[first:last + 1].sum()) * side * side * 2)
            if values > _BAND_VALUES:
                break
            last += 1
        bands.append((first, last))
        first = last
    return bands


def _band_distances(padded: np.ndarray, image: np.ndarray, band: np.ndarray, rows: np.ndarray,
                    cols: np.ndarray, size: int, radius: int) -> np.ndarray:
    """Distances (m, side, side) of the references of one band of rows to every displacement."""
    height, width = image.shape
    side = 2 * radius + 1
    top, bottom = int(band[0]), int(band[-1]) + size
    span = bottom - top
    reference = image[top:bottom]
    row_of = np.searchsorted(band, rows)
    diff = np.empty((span, side, width), np.float32)
    cumulative = np.zeros((span + 1, side, width), np.float32)
    row_sums = np.zeros((len(band), side, width + 1), np.float32)
    distances = np.empty((len(rows), side, side), np.float32)
    lower, upper = band - top, band - top + size
    for iy in range(side):
        # Rows top+dy .. bottom+dy of the image, every column shift dx at once.
        shifted = sliding_window_view(padded[top + iy:bottom + iy], width, axis=1)
        np.subtract(reference[:, None, :], shifted, out=diff)
        np.multiply(diff, diff, out=diff)
        np.cumsum(diff, axis=0, out=cumulative[1:])
        np.subtract(cumulative[upper], cumulative[lower], out=row_sums[:, :, 1:])
        np.cumsum(row_sums[:, :, 1:], axis=2, out=row_sums[:, :, 1:])
        distances[:, iy, :] = (row_sums[row_of, :, cols + size]
                               - row_sums[row_of, :, cols])
    np.maximum(distances, 0.0, out=distances)
    distances *= np.float32(1.0 / (size * size))
    return distances


def _select(distances: np.ndarray, rows: np.ndarray, cols: np.ndarray, radius: int, size: int,
            shape: tuple[int, int], k: int, out_rows: np.ndarray, out_cols: np.ndarray,
            out_dist: np.ndarray, members: np.ndarray) -> None:
    """Keep the k nearest valid candidates of each reference, sorted, the reference first."""
    side = 2 * radius + 1
    offsets = np.arange(-radius, radius + 1)
    cand_rows = rows[:, None] + offsets  # (m, side)
    cand_cols = cols[:, None] + offsets
    valid = ((cand_rows >= 0) & (cand_rows <= shape[0] - size))[:, :, None] & \
            ((cand_cols >= 0) & (cand_cols <= shape[1] - size))[:, None, :]
    flat = np.where(valid, distances, np.inf).reshape(len(rows), side * side)
    centre = radius * side + radius
    flat[:, centre] = -1.0  # the reference itself comes first
    if k < side * side:
        nearest = np.argpartition(flat, k - 1, axis=1)[:, :k]
    else:
        nearest = np.broadcast_to(np.arange(side * side), (len(rows), side * side))
    picked = np.take_along_axis(flat, nearest, axis=1)
    # Sort by distance, ties by window position, so the result does not depend
    # on how argpartition happened to order equal values.
    ranking = np.lexsort((nearest, picked), axis=1)
    nearest = np.take_along_axis(nearest, ranking, axis=1)
    picked = np.take_along_axis(picked, ranking, axis=1)
    picked[:, 0] = 0.0
    found = np.isfinite(picked)
    dy, dx = np.divmod(nearest, side)
    out_rows[members, :k] = np.where(found, rows[:, None] + dy - radius, rows[:, None])
    out_cols[members, :k] = np.where(found, cols[:, None] + dx - radius, cols[:, None])
    out_dist[members, :k] = picked


# --------------------------------------------------------------------------- aggregation

class Aggregator:
    """Weighted average of overlapping patch estimates, accumulated batch by batch.

    Each call to :meth:`add` adds ``weight * patch`` to a numerator image and
    ``weight`` to a denominator image at the pixels the patch covers;
    :meth:`result` divides the two.

    Parameters
    ----------
    shape : (H, W)
        The image's shape.
    """

    def __init__(self, shape: tuple[int, int]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        size = self.shape[0] * self.shape[1]
        self.numerator = np.zeros(size, np.float64)
        self.denominator = np.zeros(size, np.float64)

    def add(self, patches: np.ndarray, rows: np.ndarray, cols: np.ndarray,
            weights: np.ndarray | float | None = None) -> None:
        """Add patches (..., s, s) at corners ``(rows, cols)`` (shape ...) with ``weights``.

        ``weights`` broadcasts against ``patches``: one per patch (shape
        ``...`` + (1, 1)), one per pixel of a patch (a window of shape
        (s, s)), both, or None for uniform weights.
        """
        patches = np.asarray(patches)
        size = patches.shape[-1]
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        index = ((rows * self.shape[1] + cols)[..., None]
                 + _pixel_offsets(size, self.shape[1])).ravel()
        w = np.ones(patches.shape, np.float64) if weights is None else \
            np.broadcast_to(np.asarray(weights, np.float64), patches.shape)
        length = self.numerator.size
        self.numerator += np.bincount(index, weights=(w * patches).ravel(), minlength=length)
        self.denominator += np.bincount(index, weights=w.ravel(), minlength=length)

    @property
    def weights(self) -> np.ndarray:
        """The denominator as an (H, W) float32 image: the total weight at each pixel."""
        return self.denominator.reshape(self.shape).astype(np.float32)

    def result(self, fallback: np.ndarray | None = None) -> np.ndarray:
        """The weighted mean (H, W) float32; ``fallback`` (or 0) where no patch fell."""
        covered = self.denominator > 0
        mean = np.divide(self.numerator, self.denominator, out=np.zeros_like(self.numerator),
                         where=covered)
        if fallback is not None and not covered.all():
            mean[~covered] = np.asarray(fallback, np.float64).ravel()[~covered]
        return mean.reshape(self.shape).astype(np.float32)


def aggregate(shape: tuple[int, int], patches: np.ndarray, rows: np.ndarray, cols: np.ndarray,
              weights: np.ndarray | float | None = None) -> np.ndarray:
    """Put patches back into an image of ``shape``, averaging where they overlap.

    A one-call :class:`Aggregator`: patches (..., s, s) at top-left corners
    ``(rows, cols)`` with ``weights`` broadcasting against them; pixels no
    patch covers are 0.
    """
    accumulator = Aggregator(shape)
    accumulator.add(patches, rows, cols, weights)
    return accumulator.result()
