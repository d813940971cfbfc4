"""The figures fit narrow windows: panels wrap, titles stay short, legends and labels stay
clear of axis titles and of each other, and σ = 0 is not "inf dB".

Geometry only, from the figures' layouts: what a browser then draws is looked at with
``python -m benchmarks.pages``.
"""

from __future__ import annotations

import itertools
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ui import figures, text, views


def _panels(count: int, shape: tuple[int, ...] = (24, 32)) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {f"method number {i} — {20 + i:.2f} dB": rng.random(shape) for i in range(count)}


def _domains(fig, axis: str) -> list[tuple[float, float]]:
    """The domains of the x or y axes that hold a picture, in the order of the panels."""
    return [tuple(fig.layout[axis + "axis" + getattr(t, axis + "axis")[1:]].domain)
            for t in fig.data]


@pytest.mark.parametrize(("count", "width", "columns", "layouts"), [
    (10, 900, 4, [4, 2]),   # the Arena: four across on a desktop, two on a projector
    (3, 900, None, [3, 2]),  # three panels across the page
    (3, 600, None, [3, 2]),  # a filter beside its controls
    (4, 600, 2, [2]),        # BM3D's stages, already two across
    (5, 300, None, [1]),     # a column too narrow for two
    (1, 900, None, [1]),
])
def test_panels_wrap_to_fewer_columns_on_a_narrow_window(count, width, columns, layouts):
    assert figures.panel_layouts(count, width, columns) == layouts


def test_a_narrow_layout_is_shown_only_where_the_wide_ones_panels_are_too_small():
    # At a projector's 521 px page, four Arena panels across would be 128 px each.
    assert figures.min_frame_width(4) > 521 > figures.min_frame_width(2)
    assert figures.min_frame_width(3) < 521  # three panels still fit side by side


def test_four_panels_at_two_columns_make_two_rows_that_share_their_zoom():
    fig = figures.image_panels(_panels(4), columns=2)
    xs, ys = _domains(fig, "x"), _domains(fig, "y")
    assert len(set(xs)) == 2 and len(set(ys)) == 2
    assert fig.layout.meta["rows"] == 2 and fig.layout.meta["columns"] == 2
    # Reading order: the first two panels on the top row, left then right.
    assert ys[0] == ys[1] and ys[0][0] > ys[2][1] and xs[0][0] < xs[1][0]
    for first, second in itertools.combinations(zip(xs, ys), 2):
        (x1, y1), (x2, y2) = first, second
        assert x1[1] <= x2[0] or x2[1] <= x1[0] or y1[1] <= y2[0] or y2[1] <= y1[0], "overlap"
    others = [fig.layout[k] for k in fig.layout if k.startswith("xaxis") and k != "xaxis"]
    assert others and all(axis.matches == "x" for axis in others)


@pytest.mark.parametrize("shape", [(24, 32), (32, 24), (20, 20, 3)])
def test_the_figure_keeps_the_pictures_proportions_at_any_width(shape):
    fig = figures.image_panels(_panels(5, shape), width=700, columns=3)
    aspect = figures.panel_aspect(fig)
    assert fig.layout.height == round(700 * aspect)
    (x0, x1), (y0, y1) = _domains(fig, "x")[0], _domains(fig, "y")[0]
    # Panel height over width in pixels, whatever the width the browser gives the figure.
    assert (y1 - y0) * aspect / (x1 - x0) == pytest.approx(shape[0] / shape[1], rel=1e-6)


def test_titles_sit_on_their_pictures_with_room_for_their_lines_on_a_projector():
    fig = figures.image_panels(_panels(6), columns=3)
    aspect = figures.panel_aspect(fig)
    tops = [y1 for _, y1 in _domains(fig, "y")]
    bottoms = sorted({y0 for y0, _ in _domains(fig, "y")})
    for note, top in zip(fig.layout.annotations, tops):
        assert note.yanchor == "bottom" and note.y == pytest.approx(top)
        lines = note.text.count("<br>") + 1
        above = [b for b in bottoms if b > top] or [1.0]
        room = (min(above) - top) * aspect * figures.min_frame_width(3)  # in px, at the narrowest
        assert room >= lines * figures.TITLE_SIZE * 1.2, (note.text, room)


