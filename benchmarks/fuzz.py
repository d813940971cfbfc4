"""Fuzzing the upload loader: thousands of random and mutated files, each decoded or refused.

    python -m benchmarks.fuzz --count 5000 --seed 0

Every file the site may be handed goes through
:func:`denoisers.images.load_upload`, and each must end in one of two ways:
a float32 image in [0, 1], (H, W) or (H, W, 3), within the limits asked for
(``max_side`` on the longer side, ``max_pixels`` in all), or an
:class:`~denoisers.images.ImageError` with a message for the visitor, within
:data:`TIME_LIMIT` seconds. Anything else (another exception, an image out
of range or of the wrong shape, an empty message, a slow file) is a failure.

The files are made here, in memory: valid :data:`SEEDS` written by Pillow
(PNG grey, RGB, RGBA, palette and 16-bit; JPEG, progressive with an EXIF
orientation; animated GIF; TIFF in LZW colour, float and 16-bit; lossy and
lossless WebP; BMP colour and grey; small and odd sizes), then changed by one
of :data:`MUTATIONS`: bit flips, byte overwrites, truncations, one format's
header spliced on another's body, lying length fields, huge declared
dimensions (decompression bombs), random bytes after the format's magic
number, and random bytes alone (as a file with the format's suffix: the
loader goes by content, never by name). :func:`mutate` makes case
``number`` of a seed and a mutation the same way every time, so a case is
named by those three and rebuilt from them.

The command runs ``--count`` cases round-robin over seeds and mutations
(the limits alternate between the site's own and small ones), prints a
markdown report (what each seed costs to decode unharmed, outcomes by
format and by mutation, the slowest files) and writes it to
``--out/fuzz.md``; each failure's bytes and traceback go to
``--out/failures/``, and the exit status is 1 if there was any. A watchdog
stops a file still running after :data:`STOP_AFTER` seconds, so a hang is a
recorded failure rather than a stuck run. ``tests/test_fuzz_images.py``
draws a few hundred cases from the same generators with hypothesis.
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import signal
import statistics
import struct
import sys
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
from PIL import Image

from denoisers.images import MAX_PIXELS, MAX_SIDE, ImageError, load_upload

from . import common

MODULE = "benchmarks.fuzz"

#: The most seconds one file may take, decoded or refused. An unharmed seed takes a
#: millisecond or less (the report's first table), but the limits allow worse: a GIF of
#: 2 KB whose header claims 6324x6324 pixels (Pillow fills the frame data it lacks) is
#: decoded at 40 megapixels, under MAX_PIXELS, in 2 to 3 s on a laptop-class CPU.
TIME_LIMIT = 5.0
#: When the command's watchdog stops a file that is still running: a hang, not a slow file.
STOP_AFTER = 30.0
#: The (max_side, max_pixels) limits cases are loaded with: the site's own, and
#: small ones under which the seeds themselves are downscaled or refused.
LIMITS: tuple[tuple[int, int], ...] = ((MAX_SIDE, MAX_PIXELS), (16, 1024))

#: Declared widths and heights a bomb may claim: edges of signed and unsigned fields,
#: just past the smallest side, and either side of the site's pixel limit.
_HOSTILE_SIDES = (0, 1, 7, 8, 255, 256, 6324, 6325, 16383, 0x7FFF, 0x8000, 0xFFFF,
                  0x10000, 100_000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)
#: Width and height pairs at, or just past, the site's pixel limit of 40 megapixels.
_AT_THE_LIMIT = ((6324, 6324), (6325, 6325), (16383, 2441), (2441, 16383), (65535, 610))
#: Values a length field may lie with, besides lengths near its true one.
_HOSTILE_LENGTHS = (0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)


# --------------------------------------------------------------------------- seeds

@dataclass(frozen=True)
class Seed:
    """A valid image file written by Pillow: ``format`` is Pillow's name for it."""

    name: str
    format: str
    suffix: str
    data: bytes


