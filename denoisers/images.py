"""Where images come from: bundled samples, visitors' uploads and image folders.

Everything here returns what the rest of the library expects: a float32
array in [0, 1] of shape (H, W) for grey or (H, W, 3) for colour; samples and
uploads no larger than the working size asked for (``max_side``) on the
longer side, folders' images whole.

* :func:`load_sample` reads one of scikit-image's bundled images
  (:data:`SAMPLES`); none needs a download.
* :func:`load_upload` decodes the bytes of an uploaded file with Pillow and
  returns a :class:`Loaded`: the image and plain-English notes on what was
  done to it (EXIF rotation, alpha compositing, 16-bit scaling, downscaling,
  ...). A file that cannot be used raises :class:`ImageError`, whose message
  can be shown to a visitor as it is.
* :func:`load_folder` reads every image of a folder (training, validation
  and benchmark sets; :func:`image_paths` lists them, :func:`load_image`
  reads one) with the upload's decoder, at full size: a folder is the
  project's own data, so the visitor's limits (pixel budget, working size)
  do not apply, but its files are decoded, converted and refused alike.
* :func:`to_uint8` and :func:`to_png_bytes` turn a float image back into
  exact 8-bit pixels for display and download.

Nothing here changes Pillow's global state (``ImageFile.LOAD_TRUNCATED_IMAGES``
stays False, ``Image.MAX_IMAGE_PIXELS`` is left alone); Pillow's own
decompression-bomb limit applies on top of ``max_pixels``.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
from PIL import Image, ImageOps

from .core import Int, InvalidInput, check_params

#: The longer side of every image the site works on, in pixels.
MAX_SIDE = 1024
#: The file suffixes of the image folders the project reads (training and benchmark sets).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
#: The most pixels an upload's header may claim before anything is decoded.
MAX_PIXELS = 40_000_000
#: The shortest side an upload may have, in pixels.
MIN_SIDE = 8
#: The largest working size a caller may ask for (and its square, the largest pixel budget):
#: far past what a server holds in memory, a bound against nonsense rather than a limit.
_LARGEST_SIDE = 1 << 16

#: The size limits of :func:`downscale`, :func:`load_sample` and :func:`load_upload`.
SIZE_SPEC = (
    Int("max_side", MIN_SIDE, _LARGEST_SIDE, default=MAX_SIDE,
        help="the longer side, in pixels, an image is downscaled to fit"),
    Int("max_pixels", MIN_SIDE ** 2, _LARGEST_SIDE ** 2, default=MAX_PIXELS,
        help="the most pixels an upload's header may claim before anything is decoded"),
)

#: scikit-image's bundled sample images (no download needed), in menu order,
#: with a short description of each.
SAMPLES: Mapping[str, str] = MappingProxyType({
    "camera": "Cameraman: the classic grey test image, sharp edges and a smooth sky (512x512).",
    "astronaut": ("Astronaut Eileen Collins: a colour portrait with flags and fine detail "
                  "(512x512)."),
    "coffee": "A cup of coffee on a saucer: smooth colour gradients and soft shadows (600x400).",
    "chelsea": "Chelsea the cat: fur texture and whiskers in colour (451x300).",
    "rocket": "A rocket on its launch pad: colour photo with sky and a lattice tower (640x427).",
    "moon": "The surface of the moon: low-contrast grey craters (512x512).",
    "coins": "Greek coins on a dark background: grey, small round objects (384x303).",
    "text": "Hand-written formulas on lined paper, seen at an angle: thin grey strokes (448x172).",
    "page": "A scanned page of printed text with uneven lighting (384x191).",
    "brick": "A brick wall: a regular grey texture (512x512).",
    "grass": "Grass: a dense, fine natural texture (512x512).",
    "gravel": "Gravel: a coarse grey texture of stones (512x512).",
    "clock": "A wall clock photographed with motion blur: grey (400x300).",
    "hubble_deep_field": "Hubble Deep Field: faint galaxies on black, in colour (1000x872).",
    "immunohistochemistry": "A stained tissue section under the microscope: colour (512x512).",
    "retina": "A photograph of a human retina: red tones and thin vessels "
              "(1411x1411, downscaled).",
    "shepp_logan_phantom": "The Shepp-Logan phantom: piecewise-constant grey ellipses (400x400).",
})

# The decoders an upload may use (no EPS, which would run Ghostscript, nor exotic
# formats). Multi-picture JPEGs are read by the JPEG plugin in recent Pillow,
# by an "MPO" plugin in older ones; _formats() keeps those this Pillow has.
_FORMATS = ("PNG", "JPEG", "MPO", "TIFF", "BMP", "DIB", "WEBP", "GIF")
_NOT_AN_IMAGE = (
    "This file is not an image Pillow can read (PNG, JPEG, TIFF, BMP, WebP, GIF). "
    "Please upload a picture in one of those formats."
)


class ImageError(InvalidInput):
    """An image that cannot be used; the message can be shown to a visitor as it is."""


@dataclass(frozen=True)
class Loaded:
    """A decoded upload: the float32 image and what the loader did to it.

    ``notes`` are plain-English sentences, in the order the steps happened.
    """

    image: np.ndarray
    notes: tuple[str, ...] = ()


def centre_crop(image: np.ndarray, side: int) -> np.ndarray:
    """The centre ``side`` x ``side`` of ``image`` (a side shorter than ``side`` is kept
    whole), as a contiguous array of its own."""
    height, width = image.shape[:2]
    top, left = max(0, (height - side) // 2), max(0, (width - side) // 2)
    return np.ascontiguousarray(image[top:top + side, left:left + side])


def downscale(image: np.ndarray, max_side: int = MAX_SIDE) -> tuple[np.ndarray, str | None]:
    """Shrink ``image`` so its longer side is at most ``max_side`` pixels.

    Works on the float data channel by channel with Pillow's Lanczos filter in
    32-bit float, so no precision is lost to 8 bits; the result is clipped
    back to [0, 1] (Lanczos rings slightly past the input's range). Returns
    the image (unchanged if it already fits) and a note saying what was done,
    or None. A ``max_side`` outside :data:`SIZE_SPEC` raises an :class:`InvalidInput`.
    """
    max_side = check_params(SIZE_SPEC, {"max_side": max_side}, "downscale")["max_side"]
    image = np.asarray(image, dtype=np.float32)
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return image, None
    scale = max_side / longer
    new_w = max(1, round(width * scale)) if width != longer else max_side
    new_h = max(1, round(height * scale)) if height != longer else max_side
    channels = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    resized = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(c, dtype=np.float32))
            .resize((new_w, new_h), Image.Resampling.LANCZOS),
            dtype=np.float32,
        )
        for c in channels
    ]
    out = resized[0] if image.ndim == 2 else np.stack(resized, axis=-1)
    out = np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
    note = (f"Downscaled from {width}x{height} to {new_w}x{new_h} to fit the working size, "
            f"{max_side} pixels on the longer side.")
    return out, note


def load_sample(name: str, *, max_side: int = MAX_SIDE) -> np.ndarray:
    """Load the bundled sample ``name`` as float32 in [0, 1], (H, W) or (H, W, 3).

    Alpha is dropped, and a sample longer than ``max_side`` is downscaled
    with :func:`downscale`, as uploads are.
    """
    max_side = check_params(SIZE_SPEC, {"max_side": max_side}, "load_sample")["max_side"]
    if name not in SAMPLES:
        raise InvalidInput(
            f"unknown sample {name!r}; the samples are: {', '.join(SAMPLES)}"
        )
    from skimage import data  # deferred: importing skimage.data is not free

    array = np.asarray(getattr(data, name)())
    if array.ndim == 3 and array.shape[2] == 4:
        array = array[..., :3]
    if array.dtype == np.bool_:
        image = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):
        image = array.astype(np.float32) / np.float32(np.iinfo(array.dtype).max)
    else:
        image = np.clip(array.astype(np.float32), 0.0, 1.0)
    image, _ = downscale(image, max_side)
    return np.ascontiguousarray(image, dtype=np.float32)


# --------------------------------------------------------------------------- uploads

_ORIENTATION_TAG = 0x0112
_ORIENTATION_WORDS = {
    2: "it was mirrored left to right",
    3: "it was rotated 180 degrees",
    4: "it was flipped upside down",
    5: "it was mirrored and rotated upright",
    6: "it was rotated upright (90 degrees clockwise)",
    7: "it was mirrored and rotated upright",
    8: "it was rotated upright (90 degrees anticlockwise)",
}


def _bomb_message(pixels: int | None, max_pixels: int) -> str:
    claim = f"claims {pixels:,} pixels" if pixels else "claims too many pixels"
    return (
        f"This image is too large: its header {claim}, more than the limit of "
        f"{max_pixels:,}. Files like this can exhaust the server's memory "
        "(a 'decompression bomb'); please upload a smaller image."
    )


def _formats() -> tuple[str, ...]:
    Image.init()  # registers every plugin, as Image.open would
    return tuple(f for f in _FORMATS if f in Image.OPEN)


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Identify the file and read its header (no pixels decoded yet)."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than raises) between its limit and twice it;
            # pytest and cautious servers want that to be a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageError(_bomb_message(int(found.group(1)) if found else None,
                                       max_pixels)) from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageError(_NOT_AN_IMAGE) from exc
    except Exception as exc:  # a header Pillow chokes on: OSError, SyntaxError, ...
        raise ImageError(
            "This file looks like an image but its header is damaged, so it cannot be "
            f"read ({type(exc).__name__}: {exc})."
        ) from exc


def _frames(img: Image.Image) -> int:
    try:
        return int(getattr(img, "n_frames", 1))
    except Exception:  # counting frames reads the whole file; a damaged tail is fine
        return 1


def _decode(img: Image.Image) -> Image.Image:
    """``img`` with its pixels decoded now, so that truncation and corruption show here."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
    except Exception as exc:
        text = str(exc)
        if "truncated" in text.lower() or isinstance(exc, EOFError):
            raise ImageError(
                "This image file is truncated: it ends before all its pixels. "
                "It may not have finished uploading or saving; please try the file again."
            ) from exc
        raise ImageError(
            f"This image file is corrupt and its pixels cannot be decoded "
            f"({type(exc).__name__}: {text})."
        ) from exc
    return img


def _lab_to_rgb(img: Image.Image) -> Image.Image:
    from PIL import ImageCms

    transform = ImageCms.buildTransform(
        ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
    )
    return ImageCms.applyTransform(img, transform)


def _to_float(img: Image.Image, notes: list[str]) -> np.ndarray:
    """Pixels of ``img`` as float32 in [0, 1]: (H, W), (H, W, 3), or with alpha last."""
    mode = img.mode
    if mode == "1":
        notes.append("1-bit black-and-white image: read as grey values 0 and 1.")
        return np.asarray(img.convert("L"), dtype=np.float32) / np.float32(255)
    if mode in ("L", "RGB", "LA", "RGBA"):
        return np.asarray(img, dtype=np.float32) / np.float32(255)
    if mode in ("RGBX", "RGBa", "La"):
        target = {"RGBX": "RGB", "RGBa": "RGBA", "La": "LA"}[mode]
        return np.asarray(img.convert(target), dtype=np.float32) / np.float32(255)
    if mode in ("P", "PA"):
        has_alpha = (mode == "PA" or "transparency" in img.info
                     or (img.palette is not None and "A" in img.palette.mode))
        notes.append("Palette image converted to RGB.")
        rgb = img.convert("RGBA" if has_alpha else "RGB")
        return np.asarray(rgb, dtype=np.float32) / np.float32(255)
    if mode == "CMYK":
        notes.append("CMYK image converted to RGB.")
        return np.asarray(img.convert("RGB"), dtype=np.float32) / np.float32(255)
    if mode == "YCbCr":
        notes.append("YCbCr image converted to RGB.")
        return np.asarray(img.convert("RGB"), dtype=np.float32) / np.float32(255)
    if mode == "LAB":
        notes.append("CIELAB image converted to sRGB.")
        return np.asarray(_lab_to_rgb(img), dtype=np.float32) / np.float32(255)
    if mode.startswith("I;16"):
        notes.append("16-bit image: scaled to [0, 1] keeping its full precision.")
        values = np.asarray(img).astype(np.float64)
        return (values / 65535.0).astype(np.float32)
    if mode == "I":
        values = np.asarray(img).astype(np.float64)
        low, high = float(values.min()), float(values.max())
        if low >= 0 and high <= 65535:
            notes.append("16-bit image: scaled to [0, 1] keeping its full precision.")
            return (values / 65535.0).astype(np.float32)
        return _stretch(values, "32-bit integer", notes)
    if mode == "F":
        values = np.asarray(img)
        if not np.all(np.isfinite(values)):  # checked before any cast: a signalling NaN warns
            raise ImageError(
                "This floating-point image contains NaN or infinite values, "
                "so it has no brightness scale to show."
            )
        values = values.astype(np.float64)
        if values.min() >= 0.0 and values.max() <= 1.0:
            notes.append("32-bit float image: its values, already in [0, 1], are kept as they are.")
            return values.astype(np.float32)
        return _stretch(values, "32-bit float", notes)
    try:
        converted = img.convert("RGB")
    except Exception as exc:
        raise ImageError(
            f"This image uses the pixel mode {mode!r}, which the site cannot convert to RGB."
        ) from exc
    notes.append(f"Image in pixel mode {mode} converted to RGB.")
    return np.asarray(converted, dtype=np.float32) / np.float32(255)


def _stretch(values: np.ndarray, kind: str, notes: list[str]) -> np.ndarray:
    """Map [min, max] linearly onto [0, 1] (clip if the image is constant)."""
    low, high = float(values.min()), float(values.max())
    if high > low:
        notes.append(
            f"{kind} image with values from {low:g} to {high:g}, outside [0, 1]: "
            "stretched linearly to [0, 1]."
        )
        return ((values - low) / (high - low)).astype(np.float32)
    notes.append(f"{kind} image of the constant value {low:g}: clipped to [0, 1].")
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def _drop_alpha(array: np.ndarray, notes: list[str]) -> np.ndarray:
    """Composite an (H, W, 2) or (H, W, 4) array over white and drop its alpha."""
    if array.ndim != 3 or array.shape[2] not in (2, 4):
        return array
    colour, alpha = array[..., :-1], array[..., -1:]
    if np.all(alpha >= 1.0):
        notes.append("The alpha channel was fully opaque; it was dropped.")
        out = colour
    else:
        notes.append("The alpha channel was dropped after compositing onto white.")
        out = colour * alpha + (1.0 - alpha)
    if out.shape[2] == 1:
        out = out[..., 0]
    return out.astype(np.float32, copy=False)


def _first_frame(img: Image.Image, notes: list[str]) -> Image.Image:
    """``img`` at its first frame, noted when the file holds several (an animation, pages)."""
    frames = _frames(img)
    if frames > 1:
        try:
            img.seek(0)
        except Exception as exc:
            raise ImageError("The first frame of this animated image cannot be read.") from exc
        notes.append(f"The file holds {frames} frames (an animation or several pages); "
                     "only the first is used.")
    return img


def _upright(img: Image.Image, notes: list[str]) -> Image.Image:
    """``img`` turned or mirrored as its EXIF orientation tag asks (unreadable EXIF is ignored)."""
    try:
        orientation = int(img.getexif().get(_ORIENTATION_TAG, 1) or 1)
    except Exception:  # unreadable EXIF: leave the image as it is
        return img
    if orientation not in _ORIENTATION_WORDS:
        return img
    try:
        img = ImageOps.exif_transpose(img)
    except Exception as exc:
        raise ImageError(f"This image's EXIF orientation tag could not be applied "
                         f"({type(exc).__name__}: {exc}).") from exc
    if orientation in (3, 6, 8):
        notes.append("The image had an EXIF orientation tag; it was rotated upright.")
    else:
        notes.append(f"The image had an EXIF orientation tag ({orientation}); "
                     f"{_ORIENTATION_WORDS[orientation]}.")
    return img


def _pixels(img: Image.Image, notes: list[str]) -> np.ndarray:
    """The picture of an opened file as float32 in [0, 1], (H, W) or (H, W, 3): its first
    frame, decoded, upright, converted from its pixel mode, alpha composited over white."""
    img = _upright(_decode(_first_frame(img, notes)), notes)
    try:
        array = _to_float(img, notes)
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"This image's pixels cannot be converted "
                         f"({type(exc).__name__}: {exc}).") from exc
    return _drop_alpha(array, notes)


