"""Running methods from the site: cached across sessions, slow ones on a button.

Results are cached with ``st.cache_data`` keyed by an explicit digest of the
noisy image (never by hashing the array itself), the method, sigma and its
parameters, so a class of thirty opening the same sample computes it once.
A traced run never depends on the pixel a visitor looks at: the view of a
pixel is :func:`look`, cached on its own and computed from the run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

import denoisers
from denoisers import threads
from denoisers.core import Method, Result, View
from denoisers.noise import CorrelatedNoise, PoissonGaussian

from . import links, memory, store, timing
from .scene import Scene

_DONE = "compute.done"

#: A file to which every computation that actually runs (a cache miss) appends one JSON
#: line, when the environment names one: the load benchmark counts them there.
LEDGER_VARIABLE = "DDT_COMPUTE_LEDGER"


def _record(what: str, key: str) -> None:
    """Note in the ledger, if there is one, that computation ``key`` of kind ``what`` ran."""
    path = os.environ.get(LEDGER_VARIABLE)
    if path:
        with open(path, "a", encoding="utf-8") as ledger:
            ledger.write(json.dumps({"what": what, "key": key}) + "\n")


#: How many slow computations (a slow method's run, a restoration, a sample) the process
#: runs at once, by default one per core; the rest wait their turn. Forty students running
#: BM3D on their own photos at once otherwise ran forty at once: 12.7 GB at the peak and
#: timeouts (assets/benchmarks/load/load_before.md), for no gain on two cores.
SLOTS_VARIABLE = "DDT_COMPUTE_SLOTS"
_SLOTS = threading.BoundedSemaphore(int(os.environ.get(SLOTS_VARIABLE, 0)) or os.cpu_count() or 1)


def _slow(compute: Callable[[], Any]) -> Any:
    """``compute()`` in one of the process's slots for slow work, waiting for a free one,
    counted among the computations that share the cores (:func:`denoisers.threads.workers`)."""
    with _SLOTS, threads.computing():
        return compute()


@dataclass(frozen=True)
class Told:
    """The noise a run is told beyond one sigma: the model, and the name it gives the run's
    result in the caches and the on-disk store (compared and hashed by that name alone)."""

    name: str
    model: PoissonGaussian | CorrelatedNoise = field(compare=False, repr=False)

    @classmethod
    def curve(cls, a: float, b: float) -> Told:
        """A noise-level curve, variance ``a x + b`` (:attr:`ui.scene.Scene.curve`)."""
        return cls(f"curve={a:g},{b:g}", PoissonGaussian(a, b))

    @classmethod
    def grain(cls, covariance: np.ndarray) -> Told:
        """Grain over several pixels, of this block ``covariance`` (named by its digest)."""
        values = np.ascontiguousarray(covariance, np.float64)
        return cls(f"grain={hashlib.sha256(values.tobytes()).hexdigest()[:16]}",
                   CorrelatedNoise(values))


def _ident(key: str, image_key: str, sigma: float, params: tuple[tuple[str, Any], ...],
           trace: bool, reference_key: str | None, told: str) -> str:
    """What names a method's run in the ledger and the on-disk store (a run told more than one
    sigma is named with what it was told; one told a single sigma is named as it always was)."""
    return f"{key} {image_key} {sigma} {params} trace={trace} {reference_key}{_named(told)}"


def _named(told: str) -> str:
    """How what a run was told adds to its result's name: nothing for one sigma."""
    return f" {told}" if told else ""


def _model(told: Told | None) -> PoissonGaussian | CorrelatedNoise | None:
    return None if told is None else told.model


@st.cache_data(max_size=memory.max_size("compute._run"), ttl=memory.ttl("compute._run"),
               show_spinner=False)
def _run(key: str, image_key: str, _noisy: np.ndarray, sigma: float,
         params: tuple[tuple[str, Any], ...], trace: bool, reference_key: str | None,
         _reference: np.ndarray | None, keep: bool, told: str = "",
         _told: Told | None = None) -> Result:
    ident = _ident(key, image_key, sigma, params, trace, reference_key, told)

    def computed() -> Result:
        _record(key, ident)
        run = functools.partial(denoisers.run, key, _noisy, sigma, trace=trace,
                                reference=_reference, noise_model=_model(_told),
                                **dict(params))
        return _slow(run) if denoisers.get(key).slow else run()

    return store.through("compute._run", ident, computed, keep=keep)


