"""Home: what the site is, the essay it tells, and the chapters."""

import streamlit as st

from ui import errors, home_views, story, text
from ui.scene import current

st.title("Deep, Deep Trouble")
story.slide_bar(__file__)
st.caption("A history of image denoising you can run — from linear filters to the "
           "networks that overtook them.")
text.story("home")

scene = current()
with errors.section("The essay's Figure 2, on this image"):
    home_views.figure2(scene, key="home.figure2")
with errors.section("Every method, by year and by score"):
    home_views.timeline(key="home.timeline")

st.subheader("The chapters")
#: What each chapter holds, beside its title (the titles and the order are the navigation's).
TAGLINES = {
    "noise_and_metrics": "what we remove and how we score it",
    "local_filters": "Gaussian, Wiener, median, bilateral",
    "pde": "the heat equation, Perona–Malik, total variation, the Beltrami flow",
    "wavelets": "keep the large coefficients, shrink the small",
    "sparsity": "the sliding DCT and K-SVD's learned dictionary",
    "nonlocal_means": "average the pixels whose patches look alike",
    "bm3d": "grouping and collaborative filtering, for years the reference to beat",
    "patch_priors": "EPLL and WNNM, the classical field's last refinements",
    "deep_learning": "the networks, and a look inside them",
    "fighting_back": "TNRD and Deep K-SVD: classical models whose free choices are learned",
    "epilogue": "deblurring, inpainting, super-resolution, demosaicing, and images drawn "
                "from a denoiser",
    "real_photographs": "a camera's noise, which grows with the light, and grain over several "
                        "pixels: measured in the image and told to the methods",
    "arena": "the methods you choose, on your image, side by side",
}
for chapter in story.chapters():
    tagline = TAGLINES.get(chapter.name)
    st.page_link(chapter.script, label=f"{chapter.title} — {tagline}" if tagline else chapter.title)
text.story("home_more")
