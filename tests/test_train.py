"""The training command: it learns, and a checkpoint resumes to the same state."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage, stats
from torch.nn import functional as F

from denoisers import train
from denoisers.core import InvalidInput, InvalidType
from denoisers.images import load_folder
from denoisers.nets.architectures import build

TINY = train.Recipe({"arch": "dncnn", "depth": 4, "width": 8, "bias": True}, (10, 40),
                    patch=24, batch=8, lr=3e-3, steps=60)


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path]:
    """Generated smooth images with edges: a training and a validation folder."""
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("images")
    for name, count in (("train", 6), ("val", 2)):
        (root / name).mkdir()
        for i in range(count):
            field = ndimage.gaussian_filter(rng.random((64, 64)), 4)
            image = (field > field.mean()) * 0.5 + 0.3 * (field - field.min()) / np.ptp(field)
            Image.fromarray((image * 255).astype(np.uint8)).save(root / name / f"{i}.png")
    return root / "train", root / "val"


def _config(data, val, out: Path, checkpoint: Path, **kwargs) -> train.TrainConfig:
    """The settings of a tiny run: :data:`TINY`, five minutes, no validation on the way."""
    return train.TrainConfig.create("tiny", data, val, out, checkpoint=checkpoint,
                                    **{"recipe": TINY, "validate_every": 1000, "minutes": 5,
                                       **kwargs})


def _train(data, val, out: Path, checkpoint: Path, **kwargs) -> train.State:
    return train.train(_config(data, val, out, checkpoint, **kwargs))


def _run(folders, tmp_path, **kwargs) -> train.State:
    return _train(folders[0], folders[1], tmp_path / "tiny.pt", tmp_path / "tiny.ckpt", **kwargs)


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)["state"]


def test_training_raises_validation_psnr(folders, tmp_path):
    torch.manual_seed(0)
    untrained = build(TINY.config)
    before = train.validate(untrained, load_folder(folders[1], colour=False), torch.device("cpu"))
    state = _run(folders, tmp_path, steps=60)
    after = state.history[-1]
    assert state.step == 60
    for sigma in train.VAL_SIGMAS:
        assert after[f"psnr{sigma}"] > before[f"psnr{sigma}"] + 1.0, (sigma, before, after)


def test_a_checkpoint_resumes_to_the_same_state(folders, tmp_path):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    _run(folders, whole, steps=12)
    first = _run(folders, halves, steps=12, until=6)
    assert first.step == 6
    second = _run(folders, halves, steps=12, resume=True)
    assert second.step == 12
    a, b = _weights(whole / "tiny.pt"), _weights(halves / "tiny.pt")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("margin", [0, 5])
def test_the_loss_leaves_out_the_patch_margin(folders, tmp_path, margin):
    """The step's loss is the error inside the margin, measured again on the same batch."""
    recipe = dataclasses.replace(TINY, margin=margin)
    config = _config(*folders, tmp_path / "tiny.pt", tmp_path / "tiny.ckpt", recipe=recipe)
    stepped, again = train._setup(config, recipe.config), train._setup(config, recipe.config)
    loss = train._step(stepped, train.State(steps=60))
    clean, noisy, sigma = again.sampler()
    estimate = again.model(noisy.contiguous(memory_format=torch.channels_last), sigma)
    inner = train.inside(margin, estimate, clean)
    assert inner[0].shape[-2:] == (24 - 2 * margin,) * 2
    assert loss.item() == pytest.approx(F.mse_loss(*inner).item(), rel=1e-5)
    if margin:
        assert loss.item() != pytest.approx(F.mse_loss(estimate, clean).item(), rel=1e-3)


def test_the_schedule_warms_up_then_decays_to_a_hundredth():
    rates = [train.learning_rate(TINY, train.State(step=step, steps=1000)) for step in range(1001)]
    peak = round(train.WARMUP * 1000) - 1
    assert rates[0] < TINY.lr / 10
    assert all(a < b for a, b in zip(rates[:peak], rates[1:peak + 1]))
    assert max(rates) == pytest.approx(TINY.lr, rel=1e-2) == rates[peak]
    assert all(a >= b for a, b in zip(rates[peak:], rates[peak + 1:]))
    assert rates[-1] == pytest.approx(TINY.lr / 100)


