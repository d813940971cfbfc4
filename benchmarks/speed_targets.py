"""The lecture's speed targets (issue 26), each timed beside its peer in one run.

    python -m benchmarks.speed --targets [--repeats 3] [--out assets/benchmarks]

Each row is one of the targets the site must meet for a lecture on a 2-core
machine: the patch methods on the image sizes a page runs them at, the
default TV solver against scikit-image's Chambolle projection at the same
weight, and each of the epilogue's problems restored with the DRUNet prior
on 256x256. A row's time is the median of ``--repeats`` runs after a
warm-up; a peer (the reference ``bm3d`` package, scikit-image) is timed on
the same noisy image in the same run, alternating with the method, so that a
loaded machine slows both alike. The test images are scikit-image's
``camera`` (grey) and ``coffee`` (colour), resized, with seeded σ 25 noise.
Writes ``speed_targets.md`` to ``--out``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage import data
from skimage.restoration import denoise_tv_chambolle
from skimage.transform import resize

import denoisers
from denoisers import inverse
from denoisers.noise import add_gaussian

from . import common

#: The noise of the test images, on the 0-255 scale.
SIGMA = 25


@dataclass(frozen=True)
class Target:
    """A timed task, its time target in seconds, and optionally a peer with a ratio target."""

    what: str
    run: Callable[[], object]
    seconds: float
    peer: str = ""
    peer_run: Callable[[], object] | None = None
    ratio: float | None = None


@dataclass(frozen=True)
class Timed:
    target: Target
    seconds: float
    peer_seconds: float | None

    def row(self) -> list[str]:
        t = self.target
        met = self.seconds <= t.seconds
        cells = [t.what, common.duration(self.seconds), f"≤ {common.duration(t.seconds)}"]
        if self.peer_seconds is None:
            return [*cells, "yes" if met else "**no**", "—", "—"]
        ratio = self.seconds / self.peer_seconds
        ratio_met = t.ratio is None or ratio <= t.ratio
        aim = f" (≤ {t.ratio:g}×)" if t.ratio is not None else ""
        return [*cells, "yes" if met and ratio_met else "**no**",
                f"{t.peer}: {common.duration(self.peer_seconds)}", f"{ratio:.2f}×{aim}"]


COLUMNS = ("task", "median time", "target", "met", "peer, same run", "ratio")


def noisy_resized(image: np.ndarray, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A uint8 sample resized to ``shape`` on the [0, 1] scale, with seeded σ 25 noise."""
    clean = resize(image.astype(np.float32) / 255, shape, anti_aliasing=True)
    return add_gaussian(clean.astype(np.float32), SIGMA / 255, seed=seed)


def _bm3d_package(noisy: np.ndarray) -> Callable[[], object] | None:
    try:
        import bm3d
    except ImportError:
        return None
    denoise = bm3d.bm3d_rgb if noisy.ndim == 3 else bm3d.bm3d
    return lambda: denoise(noisy, sigma_psd=SIGMA / 255)


def _method(key: str, noisy: np.ndarray) -> Callable[[], object]:
    return lambda: denoisers.run(key, noisy, SIGMA / 255)


def _restoration(problem_name: str, clean: np.ndarray) -> Callable[[], object]:
    problem = inverse.make(problem_name, shape=clean.shape)
    degraded = problem.degrade(clean, seed=0)
    return lambda: inverse.restore(problem, degraded, prior="drunet")


def targets() -> list[Target]:
    """The issue's table: what is timed, on what, against whom."""
    camera, coffee = data.camera(), data.coffee()
    grey512, grey256 = noisy_resized(camera, (512, 512)), noisy_resized(camera, (256, 256))
    colour = noisy_resized(coffee, (512, 768))
    tv_weight = denoisers.get("tv").resolve({}, SIGMA / 255)["weight"]
    rows = [
        Target("BM3D, grey 512x512", _method("bm3d", grey512), 2.0,
               "bm3d package", _bm3d_package(grey512), 0.2),
        Target("CBM3D, colour 768x512", _method("bm3d", colour), 4.0,
               "bm3d package (bm3d_rgb)", _bm3d_package(colour)),
        Target("WNNM, grey 512x512", _method("wnnm", grey512), 6.0),
        Target("EPLL, grey 256x256", _method("epll", grey256), 2.5),
        Target("K-SVD, grey 256x256", _method("ksvd", grey256), 1.0),
        Target("TV (default solver), grey 512x512", _method("tv", grey512), 1.0,
               "skimage denoise_tv_chambolle, same weight",
               lambda: denoise_tv_chambolle(grey512, weight=tv_weight), 1.0),
    ]
    clean256 = resize(camera.astype(np.float32) / 255, (256, 256), anti_aliasing=True)
    colour256 = resize(coffee.astype(np.float32) / 255, (256, 256), anti_aliasing=True)
    for name in inverse.PROBLEMS:
        clean = colour256 if inverse.PROBLEMS[name].colour_only else clean256
        rows.append(Target(f"Epilogue: {inverse.PROBLEMS[name].title}, DRUNet prior, 256x256",
                           _restoration(name, clean.astype(np.float32)), 8.0))
    return rows


def _once(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def time_target(target: Target, repeats: int) -> Timed:
    """The medians of ``repeats`` runs of the target and its peer, alternating, after a
    warm-up of each."""
    runs = [target.run] + ([target.peer_run] if target.peer_run else [])
    for run in runs:
        run()
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for index, run in enumerate(runs):
            times[index].append(_once(run))
    medians = [statistics.median(t) for t in times]
    return Timed(target, medians[0], medians[1] if len(medians) > 1 else None)


def report(timed: Sequence[Timed]) -> str:
    return (f"## The lecture's speed targets, σ = {SIGMA}\n\n"
            + common.markdown_table(COLUMNS, [t.row() for t in timed]))


def run_targets(argv: Sequence[str], repeats: int, out: Path, module: str) -> int:
    """Time every target, print the table and write it to ``out``/speed_targets.md."""
    timed = []
    for number, target in enumerate(all_targets := targets(), 1):
        timed.append(time_target(target, repeats))
        common.progress(f"[{number}/{len(all_targets)}] {target.what}: "
                        f"{common.duration(timed[-1].seconds)}")
    text = report(timed)
    print(text)
    head = common.header("Speed targets", common.command(module, argv),
                         {"libraries": common.versions(common.LIBRARIES),
                          "load average": " ".join(Path("/proc/loadavg").read_text().split()[:3])})
    common.output_dir(out)
    (out / "speed_targets.md").write_text(f"{head}\n{text}\n")
    return 0
