"""Let the visitor choose what to look at by clicking on an image.

Choosing a pixel never reruns a method: the pages draw a method's inside
views in a fragment (:func:`inside`), which reruns alone when the picture is
clicked, and the view of the chosen pixel comes from :meth:`Call.look`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import streamlit as st
from PIL import Image
from scipy import ndimage
from streamlit_image_coordinates import streamlit_image_coordinates

from denoisers.core import Result, centre

from . import errors, links, views, waiting
from .compute import Call
from .links import Pixel
from .scene import Scene

#: The widths of the clickable picture's column and of the views beside it: half the page,
#: so that a 512 image shows at about 450 px at 1440x900 and an edge is easy to hit.
PICKER_COLUMNS = (1, 1)


def starting_pixel(image: np.ndarray) -> Pixel:
    """Where a probe starts before any click: on an edge or a texture near the centre.

    The pixel nearest the centre whose smoothed gradient (a Gaussian of 2 px
    first, so that noise does not count as structure) is at least half the
    image's strongest (its 99th percentile), at least a 16th of the side from
    the border. A flat area (camera's coat, a sky) shows a method's least
    interesting case: nothing to keep, one block much like the next.
    """
    grey = np.asarray(image, np.float32)
    grey = grey.mean(axis=2) if grey.ndim == 3 else grey
    smooth = ndimage.gaussian_filter(grey, 2.0)
    strength = np.hypot(ndimage.sobel(smooth, 0), ndimage.sobel(smooth, 1))
    margin = max(1, min(grey.shape) // 16)
    inner = strength[margin:-margin, margin:-margin]
    if inner.size == 0 or not inner.any():
        return centre(grey.shape)
    rows, cols = np.nonzero(inner >= 0.5 * np.quantile(inner, 0.99))
    middle = (np.asarray(grey.shape) - 1) / 2 - margin
    nearest = np.argmin((rows - middle[0]) ** 2 + (cols - middle[1]) ** 2)
    return int(rows[nearest]) + margin, int(cols[nearest]) + margin


def chosen(key: str, image: np.ndarray,
           start: Callable[[np.ndarray], Pixel] = starting_pixel) -> Pixel:
    """The pixel last clicked on the picture ``key`` (scaled to ``image``'s shape), else the
    one the page's address gives under ``key`` (``row,col``: a shared link's), else
    ``start(image)`` (:func:`starting_pixel`).

    The component reports a click in displayed pixels together with the
    displayed size, so the click maps to the same place on any image size. A
    click is written into the address, so a link copied now opens on it; a
    bad pixel in the address is said and dropped (:func:`ui.links.pixel`).
    """
    click = st.session_state.get(key)
    shape = image.shape
    if not click:
        return links.pixel(key, shape) or start(image)
    pixel = (min(shape[0] - 1, int(click["y"] * shape[0] / click["height"])),
             min(shape[1] - 1, int(click["x"] * shape[1] / click["width"])))
    links.keep_pixel(key, pixel)
    return pixel


def picker(picture: np.ndarray, *, key: str, caption: str) -> None:
    """Draw ``picture`` (RGB uint8, marks drawn in) to fit its column; a click chooses anew."""
    streamlit_image_coordinates(Image.fromarray(picture), key=key, width="stretch",
                                png_compression_level=1, cursor="crosshair")
    st.caption(caption)


def crosshair(image: np.ndarray, pixel: Pixel) -> np.ndarray:
    """An RGB uint8 copy of ``image`` with a red cross-hair at ``pixel``."""
    rgb = views.rgb_canvas(image)
    row, col = pixel
    arm = max(4, min(rgb.shape[:2]) // 25)
    red = np.array([255, 0, 0], np.uint8)
    rgb[max(0, row - 1):row + 2, max(0, col - arm):col + arm + 1] = red
    rgb[max(0, row - arm):row + arm + 1, max(0, col - 1):col + 2] = red
    return rgb


#: Draws the clickable picture, with an optional note before the caption that says how to click.
Pick = Callable[..., None]
Draw = Callable[[Result, Pixel, Pick], None]


@st.fragment
def inside(call: Call, scene: Scene, traced: Result, *, key: str, draw: Draw | None = None) -> None:
    """A method's views of one chosen pixel, redrawn alone when another pixel is clicked.

    ``draw(seen, pixel, pick)`` draws the views: ``seen`` is ``traced`` with
    the pixel's view added, and ``pick(picture, note="")`` draws the
    clickable picture (the page decides what is marked on it, what the
    caption notes and where it goes). By default the noisy image with a
    cross-hair sits beside the result's stages and curves
    (:func:`views.insides`).
    """
    # Inside a fragment an exception would reach Streamlit's own handler, which shows a
    # traceback: the guard must be in here.
    with (errors.guard("The view of the chosen pixel"),
          waiting.busy("Looking at the chosen pixel…", key=key)):
        pixel = chosen(key, scene.original)
        seen = call.look(scene.noisy, traced, pixel)
        where = f"Click the image to choose a pixel; now row {pixel[0]}, column {pixel[1]}."

        def pick(picture: np.ndarray, note: str = "") -> None:
            picker(picture, key=key, caption=f"{note} {where}" if note else where)

        if draw is not None:
            draw(seen, pixel, pick)
            return
        left, right = st.columns(PICKER_COLUMNS)
        with left:
            pick(crosshair(scene.noisy, pixel))
        with right:  # two maps across leave room for their colour bars on a projector
            views.insides(seen, key=f"{key}.insides", per_row=2)
