"""Chapter: sparse representations — the sliding-window DCT (1996) to K-SVD (2006)."""

import streamlit as st

import denoisers
from ui import (
    compute,
    controls,
    errors,
    figures,
    method_view,
    probe,
    sparsity_views,
    story,
    text,
    views,
)
from ui.scene import current

st.title("Sparse models (1996–2006)")
story.opening(__file__)
text.story("sparsity_intro")
scene = current()

with errors.section("A fixed dictionary: the sliding-window DCT (1996)"):
    dct = denoisers.get("dct")
    text.story("sparsity_dct")
    st.caption(dct.paper)
    left, right = st.columns([1, 2])
    with left:
        sparsity_views.dct_atoms_picture()
        dct_params = controls.method_controls(dct, scene.sigma)
    with right:
        dct_res = compute.result(dct, scene, dct_params, trace=True)
        views.compare({**views.reference_panels(scene),
                       **views.result_panels(scene, {dct.name: dct_res})},
                      key="sparsity.dct.compare", width=600)
    views.one_result(scene, dct.name, dct_res)
    left, right = st.columns(2)
    with left:
        views.heatmap(dct_res.stages["coefficients kept per block"],
                      title="coefficients kept per block (at its top-left pixel)",
                      height=420, key="sparsity.dct.kept")
    with right:
        x_title, x = dct_res.extras["curve_x"]
        st.plotly_chart(figures.curves(dct_res.curves, x=x, x_title=x_title,
                                       y_title="blocks (%)",
                                       title="how many coefficients the blocks keep"),
                        key="sparsity.dct.histogram")

with errors.section("One block, from the inside"):
    st.markdown("Click the image to choose a block: its DCT is taken, thresholded and "
                "inverted again from the run above, without rerunning it.")
    probe.inside(compute.Call.of(dct, scene, dct_params, trace=True), scene, dct_res,
                 key="sparsity.dct.probe",
                 draw=lambda seen, pixel, pick: sparsity_views.block_views(
                     scene.noisy, seen, pick, key="sparsity.dct.block"))

ksvd = denoisers.get("ksvd")
res = None
with errors.section("A learned dictionary: K-SVD (2006)"):
    text.story("sparsity_ksvd")
    st.caption(ksvd.paper)
    params, res = method_view.controls_and_result(ksvd, scene, key="sparsity.ksvd")
    if res is not None:
        views.one_result(scene, ksvd.name, res)

if res is not None:
    with errors.section("The dictionary, before and after learning"):
        text.story("sparsity_atoms")
        sparsity_views.dictionaries(res)
        sparsity_views.learning_curves(res, key="sparsity.ksvd.curves")
    with errors.section("How sparse each patch is"):
        sparsity_views.atoms_map(res, key="sparsity.ksvd.atoms")
    with errors.section("One patch and its code"):
        sparsity_views.patch_code(scene.noisy, res.extras["patch"])

with errors.section("Learned against fixed"):
    text.story("sparsity_learned")
    calls = {label: compute.Call.of(ksvd, scene, {**params, "learn": learn}, trace=True)
             for label, learn in (("K-SVD, learned dictionary", True),
                                  ("fixed overcomplete DCT", False))}
    done = compute.results(calls, scene, key="sparsity.versus",
                           what="with and without learning")
    if len(done) == len(calls):
        views.compare({**views.reference_panels(scene), **views.result_panels(scene, done)},
                      key="sparsity.versus.compare", columns=4)
        views.metrics_table(scene, done)
        if not scene.real:
            learned, fixed = views.psnrs(scene, done).values()
            st.markdown(f"Here learning the dictionary changes the PSNR by "
                        f"**{learned - fixed:+.2f} dB** ({text.db(fixed)} in the fixed DCT, "
                        f"{text.db(learned)} learned).")
        else:
            st.caption("An uploaded photo has no clean image to measure against: compare them "
                       "by eye.")

story.model(__file__)
story.ending(__file__)
