"""Deep, Deep Trouble — the entry point: navigation, the shared sidebar, the page.

Run with ``make run`` (or ``streamlit run app.py`` inside the virtualenv).
"""

from __future__ import annotations

import pandas  # noqa: F401  (see below)
import streamlit as st

from ui import errors, present, scene, viewport, waiting

# pandas, and the pyarrow it loads, are imported above, by the first script run of the process
# and before any page: imported on first use instead, by the tables of several sessions at
# once, one thread came through pandas and another through pyarrow, the two imports waited on
# each other, and Python broke the cycle by handing one of them a half-made pandas ("partially
# initialized module 'pandas' has no attribute 'Series'"): an error on a chapter, seen in
# tests/test_load.py with three sessions opening it together after a start. Importing them
# costs about 0.3 s, once per process.

st.set_page_config(page_title="Deep, Deep Trouble", page_icon=":material/blur_on:",
                   layout="wide")

PAGES = {
    "": [
        st.Page("chapters/home.py", title="Deep, Deep Trouble", icon=":material/home:",
                default=True),
    ],
    "Chapters": [
        st.Page("chapters/noise_and_metrics.py", title="Noise and metrics",
                icon=":material/grain:", url_path="noise"),
        st.Page("chapters/local_filters.py", title="Local filters (1949–1998)",
                icon=":material/blur_linear:", url_path="local-filters"),
        st.Page("chapters/pde.py", title="Diffusion and TV (1990–2004)",
                icon=":material/waves:", url_path="pde"),
        st.Page("chapters/wavelets.py", title="Wavelets (1994–2000)",
                icon=":material/stacked_line_chart:", url_path="wavelets"),
        st.Page("chapters/sparsity.py", title="Sparse models (1996–2006)",
                icon=":material/apps:", url_path="sparsity"),
        st.Page("chapters/nonlocal_means.py", title="Non-local means (2005)",
                icon=":material/join_inner:", url_path="nonlocal-means"),
        st.Page("chapters/bm3d.py", title="BM3D, the classical summit (2007)",
                icon=":material/view_in_ar:", url_path="bm3d"),
        st.Page("chapters/patch_priors.py", title="Patch priors (2011–2014)",
                icon=":material/stacks:", url_path="patch-priors"),
        st.Page("chapters/deep_learning.py", title="Deep learning (2012–2021)",
                icon=":material/neurology:", url_path="deep-learning"),
        st.Page("chapters/fighting_back.py", title="Fighting back (2015–2021)",
                icon=":material/model_training:", url_path="fighting-back"),
        st.Page("chapters/epilogue.py", title="Denoisers as priors (2013–2021)",
                icon=":material/auto_fix_high:", url_path="prior"),
        st.Page("chapters/real_photographs.py", title="Real photographs",
                icon=":material/photo_camera:", url_path="real-photographs"),
    ],
    "Compare": [
        st.Page("chapters/arena.py", title="Arena", icon=":material/leaderboard:",
                url_path="arena"),
    ],
    "Sources": [
        st.Page("chapters/references.py", title="References", icon=":material/menu_book:",
                url_path="references"),
    ],
}

page = st.navigation(PAGES, expanded=True)  # every title, "View more" folds none away
waiting.pin()
with waiting.busy("Working…", key="page"):
    chosen = None
    with st.sidebar:
        present.switch()
    present.style()
    with errors.guard("The image and noise settings"):
        chosen = scene.sidebar()
    if chosen is not None:
        # What the sidebar could not do (a bad upload) is said at the top of every page too.
        scene.show_messages(chosen)
    viewport.watch()
    with errors.guard(page.title):
        page.run()
