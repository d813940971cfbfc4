"""One torch thread for a block (denoisers/threads.py): the count is the calling thread's,
comes back after the block, and nested blocks restore the outer one's."""

from __future__ import annotations

import threading

import torch

from denoisers.threads import one_torch_thread


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
