"""Views of the epilogue: an inverse problem restored with denoisers as its prior, and images
drawn from the prior implicit in a denoiser.

Restorations and samples are slow (seconds to a minute), so they run on a button with a
progress bar and are kept by :func:`ui.compute.remembered` under a key naming the clean
image's digest, the problem's settings, the prior and the solver's settings. The scrubber
over iterations is a fragment drawn from the kept stages: moving it never reruns anything.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

import denoisers
from denoisers import images, inverse, metrics
from denoisers.core import Choice, Param, Result, digest
from denoisers.inverse.problems import bayer_masks

from . import compute, controls, errors, figures, links, memory, method_view, store, timing, views
from .scene import Scene
from .text import db

#: The priors offered first: a classical energy and a network. BM3D, the classical summit,
#: is one choice away: it takes minutes where these take seconds.
DEFAULT_PRIORS = ("tv", "drunet")
#: The colour sample offered for demosaicing when the sidebar's image is grey.
COLOUR_SAMPLE = "astronaut"
#: Each problem's classical restoration, as the table names it.
BASELINES = {"deblur": "Wiener deconvolution", "inpaint": "biharmonic inpainting",
             "super_resolution": "bicubic interpolation",
             "demosaic": "bilinear interpolation"}
SOLVER_NAMES = {"pnp_hqs": "PnP-HQS (DPIR)", "pnp_admm": "PnP-ADMM", "red": "RED"}
#: The labels of the settings on the [0, 1] scale, which the rest of the site gives on 0-255.
LABELS = {"sigma": "Noise σ (0–1 scale)", "sigma_start": "First level σ (0–1 scale)",
          "sigma_denoiser": "Denoiser's σ (0–1 scale)", "sigma_end": "Last level σ (0–1 scale)"}
#: Settings that matter for one value of a choice only, hidden for the others.
ONLY_WHEN = {"width": ("kernel", "gaussian"), "length": ("kernel", "motion"),
             "angle": ("kernel", "motion"), "missing": ("mask", "random"),
             "mask_seed": ("mask", "random")}
#: The prior the sampler climbs: blind and bias-free, it denoises up to sigma 1.
SAMPLING_PRIOR = "dncnn_bf"
SAMPLE_SEEDS = (1, 2, 3)
#: The side of the centre crop a constrained sample is drawn on.
CROP = 96
#: About how many steps a climb takes at the sampler's default settings (41 to 47 measured
#: on camera, free and keeping an inpainting's measurements).
SAMPLE_STEPS = 50


@dataclass(frozen=True)
class Setup:
    """An inverse problem on a clean image: its name, settings and degraded image; ``keep``
    says whether what is computed from it may be written to the on-disk store
    (:mod:`ui.store`): on a sample, yes; on a visitor's upload, never."""

    name: str
    settings: tuple[tuple[str, Any], ...]
    clean: np.ndarray
    clean_key: str
    degraded: np.ndarray
    keep: bool = False

    @property
    def title(self) -> str:
        return inverse.PROBLEMS[self.name].title

    @property
    def key(self) -> str:
        return f"{self.name}|{self.settings}|{self.clean_key}"

    def problem(self) -> inverse.Problem:
        """A fresh problem with these settings, bound to the clean image's shape."""
        return bound(self.name, dict(self.settings), self.clean.shape)

    @property
    def shown(self) -> np.ndarray:
        """The degraded image as the clean one's size and kind (:func:`displayed`)."""
        return displayed(self.name, self.degraded, self.clean.shape)


def bound(name: str, settings: Mapping[str, Any], shape: tuple[int, ...]) -> inverse.Problem:
    """The problem ``name``, bound to clean images of ``shape`` (a super-resolution
    estimate is cropped back to it)."""
    return inverse.make(name, shape=shape, **settings)


