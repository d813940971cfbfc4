"""TNRD's parts against their formulas: the DCT filters, the tabulated Gaussian influence
functions, one reaction-diffusion step computed with scipy, and greedy growth."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import fft, ndimage

from denoisers import train
from denoisers.nets import tnrd


@pytest.mark.parametrize("size", [3, 5, 7])
def test_the_filters_basis_is_the_orthonormal_dct_without_its_constant(size):
    basis = tnrd.dct_basis(size)
    assert basis.shape == (size**2 - 1, size, size)
    flat = basis.reshape(len(basis), -1)
    np.testing.assert_allclose(flat @ flat.T, np.eye(len(basis)), atol=1e-12)
    np.testing.assert_allclose(flat.sum(axis=1), 0, atol=1e-12)
    # each atom is an inverse 2-D DCT-II of a single coefficient (scipy's orthonormal DCT)
    for atom in basis:
        coefficients = fft.dctn(atom, norm="ortho")
        assert np.count_nonzero(np.abs(coefficients) > 1e-9) == 1
    frequencies = [sum(np.unravel_index(np.abs(fft.dctn(a, norm="ortho")).argmax(), a.shape))
                   for a in basis]
    assert frequencies == sorted(frequencies) and frequencies[0] == 1


def _gaussian_sum(functions: tnrd.InfluenceFunctions, z: np.ndarray) -> np.ndarray:
    """The influence functions at ``z`` summed Gaussian by Gaussian, in float64."""
    weights = functions.unit * functions.weight.detach().double().numpy()
    centres = functions.centres.double().numpy()
    gaussians = np.exp(-0.5 * ((z[..., None] - centres) / functions.width) ** 2)
    return np.einsum("cj,...j->c...", weights, gaussians)


def test_the_tabulated_influence_functions_are_their_gaussian_sums():
    functions = tnrd.InfluenceFunctions(4, centres=63)
    with torch.no_grad():
        functions.weight.copy_(torch.randn(4, 63, generator=torch.Generator().manual_seed(0)))
    z = np.linspace(-2.0, 2.0, 4001)
    exact = _gaussian_sum(functions, z)
    tabulated = functions.curves(torch.from_numpy(z).float()).detach().numpy()
    assert np.abs(tabulated - exact).max() < 1e-3 * np.abs(exact).max()


def test_the_influence_functions_start_as_a_gentle_line():
    functions = tnrd.InfluenceFunctions(2, slope=0.01)
    z = torch.linspace(-tnrd.SPAN * 0.9, tnrd.SPAN * 0.9, 101)
    curves = functions.curves(z).detach()
    np.testing.assert_allclose(curves, 0.01 * z.expand(2, -1), atol=2e-4)


def test_the_influence_functions_gradients_are_the_tables():
    functions = tnrd.InfluenceFunctions(3)
    z = torch.linspace(-1.0, 1.0, 17, requires_grad=True)
    functions.curves(z).sum().backward()
    # d phi_c / d w_cj is the j-th Gaussian at z (times the unit), summed over the points
    gaussians = np.exp(-0.5 * ((z.detach().numpy()[:, None] - functions.centres.numpy())
                               / functions.width) ** 2)
    np.testing.assert_allclose(functions.weight.grad.numpy(),
                               functions.unit * np.tile(gaussians.sum(0), (3, 1)), atol=2e-5)


def test_a_stage_is_one_explicit_reaction_diffusion_step():
    torch.manual_seed(1)
    stage = tnrd.Stage(filters=6, size=5, centres=31)
    with torch.no_grad():
        stage.coefficients.add_(0.3 * torch.randn_like(stage.coefficients))
        stage.influence.weight.copy_(torch.randn_like(stage.influence.weight))
    rng = np.random.default_rng(0)
    u, f = rng.random((1, 1, 20, 24)), rng.random((1, 1, 20, 24))
    out = stage(torch.from_numpy(u).float(), torch.from_numpy(f).float()).detach().numpy()[0, 0]
    kernels = stage.filters().detach().double().numpy()[:, 0]
    expected = u[0, 0] - stage.reaction.item() * (u[0, 0] - f[0, 0])
    for i, kernel in enumerate(kernels):
        response = ndimage.correlate(u[0, 0], kernel, mode="mirror")
        influence = _gaussian_sum(stage.influence, response)[i]
        expected -= ndimage.correlate(influence, kernel[::-1, ::-1], mode="constant")
    np.testing.assert_allclose(out, expected, atol=2e-4 * np.abs(expected).max())


def test_the_filters_are_unit_norm_and_zero_mean():
    stage = tnrd.Stage(filters=10, size=7, centres=63)
    with torch.no_grad():
        stage.coefficients.mul_(torch.linspace(0.1, 5, 10)[:, None])
    kernels = stage.filters().detach()
    np.testing.assert_allclose(kernels.flatten(1).norm(dim=1), 1, rtol=1e-5)
    np.testing.assert_allclose(kernels.sum(dim=(1, 2, 3)), 0, atol=1e-5)


def test_too_many_filters_for_the_basis_are_refused():
    with pytest.raises(ValueError, match="at most 24"):
        tnrd.Stage(filters=25, size=5, centres=63)


def test_the_network_grows_a_stage_at_a_time_then_runs_them_all():
    model = tnrd.TNRD(stages=5, filters=4, size=3, centres=15)
    grown = []
    for step in (0, 199, 200, 999, 1000, 5000):
        model.grow(step, 1000)
        grown.append(model.active)
    assert grown == [1, 1, 2, 5, 5, 5]
    x = torch.rand(2, 1, 16, 16)
    model.grow(400, 1000)
    assert len(model.trajectory(x)) == 3


def test_each_colour_channel_is_diffused_on_its_own():
    torch.manual_seed(0)
    model = tnrd.TNRD(stages=2, filters=4, size=3, centres=15)
    x = torch.rand(1, 3, 16, 16)
    together = model(x)
    for c in range(3):
        torch.testing.assert_close(together[:, c:c + 1], model(x[:, c:c + 1]))


def test_greedy_training_grows_the_network_step_by_step(tmp_path, monkeypatch):
    recipe = train.Recipe({"arch": "tnrd", "stages": 3, "filters": 4, "size": 3, "centres": 15},
                          (25, 25), patch=16, batch=2, steps=9, greedy_steps=6)
    seen = []
    original = tnrd.TNRD.grow

    def grow(self, step, steps):
        original(self, step, steps)
        seen.append(self.active)

    monkeypatch.setattr(tnrd.TNRD, "grow", grow)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(2):
        Image.fromarray((np.random.default_rng(i).random((24, 24)) * 255).astype(np.uint8)).save(
            images / f"{i}.png")
    train.train(train.TrainConfig.create("tiny_tnrd", images, images, tmp_path / "t.pt",
                                         checkpoint=tmp_path / "t.ckpt", recipe=recipe, steps=9,
                                         validate_every=100))
    assert seen == [1, 1, 2, 2, 3, 3, 3, 3, 3]
