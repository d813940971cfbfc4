"""Running methods from the site (ui/compute.py): slow work shares the process's slots."""

from __future__ import annotations

import threading
import time

import pytest

from ui import compute


def test_slow_computations_wait_for_a_free_slot(monkeypatch: pytest.MonkeyPatch):
    """No more slow computations run at once than the process has slots."""
    monkeypatch.setattr(compute, "_SLOTS", threading.BoundedSemaphore(2))
    running, most, lock = [0], [0], threading.Lock()

    def work() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    threads = [threading.Thread(target=compute._slow, args=(work,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2
