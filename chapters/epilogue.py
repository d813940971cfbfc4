"""Epilogue: the denoiser as a prior — plug-and-play restoration and sampling (2013–2021)."""

import streamlit as st

from ui import errors, inverse_views, story, text, views
from ui.scene import current

st.title("Denoisers as priors (2013–2021)")
story.opening(__file__)
text.story("prior_intro")
scene = current()

problem = None
results: dict = {}
with errors.section("One denoiser, every inverse problem"):
    text.story("prior_pnp")
    name = inverse_views.problem_choice(key="prior")
    left, right = st.columns([1, 2])
    with left:
        settings = inverse_views.problem_controls(name, key="prior")
        chosen = inverse_views.clean_image(scene, name, key="prior")
        if chosen is not None:
            solver, params = inverse_views.solver_controls(name, settings, key="prior")
    if chosen is not None:
        with right:
            # The priors' names and the size switch's label (the full size's expected time)
            # show whole in the wide column.
            priors = inverse_views.prior_choice(key="prior")
            image = inverse_views.working_image(chosen[0], name, priors, params, key="prior")
            problem = inverse_views.setup(name, settings, image, keep=chosen[2])
            height, width = image.shape[:2]
            where = ("" if image.shape == chosen[0].shape else
                     f", on its centre {width}x{height} (the switch above gives the full "
                     "size)")
            st.caption(f"{problem.title} of {chosen[1]}{where}. The sidebar's noise is not "
                       "used here: each problem adds its own (none but deblurring's by "
                       "default).")
            baseline = inverse_views.baseline(problem)
            results = inverse_views.restorations(problem, priors, solver, params,
                                                 key="prior.run")
            views.metrics_table(inverse_views.scored(scene, problem), {**baseline, **results},
                                input_name="degraded input")
        inverse_views.compare(scene, problem, {**baseline, **results}, key="prior.compare")

if results:
    with errors.section("Iteration by iteration"):
        text.story("prior_iterations")
        inverse_views.iterations(results, key="prior.iterations")

with errors.section("Why a denoiser is a prior"):
    text.story("prior_tweedie")

with errors.section("Drawing images from a denoiser"):
    text.story("prior_sampling")
    if problem is None:
        st.info("The samples that keep measurements need the problem above: pick a colour "
                "image for demosaicing, or another problem.")
    else:
        side, start_seed, sampler = inverse_views.sampling_controls(key="prior.sample")
        constraint, said = inverse_views.constrained_problem(problem)
        free, kept = inverse_views.samples(side, start_seed, sampler, constraint,
                                           key="prior.sample.run")
        if free:
            st.markdown(f"**From pure noise, on a {side}x{side} canvas**")
            inverse_views.sample_row(free)
            st.markdown("**Keeping the measurements**")
            st.caption(said)
            inverse_views.sample_row(kept, first={"degraded": constraint.shown,
                                                  "clean": constraint.clean})
            text.story("prior_spread")
            st.markdown("**One climb, step by step** (the first unconstrained sample)")
            inverse_views.trajectory(next(iter(free.values())), key="prior.sample.path")

text.story("prior_end")

story.ending(__file__)
