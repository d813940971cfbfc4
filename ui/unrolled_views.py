"""The fighting-back chapter's views: TNRD beside Perona-Malik, stage by stage, and every
method's quality against its learned weights and its run time.

Every view here draws from a traced result or the saved benchmark tables: choosing a stage
or a filter never runs a method again.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import denoisers
from denoisers.colour import luminance_view
from denoisers.core import Method, Result
from denoisers.ksvd import code_patch
from denoisers.metrics import psnr
from denoisers.pde.diffusion import MAX_STEP, edge_stopping, perona_malik_kappa
from denoisers.sparsity import atoms_mosaic

from . import figures, home_views, links, probe, timing, views
from .scene import Scene

#: TNRD's equation, as the page writes it with ``st.latex``.
TNRD_EQUATION = (r"u_t = u_{t-1} - \Big(\sum_{i=1}^{48} \bar K_i^{t}\,"
                 r"\phi_i^{t}\big(K_i^{t} u_{t-1}\big) + \lambda_t\,(u_{t-1} - f)\Big),"
                 r"\qquad t = 1, \dots, 5")
#: Deep K-SVD's computation, as the page writes it with ``st.latex``.
#: Two lines, so that it fits a projector's narrow page at 150 % zoom.
DEEP_KSVD_EQUATION = (r"\begin{gathered}z_i^{k+1} = \mathcal{S}_{\theta(y_i)}\Big(z_i^{k} + "
                      r"\tfrac{1}{c}\, D^\top\big(y_i - D z_i^{k}\big)\Big),\\ "
                      r"\hat x = \frac{\sum_i R_i^\top\, (w \odot D z_i^{K})}"
                      r"{\sum_i R_i^\top\, w}\end{gathered}")
#: The families the trade-off tells apart from the classical methods.
NETWORKS, LEARNED = denoisers.nets.FAMILY, denoisers.unrolled.FAMILY
#: What the page says where a learned model had no noise to remove (σ = 0).
NO_NOISE = ("At σ = 0 there is no noise to remove: the learned models return the image as it "
            "is, and there is nothing inside them to show. Raise σ in the sidebar.")
#: The image side the trade-off's run times are read at.
TIMED_SIDE = 512


def stage_picker(res: Result, *, key: str) -> int:
    """A slider over TNRD's stages (the last by default); the stage chosen."""
    count = len(res.extras["tnrd"]["reaction"])
    return int(links.slider("Stage", 1, count, count, 1, key=key,
                            help="Every stage is one explicit reaction-diffusion step with its "
                                 "own filters and functions; all of them were computed in the "
                                 "one run, so moving this runs nothing."))


def stages(scene: Scene, res: Result, stage: int, *, key: str) -> None:
    """The image after ``stage`` beside the noisy one, and the PSNR after every stage. A
    colour image's trace is its luminance's (the method runs on each opponent channel), so
    the panels are luminances then."""
    image = res.stages[f"stage {stage}"]
    noisy, _ = luminance_view(scene.noisy, scene.sigma)
    colour = scene.noisy.ndim == 3
    panels = {("noisy (luminance)" if colour else "noisy"): noisy}
    title = f"after stage {stage}"
    if not scene.real:
        clean, _ = luminance_view(scene.clean, scene.sigma)
        panels = {("clean (luminance)" if colour else "clean"): clean, **{
            f"{name} — {psnr(clean, noisy):.2f} dB": noisy for name in panels}}
        title += f" — {psnr(clean, image):.2f} dB"
    views.compare({**panels, title: image}, key=f"{key}.compare", columns=3)
    curve = res.curves.get("PSNR (dB)")
    if curve is not None:
        views.chart(figures.curves({"TNRD": curve}, x=np.arange(1, len(curve) + 1),
                                   x_title="stage", y_title="PSNR (dB)",
                                   title="PSNR after each stage", marks={"shown": stage}),
                    key=f"{key}.psnr")


def classical_influence(responses: np.ndarray, sigma: float) -> tuple[np.ndarray, float]:
    """Perona-Malik's step written as one of TNRD's, on the responses of a unit-norm filter.

    A Perona-Malik step is ``u - dt sum_d D_d^T psi(D_d u)`` with the forward difference
    ``D_d`` and ``psi(s) = s g(s)`` (the exponential ``g`` with the PDE chapter's default
    kappa for ``sigma``). The difference is ``sqrt 2`` times the unit-norm filter ``k``, so
    the step is ``u - k^T phi(k u)`` with ``phi(z) = dt sqrt 2 psi(sqrt 2 z)``. Returns that
    ``phi`` at ``responses`` and the response at which a step of kappa sits, kappa / sqrt 2.
    """
    kappa = perona_malik_kappa(sigma)
    g = edge_stopping("exponential", kappa)
    s = np.sqrt(2) * np.asarray(responses, np.float32)
    return MAX_STEP * np.sqrt(2) * s * g(np.abs(s)), kappa / np.sqrt(2)