def test_titles_break_into_short_lines():
    assert figures.wrapped("Gaussian smoothing — 27.30 dB") == "Gaussian smoothing<br>27.30 dB"
    long = figures.wrapped("a rather long panel title that goes on and on — 12.00 dB")
    assert all(len(line) <= figures.TITLE_CHARS for line in long.split("<br>"))


def test_a_chart_of_many_lines_gives_each_its_own_look():
    """The blind-versus-told chart draws 14 lines: beyond the theme's ten colours every line
    gets its own colour and dash, so that none repeats another's look."""
    series = {f"method {i}": np.arange(5) + i for i in range(14)}
    looks = [(t.line.color, t.line.dash) for t in figures.curves(series).data]
    assert len(set(looks)) == 14 and len({colour for colour, _ in looks}) == 14
    few = figures.curves({"a": np.arange(3), "b": np.arange(3)})
    assert all(t.line.color is None for t in few.data)  # the theme's colours


def test_a_series_of_one_value_is_a_dot():
    """BM3D's second group is sometimes its reference block alone: one distance, no line."""
    fig = figures.curves({"stage 1": np.arange(16.0), "stage 2": np.zeros(1)})
    assert [trace.mode for trace in fig.data] == ["lines", "markers"]


def test_a_legend_never_sits_over_the_x_axis_title():
    fig = figures.curves({"told": np.arange(5.0), "blind": np.ones(5)}, x_title="σ told / true σ",
                         y_title="PSNR (dB)")
    legend = fig.layout.legend
    # At the very bottom of the figure, below the axis and its title (which push the margin).
    assert (legend.yref, legend.y, legend.yanchor) == ("container", 0, "bottom")
    assert legend.orientation == "h"
    hist = figures.histogram({"noise": np.zeros(10)}, overlay={"density": (np.zeros(2),) * 2})
    assert (hist.layout.legend.yref, hist.layout.legend.y) == ("container", 0)


def test_a_title_of_several_lines_sits_above_the_plot_in_a_margin_that_holds_them():
    for fig in (figures.curves({"a": np.arange(3.0)}, title="a title — with a second part"),
                figures.heatmap(np.zeros((4, 4)), title="SSIM map — blurred to the same PSNR")):
        (note,) = fig.layout.annotations
        lines = note.text.count("<br>") + 1
        assert lines == 2 and (note.yref, note.y, note.yanchor) == ("paper", 1, "bottom")
        assert fig.layout.margin.t >= lines * note.font.size * 1.2 + note.yshift


def test_a_map_is_as_tall_as_it_needs_at_any_width_and_no_taller_than_asked():
    fig = figures.heatmap(np.zeros((30, 60)), title="a map", height=300)
    top = fig.layout.margin.t
    assert figures.fitted_height(fig, 200) == pytest.approx((200 - figures.COLORBAR_PX) / 2 + top)
    assert figures.fitted_height(fig, 2000) == 300
    assert figures.fitted_height(figures.curves({"a": np.arange(3.0)}), 500) is None


def test_a_large_map_sends_every_kth_cell_at_its_own_coordinates():
    values = np.arange(600 * 520, dtype=float).reshape(600, 520)
    (trace,) = figures.heatmap(values).data
    z = np.asarray(trace.z)
    assert max(z.shape) <= figures.HEATMAP_MAX_SIDE
    assert list(trace.x[:2]) == [0, 3] and list(trace.y[:2]) == [0, 3]
    assert z[1, 2] == values[3, 6]  # the value at row 3, column 6, as it was
    small = np.arange(12.0).reshape(3, 4)
    assert np.array_equal(np.asarray(figures.heatmap(small).data[0].z), small)


def _boxes(fig) -> list[tuple[float, float, float, float]]:
    """The label boxes in the assumed plot area, as label_places saw them."""
    trace = fig.data[0]
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    width, height = figures._PLOT_PX
    return [figures._label_box(place, (np.log10(x) - x0) / (x1 - x0) * width,
                               (y - y0) / (y1 - y0) * height, text)
            for place, x, y, text in zip(trace.textposition, trace.x, trace.y, trace.text)]


