"""The denoiser contract: parameter specs, registered methods, results.

Every method of the library is described once by a :class:`Method`: its
name, year, family, paper, idea and a typed parameter spec (:class:`Float`,
:class:`Int`, :class:`Choice`, :class:`Bool`). The spec is the single truth
about a parameter: it validates calls (one code path, one message format) and
the site draws the method's controls from it.

A method's function has the signature::

    f(noisy, sigma, *, trace=False, progress=None, **params) -> Result

with ``noisy`` a float32 image of shape (H, W) or (H, W, 3) and ``sigma`` the
noise standard deviation on the same [0, 1] scale.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

Progress = Callable[[float], None]


class InvalidInput(ValueError):
    """A call the library refuses, with a message written for the person who made it.

    Raised for a bad image, sigma, parameter or probe: the message says what
    came in and what is accepted, so the site shows it to the visitor as it
    is. Any other exception is a fault of the library and is reported as one.
    """


class InvalidType(InvalidInput, TypeError):
    """A parameter of the wrong type (a string for a float): a TypeError as well as an
    :class:`InvalidInput`, so either ``except`` catches it."""


@dataclass(frozen=True)
class Param:
    """One parameter of a method: its name, default and help text.

    A ``default`` of ``None`` on a numeric parameter means "chosen from
    sigma" by ``rule(sigma)`` (the same function the method calls when it
    is given None), and the site shows an *auto* switch next to the control.
    """

    name: str
    default: Any = None
    help: str = ""
    rule: Callable[[float], Any] | None = None

    @property
    def auto(self) -> bool:
        """Whether the default is chosen from sigma by the method's rule."""
        return self.default is None

    def resolve(self, value: Any, sigma: float) -> Any:
        """``value``, or the rule's choice for ``sigma`` where it is None."""
        if value is None and self.rule is not None:
            return self.normalise(self.rule(sigma))
        return value

    def kind(self) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        """The accepted values, as used in error messages."""
        raise NotImplementedError

    def of_type(self, value: Any) -> bool:
        """Whether ``value`` has the parameter's type."""
        raise NotImplementedError

    def in_range(self, value: Any) -> bool:
        """Whether ``value``, of the parameter's type, is one of the accepted values."""
        raise NotImplementedError

    def accepts(self, value: Any) -> bool:
        return self.of_type(value) and self.in_range(value)

    def check(self, value: Any, method: str) -> Any:
        """Return ``value`` (normalised), or raise an :class:`InvalidType` (a wrong type) or
        :class:`InvalidInput` (a value out of range) naming the accepted values."""
        if value is None and self.auto:
            return None
        if not self.accepts(value):
            error = InvalidInput if self.of_type(value) else InvalidType
            raise error(
                f"the {self.name!r} parameter of {method} must be "
                f"{self.describe()}{' or None (auto: chosen from sigma)' if self.auto else ''}; "
                f"got {value!r}"
            )
        return self.normalise(value)

    def normalise(self, value: Any) -> Any:
        return value


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


@dataclass(frozen=True)
class Float(Param):
    """A real parameter in the closed range [low, high]."""

    low: float = 0.0
    high: float = 1.0
    step: float | None = None

    def __init__(self, name: str, low: float, high: float, *, default: float | None = None,
                 help: str = "", step: float | None = None,
                 rule: Callable[[float], float] | None = None) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "low", float(low))
        object.__setattr__(self, "high", float(high))
        object.__setattr__(self, "default", None if default is None else float(default))
        object.__setattr__(self, "help", help)
        object.__setattr__(self, "step", step)
        _check_default(self)

    def kind(self) -> str:
        return "float"

    def describe(self) -> str:
        return f"a float in [{self.low:g}, {self.high:g}]"

    def of_type(self, value: Any) -> bool:
        return _is_real(value)

    def in_range(self, value: Any) -> bool:
        return math.isfinite(value) and self.low <= value <= self.high

    def normalise(self, value: Any) -> float:
        return float(value)


