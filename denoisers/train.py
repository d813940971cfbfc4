"""Train the learned denoisers: ``python -m denoisers.train NAME --data DIR --val DIR --out FILE``.

Patches are cut at random from the training images, flipped and rotated,
and given white Gaussian noise with a sigma drawn per patch from the model's
range; Adam minimises the mean squared error under a cosine-decaying
learning rate. Validation PSNR (sigma 15, 25 and 50, fixed noise) is printed
as it goes. Checkpoints hold the model, the optimiser, the step and every
random state, so ``--resume`` continues exactly where a run stopped; CUDA
with bfloat16 mixed precision is used when present, the CPU otherwise.

A run's settings are one :class:`TrainConfig`, whose parameters are checked
against :data:`TRAINING_SPEC` by the library's one parameter check. This
module needs only torch, numpy, Pillow and scikit-image (no Streamlit, no
PyWavelets), so it runs on a bare GPU machine too.

Examples
--------
python -m denoisers.train drunet --data ../shared/data/train400 \\
    --val ../shared/data/set12 --out assets/weights/drunet.pt --minutes 40
python -m denoisers.train drunet ... --resume --minutes 40    # go on
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .core import Bool, Float, Int, InvalidInput, check_params
from .images import load_folder, load_sample, match_colour
from .nets.architectures import build, run_padded, to_tensor


@dataclass(frozen=True)
class Recipe:
    """How one registered network is built and trained."""

    config: dict[str, Any]
    sigma_range: tuple[float, float]  # on the 0-255 scale
    colour: bool = False
    patch: int = 64
    batch: int = 32
    lr: float = 1e-3
    steps: int = 60_000
    loss: str = "mse"
    #: sigma = low + (high - low) * u ** sigma_skew with u uniform: 1 draws sigma uniformly,
    #: larger values spend more of the training on low and middle noise levels.
    sigma_skew: float = 1.0
    #: Greedy training (TNRD): over a run's first ``greedy_steps`` steps the network grows a
    #: stage at a time (``model.grow``), the loss on the last stage's output; 0: no growing.
    greedy_steps: int = 0
    #: Pixels at each side of a training patch left out of the loss: their estimate is made
    #: partly from the padding at the patch's border, which an image's interior never sees.
    margin: int = 0


RECIPES: dict[str, Recipe] = {
    "mlp": Recipe({"arch": "mlp", "patch": 11, "out": 5, "hidden": (192, 192, 192)},
                  (0, 55), patch=40, batch=32, lr=5e-4),
    "dncnn": Recipe({"arch": "dncnn", "depth": 12, "width": 48, "bias": True}, (0, 55),
                    patch=48, batch=32),
    "dncnn_bf": Recipe({"arch": "dncnn", "depth": 12, "width": 48, "bias": False}, (0, 55),
                       patch=48, batch=32),
    "ffdnet": Recipe({"arch": "ffdnet", "channels": 1, "depth": 15, "width": 64}, (0, 100),
                     patch=64, batch=32, sigma_skew=1.5),
    # The grey FFDNet's depth and width (the paper's colour model is 12 x 96), so that it can start
    # from the grey file (`colour_from_grey`); 1.55 steps a second here against 0.99 for 12 x 96.
    "ffdnet_colour": Recipe({"arch": "ffdnet", "channels": 3, "depth": 15, "width": 64},
                            (0, 100), colour=True, patch=64, batch=32, sigma_skew=1.5),
    "drunet": Recipe({"arch": "drunet", "channels": 1, "widths": (48, 96, 192),
                      "blocks": (2, 2, 2)}, (0, 100), patch=96, batch=32, lr=3e-4, loss="l1",
                     sigma_skew=1.5),
    # Chen & Pock's 5 stages of 48 7x7 filters and 63 Gaussians a function (26 645 weights),
    # one model per noise level; the first 1000 steps grow it a stage at a time.
    **{f"tnrd{sigma}": Recipe({"arch": "tnrd", "stages": 5, "filters": 48, "size": 7},
                              (sigma, sigma), patch=64, batch=32, greedy_steps=1000)
       for sigma in (15, 25, 50)},
    # Scetbon, Elad & Milanfar's 8x8 patches and 256 atoms, 7 unrolled ISTA steps and one
    # threshold per atom from a perceptron (43 553 weights), one model per noise level; the
    # thresholds start near sigma on the model's [-1, 1] scale (0.2 at sigma 25).
    **{f"deep_ksvd{sigma}": Recipe({"arch": "deep_ksvd", "patch": 8, "atoms": 256, "steps": 7,
                                    "hidden": (128, 64, 32), "threshold": 0.008 * sigma},
                                   (sigma, sigma), patch=48, batch=8, lr=4e-3)
       for sigma in (15, 25, 50)},
}


def with_batch(recipe: Recipe, batch: int | None) -> Recipe:
    """``recipe`` with another batch size and its learning rate scaled by the square root of the
    ratio (the usual rule for Adam), for the large batches a GPU wants."""
    if batch is None or batch == recipe.batch:
        return recipe
    return replace(recipe, batch=batch, lr=recipe.lr * math.sqrt(batch / recipe.batch))


def with_lr(recipe: Recipe, lr: float | None) -> Recipe:
    """``recipe`` with another peak learning rate, if one is given."""
    return recipe if lr is None else replace(recipe, lr=lr)


VAL_SIGMAS = (15, 25, 50)
#: The fraction of every schedule over which the learning rate rises to its peak. A fresh Adam
#: moves every weight by about the learning rate on its first steps, whatever the gradient's
#: size. Going on from its file at 3e-4, FFDNet fell from 30.13 to 27.36 dB at σ 15 in its first
#: 1400 steps without a warm-up and to 27.87 with it: the rest of the fall is the restart's
#: high learning rate itself, which the run then recovered (30.84 at its end).
WARMUP = 0.03
#: The fraction of its peak the learning rate decays to at the end of a schedule.
LR_FLOOR = 0.01
#: Every this many steps, a run without ``--steps`` refits its schedule to the time left.
_REFIT_EVERY = 20
#: A refitted schedule ends when this fraction of the time left is spent, so that the final
#: validation, checkpoint and export fit in the minutes too.
_REFIT_MARGIN = 0.98
#: Every this many steps the progress line is rewritten (reading the loss waits for a GPU).
_PROGRESS_EVERY = 50
#: A checkpoint is written when this many seconds have passed since the last one.
_CHECKPOINT_EVERY = 120
#: The longest run one command may be asked for, in minutes: a week.
MAX_MINUTES = 7 * 24 * 60
#: More steps than any run takes: the bound of every step count, and the length of a schedule
#: fitted to the minutes until its first refit has measured the speed.
MAX_STEPS = 10**9
#: The most patches a step may be asked for: a bound against nonsense rather than a limit.
MAX_BATCH = 1 << 16
#: The largest training patch side a run may ask for.
MAX_PATCH = 1024
#: The loss functions a recipe may name.
LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}

#: The parameters of a training run (the command's flags of the same names, ``until`` apart);
#: :meth:`TrainConfig.create` checks them with :func:`~denoisers.core.check_params`.
TRAINING_SPEC = (
    Float("minutes", 0, MAX_MINUTES, default=30.0, help="stop after this many minutes"),
    Int("steps", 0, MAX_STEPS, default=0,
        help="length of the learning-rate schedule (0: fitted to the minutes)"),
    Int("until", 0, MAX_STEPS, default=0,
        help="stop at this step (0: when the minutes or the schedule run out)"),
    Bool("resume", default=False, help="continue from the checkpoint"),
    Int("seed", 0, 2**32 - 1, default=0,
        help="seed of the initial weights, the patches and their noise"),
    Int("validate_every", 1, MAX_STEPS, default=2000, help="validate every this many steps"),
    Int("batch", 0, MAX_BATCH, default=0,
        help="patches per step instead of the recipe's (0: the recipe's; the learning rate is "
             "scaled by the square root of the ratio); larger on a GPU"),
    Float("lr", 0, 1, default=0.0,
          help="peak learning rate instead of the recipe's, after --batch scaling (0: the "
               "recipe's): lower for a warm restart of a trained model"),
    Int("patch", 0, MAX_PATCH, default=0,
        help="side of the training patches instead of the recipe's (0: the recipe's): larger "
             "for a network whose reach makes a small patch mostly border"),
    Int("margin", 0, MAX_PATCH, default=0,
        help="pixels at each side of a patch left out of the loss, instead of the recipe's "
             "(0: the recipe's): their estimate leans on the padding at the patch's border"),
)


@dataclass(frozen=True)
class TrainConfig:
    """The settings of one training run, made and checked by :meth:`create`.

    ``recipe`` is the one trained with (``batch`` and ``lr`` applied),
    ``data`` the training folders, ``val`` the validation folder or
    ``skimage``, ``out`` the weights file written, ``checkpoint`` the
    checkpoint and ``init`` the weights file a run with no checkpoint starts
    from; the rest are the parameters of :data:`TRAINING_SPEC`.
    """

    name: str
    recipe: Recipe
    data: tuple[Path, ...]
    val: Path
    out: Path
    checkpoint: Path
    init: Path | None
    minutes: float
    steps: int
    until: int
    resume: bool
    seed: int
    validate_every: int

    @classmethod
    def create(cls, name: str, data: Path | Sequence[Path], val: Path, out: Path, *,
               checkpoint: Path | None = None, recipe: Recipe | None = None,
               init: Path | None = None, **params: Any) -> TrainConfig:
        """The settings of a run of ``name``, its ``params`` checked against
        :data:`TRAINING_SPEC` and their defaults filled in.

        ``checkpoint`` defaults to ``checkpoints/NAME.ckpt``; ``recipe``
        replaces the registered one (tests train tiny models with it), and
        the ``batch`` and ``lr`` parameters are applied to it
        (:func:`with_batch`, :func:`with_lr`). Raises an
        :class:`~denoisers.core.InvalidInput` for an unknown parameter, a
        value out of range or a name with no recipe, and an
        :class:`~denoisers.core.InvalidType` (also a TypeError) for a value
        of the wrong type.

        Parameters
        ----------
        name : str
            The network to train: a key of :data:`RECIPES` (``"dncnn"``,
            ``"ffdnet"``, ...), the name its weights are written under.
        data : Path or sequence of Path
            The folder(s) of clean training images.
        val : Path
            The folder of validation images, or ``"skimage"`` for scikit-image's
            bundled samples.
        out : Path
            The weights file the run writes (:func:`export_weights`).
        checkpoint : Path, optional
            The checkpoint file; ``None`` is ``checkpoints/NAME.ckpt``.
        recipe : Recipe, optional
            A recipe to train with instead of the registered one.
        init : Path, optional
            A weights file a run with no checkpoint starts from (a warm start).
        **params
            The parameters of :data:`TRAINING_SPEC` (``minutes``, ``steps``,
            ``until``, ``resume``, ``seed``, ``validate_every``, ``batch``,
            ``lr``, ``patch``, ``margin``); the rest at their defaults.
        """
        values = check_params(TRAINING_SPEC, params, "train")
        if recipe is None and name not in RECIPES:
            raise InvalidInput(f"there is no recipe {name!r}; the recipes are: "
                               f"{', '.join(sorted(RECIPES))}")
        batch, lr, patch = values.pop("batch"), values.pop("lr"), values.pop("patch")
        margin = values.pop("margin")
        recipe = with_lr(with_batch(recipe or RECIPES[name], batch or None), lr or None)
        recipe = replace(recipe, patch=patch or recipe.patch, margin=margin or recipe.margin)
        if 2 * recipe.margin >= recipe.patch:
            raise InvalidInput(f"a margin of {recipe.margin} leaves nothing of a "
                               f"{recipe.patch}x{recipe.patch} patch to measure the loss on")
        folders = (data,) if isinstance(data, (str, Path)) else tuple(data)
        return cls(name=name, recipe=recipe, data=tuple(Path(f) for f in folders),
                   val=Path(val), out=Path(out),
                   checkpoint=Path(checkpoint or Path("checkpoints") / f"{name}.ckpt"),
                   init=None if init is None else Path(init), **values)


@dataclass
class State:
    """Everything a checkpoint holds besides the model and optimiser."""

    step: int = 0
    start: int = 0  # the step at which the current learning-rate schedule began
    steps: int = 0  # the step at which it ends
    seconds: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)  # one per call: device, steps, time

    @property
    def length(self) -> int:
        """How many steps the current learning-rate schedule spans (at least 1)."""
        return max(1, self.steps - self.start)

    @property
    def progress(self) -> float:
        """How far the current learning-rate schedule has gone: 0 at its start, 1 at its end."""
        return min(1.0, (self.step - self.start) / self.length)


#: ``--val skimage``: validate on scikit-image's bundled samples (no folder needed).
SKIMAGE_VALIDATION = {False: ("camera", "moon", "coins", "text"),
                      True: ("astronaut", "coffee", "chelsea", "rocket")}


def load_validation(val: Path, colour: bool) -> list[np.ndarray]:
    """The validation images, float32 in [0, 1], grey or colour as ``colour`` asks: those of
    the folder ``val`` (:func:`~denoisers.images.load_folder`), or for ``skimage`` the bundled
    samples of :data:`SKIMAGE_VALIDATION`."""
    if str(val) != "skimage":
        return load_folder(val, colour=colour)
    return [match_colour(load_sample(name), colour) for name in SKIMAGE_VALIDATION[colour]]


class PatchSampler:
    """Random augmented training patches with their noise, cut on the training device.

    The images are stacked into one zero-padded tensor on the device (portrait
    ones turned a quarter first, so that the stack is tight; the turn is one
    of the augmentations anyway), and a whole batch is cut with one gather,
    then flipped and transposed at random (the eight symmetries of the
    square) and given white Gaussian noise with a sigma drawn per patch. No
    per-patch Python loop and no copy from the host, so a GPU is not kept
    waiting; its random state is one torch generator, which a checkpoint
    saves.
    """

    def __init__(self, images: list[np.ndarray], recipe: Recipe, device: torch.device,
                 seed: int = 0) -> None:
        size = recipe.patch
        turned = [image if image.shape[0] <= image.shape[1] else np.rot90(image)
                  for image in images]
        too_small = [i for i, image in enumerate(turned) if min(image.shape[:2]) < size]
        if too_small:
            raise InvalidInput(f"{len(too_small)} training images are smaller than the "
                               f"{size}x{size} patches (the first is number {too_small[0]})")
        height = max(image.shape[0] for image in turned)
        width = max(image.shape[1] for image in turned)
        channels = 3 if recipe.colour else 1
        stack = np.zeros((len(turned), height, width, channels), np.float32)
        for i, image in enumerate(turned):
            stack[i, :image.shape[0], :image.shape[1]] = image.reshape(*image.shape[:2], channels)
        self.stack = torch.from_numpy(stack).to(device)
        self.sizes = torch.tensor([image.shape[:2] for image in turned], device=device)
        self.offsets = torch.arange(size, device=device)
        self.recipe, self.device = recipe, device
        self.generator = torch.Generator(device).manual_seed(seed)

    def _uniform(self, *shape: int) -> torch.Tensor:
        return torch.rand(shape, generator=self.generator, device=self.device)

    def __call__(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A batch: clean patches ``(B, C, P, P)``, their noisy versions and each one's sigma."""
        batch, size = self.recipe.batch, self.recipe.patch
        index = torch.randint(len(self.stack), (batch,), generator=self.generator,
                              device=self.device)
        room = self.sizes[index] - size + 1
        top = (self._uniform(batch) * room[:, 0]).long()
        left = (self._uniform(batch) * room[:, 1]).long()
        rows = (top[:, None] + self.offsets)[:, :, None]
        cols = (left[:, None] + self.offsets)[:, None, :]
        clean = self.stack[index[:, None, None], rows, cols].permute(0, 3, 1, 2)
        turn, flip_rows, flip_cols = (self._uniform(3, batch, 1, 1, 1) < 0.5)
        clean = torch.where(turn, clean.transpose(2, 3), clean)
        clean = torch.where(flip_rows, clean.flip(2), clean)
        clean = torch.where(flip_cols, clean.flip(3), clean).contiguous()
        low, high = self.recipe.sigma_range
        sigma = (low + (high - low) * self._uniform(batch) ** self.recipe.sigma_skew) / 255
        noise = torch.randn(clean.shape, generator=self.generator, device=self.device)
        return clean, clean + sigma.view(-1, 1, 1, 1) * noise, sigma


