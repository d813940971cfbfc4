"""One helper draws any method's controls from its parameter spec."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from denoisers.core import Bool, Choice, Float, Int, Method, Param

from . import links

#: The most values an integer slider offers; a wider range gets a number box.
SLIDER_STEPS = 1000


def method_controls(method: Method, sigma: float) -> dict[str, Any]:
    """Draw a widget per parameter of ``method``; return the values chosen
    (:func:`spec_controls` with the method's key as prefix)."""
    return spec_controls(method.params, method.key, sigma)


def spec_controls(spec: Sequence[Param], prefix: str, sigma: float | None = None,
                  columns: int = 1, labels: Mapping[str, str] | None = None,
                  link: bool = True) -> dict[str, Any]:
    """Draw a widget per parameter of ``spec``; return the values chosen.

    Float and Int become sliders (an Int of more than :data:`SLIDER_STEPS`
    values a number box), Choice a select box, Bool a toggle. A parameter
    chosen from sigma gets an *auto* switch: while it is on, the value its
    rule picks for the current ``sigma`` is shown and None is returned for
    it, so the method applies its own rule. Widget keys are
    ``"<prefix>.<param>"`` and persist across pages; ``columns`` > 1 lays
    the widgets out side by side; ``labels`` replaces the label made from a
    parameter's name; ``link`` (the default) keeps a value and an *auto*
    switch in the page's address, so a shared link opens with them (the
    widgets of :mod:`ui.links`, which check the value a link gives against the
    same range or options); ``link=False`` leaves them out. The same spec
    checks the values where they are used (:func:`denoisers.core.check_params`),
    so a control can never offer a value the library refuses.
    """
    slots = st.columns(columns) if columns > 1 else None
    values: dict[str, Any] = {}
    for index, param in enumerate(spec):
        key = f"{prefix}.{param.name}"
        with slots[index % columns] if slots else contextlib.nullcontext():
            if param.auto:
                if sigma is None:
                    raise ValueError(f"{param.name} is chosen from sigma: pass sigma")
                values[param.name] = _auto_control(param, key, sigma, link)
            else:
                values[param.name] = _control(param, key, param.default,
                                              (labels or {}).get(param.name), link)
    return values


def _label(param: Param) -> str:
    return param.name.replace("_", " ").capitalize()


def _auto_control(param: Param, key: str, sigma: float, link: bool = True) -> Any:
    """An *auto* switch (``<key>.auto``) and, while it is off, the parameter's own control,
    starting from the value the rule picks for ``sigma``."""
    suggested = param.resolve(None, sigma)
    auto = (links if link else st).toggle(
        f"{_label(param)}: auto", value=True, key=f"{key}.auto", persist_state="session",
        help=f"Chosen from σ by the method's rule: {suggested:.3g} at σ = "
             f"{sigma * 255:.1f}. Switch off to set it by hand.")
    if auto:
        st.caption(f"{_label(param)} = {suggested:.3g} (from σ)")
        return None
    return _control(param, key, suggested, link=link)


def _control(param: Param, key: str, initial: Any, label: str | None = None,
             link: bool = False) -> Any:
    label = label or _label(param)
    widgets = links if link else st
    common = {"key": key, "help": param.help or None, "persist_state": "session"}
    if isinstance(param, Float):
        step = param.step or _float_step(param)
        initial = min(param.high, max(param.low, round(initial / step) * step))
        return widgets.slider(label, param.low, param.high, float(initial), step, **common)
    if isinstance(param, Int) and _values(param) > SLIDER_STEPS:
        return widgets.number_input(label, param.low, param.high, int(initial),
                                    2 if param.odd else 1, **common)
    if isinstance(param, Int):
        return widgets.slider(label, param.low, param.high, int(initial),
                              2 if param.odd else 1, **common)
    if isinstance(param, Choice):
        return widgets.selectbox(label, param.options, index=param.options.index(initial),
                                 **common)
    if isinstance(param, Bool):
        return widgets.toggle(label, value=bool(initial), **common)
    raise TypeError(f"no control for a {type(param).__name__} parameter")


def _values(param: Int) -> int:
    """How many values ``param`` accepts."""
    count = param.high - param.low + 1
    return (count + 1) // 2 if param.odd else count


def _float_step(param: Float) -> float:
    span = param.high - param.low
    return 10.0 ** (round(math.log10(span)) - 2)
