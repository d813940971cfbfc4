"""The PDE chapter's own checks: stopping times, TV against its oracle, time at 512x512.

    python -m benchmarks.pde --data ../shared/data/set12

Three tables, written to ``--out`` as ``pde.md``:

1. **Stopping time.** The diffusions stop at a time chosen from sigma. For
   each diffusion, on scikit-image samples (grey) and on every image of
   ``--data`` at sigma 25, the PSNR at the default stop against the best PSNR
   on the trace's curve (the trace runs three times past the stop, measured
   against the clean image through ``reference=``), with both times.
2. **TV against its oracle.** ``tv`` with its default weight against
   ``skimage.restoration.denoise_tv_chambolle`` at its best weight on a
   geometric grid (an oracle: it is chosen with the clean image), on camera,
   astronaut (grey) and each image of ``--data``, at sigma 25.
3. **Time.** Each method of the chapter with its defaults on the 512x512
   camera at sigma 25, the median of ``--repeats`` runs.

The noise is seeded as in :mod:`benchmarks.quality` (image ``i`` at sigma
``s`` draws from ``noise_seed(seed, i, s)``), not clipped.
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
from skimage import data as skdata
from skimage.color import rgb2gray
from skimage.restoration import denoise_tv_chambolle

import denoisers
from denoisers.images import image_paths, load_image
from denoisers.metrics import psnr

from . import common
from .quality import noisy_image

MODULE = "benchmarks.pde"
#: The chapter's methods, in the page's order.
KEYS = ("heat", "perona_malik", "tv", "beltrami")
#: The methods that stop at a time chosen from sigma.
DIFFUSIONS = ("heat", "perona_malik", "beltrami")
SIGMA = 25.0
#: The sample images of the stopping-time table: camera and five others (grey).
SAMPLES = ("camera", "astronaut", "coffee", "text", "coins", "moon")
#: The sample images TV is compared with its oracle on, besides the data.
ORACLE_SAMPLES = ("camera", "astronaut")
#: The weights the TV oracle tries (skimage's weight, on the [0, 1] scale).
ORACLE_WEIGHTS = np.geomspace(0.01, 0.5, 41)


@dataclass(frozen=True)
class Stop:
    """A diffusion on one image: PSNR and time at its default stop and at the curve's best."""

    method: str
    image: str
    default_time: float
    default_psnr: float
    best_time: float
    best_psnr: float


@dataclass(frozen=True)
class Oracle:
    """``tv`` with its default weight against skimage's TV at its best weight, on one image."""

    image: str
    tv_psnr: float
    oracle_weight: float
    oracle_psnr: float


def sample(name: str) -> np.ndarray:
    """A scikit-image sample as a grey float32 image in [0, 1]."""
    image = getattr(skdata, name)()
    grey = rgb2gray(image) if image.ndim == 3 else image / np.iinfo(image.dtype).max
    return grey.astype(np.float32)


def stopping(key: str, name: str, clean: np.ndarray, noisy: np.ndarray) -> Stop:
    """The default stop of ``key`` against the best time on its traced PSNR curve."""
    res = denoisers.run(key, noisy, SIGMA / 255, trace=True, reference=clean)
    curve = res.curves["PSNR (dB)"]
    times = res.extras["curve_x"][1]
    best = int(np.argmax(curve))
    return Stop(key, name, res.extras["stop"], psnr(clean, res.image), float(times[best]),
                float(curve[best]))


def oracle(name: str, clean: np.ndarray, noisy: np.ndarray) -> Oracle:
    """``tv`` at its default against skimage's TV at the best weight of the grid."""
    ours = psnr(clean, denoisers.run("tv", noisy, SIGMA / 255).image)
    scores = [psnr(clean, denoise_tv_chambolle(noisy, weight=float(w))) for w in ORACLE_WEIGHTS]
    best = int(np.argmax(scores))
    return Oracle(name, ours, float(ORACLE_WEIGHTS[best]), scores[best])


