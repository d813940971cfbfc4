"""The diffusions of the PDE chapter: the heat equation, Perona & Malik, the Beltrami flow.

Checked against what they must equal (heat is Gaussian blurring of variance
2t), what they must do better than each other (Perona-Malik keeps an edge that
heat blurs; the Beltrami flow couples the colour channels) and the contract
of a traced evolution (the PSNR curve rises and falls, the default stop lands
near its peak, the estimate ignores the trace and the reference).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import crop
from scipy import ndimage
from skimage import data

import denoisers
from denoisers import metrics, noise
from denoisers.core import as_image
from denoisers.pde import beltrami, diffusion
from denoisers.pde.evolution import OVERRUN

SIGMA = 25 / 255
KEYS = ["heat", "perona_malik", "beltrami"]



@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return crop(data.camera(), 256)


@pytest.fixture(scope="module")
def noisy_camera(camera) -> np.ndarray:
    return noise.add_gaussian(camera, SIGMA, seed=3)


# --------------------------------------------------------------------------- heat

@pytest.mark.parametrize("time", [2.0, 8.0])
def test_heat_is_gaussian_blurring_of_variance_2t(time):
    clean = data.camera().astype(np.float32) / 255
    blurred = ndimage.gaussian_filter(clean.astype(np.float64), math.sqrt(2 * time),
                                      mode="reflect", truncate=6)
    result = diffusion.heat(clean, 0.0, time=time)
    assert np.sqrt(np.mean((result.image - blurred) ** 2)) < 1e-3


def test_a_step_of_a_quarter_would_leave_the_checkerboard_undamped():
    """The reason for the step of 0.2: the checkerboard's factor per step is 1 - 8 dt."""
    board = np.indices((16, 16)).sum(axis=0) % 2 * 2.0 - 1.0
    inside = np.s_[1:-1, 1:-1]  # the border's pixels have fewer neighbours
    assert np.allclose((board + 0.25 * diffusion.laplacian(board))[inside], -board[inside])
    steps, dt = diffusion.schedule(1.0)
    assert dt <= diffusion.MAX_STEP and steps * dt == pytest.approx(1.0)
    assert np.abs(diffusion.heat(board.astype(np.float32), 0.0, time=1.0).image).max() < 0.1


def test_the_schedule_reaches_the_time_exactly():
    for time in (0.05, 0.2, 0.65, 1.97, 50.0):
        steps, dt = diffusion.schedule(time)
        assert steps == math.ceil(time / 0.2 - 1e-9) and steps * dt == pytest.approx(time)
    assert diffusion.schedule(0.0)[0] == 0


def test_heat_at_time_zero_returns_the_noisy_image(noisy_camera):
    np.testing.assert_array_equal(diffusion.heat(noisy_camera, SIGMA, time=0.0).image,
                                  noisy_camera)


def test_heat_trace_rises_peaks_and_falls_and_names_its_gaussian(camera, noisy_camera):
    res = denoisers.run("heat", noisy_camera, SIGMA, trace=True, reference=camera,
                        time=1.0)
    time = res.extras["params"]["time"]
    assert time == 1.0
    assert res.extras["gaussian width"] == pytest.approx(math.sqrt(2 * time))
    psnr = res.curves["PSNR (dB)"]
    axis, x = res.extras["curve_x"]
    assert axis == "time t" and len(x) == len(psnr)
    assert x[-1] == pytest.approx(OVERRUN * time, rel=0.1)
    peak = int(np.argmax(psnr))
    assert 0 < peak < len(psnr) - 1
    assert psnr[-1] < psnr[peak] - 0.5 and psnr[0] < psnr[peak] - 3
    assert res.extras["stop"] == pytest.approx(time)
    frames = res.extras["evolution"]["frames"]
    assert frames.shape[1:] == camera.shape and len(frames) <= 20


# --------------------------------------------------------------------------- every method