@dataclass(frozen=True)
class Int(Param):
    """An integer parameter in the closed range [low, high]; ``odd`` admits odd values only
    (a window's side, which has a centre)."""

    low: int = 0
    high: int = 1
    odd: bool = False

    def __init__(self, name: str, low: int, high: int, *, default: int | None = None,
                 help: str = "", rule: Callable[[float], int] | None = None,
                 odd: bool = False) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "low", int(low))
        object.__setattr__(self, "high", int(high))
        object.__setattr__(self, "default", default)
        object.__setattr__(self, "help", help)
        object.__setattr__(self, "odd", odd)
        _check_default(self)

    def kind(self) -> str:
        return "int"

    def describe(self) -> str:
        return f"an {'odd ' if self.odd else ''}int in [{self.low}, {self.high}]"

    def of_type(self, value: Any) -> bool:
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))

    def in_range(self, value: Any) -> bool:
        return self.low <= value <= self.high and (not self.odd or value % 2 == 1)

    def normalise(self, value: Any) -> int:
        return int(value)


@dataclass(frozen=True)
class Choice(Param):
    """A parameter taking one of a fixed tuple of string options."""

    options: tuple[str, ...] = ()

    def __init__(self, name: str, options: tuple[str, ...], *, default: str | None = None,
                 help: str = "") -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rule", None)
        object.__setattr__(self, "options", tuple(options))
        object.__setattr__(self, "default", options[0] if default is None else default)
        object.__setattr__(self, "help", help)
        _check_default(self)

    def kind(self) -> str:
        return "choice"

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def of_type(self, value: Any) -> bool:
        return isinstance(value, str)

    def in_range(self, value: Any) -> bool:
        return value in self.options


@dataclass(frozen=True)
class Bool(Param):
    """A yes/no parameter."""

    def __init__(self, name: str, *, default: bool = False, help: str = "") -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "rule", None)
        object.__setattr__(self, "default", bool(default))
        object.__setattr__(self, "help", help)

    def kind(self) -> str:
        return "bool"

    def describe(self) -> str:
        return "a bool"

    def of_type(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def in_range(self, value: Any) -> bool:
        return True

    def normalise(self, value: Any) -> bool:
        return bool(value)


def _check_default(param: Param) -> None:
    if param.default is not None and not param.accepts(param.default):
        raise ValueError(  # a fault in a spec, not a visitor's input
            f"default {param.default!r} of parameter {param.name!r} is not {param.describe()}"
        )


@dataclass
class Result:
    """What a method returns.

    Attributes
    ----------
    image : ndarray, float32, same shape as the input
        The estimate of the clean image.
    stages : dict of str to ndarray
        Named intermediate images (only with ``trace=True``).
    curves : dict of str to 1-D ndarray
        Named series (only with ``trace=True``): per iteration, unless
        ``extras["curve_x"]`` gives their common x axis as (label, values).
    extras : dict of str to anything
        Structured inside views a page draws, plus ``"params"``: the values
        actually used, auto parameters resolved from sigma; and optionally
        ``"display"``: how to draw a stage, by name — ``"image"`` (grey
        levels in [0, 1]), ``"signed"`` (zero in the middle of the colour
        scale) or ``"map"`` (the default: a colour scale over its range).
    seconds : float
        Wall-clock run time, filled in by :func:`denoisers.run`.
    """

    image: np.ndarray
    stages: dict[str, np.ndarray] = field(default_factory=dict)
    curves: dict[str, np.ndarray] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class View:
    """What a traced method shows of one chosen pixel: stages and extras for its Result.

    Computed by a method's ``look`` from the traced Result, never by
    rerunning the method; :meth:`onto` adds it to that Result.
    """

    stages: dict[str, np.ndarray] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)

    def onto(self, result: Result) -> Result:
        """A copy of ``result`` (sharing its arrays) with this view's stages and extras added."""
        return replace(result, stages={**result.stages, **self.stages},
                       extras={**result.extras, **self.extras})