def _gradient(width: int, height: int, seed: int) -> np.ndarray:
    """A uint8 RGB picture with smooth ramps and some noise: every decoder has work to do."""
    y, x = np.mgrid[0:height, 0:width]
    ramps = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1),
                      (x + y) * 255 // max(1, width + height - 2)], axis=-1)
    noise = np.random.default_rng(seed).integers(-20, 21, ramps.shape)
    return np.clip(ramps + noise, 0, 255).astype(np.uint8)


def _save(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _animation(width: int, height: int) -> bytes:
    frames = [Image.fromarray(_gradient(width, height, k)).convert("P") for k in range(3)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


def _upright_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show upright
    return exif


def _palette_png() -> bytes:
    palette = Image.fromarray(_gradient(16, 16, 3)).convert("P", colors=12)
    return _save(palette, "PNG", transparency=0)


def _seed_files() -> dict[str, tuple[str, str, bytes]]:
    """name: (format, suffix, bytes) of every seed."""
    ramp16 = (np.arange(20 * 12, dtype=np.uint16).reshape(12, 20) * 271)
    floats = np.linspace(-0.25, 1.5, 11 * 9, dtype=np.float32).reshape(9, 11)
    translucent = np.dstack([_gradient(8, 8, 8), np.arange(64, dtype=np.uint8).reshape(8, 8) * 4])
    return {
        "png_grey": ("PNG", ".png", _save(Image.fromarray(_gradient(17, 9, 0)[..., 0]), "PNG")),
        "png_rgb": ("PNG", ".png", _save(Image.fromarray(_gradient(64, 48, 1)), "PNG")),
        "png_rgba": ("PNG", ".png", _save(Image.fromarray(_gradient(23, 31, 2)).convert("RGBA"),
                                          "PNG")),
        "png_palette": ("PNG", ".png", _palette_png()),
        "png_16bit": ("PNG", ".png", _save(Image.fromarray(ramp16), "PNG")),
        "jpeg": ("JPEG", ".jpg", _save(Image.fromarray(_gradient(40, 30, 4)), "JPEG", quality=90)),
        "jpeg_progressive": ("JPEG", ".jpg", _save(Image.fromarray(_gradient(33, 21, 5)), "JPEG",
                                                   quality=75, progressive=True,
                                                   exif=_upright_exif())),
        "gif_animated": ("GIF", ".gif", _animation(19, 13)),
        "tiff_lzw": ("TIFF", ".tif", _save(Image.fromarray(_gradient(24, 16, 6)), "TIFF",
                                           compression="tiff_lzw")),
        "tiff_float": ("TIFF", ".tif", _save(Image.fromarray(floats), "TIFF")),
        "tiff_16bit": ("TIFF", ".tif", _save(Image.fromarray(ramp16), "TIFF")),
        "webp_lossy": ("WEBP", ".webp", _save(Image.fromarray(_gradient(32, 24, 7)), "WEBP",
                                              quality=80)),
        "webp_lossless": ("WEBP", ".webp", _save(Image.fromarray(translucent), "WEBP",
                                                 lossless=True)),
        "bmp_rgb": ("BMP", ".bmp", _save(Image.fromarray(_gradient(25, 10, 9)), "BMP")),
        "bmp_grey": ("BMP", ".bmp", _save(Image.fromarray(_gradient(9, 13, 10)[..., 1]), "BMP")),
    }


@functools.cache
def seeds() -> Mapping[str, Seed]:
    """The valid files every case starts from, by name (made once, in memory)."""
    return MappingProxyType({name: Seed(name, fmt, suffix, data)
                             for name, (fmt, suffix, data) in _seed_files().items()})


def formats() -> tuple[str, ...]:
    """The formats of the seeds, in seed order, each once."""
    return tuple(dict.fromkeys(seed.format for seed in seeds().values()))


# ----------------------------------------------------------------- the structure of each format

@dataclass(frozen=True)
class Field:
    """An unsigned integer field of a file: where, how many bytes, which byte order."""

    offset: int
    size: int
    order: str  # "big" or "little"

    def write(self, data: bytearray, value: int) -> None:
        """Store ``value``, cut to the field's width, in ``data``."""
        value &= (1 << (8 * self.size)) - 1
        data[self.offset:self.offset + self.size] = value.to_bytes(self.size, self.order)


def _png_chunks(data: bytes) -> Iterator[tuple[int, bytes, int]]:
    """(offset, type, length) of each PNG chunk, as far as the lengths hold."""
    offset = 8
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        yield offset, data[offset + 4:offset + 8], length
        offset += 12 + length


def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int]]:
    """(offset, marker) of each JPEG marker segment that has a length, up to the scan."""
    offset = 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        yield offset, marker
        if marker == 0xDA:
            return
        offset += 2 + int.from_bytes(data[offset + 2:offset + 4], "big")


_JPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7,
                          0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def _gif_blocks(data: bytes) -> tuple[list[int], list[int]]:
    """The offsets of a GIF's image descriptors and of its data sub-blocks' size bytes."""
    descriptors: list[int] = []
    sizes: list[int] = []
    flags = data[10]
    offset = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)

    def sub_blocks(at: int) -> int:
        while at < len(data) and data[at]:
            sizes.append(at)
            at += 1 + data[at]
        return at + 1

    while offset < len(data):
        kind = data[offset]
        if kind == 0x21:  # extension: label, then sub-blocks
            offset = sub_blocks(offset + 2)
        elif kind == 0x2C:  # image: descriptor, optional local table, LZW size, sub-blocks
            descriptors.append(offset)
            local = data[offset + 9] if offset + 9 < len(data) else 0
            offset += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0)
            offset = sub_blocks(offset + 1)
        else:
            break
    return descriptors, sizes


def _tiff_entries(data: bytes) -> tuple[str, list[tuple[int, int, int]]]:
    """The byte order of a TIFF and (offset, tag, type) of each entry of its first IFD."""
    order = "little" if data[:2] == b"II" else "big"
    ifd = int.from_bytes(data[4:8], order)
    count = int.from_bytes(data[ifd:ifd + 2], order)
    entries = []
    for k in range(count):
        at = ifd + 2 + 12 * k
        entries.append((at, int.from_bytes(data[at:at + 2], order),
                        int.from_bytes(data[at + 2:at + 4], order)))
    return order, entries


