"""Fuzzed uploads: a few hundred random and mutated files through the upload loader, every one
decoded within the limits or refused with an ImageError, within the time bound.

The files come from :mod:`benchmarks.fuzz` (``python -m benchmarks.fuzz`` runs thousands);
hypothesis draws which seed, mutation, case number and limits, derandomized so every run
tries the same files. The counts are printed at the end of the run (tests/conftest.py).
"""

from __future__ import annotations

import io
import random
import time
import zlib
from collections import Counter
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import add_summary
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from benchmarks import fuzz
from denoisers.images import MAX_PIXELS, MAX_SIDE, ImageError, Loaded

#: Files tried per format: six formats make a few hundred in all.
EXAMPLES_PER_FORMAT = 60

#: (format, outcome kind) of every file the property test tried, and the slowest time.
TRIED: Counter[tuple[str, str]] = Counter()
SLOWEST: list[float] = [0.0]


@pytest.fixture(scope="module", autouse=True)
def _report_counts(request: pytest.FixtureRequest):
    """After this module, leave the fuzz counts for the end of the run."""
    yield
    if not TRIED:
        return
    kinds = Counter()
    per_format = Counter()
    for (fmt, kind), n in TRIED.items():
        kinds[kind] += n
        per_format[fmt] += n
    line = (f"fuzzed uploads: {sum(kinds.values())} files tried ("
            + ", ".join(f"{fmt} {n}" for fmt, n in per_format.items())
            + f"): {kinds['decoded']} decoded, {kinds['refused']} refused with an ImageError, "
              f"{kinds['failure']} failures; the slowest took {SLOWEST[0] * 1000:.1f} ms "
              f"(bound {fuzz.TIME_LIMIT:g} s)")
    print(line)
    add_summary(request.config, line)


# --------------------------------------------------------------------------- the property

@pytest.mark.parametrize("fmt", fuzz.formats())
@settings(max_examples=EXAMPLES_PER_FORMAT, deadline=timedelta(seconds=fuzz.TIME_LIMIT),
          derandomize=True, database=None)
@given(data=st.data())
def test_every_mutated_upload_is_decoded_or_refused(fmt: str, data: st.DataObject) -> None:
    names = [name for name, seed in fuzz.seeds().items() if seed.format == fmt]
    name = data.draw(st.sampled_from(names), label="seed")
    mutation = data.draw(st.sampled_from(list(fuzz.MUTATIONS)), label="mutation")
    number = data.draw(st.integers(0, 2**32 - 1), label="number")
    max_side, max_pixels = data.draw(st.sampled_from(fuzz.LIMITS), label="limits")
    outcome = fuzz.try_file(fuzz.mutate(name, mutation, number),
                            max_side=max_side, max_pixels=max_pixels)
    TRIED[fmt, outcome.kind] += 1
    SLOWEST[0] = max(SLOWEST[0], outcome.seconds)
    assert outcome.kind in ("decoded", "refused"), \
        f"mutate({name!r}, {mutation!r}, {number}): {outcome.detail}\n{outcome.trace}"


# ----------------------------------------------------------------------- the seeds and mutations

def test_the_seeds_are_valid_files_of_every_format():
    found = {name: Image.open(io.BytesIO(seed.data)) for name, seed in fuzz.seeds().items()}
    assert set(fuzz.formats()) == {"PNG", "JPEG", "GIF", "TIFF", "WEBP", "BMP"}
    for name, seed in fuzz.seeds().items():
        assert found[name].format == seed.format, name
        outcome = fuzz.try_file(seed.data)
        assert outcome.kind == "decoded", (name, outcome.detail)
        assert min(found[name].size) >= 8
    assert found["png_16bit"].mode == "I;16" and found["tiff_16bit"].mode == "I;16"
    assert found["tiff_float"].mode == "F"
    assert found["png_rgba"].mode == "RGBA" and found["png_palette"].mode == "P"
    assert found["gif_animated"].n_frames == 3
    assert found["jpeg_progressive"].info.get("progressive")
    assert found["webp_lossless"].mode == "RGBA" and found["webp_lossless"].size == (8, 8)
    assert sum(side % 2 for im in found.values() for side in im.size) >= 8  # odd sizes