@pytest.mark.parametrize("points", [
    # The Arena's defaults as measured on the server: three networks in one corner.
    {"Wiener filter": (0.73, 26.89), "Gaussian smoothing": (0.019, 26.42),
     "Median filter": (0.213, 25.68), "Bilateral filter": (0.196, 27.68),
     "DnCNN": (3.548, 30.74), "FFDNet": (1.371, 30.66), "Bias-free DnCNN": (1.734, 28.86),
     "DRUNet (small)": (0.821, 30.90)},
    {"a": (1.0, 30.0), "b": (1.1, 30.05), "c": (0.9, 29.95)},
])
def test_the_trade_off_labels_do_not_overlap(points):
    fig = figures.tradeoff(points)
    boxes = _boxes(fig)
    for a, b in itertools.combinations(boxes, 2):
        assert figures._overlap(a, b) == 0, (a, b)
    width, height = figures._PLOT_PX
    assert all(b[0] >= 0 and b[2] <= width and b[1] >= 0 and b[3] <= height for b in boxes)
    assert list(fig.data[0].text) == list(points)


def test_a_psnr_is_written_with_two_decimals_and_an_infinite_one_as_identical():
    assert text.db(20.004) == "20.00 dB" and text.db(20.004, unit=False) == "20.00"
    assert text.db(math.inf) == "∞ dB (identical)"
    assert text.db(math.inf, unit=False) == "∞ (identical)"


def test_reference_panels_at_sigma_zero_say_identical_not_inf():
    clean = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    scene = SimpleNamespace(real=False, clean=clean, noisy=clean.copy(), sigma=0.0)
    titles = list(views.reference_panels(scene))
    assert titles == ["clean", "noisy (σ = 0) — ∞ dB (identical)"]
    result = SimpleNamespace(image=clean.copy(), seconds=0.1)
    assert list(views.result_panels(scene, {"m": result})) == ["m — ∞ dB (identical)"]
    noisy = SimpleNamespace(real=False, clean=clean, noisy=clean + 0.1, sigma=0.1)
    assert list(views.reference_panels(noisy))[1] == "noisy — 20.00 dB"


def _compare_app():
    import numpy as np

    from ui import views

    rng = np.random.default_rng(0)
    views.compare({f"panel {i}": rng.random((16, 16)) for i in range(10)}, key="many", columns=4)
    views.compare({f"panel {i}": rng.random((16, 16)) for i in range(2)}, key="two")


def test_compare_draws_a_narrow_layout_beside_a_wide_one_only_when_needed():
    at = AppTest.from_function(_compare_app).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # many: four across and two across; two: one layout
    styles = "".join(h.proto.body for h in at.get("html"))
    assert "100cqw" in styles and "@container ddt-panels (width < " in styles


@pytest.mark.parametrize(("column", "across"), [(980, 4), (560, 2)])
def test_once_the_browser_has_told_the_column_s_width_one_layout_is_sent(column, across):
    """The viewport component's report (ui/viewport.py): the four-across layout on a
    desktop's column, the two-across one on a projector's, no container query."""
    at = AppTest.from_function(_compare_app)
    at.session_state["ddt-viewport"] = column
    at.run()
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # many: the layout that fits; two: its one layout
    first = json.loads(charts[0].proto.spec)
    assert first["layout"]["meta"]["columns"] == across
    assert "@container ddt-panels" not in "".join(h.proto.body for h in at.get("html"))


def test_the_metrics_table_shows_every_row_and_no_inf(monkeypatch):
    drawn: dict = {}
    monkeypatch.setattr(views.st, "dataframe", lambda data, **kw: drawn.update(data=data, **kw))
    monkeypatch.setattr(views.st, "caption", lambda *args, **kw: None)
    monkeypatch.setattr(views, "downloads", lambda *args, **kw: None)
    clean = np.linspace(0, 1, 1024, dtype=np.float32).reshape(32, 32)
    scene = SimpleNamespace(real=False, clean=clean, noisy=clean.copy(), sigma=0.0, key="k")
    views.metrics_table(scene, {f"m{i}": SimpleNamespace(image=clean + 0.01 * (i + 1), seconds=0.1)
                                for i in range(12)})
    assert drawn["height"] == views.table_height(13) >= 14 * views.ROW_HEIGHT
    shown = drawn["data"].to_html()
    assert "inf" not in shown.lower() and "∞ (identical)" in shown and "m11" in shown