@st.cache_data(max_size=memory.max_size("compute._look"), ttl=memory.ttl("compute._look"),
               show_spinner=False)
def _look(key: str, image_key: str, _noisy: np.ndarray, sigma: float,
          params: tuple[tuple[str, Any], ...], probe: tuple[int, int], _traced: Result,
          keep: bool, told: str = "", _told: Told | None = None) -> View:
    return store.through("compute._look",
                         f"{key} {image_key} {sigma} {params} {probe}{_named(told)}",
                         lambda: denoisers.look(key, _noisy, sigma, _traced, probe,
                                                noise_model=_model(_told), **dict(params)),
                         keep=keep)


@dataclass(frozen=True)
class Call:
    """One cacheable run: a method on a scene with its parameters.

    A traced run of a method that measures itself against a clean image
    (PSNR per iteration) is given the scene's clean image as its
    ``reference`` where there is one; ``reference_key`` is that image's
    digest, so the cache tells such runs apart. ``keep`` says whether the result may be
    written to the on-disk store (:mod:`ui.store`): a sample's may, an upload's never.
    ``told`` is the noise the method is told beyond one sigma (the scene's noise-level
    curve, :attr:`ui.scene.Scene.curve`, or a grain's covariance), None when it is told
    one sigma.
    """

    method: Method
    scene_key: str
    sigma: float
    params: tuple[tuple[str, Any], ...]
    trace: bool = False
    reference_key: str | None = None
    keep: bool = False
    told: Told | None = None

    @classmethod
    def of(cls, method: Method, scene: Scene, params: dict[str, Any] | None = None, *,
           sigma: float | None = None, trace: bool = False, one_sigma: bool = False,
           told: Told | None = None) -> Call:
        """The call of ``method`` on ``scene``: told ``told`` if given, else the scene's noise
        curve where it has one, unless ``one_sigma`` or another ``sigma`` is asked for."""
        if told is None and not one_sigma and sigma is None and scene.curve is not None:
            told = Told.curve(*scene.curve)
        sigma = round(float(scene.sigma if sigma is None else sigma), 6)
        measured = trace and method.takes_reference and scene.clean is not None
        # Resolved (defaults filled in, auto values chosen for sigma), so that a call with
        # no parameters and one with the controls at their defaults are the same result.
        resolved = method.resolve(params or {}, sigma)
        return cls(method, scene.key, sigma, tuple(sorted(resolved.items())), trace,
                   scene.clean_key if measured else None, scene.sample, told)

    @property
    def done(self) -> bool:
        """Run in this session already, or in the on-disk store (a warmed lecture's)."""
        return (self in st.session_state.setdefault(_DONE, set())
                or store.stored("compute._run", self.ident, keep=self.keep))

    @property
    def waiting(self) -> bool:
        """A slow method that is not :attr:`done`: it waits for a button (a warmed
        lecture's result shows at once)."""
        return self.method.slow and not self.done

    @property
    def told_name(self) -> str:
        """What the run is told beyond one sigma, as its results are named: "" for one sigma."""
        return "" if self.told is None else self.told.name

    @property
    def ident(self) -> str:
        return _ident(self.method.key, self.scene_key, self.sigma, self.params, self.trace,
                      self.reference_key, self.told_name)

    def run(self, scene: Scene) -> Result:
        reference = scene.clean if self.reference_key is not None else None
        out = _run(self.method.key, self.scene_key, scene.noisy, self.sigma, self.params,
                   self.trace, self.reference_key, reference, self.keep, self.told_name,
                   self.told)
        st.session_state.setdefault(_DONE, set()).add(self)
        return out

    def look(self, noisy: np.ndarray, traced: Result, probe: tuple[int, int]) -> Result:
        """``traced`` (this call's traced result) with the view of pixel ``probe`` added."""
        return _look(self.method.key, self.scene_key, noisy, self.sigma, self.params, probe,
                     traced, self.keep, self.told_name, self.told).onto(traced)


