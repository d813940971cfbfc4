"""The opponent colour space and the channel-by-channel run of a grey method (denoisers.colour),
held against the transform's formulas written out here, not read from the module."""

from __future__ import annotations

import numpy as np
import pytest

from denoisers import colour
from denoisers.core import Result


def _opponent_by_hand(rgb: np.ndarray) -> np.ndarray:
    """CBM3D's opponent transform, from the formulas (Dabov et al. 2007)."""
    r, g, b = (rgb[..., c].astype(np.float64) for c in range(3))
    return np.stack([(r + g + b) / 3, (r - b) / 2 + 0.5, (r - 2 * g + b) / 4 + 0.5], axis=-1)


@pytest.fixture
def rgb(rng) -> np.ndarray:
    return rng.random((5, 7, 3)).astype(np.float32)


def test_to_opponent_is_the_formulas(rgb):
    opp = colour.to_opponent(rgb)
    assert opp.dtype == np.float32 and opp.shape == rgb.shape
    np.testing.assert_allclose(opp, _opponent_by_hand(rgb), atol=1e-6)


def test_the_corners_of_the_rgb_cube_map_into_the_unit_cube():
    corners = np.array([[r, g, b] for r in (0, 1) for g in (0, 1) for b in (0, 1)], np.float32)
    opp = colour.to_opponent(corners[None])[0]
    assert opp.min() >= -1e-7 and opp.max() <= 1 + 1e-7
    # white is (1, 1/2, 1/2), black (0, 1/2, 1/2), pure red (1/3, 1, 3/4), pure green (1/3, 1/2, 0)
    np.testing.assert_allclose(opp[[7, 0, 4, 2]], [[1, 0.5, 0.5], [0, 0.5, 0.5],
                                                   [1 / 3, 1, 0.75], [1 / 3, 0.5, 0]], atol=1e-7)


def test_from_opponent_inverts_to_opponent(rgb):
    back = colour.from_opponent(colour.to_opponent(rgb))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    opp = np.random.default_rng(3).random((4, 3, 3)).astype(np.float32)
    np.testing.assert_allclose(colour.to_opponent(colour.from_opponent(opp)), opp, atol=1e-6)


def test_each_channel_carries_its_share_of_the_noise():
    """sigma/sqrt(3), sigma/sqrt(2) and sigma*sqrt(6)/4, and white noise stays uncorrelated."""
    np.testing.assert_allclose(colour.CHANNEL_SIGMA, [3 ** -0.5, 2 ** -0.5, 6 ** 0.5 / 4])
    noise = np.random.default_rng(0).standard_normal((200_000, 3))
    moved = colour.to_opponent(noise[None])[0] - [0, 0.5, 0.5]
    covariance = np.cov(moved.T)
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), colour.CHANNEL_SIGMA, rtol=0.01)
    assert np.abs(covariance - np.diag(np.diag(covariance))).max() < 0.005


def test_luminance_is_the_mean_of_the_channels(rgb):
    grey = colour.luminance(rgb)
    assert grey.shape == rgb.shape[:2] and grey.flags.c_contiguous
    np.testing.assert_allclose(grey, rgb.mean(axis=-1), atol=1e-6)


def test_luminance_view_of_grey_is_the_image_itself(rgb):
    grey = rgb[..., 0]
    image, sigma = colour.luminance_view(grey, 0.1)
    assert image is grey and sigma == 0.1
    image, sigma = colour.luminance_view(rgb, 0.3)
    np.testing.assert_allclose(image, rgb.mean(axis=-1), atol=1e-6)
    assert sigma == pytest.approx(0.3 / np.sqrt(3))


class _Recorder:
    """A grey 'method' that remembers what it was given and returns ``scale`` times its input."""

    def __init__(self, scale: float = 1.0):
        self.calls: list[dict] = []
        self.scale = scale

    def __call__(self, image, sigma, *, trace, progress, **kwargs):
        assert image.ndim == 2 and image.flags.c_contiguous
        self.calls.append(dict(image=image.copy(), sigma=sigma, trace=trace, kwargs=kwargs))
        if progress is not None:
            progress(0.0)
            progress(1.0)
        return Result(image=image * self.scale, extras={"channel": len(self.calls) - 1})


def test_by_channel_runs_the_method_on_each_opponent_channel(rgb):
    run = _Recorder()
    result = colour.by_channel(run, rgb, 0.2, trace=True, strength=3)
    opp = _opponent_by_hand(rgb)
    assert len(run.calls) == 3
    for c, call in enumerate(run.calls):
        np.testing.assert_allclose(call["image"], opp[..., c], atol=1e-6)
        assert call["sigma"] == pytest.approx(0.2 * colour.CHANNEL_SIGMA[c])
        assert call["kwargs"] == {"strength": 3}
    # only the luminance is traced, and the result is the luminance's, with the colour image
    assert [call["trace"] for call in run.calls] == [True, False, False]
    assert result.extras["channel"] == 0
    assert "opponent colour space" in result.extras["colour"]
    assert "the luminance channel's" in result.extras["colour"]
    assert result.image.dtype == np.float32 and result.image.shape == rgb.shape
    np.testing.assert_allclose(result.image, rgb, atol=1e-6)


def test_by_channel_maps_the_method_output_back_to_rgb(rgb):
    """A method that halves its input returns the RGB whose opponent channels are halved."""
    result = colour.by_channel(_Recorder(0.5), rgb, 0.1)
    expected = colour.from_opponent(colour.to_opponent(rgb) * 0.5)
    np.testing.assert_allclose(result.image, expected, atol=1e-6)
    r, g, b = (result.image[..., c].astype(np.float64) for c in range(3))
    np.testing.assert_allclose((r + g + b) / 3, rgb.mean(axis=-1) / 2, atol=1e-6)


def test_by_channel_traces_nothing_unless_asked(rgb):
    run = _Recorder()
    colour.by_channel(run, rgb, 0.1)
    assert [call["trace"] for call in run.calls] == [False, False, False]


def test_by_channel_caps_each_channel_sigma_at_one(rgb):
    run = _Recorder()
    colour.by_channel(run, rgb, 1.5)
    assert [call["sigma"] for call in run.calls] == pytest.approx(
        [min(1.0, 1.5 * s) for s in (3 ** -0.5, 2 ** -0.5, 6 ** 0.5 / 4)])
    assert run.calls[1]["sigma"] == 1.0


def test_by_channel_reports_progress_a_third_per_channel(rgb):
    seen: list[float] = []
    colour.by_channel(_Recorder(), rgb, 0.1, progress=seen.append)
    assert seen == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 1])


def test_by_channel_without_progress_gives_the_method_none(rgb):
    given = []

    def run(image, sigma, *, trace, progress):
        given.append(progress)
        return Result(image=image)

    colour.by_channel(run, rgb, 0.1)
    assert given == [None, None, None]
