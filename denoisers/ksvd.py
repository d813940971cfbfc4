"""Sparse coding over a learned dictionary: OMP and K-SVD (Elad & Aharon 2006).

Every 8x8 patch of a photograph is, up to its noise, a combination of a few
atoms of a good dictionary; white noise is not. Elad & Aharon code every
overlapping patch of the noisy image with as few atoms as bring its residual
down to the noise level, by orthogonal matching pursuit (OMP), and average
the coded patches back into an image, together with a little of the noisy
image itself. The dictionary starts as an overcomplete DCT (256 cosine
atoms for 64 pixels) and is then *learned from the noisy image itself* by
K-SVD, which alternates sparse coding of the patches with an update of each
atom, in turn, to fit the patches that use it. The noise, being unlike
every other patch, does not get learned.

Here OMP runs on all the patches at once (:func:`omp`: one vectorised step
per atom chosen, as in Rubinstein, Zibulevsky & Elad's batch OMP), K-SVD
learns from a random subset of the patches (:func:`learn_dictionary`), and
the patches are cut and put back with :mod:`denoisers.patches`.

References
----------
M. Elad and M. Aharon, "Image denoising via sparse and redundant
representations over learned dictionaries", IEEE Trans. Image Process.
15(12), 2006, pp. 3736-3745. https://doi.org/10.1109/TIP.2006.881969
M. Aharon, M. Elad and A. Bruckstein, "K-SVD: an algorithm for designing
overcomplete dictionaries for sparse representation", IEEE Trans. Signal
Process. 54(11), 2006, pp. 4311-4322. https://doi.org/10.1109/TSP.2006.881199
Y. C. Pati, R. Rezaiifar and P. S. Krishnaprasad, "Orthogonal matching
pursuit: recursive function approximation with applications to wavelet
decomposition", Proc. 27th Asilomar Conference on Signals, Systems and
Computers, 1993, pp. 40-44. https://doi.org/10.1109/ACSSC.1993.342465
R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of the
K-SVD algorithm using batch orthogonal matching pursuit", Technical Report
CS-2008-08, Technion, 2008.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from . import sparsity
from .core import Bool, Float, Int, InvalidInput, Method, Param, Progress, Result, report, validated
from .patches import Aggregator, extract, reference_grid

FAMILY = "Sparse representations"

#: Signals coded together by :func:`omp` (bounds its memory).
_OMP_BATCH = 4096


# --------------------------------------------------------------------------- dictionary

def overcomplete_dct(size: int = 8, atoms: int = 256) -> np.ndarray:
    """The overcomplete 2-D DCT dictionary K-SVD starts from: ``atoms`` unit-norm patches.

    Parameters
    ----------
    size : int
        Side of the square atoms (8 in Elad & Aharon's experiments).
    atoms : int
        Number of atoms, the square of an int ``k >= size`` (256: k = 16,
        four times as many atoms as a patch has pixels).

    Returns
    -------
    ndarray, float64, shape (atoms, size, size)
        ``out[k * u + v]`` is the outer product of the 1-D atoms ``u``
        (down) and ``v`` (across): a 16 x 16 mosaic of the atoms in this
        order has the vertical frequency growing down and the horizontal one
        across. ``out[0]`` is the constant ``1 / size``; every atom has unit
        norm.

    Raises
    ------
    InvalidInput
        If ``atoms`` is not the square of an int >= ``size``.

    Notes
    -----
    The 1-D dictionary has ``k`` cosines of length ``size`` sampled at
    ``k`` frequencies from 0 to almost half a cycle per pixel,
    ``cos(pi i j / k)`` for i = 0 .. size - 1 and j = 0 .. k - 1, each but
    the first with its mean removed, all normalised (as ``odctdict`` in
    Rubinstein's KSVD-Box); the 2-D one is its Kronecker square. With
    ``k = size`` the frequencies are those of a DCT but the atoms are not
    orthogonal; with more it is *redundant*: frequencies between the DCT's
    are there too, so that a patch needs fewer of them. It is also more
    *coherent* (neighbouring atoms look alike), which is why greedy coding
    finds a good sparse code in it rather than provably the sparsest.

    References
    ----------
    M. Elad and M. Aharon, "Image denoising via sparse and redundant
    representations over learned dictionaries", IEEE Trans. Image Process.
    15(12), 2006. https://doi.org/10.1109/TIP.2006.881969
    """
    side = math.isqrt(atoms)
    if size < 1 or side * side != atoms or side < size:
        raise InvalidInput(f"the overcomplete DCT needs a size >= 1 and a number of atoms that is "
                           f"the square of an int >= size; got size={size}, atoms={atoms}")
    i = np.arange(size)[:, None]
    one = np.cos(np.pi * i * np.arange(side)[None, :] / side)   # (size, side)
    one[:, 1:] -= one[:, 1:].mean(axis=0)
    one /= np.linalg.norm(one, axis=0)
    # Atom side * u + v is the outer product of the 1-D atoms u (down) and v (across).
    return np.einsum("iu,jv->uvij", one, one).reshape(atoms, size, size)


# --------------------------------------------------------------------------- OMP

@dataclass
class Codes:
    """Sparse codes of N signals: up to L atoms each.

    Attributes
    ----------
    atoms : int64 array (N, L)
        The atoms chosen for each signal, in the order OMP chose them; only
        the first ``counts[i]`` of row i are meaningful (the rest are 0).
    coefficients : float64 array (N, L)
        Their coefficients (0 past ``counts[i]``).
    counts : int64 array (N,)
        How many atoms each signal uses.
    """

    atoms: np.ndarray
    coefficients: np.ndarray
    counts: np.ndarray

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The nonzero entries of the codes: the signal, atom and coefficient of each."""
        used = (np.arange(self.atoms.shape[1]) < self.counts[:, None]) & (self.coefficients != 0)
        users = np.nonzero(used)[0]
        return users, self.atoms[used], self.coefficients[used]

    def dense(self, size: int) -> np.ndarray:
        """The codes as a dense (N, size) float32 matrix (one column per atom)."""
        return self.matrix(size).toarray().astype(np.float32)

    def reconstruct(self, dictionary: np.ndarray) -> np.ndarray:
        """The coded signals, (N, n) float32, from the (K, n) dictionary."""
        flat = dictionary.reshape(len(dictionary), -1).astype(np.float32)
        return np.asarray(self.matrix(len(flat)).astype(np.float32) @ flat, np.float32)

    def matrix(self, size: int) -> sparse.csr_matrix:
        """The codes as a sparse (N, size) matrix (one column per atom), float64."""
        users, atoms, coefficients = self.entries()
        return sparse.csr_matrix((coefficients, (users, atoms)), shape=(len(self.counts), size))


def omp(dictionary: np.ndarray, signals: np.ndarray, *, tolerance: float = 0.0,
        max_atoms: int | None = None) -> Codes:
    """Orthogonal matching pursuit of many signals at once (batch OMP).

    Parameters
    ----------
    dictionary : array, shape (K, n) or (K, h, w)
        The atoms, of unit norm.
    signals : array, shape (N, n) or (N, h, w)
        The signals to code.
    tolerance : float
        Each signal is coded until its squared residual ``||x - D g||²`` is
        at most ``tolerance`` (0: until ``max_atoms``); a signal already
        that small uses no atom.
    max_atoms : int, optional
        The most atoms a signal may use (``min(K, n)`` if None).

    Returns
    -------
    Codes
        For each signal, the atoms chosen in order and their coefficients.

    Raises
    ------
    InvalidInput
        If the signals' length is not the atoms', or ``max_atoms`` is not
        in [0, K].

    Notes
    -----
    OMP (Pati et al. 1993) adds, at each step, the atom most correlated
    with the residual, and then refits the coefficients of all the atoms
    chosen so far by least squares, so the residual is orthogonal to them
    all. Batch OMP (Rubinstein, Zibulevsky & Elad 2008) never forms the
    residual: with the Gram matrix ``G = D Dᵀ`` and the projections
    ``a = D x``, the least-squares coefficients on a support I solve
    ``G_II g = a_I``, the correlations of the residual are ``a - G_I g``
    and its squared norm is ``||x||² - a_I · g``. Here step k runs on every
    signal still above its tolerance at once (numpy, no loop over signals),
    solving the k x k systems as one batch; the signals are taken in
    batches of 4096 to bound the memory. The cost is about
    ``N (n K + K k²)`` for N signals coded with k atoms.

    References
    ----------
    Y. C. Pati, R. Rezaiifar and P. S. Krishnaprasad, "Orthogonal matching
    pursuit", Proc. 27th Asilomar Conference, 1993.
    https://doi.org/10.1109/ACSSC.1993.342465
    R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of
    the K-SVD algorithm using batch orthogonal matching pursuit", Technion
    CS-2008-08, 2008.
    """
    flat = np.asarray(dictionary, np.float64).reshape(len(dictionary), -1)
    signals = np.asarray(signals, np.float64).reshape(len(signals), -1)
    count_atoms, n = flat.shape
    if signals.shape[1] != n:
        raise InvalidInput(f"signals of length {signals.shape[1]} for atoms of length {n}")
    limit = min(n, count_atoms) if max_atoms is None else int(max_atoms)
    if not 0 <= limit <= count_atoms:
        raise InvalidInput(f"max_atoms must be in [0, {count_atoms}]; got {max_atoms}")
    total = len(signals)
    codes = Codes(np.zeros((total, limit), np.int64), np.zeros((total, limit)),
                  np.zeros(total, np.int64))
    gram = flat @ flat.T
    for start in range(0, total, _OMP_BATCH):
        stop = min(total, start + _OMP_BATCH)
        _omp_batch(flat, gram, signals[start:stop], tolerance, limit, codes, start)
    return codes


def _omp_batch(flat: np.ndarray, gram: np.ndarray, signals: np.ndarray, tolerance: float,
               limit: int, codes: Codes, offset: int) -> None:
    """Batch OMP of one batch of signals, written into ``codes`` from row ``offset``.

    The inverse of the chosen atoms' Gram matrix grows by one row and column
    per step (the block inverse through the Schur complement), so a step
    costs O(k²) per signal besides the correlations' O(n K); it is kept at
    its size, (signals, k, k), not at the largest (most signals stop after a
    few atoms: allocating and compacting (signals, limit, limit) arrays took
    half the time). Signals that are done are written out at once and
    dropped from the arrays once a quarter of them is done (copying the
    arrays costs more than carrying a few finished rows along).
    """
    atoms32 = flat.astype(np.float32)
    diagonal = np.diagonal(gram)
    active = np.flatnonzero((signals * signals).sum(axis=1) > tolerance)
    x = signals[active]
    energy = (x * x).sum(axis=1)
    alpha0 = x @ flat.T                                                # (a, K)
    x32 = x.astype(np.float32)
    correlations = alpha0.astype(np.float32)
    size = len(active)
    chosen = np.zeros((size, limit), np.int64)
    inverse = np.zeros((size, 0, 0))                                  # (a, k, k)
    rhs = np.zeros((size, limit))
    live = np.ones(size, bool)
    for k in range(limit):
        if size == 0:
            break
        rows = np.arange(size)
        picks = np.argmax(np.abs(correlations), axis=1)
        column = gram[chosen[:, :k], picks[:, None]]                  # (a, k)
        u = np.einsum("aij,aj->ai", inverse, column)
        schur = np.maximum(diagonal[picks] - (column * u).sum(axis=1), 1e-10)
        scaled = u / schur[:, None]
        grown = np.empty((size, k + 1, k + 1))
        grown[:, :k, :k] = inverse + u[:, :, None] * scaled[:, None, :]
        grown[:, :k, k] = -scaled
        grown[:, k, :k] = -scaled
        grown[:, k, k] = 1.0 / schur
        inverse = grown
        chosen[:, k] = picks
        rhs[:, k] = alpha0[rows, picks]
        gamma = np.einsum("aij,aj->ai", inverse, rhs[:, :k + 1])
        residual = energy - (rhs[:, :k + 1] * gamma).sum(axis=1)
        going = (residual > tolerance) & live if k + 1 < limit else np.zeros(size, bool)
        done = live & ~going
        out = active[done] + offset
        codes.atoms[out, :k + 1] = chosen[done, :k + 1]
        codes.coefficients[out, :k + 1] = gamma[done]
        codes.counts[out] = k + 1
        live = going
        if not live.any():
            break
        if live.sum() < 0.75 * size:
            active, x32, energy, alpha0 = active[live], x32[live], energy[live], alpha0[live]
            chosen, rhs, gamma, inverse = chosen[live], rhs[live], gamma[live], inverse[live]
            size = len(active)
            live = np.ones(size, bool)
        # The correlations of the residual with every atom, D (x - D_I g): the code
        # rebuilt from its own atoms, then one product with the whole dictionary.
        rebuilt = np.einsum("ak,akn->an", gamma.astype(np.float32), atoms32[chosen[:, :k + 1]])
        correlations = (x32 - rebuilt) @ atoms32.T
        np.put_along_axis(correlations, chosen[:, :k + 1], 0.0, axis=1)


# --------------------------------------------------------------------------- K-SVD

def ksvd_update(dictionary: np.ndarray, signals: np.ndarray, codes: np.ndarray,
                fixed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One K-SVD dictionary update: each atom in turn, with its coefficients, refitted.

    Parameters
    ----------
    dictionary : array, shape (K, n)
        The atoms, of unit norm.
    signals : array, shape (N, n)
        The training signals.
    codes : array, shape (N, K)
        Their sparse codes (:meth:`Codes.dense`).
    fixed : int
        The first ``fixed`` atoms are kept as they are (the constant atom,
        for signals whose mean was removed).

    Returns
    -------
    dictionary : ndarray (K, n), float64
        The updated atoms, of unit norm.
    codes : ndarray (N, K), float64
        The updated codes, with the same supports.

    Notes
    -----
    For atom j, the signals that use it and their residual without it,
    ``E = X_j - (D Γ - d_j γ_j)``, are fitted by the rank-1 product
    ``d γ`` that lowers ``||E - d γ||`` most for the same supports. K-SVD
    takes the leading singular pair of E; here one step of the power method
    from the current coefficients (the *approximate K-SVD* of Rubinstein et
    al. 2008): ``d = E γ / ||E γ||``, then ``γ = Eᵀ d``, each the exact
    minimiser given the other, so the representation error never rises.
    An atom no signal uses is replaced by the worst represented signal.
    The work is done on the codes' nonzero entries (:func:`_update_atoms`).
    """
    dense = np.array(codes, np.float64)
    users, atoms = np.nonzero(dense)
    flat, coefficients, _ = _update_atoms(dictionary, signals, users, atoms,
                                          dense[users, atoms], fixed)
    dense[users, atoms] = coefficients
    return flat.reshape(np.shape(dictionary)), dense


def _update_atoms(dictionary: np.ndarray, signals: np.ndarray, users: np.ndarray,
                  atoms: np.ndarray, coefficients: np.ndarray,
                  fixed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ksvd_update` on sparse codes: entry e says that signal ``users[e]`` uses atom
    ``atoms[e]`` with ``coefficients[e]`` (each pair once, nonzero).

    Returns the updated atoms (K, n), the updated coefficients of the same entries and the
    residual ``X - D Γ`` after the update (N, n). Each atom's step touches only the rows of
    its own users: O(n) per entry instead of O(n) per signal and atom.
    """
    flat = np.array(dictionary, np.float64).reshape(len(dictionary), -1)
    signals = np.asarray(signals, np.float64)
    coefficients = np.array(coefficients, np.float64)
    codes = sparse.csr_matrix((coefficients, (users, atoms)), shape=(len(signals), len(flat)))
    residual = signals - codes @ flat
    order = np.argsort(atoms, kind="stable")
    bounds = np.searchsorted(atoms[order], np.arange(len(flat) + 1))
    replaced: set[int] = set()
    for j in range(fixed, len(flat)):
        entries = order[bounds[j]:bounds[j + 1]]
        if len(entries) == 0:
            _replace_unused(flat, j, signals, residual, replaced)
            continue
        rows, gamma = users[entries], coefficients[entries]
        error = residual[rows] + np.outer(gamma, flat[j])
        atom = gamma @ error
        norm = np.linalg.norm(atom)
        if norm == 0:
            continue
        atom /= norm
        flat[j] = atom
        gamma = error @ atom
        coefficients[entries] = gamma
        residual[rows] = error - np.outer(gamma, atom)
    return flat, coefficients, residual


def _replace_unused(flat: np.ndarray, j: int, signals: np.ndarray, residual: np.ndarray,
                    replaced: set[int]) -> None:
    """Atom ``j``, which no signal uses, becomes the worst represented signal not taken yet
    by another unused atom of this update (normalised)."""
    errors = (residual * residual).sum(axis=1)
    errors[list(replaced)] = -1.0
    worst = int(np.argmax(errors))
    replaced.add(worst)
    norm = np.linalg.norm(signals[worst])
    if norm > 0:
        flat[j] = signals[worst] / norm


def learn_dictionary(dictionary: np.ndarray, signals: np.ndarray, *, iterations: int,
                     tolerance: float = 0.0, max_atoms: int | None = None, fixed: int = 0,
                     progress: Progress | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """K-SVD: alternate sparse coding (:func:`omp`) and dictionary updates (:func:`ksvd_update`).

    Parameters
    ----------
    dictionary : array, shape (K, n) or (K, h, w)
        The starting atoms (unit norm).
    signals : array, shape (N, n)
        The training signals.
    iterations : int
        Number of coding + update rounds.
    tolerance, max_atoms
        The stopping rule of the coding, as in :func:`omp`.
    fixed : int
        The first ``fixed`` atoms are not updated.
    progress : callable, optional
        Receives the fraction of the iterations done after each one.

    Returns
    -------
    dictionary : ndarray, float64, shaped as the one given
        The learned atoms.
    history : dict
        ``"error"``: the root mean squared representation error per signal
        value after each iteration's update; ``"atoms"``: the mean number of
        atoms per signal of each iteration's coding.
    """
    flat = np.asarray(dictionary, np.float64).reshape(len(dictionary), -1)
    signals = np.asarray(signals, np.float64)
    errors, counts = [], []
    for t in range(iterations):
        codes = omp(flat, signals, tolerance=tolerance, max_atoms=max_atoms)
        users, atoms, coefficients = codes.entries()
        flat, _, residual = _update_atoms(flat, signals, users, atoms, coefficients, fixed)
        errors.append(math.sqrt(float((residual * residual).mean())))
        counts.append(float(codes.counts.mean()))
        report(progress, (t + 1) / iterations)
    history = {"error": np.array(errors), "atoms": np.array(counts)}
    return flat.reshape(np.shape(dictionary)), history


# --------------------------------------------------------------------------- the method

#: Side of the patches (Elad & Aharon's 8x8).
_SIZE = 8
#: Number of atoms of the dictionary (Elad & Aharon's 256, four times redundant).
_ATOMS = 256
#: The most atoms one patch may use (half the patch's pixels, as in KSVD-Box).
_MAX_ATOMS = _SIZE * _SIZE // 2
#: The most atoms a training patch may use while the dictionary is learned.
_LEARN_ATOMS = _MAX_ATOMS // 2
#: Seed of the random choice of the training patches.
_SEED = 0

#: The parameters of :func:`ksvd`, checked by every call (its Method's spec).
KSVD: tuple[Param, ...] = (
    Bool("learn", default=True,
         help=("Learn the dictionary from the noisy image itself (K-SVD). Off: code every "
               "patch in the fixed overcomplete DCT it starts from.")),
    Int("iterations", 0, 30, default=10,
        help=("K-SVD iterations: each codes the training patches and then updates every "
              "atom. The paper uses 10.")),
    Int("training", 1000, 100_000, default=20_000,
        help=("How many of the image's patches, chosen at random, the dictionary is "
              "learned from (all of them if the image has fewer).")),
    Float("gain", 1.0, 1.5, default=1.15, step=0.01,
          help=("Coding stops when a patch's residual is below gain x sigma per pixel. "
                "Larger keeps fewer atoms: smoother, less noise. The paper's is 1.15.")),
)


@validated(KSVD)
def ksvd(noisy: np.ndarray, sigma: float, *, learn: bool = True, iterations: int = 10,
         training: int = 20_000, gain: float = 1.15, trace: bool = False,
         progress: Progress | None = None) -> Result:
    """Denoise by sparse coding of every patch over a dictionary learned from the noisy image.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was. Images under 8 pixels a side are mirrored
        up to 8 and cropped back.
    sigma : float
        Noise standard deviation on the [0, 1] scale: it sets when the
        coding of a patch stops and how much of the noisy image is averaged
        in. At 0 the image is returned as it is.
    learn : bool
        Learn the dictionary by K-SVD from the noisy patches (the paper's
        method); False codes every patch in the fixed overcomplete DCT
        (:func:`overcomplete_dct`), the dictionary learning starts from, so
        the two show what learning adds.
    iterations : int
        K-SVD iterations (the paper's J = 10); 0 is the same as ``learn=False``.
    training : int
        How many patches, drawn at random (seeded: the result is
        deterministic) among all the image's overlapping ones, the
        dictionary learns from; all of them if the image has fewer.
    gain : float
        The paper's C: a patch's coding stops once its squared residual is
        at most ``64 (C sigma)²``.
    trace : bool
        Also return the dictionaries, the learning curves, the map of atoms
        per patch and one patch's code.
    progress : callable, optional
        Receives the fraction done after each K-SVD iteration, then 1.0.

    Returns
    -------
    Result
        ``image``: the estimate. With ``trace``: stages ``"overcomplete
        DCT"`` (the 256 starting atoms as a 16 x 16 mosaic, each atom scaled
        on its own by :func:`~denoisers.sparsity.atoms_mosaic`),
        ``"learned dictionary"`` (the learned atoms in the same places, when
        learning) and ``"atoms per patch"`` (how many atoms the final coding
        of the patch with its top-left corner at each pixel used, shape
        (H - 7, W - 7)); curves per K-SVD iteration (``extras["curve_x"]``)
        ``"representation error (0-255)"`` (the RMS residual of the training
        patches after the iteration's update, on the 0-255 scale) and
        ``"atoms per patch"`` (their mean number of atoms in the iteration's
        coding: learning makes the patches sparser at the same error);
        ``extras["patch"]``: the patch at the image centre (``"corner"``,
        ``"noisy"``), its mean (``"mean"``, removed before coding), the atoms
        its code uses (``"indices"`` into the dictionary, ``"atoms"``) and
        their ``"coefficients"``, and its ``"reconstruction"`` (the mean
        plus the coefficients times the atoms); ``extras["dictionary"]``: the
        atoms the last coding used, shape (256, 8, 8) (any other patch's code
        over them is :func:`code_patch`'s).

    Notes
    -----
    Elad & Aharon's model: every 8x8 patch ``R_ij x`` of the clean image
    has a sparse code ``g_ij`` over a dictionary D, and the estimate
    minimises ``lambda ||x - y||² + sum_ij (mu_ij ||g_ij||_0 +
    ||D g_ij - R_ij x||²)``. Solved one block at a time:

    1. *Sparse coding.* The mean of each overlapping patch is removed and
       the rest is coded by OMP (:func:`omp`) until its squared residual is
       at most ``n (C sigma)²`` (n = 64 pixels, C = ``gain``): the code
       explains the patch up to a little more than the noise expected in
       it, and stops there (at most 32 atoms).
    2. *Dictionary update* (when learning). K-SVD (:func:`learn_dictionary`)
       alternates that coding with updating each atom in turn to fit the
       training patches that use it (:func:`ksvd_update`); the constant atom
       is kept. The dictionary starts as the overcomplete DCT.
    3. *Averaging.* With D fixed, the x minimising the energy is the
       closed-form pixel average ``x = (lambda y + sum R_ijᵀ D g_ij) /
       (lambda + sum R_ijᵀ R_ij)``: each pixel is the mean of the 64 coded
       patches that cover it (fewer at the borders) with the noisy pixel
       counted ``lambda = 30 / sigma_255`` times (the paper's; 1.2 at
       sigma_255 = 25).

    The paper learns from all the patches of the image, 10 iterations. Here
    K-SVD learns from ``training`` patches chosen at random (KSVD-Box's
    ``ksvddenoise`` learns from 40000) and the dictionary update is the
    approximate one of Rubinstein et al.; then one coding of every patch
    with the learned dictionary gives the estimate.

    Defaults, tuned at sigma_255 = 25 on 256x256 crops of eight scikit-image
    samples made grey (camera, astronaut, coffee, chelsea, brick, moon,
    grass, coins; mean PSNR 30.63 dB with the defaults, 30.03 in the fixed
    DCT): 10 iterations (5: 30.52, 15: 30.67) on 20000 training patches
    (10000: 30.58, 40000: 30.69, at twice the learning time), gain 1.15
    (1.10: 30.59, 1.20: 30.54). While learning, a training patch uses at
    most 16 atoms (the final coding 32). On Set12 at sigma_255 = 25 (each
    image at its own size, seven 256x256 and five 512x512, noise
    ``noise.add_gaussian(clean, 25 / 255, seed=0)``) the mean PSNR is
    29.30 dB learned against 28.76 in the fixed overcomplete DCT: learning
    adds 0.53 dB (0.19 to 0.90 by image; 01-12: 28.74 / 28.21, 31.94 /
    31.04, 29.58 / 28.94, 28.16 / 27.48, 28.84 / 27.80, 28.20 / 27.78,
    28.42 / 28.23, 31.28 / 30.97, 29.47 / 28.70, 29.20 / 28.80, 29.03 /
    28.71, 28.69 / 28.47).

    Cost: learning codes the training patches once per iteration, whatever
    the image's size; the final coding is O(HW) patches. On the project's
    2-core CPU, lightly loaded: 2.0-2.8 s at 256x256 and 2.6-3.0 s at
    512x512 (0.2-0.7 s and 1.0-1.8 s in the fixed DCT); under other jobs
    (load average 3 to 8) 4 to 14 s at either size. BLAS is held to one
    thread during a call (``threadpoolctl``, process-wide while it runs):
    under such load that was 2 to 4 times faster than two threads (01.png
    6.4-13.6 s against 19.8-25.9 s); the lightly loaded figures above were
    measured on two threads, before that limit. The time grows with the atoms
    a patch needs: low sigma, texture, or a sigma far below the image's
    real noise (a 157x201 image of uniform noise told sigma_255 = 25 uses
    17 atoms a patch and takes about 14 s). Those figures predate two
    changes that cut the time about three times with the same result (Set12
    at sigma_255 = 25: 29.25 dB, every image as before,
    ``assets/benchmarks/sparsity/ksvd_fast``): the dictionary update works
    on the codes' nonzero entries (:func:`_update_atoms`) instead of dense
    (N, 256) codes, and batch OMP keeps the inverse Gram matrix at the size
    its step has reached instead of (N, 32, 32). Set12's 05 (256x256) took
    17.4 s against 59.1 s and 09 (512x512) 17.9 s against 50.7 s (medians
    of 3 interleaved runs at load average 27 to 41, where nothing runs at
    its quiet speed).

    References
    ----------
    M. Elad and M. Aharon, "Image denoising via sparse and redundant
    representations over learned dictionaries", IEEE Trans. Image Process.
    15(12), 2006, pp. 3736-3745. https://doi.org/10.1109/TIP.2006.881969
    M. Aharon, M. Elad and A. Bruckstein, "K-SVD: an algorithm for designing
    overcomplete dictionaries for sparse representation", IEEE Trans. Signal
    Process. 54(11), 2006, pp. 4311-4322. https://doi.org/10.1109/TSP.2006.881199
    R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation of
    the K-SVD algorithm using batch orthogonal matching pursuit", Technion
    CS-2008-08, 2008.

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.ksvd import ksvd
    >>> from denoisers.metrics import psnr
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> learned = ksvd(noisy, 25 / 255).image
    >>> psnr(clean, learned) > psnr(clean, noisy) + 4
    True

    The dictionary learned on the noisy image itself beats the fixed
    overcomplete DCT it starts from:

    >>> psnr(clean, learned) > psnr(clean, ksvd(noisy, 25 / 255, learn=False).image)
    True
    """
    with _one_blas_thread():
        return _ksvd(noisy, sigma, learn=learn, iterations=iterations, training=training,
                     gain=gain, trace=trace, progress=progress)


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Run BLAS on one thread: the many small products of batch OMP and K-SVD take
    about half as long on one thread as on two where other work shares the CPU."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _ksvd(noisy: np.ndarray, sigma: float, *, learn: bool, iterations: int, training: int,
          gain: float, trace: bool, progress: Progress | None) -> Result:
    """:func:`ksvd`'s work, its parameters checked."""
    height, width = noisy.shape
    padded = _padded(noisy)
    start = overcomplete_dct(_SIZE, _ATOMS).reshape(_ATOMS, -1)
    weight = 30.0 / (255.0 * sigma) if sigma > 0 else math.inf
    tolerance = _SIZE * _SIZE * (gain * sigma) ** 2
    rows, cols = reference_grid(padded.shape, _SIZE, 1)
    patches = extract(padded, rows, cols, _SIZE).reshape(len(rows), -1).astype(np.float64)
    means = patches.mean(axis=1, keepdims=True)
    patches -= means
    dictionary, history = start, None
    steps = iterations if learn else 0
    if steps and sigma > 0:
        rng = np.random.default_rng(_SEED)
        chosen = np.sort(rng.choice(len(patches), min(training, len(patches)), replace=False))
        fraction = steps / (steps + 2.0)
        dictionary, history = learn_dictionary(
            start, patches[chosen], iterations=steps, tolerance=tolerance,
            max_atoms=_LEARN_ATOMS, fixed=1,
            progress=None if progress is None else (lambda f: progress(fraction * f)))
    if sigma > 0:
        codes = omp(dictionary, patches, tolerance=tolerance, max_atoms=_MAX_ATOMS)
        estimate = codes.reconstruct(dictionary) + means
        accumulator = Aggregator(padded.shape)
        accumulator.add(estimate.reshape(-1, _SIZE, _SIZE), rows, cols)
        total = accumulator.numerator.reshape(padded.shape) + weight * padded
        image = total / (accumulator.weights + weight)
    else:
        codes, image = None, padded
    result = Result(np.asarray(image[:height, :width], np.float32))
    if trace:
        _trace(result, padded, start, dictionary, history, codes, rows, cols, means,
               (height, width), steps)
        result.extras["params"] = {"learn": learn, "iterations": iterations,
                                   "training": training, "gain": gain}
    report(progress, 1.0)
    return result


def _padded(noisy: np.ndarray) -> np.ndarray:
    """The image, mirrored at the bottom and right to at least one patch a side."""
    height, width = noisy.shape
    if height >= _SIZE and width >= _SIZE:
        return noisy
    return np.pad(noisy, ((0, max(0, _SIZE - height)), (0, max(0, _SIZE - width))),
                  mode="symmetric")


def _trace(result: Result, padded: np.ndarray, start: np.ndarray, dictionary: np.ndarray,
           history: dict[str, np.ndarray] | None, codes: Codes | None, rows: np.ndarray,
           cols: np.ndarray, means: np.ndarray, shape: tuple[int, int], steps: int) -> None:
    """Fill in the stages, curves and extras of a traced run."""
    atoms = start.reshape(_ATOMS, _SIZE, _SIZE)
    result.stages["overcomplete DCT"] = sparsity.atoms_mosaic(atoms)
    display = {"overcomplete DCT": "image"}
    if history is not None:
        result.stages["learned dictionary"] = sparsity.atoms_mosaic(
            dictionary.reshape(_ATOMS, _SIZE, _SIZE))
        display["learned dictionary"] = "image"
        result.curves = {"representation error (0-255)": 255.0 * history["error"],
                         "atoms per patch": history["atoms"]}
        result.extras["curve_x"] = ("K-SVD iteration", np.arange(1, steps + 1))
    grid_shape = (padded.shape[0] - _SIZE + 1, padded.shape[1] - _SIZE + 1)
    counts = np.zeros(len(rows), np.int64) if codes is None else codes.counts
    result.stages["atoms per patch"] = counts.reshape(grid_shape).astype(np.float32)
    display["atoms per patch"] = "map"
    result.extras["display"] = display
    row = min(max(0, shape[0] // 2 - _SIZE // 2), grid_shape[0] - 1)
    col = min(max(0, shape[1] // 2 - _SIZE // 2), grid_shape[1] - 1)
    index = row * grid_shape[1] + col
    used = 0 if codes is None else int(codes.counts[index])
    chosen = np.zeros(0, np.int64) if codes is None else codes.atoms[index, :used]
    weights = np.zeros(0) if codes is None else codes.coefficients[index, :used]
    result.extras["dictionary"] = dictionary.reshape(_ATOMS, _SIZE, _SIZE).astype(np.float32)
    result.extras["patch"] = _patch_view(padded, (row, col), dictionary, float(means[index, 0]),
                                         chosen, weights)


def _patch_view(image: np.ndarray, corner: tuple[int, int], dictionary: np.ndarray, mean: float,
                chosen: np.ndarray, weights: np.ndarray) -> dict[str, Any]:
    """What a trace shows of one patch's code: the patch with its top-left ``corner``, its
    ``mean``, the atoms ``chosen`` from ``dictionary`` with their coefficients ``weights``,
    and the patch they rebuild."""
    flat = dictionary.reshape(_ATOMS, -1)
    rebuilt = mean + weights @ flat[chosen]
    return {
        "corner": corner,
        "noisy": extract(image, np.array([corner[0]]), np.array([corner[1]]),
                         _SIZE)[0].astype(np.float32),
        "reconstruction": np.asarray(rebuilt, np.float32).reshape(_SIZE, _SIZE),
        "mean": mean,
        "atoms": flat[chosen].reshape(len(chosen), _SIZE, _SIZE).astype(np.float32),
        "indices": chosen.copy(),
        "coefficients": weights.astype(np.float32),
    }


def code_patch(noisy: np.ndarray, sigma: float, corner: tuple[int, int],
               dictionary: np.ndarray, gain: float = 1.15) -> dict[str, Any]:
    """The code K-SVD's last coding gives the 8x8 patch of ``noisy`` with its top-left
    ``corner``, over ``dictionary`` (a traced run's ``extras["dictionary"]``): its mean
    removed, coded by OMP down to the residual ``64 (gain sigma)²``, as :func:`ksvd` codes
    every patch. The same keys as the trace's ``extras["patch"]``.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image K-SVD ran on (mirrored to 8 pixels a side if smaller).
    sigma : float
        Its noise standard deviation, on the [0, 1] scale.
    corner : tuple of int
        The patch's top-left pixel (row, column), clamped into the image.
    dictionary : ndarray, shape (256, 8, 8)
        The atoms of the run's last coding.
    gain : float
        The run's ``gain``: coding stops below ``gain x sigma`` per pixel.
    """
    padded = _padded(np.asarray(noisy, np.float64))
    row = min(max(0, corner[0]), padded.shape[0] - _SIZE)
    col = min(max(0, corner[1]), padded.shape[1] - _SIZE)
    patch = extract(padded, np.array([row]), np.array([col]), _SIZE).reshape(1, -1)
    mean = float(patch.mean())
    flat = dictionary.reshape(_ATOMS, -1).astype(np.float64)
    codes = omp(flat, patch - mean, tolerance=_SIZE * _SIZE * (gain * sigma) ** 2,
                max_atoms=_MAX_ATOMS)
    used = int(codes.counts[0])
    return _patch_view(padded, (row, col), flat, mean, codes.atoms[0, :used],
                       codes.coefficients[0, :used])


METHODS: tuple[Method, ...] = (
    Method(
        key="ksvd",
        name="K-SVD",
        year=2006,
        family=FAMILY,
        paper=("M. Elad and M. Aharon, \"Image denoising via sparse and redundant "
               "representations over learned dictionaries\", IEEE Trans. Image Process. "
               "15(12), 2006"),
        url="https://doi.org/10.1109/TIP.2006.881969",
        idea=(
            "Michael Elad's bet: a small patch of a photograph is a few strokes, a "
            "combination of a handful of elementary patterns (atoms) out of a dictionary "
            "of a few hundred, while noise needs all of them. So every overlapping 8x8 "
            "patch is written with as few atoms as it takes to explain it down to the "
            "noise level, found greedily by orthogonal matching pursuit, and whatever "
            "is left over is thrown away as noise. The twist of Elad and Aharon's 2006 "
            "paper is where the dictionary comes from: it starts as cosine waves (an "
            "overcomplete DCT), and K-SVD, the algorithm Aharon, Elad and Bruckstein had "
            "just invented, then reshapes every atom to fit the patches that use it, "
            "learning the edges and textures of this very image from its noisy patches. "
            "The noise, unlike anything else in the picture, is not learned. Each pixel "
            "is finally the average of the 64 patch codes that cover it. Learning from "
            "the image itself put K-SVD among the best denoisers of 2006, and a model "
            "learned from data, rather than designed by hand, is the thread that runs "
            "from here to the networks at the end of the story."),
        run=ksvd,
        params=KSVD,
        slow=True,
    ),
)
