"""Where images come from: samples, uploads good, odd and bad, and exact display."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from denoisers import images
from denoisers.core import InvalidInput
from denoisers.images import ImageError, Loaded, load_sample, load_upload, to_png_bytes, to_uint8

# --------------------------------------------------------------------------- helpers

def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **kwargs)
    return buffer.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def _bomb_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR (valid CRC) claims width x height, with a token IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))


def _gradient(width: int, height: int) -> np.ndarray:
    """A smooth uint8 RGB image with distinct channels."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1),
                     (x + y) * 255 // max(1, width + height - 2)], axis=-1).astype(np.uint8)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """A folder of bad and unusual files, written with Pillow and raw bytes."""
    folder = tmp_path_factory.mktemp("uploads")
    rng = np.random.default_rng(0)

    def write(name: str, data: bytes) -> None:
        (folder / name).write_bytes(data)

    write("notes.txt", b"Just some text, certainly not an image.\n" * 20)
    write("random.bin", rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    write("empty.png", b"")

    photo = Image.fromarray(_gradient(64, 48))
    png = _save(photo, "PNG")
    write("photo.png", png)
    write("truncated.png", png[: len(png) // 2])
    noisy = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    jpeg = _save(noisy, "JPEG", quality=95)
    write("truncated.jpg", jpeg[: len(jpeg) // 2])
    write("bomb.png", _bomb_png(100_000, 100_000))
    write("big_header.png", _bomb_png(8000, 6000))  # 48 MP: over 40 MP, under Pillow's limit

    ramp = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    ramp[0, 0], ramp[0, 1], ramp[0, 2] = 0, 1, 65535
    write("grey16.png", _save(Image.fromarray(ramp), "PNG"))

    pal = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    write("palette.png", _save(pal, "PNG"))
    pal_t = pal.copy()
    pal_t.info["transparency"] = int(np.asarray(pal)[0, 0])
    write("palette_transparent.png", _save(pal_t, "PNG", transparency=pal_t.info["transparency"]))

    write("cmyk.jpg", _save(Image.new("CMYK", (32, 24), (0, 255, 255, 0)), "JPEG", quality=95))

    rgba = np.zeros((16, 16, 4), dtype=np.uint8)
    rgba[..., 0] = 255            # pure red ...
    rgba[:, :8, 3] = 255          # ... opaque on the left
    rgba[:, 8:, 3] = 0            # transparent on the right
    rgba[:8, 8:, 3] = 128         # half transparent at top right
    write("rgba.png", _save(Image.fromarray(rgba), "PNG"))

    stored = np.zeros((20, 40, 3), dtype=np.uint8)  # 40 wide, 20 tall as stored
    stored[:8, :8] = (255, 0, 0)                      # red top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6
    write("exif6.jpg", _save(Image.fromarray(stored), "JPEG", quality=95, exif=exif))

    write("large.png", _save(Image.fromarray(_gradient(3000, 2000)), "PNG", compress_level=1))

    grey_rgb = np.repeat(_gradient(32, 32)[..., :1], 3, axis=2)
    write("grey_rgb.png", _save(Image.fromarray(grey_rgb), "PNG"))
    write("tiny.png", _save(Image.new("RGB", (4, 4), (10, 20, 30)), "PNG"))

    frames = [Image.new("RGB", (16, 16), colour) for colour in
              ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    write("animated.gif", _save(frames[0], "GIF", save_all=True, append_images=frames[1:],
                                duration=100, loop=0))

    floats = np.linspace(0.0, 1.0, 32 * 32, dtype=np.float32).reshape(32, 32)
    floats[0, 0] = 1e-6
    write("float.tif", _save(Image.fromarray(floats), "TIFF"))
    hdr = np.linspace(-1.0, 3.0, 32 * 32, dtype=np.float32).reshape(32, 32)
    write("float_hdr.tif", _save(Image.fromarray(hdr), "TIFF"))

    bits = np.zeros((16, 16), dtype=bool)
    bits[:, 8:] = True
    write("bits.png", _save(Image.fromarray(bits), "PNG"))
    return folder


def _load(files: Path, name: str, **kwargs) -> Loaded:
    return load_upload((files / name).read_bytes(), **kwargs)


def _check_image(image: np.ndarray, shape: tuple[int, ...]) -> None:
    assert image.shape == shape
    assert image.dtype == np.float32
    assert image.flags.c_contiguous
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0


# --------------------------------------------------------------------------- samples

@pytest.mark.parametrize("name", list(images.SAMPLES))
def test_every_sample_loads_offline(name):
    image = load_sample(name)
    assert image.dtype == np.float32
    assert image.ndim in (2, 3)
    if image.ndim == 3:
        assert image.shape[2] == 3
    assert max(image.shape[:2]) <= images.MAX_SIDE
    assert min(image.shape[:2]) >= 64
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert float(image.max()) > float(image.min())
    assert images.SAMPLES[name]


def test_sample_longer_than_the_limit_is_downscaled():
    assert load_sample("retina").shape == (1024, 1024, 3)   # 1411x1411 on disk
    assert load_sample("camera", max_side=100).shape == (100, 100)
    assert load_sample("coffee", max_side=300).shape == (200, 300, 3)


def test_unknown_sample_names_the_samples():
    with pytest.raises(ValueError, match=r"unknown sample 'lena'.*camera.*astronaut"):
        load_sample("lena")


def test_samples_start_with_the_classics():
    assert list(images.SAMPLES)[:2] == ["camera", "astronaut"]


# --------------------------------------------------------------------------- bad uploads

@pytest.mark.parametrize("name, message", [
    ("notes.txt",
     r"^This file is not an image Pillow can read \(PNG, JPEG, TIFF, BMP, WebP, GIF\)"),
    ("random.bin", r"^This file is not an image Pillow can read"),
    ("empty.png", r"^The file is empty"),
    ("truncated.png", r"truncated"),
    ("truncated.jpg", r"truncated"),
    ("bomb.png", r"too large: its header claims 10,000,000,000 pixels.*decompression bomb"),
    ("big_header.png", r"too large: its header claims 48,000,000 pixels, more than the "
                       r"limit of 40,000,000"),
    ("tiny.png", r"too small to denoise: it is 4x4 pixels.*at least 8 pixels"),
])
def test_bad_files_raise_an_image_error(files, name, message):
    with pytest.raises(ImageError, match=message) as info:
        _load(files, name)
    assert isinstance(info.value, ValueError)


def test_image_error_keeps_the_pillow_cause(files):
    with pytest.raises(ImageError) as info:
        _load(files, "truncated.png")
    assert isinstance(info.value.__cause__, (OSError, SyntaxError, ValueError, EOFError))


def test_header_limit_is_checked_before_decoding(files):
    data = (files / "photo.png").read_bytes()
    with pytest.raises(ImageError, match=r"claims 3,072 pixels, more than the limit of 3,000"):
        load_upload(data, max_pixels=3000)
    assert load_upload(data, max_pixels=3072).image.shape == (48, 64, 3)


def test_truncation_is_caught_without_touching_pillow_state(files):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    before = Image.MAX_IMAGE_PIXELS
    for name in ("truncated.png", "truncated.jpg", "bomb.png"):
        with pytest.raises(ImageError):
            _load(files, name)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert Image.MAX_IMAGE_PIXELS == before


SIZE_CALLS = {
    "downscale": lambda max_side: images.downscale(np.zeros((16, 16), np.float32), max_side),
    "load_sample": lambda max_side: load_sample("camera", max_side=max_side),
    "load_upload": lambda max_side: load_upload(b"x", max_side=max_side),
}


@pytest.mark.parametrize("owner", SIZE_CALLS)
@pytest.mark.parametrize("max_side", [0, -5, 7, 65537])
def test_a_working_size_out_of_range_is_refused(owner, max_side):
    message = f"the 'max_side' parameter of {owner} must be an int in [8, 65536]; got {max_side}"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        SIZE_CALLS[owner](max_side)


@pytest.mark.parametrize("owner", SIZE_CALLS)
@pytest.mark.parametrize("max_side", [2.5, "1024", True, None])
def test_a_working_size_of_another_type_is_a_type_error(owner, max_side):
    expected = f"of {owner} must be an int in .*; got {re.escape(repr(max_side))}"
    with pytest.raises(TypeError, match=expected):
        SIZE_CALLS[owner](max_side)


def test_max_pixels_out_of_range_is_refused():
    message = "the 'max_pixels' parameter of load_upload must be an int in [64, 4294967296]; got 0"
    with pytest.raises(InvalidInput, match=re.escape(message)):
        load_upload(b"x", max_pixels=0)


def test_data_must_be_bytes():
    with pytest.raises(TypeError, match="data must be bytes"):
        load_upload("photo.png")  # type: ignore[arg-type]


def test_corrupt_pixel_data_is_an_image_error(files):
    data = bytearray((files / "photo.png").read_bytes())
    start = data.index(b"IDAT") + 4
    data[start:start + 40] = bytes(40)  # zero the start of the zlib stream
    with pytest.raises(ImageError):
        load_upload(bytes(data))


# --------------------------------------------------------------------- good and unusual uploads

def test_plain_png_is_exact(files):
    loaded = _load(files, "photo.png")
    _check_image(loaded.image, (48, 64, 3))
    assert loaded.notes == ()
    np.testing.assert_array_equal(to_uint8(loaded.image), _gradient(64, 48))


def test_sixteen_bit_grey_keeps_its_precision(files):
    loaded = _load(files, "grey16.png")
    _check_image(loaded.image, (64, 64))
    assert "16-bit image: scaled to [0, 1] keeping its full precision." in loaded.notes
    assert loaded.image[0, 0] == 0.0
    assert loaded.image[0, 1] == np.float32(1 / 65535)
    assert loaded.image[0, 2] == 1.0
    expected = (np.arange(64 * 64).reshape(64, 64) / 65535).astype(np.float32)
    np.testing.assert_array_equal(loaded.image[1:], expected[1:])
    assert len(np.unique(loaded.image)) == 64 * 64  # no level collapsed to 8 bits


def test_palette_without_transparency(files):
    loaded = _load(files, "palette.png")
    _check_image(loaded.image, (48, 64, 3))
    assert loaded.notes == ("Palette image converted to RGB.",)
    pal = Image.open(files / "palette.png")
    np.testing.assert_array_equal(to_uint8(loaded.image), np.asarray(pal.convert("RGB")))


def test_palette_with_transparency_is_composited_on_white(files):
    loaded = _load(files, "palette_transparent.png")
    _check_image(loaded.image, (48, 64, 3))
    assert loaded.notes == ("Palette image converted to RGB.",
                            "The alpha channel was dropped after compositing onto white.")
    pal = Image.open(files / "palette_transparent.png")
    see_through = np.asarray(pal) == pal.info["transparency"]
    assert see_through[0, 0]
    assert np.all(loaded.image[see_through] == 1.0)
    opaque = np.asarray(pal.convert("RGB"))[~see_through]
    np.testing.assert_array_equal(to_uint8(loaded.image)[~see_through], opaque)


def test_cmyk_jpeg_becomes_rgb(files):
    loaded = _load(files, "cmyk.jpg")
    _check_image(loaded.image, (24, 32, 3))
    assert loaded.notes == ("CMYK image converted to RGB.",)
    red = loaded.image.mean(axis=(0, 1))  # C=0, M=Y=100%: red
    assert red[0] > 0.9 and red[1] < 0.1 and red[2] < 0.1


def test_partial_alpha_is_composited_over_white(files):
    loaded = _load(files, "rgba.png")
    _check_image(loaded.image, (16, 16, 3))
    assert loaded.notes == ("The alpha channel was dropped after compositing onto white.",)
    image = loaded.image
    np.testing.assert_array_equal(image[:, :8], np.broadcast_to([1, 0, 0], (16, 8, 3)))
    np.testing.assert_array_equal(image[8:, 8:], np.ones((8, 8, 3)))
    a = 128 / 255
    np.testing.assert_allclose(image[:8, 8:], np.broadcast_to([1, 1 - a, 1 - a], (8, 8, 3)),
                               atol=1e-6)


def test_exif_orientation_6_is_rotated_upright(files):
    loaded = _load(files, "exif6.jpg")
    _check_image(loaded.image, (40, 20, 3))  # stored 40 wide, 20 tall; shown 20 wide, 40 tall
    assert "The image had an EXIF orientation tag; it was rotated upright." in loaded.notes
    red = loaded.image[..., 0]
    # 90 degrees clockwise: the stored top-left corner is now the top-right one.
    assert red[:5, -5:].min() > 0.7
    for corner in (red[:5, :5], red[-5:, :5], red[-5:, -5:]):
        assert corner.max() < 0.2


def test_large_image_is_downscaled_with_a_note(files):
    loaded = _load(files, "large.png")
    _check_image(loaded.image, (683, 1024, 3))
    assert loaded.notes == ("Downscaled from 3000x2000 to 1024x683 to fit the working size, "
                            "1024 pixels on the longer side.",)
    # A smooth gradient stays the same gradient.
    assert abs(float(loaded.image[0, 0, 0])) < 0.01
    assert abs(float(loaded.image[0, -1, 0]) - 1.0) < 0.01
    assert abs(float(loaded.image[-1, 0, 1]) - 1.0) < 0.01


def _claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` with its baseline frame header (SOF0) claiming ``width`` x ``height``."""
    data = bytearray(jpeg)
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("max_side, scale, decoded, fitted", [
    (1024, 4, "1581x1581", "1024x1024"),
    (256, 8, "791x791", "256x256"),
])
def test_a_small_jpeg_claiming_forty_megapixels_is_decoded_at_reduced_scale(
        max_side, scale, decoded, fitted):
    # Found by benchmarks.fuzz: libjpeg fills what the scan lacks with grey, so this
    # 1 KB file was decoded whole, 6324x6324 pixels, at seconds and a gigabyte a time.
    data = _claiming(_save(Image.fromarray(_gradient(40, 30)), "JPEG", quality=90), 6324, 6324)
    assert len(data) < 2000
    loaded = load_upload(data, max_side=max_side)
    _check_image(loaded.image, (max_side, max_side, 3))
    assert loaded.notes == (
        f"This 6324x6324 JPEG was decoded at 1/{scale} of its size, {decoded} (JPEG allows "
        "that, and it is faster), before downscaling.",
        f"Downscaled from {decoded} to {fitted} to fit the working size, {max_side} pixels on "
        "the longer side.")


def test_a_large_jpeg_decoded_at_half_scale_is_close_to_the_whole_decode():
    stored = np.asarray(Image.fromarray(_gradient(300, 150)).resize((2400, 1200)))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _save(Image.fromarray(stored), "JPEG", quality=95, exif=exif)
    loaded = load_upload(data)
    _check_image(loaded.image, (1024, 512, 3))  # upright: 1200 wide, 2400 tall
    assert loaded.notes[0] == ("This 2400x1200 JPEG was decoded at 1/2 of its size, 1200x600 "
                               "(JPEG allows that, and it is faster), before downscaling.")
    with Image.open(io.BytesIO(data)) as whole:
        upright = whole.convert("RGB").transpose(Image.Transpose.ROTATE_270)
    expected = np.asarray(upright.resize((512, 1024), Image.Resampling.LANCZOS)) / 255
    assert np.sqrt(np.mean((loaded.image - expected) ** 2)) < 1 / 255


def test_a_jpeg_less_than_twice_too_large_is_decoded_whole():
    loaded = load_upload(_save(Image.fromarray(_gradient(1500, 1000)), "JPEG"))
    assert loaded.notes == ("Downscaled from 1500x1000 to 1024x683 to fit the working size, "
                            "1024 pixels on the longer side.",)


def test_too_elongated_to_fit_is_refused_before_decoding():
    data = _bomb_png(20_000, 100)  # its pixel data is far too short: never decoded
    with pytest.raises(ImageError, match=r"too narrow: at 20000x100 pixels.*less than 8"):
        load_upload(data, max_side=1024)


def test_max_side_is_respected(files):
    loaded = _load(files, "photo.png", max_side=32)
    _check_image(loaded.image, (24, 32, 3))
    assert loaded.notes == ("Downscaled from 64x48 to 32x24 to fit the working size, 32 pixels "
                            "on the longer side.",)


def test_downscale_keeps_sixteen_bit_precision():
    ramp = (np.arange(2048, dtype=np.float32) / 65535).reshape(1, 2048).repeat(16, axis=0)
    small, note = images.downscale(ramp, 1024)
    assert small.shape == (8, 1024) and small.dtype == np.float32
    assert note.startswith("Downscaled from 2048x16 to 1024x8")
    # Mean of each pair of 16-bit steps: 8-bit rounding would collapse these.
    np.testing.assert_allclose(small[4, 100:900], (np.arange(200, 1800, 2) + 0.5) / 65535,
                               atol=0.2 / 65535)


def test_downscale_leaves_a_fitting_image_alone():
    image = np.full((10, 20), 0.25, np.float32)
    same, note = images.downscale(image, 20)
    assert note is None
    np.testing.assert_array_equal(same, image)


def test_equal_channels_become_grey(files):
    loaded = _load(files, "grey_rgb.png")
    _check_image(loaded.image, (32, 32))
    assert loaded.notes == ("The colour image has equal R, G, B channels; it is treated as grey.",)
    np.testing.assert_array_equal(to_uint8(loaded.image), _gradient(32, 32)[..., 0])


def test_animated_gif_uses_the_first_frame(files):
    loaded = _load(files, "animated.gif")
    _check_image(loaded.image, (16, 16, 3))
    assert any(re.match(r"The file holds 3 frames .*only the first is used\.", n)
               for n in loaded.notes)
    np.testing.assert_array_equal(loaded.image, np.broadcast_to([1, 0, 0], (16, 16, 3)))


def test_float_tiff_in_range_is_kept(files):
    loaded = _load(files, "float.tif")
    _check_image(loaded.image, (32, 32))
    assert loaded.notes == (
        "32-bit float image: its values, already in [0, 1], are kept as they are.",)
    expected = np.linspace(0.0, 1.0, 32 * 32, dtype=np.float32).reshape(32, 32)
    expected[0, 0] = 1e-6
    np.testing.assert_array_equal(loaded.image, expected)


def test_float_tiff_out_of_range_is_stretched(files):
    loaded = _load(files, "float_hdr.tif")
    _check_image(loaded.image, (32, 32))
    assert len(loaded.notes) == 1
    assert re.match(r"32-bit float image with values from -1 to 3, outside \[0, 1\]: "
                    r"stretched linearly", loaded.notes[0])
    assert loaded.image.min() == 0.0 and loaded.image.max() == 1.0
    expected = np.linspace(0.0, 1.0, 32 * 32).reshape(32, 32)
    np.testing.assert_allclose(loaded.image, expected, atol=1e-6)


def test_float_tiff_with_nan_is_refused():
    values = np.zeros((16, 16), np.float32)
    values[3, 3] = np.nan
    with pytest.raises(ImageError, match="NaN or infinite"):
        load_upload(_save(Image.fromarray(values), "TIFF"))


def test_one_bit_image(files):
    loaded = _load(files, "bits.png")
    _check_image(loaded.image, (16, 16))
    assert loaded.notes == ("1-bit black-and-white image: read as grey values 0 and 1.",)
    assert np.all(loaded.image[:, :8] == 0.0) and np.all(loaded.image[:, 8:] == 1.0)


@pytest.mark.parametrize("mode, note", [
    ("L", None),
    ("LA", "The alpha channel was fully opaque; it was dropped."),
    ("YCbCr", "YCbCr image converted to RGB."),
    ("I;16B", "16-bit image: scaled to [0, 1] keeping its full precision."),
    ("I", "16-bit image: scaled to [0, 1] keeping its full precision."),
])
def test_other_modes(mode, note):
    if mode == "YCbCr":
        img = Image.fromarray(_gradient(16, 12)).convert(mode)
        data = _save(img, "TIFF")
    elif mode in ("I;16B", "I"):
        values = np.arange(16 * 12, dtype=np.int32).reshape(12, 16) * 300
        img = Image.fromarray(values.astype(np.uint16)).convert(mode) if mode == "I" else \
            Image.fromarray(values.astype(">u2"))
        data = _save(img, "TIFF" if mode == "I" else "PNG")
    else:
        img = Image.fromarray(_gradient(16, 12)[..., 0]).convert(mode)
        data = _save(img, "PNG")
    loaded = load_upload(data)
    assert loaded.image.dtype == np.float32
    assert loaded.image.shape[:2] == (12, 16)
    if note is None:
        assert loaded.notes == ()
    else:
        assert note in loaded.notes
    if mode in ("I;16B", "I"):
        np.testing.assert_array_equal(
            loaded.image,
            (np.arange(16 * 12).reshape(12, 16) * 300 / 65535).astype(np.float32))


def test_lab_tiff_becomes_srgb():
    from PIL import ImageCms
    rgb = Image.new("RGB", (16, 16), (200, 10, 30))
    to_lab = ImageCms.buildTransform(ImageCms.createProfile("sRGB"),
                                     ImageCms.createProfile("LAB"), "RGB", "LAB")
    lab = ImageCms.applyTransform(rgb, to_lab)
    loaded = load_upload(_save(lab, "TIFF"))
    assert loaded.notes == ("CIELAB image converted to sRGB.",)
    np.testing.assert_allclose(loaded.image[0, 0] * 255, [200, 10, 30], atol=4)


# --------------------------------------------------------------------------- folders

@pytest.fixture
def folder(tmp_path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A folder of a colour JPEG, a grey PNG, a text file and a sub-folder named like an image;
    the JPEG's pixels as Pillow decodes them and the PNG's, both uint8."""
    grey = _gradient(20, 12)[..., 0]
    Image.fromarray(grey).save(tmp_path / "b_grey.png")
    Image.fromarray(_gradient(24, 16)).save(tmp_path / "a_colour.jpg", quality=90)
    (tmp_path / "c_notes.txt").write_text("not an image")
    (tmp_path / "d_folder.png").mkdir()
    with Image.open(tmp_path / "a_colour.jpg") as jpeg:
        colour = np.asarray(jpeg.convert("RGB"))
    return tmp_path, colour, grey


def test_a_folder_is_read_in_name_order_as_its_files_are(folder):
    path, colour, grey = folder
    assert [p.name for p in images.image_paths(path)] == ["a_colour.jpg", "b_grey.png"]
    first, second = images.load_folder(path, colour=None)
    _check_image(first, (16, 24, 3))
    _check_image(second, (12, 20))
    np.testing.assert_allclose(first, colour / 255, atol=1e-7)
    np.testing.assert_allclose(second, grey / 255, atol=1e-7)


def test_a_folder_is_read_as_grey_or_colour_as_asked(folder):
    path, colour, grey = folder
    first, second = images.load_folder(path, colour=False)
    _check_image(first, (16, 24))
    _check_image(second, (12, 20))
    luminance = colour @ np.array([0.2125, 0.7154, 0.0721]) / 255  # ITU-R BT.709
    np.testing.assert_allclose(first, luminance, atol=1e-6)
    first, second = images.load_folder(path, colour=True)
    _check_image(first, (16, 24, 3))
    _check_image(second, (12, 20, 3))
    np.testing.assert_allclose(second, np.stack([grey / 255] * 3, axis=-1), atol=1e-7)


def test_a_folder_keeps_to_the_suffixes_asked_for(folder):
    loaded = images.load_folder(folder[0], colour=None, suffixes={".png"})
    assert [image.shape for image in loaded] == [(12, 20)]


def test_a_folder_file_is_decoded_as_an_upload_is_but_kept_whole(tmp_path):
    Image.fromarray(_gradient(1500, 40)).save(tmp_path / "wide.png")  # past the working size
    ramp = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16
    Image.fromarray(ramp).save(tmp_path / "x16.png")
    wide, deep = images.load_folder(tmp_path, colour=None)
    assert wide.shape == (40, 1500, 3)
    np.testing.assert_allclose(deep, ramp / 65535, atol=1e-7)  # 16 bits, not 8


def test_an_unreadable_folder_file_is_named(tmp_path):
    Image.fromarray(_gradient(16, 16)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_text("not an image")
    with pytest.raises(ImageError, match=r"b\.png: This file is not an image"):
        images.load_folder(tmp_path, colour=None)


def test_a_folder_without_images_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(InvalidInput, match="no images in .*: no file ending in .bmp, .jpeg"):
        images.load_folder(tmp_path, colour=False)


# --------------------------------------------------------------------------- display

def test_to_uint8_rounds_half_up_after_clipping():
    k = np.arange(256)
    np.testing.assert_array_equal(to_uint8((k / 255).astype(np.float32)), k)
    np.testing.assert_array_equal(to_uint8(k / 255), k)
    assert to_uint8(np.array([0.5 / 255]))[0] == 1          # exactly half: up
    assert to_uint8(np.array([0.499 / 255]))[0] == 0
    assert to_uint8(np.array([100.5 / 255]))[0] == 101
    assert to_uint8(np.array([100.49 / 255]))[0] == 100
    assert to_uint8(np.array([0.0019]))[0] == 0               # 0.48: truncation also 0
    assert to_uint8(np.array([0.9990]))[0] == 255             # 254.75: truncation gives 254
    np.testing.assert_array_equal(to_uint8(np.array([-0.3, 1.7, -0.0])), [0, 255, 0])
    out = to_uint8(np.zeros((3, 4, 3), np.float32))
    assert out.dtype == np.uint8 and out.shape == (3, 4, 3)


def test_to_uint8_other_dtypes_and_non_finite():
    pixels = np.array([[0, 7, 255]], np.uint8)
    np.testing.assert_array_equal(to_uint8(pixels), pixels)
    assert to_uint8(pixels) is not pixels
    np.testing.assert_array_equal(to_uint8(np.array([False, True])), [0, 255])
    np.testing.assert_array_equal(to_uint8(np.array([0, 257, 65535], np.uint16)), [0, 1, 255])
    with pytest.raises(ValueError, match="NaN or infinite"):
        to_uint8(np.array([0.2, np.nan]))


@pytest.mark.parametrize("shape", [(17, 23), (17, 23, 3), (17, 23, 1)])
def test_png_bytes_round_trip_exactly(shape):
    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    data = to_png_bytes(image)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    back = np.asarray(Image.open(io.BytesIO(data)))
    np.testing.assert_array_equal(back, to_uint8(image).reshape(back.shape))
    loaded = load_upload(data)
    np.testing.assert_array_equal(to_uint8(loaded.image), back)


def test_png_bytes_refuses_other_shapes():
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        to_png_bytes(np.zeros((4, 4, 4), np.float32))
