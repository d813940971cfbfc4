"""The PDE chapter's own views: the equations, each method's insides, two demonstrations."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st

import denoisers
from denoisers.core import Result
from denoisers.pde import tv

from . import compute, evolution_views, figures, links, memory, store, views
from .scene import Scene

#: Each method's equation, as the page writes it with ``st.latex``.
EQUATIONS = {
    "heat": r"\frac{\partial u}{\partial t} = \Delta u,\quad u(0) = f"
            r"\qquad\Longleftrightarrow\qquad u(t) = G_{\sqrt{2t}} * f",
    "perona_malik": r"\frac{\partial u}{\partial t} = \operatorname{div}"
                    r"\big(g(|\nabla u|)\,\nabla u\big),\qquad "
                    r"g(s) = e^{-(s/\kappa)^2}\ \text{or}\ \frac{1}{1 + (s/\kappa)^2}",
    "tv": r"\hat u = \arg\min_u\ \tfrac12 \|u - f\|_2^2 + \lambda \sum_{x} |\nabla u(x)|",
    "beltrami": r"\frac{\partial u^c}{\partial t} = \frac{1}{\sqrt g}\,\partial_\mu\!\left("
                r"\sqrt g\, g^{\mu\nu}\,\partial_\nu u^c\right),\qquad "
                r"g_{\mu\nu} = \delta_{\mu\nu} + \frac{\beta^2}{C} \sum_{c=1}^{C} "
                r"\partial_\mu u^c\,\partial_\nu u^c",
}


def inside(key: str, res: Result, scene: Scene) -> None:
    """The method's stages and its own curves, then what only this method has to show."""
    rest = {name: c for name, c in res.curves.items()
            if name not in evolution_views.EVOLUTION_CURVES}
    views.insides(replace(res, curves=rest), key=f"pde.{key}.insides")
    if key == "perona_malik":
        _flux(res)
    elif key == "heat":
        _heat_is_gaussian(res, scene)
    elif key == "tv":
        _staircase(scene.sigma)


def _flux(res: Result) -> None:
    """The edge-stopping function and the flux it lets through, with κ marked."""
    flux, stopping = res.extras["flux"], res.extras["diffusivity"]
    kappa = flux["kappa"]
    left, right = st.columns(2)
    with left:
        views.chart(figures.curves({"g(s)": stopping["g"]}, x=stopping["s"],
                                   x_title="gradient magnitude s", title="Edge-stopping g(s)",
                                   marks={"κ": kappa}), key="pde.flux.g")
    with right:
        views.chart(figures.curves({"s·g(s)": flux["flux"]}, x=flux["s"],
                                   x_title="gradient magnitude s",
                                   title="Flux s·g(s) across a step of gradient s",
                                   marks={"κ": kappa}), key="pde.flux.flux")
    st.caption("Up to its peak (κ/√2 for the exponential g, κ for the rational) the flux grows "
               "with the gradient: small steps, noise, are smoothed. Past the peak it falls: the "
               "larger a step, the less flows across it, so edges survive.")


@st.cache_data(max_size=memory.max_size("pde_views._heat_and_gaussian"),
               ttl=memory.ttl("pde_views._heat_and_gaussian"), show_spinner=False)
def _heat_and_gaussian(image_key: str, _image: np.ndarray, time: float
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The site's own heat flow for ``time`` and its own Gaussian smoothing of width
    sqrt(2 time), both on ``_image`` (sigma plays no part in either once they are set)."""
    return (denoisers.run("heat", _image, 0.0, time=time).image,
            denoisers.run("gaussian", _image, 0.0, width=float(np.sqrt(2 * time))).image)


def _heat_is_gaussian(res: Result, scene: Scene) -> None:
    """Heat flow for the method's time against the Gaussian of variance 2t, on the clean image."""
    image = scene.noisy if scene.clean is None else scene.clean
    time = float(res.extras["stop"])
    st.subheader("Heat flow is Gaussian blurring")
    width = {p.name: p for p in denoisers.get("gaussian").params}["width"]
    if not width.accepts(float(np.sqrt(2 * time))):
        st.info(f"At t = {time:.3g} the equivalent Gaussian, of width √(2t) = "
                f"{np.sqrt(2 * time):.2g}, lies outside the Gaussian filter's range "
                f"({width.low:g} to {width.high:g}): set the time by hand to compare them.")
        return
    with st.spinner("Comparing with a Gaussian blur…"):
        heat, gaussian = _heat_and_gaussian(scene.clean_key or scene.key, image, time)
    rms = float(np.sqrt(np.mean(np.square(heat - gaussian))))
    st.markdown(f"The {'clean' if scene.clean is not None else 'noisy'} image after heat flow "
                f"for t = {time:.3g} (this page's `heat`), beside the same image smoothed by the "
                f"local-filters chapter's `gaussian` of standard deviation √(2t) = "
                f"{np.sqrt(2 * time):.3g}: they differ by **{rms * 255:.2g}** grey levels (RMS, "
                f"0–255 scale).")
    views.compare({f"heat flow, t = {time:.3g}": heat,
                   f"Gaussian blur, σ = {np.sqrt(2 * time):.3g}": gaussian},
                  key="pde.heat.gaussian", width=600)


@st.cache_data(max_size=memory.max_size("pde_views._staircase_demo"),
               ttl=memory.ttl("pde_views._staircase_demo"), show_spinner=False)
def _staircase_demo(sigma: float) -> dict[str, np.ndarray]:
    return store.through("pde_views._staircase_demo", f"{sigma}",
                         lambda: tv.staircase_demo(sigma), keep=True)


def _staircase(sigma: float) -> None:
    """TV on a smooth noisy ramp: a flight of flat steps."""
    st.subheader("Staircasing")
    demo = _staircase_demo(round(max(sigma, 5 / 255), 6))
    views.chart(figures.curves({"clean ramp": demo["clean"], "noisy": demo["noisy"],
                                "TV": demo["tv"]},
                               x_title="column", y_title="grey level",
                               title="One row of a noisy ramp, and TV's answer"),
                key="pde.staircase")
    st.caption("TV keeps the ramp's overall rise but replaces its slope by flat steps: a step "
               "costs no more variation than the ramp it replaces, and fits the noise better.")



def edge_race(scene: Scene) -> None:
    """Heat and Perona–Malik (their defaults otherwise) run for the same time, one row of
    each beside the noisy and the clean row."""
    time = links.slider("Diffusion time t, for both", 0.5, 20.0, 5.0, 0.5, key="pde.edge.time",
                     help="Both equations run for this long; the longer, the clearer the "
                          "difference.")
    st.markdown(f"Both diffusions run for t = {time:g} (heat then equals a Gaussian blur of "
                f"width {np.sqrt(2 * time):.2g} pixels). Follow a row across an edge: heat "
                "rounds the step off, Perona–Malik keeps it steep while it flattens the noise "
                "on either side.")
    done = {denoisers.get(k).name: compute.result(denoisers.get(k), scene, {"time": time})
            for k in ("heat", "perona_malik")}
    reference = {"noisy": scene.noisy} if scene.clean is None else {"clean": scene.clean}
    evolution_views.scanlines({**reference, **{n: r.image for n, r in done.items()
                                               if r is not None}}, key="pde.scanline")