def validation_sigmas(recipe: Recipe) -> tuple[int, ...]:
    """The noise levels a model is validated at: :data:`VAL_SIGMAS`, or the one it is trained
    for."""
    low, high = recipe.sigma_range
    return (round(low),) if low == high else VAL_SIGMAS


@torch.no_grad()
def validate(model: torch.nn.Module, images: list[np.ndarray], device: torch.device,
             sigmas: tuple[int, ...] = VAL_SIGMAS) -> dict[str, float]:
    """Mean PSNR over ``images`` at each of ``sigmas`` (0-255 scale), with fixed noise.

    Parameters
    ----------
    model : torch.nn.Module
        The network being trained (put in eval mode for the measure, then back
        in training mode).
    images : list of ndarray
        The clean validation images, float32 in [0, 1].
    device : torch.device
        Where the model runs.
    sigmas : tuple of int
        The noise levels, on the 0-255 scale (:func:`validation_sigmas`).

    Returns
    -------
    dict of str to float
        ``"psnr15"``, ``"psnr25"``, ...: the mean PSNR in dB at each of
        ``sigmas``.
    """
    model.eval()
    scores = {}
    for sigma255 in sigmas:
        total = 0.0
        for i, image in enumerate(images):
            clean = to_tensor(image).to(device)
            g = torch.Generator().manual_seed(1000 * sigma255 + i)
            noise = torch.randn(clean.shape, generator=g).to(device)
            estimate = run_padded(model, clean + sigma255 / 255 * noise, sigma255 / 255)
            mse = F.mse_loss(estimate.float(), clean).item()
            total += 10 * math.log10(1 / max(mse, 1e-12))
        scores[f"psnr{sigma255}"] = total / len(images)
    model.train()
    return scores


