"""Every figure the README quotes from a benchmark is the figure in the table it comes from.

Each claim is a pattern over the README (its numbers as groups) and, for each group, the cell
of a committed table it must equal, rounded to the decimals the README shows: a benchmark
rerun that moves a figure fails here until the README says the new one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "assets" / "benchmarks"
LECTURE = BENCHMARKS / "lecture" / "lecture.md"
LOAD = BENCHMARKS / "load" / "load.md"
SPEED = BENCHMARKS / "speed_targets.md"
MUTATION = BENCHMARKS / "mutation" / "summary.md"
REALNOISE = BENCHMARKS / "realnoise" / "realnoise.md"


@cache
def readme() -> str:
    """The README with its lines joined, so that a sentence is found across a line break."""
    return " ".join((ROOT / "README.md").read_text().split())


@cache
def rows(path: Path) -> list[list[str]]:
    """The cells of every body row of every markdown table in ``path``."""
    found = []
    for line in path.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set("".join(cells)) <= set("-: "):
            found.append(cells)
    return found


def row(path: Path, *first: str) -> list[str]:
    """The table row of ``path`` whose first cells are ``first``."""
    matches = [r for r in rows(path) if r[:len(first)] == list(first)]
    assert len(matches) == 1, f"{path.name}: {len(matches)} rows start {first}"
    return matches[0]


def number(cell: str) -> float:
    """A cell's first number, a duration in seconds ("579.8 ms" is 0.5798; "1.67 s",
    "0.21× (≤ 0.2×)", "95.0 %", "13.93" are their numbers)."""
    number = float(re.search(r"[\d.]+", cell).group())
    return number / 1000 if re.search(r"\d ms\b", cell) else number


@dataclass(frozen=True)
class Claim:
    """A README ``pattern`` whose groups are, in order, the ``sources``' figures."""

    pattern: str
    sources: tuple[Callable[[], float], ...]

    def check(self) -> None:
        found = re.search(self.pattern, readme())
        assert found, f"the README no longer says: {self.pattern}"
        for said, source in zip(found.groups(), self.sources, strict=True):
            decimals = len(said.partition(".")[2])
            assert float(said) == round(source(), decimals), \
                f"{self.pattern}: the README says {said}, the table {source()}"


def summary(phase: str) -> list[str]:
    """The lecture's summary row of ``phase`` (its second cell a count of steps, where a
    step's row has a page)."""
    matches = [r for r in rows(LECTURE) if r[0] == phase and r[1].isdigit()]
    assert len(matches) == 1, f"lecture.md: {len(matches)} summary rows for {phase}"
    return matches[0]


def lecture_summary(phase: str, column: int) -> Callable[[], float]:
    return lambda: number(summary(phase)[column])


def lecture_slowest(phase: str) -> Callable[[], float]:
    return lambda: number(re.search(r"\(([\d.]+) s\)$", summary(phase)[2]).group(1))


def lecture_step(phase: str, page: str, action: str) -> Callable[[], float]:
    return lambda: number(row(LECTURE, phase, page, action)[3])


def store_line(index: int) -> Callable[[], float]:
    def figure() -> float:
        line = re.search(r"store at the end: (\d+) results, (\d+) MB", LECTURE.read_text())
        return float(line.group(index))
    return figure


def load_cell(sessions: str, step: str, column: str) -> Callable[[], float]:
    header = next(r for r in rows(LOAD) if r[:2] == ["sessions", "step"])
    return lambda: number(row(LOAD, sessions, step)[header.index(column)])


def load_megabytes_as_gigabytes(sessions: str, step: str) -> Callable[[], float]:
    cell = load_cell(sessions, step, "peak RSS (MB)")
    return lambda: cell() / 1000


def fast_change(column: int) -> Callable[[], float]:
    return lambda: number(rows(LOAD)[-1][column])


def speed(task: str, column: int = 1) -> Callable[[], float]:
    return lambda: number(row(SPEED, task)[column])


def peer_time(task: str) -> Callable[[], float]:
    return lambda: number(row(SPEED, task)[4].rpartition(":")[2])


def realnoise(light: str, images: str, method: str, column: int) -> Callable[[], float]:
    """A cell of the realnoise table: 3 one σ, 4 the fitted curve, 5 the gain."""
    return lambda: number(row(REALNOISE, light, images, method)[column])


BM3D, FFDNET, DRUNET = "BM3D / CBM3D (`bm3d`)", "FFDNet (`ffdnet`)", "DRUNet (small) (`drunet`)"


def lowest_mutation_score() -> float:
    return min(number(r[2]) for r in rows(MUTATION) if r[0].startswith("["))


