"""Tests of the local filters: Gaussian, Wiener, median and bilateral (denoisers.linear)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import ndimage
from skimage import color, data, filters, morphology, restoration

import denoisers
from denoisers import linear
from denoisers.core import Int
from denoisers.metrics import psnr

SIGMA = 25 / 255
KEYS = ("gaussian", "wiener", "median", "bilateral")

#: Least PSNR gain (dB) over the noisy image at sigma 25 on 128x128 crops.
#: Measured: gaussian 5.9 / 10.4 / 6.2 dB on camera / moon / astronaut, wiener 6.6 / 14.3 /
#: 6.3, median 5.6 / 8.9 / 5.3, bilateral 7.1 / 12.2 / 6.6.
MARGIN = {"gaussian": 5.0, "wiener": 5.5, "median": 4.5, "bilateral": 6.0}


@functools.cache
def clean(name: str) -> np.ndarray:
    """A 128x128 centre crop of a scikit-image sample image, grey float32."""
    image = getattr(data, name)()
    image = color.rgb2gray(image) if image.ndim == 3 else image
    grey = denoisers.core.as_image(image)
    row, col = grey.shape[0] // 2 - 64, grey.shape[1] // 2 - 64
    return np.ascontiguousarray(grey[row:row + 128, col:col + 128])


@functools.cache
def noisy(name: str, sigma: float = SIGMA) -> np.ndarray:
    return denoisers.noise.add_gaussian(clean(name), sigma, seed=1)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", ["camera", "moon", "astronaut"])
def test_improves_psnr_at_sigma_25(key: str, name: str) -> None:
    before = psnr(clean(name), noisy(name))
    after = psnr(clean(name), denoisers.run(key, noisy(name), SIGMA).image)
    assert after - before > MARGIN[key]


@pytest.mark.parametrize("rule", [linear.gaussian_width, linear.median_radius,
                                  linear.bilateral_space, linear.bilateral_range])
def test_default_rules_grow_with_sigma(rule) -> None:
    values = [rule(s / 255) for s in (0, 5, 10, 15, 25, 50, 75, 100, 255)]
    assert values == sorted(values)
    assert rule(100 / 255) > rule(5 / 255)


@pytest.mark.parametrize("key, params", [
    ("gaussian", {"width": linear.gaussian_width(50 / 255)}),
    ("median", {"radius": linear.median_radius(50 / 255)}),
    ("bilateral", {"sigma_space": linear.bilateral_space(50 / 255),
                   "range_factor": linear.bilateral_range(50 / 255)}),
])
def test_auto_parameters_apply_the_rule(key: str, params: dict) -> None:
    image = noisy("camera", 50 / 255)
    auto = denoisers.run(key, image, 50 / 255)
    assert auto.extras["params"] == params
    np.testing.assert_array_equal(auto.image, denoisers.run(key, image, 50 / 255, **params).image)


def test_gaussian_equals_scipy_and_skimage() -> None:
    image = noisy("camera")
    ours = denoisers.run("gaussian", image, SIGMA, width=1.7).image
    np.testing.assert_array_equal(ours, ndimage.gaussian_filter(image, 1.7, mode="reflect"))
    theirs = filters.gaussian(image, sigma=1.7, mode="reflect", preserve_range=True)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_median_equals_scipy_with_disk() -> None:
    image = noisy("astronaut")
    ours = denoisers.run("median", image, SIGMA, radius=3).image
    footprint = morphology.disk(3).astype(bool)
    np.testing.assert_array_equal(
        ours, ndimage.median_filter(image, footprint=footprint, mode="reflect"))


def brute_bilateral(image: np.ndarray, space: float, sigma_range: float) -> np.ndarray:
    """Tomasi & Manduchi's formula, pixel by pixel, on a disk of radius ceil(2 space)."""
    radius = int(np.ceil(2 * space))
    padded = np.pad(image.astype(np.float64), radius, mode="symmetric")
    out = np.empty(image.shape)
    for r in range(image.shape[0]):
        for c in range(image.shape[1]):
            weights, total = 0.0, 0.0
            for dr in range(-radius, radius + 1):
                for dc in range(-radius, radius + 1):
                    if dr * dr + dc * dc > radius * radius:
                        continue
                    value = padded[r + radius + dr, c + radius + dc]
                    w = np.exp(-(dr * dr + dc * dc) / (2 * space**2)
                               - (value - image[r, c]) ** 2 / (2 * sigma_range**2))
                    weights, total = weights + w, total + w * value
            out[r, c] = total / weights
    return out


