"""The epilogue's checks: every problem restored with classical baselines and denoiser priors.

    python -m benchmarks.inverse --data ../shared/data/set12 --crop 256

Tables, written to ``--out`` as ``inverse.md``:

1. **Restoration.** Each problem at its default (benchmark) setting —
   deblurring: Gaussian kernel of std 1.6 px, noise sigma 2.55 / 255;
   inpainting: 50 % of the pixels missing at random, no noise;
   super-resolution: x2 bicubic downsampling, no noise; demosaicing: RGGB,
   no noise — on every image of ``--data`` (grey problems) and on
   scikit-image's three colour photographs of :mod:`benchmarks.colour_samples`
   (demosaicing): the mean PSNR of the classical baseline and of
   plug-and-play (half-quadratic splitting, the problem's default
   iterations) with each ``--priors`` denoiser, with the mean time per image.
   For deblurring, Wiener deconvolution at the best of a grid of
   regularisations (an oracle: chosen with the clean image) too.
2. **How far the denoisers hold.** The PSNR of each ``--holds`` denoiser's
   output, told the true sigma, against the noisy input's, for sigma up to
   255 (1.0 on the [0, 1] scale), on the grey images: where a denoiser stops
   removing noise, an ascent from pure noise cannot start.

``--crop N`` takes the centre N x N of every image (the BM3D prior costs
seconds per iteration on 512 x 512). Degradations and noise are seeded per
image (``degrade(clean, seed=i)``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import denoisers
from denoisers import images, inverse
from denoisers.images import image_paths, load_image
from denoisers.metrics import psnr

from . import colour_samples, common
from .quality import noisy_image

MODULE = "benchmarks.inverse"
GREY_PROBLEMS = ("deblur", "inpaint", "super_resolution")
#: The Wiener oracle's grid of balances (of the Laplacian penalty).
WIENER_GRID = np.geomspace(1e-6, 1.0, 31)
#: The noise levels (0-255) of the second table.
HOLD_SIGMAS = (25, 50, 100, 150, 200, 255)


@dataclass(frozen=True)
class Row:
    """One restoration: a problem, an image, how it was restored, PSNR and seconds."""

    problem: str
    image: str
    how: str
    psnr: float
    seconds: float


def centre_crop(image: np.ndarray, side: int | None) -> np.ndarray:
    """The centre ``side`` x ``side`` of ``image`` (all of it where it is smaller, or with
    no ``side``)."""
    return image if side is None else images.centre_crop(image, side)


def _timed(function, *args, **kwargs) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    out = function(*args, **kwargs)
    return getattr(out, "image", out), time.perf_counter() - start


def restorations(problem_name: str, images: Sequence[tuple[str, np.ndarray]],
                 priors: Sequence[str]) -> list[Row]:
    """Baseline and plug-and-play with each prior, for ``problem_name`` on ``images``."""
    rows = []
    for index, (name, clean) in enumerate(images):
        problem = inverse.make(problem_name, shape=clean.shape)
        y = problem.degrade(clean, seed=index)
        estimate, seconds = _timed(problem.baseline, y)
        rows.append(Row(problem_name, name, "baseline", psnr(clean, estimate), seconds))
        if isinstance(problem, inverse.problems.Deblur):
            best = max(psnr(clean, np.clip(problem.wiener(y.astype(np.float64), b), 0, 1))
                       for b in WIENER_GRID)
            rows.append(Row(problem_name, name, "Wiener, best balance (oracle)", best, 0.0))
        for prior in priors:
            common.progress(f"{problem_name}: {prior} on {name}")
            estimate, seconds = _timed(inverse.restore, problem, y, prior=prior)
            rows.append(Row(problem_name, name, f"PnP-HQS, {prior} prior", psnr(clean, estimate),
                            seconds))
    return rows


def restoration_table(rows: Sequence[Row]) -> str:
    """Mean PSNR and time per problem and way of restoring."""
    lines = []
    for problem in dict.fromkeys(r.problem for r in rows):
        own = [r for r in rows if r.problem == problem]
        count = len({r.image for r in own})
        for how in dict.fromkeys(r.how for r in own):
            at = [r for r in own if r.how == how]
            seconds = statistics.fmean(r.seconds for r in at)
            images = "1 image" if count == 1 else f"{count} images"
            lines.append((f"{inverse.PROBLEMS[problem].title} ({images})", how,
                          f"{statistics.fmean(r.psnr for r in at):.2f}",
                          common.duration(seconds) if seconds else "—"))
    return common.markdown_table(("problem", "restored by", "mean PSNR (dB)", "time / image"),
                                 lines)


def holds_table(images: Sequence[tuple[str, np.ndarray]], keys: Sequence[str]) -> str:
    """Mean PSNR of each denoiser's output (told the true sigma) and of its noisy input."""
    columns = ["σ (0-255)", "noisy", *(f"`{k}`" for k in keys)]
    lines = []
    for sigma in HOLD_SIGMAS:
        noisy = [noisy_image(clean, index, sigma, 0) for index, (_, clean) in enumerate(images)]
        cells = [f"{statistics.fmean(psnr(c, n) for (_, c), n in zip(images, noisy)):.2f}"]
        for key in keys:
            common.progress(f"holds: {key} at sigma {sigma}")
            outputs = [denoisers.run(key, n, min(sigma / 255, 1.0)).image for n in noisy]
            mean = statistics.fmean(psnr(c, o) for (_, c), o in zip(images, outputs))
            cells.append(f"{mean:.2f}")
        lines.append([f"{sigma}", *cells])
    return common.markdown_table(columns, lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of grey test images")
    parser.add_argument("--crop", type=common.positive_int, help="centre crop side (pixels)")
    parser.add_argument("--limit", type=common.positive_int, help="use only the first N images")
    parser.add_argument("--priors", nargs="+", default=["tv", "bm3d", "drunet"], metavar="KEY",
                        help="denoisers used as priors (default: tv bm3d drunet)")
    parser.add_argument("--problems", nargs="+", choices=list(inverse.PROBLEMS),
                        default=list(inverse.PROBLEMS), help="which problems (default: all)")
    parser.add_argument("--holds", nargs="*", default=["drunet", "ffdnet", "dncnn_bf"],
                        metavar="KEY", help="denoisers of the how-far-they-hold table")
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT)
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    for key in [*args.priors, *args.holds]:
        try:
            denoisers.get(key)
        except denoisers.InvalidInput as error:
            parser.error(str(error))
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder")

    grey = [(p.name, centre_crop(load_image(p, colour=False), args.crop))
            for p in image_paths(args.data)[:args.limit]]
    with tempfile.TemporaryDirectory() as folder:
        colour = [(p.name, centre_crop(load_image(p, colour=True), args.crop))
                  for p in colour_samples.write(Path(folder))[:args.limit]]
    rows = [row for name in GREY_PROBLEMS if name in args.problems
            for row in restorations(name, grey, args.priors)]
    if "demosaic" in args.problems:
        rows += restorations("demosaic", colour, args.priors)
    crop = f"centre {args.crop}x{args.crop} crops" if args.crop else "whole images"
    report = "\n".join([
        common.header("The epilogue: inverse problems with denoiser priors",
                      common.command(MODULE, argv),
                      {"libraries": common.versions(common.LIBRARIES),
                       "images": f"{args.data.resolve().name} (grey problems) and scikit-image's "
                                 f"colour photographs (demosaicing), {crop}"}),
        "## Restoration: classical baseline against plug-and-play with each prior", "",
        "Settings: deblurring, Gaussian kernel std 1.6 px and noise sigma 2.55 (0-255); "
        "inpainting, 50 % of the pixels missing at random; super-resolution, x2 bicubic "
        "downsampling; demosaicing, RGGB. Only deblurring adds noise. Baselines: Wiener-type "
        "deconvolution with a Laplacian penalty, its balance by the discrepancy principle, "
        "biharmonic inpainting, bicubic interpolation, bilinear demosaicing.", "",
        restoration_table(rows),
        "## How far the denoisers hold: PSNR (dB) of the output, told the true sigma", "",
        holds_table(grey, args.holds) if args.holds else "(no denoiser asked for)\n",
    ])
    out = common.output_dir(args.out) / "inverse.md"
    out.write_text(report)
    common.write_csv(out.with_suffix(".csv"), Row, rows)
    print(report)
    common.progress(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
