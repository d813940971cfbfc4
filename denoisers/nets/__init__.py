"""Neural-network denoisers (2012-2021) and the digits interlude.

Each registered network is a thin function over :func:`inference.denoise`,
which loads the committed weights once per process. torch is imported only
when a network first runs, so ``import denoisers`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..colour import by_channel, luminance_view
from ..core import Bool, InvalidInput, Method, Progress, Result, View, validated

FAMILY = "Deep learning"

_DOC = """{title}

Parameters
----------
noisy : ndarray, shape (H, W){colour}
    The noisy image, of any float or integer type (the result is float32
    whatever it was).
sigma : float
    Noise standard deviation on the [0, 1] scale. {sigma_use}
self_ensemble : bool
    Average the estimates of the eight flips and quarter turns of the image
    (test-time self-ensemble, Timofte, Rothe & Van Gool 2016): a little
    better, eight times slower.
{colour_network}{sigma_map}trace : bool
    Also return the predicted noise and the first-layer filters; the
    feature maps, equivalent kernel and receptive field of one pixel are
    the method's ``look`` (:func:`denoisers.look`).
progress : callable, optional
    Receives the fraction done.

Returns
-------
Result
    ``image``: the estimate. With ``trace``: stage ``"predicted noise"``
    and ``extras["filters"]`` (see :mod:`denoisers.nets.inference`).

Notes
-----
{notes}
The weights are this project's own, trained by
``python -m denoisers.train {name}``; ``assets/weights/README.md`` records
each run (data, time, hardware, validation PSNR).

References
----------
{paper}

Examples
--------
The networks are reached through the registry (``denoisers.get("{name}").run``
is this function):

>>> import denoisers
>>> from skimage import data
>>> from denoisers import noise
>>> from denoisers.metrics import psnr
>>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
>>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
>>> out = denoisers.run("{name}", noisy, 25 / 255).image
>>> out.shape, out.dtype
((48, 48), dtype('float32'))
>>> psnr(clean, out) > psnr(clean, noisy) + 2
True
{colour_example}"""


_COLOUR_NETWORK_DOC = """colour_network : bool
    For a colour image, run the colour model (``{name}_colour``, trained on
    colour photographs) on R, G and B together; by default the grey model
    runs on each channel of the opponent colour space, as CBM3D does.
"""

_NO_COLOUR_NETWORK_DOC = """colour_network : bool
    Not accepted: this network has no colour model, and the registered
    function refuses the keyword. A colour image given to
    :func:`denoisers.run` goes through the grey network on each channel of
    the opponent colour space.
"""

_COLOUR_EXAMPLE = """
With ``colour_network``, one network sees R, G and B together:

