"""Tests of EPLL and its Gaussian mixture prior: EM, the Wiener step, the method, the command."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

import denoisers
from denoisers import epll as epll_module
from denoisers import gmm, metrics, noise, train
from denoisers.core import InvalidInput, as_image
from denoisers.epll import epll, load_prior, map_patches

SIGMA = 25 / 255


def _camera_crop(size: int = 48) -> np.ndarray:
    image = as_image(data.camera())
    return np.ascontiguousarray(image[200:200 + size, 220:220 + size])


def _known_mixture(rng: np.random.Generator, d: int = 4) -> gmm.GaussianMixture:
    means = np.array([[0.0] * d, [3.0] * d, [-3.0, 3.0] * (d // 2)])
    covariances = []
    for _ in means:
        a = rng.standard_normal((d, d))
        covariances.append(a @ a.T / d + 0.1 * np.eye(d))
    return gmm.GaussianMixture.from_covariances(np.array([0.5, 0.3, 0.2]), means,
                                                np.array(covariances), size=2)


# --------------------------------------------------------------------------- EM


def test_em_recovers_a_known_mixture(rng):
    truth = _known_mixture(rng)
    samples, _ = truth.sample(20_000, seed=1)
    fitted, history = gmm.fit(samples, 3, iterations=60, seed=0, floor=1e-6)
    order = [int(np.argmin(np.linalg.norm(fitted.means - m, axis=1))) for m in truth.means]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(fitted.weights[order], truth.weights, atol=0.02)
    np.testing.assert_allclose(fitted.means[order], truth.means, atol=0.1)
    np.testing.assert_allclose(fitted.covariances[order], truth.covariances, atol=0.1)
    assert np.all(np.diff(history) > -1e-9), "EM never lowers the log-likelihood"


def test_em_log_likelihood_matches_a_direct_density(rng):
    truth = _known_mixture(rng)
    samples, _ = truth.sample(50, seed=2)
    joint = gmm.component_log_densities(torch.as_tensor(samples), torch.as_tensor(truth.weights),
                                        torch.as_tensor(truth.means),
                                        torch.as_tensor(truth.covariances)).numpy()
    from scipy.stats import multivariate_normal
    direct = np.stack([np.log(w) + multivariate_normal(m, c).logpdf(samples)
                       for w, m, c in zip(truth.weights, truth.means, truth.covariances)], axis=1)
    np.testing.assert_allclose(joint, direct, rtol=1e-9, atol=1e-9)


def test_sampled_patches_have_no_dc():
    images = [np.random.default_rng(i).random((20, 30)).astype(np.float32) for i in range(3)]
    patches = gmm.sample_patches(images, 500, size=8, seed=0)
    assert patches.shape == (500, 64)
    np.testing.assert_allclose(patches.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_array_equal(patches, gmm.sample_patches(images, 500, size=8, seed=0))


# --------------------------------------------------------------------------- the Wiener step


def test_a_single_gaussian_gives_the_wiener_filter_in_closed_form(rng):
    d = 16
    a = rng.standard_normal((d, d))
    covariance = a @ a.T / d + 0.01 * np.eye(d)
    mean = rng.standard_normal(d) * 0.1
    single = gmm.GaussianMixture.from_covariances(np.array([1.0]), mean[None], covariance[None],
                                                  size=4)
    prior = epll_module.Prior(
        mixture=single, log_weights=torch.zeros(1),
        means=torch.as_tensor(single.means, dtype=torch.float32),
        eigenvalues=torch.as_tensor(single.eigenvalues, dtype=torch.float32),
        eigenvectors=torch.as_tensor(single.eigenvectors, dtype=torch.float32),
        projected_means=torch.as_tensor(
            np.einsum("kij,ki->kj", single.eigenvectors, single.means), dtype=torch.float32))
    y = rng.standard_normal((5, d))
    s = 0.3
    expected = mean + (covariance @ np.linalg.solve(covariance + s * np.eye(d), (y - mean).T)).T
    estimate, chosen = map_patches(prior, torch.as_tensor(y, dtype=torch.float32), s)
    np.testing.assert_allclose(estimate.numpy(), expected, atol=1e-4)
    assert (chosen.numpy() == 0).all()


def _camera_patches() -> torch.Tensor:
    """The DC-free 8x8 patches of a camera crop, after the noise of ``SIGMA``."""
    noisy = noise.add_gaussian(_camera_crop(40), SIGMA, seed=3)
    columns = torch.nn.functional.unfold(torch.as_tensor(noisy)[None, None], 8)[0].T
    return columns - columns.mean(1, keepdim=True)


def test_with_every_component_shortlisted_the_choice_is_the_full_posteriors(monkeypatch):
    prior = load_prior(str(epll_module.PRIOR_FILE))
    patches = _camera_patches()
    monkeypatch.setattr(epll_module, "_SHORTLIST", prior.mixture.components)
    variance = SIGMA ** 2 / 4
    estimates, chosen = map_patches(prior, patches, variance)
    scores, _ = epll_module.posterior_scores(prior, patches, variance)
    np.testing.assert_array_equal(chosen.numpy(), scores.argmax(1).numpy())
    values, vectors = prior.eigenvalues[chosen], prior.eigenvectors[chosen]
    centred = patches - prior.means[chosen]
    shrunk = torch.einsum("nij,ni->nj", vectors, centred) * values / (values + variance)
    expected = prior.means[chosen] + torch.einsum("nij,nj->ni", vectors, shrunk)
    np.testing.assert_allclose(estimates.numpy(), expected.numpy(), atol=1e-5)


def test_the_low_rank_shortlist_holds_the_full_posteriors_best_for_most_patches():
    prior = load_prior(str(epll_module.PRIOR_FILE))
    patches = _camera_patches()
    for beta in (1.0, 32.0):
        scores, _ = epll_module.posterior_scores(prior, patches, SIGMA ** 2 / beta)
        listed = epll_module.shortlist(prior, patches, SIGMA ** 2 / beta)
        held = (listed == scores.argmax(1, keepdim=True)).any(1).float().mean()
        assert listed.shape == (len(patches), epll_module._SHORTLIST) and held > 0.8


# --------------------------------------------------------------------------- the method


def test_epll_gains_over_the_noisy_image():
    clean = _camera_crop()
    noisy = noise.add_gaussian(clean, SIGMA, seed=0)
    result = epll(noisy, SIGMA)
    assert metrics.psnr(clean, result.image) > metrics.psnr(clean, noisy) + 5.0


def test_epll_denoises_the_border_nearly_as_well_as_the_interior():
    # the image step averages the patch estimates at every pixel and weighs that average
    # alike everywhere, as the authors' code does; weighing each pixel by the patches that
    # cover it left the border near the noisy image (3.6 times the interior's error here)
    clean = np.full((40, 40), 0.5, np.float32)
    error = epll(noise.add_gaussian(clean, 0.1, seed=0), 0.1).image - clean
    inside = np.zeros(clean.shape, bool)
    inside[7:-7, 7:-7] = True
    rmse = [float(np.sqrt(np.mean(error[part] ** 2))) for part in (inside, ~inside)]
    assert rmse[1] < 1.5 * rmse[0]


def test_epll_returns_pixels_in_range():
    noisy = noise.add_gaussian(_camera_crop(), 0.2, seed=2)
    assert noisy.min() < 0 and noisy.max() > 1
    image = epll(noisy, 0.2, iterations=2).image
    assert image.min() >= 0.0 and image.max() <= 1.0


def test_epll_is_deterministic_and_traces_its_steps():
    clean = _camera_crop(40)
    noisy = noise.add_gaussian(clean, SIGMA, seed=1)
    first = epll(noisy, SIGMA, iterations=3, trace=True, reference=clean)
    second = epll(noisy, SIGMA, iterations=3)
    np.testing.assert_array_equal(first.image, second.image)
    assert list(first.stages) == ["step 1", "step 2", "step 3"]
    np.testing.assert_array_equal(first.stages["step 3"], first.image)
    psnr = first.curves["PSNR (dB)"]
    assert psnr.shape == (3,) and psnr[-1] > psnr[0]
    assert first.extras["components"].shape == (33, 33)
    components = load_prior(str(epll_module.PRIOR_FILE)).mixture.components
    assert 0 <= first.extras["components"].min() and first.extras["components"].max() < components
    prior = first.extras["prior"]
    assert prior["atoms"].shape == prior["samples"].shape == (8, 8, 8, 8)
    norms = np.linalg.norm(prior["atoms"].reshape(8, 8, -1), axis=2)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_the_view_of_a_patch_repeats_the_last_step():
    clean = _camera_crop(40)
    noisy = noise.add_gaussian(clean, SIGMA, seed=1)
    traced = epll(noisy, SIGMA, iterations=2, trace=True)
    view = denoisers.look("epll", noisy, SIGMA, traced, (20, 20), iterations=2)
    patch = view.extras["patch"]
    row, col = patch["corner"]
    assert patch["component"] == traced.extras["components"][row, col]
    assert patch["posterior"].argmax() == patch["component"]
    np.testing.assert_allclose(patch["posterior"].sum(), 1.0)
    # The method chose among its shortlist: the likelier of the listed by the full posterior.
    listed = patch["shortlist"]
    assert len(listed) == epll_module._SHORTLIST and patch["component"] in listed
    assert patch["component"] == max(listed, key=lambda k: patch["posterior"][k])


def test_a_missing_prior_is_a_clear_refusal(tmp_path, monkeypatch):
    monkeypatch.setattr(epll_module, "PRIOR_FILE", tmp_path / "none.npz")
    with pytest.raises(InvalidInput, match="patch prior .* is missing: train it"):
        epll(np.zeros((16, 16), np.float32), SIGMA)


@pytest.mark.parametrize("bad", [0, 9, 2.5])
def test_bad_iterations_are_refused(bad):
    with pytest.raises(InvalidInput, match="'iterations' parameter of epll"):
        epll(np.zeros((16, 16), np.float32), SIGMA, iterations=bad)


# --------------------------------------------------------------------------- the command


def _tiny_folder(tmp_path, count: int = 3):
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(count):
        smooth = np.cumsum(np.random.default_rng(i).random((32, 32)), axis=1)
        Image.fromarray(np.uint8(255 * smooth / smooth.max())).save(folder / f"{i}.png")
    return folder


def test_the_training_command_writes_a_loadable_prior(tmp_path, monkeypatch):
    folder = _tiny_folder(tmp_path)
    out = tmp_path / "prior.npz"
    status = train.main(["epll", "--data", str(folder), "--val", str(folder), "--out", str(out),
                         "--checkpoint", str(tmp_path / "prior.ckpt.npz"),
                         "--components", "3", "--patches", "600", "--iterations", "3"])
    assert status == 0
    mixture = gmm.GaussianMixture.load(out)
    assert mixture.components == 3 and mixture.size == 8
    np.testing.assert_allclose(mixture.weights.sum(), 1.0, atol=1e-5)
    record = gmm.GaussianMixture.record_of(out)
    assert record["components"] == 3 and "val_log_likelihood" in record
    monkeypatch.setattr(epll_module, "PRIOR_FILE", out)
    clean = _camera_crop(24)
    noisy = noise.add_gaussian(clean, SIGMA, seed=0)
    assert metrics.psnr(clean, epll(noisy, SIGMA).image) > metrics.psnr(clean, noisy)


@pytest.mark.parametrize("flags", [["--components", "0"], ["--patches", "5"],
                                   ["--components", "50", "--patches", "20"]])
def test_the_training_command_refuses_bad_settings(tmp_path, flags, capsys):
    folder = _tiny_folder(tmp_path, 1)
    with pytest.raises(SystemExit):
        train.main(["epll", "--data", str(folder), "--out", str(tmp_path / "p.npz"), *flags])
    err = capsys.readouterr().err
    assert "setting of the mixture" in err or "need at least as many patches" in err