def seconds(key: str, noisy: np.ndarray, repeats: int) -> float:
    """The median wall time of ``repeats`` runs of ``key`` with its defaults."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        denoisers.run(key, noisy, SIGMA / 255)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def images(folder: Path | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, clean, noisy) for the samples and the images of ``folder``, noisy at sigma 25."""
    found = [(name, sample(name)) for name in SAMPLES]
    if folder is not None:
        found += [(path.name, load_image(path, colour=False)) for path in image_paths(folder)]
    return [(name, clean, noisy_image(clean, index, SIGMA, 0))
            for index, (name, clean) in enumerate(found)]


def stop_table(stops: Sequence[Stop]) -> str:
    rows = [(s.method, s.image, f"{s.default_time:.3g}", f"{s.default_psnr:.2f}",
             f"{s.best_time:.3g}", f"{s.best_psnr:.2f}", f"{s.best_psnr - s.default_psnr:.2f}")
            for s in stops]
    for key in sorted({s.method for s in stops}):
        own = [s for s in stops if s.method == key and s.image not in SAMPLES]
        if own:
            rows.append((key, f"**mean of {len(own)} data images**", "",
                         f"{statistics.fmean(s.default_psnr for s in own):.2f}", "",
                         f"{statistics.fmean(s.best_psnr for s in own):.2f}",
                         f"{statistics.fmean(s.best_psnr - s.default_psnr for s in own):.2f}"))
    return common.markdown_table(("method", "image", "default stop", "PSNR at it (dB)",
                                  "best time", "best PSNR (dB)", "lost (dB)"), rows)


def oracle_table(found: Sequence[Oracle]) -> str:
    rows = [(o.image, f"{o.tv_psnr:.2f}", f"{o.oracle_weight:.3g}", f"{o.oracle_psnr:.2f}",
             f"{o.tv_psnr - o.oracle_psnr:+.2f}") for o in found]
    data = [o for o in found if o.image not in SAMPLES]
    if data:
        rows.append((f"**mean of {len(data)} data images**",
                     f"{statistics.fmean(o.tv_psnr for o in data):.2f}", "",
                     f"{statistics.fmean(o.oracle_psnr for o in data):.2f}",
                     f"{statistics.fmean(o.tv_psnr - o.oracle_psnr for o in data):+.2f}"))
    return common.markdown_table(("image", "tv, default (dB)", "oracle weight",
                                  "skimage TV at it (dB)", "difference"), rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder of test images (e.g. ../shared/data/set12)")
    parser.add_argument("--repeats", type=common.positive_int, default=3)
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT)
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)

    scenes = images(args.data)
    stops = []
    for key in DIFFUSIONS:
        for name, clean, noisy in scenes:
            common.progress(f"stopping time: {key} on {name}")
            stops.append(stopping(key, name, clean, noisy))
    oracle_scenes = [s for s in scenes if s[0] in ORACLE_SAMPLES or s[0] not in SAMPLES]
    oracles = []
    for name, clean, noisy in oracle_scenes:
        common.progress(f"TV oracle: {name}")
        oracles.append(oracle(name, clean, noisy))
    camera = scenes[0][2]
    times = [(denoisers.get(k).name, k, seconds(k, camera, args.repeats)) for k in KEYS]

    report = "\n".join([
        common.header("The PDE chapter: stopping times, TV's oracle, time",
                      common.command(MODULE, argv),
                      {"libraries": common.versions(common.LIBRARIES),
                       "noise": f"Gaussian, sigma {SIGMA:g} (0-255), seeded, not clipped"}),
        "## Stopping time: the default against the best on the PSNR curve", "",
        stop_table(stops),
        "## TV with its default weight against skimage's TV at its best weight", "",
        f"The oracle tries {len(ORACLE_WEIGHTS)} weights from {ORACLE_WEIGHTS[0]:g} to "
        f"{ORACLE_WEIGHTS[-1]:g} (geometric) and keeps the best for each image.", "",
        oracle_table(oracles),
        "## Time on the 512x512 camera (grey), defaults, median of "
        f"{args.repeats}", "",
        common.markdown_table(("method", "time"), [(common.label(n, k), common.duration(t))
                                                   for n, k, t in times]),
    ])
    out = common.output_dir(args.out) / "pde.md"
    out.write_text(report)
    print(report)
    common.progress(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
