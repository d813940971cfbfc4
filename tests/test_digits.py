"""Tests of the digits multi-layer perceptron (denoisers.nets.digits).

Measured on a busy 2-core CPU (seeds 0-4, 60 epochs, hidden (32,)): test
accuracy 97.3-98.4 % with ReLU and 97.6-98.0 % with sigmoid (Adam), 96.2-98.0 %
with SGD; about 0.5 s a run. Seeds 0 and 1 (ReLU) disagree on 1.6 % of the test
digits and their first layers have a mean matched cosine of 0.55.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest
import torch

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
    assert gap.matched_cosine == pytest.approx(1 - gap.weight_distance)
    assert gap.matched_cosine > gap.unmatched_cosine  # matching helps, but not to 1
    assert 0 <= gap.disagreement < 0.10  # measured 0.016
    assert sorted(gap.matching.tolist()) == list(range(32))
    assert gap.cosines.shape == (32,)


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
    assert gap.weight_distance == pytest.approx(0.0, abs=1e-12)
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
    ({"hidden": (0,)}, ["hidden", "positive"]),
    ({"hidden": (32, -4)}, ["hidden", "positive"]),
    ({"hidden": ()}, ["hidden"]),
    ({"hidden": (8.5,)}, ["hidden"]),
    ({"hidden": "32"}, ["hidden"]),
    ({"epochs": 0}, ["epochs", "[1, 500]"]),
    ({"epochs": 501}, ["epochs", "[1, 500]"]),
    ({"epochs": 2.0}, ["epochs"]),
    ({"epochs": True}, ["epochs"]),
    ({"seed": -1}, ["seed"]),
    ({"seed": 1.5}, ["seed"]),
    ({"learning_rate": 0.0}, ["learning_rate"]),
    ({"learning_rate": float("nan")}, ["learning_rate"]),
    ({"optimiser": "rmsprop"}, ["optimiser", "'adam'", "'sgd'"]),
    ({"batch_size": 0}, ["batch_size"]),
    ({"test_fraction": 0.0}, ["test_fraction"]),
])
def test_bad_arguments_raise(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        digits.train_digits_mlp(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_bad_split_and_forward_arguments_raise() -> None:
    with pytest.raises(ValueError, match="test_fraction"):
        digits.load_digits_split(test_fraction=1.0)
    with pytest.raises(ValueError, match="seed"):
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
