"""Views shared by the pages: exact images, a result's insides, the metrics table."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from denoisers import metrics
from denoisers.core import Result, digest
from denoisers.images import to_png_bytes, to_uint8

from . import figures, lru, memory, present, viewport
from .scene import Scene
from .text import db


def show_image(image: np.ndarray, caption: str = "", *, width: int | str = "stretch") -> None:
    """Draw an image exactly: rounded to 8 bits and sent as PNG, never JPEG."""
    st.image(to_uint8(image), caption=caption or None, output_format="PNG", width=width)


def rgb_canvas(image: np.ndarray) -> np.ndarray:
    """A writable RGB uint8 copy of ``image`` (grey or colour) to draw marks on."""
    rgb = to_uint8(image)
    return np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb.copy()


def enlarged(image: np.ndarray, side: int = 360) -> np.ndarray:
    """Nearest-neighbour enlargement to about ``side`` pixels, so small images stay crisp
    (grey or colour)."""
    factor = max(1, side // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def compare(panels: Mapping[str, np.ndarray], *, key: str, width: int = viewport.DESKTOP,
            columns: int | None = None) -> None:
    """Images side by side with zoom and pan synced across the panels.

    ``width`` is the width of the column it is drawn in on a desktop, in
    pixels (about 900 for the full width of the page), ``columns`` the panels
    across there; on a narrow window they wrap to fewer (:func:`show_panels`).
    """
    identity = tuple((title, digest(image)) for title, image in panels.items())
    show_panels(_panel_figures(identity, dict(panels), width, columns), key=key, width=width)
    st.caption("Drag to pan, scroll or box-select to zoom: all panels follow. "
               "Double-click to reset.")


def show_panels(layouts: Sequence[go.Figure], *, key: str,
                width: int = viewport.DESKTOP) -> None:
    """Draw the layouts of one comparison (:func:`figures.panel_figures`, widest first), the
    browser showing the one that suits the width of the column.

    ``width`` is the column's width on a desktop, as for :func:`compare`. Once the
    browser has reported the main column's width (:mod:`ui.viewport`), only the layout
    that suits the column is sent: the first whose panels are at least
    ``figures.MIN_PANEL_PX`` wide, else the last. Until then every layout is sent and a
    container query on the column's width shows that one. Each is exactly as tall as its
    panels need at that width (:func:`chart`). The first chart has ``key``.
    """
    frame = viewport.frame_width(width)
    if frame is not None:
        layouts = [next((fig for fig in layouts[:-1] if figures.min_frame_width(
            fig.layout.meta["columns"]) <= frame), layouts[-1])]
    counts = [fig.layout.meta["columns"] for fig in layouts]
    frame = f"{key}-panels"
    outer = _css_class(frame)
    rules = [f".{outer} {{ container: ddt-panels / inline-size; }}"]
    for index, (count, fig) in enumerate(zip(counts, layouts)):
        inner = _css_class(f"{frame}-{count}")
        rules.append(_height_rule(inner, fig))
        # Hidden, with its wrapper (so that no gap is left), where the frame's width does
        # not suit it: a wider layout below its threshold, a narrower one above the last.
        hidden = []
        if index < len(layouts) - 1:
            hidden.append(f"width < {figures.min_frame_width(count):.0f}px")
        if index > 0:
            hidden.append(f"width >= {figures.min_frame_width(counts[index - 1]):.0f}px")
        for condition in hidden:
            rules.append(f"@container ddt-panels ({condition}) {{ .{outer} div:has(> .{inner}), "
                         f".{inner} {{ display: none !important; }} }}")
    # Without the rules (a page that strips styles) each chart keeps its layout.height, the
    # height at the desktop width, and the narrower layouts show below the first.
    st.html("<style>" + "\n".join(rules) + "</style>")
    with st.container(key=frame):
        for index, (count, fig) in enumerate(zip(counts, layouts)):
            with st.container(key=f"{frame}-{count}"):
                st.plotly_chart(fig, key=key if index == 0 else f"{key}.{count}",
                                height="stretch", config=ZOOM)


#: The charts' configuration where zoom matters: the wheel zooms, no plotly logo.
ZOOM = {"scrollZoom": True, "displaylogo": False}


def chart(fig: go.Figure, *, key: str, config: Mapping | None = None) -> None:
    """``st.plotly_chart`` as tall as the figure needs at the width of its column.

    A figure of :func:`figures.heatmap` or :func:`figures.image_panels` says in its
    ``layout.meta`` how tall it is at a given width (:func:`figures.fitted_height`); the
    chart is framed in a container whose CSS height follows from the column's width
    (container query units), so no blank is left above or below the map on a narrow
    window. Any other figure is drawn as it is.
    """
    if figures.fitted_height(fig, 1.0) is None:
        st.plotly_chart(fig, key=key, config=dict(config or {}))
        return
    frame = f"{key}-frame"
    st.html(f"<style>.{_css_class(frame)} {{ container-type: inline-size; }}\n"
            f"{_height_rule(_css_class(frame + '-fit'), fig)}</style>")
    with st.container(key=frame), st.container(key=f"{frame}-fit"):
        st.plotly_chart(fig, key=key, height="stretch", config=dict(config or {}))


def _height_rule(css_class: str, fig: go.Figure) -> str:
    """The CSS that makes an element as tall as ``fig`` needs at its container's width."""
    meta = fig.layout.meta
    height = (f"max(60px, calc((100cqw - {meta.get('fixed_w', 0)}px) * {meta['ratio']:.5f}"
              f" + {meta.get('fixed_h', 0)}px))")
    width = ""
    if "max_h" in meta:  # no taller than asked, and no wider than the map then needs
        height = f"min({meta['max_h']}px, {height})"
        widest = ((meta["max_h"] - meta.get("fixed_h", 0)) / meta["ratio"]
                  + meta.get("fixed_w", 0))
        width = f" max-width: {widest:.0f}px;"
    # flex: none, or the column's flex layout sizes the frame by its content instead.
    return f".{css_class} {{ flex: none !important; height: {height} !important;{width} }}"