def learning_rate(recipe: Recipe, state: State) -> float:
    """The learning rate at ``state.step``: a linear warm-up over the first :data:`WARMUP` of
    the schedule, then a cosine decay from ``recipe.lr`` to :data:`LR_FLOOR` of it at
    ``state.steps``."""
    warm = min(1.0, (state.step - state.start + 1) / (WARMUP * state.length))
    cosine = 0.5 * (1 + math.cos(math.pi * state.progress))
    return warm * recipe.lr * (LR_FLOOR + (1 - LR_FLOOR) * cosine)


def colour_from_grey(saved: dict[str, Any]) -> dict[str, Any]:
    """A grey FFDNet's weights file made into a colour FFDNet that denoises the luminance.

    The colour network sees the four sub-images of each of R, G and B and
    the noise map. Its first layer is given a third of the grey filters on
    each colour, so that its features are those of the luminance Y = (R + G +
    B) / 3, and the noise map scaled by 1/sqrt(3), the noise left in Y; its
    last layer writes the grey output into every colour. It starts as the
    grey network on the luminance, all of its features already learned, and
    training teaches it the colours (transfer learning: the inner layers are
    kept, the ends are widened).
    """
    config = {**saved["config"], "channels": 3}
    state = dict(saved["state"])
    keys = [k for k, v in state.items() if k.endswith("weight") and v.ndim == 4]
    first, last = keys[0], keys[-1]
    grey = state[first]
    state[first] = torch.cat([grey[:, :4] / 3] * 3 + [grey[:, 4:] / math.sqrt(3)], dim=1)
    state[last] = torch.cat([state[last]] * 3)
    bias = last.removesuffix("weight") + "bias"
    if bias in state:
        state[bias] = torch.cat([state[bias]] * 3)
    return {**saved, "config": config, "state": state}