@pytest.mark.parametrize("rows, cols, space", [
    ((40, 64), (50, 70), 1.5),
    ((0, 70), (60, 69), 2.5),  # taller than a block of rows, thinner than the window
])
def test_bilateral_equals_the_formula(rows, cols, space) -> None:
    image = noisy("camera")[rows[0]:rows[1], cols[0]:cols[1]]
    ours = denoisers.run("bilateral", image, SIGMA, sigma_space=space, range_factor=2.0).image
    np.testing.assert_allclose(ours, brute_bilateral(image, space, 2.0 * SIGMA), atol=1e-5)


def test_bilateral_close_to_skimage() -> None:
    image = np.clip(noisy("camera"), 0, 1)
    ours = denoisers.run("bilateral", image, SIGMA, sigma_space=1.5, range_factor=2.0).image
    # Same widths (sigma_color is the absolute range width on [0, 1]), but skimage has a
    # square window, bins the range kernel, and (0.26) builds its spatial table one row
    # too wide, which shears the spatial kernel: only a loose agreement is expected.
    theirs = restoration.denoise_bilateral(
        image.astype(np.float64), win_size=7, sigma_color=2.0 * SIGMA, sigma_spatial=1.5,
        mode="symmetric")
    assert psnr(theirs, ours) > 28
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.99