>>> rgb = data.astronaut()[100:148, 200:248] / 255  # a 48x48 colour crop
>>> noisy_rgb = noise.add_gaussian(rgb, 25 / 255, seed=0)
>>> out = denoisers.run("{name}", noisy_rgb, 25 / 255, colour_network=True).image
>>> out.shape, psnr(rgb, out) > psnr(rgb, noisy_rgb) + 2
((48, 48, 3), True)
"""


#: Below this sigma (0-255 scale) DnCNN, FFDNet and DRUNet return an image worse than the
#: noisy input (``assets/benchmarks/sigma_low``: Set12 at sigma 2; better at sigma 5).
FAINT_NOISE = 5
#: Below this sigma the perceptron (539 training steps over sigma 0 to 55) returns an image
#: worse than the noisy input (Set12 at sigma 2 and 5 in ``assets/benchmarks/sigma_low``; on 256x256
#: crops of its first six images it loses 1.3 dB on average at sigma 10, gains 0.2 at 12).
MLP_FAINT_NOISE = 12


def _network(name: str, label: str, title: str, paper: str, notes: str, *,
             blind: bool = False, colour: bool = False, noise_map: bool = False,
             worse_below: float = 0.0) -> dict[str, Callable[..., Any]]:
    """The registered function of network ``name`` (with its docstring) and its ``look``.

    ``label`` is the name the notes use; ``worse_below`` (sigma on the 0-255
    scale) adds a note below that noise level, where the benchmark measured
    the network below the noisy input; ``noise_map`` says the network takes a
    level per pixel (its function takes ``sigma_map``).
    """

    def run(noisy: np.ndarray, sigma: float, *, self_ensemble: bool = False,
            colour_network: bool = False, trace: bool = False,
            progress: Progress | None = None, sigma_map: np.ndarray | None = None) -> Result:
        from . import inference

        if sigma_map is not None and not noise_map:
            raise InvalidInput(f"{label} is told no noise level per pixel")
        if noisy.ndim == 3 and not colour_network:
            return by_channel(run, noisy, sigma, self_ensemble=self_ensemble, trace=trace,
                              progress=progress, sigma_map=sigma_map)
        key = f"{name}_colour" if noisy.ndim == 3 else name
        result = inference.denoise(key, noisy, sigma, self_ensemble=self_ensemble, trace=trace,
                                   progress=progress, label=label, sigma_map=sigma_map)
        if sigma * 255 < worse_below:
            result.extras["note"] = "; ".join(filter(None, (result.extras.get("note"), (
                f"below σ = {worse_below:g} {label} returns an image worse than the noisy input "
                "(measured on Set12): it learned little of noise this faint"))))
        if noisy.ndim == 3:
            result.extras["colour"] = ("one colour network on R, G and B together, trained on "
                                       "colour photographs")
        return result

    def look(noisy: np.ndarray, sigma: float, result: Result, probe: tuple[int, int], *,
             self_ensemble: bool = False, colour_network: bool = False) -> View:
        """The network's feature maps, equivalent kernel and receptive field at ``probe``."""
        from . import inference

        if noisy.ndim == 3 and not colour_network:
            noisy, sigma = luminance_view(noisy, sigma)
        return inference.look(f"{name}_colour" if noisy.ndim == 3 else name, noisy, sigma, probe)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = _DOC.format(
        title=title, name=name, paper=paper, notes=notes,
        colour=" or (H, W, 3)" if colour else "",
        colour_network=(_COLOUR_NETWORK_DOC if colour else _NO_COLOUR_NETWORK_DOC).format(
            name=name),
        colour_example=_COLOUR_EXAMPLE.format(name=name) if colour else "",
        sigma_map=_SIGMA_MAP_DOC if noise_map else _NO_SIGMA_MAP_DOC,
        sigma_use="Ignored: the network is blind." if blind else
        "Fills the noise-level map the network is given (clamped to its training range).",
    )
    return {"run": validated(_PARAMS + ((_COLOUR_NETWORK,) if colour else ()))(run),
            "look": look}


_MLP_PAPER = ("H. C. Burger, C. J. Schuler and S. Harmeling, \"Image denoising: Can plain neural "
              "networks compete with BM3D?\", CVPR 2012. https://doi.org/10.1109/CVPR.2012.6247952")
_DNCNN_PAPER = ("K. Zhang, W. Zuo, Y. Chen, D. Meng and L. Zhang, \"Beyond a Gaussian denoiser: "
                "Residual learning of deep CNN for image denoising\", IEEE TIP 26(7), 2017. "
                "https://doi.org/10.1109/TIP.2017.2662206")
_BF_PAPER = ("S. Mohan, Z. Kadkhodaie, E. P. Simoncelli and C. Fernandez-Granda, \"Robust and "
             "interpretable blind image denoising via bias-free convolutional neural networks\", "
             "ICLR 2020. https://openreview.net/forum?id=HJlSmC4FPS")
_FFDNET_PAPER = ("K. Zhang, W. Zuo and L. Zhang, \"FFDNet: Toward a fast and flexible solution for "
                 "CNN-based image denoising\", IEEE TIP 27(9), 2018. "
                 "https://doi.org/10.1109/TIP.2018.2839891")
