"""Deep K-SVD's parts against their formulas: the soft threshold, the unrolled ISTA steps, the
weighted patch average, and inference in chunks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data
from torch.nn import functional as F

from denoisers import metrics
from denoisers.ksvd import overcomplete_dct
from denoisers.nets import deep_ksvd


def _model(**kwargs) -> deep_ksvd.DeepKSVD:
    torch.manual_seed(0)
    return deep_ksvd.DeepKSVD(**{"patch": 4, "atoms": 16, "steps": 3, "hidden": (8,),
                                 **kwargs})


def test_the_soft_threshold_is_the_l1_proximal_map():
    x = torch.linspace(-2, 2, 41, dtype=torch.float64)
    t = torch.full_like(x, 0.5)
    grid = torch.linspace(-3, 3, 60001, dtype=torch.float64)
    brute = grid[torch.argmin(0.5 * (grid[None] - x[:, None]) ** 2
                              + 0.5 * grid[None].abs(), dim=1)]
    torch.testing.assert_close(deep_ksvd.soft_threshold(x, t), brute, atol=1e-4, rtol=0)


def test_the_dictionary_starts_as_k_svd_s_overcomplete_dct_made_a_parseval_frame():
    model = _model(patch=8, atoms=256, steps=1)
    dct = overcomplete_dct(8, 256).reshape(256, 64).T
    values, vectors = np.linalg.eigh(dct @ dct.T)
    expected = vectors @ np.diag(values ** -0.5) @ vectors.T @ dct
    d = model.dictionary.detach().double().numpy()
    np.testing.assert_allclose(d, expected, atol=1e-6)
    np.testing.assert_allclose(d @ d.T, np.eye(64), atol=1e-6)
    # the constant atom stays constant (the DCT's other atoms are orthogonal to it)
    np.testing.assert_allclose(d[:, 0], np.full(64, 1 / 8), atol=1e-6)
    # ISTA's step starts safe and whole: c is the largest eigenvalue of D^T D, 1
    assert model.log_c.exp().item() == pytest.approx(1, rel=1e-5)


@pytest.mark.parametrize("per_patch", [False, True])
def test_every_threshold_starts_near_the_one_asked_for(per_patch):
    model = _model(patch=8, atoms=256, hidden=(128, 64, 32), threshold=0.3, per_patch=per_patch)
    with torch.no_grad():
        thresholds = model.thresholds(torch.rand(500, 64) * 2 - 1)
    assert thresholds.shape == (500, 1 if per_patch else 256)
    assert 0.27 < float(thresholds.min()) and float(thresholds.max()) < 0.33


def test_the_untrained_model_already_denoises():
    """From the Parseval start seven ISTA steps already code a patch: untrained, with every
    threshold near the noise's sigma (0.2 on [-1, 1]), the model removes noise. From the DCT
    as it is (c = 14) the same model gave 17-18 dB on Set12 at sigma 25, below the noisy 20."""
    model = _model(patch=8, atoms=256, steps=7, hidden=(128, 64, 32), threshold=0.2)
    clean = data.camera()[200:296, 200:296].astype(np.float32) / 255
    noisy = clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)
    with torch.no_grad():
        out = model(torch.from_numpy(noisy.astype(np.float32))[None, None])[0, 0].numpy()
    assert metrics.psnr(clean, out) > metrics.psnr(clean, noisy) + 5


@pytest.mark.parametrize("per_patch", [False, True])
def test_the_codes_are_unrolled_ista_steps(per_patch):
    """One threshold per atom, or the paper's one per patch, shared by its atoms."""
    model = _model(per_patch=per_patch)
    rng = np.random.default_rng(0)
    patches = rng.uniform(-1, 1, (5, 16))
    with torch.no_grad():
        z, threshold = model.codes(torch.from_numpy(patches).float())
        d = model.dictionary.double().numpy()
        c = model.log_c.exp().item()
        t = model.thresholds(torch.from_numpy(patches).float()).double().numpy() / c
    expected = np.sign(patches @ d / c) * np.maximum(np.abs(patches @ d / c) - t, 0)
    for _ in range(model.steps):
        step = expected + (patches - expected @ d.T) @ d / c
        expected = np.sign(step) * np.maximum(np.abs(step) - t, 0)
    np.testing.assert_allclose(z.numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(threshold.numpy(), t, atol=1e-6)
    assert threshold.shape == ((5, 1) if per_patch else (5, 16))


def test_without_thresholds_the_codes_rebuild_every_patch_and_the_image():
    """With zero thresholds ISTA converges to an exact code (the dictionary spans the
    patches), and the weighted average of exact patches is the image, whatever the weights."""
    model = _model(steps=3000)
    with torch.no_grad():
        last = model.thresholds[-1]
        last.weight.zero_()
        last.bias.zero_()
        model.log_pixel_weights.copy_(torch.randn(16))
    image = torch.rand(1, 1, 12, 10)
    with torch.no_grad():
        out, thresholds = model.denoise(image)
    torch.testing.assert_close(out, image, atol=2e-4, rtol=0)
    assert thresholds.shape == (1, 1, 9, 7) and float(thresholds.abs().max()) == 0


def test_the_average_weights_each_pixel_of_a_patch_as_learned():
    model = _model()
    with torch.no_grad():
        model.log_pixel_weights.copy_(torch.linspace(-1, 1, 16))
    image = torch.rand(1, 1, 9, 9)
    with torch.no_grad():
        out, _ = model.denoise(image)
        patches = F.unfold(2 * image - 1, 4).transpose(1, 2)[0]
        z, _ = model.codes(patches)
        rebuilt = (z @ model.dictionary.T).clamp(-1, 1).numpy().reshape(-1, 4, 4)
    weights = np.exp(np.linspace(-1, 1, 16)).reshape(4, 4)
    total, count = np.zeros((9, 9)), np.zeros((9, 9))
    for index, patch in enumerate(rebuilt):
        r, c = divmod(index, 6)
        total[r:r + 4, c:c + 4] += weights * patch
        count[r:r + 4, c:c + 4] += weights
    np.testing.assert_allclose(out[0, 0].numpy(), (total / count + 1) / 2, atol=1e-5)


def test_inference_in_chunks_is_training_s_computation(monkeypatch):
    model = _model()
    image = torch.rand(2, 1, 20, 20)
    whole, whole_thresholds = model.denoise(image)
    monkeypatch.setattr(deep_ksvd, "CHUNK", 37)
    with torch.no_grad():
        chunked, chunked_thresholds = model.denoise(image)
    torch.testing.assert_close(chunked, whole.detach(), atol=1e-6, rtol=0)
    torch.testing.assert_close(chunked_thresholds, whole_thresholds.detach(), atol=1e-6, rtol=0)


def test_each_colour_channel_is_denoised_on_its_own():
    model = _model()
    x = torch.rand(1, 3, 12, 12)
    together = model(x)
    for c in range(3):
        torch.testing.assert_close(together[:, c:c + 1], model(x[:, c:c + 1]))


def test_the_gradient_reaches_every_learned_part():
    model = _model()
    x = torch.rand(2, 1, 10, 10)
    ((model(x + 0.1 * torch.randn_like(x)) - x) ** 2).mean().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
