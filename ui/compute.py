"""Running methods from the site: cached across sessions, slow ones on a button.

Results are cached with ``st.cache_data`` keyed by an explicit digest of the
noisy image (never by hashing the array itself), the method, sigma and its
parameters, so a class of thirty opening the same sample computes it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import denoisers
from denoisers.core import Method, Result

from .scene import Scene

_DONE = "compute.done"


@st.cache_data(max_entries=128, ttl=6 * 3600, show_spinner=False)
def _run(key: str, image_key: str, _noisy: np.ndarray, sigma: float,
         params: tuple[tuple[str, Any], ...], trace: bool,
         probe: tuple[int, int] | None) -> Result:
    return denoisers.run(key, _noisy, sigma, trace=trace, probe=probe, **dict(params))


@dataclass(frozen=True)
class Call:
    """One cacheable run: a method on a scene with its parameters."""

    method: Method
    scene_key: str
    sigma: float
    params: tuple[tuple[str, Any], ...]
    trace: bool = False
    probe: tuple[int, int] | None = None

    @classmethod
    def of(cls, method: Method, scene: Scene, params: dict[str, Any] | None = None, *,
           sigma: float | None = None, trace: bool = False,
           probe: tuple[int, int] | None = None) -> Call:
        sigma = scene.sigma if sigma is None else sigma
        return cls(method, scene.key, round(float(sigma), 6),
                   tuple(sorted((params or {}).items())), trace, probe)

    @property
    def waiting(self) -> bool:
        """A slow method that has not been asked to run yet in this session."""
        return self.method.slow and self not in st.session_state.setdefault(_DONE, set())

    def run(self, noisy: np.ndarray) -> Result:
        out = _run(self.method.key, self.scene_key, noisy, self.sigma, self.params,
                   self.trace, self.probe)
        st.session_state.setdefault(_DONE, set()).add(self)
        return out


def result(method: Method, scene: Scene, params: dict[str, Any] | None = None, *,
           trace: bool = False, probe: tuple[int, int] | None = None,
           sigma: float | None = None) -> Result | None:
    """``method``'s result on the scene's noisy image, or None while it waits.

    A fast method runs at once (and reruns live as its controls move); a
    slow one shows a button and runs only when it is pressed, after which
    the same call is served from the cache. ``sigma`` overrides the sigma
    the method is told (for under- and over-smoothing strips).
    """
    call = Call.of(method, scene, params, sigma=sigma, trace=trace, probe=probe)
    if call.waiting and not st.button(f"Run {method.name}", type="primary",
                                      key=f"run.{method.key}.{trace}",
                                      icon=":material/play_arrow:"):
        st.caption(f"{method.name} takes a few seconds; it runs when you press the button.")
        return None
    with st.spinner(f"{method.name}…", show_time=True):
        return call.run(scene.noisy)


def results(calls: dict[str, Call], scene: Scene, *, key: str) -> dict[str, Result]:
    """Run several calls: fast ones now, the waiting slow ones behind one button."""
    waiting = [c.method.name for c in calls.values() if c.waiting]
    go = bool(waiting) and st.button(
        f"Run {', '.join(waiting)}", type="primary", key=key,
        icon=":material/play_arrow:", help="These methods take a few seconds each.")
    out: dict[str, Result] = {}
    bar = st.empty()
    for i, (name, call) in enumerate(calls.items()):
        if call.waiting and not go:
            continue
        bar.progress(i / len(calls), text=f"{call.method.name}…")
        out[name] = call.run(scene.noisy)
    bar.empty()
    return out
