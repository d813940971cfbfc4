"""How long a run will take, said before it starts: read from the benchmarks' own tables.

The speed benchmark (``python -m benchmarks.speed``, ``assets/benchmarks/speed.csv``)
times every method on grey 256x256 and 512x512 crops of camera at sigma 25; the
epilogue's benchmark (``python -m benchmarks.inverse``,
``assets/benchmarks/inverse/inverse.csv``) times each problem's restoration with each
prior on 256x256 crops at the problem's default number of iterations. An estimate takes
the nearest measured size and scales it by the pixels (times 3 for a colour image run
channel by channel, times the iterations asked for over those measured). What the tables
do not hold is unknown (None), and the site then says "seconds or more". The tables are
read again whenever their files change, so a rerun benchmark is used at once.
"""

from __future__ import annotations

import csv
import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from denoisers import inverse, lowrank
from denoisers.core import Method

ROOT = Path(__file__).resolve().parent.parent
SPEED_TABLE = ROOT / "assets/benchmarks/speed.csv"
INVERSE_TABLE = ROOT / "assets/benchmarks/inverse/inverse.csv"
#: The noise level of the speed benchmark (0-1 scale).
BENCHMARK_SIGMA = 25 / 255
#: The side of the inverse benchmark's crops.
INVERSE_SIDE = 256
#: The problems whose benchmark images are colour (demosaicing's); the others' are grey.
COLOUR_PROBLEMS = frozenset({"demosaic"})
#: How much longer a colour image takes than a grey one: three channels, one after another.
COLOUR_FACTOR = 3.0
#: CPU seconds a grey 256x256 WNNM run with the defaults took, by patch side (the noise
#: band: sigma_255 <= 20, <= 40, <= 60, above): Set12's 01 at sigma_255 15, 25, 50 and 75,
#: on the project's 2-core CPU at a load average of about 6, with the reference grid's step
#: and the rounds of each band as issue 26 left them (σ 25 is the cheapest band: its step,
#: 6, is the largest for its patch). Only their ratios are used: how much slower a noise
#: level is than the speed benchmark's.
WNNM_SECONDS_256 = {6: 2.9, 7: 1.4, 8: 2.6, 9: 3.8}


def expected_seconds(method_key: str, shape: tuple[int, ...], sigma: float) -> float | None:
    """About how long ``method_key`` takes with its defaults on an image of ``shape``.

    Parameters
    ----------
    method_key : str
        A registry key.
    shape : tuple of int
        ``(H, W)`` or ``(H, W, 3)``.
    sigma : float
        The noise level the method is told (0-1 scale); only WNNM's cost depends on it.

    Returns
    -------
    float or None
        Seconds: the speed benchmark's throughput at the measured size nearest the image,
        over the image's pixels, times 3 for colour and WNNM's factor for ``sigma``
        (:func:`sigma_factor`); None when the benchmark has not timed the method.
    """
    measured = _throughputs(_stamp(SPEED_TABLE)).get(method_key)
    if not measured:
        return None
    pixels = shape[0] * shape[1]
    nearest = min(measured, key=lambda size: (abs(size - math.sqrt(pixels)), -size))
    seconds = pixels / 1e6 / measured[nearest]
    return seconds * _colour(shape) * sigma_factor(method_key, sigma)


def sigma_factor(method_key: str, sigma: float) -> float:
    """How many times longer ``method_key`` takes at ``sigma`` than at the speed benchmark's
    sigma 25: WNNM's patches, groups and rounds grow with the noise
    (:data:`WNNM_SECONDS_256`); the other methods' cost does not depend on it."""
    if method_key != "wnnm":
        return 1.0
    size = lowrank.settings(sigma).size
    return WNNM_SECONDS_256[size] / WNNM_SECONDS_256[lowrank.settings(BENCHMARK_SIGMA).size]


