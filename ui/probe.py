"""Let the visitor pick a pixel by clicking on an image."""

from __future__ import annotations

import numpy as np
import streamlit as st
from PIL import Image
from streamlit_image_coordinates import streamlit_image_coordinates

from denoisers.core import centre

from . import views


def pick_pixel(image: np.ndarray, *, key: str, width: int = 360) -> tuple[int, int]:
    """Show ``image`` with the chosen pixel marked; a click moves it.

    The component reports the click in displayed pixels; they are scaled
    back to the image. Returns (row, col), the image centre until a click.
    """
    shape = image.shape[:2]
    state = f"{key}.pixel"
    pixel = st.session_state.get(state)
    if pixel is None or pixel[0] >= shape[0] or pixel[1] >= shape[1]:
        pixel = centre(shape)
    click = streamlit_image_coordinates(Image.fromarray(_marked(image, pixel)), key=key,
                                        width=min(width, shape[1]))
    if click:
        clicked = (min(shape[0] - 1, int(click["y"] * shape[0] / click["height"])),
                   min(shape[1] - 1, int(click["x"] * shape[1] / click["width"])))
        if clicked != pixel:
            st.session_state[state] = clicked
            st.rerun()
    st.caption(f"Click the image to choose a pixel; now row {pixel[0]}, column {pixel[1]}.")
    return pixel


def _marked(image: np.ndarray, pixel: tuple[int, int]) -> np.ndarray:
    """An RGB uint8 copy of ``image`` with a red cross-hair at ``pixel``."""
    rgb = views.rgb_canvas(image)
    row, col = pixel
    arm = max(4, min(rgb.shape[:2]) // 25)
    red = np.array([255, 0, 0], np.uint8)
    rgb[max(0, row - 1):row + 2, max(0, col - arm):col + arm + 1] = red
    rgb[max(0, row - arm):row + arm + 1, max(0, col - 1):col + 2] = red
    return rgb
