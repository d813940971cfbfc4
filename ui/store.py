"""Results kept on disk, so that a lecture warmed once survives a server restart.

The memory caches (:mod:`ui.memory`) die with the server's process. Beneath
the ones that hold results (a method's run, a pixel's view, a restoration, a
sample, the digits network's training), a miss first looks here before
computing, and what is computed is written here. An entry is a pickle file
named by the SHA-256 of the cache's name, the computation's key (the method,
its parameters, sigma, the input image's digest) and :func:`code_version`, a
digest of the code and weights that compute results (``denoisers/``, ``ui/``,
``assets/weights/``): a result is never served for code that changed, and
what an older version wrote is simply never read again, then evicted.

Only results on the site's own sample images are written (``keep``); a
visitor's upload and what is computed from it stay in memory only. The store
holds at most ``DDT_STORE_MB`` MiB (2048 by default): after each write, the
least recently used files (by modification time, which every read renews)
are deleted until it fits. Files are written whole under a temporary name and
renamed, so several replicas may share one folder. ``DDT_STORE`` names the
folder (``.store`` in the checkout by default); ``DDT_STORE=off`` turns the
store off. The files are pickles that only this server writes: never point
``DDT_STORE`` at a folder others can write to.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

#: The folder of the store, or "off".
FOLDER_VARIABLE = "DDT_STORE"
#: The store's budget in MiB.
SIZE_VARIABLE = "DDT_STORE_MB"
DEFAULT_MB = 2048

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = ROOT / ".store"
#: What a result depends on: the code of the library and the site, and the weights.
VERSIONED = (("denoisers", "*.py"), ("ui", "*.py"), ("assets/weights", "*"))

R = TypeVar("R")


@functools.cache
def code_version() -> str:
    """A digest of every file a result may depend on (paths and contents)."""
    digest = hashlib.sha256()
    for folder, pattern in VERSIONED:
        for path in sorted((ROOT / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Store:
    """Pickled results in ``folder``, at most ``max_bytes`` of them, for code ``version``."""

    folder: Path
    max_bytes: int
    version: str

    def path(self, name: str, key: str) -> Path:
        digest = hashlib.sha256(f"{self.version}\0{name}\0{key}".encode()).hexdigest()
        return self.folder / digest[:2] / f"{digest}.pkl"

    def has(self, name: str, key: str) -> bool:
        """Whether an entry is stored (it may still be evicted before it is read)."""
        return self.path(name, key).is_file()

    def load(self, name: str, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a stored entry (renewing its use), else ``(False, None)``.
        An unreadable entry is deleted and reported missing."""
        path = self.path(name, key)
        try:
            value = pickle.loads(path.read_bytes())
        except FileNotFoundError:
            return False, None
        except Exception:  # noqa: BLE001 - a truncated or foreign file is a miss, and goes
            path.unlink(missing_ok=True)
            return False, None
        try:
            os.utime(path)
        except OSError:
            pass  # evicted meanwhile by another process: the value read is still good
        return True, value

    def save(self, name: str, key: str, value: Any) -> None:
        """Write the entry (whole, then renamed into place) and evict beyond the budget."""
        path = self.path(name, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, path)
        self.evict()

    def files(self) -> list[tuple[float, int, str]]:
        """``(modification time, bytes, path)`` of every stored file."""
        found = []
        for sub in _listed(self.folder):
            for entry in _listed(sub.path):
                if entry.name.endswith(".pkl"):
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # evicted meanwhile by another replica
                        continue
                    found.append((stat.st_mtime, stat.st_size, entry.path))
        return found

    @property
    def size(self) -> int:
        """The bytes the stored files take."""
        return sum(size for _, size, _ in self.files())

    def evict(self) -> None:
        """Delete the least recently used files until the rest fit in ``max_bytes``."""
        files = sorted(self.files())
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= self.max_bytes:
                break
            Path(path).unlink(missing_ok=True)
            total -= size


def _listed(folder: str | Path) -> list[os.DirEntry[str]]:
    """The entries of ``folder``, none if it does not exist (yet, or any more)."""
    try:
        return list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []


def current() -> Store | None:
    """The store the environment names, or None where it is turned off."""
    folder = os.environ.get(FOLDER_VARIABLE, "") or str(DEFAULT_FOLDER)
    if folder.lower() == "off":
        return None
    megabytes = float(os.environ.get(SIZE_VARIABLE, DEFAULT_MB))
    return Store(Path(folder), int(megabytes * 2 ** 20), code_version())


def stored(name: str, key: str, *, keep: bool) -> bool:
    """Whether computation ``key`` of cache ``name`` is in the store (only a ``keep`` one
    can be): a page then shows it without waiting for its button."""
    store = current() if keep else None
    return store is not None and store.has(name, key)


def through(name: str, key: str, compute: Callable[[], R], *, keep: bool) -> R:
    """The stored result of computation ``key`` of cache ``name`` if there is one, else
    ``compute()``, written to the store when ``keep`` (a sample's, never an upload's)."""
    store = current() if keep else None
    if store is None:
        return compute()
    found, value = store.load(name, key)
    if found:
        return value
    value = compute()
    try:
        store.save(name, key, value)
    except OSError:
        pass  # a full or read-only disk costs the next restart a computation, nothing more
    return value
