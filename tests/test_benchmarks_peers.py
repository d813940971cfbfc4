"""The peer search (``python -m benchmarks.peers``) on a tiny generated folder: it keeps the
grid point of the best mean PSNR, recomputed here from scikit-image's own calls, and the
quality benchmark runs each peer at the setting it wrote."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.restoration import denoise_tv_chambolle, denoise_wavelet

from benchmarks import peers, quality
from denoisers.images import load_image
from denoisers.metrics import psnr

SIGMAS = (25.0, 50.0)
CROPS = {
    "a_camera.png": data.camera()[100:140, 200:240],
    "b_moon.png": data.moon()[200:240, 200:240],
    "c_coins.png": data.coins()[60:100, 80:120],
}


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    """One search of the TV and wavelet peers on three 40x40 crops: the folder, the
    settings written and what was printed."""
    folder = tmp_path_factory.mktemp("tiny") / "train_tiny"
    folder.mkdir()
    for name, crop in CROPS.items():
        Image.fromarray(crop).save(folder / name)
    out = tmp_path_factory.mktemp("peers")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert peers.main(["--data", str(folder), "--sigmas", *map(str, SIGMAS),
                           "--peers", "skimage-tv", "skimage-wavelet", "--out", str(out)]) == 0
    return folder, json.loads((out / "peers.json").read_text()), printed.getvalue()


def _direct(folder: Path, denoise) -> dict[float, float]:
    """Mean PSNR over the folder's images of ``denoise(noisy, sigma)`` at each sigma, on
    the quality benchmark's noise (image i at sigma s)."""
    cleans = [load_image(folder / name) for name in sorted(CROPS)]
    return {s: float(np.mean([psnr(c, denoise(quality.noisy_image(c, i, s, 0), s / 255))
                              for i, c in enumerate(cleans)])) for s in SIGMAS}


def test_the_tv_peer_gets_the_weight_of_the_best_mean_psnr(searched):
    folder, chosen, _ = searched
    factors = [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5]
    by_factor = {f: _direct(folder, lambda noisy, s, f=f: denoise_tv_chambolle(noisy, weight=f * s))
                 for f in factors}
    for sigma in SIGMAS:
        best = max(factors, key=lambda f: by_factor[f][sigma])
        written = chosen["peers"]["skimage-tv"][f"{sigma:g}"]
        assert written["weight_per_sigma"] == best, sigma
        assert written["mean_psnr"] == pytest.approx(by_factor[best][sigma], abs=1e-3)


def test_the_wavelet_peer_gets_the_wavelet_and_levels_of_the_best_mean_psnr(searched):
    folder, chosen, _ = searched
    # At 40x40, PyWavelets allows db1 five levels, db2 three, db4 and sym4 two, sym8 and
    # coif3 none of the grid's.
    grid = [(w, n) for w, most in [("db1", 5), ("db2", 3), ("db4", 2), ("sym4", 2)]
            for n in range(2, most + 1)]
    by_point = {(w, n): _direct(folder, lambda noisy, s, w=w, n=n: denoise_wavelet(
        noisy, sigma=s, wavelet=w, wavelet_levels=n, method="BayesShrink", mode="soft"))
        for w, n in grid}
    for sigma in SIGMAS:
        best = max(grid, key=lambda point: by_point[point][sigma])
        written = chosen["peers"]["skimage-wavelet"][f"{sigma:g}"]
        assert (written["wavelet"], written["wavelet_levels"]) == best, sigma
        assert written["mean_psnr"] == pytest.approx(by_point[best][sigma], abs=1e-3)


def test_the_search_is_printed_with_the_best_of_each_sigma_in_bold(searched):
    _, chosen, printed = searched
    assert "## Chosen settings: best mean PSNR on train_tiny (3 images)" in printed
    for sigma in SIGMAS:
        written = chosen["peers"]["skimage-tv"][f"{sigma:g}"]
        said = f"weight = {written['weight_per_sigma']:g} σ ({written['mean_psnr']:.2f} dB)"
        assert said in printed, said
    table = printed.split("(`skimage-tv`): mean PSNR (dB) of each setting")[1].split("##")[0]
    rows = [line for line in table.splitlines() if line.startswith("| weight")]
    assert len(rows) == 10
    for column in range(len(SIGMAS)):
        assert sum("**" in row.split("|")[2 + column] for row in rows) == 1
    assert chosen["images"] == sorted(CROPS) and "bm3d-package" in chosen["not_searched"]


