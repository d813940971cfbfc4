"""The trained networks: shipped weights, folding, and the look inside."""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data

import denoisers
from denoisers import metrics, noise
from denoisers.nets import METHODS, inference
from denoisers.nets.architectures import DnCNN, DRUNet, FFDNet, ResBlock, build, fold_batch_norm

NETS = [m.key for m in METHODS]
SIGMA = 25 / 255
#: The quality benchmark of the shipped networks on Set12, run apart from their training.
NETWORKS_BENCHMARK = (Path(__file__).resolve().parent.parent
                      / "assets" / "benchmarks" / "networks" / "quality_set12.csv")


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
def test_the_validation_the_weights_record_is_what_the_benchmark_measured(key):
    """The shipped weights are the ones benchmarked: the mean PSNR on Set12 their training
    recorded (its own noise, through the training code) is the quality benchmark's (other
    noise, through ``denoisers.run``) within 0.1 dB; measured, the two differ by 0.05 dB at
    most, and any two networks by more than 0.1 dB at some sigma."""
    with NETWORKS_BENCHMARK.open(newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["method"] == key]
    recorded = inference.load(key).trained["validation"]
    for sigma in (15, 25, 50):
        benchmark = statistics.fmean(float(r["psnr"]) for r in rows if float(r["sigma"]) == sigma)
        assert recorded[f"psnr{sigma}"] == pytest.approx(benchmark, abs=0.1), (key, sigma)


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


@pytest.mark.parametrize("key", NETS)
def test_the_equivalent_kernel_gives_the_pixel_exactly_where_it_says_so(key, camera):
    """The kernel applied to the window, summed here, against the network's output at the
    pixel when it is run on that window: equal (measured 1e-7 apart) for the bias-free blind
    network, which says so, and 2.8e-3 apart or more for every other network, which says it
    is not exact. The bias-free network's window holds its whole receptive field, so its
    kernel gives the pixel of the denoised image itself."""
    noisy = camera[1][:128, :160]
    probe = (60, 70)
    res = denoisers.run(key, noisy, SIGMA, trace=True, probe=probe)
    top, left, window = res.extras["window"]
    local = (probe[0] - top, probe[1] - left)
    assert window[local] == noisy[probe]
    applied = float(np.sum(res.extras["equivalent kernel"] * window))
    output = float(denoisers.run(key, window, SIGMA).image[local])
    check = res.extras["kernel check"]
    assert check["J·y"] == pytest.approx(applied, abs=1e-5)
    assert check["output"] == pytest.approx(output, abs=1e-5)
    if check["exact"]:
        assert applied == pytest.approx(output, abs=1e-5)
        assert applied == pytest.approx(float(res.image[probe]), abs=1e-5)
    else:
        assert abs(applied - output) > 1e-4


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
    """The predicted noise is the noise that was added: correlated with it above 0.95 and of
    its level within -15 % and +5 % (measured: 0.964 to 0.998, and 0.90 to 0.99 sigma)."""
    clean, noisy = (image[:128, :160] for image in camera)
    res = denoisers.run(key, noisy, SIGMA, trace=True, probe=(60, 70))
    predicted, added = res.stages["predicted noise"], noisy - clean
    assert np.corrcoef(predicted.ravel(), added.ravel())[0, 1] > 0.95
    assert 0.85 * SIGMA < np.sqrt(np.mean(predicted ** 2)) < 1.05 * SIGMA
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


@pytest.mark.parametrize("sigma255", [2, 6])
def test_a_network_says_it_is_worse_than_faint_noise_only_where_it_is(sigma255, camera):
    """Below sigma 5 some networks say they return an image worse than the noisy input; on
    the camera man they are (measured: by 1.4 to 5.9 dB at sigma 2), while at sigma 6 the
    same networks beat their input by 1.4 dB or more, and must not say it. The perceptron,
    worse than its input up to sigma 12, says so at both."""
    clean = camera[0][128:384, 128:384]
    noisy = noise.add_gaussian(clean, sigma255 / 255, seed=0)
    worse = []
    for key in NETS:
        res = denoisers.run(key, noisy, sigma255 / 255)
        gain = metrics.psnr(clean, res.image) - metrics.psnr(clean, noisy)
        if "worse than the noisy input" in res.extras.get("note", ""):
            assert gain < 0, f"{key} says it is worse than its input but gains {gain:.2f} dB"
            worse.append(key)
        else:  # and one that loses a decibel or more says so (the perceptron did not)
            assert gain > -1, f"{key} loses {-gain:.2f} dB against its input and says nothing"
    if sigma255 < 5:
        assert worse, "no network says it is worse than noise this faint"


def test_every_architecture_builds_from_its_recipe():
    from denoisers.train import RECIPES
    for name, recipe in RECIPES.items():
        model = build(recipe.config)
        sigma = torch.full((1,), 0.1)
        out = model.eval()(torch.rand(1, 3 if recipe.colour else 1, 32, 32), sigma)
        assert out.shape == (1, 3 if recipe.colour else 1, 32, 32), name


def test_a_residual_block_sums_in_place_what_the_plain_sum_gives():
    """ResBlock's in-place ReLU and sum give x + b(relu(a(x))) bit for bit, x untouched."""
    torch.manual_seed(0)
    block = ResBlock(8, bias=False)
    x = torch.rand(2, 8, 16, 16)
    kept = x.clone()
    with torch.inference_mode():
        out = block(x)
        plain = x + block.b(torch.relu(block.a(x)))
    assert torch.equal(out, plain) and torch.equal(x, kept)


def test_drunet_trains_through_its_in_place_sums():
    """Autograd accepts the in-place ReLU and sums (training backpropagates through them),
    and the forward pass with gradients gives what inference gives, the input untouched."""
    torch.manual_seed(0)
    model = DRUNet(widths=(8, 16, 32), blocks=(1, 1, 1))
    x, sigma = torch.rand(2, 1, 32, 32), torch.full((2,), 0.1)
    kept = x.clone()
    with torch.inference_mode():
        inferred = model(x, sigma)
    out = model(x, sigma)
    out.square().mean().backward()
    assert torch.equal(out.detach(), inferred) and torch.equal(x, kept)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