def displayed(name: str, degraded: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A degraded image drawn at the clean image's size: a low-resolution image enlarged by
    nearest neighbour, a Bayer mosaic coloured by the filter over each pixel."""
    if name == "super_resolution":
        factor = -(-shape[0] // degraded.shape[0])
        big = np.repeat(np.repeat(degraded, factor, axis=0), factor, axis=1)
        return big[:shape[0], :shape[1]]
    if name == "demosaic":
        return (degraded[..., None] * bayer_masks(degraded.shape)).astype(np.float32)
    return degraded


# --------------------------------------------------------------------------- the problem

def clean_image(scene: Scene, name: str, *, key: str) -> tuple[np.ndarray, str, bool] | None:
    """The image the problem degrades, its source and whether it is one of the site's
    samples (not an upload): the scene's clean image (its noisy one when it has none); for
    demosaicing of a grey image, a colour sample if the visitor takes it, else None (and a
    plain message saying why)."""
    image = scene.original
    if scene.real:
        st.caption("The sidebar's image is marked as already noisy: it is degraded as it is, "
                   "and scores are measured against it.")
    if name != "demosaic" or image.ndim == 3:
        return image, scene.source, scene.sample
    notice = st.empty()  # drawn before the switch, said only while the switch is off
    if links.toggle(f"Use the {COLOUR_SAMPLE} for demosaicing", key=f"{key}.colour",
                    persist_state="session"):
        st.caption(f"Demosaicing needs a colour image and the sidebar's ({scene.source}) is "
                   f"grey: the {COLOUR_SAMPLE} is used here instead.")
        return _colour_sample(max(image.shape[:2])), COLOUR_SAMPLE, True
    notice.info(f"Demosaicing needs a colour image, and the sidebar's image ({scene.source}) "
                f"is grey: a camera's colour filter has nothing to filter. Pick a colour "
                f"sample in the sidebar (astronaut, coffee, chelsea, rocket), or use the "
                f"{COLOUR_SAMPLE} here.", icon=":material/palette:")
    return None


@st.cache_data(max_size=memory.max_size("inverse_views._colour_sample"),
               ttl=memory.ttl("inverse_views._colour_sample"), show_spinner=False)
def _colour_sample(side: int) -> np.ndarray:
    return images.downscale(images.load_sample(COLOUR_SAMPLE), side)[0]


def problem_choice(*, key: str) -> str:
    """The problem, chosen by its title."""
    names = list(inverse.PROBLEMS)
    return links.segmented_control("Problem", names, default=names[0], key=f"{key}.problem",
                                   format_func=lambda n: inverse.PROBLEMS[n].title,
                                   persist_state="session")


def problem_controls(name: str, *, key: str) -> dict[str, Any]:
    """The settings of problem ``name``; a setting that matters only for another choice (a
    motion blur's length under a Gaussian blur) is not drawn and keeps its default."""
    spec = inverse.PROBLEMS[name].SETTINGS
    chosen = controls.spec_controls([p for p in spec if isinstance(p, Choice)], f"{key}.{name}")
    rest = [p for p in spec if not isinstance(p, Choice) and _applies(p, chosen)]
    return {**chosen, **controls.spec_controls(rest, f"{key}.{name}", labels=LABELS)}


def _applies(param: Param, chosen: Mapping[str, Any]) -> bool:
    """Whether ``param`` matters under the choices made (:data:`ONLY_WHEN`)."""
    if param.name not in ONLY_WHEN:
        return True
    choice, value = ONLY_WHEN[param.name]
    return chosen.get(choice) == value


def setup(name: str, settings: Mapping[str, Any], clean: np.ndarray, *, keep: bool) -> Setup:
    """The problem on ``clean``, degraded with seed 0 (cached by the image's digest);
    ``keep``: whether ``clean`` is a sample, whose results may go to the on-disk store."""
    clean_key = digest(clean)
    frozen = tuple(sorted(settings.items()))
    return Setup(name, frozen, clean, clean_key, _degraded(name, frozen, clean_key, clean), keep)


@st.cache_data(max_size=memory.max_size("inverse_views._degraded"),
               ttl=memory.ttl("inverse_views._degraded"), show_spinner="Degrading the image…")
def _degraded(name: str, settings: tuple[tuple[str, Any], ...], clean_key: str,
              _clean: np.ndarray) -> np.ndarray:
    return bound(name, dict(settings), _clean.shape).degrade(_clean, seed=0)


@st.cache_data(max_size=memory.max_size("inverse_views._baseline"),
               ttl=memory.ttl("inverse_views._baseline"), show_spinner="The classical restoration…")
def _baseline(name: str, settings: tuple[tuple[str, Any], ...], clean_key: str,
              _degraded_image: np.ndarray, shape: tuple[int, ...], keep: bool) -> Result:

    def computed() -> Result:
        start = time.perf_counter()
        image = bound(name, dict(settings), shape).baseline(_degraded_image)
        return Result(np.clip(image, 0, 1), seconds=time.perf_counter() - start)

    return store.through("inverse_views._baseline", f"{name} {settings} {clean_key} {shape}",
                         computed, keep=keep)


def baseline(problem: Setup) -> dict[str, Result]:
    """The problem's classical restoration, by name."""
    return {BASELINES[problem.name]: _baseline(problem.name, problem.settings, problem.clean_key,
                                               problem.degraded, problem.clean.shape,
                                               problem.keep)}


def scored(scene: Scene, problem: Setup) -> Scene:
    """The scene as the metrics table reads it: the problem's clean image and its degraded
    one in place of the noisy image."""
    return dataclasses.replace(scene, clean=problem.clean, noisy=problem.shown,
                               clean_key=problem.clean_key)


# --------------------------------------------------------------------------- the priors

def prior_choice(*, key: str) -> list[str]:
    """The denoisers to plug in (their keys), chosen in a box wide enough to show their
    names whole."""
    methods = {m.key: m for m in denoisers.methods()}
    return links.multiselect(
        "Denoisers as the prior", list(methods), default=list(DEFAULT_PRIORS),
        format_func=lambda k: methods[k].name, key=f"{key}.priors", persist_state="session",
        help="Any denoiser of the site. Each iteration runs it once: the slow ones (BM3D, "
             "non-local means, K-SVD, EPLL, WNNM) take seconds to minutes per iteration, "
             "so a restoration with one of them takes minutes.")


def solver_controls(name: str, settings: Mapping[str, Any], *,
                    key: str) -> tuple[str, dict[str, Any]]:
    """The solver for problem ``name`` with ``settings``, and the solver's settings."""
    solver = links.selectbox("Solver", list(inverse.SOLVERS), key=f"{key}.solver",
                             format_func=SOLVER_NAMES.__getitem__, persist_state="session")
    with st.expander(f"{SOLVER_NAMES[solver]}'s settings"):
        params = controls.spec_controls(inverse.solver_spec(inverse.make(name, **settings),
                                                            solver),
                                        f"{key}.{name}.{solver}", labels=LABELS)
    return solver, params


def restoration_seconds(name: str, priors: list[str], shape: tuple[int, ...],
                        params: Mapping[str, Any]) -> float | None:
    """About how long the restorations of problem ``name`` with ``priors`` take on an image
    of ``shape`` (:func:`ui.timing.restoration_seconds`); None if one of them is unknown."""
    each = [timing.restoration_seconds(name, prior, shape, params["iterations"])
            for prior in priors]
    return None if None in each else sum(each)


def working_image(image: np.ndarray, name: str, priors: list[str], params: Mapping[str, Any],
                  *, key: str) -> np.ndarray:
    """The image the restorations run on: its centre :data:`~ui.method_view.HEAVY_SIDE`
    square, or the whole of it when the visitor turns on the switch, whose label says how
    long ``priors`` take on the whole."""
    seconds = restoration_seconds(name, priors, image.shape, params)
    if method_view.full_size(image.shape, seconds, key=key):
        return image
    return images.centre_crop(image, method_view.HEAVY_SIDE)


def _restore(name: str, settings: tuple[tuple[str, Any], ...], clean: np.ndarray,
             degraded: np.ndarray, prior: str, solver: str, params: dict[str, Any],
             progress: Callable[[float], None]) -> Result:
    problem = bound(name, dict(settings), clean.shape)
    return inverse.restore(problem, degraded, prior, solver, reference=clean, progress=progress,
                           **params)


def restorations(problem: Setup, priors: list[str], solver: str, params: dict[str, Any], *,
                 key: str) -> dict[str, Result]:
    """Each prior's restoration, by the denoiser's name: those already asked for in this
    session at once, the others behind one button, with a progress bar over them all."""
    if not priors:
        st.caption("Choose at least one denoiser to plug in.")
        return {}
    keys = {prior: f"{problem.key}|{prior}|{solver}|{sorted(params.items())}" for prior in priors}
    ready = {p: compute.asked(_restore, keys[p], keep=problem.keep) for p in priors}
    waiting = [denoisers.get(p).name for p in priors if not ready[p]]
    slot = st.empty()
    go = bool(waiting) and links.button(
        f"Run {', '.join(waiting)} as the prior", type="primary", key=key, slot=slot,
        icon=":material/play_arrow:",
        help="Each iteration runs the denoiser once: from seconds (TV) to minutes (BM3D).")
    if waiting and not go:
        st.caption(_waiting_caption(problem, [p for p in priors if not ready[p]], params))
    else:
        slot.empty()
    out: dict[str, Result] = {}
    bar = st.empty()
    for index, prior in enumerate(priors):
        if not (go or ready[prior]):
            continue
        name = denoisers.get(prior).name

        def progress(done: float, index: int = index, name: str = name) -> None:
            bar.progress(min(1.0, (index + done) / len(priors)),
                         text=f"{name} as the prior… ({index + 1} of {len(priors)})")

        progress(0.0)
        out[name] = compute.remembered(_restore, keys[prior], problem.name, problem.settings,
                                       problem.clean, problem.degraded, prior, solver, params,
                                       keep=problem.keep, progress=progress)
    bar.empty()
    return out


def _waiting_caption(problem: Setup, priors: list[str], params: Mapping[str, Any]) -> str:
    """What the restorations' button says beneath it: how long they will take."""
    seconds = restoration_seconds(problem.name, priors, problem.clean.shape, params)
    height, width = problem.clean.shape[:2]
    said = "seconds or more" if seconds is None else timing.duration(seconds)
    return (f"The restorations run when you press the button: {said} at {width}x{height} "
            "(each iteration runs the denoiser once).")


def compare(scene: Scene, problem: Setup, named: Mapping[str, Result], *, key: str) -> None:
    """Clean, degraded, the baseline and every restoration side by side, zooming together."""
    local = scored(scene, problem)
    degraded = f"degraded — {db(metrics.psnr(problem.clean, problem.shown))}"
    panels = {"clean": problem.clean, degraded: problem.shown,
              **views.result_panels(local, named)}
    views.compare(panels, key=key, columns=min(4, len(panels)))
    if problem.name == "super_resolution":
        st.caption("The low-resolution image is drawn enlarged by nearest neighbour, each of "
                   "its pixels a block; its PSNR is that block image's.")
    if problem.name == "demosaic":
        st.caption("The mosaic is drawn in the colour of the filter over each pixel: the "
                   "camera measured one colour per pixel, and two thirds of the values are "
                   "missing.")


# --------------------------------------------------------------------------- the iterations

def _iteration(stage: str) -> int:
    return 0 if stage == "start" else int(stage.split()[-1])


@st.fragment
def iterations(named: Mapping[str, Result], *, key: str) -> None:
    """A slider over the kept iterates, each prior's iterate there, and PSNR per iteration
    for every prior on one plot (the shown iteration marked)."""
    with errors.guard("The iterations"):
        stages = list(next(iter(named.values())).stages)
        at = links.select_slider("Iteration", options=stages, value=stages[-1],
                                 key=f"{key}.at",
                                 help="The iterates the solver kept: moving the slider never "
                                      "reruns a restoration.")
        for start in range(0, len(named), 4):
            row = list(named.items())[start:start + 4]
            for column, (name, res) in zip(st.columns(4), row):
                with column:
                    number = _iteration(at)
                    score = f" — {db(res.curves['PSNR (dB)'][number - 1])}" if number else ""
                    views.show_image(res.stages[at], f"{name}, {at}{score}")
        first = next(iter(named.values()))
        count = len(first.curves["PSNR (dB)"])
        x = np.arange(1, count + 1)
        left, right = st.columns(2)
        with left:
            psnr = {name: res.curves["PSNR (dB)"] for name, res in named.items()}
            views.chart(figures.curves(psnr, x=x, x_title="iteration", y_title="PSNR (dB)",
                                       title="PSNR per iteration",
                                       marks={"shown": _iteration(at)}), key=f"{key}.psnr")
        with right:
            views.chart(figures.curves({"σ of the denoiser": first.curves["denoiser level"]},
                                       x=x, x_title="iteration", y_title="σ (0–255)",
                                       title="σ the denoiser is told"),
                        key=f"{key}.level")


# --------------------------------------------------------------------------- sampling

def sampling_controls(*, key: str) -> tuple[int, int, dict[str, Any]]:
    """The canvas of an unconstrained sample, the seed of the noise all samples start from,
    and the sampler's settings."""
    left, right = st.columns(2)
    with left:
        side = links.segmented_control("Canvas (unconstrained)", (64, 96, 128), default=64,
                                       key=f"{key}.side", persist_state="session",
                                       format_func=lambda s: f"{s}x{s}")
    with right:
        start_seed = int(links.number_input(
            "Seed of the starting noise", 0, 2**31 - 1, 0, key=f"{key}.start_seed",
            persist_state="session",
            help="Every sample starts from this same noise; they differ only in the fresh "
                 "noise injected on the way up."))
    with st.expander("The sampler's settings"):
        settings = controls.spec_controls(inverse.SAMPLING, f"{key}.settings", labels=LABELS)
    return side, start_seed, settings


def constrained_problem(problem: Setup) -> tuple[Setup, str]:
    """The problem a constrained sample keeps, on the centre crop of the clean image, and a
    sentence saying which: the page's own problem, or inpainting for deblurring (a noisy
    blur has no exact measurements to keep)."""
    crop = images.centre_crop(problem.clean, CROP)
    if problem.name == "deblur":
        return setup("inpaint", {}, crop, keep=problem.keep), (
            "Deblurring has no exact measurements to keep (its blur is noisy), so the "
            "constrained samples fill in missing pixels (inpainting, 50 % at random) instead.")
    return (setup(problem.name, dict(problem.settings), crop, keep=problem.keep),
            f"The constrained samples keep the measurements of the problem above "
            f"({problem.title.lower()}), on the {CROP}x{CROP} centre of the image.")


def _sample(shape: tuple[int, ...], seed: int, start_seed: int, settings: dict[str, Any],
            constraint: Setup | None, progress: Callable[[float], None]) -> Result:
    if constraint is None:
        return inverse.sample(shape, SAMPLING_PRIOR, seed=seed, start_seed=start_seed,
                              progress=progress, **settings)
    return inverse.sample(shape, SAMPLING_PRIOR, problem=constraint.problem(),
                          y=constraint.degraded, seed=seed, start_seed=start_seed,
                          progress=progress, **settings)


def sampling_seconds(shapes: list[tuple[int, ...]], settings: Mapping[str, Any]) -> float | None:
    """About how long climbs on canvases of ``shapes`` take: each some :data:`SAMPLE_STEPS`
    runs of the prior (fewer if ``settings`` bound the steps lower); None if unknown."""
    steps = min(SAMPLE_STEPS, settings.get("max_steps", SAMPLE_STEPS))
    each = [timing.expected_seconds(SAMPLING_PRIOR, shape, 1.0) for shape in shapes]
    return None if None in each else steps * sum(each)


def samples(side: int, start_seed: int, settings: dict[str, Any], constraint: Setup, *,
            key: str) -> tuple[dict[str, Result], dict[str, Result]]:
    """Unconstrained samples on a ``side`` canvas and samples keeping ``constraint``'s
    measurements, one per seed of :data:`SAMPLE_SEEDS`, by ``"seed k"``: behind one button
    the first time, with a progress bar."""
    plain = {seed: f"sample|{side}|{seed}|{start_seed}|{sorted(settings.items())}"
             for seed in SAMPLE_SEEDS}
    kept = {seed: f"{plain[seed]}|{constraint.key}" for seed in SAMPLE_SEEDS}
    runs = [(seed, None, plain[seed], (side, side)) for seed in SAMPLE_SEEDS]
    runs += [(seed, constraint, kept[seed], constraint.clean.shape) for seed in SAMPLE_SEEDS]
    ready = all(compute.asked(_sample, k, keep=c is None or c.keep) for _, c, k, _ in runs)
    slot = st.empty()
    if not ready and not links.button("Run the sampler", type="primary", key=key, slot=slot,
                                      icon=":material/play_arrow:",
                                      help="Six climbs from noise, of 40 to 50 steps each."):
        seconds = sampling_seconds([shape for _, _, _, shape in runs], settings)
        said = "seconds or more" if seconds is None else timing.duration(seconds)
        st.caption(f"The sampler runs when you press the button: {len(runs)} climbs from "
                   f"noise, each some 40 to 50 runs of the network — {said} in all.")
        return {}, {}
    slot.empty()
    bar = st.empty()
    free: dict[str, Result] = {}
    kept_out: dict[str, Result] = {}
    for index, (seed, constraint_or_none, run_key, shape) in enumerate(runs):
        what = "unconstrained" if constraint_or_none is None else "keeping the measurements"

        def progress(done: float, index: int = index, what: str = what) -> None:
            bar.progress(min(1.0, (index + max(0.0, done)) / len(runs)),
                         text=f"Sample {index % len(SAMPLE_SEEDS) + 1} {what}… "
                              f"({index + 1} of {len(runs)})")

        progress(0.0)
        res = compute.remembered(_sample, run_key, shape, seed, start_seed, settings,
                                 constraint_or_none, small=True, progress=progress,
                                 keep=constraint_or_none is None or constraint_or_none.keep)
        (free if constraint_or_none is None else kept_out)[f"seed {seed}"] = res
    bar.empty()
    return free, kept_out


def sample_row(named: Mapping[str, Result], *,
               first: Mapping[str, np.ndarray] | None = None) -> None:
    """``first``'s images, then the samples, then the spread between the samples (their
    standard deviation per pixel), four to a row."""
    spread = np.stack([res.image for res in named.values()]).std(axis=0)
    spread = spread.mean(axis=-1) if spread.ndim == 3 else spread
    top = max(float(spread.max()), 1e-6)
    shown = {**(first or {}), **{name: res.image for name, res in named.items()},
             f"spread (white: {top * 255:.0f} / 255)": spread / top}
    items = list(shown.items())
    for start in range(0, len(items), 4):
        for column, (name, image) in zip(st.columns(4), items[start:start + 4]):
            with column:
                views.show_image(views.enlarged(image, 256), name)


def trajectory(res: Result, *, key: str) -> None:
    """The kept frames of one climb from noise, and the falling sigma."""
    frames = list(res.stages.items())
    for start in range(0, len(frames), 6):
        for column, (name, frame) in zip(st.columns(6), frames[start:start + 6]):
            with column:
                views.show_image(views.enlarged(frame, 128), name)
    fig = figures.curves({"σ": res.curves["sigma (0-255)"]},
                         x=np.arange(1, len(res.curves["sigma (0-255)"]) + 1), x_title="step",
                         y_title="σ (0–255, log scale)",
                         title="The effective noise level falls as the image forms")
    fig.update_yaxes(type="log", tickvals=[1, 2, 5, 10, 20, 50, 100, 200])
    views.chart(fig, key=f"{key}.sigma")
