"""The NL-means benchmark, end to end on tiny generated data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from benchmarks import nonlocal_means
from denoisers.core import as_image
from denoisers.metrics import psnr


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 40x40 grey PNG crops of scikit-image's moon and coins."""
    path = tmp_path_factory.mktemp("tiny")
    Image.fromarray(data.moon()[200:240, 200:240]).save(path / "a_moon.png")
    Image.fromarray(data.coins()[100:140, 100:140]).save(path / "b_coins.png")
    return path


def test_the_benchmark_writes_both_tables_with_the_scores_it_measured(folder, tmp_path, capsys):
    argv = ["--data", str(folder), "--sigmas", "25", "50", "--repeats", "1", "--side", "48",
            "--out", str(tmp_path)]
    assert nonlocal_means.main(argv) == 0
    printed = capsys.readouterr().out
    written = (tmp_path / "nonlocal_means.md").read_text()
    assert printed.strip() == written.strip()
    assert f"- command: `python -m benchmarks.nonlocal_means {' '.join(argv)}`" in written
    assert "- machine: " in written and "load average before timing" in written
    rows = {tuple(cells[:2]): [float(c) for c in cells[2:5]] for cells in (
        [c.strip().strip("*") for c in line.strip("|").split("|")]
        for line in written.splitlines() if re.match(r"\| (camera|a_moon|b_coins|\*\*)", line))}
    assert set(rows) == {(name, sigma) for sigma in ("25", "50") for name in
                         ("camera", "a_moon.png", "b_coins.png", f"{folder.name} mean (2 images)")}
    for ours, peer, difference in rows.values():
        assert difference == pytest.approx(ours - peer, abs=0.011)
    for sigma in ("25", "50"):
        mean = rows[(f"{folder.name} mean (2 images)", sigma)]
        pair = [rows[(name, sigma)] for name in ("a_moon.png", "b_coins.png")]
        assert mean[0] == pytest.approx(np.mean([p[0] for p in pair]), abs=0.006)
    # The camera's row is the benchmark's own measurement: recompute it.
    clean = nonlocal_means.camera(48)
    noisy = nonlocal_means.noisy_image(clean, 0, 25.0, 0)
    assert rows[("camera", "25")][0] == pytest.approx(
        psnr(clean, nonlocal_means.ours(noisy, 25 / 255)), abs=0.006)
    timing = re.search(r"\| `nlm` \| ([\d.]+) ms \| ([\d.]+) \|", written)
    assert timing and float(timing.group(1)) > 0
    assert "## Time on the 48x48 camera" in written


def test_the_camera_crop_is_the_centre_of_the_sample():
    crop = nonlocal_means.camera(64)
    np.testing.assert_array_equal(crop, as_image(data.camera())[224:288, 224:288])
