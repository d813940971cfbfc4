"""Deep, Deep Trouble's denoiser library: the registry and its one door.

>>> import numpy as np, denoisers
>>> clean = np.full((64, 64), 0.5, np.float32)
>>> noisy = denoisers.noise.add_gaussian(clean, 25 / 255, seed=0)
>>> result = denoisers.run("gaussian", noisy, 25 / 255)
>>> result.image.shape, result.image.dtype
((64, 64), dtype('float32'))

Each family module (``linear``, ...) declares a tuple ``METHODS`` of
:class:`~denoisers.core.Method`; this module gathers them in history's order.
Nothing here imports Streamlit: the library runs in notebooks, tests and
benchmarks on its own.

``import denoisers`` is light: the family modules (some bring torch) are
imported when the registry is first asked for a method, in history's order
and only as far as needed (:func:`get` stops at the family that registers
the key, :func:`methods` imports them all), and the submodules
(``denoisers.metrics``, ``denoisers.inverse``, ...) on first access.
"""

from __future__ import annotations

import importlib
import inspect
import threading
import time
from types import ModuleType
from typing import Any

import numpy as np

from . import colour
from .core import (
    Bool,
    Choice,
    Float,
    Int,
    InvalidInput,
    InvalidType,
    Method,
    Param,
    Progress,
    Result,
    View,
    as_image,
    centre,
    check_sigma,
)

__all__ = [
    "Bool", "Choice", "Float", "Int", "InvalidInput", "InvalidType", "Method", "Param", "Result",
    "View", "methods", "get", "run", "look", "noise_level_map", "metrics", "noise", "inverse",
]

#: The modules that register methods, in history's order.
_FAMILIES = ("linear", "pde", "wavelets", "sparsity", "ksvd", "nonlocal_means", "bm3d", "lowrank",
             "epll", "nets", "unrolled")

#: The submodules reached as attributes of the package, imported on first access.
_SUBMODULES = frozenset(_FAMILIES + (
    "gmm", "images", "inverse", "metrics", "noise", "noise_level", "patches", "stabilise",
    "train"))

_REGISTRY: dict[str, Method] = {}
_registered = 0  # how many of _FAMILIES are in the registry
_registering = threading.RLock()  # sessions of the site ask from several threads at once


def __getattr__(name: str) -> ModuleType:
    """A submodule, imported on first access (``denoisers.metrics``, ...)."""
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)


def _register(method: Method) -> None:
    if method.key in _REGISTRY:
        raise ValueError(f"two methods are registered under the key {method.key!r}")
    accepted = set(inspect.signature(method.run).parameters)
    missing = {p.name for p in method.params} - accepted
    if missing:
        raise TypeError(f"{method.key}: its function takes no parameter {sorted(missing)}")
    _REGISTRY[method.key] = method


def _register_families(until: str | None = None) -> None:
    """Import and register the families not registered yet, in order, until ``until`` is
    registered (all of them when None)."""
    global _registered
    with _registering:
        while _registered < len(_FAMILIES) and (until is None or until not in _REGISTRY):
            for method in importlib.import_module(f".{_FAMILIES[_registered]}", __name__).METHODS:
                _register(method)
            _registered += 1


def methods(family: str | None = None) -> list[Method]:
    """The registered methods in history's order (by year), optionally of one family."""
    _register_families()
    found = sorted(_REGISTRY.values(), key=lambda m: m.year)
    return [m for m in found if family is None or m.family == family]


def get(key: str) -> Method:
    """The method registered under ``key``; a ValueError lists the keys otherwise."""
    _register_families(until=key)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise InvalidInput(
            f"no method is registered as {key!r}; the methods are: {', '.join(_REGISTRY)}"
        ) from None


