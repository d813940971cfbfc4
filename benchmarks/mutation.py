"""Mutation testing of the library's numerical core: does a test fail when the code is wrong?

    make mutation
    python -m benchmarks.mutation [--modules metrics noise ...] [--max-children 1]
    python -m benchmarks.mutation --modules metrics --again

mutmut (pinned in requirements-dev.txt, configured in ``setup.cfg``) plants
one small bug at a time in a module (an operator swapped, a constant moved by
one, an argument dropped) and runs the tests that reach the changed function;
a mutant the tests let through *survived*. Each module of :data:`MODULES` is
mutated alone and tested against its own test files only, in a working folder
of its own, ``mutants/<module>/`` (symbolic links to the checkout, and
mutmut's ``mutants/`` inside), so one module's run never reuses another's
verdicts. The tests run on ``--max-children`` processes of one thread each.

Written to ``--out``: ``<module>.md`` per module (killed / total, the score,
and every survivor with its file, line, function and mutation, with the reason
it is equivalent where ``equivalent.md`` gives one), ``results.json`` (the
latest run of every module) and ``summary.md``, the table of them all.

A survivor is accounted for when a new test kills it or when it is
equivalent: no test can tell it from the original (an argument given its
default, a bound never reached, a value overwritten before it is read).
``assets/benchmarks/mutation/equivalent.md`` lists each such mutant, with one
line on why, in a table the script reads: by file, function and its text
before and after, so the list outlives line numbers; an entry no run finds
any more is reported as stale.

``--again`` keeps a module's folder from its last run and tests again only
the mutants that survived it: quick after adding tests, but only a full run
(the default) sees a change in the library itself.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MODULE = "benchmarks.mutation"
ROOT = Path(__file__).resolve().parent.parent
#: Where the reports go unless told otherwise.
DEFAULT_OUT = Path("assets") / "benchmarks" / "mutation"
#: The folder the modules' working folders live in (ignored by git).
WORK = ROOT / "mutants"
#: What a working folder links to: the package, the tests and what they read.
LINKED = ("denoisers", "tests", "assets", "benchmarks", "chapters", "ui", "app.py",
          "pytest.ini", "setup.cfg")
#: Each process runs its numerical code on one thread, so ``--max-children`` is the CPU asked.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                     "MKL_NUM_THREADS", "DDT_WORKERS")}


@dataclass(frozen=True)
class Module:
    """A part of the library mutated alone: the files (mutmut's globs, which match across
    ``/``), the test files that are its own, and pytest arguments that narrow them."""

    files: tuple[str, ...]
    tests: tuple[str, ...]
    select: tuple[str, ...] = ()


MODULES = {
    "inverse": Module(("denoisers/inverse/*",),
                      ("tests/test_inverse.py", "tests/test_inverse_oracles.py")),
    "pde": Module(("denoisers/pde/*",), ("tests/test_pde_diffusion.py", "tests/test_pde_tv.py")),
    "nonlocal_means": Module(("denoisers/nonlocal_means.py",), ("tests/test_nonlocal_means.py",)),
    "bm3d": Module(("denoisers/bm3d.py",), ("tests/test_bm3d.py",)),
    "patches": Module(("denoisers/patches.py",), ("tests/test_patches.py",)),
    "metrics": Module(("denoisers/metrics.py",), ("tests/test_metrics.py",)),
    # Not the chapter page's AppTests at the end of the file: they test the page, take seconds
    # each, and their app's imports on a background thread race pytest's inside mutmut.
    "noise": Module(("denoisers/noise.py",), ("tests/test_noise.py",),
                    ("-k", "not page and not sidebar")),
    "colour": Module(("denoisers/colour.py",), ("tests/test_colour.py",)),
}

#: The survivors no test can kill, one line each on why: a markdown table, read by
#: :func:`equivalent`, in the format of the reports' tables.
EQUIVALENT_FILE = ROOT / DEFAULT_OUT / "equivalent.md"

#: mutmut's exit codes that count as killed: a test failed, or the run timed out.
KILLED = {"killed", "timeout"}


def _cells(line: str) -> list[str]:
    """The cells of a markdown table row, inline code unwrapped and ``\\|`` unescaped."""
    cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
    out = []
    for cell in cells:
        cell = cell.strip()
        if cell == "(nothing)":
            cell = ""
        elif len(cell) >= 2 and cell[0] == cell[-1] == "`":
            cell = cell[1:-1]
        out.append(cell.replace("\\|", "|"))
    return out


def equivalent(path: Path = EQUIVALENT_FILE) -> dict[tuple[str, str, str, str], str]:
    """The equivalent mutants listed in ``path``: (file, function, line before, line after),
    the lines stripped of indentation (several joined by a space), to the reason."""
    found = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("| denoisers/"):
                file, function, before, after, why = _cells(line)
                found[(file, function, before, after)] = why
    return found


# --------------------------------------------------------------------------- the worker


def _worker(name: str, max_children: int, again: bool) -> None:
    """Run mutmut on ``name`` in the current folder (a working folder), then write what it
    found to ``results.json`` there. Imports nothing of the library: mutmut must import the
    mutated copy, never the original."""
    from mutmut.configuration import config

    module = MODULES[name]
    settings = config()
    settings.only_mutate = list(module.files)
    settings.pytest_add_cli_args_test_selection = [*module.tests, *module.select]
    # This module is also a pytest plugin: the quickest tests first (pytest_collection_...).
    settings.pytest_add_cli_args = [*settings.pytest_add_cli_args, "-p", MODULE]

    from mutmut.__main__ import cli
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    names: list[str] = []
    if again:
        for path in walk_mutatable_files():
            data = SourceFileMutationData(path=path)
            data.load()
            names += [key for key, code in data.exit_code_by_key.items()
                      if status_by_exit_code[code] not in KILLED]
        if not names:
            print(f"{name}: no survivor to test again", file=sys.stderr)
    if not again or names:
        try:
            cli(["run", "--max-children", str(max_children), *names], standalone_mode=False)
        except SystemExit as stop:
            if stop.code:
                raise
    found = _collect()
    found["alive"].sort(key=lambda m: (m["file"], m["line"]))
    Path("results.json").write_text(json.dumps(found, indent=1))


def pytest_collection_modifyitems(items: list) -> None:
    """As a pytest plugin, in mutmut's runs only: a mutant's tests in the order of the time
    each took in mutmut's clean run, quickest first, so that the first failure (mutmut stops
    at it) comes soon; the slow tests run only for the mutants the quick ones let through."""
    from mutmut.state import state

    took = state().duration_by_test
    if took:
        items.sort(key=lambda item: took.get(item.nodeid, 0.0))


def _collect() -> dict[str, object]:
    """Every mutant's status, and each one not killed described (file, line, function,
    lines before and after), from mutmut's files in the current folder."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    counts: dict[str, int] = {}
    alive = []
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        source = Path(path).read_text()
        for key, code in sorted(data.exit_code_by_key.items(), key=lambda kv: _order(kv[0])):
            status = status_by_exit_code[code]
            counts[status] = counts.get(status, 0) + 1
            if status in KILLED:
                continue
            function, cls = orig_function_and_class_names_from_key(key)
            function = function.rpartition(".")[2]
            diff = get_diff_for_mutant(key, path=path).splitlines()
            before = [line[1:].strip() for line in diff[2:] if line.startswith("-")]
            after = [line[1:].strip() for line in diff[2:] if line.startswith("+")]
            alive.append({
                "key": key, "status": status, "file": str(path),
                "function": f"{cls}.{function}" if cls else function,
                "line": _line_of(source, function, cls, before),
                "before": " ".join(before), "after": " ".join(after),
            })
    return {"counts": counts, "alive": alive}


