"""A lecture in a real browser: every chapter walked as a teacher would, cold, warm, restarted.

    python -m benchmarks.lecture [--side 512] [--pages home noise bm3d] [--phases cold warm restart]
                                 [--out assets/benchmarks/lecture/lecture.md]

Starts the site (``streamlit run app.py``, as :func:`benchmarks.pages.server`
does) on a free localhost port, with a ledger of the computations that run
(``DDT_COMPUTE_LEDGER``: one JSON line per cache miss, see
:mod:`ui.compute`) and an on-disk result store in a temporary folder
(``DDT_STORE``), and walks it in headless Chromium at 1440x900 as a teacher
would: every page of ``app.py``'s navigation in order, reached by its link in
the sidebar, at its defaults (the sidebar's, with the working size
``--side``). On each page it presses, one at a time, the buttons that run a
slow method or a sweep (labels starting "Run" or "Measure",
:data:`benchmarks.pages.PRESS`), clicks one pixel of the first clickable
picture (a streamlit-image-coordinates component) and moves the page's first
slider one step (the keyboard's right arrow; the sidebar's are left alone).

It walks three times:

``cold``
    a server just started on an empty store; its first step, "first page
    after start", is the time from the server's health endpoint answering
    to the home page idle;
``warm``
    the same server, a new browser session: nothing should be computed;
``restart``
    the server stopped and started again on the same store, a new session:
    what the store kept is not computed again.

For each step it prints the seconds to idle (from the action until
Streamlit's script state is "notRunning", a title is on the page and no
spinner is visible, held for :data:`QUIET` seconds; watched inside the page,
so a short run is not missed between two polls), the computations run
(lines added to the ledger during the step) and the problems (exceptions and
error boxes on the page, a step that did not finish, an action after which
nothing ran: a lost click), then a summary per phase, and writes both as
markdown to ``--out`` with the command, date, machine and load average.
Times are this machine's: compare them within one run.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import common
from .pages import FLAGS, PRESS, chromium_path, server

ROOT = Path(__file__).resolve().parent.parent

#: Where the table goes by default.
OUT = ROOT / "assets" / "benchmarks" / "lecture" / "lecture.md"

#: Where the servers' output goes by default (one file per start).
LOGS = Path(tempfile.gettempdir()) / "ddt-lecture"

#: The environment variables the site reads: the ledger of computations run and the folder
#: of the on-disk result store (``ui.compute.LEDGER_VARIABLE`` and ``ui.store``'s; not
#: imported from there, which would load Streamlit and the site into the benchmark).
LEDGER_VARIABLE = "DDT_COMPUTE_LEDGER"
STORE_VARIABLE = "DDT_STORE"

PHASES = ("cold", "warm", "restart")

#: Seconds a page must stay idle before a step counts as done; the time reported is when
#: the idle stretch began.
QUIET = 0.75
#: Seconds after an action with no sign of work at all, after which it counts as lost.
GRACE = 2.0
#: The window: a desktop, as ``benchmarks.steps`` uses.
VIEWPORT = {"width": 1440, "height": 900}
#: The clickable picture of streamlit-image-coordinates (as ``tests/test_browser.py`` finds it).
PICTURE = "iframe[title='streamlit_image_coordinates.streamlit_image_coordinates']"

#: Installed in every document the browser opens: keeps ``window.__lecture`` up to date
#: with whether the page is busy (script not idle, no title yet, or a spinner visible),
#: how many busy stretches began (a new page title counts as one: Streamlit does not mark
#: a run of a few hundred milliseconds as running at all), and when the last one ended
#: (epoch milliseconds, the clock Python's time.time() reads). A MutationObserver sees
#: every change of the script state, however short; the interval catches a spinner that
#: appears without one.
WATCH = """(() => {
  if (window.__lecture) return;
  const seen = window.__lecture = {busy: true, busyStarts: 1, idleSince: 0};
  const visible = e => e.getClientRects().length > 0;
  const busy = () => {
    const app = document.querySelector("[data-testid='stApp']");
    return !app || app.getAttribute("data-test-script-state") !== "notRunning"
      || !document.querySelector("[data-testid='stMain'] h1")
      || [...document.querySelectorAll("[data-testid='stSpinner']")].some(visible);
  };
  const title = () => {
    const h1 = document.querySelector("[data-testid='stMain'] h1");
    return h1 ? h1.textContent : "";
  };
  const check = () => {
    const now = busy();
    if (now && !seen.busy) seen.busyStarts += 1;
    if (!now && seen.busy) seen.idleSince = Date.now();
    // A page drawn so fast that Streamlit never showed its script as running is work too.
    const shown = title();
    if (shown !== seen.title) {
      if (seen.title !== undefined && !now && !seen.busy) {
        seen.busyStarts += 1;
        seen.idleSince = Date.now();
      }
      seen.title = shown;
    }
    seen.busy = now;
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
    attributes: true, attributeFilter: ["data-test-script-state"]});
  setInterval(check, 50);
})();"""

#: What a page shows as a problem: exceptions and error boxes.
PROBLEMS = "[data-testid='stException'], [data-testid='stAlertContentError']"


@dataclass
class Step:
    """One step of the walk: where, what, how long until idle, what ran, what went wrong."""

    phase: str
    page: str
    action: str
    seconds: float = float("nan")
    computed: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def row(self) -> list[str]:
        ran = sum(self.computed.values())
        kinds = ", ".join(f"{w} x{n}" if n > 1 else w for w, n in sorted(self.computed.items()))
        return [self.phase, self.page, self.action, f"{self.seconds:.2f}",
                f"{ran} ({kinds})" if ran else "0", "; ".join(self.problems) or "none"]


COLUMNS = ("phase", "page", "action", "seconds to idle", "computations", "problems")


# --------------------------------------------------------------------------- the pages

def pages(app: Path = ROOT / "app.py") -> list[str]:
    """The url paths of the pages in ``app``'s navigation, in order ("" is the default page).

    Read from the ``st.Page(...)`` calls in the source, since running ``app.py`` needs
    Streamlit's runtime: a page's path is its ``url_path``, else its file's stem.
    """
    found = []
    for node in ast.walk(ast.parse(app.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            options = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            script = ast.literal_eval(node.args[0])
            found.append("" if options.get("default") else
                         options.get("url_path", Path(script).stem))
    return found


def page_name(path: str) -> str:
    return path or "home"


# --------------------------------------------------------------------------- waiting

class NothingRan(RuntimeError):
    """An action after which the page set no work going: a click or a key that was lost."""


def until_idle(tab, start: float, starts_before: int, timeout: float) -> float:
    """Wait until the page in ``tab`` has been idle for :data:`QUIET` s after an action
    taken at ``start`` (time.time()) when :data:`WATCH` had counted ``starts_before`` busy
    stretches; return the seconds from the action to the idle stretch's beginning.

    Raises NothingRan when no work began within :data:`GRACE` s (every action of the
    walk runs the script), TimeoutError when the page is still busy after ``timeout`` s.
    """
    while True:
        seen = tab.evaluate("() => window.__lecture") or {"busy": True, "busyStarts": 0}
        now = time.time()
        worked = seen["busyStarts"] > starts_before
        if not worked and not seen["busy"] and now - start > GRACE:
            raise NothingRan(f"nothing ran within {GRACE:g} s of the action")
        if worked and not seen["busy"] and now - seen["idleSince"] / 1000 >= QUIET:
            return max(0.0, seen["idleSince"] / 1000 - start)
        if now - start > timeout:
            raise TimeoutError(f"still busy after {timeout:g} s")
        tab.wait_for_timeout(100)


def timed(tab, action: Callable[[], None], timeout: float, *, navigates: bool = False,
          start: float | None = None) -> float:
    """Take ``action`` and return the seconds until the page is idle again. An action that
    ``navigates`` loads a new document, whose watch starts busy; ``start`` (time.time())
    is when the clock started, now by default."""
    starts_before = 0 if navigates else tab.evaluate("() => window.__lecture.busyStarts")
    start = time.time() if start is None else start
    action()
    return until_idle(tab, start, starts_before, timeout)


def problems(tab) -> list[str]:
    """The exceptions and error boxes the page shows, each cut to its first line."""
    return [text.strip().split("\n")[0][:120] for text in
            tab.locator(PROBLEMS).filter(visible=True).all_inner_texts()]


# --------------------------------------------------------------------------- the actions

def run_button(tab, pressed: set[str]):
    """The first visible, enabled button of the page (not the sidebar) whose label matches
    :data:`benchmarks.pages.PRESS` and that was not pressed yet: (locator, label) or None.

    The labels are read in one pass inside the page, and the button is found again by its
    label: a rerun that redraws the page meanwhile (the first page of a session reruns
    once the browser has told the column's width, ui/viewport.py) leaves no stale index.
    """
    labels = tab.locator("[data-testid='stMain'] button").evaluate_all(
        "buttons => buttons.filter(b => b.getClientRects().length && !b.disabled)"
        ".map(b => b.innerText.trim().split('\\n').pop().trim())")
    for label in labels:
        if label and label not in pressed and re.search(PRESS, label):
            button = tab.locator("[data-testid='stMain']").get_by_role(
                "button", name=label, exact=True).first
            return button, label
    return None


def picture_click(tab) -> Callable[[], None] | None:
    """A click in the first clickable picture, a third of the way across and down, or None
    where the page has none; the picture is put in view before the clock starts."""
    frames = tab.locator(PICTURE)
    if not frames.count():
        return None
    picture = tab.frame_locator(PICTURE).first.locator("img")
    picture.scroll_into_view_if_needed()
    picture.evaluate("img => img.decode()")  # drawn, so that the click lands on it
    box = picture.bounding_box()
    return lambda: picture.click(position={"x": box["width"] / 3, "y": box["height"] / 3})


def slider_step(tab) -> tuple[Callable[[], None], str] | None:
    """One step right on the page's first visible slider (its thumb focused before the
    clock starts) and the slider's label, or None where the page has none."""
    sliders = tab.locator("[data-testid='stMain'] [data-testid='stSlider']").filter(visible=True)
    if not sliders.count():
        return None
    slider = sliders.first
    label = slider.locator("[data-testid='stWidgetLabel']").inner_text().strip()
    thumb = slider.get_by_role("slider").first
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    return (lambda: tab.keyboard.press("ArrowRight")), label


