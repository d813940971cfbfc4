"""How long the pages' interactive steps take in a real browser, and whether they show a sign.

    python -m benchmarks.steps [--port N] [--side 512] [--repeat 2]

Starts the site as ``benchmarks.pages`` does (or uses one on ``--port``),
opens each page in Chromium at 1440x900, lets it finish, and then takes the
steps a visitor takes: a new σ and a new seed on the noise page, the Wiener
and bilateral sliders, the digits interlude's epochs, the deep-learning
feature-map pager, a new block on the BM3D page and a new pixel on the
deep-learning page (each after its method has run). For each step it prints
the seconds from the action until the page's script is idle again, and
whether a progress sign of the site's own (a spinner or a progress bar) was
on the page while it ran: a step of over a second should show one. Times are
this machine's, to be compared within one run, and are not asserted anywhere.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from .pages import FLAGS, chromium_path, settle, site

#: The site's own progress signs: st.spinner and st.progress.
SIGNS = "[data-testid='stSpinner'], [data-testid='stProgress']"


def timed(tab, action: Callable[[], None], seconds: float = 180) -> tuple[float, bool]:
    """Run ``action``; return the seconds until the script is idle for 0.3 s, and whether a
    progress sign was visible meanwhile (polled every 50 ms)."""
    app = tab.locator("[data-testid='stApp']")
    start = time.monotonic()
    action()
    seen_running, sign, quiet_since = False, False, None
    while time.monotonic() - start < seconds:
        state = app.get_attribute("data-test-script-state")
        sign = sign or tab.locator(SIGNS).filter(visible=True).count() > 0
        if state == "running":
            seen_running, quiet_since = True, None
        elif seen_running or time.monotonic() - start > 2:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 0.3:
                return quiet_since - start, sign
        tab.wait_for_timeout(50)
    raise TimeoutError(f"the step was still running after {seconds:g} s")


def _slider(tab, label: str) -> Callable[[], None]:
    """One step right on the slider labelled ``label`` (the keyboard, as a visitor can); the
    slider is found and focused before the clock starts."""
    thumb = tab.locator("[data-testid='stSlider']", has_text=label).get_by_role("slider")
    thumb.scroll_into_view_if_needed()
    thumb.focus()
    return lambda: tab.keyboard.press("ArrowRight")


def _click(tab, target, x: float = 0.5, y: float = 0.5) -> Callable[[], None]:
    """A click at fractions (x, y) of ``target`` (a locator), found and placed in view before
    the clock starts."""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    return lambda: tab.mouse.click(box["x"] + box["width"] * x, box["y"] + box["height"] * y)


def _click_picture(tab, x: float, y: float) -> Callable[[], None]:
    """A click at fractions (x, y) of the clickable picture."""
    return _click(tab, tab.frame_locator(
        "iframe[title='streamlit_image_coordinates.streamlit_image_coordinates']").first.locator(
        "img"), x, y)


def _open(tab, url: str) -> None:
    tab.goto(url)
    settle(tab)


def _choose(tab, label: str) -> None:
    """Pick an option of a segmented control, a tab or an expander by its text; let it run."""
    tab.get_by_text(label, exact=True).first.click()
    settle(tab)


def steps(tab, url: str, side: int) -> list[tuple[str, Callable[[], None]]]:
    """The steps, each as (name, action), with the page prepared before each is timed."""
    query = f"?side={side}"

    def noise() -> Callable[[], None]:
        _open(tab, f"{url}/noise{query}")
        return _slider(tab, "σ (0–255 scale)")

    def seed() -> Callable[[], None]:
        return _click(tab, tab.locator("[data-testid='stNumberInputStepUp']").first)

    def wiener() -> Callable[[], None]:
        _open(tab, f"{url}/local-filters{query}")
        _choose(tab, "Wiener filter")
        return _slider(tab, "Smoothing")

    def bilateral() -> Callable[[], None]:
        _choose(tab, "Bilateral filter")
        tab.locator("[data-testid='stCheckbox']", has_text="Sigma space: auto").locator(
            "label").first.click()
        settle(tab)
        return _slider(tab, "Sigma space")

    def digits() -> Callable[[], None]:
        _open(tab, f"{url}/deep-learning{query}")
        _choose(tab, "Interlude — what a neural network is (the essay's Figure 1)")
        return _slider(tab, "Epochs")

    def pager() -> Callable[[], None]:
        _choose(tab, "Feature maps")
        return _slider(tab, "Channels")

    def pixel() -> Callable[[], None]:
        return _click_picture(tab, 0.3, 0.6)

    def block() -> Callable[[], None]:
        _open(tab, f"{url}/bm3d{query}")
        tab.get_by_role("button", name="Run BM3D / CBM3D", exact=True).click()
        settle(tab)
        return _click_picture(tab, 0.2, 0.3)

    return [("noise page: σ + 1", noise), ("noise page: seed + 1", seed),
            ("local filters: Wiener smoothing slider", wiener),
            ("local filters: bilateral sigma-space slider", bilateral),
            ("deep learning: digits interlude, epochs + 1", digits),
            ("deep learning: feature-map pager", pager),
            ("deep learning: a new pixel", pixel),
            ("BM3D: a new block, after the run", block)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="use the site already served on this port")
    parser.add_argument("--side", type=int, default=512, help="working size (default 512)")
    parser.add_argument("--chromium", help="path of the Chromium binary")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with site(args.port) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(args.chromium),
                                    args=list(FLAGS), headless=True)
        tab = browser.new_page(viewport={"width": 1440, "height": 900})
        print(f"| step (working size {args.side}) | seconds to idle | progress sign |")
        print("| --- | --- | --- |")
        for name, prepare in steps(tab, url, args.side):
            seconds, sign = timed(tab, prepare())
            print(f"| {name} | {seconds:.2f} | {'yes' if sign else 'no'} |", flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