@dataclass(frozen=True)
class Method:
    """A registered denoiser and everything the site needs to present it.

    ``colour=True`` means the function handles (H, W, 3) images itself;
    otherwise :func:`denoisers.run` applies it channel by channel in the
    decorrelated opponent colour space. ``slow=True`` means a run takes
    more than about a second at 512x512, so the site runs it on a button
    rather than live as a control moves. ``look``, where there is one,
    computes the trace's view of one chosen pixel (the *probe*) cheaply from
    a traced result, so that choosing another pixel never reruns the
    method: ``look(noisy, sigma, result, probe, **params) -> View``, with
    ``result`` the method's traced Result for the same image, sigma and
    params.
    ``blind=True`` means the method ignores sigma (it reads the noise level
    from the image, or is trained for a range of them).
    ``noise_map=True`` means the function also takes ``sigma_map``, a noise
    level per pixel (FFDNet, DRUNet), for noise that depends on the light;
    ``noise_spectrum=True`` that it takes ``noise_covariance``, the
    covariance of correlated noise in its blocks (BM3D).
    """

    key: str
    name: str
    year: int
    family: str
    paper: str
    idea: str
    run: Callable[..., Result]
    params: tuple[Param, ...] = ()
    colour: bool = False
    slow: bool = False
    look: Callable[..., View] | None = None
    blind: bool = False
    url: str = ""
    noise_map: bool = False
    noise_spectrum: bool = False

    @property
    def probe(self) -> bool:
        """Whether the method's trace has a view of one chosen pixel."""
        return self.look is not None

    @property
    def takes_reference(self) -> bool:
        """Whether the method's trace measures PSNR against a clean ``reference`` it is given."""
        return "reference" in inspect.signature(self.run).parameters

    def defaults(self) -> dict[str, Any]:
        """The default value of every parameter (None where chosen from sigma)."""
        return {p.name: p.default for p in self.params}

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``params`` against the spec; return them with defaults filled in.

        Raises
        ------
        InvalidInput
            For an unknown parameter, or a value of the wrong type or range
            (:func:`check_params`).
        """
        return check_params(self.params, params, self.key)

    def resolve(self, params: Mapping[str, Any], sigma: float) -> dict[str, Any]:
        """The validated ``params`` with every auto parameter chosen for ``sigma``."""
        values = self.validate(params)
        return {p.name: p.resolve(values[p.name], sigma) for p in self.params}


def check_params(spec: tuple[Param, ...], given: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """``given`` checked against ``spec``, with the defaults filled in.

    The one check of parameters, for a registered method (``owner`` its key)
    whether it is called through :func:`denoisers.run` or directly
    (:func:`validated`). Raises an :class:`InvalidInput` naming an unknown
    parameter and the accepted ones, or a value's accepted type and range.

    Parameters
    ----------
    spec : tuple of Param
        The method's parameter spec (its :attr:`Method.params`).
    given : mapping of str to anything
        The parameters passed, by name; those left out take their default
        (``None`` for one chosen from sigma).
    owner : str
        The method's key, named in the error messages.

    Returns
    -------
    dict of str to anything
        Every parameter of ``spec``, in its order: the given value checked
        and normalised (:meth:`Param.check`), or the default.
    """
    known = {p.name for p in spec}
    unknown = sorted(set(given) - known)
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        raise InvalidInput(
            f"{owner} has no parameter {unknown[0]!r}; its parameters are: {accepted}")
    return {p.name: p.check(given[p.name], owner) if p.name in given else p.default
            for p in spec}


#: The keywords of a method's function that are not parameters of its spec.
_PASSED = frozenset({"trace", "progress", "reference", "sigma_map", "noise_covariance"})


def validated(spec: tuple[Param, ...]) -> Callable[[Callable[..., Result]], Callable[..., Result]]:
    """Make a method's function check its image, sigma and parameters itself.

    The function behind a registered method is also public, so a direct call
    must refuse what :func:`denoisers.run` refuses, with the same message:
    the image goes through :func:`as_image`, sigma through
    :func:`check_sigma` and the keyword parameters named in ``spec`` (the
    same tuple the :class:`Method` is registered with) through
    :func:`check_params` (an unknown keyword is refused), a ``sigma_map``
    through :func:`check_sigma_map`; ``trace``, ``progress``,
    ``reference`` and ``noise_covariance`` (checked by the one method that
    takes it, BM3D) pass as they are.
    """
    def decorate(function: Callable[..., Result]) -> Callable[..., Result]:
        owner = function.__name__

        @functools.wraps(function)
        def checked(noisy: Any, sigma: Any, **kwargs: Any) -> Result:
            given = {k: v for k, v in kwargs.items() if k not in _PASSED}
            values = check_params(spec, given, owner)
            image = as_image(noisy)
            if kwargs.get("sigma_map") is not None:
                kwargs["sigma_map"] = check_sigma_map(kwargs["sigma_map"], image.shape)
            return function(image, check_sigma(sigma),
                            **{**kwargs, **{k: values[k] for k in given}})

        return checked

    return decorate


def check_sigma_map(sigma_map: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Return ``sigma_map`` as float32 (H, W) if it is a noise level per pixel for an image of
    ``shape``: finite, in [0, 1] (the [0, 1] scale's standard deviations). Raises
    :class:`InvalidInput` saying what came in otherwise."""
    levels = np.asarray(sigma_map, dtype=np.float32)
    if levels.shape != tuple(shape[:2]):
        raise InvalidInput(f"the noise-level map must have the image's shape {tuple(shape[:2])}; "
                           f"got {levels.shape}")
    if not np.isfinite(levels).all() or levels.min() < 0 or levels.max() > 1:
        raise InvalidInput("the noise-level map must hold standard deviations in [0, 1] on the "
                           "[0, 1] scale")
    return levels


