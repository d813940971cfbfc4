"""Views into EPLL: the learned patch prior, the component chosen per patch, one patch's step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import streamlit as st

from denoisers.core import Result
from denoisers.sparsity import atoms_mosaic

from . import figures, views
from .probe import Pick
from .sparsity_views import BLOCK_PX, outlined


def prior_picture(res: Result) -> None:
    """The heaviest components of the mixture, one per row: their covariances' leading
    eigenvectors beside patches drawn from them."""
    prior = res.extras["prior"]
    count, per_row = prior["atoms"].shape[:2]
    size = prior["atoms"].shape[2]
    left, right = st.columns(2)
    with left:
        views.show_image(views.enlarged(_rows_mosaic(prior["atoms"]), 430),
                         f"the {per_row} leading eigenvectors of the {count} heaviest components, "
                         f"one component a row, strongest first (each scaled on its own, "
                         f"mid-grey is 0)")
    with right:
        views.show_image(views.enlarged(_rows_mosaic(prior["samples"]), 430),
                         f"{per_row} random {size}x{size} patches drawn from each of the same "
                         "components (their mean removed, as the prior sees them; each scaled "
                         "on its own, so a flat component's faint patches look as strong as an "
                         "edge's)")
    weights = ", ".join(f"#{int(k)} {100 * w:.1f} %"
                        for k, w in zip(prior["components"], prior["weights"]))
    st.caption(f"Row by row, the components and their weights in the mixture: {weights}.")


def _rows_mosaic(tiles: np.ndarray) -> np.ndarray:
    """(rows, columns, s, s) tiles as one mosaic, one row of the array a row of tiles."""
    rows, columns = tiles.shape[:2]
    square = max(rows, columns)
    padded = np.zeros((square * square, *tiles.shape[2:]), tiles.dtype)
    for row in range(rows):
        padded[row * square:row * square + columns] = tiles[row]
    mosaic = atoms_mosaic(padded)
    tile = tiles.shape[2] + 1
    return mosaic[:rows * tile - 1, :columns * tile - 1]


def component_map(res: Result, *, key: str) -> None:
    """The component chosen for every patch at the last step, one colour per component."""
    chosen = np.asarray(res.extras["components"])
    views.heatmap(chosen, title="the component chosen for each patch at the last step (at its "
                                "top-left pixel)", colorscale="Turbo", height=420, key=key)
    if chosen.size:
        used, counts = np.unique(chosen, return_counts=True)
        top = used[np.argsort(counts)[::-1][:3]]
        shares = ", ".join(f"#{int(k)} ({100 * counts[used == k][0] / chosen.size:.0f} %)"
                           for k in top)
        st.caption(f"{len(used)} of the prior's components are used here; the commonest are "
                   f"{shares}. Flat areas share a few smooth components, edges pick the "
                   "component of their orientation, so the map draws the image's structure.")


def steps(res: Result, scene_has_clean: bool, *, key: str) -> None:
    """The estimate after each half-quadratic step and, with a clean image, its PSNR."""
    names = [name for name in res.stages if name.startswith("step ")]
    if names:
        views.compare({name: res.stages[name] for name in names}, key=f"{key}.steps",
                      columns=min(len(names), 5))
    if "PSNR (dB)" in res.curves:
        x_title, x = res.extras["curve_x"]
        betas = ", ".join(f"{b:g}" for b in res.extras["betas"])
        st.plotly_chart(figures.curves({"PSNR (dB)": res.curves["PSNR (dB)"]}, x=x,
                                       x_title=x_title, y_title="PSNR (dB)",
                                       title=f"PSNR after each step (beta = {betas} / σ²)"),
                        key=f"{key}.psnr")
    elif not scene_has_clean:
        st.caption("An uploaded photo has no clean image: the PSNR per step cannot be measured.")


def patch_views(image: np.ndarray, seen: Result, pick: Pick) -> None:
    """The last step on the chosen patch: where it is, what the step saw, the component it
    chose with that component's leading eigenvectors, the posterior over components and the
    Wiener estimate."""
    patch: Mapping[str, Any] = seen.extras["patch"]
    corner, size = patch["corner"], patch["input"].shape[0]
    where, seen_col, estimate_col = st.columns(3)
    with where:
        pick(outlined(image, corner, size), f"The red square is the {size}x{size} patch nearest "
                                            f"the pixel (top-left at row {corner[0]}, column "
                                            f"{corner[1]}).")
    with seen_col:
        views.show_image(views.enlarged(np.clip(patch["input"], 0, 1), BLOCK_PX),
                         "the patch the last step started from")
    with estimate_col:
        views.show_image(views.enlarged(np.clip(patch["estimate"], 0, 1), BLOCK_PX),
                         f"its Wiener estimate under component #{patch['component']}")
    atoms = patch["atoms"]
    views.show_image(views.enlarged(_rows_mosaic(atoms[None]), 600),
                     f"the {len(atoms)} leading eigenvectors of component #{patch['component']}: "
                     "the shapes the estimate keeps most of")
    posterior = patch["posterior"]
    likely = np.argsort(posterior)[::-1][:10]
    st.plotly_chart(figures.bars({"posterior": posterior[likely]},
                                 x=[f"#{int(k)}" for k in likely], x_title="component",
                                 y_title="posterior probability",
                                 title="the 10 most likely components for this patch"),
                    key="epll.patch.posterior")
    listed = ", ".join(f"#{k}" for k in patch["shortlist"])
    st.caption(f"The full posterior over all {len(posterior)} components, drawn for this view. "
               f"The method itself scores every patch quickly on each component's leading "
               f"eigenvectors, keeps the {len(patch['shortlist'])} best ({listed} here) and "
               "computes the full posterior only for them: the component it chose is the "
               "likelier of those, almost always the chart's first.")
