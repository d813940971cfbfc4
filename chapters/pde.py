"""Chapter: PDEs and energy minimisation — heat, Perona–Malik, total variation, Beltrami."""

import streamlit as st

import denoisers
from ui import errors, evolution_views, links, method_view, pde_views, story, text, views
from ui.scene import current

KEYS = ("heat", "perona_malik", "tv", "beltrami")

st.title("Diffusion and TV (1990–2004)")
story.opening(__file__)
text.story("pde_intro")
scene = current()

methods = {key: denoisers.get(key) for key in KEYS}
key = links.segmented_control("Method", KEYS, default=KEYS[0], key="pde.method",
                              format_func=lambda k: methods[k].name, persist_state="session")
method = methods[key]
text.story(f"pde_{key}")
st.latex(pde_views.EQUATIONS[key])
st.caption(method.paper)

_, res = method_view.controls_and_result(method, scene, key="pde")
if res is not None:
    views.metrics_table(scene, {method.name: res})
    views.parameters_used(res)
    with errors.section("The evolution"):
        text.story("pde_converging" if key == "tv" else "pde_stopping")
        evolution_views.evolution(res, key=f"pde.{key}.evolution")
    with errors.section("Inside the method"):
        pde_views.inside(key, res, scene)

with errors.section("Across an edge: heat blurs it, Perona–Malik keeps it"):
    pde_views.edge_race(scene)

story.model(__file__)
story.ending(__file__)
