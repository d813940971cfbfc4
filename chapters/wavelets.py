"""Chapter: wavelet shrinkage — VisuShrink, SureShrink, BayesShrink, cycle spinning."""

import streamlit as st

import denoisers
from ui import errors, method_view, story, text, views, wavelet_views
from ui.scene import current

st.title("Wavelets (1994–2000)")
story.opening(__file__)
text.story("wavelets_intro")
scene = current()

method = denoisers.get("wavelet")
st.caption(method.paper)

res = None
params = {}
with errors.section("Shrink the coefficients"):
    params, res = method_view.controls_and_result(method, scene, key="wavelets")
    if res is not None:
        views.metrics_table(scene, {method.name: res})
        views.parameters_used(res)

if res is not None:
    text.story("wavelets_inside")
    with errors.section("The coefficient pyramid, before and after"):
        wavelet_views.pyramid(res, key="wavelets.pyramid")
    with errors.section("A threshold for each subband"):
        wavelet_views.thresholds(res, scene, key="wavelets.thresholds")
    with errors.section("One subband and its threshold"):
        wavelet_views.histogram(res, scene, key="wavelets.histogram")
    with errors.section("Hard and soft shrinkage"):
        wavelet_views.shrinkage(res, key="wavelets.shrinkage")
    with errors.section("With and without cycle spinning"):
        text.story("wavelets_spinning")
        wavelet_views.spinning(method, scene, params, key="wavelets.spinning")

story.model(__file__)
story.ending(__file__)
