"""Chapter: low rank and patch priors — EPLL (2011) and WNNM (2014), the last classical
refinements."""

import streamlit as st

import denoisers
from ui import compute, epll_views, errors, method_view, probe, story, text, views, wnnm_views
from ui.scene import current

st.title("Patch priors (2011–2014)")
story.opening(__file__)
text.story("priors_intro")
scene = current()

epll_method = denoisers.get("epll")
epll_res = None
with errors.section("A prior learned from clean patches: EPLL (2011)"):
    text.story("priors_epll")
    st.caption(epll_method.paper)
    epll_scene = method_view.sized(epll_method, scene, key="priors.epll")
    method_view.waiting_note(epll_method, epll_scene)
    epll_params, epll_res = method_view.controls_and_result(epll_method, epll_scene,
                                                            key="priors.epll", whole=scene)
    if epll_res is not None:
        views.one_result(epll_scene, epll_method.name, epll_res)

if epll_res is not None:
    with errors.section("What the prior believes patches look like"):
        epll_views.prior_picture(epll_res)
    with errors.section("Half-quadratic splitting, step by step"):
        epll_views.steps(epll_res, epll_scene.clean is not None, key="priors.epll")
    with errors.section("The component each patch chose"):
        epll_views.component_map(epll_res, key="priors.epll.components")
    with errors.section("One patch, from the inside"):
        st.markdown("Click the image to choose a patch: its last step is repeated from the "
                    "run above (the component it picks, the posterior over all of them, its "
                    "Wiener estimate), without rerunning EPLL.")
        probe.inside(compute.Call.of(epll_method, epll_scene, epll_params, trace=True),
                     epll_scene, epll_res, key="priors.epll.probe",
                     draw=lambda seen, pixel, pick: epll_views.patch_views(epll_scene.noisy,
                                                                           seen, pick))

wnnm = denoisers.get("wnnm")
wnnm_res = None
with errors.section("Similar patches make a low-rank matrix: WNNM (2014)"):
    text.story("priors_wnnm")
    st.caption(wnnm.paper)
    wnnm_scene = method_view.sized(wnnm, scene, key="priors.wnnm")
    method_view.waiting_note(wnnm, wnnm_scene)
    wnnm_params, wnnm_res = method_view.controls_and_result(wnnm, wnnm_scene, key="priors.wnnm",
                                                            whole=scene)
    if wnnm_res is not None:
        views.one_result(wnnm_scene, wnnm.name, wnnm_res)

if wnnm_res is not None:
    with errors.section("WNNM, round by round"):
        wnnm_views.iteration_curves(wnnm_res, key="priors.wnnm.curves")
        wnnm_views.rank_map(wnnm_res, key="priors.wnnm.ranks")
    with errors.section("One group and its singular values"):
        st.markdown("Click the image to choose a reference patch (the patch of the grid "
                    "nearest the pixel): its group is matched and shrunk again from the last "
                    "round's input, without rerunning WNNM.")
        probe.inside(compute.Call.of(wnnm, wnnm_scene, wnnm_params, trace=True), wnnm_scene,
                     wnnm_res, key="priors.wnnm.probe",
                     draw=lambda seen, pixel, pick: wnnm_views.group_views(
                         wnnm_scene.noisy, seen, pick, key="priors.wnnm.group"))

story.model(__file__)
story.ending(__file__)