def test_quality_runs_a_peer_at_the_setting_of_the_nearest_sigma(searched):
    _, chosen, _ = searched
    at = {s: chosen["peers"]["skimage-tv"][f"{s:g}"]["weight_per_sigma"] for s in SIGMAS}
    assert quality.peer_setting("skimage-tv", 30, chosen) == {"weight_per_sigma": at[25]}
    assert quality.peer_setting("skimage-tv", 45, chosen) == {"weight_per_sigma": at[50]}
    assert quality.peer_setting("skimage-tv", 37.5, chosen) == {"weight_per_sigma": at[25]}
    assert quality.peer_setting("skimage-tv", 5, chosen) == {"weight_per_sigma": at[25]}
    assert quality.peer_setting("bm3d-package", 25, chosen) == {}


def test_the_committed_settings_cover_every_searched_peer_at_15_25_and_50():
    committed = quality.load_peer_settings()
    assert committed["data"] == "train400" and len(committed["images"]) >= 12
    for key in peers.searches([(180, 180)]):
        assert {"15", "25", "50"} <= set(committed["peers"][key]), key
    noisy = np.full((48, 48), 0.5, np.float32)  # sym8 allows one level at 48x48
    for key, peer in quality.PEERS.items():
        if key != "bm3d-package":
            assert peer.denoise(noisy, 25 / 255).shape == noisy.shape


def test_the_search_refuses_a_test_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = tmp_path / "Set12"
    folder.mkdir()
    Image.fromarray(CROPS["a_camera.png"]).save(folder / "01.png")
    with pytest.raises(SystemExit):
        peers.main(["--data", str(folder), "--out", str(tmp_path / "out")])
    assert "is a test set" in capsys.readouterr().err


def _set12_at_25(key: str) -> float:
    """Mean PSNR at σ = 25 of ``key`` in the committed Set12 quality table."""
    table = (quality.PEER_SETTINGS.parents[1] / "quality_set12.md").read_text()
    row = next(line for line in table.splitlines() if f"(`{key}`) |" in line)
    return float(row.split("|")[3].split("/")[0])


def test_the_readme_quotes_the_leads_over_the_peers_at_their_best():
    readme = " ".join((quality.PEER_SETTINGS.parents[3] / "README.md").read_text().split())
    tv = _set12_at_25("tv") - _set12_at_25("skimage-tv")
    nlm = _set12_at_25("nlm") - _set12_at_25("skimage-nl-means")
    assert f"TV leads scikit-image's on Set12 by only {tv:.2f} dB at σ = 25" in readme
    assert f"its NL-means by {nlm:.2f} dB" in readme
    assert "Peers: each at its best setting, chosen on train400" in \
        (quality.PEER_SETTINGS.parents[1] / "quality_set12.md").read_text()


def test_the_nl_means_docstring_quotes_its_benchmark_against_the_peer_at_its_best():
    import denoisers.nonlocal_means as module

    table = (quality.PEER_SETTINGS.parents[1] / "nonlocal_means" / "nonlocal_means.md")
    rows = [line.split("|") for line in table.read_text().splitlines()
            if "set12 mean" in line or line.startswith("| camera |")]
    means = [r for r in rows if "set12 mean" in r[1]]
    camera = [r for r in rows if "camera" in r[1]]
    text = " ".join((module.nlm.__doc__ or "").split())
    for cells in (means, camera):
        peer = ", ".join(c[4].strip() for c in cells[:-1]) + f" and {cells[-1][4].strip()}"
        assert peer in text, peer
    leads = ", ".join(f"{float(c[5]):.2f}" for c in means[:-1]) + f" and {float(means[-1][5]):.2f}"
    assert f"a lead of {leads} dB" in text, leads
