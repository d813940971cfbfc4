"""Shared fixtures and helpers: seeded randomness, small crops of scikit-image's samples,
and a chapter page opened under AppTest."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from streamlit.testing.v1 import AppTest

from denoisers.core import as_image

ROOT = Path(__file__).resolve().parent.parent

# The site's on-disk result store (ui/store.py) is off in tests, so that no test is served
# what another computed, and nothing is written into the checkout; the store's own tests
# and the lecture's give it a folder of their own.
os.environ["DDT_STORE"] = "off"


def problems(at: AppTest, *, warnings: bool = True) -> list[str]:
    """What the page reported as exceptions and errors (and warnings, unless told not to)."""
    shown = (*at.exception, *at.error, *(at.warning if warnings else ()))
    return [e.value for e in shown]


def open_page(page: str, *, side: int = 256, timeout: float = 120, warnings: bool = True,
              **state) -> AppTest:
    """The site at working size ``side`` with ``state`` set, switched to ``page`` (a path
    under the project), checked to show no problem."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["side"] = side
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(page).run()
    no_problems(at, warnings=warnings)
    return at


def no_problems(at: AppTest, *, warnings: bool = True) -> None:
    """Assert that the page shows no exception or error (nor warning, unless told not to)."""
    found = problems(at, warnings=warnings)
    assert not found, found


def compared_sizes(at: AppTest) -> set[tuple[int, int]]:
    """The sizes (width, height) of the images the page's zoomable comparisons draw."""
    sources = [t["source"] for c in at.get("plotly_chart")
               for t in json.loads(c.proto.spec)["data"] if t.get("source")]
    assert sources, "no image compared"
    return {Image.open(io.BytesIO(base64.b64decode(s.split(",", 1)[1]))).size for s in sources}


def chart_titles(at: AppTest) -> list[str]:
    """The titles of the page's plotly subplots, tags removed and stripped."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [re.sub("<[^>]+>", " ", a["text"]).strip() for s in specs
            for a in s["layout"].get("annotations", ())]


def crop(image: np.ndarray, size: int = 96) -> np.ndarray:
    """A float32 centre crop of ``size`` x ``size`` pixels."""
    image = as_image(image)
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    return np.ascontiguousarray(image[top:top + size, left:left + size])


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def grey_samples() -> dict[str, np.ndarray]:
    """Three grey crops with different content: a photo, a texture, a smooth scene."""
    return {"camera": crop(data.camera()), "brick": crop(data.brick()), "moon": crop(data.moon())}


@pytest.fixture(scope="session")
def colour_sample() -> np.ndarray:
    return crop(data.astronaut(), 64)


# --------------------------------------------------------------------------- run summary

#: Lines tests leave for the end of the run (tests/test_fuzz_images.py: how many fuzzed
#: uploads were tried and how they ended), printed where pytest's capture does not hide them.
SUMMARY = pytest.StashKey[list[str]]()


def add_summary(config: pytest.Config, line: str) -> None:
    """Leave ``line`` for the end of the run; from a pytest-xdist worker it travels to the
    controller with the worker's output (:func:`pytest_testnodedown`)."""
    config.stash.setdefault(SUMMARY, []).append(line)
    if hasattr(config, "workeroutput"):
        config.workeroutput.setdefault("summary", []).append(line)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: gather the lines a worker left."""
    node.config.stash.setdefault(SUMMARY, []).extend(node.workeroutput.get("summary", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = terminalreporter.config.stash.get(SUMMARY, [])
    if lines:
        terminalreporter.section("numbers from the tests")
        for line in lines:
            terminalreporter.write_line(line)
