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


# --------------------------------------------------------------------------- the scheme by hand


def _by_hand_forward(u):
    """Forward differences (down, right) at every pixel, 0 across the last row / column."""
    height, width = u.shape
    down, right = np.zeros((height, width)), np.zeros((height, width))
    for i in range(height):
        for j in range(width):
            down[i, j] = u[i + 1, j] - u[i, j] if i + 1 < height else 0.0
            right[i, j] = u[i, j + 1] - u[i, j] if j + 1 < width else 0.0
    return down, right


def _by_hand_centred(down, right):
    """Central differences: the mean of the forward differences on both sides of a pixel."""
    cy, cx = np.zeros_like(down), np.zeros_like(right)
    for i in range(down.shape[0]):
        for j in range(down.shape[1]):
            cy[i, j] = (down[i, j] + (down[i - 1, j] if i > 0 else 0.0)) / 2
            cx[i, j] = (right[i, j] + (right[i, j - 1] if j > 0 else 0.0)) / 2
    return cy, cx


def _by_hand_beltrami_step(u, beta, dt):
    """``I_c += dt / sqrt(g) div(sqrt(g) g^-1 grad I_c)`` pixel by pixel, from the docstring:
    the flux on the face below (right of) a pixel takes the difference across the face and
    the other derivative averaged over the pixel and its neighbour (its own on the last
    row / column); 1 / sqrt(g) at the pixel from central differences; scale beta² / C."""
    channels = [u] if u.ndim == 2 else [u[..., c] for c in range(u.shape[2])]
    channels = [c.astype(np.float64) for c in channels]
    scale = beta * beta / len(channels)
    height, width = channels[0].shape
    forward = [_by_hand_forward(c) for c in channels]
    centred = [_by_hand_centred(*f) for f in forward]
    flux_down = [np.zeros((height, width)) for _ in channels]
    flux_right = [np.zeros((height, width)) for _ in channels]
    rate = np.zeros((height, width))
    for i in range(height):
        for j in range(width):
            # the face below (i, j)
            dy = [f[0][i, j] for f in forward]
            dx = [(c[1][i, j] + c[1][i + 1, j]) / 2 if i + 1 < height else c[1][i, j]
                  for c in centred]
            gyy = 1 + scale * sum(a * a for a in dy)
            gxx = 1 + scale * sum(b * b for b in dx)
            gyx = scale * sum(a * b for a, b in zip(dy, dx))
            root = np.sqrt(gyy * gxx - gyx * gyx)
            for k in range(len(channels)):
                flux_down[k][i, j] = (gxx * dy[k] - gyx * dx[k]) / root
            # the face to the right of (i, j)
            dx = [f[1][i, j] for f in forward]
            dy = [(c[0][i, j] + c[0][i, j + 1]) / 2 if j + 1 < width else c[0][i, j]
                  for c in centred]
            gyy = 1 + scale * sum(a * a for a in dy)
            gxx = 1 + scale * sum(b * b for b in dx)
            gyx = scale * sum(a * b for a, b in zip(dy, dx))
            root = np.sqrt(gyy * gxx - gyx * gyx)
            for k in range(len(channels)):
                flux_right[k][i, j] = (gyy * dx[k] - gyx * dy[k]) / root
            # sqrt(g) at the pixel
            cy = [c[0][i, j] for c in centred]
            cx = [c[1][i, j] for c in centred]
            gyy = 1 + scale * sum(a * a for a in cy)
            gxx = 1 + scale * sum(b * b for b in cx)
            gyx = scale * sum(a * b for a, b in zip(cy, cx))
            rate[i, j] = dt / np.sqrt(gyy * gxx - gyx * gyx)
    moved = []
    for c, p, q in zip(channels, flux_down, flux_right):
        div = np.zeros((height, width))
        for i in range(height):
            for j in range(width):
                div[i, j] = ((p[i, j] if i + 1 < height else 0.0) - (p[i - 1, j] if i > 0 else 0.0)
                             + (q[i, j] if j + 1 < width else 0.0)
                             - (q[i, j - 1] if j > 0 else 0.0))
        moved.append(c + rate * div)
    return moved[0] if u.ndim == 2 else np.stack(moved, axis=-1)


