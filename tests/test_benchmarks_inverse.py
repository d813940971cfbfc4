"""The epilogue's benchmark, end to end on two tiny generated images, and its small table as
the restorations' regression floors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from benchmarks import colour_samples, grey_samples
from benchmarks import inverse as bench
from denoisers.images import load_image


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


#: The regression floors' table: ``python -m benchmarks.grey_samples --out runs/grey5``, then
#: the command in its header (one image a problem, 64x64 centre crops, the DRUNet prior).
FLOORS = Path(__file__).resolve().parent.parent / "assets/benchmarks/inverse_small/inverse.csv"
#: How far below its table a figure may fall before the floor fails.
FLOOR_DB = 0.2


def _floor_rows(problem: str) -> list[dict[str, str]]:
    with FLOORS.open() as handle:
        return [r for r in csv.DictReader(handle) if r["problem"] == problem]


@pytest.mark.parametrize("problem", ["deblur", "inpaint", "super_resolution", "demosaic"])
def test_every_problem_holds_its_small_benchmark_figures(tmp_path: Path, problem: str) -> None:
    """Each problem's baseline and DRUNet-prior PSNR, image by image, at most 0.2 dB below
    the committed small benchmark (images that are not Set12, so the default run needs no
    data): a change that costs a restoration quality fails here before the tables move."""
    expected = _floor_rows(problem)
    colour = problem == "demosaic"
    photographs = (colour_samples if colour else grey_samples).PHOTOGRAPHS
    names = list(dict.fromkeys(r["image"] for r in expected))
    paths = colour_samples.write(tmp_path, {Path(n).stem: photographs[Path(n).stem]
                                            for n in names})
    images = [(p.name, bench.centre_crop(load_image(p, colour=colour), 64)) for p in paths]
    found = {(r.image, r.how): r.psnr for r in bench.restorations(problem, images, ["drunet"])}
    floors = {(r["image"], r["how"]): float(r["psnr"]) - FLOOR_DB for r in expected}
    assert found.keys() == floors.keys()
    below = {key: (found[key], floor) for key, floor in floors.items() if found[key] < floor}
    assert not below, f"below the floor (found, floor): {below}"