@lru.shared("views._heatmap_figure")
def _heatmap_figure(values_digest: str, _values: np.ndarray,
                    style: tuple[tuple[str, object], ...]) -> go.Figure:
    """:func:`figures.heatmap` kept by the values' digest and the style: shared, not
    copied, since Streamlit only reads a figure it draws."""
    return figures.heatmap(_values, **dict(style))


def heatmap(values: np.ndarray, *, key: str, **style: object) -> None:
    """:func:`figures.heatmap` of ``values`` (``style``: its title, colour scale, range and
    height) drawn by :func:`chart`; built once per values and style, so a rerun that shows
    the same map (a page opened again, a click elsewhere) does not build it again."""
    chart(_heatmap_figure(digest(np.asarray(values)), np.asarray(values),
                          tuple(sorted(style.items()))), key=key)


@lru.shared("views._panel_figures")
def _panel_figures(identity: tuple[tuple[str, str], ...], _panels: dict[str, np.ndarray],
                   width: int, columns: int | None) -> list[go.Figure]:
    """:func:`figures.panel_figures`, kept by the panels' titles and digests: a rerun that
    shows the same images sends the same figures without building them again (0.2-0.4 s
    each). Shared, not copied: Streamlit only reads a figure it draws."""
    return figures.panel_figures(_panels, width=width, columns=columns)


@st.cache_data(max_size=memory.max_size("views._scores"), ttl=memory.ttl("views._scores"),
               show_spinner=False)
def _scores(clean_key: str, image_key: str, _clean: np.ndarray,
            _image: np.ndarray) -> tuple[float, float]:
    """PSNR and SSIM of an image against the clean one, kept by their digests (an SSIM costs
    about 50 ms at 512x512, on every rerun of a page with a table)."""
    return _psnr(_clean, _image), metrics.ssim(_clean, _image)


def _css_class(key: str) -> str:
    """The CSS class Streamlit gives the element with this key."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def _psnr(clean: np.ndarray, image: np.ndarray) -> float:
    """metrics.psnr, quietly infinite for identical images (numpy warns of the division)."""
    with np.errstate(divide="ignore"):
        return metrics.psnr(clean, image)


def reference_panels(scene: Scene) -> dict[str, np.ndarray]:
    """The clean image (when there is one) and the noisy image, titled with PSNR (with no
    noise, σ = 0, the title says so, and "∞ dB (identical)" rather than "inf dB")."""
    if scene.real:
        return {"noisy (as uploaded)": scene.noisy}
    psnr = _psnr(scene.clean, scene.noisy)
    # An infinite PSNR is no noise: σ = 0, or a noise that left every pixel as it was.
    name = "noisy (σ = 0)" if np.isinf(psnr) and scene.sigma == 0 else "noisy"
    return {"clean": scene.clean, f"{name} — {db(psnr)}": scene.noisy}


def result_panels(scene: Scene, named: Mapping[str, Result]) -> dict[str, np.ndarray]:
    """Each result's image, titled with its name and, with a clean image, its PSNR."""
    if scene.real:
        return {name: res.image for name, res in named.items()}
    return {f"{name} — {db(_psnr(scene.clean, res.image))}": res.image
            for name, res in named.items()}