@pytest.mark.parametrize("fixed", [True, False])
def test_going_on_from_weights_starts_a_fresh_schedule(folders, tmp_path, monkeypatch, fixed):
    _run(folders, tmp_path / "a", steps=40)
    rates = []
    original = train.learning_rate
    monkeypatch.setattr(train, "learning_rate",
                        lambda recipe, state: rates.append(original(recipe, state)) or rates[-1])
    _train(folders[0], folders[1], tmp_path / "b" / "tiny.pt", tmp_path / "b" / "x.ckpt",
           init=tmp_path / "a" / "tiny.pt", until=44, steps=1040 if fixed else 0)
    # A fresh schedule begins with its warm-up; one carried on from step 40 would be near half
    # its peak and falling.
    assert rates[0] < TINY.lr / 10
    assert all(a < b for a, b in zip(rates, rates[1:]))


def test_a_larger_batch_scales_the_learning_rate_by_the_square_root():
    recipe = train.RECIPES["drunet"]
    bigger = train.with_batch(recipe, 4 * recipe.batch)
    assert bigger.batch == 4 * recipe.batch and bigger.lr == pytest.approx(2 * recipe.lr)
    assert train.with_batch(recipe, None) is recipe


def _sampler(folders, recipe: train.Recipe, seed: int = 0) -> train.PatchSampler:
    images = load_folder(folders[0], colour=False)
    return train.PatchSampler(images, recipe, torch.device("cpu"), seed)


def test_sigma_skew_spends_more_patches_on_low_noise(folders):
    uniform = dataclasses.replace(TINY, batch=2000)
    skewed = dataclasses.replace(uniform, sigma_skew=2.0)
    middle = sum(TINY.sigma_range) / 2 / 255

    def share_below_middle(recipe: train.Recipe) -> float:
        sigma = _sampler(folders, recipe)()[2]
        return (sigma < middle).float().mean().item()

    low_uniform, low_skewed = share_below_middle(uniform), share_below_middle(skewed)
    assert 0.45 < low_uniform < 0.55 and 0.66 < low_skewed < 0.75  # P(u^2 < 1/2) = 0.707


def _symmetries(patch: np.ndarray) -> list[np.ndarray]:
    turns = [np.rot90(patch, k) for k in range(4)]
    return turns + [turn[:, ::-1] for turn in turns]


def test_patches_are_augmented_crops(folders):
    images = load_folder(folders[0], colour=False)
    clean = _sampler(folders, dataclasses.replace(TINY, batch=64), seed=1)()[0]
    assert clean.shape == (64, 1, TINY.patch, TINY.patch)
    windows = [np.lib.stride_tricks.sliding_window_view(image, (TINY.patch, TINY.patch))
               for image in images]
    found = set()
    for patch in clean[:, 0].numpy():
        symmetry = next((k for k, view in enumerate(_symmetries(patch)) for crops in windows
                         if (crops == view).all(axis=(2, 3)).any()), None)
        assert symmetry is not None, "a patch is no symmetry of any crop of the training images"
        found.add(symmetry)
    assert len(found) == 8  # every symmetry of the square turns up


def test_the_noise_is_white_gaussian_of_each_patch_sigma(folders):
    clean, noisy, sigma = _sampler(folders, dataclasses.replace(TINY, batch=64), seed=1)()
    assert ((sigma >= 10 / 255) & (sigma <= 40 / 255)).all()
    assert noisy.min() < 0 or noisy.max() > 1  # not clipped
    # Divided by its patch's sigma, the noise must be standard normal, pixel by pixel
    # independent: a sigma of another patch, a 0-255 scale or coloured noise would fail.
    unit = ((noisy - clean) / sigma.view(-1, 1, 1, 1)).squeeze(1).double().numpy()
    assert stats.kstest(unit.ravel(), "norm").pvalue > 1e-3
    assert np.all(np.abs(unit.std(axis=(1, 2)) - 1) < 0.15)
    for axis in (1, 2):
        first, second = np.swapaxes(unit, axis, 2)[..., :-1], np.swapaxes(unit, axis, 2)[..., 1:]
        assert abs(np.corrcoef(first.ravel(), second.ravel())[0, 1]) < 0.03


