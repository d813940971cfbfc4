"""The Arena's comparisons beyond one noise level: PSNR against σ, and one crop in every result.

The sweep runs each chosen method at noise levels from 5 to 100 on the same clean image
(and seed), where the crossover of the networks and BM3D is the essay's story in one
picture; the crop inspector shows one region of every result enlarged without smoothing,
and the signed difference between any two, redrawn alone when the visitor clicks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import streamlit as st

from denoisers import metrics
from denoisers.core import Method

from . import compute, errors, figures, links, method_view, probe, timing, views
from . import scene as scenes
from .scene import Scene
from .sparsity_views import outlined

#: The noise levels of the sweep, on the 0-255 scale.
SWEEP_SIGMAS = (5, 10, 15, 25, 35, 50, 75, 100)

#: The crop sides offered, in pixels, and the size its enlargements are drawn at.
CROP_SIDES = (16, 24, 32, 48, 64, 96, 128)
CROP_PX = 240


def sweep_seconds(methods: Sequence[Method], shape: tuple[int, ...]) -> float | None:
    """About how long the sweep of ``methods`` takes on an image of ``shape``; None when
    a method's time is unknown."""
    each = [timing.expected_seconds(m.key, shape, s / 255) for m in methods for s in SWEEP_SIGMAS]
    return None if None in each else sum(each)


def sigma_sweep(scene: Scene, methods: Sequence[Method], params: Mapping[str, dict[str, Any]],
                *, key: str) -> None:
    """PSNR against σ (5 to 100) for ``methods`` on the scene's clean image, behind a button
    that says how long it takes; on the centre 256x256 unless the visitor asks for the whole."""
    if scene.real:
        st.info("The image is marked as already noisy: there is no clean image to add noise "
                "to and score against.")
        return
    if not methods:
        return
    whole = method_view.full_size(scene.clean.shape, sweep_seconds(methods, scene.clean.shape),
                                  key=f"{key}.size")
    board = scene if whole else scenes.centre(scene, method_view.HEAVY_SIDE)
    asked = f"{key}.asked"
    wanted = (board.key, tuple(m.key for m in methods), repr(sorted(params.items())))
    if st.session_state.get(asked) != wanted:
        if not links.button(f"Measure PSNR from σ = {SWEEP_SIGMAS[0]} to {SWEEP_SIGMAS[-1]}",
                            key=f"{key}.go", icon=":material/show_chart:"):
            seconds = sweep_seconds(methods, board.clean.shape)
            said = "seconds or more" if seconds is None else timing.duration(seconds)
            st.caption(f"{len(methods) * len(SWEEP_SIGMAS)} runs at "
                       f"{timing.size_label(board.clean.shape)}: {said}.")
            return
        st.session_state[asked] = wanted
    noisy = {s: scenes.with_gaussian_noise(board, s) for s in SWEEP_SIGMAS}
    series = _measured(board, noisy, methods, params)
    series = {"noisy input": [metrics.psnr(board.clean, noisy[s].noisy) for s in SWEEP_SIGMAS],
              **series}
    st.plotly_chart(figures.curves(series, x=np.array(SWEEP_SIGMAS), x_title="σ (0–255 scale)",
                                   y_title="PSNR (dB)",
                                   title=f"PSNR against the noise level, on "
                                         f"{timing.size_label(board.clean.shape)}"),
                    key=f"{key}.chart")
    st.caption("Every method told the true σ, on the same clean image and seed. Where two "
               "curves cross, the method that wins changes with the noise.")


def _measured(board: Scene, noisy: Mapping[int, Scene], methods: Sequence[Method],
              params: Mapping[str, dict[str, Any]]) -> dict[str, list[float]]:
    """Each method's PSNR at every σ of the sweep, run (or served from the cache) with a
    progress bar over them all."""
    bar = st.empty()
    total = len(methods) * len(SWEEP_SIGMAS)
    series: dict[str, list[float]] = {}
    for i, method in enumerate(methods):
        values = []
        for j, sigma in enumerate(SWEEP_SIGMAS):
            bar.progress((i * len(SWEEP_SIGMAS) + j) / total,
                         text=f"{method.name} at σ = {sigma}… ({i * len(SWEEP_SIGMAS) + j + 1} "
                              f"of {total})")
            call = compute.Call.of(method, noisy[sigma], params.get(method.key))
            values.append(metrics.psnr(board.clean, call.run(noisy[sigma]).image))
        series[method.name] = values
    bar.empty()
    return series


def crop_corner(pixel: tuple[int, int], side: int, shape: tuple[int, ...]) -> tuple[int, int]:
    """The top-left corner of the ``side`` square centred on ``pixel``, kept inside ``shape``."""
    height, width = shape[:2]
    side = min(side, height, width)
    return (int(np.clip(pixel[0] - side // 2, 0, height - side)),
            int(np.clip(pixel[1] - side // 2, 0, width - side)))


def crop(image: np.ndarray, corner: tuple[int, int], side: int) -> np.ndarray:
    """The ``side`` square of ``image`` at ``corner``."""
    return image[corner[0]:corner[0] + side, corner[1]:corner[1] + side]


@st.fragment
def crop_inspector(scene: Scene, panels: Mapping[str, np.ndarray], *, key: str) -> None:
    """One square of every panel, enlarged without smoothing, and the signed difference of
    any two; choosing the square (a click) or the pair reruns this view alone."""
    # Inside a fragment an exception would reach Streamlit's own handler: the guard is here.
    with errors.guard("The crop"):
        names = list(panels)
        left, right = st.columns(probe.PICKER_COLUMNS)
        with left:
            side = links.select_slider("Crop side (pixels)", CROP_SIDES, value=48,
                                       key=f"{key}.side")
            pixel = probe.chosen(f"{key}.pick", scene.original)
            corner = crop_corner(pixel, side, scene.noisy.shape)
            side = min(side, *scene.noisy.shape[:2])
            rows = f"{corner[0]}–{corner[0] + side - 1}"
            cols = f"{corner[1]}–{corner[1] + side - 1}"
            probe.picker(outlined(scene.noisy, corner, side), key=f"{key}.pick",
                         caption=f"Click to move the crop (red); now rows {rows}, columns {cols}.")
        with right:
            # One above the other, each the column's width: side by side, a result's name
            # was cut at 1280x720 and 150 %.
            a = links.selectbox("Difference of", names, index=min(2, len(names) - 1),
                                key=f"{key}.a")
            b = links.selectbox("minus", names, index=0, key=f"{key}.b")
            difference = crop(panels[a], corner, side) - crop(panels[b], corner, side)
            if difference.ndim == 3:
                difference = difference.mean(axis=2)
            bound = max(float(np.abs(difference).max()), 1e-6) * 255
            views.heatmap(difference * 255, title=f"{a} − {b} (0–255 scale)",
                          colorscale="RdBu_r", zmin=-bound, zmax=bound, height=360,
                          key=f"{key}.difference")
        for start in range(0, len(names), 4):
            for column, name in zip(st.columns(4), names[start:start + 4]):
                with column:
                    part = np.clip(crop(panels[name], corner, side), 0, 1)
                    views.show_image(views.enlarged(part, CROP_PX), name)
