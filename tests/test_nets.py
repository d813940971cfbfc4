"""The trained networks: shipped weights, folding, and the look inside."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

import denoisers
from denoisers import metrics, noise
from denoisers.nets import METHODS, inference
from denoisers.nets.architectures import DnCNN, FFDNet, build, fold_batch_norm

NETS = [m.key for m in METHODS]
SIGMA = 25 / 255


@pytest.fixture(scope="module")
def camera() -> tuple[np.ndarray, np.ndarray]:
    clean = data.camera().astype(np.float32) / 255
    return clean, noise.add_gaussian(clean, SIGMA, seed=0)


@pytest.mark.parametrize("key", NETS)
def test_shipped_weights_beat_the_noisy_camera_by_6_db(key, camera):
    clean, noisy = camera
    gain = metrics.psnr(clean, denoisers.run(key, noisy, SIGMA).image) - metrics.psnr(clean, noisy)
    assert gain > 6.0, f"{key} gains only {gain:.2f} dB"


def test_ffdnet_runs_its_colour_network_only_when_asked():
    clean = data.astronaut()[96:224, 160:288].astype(np.float32) / 255
    noisy = noise.add_gaussian(clean, SIGMA, seed=0)
    by_channel = denoisers.run("ffdnet", noisy, SIGMA)
    network = denoisers.run("ffdnet", noisy, SIGMA, colour_network=True, trace=True)
    assert "opponent" in by_channel.extras["colour"]
    assert "R, G and B together" in network.extras["colour"]
    assert network.stages["predicted noise"].shape == noisy.shape
    for result in (by_channel, network):
        gain = metrics.psnr(clean, result.image) - metrics.psnr(clean, noisy)
        assert gain > 6.0, f"{result.extras['colour']}: {gain:.2f} dB"


@pytest.mark.parametrize("key", NETS)
def test_weights_record_how_they_were_trained(key):
    net = inference.load(key)
    assert net.trained["steps"] > 0 and "psnr25" in net.trained["validation"]


@pytest.mark.parametrize("key", ["dncnn_bf", "drunet"])
def test_the_self_ensemble_beats_a_single_pass(key, camera):
    clean, noisy = (image[128:384, 128:384] for image in camera)
    single = metrics.psnr(clean, denoisers.run(key, noisy, SIGMA).image)
    ensemble = metrics.psnr(clean, denoisers.run(key, noisy, SIGMA, self_ensemble=True).image)
    assert ensemble > single + 0.02, f"{key}: x8 {ensemble:.2f} dB, single pass {single:.2f} dB"


def test_missing_weights_say_how_to_train_them():
    with pytest.raises(ValueError, match=r"python -m denoisers.train nothing"):
        inference.load("nothing")


@pytest.mark.parametrize("model", [
    DnCNN(depth=5, width=8, bias=True), DnCNN(depth=5, width=8, bias=False),
    FFDNet(channels=3, depth=4, width=8)])
def test_folding_batch_norm_keeps_the_function(model):
    torch.manual_seed(0)
    model.train()
    for _ in range(3):  # give the running statistics something to hold
        model(_input(model), torch.full((4,), 0.1))
    model.eval()
    x = _input(model)
    with torch.no_grad():
        before = model(x, torch.full((4,), 0.1))
        after = fold_batch_norm(model)(x, torch.full((4,), 0.1))
    assert torch.allclose(before, after, atol=1e-5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())


def _input(model: torch.nn.Module) -> torch.Tensor:
    channels = 3 if isinstance(model, FFDNet) else 1
    return torch.rand(4, channels, 16, 16)


def test_the_bias_free_network_is_exactly_its_equivalent_kernel(camera):
    _, noisy = camera
    res = denoisers.run("dncnn_bf", noisy, SIGMA, trace=True, probe=(300, 200))
    check = res.extras["kernel check"]
    assert check["exact"]
    assert check["J·y"] == pytest.approx(check["output"], abs=1e-5)
    # the window the kernel is computed on sees the whole receptive field
    assert check["output"] == pytest.approx(float(res.image[300, 200]), abs=1e-5)


def test_the_bias_free_network_is_homogeneous(camera):
    _, noisy = camera
    crop = noisy[100:164, 100:164]
    once = denoisers.run("dncnn_bf", crop, SIGMA).image
    twice = denoisers.run("dncnn_bf", crop * 0.5, SIGMA).image
    assert np.allclose(twice, once * 0.5, atol=1e-5)


def test_receptive_field_of_a_plain_stack_is_twice_its_depth_plus_one(camera):
    _, noisy = camera
    res = denoisers.run("dncnn", noisy, SIGMA, trace=True)
    top, left, height, width = res.extras["receptive field"]
    depth = sum(isinstance(m, torch.nn.Conv2d) for m in inference.load("dncnn").model.modules())
    assert height == width == 2 * depth + 1


@pytest.mark.parametrize("key", NETS)
def test_trace_shows_the_inside(key, camera):
    _, noisy = camera
    res = denoisers.run(key, noisy[:128, :160], SIGMA, trace=True, probe=(60, 70))
    assert np.allclose(res.stages["predicted noise"], noisy[:128, :160] - res.image, atol=1e-6)
    assert set(res.extras["features"]) and all(f.ndim == 3 for f in res.extras["features"].values())
    assert res.extras["filters"].ndim == 3
    assert res.extras["equivalent kernel"].shape == res.extras["window"][2].shape[:2]


def test_sigma_outside_the_training_range_is_clamped_and_said(camera):
    _, noisy = camera
    res = denoisers.run("mlp", noisy[:64, :64], 90 / 255)
    assert "trained for σ in [0, 55]" in res.extras["note"]
    # Clamped, not extrapolated: told 90, the network gives exactly what it gives told 55.
    at_the_edge = denoisers.run("mlp", noisy[:64, :64], 55 / 255)
    np.testing.assert_array_equal(res.image, at_the_edge.image)
    assert "note" not in at_the_edge.extras


def test_a_blind_network_says_when_the_noise_is_outside_its_training(camera):
    _, noisy = camera
    assert "note" not in denoisers.run("dncnn", noisy[:64, :64], 40 / 255).extras
    res = denoisers.run("dncnn", noisy[:64, :64], 90 / 255)
    assert "is blind and was trained for σ in [0, 55]" in res.extras["note"]


def test_every_architecture_builds_from_its_recipe():
    from denoisers.train import RECIPES
    for name, recipe in RECIPES.items():
        model = build(recipe.config)
        sigma = torch.full((1,), 0.1)
        out = model.eval()(torch.rand(1, 3 if recipe.colour else 1, 32, 32), sigma)
        assert out.shape == (1, 3 if recipe.colour else 1, 32, 32), name
