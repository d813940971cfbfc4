"""Home: what the site is, the essay it tells, and the chapters."""

import streamlit as st

from ui import text, views
from ui.scene import current

st.title("Deep, Deep Trouble")
st.caption("A history of image denoising you can run — from linear filters to the "
           "networks that overtook them.")
text.story("home")

scene = current()
left, right = st.columns(2)
if scene.real:
    with left:
        views.show_image(scene.noisy, f"{scene.source} — already noisy (σ ≈ "
                                      f"{scene.sigma255:.1f}, estimated)")
else:
    with left:
        views.show_image(scene.clean, f"{scene.source} — clean")
    with right:
        views.show_image(scene.noisy, f"with noise: {scene.noise}")

st.subheader("The chapters")
st.page_link("chapters/noise_and_metrics.py", label="Noise and metrics — what we remove and how we score it",
             icon=":material/grain:")
st.page_link("chapters/local_filters.py",
             label="Local filters (1949–1998) — Gaussian, Wiener, median, bilateral",
             icon=":material/blur_linear:")
st.page_link("chapters/bm3d.py", label="BM3D (2007) — grouping and collaborative filtering, "
             "for years the reference to beat", icon=":material/view_in_ar:")
st.page_link("chapters/deep_learning.py",
             label="Deep learning takes over (2012–2021) — the networks, and a look inside "
                   "them", icon=":material/neurology:")
st.page_link("chapters/arena.py",
             label="Arena — the methods you choose, on your image, side by side",
             icon=":material/leaderboard:")
text.story("home_more")