def test_gaussian_trace() -> None:
    width = 1.5
    result = denoisers.run("gaussian", noisy("camera"), SIGMA, trace=True, width=width)
    kernel = result.stages["kernel"]
    assert kernel.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.unravel_index(kernel.argmax(), kernel.shape) == (kernel.shape[0] // 2,) * 2
    response = result.stages["frequency response"]
    assert response.shape == (128, 128)
    assert response[64, 64] == pytest.approx(1.0, abs=1e-5)
    curve = result.curves["radial frequency response"]
    freqs = result.extras["curve_x"][1]
    assert freqs[0] == 0 and freqs[-1] == 0.5 and curve.shape == freqs.shape
    expected = np.exp(-2 * np.pi**2 * width**2 * freqs**2)
    np.testing.assert_allclose(curve, expected, atol=0.02)


def test_wiener_trace() -> None:
    image = noisy("moon")
    result = denoisers.run("wiener", image, SIGMA, trace=True)
    gain = result.stages["gain"]
    assert gain.shape == (256, 256)
    assert gain.min() >= 0 and gain.max() <= 1
    for name in ("noisy spectrum", "estimated signal spectrum"):
        assert result.stages[name].shape == gain.shape
        assert np.all(np.isfinite(result.stages[name]))
    signal = 10.0 ** result.stages["estimated signal spectrum"].astype(np.float64)
    np.testing.assert_allclose(signal / (signal + SIGMA**2), gain, atol=1e-4)
    curve = result.curves["radial gain"]
    assert curve[1] > 0.9 and curve[-1] < 0.2
    assert result.extras["curve_x"][1].shape == curve.shape


def mirror_fft_wiener(image: np.ndarray, sigma: float, smoothing: float,
                      noise_factor: float = 1.0) -> np.ndarray:
    """The Wiener filter as its docstring defines it, the long way: the FFT of the image
    extended by its mirror images to (2H, 2W), its periodogram smoothed with scipy's
    Gaussian (wrapping around), the gain, the inverse FFT, the crop."""
    height, width = image.shape
    rows, cols = (height // 2, height - height // 2), (width // 2, width - width // 2)
    extended = np.pad(image.astype(np.float64), (rows, cols), mode="symmetric")
    mean = extended.mean()
    spectrum = np.fft.fft2(extended - mean)
    power = ndimage.gaussian_filter(np.abs(spectrum) ** 2 / extended.size, smoothing, mode="wrap")
    noise = noise_factor * sigma**2
    signal = np.maximum(power - noise, 0.0)
    gain = signal / np.maximum(signal + noise, 1e-20)
    filtered = np.real(np.fft.ifft2(spectrum * gain)) + mean
    return filtered[rows[0]:rows[0] + height, cols[0]:cols[0] + width]


@pytest.mark.parametrize("shape", [(128, 128), (45, 70), (3, 2)])
@pytest.mark.parametrize("smoothing, noise_factor", [(0.0, 1.0), (0.5, 1.0), (6.0, 1.0),
                                                     (8.0, 2.5)])
def test_wiener_is_the_filter_of_the_mirror_extended_spectrum(shape, smoothing,
                                                             noise_factor) -> None:
    image = noisy("moon")[:shape[0], :shape[1]]
    ours = denoisers.run("wiener", image, SIGMA, smoothing=smoothing,
                         noise_factor=noise_factor).image
    np.testing.assert_allclose(ours, mirror_fft_wiener(image, SIGMA, smoothing, noise_factor),
                               atol=1e-6)


def test_wiener_trace_is_a_small_picture_of_a_large_image() -> None:
    image = denoisers.noise.add_gaussian(denoisers.core.as_image(data.camera()), SIGMA, seed=0)
    assert image.shape == (512, 512)
    result = denoisers.run("wiener", image, SIGMA, trace=True)
    for name, stage in result.stages.items():
        assert stage.shape == (256, 256), name
        assert np.all(np.isfinite(stage)), name
    gain = result.stages["gain"]
    assert gain.min() >= 0 and gain.max() <= 1
    # zero frequency in the centre, kept; the highest frequencies, at the corners, removed
    assert gain[127:129, 127:129].min() > 0.99 and gain[:4, :4].max() < 0.1
    curve = result.curves["radial gain"]
    assert curve[0] > 0.99 and curve[-1] < 0.1


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("name", ["camera", "moon", "astronaut"])
def test_every_slider_changes_the_result_over_most_of_its_range(key: str, name: str) -> None:
    """Each slider, moved over its whole range (the others on their defaults), changes the
    PSNR by more than 1 dB, and over at least two of its four quarters by more than 0.1 dB:
    a slider with a long stretch where nothing happens looks broken."""
    for param in denoisers.get(key).params:
        values = np.linspace(param.low, param.high, 5)
        values = [int(round(v)) if isinstance(param, Int) else float(v) for v in values]
        scores = [psnr(clean(name), denoisers.run(key, noisy(name), SIGMA,
                                                  **{param.name: v}).image) for v in values]
        changes = np.abs(np.diff(scores))
        assert max(scores) - min(scores) > 1.0, (param.name, values, scores)
        assert np.sum(changes > 0.1) >= 2, (param.name, values, scores)


def test_wiener_without_noise_keeps_the_image() -> None:
    image = clean("camera")
    np.testing.assert_allclose(denoisers.run("wiener", image, 0.0).image, image, atol=1e-5)


def test_wiener_noise_factor_removes_more() -> None:
    image = noisy("camera")
    mild = denoisers.run("wiener", image, SIGMA, noise_factor=0.5).image
    strong = denoisers.run("wiener", image, SIGMA, noise_factor=3.0).image
    assert np.std(image - strong) > np.std(image - mild)


@pytest.mark.parametrize("probe", [(64, 64), (0, 0), (127, 5)])
def test_median_trace_window(probe: tuple[int, int]) -> None:
    image = noisy("camera")
    result = denoisers.run("median", image, SIGMA, trace=True, probe=probe, radius=2)
    np.testing.assert_array_equal(result.stages["footprint"], morphology.disk(2))
    window = result.stages["window"]
    assert window.shape == (5, 5) and window[2, 2] == image[probe]
    picked = result.extras["window"]
    values = picked["values"]
    assert values.size == 13 and np.all(np.diff(values) >= 0)
    assert picked["median"] == result.image[probe]


@pytest.mark.parametrize("probe", [(64, 64), (0, 0)])
def test_bilateral_trace_weights(probe: tuple[int, int]) -> None:
    image = noisy("camera")
    result = denoisers.run("bilateral", image, SIGMA, trace=True, probe=probe,
                           sigma_space=1.5, range_factor=2.0)
    weights, window = result.stages["weights"], result.stages["window"]
    assert weights.shape == window.shape == (7, 7)
    assert weights.sum() == pytest.approx(1.0, abs=1e-5)
    assert np.unravel_index(weights.argmax(), weights.shape) == (3, 3)
    assert result.stages["range weights"].max() == pytest.approx(1.0)
    # the weights are exactly those of the average that gives the output pixel
    assert float((weights * window).sum()) == pytest.approx(float(result.image[probe]), abs=1e-5)


def test_bilateral_on_flat_image_is_a_gaussian_disk() -> None:
    flat = np.full((32, 32), 0.5, np.float32)
    result = denoisers.run("bilateral", flat, SIGMA, trace=True, sigma_space=1.5)
    space = result.stages["space weights"]
    np.testing.assert_allclose(result.stages["weights"], space / space.sum(), atol=1e-6)
    np.testing.assert_allclose(result.image, flat, atol=1e-6)


def test_bilateral_reports_progress() -> None:
    seen: list[float] = []
    denoisers.run("bilateral", noisy("camera"), SIGMA, progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("shape", [(201, 157), (8, 8), (2, 2)])
def test_odd_and_tiny_sizes(key: str, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    image = rng.random(shape, dtype=np.float32)
    result = denoisers.run(key, image, SIGMA, trace=True)
    assert result.image.shape == shape and result.image.dtype == np.float32
    assert np.all(np.isfinite(result.image))
    for stage in result.stages.values():
        assert np.all(np.isfinite(stage))
