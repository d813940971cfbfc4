"""The home page: the essay's Figure 2 on the current image and the timeline of methods."""

from __future__ import annotations

import json

import pytest
from conftest import no_problems, open_page

import denoisers
from denoisers import published
from ui import home_views

PAGE = "chapters/home.py"


def test_figure2_waits_for_its_button_then_shows_bm3d_and_the_network_at_sigma_100():
    at = open_page(PAGE, side=64)
    assert "home.figure2.run" in [b.key for b in at.button]
    at.button(key="home.figure2.run").click().run()
    no_problems(at)
    assert "home.figure2.run" not in [b.key for b in at.button]
    titles = [a["text"] for c in at.get("plotly_chart")
              for a in json.loads(c.proto.spec)["layout"].get("annotations", ())]
    assert any("BM3D" in t for t in titles) and any("DRUNet" in t for t in titles), titles
    assert any("σ = 100" in c.value for c in at.caption)
    done = at.session_state["compute.done"]
    assert {c.method.key for c in done} >= set(home_views.FIGURE2_METHODS)
    assert all(round(c.sigma * 255) == 100 for c in done)


def test_the_timeline_places_every_measured_method_and_the_published_figures():
    fig = home_views.timeline_figure()
    measured = home_views.measured_set12()
    points = {key: (x, y) for trace in fig.data if trace.name != "published figure"
              for key, x, y in zip(trace.customdata, trace.x, trace.y)}
    assert set(points) == set(measured) and measured
    for key, (year, psnr) in points.items():
        assert year == denoisers.get(key).year and psnr == pytest.approx(measured[key])
    hollow = next(t for t in fig.data if t.name == "published figure")
    assert dict(zip(hollow.customdata, hollow.y)) == {
        f.key: f.psnr for f in published.set12() if f.sigma == 25
        and f.key in {m.key for m in denoisers.methods()}}


def test_the_measured_figures_are_the_saved_tables_means():
    """BM3D's mean over the twelve images of the saved table, as the quality report prints
    it (assets/benchmarks/quality_set12.md)."""
    measured = home_views.measured_set12()
    report = (home_views.QUALITY_TABLE.with_suffix(".md")).read_text()
    line = next(row for row in report.splitlines() if "(`bm3d`)" in row)
    assert f"{measured['bm3d']:.2f}" == line.split("|")[3].split("/")[0].strip()


def test_every_family_has_a_chapter_that_exists():
    for method in denoisers.methods():
        page = home_views.CHAPTER_OF_FAMILY[method.family]
        assert (home_views.QUALITY_TABLE.parents[2] / page).exists(), page


def test_every_published_figure_names_a_source_and_a_registered_method_or_tnrd():
    keys = {m.key for m in denoisers.methods()}
    for figure in published.set12():
        assert figure.source in published.SOURCES
        assert figure.key in keys or figure.key == "tnrd"
        assert figure.sigma in (15, 25, 50)
    pairs = [(f.key, f.sigma) for f in published.set12()]
    assert len(pairs) == len(set(pairs))
