"""The wavelet chapter's own views: the coefficient pyramid, the thresholds, one subband's
histogram, hard and soft shrinkage, and the method with and without cycle spinning.

Everything here is drawn from the trace of :func:`denoisers.wavelets.wavelet` (its
docstring says what it holds): for a colour image the registry runs the method on each
opponent channel and the trace is the luminance channel's, whose noise has the standard
deviation :func:`traced_sigma`. Coefficients and thresholds are shown on the 0–255 scale:
the transform is orthogonal, so a coefficient is in the units of a pixel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from denoisers import colour
from denoisers.core import Method, Result, digest
from denoisers.wavelets import ORIENTATIONS

from . import compute, figures, lru, views
from .scene import Scene
from .text import db

#: The 0–255 scale on which the page writes coefficients and thresholds.
SCALE = 255.0


def traced_sigma(scene: Scene) -> float:
    """The noise standard deviation in the image the trace describes, on the [0, 1] scale:
    the scene's sigma for a grey image, the luminance channel's for a colour one (the
    sigma the registry gives that channel)."""
    if not scene.colour:
        return scene.sigma
    return min(1.0, scene.sigma * float(colour.CHANNEL_SIGMA[0]))


# --------------------------------------------------------------------------- the pyramid

Blocks = tuple[tuple[int, int], ...]


def _layout(shape: tuple[int, ...], levels: int, blocks: Blocks | None = None) -> Blocks:
    """The pyramid's nested top-left blocks, the approximation's first and the whole
    pyramid last: the trace's ``blocks`` where given, else those of a dyadic pyramid."""
    if blocks:
        return tuple((int(h), int(w)) for h, w in blocks)
    return tuple((shape[0] >> level, shape[1] >> level) for level in range(levels, -1, -1))


def _approximation(shape: tuple[int, ...], levels: int,
                   blocks: Blocks | None = None) -> tuple[int, int]:
    """The size of the coarse approximation at the top left of a pyramid of ``levels``."""
    return _layout(shape, levels, blocks)[0]


