"""What a neural network is, shown on handwritten digits.

Elad's essay "Deep, Deep Trouble" (SIAM News, 2017) opens with a picture
(its Figure 1) of what a neural network is: layers of *weighted averages*
(a matrix times the input, plus a bias), each followed by a fixed
*nonlinearity* (a sigmoid ``1 / (1 + exp(-z))`` or a ReLU ``max(z, 0)``),
with the weights learned from input/output pairs by gradient descent on a
loss (back-propagation: the chain rule, layer by layer, from the loss back
to every weight). This module builds that picture live, small enough to
train in about a second on a laptop CPU:

* :func:`load_digits_split` -- the 1797 8x8 handwritten digits bundled with
  scikit-learn, scaled to [0, 1] and split (stratified, seeded) into a
  training and a test set;
* :func:`train_digits_mlp` -- a multi-layer perceptron 64 -> hidden -> 10
  written in torch, trained with minibatch Adam (or SGD) on the
  cross-entropy, bit-reproducible given its seed; the :class:`DigitsRun` it
  returns holds the loss and accuracy curves, the test predictions and
  mistakes, and the trained weights as numpy arrays. Each row of the first
  weight matrix, reshaped to 8x8, is the pattern a hidden unit "looks for":
  the unit's input is the weighted average of the pixels with these weights;
* :func:`forward_pass` -- the activations of every layer for one digit, to
  draw the network as a diagram;
* :func:`compare_initialisations` and :func:`solution_gap` -- two random
  initialisations of the same network on the same data end with about the
  same accuracy but at different weights, even after matching the hidden
  units up to the best permutation. The loss is not convex: training finds
  *a* minimum, not *the* minimum, which is part of the "deep trouble" the
  essay is about (it works, but theory does not yet say why or which).

The forward pass is computed in numpy by :func:`forward_pass` from the
returned parameters, and the run's final predictions come from that same
function, so what the page draws is exactly what the network predicted.

References
----------
D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning representations
by back-propagating errors", Nature 323, 533-536 (1986),
doi:10.1038/323533a0.

Y. LeCun, B. Boser, J. S. Denker, D. Henderson, R. E. Howard, W. Hubbard and
L. D. Jackel, "Backpropagation applied to handwritten zip code recognition",
Neural Computation 1(4), 541-551 (1989), doi:10.1162/neco.1989.1.4.541.

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning
applied to document recognition", Proc. IEEE 86(11), 2278-2324 (1998),
doi:10.1109/5.726791.

E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits",
UCI Machine Learning Repository (1998), doi:10.24432/C50P49 -- the test
part of this data set (32x32 bitmaps counted in 4x4 blocks, values 0..16)
is what ``sklearn.datasets.load_digits`` ships.

M. Elad, "Deep, Deep Trouble: Deep Learning's Impact on Image Processing,
Mathematics, and Humanity", SIAM News 50(4), May 2017.

D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization",
ICLR 2015, arXiv:1412.6980.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from denoisers.core import (
    Choice,
    Float,
    Int,
    InvalidInput,
    InvalidType,
    Param,
    Progress,
    check_params,
    report,
)
from denoisers.threads import one_torch_thread

#: The nonlinearities offered between layers.
ACTIVATIONS = ("relu", "sigmoid")
#: The optimisers offered, and their default learning rates.
OPTIMISERS = {"adam": 0.01, "sgd": 0.1}
#: The most epochs and the largest hidden layer accepted: the site offers the
#: whole range, and one hidden layer of 256 units trained for 200 epochs took
#: 3.2 s on one thread of a quiet 2-core machine (1024 units for 500 epochs,
#: the limits before, took 19 s, and the page may train three runs).
MAX_EPOCHS = 200
MAX_HIDDEN = 256
#: The most hidden layers accepted.
MAX_LAYERS = 8
#: The largest seed accepted: numpy's ``RandomState``, behind the split, takes
#: seeds below 2**32; every seed here has that one range.
MAX_SEED = 2**32 - 1
#: The largest minibatch accepted.
MAX_BATCH = 2048
#: Number of classes and of input pixels.
N_CLASSES = 10
N_PIXELS = 64

#: The parameters of :func:`load_digits_split`, a standalone spec checked by
#: :func:`denoisers.core.check_params`.
SPLIT_SPEC: tuple[Param, ...] = (
    Int("seed", 0, MAX_SEED, default=0,
        help="Seed of the train/test split: the same seed gives the same split."),
    Float("test_fraction", 0.1, 0.9, default=0.25,
          help="Fraction of the digits held out for testing."),
)

#: The parameters of a training (:func:`train_digits_mlp`), a standalone spec:
#: every call is checked against it by :func:`denoisers.core.check_params`,
#: and the site draws the digits interlude's controls from it. ``hidden`` is
#: the size of *one* hidden layer: :func:`train_digits_mlp` takes a tuple of
#: sizes (an int is one layer), each checked against this entry, and 1 to
#: :data:`MAX_LAYERS` of them. ``learning_rate``'s default is Adam's: a
#: training given none (or None) takes its optimiser's own (:data:`OPTIMISERS`).
SPEC: tuple[Param, ...] = (
    Int("hidden", 1, MAX_HIDDEN, default=32,
        help="Units in a hidden layer: each takes a weighted average of the previous "
             "layer's outputs and passes it through the nonlinearity."),
    Choice("activation", ACTIVATIONS, default="relu",
           help="The nonlinearity after every hidden layer: the ReLU max(z, 0) or the "
                "sigmoid 1 / (1 + exp(-z))."),
    Int("epochs", 1, MAX_EPOCHS, default=60, help="Passes over the training digits."),
    Int("seed", 0, MAX_SEED, default=0,
        help="Seed of the initial weights and of the order of the minibatches: the same "
             "seed trains the same network."),
    Float("learning_rate", 1e-6, 10.0, default=OPTIMISERS["adam"],
          help="Step size of the optimiser."),
    Choice("optimiser", tuple(OPTIMISERS), default="adam",
           help="Adam, or minibatch gradient descent with momentum 0.9."),
    Int("batch_size", 1, MAX_BATCH, default=64, help="Digits per minibatch."),
    Int("split_seed", 0, MAX_SEED, default=0, help=SPLIT_SPEC[0].help),
    SPLIT_SPEC[1],
)


# --------------------------------------------------------------------------- data

@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1797 digits as float32 rows in [0, 1] and their int64 labels (read once)."""
    bunch = load_digits()
    x = (np.asarray(bunch.data, dtype=np.float32) / 16.0)
    y = np.asarray(bunch.target, dtype=np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_digits_split(seed: int = 0, test_fraction: float = 0.25
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The scikit-learn handwritten digits, scaled to [0, 1] and split.

    Parameters
    ----------
    seed : int
        Seed of the split (the same seed always gives the same split), in
        [0, 2**32 - 1].
    test_fraction : float
        Fraction of the digits held out for testing, in [0.1, 0.9]. The split
        is stratified: every class keeps its share in both parts.

    Both are checked against :data:`SPLIT_SPEC`.

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray
        Images as float32 rows of 64 pixels in [0, 1] (``x.reshape(-1, 8, 8)``
        gives the 8x8 pictures, row-major) and labels as int64 in 0..9. With
        the defaults: 1347 training and 450 test digits.

    Notes
    -----
    The data (``sklearn.datasets.load_digits``) ship with scikit-learn, so
    nothing is downloaded: 1797 digits written by 43 people, 32x32 bitmaps
    reduced to 8x8 by counting the ink pixels in 4x4 blocks (values 0..16).
    """
    values = check_params(SPLIT_SPEC, {"seed": seed, "test_fraction": test_fraction},
                          "load_digits_split")
    x, y = _digits()
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=values["test_fraction"], random_state=values["seed"], stratify=y)
    return (np.ascontiguousarray(x_train), np.ascontiguousarray(y_train),
            np.ascontiguousarray(x_test), np.ascontiguousarray(y_test))


# --------------------------------------------------------------------------- result

@dataclass(frozen=True, eq=False)
class DigitsRun:
    """One trained multi-layer perceptron on the digits, and how it got there.

    Attributes
    ----------
    hidden : tuple of int
        Sizes of the hidden layers.
    activation : str
        The nonlinearity after every hidden layer, ``"relu"`` or ``"sigmoid"``.
    optimiser : str
        ``"adam"`` or ``"sgd"`` (with momentum 0.9).
    learning_rate : float
        The step size used.
    batch_size : int
        Digits per minibatch.
    epochs : int
        Passes over the training set.
    seed : int
        Seed of the initial weights and of the minibatch order.
    split_seed : int
        Seed of the train/test split (:func:`load_digits_split`).
    loss : ndarray, float64, shape (epochs,)
        Mean cross-entropy over the training set during each epoch.
    test_accuracy_curve : ndarray, float64, shape (epochs,)
        Fraction of test digits classified correctly after each epoch.
    accuracy : float
        Final fraction of test digits classified correctly.
    train_accuracy : float
        Final fraction of training digits classified correctly.
    weights : tuple of ndarray, float32
        One matrix per layer, shape (n_out, n_in): row ``j`` holds the weights
        of unit ``j`` over the previous layer (64 -> hidden... -> 10).
    biases : tuple of ndarray, float32
        One vector per layer, shape (n_out,).
    test_images : ndarray, float32, shape (n_test, 8, 8)
        The test digits, in [0, 1].
    test_labels : ndarray, int64, shape (n_test,)
        Their true labels.
    probabilities : ndarray, float64, shape (n_test, 10)
        The network's class probabilities (softmax) for every test digit.
    predictions : ndarray, int64, shape (n_test,)
        The predicted labels (``probabilities.argmax(1)``).
    misclassified : ndarray, int64
        Indices into the test set of the digits predicted wrongly; see
        :attr:`misclassified_true` and :attr:`misclassified_predicted`.
    seconds : float
        Wall-clock training time.
    """

    hidden: tuple[int, ...]
    activation: str
    optimiser: str
    learning_rate: float
    batch_size: int
    epochs: int
    seed: int
    split_seed: int
    loss: np.ndarray
    test_accuracy_curve: np.ndarray
    accuracy: float
    train_accuracy: float
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    test_images: np.ndarray
    test_labels: np.ndarray
    probabilities: np.ndarray
    predictions: np.ndarray
    misclassified: np.ndarray
    seconds: float

    @property
    def filters(self) -> np.ndarray:
        """The first layer's weights as 8x8 images, shape (hidden[0], 8, 8).

        Image ``j`` is what hidden unit ``j`` "looks for": its input is the
        weighted average of the 64 pixels with these weights (plus a bias),
        largest for digits whose ink lies on the positive weights.
        """
        return self.weights[0].reshape(-1, 8, 8)

    @property
    def misclassified_true(self) -> np.ndarray:
        """The true labels of the misclassified test digits."""
        return self.test_labels[self.misclassified]

    @property
    def misclassified_predicted(self) -> np.ndarray:
        """What the network said the misclassified test digits were."""
        return self.predictions[self.misclassified]

    @property
    def n_parameters(self) -> int:
        """Number of trained numbers (weights and biases)."""
        return int(sum(w.size + b.size for w, b in zip(self.weights, self.biases)))


# --------------------------------------------------------------------------- training

def train_digits_mlp(hidden: Sequence[int] | int = (32,), activation: str = "relu",
                     epochs: int = 60, seed: int = 0,
                     learning_rate: float | None = None, *,
                     optimiser: str = "adam", batch_size: int = 64,
                     split_seed: int = 0, test_fraction: float = 0.25,
                     progress: Progress | None = None) -> DigitsRun:
    """Train a multi-layer perceptron on the 8x8 digits with back-propagation.

    Parameters
    ----------
    hidden : sequence of int, or int
        Sizes of the hidden layers (1 to 8 layers of 1 to 256 units; an int
        is one layer): ``(32,)`` is 64 -> 32 -> 10.
    activation : {"relu", "sigmoid"}
        The nonlinearity after every hidden layer. The output layer is
        followed by the softmax.
    epochs : int
        Passes over the training set, in [1, 200].
    seed : int
        Seed of the initial weights and of the order of the minibatches, in
        [0, 2**32 - 1]. The run is bit-for-bit reproducible on one machine
        given the seed.
    learning_rate : float, optional
        Step size, in [1e-6, 10]; ``None`` picks 0.01 for Adam and 0.1 for
        SGD.
    optimiser : {"adam", "sgd"}
        Adam (Kingma & Ba 2015), or plain minibatch SGD with momentum 0.9.
    batch_size : int
        Digits per minibatch, in [1, 2048].
    split_seed, test_fraction :
        The train/test split (:func:`load_digits_split`); kept apart from
        ``seed`` so that runs with different seeds see the same data.
    progress : callable, optional
        Called with the fraction done (0..1) after each epoch.

    Returns
    -------
    DigitsRun
        Curves, final accuracy, predictions, mistakes and parameters.

    Raises
    ------
    InvalidInput
        For a value out of its range, :class:`~denoisers.core.InvalidType`
        (also a TypeError) for one of the wrong type: the parameters are
        checked against :data:`SPEC`, with its uniform messages.

    Notes
    -----
    Layer ``k`` computes ``a_k = f(W_k a_{k-1} + b_k)``: each unit takes a
    weighted average of the previous layer and passes it through the
    nonlinearity ``f``. The weights start uniform in ``±1/sqrt(n_in)``
    (torch's default for ``nn.Linear``) and are moved down the gradient of
    the mean cross-entropy ``-log p(true class)`` over each minibatch.

    Only a local ``torch.Generator`` is seeded: the global torch random
    state and determinism flags are left alone. Torch's intra-op thread
    count is set to 1 while the network trains and put back afterwards
    (:func:`~denoisers.threads.one_torch_thread`).

    Cost: the defaults (1347 digits, 60 epochs of 22 minibatches, 2410
    parameters) took 1.3-1.7 s on one thread of a 2-core machine whose load
    average was 7 to 9 (other work on it), and about 0.5 s when it was
    quieter. The products are tiny (64 digits by 64 pixels by 32 units),
    so a second thread cannot help, while handing each one to torch's
    thread pool costs milliseconds of waking and waiting when the cores
    are busy: under that load the defaults took 49 s with torch's 2
    threads. The largest network for the most epochs (256 units, 200
    epochs) took 3.2 s on the quiet machine.
    """
    args = _checked({"hidden": hidden, "activation": activation, "epochs": epochs,
                     "seed": seed, "learning_rate": learning_rate, "optimiser": optimiser,
                     "batch_size": batch_size, "split_seed": split_seed,
                     "test_fraction": test_fraction}, "train_digits_mlp")
    x_train, y_train, x_test, y_test = load_digits_split(args["split_seed"],
                                                         args["test_fraction"])
    with one_torch_thread():
        return _train(args, x_train, y_train, x_test, y_test, progress)


def _train(args: dict[str, Any], x_train: np.ndarray, y_train: np.ndarray,
           x_test: np.ndarray, y_test: np.ndarray, progress: Progress | None) -> DigitsRun:
    """The training loop of :func:`train_digits_mlp`, on validated arguments."""
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(args["seed"])
    sizes = (N_PIXELS, *args["hidden"], N_CLASSES)
    params = _init_params(sizes, generator)
    step = _Adam(params, args["learning_rate"]) if args["optimiser"] == "adam" else \
        _Momentum(params, args["learning_rate"])
    targets = np.eye(N_CLASSES, dtype=np.float32)[y_train]
    xs = torch.from_numpy(x_test)
    n, size = len(x_train), args["batch_size"]
    losses = np.empty(args["epochs"])
    curve = np.empty(args["epochs"])
    nonlinearity = _TORCH_ACTIVATIONS[args["activation"]]
    for epoch in range(args["epochs"]):
        # Shuffle in numpy and slice views: torch's own gather and
        # log-softmax kernels split even a 64-digit batch across threads,
        # which is 20-50x slower when the CPU cores are busy elsewhere
        # (and so are matrix products of more than 64 rows, see _CHUNK).
        order = torch.randperm(n, generator=generator).numpy()
        xt, tt = torch.from_numpy(x_train[order]), torch.from_numpy(targets[order])
        total = 0.0
        for first in range(0, n, size):
            with torch.enable_grad():  # also when called under torch.no_grad()
                logits = _torch_forward(params, xt[first:first + size], nonlinearity)
                loss = _cross_entropy(logits, tt[first:first + size])
                grads = torch.autograd.grad(loss, params)
            step(grads)
            total += float(loss.detach()) * len(logits)
        losses[epoch] = total / n
        curve[epoch] = float(np.mean(_torch_predict(params, xs, nonlinearity) == y_test))
        report(progress, (epoch + 1) / args["epochs"])
    seconds = time.perf_counter() - start

    weights = tuple(_frozen(w.detach().numpy().copy()) for w in params[0::2])
    biases = tuple(_frozen(b.detach().numpy().copy()) for b in params[1::2])
    probabilities = _numpy_forward(weights, biases, x_test, args["activation"])[-1]
    predictions = probabilities.argmax(1).astype(np.int64)
    train_predictions = _numpy_forward(weights, biases, x_train,
                                       args["activation"])[-1].argmax(1)
    return DigitsRun(
        hidden=args["hidden"], activation=args["activation"],
        optimiser=args["optimiser"], learning_rate=args["learning_rate"],
        batch_size=args["batch_size"], epochs=args["epochs"], seed=args["seed"],
        split_seed=args["split_seed"],
        loss=_frozen(losses), test_accuracy_curve=_frozen(curve),
        accuracy=float(np.mean(predictions == y_test)),
        train_accuracy=float(np.mean(train_predictions == y_train)),
        weights=weights, biases=biases,
        test_images=_frozen(x_test.reshape(-1, 8, 8).copy()),
        test_labels=_frozen(y_test.copy()),
        probabilities=_frozen(probabilities), predictions=_frozen(predictions),
        misclassified=_frozen(np.flatnonzero(predictions != y_test).astype(np.int64)),
        seconds=seconds,
    )


def _init_params(sizes: Sequence[int], generator: torch.Generator) -> list[torch.Tensor]:
    """Weights and biases uniform in ±1/sqrt(n_in), drawn from ``generator``."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(n_in)
        for shape in ((n_out, n_in), (n_out,)):
            values = (torch.rand(shape, generator=generator, dtype=torch.float32) * 2 - 1) * bound
            params.append(values.requires_grad_())
    return params


_TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu, "sigmoid": torch.sigmoid,
}


def _torch_forward(params: Sequence[torch.Tensor], x: torch.Tensor,
                   nonlinearity: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """The logits: affine maps with the nonlinearity between them (not after the last)."""
    a = x
    last = len(params) // 2 - 1
    for k in range(last + 1):
        a = torch.nn.functional.linear(a, params[2 * k], params[2 * k + 1])
        if k < last:
            a = nonlinearity(a)
    return a


class _Adam:
    """Adam (Kingma & Ba 2015) with the usual constants, updating ``params`` in place.

    Written out (nine lines) rather than ``torch.optim.Adam``, whose first
    use imports torch's compiler (~2 s) and whose step costs ~0.5 ms here.
    """

    def __init__(self, params: list[torch.Tensor], lr: float, betas: tuple[float, float] = (
            0.9, 0.999), eps: float = 1e-8) -> None:
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def __call__(self, grads: Sequence[torch.Tensor]) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v):
                m.mul_(b1).add_(g, alpha=1 - b1)
                v.mul_(b2).addcmul_(g, g, value=1 - b2)
                p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=-self.lr / c1)


class _Momentum:
    """Minibatch gradient descent with heavy-ball momentum 0.9, in place."""

    def __init__(self, params: list[torch.Tensor], lr: float, momentum: float = 0.9) -> None:
        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [torch.zeros_like(p) for p in params]

    def __call__(self, grads: Sequence[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, g, u in zip(self.params, grads, self.velocity):
                u.mul_(self.momentum).add_(g)
                p.add_(u, alpha=-self.lr)


#: Rows per matrix product when evaluating: torch hands larger products of
#: this size to several threads, which costs ~12 ms instead of ~10 us each
#: when the cores are shared with other work (measured on 2 busy cores).
_CHUNK = 64


def _torch_predict(params: Sequence[torch.Tensor], x: torch.Tensor,
                   nonlinearity: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
    """The predicted labels for the rows of ``x``, in chunks of :data:`_CHUNK` rows."""
    with torch.no_grad():
        return np.concatenate([
            _torch_forward(params, x[first:first + _CHUNK], nonlinearity).argmax(1).numpy()
            for first in range(0, len(x), _CHUNK)])


def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean of ``-log softmax(logits)[true class]``, ``targets`` one-hot.

    The same value as ``torch.nn.functional.cross_entropy``, written with
    elementwise operations and row reductions, which stay on one thread
    for small batches.
    """
    return (torch.logsumexp(logits, dim=1) - (logits * targets).sum(dim=1)).mean()


# --------------------------------------------------------------------------- forward pass

def forward_pass(run: DigitsRun, image8x8: np.ndarray) -> list[np.ndarray]:
    """The activations of every layer of ``run``'s network for one digit.

    Parameters
    ----------
    run : DigitsRun
        A trained network.
    image8x8 : ndarray, shape (8, 8) or (64,)
        One digit with values in [0, 1] (e.g. ``run.test_images[i]``).

    Returns
    -------
    list of ndarray, float64
        ``[input (64,), hidden_1, ..., hidden_L, probabilities (10,)]``: the
        pixels, the output of each hidden layer after its nonlinearity, and
        the softmax of the last layer (non-negative, summing to 1). The
        predicted digit is ``argmax`` of the last entry, the same as
        ``run.predictions`` for a test digit.
    """
    x = np.asarray(image8x8)
    if x.shape not in ((8, 8), (N_PIXELS,)) or not np.issubdtype(x.dtype, np.number):
        raise InvalidInput(f"image8x8 must be a numeric array of shape (8, 8) or (64,); "
                         f"got shape {x.shape} and dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise InvalidInput("image8x8 must be finite")
    row = x.reshape(1, N_PIXELS).astype(np.float32)
    return [a[0] for a in _numpy_forward(run.weights, run.biases, row, run.activation)]


def _numpy_forward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                   x: np.ndarray, activation: str) -> list[np.ndarray]:
    """All activations for a batch of rows ``x``: input, hidden layers, softmax."""
    a = np.asarray(x, dtype=np.float64)
    out = [a]
    last = len(weights) - 1
    for k, (w, b) in enumerate(zip(weights, biases)):
        z = a @ w.T.astype(np.float64) + b.astype(np.float64)
        if k < last:
            a = np.maximum(z, 0.0) if activation == "relu" else _sigmoid(z)
        else:
            a = _softmax(z)
        out.append(a)
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)), without overflow warnings for large |z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --------------------------------------------------------------------------- two initialisations

@dataclass(frozen=True)
class SolutionGap:
    """How far apart two trained networks are, though equally accurate.

    Attributes
    ----------
    accuracies : tuple of float
        The two test accuracies.
    disagreement : float
        Fraction of test digits on which the two networks predict different
        labels.
    matched_cosine : float
        Mean, over the hidden units of the first layer, of the cosine
        similarity between a unit's weights (64 pixels) in one network and
        its partner in the other, the partners chosen by the permutation that
        maximises the total (Hungarian matching). 1 means the same filters
        up to relabelling the units.
    weight_distance : float
        ``1 - matched_cosine``: zero only if the first layers agree up to
        a permutation and positive scale of the units.
    unmatched_cosine : float
        The same mean for the units taken in their given order (no
        matching), for contrast.
    matching : ndarray, int64, shape (hidden[0],)
        ``matching[j]`` is the unit of the second network paired with unit
        ``j`` of the first.
    cosines : ndarray, float64, shape (hidden[0],)
        The cosine of each matched pair.
    """

    accuracies: tuple[float, float]
    disagreement: float
    matched_cosine: float
    weight_distance: float
    unmatched_cosine: float
    matching: np.ndarray
    cosines: np.ndarray


def compare_initialisations(seeds: tuple[int, int] = (0, 1), **kwargs: Any
                            ) -> tuple[DigitsRun, DigitsRun]:
    """Train the same network on the same data from two random initialisations.

    ``kwargs`` go to :func:`train_digits_mlp` (everything but ``seed``; the
    train/test split is the same for both). Measure the difference with
    :func:`solution_gap`: the accuracies come out about equal, the weights
    do not -- gradient descent on a non-convex loss ends in a different
    minimum for each starting point. Both seeds and ``kwargs`` are checked
    against :data:`SPEC` before either network trains.
    """
    owner = "compare_initialisations"
    if not isinstance(seeds, tuple | list):
        raise InvalidType(f"seeds must be a pair of integers; got {seeds!r}")
    if len(seeds) != 2:
        raise InvalidInput(f"seeds must be a pair of integers; got {seeds!r}")
    if "seed" in kwargs:
        raise InvalidInput("pass the seeds as seeds=(a, b), not seed=")
    first, second = (_PARAMS["seed"].check(s, owner) for s in seeds)
    _checked({k: v for k, v in kwargs.items() if k != "progress"}, owner)
    return train_digits_mlp(seed=first, **kwargs), train_digits_mlp(seed=second, **kwargs)


def solution_gap(a: DigitsRun, b: DigitsRun) -> SolutionGap:
    """Compare two runs with the same architecture on the same test set.

    See :class:`SolutionGap`. Hidden units have no order (permuting them,
    with the next layer's columns, gives the same function), so the first
    layers are compared after the best one-to-one matching of the units
    (``scipy.optimize.linear_sum_assignment`` on the cosine similarities).
    """
    if a.hidden != b.hidden:
        raise InvalidInput(f"the runs have different hidden layers: {a.hidden} and {b.hidden}")
    if a.test_labels.shape != b.test_labels.shape or not np.array_equal(
            a.test_labels, b.test_labels) or not np.array_equal(a.test_images, b.test_images):
        raise InvalidInput("the runs were tested on different digits (use the same split_seed "
                         "and test_fraction)")
    wa = _unit_rows(a.weights[0])
    wb = _unit_rows(b.weights[0])
    cos = wa @ wb.T
    rows, cols = linear_sum_assignment(cos, maximize=True)
    matching = np.empty(len(rows), dtype=np.int64)
    matching[rows] = cols
    cosines = cos[np.arange(len(matching)), matching]
    matched = float(cosines.mean())
    return SolutionGap(
        accuracies=(a.accuracy, b.accuracy),
        disagreement=float(np.mean(a.predictions != b.predictions)),
        matched_cosine=matched,
        weight_distance=1.0 - matched,
        unmatched_cosine=float(np.mean(np.sum(wa * wb, axis=1))),
        matching=_frozen(matching),
        cosines=_frozen(cosines),
    )


def _unit_rows(w: np.ndarray) -> np.ndarray:
    """The rows of ``w`` in float64, scaled to unit length (zero rows stay zero)."""
    w = np.asarray(w, dtype=np.float64)
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    return w / np.where(norms > 0, norms, 1.0)


# --------------------------------------------------------------------------- checks

_PARAMS = {p.name: p for p in SPEC}


def _checked(given: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """The training parameters ``given`` checked against :data:`SPEC`, defaults filled in.

    :func:`check_params` refuses an unknown name, a wrong type or a value out
    of range, with its messages naming ``owner``. ``hidden`` is checked by
    :func:`_layers`; a ``learning_rate`` of None, or none given, is the
    optimiser's default (:data:`OPTIMISERS`).
    """
    rest = {k: v for k, v in given.items()
            if k != "hidden" and not (k == "learning_rate" and v is None)}
    values = check_params(SPEC, rest, owner)
    values["hidden"] = _layers(given.get("hidden", _PARAMS["hidden"].default), owner)
    if "learning_rate" not in rest:
        values["learning_rate"] = OPTIMISERS[values["optimiser"]]
    return values


def _layers(hidden: Any, owner: str) -> tuple[int, ...]:
    """The hidden layers' sizes as a tuple: an int is one layer; each size is checked
    against :data:`SPEC`'s ``hidden`` entry, and their count against :data:`MAX_LAYERS`."""
    layers = (hidden,) if isinstance(hidden, int | np.integer) else hidden
    expected = (f"the 'hidden' parameter of {owner} must be an int or a sequence of 1 to "
                f"{MAX_LAYERS} ints (the sizes of the hidden layers); got {hidden!r}")
    if isinstance(layers, str) or not isinstance(layers, Sequence):
        raise InvalidType(expected)
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise InvalidInput(expected)
    return tuple(_PARAMS["hidden"].check(size, owner) for size in layers)


def _frozen(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only (the run is a frozen record)."""
    array.setflags(write=False)
    return array
