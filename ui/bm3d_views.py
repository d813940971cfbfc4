"""Views into BM3D: the matched blocks, the 3-D group and what the filters keep of it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from denoisers import sparsity
from denoisers.core import Result

from . import figures, views
from .probe import PICKER_COLUMNS, Pick


def group_views(image: np.ndarray, seen: Result, pick: Pick) -> None:
    """The chosen block's groups in both passes: the clickable image with the blocks
    outlined, their distances, and each group from the inside."""
    stage1, stage2 = seen.extras["stage 1"], seen.extras["stage 2"]
    left, right = st.columns(PICKER_COLUMNS)
    with left:
        pick(matched_blocks(image, stage1),
             f"The reference block (red) and the {len(stage1['matched blocks']) - 1} blocks "
             f"matched to it (yellow), within a mean squared difference of "
             f"{stage1['match threshold'] * 255**2:.0f} (0–255 scale).")
    with right:
        distances = {f"stage 1 (noisy): {_blocks(stage1)}": stage1["match distances"],
                     f"stage 2 (basic estimate): {_blocks(stage2)}": stage2["match distances"]}
        st.plotly_chart(figures.curves({name: values * 255**2
                                        for name, values in distances.items()},
                                       x_title="rank in the group",
                                       y_title="mean squared difference (0–255 scale)"),
                        key="bm3d.distances")
    group_inside(stage1, stage2)


def _blocks(stage: Mapping[str, Any]) -> str:
    """How many blocks a pass's group holds, in words: "16 blocks", "1 block"."""
    count = len(stage["match distances"])
    return f"{count} block" + ("" if count == 1 else "s")


def matched_blocks(image: np.ndarray, stage: Mapping[str, Any]) -> np.ndarray:
    """``image`` as RGB with the reference block (red) and its matches (yellow) outlined."""
    rgb = views.rgb_canvas(image)
    size = stage["block size"]
    corners = stage["matched blocks"]
    for index, (row, col) in enumerate(corners[::-1]):
        colour = (255, 0, 0) if index == len(corners) - 1 else (255, 210, 0)
        _outline(rgb, int(row), int(col), size, np.array(colour, np.uint8))
    return rgb


def _outline(rgb: np.ndarray, row: int, col: int, size: int, colour: np.ndarray) -> None:
    bottom, right = row + size - 1, col + size - 1
    rgb[row, col:right + 1] = rgb[bottom, col:right + 1] = colour
    rgb[row:bottom + 1, col] = rgb[row:bottom + 1, right] = colour


def stack(blocks: np.ndarray, caption: str) -> None:
    """A (g, n, n) stack of image blocks as a mosaic of their grey levels."""
    views.show_image(views.enlarged(sparsity.atoms_mosaic(blocks, pad=1, rescale=False), 300),
                     caption)


def spectrum(values: np.ndarray, caption: str) -> None:
    """A 3-D spectrum as a mosaic of its slices, log-magnitude (dark is zero)."""
    magnitude = np.log1p(np.abs(values) * 255)
    peak = float(magnitude.max()) or 1.0
    tiles = sparsity.atoms_mosaic(magnitude / peak, pad=1, rescale=False)
    views.show_image(views.enlarged(tiles, 300), caption)


def group_inside(stage1: Mapping[str, Any], stage2: Mapping[str, Any]) -> None:
    """Stage 1's group, spectrum and threshold; stage 2's Wiener factors."""
    first, second, third = st.columns(3)
    with first:
        stack(stage1["group"], f"the group: {len(stage1['group'])} noisy blocks, most similar "
                               "first")
    with second:
        spectrum(stage1["spectrum"], "its 3-D transform (each slice: one frequency across "
                                     "the group), log magnitude")
    with third:
        spectrum(stage1["thresholded spectrum"],
                 f"after hard thresholding: {stage1['retained coefficients']} of "
                 f"{stage1['spectrum'].size} coefficients kept")
    first, second, third = st.columns(3)
    with first:
        stack(stage1["filtered group"], "stage 1: the group filtered, before aggregation")
    with second:
        views.show_image(views.enlarged(sparsity.atoms_mosaic(
            stage2["Wiener factors"], pad=1, rescale=False), 300),
            "stage 2: the Wiener shrinkage factor of each coefficient (white 1: kept, "
            "black 0: removed), guided by the basic estimate")
    with third:
        stack(stage2["filtered group"], "stage 2: the group filtered")
