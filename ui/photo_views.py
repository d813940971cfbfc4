"""The real-photographs page's views: the noise-level curve of the image in use, one sigma
against the curve in its darkest and brightest parts, and the grain's spectrum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from scipy.ndimage import uniform_filter

from denoisers import metrics
from denoisers.core import Result
from denoisers.noise import PoissonGaussian
from denoisers.noise_level import GrainFit, NoiseFit, fit_grain

from . import compute, figures, views
from .scene import Scene

#: The side of the dark and bright windows shown enlarged, as a fraction of the shorter side.
WINDOW_FRACTION = 0.25
#: The smallest window side, in pixels.
MIN_WINDOW = 32


def grain(scene: Scene) -> GrainFit:
    """The covariance and spectrum of the scene's noise (cached; a few seconds at 512²)."""
    with st.spinner("Measuring the grain in the flattest patches…", show_time=True):
        return compute.remembered(fit_grain, f"fit_grain {scene.key}", scene.noisy,
                                  small=True, keep=scene.sample)


def curve_chart(scene: Scene, fit: NoiseFit, *, key: str) -> None:
    """σ against intensity on the 0-255 scale: the bins measured, the curve fitted, the true
    curve where this site drew the noise, and the one σ methods are told otherwise."""
    x = np.linspace(0, 1, 101)
    fig = go.Figure()
    fig.add_scatter(x=fit.levels * 255, y=fit.sigmas * 255, mode="markers",
                    name="measured in smooth areas", marker=dict(size=9))
    if fit.model is not None:
        fig.add_scatter(x=x * 255, y=fit.model.sigma(x) * 255, mode="lines",
                        name=f"fitted: a = {fit.model.a:.3g}, b = {fit.model.b:.3g}")
    if scene.curve is not None and scene.clean is not None:
        a, b = scene.curve
        fig.add_scatter(x=x * 255, y=np.sqrt(a * x + b) * 255, mode="lines",
                        name="the noise drawn", line=dict(dash="dash"))
    fig.add_scatter(x=[0, 255], y=[scene.sigma255] * 2, mode="lines", line=dict(dash="dot"),
                    name=f"one σ = {scene.sigma255:.1f}")
    fig.update_layout(xaxis_title="intensity (0–255)", yaxis_title="noise σ (0–255)",
                      yaxis_rangemode="tozero", height=360, legend=figures.LEGEND_BELOW,
                      margin=dict(l=0, r=0, t=30, b=0), uirevision=figures.UIREVISION,
                      title=dict(text="How the noise depends on the light", font_size=14))
    views.chart(fig, key=key)


@dataclass(frozen=True)
class Window:
    """A square part of the image: its corner, side and mean intensity."""

    name: str
    row: int
    col: int
    side: int
    level: float

    def of(self, image: np.ndarray) -> np.ndarray:
        return image[self.row:self.row + self.side, self.col:self.col + self.side]


def dark_and_bright(guide: np.ndarray) -> tuple[Window, Window]:
    """The darkest and the brightest windows of ``guide`` (a denoised image) among those with
    some detail (their local spread at least the median's), so that the enlargements show
    texture rather than a flat black or white."""
    grey = guide.mean(axis=-1) if guide.ndim == 3 else guide
    side = max(MIN_WINDOW, int(WINDOW_FRACTION * min(grey.shape)))
    side = min(side, *grey.shape)
    mean = uniform_filter(grey, side, mode="nearest")
    spread = np.sqrt(np.maximum(uniform_filter(grey**2, side, mode="nearest") - mean**2, 0))
    half = side // 2
    inside = (slice(half, grey.shape[0] - side + half + 1),
              slice(half, grey.shape[1] - side + half + 1))
    means, spreads = mean[inside], spread[inside]
    textured = spreads >= np.median(spreads)
    picked = []
    for name, sign in (("darkest", 1.0), ("brightest", -1.0)):
        score = np.where(textured, sign * means, np.inf)
        row, col = np.unravel_index(np.argmin(score), score.shape)
        picked.append(Window(name, int(row), int(col), side, float(means[row, col])))
    return picked[0], picked[1]


def windows_compare(scene: Scene, one: Result, curved: Result, window: Window, *,
                    key: str) -> None:
    """The window enlarged in the noisy image, both results and the clean image where there
    is one, zooming together."""
    panels = {"noisy": window.of(scene.noisy), "one σ": window.of(one.image),
              "the curve": window.of(curved.image)}
    if scene.clean is not None:
        panels["clean"] = window.of(scene.clean)
    views.compare({name: np.clip(image, 0, 1) for name, image in panels.items()}, key=key,
                  columns=len(panels))


def why(scene: Scene, one: Result, curved: Result, dark: Window, bright: Window) -> str:
    """The sentence that says, from the scene's curve and the windows, which part one σ left
    grainy and which it smoothed too much, with each part's PSNR where there is a clean
    image."""
    assert scene.curve is not None
    curve = PoissonGaussian(*scene.curve)
    told = scene.sigma255
    parts = []
    for window in (dark, bright):
        level = float(curve.sigma(window.level)) * 255
        if level > 1.15 * told:
            effect = "noisier than one σ says, so it kept grain"
        elif level < told / 1.15:
            effect = "less noisy than one σ says, so it was smoothed as if noisier"
        else:
            effect = "about as noisy as one σ says"
        text = (f"the {window.name} part (grey level ≈ {window.level * 255:.0f}) has σ ≈ "
                f"{level:.1f}: {effect}")
        if scene.clean is not None:
            clean = window.of(scene.clean)
            text += (f" ({metrics.psnr(clean, window.of(one.image)):.2f} dB with one σ, "
                     f"{metrics.psnr(clean, window.of(curved.image)):.2f} dB with the curve)")
        parts.append(text)
    return (f"Told one σ of {told:.1f} (0–255 scale) for the whole image, {parts[0]}; "
            f"{parts[1]}. Told the curve, each part got its own level.")


def spectrum_chart(found: GrainFit, *, key: str) -> None:
    """The noise's standard deviation in each 2-D DCT coefficient of an 8x8 patch."""
    views.heatmap(np.sqrt(np.clip(found.spectrum, 0, None)) * 255, key=key,
                  title="noise σ per DCT coefficient (0–255)", colorscale="Viridis",
                  height=300)
    st.caption("The 8x8 DCT's coefficients: the constant top left, vertical frequency "
               "growing downwards, horizontal to the right.")


def grain_sentence(found: GrainFit) -> str:
    """What the grain measurement found, in one or two sentences."""
    told = (f"In the flattest patches the noise has σ ≈ {found.sigma * 255:.1f} per pixel "
            f"(0–255 scale); the finest-scale estimate reads {found.white_sigma * 255:.1f}.")
    if found.problem:
        return f"{told} {found.problem}"
    if found.correlated:
        return (f"{told} The grain spreads over several pixels: its spectrum is bright at the "
                "low frequencies, where the finest scale does not look, so one σ from the "
                "finest scale misses most of it.")
    return (f"{told} The finest scale sees no less noise than the flat patches hold, so the "
            "grain is no coarser than a pixel and one σ from the finest scale is not fooled. "
            "The lowest frequencies also hold the image's slow shading, which no patch is "
            "flat enough to lose.")
