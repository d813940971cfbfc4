"""A classroom at once: N visitors drive the real server through the same lesson together.

    python -m benchmarks.load [--sessions 1 10 20 40] [--quick] [--uploads 200] [--out DIR]

Starts the site (``streamlit run app.py``) on a free localhost port and, for
each N, opens N sessions through Streamlit's own websocket protocol
(:class:`benchmarks.visitor.Visitor`, no browser) that follow a teacher's
script step by step, all sessions doing each step at the same moment:

1. ``open``: the home page, on the default sample;
2. ``sigma``: move σ to 35;
3. ``chapter``: open the BM3D chapter and press its run button;
4. ``arena``: open the Arena and run three methods (Gaussian, TV, FFDNet);
5. ``upload``: upload a photo of one's own (a different one per session) and
   see the three methods on it;
6. ``upload, chapter``: open the chapter again on one's own photo and run
   BM3D on it (distinct work for every session).

Per step it reports the median and 95th-percentile time to a visible result
(the script's run finished and its images fetched), the problems shown
(exceptions, error boxes, protocol failures), the server's CPU-seconds spent
in the step, per session too (the visitors are cheap, so this is what a real
classroom's server would spend), its peak memory (RSS high-water mark) and
how many computations of a method actually ran against how many were
distinct (the site appends one line per cache miss to a ledger, see
``ui.compute.LEDGER_VARIABLE``): the cache should turn thirty identical
BM3D runs into one.

Then two checks: ``isolation`` (a fast change in one session while BM3D
runs in another: its time against the same change alone) and, with
``--uploads K``, ``K`` distinct uploads at the largest working size in one
session, sampling the server's memory and each cache's bytes (from
Streamlit's ``/_stcore/metrics``) to show that the caches' bounds hold.

``--quick`` is the small version ``tests/test_load.py`` runs: the fastest
methods (the local-filters chapter instead of BM3D; Gaussian, median and
Wiener in the Arena) on 256-pixel images. The report is printed and saved as
``load.md`` in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import io
import json
import os
import re
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image
from skimage import data as samples

from ui import store
from ui.compute import LEDGER_VARIABLE
from ui.scene import WORKING_SIDES

from . import common
from .pages import server
from .visitor import Reply, Visitor, cache_metrics

ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")

#: Where the report goes by default.
OUT = ROOT / "assets" / "benchmarks" / "load"


@dataclass(frozen=True)
class Lesson:
    """What the sessions do: the chapter (and the button that runs it), the Arena's three
    methods, the working size and the size of the photos uploaded."""

    chapter: str
    run_button: str | None
    arena: tuple[str, ...]
    side: int
    photo: tuple[int, int]  # height, width

    @property
    def query(self) -> str:
        return f"side={self.side}"


FULL = Lesson("bm3d", "Run BM3D", ("gaussian", "tv", "ffdnet"), 512, (600, 800))
QUICK = Lesson("local-filters", None, ("gaussian", "median", "wiener"), 256, (192, 256))

#: The labels of the widgets the lesson uses.
SIGMA, METHODS, UPLOADER = "σ (0–255", "Methods", "…or upload"


@dataclass
class Step:
    """One step of the lesson for all sessions: times, problems, the server's cost."""

    name: str
    sessions: int
    seconds: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    computed: int = 0
    distinct: int = 0

    def row(self) -> list[str]:
        ordered = sorted(self.seconds) or [float("nan")]
        p95 = ordered[min(len(ordered) - 1, int(np.ceil(0.95 * len(ordered))) - 1)]
        return [str(self.sessions), self.name, f"{statistics.median(ordered):.2f}",
                f"{p95:.2f}", str(len(self.problems)), f"{self.cpu_seconds:.1f}",
                f"{self.cpu_seconds / self.sessions:.2f}", f"{self.peak_rss_mb:.0f}",
                f"{self.computed} / {self.distinct}"]


COLUMNS = ("sessions", "step", "median (s)", "p95 (s)", "problems", "server CPU (s)",
           "CPU per session (s)", "peak RSS (MB)", "computations run / distinct")


class Server:
    """The site's process as the benchmark watches it: CPU time, memory, ledger, metrics."""

    def __init__(self, url: str, pid: int, ledger: Path) -> None:
        self.url, self.pid, self.ledger = url, pid, ledger
        self._ledger_seen = 0

    def cpu_seconds(self) -> float:
        """User and system CPU time of the server so far (its threads included)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self, which: str = "VmHWM") -> float:
        """The server's resident memory: its high-water mark (VmHWM) or now (VmRSS)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(rf"^{which}:\s+(\d+) kB", status, re.M).group(1)) / 1024

    def computations(self) -> Counter:
        """The computations that ran since the last call, counted by key."""
        lines = self.ledger.read_text().splitlines() if self.ledger.exists() else []
        fresh, self._ledger_seen = lines[self._ledger_seen:], len(lines)
        return Counter(json.loads(line)["key"] for line in fresh)

    def cache_bytes(self) -> dict[str, int]:
        """Each cache's bytes, from Streamlit's ``/_stcore/metrics``."""
        return {name: size for name, (size, _) in cache_metrics(self.url).items()}


