"""The contract: parameter specs, validation messages, images and sigma checks."""

from __future__ import annotations

import numpy as np
import pytest

import denoisers
from denoisers.core import Bool, Choice, Float, Int, Method, Result, as_image, check_sigma, digest


def _noop(noisy, sigma, *, width=None, mode="a", flag=False, n=3, trace=False, progress=None):
    return Result(noisy)


METHOD = Method(
    key="noop", name="No-op", year=2000, family="test", paper="none", idea="none", run=_noop,
    params=(Float("width", 0.5, 5.0, rule=lambda s: 0.5 + 10 * s), Choice("mode", ("a", "b")),
            Bool("flag"), Int("n", 1, 9, default=3)),
)


def test_validate_fills_defaults():
    assert METHOD.validate({}) == {"width": None, "mode": "a", "flag": False, "n": 3}


def test_resolve_applies_the_rule_for_auto_parameters():
    assert METHOD.resolve({}, 0.1)["width"] == pytest.approx(1.5)
    assert METHOD.resolve({"width": 2.0}, 0.1)["width"] == 2.0


@pytest.mark.parametrize("params, message", [
    ({"width": 9.0}, r"the 'width' parameter of noop must be a float in \[0.5, 5\] or None "
                     r"\(auto: chosen from sigma\); got 9.0"),
    ({"width": "1"}, r"'width' parameter of noop must be a float"),
    ({"width": float("nan")}, r"'width'.*got nan"),
    ({"n": 2.5}, r"the 'n' parameter of noop must be an int in \[1, 9\]; got 2.5"),
    ({"n": True}, r"'n' parameter of noop must be an int"),
    ({"mode": "c"}, r"the 'mode' parameter of noop must be one of 'a', 'b'; got 'c'"),
    ({"flag": 1}, r"the 'flag' parameter of noop must be a bool; got 1"),
    ({"colour": 1}, r"noop has no parameter 'colour'; its parameters are: flag, mode, n, width"),
])
def test_validate_refuses_bad_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        METHOD.validate(params)


def test_a_default_outside_its_range_is_refused():
    with pytest.raises(ValueError, match="default 7.0 of parameter 'x'"):
        Float("x", 0, 1, default=7)


def test_as_image_scales_integers_and_squeezes_a_single_channel():
    out = as_image(np.array([[0, 255], [128, 64]], dtype=np.uint8)[..., None])
    assert out.dtype == np.float32 and out.shape == (2, 2)
    assert out[0, 1] == 1.0 and out[1, 0] == pytest.approx(128 / 255)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 4, 4)), r"shape \(H, W\) or \(H, W, 3\); got shape \(4, 4, 4\)"),
    (np.zeros(5), r"got shape \(5,\)"),
    (np.zeros((1, 5)), "at least 2x2"),
    (np.array([[0, np.nan], [0, 0]]), "NaN or infinite"),
    (np.array([["a", "b"], ["c", "d"]]), "numeric image"),
])
def test_as_image_refuses_what_is_not_an_image(bad, message):
    with pytest.raises(ValueError, match=message):
        as_image(bad)


@pytest.mark.parametrize("sigma", [-0.1, 1.5, float("inf"), "0.1", None])
def test_check_sigma_refuses_values_outside_the_unit_scale(sigma):
    with pytest.raises(ValueError, match="sigma is the noise standard deviation"):
        check_sigma(sigma)


def test_digest_changes_with_content_shape_and_dtype():
    a = np.zeros((4, 4), np.float32)
    b = a.copy()
    b[3, 3] = 1e-7
    assert digest(a) == digest(a.copy())
    assert len({digest(a), digest(b), digest(a.reshape(2, 8)), digest(a.astype(np.float64))}) == 4


@pytest.mark.parametrize("params", [{"width": "1"}, {"n": 2.5}, {"n": True}, {"mode": 1},
                                    {"flag": 1}])
def test_a_wrong_type_is_a_type_error_as_well(params):
    with pytest.raises(TypeError):
        METHOD.validate(params)
    with pytest.raises(denoisers.InvalidType):
        METHOD.validate(params)


@pytest.mark.parametrize("params", [{"width": 9.0}, {"n": 10}, {"mode": "c"}])
def test_a_value_out_of_range_is_a_value_error_only(params):
    with pytest.raises(ValueError) as refused:
        METHOD.validate(params)
    assert not isinstance(refused.value, TypeError)
