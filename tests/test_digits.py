"""Tests of the digits multi-layer perceptron (denoisers.nets.digits).

Measured on a busy 2-core CPU (seeds 0-4, 60 epochs, hidden (32,)): test
accuracy 97.3-98.4 % with ReLU and 97.6-98.0 % with sigmoid (Adam), 96.2-98.0 %
with SGD; about 0.5 s a run. Seeds 0 and 1 (ReLU) disagree on 1.6 % of the test
digits and their first layers have a mean matched cosine of 0.55.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment
from streamlit.testing.v1 import AppTest

from denoisers.core import InvalidInput, InvalidType
from denoisers.nets import digits


def run(seed: int = 0, activation: str = "relu", optimiser: str = "adam") -> digits.DigitsRun:
    """A default-sized network, trained once per (seed, activation, optimiser)."""
    return _trained(seed, activation, optimiser)


@functools.cache
def _trained(seed: int, activation: str, optimiser: str) -> digits.DigitsRun:
    return digits.train_digits_mlp(seed=seed, activation=activation, optimiser=optimiser)


# --------------------------------------------------------------------------- data

def test_split_sizes_range_and_stratification() -> None:
    x_train, y_train, x_test, y_test = digits.load_digits_split()
    assert x_train.shape == (1347, 64) and x_test.shape == (450, 64)
    assert y_train.shape == (1347,) and y_test.shape == (450,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))
    # stratified: every class is about 25 % test
    share = np.bincount(y_test, minlength=10) / (
        np.bincount(y_test, minlength=10) + np.bincount(y_train, minlength=10))
    assert np.all(np.abs(share - 0.25) < 0.01)


def test_split_is_seeded() -> None:
    a = digits.load_digits_split(seed=3)
    b = digits.load_digits_split(seed=3)
    c = digits.load_digits_split(seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[2], c[2])
    x_train, _, x_test, _ = digits.load_digits_split(test_fraction=0.5)
    assert abs(len(x_test) - len(x_train)) <= 1


# --------------------------------------------------------------------------- training

@pytest.mark.parametrize("activation", digits.ACTIVATIONS)
def test_default_network_is_accurate(activation: str) -> None:
    r = run(activation=activation)
    assert r.accuracy > 0.90, f"{activation}: {r.accuracy:.3f}"
    assert r.test_accuracy_curve.shape == r.loss.shape == (60,)
    assert np.all((r.test_accuracy_curve >= 0) & (r.test_accuracy_curve <= 1))
    assert r.test_accuracy_curve[-1] > 0.90


@pytest.mark.parametrize("activation", digits.ACTIVATIONS)
def test_loss_decreases(activation: str) -> None:
    loss = run(activation=activation).loss
    assert np.all(np.isfinite(loss)) and np.all(loss > 0)
    assert loss[-1] < loss[0] / 2
    assert loss[0] < 2.4  # starts near log(10) = 2.30, chance level


def test_sgd_with_momentum_also_learns() -> None:
    r = run(optimiser="sgd")
    assert r.optimiser == "sgd" and r.learning_rate == digits.OPTIMISERS["sgd"]
    assert r.accuracy > 0.90


def test_result_fields_are_consistent() -> None:
    r = run()
    assert r.hidden == (32,) and r.activation == "relu" and r.epochs == 60
    assert [w.shape for w in r.weights] == [(32, 64), (10, 32)]
    assert [b.shape for b in r.biases] == [(32,), (10,)]
    assert r.n_parameters == 64 * 32 + 32 + 32 * 10 + 10
    assert r.filters.shape == (32, 8, 8)
    np.testing.assert_array_equal(r.filters[5].ravel(), r.weights[0][5])
    assert r.test_images.shape == (450, 8, 8) and r.test_labels.shape == (450,)
    np.testing.assert_allclose(r.probabilities.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(r.predictions, r.probabilities.argmax(axis=1))
    assert r.accuracy == pytest.approx(np.mean(r.predictions == r.test_labels))
    wrong = r.predictions != r.test_labels
    np.testing.assert_array_equal(r.misclassified, np.flatnonzero(wrong))
    assert len(r.misclassified) == round((1 - r.accuracy) * 450)
    assert np.all(r.misclassified_true != r.misclassified_predicted)
    assert r.train_accuracy >= r.accuracy - 0.02
    with pytest.raises(ValueError):
        r.weights[0][0, 0] = 1.0  # read-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.accuracy = 1.0  # type: ignore[misc]


def test_same_seed_is_bit_for_bit_reproducible() -> None:
    a = run()
    b = digits.train_digits_mlp(seed=0)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.test_accuracy_curve, b.test_accuracy_curve)
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predictions, b.predictions)
    assert a.accuracy == b.accuracy


def test_different_seeds_find_different_solutions_of_equal_accuracy() -> None:
    a, b = run(0), run(1)
    assert not np.array_equal(a.weights[0], b.weights[0])
    assert a.accuracy > 0.90 and b.accuracy > 0.90
    gap = digits.solution_gap(a, b)
    assert gap.accuracies == (a.accuracy, b.accuracy)
    assert gap.weight_distance > 0.2  # measured 0.45
    assert gap.matched_cosine > gap.unmatched_cosine  # matching helps, but not to 1
    assert 0 <= gap.disagreement < 0.10  # measured 0.016
    assert gap.disagreement == pytest.approx(np.mean(a.predictions != b.predictions))
    assert sorted(gap.matching.tolist()) == list(range(32))
    assert gap.cosines.shape == (32,)


def test_the_matched_cosine_is_the_best_pairing_of_the_filters() -> None:
    """Recomputed here from the two runs' filters: the cosine of each pair, the best
    one-to-one pairing by the Hungarian method (as a cost to minimise), and no random
    pairing better."""
    a, b = run(0), run(1)
    gap = digits.solution_gap(a, b)
    fa = a.filters.reshape(32, 64).astype(np.float64)
    fb = b.filters.reshape(32, 64).astype(np.float64)
    cos = np.array([[u @ v / (np.linalg.norm(u) * np.linalg.norm(v)) for v in fb] for u in fa])
    np.testing.assert_allclose(gap.cosines, cos[np.arange(32), gap.matching], atol=1e-12)
    rows, cols = linear_sum_assignment(1.0 - cos)
    assert gap.matched_cosine == pytest.approx(cos[rows, cols].mean(), abs=1e-12)
    assert gap.unmatched_cosine == pytest.approx(np.trace(cos) / 32, abs=1e-12)
    rng = np.random.default_rng(0)
    best_random = max(cos[np.arange(32), rng.permutation(32)].mean() for _ in range(2000))
    assert best_random < gap.matched_cosine


def test_solution_gap_ignores_the_order_of_hidden_units() -> None:
    a = run()
    perm = np.random.default_rng(0).permutation(32)
    w1, w2 = a.weights
    b1, b2 = a.biases
    shuffled = dataclasses.replace(a, weights=(w1[perm], w2[:, perm]), biases=(b1[perm], b2))
    image = a.test_images[7]
    np.testing.assert_allclose(digits.forward_pass(shuffled, image)[-1],
                               digits.forward_pass(a, image)[-1], rtol=1e-12, atol=1e-12)
    gap = digits.solution_gap(a, shuffled)
    assert gap.matched_cosine == pytest.approx(1.0, abs=1e-12)
    assert gap.weight_distance == pytest.approx(0.0, abs=1e-12)
    assert gap.unmatched_cosine < 0.5  # the units in their given order are other filters
    np.testing.assert_array_equal(perm[gap.matching], np.arange(32))
    assert digits.solution_gap(a, a).disagreement == 0.0


def test_compare_initialisations_uses_the_same_data() -> None:
    a, b = digits.compare_initialisations((2, 3), epochs=2, hidden=(8,))
    assert (a.seed, b.seed) == (2, 3) and a.epochs == b.epochs == 2
    np.testing.assert_array_equal(a.test_labels, b.test_labels)
    assert digits.solution_gap(a, b).weight_distance > 0


def test_progress_reports_each_epoch() -> None:
    seen: list[float] = []
    digits.train_digits_mlp(epochs=3, hidden=(4,), progress=seen.append)
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_trains_on_one_thread_and_gives_the_thread_count_back() -> None:
    before = torch.get_num_threads()
    during: list[int] = []
    digits.train_digits_mlp(epochs=2, hidden=(8,),
                            progress=lambda _: during.append(torch.get_num_threads()))
    assert during == [1, 1]
    assert torch.get_num_threads() == before


def test_a_failed_training_gives_the_thread_count_back_too() -> None:
    before = torch.get_num_threads()

    def fail(_: float) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        digits.train_digits_mlp(epochs=2, hidden=(8,), progress=fail)
    assert torch.get_num_threads() == before


def test_trains_inside_no_grad() -> None:
    with torch.no_grad():
        r = digits.train_digits_mlp(epochs=2, hidden=(8,))
    assert r.loss[1] < r.loss[0]


# --------------------------------------------------------------------------- forward pass

@pytest.mark.parametrize("activation", digits.ACTIVATIONS)
def test_forward_pass_matches_the_predictions(activation: str) -> None:
    r = run(activation=activation)
    layers = digits.forward_pass(r, r.test_images[0])
    assert [a.shape for a in layers] == [(64,), (32,), (10,)]
    np.testing.assert_array_equal(layers[0], r.test_images[0].ravel())
    hidden = layers[1]
    assert np.all(hidden >= 0) if activation == "relu" else np.all((hidden > 0) & (hidden < 1))
    for i in range(len(r.test_labels)):
        probs = digits.forward_pass(r, r.test_images[i])[-1]
        assert probs.sum() == pytest.approx(1.0, abs=1e-12) and np.all(probs >= 0)
        assert probs.argmax() == r.predictions[i]
    flat = digits.forward_pass(r, r.test_images[3].ravel())
    np.testing.assert_array_equal(flat[-1], digits.forward_pass(r, r.test_images[3])[-1])


def test_forward_pass_through_two_hidden_layers() -> None:
    r = digits.train_digits_mlp(hidden=(16, 12), epochs=2, activation="sigmoid")
    assert r.filters.shape == (16, 8, 8)
    layers = digits.forward_pass(r, r.test_images[0])
    assert [a.shape for a in layers] == [(64,), (16,), (12,), (10,)]
    assert layers[-1].argmax() == r.predictions[0]


# --------------------------------------------------------------------------- arguments

@pytest.mark.parametrize(("kwargs", "words"), [
    ({"activation": "tanh"}, ["activation", "'relu'", "'sigmoid'", "'tanh'"]),
    ({"activation": "ReLU"}, ["activation", "'relu'"]),
    ({"hidden": (0,)}, ["hidden", "[1, 256]"]),
    ({"hidden": (32, -4)}, ["hidden", "[1, 256]", "-4"]),
    ({"hidden": 257}, ["hidden", "[1, 256]"]),
    ({"hidden": ()}, ["hidden", "1 to 8"]),
    ({"hidden": (4,) * 9}, ["hidden", "1 to 8"]),
    ({"hidden": (8.5,)}, ["hidden"]),
    ({"hidden": "32"}, ["hidden"]),
    ({"epochs": 0}, ["epochs", "[1, 200]"]),
    ({"epochs": 201}, ["epochs", "[1, 200]"]),
    ({"epochs": 2.0}, ["epochs"]),
    ({"epochs": True}, ["epochs"]),
    ({"seed": -1}, ["seed"]),
    ({"seed": 1.5}, ["seed"]),
    ({"seed": 2**32}, ["seed", "[0, 4294967295]"]),
    ({"split_seed": -1}, ["split_seed"]),
    ({"learning_rate": 0.0}, ["learning_rate"]),
    ({"learning_rate": float("nan")}, ["learning_rate"]),
    ({"optimiser": "rmsprop"}, ["optimiser", "'adam'", "'sgd'"]),
    ({"batch_size": 0}, ["batch_size"]),
    ({"batch_size": 2049}, ["batch_size"]),
    ({"test_fraction": 0.0}, ["test_fraction"]),
])
def test_bad_arguments_raise(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        digits.train_digits_mlp(**kwargs)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"epochs": 0}, "the 'epochs' parameter of train_digits_mlp must be an int in [1, 200]; "
                    "got 0"),
    ({"hidden": (16, 300)}, "the 'hidden' parameter of train_digits_mlp must be an int in "
                            "[1, 256]; got 300"),
    ({"learning_rate": 20.0}, "the 'learning_rate' parameter of train_digits_mlp must be a "
                              "float in [1e-06, 10]; got 20.0"),
    ({"optimiser": "rmsprop"}, "the 'optimiser' parameter of train_digits_mlp must be one of "
                               "'adam', 'sgd'; got 'rmsprop'"),
    ({"test_fraction": 0.95}, "the 'test_fraction' parameter of train_digits_mlp must be a "
                              "float in [0.1, 0.9]; got 0.95"),
])
def test_a_value_out_of_range_is_refused_with_the_uniform_message(kwargs: dict,
                                                                  message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        digits.train_digits_mlp(**kwargs)
    assert str(info.value) == message
    assert not isinstance(info.value, TypeError)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"epochs": 2.0}, "the 'epochs' parameter of train_digits_mlp must be an int in [1, 200]; "
                      "got 2.0"),
    ({"epochs": True}, "the 'epochs' parameter of train_digits_mlp must be an int in [1, 200]; "
                       "got True"),
    ({"hidden": (8.5,)}, "the 'hidden' parameter of train_digits_mlp must be an int in "
                         "[1, 256]; got 8.5"),
    ({"hidden": "32"}, "the 'hidden' parameter of train_digits_mlp must be an int or a "
                       "sequence of 1 to 8 ints (the sizes of the hidden layers); got '32'"),
    ({"activation": 1}, "the 'activation' parameter of train_digits_mlp must be one of "
                        "'relu', 'sigmoid'; got 1"),
    ({"learning_rate": "0.1"}, "the 'learning_rate' parameter of train_digits_mlp must be a "
                               "float in [1e-06, 10]; got '0.1'"),
])
def test_a_wrong_type_is_refused_as_a_type_error(kwargs: dict, message: str) -> None:
    with pytest.raises(TypeError) as info:
        digits.train_digits_mlp(**kwargs)
    assert isinstance(info.value, InvalidType) and str(info.value) == message


def test_an_unknown_keyword_is_refused() -> None:
    with pytest.raises(TypeError, match="momentum"):
        digits.train_digits_mlp(momentum=0.5)  # type: ignore[call-arg]
    with pytest.raises(InvalidInput) as info:
        digits.compare_initialisations(momentum=0.5)
    assert str(info.value).startswith("compare_initialisations has no parameter 'momentum'; "
                                      "its parameters are: activation, batch_size, epochs, ")
    with pytest.raises(InvalidInput, match="'epochs' parameter of compare_initialisations"):
        digits.compare_initialisations(epochs=0)


def test_an_int_is_one_hidden_layer_and_the_learning_rate_defaults_by_optimiser() -> None:
    r = digits.train_digits_mlp(hidden=np.int64(6), epochs=1, optimiser="sgd",
                                learning_rate=None)
    assert r.hidden == (6,) and type(r.hidden[0]) is int
    assert r.learning_rate == 0.1
    assert digits.train_digits_mlp(hidden=6, epochs=1, learning_rate=0.5).learning_rate == 0.5


def test_the_specs_defaults_are_the_functions_defaults() -> None:
    """The site draws its controls' defaults from the spec: they must be what a call
    without arguments trains."""
    spec = {p.name: p.default for p in digits.SPEC}
    signature = inspect.signature(digits.train_digits_mlp).parameters
    for name, default in spec.items():
        given = signature[name].default
        if name == "hidden":
            assert given == (default,)
        elif name == "learning_rate":
            assert given is None and default == digits.OPTIMISERS["adam"]
        else:
            assert given == default, name
    split = inspect.signature(digits.load_digits_split).parameters
    assert {p.name: p.default for p in digits.SPLIT_SPEC} == {
        name: split[name].default for name in split}


def _interlude_app() -> None:
    from ui import digits_views

    digits_views.interlude(key="t")


def test_the_interludes_controls_are_the_librarys_spec() -> None:
    """The interlude's widgets offer exactly the ranges and options of digits.SPEC, with
    the page's defaults (32 hidden units, ReLU, 60 epochs, seed 0); trained small here."""
    at = AppTest.from_function(_interlude_app, default_timeout=120)
    at.session_state["t.hidden"] = 4
    at.session_state["t.epochs"] = 2
    at.run()
    assert not at.exception, at.exception
    spec = {p.name: p for p in digits.SPEC}
    for name, label, default in (("hidden", "Hidden units", 32), ("epochs", "Epochs", 60)):
        slider = at.slider(key=f"t.{name}")
        assert slider.label == label
        assert (slider.min, slider.max, slider.step) == (spec[name].low, spec[name].high, 1)
        assert list(slider.proto.default) == [default]
    assert at.slider(key="t.hidden").max == 256 and at.slider(key="t.epochs").max == 200
    seed = at.number_input(key="t.seed")
    assert seed.label == "Seed of the initial weights"
    assert (seed.min, seed.max, seed.value) == (0, spec["seed"].high, 0)
    activation = at.selectbox(key="t.activation")
    assert activation.label == "Nonlinearity"
    assert activation.options == list(digits.ACTIVATIONS) and activation.value == "relu"
    assert at.metric[0].label == "Test accuracy"
    assert f"{4 * 64 + 4 + 4 * 10 + 10} weights" in at.metric[0].help  # 4 units were trained


def test_bad_split_and_forward_arguments_raise() -> None:
    with pytest.raises(InvalidInput, match="'test_fraction' parameter of load_digits_split"):
        digits.load_digits_split(test_fraction=1.0)
    with pytest.raises(InvalidType, match="'seed' parameter of load_digits_split"):
        digits.load_digits_split(seed="0")  # type: ignore[arg-type]
    r = run()
    with pytest.raises(ValueError, match="shape"):
        digits.forward_pass(r, np.zeros((28, 28)))
    with pytest.raises(ValueError, match="finite"):
        digits.forward_pass(r, np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="pair"):
        digits.compare_initialisations((0, 1, 2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seeds"):
        digits.compare_initialisations(seed=3)
    other = digits.train_digits_mlp(hidden=(8,), epochs=1)
    with pytest.raises(ValueError, match="hidden"):
        digits.solution_gap(r, other)
    moved = digits.train_digits_mlp(epochs=1, split_seed=1)
    with pytest.raises(ValueError, match="different digits"):
        digits.solution_gap(r, moved)