def finite_differences(size: int) -> np.ndarray:
    """Perona-Malik's two filters, the forward differences down and right at unit norm, in
    ``size`` x ``size`` kernels (as correlations: the pixel below or right minus the pixel)."""
    centre = size // 2
    kernels = np.zeros((2, size, size))
    kernels[:, centre, centre] = -1 / np.sqrt(2)
    kernels[0, centre + 1, centre] = kernels[1, centre, centre + 1] = 1 / np.sqrt(2)
    return kernels


def influence(res: Result, stage: int, sigma: float, *, key: str) -> None:
    """One learned filter and its influence function at ``stage``, over Perona-Malik's, then
    all of the stage's filters beside the two finite differences."""
    insides = res.extras["tnrd"]
    filters, curves = insides["filters"][stage - 1], insides["influence"][stage - 1]
    z = insides["responses"]
    pick = int(links.slider("Filter", 1, len(filters), 1, 1, key=f"{key}.filter",
                            help="Filters are numbered from the smoothest DCT atom they started "
                                 "from to the finest.")) - 1
    classical, kappa_response = classical_influence(z, sigma)
    left, right = st.columns([2, 1])
    with left:
        views.chart(figures.curves(
            {f"learned φ (stage {stage}, filter {pick + 1})": curves[pick],
             "Perona–Malik's φ, as a unit-norm difference's": classical},
            x=z, x_title="filter response z (image on 0–1)", y_title="φ(z)",
            title="What each response pushes back: learned and classical",
            marks={"κ/√2": kappa_response, "−κ/√2": -kappa_response}), key=f"{key}.phi")
    with right:
        views.heatmap(filters[pick], key=f"{key}.kernel", title=f"filter {pick + 1}",
                      colorscale="RdBu", zmin=-np.abs(filters[pick]).max(),
                      zmax=np.abs(filters[pick]).max(), height=280)
    st.caption(_shape_note(curves, z, stage))
    left, right = st.columns(2)
    with left:
        views.show_image(views.enlarged(atoms_mosaic(filters), 320),
                         f"Stage {stage}'s {len(filters)} learned filters, each on its own "
                         "scale (mid-grey is 0, lighter positive)", width=320)
    with right:
        views.show_image(views.enlarged(atoms_mosaic(finite_differences(filters.shape[-1])),
                                        120), "Perona–Malik's two differences, at the same size",
                         width=120)


def _shape_note(curves: np.ndarray, z: np.ndarray, stage: int) -> str:
    """What the stage's functions do, counted from them: how many turn back (not monotone),
    and how many push small responses the wrong way (a negative slope at 0: sharpening)."""
    inside = np.abs(z) <= 0.5
    slopes = np.diff(curves[:, inside], axis=1)
    scale = np.abs(curves[:, inside]).max(axis=1, keepdims=True) + 1e-12
    turning = int(np.sum(np.any(slopes > 1e-3 * scale, axis=1)
                         & np.any(slopes < -1e-3 * scale, axis=1)))
    middle = len(z) // 2
    sharpening = int(np.sum(curves[:, middle + 1] - curves[:, middle - 1] < 0))
    return (f"Of stage {stage}'s {len(curves)} functions, {turning} rise and fall (not "
            f"monotone over responses up to 0.5) and {sharpening} slope downwards at 0: "
            "along those filters the stage sharpens, as no Perona–Malik diffusivity can. "
            "The classical φ is Perona–Malik's own step (the exponential g with its default κ "
            "for this σ, a step of 0.2) written for a filter of unit norm.")


def dictionaries(classical: Result, learned: Result, *, key: str) -> None:
    """The dictionary K-SVD learned from the noisy image beside the one Deep K-SVD learned
    from training images, atom for atom (both started from the overcomplete DCT, Deep
    K-SVD's made a Parseval frame), zooming together."""
    views.compare({"K-SVD: learned from this noisy image": classical.stages["learned dictionary"],
                   "Deep K-SVD: learned from train400": atoms_mosaic(
                       learned.extras["deep_ksvd"]["dictionary"])},
                  key=f"{key}.dictionaries", columns=2)
    st.caption("Both started from the overcomplete DCT, each atom in its place (Deep K-SVD's "
               "re-weighted into a Parseval frame, so that a few soft-thresholding steps "
               "already code a patch): K-SVD reshapes the atoms to this image's patches, Deep "
               "K-SVD to what denoises training images best.")