def test_portrait_images_are_sampled_too(tmp_path):
    (tmp_path / "train").mkdir()
    Image.fromarray(np.full((80, 30), 200, np.uint8)).save(tmp_path / "train" / "tall.png")
    Image.fromarray(np.full((30, 40), 50, np.uint8)).save(tmp_path / "train" / "wide.png")
    clean = _sampler((tmp_path / "train",), dataclasses.replace(TINY, batch=400))()[0]
    means = clean.flatten(1).mean(dim=1)
    tall = torch.isclose(means, torch.tensor(200 / 255))
    wide = torch.isclose(means, torch.tensor(50 / 255))
    assert tall.any() and wide.any() and (tall | wide).all()


def test_images_smaller_than_a_patch_are_refused(tmp_path):
    (tmp_path / "train").mkdir()
    Image.fromarray(np.zeros((20, 90), np.uint8)).save(tmp_path / "train" / "thin.png")
    with pytest.raises(InvalidInput, match="smaller than the 24x24 patches"):
        _sampler((tmp_path / "train",), TINY)


def test_a_run_can_start_from_committed_weights(folders, tmp_path):
    first = _run(folders, tmp_path / "a", steps=6)
    weights = tmp_path / "a" / "tiny.pt"
    second = _train(folders[0], folders[1], tmp_path / "b" / "tiny.pt",
                    tmp_path / "b" / "tiny.ckpt", steps=12, init=weights)
    assert second.step == 12 and len(second.runs) == 2
    assert second.runs[0] == first.runs[0]
    assert not torch.equal(_weights(weights)["body.0.weight"],
                           _weights(tmp_path / "b" / "tiny.pt")["body.0.weight"])


