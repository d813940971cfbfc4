"""Page screenshots: every page of the site at a desktop and at a projector size.

    python -m benchmarks.pages [--out DIR] [--port N] [--pages noise arena] [--side 256]
                               [--press [REGEX]] [--query sigma=0 image=moon]
                               [--sizes 1440x900 853x480@1.5] [--window]

Starts the site (``streamlit run app.py``) on a free localhost port, or uses
one already listening on ``--port``, visits each page in Chromium, waits
until Streamlit has finished running the script (stApp's script state
'notRunning' for 2 s, as ``tests/test_browser.py`` waits), and saves a
full-page screenshot at each size into ``--out`` (``.screenshots/`` by
default, git-ignored): ``<page>-1440x900.png`` at scale 1 and
``<page>-853x480@1.5.png``, 1280x720 seen at 150 % zoom (a projector).
Prints each file and how long its page took to settle. ``--side`` sets the
working size (the sidebar's ``side`` query parameter), so the slower pages
are quicker to shoot; ``--press`` first presses the buttons that run the slow
methods and the σ sweep, so that their results are in the shots too. The
main column scrolls inside the page, so for each shot the window is made as
tall as the content (same width, same layout) and then put back.

Needs Playwright for Python and Chromium (``/usr/bin/chromium`` or on the
PATH, or ``--chromium``); nothing else outside the standard library.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The pages' url paths ("" is the home page), in the navigation's order.
PAGES = ("", "noise", "local-filters", "bm3d", "deep-learning", "prior", "arena")

#: Chromium's flags for a headless run in a container.
FLAGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync")


@dataclass(frozen=True)
class Size:
    """A browser window: CSS viewport and device scale factor."""

    width: int
    height: int
    scale: float = 1.0

    @property
    def label(self) -> str:
        base = f"{self.width}x{self.height}"
        return base if self.scale == 1 else f"{base}@{self.scale:g}"


#: A desktop, and 1280x720 at 150 % browser zoom (a projector).
SIZES = (Size(1440, 900), Size(853, 480, 1.5))


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


@contextmanager
def site(port: int | None = None, log: Path | None = None,
         timeout: float = 60) -> Iterator[str]:
    """The site's base url: one already up on ``port``, else a server started for the block."""
    if port is not None and _healthy(f"http://127.0.0.1:{port}"):
        yield f"http://127.0.0.1:{port}"
        return
    with server(port, log, timeout) as (url, _):
        yield url