# --------------------------------------------------------------------------- the walk

class Walk:
    """One browser session's walk, its steps recorded with the ledger's new lines."""

    def __init__(self, tab, phase: str, ledger: Path, timeout: float) -> None:
        self.tab, self.phase, self.ledger, self.timeout = tab, phase, ledger, timeout
        self.steps: list[Step] = []
        self._seen = self._lines()

    def _lines(self) -> list[str]:
        return self.ledger.read_text().splitlines() if self.ledger.exists() else []

    def step(self, page: str, action: str, act: Callable[[], None], *, navigates: bool = False,
             start: float | None = None) -> Step:
        """Take ``act`` as step ``action`` on ``page``; record and print it."""
        step = Step(self.phase, page_name(page), action)
        try:
            step.seconds = timed(self.tab, act, self.timeout, navigates=navigates, start=start)
        except Exception as error:  # noqa: BLE001 - a step that fails is reported, the walk goes on
            step.problems.append(f"{type(error).__name__}: {str(error).splitlines()[0][:120]}")
        step.problems += problems(self.tab)
        lines = self._lines()
        step.computed = Counter(json.loads(line)["what"] for line in lines[len(self._seen):])
        self._seen = lines
        self.steps.append(step)
        common.progress(" | ".join(step.row()))
        return step

    def first_page(self, url: str, side: int, healthy_at: float) -> None:
        """The home page opened at ``url`` with the working size ``side``, timed from
        ``healthy_at``, when the server's health endpoint answered."""
        self.step("", "first page after start",
                  lambda: self.tab.goto(f"{url}/?side={side}", wait_until="commit"),
                  navigates=True, start=healthy_at)

    def open(self, url: str, page: str, side: int) -> None:
        """Go to ``page``: by its link in the sidebar, as a teacher does, or by its address
        when the session has no page yet."""
        link = self.tab.locator(f"[data-testid='stSidebarNav'] a[href='{url}/{page}']")
        if self.tab.url.startswith(url) and link.count():
            self.step(page, "open", link.first.click)
        else:
            self.step(page, "open", lambda: self.tab.goto(f"{url}/{page}?side={side}",
                                                          wait_until="commit"), navigates=True)

    def teach(self, page: str, most_buttons: int = 8) -> None:
        """On the open page: press its run buttons, click a pixel, move a slider."""
        pressed: set[str] = set()
        for _ in range(most_buttons):
            found = run_button(self.tab, pressed)
            if found is None:
                break
            button, label = found
            pressed.add(label)
            self.step(page, f"press {label!r}", button.click)
        for prepare, action in ((picture_click, "click a pixel"), (slider_step, "move a slider")):
            try:
                ready = prepare(self.tab)
            except Exception as error:  # noqa: BLE001 - a page that cannot be driven is reported
                self.steps.append(Step(self.phase, page_name(page), action,
                                       problems=[f"{type(error).__name__}: {error}"]))
                continue
            if isinstance(ready, tuple):
                ready, label = ready
                action = f"{action}: {label}"
            if ready is not None:
                self.step(page, action, ready)


