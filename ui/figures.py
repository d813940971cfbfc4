"""Plotly figures: image panels with synced zoom, maps, histograms, curves."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from denoisers.images import to_uint8

#: A fixed uirevision keeps the visitor's zoom when a figure is redrawn.
UIREVISION = "keep"


def signed_to_display(values: np.ndarray, spread: float) -> np.ndarray:
    """Map signed values (noise, method noise) to [0, 1]: 0 is mid-grey, ±spread the ends."""
    return np.clip(0.5 + values / (2 * spread), 0.0, 1.0) if spread > 0 else np.full_like(values, 0.5)


def _hide_axes(fig: go.Figure) -> None:
    """No tick labels, tick marks or grid around pictures: the pixels are the content."""
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False)


def image_panels(panels: Mapping[str, np.ndarray], *, width: int = 900,
                 columns: int | None = None) -> go.Figure:
    """Images side by side in one figure whose panels zoom and pan together.

    Images must share a shape; grey ones are shown as grey RGB when any is
    colour. Values are clipped to [0, 1] and rounded to 8 bits, exactly as
    the site's downloads. ``width`` is the width the figure is expected to
    be shown at, from which the height that fits the panels follows.
    """
    titles = list(panels)
    arrays = [np.asarray(a) for a in panels.values()]
    if any(a.ndim == 3 for a in arrays):
        arrays = [np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a for a in arrays]
    stack = np.stack([to_uint8(a) for a in arrays])
    columns = columns or len(titles)
    fig = px.imshow(stack, facet_col=0, facet_col_wrap=columns, binary_string=True,
                    facet_col_spacing=0.01, facet_row_spacing=0.06)
    for annotation in fig.layout.annotations:
        annotation.text = titles[int(annotation.text.split("=")[-1])]
    rows = -(-len(titles) // columns)
    panel_height = width / columns * stack.shape[1] / stack.shape[2]
    fig.update_layout(height=int(rows * (panel_height + 40)), margin=dict(l=0, r=0, t=30, b=0),
                      uirevision=UIREVISION, dragmode="pan")
    _hide_axes(fig)
    return fig


def heatmap(values: np.ndarray, *, title: str = "", colorscale: str = "Viridis",
            zmin: float | None = None, zmax: float | None = None, height: int = 360) -> go.Figure:
    """A 2-D array with its values on a colour bar (maps, spectra, kernels)."""
    fig = px.imshow(values, color_continuous_scale=colorscale, zmin=zmin, zmax=zmax,
                    aspect="equal", title=title or None)
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=40 if title else 10, b=0),
                      uirevision=UIREVISION)
    _hide_axes(fig)
    return fig


def histogram(samples: Mapping[str, np.ndarray], *, title: str = "", bins: int = 101,
              range_: tuple[float, float] | None = None,
              overlay: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None) -> go.Figure:
    """Normalised histograms of several samples, with optional curves on top."""
    fig = go.Figure()
    for name, values in samples.items():
        counts, edges = np.histogram(np.ravel(values), bins=bins, range=range_, density=True)
        fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, name=name, opacity=0.6)
    for name, (x, y) in (overlay or {}).items():
        fig.add_scatter(x=x, y=y, name=name, mode="lines", line=dict(width=2))
    fig.update_layout(barmode="overlay", bargap=0, title=title or None, height=340,
                      margin=dict(l=0, r=0, t=40 if title else 10, b=0),
                      yaxis_title="density", legend=dict(orientation="h"))
    return fig


def curves(series: Mapping[str, np.ndarray], *, x: np.ndarray | None = None,
           x_title: str = "", y_title: str = "", title: str = "") -> go.Figure:
    """Named 1-D series on shared axes (per-iteration curves, responses)."""
    fig = go.Figure()
    for name, values in series.items():
        values = np.asarray(values)
        fig.add_scatter(x=np.arange(len(values)) if x is None else x, y=values, name=name,
                        mode="lines")
    fig.update_layout(title=title or None, xaxis_title=x_title, yaxis_title=y_title,
                      height=320, margin=dict(l=0, r=0, t=40 if title else 10, b=0),
                      legend=dict(orientation="h"))
    return fig


def tradeoff(points: Mapping[str, tuple[float, float]], *, y_title: str = "PSNR (dB)") -> go.Figure:
    """One labelled point per method, (seconds, quality): time on a log scale across, quality
    up, so the best trade-offs sit top left."""
    names = list(points)
    seconds = [max(points[n][0], 1e-4) for n in names]
    fig = go.Figure(go.Scatter(x=seconds,
                               y=[points[n][1] for n in names], text=names, mode="markers+text",
                               textposition="top center", marker=dict(size=10),
                               hovertemplate="%{text}: %{y:.2f} in %{x:.3f} s<extra></extra>"))
    ticks = [m * 10.0 ** e for e in range(-4, 4) for m in (1, 2, 5)]
    # Room on both sides for the labels of the first and last points.
    span = np.log10(min(seconds)) - 0.3, np.log10(max(seconds)) + 0.3
    fig.update_xaxes(type="log", title="run time (s, log scale)", range=span, tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks])
    fig.update_yaxes(title=y_title)
    fig.update_layout(height=380, margin=dict(l=0, r=0, t=10, b=0), showlegend=False)
    return fig
