"""Degradations: the forward operators of deblurring, inpainting, super-resolution, demosaicing.

Each problem is a linear operator ``A`` plus white Gaussian noise of
standard deviation ``sigma``: ``y = A x + n``. It gives the operator and its
adjoint (:meth:`Problem.forward`, :meth:`Problem.adjoint`), a seeded
:meth:`Problem.degrade`, the classical restoration a chapter compares with
(:meth:`Problem.baseline`), and what the plug-and-play solvers need: the
data-fidelity step :meth:`Problem.data_step`, the exact minimiser of
``||A x - y||^2 + rho ||x - z||^2``, in closed form for all four operators
(Fourier for the circular blurs, per pixel for the masks, Zhao et al.'s
closed form for blur-and-decimate).

The solvers work on the problem's *canvas*: the image itself, except for
super-resolution with a factor that does not divide the image's side, where
the image is extended by reflection to the next multiple and the estimate is
cropped back at the end (:meth:`Problem.finish`).

References
----------
N. Zhao, Q. Wei, A. Basarab, N. Dobigeon, D. Kouamé and J.-Y. Tourneret,
"Fast single image super-resolution using a new analytical solution for
l2-l2 problems", IEEE Trans. Image Process. 25(8), 2016, pp. 3683-3697.
https://doi.org/10.1109/TIP.2016.2567075
K. Zhang, Y. Li, W. Zuo, L. Zhang, L. Van Gool and R. Timofte, "Plug-and-play
image restoration with deep denoiser prior", IEEE Trans. Pattern Anal. Mach.
Intell. 44(10), 2022, pp. 6360-6376. https://doi.org/10.1109/TPAMI.2021.3088914
H. S. Malvar, L.-W. He and R. Cutler, "High-quality linear interpolation for
demosaicing of Bayer-patterned color images", Proc. ICASSP 2004 (the
bilinear baseline it improves on). https://doi.org/10.1109/ICASSP.2004.1326587
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage
from skimage.restoration import inpaint_biharmonic

from ..core import Choice, Float, Int, InvalidInput, Param, as_image, check_params
from ..noise import add_gaussian

#: The noise of the deblurring benchmark: sigma 2.55 on the 0-255 scale.
DEBLUR_SIGMA = 2.55 / 255

#: The discrete Laplacian, the penalty of the deblurring baseline.
_LAPLACIAN = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])

_SIGMA_HELP = "Standard deviation of the white Gaussian noise added, on the [0, 1] scale."


def _sigma(default: float) -> Float:
    return Float("sigma", 0.0, 0.2, default=default, help=_SIGMA_HELP)


def _grey_or_colour(x: Any, name: str) -> np.ndarray:
    """``x`` checked as an image, in float64 (a float input keeps its precision)."""
    checked = as_image(x, name=name)
    array = np.asarray(x)
    if np.issubdtype(array.dtype, np.floating):
        return array.astype(np.float64).reshape(checked.shape)
    return checked.astype(np.float64)


class Problem:
    """A linear degradation ``y = A x + n`` with white Gaussian noise of std ``sigma``."""

    #: The name :func:`denoisers.inverse.make` knows it by, its title and settings.
    name: ClassVar[str]
    title: ClassVar[str]
    SETTINGS: ClassVar[tuple[Param, ...]]
    #: The splittings' default number of iterations and first denoiser level (DPIR's values
    #: for deblurring and super-resolution).
    iterations: ClassVar[int] = 8
    sigma_start: ClassVar[float] = 49 / 255
    colour_only: ClassVar[bool] = False

    def __init__(self, *, shape: tuple[int, ...] | None = None, **settings: Any) -> None:
        self.settings = check_params(self.SETTINGS, settings, self.name)
        self.sigma: float = self.settings["sigma"]
        #: The clean image's (height, width) when the problem is bound to it (:meth:`bound`),
        #: else None. Nothing a method does changes it: a problem is shared between
        #: sessions through the site's caches, and gives the same answers whatever was
        #: asked of it before.
        self.shape: tuple[int, int] | None = None if shape is None else (int(shape[0]),
                                                                         int(shape[1]))

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        bound = "" if self.shape is None else f".bound({self.shape})"
        return f"make({self.name!r}, {given}){bound}"

    def bound(self, shape: tuple[int, ...]) -> Problem:
        """The same problem for clean images of ``shape`` (a new object): what a canvas
        that must be larger than the image (super-resolution's) is cropped back to."""
        return type(self)(shape=shape, **self.settings)

    # ------------------------------------------------------------------ the operator
    def forward(self, x: Any) -> np.ndarray:
        """``A x``: the clean image degraded, without noise."""
        return self._forward(self._canvas(self._checked(x)))

    def adjoint(self, y: Any) -> np.ndarray:
        """``A^T y``, an image of the shape :meth:`forward` takes."""
        return self._uncanvas(self._adjoint(np.asarray(y, dtype=np.float64)))

    def degrade(self, clean: Any, seed: int = 0) -> np.ndarray:
        """``A clean`` plus white Gaussian noise of std ``sigma`` drawn from ``seed``; float32."""
        degraded = self.forward(clean).astype(np.float32)
        if self.sigma == 0:
            return degraded
        return add_gaussian(degraded, self.sigma, seed=seed)

    def baseline(self, y: Any) -> np.ndarray:
        """The classical restoration of ``y``: float32, of the clean image's shape."""
        return self.finish(self._baseline(np.asarray(y, dtype=np.float64))).astype(np.float32)

    # ------------------------------------------------------------------ what the solvers use
    def start(self, y: Any) -> np.ndarray:
        """The solvers' first estimate on the canvas: a cheap interpolation of ``y``."""
        return self._baseline(np.asarray(y, dtype=np.float64))

    def data_step(self, z: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
        """The ``x`` on the canvas minimising ``||A x - y||^2 + rho ||x - z||^2`` (rho > 0).

        Parameters
        ----------
        z : ndarray, shape of the canvas, (H, W) or (H, W, 3)
            The image the step stays near (the denoiser's last output; ``v - u``
            in ADMM), on the [0, 1] scale.
        y : ndarray
            The measurements, as :meth:`degrade` gives them.
        rho : float
            The weight of ``||x - z||^2``, > 0; the splittings pass
            ``lam * sigma**2 / level**2``, the noise variance over the denoiser's.

        Returns
        -------
        ndarray
            The minimiser, of the canvas' shape.
        """
        raise NotImplementedError

    def canvas_forward(self, x: np.ndarray) -> np.ndarray:
        """``A`` applied to an image on the canvas (the solvers' residual)."""
        return self._forward(x)

    def pseudo_inverse(self, y: np.ndarray) -> np.ndarray:
        """``A^+ y = A^T (A A^T)^-1 y`` on the canvas: the smallest image that explains the
        measurements exactly (what constrained sampling keeps fixed)."""
        raise InvalidInput(f"{self.title} has no exact measurements to keep: constrained "
                           f"sampling is offered for inpainting, super-resolution and "
                           f"demosaicing")

    def finish(self, x: np.ndarray) -> np.ndarray:
        """An estimate on the canvas, cropped to the clean image's shape."""
        return x

    # ------------------------------------------------------------------ to override
    def _checked(self, x: Any) -> np.ndarray:
        image = _grey_or_colour(x, "image")
        if self.colour_only and image.ndim != 3:
            raise InvalidInput(f"{self.title} needs a colour image of shape (H, W, 3); got a grey "
                               f"image of shape {image.shape}")
        return image

    def _canvas(self, x: np.ndarray) -> np.ndarray:
        return x

    def _uncanvas(self, x: np.ndarray) -> np.ndarray:
        return x

    def _forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _adjoint(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _baseline(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError


# --------------------------------------------------------------------------- blur

def gaussian_kernel(width: float) -> np.ndarray:
    """A normalised Gaussian blur kernel of standard deviation ``width`` pixels, side
    2 ceil(3 w) + 1."""
    radius = max(1, math.ceil(3 * width))
    offsets = np.arange(-radius, radius + 1)
    line = np.exp(-offsets**2 / (2 * width**2))
    kernel = np.outer(line, line)
    return kernel / kernel.sum()


def motion_kernel(length: int, angle: float) -> np.ndarray:
    """A normalised straight motion blur: a line of ``length`` pixels at ``angle`` degrees
    (anticlockwise from the horizontal), drawn anti-aliased in a (length, length) square."""
    side = length if length % 2 else length + 1
    samples = np.linspace(-(length - 1) / 2, (length - 1) / 2, 8 * length)
    theta = math.radians(angle)
    rows = side // 2 - samples * math.sin(theta)
    cols = side // 2 + samples * math.cos(theta)
    kernel = np.zeros((side, side))
    r0, c0 = np.floor(rows).astype(int), np.floor(cols).astype(int)
    fr, fc = rows - r0, cols - c0
    for dr, dc, weight in ((0, 0, (1 - fr) * (1 - fc)), (1, 0, fr * (1 - fc)),
                           (0, 1, (1 - fr) * fc), (1, 1, fr * fc)):
        r, c = np.clip(r0 + dr, 0, side - 1), np.clip(c0 + dc, 0, side - 1)
        np.add.at(kernel, (r, c), weight)
    return kernel / kernel.sum()


def transfer_function(kernel: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The 2-D DFT of ``kernel`` centred at the origin of a ``shape`` canvas (circular
    convolution: ``ifft(fft(x) * H)`` is ``x`` blurred by ``kernel``; a kernel larger than
    the canvas wraps around it)."""
    rows = (np.arange(kernel.shape[0]) - kernel.shape[0] // 2) % shape[0]
    cols = (np.arange(kernel.shape[1]) - kernel.shape[1] // 2) % shape[1]
    padded = np.zeros(shape)
    np.add.at(padded, (rows[:, None], cols[None, :]), kernel)
    return np.fft.fft2(padded)


def _per_channel(array: np.ndarray, ndim: int) -> np.ndarray:
    """A (H, W) array made to broadcast over an image of ``ndim`` dimensions (channels last)."""
    return array if ndim == 2 else array[..., None]


def _filter(x: np.ndarray, transfer: np.ndarray) -> np.ndarray:
    """``x`` (grey or colour, channels last) multiplied by ``transfer`` in the Fourier domain."""
    spectrum = np.fft.fft2(x, axes=(0, 1))
    return np.real(np.fft.ifft2(spectrum * _per_channel(transfer, x.ndim), axes=(0, 1)))


class Deblur(Problem):
    """Circular convolution with a Gaussian or motion kernel, plus noise.

    The baseline is regularised (Wiener-type) deconvolution with a Laplacian
    penalty, ``X = conj(H) Y / (|H|^2 + balance |L|^2)`` (the constrained
    least-squares filter), its balance chosen from the noise level by the
    discrepancy principle (:meth:`wiener_balance`). A flat noise-to-signal
    ratio sigma^2 / var(y) amplified the noise: 25.97 dB against 26.99 at the
    best flat ratio on Set12's centre crops.
    """

    name = "deblur"
    title = "Deblurring"
    SETTINGS = (
        Choice("kernel", ("gaussian", "motion"), default="gaussian",
               help="A Gaussian (out of focus, roughly) or a straight motion blur."),
        Float("width", 0.3, 5.0, default=1.6,
              help="Standard deviation of the Gaussian kernel, in pixels."),
        Int("length", 3, 41, default=15, help="Length of the motion blur, in pixels."),
        Float("angle", 0.0, 180.0, default=30.0,
              help="Direction of the motion, in degrees anticlockwise from the horizontal."),
        _sigma(DEBLUR_SIGMA),
    )

    @property
    def kernel(self) -> np.ndarray:
        """The blur kernel, normalised to sum 1."""
        if self.settings["kernel"] == "gaussian":
            return gaussian_kernel(self.settings["width"])
        return motion_kernel(self.settings["length"], self.settings["angle"])

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return _filter(x, transfer_function(self.kernel, x.shape[:2]))

    def _adjoint(self, y: np.ndarray) -> np.ndarray:
        return _filter(y, np.conj(transfer_function(self.kernel, y.shape[:2])))

    def data_step(self, z: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
        transfer = _per_channel(transfer_function(self.kernel, y.shape[:2]), y.ndim)
        solved = ((np.conj(transfer) * np.fft.fft2(y, axes=(0, 1))
                   + rho * np.fft.fft2(z, axes=(0, 1))) / (np.abs(transfer) ** 2 + rho))
        return np.real(np.fft.ifft2(solved, axes=(0, 1)))

    def wiener(self, y: np.ndarray, balance: float) -> np.ndarray:
        """Regularised (Wiener-type) deconvolution of ``y``: ``X = conj(H) Y / (|H|^2 +
        balance |L|^2)``, with ``L`` the discrete Laplacian, a noise-to-signal ratio that
        grows with frequency as a photograph's spectrum falls."""
        transfer = transfer_function(self.kernel, y.shape[:2])
        laplacian = transfer_function(_LAPLACIAN, y.shape[:2])
        weights = np.conj(transfer) / (np.abs(transfer) ** 2 + balance * np.abs(laplacian) ** 2)
        return _filter(y, weights)

    def wiener_balance(self, y: np.ndarray) -> float:
        """The balance chosen from the noise level by the discrepancy principle: the one whose
        estimate leaves a residual ``y - h * x`` of RMS sigma (bisection on its logarithm;
        a noiseless blur is treated as noise of 0.5 / 255)."""
        target = max(self.sigma, 0.5 / 255)
        transfer = transfer_function(self.kernel, y.shape[:2])
        low, high = math.log(1e-9), math.log(10.0)
        for _ in range(40):
            middle = (low + high) / 2
            residual = y - _filter(self.wiener(y, math.exp(middle)), transfer)
            if np.sqrt(np.mean(residual**2)) > target:
                high = middle
            else:
                low = middle
        return math.exp((low + high) / 2)

    def _baseline(self, y: np.ndarray) -> np.ndarray:
        return self.wiener(y, self.wiener_balance(y))

    def start(self, y: Any) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)


# --------------------------------------------------------------------------- inpainting

def text_mask(shape: tuple[int, int], text: str = "Deep, Deep Trouble") -> np.ndarray:
    """True where ``text``, written in rows over a ``shape`` image, covers a pixel."""
    height, width = shape
    size = max(8, height // 12)
    font = ImageFont.load_default(size=size)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for number, top in enumerate(range(size // 3, height, int(size * 1.6))):
        draw.text((-(number * size) % (3 * size) - size, top), (text + "  ") * 8, fill=255,
                  font=font)
    return np.asarray(canvas) > 0


class Inpaint(Problem):
    """Missing pixels: ``A`` keeps the known ones (a 0/1 mask, the same for every channel).

    The baseline is scikit-image's biharmonic inpainting, and the solvers
    start from it with a lower first denoiser level (20 / 255): on four
    images (astronaut and three of train400, 50 % missing, DRUNet prior)
    that gave 30.82 dB against 30.53 for a start from a Gaussian average of
    the known pixels at 49 / 255 (biharmonic alone: 28.96).
    """

    name = "inpaint"
    title = "Inpainting"
    iterations = 20
    sigma_start = 20 / 255
    SETTINGS = (
        Choice("mask", ("random", "text"), default="random",
               help="Pixels missing at random, or a text written over the image."),
        Float("missing", 0.05, 0.95, default=0.5,
              help="Fraction of the pixels missing (random mask)."),
        Int("mask_seed", 0, 2**31 - 1, default=0, help="Seed of the random mask."),
        _sigma(0.0),
    )

    def known(self, shape: tuple[int, ...]) -> np.ndarray:
        """The (H, W) mask of known pixels for an image of ``shape``, as float 0/1."""
        shape2 = (int(shape[0]), int(shape[1]))
        if self.settings["mask"] == "text":
            return (~text_mask(shape2)).astype(np.float64)
        rng = np.random.default_rng(self.settings["mask_seed"])
        return (rng.random(shape2) >= self.settings["missing"]).astype(np.float64)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return x * _per_channel(self.known(x.shape), x.ndim)

    _adjoint = _forward

    def data_step(self, z: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
        mask = _per_channel(self.known(y.shape), y.ndim)
        return (mask * y + rho * z) / (mask + rho)

    def pseudo_inverse(self, y: np.ndarray) -> np.ndarray:
        return self._forward(y)

    def _baseline(self, y: np.ndarray) -> np.ndarray:
        missing = self.known(y.shape) == 0
        return inpaint_biharmonic(y, missing, channel_axis=-1 if y.ndim == 3 else None)


# --------------------------------------------------------------------------- super-resolution

def _cubic(t: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (bicubic interpolation's)."""
    t = np.abs(t)
    return np.where(t <= 1, 1.5 * t**3 - 2.5 * t**2 + 1,
                    np.where(t < 2, -0.5 * t**3 + 2.5 * t**2 - 4 * t + 2, 0.0))


def downsampling_kernel(factor: int) -> np.ndarray:
    """The 2-D anti-aliasing kernel of bicubic downsampling by ``factor``, as a convolution
    kernel centred at its middle: low-resolution pixel ``i`` averages the high-resolution
    pixels around ``factor * i + (factor - 1) / 2`` (the centre of its block) with the cubic
    kernel stretched ``factor`` times."""
    centre = (factor - 1) / 2
    offsets = np.arange(math.ceil(centre - 2 * factor), math.floor(centre + 2 * factor) + 1)
    weights = _cubic((offsets - centre) / factor)
    weights /= weights.sum()
    radius = int(np.max(np.abs(offsets)))
    line = np.zeros(2 * radius + 1)
    line[radius - offsets] = weights  # convolution: tap d of the correlation sits at -d
    return np.outer(line, line)


def _bicubic_resize(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``image`` resized to ``shape`` by bicubic interpolation (Pillow's, on floats)."""
    channels = np.moveaxis(np.atleast_3d(image), -1, 0)
    resized = [np.asarray(Image.fromarray(c.astype(np.float32), mode="F")
                          .resize((shape[1], shape[0]), Image.Resampling.BICUBIC))
               for c in channels]
    out = np.stack(resized, axis=-1).astype(np.float64)
    return out[..., 0] if image.ndim == 2 else out


class SuperResolution(Problem):
    """Bicubic downsampling by 2, 3 or 4: ``A`` blurs with the stretched cubic kernel and
    keeps one pixel in ``factor`` along each axis (circularly, on the canvas).

    The baseline is bicubic interpolation. An image whose sides the factor
    does not divide is extended by reflection to the next multiple (the
    canvas) before it is degraded; an estimate is cropped back to the clean
    image's shape when the problem is bound to it (:meth:`Problem.bound`),
    and is the whole canvas otherwise.
    """

    name = "super_resolution"
    title = "Super-resolution"
    SETTINGS = (
        Int("factor", 2, 4, default=2, help="How many times smaller the low-resolution image is."),
        _sigma(0.0),
    )

    def __init__(self, *, shape: tuple[int, ...] | None = None, **settings: Any) -> None:
        super().__init__(shape=shape, **settings)
        self.factor: int = self.settings["factor"]

    def _index(self, length: int) -> np.ndarray:
        """Canvas position -> image position along an axis (reflection past the end)."""
        total = -(-length // self.factor) * self.factor
        return np.pad(np.arange(length), (0, total - length), mode="symmetric")

    def _canvas(self, x: np.ndarray) -> np.ndarray:
        rows, cols = self._index(x.shape[0]), self._index(x.shape[1])
        return x[rows][:, cols]

    def _uncanvas(self, x: np.ndarray) -> np.ndarray:
        height, width = self.shape or x.shape[:2]
        out = np.zeros((height, width, *x.shape[2:]))
        rows, cols = self._index(height), self._index(width)
        np.add.at(out, (rows[:, None], cols[None, :]), x)
        return out

    def finish(self, x: np.ndarray) -> np.ndarray:
        height, width = self.shape or x.shape[:2]
        return x[:height, :width]

    def _transfer(self, shape: tuple[int, ...]) -> np.ndarray:
        return transfer_function(downsampling_kernel(self.factor), (shape[0], shape[1]))

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return _filter(x, self._transfer(x.shape))[::self.factor, ::self.factor]

    def _adjoint(self, y: np.ndarray) -> np.ndarray:
        s = self.factor
        up = np.zeros((y.shape[0] * s, y.shape[1] * s, *y.shape[2:]))
        up[::s, ::s] = y
        return _filter(up, np.conj(self._transfer(up.shape)))

    def data_step(self, z: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
        """Zhao et al.'s closed form: Woodbury's identity, with the low-resolution grid's
        circulant ``S K K^T S^T`` diagonal in the Fourier domain as the mean of |H|^2 over
        the ``factor x factor`` aliases.

        Parameters
        ----------
        z : ndarray, shape of the canvas, (H, W) or (H, W, 3)
            The image the step stays near (the denoiser's last output; ``v - u``
            in ADMM), on the [0, 1] scale.
        y : ndarray
            The measurements, as :meth:`degrade` gives them.
        rho : float
            The weight of ``||x - z||^2``, > 0; the splittings pass
            ``lam * sigma**2 / level**2``, the noise variance over the denoiser's.

        Returns
        -------
        ndarray
            The minimiser, of the canvas' shape.
        """
        s = self.factor
        transfer = _per_channel(self._transfer(z.shape), z.ndim)
        spectrum = np.fft.fft2(self._adjoint(y) + rho * z, axes=(0, 1))
        low = (y.shape[0], y.shape[1])

        def alias_mean(values: np.ndarray) -> np.ndarray:
            tiles = values.reshape(s, low[0], s, low[1], *values.shape[2:])
            return tiles.mean(axis=(0, 2))

        inner = alias_mean(transfer * spectrum) / (alias_mean(np.abs(transfer) ** 2) + rho)
        tiled = np.tile(inner, (s, s) + (1,) * (z.ndim - 2))
        return np.real(np.fft.ifft2((spectrum - np.conj(transfer) * tiled) / rho, axes=(0, 1)))

    def pseudo_inverse(self, y: np.ndarray) -> np.ndarray:
        transfer = self._transfer((y.shape[0] * self.factor, y.shape[1] * self.factor))
        power = np.abs(transfer) ** 2
        low = power.reshape(self.factor, y.shape[0], self.factor, y.shape[1]).mean(axis=(0, 2))
        return self._adjoint(_filter(y, 1 / low))

    def _baseline(self, y: np.ndarray) -> np.ndarray:
        return _bicubic_resize(y, (y.shape[0] * self.factor, y.shape[1] * self.factor))


# --------------------------------------------------------------------------- demosaicing

def bayer_masks(shape: tuple[int, ...]) -> np.ndarray:
    """The (H, W, 3) 0/1 masks of an RGGB Bayer mosaic: red at even rows and columns,
    blue at odd rows and columns, green elsewhere."""
    rows = np.arange(shape[0])[:, None] % 2
    cols = np.arange(shape[1])[None, :] % 2
    red = (rows == 0) & (cols == 0)
    blue = (rows == 1) & (cols == 1)
    return np.stack([red, ~(red | blue), blue], axis=-1).astype(np.float64)


_BILINEAR_GREEN = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 4
_BILINEAR_RED_BLUE = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4


class Demosaic(Problem):
    """A colour image seen through an RGGB Bayer filter: one channel per pixel.

    The degraded image is the (H, W) mosaic; the baseline is bilinear
    interpolation of each channel from its own samples.
    """

    name = "demosaic"
    title = "Demosaicing"
    iterations = 20
    colour_only = True
    SETTINGS = (_sigma(0.0),)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        return np.sum(x * bayer_masks(x.shape), axis=-1)

    def _adjoint(self, y: np.ndarray) -> np.ndarray:
        return y[..., None] * bayer_masks(y.shape)

    def data_step(self, z: np.ndarray, y: np.ndarray, rho: float) -> np.ndarray:
        masks = bayer_masks(y.shape)
        return (masks * y[..., None] + rho * z) / (masks + rho)

    def pseudo_inverse(self, y: np.ndarray) -> np.ndarray:
        return self._adjoint(y)

    def _baseline(self, y: np.ndarray) -> np.ndarray:
        if y.ndim != 2:
            raise InvalidInput(f"a Bayer mosaic has shape (H, W); got shape {y.shape}")
        masks = bayer_masks(y.shape)
        kernels = (_BILINEAR_RED_BLUE, _BILINEAR_GREEN, _BILINEAR_RED_BLUE)
        return np.stack([ndimage.convolve(y * masks[..., c], kernels[c], mode="mirror")
                         for c in range(3)], axis=-1)


PROBLEMS: dict[str, type[Problem]] = {
    problem.name: problem for problem in (Deblur, Inpaint, SuperResolution, Demosaic)}
