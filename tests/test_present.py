"""Presenter mode: slides turned by buttons the arrow keys press, texts folded, large type."""

from __future__ import annotations

import pytest
from conftest import no_problems, open_page

from ui import story, text


def _titles(at) -> list[str]:
    return [t.value for t in at.title]


def test_off_by_default_with_no_slide_bar_and_open_texts():
    at = open_page("chapters/bm3d.py", side=64)
    assert "present.next" not in [b.key for b in at.button]
    assert not [e for e in at.expander if e.label.startswith("Read: ")]
    assert not any("font-size: 20px" in h.proto.body for h in at.get("html"))


@pytest.mark.parametrize("number", range(len(story.slides())))
def test_every_slide_has_its_number_and_buttons_to_its_neighbours(number):
    """Home, then the chapters in reading order: each slide says its number and offers its
    neighbours on buttons that the left and right arrows press."""
    order = story.slides()
    assert order[0].script == story.HOME
    assert [p.script for p in order[1:]] == [p.script for p in story.chapters()]
    at = open_page(order[number].script, side=64, present=True, warnings=False)
    assert any(m.value == f"**Slide {number + 1} of {len(order)}**" for m in at.markdown)
    buttons = {b.key: b for b in at.button}
    if number > 0:
        assert buttons["present.previous"].label == order[number - 1].title
        assert buttons["present.previous"].proto.shortcut.lower() == "left"
    else:
        assert "present.previous" not in buttons
    if number + 1 < len(order):
        assert buttons["present.next"].label == order[number + 1].title
        assert buttons["present.next"].proto.shortcut.lower() == "right"
    else:
        assert "present.next" not in buttons


def test_the_next_button_opens_the_next_chapter():
    at = open_page("chapters/noise_and_metrics.py", side=64, present=True, warnings=False)
    at.button(key="present.next").click().run()
    no_problems(at, warnings=False)
    assert _titles(at) == [story.chapters()[1].title]


def test_in_presenter_mode_the_texts_and_the_summary_fold_away():
    """The first screen is the chapter's live result: its texts are in expanders, the
    two-sentence summary in one of its own."""
    at = open_page("chapters/bm3d.py", side=64, present=True)
    folded = [e.label for e in at.expander if e.label.startswith("Read: ")]
    assert folded, [e.label for e in at.expander]
    summary = next(e for e in at.expander if e.label == "In two sentences")
    assert [m.value.strip() for m in summary.markdown] == [text._read("summary_bm3d").strip()]
    assert any("font-size: 20px" in h.proto.body for h in at.get("html"))


def test_leaving_presenter_mode_brings_the_page_back():
    at = open_page("chapters/bm3d.py", side=64, present=True)
    at.button(key="present.leave").click().run()
    assert at.session_state["present"] is False
    assert "present.next" not in [b.key for b in at.button]
    assert not [e for e in at.expander if e.label.startswith("Read: ")]


def test_a_folded_text_is_named_by_its_heading_or_first_words():
    assert text.folded_title("### Deep, deep trouble\n\nOn most…") == "Deep, deep trouble"
    assert text.folded_title("Pick a *problem* and [how](https://x.org) hard it is, then more "
                             "words") == "Pick a problem and how hard it is,…"