CLAIMS = {
    "lecture, cold": Claim(
        r"\| cold \| (\d+) \| the deep-learning page's σ sweep \(([\d.]+) s\) \| (\d+) \| (\d+) \|",
        (lecture_summary("cold", 1), lecture_slowest("cold"), lecture_summary("cold", 3),
         lecture_summary("cold", 4))),
    "lecture, warm": Claim(
        r"\| warm \| (\d+) \| opening the home page in a new session \(([\d.]+) s\) \| (\d+) \| "
        r"(\d+) \|",
        (lecture_summary("warm", 1), lecture_slowest("warm"), lecture_summary("warm", 3),
         lecture_summary("warm", 4))),
    "lecture, restart": Claim(
        r"\| after a restart \| (\d+) \| [^|(]*\(([\d.]+) s\) \| (\d+) \| (\d+) \|",
        (lecture_summary("restart", 1), lecture_slowest("restart"),
         lecture_summary("restart", 3), lecture_summary("restart", 4))),
    "lecture, first page": Claim(
        r"The first page after a server start is idle in ([\d.]+) s \(([\d.]+) s after the "
        r"restart",
        (lecture_step("cold", "home", "first page after start"),
         lecture_step("restart", "home", "first page after start"))),
    "lecture, store": Claim(r"The whole lecture left (\d+) results, (\d+) MB",
                            (store_line(1), store_line(2))),
    "load, shared step": Claim(
        r"opening the BM3D chapter and running it: (\d+) s for all 40 together, ([\d.]+) "
        r"CPU-seconds each",
        (load_cell("40", "chapter bm3d", "median (s)"),
         load_cell("40", "chapter bm3d", "CPU per session (s)"))),
    "load, uploads": Claim(
        r"the three Arena methods on each upload ([\d.]+) CPU-seconds a student \((\d+) s "
        r"median, (\d+) s at the 95th percentile\), BM3D's chapter on it ([\d.]+) CPU-seconds "
        r"\((\d+) s median, (\d+) s at the 95th percentile\)",
        (load_cell("40", "upload", "CPU per session (s)"), load_cell("40", "upload", "median (s)"),
         load_cell("40", "upload", "p95 (s)"),
         load_cell("40", "upload, chapter bm3d", "CPU per session (s)"),
         load_cell("40", "upload, chapter bm3d", "median (s)"),
         load_cell("40", "upload, chapter bm3d", "p95 (s)"))),
    "load, memory": Claim(
        r"Its peak memory was ([\d.]+) GB with 10 students before their own BM3D runs and "
        r"([\d.]+) GB after them, ([\d.]+) GB with 40",
        (load_megabytes_as_gigabytes("10", "upload"),
         load_megabytes_as_gigabytes("10", "upload, chapter bm3d"),
         load_megabytes_as_gigabytes("40", "upload, chapter bm3d"))),
    "load, fast change": Claim(
        r"A fast change in one session while BM3D runs in another took ([\d.]+) s \(([\d.]+) s "
        r"alone\)", (fast_change(1), fast_change(0))),
    "mutation": Claim(r"every module kills at least ([\d.]+) % of its mutants",
                      (lowest_mutation_score,)),
    "realnoise, night gains": Claim(
        r"at night the curve gains ([\d.]+) dB for the stabilised BM3D on Set12 \(([\d.]+) on "
        r"the colour photographs\), ([\d.]+) \(([\d.]+)\) for FFDNet told a noise map and "
        r"([\d.]+) \(([\d.]+)\) for DRUNet",
        tuple(realnoise("night", images, method, 5) for method in (BM3D, FFDNET, DRUNET)
              for images in ("grey (12)", "colour (3)"))),
    "realnoise, level at night": Claim(
        r"BM3D and FFDNet end level at night on Set12 \(([\d.]+) and ([\d.]+) dB\), and "
        r"FFDNet's larger gain is its weaker start with one σ \(([\d.]+) against BM3D's "
        r"([\d.]+)\)",
        (realnoise("night", "grey (12)", BM3D, 4), realnoise("night", "grey (12)", FFDNET, 4),
         realnoise("night", "grey (12)", FFDNET, 3), realnoise("night", "grey (12)", BM3D, 3))),
    "speed, met": Claim(
        r"WNNM ([\d.]+) s at 512x512, EPLL ([\d.]+) s and K-SVD ([\d.]+) s at 256x256, TV "
        r"([\d.]+)x scikit-image's time",
        (speed("WNNM, grey 512x512"), speed("EPLL, grey 256x256"),
         speed("K-SVD, grey 256x256"), speed("TV (default solver), grey 512x512", 5))),
    "speed, epilogue": Claim(
        r"with the DRUNet prior ([\d.]+) to ([\d.]+) s on 256x256",
        (speed("Epilogue: Deblurring, DRUNet prior, 256x256"),
         speed("Epilogue: Demosaicing, DRUNet prior, 256x256"))),
    "speed, BM3D": Claim(
        r"BM3D ([\d.]+) s at 512x512 \(([\d.]+)x the package's ([\d.]+) s\)",
        (speed("BM3D, grey 512x512"), speed("BM3D, grey 512x512", 5),
         peer_time("BM3D, grey 512x512"))),
    "speed, CBM3D": Claim(
        r"CBM3D takes ([\d.]+) s at 768x512 \(([\d.]+)x the package's `bm3d_rgb`, ([\d.]+) s",
        (speed("CBM3D, colour 768x512"), speed("CBM3D, colour 768x512", 5),
         peer_time("CBM3D, colour 768x512"))),
}


@pytest.mark.parametrize("name", CLAIMS)
def test_the_readme_quotes_the_benchmark_tables(name: str) -> None:
    CLAIMS[name].check()


def test_a_figure_that_moved_fails_its_claim(monkeypatch) -> None:
    """The check itself: the same claim against a README whose figure is off by 0.1."""
    claim = CLAIMS["speed, BM3D"]
    said = re.search(claim.pattern, readme()).group(1)
    moved = readme().replace(f"BM3D {said} s at", f"BM3D {float(said) + 0.1:.2f} s at")
    monkeypatch.setattr(f"{__name__}.readme", lambda: moved)
    with pytest.raises(AssertionError, match="the README says"):
        claim.check()
