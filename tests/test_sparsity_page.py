"""The sparsity chapter's page under AppTest: the sliding DCT at once, K-SVD on its button."""

from __future__ import annotations

import re

from conftest import chart_titles, no_problems, open_page
from streamlit.testing.v1 import AppTest

PAGE = "chapters/sparsity.py"


def _page(side: int = 256, **state) -> AppTest:
    return open_page(PAGE, side=side, **state)


def _image_captions(at: AppTest) -> list[str]:
    return [img.caption for image in at.image for img in image.proto.imgs]


def test_the_page_reads_before_k_svd_runs():
    at = _page()
    assert [t.value for t in at.title] == ["Sparse models (1996–2006)"]
    headers = [h.value for h in at.subheader]
    assert "One block, from the inside" in headers and "Learned against fixed" in headers
    captions = _image_captions(at)
    assert any("64 atoms of the 8x8 DCT" in c for c in captions), captions
    assert any("kept: " in t for t in chart_titles(at)), chart_titles(at)
    assert any("rebuilt from the kept coefficients" in c for c in captions), captions
    assert not any("learned from this noisy image" in c for c in captions)
    labels = [b.label for b in at.button]
    assert labels == ["Run K-SVD", "Run K-SVD with and without learning"], labels


def test_k_svd_shows_both_dictionaries_its_error_and_one_code():
    at = _page()
    at.button(key="run.ksvd.True").click().run()
    no_problems(at)
    captions = _image_captions(at)
    assert any(c.startswith("before: the 256 atoms of the overcomplete DCT") for c in captions)
    assert any(c.startswith("after: the 256 atoms K-SVD learned") for c in captions)
    assert any(c.startswith("the noisy patch at row") for c in captions)
    titles = chart_titles(at)
    assert any("representation error" in t for t in titles), titles
    assert any("atoms used per patch" in t for t in titles), titles


def test_learned_against_fixed_gives_both_psnrs():
    at = _page()
    at.button(key="sparsity.versus").click().run()
    no_problems(at)
    table = next(d.value for d in at.dataframe if "fixed overcomplete DCT" in d.value.index)
    assert {"K-SVD, learned dictionary", "noisy input"} <= set(table.index)
    said = next(m.value for m in at.markdown if "changes the PSNR by" in m.value)
    assert re.search(r"\*\*[+-]\d+\.\d\d dB\*\*", said), said


def test_a_clicked_pixel_chooses_the_dct_block():
    at = _page(**{"sparsity.dct.probe": {"x": 10, "y": 20, "width": 256, "height": 256}})
    assert any("top-left at row 16, column 6" in c.value for c in at.caption), \
        [c.value for c in at.caption]
