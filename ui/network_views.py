"""Views into a network: feature maps, filters, equivalent kernel, receptive field."""

from __future__ import annotations

import numpy as np
import streamlit as st

from denoisers import nonlocal_means, sparsity
from denoisers.colour import luminance_view
from denoisers.core import Result

from . import links, views
from .probe import PICKER_COLUMNS, Pick

#: Side of the neighbourhood on which kernels and NL-means weights are compared.
KERNEL_SIDE = 31
PER_PAGE = 16


def feature_maps(res: Result, *, key: str) -> None:
    """A layer picker and a pageable grid of that layer's feature maps."""
    features = res.extras["features"]
    layer = links.segmented_control("Layer", list(features), default=next(iter(features)),
                                    key=f"{key}.layer")
    maps = features[layer].astype(np.float32)
    pages = -(-maps.shape[0] // PER_PAGE)
    page = links.slider("Channels", 1, pages, 1, key=f"{key}.page",
                        format=f"page %d of {pages}") if pages > 1 else 1
    shown = maps[(page - 1) * PER_PAGE: page * PER_PAGE]
    views.show_image(sparsity.atoms_mosaic(shown, pad=2),
                     f"{layer}: channels {(page - 1) * PER_PAGE + 1}–"
                     f"{(page - 1) * PER_PAGE + len(shown)} of {maps.shape[0]}, on the window "
                     "around the chosen pixel (each rescaled; mid-grey is 0)")


def filters_and_atoms(res: Result) -> None:
    """The first layer's learned filters beside the 8x8 DCT atoms."""
    left, right = st.columns(2)
    with left:
        filters = res.extras["filters"]
        views.show_image(views.enlarged(sparsity.atoms_mosaic(filters)),
                         f"the first layer's {len(filters)} learned filters "
                         f"({filters.shape[1]}x{filters.shape[2]})")
    with right:
        views.show_image(views.enlarged(sparsity.atoms_mosaic(sparsity.dct_atoms(8))),
                         "the 64 atoms of the 8x8 DCT, the basis of JPEG")


def kernel_beside_nlm(res: Result, noisy: np.ndarray, sigma: float,
                      pixel: tuple[int, int], *, key: str) -> None:
    """The network's equivalent kernel and NL-means' weights for the same pixel."""
    top, left, _ = res.extras["window"]
    kernel = _around(res.extras["equivalent kernel"], (pixel[0] - top, pixel[1] - left))
    grey, grey_sigma = luminance_view(noisy, sigma)  # the channel a grey network's view shows
    weights = nonlocal_means.nlm_weights(grey, pixel, grey_sigma, search=KERNEL_SIDE)
    bound = float(np.abs(kernel).max()) or 1.0
    a, b = st.columns(2)
    with a:
        views.heatmap(kernel, title="network's kernel", colorscale="RdBu_r", zmin=-bound,
                      zmax=bound, key=f"{key}.kernel")
    with b:
        views.heatmap(weights, title="NL-means weights", key=f"{key}.nlm")
    check = res.extras["kernel check"]
    exact = ("exactly, as the network is bias-free and blind" if check["exact"] else
             "up to the network's bias terms and noise-level map")
    st.caption(
        f"{KERNEL_SIDE}x{KERNEL_SIDE} pixels around the chosen pixel; NL-means compares "
        f"{nonlocal_means.nlm_patch(grey_sigma)}x{nonlocal_means.nlm_patch(grey_sigma)} "
        f"patches. The network's equivalent kernel is the gradient "
        f"of the output pixel with respect to the input: applied to the noisy image it gives "
        f"{check['J·y']:.4f}, and the network's output there is {check['output']:.4f} — "
        f"{exact}. Its weights sum to {kernel.sum():.3f}.")


def _around(array: np.ndarray, pixel: tuple[int, int], side: int = KERNEL_SIDE) -> np.ndarray:
    """The ``side`` x ``side`` block of ``array`` centred on ``pixel``, zero outside."""
    half = side // 2
    padded = np.pad(array, half)
    return padded[pixel[0]:pixel[0] + side, pixel[1]:pixel[1] + side]


def inside(image: np.ndarray, sigma: float, seen: Result, pixel: tuple[int, int], pick: Pick,
           *, key: str) -> None:
    """The clickable image with the chosen pixel's receptive field, beside the tabs that
    look inside the network there."""
    left, right = st.columns(PICKER_COLUMNS)
    with left:
        picture, note = receptive_field(seen, image, pixel)
        pick(picture, note)
    with right:
        tabs = st.tabs(["Equivalent kernel", "Feature maps", "First-layer filters"])
        with tabs[0]:
            kernel_beside_nlm(seen, image, sigma, pixel, key=f"{key}.kernel")
        with tabs[1]:
            feature_maps(seen, key=f"{key}.features")
        with tabs[2]:
            filters_and_atoms(seen)


def receptive_field(res: Result, image: np.ndarray,
                    pixel: tuple[int, int]) -> tuple[np.ndarray, str]:
    """The image with the chosen pixel's receptive field outlined, and what it says."""
    top, left, _ = res.extras["window"]
    r0, c0, height, width = res.extras["receptive field"]
    rgb = views.rgb_canvas(image)
    box = (top + r0, left + c0, top + r0 + height - 1, left + c0 + width - 1)
    red = np.array([230, 30, 30], np.uint8)
    for row in (box[0], box[2]):
        rgb[row, box[1]:box[3] + 1] = red
    for col in (box[1], box[3]):
        rgb[box[0]:box[2] + 1, col] = red
    rgb[pixel] = red
    window = res.extras["window"][2].shape
    if height >= window[0] or width >= window[1]:
        return rgb, (f"The receptive field of the chosen pixel covers the whole "
                     f"{window[0]}x{window[1]} window the views are computed on (red): this "
                     "network sees at least that far.")
    return rgb, (f"Receptive field of the chosen pixel: {height}x{width} pixels — the output "
                 "there depends on nothing outside the red box.")