def _riff_chunks(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(offset, fourcc) of each chunk of a RIFF (WebP) file."""
    offset = 12
    while offset + 8 <= len(data):
        yield offset, data[offset:offset + 4]
        size = int.from_bytes(data[offset + 4:offset + 8], "little")
        offset += 8 + size + (size & 1)


def length_fields(seed: Seed) -> list[Field]:
    """The fields of ``seed``'s file that say how long something is."""
    data = seed.data
    if seed.format == "PNG":
        return [Field(at, 4, "big") for at, _, _ in _png_chunks(data)]
    if seed.format == "JPEG":
        return [Field(at + 2, 2, "big") for at, _ in _jpeg_segments(data)]
    if seed.format == "GIF":
        return [Field(at, 1, "little") for at in _gif_blocks(data)[1]]
    if seed.format == "TIFF":
        order, entries = _tiff_entries(data)
        counts = [Field(at + 4, 4, order) for at, _, _ in entries]
        strips = [Field(at + 8, 4, order) for at, tag, _ in entries if tag in (273, 278, 279)]
        return counts + strips + [Field(4, 4, order)]
    if seed.format == "WEBP":
        return [Field(4, 4, "little")] + [Field(at + 4, 4, "little")
                                          for at, _ in _riff_chunks(data)]
    # BMP: file size, pixel offset, header size, image size, colours used
    return [Field(at, 4, "little") for at in (2, 10, 14, 34, 46)]


def dimension_fields(seed: Seed) -> list[Field]:
    """The width and height fields of ``seed``'s file (for WebP, of its VP8 or VP8X chunk)."""
    data = seed.data
    if seed.format == "PNG":
        return [Field(16, 4, "big"), Field(20, 4, "big")]
    if seed.format == "JPEG":
        return [Field(at + off, 2, "big") for at, marker in _jpeg_segments(data)
                if marker in _JPEG_FRAMES for off in (7, 5)]
    if seed.format == "GIF":
        return [Field(6, 2, "little"), Field(8, 2, "little")] + [
            Field(at + off, 2, "little") for at in _gif_blocks(data)[0] for off in (5, 7)]
    if seed.format == "TIFF":
        order, entries = _tiff_entries(data)
        return [Field(at + 8, 2 if kind == 3 else 4, order)
                for at, tag, kind in entries if tag in (256, 257)]
    if seed.format == "WEBP":
        found = []
        for at, fourcc in _riff_chunks(data):
            if fourcc == b"VP8 ":
                found += [Field(at + 14, 2, "little"), Field(at + 16, 2, "little")]
            elif fourcc == b"VP8X":
                found += [Field(at + 12, 3, "little"), Field(at + 15, 3, "little")]
            elif fourcc == b"VP8L":
                found += [Field(at + 9, 4, "little")]  # both 14-bit sides, packed
        return found
    return [Field(18, 4, "little"), Field(22, 4, "little")]


def _header_length(seed: Seed) -> int:
    """Where the header ends and the picture data begins, roughly."""
    data = seed.data
    if seed.format == "PNG":
        return next((at for at, kind, _ in _png_chunks(data) if kind == b"IDAT"), 33)
    if seed.format == "JPEG":
        return next((at for at, marker in _jpeg_segments(data) if marker == 0xDA), 2)
    if seed.format == "GIF":
        descriptors = _gif_blocks(data)[0]
        return descriptors[0] if descriptors else 13
    if seed.format == "WEBP":
        return 20
    if seed.format == "TIFF":
        return 8
    return int.from_bytes(data[10:14], "little")


def _fix_png_crcs(data: bytearray) -> None:
    """Recompute the CRC of every PNG chunk before the pixel data, so a changed header is read."""
    for at, kind, length in _png_chunks(bytes(data)):
        if kind == b"IDAT" or at + 12 + length > len(data):
            return
        crc = zlib.crc32(data[at + 4:at + 8 + length]) & 0xFFFFFFFF
        data[at + 8 + length:at + 12 + length] = struct.pack(">I", crc)


# --------------------------------------------------------------------------- mutations

def _bit_flips(seed: Seed, rng: random.Random) -> bytes:
    data = bytearray(seed.data)
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def _overwrite(seed: Seed, rng: random.Random) -> bytes:
    data = bytearray(seed.data)
    for _ in range(rng.randint(1, 4)):
        start = rng.randrange(len(data))
        fill = rng.choice((0x00, 0xFF, 0x7F, 0x80, None))
        run = rng.randint(1, 16)
        data[start:start + run] = (bytes([fill]) * run if fill is not None
                                   else rng.randbytes(run))
    return bytes(data[:len(seed.data)])


def _truncate(seed: Seed, rng: random.Random) -> bytes:
    return seed.data[:rng.randrange(len(seed.data))]


def _splice(seed: Seed, rng: random.Random) -> bytes:
    other = rng.choice([s for s in seeds().values() if s.format != seed.format])
    head = _header_length(seed) + rng.randint(-4, 4)
    body = _header_length(other) + rng.randint(-4, 4)
    return seed.data[:max(1, head)] + other.data[max(0, body):]


def _length_lie(seed: Seed, rng: random.Random) -> bytes:
    data = bytearray(seed.data)
    field = rng.choice(length_fields(seed))
    true = int.from_bytes(data[field.offset:field.offset + field.size], field.order)
    field.write(data, rng.choice((*_HOSTILE_LENGTHS, true - 1, true + 1, true * 2,
                                  rng.getrandbits(8 * field.size))))
    return bytes(data)


def _huge_dimensions(seed: Seed, rng: random.Random) -> bytes:
    """Hostile sides in some of the width and height fields, or, half the time, one
    width and height near the site's pixel limit in all of them (a bomb it lets in)."""
    data = bytearray(seed.data)
    fields = dimension_fields(seed)  # width, height, width, height, ...
    if rng.random() < 0.5:
        for field in rng.sample(fields, rng.randint(1, len(fields))):
            field.write(data, rng.choice(_HOSTILE_SIDES))
    else:
        pair = rng.choice(_AT_THE_LIMIT)
        for index, field in enumerate(fields):
            field.write(data, pair[index % 2])
    if seed.format == "PNG":
        _fix_png_crcs(data)
    return bytes(data)


def _random_after_magic(seed: Seed, rng: random.Random) -> bytes:
    return seed.data[:rng.choice((2, 4, 8, 12, 16))] + rng.randbytes(rng.randint(0, 2048))


def _random_bytes(seed: Seed, rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice((0, 1, 7, 64, 512, 4096)))


#: How a seed is changed into a case: each takes the seed and a seeded random source.
MUTATIONS: Mapping[str, Callable[[Seed, random.Random], bytes]] = MappingProxyType({
    "bit_flip": _bit_flips,
    "overwrite": _overwrite,
    "truncate": _truncate,
    "splice": _splice,
    "length_lie": _length_lie,
    "huge_dimensions": _huge_dimensions,
    "random_after_magic": _random_after_magic,
    "random_bytes": _random_bytes,
})


def mutate(seed_name: str, mutation: str, number: int) -> bytes:
    """Case ``number`` of ``mutation`` applied to the seed ``seed_name``: the same bytes
    every time (the random source is seeded by all three)."""
    rng = random.Random(f"{seed_name}/{mutation}/{number}")
    return MUTATIONS[mutation](seeds()[seed_name], rng)


# --------------------------------------------------------------------------- the property

class _Stopped(BaseException):
    """Raised by the watchdog; not an Exception, so that no ``except Exception`` swallows it."""


@contextmanager
def _watchdog(seconds: float | None) -> Iterator[None]:
    """Raise :class:`_Stopped` in this (main) thread after ``seconds``; None: no watchdog.

    A timer already set (pytest-timeout's, say) is put back afterwards with the time
    it had left, and its handler with it.
    """
    if seconds is None:
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGALRM, stop)
    start = time.monotonic()
    left, interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if left > 0:
            signal.setitimer(signal.ITIMER_REAL,
                             max(left - (time.monotonic() - start), 1e-3), interval)


