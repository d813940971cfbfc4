"""A colour test folder from scikit-image's bundled photographs, for the quality benchmark.

    python -m benchmarks.colour_samples --out runs/colour3
    python -m benchmarks.quality --data runs/colour3 --methods ffdnet dncnn drunet bm3d

The project ships no colour test set and ``../shared/data/cbsd432`` is the
colour training set, so the colour benchmark runs on three colour
photographs that scikit-image installs (no download) and that no model sees
in training or validation (the colour validation images are
``denoisers.train.SKIMAGE_VALIDATION[True]``): an immunohistochemistry
slide (512x512), the left view of the stereo motorcycle (500x741) and the
Hubble deep field (872x1000). They are written as lossless PNGs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

PHOTOGRAPHS: dict[str, Callable[[], np.ndarray]] = {
    "immunohistochemistry": data.immunohistochemistry,
    "motorcycle_left": lambda: data.stereo_motorcycle()[0],
    "hubble_deep_field": data.hubble_deep_field,
}


def write(out: Path, photographs: Mapping[str, Callable[[], np.ndarray]] = PHOTOGRAPHS
          ) -> list[Path]:
    """Write ``photographs`` (name: loader of a uint8 image) into ``out`` as PNGs; return
    their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, load in photographs.items():
        paths.append(out / f"{name}.png")
        Image.fromarray(load()).save(paths[-1])
    return paths


def main(argv: list[str] | None = None, *, module: str = "benchmarks.colour_samples",
         about: str = __doc__,
         photographs: Mapping[str, Callable[[], np.ndarray]] = PHOTOGRAPHS) -> int:
    """The command line of ``module`` (its docstring ``about``), which writes a folder of
    ``photographs``."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}",
                                     description=about.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the PNGs into")
    for path in write(parser.parse_args(argv).out, photographs):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