def result(method: Method, scene: Scene, params: dict[str, Any] | None = None, *,
           trace: bool = False, sigma: float | None = None) -> Result | None:
    """``method``'s result on the scene's noisy image, or None while it waits.

    A fast method runs at once (and reruns live as its controls move); a
    slow one shows a button and runs only when it is pressed (or a link asks
    for it: :func:`ui.links.button`), after which the same call is served
    from the cache. ``sigma`` overrides the sigma
    the method is told (for under- and over-smoothing strips).
    """
    call = Call.of(method, scene, params, sigma=sigma, trace=trace)
    key = f"run.{method.key}.{trace}"
    if call.waiting:
        slot = st.empty()
        with slot.container():
            if not links.button(f"Run {method.name}", type="primary", key=key,
                                icon=":material/play_arrow:"):
                st.caption(timing.waiting_caption(method, scene.noisy.shape, call.sigma))
                return None
        slot.empty()  # a pressed button goes: the run it asked for is under way
    elif method.slow:
        links.record_run(key, True)  # done: a link copied now shows it too
    with st.spinner(f"{method.name}…", show_time=True):
        return call.run(scene)


def results(calls: dict[str, Call], scene: Scene, *, key: str, what: str = "") -> dict[str, Result]:
    """Run several calls: fast ones now, the waiting slow ones behind one button.

    Returns the results that are done, by name: a page draws what it gets
    and never assumes a waiting call has run. ``what`` tells the button's
    label what the runs are for, so that two buttons on a page differ.
    """
    waiting = list(dict.fromkeys(c.method.name for c in calls.values() if c.waiting))
    slot = st.empty()
    go = bool(waiting) and links.button(
        f"Run {', '.join(waiting)}" + (f" {what}" if what else ""), type="primary", key=key,
        slot=slot, icon=":material/play_arrow:",
        help="These methods are slow: seconds each, more on a large image.")
    if go:
        slot.empty()
    elif not waiting and any(c.method.slow for c in calls.values()):
        links.record_run(key, True)  # all done: a link copied now shows them too
    elif waiting:
        st.caption(timing.batch_caption([(c.method, c.sigma) for c in calls.values()
                                         if c.waiting], scene.noisy.shape))
    out: dict[str, Result] = {}
    bar = st.empty()
    for i, (name, call) in enumerate(calls.items()):
        if call.waiting and not go:
            continue
        bar.progress(i / len(calls), text=f"{call.method.name}… ({i + 1} of {len(calls)})")
        out[name] = call.run(scene)
    bar.empty()
    return out


class _NotKept(Exception):
    """Raised inside :func:`_kept` on a miss, so that nothing is stored."""


_MISSING = object()


@st.cache_data(max_size=memory.max_size("compute._kept"), ttl=memory.ttl("compute._kept"),
               show_spinner=False)
def _kept(name: str, key: str, _value: Any) -> Any:
    if _value is _MISSING:
        raise _NotKept
    return _value


@st.cache_data(max_size=memory.max_size("compute._kept_small"),
               ttl=memory.ttl("compute._kept_small"), show_spinner=False)
def _kept_small(name: str, key: str, _value: Any) -> Any:
    if _value is _MISSING:
        raise _NotKept
    return _value


def remembered(function: Callable[..., Any], key: str, *args: Any, small: bool = False,
               keep: bool = False, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` cached across reruns and sessions, for a slow computation
    that is not a method's run (an inverse problem's restoration, a sample).

    ``key`` must name everything the arguments hold (digests of arrays, settings): the
    arguments themselves are not hashed. The function runs outside ``st.cache_data``'s
    record of the elements it draws, so a ``progress`` callback among the arguments may
    update a bar drawn outside it; a call served from the cache reports nothing. A result
    as large as the working image is kept in ``compute._kept`` (:mod:`ui.memory`); a
    ``small`` one, whose size does not grow with the working image (a sample on a small
    canvas), in ``compute._kept_small``, so that samples do not evict restorations. With
    ``keep`` (a computation on a sample image, not an upload), the result is also written
    to the on-disk store (:mod:`ui.store`) and read from it after a restart.
    """
    name = _name(function)
    kept = _kept_small if small else _kept
    try:
        out = kept(name, key, _MISSING)
    except _NotKept:

        def computed() -> Any:
            _record(name, key)
            return _slow(lambda: function(*args, **kwargs))

        out = kept(name, key, store.through(name, key, computed, keep=keep))
    st.session_state.setdefault(_DONE, set()).add(key)
    return out


def asked(function: Callable[..., Any], key: str, *, keep: bool = False) -> bool:
    """Whether the :func:`remembered` call of ``function`` under ``key`` has run (or been
    served) in this session, or (with ``keep``) is in the on-disk store: a page shows its
    result without waiting for its button."""
    return key in st.session_state.get(_DONE, set()) or store.stored(
        _name(function), key, keep=keep)


def _name(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"
