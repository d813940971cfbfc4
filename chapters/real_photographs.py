"""Chapter: real photographs — noise that depends on the light, and grain over several
pixels."""

import streamlit as st

import denoisers
from ui import compute, errors, links, photo_views, story, text, views
from ui.scene import current, fitted_curve

st.title("Real photographs")
story.opening(__file__)
text.story("photographs_intro")
scene = current()


def _draw(noise: str, **settings: object) -> None:
    """Switch the sidebar to this site's ``noise`` (a camera's, or grain) on the clean image."""
    st.session_state.update(real=False, noise=noise, **settings)


with errors.section("How the noise depends on the light"):
    text.story("photographs_curve")
    fit = fitted_curve(scene.key, scene.noisy)
    photo_views.curve_chart(scene, fit, key="photos.curve")
    if fit.problem:
        st.info(fit.problem)

with errors.section("One σ against the curve"):
    text.story("photographs_compare")
    if scene.curve is None:
        st.info("The noise in use has one level everywhere (or the photo's curve could not be "
                "fitted), so one σ is all a method needs. Choose “A camera's” noise in the "
                "sidebar, or upload a photo and mark it already noisy.")
        st.button("Draw a camera's noise at night", key="photos.night", on_click=_draw,
                  args=("poisson_gaussian",), kwargs={"light": "night"},
                  icon=":material/nights_stay:")
    else:
        names = {denoisers.get(key).name: key for key in ("ffdnet", "drunet", "bm3d")}
        method = denoisers.get(names[links.selectbox(
            "Method", list(names), key="photos.method",
            help="The networks are told the curve's level at every pixel; BM3D runs on the "
                 "variance-stabilising transform, where the noise is white.")])
        calls = {"one σ": compute.Call.of(method, scene, one_sigma=True),
                 "the curve": compute.Call.of(method, scene)}
        done = compute.results(calls, scene, key="photos.run")
        if len(done) == len(calls):
            one, curved = done["one σ"], done["the curve"]
            views.compare({**views.reference_panels(scene), **views.result_panels(scene, done)},
                          key="photos.compare", columns=len(done) + 2 - scene.real)
            views.metrics_table(scene, done)
            dark, bright = photo_views.dark_and_bright(curved.image)
            st.markdown(photo_views.why(scene, one, curved, dark, bright))
            for window in (dark, bright):
                st.markdown(f"**The {window.name} part, enlarged**")
                photo_views.windows_compare(scene, one, curved, window,
                                            key=f"photos.{window.name}")
            if "stabilised" in curved.extras:
                st.caption(f"{method.name} with the curve: {curved.extras['stabilised']}.")

with errors.section("Grain over several pixels"):
    text.story("photographs_grain")
    found = photo_views.grain(scene)
    left, right = st.columns([1, 1])
    with left:
        photo_views.spectrum_chart(found, key="photos.spectrum")
    with right:
        st.markdown(photo_views.grain_sentence(found))
    if not found.correlated:
        st.button("Draw grain over several pixels", key="photos.grain", on_click=_draw,
                  args=("correlated",), icon=":material/grain:")
    else:
        bm3d = denoisers.get("bm3d")
        calls = {"BM3D, one σ (finest scale)": compute.Call.of(bm3d, scene,
                                                               sigma=found.white_sigma),
                 "BM3D, told the grain": compute.Call.of(
                     bm3d, scene, sigma=found.sigma, told=compute.Told.grain(found.covariance))}
        runs = compute.results(calls, scene, key="photos.grain.run", what="both ways")
        if len(runs) == len(calls):
            views.compare({**views.reference_panels(scene), **views.result_panels(scene, runs)},
                          key="photos.grain.compare", columns=len(runs) + 2 - scene.real)
            views.metrics_table(scene, runs)

text.story("photographs_end")
story.ending(__file__)
