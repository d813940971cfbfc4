"""Threads (denoisers/threads.py): a block's torch thread count is the calling thread's,
comes back after the block, and nested blocks restore the outer one's; a computation's
parts come back in order on any number of threads; the cores are shared among the
computations running."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from denoisers.threads import (
    WORKERS_VARIABLE,
    computing,
    in_order,
    one_torch_thread,
    torch_threads,
    workers,
)


def test_nested_blocks_run_on_one_thread_and_the_count_comes_back():
    before = torch.get_num_threads()
    with one_torch_thread():
        with one_torch_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1  # the outer block still runs
    assert torch.get_num_threads() == before


def test_a_block_in_one_session_s_thread_leaves_another_s_count_alone():
    before = torch.get_num_threads()
    inside, leave, seen = threading.Event(), threading.Event(), []

    def session() -> None:
        with one_torch_thread():
            seen.append(torch.get_num_threads())
            inside.set()
            leave.wait(5)

    worker = threading.Thread(target=session)
    worker.start()
    inside.wait(5)
    seen.append(torch.get_num_threads())  # this thread, while the other runs its block
    leave.set()
    worker.join()
    assert seen == [1, before] and torch.get_num_threads() == before


def test_parts_come_back_in_order_on_any_number_of_threads():
    """Later parts finishing first still come back in the items' order."""
    def part(n: int) -> int:
        time.sleep(0.02 * (5 - n))  # the first items take longest
        return n * n

    for count in (1, 2, 3):
        assert list(in_order(part, range(6), threads=count)) == [n * n for n in range(6)]


def test_a_failing_part_raises_in_the_caller_and_drops_the_rest():
    started = []

    def part(n: int) -> int:
        started.append(n)
        if n == 1:
            raise ValueError("part 1 failed")
        time.sleep(0.01)
        return n

    with pytest.raises(ValueError, match="part 1 failed"):
        list(in_order(part, range(50), threads=2))
    assert len(started) < 50


def test_each_part_runs_torch_on_one_thread():
    seen = list(in_order(lambda _: torch.get_num_threads(), range(4), threads=2))
    assert seen == [1, 1, 1, 1]


def test_the_cores_are_shared_among_the_computations_running(monkeypatch):
    monkeypatch.setenv(WORKERS_VARIABLE, "4")
    assert workers() == 4
    with computing():
        assert workers() == 4
        with computing():
            assert workers() == 2
            with computing(), computing(), computing():
                assert workers() == 1
    assert workers() == 4


def test_a_block_sets_the_torch_threads_it_asks_for():
    before = torch.get_num_threads()
    with torch_threads(3):
        assert torch.get_num_threads() == 3
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(("key", "module", "part", "size"), [
    ("bm3d", "denoisers.bm3d", "_BATCH_BLOCKS", 100),
    ("wnnm", "denoisers.lowrank", "_BATCH", 64),
    ("epll", "denoisers.epll", "_PART", 500),
])
def test_a_method_split_into_parts_gives_the_same_image_on_one_thread_or_three(
        monkeypatch, rng, key, module, part, size):
    """Small parts, so that a 48x48 image makes several: the parts are added in order, so
    the threads change nothing, bit for bit."""
    import importlib

    import numpy as np

    from denoisers import run

    monkeypatch.setattr(importlib.import_module(module), part, size)
    noisy = (0.5 + 0.1 * rng.standard_normal((48, 48))).astype(np.float32)
    images = []
    for count in ("1", "3"):
        monkeypatch.setenv(WORKERS_VARIABLE, count)
        images.append(run(key, noisy, 0.1).image)
    assert np.array_equal(images[0], images[1])