_DRUNET_PAPER = ("K. Zhang, Y. Li, W. Zuo, L. Zhang, L. Van Gool and R. Timofte, \"Plug-and-play "
                 "image restoration with deep denoiser prior\", IEEE TPAMI 44(10), 2022 "
                 "(arXiv 2021). https://doi.org/10.1109/TPAMI.2021.3088914")

_SIGMA_MAP_DOC = """sigma_map : ndarray, shape (H, W), optional
    The noise standard deviation at every pixel ([0, 1] scale), filling the
    noise-level map in place of ``sigma`` (noise that depends on the light:
    :func:`denoisers.run`'s ``noise_model``).
"""
_NO_SIGMA_MAP_DOC = """sigma_map : None
    Refused: this network is told no noise level per pixel.
"""

#: Every network's parameter.
_PARAMS = (Bool("self_ensemble", default=False,
                help="Average the network over the 8 flips and quarter turns of the image "
                     "(Timofte et al. 2016): a little better, 8 times slower."),)
#: The choice a network with a colour model adds.
_COLOUR_NETWORK = Bool(
    "colour_network", default=False,
    help="Colour images only: one network trained on colour photographs, which sees R, G and "
         "B together, instead of the grey network on each opponent channel. With the training "
         "it has had so far it is the weaker of the two.")

