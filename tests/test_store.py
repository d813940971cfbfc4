"""The on-disk result store (ui/store.py): what is kept, what is served back, for which
code, and how it stays within its budget."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from denoisers import noise
from denoisers.core import digest
from ui import compute, store


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.FOLDER_VARIABLE, str(tmp_path))
    monkeypatch.setenv(store.SIZE_VARIABLE, "1")
    return tmp_path


def _counted(value: object, calls: list[int]):
    def compute_it() -> object:
        calls.append(1)
        return value
    return compute_it


def test_a_kept_result_is_served_back_without_computing(folder: Path):
    calls: list[int] = []
    first = store.through("cache", "key", _counted(np.arange(5), calls), keep=True)
    again = store.through("cache", "key", _counted(np.zeros(5), calls), keep=True)
    assert calls == [1]
    np.testing.assert_array_equal(again, first)
    assert len(store.current().files()) == 1


def test_an_upload_s_result_is_never_written(folder: Path):
    calls: list[int] = []
    for _ in range(2):
        store.through("cache", "upload", _counted(1, calls), keep=False)
    assert calls == [1, 1]
    assert not any(folder.rglob("*.pkl"))


def test_a_result_of_other_code_is_never_served(folder: Path):
    old = store.Store(folder, 2 ** 20, "old-version")
    old.save("cache", "key", "computed by the old code")
    calls: list[int] = []
    assert store.through("cache", "key", _counted("new", calls), keep=True) == "new"
    assert calls == [1]
    assert store.current().version == store.code_version() != "old-version"


def test_the_code_version_follows_the_library_s_files():
    assert len(store.code_version()) == 16
    assert ("denoisers", "*.py") in store.VERSIONED and ("assets/weights", "*") in store.VERSIONED


def test_the_store_evicts_the_least_recently_used_beyond_its_budget(folder: Path):
    kept = store.Store(folder, 3 * 2 ** 18 + 1000, "v")  # three entries of 256 KiB fit
    entry = np.zeros(2 ** 16, np.float32)
    for index in range(3):
        kept.save("cache", f"entry {index}", entry)
        os.utime(kept.path("cache", f"entry {index}"), (index, index))
    assert kept.load("cache", "entry 0")[0]  # a read renews entry 0
    kept.save("cache", "entry 3", entry)
    assert [kept.load("cache", f"entry {i}")[0] for i in range(4)] == [True, False, True, True]
    assert kept.size <= kept.max_bytes


def test_an_unreadable_entry_is_a_miss_and_is_deleted(folder: Path):
    kept = store.current()
    kept.save("cache", "key", 1)
    path = kept.path("cache", "key")
    path.write_bytes(b"not a pickle")
    assert kept.load("cache", "key") == (False, None)
    assert not path.exists()


def test_the_store_can_be_turned_off(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(store.FOLDER_VARIABLE, "off")
    assert store.current() is None
    calls: list[int] = []
    for _ in range(2):
        store.through("cache", "key", _counted(1, calls), keep=True)
    assert calls == [1, 1]


def test_a_method_s_run_survives_a_restart_without_computing(folder: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           grey_samples):
    """compute._run with ``keep``: computed once (one ledger line), then, with the memory
    cache emptied as by a restart, read back from disk bit for bit (no new line)."""
    monkeypatch.setenv(store.SIZE_VARIABLE, "64")
    ledger = tmp_path / "ledger.jsonl"
    monkeypatch.setenv(compute.LEDGER_VARIABLE, str(ledger))
    noisy = noise.add_gaussian(grey_samples["camera"][:96, :96], 0.1, seed=0)
    args = ("bm3d", digest(noisy), noisy, 0.1, (), True, None, None, True)
    compute._run.clear()
    first = compute._run(*args)
    compute._run.clear()  # the server restarts: its memory caches are empty
    again = compute._run(*args)
    assert len(ledger.read_text().splitlines()) == 1
    np.testing.assert_array_equal(again.image, first.image)
    assert again.stages.keys() == first.stages.keys()
    compute._run.clear()


def test_a_stored_slow_run_needs_no_button(folder: Path, grey_samples):
    """A slow method's call waits for its button, unless its result is in the store (a
    warmed lecture's, after a restart or in a new session): then it shows at once. An
    upload's never is."""
    import denoisers
    from ui.scene import Scene

    noisy = noise.add_gaussian(grey_samples["camera"][:64, :64], 0.1, seed=0)
    bm3d = denoisers.get("bm3d")
    for source, kept in (("camera", True), ("upload: photo.png", False)):
        scene = Scene(source, None, noisy, 0.1, "Gaussian", 0, False, (), f"{digest(noisy)}-0.1")
        call = compute.Call.of(bm3d, scene)
        assert call.waiting and call.keep == kept
        compute._run.clear()
        compute._run(bm3d.key, call.scene_key, noisy, call.sigma, call.params, call.trace,
                     None, None, call.keep)
        assert call.waiting != kept
    compute._run.clear()

