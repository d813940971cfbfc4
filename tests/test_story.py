"""The reading order: every chapter opens with its two-sentence summary under its title and
ends with what its idea gave the next one, linked to its neighbours in the navigation's
order and to the references; every page's title is its title in the navigation."""

from __future__ import annotations

import re

import pytest

from benchmarks import lecture
from tests.conftest import ROOT, open_page
from ui import story

TEXT = ROOT / "assets" / "text"
#: The chapters' files in the order a visitor reads them.
ORDER = ("noise_and_metrics", "local_filters", "pde", "wavelets", "sparsity", "nonlocal_means",
         "bm3d", "patch_priors", "deep_learning", "fighting_back", "epilogue", "real_photographs",
         "arena")
#: Each page's url path, keyed by its script (app.py's navigation read as the lecture reads it).
URLS = dict(zip((page.script for page in story.navigation()), lecture.pages()))


def _text(name: str) -> str:
    return (TEXT / f"{name}.md").read_text(encoding="utf-8").strip()


def test_the_reading_order_is_the_chapters_then_the_arena():
    assert tuple(page.name for page in story.chapters()) == ORDER
    assert story.neighbours("chapters/noise_and_metrics.py")[0] is None
    assert story.neighbours("chapters/arena.py")[1] is None
    assert story.REFERENCES in {page.script for page in story.navigation()}


def test_every_page_title_is_its_navigation_title():
    """Read from the sources, for every page in the navigation, the home page and the
    references included."""
    for page in story.navigation():
        source = (ROOT / page.script).read_text(encoding="utf-8")
        assert re.findall(r'st\.title\("([^"]+)"\)', source) == [page.title], page.script


@pytest.mark.parametrize("name", ORDER)
def test_every_summary_has_two_sentences_and_every_ending_says_something(name):
    assert len(re.findall(r"[.!?](?:\s|$)", _text(f"summary_{name}"))) == 2, name
    assert len(_text(f"ending_{name}").split()) >= 20, name


@pytest.mark.parametrize("page", story.chapters(), ids=lambda page: page.name)
def test_every_chapter_opens_with_its_summary_and_ends_linked_to_its_neighbours(page):
    at = open_page(page.script, side=128, warnings=False)
    assert [t.value for t in at.title] == [page.title]
    shown = [m.value.strip() for m in at.main.markdown]
    assert shown[0] == _text(f"summary_{page.name}"), "the summary is not right under the title"
    assert _text(f"ending_{page.name}") in shown
    before, after = story.neighbours(page.script)
    expected = {"References": URLS[story.REFERENCES]}
    if before is not None:
        expected[f"Previous: {before.title}"] = URLS[before.script]
    if after is not None:
        expected[f"Next: {after.title}"] = URLS[after.script]
    # The ending's links (a chapter's text may link the earlier chapters its ideas came from).
    links = {link.value: link.proto.page for link in at.main.get("page_link")
             if link.value == "References" or link.value.startswith(("Previous: ", "Next: "))}
    assert links == expected


#: The classical chapters, each of which says what its model claims about images.
MODELS = ("noise_and_metrics", "local_filters", "pde", "wavelets", "sparsity",
          "nonlocal_means", "patch_priors")


@pytest.mark.parametrize("name", MODELS)
def test_every_classical_chapter_says_what_its_model_claims_and_where_it_fails(name):
    """The essay's point: these methods were models of what images are. The paragraph sits
    under its heading, before the chapter's ending, and points at the page's own results."""
    at = open_page(f"chapters/{name}.py", side=128, warnings=False)
    headers = [h.value for h in at.main.subheader]
    assert "What the model claims, and where it fails" in headers
    shown = [m.value.strip() for m in at.main.markdown]
    model, ending = _text(f"model_{name}"), _text(f"ending_{name}")
    assert model in shown and shown.index(model) < shown.index(ending)
    assert "above" in model  # the evidence is the page's own live result
