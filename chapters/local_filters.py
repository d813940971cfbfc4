"""Chapter: local filters — Gaussian, Wiener, median, bilateral — and their insides."""

import streamlit as st

import denoisers
from ui import compute, errors, links, method_view, probe, story, text, views
from ui.scene import current

KEYS = ("gaussian", "wiener", "median", "bilateral")

st.title("Local filters (1949–1998)")
story.opening(__file__)
text.story("local_filters")
scene = current()


methods = {key: denoisers.get(key) for key in KEYS}
key = links.segmented_control("Method", KEYS, default=KEYS[0], key="local.method",
                              format_func=lambda k: methods[k].name, persist_state="session")
method = methods[key]
st.markdown(f"**{method.name}** — {method.idea}")
st.caption(f"{method.paper}")

params, res = method_view.controls_and_result(method, scene, key="local")
if res is not None:
    views.metrics_table(scene, {method.name: res})
    views.parameters_used(res)
    with errors.section("Inside the method"):
        if method.probe:
            call = compute.Call.of(method, scene, params, trace=True)
            probe.inside(call, scene, res, key=f"local.{key}.probe")
        else:
            views.insides(res, key=f"local.{key}")

story.model(__file__)
story.ending(__file__)
