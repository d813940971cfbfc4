"""Arena: the methods the visitor chooses, any of those registered, on the current image."""

import streamlit as st

import denoisers
from ui import arena_views, compute, controls, errors, links, story, text, views
from ui.scene import current

st.title("Arena")
story.opening(__file__)
text.story("arena")
scene = current()

everything = {m.key: m for m in denoisers.methods()}
# The first choice: each family's latest method that runs live (methods() is in history's order).
first = {m.family: m.key for m in everything.values() if not m.slow}
chosen = links.multiselect(
    "Methods", list(everything), default=list(first.values()),
    format_func=lambda k: f"{everything[k].name} ({everything[k].year})",
    key="arena.methods", persist_state="session")

params: dict[str, dict] = {}
if chosen:
    with st.expander("Parameters"):
        columns = st.columns(min(len(chosen), 4))
        for i, key in enumerate(chosen):
            with columns[i % len(columns)]:
                st.markdown(f"**{everything[key].name}**")
                params[key] = controls.method_controls(everything[key], scene.sigma)

calls = {everything[k].name: compute.Call.of(everything[k], scene, params.get(k)) for k in chosen}
with errors.guard("The comparison"):
    results = compute.results(calls, scene, key="arena.run")
    if results:
        views.compare({**views.reference_panels(scene), **views.result_panels(scene, results)},
                      key="arena.compare", columns=min(4, 2 + len(results)))
        views.metrics_table(scene, results)
        views.tradeoff_chart(scene, results, key="arena.tradeoff")
        with errors.section("One crop in every result"):
            arena_views.crop_inspector(
                scene, {**views.reference_panels(scene), **views.result_panels(scene, results)},
                key="arena.crop")
        with errors.section("Method noise"):
            views.method_noise_panels(scene, results, key="arena.method_noise")
    elif not chosen:
        st.info("Choose one or more methods above.")

if chosen and not scene.real:
    with errors.section("PSNR against the noise level"):
        arena_views.sigma_sweep(scene, [everything[k] for k in chosen], params,
                                key="arena.sweep")

told = [k for k in chosen if not everything[k].blind]
if scene.real and chosen:
    with errors.section("Under- and over-smoothing"):
        st.markdown(
            f"Without a clean image, no number says which σ is right. The strip below runs one "
            f"method told σ between half and twice the estimate (σ ≈ {scene.sigma255:.1f}): too "
            "small leaves noise, too large wipes out texture. Judge with your eyes.")
        if not told:
            st.info("The methods chosen are all blind networks, which are told no σ: choose one "
                    "that is, a filter or FFDNet say, for the strip.")
        else:
            key = links.selectbox("Method for the strip (the blind networks, told no σ, are "
                                  "left out)", told, format_func=lambda k: everything[k].name,
                                  key="arena.strip")
            factors = (0.5, 0.75, 1.0, 1.5, 2.0)
            strip = {f"σ = {scene.sigma255 * f:.1f}" + (" (estimate)" if f == 1 else ""):
                     compute.Call.of(everything[key], scene, params.get(key),
                                     sigma=min(1.0, scene.sigma * f))
                     for f in factors}
            done = compute.results(strip, scene, key="arena.strip_run", what="for the strip")
            if done:
                views.compare({n: r.image for n, r in done.items()}, key="arena.strip_compare")

story.ending(__file__)
