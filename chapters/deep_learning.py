"""Chapter: deep learning takes over (2012-2021), and a look inside the network."""

import numpy as np
import streamlit as st

import denoisers
from denoisers import metrics
from ui import (
    compute,
    controls,
    digits_views,
    errors,
    figures,
    links,
    method_view,
    network_views,
    probe,
    story,
    text,
    views,
)
from ui.scene import current

st.title("Deep learning (2012–2021)")
story.opening(__file__)
text.story("deep_intro")
scene = current()

# Drawn only while open (the page reruns as it opens, from the caches): folded, its charts
# and pictures cost the browser nothing when the chapter opens.
interlude = st.expander("Interlude — what a neural network is (the essay's Figure 1)",
                        expanded=False, key="deep.interlude", on_change="rerun")
with interlude:
    if interlude.open:
        text.story("deep_network")
        with errors.guard("The digits interlude"):
            digits_views.interlude(key="deep.digits")

nets = {m.key: m for m in denoisers.methods(denoisers.nets.FAMILY)}
# The methods before the networks: the learned classical models come in the next chapter.
classical = {m.key: m for m in denoisers.methods()
             if m.family not in (denoisers.nets.FAMILY, denoisers.unrolled.FAMILY)}

results: dict = {}
with errors.section("The networks on your image"):
    # Traced, as "Inside one network" below asks: choosing a network there shows the run
    # made here instead of running it again.
    calls = {m.name: compute.Call.of(m, scene, trace=True) for m in nets.values()}
    results = compute.results(calls, scene, key="deep.run")
    if results:
        views.compare({**views.reference_panels(scene), **views.result_panels(scene, results)},
                      key="deep.compare", columns=min(4, 2 + len(results)))
        for name, res in results.items():
            if "note" in res.extras:
                st.caption(f"{name}: {res.extras['note']}.")

with errors.section("Inside one network"):
    text.story("deep_inside")
    key = links.segmented_control("Network", list(nets),
                                  default="dncnn_bf" if "dncnn_bf" in nets else None,
                                  format_func=lambda k: nets[k].name, key="deep.net",
                                  persist_state="session")
    with st.expander(f"{nets[key].name}'s settings"):
        params = controls.method_controls(nets[key], scene.sigma)
    res = compute.result(nets[key], scene, params, trace=True)
    if res is not None:
        noise_panels = {"predicted noise": res.stages["predicted noise"]}
        if not scene.real:
            noise_panels["true noise"] = scene.noisy - scene.clean
        spread = 3 * max(scene.sigma, 1 / 255)
        views.compare({n: figures.signed_to_display(v, spread) for n, v in noise_panels.items()},
                      key="deep.noise", columns=2)
        st.caption("What the network removed beside what was added (mid-grey is 0). Where the "
                   "predicted noise shows edges, the network mistook image for noise.")
        probe.inside(compute.Call.of(nets[key], scene, params, trace=True), scene, res,
                     key="deep.probe",
                     draw=lambda seen, pixel, pick: network_views.inside(
                         scene.noisy, scene.sigma, seen, pixel, pick, key="deep"))

if not scene.real:
    with errors.section("Blind versus told"):
        text.story("deep_blind")
        factors = np.round(np.geomspace(0.5, 2.0, 7), 3)
        # Slow methods (BM3D, the perceptron) are left out: seven runs of each would take a
        # minute.
        told = {k: m for k, m in {**nets, **classical}.items() if not m.blind and not m.slow}
        if links.run_asked("deep.sweep.go") or st.button(
                "Measure PSNR against the σ told", key="deep.sweep.go",
                icon=":material/show_chart:"):
            st.session_state["deep.sweep"] = scene.key
        links.record_run("deep.sweep.go", st.session_state.get("deep.sweep") == scene.key)
        if st.session_state.get("deep.sweep") == scene.key:
            sweep = {f"{k}@{f}": compute.Call.of(m, scene, sigma=min(1.0, scene.sigma * f))
                     for k, m in told.items() for f in factors}
            done = compute.results(sweep, scene, key="deep.sweep.run")
            series = {m.name: [metrics.psnr(scene.clean, done[f"{k}@{f}"].image) for f in factors]
                      for k, m in told.items()}
            for m in nets.values():
                if m.blind and m.name in results:
                    psnr = metrics.psnr(scene.clean, results[m.name].image)
                    series[f"{m.name} (blind)"] = [psnr] * len(factors)
            st.plotly_chart(figures.curves(series, x=factors, x_title="σ told / true σ",
                                           y_title="PSNR (dB)"), key="deep.sweep.chart")

with errors.section("The scoreboard"):
    board = method_view.sized(list({**classical, **nets}.values()), scene, key="deep.score")
    everything = {m.name: compute.Call.of(m, board) for m in {**classical, **nets}.values()}
    scored = compute.results(everything, board, key="deep.score")
    if board is not scene:
        st.caption(method_view.crop_note("The scoreboard", board, scene, done=bool(scored)))
    if scored:
        views.metrics_table(board, scored)
        views.tradeoff_chart(board, scored, key="deep.tradeoff")
        if not board.real:
            psnr = views.psnrs(board, scored)
            network_names = {m.name for m in nets.values()}
            best_net = max((n for n in psnr if n in network_names), key=psnr.get, default=None)
            best_classical = max((n for n in psnr if n not in network_names), key=psnr.get,
                                 default=None)
            if best_net and best_classical:
                winner, other = sorted((best_net, best_classical), key=psnr.get, reverse=True)
                # Only the losing side's unrun methods could change the margin.
                pending = [name for name in everything if name not in scored
                           and (name in network_names) == (winner == best_classical)]
                kind = "classical method" if winner == best_net else "network"
                st.markdown(f"On this image **{winner}** wins, {psnr[winner] - psnr[other]:.2f} "
                            f"dB above the best {kind}{' run so far' if pending else ''}: "
                            f"{other}."
                            + (f" {', '.join(pending)} {'waits' if len(pending) == 1 else 'wait'} "
                               "on the button above." if pending else ""))
text.story("deep_trouble")

story.ending(__file__)