def save_checkpoint(path: Path, architecture: dict[str, Any], model: torch.nn.Module,
                    optimiser: torch.optim.Optimizer, state: State,
                    sampler: PatchSampler) -> None:
    """Write a checkpoint to ``path`` (through a temporary file, so that a killed run leaves the
    last whole one): the network's config, its weights, the optimiser, the state and every
    random state.

    Parameters
    ----------
    path : Path
        The checkpoint file (its folder is created).
    architecture : dict
        The network's config, ``{"arch": name, **keyword arguments}``
        (:func:`~denoisers.nets.architectures.build`).
    model : torch.nn.Module
        The network being trained.
    optimiser : torch.optim.Optimizer
        Its optimiser.
    state : State
        The step, schedule, seconds and validation history.
    sampler : PatchSampler
        The patch sampler, whose generator's state is saved.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "config": architecture, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
        "state": asdict(state), "sampler": sampler.generator.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "python": random.getstate(),
    }, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)


def restore_checkpoint(saved: dict[str, Any], model: torch.nn.Module,
                       optimiser: torch.optim.Optimizer, sampler: PatchSampler) -> State:
    """Put a loaded checkpoint back: weights, optimiser, every random state; return the state.

    Parameters
    ----------
    saved : dict
        A checkpoint as :func:`save_checkpoint` wrote it, loaded by
        ``torch.load``.
    model : torch.nn.Module
        The network, built from the checkpoint's config; its weights are
        replaced.
    optimiser : torch.optim.Optimizer
        Its optimiser, whose state is replaced.
    sampler : PatchSampler
        The patch sampler, whose generator's state is replaced.
    """
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    sampler.generator.set_state(saved["sampler"])
    torch.set_rng_state(saved["torch"])
    if saved["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda"])
    random.setstate(saved["python"])
    return State(**saved["state"])


def export_weights(path: Path, name: str, architecture: dict[str, Any], model: torch.nn.Module,
                   recipe: Recipe, state: State, hardware: str) -> None:
    """Write the weights the site loads: config, state dict (float32) and the run's record.

    Parameters
    ----------
    path : Path
        The weights file (``assets/weights/NAME.pt`` for the site; its folder
        is created).
    name : str
        The network's name, stored in the file.
    architecture : dict
        The network's config, ``{"arch": name, **keyword arguments}``.
    model : torch.nn.Module
        The trained network; its weights are written as float32.
    recipe : Recipe
        The recipe it was trained with (its ``sigma_range``, 0-255 scale, is
        stored).
    state : State
        The run's state: steps, seconds and the last validation go in the
        record.
    hardware : str
        The device's name for the record.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "name": name, "config": architecture, "sigma_range": recipe.sigma_range,
        "state": {k: v.detach().float().cpu() for k, v in model.state_dict().items()},
        "trained": {"steps": state.step, "seconds": round(state.seconds), "device": hardware,
                    "validation": state.history[-1] if state.history else {},
                    "runs": state.runs},
    }, path)