def run(key: str, noisy: Any, sigma: float, *, trace: bool = False,
        progress: Progress | None = None, probe: tuple[int, int] | None = None,
        reference: Any = None, noise_model: Any = None, **params: Any) -> Result:
    """Denoise ``noisy`` with the method registered as ``key``.

    Parameters
    ----------
    key : str
        A registry key, e.g. ``"gaussian"``; see :func:`methods`.
    noisy : array, shape (H, W) or (H, W, 3)
        The noisy image; float in [0, 1] (values outside are allowed for a
        noisy image that was not clipped) or an integer image.
    sigma : float
        The noise standard deviation on the [0, 1] scale of the image.
    trace : bool
        Also compute the method's intermediate images, curves and extras.
    progress : callable, optional
        Receives the fraction done, in [0, 1], during long runs.
    probe : (row, col), optional
        The pixel a method's trace looks at (methods with a ``look``): with
        ``trace``, its :func:`look` view is added to the result. The image
        centre by default.
    reference : array, optional
        The clean image, for a trace that measures PSNR as it goes (methods
        whose function takes ``reference``: the curve ``"PSNR (dB)"``). It
        reaches the trace only: the estimate never depends on it.
    noise_model : noise.PoissonGaussian or noise.CorrelatedNoise, optional
        Correlated noise's covariance goes to a method that takes it
        (``get(key).noise_spectrum``: BM3D) and is refused by the others.
        Noise that depends on the light, variance ``a x + b`` (fitted by
        :func:`denoisers.noise_level.fit_noise_level`). A method told a noise
        level per pixel (``get(key).noise_map``: FFDNet, DRUNet) is given the
        curve's level at every pixel; any other runs on the image's
        generalised Anscombe transform, where the noise is about white and
        Gaussian, and its estimate goes back through the exact unbiased
        inverse (:mod:`denoisers.stabilise`); its stages stay in that
        transform's domain, ``extras["stabilised"]`` says so, and
        ``reference`` is left out (a PSNR per iteration there would compare
        images in different domains). ``sigma`` is then only the noise's RMS,
        for the record.
    **params
        The method's own parameters; see ``get(key).params``. Unknown names
        and out-of-range values raise a ValueError that names the range.

    Returns
    -------
    Result
        ``image`` (float32, same shape as ``noisy``), ``stages``, ``curves``,
        ``extras`` (with ``"params"``: the values used, auto parameters
        resolved from sigma; the luminance channel's for a colour image run
        channel by channel) and ``seconds``.
    """
    method = get(key)
    image = as_image(noisy)
    sigma = check_sigma(sigma)
    values = method.validate(params)
    kwargs: dict[str, Any] = dict(values, trace=bool(trace), progress=progress)
    from .noise import CorrelatedNoise, PoissonGaussian

    if isinstance(noise_model, CorrelatedNoise):
        if not method.noise_spectrum:
            raise InvalidInput(f"{method.name} assumes white noise: of the methods here, only "
                               "BM3D is told the spectrum of correlated noise")
        kwargs["noise_covariance"] = noise_model.covariance
    elif noise_model is not None:
        if not isinstance(noise_model, PoissonGaussian):
            raise InvalidInput("noise_model must be a PoissonGaussian or a CorrelatedNoise; "
                               f"got {noise_model!r}")
        if not method.noise_map:
            return _stabilised(key, image, noise_model, trace=trace, progress=progress,
                               probe=probe, **params)
        kwargs["sigma_map"] = noise_level_map(image, noise_model)
    probe = _check_probe(probe, image.shape)
    by_channel = image.ndim == 3 and not method.colour
    if reference is not None:
        reference = as_image(reference, name="reference")
        if reference.shape != image.shape:
            raise InvalidInput(f"the reference must have the noisy image's shape {image.shape}; "
                               f"got {reference.shape}")
        if trace and method.takes_reference:  # by channel, only the luminance is traced
            kwargs["reference"] = colour.luminance(reference) if by_channel else reference
    start = time.perf_counter()
    if by_channel:
        result = colour.by_channel(method.run, image, sigma, **kwargs)
    else:
        result = method.run(image, sigma, **kwargs)
    result.seconds = time.perf_counter() - start
    result.image = np.asarray(result.image, dtype=np.float32)
    if result.image.shape != image.shape:
        raise RuntimeError(
            f"{key} returned shape {result.image.shape} for an input of shape {image.shape}"
        )
    traced_sigma = sigma * float(colour.CHANNEL_SIGMA[0]) if by_channel else sigma
    result.extras["params"] = method.resolve(values, traced_sigma)
    if trace and method.look is not None:
        result = _looked(method, image, sigma, result, probe, values).onto(result)
    return result


def _stabilised(key: str, image: np.ndarray, model: Any, **kwargs: Any) -> Result:
    """Method ``key`` on noise of variance ``a x + b`` (``model``): run on the image's
    generalised Anscombe transform scaled to [0, 1] (:func:`_stable`) and brought back by the
    exact unbiased inverse."""
    from .stabilise import inverse_anscombe

    stable, sigma, low, scale = _stable(image, model)
    result = run(key, stable, sigma, **kwargs)
    result.image = inverse_anscombe(result.image * scale + low, model)
    result.extras["stabilised"] = (
        f"run on the generalised Anscombe transform of the image, where the noise is about "
        f"white with σ ≈ {sigma * 255:.1f} (0–255 scale), and brought back by the exact "
        "unbiased inverse; the stages shown are in the transform's domain")
    return result


