"""Chapter: fighting back (2015-2021) — classical models whose free choices are learned."""

import streamlit as st

import denoisers
from ui import compute, errors, method_view, probe, story, text, unrolled_views, views
from ui.scene import current

st.title("Fighting back (2015–2021)")
story.opening(__file__)
text.story("fighting_intro")
scene = current()

with errors.section("TNRD: Perona–Malik, learned"):
    text.story("fighting_tnrd")
    st.latex(unrolled_views.TNRD_EQUATION)
    st.page_link("chapters/pde.py", label="Perona–Malik's flow: Diffusion and TV (1990–2004)",
                 icon=":material/waves:")
    tnrd, classical = denoisers.get("tnrd"), denoisers.get("perona_malik")
    st.caption(tnrd.paper)
    calls = {m.name: compute.Call.of(m, scene, trace=True) for m in (classical, tnrd)}
    done = compute.results(calls, scene, key="fighting.tnrd.run")
    if done:
        views.metrics_table(scene, done)
    res = done.get(tnrd.name)
    if res is not None and "tnrd" not in res.extras:
        st.info(unrolled_views.NO_NOISE)
    elif res is not None:
        stage = unrolled_views.stage_picker(res, key="fighting.tnrd.stage")
        unrolled_views.stages(scene, res, stage, key="fighting.tnrd.stages")
        st.subheader("The same computation, learned")
        text.story("fighting_tnrd_inside")
        unrolled_views.influence(res, stage, scene.sigma, key="fighting.tnrd.inside")
        if "note" in res.extras:
            st.caption(f"{tnrd.name}: {res.extras['note']}.")

with errors.section("Deep K-SVD: K-SVD, learned"):
    text.story("fighting_deep_ksvd")
    st.latex(unrolled_views.DEEP_KSVD_EQUATION)
    st.page_link("chapters/sparsity.py", label="K-SVD: Sparse models (1996–2006)",
                 icon=":material/apps:")
    deep, ksvd = denoisers.get("deep_ksvd"), denoisers.get("ksvd")
    st.caption(deep.paper)
    board = method_view.sized([ksvd, deep], scene, key="fighting.dksvd")
    calls = {m.name: compute.Call.of(m, board, trace=True) for m in (ksvd, deep)}
    done = compute.results(calls, board, key="fighting.dksvd.run")
    if board is not scene:
        st.caption(method_view.crop_note("K-SVD and Deep K-SVD", board, scene, done=bool(done)))
    if done:
        views.compare({**views.reference_panels(board), **views.result_panels(board, done)},
                      key="fighting.dksvd.compare", columns=2 + len(done))
        views.metrics_table(board, done)
    if len(done) == len(calls) and "deep_ksvd" not in done[deep.name].extras:
        st.info(unrolled_views.NO_NOISE)
    elif len(done) == len(calls):
        learned, classical_run = done[deep.name], done[ksvd.name]
        st.subheader("What each learned")
        unrolled_views.dictionaries(classical_run, learned, key="fighting.dksvd")
        unrolled_views.thresholds(learned, key="fighting.dksvd")
        st.subheader("One patch, coded twice")
        probe.inside(calls[deep.name], board, learned, key="fighting.dksvd.probe",
                     draw=lambda seen, pixel, pick: unrolled_views.codes(
                         board, seen, classical_run, pixel, pick, key="fighting.dksvd"))
        if "note" in learned.extras:
            st.caption(f"{deep.name}: {learned.extras['note']}.")

with errors.section("The trade-off in one picture"):
    text.story("fighting_tradeoff")
    points = unrolled_views.tradeoff(key="fighting.tradeoff")
    st.markdown(unrolled_views.tradeoff_summary(points))

text.story("fighting_end")
story.ending(__file__)
