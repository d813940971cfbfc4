"""Every registered method is held to the same contract.

Parametrized over the registry, so a method added later is tested here with
no change to this file: shape and dtype, grey and colour, odd sizes,
determinism, a PSNR gain at sigma 25, refusal of bad parameters, and a spec
that matches the function's signature and docstring.
"""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest

import denoisers
from denoisers import metrics, noise
from denoisers.colour import luminance
from denoisers.core import Bool, Choice, Float, Int

METHODS = denoisers.methods()
KEYS = [m.key for m in METHODS]
SIGMA = 25 / 255
#: The least PSNR gain over the noisy input, at sigma 25, that any method must give.
MIN_GAIN_DB = 2.0


def test_the_registry_lists_methods_in_history_order():
    assert KEYS, "no method is registered"
    assert len(set(KEYS)) == len(KEYS)
    years = [m.year for m in METHODS]
    assert years == sorted(years)
    assert all(denoisers.get(k).key == k for k in KEYS)


def test_an_unknown_key_lists_the_registered_ones():
    with pytest.raises(ValueError, match=f"no method is registered as 'nope'.*{KEYS[0]}"):
        denoisers.get("nope")


@pytest.mark.parametrize("key", KEYS)
def test_method_is_described(key):
    m = denoisers.get(key)
    assert m.name and m.family and len(m.paper) > 20 and len(m.idea) > 80
    assert 1800 <= m.year <= 2030
    assert inspect.getdoc(m.run), f"{key}'s function has no docstring"


@pytest.mark.parametrize("key", KEYS)
def test_spec_matches_signature_and_docstring(key):
    m = denoisers.get(key)
    signature = inspect.signature(m.run)
    doc = inspect.getdoc(m.run)
    for p in m.params:
        assert signature.parameters[p.name].default == p.default, (
            f"{key}: the function's default for {p.name!r} differs from the spec's")
        assert signature.parameters[p.name].kind is inspect.Parameter.KEYWORD_ONLY
        assert f"{p.name} :" in doc, f"{key}: parameter {p.name!r} is not documented"
        if p.auto:
            assert p.rule is not None, f"{key}: auto parameter {p.name!r} has no rule"
    for name in ("trace", "progress"):
        assert name in signature.parameters


@pytest.mark.parametrize("key", KEYS)
def test_auto_rules_give_values_in_range(key):
    m = denoisers.get(key)
    for sigma in (0.0, 5 / 255, 25 / 255, 50 / 255, 100 / 255, 1.0):
        for p in m.params:
            if p.auto:
                p.check(p.resolve(None, sigma), key)


@pytest.mark.parametrize("key", KEYS)
def test_gain_over_the_noisy_input_on_three_samples(key, grey_samples):
    for name, clean in grey_samples.items():
        noisy = noise.add_gaussian(clean, SIGMA, seed=1)
        gain = (metrics.psnr(clean, denoisers.run(key, noisy, SIGMA).image)
                - metrics.psnr(clean, noisy))
        assert gain > MIN_GAIN_DB, f"{key} gains only {gain:.2f} dB on {name}"


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("shape", [(201, 157), (157, 201, 3), (9, 12), (33, 31, 3), (2, 2),
                                   (3, 5, 3)])
def test_shape_and_dtype_are_kept_at_any_size(key, shape, rng):
    noisy = rng.random(shape, dtype=np.float32)
    out = denoisers.run(key, noisy, SIGMA).image
    assert out.shape == shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("key", KEYS)
def test_colour_gains_and_keeps_colour(key, colour_sample):
    noisy = noise.add_gaussian(colour_sample, SIGMA, seed=2)
    res = denoisers.run(key, noisy, SIGMA)
    assert metrics.psnr(colour_sample, res.image) > metrics.psnr(colour_sample, noisy) + MIN_GAIN_DB
    if not denoisers.get(key).colour:
        assert "opponent colour space" in res.extras["colour"]


@pytest.mark.parametrize("key", KEYS)
def test_deterministic(key, grey_samples):
    noisy = noise.add_gaussian(grey_samples["camera"], SIGMA, seed=4)
    assert np.array_equal(denoisers.run(key, noisy, SIGMA).image,
                          denoisers.run(key, noisy, SIGMA).image)


@pytest.mark.parametrize("key", KEYS)
def test_trace_shows_something_and_reports_the_parameters_used(key, grey_samples):
    """The parameters a run reports, auto ones resolved, are the ones it used: given them,
    the method returns the very same image."""
    noisy = noise.add_gaussian(grey_samples["camera"], SIGMA, seed=5)
    fast, traced = denoisers.run(key, noisy, SIGMA), denoisers.run(key, noisy, SIGMA, trace=True)
    assert traced.stages or traced.curves
    assert not fast.stages and not fast.curves
    assert np.allclose(fast.image, traced.image, atol=1e-6)
    used = traced.extras["params"]
    assert set(used) == {p.name for p in denoisers.get(key).params}
    assert all(v is not None for v in used.values())
    np.testing.assert_array_equal(denoisers.run(key, noisy, SIGMA, **used).image, fast.image)


