"""Views into the sparsity chapter: one DCT block, K-SVD's dictionaries, curves and one code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from denoisers import sparsity
from denoisers.core import Result

from . import figures, views
from .probe import PICKER_COLUMNS, Pick

#: The side, in pixels, small blocks and atoms are enlarged to.
BLOCK_PX = 160


def dct_atoms_picture() -> None:
    """The 64 atoms of the 8x8 DCT, lowest frequencies first: JPEG's fixed dictionary."""
    views.show_image(views.enlarged(sparsity.atoms_mosaic(sparsity.dct_atoms(8)), 300),
                     "the 64 atoms of the 8x8 DCT, row by row from the constant one to the "
                     "finest checkerboard (mid-grey is 0)")


def outlined(image: np.ndarray, corner: tuple[int, int], size: int) -> np.ndarray:
    """``image`` as RGB with the square block at ``corner`` outlined in red."""
    rgb = views.rgb_canvas(image)
    red = np.array([255, 0, 0], np.uint8)
    top, left = corner
    bottom = min(rgb.shape[0] - 1, top + size - 1)
    right = min(rgb.shape[1] - 1, left + size - 1)
    for row in (max(0, top - 1), bottom + 1 if bottom + 1 < rgb.shape[0] else bottom):
        rgb[row, max(0, left - 1):right + 2] = red
    for col in (max(0, left - 1), right + 1 if right + 1 < rgb.shape[1] else right):
        rgb[max(0, top - 1):bottom + 2, col] = red
    return rgb


def _block(values: np.ndarray, caption: str) -> None:
    views.show_image(views.enlarged(np.clip(values, 0.0, 1.0), BLOCK_PX), caption)


def _coefficients(values: np.ndarray, bound: float, title: str, *, key: str) -> None:
    views.heatmap(values * 255.0, title=title, colorscale="RdBu_r", zmin=-bound * 255.0,
                  zmax=bound * 255.0, height=260, key=key)


def block_views(image: np.ndarray, seen: Result, pick: Pick, *, key: str) -> None:
    """The sliding DCT's view of the chosen block: where it is, its DCT before and after the
    threshold, the block rebuilt from the kept coefficients and the final estimate there."""
    info = seen.extras["block"]
    size, corner = info["size"], info["corner"]
    stages = seen.stages
    left, right = st.columns(PICKER_COLUMNS)
    with left:
        pick(outlined(image, corner, size),
             f"The red square is the {size}x{size} block nearest the pixel (top-left at row "
             f"{corner[0]}, column {corner[1]}).")
    with right:
        # The scale of the AC coefficients: the DC (the mean, about 8 grey levels) would
        # flatten everything else.
        bound = max(float(np.abs(stages["block DCT"]).ravel()[1:].max(initial=0.0)), 1e-6)
        first, second = st.columns(2)
        with first:
            _coefficients(stages["block DCT"], bound,
                          "its DCT (0–255 scale; the DC, the block's mean, off the scale "
                          "top left)", key=f"{key}.dct")
        with second:
            _coefficients(stages["thresholded DCT"], bound,
                          f"kept: {info['kept']} of {size * size} coefficients, those above "
                          f"{info['threshold'] * 255:.0f}", key=f"{key}.kept")
        blocks = st.columns(3)
        for column, (name, caption) in zip(blocks, (
                ("block", "the noisy block"),
                ("reconstructed block", "rebuilt from the kept coefficients"),
                ("denoised block", "the final estimate there: the average of the "
                                   f"{size * size} blocks covering each pixel"))):
            with column:
                _block(stages[name], caption)
    if "colour" in seen.extras:
        st.caption("On a colour image the block is the luminance channel's (opponent colour "
                   "space), where the method's trace looks.")


def dictionaries(res: Result) -> None:
    """The overcomplete DCT K-SVD starts from beside the dictionary it learned."""
    left, right = st.columns(2)
    with left:
        views.show_image(views.enlarged(res.stages["overcomplete DCT"], 430),
                         "before: the 256 atoms of the overcomplete DCT (cosines, "
                         "16 x 16, each scaled on its own)")
    with right:
        if "learned dictionary" in res.stages:
            views.show_image(views.enlarged(res.stages["learned dictionary"], 430),
                             "after: the 256 atoms K-SVD learned from this noisy image, in "
                             "the same places")
        else:
            st.info("No dictionary was learned in this run (learning is off, 0 iterations, "
                    "or σ = 0): every patch is coded in the fixed DCT on the left.")


def learning_curves(res: Result, *, key: str) -> None:
    """The representation error and the atoms per patch, per K-SVD iteration."""
    if not res.curves:
        return
    x_title, x = res.extras.get("curve_x", ("K-SVD iteration", None))
    columns = st.columns(len(res.curves))
    for column, (name, series) in zip(columns, res.curves.items()):
        with column:
            st.plotly_chart(figures.curves({name: series}, x=x, x_title=x_title, title=name),
                            key=f"{key}.{name}")


def atoms_map(res: Result, *, key: str) -> None:
    """How many atoms the final coding of each patch used (patch at its top-left corner)."""
    counts = res.stages["atoms per patch"]
    views.heatmap(counts, title="atoms used per patch (at its top-left pixel)", height=420,
                  key=key)
    if counts.size:
        st.caption(f"A patch uses {counts.mean():.2f} atoms on average (at most "
                   f"{int(counts.max())}) besides its mean: flat areas need none, edges and "
                   "texture more. Coding stops as soon as what is left looks like the noise.")


def patch_code(image: np.ndarray, patch: Mapping[str, Any]) -> None:
    """One patch (where it is in ``image``), its sparse code (the atoms used, largest
    coefficient first) and the reconstruction: the mean plus the coefficients times the
    atoms."""
    used = len(patch["indices"])
    corner = patch["corner"]
    where, first, second = st.columns(3)
    with where:
        views.show_image(outlined(image, corner, patch["noisy"].shape[0]),
                         "the patch K-SVD's trace keeps: the one at the centre of the image "
                         "(red)")
    with first:
        _block(patch["noisy"], f"the noisy patch at row {corner[0]}, column {corner[1]}")
    with second:
        _block(patch["reconstruction"],
               f"its reconstruction: the mean ({patch['mean'] * 255:.0f}) plus {used} "
               f"atom{'s' if used != 1 else ''}")
    if not used:
        st.caption("This patch is its mean alone: no atom was needed to explain it down to "
                   "the noise.")
        return
    order = np.argsort(-np.abs(patch["coefficients"]))
    per_row = 8
    for start in range(0, used, per_row):
        for column, k in zip(st.columns(per_row), order[start:start + per_row]):
            with column:
                atom = patch["atoms"][k]
                peak = float(np.abs(atom).max()) or 1.0
                views.show_image(views.enlarged(0.5 + 0.5 * atom / peak, 80),
                                 f"#{int(patch['indices'][k])}: "
                                 f"{patch['coefficients'][k] * 255:+.0f}")
    st.caption("The atoms the code uses, largest coefficient first; under each, its index in "
               "the dictionary and its coefficient on the 0–255 scale (mid-grey is 0 in each "
               "atom).")
