"""The caches' memory budget (ui/memory.py, ui/lru.py): every cache of the site is bounded
by bytes from one table, the bound holds when a cache is filled past it, and one page's
whole work fits."""

from __future__ import annotations

import pickle
import re
import threading
import time

import numpy as np
import pytest

import denoisers
from denoisers import noise
from tests.conftest import ROOT
from ui import compute, lru, memory

#: A cache decorator and the function it wraps.
DECORATED = re.compile(r"@(?P<decorator>st\.cache_data|st\.cache_resource|lru\.shared)"
                       r"\((?P<args>.*?)\)\n(?:@[^\n]*\n)*def (?P<name>\w+)", re.S)


def _decorated() -> dict[str, tuple[str, str]]:
    found = {}
    for path in [*(ROOT / "ui").glob("*.py"), *(ROOT / "chapters").glob("*.py")]:
        for match in DECORATED.finditer(path.read_text()):
            found[f"{path.stem}.{match['name']}"] = (match["decorator"],
                                                     " ".join(match["args"].split()))
    return found


def test_every_cache_takes_its_bytes_from_the_table():
    decorated = _decorated()
    assert set(decorated) == set(memory.CACHES)
    for name, (decorator, args) in decorated.items():
        if decorator == "lru.shared":
            assert args == f'"{name}"', name
        else:  # st.cache_resource has no byte bound: none may be left
            assert decorator == "st.cache_data", name
            assert f'max_size=memory.max_size("{name}")' in args, name
            assert f'ttl=memory.ttl("{name}")' in args, name
            assert "max_entries" not in args, name


def test_the_caches_fit_the_budget():
    assert 0 < memory.budget_mb() <= memory.BUDGET_MB
    assert memory.max_size("compute._run") == memory.CACHES["compute._run"].mb * 2 ** 20


def _kept(key: str) -> bool:
    try:
        compute._kept_small("test", key, compute._MISSING)
    except compute._NotKept:
        return False
    return True


def test_a_data_cache_filled_past_its_budget_keeps_the_newest_entries_that_fit():
    """``compute._kept_small`` holds 128 MiB: 200 entries of 1 MiB leave the newest that
    fit, and drop the oldest (Streamlit's ``max_size`` counts pickled bytes)."""
    compute._kept_small.clear()
    budget = memory.max_size("compute._kept_small")
    entry = np.zeros(2 ** 18, np.float32)  # 1 MiB
    entry_bytes = len(pickle.dumps(entry))
    count = 200
    for index in range(count):
        compute._kept_small("test", f"entry {index}", entry + index)
    kept = [index for index in range(count) if _kept(f"entry {index}")]
    fitting = budget // entry_bytes
    assert kept == list(range(count - len(kept), count))  # the newest, in one run
    assert fitting - 2 <= len(kept) <= fitting
    compute._kept_small.clear()


def test_a_shared_cache_filled_past_its_budget_keeps_the_newest_entries_that_fit():
    size = len(pickle.dumps(np.zeros(1000), protocol=pickle.HIGHEST_PROTOCOL))
    cache = lru.SharedCache(max_bytes=10 * size, ttl=60)
    for index in range(25):
        cache.get(f"entry {index}", lambda index=index: np.full(1000, float(index)))
    assert cache.keys() == [f"entry {index}" for index in range(15, 25)]
    assert cache.size == 10 * size
    cache.get("entry 15", lambda: pytest.fail("entry 15 is kept"))  # a read renews it
    cache.get("entry 25", lambda: np.zeros(1000))
    assert cache.keys()[0] == "entry 17" and cache.keys()[-2:] == ["entry 15", "entry 25"]


def test_a_shared_entry_is_computed_again_after_its_time_to_live():
    now = [0.0]
    cache = lru.SharedCache(max_bytes=2 ** 20, ttl=10, clock=lambda: now[0])
    calls = []
    for at in (0.0, 5.0, 10.0, 10.5):
        now[0] = at
        cache.get("key", lambda: calls.append(now[0]) or len(calls))
    assert calls == [0.0, 10.5]


def test_two_sessions_asking_for_the_same_shared_entry_compute_it_once():
    cache = lru.SharedCache(max_bytes=2 ** 20, ttl=60)
    calls, results = [], []

    def slow() -> int:
        calls.append(1)
        time.sleep(0.2)
        return 7

    threads = [threading.Thread(target=lambda: results.append(cache.get("key", slow)))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1] and results == [7] * 4


def test_the_shared_decorator_keys_by_the_arguments_without_underscores():
    calls = []
    memory.CACHES["test._shared"] = memory.Cache(1)
    try:
        @lru.shared("test._shared")
        def doubled(key: str, _value: int) -> int:
            calls.append(key)
            return 2 * _value

        assert doubled("a", 1) == 2 and doubled("a", 5) == 2 and doubled("b", 5) == 10
        assert calls == ["a", "b"]
    finally:
        del memory.CACHES["test._shared"], lru.CACHES["test._shared"]


def test_a_function_decorated_again_finds_the_entries_of_the_last_definition():
    """A page script defines its cached functions anew on every run: the second run's
    definition must hit what the first one stored, not start an empty cache."""
    calls = []
    memory.CACHES["test._rerun"] = memory.Cache(1)

    def page_run() -> int:
        @lru.shared("test._rerun")
        def squared(value: int) -> int:
            calls.append(value)
            return value * value

        return squared(3)

    try:
        assert page_run() == 9 and page_run() == 9
        assert calls == [3]
    finally:
        del memory.CACHES["test._rerun"], lru.CACHES["test._rerun"]


def _traced_mb(key: str, side: int) -> tuple[float, float]:
    """A traced run's pickled size (as st.cache_data keeps it) and its image's, in MiB."""
    clean = np.random.default_rng(0).random((side, side, 3)).astype(np.float32)
    result = denoisers.run(key, noise.add_gaussian(clean, 0.1, seed=0), 0.1, trace=True,
                           reference=clean)
    return len(pickle.dumps(result)) / 2 ** 20, clean.nbytes / 2 ** 20


def test_sixteen_of_the_largest_traced_runs_fit_the_results_cache():
    """A traced run of every live method, measured at 256 and 384 pixels and extrapolated to
    the largest working size (a 1024x1024 colour image), fits ``compute._run`` sixteen
    times over: a chapter's runs never evict one another."""
    budget = memory.CACHES["compute._run"].mb
    for method in denoisers.methods():
        if method.slow:
            continue
        (small, small_image), (large, large_image) = (_traced_mb(method.key, side)
                                                      for side in (256, 384))
        growth = (large - small) / (large_image - small_image)
        largest = small + growth * (memory.IMAGE_MB - small_image)
        assert 16 * largest <= budget, (method.key, largest)


def test_one_pages_whole_work_fits_the_results_cache():
    """The deep-learning page's scoreboard and σ sweep: 84 untraced results on the default
    working size (512x512, grey here; a third of the budget even so in colour)."""
    clean = np.random.default_rng(0).random((512, 512, 3)).astype(np.float32)
    result = denoisers.run("gaussian", noise.add_gaussian(clean, 0.1, seed=0), 0.1)
    assert 84 * len(pickle.dumps(result)) <= memory.max_size("compute._run") / 3