def thresholds(learned: Result, *, key: str) -> None:
    """Deep K-SVD's predicted thresholds as a map over the image."""
    atoms = len(learned.extras["deep_ksvd"]["dictionary"])
    views.heatmap(learned.stages["threshold"], key=f"{key}.thresholds",
                  title=f"Deep K-SVD's threshold, patch by patch (mean over the {atoms} atoms)")
    st.caption("K-SVD codes every patch down to one error bound set from σ. Deep K-SVD's "
               "perceptron reads a threshold for every atom from the patch itself: where the "
               "map is bright, the patch is coded with fewer, larger coefficients.")


def codes(scene: Scene, seen: Result, classical: Result, pixel: tuple[int, int],
          pick: probe.Pick, *, key: str) -> None:
    """One clicked patch's code in both: Deep K-SVD's (from its look) and K-SVD's (coded
    over the dictionary its run learned), as bars over the 256 atoms and as rebuilt patches."""
    deep = seen.extras["deep code"]
    noisy, sigma = luminance_view(scene.noisy, scene.sigma)
    classic = code_patch(noisy, sigma, deep["corner"], classical.extras["dictionary"],
                         gain=classical.extras["params"]["gain"])
    row, col = deep["corner"]
    size = len(deep["noisy"])
    left, right = st.columns(probe.PICKER_COLUMNS)
    with left:
        pick(_boxed(noisy, row, col, size),
             note=f"The box is the {size}x{size} patch at row {row}, column {col}.")
    with right:
        k_svd = np.zeros(len(deep["coefficients"]))
        k_svd[classic["indices"]] = classic["coefficients"]
        views.chart(figures.bars({"K-SVD (orthogonal matching pursuit)": k_svd,
                                  "Deep K-SVD (learned soft thresholds)":
                                      deep["coefficients"]},
                                 x_title=f"atom (of {k_svd.size})", y_title="coefficient",
                                 title="The patch's two codes"),
                    key=f"{key}.bars")
        views.compare({"noisy patch": deep["noisy"],
                       f"K-SVD: {len(classic['indices'])} atoms": classic["reconstruction"],
                       f"Deep K-SVD: {len(deep['indices'])} atoms": deep["reconstruction"]},
                      key=f"{key}.patches", width=450, columns=3)
    st.caption("K-SVD removes the patch's mean and adds atoms one at a time until what is left "
               "is no larger than the noise; Deep K-SVD keeps the mean in its code (its "
               "constant atom) and shrinks every coefficient by its learned threshold, so it "
               "uses more atoms with smaller weights.")


def _boxed(image: np.ndarray, row: int, col: int, side: int) -> np.ndarray:
    """An RGB uint8 copy of ``image`` with a red box around the ``side`` x ``side`` patch at
    (``row``, ``col``)."""
    rgb = views.rgb_canvas(image)
    red = np.array([255, 0, 0], np.uint8)
    top, left = max(0, row - 1), max(0, col - 1)
    bottom, right = min(rgb.shape[0] - 1, row + side), min(rgb.shape[1] - 1, col + side)
    rgb[top, left:right + 1] = rgb[bottom, left:right + 1] = red
    rgb[top:bottom + 1, left] = rgb[top:bottom + 1, right] = red
    return rgb


def learned_weights(method: Method) -> int:
    """How many numbers ``method`` learned from training images: a network's or TNRD's
    weights, EPLL's Gaussian mixture; 0 for a method that learns nothing or learns only from
    the noisy image itself (K-SVD's dictionary)."""
    from denoisers.nets import inference

    if method.key == "epll":
        from denoisers import epll
        return epll.prior_size()
    name = method.key
    if method.family == LEARNED:  # one file per noise level: the one that runs at σ 25
        name += str(denoisers.unrolled.nearest_model(method.key, 25 / 255))
    return inference.weight_count(name) if inference.weights_path(name).exists() else 0


