"""The NL-means chapter's own check: ``nlm`` against scikit-image's NL-means, quality and time.

    python -m benchmarks.nonlocal_means --data ../shared/data/set12 \
        --out assets/benchmarks/nonlocal_means

Two tables, written to ``--out`` as ``nonlocal_means.md``:

1. **Quality.** PSNR of ``nlm`` with its defaults and of
   ``skimage.restoration.denoise_nl_means(noisy, fast_mode=True,
   patch_size=7, patch_distance=11, h, sigma=sigma)`` (the quality
   benchmark's peer, at the h chosen on train400 by :mod:`benchmarks.peers`)
   on scikit-image's camera and, with ``--data``, on each grey image of the
   folder (their mean, and each image), at each sigma.
2. **Time.** Both on the camera (512x512 unless ``--side`` crops it) at sigma
   25: the median of ``--repeats`` runs of each after one warm-up, the runs
   of the two interleaved so that both meet the same load.

The noise is seeded as in :mod:`benchmarks.quality` (image ``i`` of the
folder at sigma ``s`` draws from ``noise_seed(seed, i, s)``; the camera is
image 0 of its own), not clipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from skimage import data as skdata

import denoisers
from denoisers.core import as_image
from denoisers.images import image_paths, load_image
from denoisers.metrics import psnr

from . import common
from .quality import PEERS, noisy_image, peers_note

MODULE = "benchmarks.nonlocal_means"
#: The peer, exactly as the quality benchmark runs it.
PEER = PEERS["skimage-nl-means"]
TIMING_SIGMA = 25.0

Denoise = Callable[[np.ndarray, float], np.ndarray]


@dataclass(frozen=True)
class Score:
    """``nlm`` and the peer on one image at one sigma (0-255 scale)."""

    image: str
    sigma: float
    nlm: float
    peer: float


def ours(noisy: np.ndarray, sigma: float) -> np.ndarray:
    """``nlm`` with its defaults, through the registry."""
    return denoisers.run("nlm", noisy, sigma).image


def camera(side: int) -> np.ndarray:
    """scikit-image's camera (grey, 512x512), its centre ``side`` x ``side`` crop if smaller."""
    image = as_image(skdata.camera())
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    return np.ascontiguousarray(image[top:top + side, left:left + side])


def scores(name: str, clean: np.ndarray, index: int, sigmas: Sequence[float],
           seed: int) -> list[Score]:
    """Both methods' PSNR on ``clean`` at each sigma, on the same noisy image."""
    found = []
    for sigma in sigmas:
        noisy = noisy_image(clean, index, sigma, seed)
        found.append(Score(name, sigma, psnr(clean, ours(noisy, sigma / 255)),
                           psnr(clean, PEER.denoise(noisy, sigma / 255))))
    return found


def timings(noisy: np.ndarray, sigma: float, repeats: int) -> dict[str, float]:
    """The median seconds of ``repeats`` runs of each method after a warm-up, interleaved."""
    runs: dict[str, Denoise] = {"nlm": ours, "peer": PEER.denoise}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for name, denoise in runs.items():
        denoise(noisy, sigma)
    for _ in range(repeats):
        for name, denoise in runs.items():
            start = time.perf_counter()
            denoise(noisy, sigma)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def quality_table(found: Sequence[Score], sigmas: Sequence[float], data_name: str) -> str:
    """The camera's rows, the data's mean, then each data image, per sigma."""
    rows = []
    for sigma in sigmas:
        at = [s for s in found if s.sigma == sigma]
        own = [s for s in at if s.image != "camera"]
        lines = [(s.image, s.nlm, s.peer) for s in at if s.image == "camera"]
        if own:
            lines.append((f"**{data_name} mean ({len(own)} images)**",
                          statistics.fmean(s.nlm for s in own),
                          statistics.fmean(s.peer for s in own)))
            lines += [(s.image, s.nlm, s.peer) for s in own]
        rows += [(name, f"{sigma:g}", f"{a:.2f}", f"{b:.2f}", f"{a - b:+.2f}")
                 for name, a, b in lines]
    return common.markdown_table(("image", "σ", "`nlm` (dB)", "skimage (dB)", "difference"),
                                 rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder of test images (e.g. ../shared/data/set12)")
    parser.add_argument("--sigmas", type=float, nargs="+", default=[15.0, 25.0, 50.0])
    parser.add_argument("--repeats", type=common.positive_int, default=3)
    parser.add_argument("--side", type=common.positive_int, default=512,
                        help="crop the camera to its centre side x side (512: all of it)")
    parser.add_argument("--seed", type=common.natural_int, default=0)
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT / "nonlocal_means")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)

    clean = camera(min(args.side, 512))
    common.progress("quality: camera")
    found = scores("camera", clean, 0, args.sigmas, args.seed)
    data_name = "data"
    if args.data is not None:
        data_name = args.data.resolve().name
        for index, path in enumerate(image_paths(args.data)):
            common.progress(f"quality: {path.name}")
            found += scores(path.name, load_image(path, colour=False), index, args.sigmas,
                            args.seed)
    load = os.getloadavg()[0]
    common.progress("time")
    times = timings(noisy_image(clean, 0, TIMING_SIGMA, args.seed), TIMING_SIGMA / 255,
                    args.repeats)
    side = f"{clean.shape[0]}x{clean.shape[1]}"
    report = "\n".join([
        common.header("Non-local means: `nlm` against scikit-image's NL-means",
                      common.command(MODULE, argv),
                      {"libraries": common.versions(common.LIBRARIES),
                       "peer": "skimage.restoration.denoise_nl_means(noisy, fast_mode=True, "
                               "patch_size=7, patch_distance=11, h, sigma=sigma), "
                               + peers_note(["skimage-nl-means"], args.sigmas),
                       "noise": "Gaussian, seeded as benchmarks.quality, not clipped",
                       "load average before timing": f"{load:.2f} (1 minute)"}),
        "## PSNR (dB), `nlm` with its defaults, the peer at its train400 best", "",
        quality_table(found, args.sigmas, data_name),
        f"## Time on the {side} camera (grey), σ = {TIMING_SIGMA:g}, median of "
        f"{args.repeats} warm runs, interleaved", "",
        common.markdown_table(("method", "time", "ratio to skimage"), [
            ("`nlm`", common.duration(times["nlm"]), f"{times['nlm'] / times['peer']:.2f}"),
            ("skimage NL-means", common.duration(times["peer"]), "1.00")]),
    ])
    out = common.output_dir(args.out) / "nonlocal_means.md"
    out.write_text(report)
    print(report)
    common.progress(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
