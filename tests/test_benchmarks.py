"""The quality and speed benchmarks, run end to end on tiny generated data.

Every check loops over whatever methods are registered, so the suite means
something with any registry; the scikit-image peers (``--peers``) always give
the quality benchmark rows to check. The optional ``bm3d`` peer is left out:
it takes seconds even on tiny images.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.metrics import structural_similarity
from skimage.restoration import denoise_tv_chambolle

import denoisers
from benchmarks import colour_samples, quality, speed
from denoisers.train import SKIMAGE_VALIDATION

SIGMA = 25
PEERS = ["skimage-tv", "skimage-wavelet", "skimage-nl-means"]
CROPS = {
    "a_camera.png": data.camera()[100:148, 200:248],
    "b_moon.png": data.moon()[200:248, 200:248],
}


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 48x48 grey PNG crops of scikit-image's camera and moon."""
    path = tmp_path_factory.mktemp("tiny")
    for name, crop in CROPS.items():
        Image.fromarray(crop).save(path / name)
    return path


@pytest.fixture(scope="module")
def run(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One quality run with peers: the output folder and what it printed."""
    out = tmp_path_factory.mktemp("out") / "benchmarks"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = quality.main(["--data", str(folder), "--sigmas", str(SIGMA),
                               "--out", str(out), "--peers", *PEERS])
    assert status == 0
    return out, printed.getvalue()


def test_quality_csv_has_one_row_per_method_image_and_sigma(run: tuple[Path, str],
                                                           folder: Path) -> None:
    out, _ = run
    columns, rows = read_csv(out / f"quality_{folder.name}.csv")
    assert columns == ["method", "name", "image", "sigma", "psnr", "ssim", "seconds"]
    keys = [m.key for m in denoisers.methods()] + PEERS
    assert list(dict.fromkeys(r["method"] for r in rows)) == keys
    counts = Counter((r["method"], r["image"], float(r["sigma"])) for r in rows)
    assert set(counts) == {(k, name, SIGMA) for k in keys for name in CROPS}
    assert set(counts.values()) == {1}
    for row in rows:
        assert np.isfinite(float(row["psnr"])) and -1 <= float(row["ssim"]) <= 1
        assert float(row["seconds"]) >= 0


def test_quality_scores_are_those_recomputed_here(run: tuple[Path, str], folder: Path) -> None:
    """The PSNR and SSIM written for the moon crop, recomputed from their definitions (the
    mean squared error; scikit-image's SSIM with the settings the report states) on the
    output of the first registered method and of scikit-image's TV at the weight the
    committed peer settings give sigma 25 (benchmarks/peers.py), run here."""
    out, _ = run
    _, rows = read_csv(out / f"quality_{folder.name}.csv")
    clean = np.asarray(Image.open(folder / "b_moon.png"), dtype=np.float32) / 255
    noisy = quality.noisy_image(clean, 1, SIGMA, seed=0)
    first = denoisers.methods()[0].key
    weight = quality.peer_setting("skimage-tv", SIGMA)["weight_per_sigma"] * SIGMA / 255
    for key, estimate in [(first, denoisers.run(first, noisy, SIGMA / 255).image),
                          ("skimage-tv", denoise_tv_chambolle(noisy, weight=weight))]:
        row = next(r for r in rows if r["method"] == key and r["image"] == "b_moon.png")
        error = np.mean((clean.astype(np.float64) - estimate) ** 2)
        assert float(row["psnr"]) == pytest.approx(10 * np.log10(1 / error), abs=1e-4), key
        ssim = structural_similarity(clean, estimate.astype(np.float32), data_range=1,
                                     gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False)
        assert float(row["ssim"]) == pytest.approx(ssim, abs=1e-6), key


def test_quality_noise_is_seeded_per_image_and_sigma_and_not_clipped() -> None:
    clean = np.zeros((16, 16), np.float32)
    first = quality.noisy_image(clean, 0, SIGMA, seed=0)
    np.testing.assert_array_equal(first, quality.noisy_image(clean, 0, SIGMA, seed=0))
    for other in (quality.noisy_image(clean, 1, SIGMA, 0), quality.noisy_image(clean, 0, 15, 0),
                  quality.noisy_image(clean, 0, SIGMA, 1)):
        assert not np.array_equal(first, other)
    assert first.min() < 0
    assert first.std() == pytest.approx(SIGMA / 255, rel=0.2)


def test_quality_report_names_every_method(run: tuple[Path, str], folder: Path) -> None:
    out, printed = run
    report = (out / f"quality_{folder.name}.md").read_text()
    assert printed.strip() and printed.strip() in report
    assert f"| method | σ={SIGMA} | time / image |" in report
    assert f"--data {folder}" in report and "CPUs" in report and "numpy" in report
    for method in denoisers.methods():
        assert f"{method.name} (`{method.key}`)" in report
    for key in PEERS:
        assert f"{quality.PEERS[key].name} (`{key}`)" in report
        setting = quality.describe_setting(key, quality.peer_setting(key, SIGMA))
        assert f"`{key}` {setting}" in report, setting
    assert "Peers: each at its best setting, chosen on train400" in report
    assert "published (Set12)" not in report


def test_quality_prints_the_published_set12_figures(folder: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    first = [m.key for m in denoisers.methods()][:1]
    argv = ["--data", str(folder), "--sigmas", "50", "--limit", "1", "--out", str(tmp_path),
            "--published", *(["--methods", *first] if first else [])]
    assert quality.main(argv) == 0
    printed = capsys.readouterr().out
    assert "published (Set12)" in printed
    assert "| DnCNN-S (2017) | 32.86 | 30.44 | 27.18 |" in printed
    assert "| MLP (2012) | — | 30.03 | 26.78 |" in printed


def test_quality_per_image_tables_hold_each_images_psnr(folder: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """--per-image prints, per sigma, one row per image with the PSNR the CSV holds."""
    argv = ["--data", str(folder), "--sigmas", "30", "50", "--out", str(tmp_path),
            "--methods", "gaussian", "median", "--per-image"]
    assert quality.main(argv) == 0
    printed = capsys.readouterr().out
    _, rows = read_csv(tmp_path / f"quality_{folder.name}.csv")
    for sigma in ("30", "50"):
        table = printed.split(f"### σ={sigma}")[1].split("###")[0]
        assert "| image | `gaussian` | `median` |" in table
        for name in CROPS:
            cells = [f"{float(r['psnr']):.2f}" for key in ("gaussian", "median") for r in rows
                     if r["method"] == key and r["image"] == name
                     and float(r["sigma"]) == float(sigma)]
            assert f"| {name} | {' | '.join(cells)} |" in table


def test_quality_reads_grey_as_grey_and_colour_as_colour(tmp_path: Path) -> None:
    grey = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    colour = np.stack([grey, 255 - grey, grey // 2], axis=-1)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(colour).save(tmp_path / "colour.png")
    Image.fromarray(grey).save(tmp_path / "notes.txt.bmp")
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in quality.image_paths(tmp_path)] == [
        "colour.png", "grey.png", "notes.txt.bmp"]
    loaded = quality.load_image(tmp_path / "grey.png")
    assert loaded.shape == (8, 8) and loaded.dtype == np.float32
    np.testing.assert_allclose(loaded, grey / 255, atol=1e-7)
    loaded = quality.load_image(tmp_path / "colour.png")
    assert loaded.shape == (8, 8, 3)
    np.testing.assert_allclose(loaded, colour / 255, atol=1e-7)


def test_quality_notes_a_peer_whose_package_is_missing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    missing = quality.Peer("Missing (peer)", "no_such_package_here",
                           quality.PEERS["bm3d-package"].denoise)
    monkeypatch.setitem(quality.PEERS, "missing", missing)
    found, notes = quality.available_peers(["skimage-tv", "missing"])
    assert [c.key for c in found] == ["skimage-tv"]
    assert len(notes) == 1 and "no_such_package_here" in notes[0]


def test_quality_rejects_an_unknown_peer(folder: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        quality.main(["--data", str(folder), "--out", str(tmp_path), "--peers", "nope"])
    assert stop.value.code != 0
    error = capsys.readouterr().err
    assert "'nope'" in error and "skimage-tv" in error


@pytest.mark.parametrize("module", [quality, speed])
def test_unknown_method_is_a_command_line_error(module, folder: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path), "--methods", "no-such-method"]
    if module is quality:
        argv += ["--data", str(folder)]
    with pytest.raises(SystemExit) as stop:
        module.main(argv)
    assert stop.value.code != 0
    error = capsys.readouterr().err
    assert "'no-such-method'" in error
    for method in denoisers.methods():
        assert method.key in error
    assert not list(tmp_path.iterdir())


def test_speed_times_every_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "benchmarks"
    assert speed.main(["--sizes", "32", "--repeats", "1", "--out", str(out)]) == 0
    columns, rows = read_csv(out / "speed.csv")
    assert columns == ["method", "name", "size", "repeats", "seconds", "megapixels_per_second"]
    assert [r["method"] for r in rows] == [m.key for m in denoisers.methods()]
    for row in rows:
        assert row["size"] == "32" and row["repeats"] == "1" and float(row["seconds"]) > 0
        assert float(row["megapixels_per_second"]) == pytest.approx(
            32 * 32 / 1e6 / float(row["seconds"]), rel=1e-9)
    report = (out / "speed.md").read_text()
    assert "| method | 32x32 | repeats |" in report and "torch threads" in report
    for method in denoisers.methods():
        assert f"`{method.key}`" in report
    assert "| method | 32x32 | repeats |" in capsys.readouterr().out


def test_speed_times_a_peer_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks"
    assert speed.main(["--sizes", "32", "--repeats", "1", "--methods", "gaussian",
                       "--peers", "skimage-tv", "--out", str(out)]) == 0
    _, rows = read_csv(out / "speed.csv")
    assert [r["method"] for r in rows] == ["gaussian", "skimage-tv"]
    assert all(float(r["seconds"]) > 0 for r in rows)


def test_a_method_runs_in_the_settings_the_command_line_gives(folder: Path, tmp_path: Path) -> None:
    assert quality.main(["--data", str(folder), "--out", str(tmp_path), "--sigmas", "25",
                         "--methods", "gaussian:width=4", "gaussian"]) == 0
    _, rows = read_csv(next(tmp_path.glob("quality_*.csv")))
    by_key: dict[str, list[float]] = {}
    for row in rows:
        by_key.setdefault(row["method"], []).append(float(row["psnr"]))
    assert list(by_key) == ["gaussian:width=4", "gaussian"]
    assert by_key["gaussian:width=4"] != by_key["gaussian"]  # a wider blur gives other figures


@pytest.mark.parametrize("method, message", [
    ("gaussian:width=20", r"\[0.3, 10\]"),
    ("gaussian:nope=1", "width"),
    ("gaussian:width", "NAME=VALUE"),
    ("gaussian:width=wide", "a float"),
])
def test_a_bad_setting_is_a_command_line_error(method: str, message: str, folder: Path,
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        quality.main(["--data", str(folder), "--out", str(tmp_path), "--methods", method])
    assert stop.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_speed_times_the_inside_views_apart(tmp_path: Path) -> None:
    assert speed.main(["--sizes", "32", "--repeats", "1", "--methods", "gaussian", "--trace",
                       "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["speed_trace.csv", "speed_trace.md"]
    assert "with the inside views (trace=True)" in (tmp_path / "speed_trace.md").read_text()


def test_the_colour_test_folder_holds_colour_photographs_no_model_validates_on(tmp_path):
    paths = colour_samples.write(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)
    assert len(paths) == 3
    for path in paths:
        image = quality.load_image(path)
        assert image.ndim == 3 and min(image.shape[:2]) >= 500
        assert path.stem not in SKIMAGE_VALIDATION[True]


def test_realnoise_measures_one_sigma_and_the_fitted_curve(tmp_path: Path) -> None:
    """Two crops at night, FFDNet told one σ and told the curve fitted to each noisy crop: a
    row per image and way, the gain table, and the curve ahead on both."""
    from benchmarks import realnoise

    folder = tmp_path / "grey"
    folder.mkdir()
    for name, image in (("camera.png", data.camera()), ("moon.png", data.moon())):
        Image.fromarray(image[128:384, 128:384]).save(folder / name)
    out = tmp_path / "out"
    assert realnoise.main(["--data", str(folder), "--no-colour", "--methods", "ffdnet",
                           "--lights", "night", "--out", str(out)]) == 0
    with (out / "realnoise.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["image"], r["told"]) for r in rows} == {
        (image, told) for image in ("camera.png", "moon.png") for told in realnoise.TOLD}
    for image in ("camera.png", "moon.png"):
        psnr = {r["told"]: float(r["psnr"]) for r in rows if r["image"] == image}
        assert psnr["curve"] > psnr["one σ"], image
    report = (out / "realnoise.md").read_text(encoding="utf-8")
    assert "| night | grey (2) | FFDNet (`ffdnet`) |" in report


def test_bm3d_told_compares_the_ways_of_telling_bm3d_the_curve(tmp_path: Path) -> None:
    """Two dark crops at night: every way in the table, and each way of telling BM3D the
    curve ahead of one σ."""
    from benchmarks import bm3d_told

    folder = tmp_path / "grey"
    folder.mkdir()
    for name, image in (("camera.png", data.camera()), ("moon.png", data.moon())):
        Image.fromarray(image[128:224, 128:224]).save(folder / name)
    assert bm3d_told.main(["--data", str(folder), "--every", "1", "--out",
                           str(tmp_path / "out")]) == 0
    report = (tmp_path / "out" / "bm3d_told.md").read_text(encoding="utf-8")
    rows = {line.split(" | ")[0].lstrip("| "): line.split(" | ")
            for line in report.splitlines() if line.startswith("| ") and "---" not in line}
    assert set(bm3d_told.WAYS) <= set(rows)
    for way in list(bm3d_told.WAYS)[1:4]:
        assert float(rows[way][2].rstrip(" |")) > 0.5, way
