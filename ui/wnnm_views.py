"""Views into WNNM: its iterations, the rank each group keeps, and one group's singular values."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from denoisers.core import Result

from . import bm3d_views, figures, views
from .probe import PICKER_COLUMNS, Pick


def iteration_curves(res: Result, *, key: str) -> None:
    """The PSNR after each iteration (with a clean image) and the noise level it assumed."""
    x_title, x = res.extras["curve_x"]
    columns = st.columns(len(res.curves))
    for column, (name, series) in zip(columns, res.curves.items()):
        with column:
            st.plotly_chart(figures.curves({name: series}, x=x, x_title=x_title, title=name),
                            key=f"{key}.{name}")
    st.caption("The first iteration shrinks with the noise level you gave; each later one "
               "re-estimates the noise left in every patch from how much has been removed so "
               "far, and adds a tenth of the noisy image back in before shrinking again.")


def rank_map(res: Result, *, key: str) -> None:
    """How many singular values each reference patch's group kept in the last iteration."""
    ranks = res.stages["rank kept"]
    views.heatmap(ranks, title="rank kept by each group in the last iteration "
                               "(one value per reference patch)", height=420, key=key)
    size = res.extras["params"]["size"]
    st.caption(f"Out of {size * size} possible (the pixels of a {size}x{size} patch) the "
               f"groups keep {ranks.mean():.1f} on average, at most {int(ranks.max())}, "
               "besides the group's mean patch: flat areas need none or one more, edges and "
               "texture more.")


def weights_figure(values: np.ndarray, weights: np.ndarray) -> go.Figure:
    """The weights beside the singular values they shrink, both on the 0–255 scale, on a log
    axis that ends at twice the largest value: the weights of the noise's values (near
    ``c sqrt(n) sigma² / eps``, about 10⁹) would squash those that matter flat."""
    positive = np.concatenate([values[values > 0], weights[weights > 0]])
    low = float(positive.min()) if positive.size else 1e-3
    high = 2.0 * float(values.max()) if values.size and values.max() > 0 else 1.0
    fig = figures.curves({"singular value": values, "weight (taken off)": weights},
                         x=np.arange(1, len(values) + 1), x_title="singular value, largest first",
                         y_title="0–255 scale (log)",
                         title="each singular value and its weight (how much is taken off)")
    fig.update_yaxes(type="log", range=[np.log10(low / 1.5), np.log10(high)])
    return fig


def group_views(image: np.ndarray, seen: Result, pick: Pick, *, key: str) -> None:
    """The chosen patch's group: where its patches are, the group before and after, and
    its singular values before and after weighted shrinkage with their weights."""
    group = seen.extras["group"]
    count, size = len(group["corners"]), group["size"]
    left, right = st.columns(PICKER_COLUMNS)
    with left:
        pick(bm3d_views.matched_blocks(image, {"block size": size,
                                               "matched blocks": group["corners"]}),
             f"The reference patch (red) and the {count - 1} patches most like it (yellow), "
             "matched on the last iteration's input.")
    with right:
        values = 255.0 * np.asarray(group["singular values"])
        shrunk = 255.0 * np.asarray(group["shrunk"])
        st.plotly_chart(figures.bars(
            {"noisy group": values, "after weighted shrinkage": shrunk},
            x_title="singular value, largest first", y_title="0–255 scale",
            title=f"kept {group['rank']} of {len(values)}; the noise assumed here is "
                  f"σ = {255.0 * group['noise']:.1f}"), key=f"{key}.values")
        st.plotly_chart(weights_figure(values, 255.0 * np.asarray(group["weights"])),
                        key=f"{key}.weights")
        st.caption("Where a weight passes its singular value, the whole value is taken off: "
                   "the small values are the noise's, and their weights run off the top "
                   "(they grow as the clean value estimated for them nears zero).")
    first, second = st.columns(2)
    with first:
        bm3d_views.stack(group["noisy"], f"the group: {count} patches, most similar first")
    with second:
        bm3d_views.stack(group["estimate"], f"the group rebuilt from its {group['rank']} "
                                            "kept components")
    if "colour" in seen.extras:
        st.caption("On a colour image the group is the luminance channel's, where the "
                   "method's trace looks.")
