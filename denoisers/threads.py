"""Threads: torch's per thread, and one computation's parts spread over the cores.

torch's many small operations (NL-means' element-wise passes, WNNM's and
EPLL's batched products, the digits network's training steps) ran 3 to 10
times slower on two threads than on one wherever other work shared the CPU
(the project's 2-core machine, a server with several visitors), with the same
results bit for bit. torch's CPU build here runs its operations with OpenMP,
whose thread count belongs to the calling thread: ``torch.set_num_threads(1)``
in one of the server's session threads leaves every other session's count as
it was (``tests/test_threads.py`` checks it). So a block sets its own thread's
count (:func:`torch_threads`, :func:`one_torch_thread`) and puts back what it
found; nested blocks restore the outer one's.

A computation alone on the machine (a teacher's lecture) may still use every
core: :func:`in_order` runs independent parts of it (BM3D's bands of
reference blocks) on several threads of one torch thread each, and a
network's long run (a restoration's iterations) takes :func:`workers` torch
threads. :func:`workers` shares the cores among the computations running at
once (those inside :func:`computing`; the site counts its slow ones), so
several visitors' runs never ask for more threads than there are cores.
torch is imported on first use, so importing this module costs nothing.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: The cores the computations of this process share (:func:`workers`); by default those it
#: may run on. A deployment that runs one replica per core sets it to 1 (compose.yaml).
WORKERS_VARIABLE = "DDT_WORKERS"

_running = 0
_running_lock = threading.Lock()


@contextmanager
def computing() -> Iterator[None]:
    """Count a computation as running inside the block: :func:`workers` shares the cores."""
    global _running
    with _running_lock:
        _running += 1
    try:
        yield
    finally:
        with _running_lock:
            _running -= 1


def workers() -> int:
    """The threads a computation starting now may use: the cores (``DDT_WORKERS``, or those
    this process may run on) shared among the computations running, at least one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    total = int(os.environ.get(WORKERS_VARIABLE) or cores or 1)
    return max(1, total // max(1, _running))


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the calling thread's torch operations on ``count`` threads inside the block."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_torch_thread() -> AbstractContextManager[None]:
    """Run the calling thread's torch operations on one thread inside the block."""
    return torch_threads(1)


def in_order(function: Callable[[T], R], items: Iterable[T],
             threads: int | None = None) -> Iterator[R]:
    """``map(function, items)`` on up to ``threads`` threads (:func:`workers` by default).

    The results come in the order of ``items``, to the calling thread, so
    what it does with them (adding them up, reporting progress to a page)
    happens in one order, whatever thread finished first: a sum is the same
    bit for bit on any number of threads. At most ``threads`` items are
    computed ahead of the one the caller waits for, which bounds the memory
    of results not yet taken. Each thread runs torch on one thread
    (:func:`one_torch_thread`); numpy and torch release Python's lock in
    their array operations, so the threads share the cores. An exception in
    ``function`` is raised here; the items not yet started are dropped.

    Parameters
    ----------
    function : callable
        Applied to every item; it must be safe to run on several threads at
        once.
    items : iterable
        The items, consumed lazily (at most ``threads`` ahead of the caller).
    threads : int, optional
        The most threads; ``None`` takes :func:`workers`, 1 runs in the
        calling thread.
    """
    count = threads or workers()
    if count == 1:
        yield from map(function, items)
        return

    def alone(item: T) -> R:
        with one_torch_thread():
            return function(item)

    pending: deque[Future[R]] = deque()
    source = iter(items)
    pool = ThreadPoolExecutor(count, thread_name_prefix="ddt-part")
    try:
        for item in source:
            pending.append(pool.submit(alone, item))
            if len(pending) > count:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
