"""Chapter: BM3D and CBM3D (2007), grouping plus collaborative filtering."""

import streamlit as st

import denoisers
from denoisers import metrics
from ui import bm3d_views, compute, controls, errors, probe, story, text, views
from ui.scene import current, with_gaussian_noise

st.title("BM3D, the classical summit (2007)")
story.opening(__file__)
text.story("bm3d_intro")
scene = current()
method = denoisers.get("bm3d")

left, right = st.columns([1, 2])
with left:
    params = controls.method_controls(method, scene.sigma)
with right:
    res = compute.result(method, scene, params, trace=True)
    if res is not None:
        basic, final = res.stages["basic estimate"], res.stages["final estimate"]
        views.compare({**views.reference_panels(scene),
                       **{(f"{name} — {text.db(metrics.psnr(scene.clean, image))}"
                           if not scene.real else name): image
                          for name, image in (("stage 1: basic", basic),
                                              ("stage 2: final", final))}},
                      key="bm3d.compare", width=600, columns=2)
if res is not None:
    if "colour" in res.extras:
        st.caption(res.extras["colour"])
    st.caption(f"Profile used: {res.extras['profile']}. Run time {res.seconds:.1f} s.")

    with errors.section("One group, from the inside"):
        st.markdown("Click the image to choose the reference block (the grid block nearest "
                    "the pixel): its groups are found and filtered again for that block alone, "
                    "from the run above.")
        probe.inside(compute.Call.of(method, scene, params, trace=True), scene, res,
                     key="bm3d.probe",
                     draw=lambda seen, pixel, pick: bm3d_views.group_views(scene.noisy, seen, pick))
        views.heatmap(res.stages["aggregation weights"],
                      title="stage 2 aggregation weights: how much evidence each pixel received",
                      key="bm3d.weights")

with errors.section("The essay's Figure 2, and the argument in four pictures"):
    text.story("bm3d_figure2")
    if scene.real:
        st.info("Figure 2 needs a clean image: switch off \"The image is already noisy\".")
    else:
        figure = with_gaussian_noise(scene, 100)
        nets = [m for m in denoisers.methods("Deep learning") if not m.slow]
        best_net = max(nets, key=lambda m: m.year) if nets else None
        calls = {m.name: compute.Call.of(m, figure) for m in (method, best_net) if m is not None}
        done = compute.results(calls, figure, key="bm3d.figure2", what="at σ = 100")
        if done:
            views.compare({"clean": figure.clean,
                           f"σ = 100 — {text.db(metrics.psnr(figure.clean, figure.noisy))}":
                               figure.noisy,
                           **views.result_panels(figure, done)}, key="bm3d.figure2.compare",
                          columns=4)
            if best_net is not None:
                st.caption(f"The network is {best_net.name} ({best_net.year}), the most recent "
                           "one this site has trained; the same seed, so the same noise, for "
                           "both.")

story.ending(__file__)