@dataclass(frozen=True)
class _Run:
    """What one call of :func:`train` works with besides its :class:`State`: the settings, the
    device (``hardware`` is its name for the record), the network and ``architecture``, the
    config it was built from and is saved with, the optimiser, the patch sampler and the
    validation images."""

    config: TrainConfig
    device: torch.device
    hardware: str
    architecture: dict[str, Any]
    model: torch.nn.Module
    optimiser: torch.optim.Optimizer
    sampler: PatchSampler
    val_images: list[np.ndarray]


class _Clock:
    """The wall-clock time of one call of :func:`train`: its budget in seconds, the time since
    it started, and laps, each ending when a checkpoint counts the seconds trained."""

    def __init__(self, minutes: float) -> None:
        self.budget = 60 * minutes
        self.started = self.lapped = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.monotonic() - self.started

    def since_lap(self) -> float:
        """Seconds since the last lap ended (or the start)."""
        return time.monotonic() - self.lapped

    def lap(self) -> float:
        """End a lap: the seconds it took."""
        now = time.monotonic()
        seconds, self.lapped = now - self.lapped, now
        return seconds


def train(config: TrainConfig) -> State:
    """Train ``config.name`` for at most ``config.minutes`` (or up to step ``config.until``);
    return the state.

    ``config.steps`` fixes the length of the learning-rate schedule (and then
    a checkpoint resumes exactly). Without it the schedule is refitted every
    few steps so that it ends when the minutes run out, at the speed
    measured so far; a resumed run without it is a warm restart whose cosine
    decays over its own minutes. ``config.init`` starts a run with no
    checkpoint from a weights file written by an earlier run (a fresh
    optimiser; the step count and the record of runs carry on), so training
    goes on across machines from the committed weights alone.

    The steps: :func:`_load_earlier` reads what the run goes on from,
    :func:`_setup` seeds and builds everything, :func:`_resume` puts the
    earlier run back and plans the schedule; then :func:`_step` repeats
    while steps and minutes last, the schedule refitted to the time left
    (:func:`_refit`), the progress shown, validation recorded
    (:func:`_record`) and checkpoints written (:func:`_checkpoint`) as it
    goes; :func:`_finish` validates, checkpoints and exports the weights.
    """
    checkpoint, weights = _load_earlier(config)
    # Going on from a checkpoint or weights file keeps its architecture, whatever the recipe says.
    run = _setup(config, (checkpoint or weights or {"config": config.recipe.config})["config"])
    state = _resume(run, checkpoint, weights)
    clock, first_step = _Clock(config.minutes), state.step
    while (state.step < min(state.steps, config.until or state.steps)
           and clock.elapsed() < clock.budget):
        loss = _step(run, state)
        if not config.steps and (state.step - first_step) % _REFIT_EVERY == 0:
            _refit(state, clock, first_step)
        if state.step % _PROGRESS_EVERY == 0:
            _progress(config, state, loss.item(), clock)
        if state.step % config.validate_every == 0:
            _record(run, state, clock)
        if clock.since_lap() > _CHECKPOINT_EVERY:
            _checkpoint(run, state, clock)
    _finish(run, state, clock, first_step)
    return state


