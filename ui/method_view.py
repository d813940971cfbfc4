"""A method's controls beside its result: how every chapter opens on a method."""

from __future__ import annotations

from typing import Any

import streamlit as st

from denoisers.core import Method, Result

from . import compute, controls, views
from .scene import Scene


def controls_and_result(method: Method, scene: Scene, *, key: str,
                        trace: bool = True) -> tuple[dict[str, Any], Result | None]:
    """The method's controls (drawn from its spec) on the left; on the right its result on
    the scene beside the clean and noisy images, zooming together. Returns the parameters
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
    return params, res
