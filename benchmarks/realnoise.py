"""Real noise: a camera's Poisson-Gaussian noise, denoised with one sigma or with its curve.

    python -m benchmarks.realnoise --data ../shared/data/set12

Every image (the Set12 folder given, and the three held-out colour photographs
of :mod:`benchmarks.colour_samples`) gets a phone's noise in each light of
:data:`denoisers.noise.PRESETS` (variance ``a x + b``, seeded, not clipped).
Nothing is told the truth: each method runs

- with **one sigma**, today's estimate for an already-noisy photo (the
  finest-scale wavelet MAD, :func:`denoisers.noise.estimate_sigma`);
- with **the curve** fitted to the noisy image itself
  (:func:`denoisers.noise_level.fit_noise_level`): a network that takes a
  noise map (FFDNet, DRUNet) is given the curve's level at every pixel, any
  other method runs on the generalised Anscombe transform and comes back by
  the exact unbiased inverse (:func:`denoisers.run`'s ``noise_model``).

Where the fit cannot tell (its ``problem``), the curve column falls back to
the one sigma and the report counts those images. The report has the mean
PSNR per light, group (grey, colour) and method, the gain of the curve, and
the fitted a and b against the true ones.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import denoisers
from denoisers import metrics, noise
from denoisers.images import image_paths, load_image
from denoisers.noise_level import fit_noise_level

from . import colour_samples, common

MODULE = "benchmarks.realnoise"
#: The methods compared by default: the classical summit and the two networks told a map.
METHODS = ("bm3d", "ffdnet", "drunet")
#: The ways a method is told the noise.
TOLD = ("one σ", "curve")


@dataclass(frozen=True)
class Row:
    """One image in one light, one method told the noise one way."""

    image: str
    group: str
    light: str
    method: str
    told: str
    psnr: float
    ssim: float
    seconds: float
    true_a: float
    true_b: float
    fitted_a: float
    fitted_b: float
    estimated_sigma255: float
    fit_problem: str


def images(data: Path | None, colour: bool = True) -> list[tuple[str, str, np.ndarray]]:
    """(name, group, clean image) of the grey folder ``data`` and, with ``colour``, of the
    colour photographs."""
    found = []
    if data is not None:
        found += [(path.name, "grey", load_image(path, colour=False))
                  for path in image_paths(data)]
    if colour:
        for name, load in colour_samples.PHOTOGRAPHS.items():
            found.append((name, "colour", load().astype(np.float32) / 255))
    return found


def measure(name: str, group: str, clean: np.ndarray, light: str, seed: int,
            methods: Sequence[str]) -> list[Row]:
    """Every method, told the noise both ways, on ``clean`` with ``light``'s noise."""
    truth = noise.PRESETS[light]
    noisy = noise.add_poisson_gaussian(clean, truth, seed=seed)
    sigma = noise.estimate_sigma(noisy)
    fit = fit_noise_level(noisy)
    curve = fit.model
    rows = []
    for key in methods:
        for told in TOLD:
            result = denoisers.run(key, noisy, sigma,
                                   noise_model=curve if told == "curve" else None)
            rows.append(Row(name, group, light, key, told,
                            round(metrics.psnr(clean, result.image), 3),
                            round(metrics.ssim(clean, result.image), 4),
                            round(result.seconds, 3), truth.a, truth.b,
                            float("nan") if curve is None else curve.a,
                            float("nan") if curve is None else curve.b,
                            round(sigma * 255, 2), fit.problem or ""))
    return rows


def gain_table(rows: Sequence[Row], methods: Sequence[str]) -> str:
    """Mean PSNR per light, group and method: one sigma, the curve, and the curve's gain."""
    lines = []
    for light in noise.PRESETS:
        for group in ("grey", "colour"):
            chosen = [r for r in rows if r.light == light and r.group == group]
            if not chosen:
                continue
            count = len({r.image for r in chosen})
            for key in methods:
                mean = {told: np.mean([r.psnr for r in chosen if r.method == key
                                       and r.told == told]) for told in TOLD}
                lines.append([light, f"{group} ({count})", common.label(denoisers.get(key).name,
                                                                         key),
                              f"{mean['one σ']:.2f}", f"{mean['curve']:.2f}",
                              f"{mean['curve'] - mean['one σ']:+.2f}"])
    return common.markdown_table(("light", "images", "method", "one σ (MAD)",
                                  "the fitted curve", "gain (dB)"), lines)


def fit_table(rows: Sequence[Row]) -> str:
    """The fitted a and b against the truth: medians over the images, per light."""
    lines = []
    for light, truth in noise.PRESETS.items():
        once = {r.image: r for r in rows if r.light == light}.values()
        if not once:
            continue
        fitted = [r for r in once if not r.fit_problem]
        a = np.median([r.fitted_a for r in fitted]) if fitted else float("nan")
        b = np.median([r.fitted_b for r in fitted]) if fitted else float("nan")
        mid = np.median([np.sqrt(r.fitted_a * 0.5 + r.fitted_b) / truth.sigma(0.5)
                         for r in fitted]) if fitted else float("nan")
        lines.append([light, f"{truth.a:g}", f"{truth.b:g}", f"{a:.3g}", f"{b:.3g}",
                      f"{mid:.3f}", f"{len(once) - len(fitted)} of {len(once)}",
                      f"{np.median([r.estimated_sigma255 for r in once]):.1f}"])
    return common.markdown_table(("light", "true a", "true b", "fitted a (median)",
                                  "fitted b (median)", "fitted σ(0.5) / true (median)",
                                  "images the fit could not tell", "MAD σ (median, 0–255)"),
                                 lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder of grey test images (e.g. ../shared/data/set12)")
    parser.add_argument("--methods", nargs="+", default=list(METHODS),
                        choices=common.method_keys())
    parser.add_argument("--lights", nargs="+", default=list(noise.PRESETS),
                        choices=list(noise.PRESETS))
    parser.add_argument("--colour", action=argparse.BooleanOptionalAction, default=True,
                        help="also the three colour photographs of benchmarks.colour_samples")
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT / "realnoise")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    rows: list[Row] = []
    for seed, (name, group, clean) in enumerate(images(args.data, args.colour)):
        for light in args.lights:
            common.progress(f"{name}, {light}")
            rows += measure(name, group, clean, light, seed, args.methods)
    out = common.output_dir(args.out)
    common.write_csv(out / "realnoise.csv", Row, rows)
    report = "\n".join([
        common.header("Real noise: one σ or the fitted noise-level curve",
                      common.command(MODULE, argv),
                      {"libraries": common.versions(common.LIBRARIES),
                       "noise": "Poisson-Gaussian, variance a x + b (denoisers.noise.PRESETS), "
                                "seeded by image, not clipped"}),
        "## Mean PSNR (dB): one σ (MAD) against the curve fitted to the noisy image", "",
        gain_table(rows, args.methods),
        "## The fitted curve against the truth", "",
        fit_table(rows),
    ])
    (out / "realnoise.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
