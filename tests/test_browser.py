"""The main flows in a real browser: the site served by Streamlit, driven by Chromium.

AppTest cannot see plotly charts or components, so what only a browser can
check is checked here: the pages render without an error, the comparison
panels zoom together, and the URL carries the scene. Skipped where Chromium
or Playwright is absent (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
]
ROOT = Path(__file__).resolve().parent.parent
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync"]
SHOTS = Path(os.environ.get("DDT_SCREENSHOTS", ROOT / ".screenshots"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("site") / "streamlit.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the site did not start within a minute:\n{log.read_text()}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()


def _settle(tab, seconds: float = 180) -> None:
    """Wait until Streamlit has finished running the script (stApp's script state, which the
    status widget of older versions no longer shows here, has been 'notRunning' for 2 s)."""
    tab.wait_for_selector("[data-testid='stMain'] h1", timeout=seconds * 1000)
    app = tab.locator("[data-testid='stApp']")
    quiet, deadline = 0, time.monotonic() + seconds
    while quiet < 4 and time.monotonic() < deadline:
        quiet = quiet + 1 if app.get_attribute("data-test-script-state") == "notRunning" else 0
        tab.wait_for_timeout(500)
    assert quiet >= 4, f"the page was still running after {seconds:g} s"


def _no_error(tab) -> None:
    assert tab.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in tab.inner_text("body")


def _shot(tab, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("path", ["", "noise", "local-filters", "bm3d", "deep-learning", "arena"])
def test_page_renders_without_error(site, page, path):
    page.goto(f"{site}/{path}")
    _settle(page)
    _no_error(page)
    _shot(page, path or "home")


def test_arena_panels_zoom_together(site, page):
    page.goto(f"{site}/arena")
    _settle(page)
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=90_000)
    ranges = """el => { const l = el._fullLayout; return Object.keys(l)
        .filter(k => /^xaxis\\d*$/.test(k)).map(k => l[k].range.slice()); }"""
    before = chart.evaluate(ranges)
    assert len(before) >= 3
    chart.scroll_into_view_if_needed()
    box = chart.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(800)
    after = chart.evaluate(ranges)
    assert after[0] != before[0], "scrolling did not zoom the first panel"
    assert all(r == after[0] for r in after), f"panels did not follow: {after}"


def test_the_url_carries_the_scene(site, page):
    page.goto(f"{site}/noise?sigma=60&image=moon")
    _settle(page)
    _no_error(page)
    assert "Gaussian, σ = 60" in page.inner_text("body")
