"""The inverse problems held against what nobody here wrote: scipy's circular convolution
and correlation on a kernel that is not symmetric, Pillow's bicubic downsampling, the
geometry of a motion blur's angle, colour-demosaicing's RGGB mosaic and bilinear
interpolation, and the half-quadratic splitting schedule of the DPIR paper (Zhang et al.
2021), number by number (denoisers/inverse/)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from denoisers import inverse
from denoisers.inverse import problems, solvers


@pytest.fixture
def lopsided(monkeypatch, rng) -> np.ndarray:
    """A 5x7 kernel with no symmetry at all, made the deblurring problem's kernel."""
    kernel = rng.random((5, 7))
    kernel /= kernel.sum()
    monkeypatch.setattr(problems.Deblur, "kernel", property(lambda self: kernel))
    return kernel


def test_deblurring_is_scipy_s_circular_convolution(rng, lopsided):
    image = rng.random((24, 31))
    expected = ndimage.convolve(image, lopsided, mode="wrap")
    np.testing.assert_allclose(inverse.make("deblur").forward(image), expected, atol=1e-12)


def test_the_deblurring_adjoint_is_scipy_s_circular_correlation(rng, lopsided):
    """A symmetric kernel's adjoint is its convolution; only a lopsided one tells a
    missing complex conjugate."""
    image = rng.random((24, 31, 3))
    expected = ndimage.correlate(image, lopsided[..., None], mode="wrap")
    np.testing.assert_allclose(inverse.make("deblur").adjoint(image), expected, atol=1e-12)


@pytest.mark.parametrize("angle", [30.0, 60.0, 110.0, 160.0])
def test_a_motion_blur_runs_at_its_angle_anticlockwise_from_the_horizontal(angle):
    """The kernel's principal axis, with rows counted upwards, points at the angle."""
    kernel = problems.motion_kernel(21, angle)
    rows, cols = np.indices(kernel.shape)
    up, right = (kernel.shape[0] // 2) - rows, cols - kernel.shape[1] // 2
    covariance = np.cov(np.stack([right.ravel(), up.ravel()]), aweights=kernel.ravel())
    values, vectors = np.linalg.eigh(covariance)
    axis = vectors[:, np.argmax(values)]
    found = math.degrees(math.atan2(axis[1], axis[0])) % 180
    assert found == pytest.approx(angle, abs=1.0)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_super_resolution_downsamples_as_pillow_s_bicubic_resize(rng, factor):
    """Away from the borders (the problem wraps around, Pillow clamps), the low-resolution
    image is Pillow's bicubic reduction of a smooth image."""
    image = ndimage.gaussian_filter(rng.random((48 * factor // 2, 60 * factor // 2)), 2)
    image = image[:image.shape[0] // factor * factor, :image.shape[1] // factor * factor]
    low = inverse.make("super_resolution", factor=factor).forward(image)
    pillow = np.asarray(Image.fromarray(image.astype(np.float32), mode="F").resize(
        (image.shape[1] // factor, image.shape[0] // factor), Image.Resampling.BICUBIC))
    inside = (slice(3, -3), slice(3, -3))
    np.testing.assert_allclose(low[inside], pillow[inside], atol=1e-6)


def _colour_demosaicing():
    """The colour-demosaicing package (development requirements), imported quietly: it
    imports a deprecated scipy module and says that matplotlib is missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour_demosaicing
    return colour_demosaicing


def test_the_mosaic_is_colour_demosaicing_s_rggb_mosaic(rng):
    image = rng.random((20, 27, 3))
    expected = _colour_demosaicing().mosaicing_CFA_Bayer(image, "RGGB")
    np.testing.assert_array_equal(inverse.make("demosaic").forward(image), expected)


def test_the_bilinear_baseline_is_colour_demosaicing_s_inside_the_border(rng):
    """Equal but on the outermost pixels: there colour-demosaicing's convolution reflects
    the edge pixel itself (scipy's mode "reflect"), which puts a sample of the wrong
    colour beside it; the project mirrors about it, which keeps the Bayer pattern."""
    mosaic = rng.random((20, 27))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _colour_demosaicing().demosaicing_CFA_Bayer_bilinear(mosaic, "RGGB")
    found = inverse.make("demosaic").baseline(mosaic)
    np.testing.assert_allclose(found[1:-1, 1:-1], expected[1:-1, 1:-1], atol=1e-12)
    assert not np.allclose(found[0], expected[0])  # the border is where the two differ


@pytest.mark.parametrize(("name", "noise"), [("deblur", 2.55 / 255), ("super_resolution", 0.0)],
                         ids=["deblur", "super_resolution"])
def test_the_hqs_schedule_is_dpir_s(monkeypatch, name, noise):
    """DPIR's get_rho_sigma: sigma_k from 49 down to the noise level (at least 0.255 on the
    0-255 scale; here the floor is 1) evenly on a log scale, and the data step's weight
    rho_k = lambda sigma² / sigma_k², lambda = 0.23; the denoiser is run at sigma_k."""
    problem = inverse.make(name, sigma=noise)
    seen_rho, seen_level = [], []
    data_step, real_run = problem.data_step, solvers.run

    def recording_step(z, y, rho):
        seen_rho.append(rho)
        return data_step(z, y, rho)

    def recording_denoiser(key, x, level, **params):
        seen_level.append(level)
        return real_run("tv", x, level)

    monkeypatch.setattr(problem, "data_step", recording_step)
    monkeypatch.setattr(solvers, "run", recording_denoiser)
    clean = ndimage.gaussian_filter(np.random.default_rng(0).random((32, 32)), 2)
    inverse.restore(problem, problem.degrade(clean), prior="tv", iterations=8)
    used = max(noise, 1 / 255) * 255
    sigmas = np.logspace(np.log10(49), np.log10(used), 8) / 255
    np.testing.assert_allclose(seen_level, sigmas, rtol=1e-12)
    np.testing.assert_allclose(seen_rho, 0.23 * (used / 255) ** 2 / sigmas**2, rtol=1e-12)
