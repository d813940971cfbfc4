"""A plugin that replaces every registered method by one that checks its parameters as the
library does and returns its input, to count what tests/test_registry.py catches (README,
"Adding a method"):

    PYTHONPATH=tests .venv/bin/python -m pytest tests/test_registry.py -p identity_plugin
"""
import dataclasses
import functools

import numpy as np

import denoisers
from denoisers.core import Result, as_image, check_params, check_sigma


def pytest_configure(config) -> None:
    for method in denoisers.methods():
        @functools.wraps(method.run)
        def identity(noisy, sigma, *, trace=False, progress=None, reference=None,
                     _method=method, **params):
            check_params(_method.params, params, _method.key)
            image = as_image(noisy)
            check_sigma(sigma)
            if progress is not None:
                progress(1.0)
            return Result(np.asarray(image, np.float32).copy())
        denoisers._REGISTRY[method.key] = dataclasses.replace(method, run=identity)