def _load_earlier(config: TrainConfig) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The checkpoint the run resumes (with ``resume``, where there is one), else the weights
    file it starts from (``init``; a grey FFDNet's made colour for a colour recipe): either
    (checkpoint, None), (None, weights) or (None, None)."""
    if config.resume and config.checkpoint.exists():
        return torch.load(config.checkpoint, map_location="cpu", weights_only=False), None
    if config.init is None:
        return None, None
    weights = torch.load(config.init, map_location="cpu", weights_only=True)
    if config.recipe.colour and weights["config"] == {**config.recipe.config, "channels": 1}:
        weights = colour_from_grey(weights)
    return None, weights


def _setup(config: TrainConfig, architecture: dict[str, Any]) -> _Run:
    """Seed every generator, then build the network of ``architecture`` on the device, its
    optimiser, the patch sampler of the training images, and read the validation images."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    torch.backends.cudnn.benchmark = True
    # Channels-last convolutions: 17 % faster per step on this 2-core CPU (measured), and the
    # layout tensor cores want.
    model = build(architecture).to(device, memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.recipe.lr)
    images = [image for folder in config.data
              for image in load_folder(folder, colour=config.recipe.colour)]
    return _Run(config, device,
                torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                architecture, model, optimiser,
                PatchSampler(images, config.recipe, device, config.seed),
                load_validation(config.val, config.recipe.colour))


def _resume(run: _Run, checkpoint: dict[str, Any] | None,
            weights: dict[str, Any] | None) -> State:
    """Put the earlier run back (the whole checkpoint, or the weights with their record) and plan
    this call's learning-rate schedule (:func:`_plan_schedule`); return the state."""
    config = run.config
    if checkpoint:
        state = restore_checkpoint(checkpoint, run.model, run.optimiser, run.sampler)
        print(f"resumed {config.name} at step {state.step}", file=sys.stderr)
    elif weights:
        run.model.load_state_dict(weights["state"])
        done = weights["trained"]
        state = State(step=done["steps"], start=done["steps"],
                      steps=done["steps"] + config.recipe.steps, seconds=done["seconds"],
                      runs=list(done.get("runs", [])))
        print(f"{config.name} starts from {config.init} (step {state.step})", file=sys.stderr)
    else:
        state = State(steps=config.recipe.steps)
    _plan_schedule(state, config)
    return state


def _plan_schedule(state: State, config: TrainConfig) -> None:
    """Set the schedule this call follows: ``config.steps`` long, or, fitted to the minutes, a
    fresh cosine from the peak whose length is guessed from the speed the state has recorded
    (:data:`MAX_STEPS` where it has none) until the first refit measures it."""
    if config.steps:
        state.steps = config.steps
        return
    state.start = state.step
    measured = state.step and state.seconds
    state.steps = state.step + (int(60 * config.minutes * state.step / state.seconds)
                                if measured else MAX_STEPS)


def _step(run: _Run, state: State) -> torch.Tensor:
    """One Adam step on a fresh batch at the schedule's learning rate, under bfloat16 autocast
    on CUDA; the loss, a tensor (reading it would wait for a GPU)."""
    recipe = run.config.recipe
    for group in run.optimiser.param_groups:
        group["lr"] = learning_rate(recipe, state)
    if recipe.greedy_steps:
        run.model.grow(state.step, recipe.greedy_steps)
    clean, noisy, sigma = run.sampler()
    noisy = noisy.contiguous(memory_format=torch.channels_last)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16,
                        enabled=run.device.type == "cuda"):
        loss = LOSSES[recipe.loss](*inside(recipe.margin, run.model(noisy, sigma).float(), clean))
    run.optimiser.zero_grad(set_to_none=True)
    loss.backward()
    run.optimiser.step()
    state.step += 1
    return loss