def _order(key: str) -> tuple[str, int]:
    """Mutants in source order within a function: ``..._mutmut_12`` after ``..._mutmut_2``."""
    stem, _, number = key.rpartition("_")
    return stem, int(number) if number.isdigit() else 0


def _line_of(source: str, function: str, cls: str | None, before: Sequence[str]) -> int:
    """The line of ``source`` where the mutated text ``before`` starts, inside ``function``
    (of class ``cls``); the function's first line if it is not found."""
    tree = ast.parse(source)
    scope: Sequence[ast.stmt] = tree.body
    if cls is not None:
        scope = next((n.body for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls),
                     [])
    node = next((n for n in scope if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == function), None)
    if node is None:
        return 0
    lines = source.splitlines()
    if before:
        for number in range(node.lineno, (node.end_lineno or node.lineno) + 1):
            if lines[number - 1].strip() == before[0]:
                return number
    return node.lineno


# --------------------------------------------------------------------------- the runs


def _prepare(name: str, again: bool) -> Path:
    """The working folder of module ``name``: emptied unless ``again``, with its links."""
    work = WORK / name
    if not again and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for entry in LINKED:
        link = work / entry
        if not link.is_symlink():
            link.symlink_to(ROOT / entry)
    return work


def run_module(name: str, max_children: int, again: bool) -> dict[str, object]:
    """Mutate module ``name`` in a process of its own; what it found, with the time taken."""
    work = _prepare(name, again)
    results = work / "results.json"
    results.unlink(missing_ok=True)
    command = [sys.executable, "-m", MODULE, "--worker", name,
               "--max-children", str(max_children)] + (["--again"] if again else [])
    started = time.perf_counter()
    with (work / "mutmut.log").open("a") as log:
        done = subprocess.run(command, cwd=work, env={**os.environ, **ONE_THREAD},
                              stdout=log, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    if done.returncode or not results.exists():
        raise SystemExit(f"mutmut failed on {name} (exit status {done.returncode}); "
                         f"its output is in {work / 'mutmut.log'}")
    found = json.loads(results.read_text())
    found["seconds"] = round(seconds, 1)
    return found


def account(found: dict[str, object]) -> tuple[list[dict], list[dict]]:
    """The mutants not killed, split into those :func:`equivalent` explains and the rest;
    each explained one gets its reason under ``why``."""
    explained, open_ = [], []
    reasons = equivalent()
    for mutant in found["alive"]:
        why = reasons.get((mutant["file"], mutant["function"], mutant["before"],
                              mutant["after"]))
        if why and mutant["status"] == "survived":
            explained.append({**mutant, "why": why})
        else:
            open_.append(mutant)
    return explained, open_


def score(found: dict[str, object]) -> tuple[int, int]:
    """(killed, total): a timeout counts as killed."""
    counts = found["counts"]
    return sum(counts.get(s, 0) for s in KILLED), sum(counts.values())


def _code(text: str) -> str:
    """``text`` as inline code in a markdown table cell."""
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`" if text else "(nothing)"


def module_report(name: str, found: dict[str, object], header: str) -> str:
    """The markdown report of one module's run."""
    module = MODULES[name]
    killed, total = score(found)
    explained, open_ = account(found)
    counts = found["counts"]
    lines = [header, "", f"- files mutated: {', '.join(module.files)}",
             f"- tests: {shlex.join([*module.tests, *module.select])}",
             f"- time: {found['seconds']:.0f} s"
             + (" (the survivors of the last full run, tested again: --again; the full run "
                f"took {found['full seconds']:.0f} s)" if found.get("again")
                and found.get("full seconds") else ""), "",
             f"**{killed} of {total} mutants killed ({100 * killed / max(total, 1):.1f} %)**; "
             + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) + ".", ""]
    rows = [(f"{m['file']}:{m['line']}", m["function"], _code(m["before"]), _code(m["after"]),
             m["status"]) for m in open_]
    lines += [f"## Not killed, not accounted for ({len(open_)})", ""]
    lines += [_table(("where", "function", "before", "after", "status"), rows) if rows
              else "None.\n"]
    rows = [(f"{m['file']}:{m['line']}", m["function"], _code(m["before"]), _code(m["after"]),
             m["why"]) for m in explained]
    lines += [f"## Equivalent: survivors no test can kill ({len(explained)})", ""]
    lines += [_table(("where", "function", "before", "after", "why equivalent"), rows) if rows
              else "None.\n"]
    return "\n".join(lines)


def summary_report(results: dict[str, dict], header: str) -> str:
    """The markdown table of every module's latest run."""
    rows = []
    for name in MODULES:
        if name not in results:
            continue
        found = results[name]
        killed, total = score(found)
        explained, open_ = account(found)
        full = found.get("full seconds")
        rows.append((f"[{name}]({name}.md)", f"{killed} / {total}",
                     f"{100 * killed / max(total, 1):.1f} %", str(len(explained)),
                     str(len(open_)), f"{full:.0f} s" if full else "",
                     found.get("date", "") + (" (survivors again)" if found.get("again")
                                              else "")))
    return "\n".join([header, "", _table(
        ("module", "killed / total", "score", "equivalent", "not accounted for",
         "full run", "last run"), rows)])


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _header(title: str, argv: Sequence[str], date: str | None = None) -> str:
    """A report's opening: title, command, date, machine, as the other benchmarks write it
    (here without :mod:`benchmarks.common`, which imports the library)."""
    from importlib import metadata
    machine = platform.processor() or platform.machine()
    return "\n".join([
        f"# {title}", "",
        f"- command: `{shlex.join(['python', '-m', MODULE, *argv])}`",
        f"- date: {date or _now()}",
        f"- machine: {machine}, {os.cpu_count()} CPUs, {platform.platform()}",
        f"- mutmut {metadata.version('mutmut')}, python {platform.python_version()}",
    ])


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def stale(results: dict[str, dict]) -> list[tuple[str, str, str, str]]:
    """Entries of :func:`equivalent` that match no survivor of the modules in ``results``."""
    seen = {(m["file"], m["function"], m["before"], m["after"])
            for found in results.values() for m in found["alive"]}
    ran = {m for found in results.values() for m in (found.get("module"),)}
    return [k for k in equivalent() if k not in seen
            and any(_in_module(k[0], name) for name in ran)]


def _in_module(path: str, name: str) -> bool:
    from fnmatch import fnmatch
    return any(fnmatch(path, glob) for glob in MODULES[name].files)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--modules", nargs="+", choices=list(MODULES), default=list(MODULES),
                        metavar="NAME", help=f"the modules to mutate, of: {', '.join(MODULES)} "
                        "(default: all)")
    parser.add_argument("--max-children", type=int, default=1,
                        help="processes testing mutants at once (default 1)")
    parser.add_argument("--again", action="store_true",
                        help="keep each module's last run; test again only its survivors")
    parser.add_argument("--report", action="store_true",
                        help="run nothing: write the reports again from the last results "
                        "(after editing equivalent.md)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"where the reports go (default {DEFAULT_OUT})")
    parser.add_argument("--worker", choices=list(MODULES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.max_children < 1:
        parser.error(f"--max-children must be at least 1; got {args.max_children}")
    if args.worker:
        _worker(args.worker, args.max_children, args.again)
        return 0

    shown = list(sys.argv[1:] if argv is None else argv)
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / "results.json"
    results: dict[str, dict] = json.loads(store.read_text()) if store.exists() else {}
    if args.report:
        for name in [n for n in args.modules if n in results]:
            found = results[name]
            (args.out / f"{name}.md").write_text(module_report(
                name, found, _header(f"Mutation testing: {name}", shlex.split(found["command"]),
                                     found["date"])))
    for name in [] if args.report else args.modules:
        print(f"mutating {name} ...", file=sys.stderr, flush=True)
        found = run_module(name, args.max_children, args.again)
        found.update(module=name, date=_now(), command=shlex.join(shown), again=args.again)
        # The time of the module's last full run, which --again does not repeat.
        previous = results.get(name, {})
        found["full seconds"] = (previous.get("full seconds", previous.get("seconds"))
                                 if args.again else found["seconds"])
        results[name] = found
        store.write_text(json.dumps(results, indent=1) + "\n")
        (args.out / f"{name}.md").write_text(
            module_report(name, found, _header(f"Mutation testing: {name}", shown, found["date"])))
        killed, total = score(found)
        print(f"{name}: {killed} / {total} killed ({100 * killed / max(total, 1):.1f} %) "
              f"in {found['seconds']:.0f} s", file=sys.stderr, flush=True)
    summary = summary_report(results, _header("Mutation testing: the numerical core", shown))
    (args.out / "summary.md").write_text(summary)
    print(summary)
    for key in stale({n: results[n] for n in args.modules}):
        print(f"stale entry in {EQUIVALENT_FILE.name} (no survivor matches it): {key}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
