"""Quality benchmark: mean PSNR and SSIM of every method on a folder of images.

    python -m benchmarks.quality --data ../shared/data/set12 --sigmas 15 25 50 --peers

Every image of the folder (PNG, JPEG, TIFF or BMP, in file-name order, read
by :func:`denoisers.images.load_image`: grey files stay grey, colour files
stay colour) gets additive white Gaussian noise
of each sigma (0-255 scale), not clipped, as is the field's convention. The
noise of image ``i`` at sigma ``s`` is drawn from
``numpy.random.default_rng(noise_seed(seed, i, s))``, so every method sees the
very same noisy images. Each method runs through :func:`denoisers.run` with
its defaults. ``--peers`` adds reference implementations (scikit-image's TV,
wavelet and non-local means denoisers, and the ``bm3d`` package when it is
installed; all, or the named ones) computed on the same noisy images, each at
its best setting chosen on training images (train400, never the test set) by
:mod:`benchmarks.peers`, read from :data:`PEER_SETTINGS` (at the nearest sigma
searched); the ``bm3d`` package runs with its defaults, told the true sigma.

Writes ``quality_<dataset>.csv`` (one row per method, image and sigma) and
``quality_<dataset>.md`` (the summary) to ``--out``. ``--per-image`` adds
one table per sigma with every image's PSNR, for comparing a method with a
paper's per-image figures.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

import denoisers
from denoisers import published
from denoisers.images import IMAGE_SUFFIXES, image_paths, load_image
from denoisers.metrics import SSIM_SETTINGS, psnr, ssim
from denoisers.noise import add_gaussian

from . import common

MODULE = "benchmarks.quality"

PUBLISHED_SIGMAS = (15, 25, 50)

Denoise = Callable[[np.ndarray, float], np.ndarray]

#: The peers' best settings, chosen on training images by ``python -m benchmarks.peers``.
PEER_SETTINGS = Path(__file__).resolve().parent.parent / "assets" / "benchmarks" / "peers" / \
    "peers.json"


@dataclass(frozen=True)
class Contender:
    """Something the benchmark runs: a registered method or a peer.

    ``denoise(noisy, sigma)`` takes sigma on the [0, 1] scale; ``slow`` is
    the registered method's flag (False for a peer).
    """

    key: str
    name: str
    denoise: Denoise
    slow: bool = False


@dataclass(frozen=True)
class Peer:
    """A reference implementation: its label, the package it needs, its call."""

    name: str
    package: str
    denoise: Denoise


@dataclass(frozen=True)
class Row:
    """One measurement: a method on one image at one sigma (0-255 scale)."""

    method: str
    name: str
    image: str
    sigma: float
    psnr: float
    ssim: float
    seconds: float


def _channel_axis(image: np.ndarray) -> int | None:
    return -1 if image.ndim == 3 else None


def _skimage_tv(noisy: np.ndarray, sigma: float, *, weight_per_sigma: float) -> np.ndarray:
    return denoise_tv_chambolle(noisy, weight=weight_per_sigma * sigma,
                                channel_axis=_channel_axis(noisy))


def _skimage_wavelet(noisy: np.ndarray, sigma: float, *, wavelet: str,
                     wavelet_levels: int) -> np.ndarray:
    """BayesShrink, soft, at ``wavelet_levels`` capped at what the image allows (as the
    project's own method is): deeper levels would be all border effect."""
    import pywt

    most = pywt.dwt_max_level(min(noisy.shape[:2]), pywt.Wavelet(wavelet).dec_len)
    wavelet_levels = min(wavelet_levels, max(1, most))
    return denoise_wavelet(noisy, sigma=sigma, wavelet=wavelet, wavelet_levels=wavelet_levels,
                           method="BayesShrink", mode="soft", rescale_sigma=True,
                           channel_axis=_channel_axis(noisy))


def _skimage_nl_means(noisy: np.ndarray, sigma: float, *, h_per_sigma: float) -> np.ndarray:
    return denoise_nl_means(noisy, h=h_per_sigma * sigma, sigma=sigma, fast_mode=True,
                            patch_size=7, patch_distance=11, channel_axis=_channel_axis(noisy))


def _bm3d(noisy: np.ndarray, sigma: float) -> np.ndarray:
    import bm3d

    denoise = bm3d.bm3d_rgb if noisy.ndim == 3 else bm3d.bm3d
    return denoise(noisy, sigma_psd=sigma)


#: Each peer's call, ``call(noisy, sigma, **setting)``: the settings are the keyword
#: parameters that :mod:`benchmarks.peers` searches (none for the bm3d package).
PEER_CALLS: dict[str, Callable[..., np.ndarray]] = {
    "skimage-tv": _skimage_tv,
    "skimage-wavelet": _skimage_wavelet,
    "skimage-nl-means": _skimage_nl_means,
    "bm3d-package": _bm3d,
}


@functools.cache
def load_peer_settings(path: Path = PEER_SETTINGS) -> dict[str, Any]:
    """The peers' chosen settings (the file :mod:`benchmarks.peers` writes)."""
    if not path.is_file():
        raise FileNotFoundError(f"no peer settings at {path}: run python -m benchmarks.peers "
                                "--data ../shared/data/train400")
    return json.loads(path.read_text())


def peer_setting(key: str, sigma: float, chosen: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """Peer ``key``'s best setting at ``sigma`` (0-255 scale): the one chosen at the nearest
    sigma searched (the lower on a tie), from ``chosen`` (the committed file's content if
    None); {} for a peer that is not searched."""
    chosen = load_peer_settings() if chosen is None else chosen
    if key in chosen.get("not_searched", {}):
        return {}
    table = chosen["peers"][key]
    nearest = min(table, key=lambda s: (abs(float(s) - sigma), float(s)))
    return {name: value for name, value in table[nearest].items() if name != "mean_psnr"}


def _at_best(key: str, noisy: np.ndarray, sigma: float) -> np.ndarray:
    return PEER_CALLS[key](noisy, sigma, **peer_setting(key, sigma * 255))


#: The reference implementations ``--peers`` adds, by key, each at its best setting.
PEERS: dict[str, Peer] = {
    "skimage-tv": Peer("skimage TV, tuned on train400 (peer)", "skimage",
                       functools.partial(_at_best, "skimage-tv")),
    "skimage-wavelet": Peer("skimage wavelet BayesShrink, tuned on train400 (peer)", "skimage",
                            functools.partial(_at_best, "skimage-wavelet")),
    "skimage-nl-means": Peer("skimage NL-means, tuned on train400 (peer)", "skimage",
                             functools.partial(_at_best, "skimage-nl-means")),
    "bm3d-package": Peer("BM3D, bm3d package (peer)", "bm3d",
                         functools.partial(_at_best, "bm3d-package")),
}


def describe_setting(key: str, setting: dict[str, Any]) -> str:
    """A peer's setting in words, for a report's header."""
    if not setting:
        return "its defaults, told the true σ"
    if "wavelet" in setting:
        return f"{setting['wavelet']}, {setting['wavelet_levels']} levels"
    parts = []
    for name, value in setting.items():
        if name.endswith("_per_sigma"):
            parts.append(f"{name.removesuffix('_per_sigma')} = {value:g} σ")
        else:
            parts.append(f"{name} = {value}")
    return ", ".join(parts)


def peers_note(keys: Sequence[str], sigmas: Sequence[float]) -> str:
    """What the report says of its peers: at their best settings, chosen where and by what
    command, and which setting each ran at each sigma."""
    chosen = load_peer_settings()
    said = []
    for key in keys:
        settings = [f"{describe_setting(key, peer_setting(key, s))} (σ={s:g})" for s in sigmas]
        if len(set(describe_setting(key, peer_setting(key, s)) for s in sigmas)) == 1:
            settings = [describe_setting(key, peer_setting(key, sigmas[0]))]
        said.append(f"`{key}` {'; '.join(settings)}")
    return (f"each at its best setting, chosen on {chosen['data']} ({len(chosen['images'])} "
            f"images; never on the test set) by `{chosen['command']}` "
            f"(assets/benchmarks/peers/peers.md), at the nearest σ searched: "
            + "; ".join(said))


def available_peers(keys: Sequence[str]) -> tuple[list[Contender], list[str]]:
    """The peers of ``keys`` whose package imports, and a note for each that does not."""
    found, notes = [], []
    for key in keys:
        peer = PEERS[key]
        try:
            importlib.import_module(peer.package)
        except ImportError:
            notes.append(f"{peer.name} skipped: the {peer.package!r} package is not installed "
                         "(pip install -r requirements-bench.txt)")
            continue
        found.append(Contender(key, peer.name, peer.denoise))
    return found, notes


def _run_method(key: str, params: dict[str, Any], trace: bool, noisy: np.ndarray,
                sigma: float) -> np.ndarray:
    return denoisers.run(key, noisy, sigma, trace=trace, **params).image


def method_contender(method: denoisers.Method, params: dict[str, Any] | None = None, *,
                     trace: bool = False) -> Contender:
    """A registered method as a contender, run with ``params`` (its defaults otherwise).

    ``trace=True`` runs it with its inside views, as the chapter pages do.
    """
    params = dict(params or {})
    return Contender(common.variant_key(method, params), method.name,
                     functools.partial(_run_method, method.key, params, trace), method.slow)


def noise_seed(seed: int, index: int, sigma: float) -> int:
    """The seed of the noise on image ``index`` at ``sigma`` (0-255 scale)."""
    entropy = [seed, index, round(sigma * 1000)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def noisy_image(clean: np.ndarray, index: int, sigma: float, seed: int) -> np.ndarray:
    """``clean`` plus unclipped Gaussian noise of ``sigma`` (0-255 scale), seeded."""
    return add_gaussian(clean, sigma / 255, seed=noise_seed(seed, index, sigma), clip=False)


def evaluate(contender: Contender, paths: Sequence[Path], sigmas: Sequence[float],
             seed: int) -> list[Row]:
    """Run ``contender`` on every image at every sigma and measure each result."""
    rows = []
    for index, path in enumerate(paths):
        clean = load_image(path)
        for sigma in sigmas:
            noisy = noisy_image(clean, index, sigma, seed)
            start = time.perf_counter()
            estimate = contender.denoise(noisy, sigma / 255)
            seconds = time.perf_counter() - start
            rows.append(Row(contender.key, contender.name, path.name, sigma,
                            psnr(clean, estimate), ssim(clean, estimate), seconds))
    return rows


def summary_table(contenders: Sequence[Contender], rows: Sequence[Row],
                  sigmas: Sequence[float]) -> str:
    """Mean PSNR / SSIM per contender (rows) and sigma (columns), and mean run time."""
    columns = ["method", *(f"σ={s:g}" for s in sigmas), "time / image"]
    lines = []
    for contender in contenders:
        own = [r for r in rows if r.method == contender.key]
        cells = []
        for sigma in sigmas:
            at = [r for r in own if r.sigma == sigma]
            cells.append(f"{statistics.fmean(r.psnr for r in at):.2f} / "
                         f"{statistics.fmean(r.ssim for r in at):.4f}")
        seconds = statistics.fmean(r.seconds for r in own)
        lines.append([common.label(contender.name, contender.key), *cells,
                      common.duration(seconds)])
    return common.markdown_table(columns, lines)


def per_image_tables(contenders: Sequence[Contender], rows: Sequence[Row],
                     sigmas: Sequence[float]) -> str:
    """PSNR (dB) of every contender (columns) on every image (rows), one table per sigma."""
    images = list(dict.fromkeys(r.image for r in rows))
    psnr_of = {(r.method, r.image, r.sigma): r.psnr for r in rows}
    tables = []
    for sigma in sigmas:
        columns = ["image", *(f"`{c.key}`" for c in contenders)]
        lines = [[image, *(f"{psnr_of[c.key, image, sigma]:.2f}" for c in contenders)]
                 for image in images]
        tables.append(f"### σ={sigma:g}\n\n{common.markdown_table(columns, lines)}")
    return "\n".join(tables)


def published_table() -> str:
    """The published Set12 mean PSNRs (:mod:`denoisers.published`), "—" where a paper
    reports none."""
    psnr_at: dict[str, dict[int, float]] = {}
    for figure in published.set12():
        psnr_at.setdefault(figure.label, {})[figure.sigma] = figure.psnr
    columns = ["method", *(f"σ={s}" for s in PUBLISHED_SIGMAS)]
    lines = [[name, *(f"{at[s]:.2f}" if s in at else "—" for s in PUBLISHED_SIGMAS)]
             for name, at in psnr_at.items()]
    return common.markdown_table(columns, lines)


def report(dataset: str, count: int, summary: str, published: bool,
           per_image: str = "", peers: str = "") -> str:
    """The printed tables: the measured summary (and what its peers ran at), each image's
    PSNR and the published figures, the last two where asked."""
    images = "1 image" if count == 1 else f"{count} images"
    text = (f"## Mean PSNR (dB) / SSIM on {dataset} ({images}), "
            f"Gaussian noise, not clipped\n\n{summary}")
    if peers:
        text += f"\nPeers: {peers}.\n"
    if per_image:
        text += f"\n## PSNR (dB) per image\n\n{per_image}"
    if published:
        text += ("\n## published (Set12): mean PSNR (dB) from the DnCNN and FFDNet papers"
                 f"\n\n{published_table()}")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line of the quality benchmark."""
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of test images")
    parser.add_argument("--sigmas", type=common.sigma_255, nargs="+", default=[15.0, 25.0, 50.0],
                        help="noise levels on the 0-255 scale (default: 15 25 50)")
    add_contender_options(parser, "computed on the same noisy images")
    parser.add_argument("--limit", type=common.positive_int, help="use only the first N images")
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT,
                        help=f"output folder (default: {common.DEFAULT_OUT})")
    parser.add_argument("--seed", type=common.natural_int, default=0,
                        help="base seed of the noise")
    parser.add_argument("--published", action="store_true",
                        help="print the published Set12 figures (automatic for a set12 folder)")
    parser.add_argument("--per-image", action="store_true",
                        help="also print every image's PSNR, one table per sigma")
    return parser


def add_contender_options(parser: argparse.ArgumentParser, peers_help: str) -> None:
    """``--methods`` and ``--peers``: the registered methods and reference implementations to
    run."""
    parser.add_argument("--methods", nargs="+", metavar="KEY",
                        help="registry keys to run (default: every registered method); "
                             "KEY:NAME=VALUE,... sets parameters, e.g. drunet:self_ensemble=true")
    parser.add_argument("--peers", nargs="*", choices=list(PEERS), metavar="PEER",
                        help=f"add reference implementations {peers_help}: all, or the named "
                             f"ones of {', '.join(PEERS)}")


def choose(parser: argparse.ArgumentParser, args: argparse.Namespace, *,
           trace: bool = False) -> tuple[list[Contender], list[str]]:
    """The contenders the command line asks for, and notes on peers left out."""
    contenders = [method_contender(m, params, trace=trace)
                  for m, params in common.selected_methods(parser, args.methods)]
    if args.peers is None:
        return contenders, []
    peers, notes = available_peers(args.peers or list(PEERS))
    return contenders + peers, notes


def evaluate_all(contenders: Sequence[Contender], paths: Sequence[Path],
                 sigmas: Sequence[float], seed: int) -> list[Row]:
    """Evaluate each contender in turn, with a progress line on stderr after each."""
    rows = []
    for number, contender in enumerate(contenders, 1):
        start = time.perf_counter()
        own = evaluate(contender, paths, sigmas, seed)
        rows += own
        common.progress(f"[{number}/{len(contenders)}] {contender.key}: {len(own)} runs, "
                        f"{time.perf_counter() - start:.1f} s")
    return rows


def report_header(dataset: str, argv: Sequence[str], seed: int,
                  contenders: Sequence[Contender], notes: Sequence[str]) -> str:
    """The opening of the markdown report: how, when and where it was measured."""
    packages = [*common.LIBRARIES, *("bm3d" for c in contenders if c.key == "bm3d-package")]
    extra = {
        "libraries": common.versions(packages),
        "noise": ("additive white Gaussian, not clipped; image i at sigma s drawn from "
                  f"numpy default_rng(SeedSequence([{seed}, i, round(1000 s)]))"),
        "SSIM": SSIM_SETTINGS,
        **({"notes": "; ".join(notes)} if notes else {}),
    }
    return common.header(f"Quality benchmark on {dataset}", common.command(MODULE, argv), extra)


def main(argv: list[str] | None = None) -> int:
    """Run the quality benchmark; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    contenders, notes = choose(parser, args)
    if not args.data.is_dir():
        parser.error(f"--data {args.data} is not a folder")
    paths = image_paths(args.data)[:args.limit]
    if not paths:
        parser.error(f"--data {args.data} holds no {'/'.join(sorted(IMAGE_SUFFIXES))} file")
    for note in notes:
        common.progress(note)

    rows = evaluate_all(contenders, paths, args.sigmas, args.seed)
    dataset = args.data.resolve().name
    published = args.published or dataset.lower() == "set12"
    per_image = per_image_tables(contenders, rows, args.sigmas) if args.per_image else ""
    peer_keys = [c.key for c in contenders if c.key in PEERS]
    note = peers_note(peer_keys, args.sigmas) if peer_keys else ""
    text = report(dataset, len(paths), summary_table(contenders, rows, args.sigmas), published,
                  per_image, note)
    print(text)
    out = common.output_dir(args.out)
    common.write_csv(out / f"quality_{dataset}.csv", Row, rows)
    head = report_header(dataset, argv, args.seed, contenders, notes)
    (out / f"quality_{dataset}.md").write_text(f"{head}\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
