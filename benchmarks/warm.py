"""Warm the site before a lecture: every chapter's computations, done once, kept on disk.

    python -m benchmarks.warm [--url http://127.0.0.1:8501 | --start]
                              [--images camera astronaut] [--sigmas 25 50] [--side 512]
                              [--pages bm3d deep-learning] [--no-press]
    make warm     # the same with --start: camera at sigma 25, working size 512, every page

Opens, through Streamlit's own protocol (:class:`benchmarks.visitor.Visitor`),
each page of the site (``--pages``, url paths; all by default, the home page
as "home") with each sample image and σ the lecture will use (the sidebar's
``image``, ``sigma`` and ``side`` query parameters), and presses every button
that runs a slow method or a sweep (labels starting "Run" or "Measure"), so
that each computation is done once. Its results go to the server's memory
caches and to the on-disk store (:mod:`ui.store`, ``DDT_STORE``), which
outlives the server: after a restart, every warmed view comes back without
computing. ``--start`` starts a server of its own on the store for the run and
stops it after; otherwise it warms the running site at ``--url`` (under the
compose file, the replicas share one store, so warming one warms them all).
Prints each page's time, each cache's size and the computations it ran (from
Streamlit's ``/_stcore/metrics``), and the store's size on disk.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
import time
import urllib.parse
from collections.abc import Sequence

from ui import store

from . import common
from .pages import server
from .visitor import Visitor, cache_metrics

#: The buttons that start a slow computation: the same as ``benchmarks.pages --press``.
PRESS = re.compile(r"^(Run|Measure) ")


async def warm_page(visitor: Visitor, page: str, press: bool,
                    most: int = 8) -> tuple[float, list[str]]:
    """Open ``page`` and press, one at a time, each run button it shows (a press may show
    others); return the seconds taken and the problems the page showed."""
    reply = await visitor.open(page)
    seconds, problems, pressed = reply.seconds, list(reply.problems), set()
    for _ in range(most if press else 0):
        button = next((e for e in visitor.last.elements if e.kind == "button"
                       and PRESS.match(e.label) and e.label not in pressed), None)
        if button is None:
            break
        pressed.add(button.label)
        reply = await visitor.press(button.label)
        seconds += reply.seconds
        problems += reply.problems
    return seconds, problems


async def warm(url: str, images: Sequence[str], sigmas: Sequence[int], side: int,
               press: bool, pages: Sequence[str] | None = None) -> list[list[str]]:
    """Warm ``pages`` (url paths, "home" for the home page; all if None) for every image
    and σ; one table row per page."""
    rows = []
    for image in images:
        for sigma in sigmas:
            query = urllib.parse.urlencode({"image": image, "sigma": sigma, "side": side})
            async with Visitor(url, query) as visitor:
                await visitor.open("")
                for page in list(visitor.pages):
                    if pages is not None and (page or "home") not in pages:
                        continue
                    seconds, problems = await warm_page(visitor, page, press)
                    rows.append([image, str(sigma), page or "home", f"{seconds:.1f}",
                                 "; ".join(problems) or "none"])
                    common.progress(" | ".join(rows[-1]))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8501", help="the running site")
    parser.add_argument("--start", action="store_true",
                        help="start a server of its own on the store instead of using --url")
    parser.add_argument("--images", nargs="+", default=["camera"], help="sample image names")
    parser.add_argument("--sigmas", type=common.natural_int, nargs="+", default=[25],
                        help="noise levels on the 0-255 scale")
    parser.add_argument("--side", type=common.positive_int, default=512,
                        help="the working size the class will use")
    parser.add_argument("--pages", nargs="+", default=None,
                        help="url paths of the pages to warm ('home' for the home page)")
    parser.add_argument("--no-press", action="store_true",
                        help="open the pages only; leave the slow methods to the class")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(server(timeout=120))[0] if args.start else args.url.rstrip("/")
        rows = asyncio.run(warm(url, args.images, args.sigmas, args.side, not args.no_press,
                                args.pages))
        print(common.markdown_table(["image", "σ", "page", "seconds", "problems"], rows))
        print(common.markdown_table(
            ["cache", "MB", "computations run"],
            [[name, f"{size / 2**20:.1f}", str(stored)]
             for name, (size, stored) in sorted(cache_metrics(url).items())]))
    kept = store.current()
    if kept is not None:
        print(f"on disk: {len(kept.files())} results, {kept.size / 2**20:.0f} MB in "
              f"{kept.folder} (at most {kept.max_bytes / 2**20:.0f} MB)")
    print(f"warmed in {time.perf_counter() - start:.0f} s")
    return 1 if any(row[-1] != "none" for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