@pytest.mark.parametrize("shape", [(6, 7), (7, 5, 3)])
def test_a_beltrami_step_is_the_scheme_written_out_pixel_by_pixel(rng, shape):
    u = rng.random(shape).astype(np.float32)
    for beta, dt in ((3.0, 0.2), (20.0, 0.1)):
        found = beltrami.beltrami_step(beta, dt)(u)
        assert found.shape == u.shape
        np.testing.assert_allclose(found, _by_hand_beltrami_step(u, beta, dt), atol=1e-5)


@pytest.mark.parametrize("shape", [(6, 7), (5, 8, 3)])
def test_the_area_element_is_sqrt_g_from_central_differences(rng, shape):
    u = rng.random(shape).astype(np.float32)
    channels = [u] if u.ndim == 2 else [u[..., c] for c in range(3)]
    centred = [_by_hand_centred(*_by_hand_forward(c.astype(np.float64))) for c in channels]
    scale = 4.0**2 / len(channels)
    gyy = 1 + scale * sum(cy * cy for cy, _ in centred)
    gxx = 1 + scale * sum(cx * cx for _, cx in centred)
    gyx = scale * sum(cy * cx for cy, cx in centred)
    np.testing.assert_allclose(beltrami.area(u, 4.0), np.sqrt(gyy * gxx - gyx * gyx),
                               rtol=1e-5)


@pytest.mark.parametrize("sigma_255", [5, 7.3, 25, 50, 100])
def test_the_automatic_settings_are_the_documented_rules_to_a_hundredth(sigma_255):
    """The rules the sliders' help gives ("Auto: ..."), rounded to what the page shows."""
    sigma = sigma_255 / 255
    rules = {diffusion.heat_time: 0.49 * (sigma_255 / 25) ** 1.3,
             diffusion.perona_malik_time: 0.7 + 0.02 * sigma_255,
             beltrami.beltrami_time: 1.9 + 0.035 * sigma_255,
             beltrami.beltrami_beta: 2 / sigma}
    for rule, value in rules.items():
        assert rule(sigma) == round(value, 2), rule.__name__
    assert diffusion.perona_malik_kappa(sigma) == round(2 * sigma, 4)
    assert beltrami.beltrami_beta(25 / 255) == 20.4  # "20 at sigma 25 on 0-255"


def test_the_automatic_settings_stay_in_their_ranges():
    assert diffusion.perona_malik_kappa(0.0) == 0.005 and diffusion.perona_malik_kappa(0.9) == 1.0
    assert beltrami.beltrami_beta(0.0) == beltrami.MAX_BETA
    assert diffusion.heat_time(1.0) == round(0.49 * (255 / 25) ** 1.3, 2) < diffusion.MAX_TIME


def test_an_unknown_diffusivity_is_named_with_those_there_are():
    with pytest.raises(ValueError, match=r"^no diffusivity 'box'; the diffusivities are "):
        diffusion.edge_stopping("box", 0.1)