@contextmanager
def session(browser) -> Iterator:
    """A new browser session (its own context, so its own Streamlit session): its tab."""
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script(WATCH)
    try:
        yield context.new_page()
    finally:
        context.close()


def walk(tab, url: str, phase: str, paths: Sequence[str], side: int, ledger: Path,
         timeout: float, healthy_at: float | None = None) -> list[Step]:
    """One phase: the session in ``tab`` walks ``paths``; with ``healthy_at`` (a server
    just started) the first step is the first page after the start."""
    lesson = Walk(tab, phase, ledger, timeout)
    if healthy_at is not None:
        lesson.first_page(url, side, healthy_at)
    for path in paths:
        if not (path == "" and healthy_at is not None):
            lesson.open(url, path, side)
        lesson.teach(path)
    return lesson.steps


@contextmanager
def started(env: dict[str, str], log: Path, timeout: float = 120) -> Iterator[tuple[str, float]]:
    """The site started with ``env``: its url and when its health endpoint answered."""
    with server(log=log, timeout=timeout, env=env) as (url, _):
        yield url, time.time()


def lecture(phases: Sequence[str], paths: Sequence[str], side: int, timeout: float,
            logs: Path, chromium: str | None = None) -> tuple[list[Step], tuple[int, int]]:
    """Walk ``paths`` in each of ``phases`` (in :data:`PHASES`' order, starting cold) on
    a site with a fresh ledger and store; every step, and the files and bytes the store
    held at the end."""
    from playwright.sync_api import sync_playwright

    steps: list[Step] = []
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as p, ExitStack() as up:
        ledger = Path(scratch) / "ledger.jsonl"
        env = {LEDGER_VARIABLE: str(ledger), STORE_VARIABLE: str(Path(scratch) / "store")}
        browser = p.chromium.launch(executable_path=chromium_path(chromium), args=list(FLAGS),
                                    headless=True)
        url = healthy_at = None
        for phase in phases:
            with session(browser) as tab:  # opened first: the clock starts with the server
                if phase != "warm":
                    up.close()
                    log = logs / f"streamlit-{phase}.log"
                    url, healthy_at = up.enter_context(started(env, log))
                steps += walk(tab, url, phase, paths, side, ledger, timeout,
                              None if phase == "warm" else healthy_at)
        up.close()
        browser.close()
        stored = [path.stat().st_size for path in (Path(scratch) / "store").rglob("*.pkl")]
    return steps, (len(stored), sum(stored))