def test_starting_from_weights_loads_them(folders, tmp_path):
    _run(folders, tmp_path / "a", steps=6)
    weights = tmp_path / "a" / "tiny.pt"
    _train(folders[0], folders[1], tmp_path / "b" / "tiny.pt", tmp_path / "b" / "x.ckpt",
           steps=12, until=6, init=weights)
    a, b = _weights(weights), _weights(tmp_path / "b" / "tiny.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_going_on_from_weights_keeps_their_architecture(folders, tmp_path):
    _run(folders, tmp_path / "a", steps=6)
    wider = dataclasses.replace(TINY, config={**TINY.config, "width": 12})
    _train(folders[0], folders[1], tmp_path / "b" / "tiny.pt", tmp_path / "b" / "x.ckpt",
           recipe=wider, steps=8, init=tmp_path / "a" / "tiny.pt")
    assert torch.load(tmp_path / "b" / "tiny.pt", weights_only=True)["config"] == TINY.config


def test_the_command_trains_on_every_folder_it_is_given(folders, tmp_path, monkeypatch):
    seen = []
    original = train.PatchSampler.__init__

    def recording(self, images, *args, **kwargs):
        seen.append(len(images))
        original(self, images, *args, **kwargs)

    monkeypatch.setattr(train.PatchSampler, "__init__", recording)
    out = tmp_path / "dncnn.pt"
    assert train.main(["dncnn", "--data", str(folders[0]), str(folders[1]),
                       "--val", str(folders[1]), "--out", str(out),
                       "--checkpoint", str(tmp_path / "x.ckpt"), "--steps", "2",
                       "--batch", "4"]) == 0
    assert seen == [6 + 2]
    assert torch.load(out, weights_only=True)["trained"]["runs"][-1]["steps"] == 2


def test_the_command_can_lower_the_peak_learning_rate(monkeypatch, tmp_path):
    configs = []
    monkeypatch.setattr(train, "train", configs.append)
    common = ["--data", "d", "--val", "v", "--out", str(tmp_path / "x.pt")]
    train.main(["dncnn", *common, "--lr", "2e-4"])
    train.main(["dncnn", *common, "--batch", "128", "--lr", "2e-4"])
    train.main(["dncnn", *common, "--batch", "128"])
    assert [c.recipe.lr for c in configs] == pytest.approx([2e-4, 2e-4, 2e-3])  # 1e-3 x √4
    assert [c.recipe.batch for c in configs] == [32, 128, 128]


def test_the_command_fills_in_the_documented_defaults(monkeypatch, tmp_path):
    configs = []
    monkeypatch.setattr(train, "train", configs.append)
    train.main(["drunet", "--data", "d", "e", "--val", "skimage", "--out", "x.pt"])
    (config,) = configs
    assert (config.minutes, config.steps, config.until, config.resume, config.seed,
            config.validate_every) == (30.0, 0, 0, False, 0, 2000)
    assert config.data == (Path("d"), Path("e")) and config.val == Path("skimage")
    assert config.checkpoint == Path("checkpoints/drunet.ckpt") and config.init is None
    assert (config.recipe.batch, config.recipe.lr, config.recipe.patch) == (32, 3e-4, 96)


def test_the_command_takes_another_patch_side(monkeypatch, tmp_path):
    configs = []
    monkeypatch.setattr(train, "train", configs.append)
    train.main(["tnrd25", "--data", "d", "--val", "v", "--out", "x.pt", "--patch", "96"])
    (config,) = configs
    assert config.recipe == dataclasses.replace(train.RECIPES["tnrd25"], patch=96)


def test_the_command_takes_a_margin_that_leaves_some_of_the_patch(monkeypatch, tmp_path):
    configs = []
    monkeypatch.setattr(train, "train", configs.append)
    command = ["tnrd25", "--data", "d", "--val", "v", "--out", "x.pt", "--patch", "80"]
    train.main([*command, "--margin", "8"])
    (config,) = configs
    assert config.recipe == dataclasses.replace(train.RECIPES["tnrd25"], patch=80, margin=8)
    with pytest.raises(InvalidInput, match="a margin of 40 leaves nothing of a 80x80 patch"):
        _config(tmp_path, tmp_path, tmp_path / "x.pt", tmp_path / "x.ckpt", patch=80, margin=40)
    assert _config(tmp_path, tmp_path, tmp_path / "x.pt", tmp_path / "x.ckpt",
                   margin=11).recipe.margin == 11


@pytest.mark.parametrize("name, value, accepted", [
    ("minutes", -1.0, "a float in [0, 10080]"),
    ("minutes", float("nan"), "a float in [0, 10080]"),
    ("steps", -5, "an int in [0, 1000000000]"),
    ("until", -1, "an int in [0, 1000000000]"),
    ("validate_every", 0, "an int in [1, 1000000000]"),
    ("seed", -1, "an int in [0, 4294967295]"),
    ("batch", 70_000, "an int in [0, 65536]"),
    ("lr", 2.0, "a float in [0, 1]"),
    ("patch", 2000, "an int in [0, 1024]"),
])
def test_the_config_refuses_a_value_out_of_range(tmp_path, name, value, accepted):
    message = f"the {name!r} parameter of train must be {accepted}; got {value!r}"
    with pytest.raises(InvalidInput, match=re.escape(message)) as info:
        _config("d", "v", tmp_path / "x.pt", tmp_path / "x.ckpt", **{name: value})
    assert not isinstance(info.value, TypeError)


@pytest.mark.parametrize("name, value", [("minutes", "30"), ("steps", 2.5), ("steps", None),
                                         ("resume", 1), ("seed", True), ("lr", "1e-3")])
def test_the_config_refuses_a_value_of_another_type(tmp_path, name, value):
    with pytest.raises(TypeError, match=f"the {name!r} parameter of train must be .*; "
                                        f"got {re.escape(repr(value))}") as info:
        _config("d", "v", tmp_path / "x.pt", tmp_path / "x.ckpt", **{name: value})
    assert isinstance(info.value, InvalidType)


def test_the_config_refuses_an_unknown_parameter_and_an_unknown_network(tmp_path):
    refusal = (r"train has no parameter 'epochs'; its parameters are: batch, lr, margin, "
               r"minutes, patch, resume, seed, steps")
    with pytest.raises(InvalidInput, match=refusal):
        _config("d", "v", tmp_path / "x.pt", tmp_path / "x.ckpt", epochs=3)
    with pytest.raises(InvalidInput, match=r"there is no recipe 'unet'; the recipes are: "
                                           r"deep_ksvd15, deep_ksvd25, deep_ksvd50, dncnn"):
        train.TrainConfig.create("unet", "d", "v", tmp_path / "x.pt")


def test_the_command_answers_a_refusal_with_its_message(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    common = ["dncnn", "--val", "skimage", "--out", str(tmp_path / "x.pt")]
    with pytest.raises(SystemExit) as info:
        train.main([*common, "--data", str(tmp_path), "--minutes", "-1"])
    assert info.value.code == 2
    assert "the 'minutes' parameter of train must be a float in [0, 10080]; got -1.0" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        train.main([*common, "--data", str(tmp_path / "empty"), "--steps", "1"])
    assert info.value.code == 2
    assert f"no images in {tmp_path / 'empty'}" in capsys.readouterr().err


TINY_FFDNET = train.Recipe({"arch": "ffdnet", "channels": 1, "depth": 4, "width": 8}, (0, 60),
                           patch=24, batch=8, lr=3e-3)


def test_a_colour_ffdnet_from_grey_weights_denoises_the_luminance():
    torch.manual_seed(0)
    grey = build(TINY_FFDNET.config).eval()
    colour_file = train.colour_from_grey({"config": TINY_FFDNET.config,
                                          "state": grey.state_dict()})
    colour = build(colour_file["config"]).eval()
    colour.load_state_dict(colour_file["state"])
    noisy, sigma = torch.rand(2, 3, 16, 16), torch.tensor([0.1, 0.3])
    with torch.no_grad():
        out = colour(noisy, sigma)
        expected = grey(noisy.mean(1, keepdim=True), sigma / 3 ** 0.5)
    assert out.shape == noisy.shape
    for channel in range(3):
        torch.testing.assert_close(out[:, channel:channel + 1], expected)


def test_a_colour_run_can_start_from_its_grey_sibling(tmp_path):
    rng = np.random.default_rng(1)
    (tmp_path / "rgb").mkdir()
    for i in range(3):
        field = ndimage.gaussian_filter(rng.random((48, 48, 3)), (4, 4, 0))
        Image.fromarray((255 * (field - field.min()) / np.ptp(field)).astype(np.uint8)).save(
            tmp_path / "rgb" / f"{i}.png")
    grey, colour = tmp_path / "grey.pt", tmp_path / "colour.pt"
    _train([tmp_path / "rgb"], tmp_path / "rgb", grey, tmp_path / "g.ckpt",
           recipe=TINY_FFDNET, steps=4)
    as_colour = dataclasses.replace(TINY_FFDNET, colour=True,
                                    config={**TINY_FFDNET.config, "channels": 3})
    _train([tmp_path / "rgb"], tmp_path / "rgb", colour, tmp_path / "c.ckpt",
           recipe=as_colour, steps=8, init=grey)
    saved = torch.load(colour, weights_only=True)
    assert saved["config"]["channels"] == 3 and saved["trained"]["steps"] == 8
    inner = "body.2.weight"  # a middle convolution: learned in the grey run, trained on
    assert saved["state"][inner].shape == _weights(grey)[inner].shape
    assert not torch.equal(saved["state"][inner], _weights(grey)[inner])


def test_the_training_command_imports_with_only_torch_numpy_scipy_skimage_and_pillow():
    """A lent GPU machine has no PyWavelets, Streamlit, Playwright or the bm3d package:
    ``python -m denoisers.train`` must import and answer --help there."""
    import subprocess
    import sys

    blocked = ("pywt", "streamlit", "playwright", "bm3d", "plotly", "pandas", "sklearn")
    code = ("import sys\n"
            f"for name in {blocked!r}:\n"
            "    sys.modules[name] = None  # an import of any of them now fails\n"
            "import runpy\n"
            "sys.argv = ['denoisers.train', '--help']\n"
            "runpy.run_module('denoisers.train', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "usage" in done.stdout.lower()
