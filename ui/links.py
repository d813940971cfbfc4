"""Widgets bound to the page's address, each checking the value a link gives it first.

A teacher shares a link to exactly what the class is looking at: the sidebar's image and
noise and a page's method choices are widgets bound with ``bind="query-params"``, so the
address carries their values. A link can carry anything, though. Streamlit 1.67 itself
never raises on a bad value, but it never says so either: for text where a number
belongs, NaN, a number outside a slider's or a number box's range, an unknown option of a
select box, select slider or segmented control, a toggle neither true nor false, or an
empty or repeated value, it quietly uses the widget's default and drops the value from
the address; it cuts a fraction to a whole number for an integer widget; a multiselect
quietly loses its unknown and repeated options.

Each function here draws one kind of widget, with Streamlit's own arguments, bound to the
address under its ``key``, and, when the widget first appears in the session (when
Streamlit reads the address), first checks the address's value against those same
arguments (its range, its options), so there is no second list of them to keep in step.
A bad value is clamped to the nearest allowed one where there is one (a number out of
range, a size between those offered), put in session state, which Streamlit uses when it
refuses the address's value, and written back to the address on the next run; anything
else is dropped, and the widget keeps its default. Either way, a warning above the
widget names the parameter, quotes the value found (shortened, and escaped like all
visitor text) and says which value is used: the widget's own, read after it is drawn.

Two things that are not widgets travel too, checked the same way: the slow runs asked for
(:func:`button`: ``run=<button key>``, pressed once by a link in a fresh session) and the
pixel a probe's picture was clicked at (:func:`pixel`, :func:`keep_pixel`: ``<picker
key>=row,col``, two whole numbers inside the image).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import streamlit as st

from .text import plain

T = TypeVar("T")

#: The binding every widget here gets.
BIND = "query-params"
#: The longest value, in characters, read from the address; a longer one is dropped.
MAX_CHARS = 200
#: How much of a bad value a note quotes.
QUOTED = 40
#: A list of choices longer than this is not spelled out in a note.
LISTED = 10
#: Session-state key of the keys given a value instead of the address's, not yet written
#: back to the address.
_PENDING = "links.pending"


@dataclass(frozen=True)
class Fault:
    """What is wrong with a value from the address, and the value to use instead (None:
    the widget's default)."""

    problem: str
    instead: Any = None


#: Checks the address's values for one parameter (never empty); None when they are fine.
Check = Callable[[list[str]], Fault | None]


def slider(label: str, min_value: float, max_value: float, value: float,
           step: float | None = None, *, key: str, **kwargs: Any) -> Any:
    """``st.slider`` with one value; a number outside [min_value, max_value] in the address
    is clamped into it (an integer slider's to a whole number)."""
    return _bound(key, label, _number(min_value, max_value, value),
                  lambda: st.slider(label, min_value, max_value, value, step, key=key,
                                    bind=BIND, **kwargs), _number_shown)


def number_input(label: str, min_value: float, max_value: float, value: float,
                 step: float | None = None, *, key: str, **kwargs: Any) -> Any:
    """``st.number_input``; a number outside [min_value, max_value] in the address is
    clamped into it (an integer box's to a whole number)."""
    return _bound(key, label, _number(min_value, max_value, value),
                  lambda: st.number_input(label, min_value, max_value, value, step, key=key,
                                          bind=BIND, **kwargs), _number_shown)


def select_slider(label: str, options: Sequence[T], *, value: T, key: str,
                  format_func: Callable[[Any], str] = str, **kwargs: Any) -> T:
    """``st.select_slider``; a number in the address between the (numeric) options is
    read as the nearest of them."""
    return _bound(key, label, _option(options, format_func),
                  lambda: st.select_slider(label, options, value=value, key=key,
                                           format_func=format_func, bind=BIND, **kwargs),
                  format_func)


def selectbox(label: str, options: Sequence[T], *, key: str, index: int = 0,
              format_func: Callable[[Any], str] = str, **kwargs: Any) -> T:
    """``st.selectbox``; the address names an option by its label, as Streamlit writes it."""
    return _bound(key, label, _option(options, format_func),
                  lambda: st.selectbox(label, options, index=index, key=key,
                                       format_func=format_func, bind=BIND, **kwargs),
                  format_func)


def segmented_control(label: str, options: Sequence[T], *, default: T, key: str,
                      format_func: Callable[[Any], str] = str, **kwargs: Any) -> T:
    """``st.segmented_control`` choosing one option, always one (``required=True``)."""
    return _bound(key, label, _option(options, format_func),
                  lambda: st.segmented_control(label, options, default=default, key=key,
                                               required=True, format_func=format_func,
                                               bind=BIND, **kwargs),
                  format_func)


def multiselect(label: str, options: Sequence[T], *, default: Sequence[T], key: str,
                format_func: Callable[[Any], str] = str, **kwargs: Any) -> list[T]:
    """``st.multiselect``; unknown options in the address are dropped and repeated ones
    kept once."""
    return _bound(key, label, _options(options, format_func),
                  lambda: st.multiselect(label, options, default=default, key=key,
                                         format_func=format_func, bind=BIND, **kwargs),
                  lambda chosen: ", ".join(map(format_func, chosen)) or "none")


def toggle(label: str, *, key: str, value: bool = False, **kwargs: Any) -> bool:
    """``st.toggle``; the address says ``true`` or ``false`` (in any case)."""
    return _bound(key, label, _switch,
                  lambda: st.toggle(label, value=value, key=key, bind=BIND, **kwargs),
                  lambda on: "on" if on else "off")


def _bound(key: str, label: str, check: Check, draw: Callable[[], T],
           shown: Callable[[T], str]) -> T:
    """Check the address's value for ``key``, put the value to use instead in session state,
    draw the widget, and say above it what was wrong and which value is used."""
    # Streamlit takes the address's value when the widget first appears in the session
    # (and on history navigation, to a link this site wrote); after that it is the
    # widget's own, written by Streamlit or the browser.
    found = [] if key in st.session_state else st.query_params.get_all(key)
    fault = _fault(found, check) if found else None
    pending = st.session_state.setdefault(_PENDING, set())
    if fault is None:
        if key in pending:
            # Assigned again on a later run, the value used goes into the address too
            # (Streamlit writes a value set in code there only once the widget exists).
            pending.discard(key)
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
        return draw()
    if fault.instead is not None:
        st.session_state[key] = fault.instead
        pending.add(key)
    slot = st.empty()
    value = draw()
    slot.warning(plain(f"The link's value for {key} ({label}), “{_quoted(found)}”, "
                       f"{fault.problem}: {shown(value)} is used instead."),
                 icon=":material/link_off:")
    return value


def _fault(found: list[str], check: Check) -> Fault | None:
    """What is wrong with ``found``: too long to read, or what ``check`` says."""
    if any(len(value) > MAX_CHARS for value in found):
        return Fault(f"is longer than the {MAX_CHARS} characters a value may have")
    return check(found)


def _quoted(found: list[str]) -> str:
    """The values found, joined and shortened for a note."""
    text = ", ".join(found)
    return text if len(text) <= QUOTED else text[:QUOTED] + "…"


def _single(found: list[str]) -> Fault | None:
    """A parameter given more than once, where it takes one value."""
    return Fault(f"is given {len(found)} times") if len(found) > 1 else None


def _number(low: float, high: float, value: float) -> Check:
    """A number in [low, high]; a whole one where the widget's numbers are all ints."""
    whole = all(isinstance(v, int) for v in (low, high, value))

    def check(found: list[str]) -> Fault | None:
        try:
            number = float(found[-1])
        except ValueError:
            return Fault("is not a number")
        if math.isnan(number):
            return Fault("is not a number")
        clamped = min(max(number, low), high)
        # Cut toward zero, as Streamlit does when it takes a fraction for a whole number.
        clamped = int(clamped) if whole else clamped
        if clamped != number:
            inside = low <= number <= high
            return Fault("is not a whole number" if inside
                         else f"is outside the range {low} to {high}", clamped)
        return _single(found)

    return check


def _option(options: Sequence[Any], format_func: Callable[[Any], str]) -> Check:
    """One of ``options``, named by its label; between numeric options, the nearest."""
    labels = {format_func(option): option for option in options}
    numeric = all(isinstance(o, (int, float)) and not isinstance(o, bool) for o in options)

    def check(found: list[str]) -> Fault | None:
        if found[-1] in labels:
            return _single(found)
        choices = (", ".join(labels) if len(labels) <= LISTED
                   else f"the {len(labels)} choices offered")
        problem = f"is not one of {choices}"
        try:
            number = float(found[-1])
        except ValueError:
            return Fault(problem)
        if not numeric or math.isnan(number):
            return Fault(problem)
        return Fault(problem, min(options, key=lambda o: abs(o - number)))

    return check


def _options(options: Sequence[Any], format_func: Callable[[Any], str]) -> Check:
    """Any of ``options``, each named once by its label (one empty value: none)."""
    labels = {format_func(option): option for option in options}

    def check(found: list[str]) -> Fault | None:
        if found == [""]:
            return None
        known = [labels[value] for value in found if value in labels]
        kept = list(dict.fromkeys(known))
        unknown = len(found) - len(known)
        repeated = len(known) - len(kept)
        if not unknown and not repeated:
            return None
        problems = []
        if unknown:
            problems.append(f"names {unknown} unknown option{'s' if unknown > 1 else ''}")
        if repeated:
            problems.append(f"repeats {repeated} option{'s' if repeated > 1 else ''}")
        return Fault(" and ".join(problems), kept or None)

    return check


def _switch(found: list[str]) -> Fault | None:
    """True or false, in any case."""
    if found[-1].lower() not in ("true", "false"):
        return Fault("is neither true nor false")
    return _single(found)


def _number_shown(value: float) -> str:
    """A number as a note writes it: an int in full, a float short."""
    return str(value) if isinstance(value, int) else f"{value:g}"


# --------------------------------------------------------------------------- runs asked for

#: The address's parameter that lists the slow runs asked for, by their button's key.
RUN = "run"
#: Session-state key of the runs the address has already pressed in this session.
_PRESSED = "links.pressed"


def button(label: str, *, key: str, slot: Any = None, **kwargs: Any) -> bool:
    """``st.button`` (``slot.button`` with a ``slot``) that starts a slow run, whose press is
    kept in the address (``run=<key>``): a link naming it presses it once in a fresh session,
    and the button is then not drawn. A button drawn and not pressed takes its key out of
    the address: the run it stands for is not done."""
    if run_asked(key):
        return True
    pressed = (st if slot is None else slot).button(label, key=key, **kwargs)
    record_run(key, pressed)
    return pressed


def run_asked(key: str) -> bool:
    """Whether the address asks for run ``key`` and has not yet pressed it in this session
    (a link asks once: after that the run's own state says whether it is done)."""
    done = st.session_state.setdefault(_PRESSED, set())
    if key in done or key not in _runs():
        return False
    done.add(key)
    return True


def record_run(key: str, asked: bool) -> None:
    """Put run ``key`` into the address when ``asked`` (done, or under way), else take it out.

    A run put there by this session is not a link's to press again (:func:`run_asked`): when
    the run's settings change later, its button waits for the visitor."""
    if asked:
        st.session_state.setdefault(_PRESSED, set()).add(key)
    runs = _runs()
    kept = [run for run in runs if run != key] + ([key] if asked else [])
    if kept == runs:
        return
    if kept:
        st.query_params[RUN] = kept
    else:
        del st.query_params[RUN]


def _runs() -> list[str]:
    """The runs the address asks for (a name too long to be a key is ignored)."""
    return [run for run in st.query_params.get_all(RUN) if len(run) <= MAX_CHARS]


# --------------------------------------------------------------------------- pixels

Pixel = tuple[int, int]
#: How the address writes a pixel: row and column, whole numbers, with a comma between.
_PIXEL = re.compile(r"\s*(-?\d{1,9})\s*,\s*(-?\d{1,9})\s*", re.ASCII)


def pixel(key: str, shape: tuple[int, ...]) -> Pixel | None:
    """The pixel ``"row,col"`` the address gives under ``key``, if it is two whole numbers
    inside an image of ``shape``; None if it gives none. A bad value is taken out of the
    address, with a warning naming it (the caller then uses its own starting pixel)."""
    found = st.query_params.get_all(key)
    if not found:
        return None
    fault = _fault(found, _pixel_check(shape))
    if fault is None:
        row, col = _PIXEL.fullmatch(found[-1]).groups()
        return int(row), int(col)
    del st.query_params[key]
    st.warning(plain(f"The link's value for {key} (the chosen pixel), “{_quoted(found)}”, "
                     f"{fault.problem}: the starting pixel is used instead."),
               icon=":material/link_off:")
    return None


def keep_pixel(key: str, chosen: Pixel) -> None:
    """Write ``chosen`` into the address under ``key`` as ``"row,col"``."""
    value = f"{chosen[0]},{chosen[1]}"
    if st.query_params.get_all(key) != [value]:
        st.query_params[key] = value


def _pixel_check(shape: tuple[int, ...]) -> Check:
    """Two whole numbers ``row,col`` inside an image of ``shape``."""
    height, width = shape[:2]

    def check(found: list[str]) -> Fault | None:
        match = _PIXEL.fullmatch(found[-1])
        if match is None:
            return Fault("is not two whole numbers, row and column")
        row, col = (int(p) for p in match.groups())
        if not (0 <= row < height and 0 <= col < width):
            return Fault(f"is outside the {width}x{height} image")
        return _single(found)

    return check
