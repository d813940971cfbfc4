"""The home page's two pictures: the essay's Figure 2 on the current image, and the timeline.

Figure 2 of Elad's essay is an image, the same image with Gaussian noise of σ = 100 and
BM3D's result; here it is drawn on the visitor's image, with the best network of the site
beside BM3D. The timeline places every registered method by its year and its measured
Set12 PSNR at σ = 25 (the project's saved quality table), with the published figure beside
it where a paper reports one; clicking a point opens the method's chapter.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import denoisers
from denoisers import published

from . import compute, links, story, timing, views
from . import scene as scenes
from .scene import Scene

#: The noise of the essay's Figure 2, on the 0-255 scale.
FIGURE2_SIGMA = 100
#: The essay's classical method, and the best network here at σ = 100 on Set12
#: (assets/benchmarks/sigma100: DRUNet 24.33 dB, FFDNet 23.98, BM3D 23.33).
FIGURE2_METHODS = ("bm3d", "drunet")

#: The saved quality table the timeline reads (``python -m benchmarks.quality``).
QUALITY_TABLE = Path(__file__).resolve().parent.parent / "assets/benchmarks/quality_set12.csv"
#: The saved Set12 quality tables: the main benchmark's, and the learned classical models' own
#: (``python -m benchmarks.quality --data ../shared/data/set12 --methods tnrd deep_ksvd --out
#: assets/benchmarks/unrolled``).
QUALITY_TABLES = (QUALITY_TABLE, QUALITY_TABLE.parent / "unrolled" / "quality_set12.csv")
#: The noise level the timeline compares at.
TIMELINE_SIGMA = 25

#: The chapter that shows each family's methods.
CHAPTER_OF_FAMILY = {
    "Linear filters": "chapters/local_filters.py",
    "Robust & edge-preserving": "chapters/local_filters.py",
    "PDEs & energy minimisation": "chapters/pde.py",
    "Wavelets": "chapters/wavelets.py",
    "Sparse representations": "chapters/sparsity.py",
    "Non-local means": "chapters/nonlocal_means.py",
    "Collaborative filtering": "chapters/bm3d.py",
    "Low rank and patch priors": "chapters/patch_priors.py",
    "Deep learning": "chapters/deep_learning.py",
    "Learned classical models": "chapters/fighting_back.py",
}


# --------------------------------------------------------------------------- Figure 2

def figure2(scene: Scene, *, key: str) -> None:
    """The essay's Figure 2 on the scene's clean image: σ = 100, BM3D and the best network,
    shown at once when both are done (in this session or in the on-disk store), else behind
    a button that says how long they take."""
    if scene.real:
        views.show_image(scene.noisy, f"{scene.source} — already noisy")
        return
    board = scenes.with_gaussian_noise(scene, FIGURE2_SIGMA)
    methods = [denoisers.get(k) for k in FIGURE2_METHODS]
    calls = {m.name: compute.Call.of(m, board) for m in methods}
    if not all(call.done for call in calls.values()):
        slot = st.empty()
        with slot.container():
            views.compare({"clean": board.clean, f"noise of σ = {FIGURE2_SIGMA}": board.noisy},
                          key=f"{key}.waiting", columns=2)
            names = " and ".join(calls)
            pressed = links.button(f"Run {names} at σ = {FIGURE2_SIGMA}", key=f"{key}.run",
                                   type="primary", icon=":material/play_arrow:")
            if not pressed:
                st.caption(timing.batch_caption([(m, board.sigma) for m in methods],
                                                board.noisy.shape))
                return
        slot.empty()
    with st.spinner("The essay's Figure 2…", show_time=True):
        results = {name: call.run(board) for name, call in calls.items()}
    views.compare({**views.reference_panels(board), **views.result_panels(board, results)},
                  key=f"{key}.compare", columns=4)
    st.caption(f"The essay's Figure 2, on {scene.source}: noise of σ = {FIGURE2_SIGMA} on the "
               "0–255 scale, BM3D (2007), the essay's example, and DRUNet (2021), the best "
               "network here at this noise on Set12. Zoom in: they disagree most in textures.")


# --------------------------------------------------------------------------- the timeline

@cache
def measured_set12(paths: tuple[Path, ...] = QUALITY_TABLES,
                   sigma: float = TIMELINE_SIGMA) -> dict[str, float]:
    """The mean Set12 PSNR of every method of the saved quality tables (those of ``paths``
    that exist) at ``sigma``, by key (the peers and the variants with parameters, whose keys
    hold ``:`` or are not registered, left out)."""
    values: dict[str, list[float]] = defaultdict(list)
    for path in paths:
        if not path.exists():
            continue
        with path.open(newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                if float(row["sigma"]) == sigma:
                    values[row["method"]].append(float(row["psnr"]))
    registered = {m.key for m in denoisers.methods()}
    return {k: float(np.mean(v)) for k, v in values.items() if k in registered}


def timeline_figure() -> go.Figure:
    """Every registered method by year and measured Set12 PSNR at σ = 25, one colour per
    family, with the published figure as a hollow mark where a paper reports one."""
    measured = measured_set12()
    fig = go.Figure()
    families = list(dict.fromkeys(m.family for m in denoisers.methods()))
    for family in families:
        members = [m for m in denoisers.methods(family) if m.key in measured]
        fig.add_scatter(x=[m.year for m in members], y=[measured[m.key] for m in members],
                        mode="markers+text", name=family, text=[m.name for m in members],
                        textposition="top center", customdata=[m.key for m in members],
                        marker=dict(size=12), textfont=dict(size=11),
                        hovertemplate="%{text} (%{x}): %{y:.2f} dB measured<extra></extra>")
    shown = [m for m in denoisers.methods()
             if published.set12_psnr(m.key, TIMELINE_SIGMA) is not None]
    fig.add_scatter(x=[m.year for m in shown],
                    y=[published.set12_psnr(m.key, TIMELINE_SIGMA) for m in shown],
                    mode="markers", name="published figure", customdata=[m.key for m in shown],
                    text=[m.name for m in shown],
                    marker=dict(size=12, symbol="circle-open", color="black"),
                    hovertemplate="%{text} (%{x}): %{y:.2f} dB published<extra></extra>")
    fig.update_layout(height=520, margin=dict(l=0, r=0, t=30, b=0), clickmode="event+select",
                      legend=dict(orientation="h", y=-0.15),
                      xaxis=dict(title="year"),
                      yaxis=dict(title=f"Set12 mean PSNR at σ = {TIMELINE_SIGMA} (dB)"))
    return fig


def timeline(*, key: str) -> None:
    """The timeline, whose points open their method's chapter when clicked."""
    # A chart keeps its selection in the session: after a click it gets a new key, or
    # coming back home would open the same chapter again.
    clicks = st.session_state.setdefault(f"{key}.clicks", 0)
    event = st.plotly_chart(timeline_figure(), key=f"{key}.{clicks}", on_select="rerun",
                            selection_mode="points")
    missing = [m.name for m in denoisers.methods() if m.key not in measured_set12()]
    st.caption(f"Measured: this site's code on Set12 at σ = {TIMELINE_SIGMA} "
               "(assets/benchmarks/quality_set12.csv, `python -m benchmarks.quality`); hollow "
               f"marks: the papers' own figures ({'; '.join(published.SOURCES.values())}). "
               "Click a point to open its chapter."
               + (f" Not in the saved table yet: {', '.join(missing)}." if missing else ""))
    points = (event or {}).get("selection", {}).get("points", [])
    if points:
        method = denoisers.get(points[0]["customdata"])
        st.session_state[f"{key}.clicks"] = clicks + 1
        story.go(CHAPTER_OF_FAMILY[method.family])
