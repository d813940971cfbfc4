"""Tests of the mixture's training command: checkpoints, --resume, --init (with growing),
--minutes and the device."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from denoisers import gmm, train
from denoisers.core import InvalidInput


@pytest.fixture
def folder(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        smooth = np.cumsum(np.random.default_rng(i).random((32, 32)), axis=1)
        Image.fromarray(np.uint8(255 * smooth / smooth.max())).save(images / f"{i}.png")
    return images


def _train(folder, tmp_path, name: str, *flags: str) -> gmm.Run:
    """Run the command into ``tmp_path/name.npz`` with checkpoint ``tmp_path/name.ckpt.npz``."""
    status = train.main(["epll", "--data", str(folder), "--out", str(tmp_path / f"{name}.npz"),
                         "--checkpoint", str(tmp_path / f"{name}.ckpt.npz"), "--device", "cpu",
                         "--components", "3", "--patches", "600", *flags])
    assert status == 0
    return gmm.load_checkpoint(tmp_path / f"{name}.ckpt.npz", torch.device("cpu"))


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(folder, tmp_path):
    whole_params, whole = _train(folder, tmp_path, "whole", "--iterations", "5")
    _train(folder, tmp_path, "parts", "--iterations", "2")
    part_params, parts = _train(folder, tmp_path, "parts", "--iterations", "5", "--resume")
    assert whole.iterations == parts.iterations == 5
    assert [run["iterations"] for run in parts.runs] == [2, 3]
    assert parts.history == whole.history
    for name in ("weights", "means", "covariances"):
        torch.testing.assert_close(getattr(part_params, name), getattr(whole_params, name),
                                   rtol=0, atol=0)
    np.testing.assert_array_equal(gmm.GaussianMixture.load(tmp_path / "parts.npz").eigenvalues,
                                  gmm.GaussianMixture.load(tmp_path / "whole.npz").eigenvalues)


def test_resuming_with_other_patches_is_refused(folder, tmp_path, capsys):
    _train(folder, tmp_path, "run", "--iterations", "1")
    with pytest.raises(SystemExit):
        _train(folder, tmp_path, "run", "--iterations", "2", "--resume", "--seed", "1")
    assert "other settings or patches" in capsys.readouterr().err


def test_a_warm_start_does_not_lower_the_log_likelihood(folder, tmp_path):
    _train(folder, tmp_path, "first", "--iterations", "3")
    first = gmm.GaussianMixture.load(tmp_path / "first.npz")
    patches = gmm.sample_patches([np.asarray(Image.open(p), np.float32) / 255
                                  for p in sorted(folder.iterdir())], 2000, seed=1)
    before = gmm.held_out_log_likelihood(first, patches)
    _, same = _train(folder, tmp_path, "same", "--init", str(tmp_path / "first.npz"),
                     "--patches", "2000", "--seed", "1", "--iterations", "4")
    assert same.history[0] == pytest.approx(before, rel=1e-6), "EM starts where --init left"
    assert np.all(np.diff(same.history) > -1e-6 * abs(before))
    _, wider = _train(folder, tmp_path, "wider", "--init", str(tmp_path / "first.npz"),
                      "--components", "6", "--patches", "2000", "--seed", "1",
                      "--iterations", "6")
    assert wider.init["components"] == 3
    for name in ("same", "wider"):
        after = gmm.held_out_log_likelihood(gmm.GaussianMixture.load(tmp_path / f"{name}.npz"),
                                            patches)
        assert after > before


def test_growing_splits_components_and_keeps_the_moments(rng):
    means = rng.standard_normal((3, 4))
    covariances = np.stack([a @ a.T + 0.1 * np.eye(4) for a in rng.standard_normal((3, 4, 4))])
    mixture = gmm.GaussianMixture.from_covariances(np.array([0.5, 0.3, 0.2]), means,
                                                   covariances, size=2)
    bigger = gmm.grown(mixture, 7)
    assert bigger.components == 7
    np.testing.assert_allclose(bigger.weights.sum(), 1.0)
    first = [np.einsum("k,ki->i", m.weights, m.means) for m in (mixture, bigger)]
    second = [np.einsum("k,kij->ij", m.weights,
                        m.covariances + np.einsum("ki,kj->kij", m.means, m.means))
              for m in (mixture, bigger)]
    np.testing.assert_allclose(first[1], first[0], atol=1e-12)
    np.testing.assert_allclose(second[1], second[0], atol=1e-10)
    assert len(np.unique(bigger.means.round(8), axis=0)) == 7
    with pytest.raises(InvalidInput, match="grow, not shrink"):
        gmm.grown(bigger, 3)


def test_the_minutes_stop_the_run_cleanly_and_it_resumes(folder, tmp_path, monkeypatch):
    ticks = iter(range(10**6))
    monkeypatch.setattr(gmm.time, "perf_counter", lambda: float(next(ticks)))  # a second a look
    _, run = _train(folder, tmp_path, "short", "--iterations", "5000", "--minutes", "0.5",
                    "--tolerance=-1e9")
    assert 1 <= run.iterations < 10 and not run.done
    assert run.runs[0]["minutes"] <= 0.5 + 2 / 60, "only the last writes may pass the budget"
    record = gmm.GaussianMixture.record_of(tmp_path / "short.npz")
    assert record["iterations"] == run.iterations
    _, more = _train(folder, tmp_path, "short", "--iterations", str(run.iterations + 2),
                     "--resume")
    assert more.iterations == run.iterations + 2 or more.done


def test_auto_is_the_cpu_without_cuda(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    config = gmm.GmmConfig(data=(tmp_path,), out=tmp_path / "p.npz")
    assert config.torch_device == torch.device("cpu")
    with pytest.raises(InvalidInput, match="no CUDA device"):
        _ = gmm.GmmConfig(data=(tmp_path,), out=tmp_path / "p.npz", device="cuda").torch_device


def test_init_and_resume_together_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match="give one of them"):
        gmm.GmmConfig(data=(tmp_path,), out=tmp_path / "p.npz", resume=True,
                      init=tmp_path / "q.npz")