def pyramid_display(before: np.ndarray, after: np.ndarray, levels: int,
                    blocks: Blocks | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Both pyramids as grey images in [0, 1] on one scale, and that scale.

    The approximation (already divided by 2^levels, so in grey levels) is shown as it
    is; a detail coefficient's brightness is sqrt(|c| / white), white being the 99.5th
    percentile of the details' magnitudes before thresholding, so that the small noisy
    coefficients stay visible as a haze."""
    h, w = _approximation(before.shape, levels, blocks)
    mask = np.ones(before.shape, bool)
    mask[:h, :w] = False
    details = before[mask]
    white = float(np.percentile(details, 99.5)) if details.size else 1.0
    white = white if white > 0 else 1.0
    shown = []
    for pyramid in (before, after):
        image = np.sqrt(np.clip(pyramid / white, 0.0, 1.0))
        image[:h, :w] = np.clip(pyramid[:h, :w], 0.0, 1.0)
        shown.append(image.astype(np.float32))
    return shown[0], shown[1], white


def _subband_lines(shape: tuple[int, ...], levels: int, blocks: Blocks | None = None
                   ) -> list[tuple[float, float, float, float]]:
    """The borders between subbands in a pyramid, as (x0, y0, x1, y1) in plotly's pixel
    coordinates (pixel centres at integers)."""
    lines = []
    layout = _layout(shape, levels, blocks)
    for (h, w), (outer_h, outer_w) in zip(layout, layout[1:]):
        lines.append((-0.5, h - 0.5, outer_w - 0.5, h - 0.5))   # below the top row of blocks
        lines.append((w - 0.5, -0.5, w - 0.5, outer_h - 0.5))   # right of the left column
    return lines


@lru.shared("wavelet_views._pyramid_figures")
def _pyramid_figures(identity: tuple[str, str, int], _before: np.ndarray, _after: np.ndarray,
                     levels: int, blocks: Blocks | None = None) -> list[go.Figure]:
    """The two pyramids side by side (zoom synced), with the subbands' borders drawn."""
    layouts = figures.panel_figures({"before thresholding": _before,
                                     "after thresholding": _after}, width=900, columns=2)
    lines = _subband_lines(_before.shape, levels, blocks)
    for fig in layouts:
        for trace in fig.data:
            for x0, y0, x1, y1 in lines:
                fig.add_shape(type="line", x0=x0, y0=y0, x1=x1, y1=y1, xref=trace.xaxis,
                              yref=trace.yaxis, line=dict(color="orange", width=1))
    return layouts


def pyramid(res: Result, *, key: str) -> None:
    """The coefficient pyramid of the unshifted transform, before and after thresholding."""
    before, after = res.stages["coefficients"], res.stages["thresholded"]
    levels = int(res.extras["params"]["levels"])
    blocks = tuple(tuple(b) for b in res.extras.get("blocks", ())) or None
    shown_before, shown_after, white = pyramid_display(before, after, levels, blocks)
    kept = _kept_fraction(before, after, levels, blocks)
    views.show_panels(_pyramid_figures((digest(shown_before), digest(shown_after), levels),
                                       shown_before, shown_after, levels, blocks), key=key)
    h, w = _approximation(before.shape, levels, blocks)
    st.caption(
        f"The {levels}-level transform of the image (its edges mirrored: "
        f"{before.shape[1]}×{before.shape[0]} coefficients), in the usual layout: the coarse "
        f"thumbnail ({w}×{h}) at the top left, then, at each level, the horizontal (right of "
        f"it), vertical (below) and diagonal (across) details, each level about twice the "
        f"size of the one before, the finest on the outside. Detail brightness is "
        f"√(|c| / {white * SCALE:.3g}) "
        f"on the 0–255 scale; the thumbnail is in grey levels. Drag or scroll to zoom both. "
        f"Thresholding kept {kept:.1%} of the detail coefficients and set the rest to zero.")
    views.colour_note(res)


def _kept_fraction(before: np.ndarray, after: np.ndarray, levels: int,
                   blocks: Blocks | None = None) -> float:
    """The fraction of detail coefficients that thresholding left non-zero (the layout's
    padding between subbands of unequal size is not counted)."""
    layout = _layout(before.shape, levels, blocks)
    h, w = layout[0]
    mask = np.ones(before.shape, bool)
    mask[:h, :w] = False
    details = sum(3 * (outer_h - inner_h) * (outer_w - inner_w)
                  for (inner_h, inner_w), (outer_h, outer_w) in zip(layout, layout[1:]))
    return float(np.count_nonzero(after[mask])) / max(1, details)


# --------------------------------------------------------------------------- thresholds

def threshold_table(res: Result) -> pd.DataFrame:
    """The thresholds (0–255 scale), one row per level (1 the finest), one column per
    orientation."""
    table = pd.DataFrame(res.extras["thresholds"], columns=["level", "orientation", "T"])
    table["T"] = table["T"] * SCALE
    return (table.pivot(index="level", columns="orientation", values="T")
            .reindex(columns=list(ORIENTATIONS)).sort_index())


def thresholds(res: Result, scene: Scene, *, key: str) -> None:
    """The threshold of each subband as grouped bars, the noise sigma marked, and a table."""
    table = threshold_table(res)
    sigma = traced_sigma(scene) * SCALE
    fig = go.Figure()
    for orientation in table.columns:
        fig.add_bar(x=[f"level {level}" for level in table.index], y=table[orientation],
                    name=orientation)
    if sigma > 0:
        fig.add_scatter(x=[f"level {level}" for level in table.index],
                        y=[sigma] * len(table), mode="lines", name=f"noise σ ({sigma:.3g})",
                        line=dict(dash="dot", color="black", width=1.5))
    fig.update_layout(barmode="group", height=340, yaxis_title="threshold T (0–255 scale)",
                      xaxis_title="level (1 = finest)", margin=dict(l=0, r=0, t=10, b=0),
                      legend=figures.LEGEND_BELOW)
    rule = res.extras["params"]["rule"]
    left, right = st.columns([3, 2])
    with left:
        views.chart(fig, key=key)
    with right:
        st.dataframe(table.style.format("{:.3g}"), height=views.table_height(len(table)))
    if rule == "VisuShrink":
        st.caption("VisuShrink uses one threshold for every subband, σ·√(2 ln n) with n the "
                   "number of pixels: large enough that pure noise almost never survives it.")
    else:
        st.caption(f"{rule} fits a threshold to each subband. Where a subband holds much "
                   "image its threshold is small, so little is removed; where it is mostly noise "
                   "it is large. Compare each bar with the dotted line, the noise σ.")
    views.colour_note(res)


# --------------------------------------------------------------------------- one subband

def histogram_figure(res: Result, sigma: float) -> go.Figure:
    """The finest diagonal subband's coefficients (0–255 scale) as a density on a log
    axis, the Gaussian density of the noise alone, and the threshold marked at ±T."""
    seen = res.extras["histogram"]
    values = np.asarray(seen["coefficients"], np.float64) * SCALE
    threshold = float(seen["threshold"]) * SCALE
    reach = max(float(np.abs(values).max()) if values.size else 0.0, 1.5 * threshold, 1e-6)
    span = (-reach, reach)
    counts, edges = np.histogram(values, bins=101, range=span, density=True)
    positive = counts[counts > 0]
    low = float(positive.min()) if positive.size else 1e-6
    high = float(positive.max()) if positive.size else 1.0
    overlay: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if sigma > 0:
        x = np.linspace(*span, 401)
        density = np.exp(-0.5 * (x / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
        keep = density >= low / 10
        overlay[f"noise alone: Gaussian, σ = {sigma:.3g}"] = (x[keep], density[keep])
    overlay[f"−T ({-threshold:.3g})"] = (np.array([-threshold] * 2), np.array([low, high]))
    overlay[f"+T ({threshold:.3g})"] = (np.array([threshold] * 2), np.array([low, high]))
    fig = figures.histogram({"coefficients": values}, bins=101, range_=span, overlay=overlay,
                            title=f"Level {seen['level']}, {seen['orientation']} details: "
                                  f"{values.size} coefficients")
    for trace in fig.data[-2:]:
        trace.line.dash = "dot"
        trace.line.color = "black"
    fig.update_xaxes(title="coefficient (0–255 scale)")
    fig.update_yaxes(type="log", title="density (log scale)")
    return fig


def histogram(res: Result, scene: Scene, *, key: str) -> None:
    """One subband's histogram with its threshold marked."""
    sigma = traced_sigma(scene) * SCALE
    seen = res.extras["histogram"]
    values = np.asarray(seen["coefficients"])
    above = float(np.mean(np.abs(values) > seen["threshold"])) if values.size else 0.0
    views.chart(histogram_figure(res, sigma), key=key)
    st.caption(
        f"The finest diagonal subband, where noise is strongest relative to the image. Its "
        f"threshold is T = {seen['threshold'] * SCALE:.3g} (0–255 scale); {above:.1%} of its "
        f"coefficients lie beyond ±T and survive"
        + (": the rule judged this subband to be all noise" if above == 0 else "")
        + ". On the log axis the noise alone would follow the parabola"
        + ("" if sigma > 0 else " (there is no noise here)")
        + "; what lies above it in the tails is the image's edges and texture.")
    views.colour_note(res)


# --------------------------------------------------------------------------- shrinkage

def shrinkage(res: Result, *, key: str) -> None:
    """The hard and soft shrinkage functions at the finest diagonal threshold."""
    seen = res.extras["shrinkage"]
    x = np.asarray(seen["x"]) * SCALE
    threshold = float(seen["threshold"]) * SCALE
    fig = figures.curves({"unchanged (y = x)": x,
                          "hard": np.asarray(seen["hard"]) * SCALE,
                          "soft": np.asarray(seen["soft"]) * SCALE},
                         x=x, x_title="noisy coefficient (0–255 scale)",
                         y_title="after shrinkage", title="Hard and soft thresholding",
                         marks={"−T": -threshold, "+T": threshold})
    # Hard thresholding is y = x beyond ±T: the identity is drawn thin and grey beneath it.
    fig.data[0].line.update(color="grey", width=1, dash="dot")
    fig.data[1].line.update(width=3)
    views.chart(fig, key=key)
    mode = res.extras["params"]["mode"]
    st.caption(
        f"At the threshold of the subband above, T = {threshold:.3g}. Both kill everything "
        "between −T and +T. Hard thresholding keeps the survivors as they are, and jumps at "
        "±T; soft thresholding pulls every survivor in by T, so the output is continuous but "
        f"large coefficients come out smaller. This run uses **{mode}** thresholding.")


# --------------------------------------------------------------------------- cycle spinning

def spinning(method: Method, scene: Scene, params: dict[str, Any], *, key: str) -> None:
    """The method as set, and again with cycle spinning switched off (or, when it already
    is, with the default 4×4 shifts): both images, the difference, the scores."""
    shifts = int(params["shifts"])
    default = next(p.default for p in method.params if p.name == "shifts")
    other = 1 if shifts > 1 else int(default)
    runs = {}
    for n in sorted({shifts, other}):
        done = compute.result(method, scene, {**params, "shifts": n})
        if done is None:
            return
        runs[_spin_label(n)] = done
    without, with_ = runs[_spin_label(1)], runs[_spin_label(max(shifts, other))]
    change = with_.image - without.image
    # The scale is the change's own (its 99.5th percentile, whole grey levels): it is a
    # few grey levels where the noise is tens.
    spread = max(1.0, float(np.ceil(np.percentile(np.abs(change), 99.5) * SCALE))) / SCALE
    difference = figures.signed_to_display(change, spread)
    views.compare({**views.result_panels(scene, runs),
                   f"with − without (±{spread * SCALE:.0f})": difference},
                  key=key, columns=3)
    views.metrics_table(scene, runs)
    n = max(shifts, other)
    if scene.real:
        st.markdown(f"Without a clean image there is no PSNR: compare the two by eye, zoomed "
                    f"in. Spinning averages {n * n} shifted transforms instead of one.")
    else:
        scores = views.psnrs(scene, {"without": without, "with": with_})
        gain = scores["with"] - scores["without"]
        change_db = f"({gain:+.2f} dB), " if np.isfinite(gain) else ""
        st.markdown(f"On this image cycle spinning ({n}×{n} shifts) gives "
                    f"**{db(scores['with'])}** against **{db(scores['without'])}** without it "
                    f"{change_db}at the cost of {n * n} transforms instead of one.")
    st.caption(f"The third panel is what spinning changed: mid-grey for nothing, black and "
               f"white for ∓{spread * SCALE:.0f} grey levels. The artefacts "
               "of a single transform line up with the wavelet grid, and averaging over "
               "shifts removes them.")


def _spin_label(shifts: int) -> str:
    return "without cycle spinning" if shifts == 1 else f"cycle spinning, {shifts}×{shifts} shifts"
