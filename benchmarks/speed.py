"""Speed benchmark: run time of every method on grey test images of given sizes.

    python -m benchmarks.speed --sizes 256 512 --repeats 5

The test image of each size is scikit-image's ``camera`` resized to
size x size, with seeded Gaussian noise of sigma 25 (0-255 scale). Each
method runs once to warm up, then ``--repeats`` times (``--slow-repeats`` for
methods flagged slow and for peers) through :func:`denoisers.run` with its
defaults; the median wall-clock time is reported, with the throughput in
megapixels per second. ``--peers`` times the reference implementations of
:mod:`benchmarks.quality` in the same run, so ratios are measured side by
side. ``--trace`` times the registered methods with ``trace=True``: with the
inside views their chapter pages draw (for the networks: the feature maps,
the first-layer filters, the equivalent kernel and the receptive field).
``--targets`` times instead the lecture's speed targets, each beside its peer
(:mod:`benchmarks.speed_targets`), and writes ``speed_targets.md``.

Writes ``speed.csv`` and ``speed.md`` (``speed_trace.*`` with ``--trace``)
to ``--out``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage import data

from . import common, speed_targets
from .quality import PEERS, Contender, add_contender_options, choose

MODULE = "benchmarks.speed"

#: The noise level of the test images, on the 0-255 scale (the targets' too).
SIGMA = speed_targets.SIGMA


@dataclass(frozen=True)
class Timing:
    """The median run time of one method on one test image."""

    method: str
    name: str
    size: int
    repeats: int
    seconds: float
    megapixels_per_second: float


def camera_image(size: int, seed: int) -> np.ndarray:
    """``camera`` resized to ``size`` x ``size``, float32, with sigma-25 noise."""
    return speed_targets.noisy_resized(data.camera(), (size, size), seed)


def median_seconds(contender: Contender, noisy: np.ndarray, repeats: int) -> float:
    """The median wall-clock time of ``repeats`` runs of a contender, after a warm-up."""
    contender.denoise(noisy, SIGMA / 255)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        contender.denoise(noisy, SIGMA / 255)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_contender(contender: Contender, images: dict[int, np.ndarray],
                   repeats: int) -> list[Timing]:
    """Time ``contender`` on each test image, ``repeats`` times after a warm-up."""
    timings = []
    for size, noisy in images.items():
        seconds = median_seconds(contender, noisy, repeats)
        timings.append(Timing(contender.key, contender.name, size, repeats, seconds,
                              noisy.size / 1e6 / seconds))
    return timings


def summary_table(contenders: Sequence[Contender], timings: Sequence[Timing],
                  sizes: Sequence[int]) -> str:
    """Median run time and megapixels per second per contender (rows) and size (columns)."""
    columns = ["method", *(f"{s}x{s}" for s in sizes), "repeats"]
    found = {(t.method, t.size): t for t in timings}
    lines = []
    for contender in contenders:
        own = [found[contender.key, size] for size in sizes]
        cells = [f"{common.duration(t.seconds)} ({t.megapixels_per_second:.3g} MP/s)"
                 for t in own]
        lines.append([common.label(contender.name, contender.key), *cells, str(own[0].repeats)])
    return common.markdown_table(columns, lines)


def build_parser() -> argparse.ArgumentParser:
    """The command line of the speed benchmark."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=common.positive_int, nargs="+", default=[256, 512],
                        help="side lengths of the square test images (default: 256 512)")
    parser.add_argument("--repeats", type=common.positive_int, default=5,
                        help="timed runs per method and size (default: 5)")
    parser.add_argument("--slow-repeats", type=common.positive_int, default=2,
                        help="timed runs for methods flagged slow (default: 2)")
    add_contender_options(parser, "timed in the same run")
    parser.add_argument("--trace", action="store_true",
                        help="time the registered methods with their inside views (trace=True)")
    parser.add_argument("--targets", action="store_true",
                        help="time the lecture's speed targets beside their peers instead")
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT,
                        help=f"output folder (default: {common.DEFAULT_OUT})")
    parser.add_argument("--seed", type=common.natural_int, default=0,
                        help="seed of the noise")
    return parser


def torch_threads() -> str:
    """The number of threads torch uses, or a note that torch is absent."""
    try:
        import torch
    except ImportError:
        return "torch not installed"
    return str(torch.get_num_threads())


def main(argv: list[str] | None = None) -> int:
    """Run the speed benchmark; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.targets:
        return speed_targets.run_targets(argv, args.repeats, args.out, MODULE)
    contenders, notes = choose(parser, args, trace=args.trace)
    images = {size: camera_image(size, args.seed) for size in args.sizes}

    timings = []
    for number, contender in enumerate(contenders, 1):
        slow = contender.slow or contender.key in PEERS
        repeats = min(args.repeats, args.slow_repeats) if slow else args.repeats
        start = time.perf_counter()
        timings += time_contender(contender, images, repeats)
        common.progress(f"[{number}/{len(contenders)}] {contender.key}: {repeats} repeats, "
                        f"{time.perf_counter() - start:.1f} s")

    views = ", with the inside views (trace=True)" if args.trace else ""
    text = (f"## Median run time{views}, grey camera with σ={SIGMA} noise\n\n"
            f"{summary_table(contenders, timings, args.sizes)}")
    for note in notes:
        text += f"\n\n{note}"
    print(text)
    out = common.output_dir(args.out)
    stem = "speed_trace" if args.trace else "speed"
    common.write_csv(out / f"{stem}.csv", Timing, timings)
    extra = {"libraries": common.versions(common.LIBRARIES), "torch threads": torch_threads()}
    head = common.header("Speed benchmark", common.command(MODULE, argv), extra)
    (out / f"{stem}.md").write_text(f"{head}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