def inside(margin: int, *images: torch.Tensor) -> list[torch.Tensor]:
    """``images`` (``(..., H, W)``) without ``margin`` pixels at each side."""
    return [image[..., margin:image.shape[-2] - margin, margin:image.shape[-1] - margin]
            for image in images]


def _refit(state: State, clock: _Clock, first_step: int) -> None:
    """End the schedule when :data:`_REFIT_MARGIN` of the time left is spent, at the speed of
    this call's steps so far."""
    elapsed = clock.elapsed()
    per_step = elapsed / (state.step - first_step)
    state.steps = state.step + max(1, int(_REFIT_MARGIN * (clock.budget - elapsed) / per_step))


def _record(run: _Run, state: State, clock: _Clock) -> None:
    """Validate, add the scores to the state's history and print them with the minutes trained."""
    minutes = clock.elapsed() / 60
    scores = validate(run.model, run.val_images, run.device,
                      validation_sigmas(run.config.recipe))
    state.history.append({"step": state.step, **{k: round(v, 3) for k, v in scores.items()}})
    line = "  ".join(f"σ={k[4:]}: {v:.2f} dB" for k, v in scores.items())
    print(f"\nvalidation at step {state.step} ({minutes:.1f} min): {line}", file=sys.stderr,
          flush=True)