@functools.cache
def _pictures() -> tuple[np.ndarray, ...]:
    """The colour pictures the students' photos are cut from, read once."""
    return samples.astronaut(), samples.chelsea(), samples.coffee(), samples.rocket()


def photo(index: int, shape: tuple[int, int]) -> bytes:
    """A student's own photo: a JPEG crop of one of scikit-image's colour pictures, a
    different crop, flip and brightness for every ``index``."""
    pictures = _pictures()
    picture = pictures[index % len(pictures)]
    rng = np.random.default_rng(index)
    scale = max(shape[0] / picture.shape[0], shape[1] / picture.shape[1]) * rng.uniform(1, 1.5)
    size = (int(np.ceil(picture.shape[1] * scale)), int(np.ceil(picture.shape[0] * scale)))
    grown = np.asarray(Image.fromarray(picture).resize(size, Image.BICUBIC))
    top = rng.integers(0, grown.shape[0] - shape[0] + 1)
    left = rng.integers(0, grown.shape[1] - shape[1] + 1)
    crop = grown[top:top + shape[0], left:left + shape[1]].astype(np.float32)
    crop = np.clip(crop * rng.uniform(0.8, 1.1), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(crop[:, ::-1] if index % 2 else crop).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def _chapter(visitor: Visitor, lesson: Lesson) -> Reply:
    reply = await visitor.open(lesson.chapter)
    if lesson.run_button:
        seconds = reply.seconds
        reply = await visitor.press(lesson.run_button)
        reply.seconds += seconds
    return reply


async def _arena(visitor: Visitor, lesson: Lesson) -> Reply:
    opened = await visitor.open("arena")
    reply = await visitor.choose(METHODS, list(lesson.arena))
    reply.seconds += opened.seconds
    return reply


def _lesson(lesson: Lesson) -> list[tuple[str, Callable[[Visitor, int], Awaitable[Reply]]]]:
    return [
        ("open", lambda v, i: v.open("")),
        ("sigma", lambda v, i: v.slide(SIGMA, 35)),
        ("chapter " + lesson.chapter, lambda v, i: _chapter(v, lesson)),
        ("arena, three methods", lambda v, i: _arena(v, lesson)),
        ("upload", lambda v, i: v.upload(UPLOADER, f"student-{i}.jpg",
                                          photo(i, lesson.photo))),
        ("upload, chapter " + lesson.chapter, lambda v, i: _chapter(v, lesson)),
    ]


async def _attempt(action: Awaitable[Reply]) -> tuple[float | None, list[str]]:
    try:
        reply = await action
    except Exception as error:  # noqa: BLE001 - a failed session is counted, not fatal
        return None, [f"{type(error).__name__}: {error}"]
    return reply.seconds, reply.problems


async def classroom(site: Server, sessions: int, lesson: Lesson) -> list[Step]:
    """Run the lesson with ``sessions`` visitors in lockstep; one :class:`Step` per step."""
    visitors = [Visitor(site.url, lesson.query) for _ in range(sessions)]
    await asyncio.gather(*(v.__aenter__() for v in visitors))
    steps = []
    try:
        site.computations()
        for name, act in _lesson(lesson):
            step = Step(name, sessions)
            cpu = site.cpu_seconds()
            outcomes = await asyncio.gather(*(_attempt(act(v, i)) for i, v in enumerate(visitors)))
            step.cpu_seconds = site.cpu_seconds() - cpu
            step.peak_rss_mb = site.memory_mb()
            for seconds, problems in outcomes:
                if seconds is not None:
                    step.seconds.append(seconds)
                step.problems += problems
            ran = site.computations()
            step.computed, step.distinct = sum(ran.values()), len(ran)
            steps.append(step)
            common.progress(f"  {sessions} sessions, {name}: median "
                            f"{statistics.median(step.seconds or [float('nan')]):.2f} s, "
                            f"{len(step.problems)} problems")
    finally:
        await asyncio.gather(*(v.__aexit__() for v in visitors), return_exceptions=True)
    return steps


async def isolation(site: Server, lesson: Lesson) -> dict[str, float]:
    """A fast change in one session, alone and while a slow run goes on in another."""
    async with Visitor(site.url, lesson.query) as fast, Visitor(site.url, lesson.query) as slow:
        await fast.open("local-filters")
        await slow.open("bm3d")
        await slow.slide(SIGMA, 45)
        alone = statistics.median([(await fast.slide(SIGMA, s)).seconds for s in (15, 17, 19)])
        running = asyncio.create_task(slow.press("Run BM3D"))
        await asyncio.sleep(1.0)
        during = (await fast.slide(SIGMA, 20)).seconds
        slow_seconds = (await running).seconds
    return {"fast alone, median of 3 (s)": alone, "fast while BM3D runs (s)": during,
            "BM3D in the other session (s)": slow_seconds}


async def uploads(site: Server, count: int, side: int) -> list[tuple[int, float, dict[str, int]]]:
    """``count`` distinct uploads at working size ``side`` in one session on the Arena with
    the quick lesson's three methods: (uploads so far, RSS in MB, each cache's bytes) every
    tenth."""
    samples_taken = []
    async with Visitor(site.url, f"side={side}") as visitor:
        await visitor.open("arena")
        await visitor.choose(METHODS, list(QUICK.arena))
        for i in range(count):
            await visitor.upload(UPLOADER, f"photo-{i}.jpg", photo(1000 + i, (768, 1024)))
            if (i + 1) % 10 == 0:
                samples_taken.append((i + 1, site.memory_mb("VmRSS"), site.cache_bytes()))
                common.progress(f"  {i + 1} uploads: RSS {samples_taken[-1][1]:.0f} MB")
    return samples_taken


def report(argv: Sequence[str], lesson: Lesson, steps: list[Step], isolated: dict[str, float],
           memory: list[tuple[int, float, dict[str, int]]]) -> str:
    lines = [common.header("A classroom at once", common.command("benchmarks.load", argv),
                           {"lesson": f"chapter {lesson.chapter}, Arena {', '.join(lesson.arena)}, "
                                      f"working size {lesson.side}, photos "
                                      f"{lesson.photo[1]}x{lesson.photo[0]}",
                            "libraries": common.versions(["streamlit", "torch", "numpy"])}),
             "## The lesson, all sessions at once", "",
             common.markdown_table(COLUMNS, [s.row() for s in steps])]
    problems = Counter(p for s in steps for p in s.problems)
    if problems:
        lines += ["## Problems", "", *(f"- {n} x {p}" for p, n in problems.most_common())]
    if isolated:
        lines += ["## A slow run in one session, a fast change in another", "",
                  common.markdown_table(list(isolated), [[f"{v:.2f}" for v in isolated.values()]])]
    if memory:
        caches = sorted({c for _, _, b in memory for c in b})
        lines += ["## Distinct uploads at the largest working size", "",
                  common.markdown_table(
                      ["uploads", "RSS (MB)", *caches],
                      [[str(n), f"{rss:.0f}", *(f"{b.get(c, 0) / 2**20:.1f}" for c in caches)]
                       for n, rss, b in memory]),
                  "Cache sizes in MB, from Streamlit's `/_stcore/metrics`.", ""]
    return "\n".join(lines) + "\n"


def _on_fresh_server(work: Callable[[Server], Awaitable[T]], log: Path) -> T:
    """``work`` against a server started for it alone (cold caches, its own memory peak),
    the server's output written to ``log``."""
    with tempfile.TemporaryDirectory() as scratch:
        ledger = Path(scratch) / "ledger.jsonl"
        # No on-disk store: every server starts cold, and what it computes is counted.
        with server(log=log, env={LEDGER_VARIABLE: str(ledger),
                                  store.FOLDER_VARIABLE: "off"}) as (url, process):
            return asyncio.run(work(Server(url, process.pid, ledger)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=common.positive_int, nargs="*", default=[1, 10, 20, 40],
                        help="classroom sizes, each on a server just started (none: skip)")
    parser.add_argument("--quick", action="store_true", help="the fastest methods, small images")
    parser.add_argument("--uploads", type=common.natural_int, default=0,
                        help="distinct uploads at the largest working size, one session")
    parser.add_argument("--no-isolation", action="store_true", help="skip the isolation check")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    lesson = QUICK if args.quick else FULL
    common.output_dir(args.out)
    steps: list[Step] = []
    for n in args.sessions:
        common.progress(f"{n} sessions, on a server just started")
        steps += _on_fresh_server(lambda site: classroom(site, n, lesson),
                                  args.out / f"streamlit-{n}.log")
    isolated = ({} if args.no_isolation else
                _on_fresh_server(lambda site: isolation(site, lesson),
                                 args.out / "streamlit-isolation.log"))
    memory = (_on_fresh_server(lambda site: uploads(site, args.uploads, max(WORKING_SIDES)),
                               args.out / "streamlit-uploads.log") if args.uploads else [])
    text = report(argv, lesson, steps, isolated, memory)
    print(text)
    (args.out / "load.md").write_text(text)
    return 1 if any(s.problems for s in steps) else 0


if __name__ == "__main__":
    raise SystemExit(main())