def metrics_table(scene: Scene, named: Mapping[str, Result], *,
                  input_name: str = "noisy input") -> None:
    """PSNR, SSIM (when there is a clean image) and run time per result, the best scores bold;
    the first row, named ``input_name``, scores the scene's noisy (degraded) image. Below it,
    the downloads: any image as a PNG, all of them with the table as a ZIP, the table as CSV."""
    table = metrics_frame(scene, named, input_name=input_name)
    scores = [column for column in ("PSNR (dB)", "SSIM") if column in table]
    # Every row shown: "auto" stops at ten rows and scrolls the rest inside the table.
    cells = {"PSNR (dB)": partial(db, unit=False), "SSIM": "{:.4f}"}
    st.dataframe(table.style.format(cells, subset=scores)
                 .highlight_max(subset=scores, props="font-weight: bold"),
                 height=table_height(len(table)))
    if not scene.real:
        st.caption(f"PSNR = 10·log10(1/MSE) on the [0, 1] scale, estimates not clipped. "
                   f"{metrics.SSIM_SETTINGS} Time is this server's, for the first run; "
                   "later visits are served from the cache.")
    images = {**({} if scene.real else {"clean": scene.clean}), input_name: scene.noisy,
              **{name: res.image for name, res in named.items()}}
    names = "|".join([scene.key, input_name, *named])
    downloads(images, table.to_csv(),
              key=f"downloads.{hashlib.sha256(names.encode()).hexdigest()[:16]}")


def metrics_frame(scene: Scene, named: Mapping[str, Result], *,
                  input_name: str = "noisy input") -> pd.DataFrame:
    """The rows of :func:`metrics_table`: PSNR and SSIM (with a clean image) and the run
    time of the input and of every result, by name."""
    rows = []
    clean_key = "" if scene.real else digest(scene.clean)
    if not scene.real:
        psnr, ssim = _scores(clean_key, digest(scene.noisy), scene.clean, scene.noisy)
        rows.append({"method": input_name, "PSNR (dB)": psnr, "SSIM": ssim, "time": "—"})
    for name, res in named.items():
        row = {"method": name, "time": f"{res.seconds:.3f} s"}
        if not scene.real:
            row["PSNR (dB)"], row["SSIM"] = _scores(clean_key, digest(res.image), scene.clean,
                                                    res.image)
        rows.append(row)
    return pd.DataFrame(rows).set_index("method")


