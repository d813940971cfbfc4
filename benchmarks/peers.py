"""The peers at their best: each peer's parameter chosen on training images, per sigma.

    python -m benchmarks.peers --data ../shared/data/train400 --out assets/benchmarks/peers

The quality benchmark (:mod:`benchmarks.quality`) sets a reference
implementation beside the project's methods; a comparison is only fair if the
peer runs at its best. This command searches a small grid for each peer on a
fixed subset of a folder of *training* images (``--count`` of them, evenly
spaced in file-name order; train400, never the Set12 test set) at each sigma,
and keeps the grid point of the best mean PSNR:

- ``skimage-tv``: ``denoise_tv_chambolle`` with ``weight = factor x sigma``;
- ``skimage-nl-means``: ``denoise_nl_means`` (fast mode, 7x7 patches, 23x23
  search window, ``sigma`` told) with ``h = factor x sigma``;
- ``skimage-wavelet``: ``denoise_wavelet`` (BayesShrink, soft) over the
  wavelet and the number of levels (those every training image allows);
- ``bm3d-package``: not searched. The ``bm3d`` package's best is its own
  default profile told the true sigma, which is what its authors tuned.

The noise is the quality benchmark's (:func:`benchmarks.quality.noisy_image`,
image ``i`` of the subset at sigma ``s``, not clipped). It writes
``peers.md`` (the search, one table per peer, the chosen settings first) and
``peers.json`` (the chosen settings, which the quality benchmark reads; a
sigma between those searched takes the nearest one's) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from denoisers.images import IMAGE_SUFFIXES, image_paths, load_image
from denoisers.metrics import psnr

from . import common
from .quality import PEER_CALLS, PEER_SETTINGS, PEERS, noisy_image

MODULE = "benchmarks.peers"
#: The folder names that hold test images: the search refuses them.
TEST_SETS = ("set12", "bsd68", "cbsd68", "kodak24", "mcmaster")
#: The wavelets the wavelet peer tries: the orthogonal ones the project's method offers.
WAVELETS = ("db1", "db2", "db4", "sym4", "sym8", "coif3")
#: The numbers of levels it tries, where every training image allows them (PyWavelets'
#: maximum for the wavelet's length; deeper levels would be all border effect).
LEVELS = (2, 3, 4, 5)

Params = dict[str, Any]
#: Mean PSNR of each grid point (in the grid's order) at each sigma (0-255 scale).
Scores = Mapping[float, Sequence[float]]


@dataclass(frozen=True)
class Search:
    """A peer's grid: the points tried (each a dict of its call's parameters), how a
    point is written in the table, and whether the points run along one scale (then a best
    at either end says the grid should be wider)."""

    points: tuple[Params, ...]
    describe: Callable[[Params], str]
    ordered: bool = True


def _factor(name: str) -> Callable[[Params], str]:
    return lambda point: f"{name} = {point[name + '_per_sigma']:g} σ"


def _wavelet_points(shapes: Sequence[tuple[int, ...]]) -> tuple[Params, ...]:
    import pywt

    side = min(min(shape[:2]) for shape in shapes)
    return tuple({"wavelet": name, "wavelet_levels": levels}
                 for name in WAVELETS for levels in LEVELS
                 if levels <= pywt.dwt_max_level(side, pywt.Wavelet(name).dec_len))


def searches(shapes: Sequence[tuple[int, ...]]) -> dict[str, Search]:
    """The grid of each searched peer, for training images of ``shapes``."""
    return {
        "skimage-tv": Search(tuple({"weight_per_sigma": f} for f in
                                   (0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5)),
                             _factor("weight")),
        "skimage-wavelet": Search(_wavelet_points(shapes),
                                  lambda p: f"{p['wavelet']}, {p['wavelet_levels']} levels",
                                  ordered=False),
        "skimage-nl-means": Search(tuple({"h_per_sigma": f} for f in
                                         (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2)),
                                   _factor("h")),
    }


#: What the settings file says of the peer that is not searched.
NOT_SEARCHED = {"bm3d-package": "the bm3d package's default profile told the true sigma "
                                "(sigma_psd = sigma), as its authors tuned it; not searched"}


def subset(paths: Sequence[Path], count: int) -> list[Path]:
    """``count`` of ``paths`` evenly spaced (all of them if fewer), in their order."""
    if count >= len(paths):
        return list(paths)
    return [paths[round(i * len(paths) / count)] for i in range(count)]


def mean_psnr(key: str, point: Params, cleans: Sequence[np.ndarray],
              noisies: Sequence[np.ndarray], sigma: float) -> float:
    """The mean PSNR of peer ``key`` with ``point`` over the images, at ``sigma`` (0-255)."""
    call = PEER_CALLS[key]
    return statistics.fmean(psnr(clean, call(noisy, sigma / 255, **point))
                            for clean, noisy in zip(cleans, noisies))


def search(key: str, grid: Search, cleans: Sequence[np.ndarray], sigmas: Sequence[float],
           seed: int) -> dict[float, list[float]]:
    """Mean PSNR of every grid point of peer ``key`` at each sigma (0-255 scale)."""
    found = {}
    for sigma in sigmas:
        noisies = [noisy_image(clean, i, sigma, seed) for i, clean in enumerate(cleans)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a point that makes a peer warn is a bad grid
            found[sigma] = [mean_psnr(key, point, cleans, noisies, sigma)
                            for point in grid.points]
    return found


def best(scores: Scores) -> dict[float, int]:
    """The index of the grid point of the highest mean PSNR at each sigma (the first on a
    tie)."""
    return {sigma: int(np.argmax(values)) for sigma, values in scores.items()}


def search_table(grid: Search, scores: Scores) -> str:
    """Mean PSNR (dB) of every grid point (rows) at each sigma (columns), the best bold."""
    chosen = best(scores)
    sigmas = list(scores)
    rows = []
    for index, point in enumerate(grid.points):
        cells = [f"**{scores[s][index]:.2f}**" if chosen[s] == index else
                 f"{scores[s][index]:.2f}" for s in sigmas]
        rows.append([grid.describe(point), *cells])
    return common.markdown_table(["setting", *(f"σ={s:g}" for s in sigmas)], rows)


def chosen_table(grids: Mapping[str, Search], results: Mapping[str, Scores],
                 sigmas: Sequence[float]) -> str:
    """The chosen setting of each peer (rows) at each sigma (columns), with its mean PSNR."""
    rows = []
    for key, scores in results.items():
        chosen = best(scores)
        rows.append([f"{PEERS[key].name} (`{key}`)",
                     *(f"{grids[key].describe(grids[key].points[chosen[s]])} "
                       f"({scores[s][chosen[s]]:.2f} dB)" for s in sigmas)])
    for key in NOT_SEARCHED:
        rows.append([f"{PEERS[key].name} (`{key}`)", *(["default, σ told"] * len(sigmas))])
    return common.markdown_table(["peer", *(f"σ={s:g}" for s in sigmas)], rows)


def settings(grids: Mapping[str, Search], results: Mapping[str, Scores],
             about: Mapping[str, Any]) -> dict[str, Any]:
    """The settings file's content: how it was made, and each peer's chosen point per sigma
    (keys are sigma on the 0-255 scale, as text)."""
    chosen = {key: {f"{s:g}": {**grids[key].points[i], "mean_psnr": round(scores[s][i], 4)}
                    for s, i in best(scores).items()}
              for key, scores in results.items()}
    return {**about, "peers": chosen, "not_searched": dict(NOT_SEARCHED)}


def report(data: str, count: int, grids: Mapping[str, Search],
           results: Mapping[str, Scores], sigmas: Sequence[float]) -> str:
    """The printed tables: the chosen settings, then each peer's search."""
    images = "1 image" if count == 1 else f"{count} images"
    text = (f"## Chosen settings: best mean PSNR on {data} ({images}), Gaussian noise, "
            f"not clipped\n\n{chosen_table(grids, results, sigmas)}")
    for key, scores in results.items():
        text += (f"\n## {PEERS[key].name} (`{key}`): mean PSNR (dB) of each setting\n\n"
                 f"{search_table(grids[key], scores)}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line of the peer search."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="folder of training images (train400; never the test set)")
    parser.add_argument("--count", type=common.positive_int, default=24,
                        help="how many of its images, evenly spaced in name order (default 24)")
    parser.add_argument("--sigmas", type=common.sigma_255, nargs="+", default=[15.0, 25.0, 50.0],
                        help="noise levels on the 0-255 scale (default: 15 25 50)")
    parser.add_argument("--peers", nargs="+", choices=list(searches([(256, 256)])),
                        metavar="PEER", help="search only these peers (default: all)")
    parser.add_argument("--seed", type=common.natural_int, default=0,
                        help="base seed of the noise")
    parser.add_argument("--out", type=Path, default=PEER_SETTINGS.parent,
                        help=f"output folder (default: {PEER_SETTINGS.parent})")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Search the peers' settings; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder")
    data = args.data.resolve().name
    if data.lower() in TEST_SETS:
        parser.error(f"--data {args.data} is a test set: choose the peers' settings on "
                     "training images (train400)")
    paths = subset(image_paths(args.data), args.count)
    if not paths:
        parser.error(f"--data {args.data} holds no {'/'.join(sorted(IMAGE_SUFFIXES))} file")
    cleans = [load_image(path) for path in paths]
    grids = searches([clean.shape for clean in cleans])
    keys = args.peers or list(grids)
    results = {}
    for key in keys:
        start = time.perf_counter()
        results[key] = search(key, grids[key], cleans, args.sigmas, args.seed)
        common.progress(f"{key}: {len(grids[key].points)} settings x {len(args.sigmas)} sigmas "
                        f"x {len(cleans)} images, {time.perf_counter() - start:.1f} s")
        for sigma, index in best(results[key]).items():
            if grids[key].ordered and index in (0, len(grids[key].points) - 1):
                common.progress(f"{key}: the best at σ={sigma:g} is at an end of its grid, "
                                f"{grids[key].describe(grids[key].points[index])}")
    text = report(data, len(cleans), {k: grids[k] for k in keys}, results, args.sigmas)
    print(text)
    out = common.output_dir(args.out)
    about = {"command": common.command(MODULE, argv), "data": data,
             "images": [path.name for path in paths], "seed": args.seed,
             "noise": "benchmarks.quality.noisy_image(clean, i, sigma, seed), not clipped"}
    (out / "peers.json").write_text(json.dumps(settings(grids, results, about), indent=1) + "\n")
    head = common.header(f"Peers at their best, chosen on {data}", about["command"], {
        "libraries": common.versions(common.LIBRARIES),
        "images": f"{len(cleans)} of the folder, evenly spaced in name order: "
                  f"{', '.join(about['images'])}",
        "noise": about["noise"],
        "bm3d-package": NOT_SEARCHED["bm3d-package"],
    })
    (out / "peers.md").write_text(f"{head}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
