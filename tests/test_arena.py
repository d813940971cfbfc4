"""The Arena's comparisons beyond one noise level: PSNR against σ, one crop in every
result, and the downloads under every metrics table."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import numpy as np
from conftest import no_problems, open_page
from PIL import Image

from ui import arena_views, views

PAGE = "chapters/arena.py"


def _arena(**state):
    # Two quick methods at 64 pixels: the flow under test, not the methods.
    return open_page(PAGE, side=64, timeout=300, **{"arena.methods": ["gaussian", "tv"], **state})


def _values(encoded) -> np.ndarray:
    """A trace's array as Plotly sends it: a list, or base64 bytes with their dtype."""
    if isinstance(encoded, dict):
        return np.frombuffer(base64.b64decode(encoded["bdata"]), np.dtype(encoded["dtype"]))
    return np.asarray(encoded)


def _chart(at, needle: str) -> dict:
    """The first chart whose title (an annotation, see ui.figures._titled) holds ``needle``."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return next(s for s in specs
                if any(needle in a.get("text", "") for a in s["layout"].get("annotations", ())))


def test_the_sweep_waits_for_its_button_then_draws_psnr_against_sigma():
    at = _arena()
    assert not any("PSNR against the noise level" in c.proto.spec
                   for c in at.get("plotly_chart"))
    at.button(key="arena.sweep.go").click().run()
    no_problems(at)
    chart = _chart(at, "PSNR against the noise level")
    names = [trace["name"] for trace in chart["data"]]
    assert names == ["noisy input", "Gaussian smoothing", "Total variation (ROF)"], names
    for trace in chart["data"]:
        assert list(_values(trace["x"])) == list(arena_views.SWEEP_SIGMAS)
    noisy, *methods = (_values(t["y"]) for t in chart["data"])
    assert (np.diff(noisy) < 0).all()  # more noise, lower PSNR
    for psnr in methods:
        assert (psnr > noisy).all() and psnr[0] > psnr[-1]
    at.run()  # a rerun keeps the chart: the sweep is remembered for this scene
    assert "PSNR against the noise level" in "".join(c.proto.spec for c in at.get("plotly_chart"))


def test_the_crop_inspector_shows_one_square_of_every_panel_and_a_difference():
    at = _arena()
    crops = [img for image in at.image for img in image.proto.imgs
             if img.caption.startswith(("clean", "noisy", "Gaussian", "Total"))]
    assert len(crops) == 4, [i.caption for image in at.image for i in image.proto.imgs]
    difference = _chart(at, " − ")
    assert difference["layout"]["coloraxis"]["cmin"] == -difference["layout"]["coloraxis"]["cmax"]


def test_the_crop_stays_inside_the_image():
    assert arena_views.crop_corner((0, 0), 32, (64, 64)) == (0, 0)
    assert arena_views.crop_corner((63, 63), 32, (64, 64)) == (32, 32)
    assert arena_views.crop_corner((30, 40), 16, (64, 80)) == (22, 32)
    assert arena_views.crop_corner((5, 5), 128, (64, 64)) == (0, 0)


def test_every_metrics_table_offers_its_images_and_the_table_for_download():
    at = _arena()
    keys = [b.key for b in at.get("download_button")]
    assert any(k.endswith(".zip") for k in keys) and any(k.endswith(".csv") for k in keys), keys
    assert any(k.endswith(".png") for k in keys), keys


def test_the_zip_holds_every_image_losslessly_and_the_table():
    rng = np.random.default_rng(0)
    images = {"clean": rng.random((8, 8)), "noisy — 20.1 dB": rng.random((8, 8, 3))}
    archive = zipfile.ZipFile(io.BytesIO(views.results_zip(images, "method,PSNR\nx,1\n")))
    assert sorted(archive.namelist()) == ["clean.png", "metrics.csv", "noisy.png"]
    assert archive.read("metrics.csv").decode() == "method,PSNR\nx,1\n"
    pixels = np.asarray(Image.open(io.BytesIO(archive.read("noisy.png"))))
    np.testing.assert_array_equal(pixels, np.round(images["noisy — 20.1 dB"] * 255))