@dataclass(frozen=True)
class Outcome:
    """What became of one file: ``kind`` is "decoded", "refused" or "failure"; ``detail``
    the image's shape, the refusal's message or what went wrong; ``trace`` a failure's
    traceback, if it raised."""

    kind: str
    seconds: float
    detail: str
    trace: str = ""


def _problem(image: np.ndarray, max_side: int, max_pixels: int) -> str | None:
    """What is wrong with a decoded image, or None."""
    if not isinstance(image, np.ndarray) or image.dtype != np.float32:
        return f"not a float32 array: {type(image).__name__} {getattr(image, 'dtype', '')}"
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        return f"shape {image.shape} is neither (H, W) nor (H, W, 3)"
    height, width = image.shape[:2]
    if min(height, width) < 1 or max(height, width) > max_side or height * width > max_pixels:
        return f"{width}x{height} is outside the limits ({max_side} a side, {max_pixels} pixels)"
    if not np.all(np.isfinite(image)) or image.min() < 0.0 or image.max() > 1.0:
        return "values outside [0, 1]"
    return None


def try_file(data: bytes, *, max_side: int = MAX_SIDE, max_pixels: int = MAX_PIXELS,
             time_limit: float = TIME_LIMIT, stop_after: float | None = None) -> Outcome:
    """Load ``data`` as an upload and say how it ended (:class:`Outcome`).

    Decoded: a float32 image in [0, 1], (H, W) or (H, W, 3), at most
    ``max_side`` on the longer side and ``max_pixels`` in all. Refused: an
    :class:`ImageError` with a non-empty message. Either within
    ``time_limit`` seconds; anything else is a failure. ``stop_after`` (main
    thread only) stops a file still running after that many seconds.
    """
    start = time.perf_counter()
    try:
        with _watchdog(stop_after):
            loaded = load_upload(data, max_side=max_side, max_pixels=max_pixels)
    except ImageError as error:
        kind, detail, trace = "refused", str(error), ""
        if not detail.strip():
            kind, detail, trace = "failure", "ImageError with an empty message", \
                traceback.format_exc()
    except _Stopped:
        kind, detail, trace = "failure", f"still running after {stop_after:g} s: stopped", \
            traceback.format_exc()
    except Exception as error:  # the property under test: nothing but ImageError escapes
        kind, detail, trace = "failure", f"{type(error).__name__}: {error}", \
            traceback.format_exc()
    else:
        problem = _problem(loaded.image, max_side, max_pixels)
        kind, detail, trace = ("failure", problem, "") if problem else \
            ("decoded", "x".join(map(str, loaded.image.shape)), "")
    seconds = time.perf_counter() - start
    if kind != "failure" and seconds > time_limit:
        kind, detail = "failure", f"took {seconds:.2f} s, over {time_limit:g} s ({detail})"
    return Outcome(kind, seconds, detail, trace)


