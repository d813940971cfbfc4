"""References: the essay, every registered method's paper (by family, in year order), the
sources of the published figures the chapters quote, and the other works they cite."""

from __future__ import annotations

import streamlit as st

import denoisers
from denoisers import published
from denoisers.core import Method
from ui import text


def families(methods: list[Method]) -> dict[str, list[Method]]:
    """``methods`` grouped by family, each group and the groups in year order (a family is
    placed by its earliest method)."""
    grouped: dict[str, list[Method]] = {}
    for method in sorted(methods, key=lambda m: m.year):
        grouped.setdefault(method.family, []).append(method)
    return grouped


def reference(method: Method) -> str:
    """One list item: the method, its year, its paper as registered, and its link where the
    paper text does not carry it already."""
    item = f"- **{method.name}** ({method.year}). {method.paper.rstrip('.')}."
    if method.url and method.url not in method.paper:
        item += f" [{method.url.removeprefix('https://')}]({method.url})"
    return item


def published_table() -> str:
    """Every published Set12 figure the site holds (:mod:`denoisers.published`) as a
    markdown table: a row per method and paper, a column per σ, and the paper."""
    figures = published.set12()
    sigmas = sorted({f.sigma for f in figures})
    rows: dict[tuple[str, str], dict[int, float]] = {}
    for figure in figures:
        rows.setdefault((figure.label, figure.source), {})[figure.sigma] = figure.psnr
    lines = [["method", *(f"σ = {s}" for s in sigmas), "reported in"], ["---"] * (len(sigmas) + 2)]
    lines += [[label, *(f"{psnr[s]:.2f}" if s in psnr else "—" for s in sigmas),
               published.SOURCES[source]] for (label, source), psnr in rows.items()]
    return "\n".join(f"| {' | '.join(line)} |" for line in lines)


st.title("References")
text.story("references_intro")

st.subheader("The essay")
text.story("references_essay")

st.subheader("The methods")
st.caption("Every method the site runs, with the paper it follows, grouped by family and in "
           "the order of history.")
for family, members in families(denoisers.methods()).items():
    st.markdown(f"**{family}**\n\n" + "\n".join(reference(m) for m in members))

st.subheader("The published figures")
text.story("references_figures")
st.markdown(published_table())

st.subheader("Other works the chapters cite")
text.story("references_other")
