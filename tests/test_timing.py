"""ui/timing.py: expected run times read from the benchmarks' tables."""

from __future__ import annotations

from pathlib import Path

import pytest

import denoisers
from ui import scene, timing

SPEED = """method,name,size,repeats,seconds,megapixels_per_second
fast,Fast,256,5,0.01,6.5536
fast,Fast,512,5,0.02,13.1072
wnnm,WNNM,256,2,10.0,0.0065536
"""
INVERSE = """problem,image,how,psnr,seconds
deblur,01.png,baseline,24.6,0.01
deblur,01.png,"PnP-HQS, fast prior",26.4,3.0
deblur,02.png,"PnP-HQS, fast prior",32.3,5.0
demosaic,a.png,"PnP-HQS, fast prior",30.0,6.0
"""


@pytest.fixture
def tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small speed and inverse tables in place of the benchmarks'."""
    speed, inverse = tmp_path / "speed.csv", tmp_path / "inverse.csv"
    speed.write_text(SPEED, encoding="utf-8")
    inverse.write_text(INVERSE, encoding="utf-8")
    monkeypatch.setattr(timing, "SPEED_TABLE", speed)
    monkeypatch.setattr(timing, "INVERSE_TABLE", inverse)


def test_a_measured_method_takes_its_pixels_over_the_throughput_at_the_nearest_size(tables):
    assert timing.expected_seconds("fast", (256, 256), 0.1) == pytest.approx(0.01)
    assert timing.expected_seconds("fast", (512, 512), 0.1) == pytest.approx(0.02)
    # 300x300 is nearest 256: 256's throughput, scaled by the pixels.
    assert timing.expected_seconds("fast", (300, 300), 0.1) == pytest.approx(0.01 * 300**2 / 256**2)
    assert timing.expected_seconds("fast", (1024, 1024), 0.1) == pytest.approx(0.08)


def test_colour_takes_three_times_grey(tables):
    grey = timing.expected_seconds("fast", (256, 256), 0.1)
    assert timing.expected_seconds("fast", (256, 256, 3), 0.1) == pytest.approx(3 * grey)


def test_an_unmeasured_method_is_unknown_and_the_caption_says_seconds_or_more(tables):
    assert timing.expected_seconds("nobody", (256, 256), 0.1) is None
    method = denoisers.get("epll")
    assert "seconds or more" in timing.waiting_caption(method, (256, 256), 0.1)


def test_a_missing_table_knows_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "SPEED_TABLE", tmp_path / "absent.csv")
    assert timing.expected_seconds("bm3d", (256, 256), 0.1) is None


def test_wnnm_scales_the_benchmarks_time_by_its_noise_band(tables):
    """The speed table times σ 25; another band costs what its measured 256x256 run did
    relative to σ 25's (timing.WNNM_SECONDS_256): σ 75, the largest patches and most
    rounds, costs the most."""
    at_25 = timing.expected_seconds("wnnm", (256, 256), 25 / 255)
    assert at_25 == pytest.approx(10.0)
    measured = timing.WNNM_SECONDS_256
    for sigma, size in ((15, 6), (50, 8), (75, 9)):
        expected = at_25 * measured[size] / measured[7]
        assert timing.expected_seconds("wnnm", (256, 256), sigma / 255) == pytest.approx(expected)
    assert timing.expected_seconds("wnnm", (256, 256), 75 / 255) == max(
        timing.expected_seconds("wnnm", (256, 256), s / 255) for s in (15, 25, 50, 75))


def test_the_waiting_caption_states_the_time(tables):
    method = denoisers.get("wnnm")
    caption = timing.waiting_caption(method, (256, 256), 25 / 255)
    assert caption.startswith("WNNM") and "about 10 s" in caption and "256x256" in caption


def test_restorations_scale_the_benchmarks_mean_by_pixels_and_iterations(tables):
    default = denoisers.inverse.PROBLEMS["deblur"].iterations
    mean = 4.0  # of the two deblurring rows
    assert timing.restoration_seconds("deblur", "fast", (256, 256), default) == pytest.approx(mean)
    assert timing.restoration_seconds("deblur", "fast", (512, 512), 2 * default) == \
        pytest.approx(mean * 4 * 2)
    assert timing.restoration_seconds("deblur", "fast", (256, 256, 3), default) == \
        pytest.approx(mean * 3)
    # Demosaicing's benchmark images are colour already.
    iterations = denoisers.inverse.PROBLEMS["demosaic"].iterations
    assert timing.restoration_seconds("demosaic", "fast", (256, 256, 3), iterations) == \
        pytest.approx(6.0)


def test_a_restoration_without_a_row_is_iterations_times_its_denoiser(tables):
    assert timing.restoration_seconds("inpaint", "fast", (512, 512), 20) == pytest.approx(0.4)
    assert timing.restoration_seconds("inpaint", "nobody", (512, 512), 20) is None


@pytest.mark.parametrize("seconds, said", [(0.2, "about 1 s"), (40.4, "about 40 s"),
                                           (200, "about 3 minutes")])
def test_durations_read_as_a_visitor_says_them(seconds, said):
    assert timing.duration(seconds) == said


def test_the_real_tables_know_the_networks():
    assert timing.expected_seconds("drunet", (256, 256), 25 / 255) > 0
    assert timing.restoration_seconds("deblur", "drunet", (256, 256), 8) > 0


def test_a_centre_crop_keeps_the_noise_and_has_digests_of_its_own(rng):
    clean = rng.random((300, 400)).astype("float32")
    noisy = (clean + 0.1 * rng.standard_normal(clean.shape)).astype("float32")
    whole = scene.Scene("camera", clean, noisy, 0.1, "Gaussian", 0, False, (),
                        "whole-key", clean_key="clean-key")
    crop = scene.centre(whole, 256)
    assert crop.noisy.shape == (256, 256)
    assert (crop.noisy == noisy[22:278, 72:328]).all()
    assert (crop.clean == clean[22:278, 72:328]).all()
    assert crop.key != whole.key and crop.clean_key != whole.clean_key
    assert crop.sample and crop.sigma == whole.sigma
    assert scene.centre(crop, 256) is crop


def test_a_batch_states_the_time_of_all_its_runs_together(monkeypatch):
    bm3d = denoisers.get("bm3d")
    monkeypatch.setattr(timing, "expected_seconds", lambda key, shape, sigma: 2.0 * sigma)
    caption = timing.batch_caption([(bm3d, 1.0), (bm3d, 2.0), (bm3d, 3.0)], (256, 256))
    assert "3 runs" in caption and "12 s in all" in caption and "256x256" in caption
    monkeypatch.setattr(timing, "expected_seconds", lambda key, shape, sigma: None)
    assert "seconds or more" in timing.batch_caption([(bm3d, 1.0)], (256, 256))