def test_a_case_is_the_same_bytes_every_time():
    for mutation in fuzz.MUTATIONS:
        first = fuzz.mutate("png_rgb", mutation, 7)
        assert first == fuzz.mutate("png_rgb", mutation, 7), mutation
    variants = {fuzz.mutate("jpeg", "bit_flip", n) for n in range(20)}
    assert len(variants) == 20 and fuzz.seeds()["jpeg"].data not in variants


def test_truncation_and_splicing_keep_a_real_header():
    seed = fuzz.seeds()["png_rgb"]
    for n in range(10):
        cut = fuzz.mutate("png_rgb", "truncate", n)
        assert len(cut) < len(seed.data) and seed.data.startswith(cut)
        spliced = fuzz.mutate("png_rgb", "splice", n)
        assert spliced[:8] == seed.data[:8]
        assert not seed.data.endswith(spliced[-64:])  # the body is another format's


def test_huge_dimensions_are_what_the_header_then_claims():
    """PNG's IHDR is rewritten with a valid CRC, so the claim reaches the loader."""
    claims = set()
    for n in range(40):
        data = fuzz.mutate("png_grey", "huge_dimensions", n)
        assert zlib.crc32(data[12:29]) == int.from_bytes(data[29:33], "big")
        claims.add((int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")))
    assert claims - {(17, 9)}, "no claim changed the size"
    assert {(6324, 6324), (6325, 6325)} & claims


@pytest.mark.parametrize("name", list(fuzz.seeds()))
def test_the_fields_found_are_the_sizes_and_lengths_of_the_file(name):
    seed = fuzz.seeds()[name]
    with Image.open(io.BytesIO(seed.data)) as img:
        width, height = img.size
    values = [int.from_bytes(seed.data[f.offset:f.offset + f.size], f.order)
              for f in fuzz.dimension_fields(seed)]
    if seed.format == "WEBP" and b"VP8L" in seed.data:  # both sides less one, 14 bits each
        assert (values[0] & 0x3FFF, values[0] >> 14 & 0x3FFF) == (width - 1, height - 1)
    elif seed.format == "WEBP":  # 14 bits each, under 2 bits of scale
        assert (values[0] & 0x3FFF, values[1] & 0x3FFF) == (width, height)
    else:
        assert values[:2] == [width, height]
    fields = fuzz.length_fields(seed)
    assert fields and all(f.offset + f.size <= len(seed.data) for f in fields)
    changed = fuzz.MUTATIONS["length_lie"](seed, random.Random(0))
    assert len(changed) == len(seed.data)
    assert sum(a != b for a, b in zip(changed, seed.data)) <= 4


# --------------------------------------------------------------------------- the judge

def _fake_loader(monkeypatch: pytest.MonkeyPatch, behaviour) -> None:
    monkeypatch.setattr(fuzz, "load_upload", lambda data, **limits: behaviour())


@pytest.mark.parametrize("behaviour, detail", [
    (lambda: {}["x"], "KeyError: 'x'"),
    (lambda: Loaded(np.zeros((9, 9, 4), np.float32)), "neither (H, W) nor (H, W, 3)"),
    (lambda: Loaded(np.zeros((9, 9), np.float64)), "not a float32 array"),
    (lambda: Loaded(np.full((9, 9), 1.5, np.float32)), "values outside [0, 1]"),
    (lambda: Loaded(np.zeros((9, MAX_SIDE + 1), np.float32)), "outside the limits"),
    (lambda: Loaded(np.zeros((4, 4), np.float32)), None),
])
def test_anything_but_an_image_in_range_or_an_image_error_is_a_failure(monkeypatch, behaviour,
                                                                       detail):
    _fake_loader(monkeypatch, behaviour)
    outcome = fuzz.try_file(b"any")
    if detail is None:
        assert outcome.kind == "decoded" and outcome.detail == "4x4"
    else:
        assert outcome.kind == "failure" and detail in outcome.detail


def test_an_image_error_needs_a_message(monkeypatch):
    def refuse(message: str):
        raise ImageError(message)

    _fake_loader(monkeypatch, lambda: refuse("  "))
    assert fuzz.try_file(b"any").detail == "ImageError with an empty message"
    _fake_loader(monkeypatch, lambda: refuse("Not a picture."))
    outcome = fuzz.try_file(b"any")
    assert (outcome.kind, outcome.detail, outcome.trace) == ("refused", "Not a picture.", "")


def test_the_limits_are_the_callers(monkeypatch):
    _fake_loader(monkeypatch, lambda: Loaded(np.zeros((20, 30), np.float32)))
    assert fuzz.try_file(b"any", max_side=30, max_pixels=600).kind == "decoded"
    assert fuzz.try_file(b"any", max_side=29).kind == "failure"
    assert fuzz.try_file(b"any", max_pixels=599).kind == "failure"
    assert fuzz.LIMITS[0] == (MAX_SIDE, MAX_PIXELS)


def test_a_slow_file_fails_and_the_watchdog_stops_a_hang(monkeypatch):
    _fake_loader(monkeypatch, lambda: time.sleep(0.05) or Loaded(np.zeros((8, 8), np.float32)))
    slow = fuzz.try_file(b"any", time_limit=0.01)
    assert slow.kind == "failure" and slow.detail.startswith("took ") and "(8x8)" in slow.detail
    _fake_loader(monkeypatch, lambda: time.sleep(30))
    start = time.perf_counter()
    hung = fuzz.try_file(b"any", stop_after=0.2)
    assert time.perf_counter() - start < 5
    assert hung.kind == "failure" and hung.detail == "still running after 0.2 s: stopped"


# --------------------------------------------------------------------------- the command

def _table_rows(report: str, heading: str) -> dict[str, list[str]]:
    section = report.split(f"## Outcomes by {heading}")[1].split("##")[0]
    rows = [line for line in section.splitlines()
            if line.startswith("| ") and "| ---" not in line][1:]  # not the header
    return {cells[0]: cells[1:] for cells in
            ([c.strip() for c in line.strip("|").split("|")] for line in rows)}


def test_the_command_prints_and_writes_its_report(tmp_path, capsys):
    argv = ["--count", "150", "--seed", "3", "--out", str(tmp_path)]
    assert fuzz.main(argv) == 0
    written = (tmp_path / "fuzz.md").read_text()
    assert capsys.readouterr().out.strip() == written.strip()
    assert f"- command: `python -m benchmarks.fuzz {' '.join(argv)}`" in written
    assert "**150 files tried in " in written and " 0 failures;" in written
    by_format = _table_rows(written, "format")
    by_mutation = _table_rows(written, "mutation")
    for table in (by_format, by_mutation):
        total = table.pop("**all**")
        assert total[0] == "150" and total[3] == "0"
        assert sum(int(row[0]) for row in table.values()) == 150
        assert all(int(r[1]) + int(r[2]) == int(r[0]) for r in table.values())
    assert set(by_format) == set(fuzz.formats())
    assert set(by_mutation) == {f"`{m}`" for m in fuzz.MUTATIONS}
    assert not (tmp_path / "failures").exists()


def test_the_command_keeps_each_failure_and_exits_one(tmp_path, monkeypatch):
    def loader(data: bytes, **limits) -> Loaded:
        if data.startswith(b"BM"):
            raise ZeroDivisionError("planted")
        raise ImageError("refused")

    monkeypatch.setattr(fuzz, "load_upload", loader)
    assert fuzz.main(["--count", "30", "--out", str(tmp_path)]) == 1
    kept = sorted((tmp_path / "failures").glob("*.bmp"))
    assert kept
    report = (tmp_path / "fuzz.md").read_text()
    assert "## Failures" in report and "ZeroDivisionError: planted" in report
    for path in kept:
        seed, mutation, number = path.stem.rsplit("-", 2)
        assert path.read_bytes() == fuzz.mutate(seed, mutation, int(number))
        assert path.read_bytes().startswith(b"BM")
        story = path.with_suffix(".txt").read_text()
        assert "failure: ZeroDivisionError: planted" in story
        assert "Traceback" in story and "raise ZeroDivisionError" in story


def test_the_saved_report_found_no_failure():
    report = Path(__file__).resolve().parent.parent / "assets/benchmarks/fuzz/fuzz.md"
    text = report.read_text()
    assert "--count 5000 --seed 0" in text
    assert "**5000 files tried in " in text and " 0 failures;" in text
