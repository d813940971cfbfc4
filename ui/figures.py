"""Plotly figures: image panels with synced zoom, maps, histograms, curves."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import plotly.express as px
import plotly.graph_objects as go

from denoisers.images import to_uint8

#: A fixed uirevision keeps the visitor's zoom when a figure is redrawn.
UIREVISION = "keep"


def signed_to_display(values: np.ndarray, spread: float) -> np.ndarray:
    """Map signed values (noise, method noise) to [0, 1]: 0 is mid-grey, ±spread the ends."""
    if spread <= 0:
        return np.full_like(values, 0.5)
    return np.clip(0.5 + values / (2 * spread), 0.0, 1.0)


def _hide_axes(fig: go.Figure) -> None:
    """No tick labels, tick marks or grid around pictures: the pixels are the content."""
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False)


#: A panel narrower than this many CSS pixels hides what it is meant to show and its
#: two-line title no longer fits: below it a comparison wraps to fewer columns.
MIN_PANEL_PX = 160

#: The gap between two panels, as a fraction of the figure's width.
PANEL_GAP = 0.01

#: Panel titles: the font size, and the longest line before a title is wrapped.
TITLE_SIZE = 12
TITLE_CHARS = 24


def panel_layouts(count: int, width: int = 900, columns: int | None = None) -> list[int]:
    """The numbers of columns a comparison of ``count`` panels is drawn with.

    First the layout for a desktop: ``columns`` across (all the panels by
    default), no more than fit ``width`` (the column's width there, in
    pixels) at :data:`MIN_PANEL_PX` each. When that is more than two, a second
    layout with about half as many columns, for a narrow window (a projector,
    a phone): the browser shows the first whose panels are at least
    :data:`MIN_PANEL_PX` wide (:func:`min_frame_width`), else the last.
    """
    wide = max(1, min(columns or count, count, width // MIN_PANEL_PX))
    return [wide] if wide <= 2 else [wide, max(2, -(-wide // 2))]


def min_frame_width(columns: int) -> float:
    """The narrowest figure, in CSS pixels, whose ``columns`` panels are MIN_PANEL_PX wide."""
    return MIN_PANEL_PX * columns / (1 - (columns - 1) * PANEL_GAP)


#: A map's title wraps at this many characters (about 200 px at 13 px, bold).
HEATMAP_TITLE_CHARS = 30


def wrapped(title: str, chars: int = TITLE_CHARS) -> str:
    """A title in short lines: ' — ' starts a new line (a name, then its score), and longer
    lines are wrapped at spaces; lines are joined with plotly's <br>."""
    lines = []
    for part in title.split(" — "):
        lines.extend(textwrap.wrap(part, chars, break_long_words=False) or [""])
    return "<br>".join(lines)