@pytest.mark.parametrize("key", KEYS)
def test_progress_reports_fractions_in_order(key, grey_samples):
    seen: list[float] = []
    denoisers.run(key, grey_samples["moon"], SIGMA, progress=seen.append)
    assert seen and seen[-1] == 1.0, f"{key} never reports that it is done: {seen}"
    assert all(0 <= f <= 1 for f in seen) and seen == sorted(seen)


def _bad_values(p):
    if isinstance(p, Float):
        return ["0.5", p.high + abs(p.high) * 0.01 + 1e-6, p.low - abs(p.low) * 0.01 - 1e-6]
    if isinstance(p, Int):
        return [float(p.low) + 0.5, p.high + 1, p.low - 1]
    if isinstance(p, Choice):
        return ["no such option", 1]
    if isinstance(p, Bool):
        return ["yes", 1]
    raise TypeError(p)


@pytest.mark.parametrize("key", KEYS)
def test_bad_parameters_are_refused_with_their_range(key):
    m = denoisers.get(key)
    noisy = np.full((16, 16), 0.5, np.float32)
    for p in m.params:
        for value in _bad_values(p):
            with pytest.raises(ValueError, match=rf"the '{p.name}' parameter of {key} must be"):
                denoisers.run(key, noisy, SIGMA, **{p.name: value})
    with pytest.raises(ValueError, match=f"{key} has no parameter 'nonsense'"):
        denoisers.run(key, noisy, SIGMA, nonsense=1)


@pytest.mark.parametrize("key", KEYS)
def test_a_direct_call_refuses_what_run_refuses_with_the_same_message(key):
    """The function behind a method checks its own arguments, from the same spec."""
    m = denoisers.get(key)
    noisy = np.full((16, 16), 0.5, np.float32)
    bad_calls = [({p.name: value}, SIGMA) for p in m.params for value in _bad_values(p)]
    bad_calls += [({"nonsense": 1}, SIGMA), ({}, 25), ({}, -0.1)]
    for params, sigma in bad_calls:
        with pytest.raises(denoisers.InvalidInput) as through_run:
            denoisers.run(key, noisy, sigma, **params)
        with pytest.raises(denoisers.InvalidInput) as direct:
            m.run(noisy, sigma, **params)
        assert str(direct.value) == str(through_run.value), params


@pytest.mark.parametrize("key", KEYS)
def test_a_float64_image_gives_a_float32_result_called_directly_or_through_run(key):
    noisy = noise.add_gaussian(np.full((24, 24), 0.5, np.float32), SIGMA, seed=2)
    wide = noisy.astype(np.float64)
    direct, through_run = denoisers.get(key).run(wide, SIGMA), denoisers.run(key, wide, SIGMA)
    assert direct.image.dtype == through_run.image.dtype == np.float32
    np.testing.assert_array_equal(direct.image, through_run.image)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((8, 8, 4)), r"shape \(H, W\) or \(H, W, 3\)"),
    (np.full((8, 8), np.inf), "NaN or infinite"),
])
def test_run_refuses_bad_images(bad, message):
    with pytest.raises(ValueError, match=message):
        denoisers.run(KEYS[0], bad, SIGMA)


def test_run_refuses_a_sigma_on_the_wrong_scale():
    with pytest.raises(ValueError, match=r"25 on the 0-255 scale is 0.0980"):
        denoisers.run(KEYS[0], np.zeros((8, 8)), 25)


PROBED = [m.key for m in METHODS if m.probe]


def test_methods_with_a_view_of_one_pixel_include_those_the_pages_probe():
    assert {"median", "bilateral", "bm3d", "dncnn", "drunet"} <= set(PROBED)


@pytest.mark.parametrize("key", PROBED)
@pytest.mark.parametrize("colour", [False, True], ids=["grey", "colour"])
def test_look_adds_to_a_traced_run_what_run_with_the_probe_gives(key, colour, grey_samples,
                                                                colour_sample):
    clean = colour_sample if colour else grey_samples["camera"][:64, :64]
    noisy = noise.add_gaussian(clean, SIGMA, seed=0)
    probe = (10, 50)
    traced = denoisers.run(key, noisy, SIGMA, trace=True)
    direct = denoisers.run(key, noisy, SIGMA, trace=True, probe=probe)
    view = denoisers.look(key, noisy, SIGMA, traced, probe)
    assert view.stages or view.extras
    seen = view.onto(traced)
    assert list(seen.stages) == list(direct.stages)
    assert set(seen.extras) == set(direct.extras)
    for name in [*view.stages, *view.extras]:
        assert _same(seen.stages.get(name, seen.extras.get(name)),
                     direct.stages.get(name, direct.extras.get(name))), name


