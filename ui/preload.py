"""The server's slow first uses, done in the background once it has shown a page.

A fresh server process imports what each page needs the first time a visitor opens
it: torch alone takes over a second (the deep-learning chapter's networks, the
patch methods' batched transforms), the library's method modules and the store's
digest of the code a few hundred milliseconds more. After a restart before a
lecture, each page's first opening paid that on top of reading its stored results
(the deep-learning chapter 3.1 s, 1.4 s with this).

:func:`start` imports all of it on one background thread, once per process, after
the first page has been drawn, so that the visitor is reading while the server
warms up. Python's import lock makes a page that needs a module still being
imported wait for it, never import it twice. Nothing here computes a result.

Only the library (which never imports Streamlit) is imported here, not the site's
``ui`` modules: a Streamlit component declared off the script's thread (the
clickable picture of ``streamlit_image_coordinates``) was never drawn.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

import denoisers

from . import store

#: Imported first: what the heaviest first uses need.
HEAVY = ("torch", "torch.nn.functional", "denoisers.nets.architectures",
         "denoisers.nets.inference", "skimage.metrics")

_lock = threading.Lock()
_thread: threading.Thread | None = None


def modules() -> list[str]:
    """The modules to import: :data:`HEAVY`, then every module of the library."""
    library = sorted(info.name for info in pkgutil.walk_packages(denoisers.__path__,
                                                                 "denoisers."))
    return [*HEAVY, *library]


def _warm() -> None:
    for name in modules():
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a page that needs it will say what failed
            continue
    store.code_version()


def start() -> threading.Thread:
    """Start warming the process in the background (only the first call does); return
    the thread, which a caller may join."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="ddt-preload", daemon=True)
            _thread.start()
        return _thread