def _stable(image: np.ndarray, model: Any) -> tuple[np.ndarray, float, float, float]:
    """The generalised Anscombe transform of ``image`` under ``model``, scaled to [0, 1], the
    sigma of its noise there (about 1 / its range), and the range's low end and length."""
    from .stabilise import anscombe

    stable = anscombe(image, model)
    low = float(stable.min())
    scale = max(float(stable.max()) - low, 1e-6)
    return (stable - low) / scale, min(1.0, 1.0 / scale), low, scale


def noise_level_map(image: np.ndarray, model: Any) -> np.ndarray:
    """The noise standard deviation ``model`` gives each pixel, float32 (H, W): the curve at
    the image smoothed over about 3 pixels (the noise itself would make the map grainy),
    the root of the channels' mean variance for a colour image."""
    from scipy.ndimage import gaussian_filter

    sigmas = (1.5, 1.5, 0) if image.ndim == 3 else 1.5
    variance = model.variance(gaussian_filter(image, sigmas, mode="reflect"))
    return np.sqrt(variance.mean(axis=-1) if image.ndim == 3 else variance).astype(np.float32)


def look(key: str, noisy: Any, sigma: float, result: Result, probe: tuple[int, int], *,
         noise_model: Any = None, **params: Any) -> View:
    """The view of pixel ``probe`` in ``result``, a traced run of method ``key``.

    Choosing what to look at must not recompute the method: this is the
    cheap part of a trace that depends on the probe (a pixel's window and
    weights, a network's equivalent kernel there, BM3D's group of the block
    under it), computed from what ``run(key, noisy, sigma, trace=True,
    **params)`` returned as ``result``. ``run`` with ``trace`` and
    ``probe`` returns ``look(...).onto(result)``.

    Parameters
    ----------
    key : str
        A registry key of a method with a probe view (``get(key).probe``).
    noisy : array, shape (H, W) or (H, W, 3)
        The noisy image the traced run was given (any float or integer
        type). For a colour image and a grey method, the view is of its
        luminance, as the trace is.
    sigma : float
        The noise standard deviation given to that run, on the [0, 1] scale.
    result : Result
        What ``run(key, noisy, sigma, trace=True, **params)`` returned.
    probe : (row, col)
        The pixel to look at, in image coordinates (0-based, inside the
        image); ``None`` takes the image centre.
    noise_model : noise.PoissonGaussian, optional
        The ``noise_model`` of the traced run: a method run on the image's
        generalised Anscombe transform is looked at there too.
    **params
        The method's parameters, the same as for the traced run (validated
        as :func:`run` does; those left out take their defaults).

    Returns
    -------
    View
        The pixel's stages and extras; ``view.onto(result)`` adds them to
        the result.

    Raises
    ------
    InvalidInput
        For a method without a probe view, a probe outside the image, or
        bad parameters.
    """
    method = get(key)
    if method.look is None:
        raise InvalidInput(f"{method.name} has no view of a chosen pixel")
    image = as_image(noisy)
    sigma = check_sigma(sigma)
    if noise_model is not None and not method.noise_map:
        image, sigma, _, _ = _stable(image, noise_model)
    return _looked(method, image, sigma, result, _check_probe(probe, image.shape),
                   method.validate(params))


def _looked(method: Method, image: np.ndarray, sigma: float, result: Result,
            probe: tuple[int, int], values: dict[str, Any]) -> View:
    """``method.look`` on the image its trace shows: the luminance when run by channel."""
    assert method.look is not None
    if not method.colour:
        image, sigma = colour.luminance_view(image, sigma)
    return method.look(image, sigma, result, probe, **values)


def _check_probe(probe: tuple[int, int] | None, shape: tuple[int, ...]) -> tuple[int, int]:
    if probe is None:
        return centre(shape)
    try:
        row, col = (int(v) for v in probe)
    except (TypeError, ValueError):
        raise InvalidInput(f"probe must be a (row, col) pair of ints; got {probe!r}") from None
    if not (0 <= row < shape[0] and 0 <= col < shape[1]):
        raise InvalidInput(f"probe {probe} lies outside the image of shape {shape[:2]}")
    return row, col