def _checkpoint(run: _Run, state: State, clock: _Clock) -> None:
    """Count the seconds trained since the last checkpoint and write one."""
    state.seconds += clock.lap()
    save_checkpoint(run.config.checkpoint, run.architecture, run.model, run.optimiser, state,
                    run.sampler)


def _finish(run: _Run, state: State, clock: _Clock, first_step: int) -> None:
    """Close the call: record it in the state's runs, validate, write the checkpoint and the
    weights file, and print the last scores as one JSON line."""
    config = run.config
    state.seconds += clock.lap()
    state.runs.append({"device": run.hardware, "steps": state.step - first_step,
                       "minutes": round(clock.elapsed() / 60, 1)})
    _record(run, state, clock)
    save_checkpoint(config.checkpoint, run.architecture, run.model, run.optimiser, state,
                    run.sampler)
    export_weights(config.out, config.name, run.architecture, run.model, config.recipe, state,
                   run.hardware)
    print(json.dumps({"name": config.name, "step": state.step, **state.history[-1]}), flush=True)


#: The width of the progress bar, in characters.
_BAR = 30


def _progress(config: TrainConfig, state: State, loss: float, clock: _Clock) -> None:
    """Rewrite the progress line: a bar of the schedule or the minutes, whichever is further
    on, the step, the loss, the learning rate and the minutes."""
    done = min(1.0, max(state.progress, clock.elapsed() / clock.budget))
    bar = "#" * int(_BAR * done) + "-" * (_BAR - int(_BAR * done))
    print(f"\r{config.name} [{bar}] step {state.step}/{state.steps} loss {loss:.5f} "
          f"lr {learning_rate(config.recipe, state):.2e} {clock.elapsed() / 60:.1f} min", end="",
          file=sys.stderr, flush=True)


_PARAMS = {param.name: param for param in TRAINING_SPEC}


def _flag(parser: argparse.ArgumentParser, name: str, **kwargs: Any) -> None:
    """The command-line flag of the parameter ``name`` of :data:`TRAINING_SPEC`, with its help
    and default from there (the flag's own default is None: not given)."""
    param = _PARAMS[name]
    default = "" if isinstance(param, Bool) else f"; default {param.default}"
    parser.add_argument(f"--{name.replace('_', '-')}", help=param.help + default, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The command line of the training command."""
    parser = argparse.ArgumentParser(prog="python -m denoisers.train",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=sorted([*RECIPES, "epll"]),
                        help="which network, or epll: EPLL's Gaussian mixture patch prior, "
                             "fitted by EM (its own flags: epll --help)")
    parser.add_argument("--data", type=Path, nargs="+", required=True,
                        help="folders of training images (colour ones are read as grey for a "
                             "grey model)")
    parser.add_argument("--val", type=Path, required=True,
                        help="folder of validation images, or 'skimage' for bundled samples")
    parser.add_argument("--out", type=Path, required=True, help="weights file to write (.pt)")
    parser.add_argument("--checkpoint", type=Path, help="default: checkpoints/NAME.ckpt")
    _flag(parser, "minutes", type=float)
    _flag(parser, "steps", type=int)
    _flag(parser, "resume", action="store_true", default=None)
    parser.add_argument("--init", type=Path,
                        help="without a checkpoint, start from these weights (e.g. the committed "
                             "ones; a colour model may start from its grey sibling's)")
    _flag(parser, "seed", type=int)
    _flag(parser, "validate_every", type=int)
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    _flag(parser, "batch", type=int)
    _flag(parser, "lr", type=float)
    _flag(parser, "patch", type=int)
    _flag(parser, "margin", type=int)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the training command; return the exit status (a refused setting or folder is a
    usage error, with the refusal's message)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["epll"]:
        from .gmm import main as fit_mixture
        return fit_mixture(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    given = {name: getattr(args, name) for name in _PARAMS
             if getattr(args, name, None) is not None}
    try:
        train(TrainConfig.create(args.name, args.data, args.val, args.out,
                                 checkpoint=args.checkpoint, init=args.init, **given))
    except InvalidInput as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
