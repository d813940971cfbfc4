"""Chapter: what noise is, how its level is estimated, how results are scored.

Everything this page computes (three noise models, the histogram, the noise
estimate, the image blurred to the noisy image's PSNR, two SSIM maps) and the
figures that show them are cached, keyed by explicit digests of the images and
the noise settings, so a rerun that changes nothing (or comes back to an earlier
setting) recomputes nothing. The cache is :func:`ui.lru.shared` (bounded by
bytes, and shared, never copied, like ``st.cache_resource``), because what it
holds are finished Plotly figures (and the numbers in their titles), which
nothing here changes: a figure handed to
``st.plotly_chart`` is only serialised, while a copy (``st.cache_data``
unpickles one per run, and a figure given as a dict is validated again) costs
0.1-0.2 s per figure on every rerun.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from denoisers import metrics, noise
from denoisers.core import digest
from ui import figures, lru, story, text, views
from ui.scene import current

#: Width, in pixels, of the column the image panels are drawn for (the page's full width).
PANEL_WIDTH = 900
_ZOOM_HELP = ("Drag to pan, scroll or box-select to zoom: all panels follow. "
              "Double-click to reset.")


@lru.shared("noise_and_metrics._models")
def _models(base_key: str, _base: np.ndarray, sigma: float, seed: int) -> list[go.Figure]:
    """The five noise models drawn on the image, side by side, titled with their PSNR."""
    drawn = {
        f"Gaussian, σ = {sigma * 255:.0f}": noise.add_noise(_base, "gaussian", sigma, seed=seed),
        "Poisson, peak 16 photons": noise.add_noise(_base, "poisson", 16, seed=seed),
        "salt and pepper, 10%": noise.add_noise(_base, "salt_pepper", 0.1, seed=seed),
        "a camera's, at night": noise.add_noise(_base, "poisson_gaussian",
                                                noise.PRESETS["night"], seed=seed),
        "grain, σ = 15 per pixel": noise.add_noise(_base, "correlated", 15 / 255, seed=seed),
    }
    panels = {f"{name} — {text.db(metrics.psnr(_base, d.image))}": d.image
              for name, d in drawn.items()}
    return figures.panel_figures(panels, width=PANEL_WIDTH)


@lru.shared("noise_and_metrics._scores")
def _scores(scene_key: str, clean_key: str, _clean: np.ndarray, _noisy: np.ndarray,
            sigma: float) -> dict[str, Any]:
    """The histogram, the measured and estimated σ, the image degraded to the noisy image's
    PSNR, both SSIMs and the panels that show them (read-only: shared by every session)."""
    residual = _noisy - _clean
    spread = max(4 * sigma, 4 / 255)
    x = np.linspace(-spread, spread, 401)
    overlay = {} if sigma == 0 else {
        f"Gaussian density, σ = {sigma * 255:.1f}":
            (x * 255, np.exp(-0.5 * (x / sigma) ** 2) / (sigma * 255 * np.sqrt(2 * np.pi)))}
    histogram = figures.histogram({"noisy − clean": residual * 255},
                                  range_=(-spread * 255, spread * 255), overlay=overlay,
                                  title="Histogram of the noise (0–255 scale)")
    noisy_psnr = metrics.psnr(_clean, _noisy)
    match = metrics.blur_to_psnr(_clean, noisy_psnr)
    noisy_ssim, noisy_map = metrics.ssim_with_map(_clean, _noisy)
    blurred_ssim, blurred_map = metrics.ssim_with_map(_clean, match.image)
    panels = figures.panel_figures({
        f"noisy — {text.db(noisy_psnr)}": _noisy,
        f"{_degraded_name(match)} — {text.db(match.psnr)}": match.image,
        f"SSIM map of the noisy image — SSIM {noisy_ssim:.3f}": np.clip(noisy_map, 0, 1),
        f"SSIM map of the {_degraded_name(match)} image — SSIM {blurred_ssim:.3f}":
            np.clip(blurred_map, 0, 1),
    }, width=PANEL_WIDTH, columns=2)
    return {"histogram": histogram, "measured": float(residual.std()),
            "estimated": noise.estimate_sigma(_noisy), "match": match,
            "noisy_psnr": noisy_psnr, "noisy_ssim": noisy_ssim, "blurred_ssim": blurred_ssim,
            "panels": panels}


def _degraded_name(match: metrics.PsnrMatch) -> str:
    if match.shift == 0:
        return "blurred"
    return f"blurred and {'brightened' if match.shift > 0 else 'darkened'}"


def _how(match: metrics.PsnrMatch) -> str:
    """How the second image was made, in words."""
    if match.width == 0:
        return "There is no noise, so there is nothing to blur."
    blur = f"Gaussian blur of width {match.width:.2f} px"
    if match.shift == 0:
        return f"{blur}: the width at which the PSNR falls to the noisy image's."
    way = "raised" if match.shift > 0 else "lowered"
    said = (f"{blur} (the widest this page uses, 1/32 of the image's shorter side: beyond it "
            f"the picture is a few blobs), then every pixel {way} by {abs(match.shift) * 255:.0f} "
            f"on the 0–255 scale and clipped to [0, 1]: blur alone cannot do as much damage "
            f"as this noise.")
    return said


st.title("Noise and metrics")
story.opening(__file__)
text.story("noise_intro")
scene = current()
base = scene.original
if scene.real:
    st.info("Your image is marked as already noisy, so the models below add noise to it "
            "as if it were clean.")

st.subheader("Five noise models, side by side")
sigma = scene.sigma if scene.noise.startswith("Gaussian") else 25 / 255
with st.spinner("Adding five kinds of noise…", show_time=True):
    models = _models(digest(base), base, round(float(sigma), 6), scene.seed)
views.show_panels(models, key="noise.models")
st.caption(f"{_ZOOM_HELP} Seeded with the sidebar's seed; not clipped (the Poisson and impulse "
           "images stay in [0, 1] by nature). PSNR against the image without noise.")

if not scene.real:
    st.subheader(f"The noise you chose: {scene.noise}")
    with st.spinner("Measuring the noise and scoring it…", show_time=True):
        scores = _scores(scene.key, digest(scene.clean), scene.clean, scene.noisy, scene.sigma)
    st.plotly_chart(scores['histogram'], key="noise.histogram")
    left, right, third = st.columns(3)
    left.metric("σ told", f"{scene.sigma255:.2f}",
                help="The noise level the methods are told, on the 0–255 scale: the σ you chose "
                     "for Gaussian noise, the RMS of the noise for the other models.")
    right.metric("σ measured", f"{scores['measured'] * 255:.2f}",
                 help="The standard deviation of noisy − clean, on the 0–255 scale: what the "
                      "noise drawn with this seed actually is.")
    third.metric("σ estimated", f"{scores['estimated'] * 255:.2f}",
                 help="Estimated from the noisy image alone, without the clean one: Donoho & "
                      "Johnstone's wavelet estimator, the median absolute value of the finest "
                      "diagonal wavelet coefficients / 0.6745. Image edges leak into those "
                      "coefficients, so it overestimates a little on textured images.")
    if scene.clip:
        st.caption("The noisy image is clipped to [0, 1]: the histogram piles up at the ends and "
                   "the measured std falls below σ in dark and bright regions.")

    st.subheader("Scoring a result: PSNR and SSIM")
    text.story("noise_metrics")
    match = scores['match']
    name = _degraded_name(match)
    if not match.matched:
        st.warning(
            f"No blur or brightness shift of this image can fall as low as the noisy image's "
            f"{text.db(scores['noisy_psnr'])}: the farthest it goes, a uniform "
            f"{'white' if match.shift > 0 else 'black'} image, still scores {text.db(match.psnr)}, "
            f"{match.shortfall:.2f} dB higher. It is shown instead, so the two PSNRs below "
            f"differ.", icon=":material/warning:")
    views.show_panels(scores['panels'], key="noise.ssim")
    st.caption(f"{_ZOOM_HELP} SSIM maps: white is 1 (the local structure kept), black 0 or "
               f"below (lost).")
    noisy, degraded = st.columns(2)
    noisy.metric("PSNR, noisy", text.db(scores['noisy_psnr']))
    degraded.metric(f"PSNR, {name.split()[0]}", text.db(match.psnr), help=_how(match))
    noisy.metric("SSIM, noisy", f"{scores['noisy_ssim']:.4f}")
    degraded.metric(f"SSIM, {name.split()[0]}", f"{scores['blurred_ssim']:.4f}", help=_how(match))
    st.caption(f"The second image: {_how(match)} At the same PSNR, noise costs SSIM in flat "
               f"regions, blur costs it on edges and texture. {metrics.SSIM_SETTINGS}")

story.model(__file__)
story.ending(__file__)