METHODS: tuple[Method, ...] = (
    Method(
        key="mlp", name="Multi-layer perceptron", year=2012, family=FAMILY, paper=_MLP_PAPER,
        idea="Burger, Schuler and Harmeling asked whether a plain neural network, shown millions "
             "of noisy and clean patch pairs, could learn denoising by itself. Their perceptron "
             "maps a noisy patch to its clean centre; run on every overlapping patch and "
             "averaged, it matched BM3D (30.03 dB on Set12 at sigma 25 as published, against "
             "29.97) after about a month of GPU training — the first sign of the turn. This one "
             "is scaled down to what trained here: 11x11 patches in, 5x5 out, three hidden "
             "layers of 192 units (0.10 million weights), told the noise level, trained for 8 "
             "minutes on a CPU. It does not match BM3D: it gives 26.13 dB on Set12 at sigma 25, "
             "below the bilateral filter's 27.39.",
        **_network("mlp", "Multi-layer perceptron",
                   "A patch MLP (Burger, Schuler & Harmeling 2012), scaled down.",
                   _MLP_PAPER, "Each 11x11 patch goes through three tanh layers of 192 units "
                   "to its 5x5 clean centre; overlapping outputs are averaged. Scaled down: "
                   "0.10 million weights trained for 8 minutes (539 steps) on a 2-core CPU, "
                   "where the paper's network had millions trained for about a month on a "
                   "GPU. It gives 26.13 dB mean PSNR on Set12 at sigma 25 "
                   "(``assets/benchmarks/networks/``) where the paper's gave 30.03.",
                   worse_below=MLP_FAINT_NOISE),
        params=_PARAMS, slow=True, url="https://doi.org/10.1109/CVPR.2012.6247952",
    ),
    Method(
        key="dncnn", name="DnCNN", year=2017, family=FAMILY, paper=_DNCNN_PAPER,
        idea="A deep plain stack of 3x3 convolutions, batch normalisation and ReLUs that "
             "predicts the noise rather than the image (residual learning), trained on a range "
             "of noise levels so that it needs to be told none: a blind denoiser. Nothing in it "
             "says what an image is; everything it knows it learned from pairs.",
        **_network("dncnn", "DnCNN",
                   "DnCNN (Zhang et al. 2017): residual learning with batch "
                   "normalisation, blind.", _DNCNN_PAPER,
                   "12 layers of 48 channels; the noise is predicted and subtracted.",
                   blind=True, worse_below=FAINT_NOISE),
        params=_PARAMS, blind=True, url="https://doi.org/10.1109/TIP.2017.2662206",
    ),
    Method(
        key="ffdnet", name="FFDNet", year=2018, family=FAMILY, paper=_FFDNET_PAPER,
        idea="FFDNet splits the image into four half-size sub-images and stacks on them a map "
             "filled with the noise level, so one network covers every sigma from 0 to 100, "
             "working on a quarter of the pixels: here it runs about twice as fast as DnCNN, "
             "though it is deeper and wider. Telling it a larger sigma than the true one "
             "smooths more, a smaller one keeps more detail — a knob the blind networks lack.",
        **_network("ffdnet", "FFDNet",
                   "FFDNet (Zhang, Zuo & Zhang 2018): sub-images plus a "
                   "noise-level map.", _FFDNET_PAPER,
                   "15 layers of 64 channels on the 4 sub-images and the map. Colour images "
                   "go through the grey model channel by channel in the opponent colour "
                   "space, or, with ``colour_network``, through a colour model of the same "
                   "size on the 12 sub-images of R, G and B, trained on colour photographs "
                   "from the grey one.",
                   colour=True, noise_map=True, worse_below=FAINT_NOISE),
        params=_PARAMS + (_COLOUR_NETWORK,), colour=True, noise_map=True,
        url="https://doi.org/10.1109/TIP.2018.2839891",
    ),
    Method(
        key="dncnn_bf", name="Bias-free DnCNN", year=2020, family=FAMILY, paper=_BF_PAPER,
        idea="Mohan, Kadkhodaie, Simoncelli and Fernandez-Granda removed every additive constant "
             "from DnCNN. The network is then exactly a weighted average of the noisy pixels, "
             "with weights that depend on the image: an adaptive filter you can look at, like "
             "the bilateral filter's or NL-means' weights. Its authors found it as good as "
             "DnCNN on the noise levels both were trained on, and better beyond them. This one "
             "is 2 dB below this site's DnCNN (27.96 against 29.98 dB on Set12 at sigma 25) "
             "because it was trained far less: DnCNN's size, but 589 training steps in 12 "
             "minutes on a CPU where DnCNN had 91,343, most of them on a GPU. The small DRUNet, "
             "bias-free too, is the best of this site's networks on Set12.",
        **_network("dncnn_bf", "Bias-free DnCNN",
                   "Bias-free DnCNN (Mohan et al. 2020): exactly f(y) = J(y) y.",
                   _BF_PAPER, "12 layers of 48 channels, no biases, batch normalisation "
                   "that only scales. Trained for 589 steps (12 minutes on a 2-core CPU) "
                   "against DnCNN's 91,343, most of them on a GPU, it is 2.0 dB below DnCNN "
                   "on Set12 at sigma 25 (27.96 against 29.98, ``assets/benchmarks/networks/``). "
                   "A bias-free DnCNN trained as long as DnCNN has not been run here.",
                   blind=True, worse_below=FAINT_NOISE),
        params=_PARAMS, blind=True, url="https://openreview.net/forum?id=HJlSmC4FPS",
    ),
    Method(
        key="drunet", name="DRUNet (small)", year=2021, family=FAMILY, paper=_DRUNET_PAPER,
        idea="A U-Net: the image is analysed at three scales, each with residual blocks, and "
             "put back together with skip connections, conditioned like FFDNet on a noise-level "
             "map and, like the bias-free networks, with no additive constants. Seeing far at "
             "little cost is what the plain stacks lacked; this small version has 2.3 million "
             "weights (the paper's has 32 million).",
        **_network("drunet", "DRUNet (small)",
                   "A small DRUNet (Zhang et al. 2021): a bias-free, "
                   "noise-conditional U-Net.", _DRUNET_PAPER,
                   "Three scales of 48, 96 and 192 channels, two residual blocks at "
                   "each, on the pixel-unshuffled image.", noise_map=True),
        params=_PARAMS, noise_map=True, url="https://doi.org/10.1109/TPAMI.2021.3088914",
    ),
)

#: The networks' functions are bound to no name of this module, so doctest finds their
#: examples here.
__test__ = {method.key: method.run for method in METHODS}
