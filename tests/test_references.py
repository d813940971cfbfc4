"""The references page: the essay, every registered method's paper grouped by family in
year order, and the source of the published figures the chapters quote."""

from __future__ import annotations

import re

import pytest

import denoisers
from denoisers import published
from tests.conftest import open_page

ESSAY = "https://sinews.siam.org/Details-Page/deep-deep-trouble-4"
DNCNN = "https://doi.org/10.1109/TIP.2017.2662206"
#: A method's line: its name in bold, then its year.
ITEM = re.compile(r"^- \*\*(.+?)\*\* \((\d{4})\)", re.MULTILINE)


@pytest.fixture(scope="module")
def shown() -> list[str]:
    """The markdown blocks of the references page, in order."""
    at = open_page("chapters/references.py", side=128)
    assert [t.value for t in at.title] == ["References"]
    return [m.value for m in at.main.markdown]


def test_every_method_is_listed_with_its_paper_and_link(shown):
    lines = "\n".join(shown).splitlines()
    for method in denoisers.methods():
        item = next((line for line in lines
                     if line.startswith(f"- **{method.name}** ({method.year})")), None)
        assert item is not None, method.name
        assert method.paper.rstrip(".") in item, method.name
        assert method.url in item, method.name


def test_the_essay_and_the_published_figures_source_are_listed(shown):
    everything = "\n".join(shown)
    assert f"]({ESSAY})" in everything
    assert DNCNN in everything and "Beyond a Gaussian denoiser" in everything
    for figure in ("29.97", "30.03", "30.26"):  # the figures the chapters quote
        assert figure in everything, figure


def test_every_published_figure_is_listed_with_its_paper(shown):
    rows = [line for block in shown for line in block.splitlines() if line.startswith("| ")]
    for figure in published.set12():
        row = next((r for r in rows if r.startswith(f"| {figure.label} |")
                    and r.endswith(f"| {published.SOURCES[figure.source]} |")), None)
        assert row is not None and f"| {figure.psnr:.2f} |" in row, figure


def test_the_methods_are_grouped_by_family_in_year_order(shown):
    groups = {block.split("**")[1]: [int(year) for _, year in ITEM.findall(block)]
              for block in shown if ITEM.search(block)}
    assert set(groups) == {m.family for m in denoisers.methods()}
    assert sum(map(len, groups.values())) == len(denoisers.methods())
    firsts = [years[0] for years in groups.values()]
    assert firsts == sorted(firsts)
    for family, years in groups.items():
        assert years == sorted(years), family
