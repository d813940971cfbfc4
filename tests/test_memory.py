"""The caches' memory budget (ui/memory.py): every cache of the site is in it, and it holds."""

from __future__ import annotations

import pickle
import re

import numpy as np

import denoisers
from denoisers import noise
from tests.conftest import ROOT
from ui import memory

#: A cache decorator and the function it wraps.
DECORATED = re.compile(r"@st\.cache_(?:data|resource)\((?P<args>.*?)\)\n(?:@[^\n]*\n)*"
                       r"def (?P<name>\w+)", re.S)


def _decorated() -> dict[str, str]:
    found = {}
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "chapters").glob("*.py")]:
        for match in DECORATED.finditer(path.read_text()):
            found[f"{path.stem}.{match['name']}"] = match["args"]
    return found


def test_every_cache_takes_its_bound_from_the_table():
    decorated = _decorated()
    assert set(decorated) == set(memory.CACHES)
    for name, args in decorated.items():
        assert f'max_entries=memory.entries("{name}")' in args, name


def test_the_caches_fit_the_budget():
    assert 0 < memory.budget_mb() <= memory.BUDGET_MB


def _traced_mb(key: str, side: int) -> tuple[float, float]:
    """A traced run's pickled size (as st.cache_data keeps it) and its image's, in MiB."""
    clean = np.random.default_rng(0).random((side, side, 3)).astype(np.float32)
    result = denoisers.run(key, noise.add_gaussian(clean, 0.1, seed=0), 0.1, trace=True,
                           reference=clean)
    return len(pickle.dumps(result)) / 2 ** 20, clean.nbytes / 2 ** 20


def test_a_traced_run_grows_as_the_budget_says():
    """Between two sizes, a traced run of every live method grows by at most the table's
    number of images, and what does not grow stays within its fixed part (from 256 pixels
    on: below that, some extras, the evolutions' frames, still grow with the image)."""
    bound = memory.CACHES["compute._run"]
    for method in denoisers.methods():
        if method.slow:
            continue
        (small, small_image), (large, large_image) = (_traced_mb(method.key, side)
                                                      for side in (256, 384))
        growth = (large - small) / (large_image - small_image)
        assert growth <= bound.images, (method.key, growth)
        assert small - growth * small_image <= bound.fixed_mb, method.key
