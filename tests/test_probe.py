"""Where a probe starts before any click: on structure, not in a flat area."""

from __future__ import annotations

import numpy as np
from skimage import data

from denoisers import noise
from ui import probe


def test_the_probe_starts_on_the_edge_nearest_the_centre_not_in_the_flat_middle():
    image = np.full((128, 128), 0.2, np.float32)
    image[:, 90:] = 0.8  # one vertical edge, right of the centre
    noisy = noise.add_gaussian(image, 0.1, seed=0)
    row, col = probe.starting_pixel(noisy)
    assert abs(col - 89.5) <= 3, (row, col)
    assert abs(row - 63.5) <= 16, (row, col)


def test_on_camera_the_probe_starts_on_an_edge_not_in_the_coat():
    camera = data.camera().astype(np.float32) / 255
    row, col = probe.starting_pixel(camera)
    window = camera[row - 3:row + 4, col - 3:col + 4]
    assert window.max() - window.min() > 0.2, (row, col)  # an edge: not flat
    assert abs(row - 256) < 128 and abs(col - 256) < 128  # and near the centre


def test_a_flat_image_starts_at_the_centre():
    assert probe.starting_pixel(np.zeros((64, 48), np.float32)) == (32, 24)
