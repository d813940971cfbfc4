"""Running a classifier backwards: the input each output neuron wants (Deep Dream's idea).

A trained network maps an image to class scores. Hold the weights fixed and
ask the opposite question: which *input* makes the score of class ``c`` as
large as it can be? Gradient ascent on the pixels answers it, by the same
back-propagation that trained the weights, now stopped at the input instead
of the weights. Started from noise, the pixels drift towards what the
network "believes" a digit ``c`` looks like. Erhan, Bengio, Courville and
Vincent (2009) called it activation maximisation; Simonyan, Vedaldi and
Zisserman (2014) drew the classes of an ImageNet network this way; Google's
Deep Dream (Mordvintsev, Olah and Tyka, 2015) amplified what a network sees
in a photograph, and style transfer (Gatys, Ecker and Bethge, 2015) used the
same inversion to paint — the by-products of classification that Elad's
essay calls elegance that cannot be dismissed.

Here the network is the digits interlude's small perceptron
(:mod:`denoisers.nets.digits`). The pixels are kept in [0, 1] as the
sigmoid of free variables; the ascent maximises the class's score against
the mean of the other nine (the last layer's outputs before the softmax)
minus a penalty on the pixels' energy and roughness. Without the penalty
the answer is a pattern of saturated black and white pixels that the
network calls a digit with certainty: a network says what it responds to,
not what an image is, and every such method needs a prior of its own (the
defaults here were chosen by eye, for shapes that read as digits).

References
----------
D. Erhan, Y. Bengio, A. Courville and P. Vincent, "Visualizing higher-layer
features of a deep network", Technical report 1341, Université de Montréal,
2009.
K. Simonyan, A. Vedaldi and A. Zisserman, "Deep inside convolutional
networks: visualising image classification models and saliency maps",
ICLR workshop, 2014, arXiv:1312.6034.
A. Mordvintsev, C. Olah and M. Tyka, "Inceptionism: going deeper into
neural networks", Google Research blog, 2015.
M. Elad, "Deep, Deep Trouble", SIAM News 50(4), May 2017.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from denoisers.core import Float, Int, Param, check_params
from denoisers.threads import one_torch_thread

from .digits import N_CLASSES, DigitsRun, _numpy_forward

#: The parameters of :func:`dream`, checked by :func:`denoisers.core.check_params`.
SPEC: tuple[Param, ...] = (
    Int("steps", 1, 2000, default=300, help="Steps of gradient ascent on the pixels."),
    Float("rate", 1e-4, 10.0, default=0.1, help="Adam's step size on the free variables."),
    Float("energy", 0.0, 1000.0, default=10.0,
          help="Weight of the mean squared pixel value: keeps the background dark, as the "
               "digits' is."),
    Float("roughness", 0.0, 1000.0, default=100.0,
          help="Weight of the mean squared difference between neighbouring pixels."),
    Int("seed", 0, 2**32 - 1, default=0, help="Seed of the starting noise."),
)


@dataclass(frozen=True)
class Dream:
    """The inputs that a network's output neurons want, one per class.

    Attributes
    ----------
    images : ndarray, float32, shape (10, 8, 8)
        The image grown for each class, in [0, 1].
    start : ndarray, float32, shape (10, 8, 8)
        The noise each started from.
    probabilities : ndarray, float64, shape (10, 10)
        The network's class probabilities for each grown image (row ``c`` is
        the image grown for class ``c``).
    curve : ndarray, float64, shape (steps,)
        The mean probability of the wanted class over the ascent.
    """

    images: np.ndarray
    start: np.ndarray
    probabilities: np.ndarray
    curve: np.ndarray


def _roughness(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between horizontal and vertical neighbours, per image."""
    return ((x[:, 1:, :] - x[:, :-1, :]).square().mean((1, 2))
            + (x[:, :, 1:] - x[:, :, :-1]).square().mean((1, 2)))


def dream(run: DigitsRun, **params: object) -> Dream:
    """The input each of ``run``'s ten output neurons wants, by gradient ascent from noise.

    Parameters
    ----------
    run : DigitsRun
        A trained digits network (:func:`denoisers.nets.digits.train_digits_mlp`).
    **params
        ``steps``, ``rate``, ``energy``, ``roughness``, ``seed`` (:data:`SPEC`).

    Returns
    -------
    Dream
        The ten images, where they started, what the network says of them and
        how the wanted class's probability grew.
    """
    p = check_params(SPEC, params, "dream")
    generator = torch.Generator().manual_seed(p["seed"])
    free = (0.5 * torch.randn(N_CLASSES, 8, 8, generator=generator)).requires_grad_()
    start = torch.sigmoid(free).detach().numpy().copy()
    weights = [torch.from_numpy(np.array(w, np.float32)) for w in run.weights]
    biases = [torch.from_numpy(np.array(b, np.float32)) for b in run.biases]
    wanted = torch.arange(N_CLASSES)
    curve = np.empty(p["steps"])
    with one_torch_thread():
        optimiser = torch.optim.Adam([free], lr=p["rate"])
        for step in range(p["steps"]):
            pixels = torch.sigmoid(free)
            logits = _logits(weights, biases, pixels.reshape(N_CLASSES, -1), run.activation)
            log_p = torch.log_softmax(logits, 1)[wanted, wanted]
            score = logits[wanted, wanted] - logits.mean(1)
            penalty = (p["energy"] * pixels.square().mean((1, 2))
                       + p["roughness"] * _roughness(pixels))
            optimiser.zero_grad()
            (penalty - score).sum().backward()
            optimiser.step()
            curve[step] = log_p.detach().exp().mean().item()
    images = torch.sigmoid(free).detach().numpy().astype(np.float32)
    probabilities = _numpy_forward(run.weights, run.biases, images.reshape(N_CLASSES, -1),
                                   run.activation)[-1]
    return Dream(images, start, probabilities, curve)


def _logits(weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor,
            activation: str) -> torch.Tensor:
    """The last layer's scores before the softmax, for a batch of rows ``x``."""
    for k, (w, b) in enumerate(zip(weights, biases)):
        x = x @ w.T + b
        if k < len(weights) - 1:
            x = torch.relu(x) if activation == "relu" else torch.sigmoid(x)
    return x
