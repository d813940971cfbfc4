"""``import denoisers`` stays light: torch and the family modules load on first use.

Each check runs in a fresh interpreter, since this one has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_library_imports_no_family_and_no_torch():
    loaded = _run("import sys, denoisers, denoisers.nets\n"
                  "print(sorted(m for m in ('torch', 'denoisers.linear', 'denoisers.epll', "
                  "'denoisers.metrics', 'denoisers.nets.inference') if m in sys.modules))")
    assert loaded == "[]"


def test_listing_every_method_imports_no_torch():
    """The home page's timeline and the References page list the whole registry: torch
    (over a second to import) waits until a method that needs it runs."""
    assert _run("import sys, denoisers\n"
                "print(len(denoisers.methods()) > 15, 'torch' in sys.modules)") == "True False"


def test_the_lazy_module_is_the_real_one_once_used():
    assert _run("import sys\nfrom denoisers.lazy import torch\n"
                "print('torch' in sys.modules, torch.zeros(2).shape == (2,), "
                "'torch' in sys.modules)") == "False True True"


def test_a_classical_method_is_found_without_torch():
    assert _run("import sys, denoisers\n"
                "print(denoisers.get('gaussian').key, 'torch' in sys.modules)") == "gaussian False"


@pytest.mark.parametrize("first", ["get('nlm')", "get('x')"])
def test_every_method_is_registered_in_history_order_whatever_is_asked_first(first):
    import denoisers

    listed = _run("import denoisers\n"
                  f"try:\n    denoisers.{first}\nexcept denoisers.InvalidInput:\n    pass\n"
                  "print(' '.join(m.key for m in denoisers.methods()))")
    assert listed == " ".join(m.key for m in denoisers.methods())


def test_the_submodules_are_reached_as_attributes():
    assert _run("import denoisers\n"
                "print(denoisers.metrics.psnr.__name__, denoisers.noise.add_gaussian.__name__, "
                "type(denoisers.inverse.PROBLEMS).__name__, 'metrics' in dir(denoisers))"
                ) == "psnr add_gaussian dict True"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        import denoisers
        denoisers.nothing  # noqa: B018 - the attribute access is the test