# --------------------------------------------------------------------------- the report

def summary(steps: Sequence[Step]) -> list[list[str]]:
    """Per phase: steps, the slowest (page, action, seconds), steps over 1 s,
    computations, problems."""
    rows = []
    for phase in dict.fromkeys(s.phase for s in steps):
        mine = [s for s in steps if s.phase == phase]
        finished = [s for s in mine if s.seconds == s.seconds]
        slowest = max(finished, key=lambda s: s.seconds, default=None)
        worst = f"{slowest.page}: {slowest.action} ({slowest.seconds:.2f} s)" if slowest else "-"
        rows.append([phase, str(len(mine)), worst,
                     str(sum(s.seconds > 1 for s in finished)),
                     str(sum(sum(s.computed.values()) for s in mine)),
                     str(sum(len(s.problems) for s in mine))])
    return rows


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report(argv: Sequence[str], side: int, steps: Sequence[Step], loads: Sequence[str],
           stored: tuple[int, int]) -> str:
    lines = [common.header("A lecture in the browser", common.command("benchmarks.lecture", argv),
                           {"working size": str(side),
                            "load average (1, 5, 15 min) before, after": " / ".join(loads),
                            "the on-disk store at the end": f"{stored[0]} results, "
                                                            f"{stored[1] / 2**20:.0f} MB",
                            "libraries": common.versions(["streamlit", "playwright", "torch"])}),
             "Seconds to idle: from the action until Streamlit's script state is \"notRunning\", "
             "a title is on the page and no spinner is visible (held for "
             f"{QUIET:g} s). Computations: lines added to the ledger (cache misses) during the "
             "step, by kind.", "",
             "## Summary", "",
             common.markdown_table(["phase", "steps", "slowest step", "steps over 1 s",
                                    "computations", "problems"], summary(steps)),
             "## Steps", "",
             common.markdown_table(COLUMNS, [s.row() for s in steps])]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    known = pages()
    parser.add_argument("--side", type=common.positive_int, default=512,
                        help="working size, the longer side in pixels (default 512)")
    parser.add_argument("--pages", nargs="+", default=None, metavar="PAGE",
                        help="url paths to walk, in the navigation's order ('home' for the "
                             f"home page); default all: {' '.join(map(page_name, known))}")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES),
                        help="which walks (default all; warm and restart follow cold)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds a step may take")
    parser.add_argument("--chromium", default=None, help="path of the Chromium binary")
    parser.add_argument("--out", type=Path, default=OUT, help="the markdown report")
    parser.add_argument("--logs", type=Path, default=LOGS,
                        help=f"folder for the servers' output (default {LOGS})")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = [page_name(p.strip("/")) for p in (args.pages or map(page_name, known))]
    unknown = set(chosen) - set(map(page_name, known))
    if unknown:
        parser.error(f"no page {', '.join(sorted(unknown))}; the pages are "
                     f"{' '.join(map(page_name, known))}")
    if "cold" not in args.phases:
        parser.error("the warm and restart walks follow a cold one: include cold")
    paths = [p for p in known if page_name(p) in chosen]
    phases = [p for p in PHASES if p in args.phases]
    common.output_dir(args.out.parent)
    loads = [load_average()]
    steps, stored = lecture(phases, paths, args.side, args.timeout,
                            common.output_dir(args.logs), args.chromium)
    loads.append(load_average())
    text = report(argv, args.side, steps, loads, stored)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 1 if any(s.problems for s in steps) else 0


if __name__ == "__main__":
    sys.exit(main())
