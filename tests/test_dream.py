"""Running the digits network backwards: the input each output neuron wants."""

from __future__ import annotations

import numpy as np
import pytest

from denoisers.core import InvalidInput
from denoisers.nets import digits, dream


@pytest.fixture(scope="module")
def run() -> digits.DigitsRun:
    return digits.train_digits_mlp((32,), "relu", 40, 0)


@pytest.fixture(scope="module")
def dreamed(run) -> dream.Dream:
    return dream.dream(run, steps=200)


def test_each_grown_image_is_its_class_for_the_network(dreamed):
    assert dreamed.images.shape == dreamed.start.shape == (10, 8, 8)
    assert dreamed.images.min() >= 0.0 and dreamed.images.max() <= 1.0
    wanted = np.diag(dreamed.probabilities)
    assert wanted.min() > 0.6, wanted
    assert (dreamed.probabilities.argmax(1) == np.arange(10)).all()
    assert dreamed.curve[-1] > dreamed.curve[0] + 0.4  # from about 1/10 to near certainty


def test_the_images_moved_away_from_the_noise_they_started_from(dreamed):
    moved = np.abs(dreamed.images - dreamed.start).mean(axis=(1, 2))
    assert moved.min() > 0.1, moved


def test_without_the_smoothness_prior_the_answer_is_rougher(run, dreamed):
    rough = dream.dream(run, steps=200, roughness=0.0, energy=0.0)
    def roughness(x: np.ndarray) -> float:
        return float(np.square(np.diff(x, axis=1)).mean() + np.square(np.diff(x, axis=2)).mean())
    assert roughness(rough.images) > 2 * roughness(dreamed.images)


def test_the_same_seed_grows_the_same_images_and_another_seed_others(run, dreamed):
    again = dream.dream(run, steps=200)
    np.testing.assert_array_equal(again.images, dreamed.images)
    other = dream.dream(run, steps=200, seed=1)
    assert not np.allclose(other.start, dreamed.start)


def test_bad_settings_are_refused_clearly(run):
    with pytest.raises(InvalidInput, match="steps"):
        dream.dream(run, steps=0)


def _interlude_app() -> None:
    from ui import digits_views

    digits_views.interlude(key="t")


def test_the_interlude_shows_the_network_run_backwards():
    """Under the digits interlude: ten grown images, each captioned with the network's
    probability for its digit, and the story that says what they are."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_interlude_app, default_timeout=120)
    at.session_state["t.hidden"] = 16
    at.session_state["t.epochs"] = 20
    at.run()
    assert not at.exception, at.exception
    captions = [img.caption for image in at.image for img in image.proto.imgs]
    grown = [c for c in captions if c.startswith("a ") and c.endswith("%")]
    assert [c.split("?")[0] for c in grown] == [f"a {d}" for d in range(10)], captions
    assert captions.count("noise") == 10
    assert any("Running the network backwards" in m.value for m in at.markdown)
