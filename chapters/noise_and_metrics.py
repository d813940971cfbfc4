"""Chapter: what noise is, how its level is estimated, how results are scored."""

import numpy as np
import streamlit as st

from denoisers import metrics, noise
from ui import figures, text, views
from ui.scene import current

st.title("Noise and metrics")
text.story("noise_intro")
scene = current()
base = scene.noisy if scene.real else scene.clean
if scene.real:
    st.info("Your image is marked as already noisy, so the models below add noise to it "
            "as if it were clean.")

st.subheader("Three noise models, side by side")
sigma = scene.sigma if scene.noise.startswith("Gaussian") else 25 / 255
models = {
    f"Gaussian, σ = {sigma * 255:.0f}": noise.add_noise(base, "gaussian", sigma, seed=scene.seed),
    "Poisson, peak 16 photons": noise.add_noise(base, "poisson", 16, seed=scene.seed),
    "salt and pepper, 10%": noise.add_noise(base, "salt_pepper", 0.1, seed=scene.seed),
}
views.compare({f"{name} — {metrics.psnr(base, drawn.image):.2f} dB": drawn.image
               for name, drawn in models.items()}, key="noise.models")
st.caption("Seeded with the sidebar's seed; not clipped (the Poisson and impulse images stay "
           "in [0, 1] by nature). PSNR against the image without noise.")

if not scene.real:
    st.subheader(f"The noise you chose: {scene.noise}")
    residual = scene.noisy - scene.clean
    spread = max(4 * scene.sigma, 4 / 255)
    x = np.linspace(-spread, spread, 401)
    overlay = {} if scene.sigma == 0 else {
        f"Gaussian density, σ = {scene.sigma255:.1f}":
            (x * 255, np.exp(-0.5 * (x / scene.sigma) ** 2) / (scene.sigma * 255 * np.sqrt(2 * np.pi)))}
    st.plotly_chart(figures.histogram({"noisy − clean": residual * 255}, range_=(-spread * 255, spread * 255),
                                      overlay=overlay, title="Histogram of the noise (0–255 scale)"),
                    key="noise.histogram")
    estimate = noise.estimate_sigma(scene.noisy)
    left, right, third = st.columns(3)
    left.metric("σ told to the methods", f"{scene.sigma255:.2f}")
    right.metric("measured std of noisy − clean", f"{residual.std() * 255:.2f}")
    third.metric("estimated from the noisy image alone", f"{estimate * 255:.2f}",
                 help="Donoho & Johnstone's wavelet estimator: the median absolute value of the "
                      "finest diagonal wavelet coefficients / 0.6745. Image edges leak into those "
                      "coefficients, so it overestimates a little on textured images.")
    if scene.clip:
        st.caption("The noisy image is clipped to [0, 1]: the histogram piles up at the ends and "
                   "the measured std falls below σ in dark and bright regions.")

    st.subheader("Scoring a result: PSNR and SSIM")
    text.story("noise_metrics")
    target = metrics.psnr(scene.clean, scene.noisy)
    blurred = metrics.blur_to_psnr(scene.clean, target)
    pair = {"noisy": scene.noisy, "blurred to the same PSNR": blurred}
    cols = st.columns(2)
    for column, (name, image) in zip(cols, pair.items()):
        with column:
            st.plotly_chart(figures.heatmap(metrics.ssim_map(scene.clean, image), zmin=0, zmax=1,
                                            title=f"SSIM map — {name}", colorscale="gray"),
                            key=f"noise.ssim.{name}")
            st.metric(f"{name} — PSNR {metrics.psnr(scene.clean, image):.2f} dB",
                      f"SSIM {metrics.ssim(scene.clean, image):.4f}")
    st.caption("Two images at the same PSNR: noise costs SSIM in flat regions, blur costs it on "
               f"edges and texture. {metrics.SSIM_SETTINGS}")
