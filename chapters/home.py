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
CHAPTERS = (
    ("noise_and_metrics", "Noise and metrics — what we remove and how we score it", "grain"),
    ("local_filters", "Local filters (1949–1998) — Gaussian, Wiener, median, bilateral",
     "blur_linear"),
    ("pde", "Diffusion and variation (1990–2004) — the heat equation, Perona–Malik, total "
            "variation, the Beltrami flow", "waves"),
    ("wavelets", "Wavelets (1994–2000) — keep the large coefficients, shrink the small",
     "stacked_line_chart"),
    ("sparsity", "Sparse representations (1996–2006) — the sliding DCT and K-SVD's learned "
                 "dictionary", "apps"),
    ("nonlocal_means", "Non-local means (2005) — average the pixels whose patches look alike",
     "join_inner"),
    ("bm3d", "BM3D (2007) — grouping and collaborative filtering, for years the reference "
             "to beat", "view_in_ar"),
    ("patch_priors", "Low rank and patch priors (2011–2014) — EPLL and WNNM, the classical "
                     "field's last refinements", "stacks"),
    ("deep_learning", "Deep learning takes over (2012–2021) — the networks, and a look inside "
                      "them", "neurology"),
    ("epilogue", "The denoiser as a prior (2013–2021) — deblurring, inpainting, "
                 "super-resolution, demosaicing, and images drawn from a denoiser",
     "auto_fix_high"),
    ("arena", "Arena — the methods you choose, on your image, side by side", "leaderboard"),
)
for page, label, icon in CHAPTERS:
    st.page_link(f"chapters/{page}.py", label=label, icon=f":material/{icon}:")
text.story("home_more")
