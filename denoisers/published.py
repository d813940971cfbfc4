"""Published figures: the Set12 mean PSNRs the papers report, as the site quotes them.

The numbers live in ``assets/published/set12.csv`` (its README names the papers and
tables); this module reads them for the quality benchmark's published table and the home
page's timeline, so that both quote one source.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: The published Set12 figures, one row per method and noise level.
SET12 = Path(__file__).resolve().parent.parent / "assets" / "published" / "set12.csv"

#: The papers the figures come from, by the ``source`` column's value.
SOURCES = {
    "dncnn": "Zhang, Zuo, Chen, Meng & Zhang, IEEE TIP 2017 (the DnCNN paper), its Set12 table",
    "ffdnet": "Zhang, Zuo & Zhang, IEEE TIP 2018 (the FFDNet paper)",
}


@dataclass(frozen=True)
class Figure:
    """One published mean PSNR: whose (registry ``key`` and printed ``label``), at which
    σ (0-255 scale), and from which paper (a key of :data:`SOURCES`)."""

    key: str
    label: str
    sigma: int
    psnr: float
    source: str


@cache
def set12(path: Path = SET12) -> tuple[Figure, ...]:
    """Every published Set12 figure, in the file's order."""
    with path.open(newline="", encoding="utf-8") as file:
        return tuple(Figure(row["key"], row["label"], int(row["sigma"]), float(row["psnr"]),
                            row["source"]) for row in csv.DictReader(file))


def set12_psnr(key: str, sigma: int) -> float | None:
    """The published Set12 mean PSNR of method ``key`` at ``sigma``, None if none is."""
    return next((f.psnr for f in set12() if f.key == key and f.sigma == sigma), None)
