"""How much the site's caches may hold, in bytes: one budget per cache.

Every cache of the site takes its bound from :data:`CACHES`, stated in MiB of
what its entries actually take:

- an ``st.cache_data`` cache passes :func:`max_size` to Streamlit's own
  ``max_size``, which measures each entry's pickled bytes when it is stored
  and drops the least recently used entries beyond the budget (Streamlit 1.67
  and later);
- a cache of shared objects (finished Plotly figures, handed to every session
  uncopied) is a :class:`ui.lru.SharedCache`, which measures each entry's
  pickled bytes once when it is stored and evicts the same way.

So 84 small results cost what 84 small results cost: the budget of
``compute._run`` holds one page's whole work (the deep-learning page's
scoreboard and σ sweep: 84 results at the default working size, about
90 MiB) many times over, and still about twenty of the largest traced runs
(a 1024x1024 colour image with its stages, 60-70 MiB each).
``tests/test_memory.py`` checks that every cache of the site is in this table,
that the budgets add up to at most :data:`BUDGET_MB`, that a cache filled past
its budget keeps only the most recent entries that fit, and that one page's
work fits ``compute._run``. The server's own memory (about 0.5 GB with the
networks loaded) and the sessions' come on top of the caches' budget.
"""

from __future__ import annotations

from dataclasses import dataclass

from denoisers import images

#: The largest image the site works on, in MiB: colour, MAX_SIDE a side, float32.
IMAGE_MB = images.MAX_SIDE ** 2 * 3 * 4 / 2 ** 20

#: What all the caches together may hold, in MiB.
BUDGET_MB = 3584


@dataclass(frozen=True)
class Cache:
    """A cache's budget in MiB, and how long an entry may live, in seconds."""

    mb: float
    ttl: float = 6 * 3600

    @property
    def max_bytes(self) -> int:
        return int(self.mb * 2 ** 20)


#: Every cache of the site, by the name of the function it wraps (module.function).
CACHES: dict[str, Cache] = {
    "scene._sample": Cache(96, ttl=24 * 3600),
    "scene._decoded": Cache(96, ttl=3600),  # uploads: an hour in memory, never on disk
    "scene._noisy": Cache(128, ttl=3600),
    "scene._estimated_sigma": Cache(1, ttl=3600),
    "scene.fitted_curve": Cache(1, ttl=3600),  # a photo's noise-level curve: a few bins
    "compute._run": Cache(1536),  # the methods' results, with their stages and extras
    "compute._look": Cache(64),  # one pixel's view: patches, a map at most
    "compute._kept": Cache(512),  # restorations, each with its kept iterates
    "compute._kept_small": Cache(128),  # samples on a canvas of 128 at most, sweeps
    "views._scores": Cache(1, ttl=3600),
    "views._panel_figures": Cache(192, ttl=3600),
    "views._heatmap_figure": Cache(64, ttl=3600),
    "wavelet_views._pyramid_figures": Cache(64, ttl=3600),
    "pde_views._heat_and_gaussian": Cache(96),
    "pde_views._staircase_demo": Cache(16),
    "digits_views._trained": Cache(32),
    "digits_views._dreamed": Cache(4),
    "inverse_views._colour_sample": Cache(48, ttl=24 * 3600),
    "inverse_views._degraded": Cache(96),
    "inverse_views._baseline": Cache(96),
    "noise_and_metrics._models": Cache(64, ttl=3600),
    "noise_and_metrics._scores": Cache(64, ttl=3600),
}


def max_size(name: str) -> int:
    """The budget, in bytes, of the cache wrapping function ``name`` (module.function)."""
    return CACHES[name].max_bytes


def ttl(name: str) -> float:
    """How long, in seconds, an entry of the cache wrapping ``name`` may live."""
    return CACHES[name].ttl


def budget_mb() -> float:
    """The most all the caches can hold together, in MiB."""
    return sum(cache.mb for cache in CACHES.values())
