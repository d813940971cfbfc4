"""The epilogue's benchmark, end to end on two tiny generated images."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from benchmarks import inverse as bench


def test_the_inverse_benchmark_writes_its_tables(tmp_path: Path) -> None:
    folder = tmp_path / "grey"
    folder.mkdir()
    Image.fromarray(data.camera()[200:248, 200:248]).save(folder / "a.png")
    Image.fromarray(data.moon()[100:148, 100:148]).save(folder / "b.png")
    out = tmp_path / "out"
    argv = ["--data", str(folder), "--crop", "32", "--limit", "1", "--priors", "tv",
            "--problems", "deblur", "demosaic", "--holds", "dncnn_bf", "--out", str(out)]
    assert bench.main(argv) == 0
    report = (out / "inverse.md").read_text()
    assert "| Deblurring (1 image) | PnP-HQS, tv prior |" in report
    assert "| Demosaicing (1 image) | baseline |" in report
    assert "Inpainting" not in report and "| 255 |" in report
    with (out / "inverse.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {r["how"] for r in rows} == {"baseline", "Wiener, best balance (oracle)",
                                        "PnP-HQS, tv prior"}
    oracle = [float(r["psnr"]) for r in rows if r["how"].startswith("Wiener")]
    baseline = [float(r["psnr"]) for r in rows if r["problem"] == "deblur"
                and r["how"] == "baseline"]
    assert np.all(np.isfinite(oracle)) and oracle[0] >= baseline[0] - 0.1
