"""The main flows in a real browser: the site served by Streamlit, driven by Chromium.

AppTest cannot see plotly charts or components, so what only a browser can
check is checked here: the pages render without an error, the comparison
panels zoom together, and the URL carries the scene. Skipped where Chromium
or Playwright is absent (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
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
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none"],
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


@pytest.mark.parametrize("path", ["", "noise", "local-filters", "pde", "wavelets", "sparsity",
                                  "bm3d", "deep-learning", "fighting-back", "prior",
                                  "real-photographs", "arena"])
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


PICTURE = "iframe[title='streamlit_image_coordinates.streamlit_image_coordinates']"


def _choose(tab, x: float, y: float) -> tuple[str, float]:
    """Click the clickable picture at fractions (x, y) of its size; return the new caption and
    the seconds until the page showed the view of the new pixel."""
    where = tab.locator("[data-testid='stCaptionContainer']", has_text="Click the image").first
    before = where.inner_text()
    picture = tab.frame_locator(PICTURE).first.locator("img")
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()
    start = time.monotonic()
    picture.click(position={"x": box["width"] * x, "y": box["height"] * y})
    tab.wait_for_function(
        """before => [...document.querySelectorAll("[data-testid='stCaptionContainer']")]
            .some(e => e.innerText.includes("Click the image") && e.innerText !== before)""",
        arg=before, timeout=60_000)
    seconds = time.monotonic() - start
    _settle(tab)
    return where.inner_text(), seconds


def _record(name: str, seconds: list[float]) -> None:
    """Times are reported, not asserted: they go to the screenshots folder and the log."""
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / "view-times.json"
    times = json.loads(path.read_text()) if path.exists() else {}
    times[name] = [round(s, 3) for s in seconds]
    path.write_text(json.dumps(times, indent=1))
    print(f"{name}: the view of a new pixel took {', '.join(f'{s:.2f} s' for s in seconds)}")


def test_choosing_a_block_on_the_bm3d_page_does_not_rerun_bm3d(site, page):
    page.goto(f"{site}/bm3d")
    _settle(page)
    page.get_by_role("button", name="Run BM3D / CBM3D", exact=True).click()
    _settle(page)
    run = page.locator("[data-testid='stCaptionContainer']", has_text="Run time").inner_text()
    times = []
    for x, y in ((0.2, 0.3), (0.7, 0.8), (0.5, 0.1)):
        caption, seconds = _choose(page, x, y)
        times.append(seconds)
        row, col = (int(v) for v in caption.rsplit("now row ", 1)[1].rstrip(".").split(", column "))
        assert abs(row - 512 * y) <= 4 and abs(col - 512 * x) <= 4, caption
        assert "blocks matched to it" in caption
    _no_error(page)
    assert page.get_by_role("button", name="Run BM3D / CBM3D", exact=True).count() == 0
    assert page.locator("[data-testid='stCaptionContainer']",
                        has_text="Run time").inner_text() == run
    _record("bm3d block", times)


def test_choosing_a_pixel_on_the_deep_learning_page_looks_without_rerunning(site, page):
    page.goto(f"{site}/deep-learning")
    _settle(page)
    times = []
    for x, y in ((0.3, 0.6), (0.8, 0.2)):
        caption, seconds = _choose(page, x, y)
        times.append(seconds)
        assert "receptive field" in caption.lower(), caption
    _no_error(page)
    _record("network pixel", times)


def test_scrubbing_the_pde_evolution_shows_other_frames_without_rerunning(site, page):
    method = urllib.parse.quote_plus("Perona–Malik anisotropic diffusion")
    page.goto(f"{site}/pde?pde.method={method}")
    _settle(page)
    frame = page.locator("[data-testid='stImageCaption']", has_text="Time t =")
    first = frame.inner_text()
    slider = page.locator("input[type=range][aria-label='Time t']")
    slider.focus()
    times = []
    for key in ("Home", "End"):
        before = frame.inner_text()  # read before the key: a quick frame may change at once
        start = time.monotonic()
        page.keyboard.press(key)
        page.wait_for_function(
            "before => [...document.querySelectorAll('[data-testid=stImageCaption]')]"
            ".some(c => c.innerText.startsWith('Time t =') && c.innerText !== before)",
            arg=before, timeout=30_000)
        times.append(time.monotonic() - start)
    _settle(page)
    _no_error(page)
    assert frame.inner_text() != first
    _record("pde evolution frame", times)


def _used(tab) -> str:
    """The caption with the parameters the page's method used."""
    return tab.locator("[data-testid='stCaptionContainer']",
                       has_text="Parameters used").inner_text()


def _chosen(tab) -> str:
    """The probe's caption, which says the pixel chosen."""
    return tab.locator("[data-testid='stCaptionContainer']", has_text="now row ").first.inner_text()


def _kappa_by_hand(tab) -> None:
    """Switch Perona–Malik's κ from its rule to the slider, and move the slider up a step."""
    tab.get_by_text("Kappa: auto", exact=True).click()
    _settle(tab)
    slider = tab.get_by_role("slider", name="Kappa")
    slider.focus()
    tab.keyboard.press("ArrowRight")
    _settle(tab)


def _visushrink(tab) -> None:
    """Choose the wavelet chapter's VisuShrink rule."""
    tab.get_by_role("combobox", name="Rule").click()
    tab.keyboard.press("ArrowDown")  # a click alone leaves the list closed
    tab.get_by_role("option", name="VisuShrink", exact=True).click()
    _settle(tab)


def _pixel(tab) -> None:
    """Click the sparsity chapter's picture to choose another block."""
    _choose(tab, 0.3, 0.6)


@pytest.mark.parametrize(("path", "change", "read"), [
    ("pde?pde.method=" + urllib.parse.quote_plus("Perona–Malik anisotropic diffusion"),
     _kappa_by_hand, _used),
    ("wavelets", _visushrink, _used),
    ("sparsity", _pixel, _chosen),
])
def test_a_copied_link_shows_the_same_view_in_a_fresh_browser(site, browser, page, path, change,
                                                              read):
    page.goto(f"{site}/{path}")
    _settle(page)
    before = read(page)
    change(page)
    shown = read(page)
    assert shown != before, "the change did not change the view"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        fresh = context.new_page()
        fresh.goto(page.url)
        _settle(fresh)
        _no_error(fresh)
        assert read(fresh) == shown, page.url
    finally:
        context.close()


def test_presenter_mode_walks_the_story_with_the_arrow_keys(site, browser):
    """At 1280x720 and 150 % (a projector), ?present=1 opens the home page as slide 1; the
    right arrow turns every slide, home to the Arena, and each is saved as a screenshot."""
    from ui import story

    order = story.slides()
    context = browser.new_context(viewport={"width": 853, "height": 480}, device_scale_factor=1.5)
    tab = context.new_page()
    try:
        tab.goto(f"{site}/?present=true&side=256")
        for number, slide in enumerate(order, start=1):
            _settle(tab)
            _no_error(tab)
            assert tab.get_by_text(f"Slide {number} of {len(order)}", exact=True).count() == 1
            assert tab.locator("[data-testid='stSidebar']").is_hidden()
            if slide.script != story.HOME:
                assert tab.locator("[data-testid='stMain'] h1").first.inner_text() == slide.title
            SHOTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(SHOTS / f"present-{number:02d}-{slide.name}.png"))
            if number < len(order):
                tab.evaluate("() => document.activeElement && document.activeElement.blur()")
                tab.keyboard.press("ArrowRight")
                tab.wait_for_timeout(1500)
    finally:
        context.close()
