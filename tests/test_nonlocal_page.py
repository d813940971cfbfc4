"""The non-local means chapter's page under AppTest: the method on its button, then one
pixel's weights beside the bilateral filter's, the method noise and the cost."""

from __future__ import annotations

import re

from conftest import chart_titles, no_problems, open_page
from streamlit.testing.v1 import AppTest

PAGE = "chapters/nonlocal_means.py"


def _page(side: int = 256, **state) -> AppTest:
    return open_page(PAGE, side=side, **state)


def _run(at: AppTest) -> AppTest:
    at.button(key="run.nlm.True").click().run()
    no_problems(at)
    return at


def _image_captions(at: AppTest) -> list[str]:
    return [img.caption for image in at.image for img in image.proto.imgs]


def test_the_page_reads_before_the_method_runs():
    at = _page()
    assert [t.value for t in at.title] == ["Non-local means (2005)"]
    assert [b.label for b in at.button] == ["Run Non-local means"]
    assert [h.value for h in at.main.subheader] == ["The cost, and what came next",
                                                    "What the model claims, and where it fails"]


def test_a_run_shows_both_weight_maps_the_patches_and_the_method_noise():
    at = _run(_page(384))
    headers = [h.value for h in at.main.subheader]
    assert headers == ["Similar patches, not similar pixels",
                       "Method noise: what each method removed", "The cost, and what came next",
                       "What the model claims, and where it fails"]
    titles = chart_titles(at)
    assert any(t.startswith("NL-means: weights over its 21x21 window") for t in titles), titles
    assert any(t.startswith("bilateral filter: weights over its") for t in titles), titles
    captions = _image_captions(at)
    assert "the pixel's own patch" in captions
    assert sum(" weight 0." in c for c in captions) == 8, captions
    said = next(c.value for c in at.caption if "NL-means averages the equivalent of" in c.value)
    # The estimate the view computes for the pixel equals the full run's there.
    view, run = re.search(r"at the pixel: ([\d.]+) .* run's ([\d.]+)\.", said).groups()
    assert view == run
    table = next(d.value for d in at.dataframe if "Bilateral filter" in d.value.index)
    assert table.loc["Non-local means", "PSNR (dB)"] > table.loc["Bilateral filter", "PSNR (dB)"]
    assert any("Method noise" in c.value for c in at.caption)


def test_a_clicked_pixel_is_the_one_both_views_look_at():
    at = _run(_page(256, **{"nlm.probe": {"x": 10, "y": 200, "width": 256, "height": 256}}))
    assert any("now row 200, column 10" in c.value for c in at.caption), \
        [c.value for c in at.caption]


def test_the_controls_change_the_window_the_view_shows():
    at = _page()
    at.toggle(key="nlm.search.auto").set_value(False).run()
    at.slider(key="nlm.search").set_value(11).run()
    _run(at)
    assert any(t.startswith("NL-means: weights over its 11x11 window")
               for t in chart_titles(at)), chart_titles(at)
