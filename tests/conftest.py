"""Shared fixtures: seeded randomness and small crops of scikit-image's samples."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from denoisers.core import as_image


def crop(image: np.ndarray, size: int = 96) -> np.ndarray:
    """A float32 centre crop of ``size`` x ``size`` pixels."""
    image = as_image(image)
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return np.ascontiguousarray(image[top:top + size, left:left + size])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def grey_samples() -> dict[str, np.ndarray]:
    """Three grey crops with different content: a photo, a texture, a smooth scene."""
    return {"camera": crop(data.camera()), "brick": crop(data.brick()), "moon": crop(data.moon())}


@pytest.fixture(scope="session")
def colour_sample() -> np.ndarray:
    return crop(data.astronaut(), 64)
