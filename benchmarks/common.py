"""What both benchmarks share: method selection, the run header, CSV and markdown."""

from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import shlex
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import denoisers
from denoisers.core import Param

#: Where the benchmarks write their files unless told otherwise.
DEFAULT_OUT = Path("assets") / "benchmarks"

#: The packages whose versions a report's header lists (those installed).
LIBRARIES = ("numpy", "scipy", "scikit-image", "PyWavelets", "torch")


def method_keys() -> list[str]:
    """The keys of the registered methods, in registry order."""
    return [m.key for m in denoisers.methods()]


def natural_int(text: str) -> int:
    """An argparse type: an integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer; got {text}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    value = natural_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def sigma_255(text: str) -> float:
    """An argparse type: a noise level on the 0-255 scale, in (0, 255]."""
    value = float(text)
    if not 0 < value <= 255:
        raise argparse.ArgumentTypeError(f"sigma is on the 0-255 scale; got {text}")
    return value


#: Command-line spellings of a bool parameter's values.
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_value(param: Param, text: str) -> Any:
    """``text`` as a value of the parameter ``param``'s kind; the spec checks the range later."""
    kind = param.kind()
    if kind == "bool":
        if text.lower() not in _BOOLS:
            raise ValueError(f"{param.name} takes true or false; got {text!r}")
        return _BOOLS[text.lower()]
    if kind in ("float", "int"):
        try:
            return float(text) if kind == "float" else int(text)
        except ValueError:
            raise ValueError(f"{param.name} takes {param.describe()}; got {text!r}") from None
    return text


def parse_method(text: str) -> tuple[denoisers.Method, dict[str, Any]]:
    """``KEY`` or ``KEY:NAME=VALUE[,NAME=VALUE...]``: a registered method and its parameters.

    Raises a ValueError naming the registered keys, or the parameter and its range.
    """
    key, _, assignments = text.partition(":")
    known = method_keys()
    if key not in known:
        raise ValueError(f"unknown method {key!r}; the registered methods are: "
                         f"{', '.join(known) or 'none yet'}")
    method = denoisers.get(key)
    spec = {p.name: p for p in method.params}
    params: dict[str, Any] = {}
    for assignment in filter(None, assignments.split(",")):
        name, equals, value = assignment.partition("=")
        if not equals:
            raise ValueError(f"{text!r}: write parameters as NAME=VALUE; got {assignment!r}")
        if name not in spec:
            method.validate({name: value})  # raises the registry's message, listing the parameters
        params[name] = parse_value(spec[name], value)
    method.validate(params)
    return method, params


def selected_methods(parser: argparse.ArgumentParser,
                     keys: Sequence[str] | None) -> list[tuple[denoisers.Method, dict[str, Any]]]:
    """The methods named in ``keys`` (all if None, with their defaults), in registry order.

    A key may set parameters, ``drunet:self_ensemble=true``, so one method
    can run in several settings. A bad key or parameter is a command-line
    error (exit status 2) that says what is accepted.
    """
    if keys is None:
        return [(m, {}) for m in denoisers.methods()]
    chosen = []
    for text in keys:
        try:
            chosen.append(parse_method(text))
        except ValueError as error:
            parser.error(str(error))
    order = {key: index for index, key in enumerate(method_keys())}
    return sorted(chosen, key=lambda pair: order[pair[0].key])


def _spelling(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def variant_key(method: denoisers.Method, params: Mapping[str, Any]) -> str:
    """How a method run with ``params`` is named in tables: ``KEY`` or ``KEY:NAME=VALUE,...``."""
    settings = ",".join(f"{name}={_spelling(value)}" for name, value in params.items())
    return f"{method.key}:{settings}" if settings else method.key


def label(name: str, key: str) -> str:
    """How a method appears in a markdown table: its name and its key."""
    return f"{name} (`{key}`)"


def duration(seconds: float) -> str:
    """A run time for a table: milliseconds under a second, else seconds."""
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def command(module: str, argv: Sequence[str]) -> str:
    """The shell command that reproduces a run of ``python -m module argv``."""
    return shlex.join(["python", "-m", module, *argv])


def versions(packages: Iterable[str]) -> str:
    """``name version`` of Python and of each of ``packages`` that is installed."""
    found = [f"python {platform.python_version()}"]
    for package in packages:
        try:
            found.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def header(title: str, run_command: str, extra: Mapping[str, str]) -> str:
    """A report's opening: title, command, date, machine, libraries and ``extra`` lines."""
    machine = platform.processor() or platform.machine()
    lines = [
        f"# {title}",
        "",
        f"- command: `{run_command}`",
        f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {machine}, {os.cpu_count()} CPUs, {platform.platform()}",
        *(f"- {name}: {value}" for name, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_csv(path: Path, row_type: type, rows: Iterable[Any]) -> None:
    """Write dataclass ``rows`` of ``row_type`` to ``path``, one column per field."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(row_type)])
        writer.writeheader()
        writer.writerows(asdict(row) for row in rows)


def output_dir(path: Path) -> Path:
    """``path``, created with its parents if missing."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(message, file=sys.stderr, flush=True)