def test_an_untraced_diffusion_records_nothing(monkeypatch, noisy_camera):
    """No trace, no recorder: the evolution is not slowed by the curves."""
    from denoisers.pde import evolution

    made = []
    real = evolution.Recorder

    def counting(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(diffusion, "Recorder", counting)
    diffusion.heat(noisy_camera[:32, :32], SIGMA)
    assert made == []
    diffusion.heat(noisy_camera[:32, :32], SIGMA, trace=True)
    assert made == [1]


# --------------------------------------------------------------------------- the trace's parts


def test_the_discrepancy_stop_is_the_first_time_the_residual_reaches_sigma():
    from denoisers.pde.evolution import discrepancy_stop

    times = np.array([0.0, 0.5, 1.0, 1.5, 2.0])
    residual = np.array([0.0, 0.05, 0.1, 0.2, 0.3])
    assert discrepancy_stop(times, residual, 0.1) == 1.0  # reached exactly at 1.0
    assert discrepancy_stop(times, residual, 0.15) == 1.5
    assert discrepancy_stop(times, residual, 0.5) is None  # never reached
    assert discrepancy_stop(times, residual, 0.0) is None  # no noise, no stop


def test_the_kept_frames_spread_over_the_run_with_both_ends_and_the_stop():
    from denoisers.pde.evolution import MAX_FRAMES, kept_steps

    kept = kept_steps(1000, 437)
    assert {0, 1000, 437} <= kept and len(kept) <= MAX_FRAMES
    steps = sorted(kept - {437})
    assert len(steps) == MAX_FRAMES - 1
    assert max(np.diff(steps)) - min(np.diff(steps)) <= 1  # evenly spread
    assert kept_steps(5, 2) == frozenset(range(6))


def test_the_trace_curves_divide_the_residual_by_sigma_and_stop_where_it_reaches_it(
        noisy_camera):
    from denoisers.pde.evolution import Recorder

    noisy = noisy_camera[:24, :24]
    recorder = Recorder(noisy, 0.004, None, time=lambda k: 0.5 * k, keep=frozenset({0, 2}))
    for step, shift in enumerate((0.0, 0.003, 0.006)):
        recorder.record(step, noisy + shift)
    result = recorder.onto(denoisers.core.Result(noisy), 1, "time t")
    np.testing.assert_allclose(result.curves["residual RMS / σ"], [0.0, 0.75, 1.5], rtol=1e-4)
    assert result.extras["discrepancy stop"] == 1.0 and result.extras["stop"] == 0.5
    frames = result.extras["evolution"]["frames"]
    assert frames.dtype == np.float16 and frames.shape == (2, 24, 24)
    np.testing.assert_allclose(frames[1], noisy + 0.006, atol=1e-3)
    assert result.extras["evolution"]["times"].tolist() == [0.0, 1.0]


def test_evolve_steps_to_the_stop_and_a_traced_run_overruns_recording_every_step(rng):
    from denoisers.pde.evolution import Recorder, evolve

    u0 = rng.random((6, 5)).astype(np.float32)
    calls = []

    def step(u):
        calls.append(1)
        return u + np.float32(1.0)

    seen: list[float] = []
    out = evolve(u0, step, 4, progress=seen.append)
    assert len(calls) == 4 and out.dtype == np.float32
    np.testing.assert_allclose(out, u0 + 4, rtol=1e-6)
    assert seen == [0.25, 0.5, 0.75, 1.0, 1.0]  # the fraction done after every step, then 1
    calls.clear()
    recorder = Recorder(u0, 0.1, None)
    out = evolve(u0, step, 4, recorder=recorder, overrun=1.5)
    assert len(calls) == 6 and recorder.times == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    np.testing.assert_allclose(out, u0 + 4, rtol=1e-6)  # still the image at the stop
    np.testing.assert_allclose(recorder.residual[0], 0.0)


def test_the_recorded_frames_are_at_most_256_pixels_a_side(rng):
    from denoisers.pde.evolution import FRAME_SIDE, Recorder

    big = rng.random((300, 150)).astype(np.float32)
    recorder = Recorder(big, 0.1, None, keep=frozenset({0}))
    recorder.record(0, big)
    assert recorder.frames[0].shape == (FRAME_SIDE, FRAME_SIDE // 2)


def test_a_traced_evolution_keeps_the_frame_at_the_stop(rng):
    """The stop is among the kept frames even where the even spread misses it."""
    from denoisers.pde.evolution import Recorder, evolve

    u0 = rng.random((5, 5)).astype(np.float32)
    recorder = Recorder(u0, 0.1, None)
    evolve(u0, lambda u: u * np.float32(0.99), 30, recorder=recorder, overrun=1.7)
    assert recorder.times[-1] == 51.0 and 30.0 in recorder.frame_times
    assert 0.0 in recorder.frame_times and 51.0 in recorder.frame_times
