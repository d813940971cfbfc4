"""Variance stabilisation: Poisson-Gaussian noise made Gaussian, and back.

A camera's noise is Poisson-Gaussian (:class:`~denoisers.noise.PoissonGaussian`): its
variance ``a x + b`` grows with the light, while almost every denoiser of this library
assumes one sigma for the whole image. The generalised Anscombe transform (GAT) bends the
intensities so that the noise has a variance of about 1 everywhere: with ``z = x / a``
(a Poisson count plus Gaussian noise of variance ``s2 = b / a**2``) it is

    f(z) = 2 sqrt(max(z + 3/8 + s2, 0)),

whose slope ``1 / sqrt(z + 3/8 + s2)`` undoes the growth of the standard deviation
``sqrt(z + s2)``. Any Gaussian denoiser, told sigma 1, then cleans the transformed image,
and the inverse takes its estimate back to intensities.

The inverse is where the care goes. The denoiser's output estimates the *mean* of the
transformed value, ``E[f(z) | y]``, and f is concave, so that mean lies below ``f(E[z])``
(Jensen): the algebraic inverse ``a ((D/2)**2 - 3/8 - s2)`` therefore lands too dark, by
about ``a / 4`` at moderate counts and by a quarter of the intensity at 0.4 counts, which
darkens every shadow of a low-light photograph. The exact unbiased inverse instead returns
the intensity ``y`` whose expected transformed value is the estimate: ``E[f(z) | y]`` is
computed once per ``s2`` on a grid of counts (a sum over Poisson counts of Gaussian
integrals) and inverted by monotone interpolation; beyond the grid the asymptotically
unbiased algebraic inverse ``a ((D/2)**2 - 1/8 - s2)`` differs from it by less than 3.5e-5
counts (:data:`COUNT_BOUND`).

References
----------
M. Mäkitalo and A. Foi, "Optimal inversion of the generalized Anscombe transformation for
Poisson-Gaussian noise", IEEE TIP 22(1), pp. 91-103, 2013. https://doi.org/10.1109/TIP.2012.2202675

M. Mäkitalo and A. Foi, "Optimal inversion of the Anscombe transformation in low-count
Poisson image denoising", IEEE TIP 20(1), pp. 99-109, 2011. https://doi.org/10.1109/TIP.2010.2056693
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import gammaln, pbdv

from .core import InvalidInput, as_image
from .noise import PoissonGaussian

#: The largest count (``y / a``) the inverse's table holds. Beyond it the asymptotically
#: unbiased inverse ``(D/2)**2 - 1/8 - s2`` is used, whose bias is ``(s2 + 3/8) / (8 m**2)``
#: counts to leading order, with ``m = count + 3/8 + s2``: at most 1 / (32 * 1000).
LAMBDA_MAX = 1000.0

#: ``s2 + 3/8`` from which no table is built: there the asymptotic inverse's bias, at most
#: ``1 / (8 (s2 + 3/8))`` = 1.25e-5 counts to leading order, is below :data:`COUNT_BOUND`
#: at every count.
TABLE_BELOW = 1e4

#: The bound, in counts, on the difference between the inverse used and the exact unbiased
#: inverse wherever the asymptotic formula stands in for the table: the leading-order
#: 3.125e-5 and a margin for the higher orders (measured: under 0.1 %; tests check it).
COUNT_BOUND = 3.5e-5

#: The table's counts: 0, then log-spaced from 1e-4 to :data:`LAMBDA_MAX`. Interpolating
#: ``sqrt(count + 1/8 + s2)``, nearly linear in the estimate, between them is accurate to
#: about 1e-5 counts.
_LAMBDAS = np.concatenate([[0.0], np.logspace(-4, np.log10(LAMBDA_MAX), 1000)])
_LAMBDAS.setflags(write=False)

#: Gauss-Hermite nodes for the Gaussian integral where the kink is far (:data:`_KINK`):
#: within 1e-12 of the closed form there, and all of them above the kink.
_NODES = 16

#: Where the kink of ``max(., 0)`` lies closer than this many standard deviations to the
#: Gaussian's centre, the integral is taken in closed form (quadrature is off by up to 1e-2).
_KINK = 8.0


def anscombe(image: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    """The generalised Anscombe transform: noise of variance a x + b becomes noise of variance
    about 1.

    With ``z = x / a`` and ``s2 = b / a**2`` it is ``2 sqrt(max(z + 3/8 + s2, 0))`` (Mäkitalo
    and Foi's GAT with gain 1 and no offset); for pure Gaussian noise (``a == 0``) it is
    ``x / sqrt(b)``. The variance is close to 1 from about 3 counts (``x / a``) up, lower
    below (at 0.4 counts of pure Poisson noise the standard deviation is about 0.6).

    Parameters
    ----------
    image : array, shape (H, W) or (H, W, 3)
        The noisy image on the [0, 1] scale (not clipped), float or integer (converted by
        :func:`~denoisers.core.as_image`).
    model : PoissonGaussian
        The noise's ``a`` and ``b``.

    Returns
    -------
    ndarray
        The transformed image, float32, the shape of ``as_image(image)``; its noise has a
        standard deviation of about 1. Computed in float64, then rounded to float32 by up
        to 6e-8 of its size (about ``2 sqrt(b) / a`` when ``b / a**2`` is large): under
        1e-3 of the noise while ``b / a**2`` < 6e7.
    """
    noisy = as_image(image, name="image").astype(np.float64)
    _check_model(model)
    if model.a == 0:
        return (noisy / np.sqrt(model.b)).astype(np.float32)
    sigma2 = model.b / model.a**2
    return (2 * np.sqrt(np.maximum(noisy / model.a + 3 / 8 + sigma2, 0))).astype(np.float32)


def inverse_anscombe(estimate: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    """The exact unbiased inverse: the intensity y whose expected transformed value
    E[f(z) | y] equals ``estimate``.

    ``E[f(z) | y]`` is tabulated once per ``s2 = b / a**2`` (cached) for counts ``y / a`` up
    to :data:`LAMBDA_MAX` and inverted by monotone interpolation; estimates below
    ``E[f(z) | 0]`` map to 0, those beyond the table to the asymptotically unbiased inverse
    ``a ((D/2)**2 - 1/8 - s2)``, within :data:`COUNT_BOUND` counts of the exact one. For
    pure Gaussian noise (``a == 0``) it is ``estimate * sqrt(b)``, exactly unbiased.

    Parameters
    ----------
    estimate : array, shape (H, W) or (H, W, 3)
        A denoised transformed image (of :func:`anscombe`): the estimate of
        ``E[f(z) | y]`` at each pixel. Its values are taken as they are, integers too.
    model : PoissonGaussian
        The noise's ``a`` and ``b``, those :func:`anscombe` was given.

    Returns
    -------
    ndarray
        The intensities on the [0, 1] scale, float32, the shape of ``as_image(estimate)``;
        never negative unless ``a == 0``.
    """
    values = _values(estimate)
    _check_model(model)
    if model.a == 0:
        return (values * np.sqrt(model.b)).astype(np.float32)
    return (model.a * _counts(values, model.b / model.a**2)).astype(np.float32)


def _check_model(model: object) -> None:
    if not isinstance(model, PoissonGaussian):
        raise InvalidInput("the noise model must be a PoissonGaussian (its a and b, e.g. "
                           f"noise.PRESETS['night']); got {model!r}")


def _values(estimate: np.ndarray) -> np.ndarray:
    """``estimate`` checked as an image (shape, finite values) and returned in float64 with
    its values kept (:func:`~denoisers.core.as_image` would scale an integer array)."""
    values = np.asarray(estimate)
    if values.dtype.kind in "biu":
        values = values.astype(np.float64)
    shape = as_image(values, name="estimate").shape
    return values.astype(np.float64).reshape(shape)


def _counts(estimate: np.ndarray, sigma2: float) -> np.ndarray:
    """The counts ``y / a`` whose ``E[f(z) | y]`` is ``estimate`` (float64), for Gaussian
    noise of variance ``sigma2`` on the counts."""
    asymptotic = np.maximum((np.maximum(estimate, 0) / 2) ** 2 - 1 / 8 - sigma2, 0)
    if sigma2 + 3 / 8 >= TABLE_BELOW:
        return asymptotic
    expected, root = _table(sigma2)
    tabled = np.maximum(np.interp(estimate, expected, root) ** 2 - 1 / 8 - sigma2, 0)
    return np.where(estimate > expected[-1], asymptotic, tabled)


@functools.lru_cache(maxsize=16)
def _table(sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """``E[f(z) | count]`` at the counts :data:`_LAMBDAS`, increasing, and
    ``sqrt(count + 1/8 + sigma2)`` there: the inverse interpolates the second over the first."""
    expected = _expected(_LAMBDAS, sigma2)
    assert np.all(np.diff(expected) > 0), f"E[f | count] is not increasing at s2 = {sigma2}"
    root = np.sqrt(_LAMBDAS + 1 / 8 + sigma2)
    for column in (expected, root):
        column.setflags(write=False)
    return expected, root


def _expected(lambdas: np.ndarray, sigma2: float) -> np.ndarray:
    """``E[f(z) | count]`` for each count of ``lambdas`` (1-D, non-negative): the sum over
    Poisson counts k of ``P(k; count) E[f(k + n)]`` with n ~ N(0, sigma2).

    The sum runs over k up to ``max + 12 sqrt(max) + 12``; the terms further out, beyond
    twelve standard deviations of every Poisson law here, vanish in float64."""
    top = float(lambdas.max())
    counts = np.arange(np.ceil(top + 12 * np.sqrt(top) + 12) + 1)
    inner = _rectified_sqrt_mean(counts + 3 / 8 + sigma2, np.sqrt(sigma2))
    positive = lambdas > 0
    rates = lambdas[positive, None]
    log_pmf = counts * np.log(rates) - rates - gammaln(counts + 1)
    expected = np.full(lambdas.shape, inner[0])  # a count of 0: k = 0 for sure
    expected[positive] = np.exp(log_pmf) @ inner
    return expected


def _rectified_sqrt_mean(centre: np.ndarray, sigma: float) -> np.ndarray:
    """``E[2 sqrt(max(X, 0))]`` for X ~ N(centre, sigma**2), for each (positive) centre.

    Gauss-Hermite quadrature where the kink at 0 lies more than :data:`_KINK` standard
    deviations below the centre; nearer, the closed form of the rectified Gaussian's
    half-moment, ``sqrt(sigma / 2) exp(-t**2 / 4) D_{-3/2}(-t)`` with ``t = centre / sigma``
    and D a parabolic cylinder function (Gradshteyn and Ryzhik 3.462.1).
    """
    if sigma == 0:
        return 2 * np.sqrt(centre)
    nodes, weights = hermegauss(_NODES)
    mean = 2 * np.sqrt(np.maximum(centre[:, None] + sigma * nodes, 0)) @ (weights / weights.sum())
    near = centre < _KINK * sigma
    t = centre[near] / sigma
    mean[near] = np.sqrt(sigma / 2) * np.exp(-t**2 / 4) * pbdv(-1.5, -t)[0]
    return mean