def _same(a, b) -> bool:
    """Deep equality of views: arrays element by element, dicts and tuples member by member."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("key", PROBED)
def test_choosing_another_pixel_never_reruns_the_method(key, grey_samples, monkeypatch):
    noisy = noise.add_gaussian(grey_samples["brick"][:64, :64], SIGMA, seed=1)
    traced = denoisers.run(key, noisy, SIGMA, trace=True)
    method = denoisers.get(key)

    def refuse(*args, **kwargs):
        raise AssertionError(f"{key} was run again to look at another pixel")

    monkeypatch.setattr(denoisers, "_REGISTRY",
                        {**denoisers._REGISTRY, key: dataclasses.replace(method, run=refuse)})
    views = [denoisers.look(key, noisy, SIGMA, traced, probe) for probe in ((5, 5), (40, 20))]
    assert views[0].extras or views[0].stages
    assert _differs(views[0], views[1]), f"{key}'s view is the same for two distant pixels"


def _differs(a: denoisers.View, b: denoisers.View) -> bool:
    return not all(_same(a.stages[n], b.stages[n]) for n in a.stages) or not _same(a.extras,
                                                                                   b.extras)


def test_look_refuses_a_method_without_a_view_and_a_pixel_outside_the_image(grey_samples):
    noisy = grey_samples["camera"][:32, :32]
    traced = denoisers.run("gaussian", noisy, SIGMA, trace=True)
    with pytest.raises(denoisers.InvalidInput, match="no view of a chosen pixel"):
        denoisers.look("gaussian", noisy, SIGMA, traced, (3, 3))
    traced = denoisers.run("median", noisy, SIGMA, trace=True)
    with pytest.raises(denoisers.InvalidInput, match="outside the image"):
        denoisers.look("median", noisy, SIGMA, traced, (3, 40))
    with pytest.raises(denoisers.InvalidInput, match="pair of ints"):
        denoisers.look("median", noisy, SIGMA, traced, "centre")


def test_the_luminance_view_carries_the_noise_level_of_the_luminance(colour_sample):
    """The views of a colour image look at its luminance, told that channel's noise level."""
    from denoisers import colour

    flat = np.full((128, 128, 3), 0.5, np.float32)
    noisy = noise.add_gaussian(flat, SIGMA, seed=4)
    grey, sigma = colour.luminance_view(noisy, SIGMA)
    assert grey.shape == (128, 128)
    assert sigma == pytest.approx(float(np.std(grey)), rel=0.03)
    same, told = colour.luminance_view(noisy[..., 0], SIGMA)
    assert told == SIGMA and np.shares_memory(same, noisy)


REFERENCED = [m.key for m in METHODS if m.takes_reference]


def test_bm3d_measures_its_passes_against_a_reference():
    assert "bm3d" in REFERENCED


@pytest.mark.parametrize("key", REFERENCED)
@pytest.mark.parametrize("colour", [False, True], ids=["grey", "colour"])
def test_a_reference_reaches_the_trace_only(key, colour, grey_samples, colour_sample):
    """The clean image gives the trace a PSNR curve; the estimate is the same without it."""
    clean = colour_sample if colour else grey_samples["camera"][:64, :64]
    noisy = noise.add_gaussian(clean, SIGMA, seed=6)
    blind = denoisers.run(key, noisy, SIGMA, trace=True)
    seen = denoisers.run(key, noisy, SIGMA, trace=True, reference=clean)
    np.testing.assert_array_equal(seen.image, blind.image)
    curve = seen.curves["PSNR (dB)"]
    assert "PSNR (dB)" not in blind.curves and curve.ndim == 1 and len(curve) >= 2
    # The curve's point at the estimate (its last, or at the stop of a trace that runs on
    # past it) is the estimate's PSNR, above the noisy image's; a method run channel by
    # channel measures the luminance, the channel its trace shows.
    measured = luminance if colour and not denoisers.get(key).colour else np.asarray
    x = seen.extras.get("curve_x", ("", np.arange(len(curve))))[1]
    at = int(np.argmin(np.abs(x - seen.extras["stop"]))) if "stop" in seen.extras else -1
    assert curve[at] == pytest.approx(metrics.psnr(measured(clean), measured(seen.image)),
                                      abs=0.01)
    assert curve[at] > metrics.psnr(measured(clean), measured(noisy))


def test_run_refuses_a_reference_of_another_shape():
    noisy = np.full((16, 16), 0.5, np.float32)
    with pytest.raises(denoisers.InvalidInput, match=r"reference must have the noisy image's"):
        denoisers.run("bm3d", noisy, SIGMA, trace=True, reference=np.zeros((8, 8)))
