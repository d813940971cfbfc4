"""Train the learned denoisers: ``python -m denoisers.train NAME --data DIR --val DIR --out FILE``.

Patches are cut at random from the training images, flipped and rotated,
and given white Gaussian noise with a sigma drawn per patch from the model's
range; Adam minimises the mean squared error under a cosine-decaying
learning rate. Validation PSNR (sigma 15, 25 and 50, fixed noise) is printed
as it goes. Checkpoints hold the model, the optimiser, the step and every
random state, so ``--resume`` continues exactly where a run stopped; CUDA
with bfloat16 mixed precision is used when present, the CPU otherwise.

This module needs only torch, numpy and Pillow (no Streamlit, no
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
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from .images import IMAGE_SUFFIXES
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
#: Every this many steps, a run without ``--steps`` refits its schedule to the time left.
_REFIT_EVERY = 20


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
    """The validation images: a folder, or ``skimage`` for bundled samples."""
    if str(val) != "skimage":
        return load_folder(val, colour)
    from skimage import color, data

    images = [getattr(data, name)().astype(np.float32) / 255 for name in SKIMAGE_VALIDATION[colour]]
    return [image if colour else (color.rgb2gray(image) if image.ndim == 3 else image)
            for image in images]


def load_folder(folder: Path, colour: bool) -> list[np.ndarray]:
    """Every image of ``folder`` as float32 in [0, 1]: (H, W) grey or (H, W, 3)."""
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"no images in {folder}")
    mode = "RGB" if colour else "L"
    return [np.asarray(Image.open(p).convert(mode), dtype=np.float32) / 255.0 for p in files]


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
            raise SystemExit(f"{len(too_small)} training images are smaller than the "
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


@torch.no_grad()
def validate(model: torch.nn.Module, images: list[np.ndarray], device: torch.device) -> dict[str, float]:
    """Mean PSNR over ``images`` at each validation sigma, with fixed noise."""
    model.eval()
    scores = {}
    for sigma255 in VAL_SIGMAS:
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
    """A linear warm-up over the first :data:`WARMUP` of the schedule, then a cosine decay from
    ``recipe.lr`` to a hundredth of it at ``state.steps``."""
    warm = min(1.0, (state.step - state.start + 1) / (WARMUP * state.length))
    return warm * recipe.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * state.progress)))


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


def save_checkpoint(path: Path, config: dict[str, Any], model, optimiser, state: State,
                    sampler: PatchSampler) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "config": config, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
        "state": asdict(state), "sampler": sampler.generator.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "python": random.getstate(),
    }, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)


def restore_checkpoint(saved: dict[str, Any], model, optimiser, sampler: PatchSampler) -> State:
    """Put a loaded checkpoint back: weights, optimiser, every random state; return the state."""
    model.load_state_dict(saved["model"])
    optimiser.load_state_dict(saved["optimiser"])
    sampler.generator.set_state(saved["sampler"])
    torch.set_rng_state(saved["torch"])
    if saved["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(saved["cuda"])
    random.setstate(saved["python"])
    return State(**saved["state"])


def export_weights(path: Path, name: str, config: dict[str, Any], model, recipe: Recipe,
                   state: State, hardware: str) -> None:
    """Write the weights the site loads: config, state dict (float32) and the run's record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({
        "name": name, "config": config, "sigma_range": recipe.sigma_range,
        "state": {k: v.detach().float().cpu() for k, v in model.state_dict().items()},
        "trained": {"steps": state.step, "seconds": round(state.seconds), "device": hardware,
                    "validation": state.history[-1] if state.history else {},
                    "runs": state.runs},
    }, path)


