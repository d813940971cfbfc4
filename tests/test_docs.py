"""The library's docstrings: every public function with more than two parameters names each
of them in a numpydoc Parameters section, and every registered method's function shows a
runnable Examples section (run by ``--doctest-modules``; here only its presence is checked).

Only imports and inspection: no method runs here.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator
from types import ModuleType

import denoisers

#: A numpydoc section header: a title line underlined by dashes.
_HEADER = re.compile(r"^(\S[^\n]*)\n-{3,}[ \t]*$", re.MULTILINE)


def modules() -> list[ModuleType]:
    """Every module of the ``denoisers`` package, subpackages included."""
    found = [denoisers]
    for info in pkgutil.walk_packages(denoisers.__path__, prefix="denoisers."):
        found.append(importlib.import_module(info.name))
    return found


def _function(obj: object) -> Callable | None:
    """The plain function behind ``obj`` (a function, staticmethod or classmethod), else None."""
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return obj if inspect.isfunction(obj) else None


def public_functions() -> Iterator[tuple[str, Callable, bool]]:
    """``(qualified name, function, is a method)`` for every public function and public method
    defined in the package (each once, in the module that defines it), and the functions behind
    the registered methods (some are built by a factory and bound to no module name)."""
    seen: set[int] = set()
    for module in modules():
        for name, obj in vars(module).items():
            if name.startswith("_"):
                continue
            function = _function(obj)
            if function is not None and function.__module__ == module.__name__:
                if id(function) not in seen:
                    seen.add(id(function))
                    yield f"{module.__name__}.{name}", function, False
            elif inspect.isclass(obj) and obj.__module__ == module.__name__:
                for attr, member in vars(obj).items():
                    method = _function(member)
                    if attr.startswith("_") or method is None or id(method) in seen:
                        continue
                    seen.add(id(method))
                    yield (f"{module.__name__}.{name}.{attr}", method,
                           not isinstance(member, staticmethod))
    for method in denoisers.methods():
        if id(method.run) not in seen:
            seen.add(id(method.run))
            yield f"{method.run.__module__}.{method.run.__name__}", method.run, False


def parameters(function: Callable, bound: bool) -> list[str]:
    """The names of ``function``'s parameters, without ``self``/``cls`` for a method and
    without the stars of ``*args``/``**kwargs``."""
    names = list(inspect.signature(inspect.unwrap(function)).parameters)
    return names[1:] if bound else names


def section(doc: str, title: str) -> str | None:
    """The body of the numpydoc section ``title`` of a cleaned docstring, or None."""
    headers = list(_HEADER.finditer(doc))
    for i, header in enumerate(headers):
        if header.group(1).strip() == title:
            end = headers[i + 1].start() if i + 1 < len(headers) else len(doc)
            return doc[header.end():end]
    return None


def documented(doc: str) -> set[str]:
    """The parameter names a docstring's Parameters section describes (``a, b : float`` names
    two; ``**params`` names ``params``)."""
    body = section(doc, "Parameters")
    if body is None:
        return set()
    names = set()
    for line in body.splitlines():
        if line and not line[0].isspace():
            for name in re.split(r"\s:(?:\s|$)", line)[0].split(","):
                names.add(name.strip().lstrip("*"))
    return names


def undocumented() -> tuple[int, list[str]]:
    """How many public functions take more than two parameters, and which of them leave one
    out of their Parameters section (``name: missing, ...``)."""
    counted, offenders = 0, []
    for name, function, bound in public_functions():
        wanted = parameters(function, bound)
        if len(wanted) <= 2:
            continue
        counted += 1
        missing = [p for p in wanted if p not in documented(inspect.getdoc(function) or "")]
        if missing:
            offenders.append(f"{name}: {', '.join(missing)}")
    return counted, offenders


def test_the_parser_reads_a_numpydoc_parameters_section():
    doc = inspect.cleandoc("""Summary.

        Parameters
        ----------
        image : ndarray
            The image.
        low, high : float
            The range : inclusive.
        seed, fraction :
            The split.
        **params
            More.

        Returns
        -------
        ndarray
        """)
    assert documented(doc) == {"image", "low", "high", "seed", "fraction", "params"}
    assert documented("Summary, no sections.") == set()


def test_every_public_function_with_more_than_two_parameters_documents_each_of_them():
    counted, offenders = undocumented()
    assert counted > 50  # the walk found the library (100 such functions when written)
    assert not offenders, (
        f"{len(offenders)} of {counted} public functions with more than two parameters leave "
        "some out of their docstring's Parameters section (numpydoc: 'name : type' and a line "
        "on what it means):\n" + "\n".join(offenders))


def test_every_registered_method_shows_a_runnable_example():
    finder = doctest.DocTestFinder()
    lacking, uncollected = [], []
    for method in denoisers.methods():
        doc = inspect.getdoc(method.run) or ""
        examples = section(doc, "Examples")
        if examples is None or ">>> " not in examples:
            lacking.append(method.key)
            continue
        module = importlib.import_module(method.run.__module__)
        if not any(test.docstring == method.run.__doc__ and test.examples
                   for test in finder.find(module)):
            uncollected.append(f"{method.key} ({module.__name__})")
    assert not lacking, ("these methods' functions have no Examples section with a '>>>' line "
                         f"in their docstring: {', '.join(lacking)}")
    assert not uncollected, ("these methods' examples are not found by doctest in their module "
                             f"(a function bound to no module name needs __test__): "
                             f"{', '.join(uncollected)}")