# --------------------------------------------------------------------------- the command

@dataclass(frozen=True)
class Case:
    """One file of a run: how it was made, the limits it was loaded with, how it ended."""

    seed: str
    format: str
    mutation: str
    number: int
    max_side: int
    max_pixels: int
    size: int
    outcome: Outcome

    @property
    def name(self) -> str:
        return f"{self.seed}/{self.mutation}/{self.number}"


def plan(count: int, seed: int) -> Iterator[tuple[str, str, int, tuple[int, int]]]:
    """``count`` cases (seed name, mutation, number, limits), round-robin over seeds and
    mutations so every pair comes up about equally; ``seed`` picks the numbers."""
    names, mutations = list(seeds()), list(MUTATIONS)
    numbers = random.Random(seed)
    for index in range(count):
        yield (names[index % len(names)],
               mutations[(index // len(names)) % len(mutations)],
               numbers.getrandbits(32),
               LIMITS[(index // (len(names) * len(mutations))) % len(LIMITS)])


def run_cases(count: int, seed: int, stop_after: float | None = STOP_AFTER) -> list[Case]:
    """Make and load ``count`` cases (:func:`plan`), with a progress line every thousand."""
    cases = []
    for index, (name, mutation, number, (side, pixels)) in enumerate(plan(count, seed), 1):
        data = mutate(name, mutation, number)
        outcome = try_file(data, max_side=side, max_pixels=pixels, stop_after=stop_after)
        cases.append(Case(name, seeds()[name].format, mutation, number, side, pixels,
                          len(data), outcome))
        if index % 1000 == 0:
            common.progress(f"{index}/{count} files")
    return cases


def seed_costs(repeats: int = 5) -> list[tuple[Seed, str, float]]:
    """Each seed unharmed: its outcome (the shape it decodes to) and median decode time."""
    found = []
    for seed in seeds().values():
        outcomes = [try_file(seed.data) for _ in range(repeats)]
        found.append((seed, outcomes[0].detail if outcomes[0].kind == "decoded"
                      else f"**{outcomes[0].kind}: {outcomes[0].detail}**",
                      statistics.median(o.seconds for o in outcomes)))
    return found


def record_failures(cases: Sequence[Case], folder: Path) -> list[Path]:
    """Write each failed case's bytes (under its seed's suffix) and what happened (``.txt``)
    to ``folder``; returns the paths of the bytes."""
    written = []
    for case in cases:
        if case.outcome.kind != "failure":
            continue
        stem = f"{case.seed}-{case.mutation}-{case.number}"
        data = mutate(case.seed, case.mutation, case.number)
        common.output_dir(folder)
        kept = folder / f"{stem}{seeds()[case.seed].suffix}"  # opens as the seed's type
        kept.write_bytes(data)
        (folder / f"{stem}.txt").write_text(
            f"case: {case.name} (benchmarks.fuzz.mutate({case.seed!r}, {case.mutation!r}, "
            f"{case.number}))\nlimits: max_side={case.max_side}, max_pixels={case.max_pixels}\n"
            f"failure: {case.outcome.detail}\nseconds: {case.outcome.seconds:.3f}\n\n"
            f"{case.outcome.trace}")
        written.append(kept)
    return written


def _outcome_table(cases: Sequence[Case], key: Callable[[Case], str],
                   heading: str) -> str:
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(key(case), []).append(case)
    rows = []
    for name, group in groups.items():
        kinds = Counter(c.outcome.kind for c in group)
        rows.append((name, str(len(group)), str(kinds["decoded"]), str(kinds["refused"]),
                     str(kinds["failure"]),
                     common.duration(max(c.outcome.seconds for c in group))))
    kinds = Counter(c.outcome.kind for c in cases)
    rows.append(("**all**", str(len(cases)), str(kinds["decoded"]), str(kinds["refused"]),
                 str(kinds["failure"]),
                 common.duration(max((c.outcome.seconds for c in cases), default=0.0))))
    return common.markdown_table((heading, "files", "decoded", "refused (ImageError)",
                                  "failures", "slowest"), rows)


def report(cases: Sequence[Case], costs: Sequence[tuple[Seed, str, float]], run_command: str,
           seconds: float, failures: Sequence[Path]) -> str:
    """The markdown report of a run."""
    kinds = Counter(c.outcome.kind for c in cases)
    slowest = sorted(cases, key=lambda c: c.outcome.seconds, reverse=True)[:5]
    lines = [
        common.header("Fuzzing the upload loader", run_command, {
            "libraries": common.versions(("Pillow", "numpy")),
            "limits": "; ".join(f"max_side {s}, max_pixels {p:,}" for s, p in LIMITS)
                      + " (alternating)",
            "time bound": f"{TIME_LIMIT:g} s a file (a watchdog stops one at {STOP_AFTER:g} s)",
        }),
        f"**{len(cases)} files tried in {seconds:.1f} s: {kinds['decoded']} decoded, "
        f"{kinds['refused']} refused with an ImageError, {kinds['failure']} failures; "
        f"the slowest took {common.duration(slowest[0].outcome.seconds if slowest else 0)}.**",
        "",
        "## The seeds, unharmed (median of 5 loads at the site's limits)", "",
        common.markdown_table(("seed", "format", "bytes", "decoded to", "time"), [
            (f"`{seed.name}`", seed.format, str(len(seed.data)), shape, common.duration(t))
            for seed, shape, t in costs]),
        "## Outcomes by format", "",
        _outcome_table(cases, lambda c: c.format, "format"),
        "## Outcomes by mutation", "",
        _outcome_table(cases, lambda c: f"`{c.mutation}`", "mutation"),
        "## The slowest files", "",
        common.markdown_table(("case", "limits", "bytes", "outcome", "time"), [
            (f"`{c.name}`", f"{c.max_side}, {c.max_pixels:,}", str(c.size),
             f"{c.outcome.kind}: {c.outcome.detail[:80]}", common.duration(c.outcome.seconds))
            for c in slowest]),
    ]
    if failures:
        lines += ["## Failures", "", *(f"- `{c.name}`: {c.outcome.detail}" for c in cases
                                       if c.outcome.kind == "failure"),
                  "", f"Their bytes and tracebacks: {failures[0].parent}", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=common.positive_int, default=5000,
                        help="how many files to try")
    parser.add_argument("--seed", type=common.natural_int, default=0,
                        help="picks the random numbers of the cases")
    parser.add_argument("--out", type=Path, default=common.DEFAULT_OUT / "fuzz")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)

    common.progress("timing the seeds")
    costs = seed_costs()
    common.progress(f"fuzzing {args.count} files")
    start = time.perf_counter()
    cases = run_cases(args.count, args.seed)
    seconds = time.perf_counter() - start
    failures = record_failures(cases, args.out / "failures")
    text = report(cases, costs, common.command(MODULE, argv), seconds, failures)
    out = common.output_dir(args.out) / "fuzz.md"
    out.write_text(text)
    print(text)
    common.progress(f"wrote {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