def _check_size(img: Image.Image, max_side: int, max_pixels: int) -> None:
    """Refuse, from the header alone, an upload too large, too small or too elongated."""
    width, height = img.size
    if width * height > max_pixels:
        raise ImageError(_bomb_message(width * height, max_pixels))
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            f"This image is too small to denoise: it is {width}x{height} pixels, and the "
            f"site needs at least {MIN_SIDE} pixels on each side."
        )
    longer, shorter = max(width, height), min(width, height)
    if longer > max_side and round(shorter * max_side / longer) < MIN_SIDE:
        raise ImageError(
            f"This image is too narrow: at {width}x{height} pixels, fitting it into "
            f"{max_side} pixels on the longer side leaves less than {MIN_SIDE} pixels "
            "on the shorter one."
        )


def _reduced_jpeg(img: Image.Image, max_side: int, notes: list[str]) -> None:
    """Have a JPEG at least twice too large decoded at 1/2, 1/4 or 1/8 of its size.

    libjpeg scales in the frequency domain while decoding (what Pillow's
    ``draft`` asks for), never to less than what fitting into ``max_side``
    needs; :func:`downscale` then does the rest. Without it, a file of a few
    kilobytes whose header claims tens of megapixels (libjpeg fills what the
    scan lacks with grey) costs seconds and gigabytes; with it, milliseconds.
    """
    width, height = img.size
    longer = max(width, height)
    if img.format != "JPEG" or longer < 2 * max_side:
        return
    fitted = (max(1, width * max_side // longer), max(1, height * max_side // longer))
    img.draft(None, fitted)
    if img.size != (width, height):
        notes.append(f"This {width}x{height} JPEG was decoded at "
                     f"1/{round(width / img.size[0])} of its size, {img.size[0]}x{img.size[1]} "
                     "(JPEG allows that, and it is faster), before downscaling.")


def _grey_if_equal(array: np.ndarray, notes: list[str]) -> np.ndarray:
    """A colour image whose three channels are equal, as the grey image it is."""
    if array.ndim == 3 and np.array_equal(array[..., 0], array[..., 1]) \
            and np.array_equal(array[..., 0], array[..., 2]):
        notes.append("The colour image has equal R, G, B channels; it is treated as grey.")
        return array[..., 0]
    return array


def load_upload(data: bytes, *, max_side: int = MAX_SIDE,
                max_pixels: int = MAX_PIXELS) -> Loaded:
    """Decode an uploaded file into a float32 image in [0, 1] and notes on what was done.

    Steps, each noted when it changes something: first frame of an animation
    or multi-page file; EXIF orientation; conversion of palette, CMYK, YCbCr
    and LAB images (and any other mode Pillow can convert) to RGB; 16-bit
    images scaled by 65535 at full precision; float images kept if within
    [0, 1] and stretched from their [min, max] otherwise (NaN or infinity is
    refused); alpha composited over white; a colour image with equal channels
    treated as grey; downscaling to ``max_side`` on the longer side
    (:func:`downscale`), after decoding at 1/2, 1/4 or 1/8 scale a JPEG at
    least twice too large (:func:`_reduced_jpeg`). Only the PNG, JPEG, TIFF, BMP, WebP and
    GIF decoders are tried.

    Parameters
    ----------
    data : bytes
        The file's bytes, as uploaded (bytearray and memoryview are accepted).
    max_side : int
        The longer side, in pixels, the image is downscaled to fit
        (:data:`MAX_SIDE` by default; 8 up to :data:`SIZE_SPEC`'s bound).
    max_pixels : int
        The most pixels the file's header may claim; a larger image is
        refused before any pixel is decoded (:data:`MAX_PIXELS` by default).

    Returns
    -------
    Loaded
        The image, (H, W) or (H, W, 3) float32 in [0, 1], and the notes.

    Raises
    ------
    ImageError
        With a message fit for a visitor, for an empty file, a file that is
        not an image, a truncated or corrupt one, one whose header claims more
        than ``max_pixels`` pixels (refused before any pixel is decoded), one
        smaller than 8 pixels on a side, and one so elongated that fitting it
        into ``max_side`` would leave fewer than 8 pixels on its shorter side.
    InvalidInput
        For a ``max_side`` or ``max_pixels`` outside :data:`SIZE_SPEC` (an
        :class:`~denoisers.core.InvalidType`, also a TypeError, for one that
        is not an int).
    TypeError
        For ``data`` that is not bytes.
    """
    sizes = check_params(SIZE_SPEC, {"max_side": max_side, "max_pixels": max_pixels},
                         "load_upload")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    data = bytes(data)
    if not data:
        raise ImageError("The file is empty: it has no bytes at all.")
    img = _open(data, sizes["max_pixels"])
    _check_size(img, sizes["max_side"], sizes["max_pixels"])
    notes: list[str] = []
    _reduced_jpeg(img, sizes["max_side"], notes)
    array = _grey_if_equal(_pixels(img, notes), notes)
    array, note = downscale(array, sizes["max_side"])
    if note:
        notes.append(note)
    image = np.ascontiguousarray(np.clip(array, 0.0, 1.0), dtype=np.float32)
    return Loaded(image=image, notes=tuple(notes))


# --------------------------------------------------------------------------- folders

def image_paths(folder: Path | str, *,
                suffixes: Collection[str] = IMAGE_SUFFIXES) -> list[Path]:
    """The image files of ``folder``, sorted by name: its files whose suffix, in lower case,
    is one of ``suffixes``."""
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_file() and p.suffix.lower() in suffixes)


def match_colour(image: np.ndarray, colour: bool | None) -> np.ndarray:
    """``image`` as colour (H, W, 3) if ``colour``, as grey (H, W) if not, as it is for None.

    Grey becomes colour by repeating it in R, G and B; colour becomes grey as
    its luminance (scikit-image's ``rgb2gray``, ITU-R BT.709 weights).
    Returns float32.
    """
    image = np.asarray(image, dtype=np.float32)
    if colour and image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if colour is False and image.ndim == 3:
        from skimage.color import rgb2gray  # deferred: only folders of colour read as grey

        return rgb2gray(image).astype(np.float32, copy=False)
    return image


def load_image(path: Path | str, *, colour: bool | None = None) -> np.ndarray:
    """An image file as float32 in [0, 1], decoded as an upload is but at its full size.

    ``colour`` True gives (H, W, 3), False (H, W) (:func:`match_colour`), None
    keeps the file's own: grey modes grey, all others colour. The upload's
    checks on what a file holds apply (an :class:`ImageError` naming the file
    for one that is not an image, damaged, truncated or corrupt, or beyond
    Pillow's decompression-bomb limit); its limits on size do not.
    """
    path = Path(path)
    try:
        array = _pixels(_open(path.read_bytes(), Image.MAX_IMAGE_PIXELS), [])
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from exc
    return np.ascontiguousarray(match_colour(array, colour))


def load_folder(folder: Path | str, *, colour: bool | None,
                suffixes: Collection[str] = IMAGE_SUFFIXES) -> list[np.ndarray]:
    """Every image of ``folder`` (:func:`image_paths`), in name order, read by
    :func:`load_image`: float32 in [0, 1], (H, W) or (H, W, 3) as ``colour`` asks.

    Raises an :class:`~denoisers.core.InvalidInput` for a folder with no
    image in it, and an :class:`ImageError` for a file that cannot be read.

    Parameters
    ----------
    folder : Path or str
        The folder whose image files are read (not its subfolders).
    colour : bool or None
        True reads every image as colour (H, W, 3), False as grey (H, W), None
        as each file is (:func:`match_colour`).
    suffixes : collection of str
        The lower-case file suffixes, with their dot, taken as images
        (:data:`IMAGE_SUFFIXES` by default).
    """
    paths = image_paths(folder, suffixes=suffixes)
    if not paths:
        raise InvalidInput(f"no images in {folder}: no file ending in "
                           f"{', '.join(sorted(suffixes))}")
    return [load_image(path, colour=colour) for path in paths]


# --------------------------------------------------------------------------- display

def to_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit pixels of a float [0, 1] image: clipped, then rounded half up.

    ``v`` becomes ``floor(clip(v, 0, 1) * 255 + 0.5)`` computed in float64,
    so ``k / 255`` gives back ``k`` exactly and ``(k + 0.5) / 255`` rounds up
    to ``k + 1``. uint8 input is returned as a copy; bool is 0 or 255; other
    integer dtypes are scaled by their range first. NaN or infinite values
    raise a ValueError.
    """
    array = np.asarray(image)
    if array.dtype == np.uint8:
        return array.copy()
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(array.dtype, np.integer):
        values = array.astype(np.float64) / float(np.iinfo(array.dtype).max)
    elif np.issubdtype(array.dtype, np.floating):
        values = array.astype(np.float64)
    else:
        raise InvalidInput(f"image must be numeric; got dtype {array.dtype}")
    if not np.all(np.isfinite(values)):
        raise InvalidInput("image contains NaN or infinite values")
    return np.floor(np.clip(values, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def to_png_bytes(image: np.ndarray) -> bytes:
    """A lossless 8-bit PNG of ``image`` (grey (H, W) or RGB (H, W, 3)), via :func:`to_uint8`."""
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    if pixels.ndim not in (2, 3) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        raise InvalidInput(f"image must have shape (H, W) or (H, W, 3); got {pixels.shape}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="PNG")
    return buffer.getvalue()
