"""Views into non-local means: one pixel's weights and look-alike patches, beside the
bilateral filter's weights for the same pixel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from denoisers.core import Result

from . import probe, views
from .probe import PICKER_COLUMNS, Pick

#: The side, in pixels, a patch is enlarged to.
PATCH_PX = 96


def pixel_views(image: np.ndarray, nlm_seen: Result, bilateral_seen: Result,
                pixel: tuple[int, int], pick: Pick, *, key: str) -> None:
    """The clickable image, NL-means' and the bilateral filter's weights around the chosen
    pixel side by side, then the patches NL-means found most like the pixel's own."""
    similar = nlm_seen.extras["similar"]
    left, right = st.columns(PICKER_COLUMNS)
    with left:
        pick(probe.crosshair(image, pixel))
    with right:
        nlm_side, bilateral_side = st.columns(2)
        with nlm_side:
            weights = nlm_seen.stages["weights"]
            views.heatmap(weights, title=f"NL-means: weights over its "
                                         f"{weights.shape[0]}x{weights.shape[1]} window "
                                         f"(similar {similar['patch']}x{similar['patch']} "
                                         "patches)", key=f"{key}.nlm")
        with bilateral_side:
            weights = bilateral_seen.stages["weights"]
            views.heatmap(weights, title=f"bilateral filter: weights over its "
                                         f"{weights.shape[0]}x{weights.shape[1]} window "
                                         "(near and similar pixels)", key=f"{key}.bilateral")
        st.caption(weight_summary(nlm_seen.stages["weights"], bilateral_seen.stages["weights"],
                                  similar))
    similar_patches(similar)
    if "colour" in nlm_seen.extras:
        st.caption("On a colour image both views are the luminance channel's (opponent colour "
                   "space), where the methods' traces look.")


def weight_summary(nlm_weights: np.ndarray, bilateral_weights: np.ndarray,
                   similar: Mapping[str, Any]) -> str:
    """What the two maps say in numbers: how many pixels each average really uses (the
    effective number 1 / sum w², the inverse Simpson index) and the estimate they give."""
    def effective(weights: np.ndarray) -> float:
        return 1.0 / float(np.sum(np.square(weights, dtype=np.float64)))

    return (f"Each map sums to 1: the estimate is the window's noisy pixels averaged with these "
            f"weights. NL-means averages the equivalent of {effective(nlm_weights):.0f} pixels "
            f"here, the bilateral filter {effective(bilateral_weights):.0f} (1 / Σ w²). "
            f"NL-means' estimate at the pixel: {similar['estimate'] * 255:.1f} on the 0–255 "
            f"scale, the same as the full run's {similar['result'] * 255:.1f}.")


def similar_patches(similar: Mapping[str, Any]) -> None:
    """The pixel's own patch and the patches of its window nearest to it, nearest first, each
    with its distance and its weight in the average."""
    tiles = similar["tiles"]
    columns = st.columns(len(tiles) + 1)
    with columns[0]:
        views.show_image(views.enlarged(np.clip(similar["reference"], 0, 1), PATCH_PX),
                         "the pixel's own patch")
    for column, tile, (dy, dx), distance, weight in zip(
            columns[1:], tiles, similar["offsets"], similar["distances"], similar["weights"]):
        with column:
            views.show_image(views.enlarged(np.clip(tile, 0, 1), PATCH_PX),
                             f"({int(dy):+d}, {int(dx):+d}): d² {distance * 255**2:.0f}, "
                             f"weight {weight:.4f}")
    st.caption(f"The {len(tiles)} patches of the window most like the pixel's own, nearest "
               "first: their offset (rows, columns), mean squared difference d² on the 0–255 "
               "scale (noise alone gives about 2σ²) and their weight in the average.")