@pytest.mark.parametrize("key", KEYS)
def test_three_db_over_the_noisy_input_on_camera(key, camera, noisy_camera):
    gain = metrics.psnr(camera, denoisers.run(key, noisy_camera, SIGMA).image) \
        - metrics.psnr(camera, noisy_camera)
    assert gain > 3.0, f"{key} gains {gain:.2f} dB"


@pytest.mark.parametrize("key", ["heat", "perona_malik"])
def test_the_default_stop_is_within_0_3_db_of_the_best_on_the_curve(key):
    """On the whole of camera, as the rules were fitted on whole images (the centre crop,
    the cameraman alone, wants about half heat's time)."""
    clean = as_image(data.camera())
    noisy = noise.add_gaussian(clean, SIGMA, seed=0)
    res = denoisers.run(key, noisy, SIGMA, trace=True, reference=clean)
    psnr = res.curves["PSNR (dB)"]
    x = res.extras["curve_x"][1]
    at_stop = psnr[int(np.argmin(np.abs(x - res.extras["stop"])))]
    assert at_stop == pytest.approx(metrics.psnr(clean, res.image), abs=1e-3)
    assert psnr.max() - at_stop < 0.3


@pytest.mark.parametrize("key", KEYS)
def test_the_estimate_ignores_the_trace_and_the_reference(key, camera, noisy_camera):
    clean, noisy = camera[:96, :128], noisy_camera[:96, :128]
    plain = denoisers.run(key, noisy, SIGMA).image
    traced = denoisers.run(key, noisy, SIGMA, trace=True)
    seen = denoisers.run(key, noisy, SIGMA, trace=True, reference=clean)
    np.testing.assert_array_equal(plain, traced.image)
    np.testing.assert_array_equal(plain, seen.image)
    np.testing.assert_array_equal(plain, denoisers.run(key, noisy, SIGMA).image)
    assert "PSNR (dB)" in seen.curves and "PSNR (dB)" not in traced.curves
    assert seen.curves["residual RMS / σ"][0] == 0.0


@pytest.mark.parametrize("key", KEYS)
def test_a_direct_traced_call_reports_the_parameters_it_used(key, noisy_camera):
    method = denoisers.get(key)
    res = method.run(noisy_camera[:64, :64], SIGMA, trace=True)
    assert res.extras["params"] == method.resolve({}, SIGMA)


@pytest.mark.parametrize("key, params, message", [
    ("heat", {"time": -0.1}, r"'time' parameter of heat must be a float in \[0, 50\]"),
    ("heat", {"time": 51.0}, "'time' parameter of heat"),
    ("perona_malik", {"kappa": 0.0}, r"'kappa' parameter of perona_malik must be a float in "
                                     r"\[0.005, 1\]"),
    ("perona_malik", {"diffusivity": "gaussian"}, "one of 'exponential', 'rational', 'tukey'"),
    ("perona_malik", {"time": "long"}, "'time' parameter of perona_malik"),
    ("beltrami", {"beta": 0.0}, "'beta' parameter of beltrami"),
    ("beltrami", {"time": 1e3}, "'time' parameter of beltrami"),
])
def test_out_of_range_parameters_are_refused(key, params, message, noisy_camera):
    with pytest.raises(denoisers.InvalidInput, match=message):
        denoisers.get(key).run(noisy_camera[:16, :16], SIGMA, **params)


# --------------------------------------------------------------------------- Perona-Malik