def file_stem(name: str) -> str:
    """A file name for a panel's name: letters, digits, dots and dashes only."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", name.split(" — ")[0]).strip("-").lower() or "image"


def results_zip(images: Mapping[str, np.ndarray], table_csv: str) -> bytes:
    """A ZIP of every image as a lossless PNG (named after it) and the table as metrics.csv."""
    buffer = io.BytesIO()
    # PNGs are compressed already: stored, not deflated again.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, image in images.items():
            archive.writestr(f"{file_stem(name)}.png", to_png_bytes(image))
        archive.writestr("metrics.csv", table_csv)
    return buffer.getvalue()


def downloads(images: Mapping[str, np.ndarray], table_csv: str, *, key: str) -> None:
    """Download buttons in a popover: one image (chosen) as a PNG, all of them and the table
    as a ZIP, the table as CSV. The files are made when a button is pressed."""
    with st.popover("Download", icon=":material/download:"):
        names = list(images)
        one = st.selectbox("One image", names, index=len(names) - 1, key=f"{key}.one")
        st.download_button(f"{one.split(' — ')[0]} (PNG)", partial(to_png_bytes, images[one]),
                           file_name=f"{file_stem(one)}.png", mime="image/png",
                           key=f"{key}.png")
        st.download_button("All images and the table (ZIP)",
                           partial(results_zip, images, table_csv), file_name="results.zip",
                           mime="application/zip", key=f"{key}.zip")
        st.download_button("The table (CSV)", table_csv, file_name="metrics.csv", mime="text/csv",
                           key=f"{key}.csv")


#: st.dataframe's row height (and its header's) in pixels, at the default theme.
ROW_HEIGHT = 35


def table_height(rows: int) -> int:
    """The height in pixels of a st.dataframe that shows a header and ``rows`` rows without
    an inner scroll bar (plus its 1 px borders and a pixel to spare); presenter mode's
    larger type makes the rows taller by its scale."""
    scale = present.SCALE if present.active() else 1.0
    return round((rows + 1) * ROW_HEIGHT * scale) + 3


def psnrs(scene: Scene, named: Mapping[str, Result]) -> dict[str, float]:
    """Each result's PSNR against the scene's clean image (a synthetic scene only)."""
    return {name: _psnr(scene.clean, res.image) for name, res in named.items()}


def tradeoff_chart(scene: Scene, named: Mapping[str, Result], *, key: str) -> None:
    """PSNR against run time, one point per result (needs a clean image and two results)."""
    if scene.real or len(named) < 2:
        return
    points = {name: (named[name].seconds, psnr) for name, psnr in psnrs(scene, named).items()}
    st.plotly_chart(figures.tradeoff(points), key=key)
    st.caption("Quality against time: the higher and the further left, the better the bargain. "
               "Times are this server's first runs, on a log scale.")


def method_noise_panels(scene: Scene, named: Mapping[str, Result], *, key: str) -> None:
    """What each method removed (noisy − estimate), mid-grey for zero, ±3σ at the ends."""
    spread = 3 * max(scene.sigma, 1 / 255)
    panels = {name: figures.signed_to_display(metrics.method_noise(scene.noisy, res.image), spread)
              for name, res in named.items()}
    if panels:
        compare(panels, key=key, columns=min(4, len(panels)))
        st.caption(f"Method noise, noisy − estimate; mid-grey is 0, black and white are "
                   f"∓{spread * 255:.0f} on the 0–255 scale. A good denoiser removes only noise: "
                   "any edge or texture you can see here is image it destroyed.")


def insides(res: Result, *, key: str, per_row: int = 3) -> None:
    """Draw a result's stages (as maps with a colour bar, ``per_row`` across) and its curves."""
    colour_note(res)
    stages = list(res.stages.items())
    display = res.extras.get("display", {})
    for start in range(0, len(stages), per_row):
        for column, (name, stage) in zip(st.columns(per_row), stages[start:start + per_row]):
            with column:
                _stage(name, np.asarray(stage), display.get(name, "map"), key=f"{key}.{name}")
    x_title, x = res.extras.get("curve_x", ("iteration", None))
    for name, series in res.curves.items():
        st.plotly_chart(figures.curves({name: series}, x=x, x_title=x_title, title=name),
                        key=f"{key}.curve.{name}")


def _stage(name: str, stage: np.ndarray, display: str, *, key: str) -> None:
    """One stage: grey levels for an image, zero mid-scale for signed values, else a map."""
    signed = display == "signed"
    bound = (float(np.abs(stage).max()) or 1.0) if signed else 1.0  # the ends of a signed scale
    if stage.ndim == 3:  # colour: signed values (a colour model's predicted noise) about mid-grey
        show_image(figures.signed_to_display(stage, bound) if signed else stage, name)
        return
    if display == "image":
        heatmap(stage, title=name, colorscale="gray", zmin=0, zmax=1, height=300, key=key)
    elif signed:
        heatmap(stage, title=name, colorscale="RdBu_r", zmin=-bound, zmax=bound, height=300,
                key=key)
    else:
        heatmap(stage, title=name, height=300, key=key)


def parameters_used(res: Result) -> None:
    """A caption with the values a method used, its auto parameters resolved from sigma."""
    used = ", ".join(f"{name} = {value:.3g}" if isinstance(value, float) else
                     f"{name} = {value}" for name, value in res.extras.get("params", {}).items())
    if used:
        st.caption(f"Parameters used: {used}.")


def colour_note(res: Result) -> None:
    """A caption saying how a colour image was handled (e.g. channel by channel), and one
    saying that the method ran on the variance-stabilised image (its stages are shown
    there), if it did."""
    for said in ("colour", "stabilised"):
        if said in res.extras:
            st.caption(res.extras[said][0].upper() + res.extras[said][1:] + ".")


def one_result(scene: Scene, name: str, res: Result) -> None:
    """One method's result in words: its PSNR/SSIM table, the parameters it used and how
    it handled colour."""
    metrics_table(scene, {name: res})
    parameters_used(res)
    colour_note(res)
