"""How much the site's caches may hold: each cache's entries against its largest entry.

Streamlit bounds a cache by its number of entries, not by bytes, so every
cache of the site takes its ``max_entries`` from :data:`CACHES`, where it is
sized against the largest entry it can hold at the largest working size
(``images.MAX_SIDE``, a colour image: 1024 x 1024 x 3 float32, 12 MiB).
A method's run keeps its image, its stages and extras; between 256 and 384
pixels a side, a traced run of every live method grows by at most 5.1 images
(Wiener's three spectra) on top of at most 7.3 MB that does not grow
(Beltrami's evolution frames, a network's feature maps, curves), as
``tests/test_memory.py`` measures on every run (the slow methods, measured
once on a 96x96 colour image, stay within that too: at most 3.6 images and
4.6 MB of extras, the MLP's). An inverse problem's
restoration keeps :data:`denoisers.inverse.solvers.KEPT_ITERATES` iterates
beside its image. The sum, :func:`budget_mb`, is what a day of uploads can
make the caches hold at most, whatever the visitors do; ``tests/test_memory.py``
holds it under :data:`BUDGET_MB` and checks that no cache of the site is left
out of this table. The figure caches (``st.cache_resource``, figures shared,
not copied) hold plotly figures of images drawn at display width, a fraction
of an image each.
"""

from __future__ import annotations

from dataclasses import dataclass

from denoisers import images
from denoisers.inverse.solvers import KEPT_ITERATES

#: The largest image the site works on, in MiB: colour, MAX_SIDE a side, float32.
IMAGE_MB = images.MAX_SIDE ** 2 * 3 * 4 / 2 ** 20

#: What all the caches together may hold, in MiB; the server's own memory (about 0.5 GB
#: with the networks loaded) and the sessions' come on top.
BUDGET_MB = 3584


@dataclass(frozen=True)
class Cache:
    """A cache's bound: its entries, and its largest entry in images of :data:`IMAGE_MB`
    plus a part that does not grow with the image, in MiB."""

    entries: int
    images: float
    fixed_mb: float = 0.0

    @property
    def largest_mb(self) -> float:
        return self.images * IMAGE_MB + self.fixed_mb

    @property
    def most_mb(self) -> float:
        return self.entries * self.largest_mb


#: Every cache of the site, by the name of the function it wraps.
CACHES: dict[str, Cache] = {
    "scene._sample": Cache(12, 1),
    "scene._decoded": Cache(12, 1),
    "scene._noisy": Cache(16, 1),
    "scene._estimated_sigma": Cache(64, 0, 0.001),
    "compute._run": Cache(16, 5.1, 7.3),  # the image, its stages, the extras
    "compute._look": Cache(32, 0.1, 1.0),  # one pixel's view: patches, a map at most
    "compute._kept": Cache(6, KEPT_ITERATES + 1, 1.0),  # a restoration and its iterates
    "compute._kept_small": Cache(32, 0, 4.0),  # a sample on a canvas of 128 at most
    "views._scores": Cache(512, 0, 0.001),
    "views._panel_figures": Cache(32, 0.5),
    "wavelet_views._pyramid_figures": Cache(8, 1),
    "pde_views._heat_and_gaussian": Cache(4, 2),
    "pde_views._staircase_demo": Cache(8, 0, 1.0),
    "digits_views._trained": Cache(16, 0, 0.5),
    "inverse_views._colour_sample": Cache(4, 1),
    "inverse_views._degraded": Cache(8, 1),
    "inverse_views._baseline": Cache(8, 1),
    "noise_and_metrics._models": Cache(16, 0.5),
    "noise_and_metrics._scores": Cache(8, 1),
}


def entries(name: str) -> int:
    """The ``max_entries`` of the cache wrapping function ``name`` (module.function)."""
    return CACHES[name].entries


def budget_mb() -> float:
    """The most all the caches can hold together, in MiB."""
    return sum(cache.most_mb for cache in CACHES.values())
