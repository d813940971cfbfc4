"""A grey test folder that is not Set12: scikit-image's bundled photographs no model saw.

    python -m benchmarks.grey_samples --out runs/grey5
    python -m benchmarks.inverse --data runs/grey5 --crop 256 --priors drunet --holds

Set12 is where every figure of the site is first measured; a margin measured there alone
may be its best case. These five grey images are none of Set12's, of the training set's
(train400) or of the networks' validation images (``denoisers.train.SKIMAGE_VALIDATION``):
three textures (brick, grass, gravel: 512x512), a photograph of a clock (400x300) and the
left view of the stereo motorcycle turned grey (741x500). They are written as lossless PNGs
(the motorcycle turned grey with scikit-image's ``rgb2gray``, rounded to 8 bits).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from skimage import color, data

from . import colour_samples


def _grey(image: np.ndarray) -> np.ndarray:
    return np.round(color.rgb2gray(image) * 255).astype(np.uint8)


PHOTOGRAPHS: dict[str, Callable[[], np.ndarray]] = {
    "brick": data.brick,
    "grass": data.grass,
    "gravel": data.gravel,
    "clock": data.clock,
    "motorcycle_left_grey": lambda: _grey(data.stereo_motorcycle()[0]),
}


def write(out: Path) -> list[Path]:
    """Write the photographs into ``out`` as PNGs; return their paths."""
    return colour_samples.write(out, PHOTOGRAPHS)


def main(argv: list[str] | None = None) -> int:
    return colour_samples.main(argv, module="benchmarks.grey_samples", about=__doc__,
                              photographs=PHOTOGRAPHS)


if __name__ == "__main__":
    raise SystemExit(main())