def _edge(size: int = 64) -> np.ndarray:
    clean = np.full((size, size), 0.25, np.float32)
    clean[:, size // 2:] = 0.75
    return clean


def test_perona_malik_keeps_an_edge_that_heat_blurs_at_equal_time():
    clean = _edge()
    noisy = noise.add_gaussian(clean, SIGMA, seed=5)
    time = diffusion.perona_malik_time(SIGMA)
    rows = {key: denoisers.run(key, noisy, SIGMA, time=time).image.mean(axis=0)
            for key in ("heat", "perona_malik")}
    jumps = {key: row[32] - row[31] for key, row in rows.items()}
    assert jumps["perona_malik"] > 0.4 > jumps["heat"]
    flat = {key: np.std(denoisers.run(key, noisy, SIGMA, time=time).image[:, 4:24])
            for key in rows}
    assert flat["perona_malik"] < 0.5 * SIGMA and flat["heat"] < 0.5 * SIGMA


def test_perona_malik_is_heat_where_kappa_is_far_above_every_gradient(noisy_camera):
    faint = 0.05 * noisy_camera[:64, :64]  # every difference below 0.05, g above 0.997
    for name in diffusion.DIFFUSIVITIES:
        pm = diffusion.perona_malik(faint, SIGMA, diffusivity=name, kappa=1.0, time=1.0).image
        heat = diffusion.heat(faint, SIGMA, time=1.0).image
        assert np.abs(pm - heat).max() < 1e-4, name


@pytest.mark.parametrize("name, peak", [("exponential", 1 / math.sqrt(2)), ("rational", 1.0),
                                        ("tukey", 1.0)])
def test_each_flux_peaks_where_documented_and_each_diffusivity_is_one_at_zero(name, peak):
    kappa = 0.1
    g = diffusion.edge_stopping(name, kappa)
    s = np.linspace(0, 0.4, 4001, dtype=np.float32)
    assert g(np.zeros(1, np.float32))[0] == 1.0
    assert s[np.argmax(s * g(s))] == pytest.approx(peak * kappa, abs=1e-3)
    assert np.all(np.diff(g(s)) <= 0)
    if name == "tukey":
        assert np.all(g(s[s >= math.sqrt(5) * kappa]) == 0)


def test_perona_malik_trace_shows_the_diffusivity_map_and_the_flux(noisy_camera):
    res = denoisers.run("perona_malik", noisy_camera, SIGMA, trace=True, diffusivity="tukey")
    kappa = res.extras["params"]["kappa"]
    stage = res.stages["diffusivity g(|∇u|)"]
    assert stage.shape == noisy_camera.shape and 0 <= stage.min() and stage.max() <= 1
    flux, g = res.extras["flux"], res.extras["diffusivity"]
    assert flux["kappa"] == g["kappa"] == kappa == diffusion.perona_malik_kappa(SIGMA)
    np.testing.assert_allclose(flux["flux"], flux["s"] * g["g"], rtol=1e-6)
    assert flux["s"][-1] == pytest.approx(4 * kappa)
    # Edges stop the diffusion: the map is low along camera's strongest edges.
    strong = diffusion.magnitude(*diffusion.gradient(res.image)) > 3 * kappa
    assert stage[strong].max() == 0.0 and np.median(stage) > 0.5


def test_every_diffusivity_gains_with_the_default_kappa_and_time(camera, noisy_camera):
    before = metrics.psnr(camera, noisy_camera)
    for name in diffusion.DIFFUSIVITIES:
        after = metrics.psnr(camera, diffusion.perona_malik(noisy_camera, SIGMA,
                                                            diffusivity=name).image)
        assert after > before + 3.0, name


# --------------------------------------------------------------------------- Beltrami

def test_beltrami_on_a_grey_image_stored_as_rgb_is_the_grey_flow(noisy_camera):
    grey = noisy_camera[:64, :80]
    rgb = np.repeat(grey[..., None], 3, axis=2)
    flat = beltrami.beltrami(grey, SIGMA).image
    assert flat.shape == grey.shape
    coloured = beltrami.beltrami(rgb, SIGMA).image
    for c in range(3):
        np.testing.assert_allclose(coloured[..., c], flat, atol=1e-5)


def test_beltrami_is_heat_at_a_small_beta(noisy_camera):
    small = noisy_camera[:64, :64]
    flow = beltrami.beltrami(small, SIGMA, beta=0.1, time=1.0).image
    assert np.abs(flow - diffusion.heat(small, SIGMA, time=1.0).image).max() < 1e-3


def test_beltrami_keeps_a_grey_image_in_its_range(rng):
    """Each grey step is an average of the pixel and its neighbours (weights <= dt)."""
    noisy = rng.random((48, 48), dtype=np.float32)
    for beta in (0.5, 5.0, 50.0):
        out = beltrami.beltrami(noisy, SIGMA, beta=beta, time=20.0).image
        assert noisy.min() - 1e-6 <= out.min() and out.max() <= noisy.max() + 1e-6


def test_beltrami_stays_in_range_in_colour_at_its_step(rng):
    """The colour flow's cross terms could overshoot; at dt <= 0.2 it does not here."""
    noisy = noise.add_gaussian(crop(data.astronaut(), 96), 50 / 255, seed=2)
    for beta in (1.0, 10.0, 100.0, 500.0):
        out = beltrami.beltrami(noisy, SIGMA, beta=beta, time=30.0).image
        assert noisy.min() - 1e-5 <= out.min() and out.max() <= noisy.max() + 1e-5, beta


def _colour_edge(size: int = 64) -> np.ndarray:
    """Left grey, right red and a little greener: a strong edge in R, a faint one in G."""
    clean = np.full((size, size, 3), 0.4, np.float32)
    clean[:, size // 2:, 0] = 0.9
    clean[:, size // 2:, 1] = 0.46
    return clean


def test_beltrami_holds_a_faint_edge_in_one_channel_by_a_strong_one_in_another():
    """One surface for the three channels: the red edge stops the flow across it in green
    too, where the grey flow of green alone, which sees only its faint edge, smears it."""
    clean = _colour_edge()
    noisy = noise.add_gaussian(clean, 10 / 255, seed=1)
    sigma, time = 10 / 255, 5.0
    joint = beltrami.beltrami(noisy, sigma, time=time).image
    alone = beltrami.beltrami(np.ascontiguousarray(noisy[..., 1]), sigma, time=time).image
    jump = {"joint": joint[..., 1].mean(axis=0), "alone": alone.mean(axis=0)}
    jump = {k: row[32] - row[31] for k, row in jump.items()}
    assert jump["joint"] > 0.8 * 0.06 > 0.5 * 0.06 > jump["alone"]
    # And the red edge stays where it was, aligned with the green one.
    red, green = joint[..., 0].mean(axis=0), joint[..., 1].mean(axis=0)
    assert int(np.argmax(np.diff(red))) == int(np.argmax(np.diff(green))) == 31


def test_beltrami_trace_shows_the_area_element(noisy_camera, camera):
    res = denoisers.run("beltrami", noisy_camera, SIGMA, trace=True, reference=camera)
    stage = res.stages["area element √g"]
    beta = res.extras["params"]["beta"]
    assert beta == beltrami.beltrami_beta(SIGMA)
    assert res.extras["display"]["area element √g"] == "map"
    np.testing.assert_allclose(stage, beltrami.area(res.image, beta), rtol=1e-6)
    assert stage.min() >= 1.0 and stage.max() > 5.0
    psnr = res.curves["PSNR (dB)"]
    assert 0 < int(np.argmax(psnr)) < len(psnr) - 1


def test_beltrami_colour_trace_and_estimate(rng):
    clean = crop(data.astronaut(), 64)
    noisy = noise.add_gaussian(clean, SIGMA, seed=3)
    res = denoisers.run("beltrami", noisy, SIGMA, trace=True, reference=clean)
    assert res.image.shape == clean.shape and "colour" not in res.extras
    assert res.stages["area element √g"].shape == clean.shape[:2]
    assert res.extras["evolution"]["frames"].shape[1:] == clean.shape
    assert metrics.psnr(clean, res.image) > metrics.psnr(clean, noisy) + 3
