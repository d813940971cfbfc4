"""A cache of shared objects bounded by the bytes its entries take.

``st.cache_resource`` bounds a cache by its number of entries only, and
``st.cache_data`` copies every entry out on each hit (unpickling a finished
Plotly figure costs 0.1-0.2 s). :func:`shared` keeps objects that nobody
mutates, handed to every session uncopied like ``st.cache_resource``, and
bounds them like ``st.cache_data(max_size=...)``: each entry's pickled size is
measured once when it is stored, and the least recently used entries go when
the cache holds more than its budget. Entries older than their time to live
are computed again. Like Streamlit's caches, arguments whose names start with
an underscore are left out of the key (pass a digest beside them), and two
sessions asking for the same missing entry at once compute it once.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from . import memory

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Entry:
    value: Any
    size: int
    stored: float


class SharedCache:
    """At most ``max_bytes`` of entries (pickled sizes), each kept at most ``ttl`` seconds."""

    def __init__(self, max_bytes: int, ttl: float, *, clock: Callable[[], float] = time.monotonic):
        self.max_bytes, self.ttl, self._clock = max_bytes, ttl, clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[str, threading.Lock] = {}

    @property
    def size(self) -> int:
        """The bytes the entries take (their pickled sizes)."""
        with self._lock:
            return sum(entry.size for entry in self._entries.values())

    def keys(self) -> list[str]:
        """The keys held, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The entry under ``key``, computed by ``compute()`` and stored if missing or stale."""
        found = self._fresh(key)
        if found is not None:
            return found.value
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        try:
            with computing:  # a second session asking meanwhile waits for the first one's entry
                found = self._fresh(key)
                if found is not None:
                    return found.value
                value = compute()
                self._store(key, value)
                return value
        finally:
            with self._lock:
                self._computing.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _fresh(self, key: str) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() - entry.stored > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def _store(self, key: str, value: Any) -> None:
        size = len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        with self._lock:
            self._entries[key] = _Entry(value, size, self._clock())
            self._entries.move_to_end(key)
            total = sum(entry.size for entry in self._entries.values())
            while total > self.max_bytes and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                total -= dropped.size


#: Every shared cache made by :func:`shared`, by name: tests clear them.
CACHES: dict[str, SharedCache] = {}


def shared(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache the decorated function's results, shared uncopied between sessions, within
    the budget and time to live that :mod:`ui.memory` gives ``name`` (module.function).

    The cache belongs to ``name``, not to the function object: a page script runs its
    decorators again on every run, and each run finds the entries the last one stored
    (a server restart empties it, as it does Streamlit's caches)."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        cache = CACHES.get(name)
        if cache is None:
            cache = CACHES[name] = SharedCache(memory.max_size(name), memory.ttl(name))
        signature = inspect.signature(function)

        @functools.wraps(function)
        def cached(*args: P.args, **kwargs: P.kwargs) -> R:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            named = tuple((k, v) for k, v in bound.arguments.items() if not k.startswith("_"))
            key = hashlib.sha256(pickle.dumps(named, protocol=4)).hexdigest()
            return cache.get(key, lambda: function(*args, **kwargs))

        cached.cache = cache  # type: ignore[attr-defined]
        return cached

    return decorate


def clear() -> None:
    """Empty every shared cache (``st.cache_resource.clear()`` does not reach them)."""
    for cache in CACHES.values():
        cache.clear()
