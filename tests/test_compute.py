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


def test_what_a_run_is_told_names_it_and_nothing_else_does():
    """A curve is named by its a and b, as results told one were always stored; a grain by
    its covariance's digest, whatever array holds it; one sigma adds nothing."""
    import numpy as np

    from denoisers.noise import CorrelatedNoise, PoissonGaussian

    curve = compute.Told.curve(0.012, 0.0003)
    assert curve.name == "curve=0.012,0.0003" and curve.model == PoissonGaussian(0.012, 0.0003)
    covariance = np.eye(64) / 1024  # exact in float32 too
    grain = compute.Told.grain(covariance)
    assert isinstance(grain.model, CorrelatedNoise) and grain.name.startswith("grain=")
    assert grain == compute.Told.grain(np.asfortranarray(covariance.astype(np.float32)))
    assert hash(grain) == hash(compute.Told.grain(covariance.copy()))
    assert grain != compute.Told.grain(2 * covariance)
    ident = compute._ident("bm3d", "img", 0.1, (), False, None, grain.name)
    assert ident.endswith(f"None {grain.name}")
    assert compute._ident("bm3d", "img", 0.1, (), False, None, "").endswith("None")