def tradeoff_points() -> dict[str, tuple[float, int, float]]:
    """Every method in the saved tables: (seconds at 512x512, learned weights, Set12 PSNR at
    σ = 25), by registry key."""
    measured = home_views.measured_set12()
    points = {}
    for method in denoisers.methods():
        seconds = timing.expected_seconds(method.key, (TIMED_SIDE, TIMED_SIDE), 25 / 255)
        if method.key in measured and seconds is not None:
            points[method.key] = (seconds, learned_weights(method), measured[method.key])
    return points


def weights_figure(points: dict[str, tuple[float, int, float]]) -> go.Figure:
    """Set12 PSNR against learned weights, on a log scale with 0 drawn at its left end."""
    names = [denoisers.get(key).name for key in points]
    counts = [weights for _, weights, _ in points.values()]
    x = [max(c, 1) for c in counts]
    quality = [q for _, _, q in points.values()]
    low, high = min(quality), max(quality)
    xy = [(np.log10(c) / 7, (q - low + 0.3) / (high - low + 0.6)) for c, q in zip(x, quality)]
    fig = go.Figure(go.Scatter(
        x=x, y=quality, text=names, mode="markers+text", customdata=counts,
        textposition=figures.label_places(xy, names), marker=dict(size=10),
        cliponaxis=False, hovertemplate="%{text}: %{y:.2f} dB, %{customdata:,} weights"
                                        "<extra></extra>"))
    ticks = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7]
    fig.update_xaxes(type="log", title="weights learned from training images (log scale)",
                     tickvals=ticks, ticktext=["0", "10", "100", "1k", "10k", "100k", "1M",
                                               "10M"], range=[-0.3, 7])
    fig.update_yaxes(title="Set12 PSNR at σ = 25 (dB)", range=[low - 0.3, high + 0.3])
    fig.update_layout(height=380, margin=dict(l=0, r=0, t=10, b=0), showlegend=False)
    return fig


def tradeoff(*, key: str) -> dict[str, tuple[float, int, float]]:
    """The trade-off in two charts from the saved tables: PSNR against learned weights, and
    against run time at 512x512; the points drawn, by key."""
    points = tradeoff_points()
    left, right = st.columns(2)
    with left:
        views.chart(weights_figure(points), key=f"{key}.weights")
    with right:
        views.chart(figures.tradeoff({denoisers.get(k).name: (s, q)
                                      for k, (s, _, q) in points.items()},
                                     y_title="Set12 PSNR at σ = 25 (dB)"), key=f"{key}.time")
    st.caption(f"Set12 PSNR from the saved quality tables; run time on a grey {TIMED_SIDE}x"
               f"{TIMED_SIDE} image from the speed benchmark (2-core CPU); weights counted in "
               "the committed files. 0 weights: nothing learned from other images (K-SVD "
               "learns its dictionary from the noisy image itself).")
    return points


def tradeoff_summary(points: dict[str, tuple[float, int, float]]) -> str:
    """The essay's question answered with the points: how much of the best network's lead
    over the best classical method each learned classical model recovers, with how many
    weights, at what speed."""
    family = {key: denoisers.get(key).family for key in points}
    classical = [k for k in points if family[k] not in (NETWORKS, LEARNED)]
    networks = [k for k in points if family[k] == NETWORKS]
    learned = [k for k in points if family[k] == LEARNED]
    if not (classical and networks and learned):
        return ("The learned classical models are not in the saved tables yet: "
                "`python -m benchmarks.quality --methods tnrd ... --out "
                "assets/benchmarks/unrolled` and `python -m benchmarks.speed` put them there.")
    best_classical = max(classical, key=lambda k: points[k][2])
    best_network = max(networks, key=lambda k: points[k][2])
    c, n = points[best_classical][2], points[best_network][2]
    lines = [f"On Set12 at σ = 25 the best classical method here, "
             f"{denoisers.get(best_classical).name}, gives **{c:.2f} dB** and the best network, "
             f"{denoisers.get(best_network).name}, **{n:.2f} dB** with "
             f"{points[best_network][1]:,} learned weights: a lead of {n - c:.2f} dB."]
    for key in learned:
        seconds, weights, quality = points[key]
        share = (quality - c) / (n - c) if n > c else float("nan")
        fewer = (f" ({points[best_network][1] / weights:.0f} times fewer)" if weights else "")
        lines.append(
            f"{denoisers.get(key).name} gives **{quality:.2f} dB** with {weights:,} weights"
            f"{fewer} in "
            f"{seconds:.2g} s at {TIMED_SIDE}x{TIMED_SIDE}: "
            + (f"{share:.0%} of that lead recovered." if share >= 0 else
               f"{c - quality:.2f} dB short of the best classical method."))
    return " ".join(lines)
