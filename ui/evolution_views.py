"""Views of an image evolving in time (the PDE chapter): scrub the evolution, read a scanline.

Everything here is drawn from a traced result (``extras["evolution"]``: the
kept frames and their times, the curves per step, the stopping times; see
:mod:`denoisers.pde.evolution`) inside fragments, so that moving the time
slider or clicking another row reruns the fragment alone and never the
method.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import streamlit as st

from denoisers.core import Result

from . import errors, figures, links, probe, views
from .text import db

#: The curves the evolution view draws itself; the others go to :func:`views.insides`.
EVOLUTION_CURVES = ("PSNR (dB)", "residual RMS / σ")


def _frames(res: Result) -> tuple[np.ndarray, np.ndarray]:
    evolution = res.extras["evolution"]
    return np.asarray(evolution["times"]), np.asarray(evolution["frames"], np.float32)


def _nearest(times: np.ndarray, t: float | None) -> int:
    return int(np.argmin(np.abs(times - t))) if t is not None else 0


def marks(res: Result) -> dict[str, float]:
    """The times worth marking on a curve: the method's stop, the discrepancy principle's
    stop and (with a reference) the time of the best PSNR."""
    found = {"default stop": res.extras["stop"]}
    if res.extras.get("discrepancy stop") is not None:
        found["residual reaches σ"] = res.extras["discrepancy stop"]
    if "PSNR (dB)" in res.curves:
        x = res.extras["curve_x"][1]
        found["best PSNR"] = float(x[int(np.argmax(res.curves["PSNR (dB)"]))])
    return found


@st.fragment
def evolution(res: Result, *, key: str) -> None:
    """A time slider over the kept frames, the frame, and PSNR and residual against time."""
    with errors.guard("The evolution"):
        times, frames = _frames(res)
        axis, x = res.extras["curve_x"]
        stop = _nearest(times, res.extras["stop"])
        label = axis[0].upper() + axis[1:]
        at = links.select_slider(label, options=list(range(len(times))), value=stop,
                                 format_func=lambda i: f"{times[i]:.3g}", key=f"{key}.time",
                                 help="Scrub through the evolution: these frames were kept by the "
                                   "run, so moving the slider never reruns the method.")
        left, right = st.columns([1, 1])
        with left:
            views.show_image(np.clip(frames[at], 0, 1),
                             f"{label} = {times[at]:.3g}"
                             + (" (the method's stop)" if at == stop else ""))
        with right:
            step = int(np.argmin(np.abs(np.asarray(x) - times[at])))
            if "PSNR (dB)" in res.curves:
                st.metric("PSNR at this time", db(res.curves["PSNR (dB)"][step]))
            shown = {name: res.curves[name] for name in EVOLUTION_CURVES if name in res.curves}
            for name, series in shown.items():
                marked = {**marks(res), "shown": float(times[at])}
                if name == "residual RMS / σ":
                    marked.pop("best PSNR", None)
                views.chart(figures.curves({name: series}, x=x, x_title=axis, title=name,
                                           marks=marked), key=f"{key}.curve.{name}")


def edge_row(image: np.ndarray) -> int:
    """The row of ``image`` (grey or colour) that crosses the strongest vertical edge."""
    grey = _luminance(image)
    return int(np.argmax(np.abs(np.diff(grey, axis=1)).max(axis=1)))


def row_marked(image: np.ndarray, row: int) -> np.ndarray:
    """An RGB uint8 copy of ``image`` with a red line along ``row``."""
    rgb = views.rgb_canvas(image)
    rgb[max(0, row - 1):row + 2] = np.array([255, 0, 0], np.uint8)
    return rgb


def _luminance(image: np.ndarray) -> np.ndarray:
    return image.mean(axis=2) if image.ndim == 3 else image


@st.fragment
def scanlines(named: Mapping[str, np.ndarray], *, key: str) -> None:
    """One row of each named image (the first the reference the row is chosen on) as curves
    side by side; a click on the picture chooses another row, without running anything."""
    with errors.guard("The scanline"):
        first = next(iter(named.values()))
        row = probe.chosen(f"{key}.pick", first, start=lambda image: (edge_row(image), 0))[0]
        left, right = st.columns([1, 2])
        with left:
            probe.picker(row_marked(np.clip(first, 0, 1), row), key=f"{key}.pick",
                         caption="Click the picture to choose the row (red); it starts on the "
                                 "row that crosses the strongest edge.")
        with right:
            lines = {name: _luminance(image)[row] for name, image in named.items()}
            views.chart(figures.curves(lines, x_title="column", y_title="grey level",
                                       title=f"Row {row}"), key=f"{key}.lines")
