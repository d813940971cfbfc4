"""Sparsity: images are sparse in a suitable basis, so denoising keeps the few big coefficients.

A small patch of a photograph is well described by a handful of atoms of a
good dictionary (the 2-D DCT, wavelets, or one learned from the image),
while white noise spreads evenly over all of them; keeping the few large
coefficients and dropping the rest removes most of the noise. The chapter
runs from the fixed DCT basis of JPEG to Elad & Aharon's K-SVD (2006),
which learns an overcomplete dictionary from the noisy patches themselves
and codes each patch by orthogonal matching pursuit.

For now this module holds the building blocks the chapter's views share:
the DCT dictionary (:func:`dct_atoms`) and the display of any stack of
atoms or filters as one image (:func:`atoms_mosaic`). It registers no
method yet.

References
----------
N. Ahmed, T. Natarajan and K. R. Rao, "Discrete cosine transform", IEEE
Trans. Computers C-23(1), 1974, pp. 90-93. https://doi.org/10.1109/T-C.1974.223784
Y. C. Pati, R. Rezaiifar and P. S. Krishnaprasad, "Orthogonal matching
pursuit: recursive function approximation with applications to wavelet
decomposition", Proc. 27th Asilomar Conference on Signals, Systems and
Computers, 1993, pp. 40-44. https://doi.org/10.1109/ACSSC.1993.342465
M. Aharon, M. Elad and A. Bruckstein, "K-SVD: an algorithm for designing
overcomplete dictionaries for sparse representation", IEEE Trans. Signal
Process. 54(11), 2006, pp. 4311-4322. https://doi.org/10.1109/TSP.2006.881199
M. Elad and M. Aharon, "Image denoising via sparse and redundant
representations over learned dictionaries", IEEE Trans. Image Process.
15(12), 2006, pp. 3736-3745. https://doi.org/10.1109/TIP.2006.881969
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft

from .core import Bool, Float, Int, InvalidInput, Method, check_params

#: The parameter of :func:`dct_atoms`: the side of the square blocks.
ATOMS_SPEC = (Int("size", 1, 64, default=8, help="The side of the square blocks."),)
#: The parameters of :func:`atoms_mosaic`.
MOSAIC_SPEC = (
    Int("pad", 0, 64, default=1, help="Width of the lines between the tiles."),
    Float("fill", 0.0, 1.0, default=1.0, help="Grey level of the lines and empty tiles."),
    Bool("rescale", default=True, help="Scale each atom on its own."),
)


# --------------------------------------------------------------------------- helpers

def _frequency_order(size: int) -> list[tuple[int, int]]:
    """The (u, v) frequency pairs of a size x size DCT, by u + v and then by u."""
    return sorted(((u, v) for u in range(size) for v in range(size)),
                  key=lambda uv: (uv[0] + uv[1], uv[0]))


# --------------------------------------------------------------------------- DCT atoms

def dct_atoms(size: int = 8) -> np.ndarray:
    """The orthonormal 2-D DCT-II basis of size x size patches, lowest frequencies first.

    Parameters
    ----------
    size : int
        Side of the patches (8 as in JPEG and in Elad & Aharon's
        experiments).

    Returns
    -------
    ndarray, float64, shape (size * size, size, size)
        ``atoms[k]`` is the patch whose 2-D DCT (``scipy.fft.dctn(...,
        norm="ortho")``) is the unit impulse at frequency ``(u, v)``, the
        k-th pair in order of ``u + v`` (the anti-diagonals of the
        frequency plane, as in JPEG's zig-zag) and, within one
        anti-diagonal, of ``u`` (vertical frequency). ``atoms[0]`` is the
        constant ``1 / size``. A patch is ``sum_k c_k atoms[k]`` with
        ``c_k = <patch, atoms[k]>``.

    Raises
    ------
    ValueError
        If ``size`` is not an int >= 1.

    Notes
    -----
    Atom (u, v) is the outer product of two 1-D cosines,
    ``a_u(i) a_v(j)`` with ``a_u(i) = c_u cos(pi (2i + 1) u / 2n)``,
    ``c_0 = sqrt(1/n)`` and ``c_u = sqrt(2/n)`` otherwise; u and v count
    the half-periods down and across. The basis is orthonormal, so the
    coefficients of white noise of standard deviation sigma are again
    white with the same sigma, while a smooth patch puts nearly all its
    energy into the few low-frequency atoms: the sparsity that hard
    thresholding, and later K-SVD, exploit. Elad & Aharon start K-SVD
    from an overcomplete (256-atom) DCT; this complete one is its
    orthogonal core.

    The atoms are computed as ``scipy.fft.idctn`` of unit impulses with
    ``norm="ortho"`` (type II), so they agree with the library's transform
    by construction.

    References
    ----------
    N. Ahmed, T. Natarajan and K. R. Rao, "Discrete cosine transform",
    IEEE Trans. Computers C-23(1), 1974. https://doi.org/10.1109/T-C.1974.223784
    G. K. Wallace, "The JPEG still picture compression standard", IEEE
    Trans. Consumer Electronics 38(1), 1992. https://doi.org/10.1109/30.125072
    """
    size = check_params(ATOMS_SPEC, {"size": size}, "dct_atoms")["size"]
    order = _frequency_order(size)
    impulses = np.zeros((size * size, size, size))
    rows, cols = zip(*order)
    impulses[np.arange(size * size), rows, cols] = 1.0
    return fft.idctn(impulses, axes=(1, 2), norm="ortho")


# --------------------------------------------------------------------------- display

def atoms_mosaic(atoms: np.ndarray, pad: int = 1, *, fill: float = 1.0,
                 rescale: bool = True) -> np.ndarray:
    """Tile a stack of atoms (or a network's first-layer filters) into one image.

    Parameters
    ----------
    atoms : array, shape (n, h, w)
        The atoms, in the order they are laid out: row by row.
    pad : int
        Width in pixels of the lines between neighbouring tiles (none
        around the outside); 0 puts the tiles edge to edge.
    fill : float
        Value of the separating lines and of the empty tiles that complete
        the last row (1 is white).
    rescale : bool
        Scale each atom on its own (see Notes); False lays out tiles whose
        values are already in [0, 1] (image blocks, shrinkage factors) as
        they are, clipped to [0, 1].

    Returns
    -------
    ndarray, float32, shape (rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad)
        The mosaic, ``cols = ceil(sqrt(n))`` tiles wide and
        ``rows = ceil(n / cols)`` high (8 x 8 for the 64 DCT atoms), every
        value in [0, 1].

    Raises
    ------
    ValueError
        If ``atoms`` is not a non-empty (n, h, w) array of finite numbers,
        or ``pad``, ``fill`` or ``rescale`` is outside :data:`MOSAIC_SPEC`.

    Notes
    -----
    Each atom is scaled on its own by its largest absolute value,
    ``a / (2 max|a|) + 0.5``: zero is mid-grey, the atom's extreme is black
    or white, and the sign stays readable (positive lighter, negative
    darker). Atoms are shapes, not intensities: their norms differ
    (especially for learned dictionaries or network filters) and a common
    scale would leave the weaker ones flat grey. An all-zero atom is
    uniformly mid-grey.
    """
    stack = np.asarray(atoms, dtype=np.float64)
    if stack.ndim != 3 or stack.shape[0] == 0 or min(stack.shape[1:]) == 0:
        raise InvalidInput(f"atoms must be a non-empty stack of shape (n, h, w); "
                         f"got shape {stack.shape}")
    if not np.all(np.isfinite(stack)):
        raise InvalidInput("atoms contain NaN or infinite values")
    checked = check_params(MOSAIC_SPEC, {"pad": pad, "fill": fill, "rescale": rescale},
                           "atoms_mosaic")
    pad, fill, rescale = checked["pad"], checked["fill"], checked["rescale"]
    count, height, width = stack.shape
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    if rescale:
        peak = np.abs(stack).max(axis=(1, 2), keepdims=True)
        scaled = 0.5 + 0.5 * np.divide(stack, peak, out=np.zeros_like(stack), where=peak > 0)
    else:
        scaled = np.clip(stack, 0.0, 1.0)
    mosaic = np.full((rows * height + (rows - 1) * pad, cols * width + (cols - 1) * pad),
                     fill, dtype=np.float32)
    for k in range(count):
        top, left = (k // cols) * (height + pad), (k % cols) * (width + pad)
        mosaic[top:top + height, left:left + width] = scaled[k]
    return mosaic


METHODS: tuple[Method, ...] = ()
