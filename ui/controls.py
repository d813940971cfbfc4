"""One helper draws any method's controls from its parameter spec."""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from denoisers.core import Bool, Choice, Float, Int, Method, Param


def method_controls(method: Method, sigma: float) -> dict[str, Any]:
    """Draw a widget per parameter of ``method``; return the values chosen.

    Float and Int become sliders, Choice a select box, Bool a toggle. A
    parameter chosen from sigma gets an *auto* switch: while it is on, the
    value the method's rule picks for the current ``sigma`` is shown and
    None is returned for it, so the method applies its own rule. Widget keys
    are ``"<method>.<param>"`` and persist across pages.
    """
    values: dict[str, Any] = {}
    for param in method.params:
        key = f"{method.key}.{param.name}"
        if param.auto:
            values[param.name] = _auto_control(param, key, sigma)
        else:
            values[param.name] = _control(param, key, param.default)
    return values


def _label(param: Param) -> str:
    return param.name.replace("_", " ").capitalize()


def _auto_control(param: Param, key: str, sigma: float) -> Any:
    suggested = param.resolve(None, sigma)
    auto = st.toggle(f"{_label(param)}: auto", value=True, key=f"{key}.auto",
                     persist_state="session",
                     help=f"Chosen from σ by the method's rule: {suggested:.3g} at σ = "
                          f"{sigma * 255:.1f}. Switch off to set it by hand.")
    if auto:
        st.caption(f"{_label(param)} = {suggested:.3g} (from σ)")
        return None
    return _control(param, key, suggested)


def _control(param: Param, key: str, initial: Any) -> Any:
    label, common = _label(param), {"key": key, "help": param.help or None,
                                    "persist_state": "session"}
    if isinstance(param, Float):
        step = param.step or _float_step(param)
        initial = min(param.high, max(param.low, round(initial / step) * step))
        return st.slider(label, param.low, param.high, float(initial), step, **common)
    if isinstance(param, Int):
        return st.slider(label, param.low, param.high, int(initial), 2 if param.odd else 1,
                         **common)
    if isinstance(param, Choice):
        return st.selectbox(label, param.options, index=param.options.index(initial), **common)
    if isinstance(param, Bool):
        return st.toggle(label, value=bool(initial), **common)
    raise TypeError(f"no control for a {type(param).__name__} parameter")


def _float_step(param: Float) -> float:
    span = param.high - param.low
    return 10.0 ** (round(math.log10(span)) - 2)
