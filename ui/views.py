"""Views shared by the pages: exact images, a result's insides, the metrics table."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import streamlit as st

from denoisers import metrics
from denoisers.core import Result
from denoisers.images import to_png_bytes, to_uint8

from . import figures
from .scene import Scene


def show_image(image: np.ndarray, caption: str = "", *, width: int | str = "stretch") -> None:
    """Draw an image exactly: rounded to 8 bits and sent as PNG, never JPEG."""
    st.image(to_uint8(image), caption=caption or None, output_format="PNG", width=width)


def rgb_canvas(image: np.ndarray) -> np.ndarray:
    """A writable RGB uint8 copy of ``image`` (grey or colour) to draw marks on."""
    rgb = to_uint8(image)
    return np.repeat(rgb[..., None], 3, axis=2) if rgb.ndim == 2 else rgb.copy()


def enlarged(image: np.ndarray, side: int = 360) -> np.ndarray:
    """Nearest-neighbour enlargement to about ``side`` pixels, so small images stay crisp."""
    factor = max(1, side // max(image.shape[:2]))
    return np.kron(image, np.ones((factor, factor), np.float32))


def compare(panels: Mapping[str, np.ndarray], *, key: str, width: int = 900,
            columns: int | None = None) -> None:
    """Images side by side with zoom and pan synced across the panels.

    ``width`` is the width of the column it is drawn in, in pixels (about
    900 for the full width of the page).
    """
    st.plotly_chart(figures.image_panels(panels, width=width, columns=columns), key=key,
                    config={"scrollZoom": True, "displaylogo": False})
    st.caption("Drag to pan, scroll or box-select to zoom: all panels follow. "
               "Double-click to reset.")


def reference_panels(scene: Scene) -> dict[str, np.ndarray]:
    """The clean image (when there is one) and the noisy image, titled with PSNR."""
    if scene.real:
        return {"noisy (as uploaded)": scene.noisy}
    return {"clean": scene.clean,
            f"noisy — {metrics.psnr(scene.clean, scene.noisy):.2f} dB": scene.noisy}


def result_panels(scene: Scene, named: Mapping[str, Result]) -> dict[str, np.ndarray]:
    """Each result's image, titled with its name and, with a clean image, its PSNR."""
    if scene.real:
        return {name: res.image for name, res in named.items()}
    return {f"{name} — {metrics.psnr(scene.clean, res.image):.2f} dB": res.image
            for name, res in named.items()}


def metrics_table(scene: Scene, named: Mapping[str, Result]) -> None:
    """PSNR, SSIM (when there is a clean image) and run time per result, the best scores bold."""
    rows = []
    if not scene.real:
        rows.append({"method": "noisy input", "PSNR (dB)": metrics.psnr(scene.clean, scene.noisy),
                     "SSIM": metrics.ssim(scene.clean, scene.noisy), "time": "—"})
    for name, res in named.items():
        row = {"method": name, "time": f"{res.seconds:.3f} s"}
        if not scene.real:
            row["PSNR (dB)"] = metrics.psnr(scene.clean, res.image)
            row["SSIM"] = metrics.ssim(scene.clean, res.image)
        rows.append(row)
    table = pd.DataFrame(rows).set_index("method")
    scores = [column for column in ("PSNR (dB)", "SSIM") if column in table]
    st.dataframe(table.style.format({"PSNR (dB)": "{:.2f}", "SSIM": "{:.4f}"}, subset=scores)
                 .highlight_max(subset=scores, props="font-weight: bold"))
    if not scene.real:
        st.caption(f"PSNR = 10·log10(1/MSE) on the [0, 1] scale, estimates not clipped. "
                   f"{metrics.SSIM_SETTINGS} Time is this server's, for the first run; "
                   "later visits are served from the cache.")


def psnrs(scene: Scene, named: Mapping[str, Result]) -> dict[str, float]:
    """Each result's PSNR against the scene's clean image (a synthetic scene only)."""
    return {name: metrics.psnr(scene.clean, res.image) for name, res in named.items()}


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


def insides(res: Result, *, key: str) -> None:
    """Draw a result's stages (as maps with a colour bar) and its curves."""
    if "colour" in res.extras:
        st.caption(res.extras["colour"].capitalize() + ".")
    stages = list(res.stages.items())
    display = res.extras.get("display", {})
    for start in range(0, len(stages), 3):
        for column, (name, stage) in zip(st.columns(3), stages[start:start + 3]):
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
        fig = figures.heatmap(stage, title=name, colorscale="gray", zmin=0, zmax=1, height=300)
    elif signed:
        fig = figures.heatmap(stage, title=name, colorscale="RdBu_r", zmin=-bound, zmax=bound,
                              height=300)
    else:
        fig = figures.heatmap(stage, title=name, height=300)
    st.plotly_chart(fig, key=key)


def download(image: np.ndarray, name: str, *, key: str) -> None:
    """A button that downloads ``image`` as a lossless 8-bit PNG."""
    st.download_button(f"Download {name} (PNG)", to_png_bytes(image), file_name=f"{name}.png",
                       mime="image/png", key=key, icon=":material/download:")