def image_panels(panels: Mapping[str, np.ndarray], *, width: int = 900,
                 columns: int | None = None) -> go.Figure:
    """Images side by side in one figure whose panels zoom and pan together.

    Images must share a shape; grey ones are shown as grey RGB when any is
    colour. Values are clipped to [0, 1] and rounded to 8 bits, exactly as
    the site's downloads. ``columns`` panels go across (all by default), then
    they wrap to more rows; titles are broken into short lines (:func:`wrapped`).
    Every length is a fraction of the figure's width (see :func:`panel_aspect`),
    so the figure keeps its proportions at any width: ``layout.height`` is its
    height at ``width`` pixels, for a page that does not set the height.
    """
    titles = list(panels)
    arrays = [np.asarray(a) for a in panels.values()]
    if any(a.ndim == 3 for a in arrays):
        arrays = [np.repeat(a[..., None], 3, axis=2) if a.ndim == 2 else a for a in arrays]
    stack = np.stack([to_uint8(a) for a in arrays])
    columns = max(1, min(columns or len(titles), len(titles)))
    rows = -(-len(titles) // columns)
    fig = px.imshow(stack, facet_col=0, facet_col_wrap=columns, binary_string=True)
    labels = [wrapped(t) for t in titles]
    lines = max(label.count("<br>") + 1 for label in labels)
    # Lengths in units of the figure's width: panels, the gaps between them, the title band
    # above each row (its lines scale with the panel: 12 px text fits a 170 px panel), and
    # the space between one row's pictures and the next row's titles.
    gap = PANEL_GAP
    panel_w = (1 - (columns - 1) * gap) / columns
    panel_h = panel_w * stack.shape[1] / stack.shape[2]
    band = lines * 0.09 * panel_w + 0.01
    row_gap = 0.015
    height = rows * (band + panel_h) + (rows - 1) * row_gap
    fig.layout.annotations = ()
    for k in range(1, rows * columns + 1):  # px numbers the facets' axes from the bottom row up
        row, col = (k - 1) // columns, (k - 1) % columns
        bottom = row * (band + panel_h + row_gap)
        suffix = "" if k == 1 else str(k)
        fig.layout[f"xaxis{suffix}"].domain = (col * (panel_w + gap),
                                               min(1.0, col * (panel_w + gap) + panel_w))
        fig.layout[f"yaxis{suffix}"].domain = (bottom / height,
                                               min(1.0, (bottom + panel_h) / height))
    for index, trace in enumerate(fig.data):
        axis = fig.layout["xaxis" + trace.xaxis[1:]]
        top = fig.layout["yaxis" + trace.yaxis[1:]].domain[1]
        fig.add_annotation(text=labels[index], x=sum(axis.domain) / 2, y=top, xref="paper",
                           yref="paper", xanchor="center", yanchor="bottom", yshift=1,
                           showarrow=False, font=dict(size=TITLE_SIZE))
    # Pictures hang from their titles when the frame is taller than they need.
    fig.update_yaxes(constraintoward="top")
    fig.update_layout(height=round(width * height), autosize=True,
                      margin=dict(l=0, r=0, t=0, b=0, pad=0),
                      uirevision=UIREVISION, dragmode="pan")
    fig.layout.meta = {"ratio": height, "rows": rows, "columns": columns}
    _hide_axes(fig)
    return fig


def panel_figures(panels: Mapping[str, np.ndarray], *, width: int = 900,
                  columns: int | None = None) -> list[go.Figure]:
    """:func:`image_panels` for each layout of :func:`panel_layouts`, widest first: what
    ``views.show_panels`` draws (a page that caches its figures caches this list)."""
    return [image_panels(panels, width=width, columns=count)
            for count in panel_layouts(len(panels), width, columns)]


def panel_aspect(fig: go.Figure) -> float:
    """Height over width of a figure from :func:`image_panels`, at any width."""
    return float(fig.layout.meta["ratio"])


#: The room right of a map for its colour bar (bar, gap and tick labels), in pixels.
COLORBAR_PX = 64


#: The most cells a map sends along a side. A map is drawn a few hundred pixels wide, so a
#: larger one shows no more, and the browser (Chromium on this 2-core machine) took about
#: 120 ms longer to draw a 505x505 map than a 127x127 one.
HEATMAP_MAX_SIDE = 256


def heatmap(values: np.ndarray, *, title: str = "", colorscale: str = "Viridis",
            zmin: float | None = None, zmax: float | None = None, height: int = 360) -> go.Figure:
    """A 2-D array with its values on a colour bar (maps, spectra, kernels).

    The title (wrapped) sits above the map and the colour bar, as tall as the
    map, right of it. ``height`` is the figure's height where the page sets
    none; ``layout.meta`` says how tall it is at any width (:func:`fitted_height`),
    which ``views.chart`` uses to make the figure exactly as tall as its map. A map
    with a side over :data:`HEATMAP_MAX_SIDE` sends every k-th row and column only
    (values as they are, so a map of labels stays one), at their own coordinates.
    """
    step = -(-max(values.shape) // HEATMAP_MAX_SIDE)
    rows, cols = np.arange(0, values.shape[0], step), np.arange(0, values.shape[1], step)
    fig = px.imshow(values[::step, ::step], x=cols, y=rows, color_continuous_scale=colorscale,
                    zmin=zmin, zmax=zmax, aspect="equal")
    top = _titled(fig, title, HEATMAP_TITLE_CHARS, size=13)
    fig.update_layout(height=height, margin=dict(l=0, r=COLORBAR_PX, t=top, b=0),
                      uirevision=UIREVISION)
    # Where the frame is taller than the map needs, the map hangs under its title.
    fig.update_yaxes(constraintoward="top")
    fig.update_coloraxes(colorbar=dict(x=1, xanchor="left", xpad=8, y=1, yanchor="top", len=1,
                                       thickness=12))
    fig.layout.meta = {"ratio": values.shape[0] / values.shape[1], "fixed_w": COLORBAR_PX,
                       "fixed_h": top, "max_h": height}
    _hide_axes(fig)
    return fig


def fitted_height(fig: go.Figure, width: float) -> float | None:
    """The height at which a figure of :func:`heatmap` or :func:`image_panels` fills ``width``
    pixels with no blank: (width − fixed_w) · ratio + fixed_h from its ``layout.meta``, but
    no taller than its max_h (a map keeps the height asked for in a wide column); None for
    a figure without them."""
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if "ratio" not in meta:
        return None
    height = (width - meta.get("fixed_w", 0)) * meta["ratio"] + meta.get("fixed_h", 0)
    return min(height, meta.get("max_h", height))


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
    fig.update_layout(barmode="overlay", bargap=0, height=360,
                      margin=dict(l=0, r=0, t=_titled(fig, title), b=0), yaxis_title="density",
                      legend=LEGEND_BELOW)
    return fig


#: A legend below everything, the x axis's title included: at the bottom of the figure, in
#: as many lines as the width needs (the margin grows to hold them), never over an axis.
LEGEND_BELOW = dict(orientation="h", yref="container", y=0, yanchor="bottom", xanchor="left",
                    x=0, title_text="")


def _titled(fig: go.Figure, text: str, chars: int = 60, size: int = 14) -> int:
    """Put ``text``, wrapped, just above the plot, left-aligned, and return the top margin in
    pixels its lines need. An annotation, not layout.title: plotly anchors a multi-line title
    by its first line, so the others fall over the plot (or off the figure)."""
    if not text:
        return 10
    lines = wrapped(text, chars)
    fig.add_annotation(text=f"<b>{lines}</b>", x=0, y=1, xref="paper", yref="paper",
                       xanchor="left", yanchor="bottom", yshift=4, align="left",
                       showarrow=False, font=dict(size=size))
    return 12 + round(1.3 * size * (lines.count("<br>") + 1))


def curves(series: Mapping[str, np.ndarray], *, x: np.ndarray | None = None,
           x_title: str = "", y_title: str = "", title: str = "",
           marks: Mapping[str, float] | None = None) -> go.Figure:
    """Named 1-D series on shared axes (per-iteration curves, responses); with more than one,
    their legend goes below the x axis's title. ``marks`` draws a dotted vertical line,
    labelled in the legend, at each named x (a stopping time, a threshold). A series of one
    value is drawn as a dot, which a line alone would not show."""
    fig = go.Figure()
    many = len(series) > len(_FEW_COLOURS)
    for index, (name, values) in enumerate(series.items()):
        values = np.asarray(values)
        # Beyond the theme's ten colours, 24 distinct ones, and every other line dashed,
        # so that no two of the lines look alike on a projector.
        line = dict(color=_MANY_COLOURS[index % len(_MANY_COLOURS)],
                    dash="solid" if index % 2 == 0 else "dash") if many else None
        fig.add_scatter(x=np.arange(len(values)) if x is None else x, y=values, name=name,
                        mode="lines" if values.size > 1 else "markers", line=line)
    low, high = _span(series)
    for (name, at), dash in zip((marks or {}).items(), _DASHES * 4):
        fig.add_scatter(x=[at, at], y=[low, high], name=f"{name} ({at:.3g})", mode="lines",
                        line=dict(dash=dash, width=1.5))
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title,
                      height=320 + (40 if len(fig.data) > 1 else 0),
                      margin=dict(l=0, r=0, t=_titled(fig, title), b=0), legend=LEGEND_BELOW)
    return fig


#: The colours Streamlit's theme gives the lines of a chart, in turn (plotly's default ten
#: are the same number): more lines than this get :data:`_MANY_COLOURS`.
_FEW_COLOURS = px.colors.qualitative.Plotly
#: 24 colours that stay distinct side by side (plotly's Dark24).
_MANY_COLOURS = px.colors.qualitative.Dark24

#: The dash patterns of the marks on a curve, in turn.
_DASHES = ("dot", "dash", "dashdot", "longdash")


def bars(series: Mapping[str, np.ndarray], *, x: np.ndarray | None = None, x_title: str = "",
         y_title: str = "", title: str = "") -> go.Figure:
    """Named 1-D series as grouped bars on shared axes (singular values before and after,
    weights of a mixture); with more than one, their legend goes below the x axis's title."""
    fig = go.Figure()
    for name, values in series.items():
        values = np.asarray(values)
        fig.add_bar(x=np.arange(1, len(values) + 1) if x is None else x, y=values, name=name)
    fig.update_layout(barmode="group", xaxis_title=x_title, yaxis_title=y_title,
                      height=320 + (40 if len(fig.data) > 1 else 0),
                      margin=dict(l=0, r=0, t=_titled(fig, title), b=0), legend=LEGEND_BELOW)
    return fig


def _span(series: Mapping[str, np.ndarray]) -> tuple[float, float]:
    """The lowest and highest finite values of the series (0, 1 if there are none)."""
    values = np.concatenate([np.asarray(v, np.float64).ravel() for v in series.values()] or
                            [np.zeros(0)])
    values = values[np.isfinite(values)]
    return (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)


#: Where a point's label may go, tried in this order (plotly's textposition names).
_LABEL_PLACES = ("top center", "bottom center", "middle right", "middle left",
                 "top right", "top left", "bottom right", "bottom left")

#: The plot area assumed when placing labels: about what a projector's window leaves (a
#: wider window spreads the points further apart, never closer), and the label font.
_PLOT_PX = (430, 300)
_LABEL_SIZE = 11


def _label_box(place: str, px: float, py: float, text: str) -> tuple[float, float, float, float]:
    """The box (left, bottom, right, top) in pixels of ``text`` at ``place`` about a marker."""
    width, height = 0.6 * _LABEL_SIZE * len(text), 1.3 * _LABEL_SIZE
    vertical, horizontal = place.split()
    near = 7 if "center" in (vertical, horizontal) or vertical == "middle" else 4
    left = {"center": px - width / 2, "right": px + near, "left": px - near - width}[horizontal]
    bottom = {"middle": py - height / 2, "top": py + near, "bottom": py - near - height}[vertical]
    return left, bottom, left + width, bottom + height


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def label_places(xy: list[tuple[float, float]], texts: list[str]) -> list[str]:
    """A textposition for each point, chosen so that labels overlap neither each other, nor
    the markers, nor the plot's edges, in a plot area of ``_PLOT_PX`` (``xy`` in [0, 1]²)."""
    width, height = _PLOT_PX
    points = [(x * width, y * height) for x, y in xy]
    markers = [(px - 6, py - 6, px + 6, py + 6) for px, py in points]
    frame = (0.0, 0.0, float(width), float(height))
    placed: list[tuple[float, float, float, float]] = []
    places = [""] * len(points)
    # Crowded points first: they have the fewest free places.
    crowd = [sum(1 for q in points if abs(q[0] - p[0]) < 80 and abs(q[1] - p[1]) < 40)
             for p in points]
    for i in sorted(range(len(points)), key=lambda i: -crowd[i]):
        def cost(place: str) -> float:
            box = _label_box(place, *points[i], texts[i])
            area = (box[2] - box[0]) * (box[3] - box[1])
            return (sum(_overlap(box, other) for other in placed)
                    + sum(_overlap(box, m) for j, m in enumerate(markers) if j != i)
                    + 2 * (area - _overlap(box, frame)))
        places[i] = min(_LABEL_PLACES, key=cost)  # the first of equals: the preferred order
        placed.append(_label_box(places[i], *points[i], texts[i]))
    return places


def tradeoff(points: Mapping[str, tuple[float, float]], *, y_title: str = "PSNR (dB)") -> go.Figure:
    """One labelled point per method, (seconds, quality): time on a log scale across, quality
    up, so the best trade-offs sit top left. Each label goes where it covers no other label
    (:func:`label_places`); hovering a point gives its exact numbers."""
    names = list(points)
    seconds = [max(points[n][0], 1e-4) for n in names]
    quality = [points[n][1] for n in names]
    finite = [q for q in quality if np.isfinite(q)] or [0.0]
    # Room on both sides for the labels of the first and last points, and above and below.
    span = np.log10(min(seconds)) - 0.3, np.log10(max(seconds)) + 0.3
    low, high = min(finite), max(finite)
    pad = max(0.12 * (high - low), 0.3)
    y_range = low - pad, high + pad
    xy = [((np.log10(s) - span[0]) / (span[1] - span[0]),
           (q - y_range[0]) / (y_range[1] - y_range[0]) if np.isfinite(q) else 1.0)
          for s, q in zip(seconds, quality)]
    fig = go.Figure(go.Scatter(x=seconds, y=quality, text=names, mode="markers+text",
                               textposition=label_places(xy, names), marker=dict(size=10),
                               textfont=dict(size=_LABEL_SIZE), cliponaxis=False,
                               hovertemplate="%{text}: %{y:.2f} in %{x:.3f} s<extra></extra>"))
    ticks = [m * 10.0 ** e for e in range(-4, 4) for m in (1, 2, 5)]
    fig.update_xaxes(type="log", title="run time (s, log scale)", range=span, tickvals=ticks,
                     ticktext=[f"{t:g}" for t in ticks])
    fig.update_yaxes(title=y_title, range=y_range)
    fig.update_layout(height=380, margin=dict(l=0, r=0, t=10, b=0), showlegend=False)
    return fig
