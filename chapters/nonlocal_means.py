"""Chapter: non-local means (2005) — similar patches rather than similar pixels."""

import streamlit as st

import denoisers
from ui import compute, errors, method_view, nonlocal_views, probe, story, text, views
from ui.scene import current

st.title("Non-local means (2005)")
story.opening(__file__)
text.story("nonlocal_intro")
scene = current()
method = denoisers.get("nlm")
bilateral = denoisers.get("bilateral")

st.caption(method.paper)
params, res = method_view.controls_and_result(method, scene, key="nlm")
if res is not None:
    views.one_result(scene, method.name, res)

    with errors.section("Similar patches, not similar pixels"):
        text.story("nonlocal_pixel")
        bilateral_res = compute.result(bilateral, scene, trace=True)
        bilateral_call = compute.Call.of(bilateral, scene, trace=True)
        probe.inside(
            compute.Call.of(method, scene, params, trace=True), scene, res, key="nlm.probe",
            draw=lambda seen, pixel, pick: nonlocal_views.pixel_views(
                scene.noisy, seen, bilateral_call.look(scene.noisy, bilateral_res, pixel),
                pixel, pick, key="nlm.pixel"))
        both = {method.name: res, bilateral.name: bilateral_res}
        views.compare(views.result_panels(scene, both), key="nlm.versus", columns=2)
        views.metrics_table(scene, both)

    with errors.section("Method noise: what each method removed"):
        text.story("nonlocal_method_noise")
        views.method_noise_panels(scene, both, key="nlm.method_noise")
        views.heatmap(res.stages["weight found"],
                      title="NL-means: the weight each pixel found in its window "
                            "(a pixel within the noise counts 1, itself included)",
                      height=420, key="nlm.found")
        st.caption("Bright: many look-alikes, so much noise averaged away (flat areas, long "
                   "edges). Dark: a patch unique in its window (corners, fine detail), which "
                   "keeps most of its noise.")

with errors.section("The cost, and what came next"):
    text.story("nonlocal_cost")

story.model(__file__)
story.ending(__file__)