def restoration_seconds(problem: str, prior: str, shape: tuple[int, ...],
                        iterations: int) -> float | None:
    """About how long the epilogue's restoration of ``problem`` with ``prior`` takes.

    Parameters
    ----------
    problem : str
        A key of :data:`denoisers.inverse.PROBLEMS`.
    prior : str
        The registry key of the denoiser plugged in.
    shape : tuple of int
        The clean image's shape, ``(H, W)`` or ``(H, W, 3)``.
    iterations : int
        The solver's iterations (each runs the denoiser once).

    Returns
    -------
    float or None
        The inverse benchmark's mean time for the problem and prior on its 256x256 crops,
        scaled by the pixels, the colour channels and the iterations over the problem's
        default; without such a row, ``iterations`` times the prior's
        :func:`expected_seconds`; None when neither is known.
    """
    measured = _restorations(_stamp(INVERSE_TABLE)).get((problem, prior))
    if measured is None:
        once = expected_seconds(prior, shape, BENCHMARK_SIGMA)
        return None if once is None else iterations * once
    pixels = shape[0] * shape[1] / INVERSE_SIDE**2
    colour = 1.0 if problem in COLOUR_PROBLEMS else _colour(shape)
    return measured * pixels * colour * iterations / inverse.PROBLEMS[problem].iterations


def duration(seconds: float) -> str:
    """``seconds`` as a visitor reads it: "about 40 s", "about 3 minutes"."""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s"
    return f"about {round(seconds / 60)} minutes"


def waiting_caption(method: Method, shape: tuple[int, ...], sigma: float) -> str:
    """What a slow method's waiting button says beneath it: how long the run will take on
    an image of ``shape`` at ``sigma``, or "seconds or more" when that is unknown."""
    seconds = expected_seconds(method.key, shape, sigma)
    if seconds is None:
        return (f"{method.name} is slow (seconds or more, more on a large image); it runs "
                "when you press the button.")
    return (f"{method.name} takes {duration(seconds)} on this {size_label(shape)} image; it runs "
            "when you press the button.")


def batch_caption(runs: Sequence[tuple[Method, float]], shape: tuple[int, ...]) -> str:
    """What a button that runs several slow computations (``(method, sigma)`` each, on an
    image of ``shape``) says beneath it: how long they take together, when that is known."""
    names = ", ".join(dict.fromkeys(method.name for method, _ in runs))
    seconds = [expected_seconds(method.key, shape, sigma) for method, sigma in runs]
    count = "one run" if len(runs) == 1 else f"{len(runs)} runs"
    if any(s is None for s in seconds):
        return (f"{names}: {count}, seconds or more each on this {size_label(shape)} image; they "
                "run when you press the button.")
    return (f"{names}: {count}, {duration(sum(seconds))} in all on this "
            f"{size_label(shape)} image; they run when you press the button.")


def size_label(shape: tuple[int, ...]) -> str:
    """An image's size as a caption says it: "512x384", or "512x384 colour"."""
    return f"{shape[1]}x{shape[0]}" + (" colour" if len(shape) == 3 else "")


def _colour(shape: tuple[int, ...]) -> float:
    return COLOUR_FACTOR if len(shape) == 3 else 1.0


def _stamp(path: Path) -> tuple[Path, float]:
    """The table's path and modification time (0 when it is missing): the key its
    parsed rows are cached under."""
    return path, path.stat().st_mtime if path.exists() else 0.0


@functools.lru_cache(maxsize=4)
def _throughputs(stamp: tuple[Path, float]) -> dict[str, dict[int, float]]:
    """Megapixels per second by method and measured side, from the speed table."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for row in _rows(stamp[0]):
        out[row["method"]][int(row["size"])] = float(row["megapixels_per_second"])
    return dict(out)


@functools.lru_cache(maxsize=4)
def _restorations(stamp: tuple[Path, float]) -> dict[tuple[str, str], float]:
    """Mean seconds by (problem, prior) of the inverse table's plug-and-play rows."""
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in _rows(stamp[0]):
        how = row["how"]
        if how.startswith("PnP-HQS, ") and how.endswith(" prior"):
            prior = how.removeprefix("PnP-HQS, ").removesuffix(" prior")
            times[row["problem"], prior].append(float(row["seconds"]))
    return {key: sum(values) / len(values) for key, values in times.items()}


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as table:
        return list(csv.DictReader(table))
