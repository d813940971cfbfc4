"""The essay's Figure 1, live: a small perceptron learns handwritten digits."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from denoisers import sparsity
from denoisers.nets import digits, dream

from . import figures, memory, store, text, views
from .controls import spec_controls

#: The parameters the interlude offers, as the library specifies them
#: (:data:`digits.SPEC`), with their labels: the one hidden layer's size,
#: the nonlinearity, the epochs and the seed of the initial weights.
LABELS = {"hidden": "Hidden units", "activation": "Nonlinearity", "epochs": "Epochs",
          "seed": "Seed of the initial weights"}
SPEC = tuple(p for p in digits.SPEC if p.name in LABELS)


@st.cache_data(max_size=memory.max_size("digits_views._trained"),
               ttl=memory.ttl("digits_views._trained"), show_spinner=False)
def _trained(hidden: int, activation: str, epochs: int, seed: int) -> digits.DigitsRun:
    return store.through("digits_views._trained", f"{hidden} {activation} {epochs} {seed}",
                         lambda: digits.train_digits_mlp((hidden,), activation, epochs, seed),
                         keep=True)


@st.cache_data(max_size=memory.max_size("digits_views._dreamed"),
               ttl=memory.ttl("digits_views._dreamed"), show_spinner=False)
def _dreamed(hidden: int, activation: str, epochs: int, seed: int) -> dream.Dream:
    return dream.dream(_trained(hidden, activation, epochs, seed))


def _two(hidden: int, activation: str, epochs: int) -> tuple[digits.DigitsRun, digits.DigitsRun,
                                                              digits.SolutionGap]:
    """Seeds 0 and 1 of the same network: the same cached runs the controls above train,
    as :func:`digits.compare_initialisations` would (the gap itself takes milliseconds)."""
    a, b = (_trained(hidden, activation, epochs, seed) for seed in (0, 1))
    return a, b, digits.solution_gap(a, b)


def interlude(*, key: str) -> None:
    """Controls, training curves, learned weights, mistakes and two initialisations."""
    chosen = spec_controls(SPEC, key, columns=4, labels=LABELS)
    hidden, activation, epochs, seed = (chosen[name] for name in LABELS)
    with st.spinner("Training the network…", show_time=True):
        run = _trained(hidden, activation, epochs, seed)

    left, right = st.columns(2)
    with left:
        st.plotly_chart(figures.curves({"training loss": run.loss}, x=np.arange(1, epochs + 1),
                                       x_title="epoch", y_title="cross-entropy"),
                        key=f"{key}.loss")
    with right:
        st.plotly_chart(figures.curves({"test accuracy": run.test_accuracy_curve},
                                       x=np.arange(1, epochs + 1), x_title="epoch",
                                       y_title="accuracy"), key=f"{key}.accuracy")
    st.metric("Test accuracy", f"{run.accuracy:.1%}",
              help=f"{len(run.test_labels)} digits never seen in training; "
                   f"{run.n_parameters} weights, trained in {run.seconds:.2f} s.")

    left, right = st.columns(2)
    with left:
        views.show_image(views.enlarged(sparsity.atoms_mosaic(run.filters)),
                         "The weights of each hidden unit, as an 8x8 image: the pattern it "
                         "averages the pixels with (negative dark, positive light)")
    with right:
        _mistakes(run)

    st.markdown("**Same data, same network, two random starts.** Training is a non-convex "
                "optimisation: different initial weights end in different solutions that "
                "classify almost equally well.")
    with st.spinner("Training it from two random starts…", show_time=True):
        a, b, gap = _two(hidden, activation, epochs)
    cols = st.columns(2)
    for column, one in zip(cols, (a, b)):
        with column:
            views.show_image(views.enlarged(sparsity.atoms_mosaic(one.filters)),
                             f"seed {one.seed}: {one.accuracy:.1%} test accuracy")
    st.caption(f"The two disagree on {gap.disagreement:.1%} of the test digits. Even after pairing "
               f"each hidden unit of one with its most similar unit of the other, their weights "
               f"have a mean cosine similarity of only {gap.matched_cosine:.2f} (1 would be the "
               "same solution).")
    _backwards(hidden, activation, epochs, seed)


def _backwards(hidden: int, activation: str, epochs: int, seed: int) -> None:
    """The input each output neuron of the network above wants, grown from noise."""
    text.story("deep_dream")
    with st.spinner("Running the network backwards…", show_time=True):
        grown = _dreamed(hidden, activation, epochs, seed)
    for row, caption in ((grown.start, lambda c: "noise"),
                         (grown.images, lambda c: f"a {c}? {grown.probabilities[c, c]:.0%}")):
        for c, column in enumerate(st.columns(10)):
            with column:
                views.show_image(views.enlarged(row[c], 64), caption(c))
    st.caption("Top: the noise each started from. Bottom: the image grown for each digit, with "
               "the network's probability that it is that digit "
               f"({len(grown.curve)} steps of Adam on the pixels; denoisers.nets.dream).")


def _mistakes(run: digits.DigitsRun, shown: int = 8) -> None:
    wrong = run.misclassified[:shown]
    if len(wrong) == 0:
        st.success("No test digit is misclassified.")
        return
    st.markdown(f"**{len(run.misclassified)} misclassified test digits**, the first {len(wrong)}:")
    cols = st.columns(len(wrong))
    for column, index in zip(cols, wrong):
        with column:
            views.show_image(views.enlarged(run.test_images[index], 64),
                             f"{run.test_labels[index]} → {run.predictions[index]}")
    index = int(wrong[0])
    fig = go.Figure(go.Bar(x=list(range(10)), y=run.probabilities[index]))
    fig.update_layout(height=220, margin=dict(l=0, r=0, t=30, b=0),
                      title="its output for the first one: the probability of each class",
                      xaxis=dict(dtick=1))
    st.plotly_chart(fig, key=f"digits.probabilities.{run.seed}")
