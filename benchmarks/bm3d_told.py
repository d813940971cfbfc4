"""How much BM3D gains from being told how the noise depends on the light, three ways.

``python -m benchmarks.bm3d_told --data ../shared/data/train400 [--every 50] [--light night]``

The real-noise benchmark (:mod:`benchmarks.realnoise`) finds the stabilised
BM3D short of the gain the networks told a noise map reach. This asks
whether another way of telling BM3D the curve would do better, on images
the presets were never looked at with (every ``--every``-th image of the
folder), with the true curve, so that no fitting error enters:

- **one σ**: today's finest-scale MAD estimate, the baseline;
- **stabilised**: the generalised Anscombe transform, BM3D as if Gaussian,
  the exact unbiased inverse (:func:`denoisers.run`'s ``noise_model``);
- **stabilised, iterated**: Azzari & Foi's iteration (2016), each pass
  stabilising a mix of the noisy image and the last estimate, λ z + (1 - λ) ŷ,
  whose variance is λ² (a x + b), with λ = 1 then 0.5;
- **local σ**: BM3D run at five σ spanning the image's noise levels (the
  curve at the smoothed image), each pixel taken from the two runs that
  bracket its own level, blended linearly: BM3D told the level where it is,
  without any transform;
- **DRUNet with the map**, the network the page compares it with.

Reference: L. Azzari and A. Foi, "Variance stabilization for noisy+estimate
combination in iterative Poisson denoising", IEEE Signal Processing Letters
23(8), 2016, pp. 1086-1090. https://doi.org/10.1109/LSP.2016.2580600
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import denoisers
from denoisers import metrics, noise
from denoisers.images import image_paths, load_image
from denoisers.noise import PoissonGaussian

from . import common

MODULE = "benchmarks.bm3d_told"
#: The mixing weights of the iterated stabilisation's passes.
ITERATION = (1.0, 0.5)
#: The BM3D runs the local-σ blend chooses between.
LOCAL_RUNS = 5


def one_sigma(noisy: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    return denoisers.run("bm3d", noisy, noise.estimate_sigma(noisy)).image


def stabilised(noisy: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    return denoisers.run("bm3d", noisy, noise.estimate_sigma(noisy), noise_model=model).image


def iterated(noisy: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    estimate = noisy
    for weight in ITERATION:
        mixed = weight * noisy + (1 - weight) * estimate
        told = PoissonGaussian(model.a * weight**2, model.b * weight**2)
        estimate = stabilised(mixed, told)
    return estimate


def local_sigma(noisy: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    """Each pixel of a grey image from the BM3D runs at the two σ bracketing its own level."""
    levels = denoisers.noise_level_map(noisy, model)
    sigmas = np.geomspace(max(float(levels.min()), 1e-3), float(levels.max()), LOCAL_RUNS)
    runs = np.stack([denoisers.run("bm3d", noisy, float(s)).image for s in sigmas])
    position = np.interp(levels, sigmas, np.arange(LOCAL_RUNS))
    below = np.clip(np.floor(position).astype(int), 0, LOCAL_RUNS - 2)
    above_weight = position - below
    pick = np.take_along_axis
    return ((1 - above_weight) * pick(runs, below[None], 0)[0]
            + above_weight * pick(runs, below[None] + 1, 0)[0])


def drunet_map(noisy: np.ndarray, model: PoissonGaussian) -> np.ndarray:
    return denoisers.run("drunet", noisy, noise.estimate_sigma(noisy), noise_model=model).image


WAYS: dict[str, Callable[[np.ndarray, PoissonGaussian], np.ndarray]] = {
    "one σ (MAD)": one_sigma,
    "stabilised": stabilised,
    f"stabilised, iterated (λ = {', '.join(f'{w:g}' for w in ITERATION)})": iterated,
    f"local σ ({LOCAL_RUNS} runs blended)": local_sigma,
    "DRUNet with the map": drunet_map,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder of test images")
    parser.add_argument("--every", type=common.positive_int, default=50,
                        help="take every this many-th image of the folder, in name order")
    parser.add_argument("--light", default="night", choices=list(noise.PRESETS))
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT / "realnoise")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    model = noise.PRESETS[args.light]
    paths = image_paths(args.data)[::args.every]
    psnrs: dict[str, list[float]] = {way: [] for way in WAYS}
    for seed, path in enumerate(paths):
        common.progress(f"{path.name} ({seed + 1} of {len(paths)})")
        clean = load_image(path, colour=False)
        noisy = noise.add_poisson_gaussian(clean, model, seed=seed)
        for way, denoise in WAYS.items():
            psnrs[way].append(metrics.psnr(clean, denoise(noisy, model)))
    base = float(np.mean(psnrs["one σ (MAD)"]))
    rows = [[way, f"{np.mean(values):.2f}", f"{np.mean(values) - base:+.2f}"]
            for way, values in psnrs.items()]
    report = "\n".join([
        common.header("BM3D told the noise-level curve, three ways",
                      common.command(MODULE, argv),
                      {"libraries": common.versions(common.LIBRARIES),
                       "images": f"{len(paths)} of {args.data.name}: "
                                 + ", ".join(p.name for p in paths),
                       "noise": f"Poisson-Gaussian, the {args.light} preset (a = {model.a:g}, "
                                f"b = {model.b:g}), the true curve told, not clipped"}),
        f"## Mean PSNR (dB), {args.light}", "",
        common.markdown_table(["told", "PSNR", "gain over one σ"], rows),
    ])
    out = common.output_dir(args.out)
    (out / "bm3d_told.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
