"""A method's controls beside its result: how every chapter opens on a method.

A heavy method (EPLL, WNNM) runs by default on the centre :data:`HEAVY_SIDE` square of
the scene whatever the sidebar's working size, so that a lecture can afford it; a switch
whose label says how long the full size takes gives the whole image back (:func:`sized`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from denoisers.core import Method, Result

from . import compute, controls, links, timing, views
from . import scene as scenes
from .scene import Scene

#: The side a heavy method runs at by default, whatever the sidebar's working size.
HEAVY_SIDE = 256


def full_size(shape: tuple[int, ...], seconds: float | None, *, key: str) -> bool:
    """Whether the visitor asks for the whole image of ``shape``: a switch under ``key``
    whose label says how long that takes (``seconds``; None: unknown), drawn only when the
    image is larger than :data:`HEAVY_SIDE` (a smaller one is always used whole)."""
    if max(shape[:2]) <= HEAVY_SIDE:
        return True
    said = "seconds or more" if seconds is None else timing.duration(seconds)
    return links.toggle(f"Full size, {shape[1]}x{shape[0]}: {said}", key=f"{key}.full",
                        persist_state="session",
                        help=f"Off, the method runs on the centre {HEAVY_SIDE}x{HEAVY_SIDE} of "
                             "the image, with the same noise: quick enough for a lecture.")


def sized(methods: Method | Sequence[Method], scene: Scene, *, key: str) -> Scene:
    """The scene ``methods`` run on: its centre :data:`HEAVY_SIDE` square, or the whole
    image when the visitor turns on the switch :func:`full_size` draws (labelled with the
    methods' expected times added up)."""
    methods = [methods] if isinstance(methods, Method) else list(methods)
    times = [timing.expected_seconds(m.key, scene.noisy.shape, scene.sigma) for m in methods]
    seconds = None if None in times else sum(times)
    if full_size(scene.noisy.shape, seconds, key=key):
        return scene
    return scenes.centre(scene, HEAVY_SIDE)


def waiting_note(method: Method, scene: Scene) -> None:
    """A caption saying how long ``method`` takes on the scene before the visitor starts it."""
    seconds = timing.expected_seconds(method.key, scene.noisy.shape, scene.sigma)
    size = timing.size_label(scene.noisy.shape)
    if seconds is None:
        st.caption(f"At this size ({size}) {method.name} takes seconds or more.")
        return
    st.caption(f"At this size ({size}) {method.name} takes {timing.duration(seconds)} with "
               "the defaults (as the speed benchmark measured it on a 2-core CPU).")


def controls_and_result(method: Method, scene: Scene, *, key: str, trace: bool = True,
                        whole: Scene | None = None) -> tuple[dict[str, Any], Result | None]:
    """The method's controls (drawn from its spec) on the left; on the right its result on
    the scene beside the clean and noisy images, zooming together. ``whole``: the image the
    scene was cropped from (:func:`sized`), named under the result. Returns the parameters
    chosen and the result (None while a slow method waits for its button)."""
    left, right = st.columns([1, 2])
    with left:
        params = controls.method_controls(method, scene.sigma)
    with right:
        res = compute.result(method, scene, params, trace=trace)
        if res is not None:
            views.compare({**views.reference_panels(scene),
                           **views.result_panels(scene, {method.name: res})},
                          key=f"{key}.compare", width=600)
        if whole is not None and whole.noisy.shape != scene.noisy.shape:
            st.caption(crop_note(method.name, scene, whole, done=res is not None))
    return params, res


def crop_note(name: str, scene: Scene, whole: Scene, *, done: bool) -> str:
    """Where ``name`` ran: the centre of the ``whole`` image, and the switch back to all of it."""
    height, width = scene.noisy.shape[:2]
    full_height, full_width = whole.noisy.shape[:2]
    verb = "ran" if done else "runs"
    return (f"{name} {verb} on the centre {width}x{height} of the image "
            f"({full_width}x{full_height}), with its noise as it is: the switch above "
            "gives the full size.")