def train(name: str, data: Path | list[Path], val: Path, out: Path, checkpoint: Path, *,
          minutes: float = 30.0, resume: bool = False, seed: int = 0,
          validate_every: int = 2000, steps: int | None = None, until: int | None = None,
          recipe: Recipe | None = None, init: Path | None = None) -> State:
    """Train ``name`` for at most ``minutes`` (or up to step ``until``); return the state.

    ``steps`` fixes the length of the learning-rate schedule (and then a
    checkpoint resumes exactly). Without it the schedule is refitted every
    few steps so that it ends when ``minutes`` run out, at the speed measured
    so far; a resumed run without it is a warm restart whose cosine decays
    over its own minutes. ``init`` starts a run with no checkpoint from a
    weights file written by an earlier run (a fresh optimiser; the step count
    and the record of runs carry on), so training goes on across machines
    from the committed weights alone. ``recipe`` replaces the registered one
    (tests train tiny models with it).
    """
    recipe = recipe or RECIPES[name]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    hardware = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    torch.manual_seed(seed)
    random.seed(seed)
    torch.backends.cudnn.benchmark = True
    saved = (torch.load(checkpoint, map_location="cpu", weights_only=False)
             if resume and checkpoint.exists() else None)
    start_from = None if saved or init is None else torch.load(init, map_location="cpu",
                                                               weights_only=True)
    if start_from and recipe.colour and start_from["config"] == {**recipe.config, "channels": 1}:
        start_from = colour_from_grey(start_from)
    # Going on from a checkpoint or weights file keeps its architecture, whatever the recipe says.
    config = (saved or start_from or {"config": recipe.config})["config"]
    # Channels-last convolutions: 17 % faster per step on this 2-core CPU (measured), and the
    # layout tensor cores want.
    model = build(config).to(device, memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    folders = data if isinstance(data, list) else [data]
    images = [image for folder in folders for image in load_folder(folder, recipe.colour)]
    sampler = PatchSampler(images, recipe, device, seed)
    state = State(steps=recipe.steps)
    if saved:
        state = restore_checkpoint(saved, model, optimiser, sampler)
        print(f"resumed {name} at step {state.step}", file=sys.stderr)
    elif start_from:
        model.load_state_dict(start_from["state"])
        done = start_from["trained"]
        state = State(step=done["steps"], start=done["steps"], steps=done["steps"] + recipe.steps,
                      seconds=done["seconds"], runs=list(done.get("runs", [])))
        print(f"{name} starts from {init} (step {state.step})", file=sys.stderr)
    fit_schedule, first_step = steps is None, state.step
    state.steps = steps or state.steps
    if fit_schedule:  # a fresh cosine from the peak; until the first refit, its length is
        # guessed from the speed saved with the checkpoint
        state.start = state.step
        state.steps = state.step + (int(60 * minutes * state.step / state.seconds)
                                    if state.step and state.seconds else 10**9)
    val_images = load_validation(val, recipe.colour)
    loss_fn = F.l1_loss if recipe.loss == "l1" else F.mse_loss
    amp = torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    start, last_save = time.monotonic(), time.monotonic()
    budget = minutes * 60
    model.train()
    while state.step < min(state.steps, until or state.steps) and time.monotonic() - start < budget:
        for group in optimiser.param_groups:
            group["lr"] = learning_rate(recipe, state)
        clean, noisy, sigma = sampler()
        noisy = noisy.contiguous(memory_format=torch.channels_last)
        with amp:
            loss = loss_fn(model(noisy, sigma).float(), clean)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        state.step += 1
        if fit_schedule and (state.step - first_step) % _REFIT_EVERY == 0:
            elapsed = time.monotonic() - start
            per_step = elapsed / (state.step - first_step)
            state.steps = state.step + max(1, int(0.98 * (budget - elapsed) / per_step))
        if state.step % 50 == 0:
            _progress(name, state, recipe, loss.item(), time.monotonic() - start, budget)
        if state.step % validate_every == 0:
            _record(state, model, val_images, device, time.monotonic() - start)
        if time.monotonic() - last_save > 120:
            state.seconds += time.monotonic() - last_save
            last_save = time.monotonic()
            save_checkpoint(checkpoint, config, model, optimiser, state, sampler)
    state.seconds += time.monotonic() - last_save
    state.runs.append({"device": hardware, "steps": state.step - first_step,
                       "minutes": round((time.monotonic() - start) / 60, 1)})
    _record(state, model, val_images, device, time.monotonic() - start)
    save_checkpoint(checkpoint, config, model, optimiser, state, sampler)
    export_weights(out, name, config, model, recipe, state, hardware)
    print(json.dumps({"name": name, "step": state.step, **state.history[-1]}), flush=True)
    return state


def _record(state: State, model, val_images, device, elapsed: float) -> None:
    scores = validate(model, val_images, device)
    state.history.append({"step": state.step, **{k: round(v, 3) for k, v in scores.items()}})
    line = "  ".join(f"σ={k[4:]}: {v:.2f} dB" for k, v in scores.items())
    print(f"\nvalidation at step {state.step} ({elapsed / 60:.1f} min): {line}", file=sys.stderr,
          flush=True)


def _progress(name: str, state: State, recipe: Recipe, loss: float, elapsed: float,
              budget: float) -> None:
    done = min(1.0, max(state.progress, elapsed / budget))
    bar = "#" * int(30 * done) + "-" * (30 - int(30 * done))
    print(f"\r{name} [{bar}] step {state.step}/{state.steps} loss {loss:.5f} "
          f"lr {learning_rate(recipe, state):.2e} {elapsed / 60:.1f} min", end="",
          file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m denoisers.train", description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=sorted(RECIPES), help="which network")
    parser.add_argument("--data", type=Path, nargs="+", required=True,
                        help="folders of training images (colour ones are read as grey for a "
                             "grey model)")
    parser.add_argument("--val", type=Path, required=True,
                        help="folder of validation images, or 'skimage' for bundled samples")
    parser.add_argument("--out", type=Path, required=True, help="weights file to write (.pt)")
    parser.add_argument("--checkpoint", type=Path, help="default: checkpoints/NAME.ckpt")
    parser.add_argument("--minutes", type=float, default=30.0, help="stop after this long")
    parser.add_argument("--steps", type=int, help="length of the learning-rate schedule")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument("--init", type=Path,
                        help="without a checkpoint, start from these weights (e.g. the committed "
                             "ones; a colour model may start from its grey sibling's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validate-every", type=int, default=2000)
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    parser.add_argument("--batch", type=int,
                        help="patches per step instead of the recipe's (the learning rate is "
                             "scaled by the square root of the ratio); larger on a GPU")
    parser.add_argument("--lr", type=float,
                        help="peak learning rate instead of the recipe's (after --batch scaling): "
                             "lower for a warm restart of a trained model")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    checkpoint = args.checkpoint or Path("checkpoints") / f"{args.name}.ckpt"
    train(args.name, args.data, args.val, args.out, checkpoint, minutes=args.minutes,
          resume=args.resume, seed=args.seed, validate_every=args.validate_every, steps=args.steps,
          init=args.init, recipe=with_lr(with_batch(RECIPES[args.name], args.batch), args.lr))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