def as_image(image: Any, *, name: str = "noisy") -> np.ndarray:
    """Return ``image`` as a float32 array of shape (H, W) or (H, W, 3).

    Integer images are scaled to [0, 1] by their dtype's range; float images
    are kept as they are (a noisy image that was not clipped may leave
    [0, 1]). Raises a ValueError that says what came in otherwise.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise InvalidInput(
            f"{name} must have shape (H, W) or (H, W, 3); got shape {array.shape}"
        )
    if min(array.shape[:2]) < 2:
        raise InvalidInput(f"{name} must be at least 2x2 pixels; got shape {array.shape}")
    if array.dtype == np.bool_:
        array = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32, copy=False)
    else:
        raise InvalidInput(f"{name} must be a numeric image; got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise InvalidInput(f"{name} contains NaN or infinite values")
    return array


def check_sigma(sigma: Any) -> float:
    """Return ``sigma`` as a float in [0, 1] or raise a ValueError."""
    if not _is_real(sigma) or not math.isfinite(sigma) or not 0.0 <= sigma <= 1.0:
        raise InvalidInput(
            "sigma is the noise standard deviation on the [0, 1] scale of the image "
            f"(25 on the 0-255 scale is {25 / 255:.4f}); it must be a float in [0, 1]; "
            f"got {sigma!r}"
        )
    return float(sigma)


def digest(array: np.ndarray) -> str:
    """A short hex digest of an array's shape, dtype and bytes (a cache key)."""
    array = np.ascontiguousarray(array)
    h = hashlib.sha256()
    h.update(f"{array.shape}{array.dtype}".encode())
    h.update(array.tobytes())
    return h.hexdigest()[:24]


def report(progress: Progress | None, fraction: float) -> None:
    """Send ``fraction`` (clamped to [0, 1]) to ``progress`` if there is one."""
    if progress is not None:
        progress(min(1.0, max(0.0, float(fraction))))


def centre(shape: tuple[int, ...]) -> tuple[int, int]:
    """The (row, column) of the pixel a method's trace looks at by default."""
    return shape[0] // 2, shape[1] // 2