@contextmanager
def server(port: int | None = None, log: Path | None = None, timeout: float = 60,
           env: Mapping[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start the site (``streamlit run app.py``) on ``port`` (a free one if None), with
    ``env`` added to the environment, for the block: its base url and its process."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    out = open(log, "wb") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         # Not watching the sources: an edit during a run would reload modules under it.
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + timeout
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the site did not start on port {port}"
                                   + (f"; see {log}" if log else ""))
            time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        if log:
            out.close()


def settle(tab, seconds: float = 180) -> float:
    """Wait until the page's script has finished (stApp's script state 'notRunning' for
    2 s); return the seconds waited. Raises TimeoutError when it is still running."""
    start = time.monotonic()
    tab.wait_for_selector("[data-testid='stMain'] h1", timeout=seconds * 1000)
    app = tab.locator("[data-testid='stApp']")
    quiet, deadline = 0, start + seconds
    while quiet < 4:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the page was still running after {seconds:g} s")
        quiet = quiet + 1 if app.get_attribute("data-test-script-state") == "notRunning" else 0
        tab.wait_for_timeout(500)
    return time.monotonic() - start


#: The heights of what scrolls inside Streamlit's page: the main column and the sidebar.
_SCROLL_HEIGHT = """() => Math.max(document.documentElement.scrollHeight,
    ...['stMain', 'stSidebarContent'].map(id => {
        const el = document.querySelector(`[data-testid='${id}']`);
        return el ? el.scrollHeight : 0; }))"""


def full_page(tab, path: Path, size: Size) -> None:
    """Screenshot the whole page. Streamlit scrolls inside its main column, not the document,
    so Playwright's full_page alone shows one window: the window is made as tall as the
    content for the shot (the width, and so the layout, stays), then put back."""
    height = int(tab.evaluate(_SCROLL_HEIGHT))
    if height > size.height:
        tab.set_viewport_size({"width": size.width, "height": height})
        tab.wait_for_timeout(1000)  # charts and the layout follow the new height
        height = max(height, int(tab.evaluate(_SCROLL_HEIGHT)))
        tab.set_viewport_size({"width": size.width, "height": height})
        tab.wait_for_timeout(500)
    tab.screenshot(path=str(path), full_page=True)
    tab.set_viewport_size({"width": size.width, "height": size.height})


def chromium_path(given: str | None = None) -> str:
    """The Chromium to drive: ``given``, /usr/bin/chromium, or one on the PATH."""
    found = (given or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium")
             or shutil.which("chromium") or shutil.which("chromium-browser"))
    if not found:
        raise SystemExit("Chromium was not found; pass --chromium PATH")
    return found


#: The buttons ``--press`` presses by default: the ones that run the slow methods and the
#: σ sweep, whose results are not drawn until asked for.
PRESS = r"^(Run|Measure) "


def press(tab, pattern: str, timeout: float = 180, most: int = 6) -> list[str]:
    """Press, one at a time, every visible button whose label matches ``pattern`` (a
    button may run the page again and show others), settling after each; return the
    labels pressed. A label is the button's last line of text (the first may be the name
    of its icon)."""
    pressed: list[str] = []
    for _ in range(most):
        target = None
        for button in tab.locator("[data-testid='stMain'] button").all():
            label = button.inner_text().strip().split("\n")[-1].strip()
            if (label and label not in pressed and re.search(pattern, label)
                    and button.is_visible() and button.is_enabled()):
                target = button, label
                break
        if target is None:
            break
        target[0].click()
        pressed.append(target[1])
        tab.wait_for_timeout(1000)
        settle(tab, timeout)
    return pressed


def shoot(url: str, pages: Sequence[str], out: Path, *, sizes: Sequence[Size] = SIZES,
          query: dict[str, str] | None = None, chromium: str | None = None,
          timeout: float = 180, buttons: str | None = None,
          window: bool = False) -> list[tuple[Path, float]]:
    """Screenshot every page at every size into ``out``; return (file, settle seconds).
    With ``buttons``, a regular expression, the buttons it matches are pressed first
    (:func:`press`), and the seconds include their runs; with ``window``, the shot is the
    first screen only (what a visitor sees on arriving), not the whole page."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
    shots = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(chromium), args=list(FLAGS),
                                    headless=True)
        try:
            for size in sizes:
                context = browser.new_context(
                    viewport={"width": size.width, "height": size.height},
                    device_scale_factor=size.scale)
                tab = context.new_page()
                for path in pages:
                    name = f"{path or 'home'}-{size.label}.png"
                    tab.goto(f"{url}/{path}{suffix}")
                    start = time.monotonic()
                    try:
                        settle(tab, timeout)
                        if buttons:
                            for label in press(tab, buttons, timeout):
                                print(f"  pressed {label!r}", flush=True)
                        seconds = time.monotonic() - start
                    except Exception as error:  # noqa: BLE001 - a timeout or a page error: shoot it anyway
                        print(f"{name}: did not settle ({error})", file=sys.stderr)
                        seconds = float("nan")
                    errors = tab.locator("[data-testid='stException']").count()
                    if window:
                        tab.wait_for_timeout(1000)  # the charts' last drawing
                        tab.screenshot(path=str(out / name))
                    else:
                        full_page(tab, out / name, size)
                    shots.append((out / name, seconds))
                    print(f"{out / name}  settled in {seconds:.1f} s"
                          + (f"  ({errors} error box{'es' if errors > 1 else ''})"
                             if errors else ""),
                          flush=True)
                context.close()
        finally:
            browser.close()
    return shots


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / ".screenshots",
                        help="folder for the PNGs (default .screenshots/)")
    parser.add_argument("--port", type=int, default=None,
                        help="use the site already served on this port, or start it there")
    parser.add_argument("--pages", nargs="+", default=list(PAGES), metavar="PAGE",
                        help="url paths to visit ('home' or '' for the home page); "
                             f"default all: {' '.join(p or 'home' for p in PAGES)}")
    parser.add_argument("--side", type=int, default=None,
                        help="working size, the longer side in pixels (the sidebar's default "
                             "if not given)")
    parser.add_argument("--query", nargs="+", default=[], metavar="KEY=VALUE",
                        help="more query parameters for every page (the sidebar's: sigma=0, "
                             "image=moon, noise=poisson, real=true...)")
    parser.add_argument("--sizes", nargs="+", default=None, metavar="WxH[@S]",
                        help="window sizes (default 1440x900 853x480@1.5)")
    parser.add_argument("--press", nargs="?", const=PRESS, default=None, metavar="REGEX",
                        help="press the buttons whose label matches REGEX (default "
                             f"{PRESS!r}: the slow runs and the σ sweep) before each shot")
    parser.add_argument("--window", action="store_true",
                        help="shoot the first screen only, not the whole page (the README's "
                             "picture: --pages home --sizes 1440x900 --window --press "
                             "--out assets/screenshots)")
    parser.add_argument("--chromium", default=None, help="path of the Chromium binary")
    parser.add_argument("--timeout", type=float, default=180,
                        help="seconds a page may take to settle")
    args = parser.parse_args(argv)
    pages = ["" if p in ("home", "/") else p.strip("/") for p in args.pages]
    sizes = SIZES if not args.sizes else [_size(s) for s in args.sizes]
    query = dict(item.split("=", 1) for item in args.query)
    if args.side:
        query["side"] = str(args.side)
    start = time.monotonic()
    with site(args.port, log=args.out / "streamlit.log" if _mkdir(args.out) else None) as url:
        shots = shoot(url, pages, args.out, sizes=sizes, query=query, chromium=args.chromium,
                      timeout=args.timeout, buttons=args.press, window=args.window)
    print(f"{len(shots)} screenshots in {time.monotonic() - start:.0f} s")
    return 0


def _mkdir(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return True


def _size(text: str) -> Size:
    """'853x480@1.5' -> Size(853, 480, 1.5)."""
    dims, _, scale = text.partition("@")
    width, height = dims.lower().split("x")
    return Size(int(width), int(height), float(scale or 1))


if __name__ == "__main__":
    sys.exit(main())
