"""Wavelet shrinkage: VisuShrink, SureShrink and BayesShrink (1994-2000), with cycle spinning.

An orthogonal wavelet transform splits an image into a coarse approximation
and detail subbands (horizontal, vertical and diagonal, at each scale). A
photograph puts its edges and texture into a few large detail coefficients;
white noise of standard deviation sigma stays white noise of the same sigma
in every subband, because the transform is orthogonal. Shrinking every
detail coefficient towards zero by a threshold (hard: keep or kill; soft:
kill, and pull the survivors in by the threshold) removes most of the noise
and little of the image. The rules differ in the threshold: VisuShrink's one
universal threshold (Donoho & Johnstone 1994), SureShrink's minimiser of
Stein's unbiased risk estimate per subband (1995), BayesShrink's sigma² /
sigma_x per subband, from a Laplacian prior on the coefficients (Chang, Yu &
Vetterli 2000). Cycle spinning (Coifman & Donoho 1995) averages the results
over shifts of the image, which removes the blocky artefacts of a transform
that is not translation invariant.

PyWavelets is imported inside the functions that need it, so that ``import
denoisers`` and the training command work where it is not installed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .core import Choice, Int, Method, Param, Progress, Result, report, validated

FAMILY = "Wavelets"

#: The threshold rules offered, the default first.
RULES = ("BayesShrink", "SureShrink", "VisuShrink")
#: The shrinkage functions offered, the default first.
MODES = ("soft", "hard")
#: The wavelets offered (orthogonal ones only, see :func:`wavelet`); db2 is the default.
WAVELETS = ("db1", "db2", "db4", "sym4", "sym8", "coif3")
#: The orientations of the detail subbands, in PyWavelets' order (cH, cV, cD).
ORIENTATIONS = ("horizontal", "vertical", "diagonal")
#: PyWavelets' border mode: the image is extended by mirroring it about its edge pixels,
#: as scikit-image's ``denoise_wavelet`` does (see :func:`wavelet`).
BORDER = "symmetric"
#: How many shifted copies of the image one call of the transform handles at once: more
#: saves little time (4 is about as fast as 16 at 512x512, faster at 1024x1024) and costs
#: memory (about 130 MB at 1024x1024 for 4, 380 MB for 16).
_BATCH = 4
#: Points of the traced shrinkage curves, from -3 to 3 thresholds.
_CURVE_POINTS = 241


# --------------------------------------------------------------------------- thresholds

def soft(x: np.ndarray, threshold: Any) -> np.ndarray:
    """Soft thresholding: 0 where ``|x| <= threshold``, else ``x`` pulled towards 0 by it."""
    x = np.asarray(x)
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0).astype(x.dtype, copy=False)


def hard(x: np.ndarray, threshold: Any) -> np.ndarray:
    """Hard thresholding: 0 where ``|x| <= threshold``, ``x`` itself elsewhere."""
    x = np.asarray(x)
    return np.where(np.abs(x) > threshold, x, np.zeros((), x.dtype))


def visu_threshold(sigma: float, n: int) -> float:
    """VisuShrink's universal threshold ``sigma sqrt(2 ln n)`` for ``n`` samples."""
    return float(sigma * math.sqrt(2.0 * math.log(max(n, 1))))


def bayes_threshold(band: np.ndarray, sigma: float) -> np.ndarray:
    """BayesShrink's threshold of each subband ``band`` (..., h, w): ``sigma² / sigma_x``.

    ``sigma_x = sqrt(max(mean(band²) - sigma², 0))`` estimates the standard deviation of
    the clean coefficients (the subband's mean is zero); where it is 0 the subband is
    taken for pure noise and the threshold is its largest magnitude (all of it goes).
    Returns one threshold per leading index (a 0-d array for a 2-D band).
    """
    band = np.asarray(band, np.float64)
    if sigma == 0.0:
        return np.zeros(band.shape[:-2])
    spread = np.sqrt(np.maximum(np.mean(band * band, axis=(-2, -1)) - sigma * sigma, 0.0))
    largest = np.max(np.abs(band), axis=(-2, -1))
    with np.errstate(divide="ignore"):
        return np.where(spread > 0.0, sigma * sigma / np.where(spread > 0.0, spread, 1.0),
                        largest)


def sure(band: np.ndarray, sigma: float, threshold: float) -> float:
    """Stein's unbiased estimate of the risk of soft-thresholding ``band`` at ``threshold``.

    On the coefficients in units of sigma, ``x = band / sigma`` (d of them):
    ``SURE(t) = d - 2 #{|x_i| <= t} + sum min(|x_i|, t)²`` (Donoho & Johnstone 1995,
    eq. 11), the expected squared error in units of sigma² (``t = threshold / sigma``).

    Parameters
    ----------
    band : ndarray
        The wavelet coefficients of one detail subband, any shape.
    sigma : float
        The noise standard deviation in the subband (the image's, for an
        orthogonal transform), > 0, on the [0, 1] scale.
    threshold : float
        The soft threshold, on the coefficients' scale.
    """
    x = np.abs(np.asarray(band, np.float64)).ravel() / sigma
    t = threshold / sigma
    return float(x.size - 2 * np.count_nonzero(x <= t) + np.sum(np.minimum(x, t) ** 2))


def sure_threshold(band: np.ndarray, sigma: float) -> np.ndarray:
    """SureShrink's threshold of each subband ``band`` (..., h, w), the hybrid rule.

    The threshold that minimises :func:`sure` over [0, sigma sqrt(2 ln d)] (d the
    subband's size): SURE only changes where the threshold passes a coefficient and rises
    between them, so the candidates are 0 and the magnitudes. Where the subband is sparse,
    ``mean(x² - 1) <= (log2 d)^1.5 / sqrt(d)`` with ``x = band / sigma``, SURE is
    unreliable and the universal threshold ``sigma sqrt(2 ln d)`` is used instead
    (Donoho & Johnstone 1995, section 2.4). Returns one threshold per leading index.
    """
    band = np.asarray(band, np.float64)
    lead = band.shape[:-2]
    if sigma == 0.0:
        return np.zeros(lead)
    x = band.reshape(*lead, -1) / sigma
    d = x.shape[-1]
    universal = math.sqrt(2.0 * math.log(d)) if d > 1 else 0.0
    a = np.sort(np.abs(x), axis=-1)
    below = np.cumsum(a * a, axis=-1)
    k = np.arange(d)
    # SURE at t = a_k: k + 1 magnitudes at or below it, d - k - 1 above (clipped to t).
    risk = d - 2.0 * (k + 1) + below + (d - k - 1) * a * a
    risk = np.where(a <= universal, risk, np.inf)
    best = np.argmin(risk, axis=-1)
    at_best = np.take_along_axis(risk, best[..., None], axis=-1)[..., 0]
    chosen = np.where(at_best < d, np.take_along_axis(a, best[..., None], axis=-1)[..., 0], 0.0)
    sparse = np.mean(x * x - 1.0, axis=-1) <= math.log2(d) ** 1.5 / math.sqrt(d)
    return sigma * np.where(sparse, universal, chosen)


# --------------------------------------------------------------------------- the method

#: The parameters of :func:`wavelet`, checked by every call (its Method's spec).
WAVELET: tuple[Param, ...] = (
    Choice("rule", RULES,
           help=("How the threshold is chosen: BayesShrink (sigma² / sigma_x, per subband), "
                 "SureShrink (the minimum of Stein's unbiased risk estimate, per subband) "
                 "or VisuShrink (one universal threshold sigma x sqrt(2 ln n) for all).")),
    Choice("mode", MODES,
           help=("Soft thresholding zeroes the small coefficients and pulls the others in by "
                 "the threshold; hard thresholding zeroes the small ones and keeps the "
                 "others as they are.")),
    Choice("wavelet", WAVELETS, default="db2",
           help=("The orthogonal wavelet: Daubechies' db1 (Haar), db2, db4, the more "
                 "symmetric symlets sym4, sym8 and the coiflet coif3. Longer wavelets are "
                 "smoother.")),
    Int("levels", 1, 6, default=5,
        help=("How many times the image is split into coarse and detail halves; capped at "
              "what the image's size allows.")),
    Int("shifts", 1, 8, default=4,
        help=("Cycle spinning: the image is denoised at n x n shifts (0 to n-1 pixels down "
              "and right) and the results shifted back and averaged. 1 means no spinning; "
              "the time grows as n².")),
)


def _plan(shape: tuple[int, int], name: str, levels: int, shifts: int
          ) -> tuple[int, tuple[int, int]]:
    """The levels used and the size every shifted copy is padded to.

    A copy gains ``shifts - 1`` mirrored rows and columns in all (``dy`` above, the rest
    below; the same for columns), and a side shorter than one level of wavelet ``name``
    needs (``2 (dec_len - 1)``) is mirrored further, below and to the right. The levels
    are capped at PyWavelets' maximum for the shorter padded side (at least one): deeper
    ones would be all border effect."""
    import pywt

    length = pywt.Wavelet(name).dec_len
    sides = tuple(max(n + shifts - 1, 2 * (length - 1)) for n in shape)
    used = max(1, min(levels, pywt.dwt_max_level(min(sides), length)))
    return used, sides  # type: ignore[return-value]


def _thresholds(band: np.ndarray, sigma: float, rule: str, n: int) -> np.ndarray:
    """The threshold of ``rule`` for each subband of the stack ``band`` (S, h, w)."""
    if rule == "VisuShrink":
        return np.full(band.shape[0], visu_threshold(sigma, n))
    if rule == "SureShrink":
        return sure_threshold(band, sigma)
    return bayes_threshold(band, sigma)


@validated(WAVELET)
def wavelet(noisy: np.ndarray, sigma: float, *, rule: str = "BayesShrink", mode: str = "soft",
            wavelet: str = "db2", levels: int = 5, shifts: int = 4, trace: bool = False,
            progress: Progress | None = None) -> Result:
    """Shrink the image's wavelet coefficients, averaged over shifts of the image.

    Parameters
    ----------
    noisy : ndarray, shape (H, W)
        The noisy grey image, of any float or integer type (taken to float32
        in [0, 1] scale by :func:`~denoisers.core.as_image`); the result is
        float32 whatever it was.
    sigma : float
        Noise standard deviation on the [0, 1] scale; every threshold is
        proportional to it.
    rule : str
        The threshold rule, one of :data:`RULES`: ``"BayesShrink"``
        (:func:`bayes_threshold`, per subband), ``"SureShrink"``
        (:func:`sure_threshold`, per subband, with the hybrid fallback) or
        ``"VisuShrink"`` (:func:`visu_threshold` with n = H x W, one for all).
    mode : str
        ``"soft"`` (:func:`soft`) or ``"hard"`` (:func:`hard`) thresholding.
        SureShrink's threshold minimises the risk of soft thresholding; hard
        thresholding uses the same threshold.
    wavelet : str
        The orthogonal wavelet, one of :data:`WAVELETS` (PyWavelets' names).
    levels : int
        The number of levels of the decomposition, capped at what the
        (padded) image allows: a 2x2 image gets one level.
    shifts : int
        Cycle spinning over n x n shifts (0 to n - 1 pixels down and right,
        the image mirrored into the gap it leaves); 1 is a single transform,
        scikit-image's ``denoise_wavelet`` at the same wavelet and levels.
    trace : bool
        Also return the coefficient pyramid before and after thresholding and
        the thresholds.
    progress : callable, optional
        Receives the fraction of the shifts done, ending at 1.0.

    Returns
    -------
    Result
        ``image``: the mean of the shifted estimates. With ``trace`` (all of
        it of the unshifted transform): stages ``"coefficients"`` and
        ``"thresholded"`` (|coefficients| of the image, mirrored by
        ``shifts - 1`` pixels below and to the right, in PyWavelets' layout,
        :func:`pywt.coeffs_to_array`, the approximation divided by 2^levels
        so that it reads as grey levels) and ``"removed"`` (noisy − estimate,
        drawn signed); extras ``"thresholds"`` (a list of (level,
        orientation, threshold), level 1 the finest), ``"histogram"`` (the
        finest diagonal subband's ``coefficients``, the ``counts`` and
        ``edges`` of their histogram and the ``threshold``), ``"shrinkage"``
        (``x``, ``hard`` and ``soft`` over ±3 thresholds at that threshold),
        ``"blocks"`` (the pyramid's nested blocks, :func:`_blocks`) and
        ``"params"`` (the levels used).

    Notes
    -----
    The wavelet is orthogonal, so the noise has the same sigma in every
    subband (all but the few border coefficients) and the thresholds of each
    rule follow from sigma alone; the coarse approximation is kept as it is.
    The border is PyWavelets' :data:`BORDER` mode ("symmetric": the image
    mirrored about its edge pixels), as in scikit-image's
    ``denoise_wavelet``, and a single transform (``shifts=1``) is exactly
    its BayesShrink and VisuShrink at the same wavelet and levels
    (tests/test_wavelets.py holds them within 0.05 dB). A periodic transform
    of the image mirrored by 16 pixels, used before, was 0.34 dB (soft) and
    1.3 dB (hard) worse than that on camera at 256x256, sigma_255 = 25, db2,
    5 levels, without spinning.

    A wavelet transform is not translation invariant: shifting the image by
    one pixel changes its coefficients, and thresholding leaves artefacts
    aligned with the wavelet grid (ringing, small blocks with Haar). Cycle
    spinning denoises every shift of a set and averages the results shifted
    back, which the artefacts do not survive: shift (dy, dx) mirrors dy rows
    above the image and dx columns to its left (and the rest of the n - 1
    below and to the right, so that every copy has one size) and crops the
    estimate back, not a wrap-around shift that would join opposite edges;
    all the shifts of one batch go through PyWavelets in one call.

    Cost: one forward and inverse transform per shift, O(HW) each; at
    512x512 on this project's 2-core CPU (quiet, median of 5) a single
    transform takes 0.013 s, the default 4 x 4 shifts 0.10 s (SureShrink,
    which sorts every subband, 0.20 s) and 8 x 8 shifts 0.34 s; the shifts go through
    PyWavelets :data:`_BATCH` at a time, stacked along a leading axis.

    Defaults (they do not follow sigma; every threshold does): BayesShrink,
    soft, db2, 5 levels, 4 x 4 shifts, chosen on the twelve scikit-image
    sample images the other rules were fitted on (camera, astronaut,
    coffee, chelsea, brick, moon, text, grass, gravel, page, coins, rocket;
    grey, full size; image i drawn with seed i, not clipped), never on
    Set12; measured again with the symmetric border, within 0.05 dB of the
    periodic transform they were first chosen with. Mean PSNR at
    sigma_255 = 25 with 4 x 4 shifts and 5 levels: db2 28.70 dB, db1 28.67,
    sym4 28.68, db4 28.63, coif3 28.62, sym8 28.58 (db2 is also the best or
    tied at sigma_255 = 15, 31.13, and 50, 25.72 against sym4's 25.73); 3
    levels lose 0.1 dB, 6 gain nothing. Spinning over 1, 2, 3, 4, 5, 6, 8
    shifts a side gives 27.52, 28.44, 28.56, 28.70, 28.68, 28.72, 28.75 dB
    (5 is below 4: the shifts 0-3 cover every residue mod 4 equally) for 1,
    4, 9, 16, 25, 36, 64 transforms: 4 is where the time is still well
    under a second. The other rules at 4 x 4 shifts (and without spinning):
    BayesShrink soft 28.70 (27.52), hard 27.04 (25.14); SureShrink soft
    28.40 (27.29), hard 27.59 (25.85); VisuShrink soft 23.52 (23.27), hard
    26.38 (24.88); the noisy images 20.18, scikit-image's
    ``denoise_wavelet`` (BayesShrink, soft, its defaults: db1, symmetric
    border, levels 3 short of the maximum, no spinning) 26.99.

    Set12 at sigma_255 = 25 (the benchmark's noise, not clipped, seed 0),
    measured once with the defaults fixed: 27.96 dB with the defaults,
    26.65 without spinning (``shifts=1``), 27.04 for scikit-image's
    ``denoise_wavelet`` at its best on train400 (BayesShrink, sym8, 3
    levels; ``python -m benchmarks.peers``) (the noisy images: 20.17);
    with the periodic transform used before, 27.97 and 26.64.

    References
    ----------
    D. L. Donoho and I. M. Johnstone, "Ideal spatial adaptation by wavelet
    shrinkage", Biometrika 81(3), 1994, pp. 425-455.
    https://doi.org/10.1093/biomet/81.3.425
    D. L. Donoho and I. M. Johnstone, "Adapting to unknown smoothness via
    wavelet shrinkage", J. Amer. Statist. Assoc. 90(432), 1995, pp.
    1200-1224. https://doi.org/10.1080/01621459.1995.10476626
    S. G. Chang, B. Yu and M. Vetterli, "Adaptive wavelet thresholding for
    image denoising and compression", IEEE Trans. Image Process. 9(9),
    2000, pp. 1532-1546. https://doi.org/10.1109/83.862633
    R. R. Coifman and D. L. Donoho, "Translation-invariant de-noising", in
    Wavelets and Statistics, Lecture Notes in Statistics 103, Springer,
    1995, pp. 125-150. https://doi.org/10.1007/978-1-4612-2544-7_9

    Examples
    --------
    >>> from skimage import data
    >>> from denoisers import noise
    >>> from denoisers.metrics import psnr
    >>> from denoisers.wavelets import wavelet
    >>> clean = data.camera()[160:208, 160:208] / 255  # a 48x48 crop of the cameraman
    >>> noisy = noise.add_gaussian(clean, 25 / 255, seed=0)
    >>> out = wavelet(noisy, 25 / 255).image  # BayesShrink, soft, db2, cycle spinning
    >>> out.shape, out.dtype
    ((48, 48), dtype('float32'))
    >>> psnr(clean, out) > psnr(clean, noisy) + 3
    True

    Averaging over shifts (cycle spinning) beats a single transform:

    >>> psnr(clean, out) > psnr(clean, wavelet(noisy, 25 / 255, shifts=1).image)
    True
    """
    import pywt

    height, width = noisy.shape
    used, (rows, cols) = _plan((height, width), wavelet, levels, shifts)
    shrink = soft if mode == "soft" else hard
    offsets = [(dy, dx) for dy in range(shifts) for dx in range(shifts)]
    total = np.zeros((height, width), np.float64)
    seen: dict[str, Any] = {}
    for start in range(0, len(offsets), _BATCH):
        batch = offsets[start:start + _BATCH]
        # Shift (dy, dx) moves the image dy rows down and dx columns right on the wavelet
        # grid: dy mirrored rows above it, dx mirrored columns left of it.
        stack = np.stack([np.pad(noisy, ((dy, rows - height - dy), (dx, cols - width - dx)),
                                 mode="symmetric") for dy, dx in batch])
        coeffs = pywt.wavedec2(stack, wavelet, mode=BORDER, level=used, axes=(-2, -1))
        kept = [coeffs[0]]
        limits = []
        for details in coeffs[1:]:
            cut = [_thresholds(band, sigma, rule, height * width) for band in details]
            limits.append(cut)
            kept.append(tuple(shrink(band, t.astype(band.dtype)[:, None, None])
                              for band, t in zip(details, cut)))
        if trace and start == 0:
            seen = {"before": coeffs, "after": kept, "limits": limits}
        estimates = pywt.waverec2(kept, wavelet, mode=BORDER, axes=(-2, -1))
        for estimate, (dy, dx) in zip(estimates, batch):
            total += estimate[dy:dy + height, dx:dx + width]
        report(progress, (start + len(batch)) / len(offsets))
    image = (total / len(offsets)).astype(np.float32)
    result = Result(image)
    if trace:
        _trace(result, noisy, seen, used, mode)
        result.extras["params"] = {"rule": rule, "mode": mode, "wavelet": wavelet,
                                   "levels": used, "shifts": shifts}
    return result


def _pyramid(coeffs: list, used: int) -> np.ndarray:
    """|coefficients| of the first image of a stacked decomposition, in the pyramid layout."""
    import pywt

    first = [coeffs[0][0] / 2.0 ** used] + [tuple(band[0] for band in d) for d in coeffs[1:]]
    array, _ = pywt.coeffs_to_array(first)
    return np.abs(array).astype(np.float32)


def _blocks(coeffs: list) -> list[tuple[int, int]]:
    """The nested top-left blocks of :func:`_pyramid`'s layout, coarsest first: the
    approximation's (rows, columns), then after each level (coarsest to finest) the block
    that holds it and every coarser one; the last is the whole pyramid. With PyWavelets'
    "symmetric" border a level is a little more than half the next finer one."""
    rows, cols = coeffs[0].shape[-2:]
    blocks = [(int(rows), int(cols))]
    for details in coeffs[1:]:
        rows, cols = rows + details[2].shape[-2], cols + details[2].shape[-1]
        blocks.append((int(rows), int(cols)))
    return blocks


def _trace(result: Result, noisy: np.ndarray, seen: dict[str, Any], used: int,
           mode: str) -> None:
    """Fill in the trace of :func:`wavelet` from the unshifted transform."""
    before, limits = seen["before"], seen["limits"]
    # coeffs[1] is the coarsest level (number ``used``), coeffs[-1] the finest (1).
    table = [(used - i, orientation, float(cut[j][0]))
             for i, cut in enumerate(limits) for j, orientation in enumerate(ORIENTATIONS)]
    finest = np.asarray(before[-1][2][0], np.float32).ravel()
    threshold = float(limits[-1][2][0])
    counts, edges = np.histogram(finest, bins=101)
    x = np.linspace(-3.0, 3.0, _CURVE_POINTS) * max(threshold, 1e-6)
    result.stages.update({"coefficients": _pyramid(before, used),
                          "thresholded": _pyramid(seen["after"], used),
                          "removed": noisy - result.image})
    result.extras.update({
        "display": {"coefficients": "map", "thresholded": "map", "removed": "signed"},
        "thresholds": table,
        "blocks": _blocks(before),
        "histogram": {"level": 1, "orientation": "diagonal", "coefficients": finest,
                      "counts": counts, "edges": edges, "threshold": threshold, "mode": mode},
        "shrinkage": {"threshold": threshold, "x": x, "hard": hard(x, threshold),
                      "soft": soft(x, threshold)},
    })


METHODS: tuple[Method, ...] = (
    Method(
        key="wavelet",
        name="Wavelet shrinkage",
        year=1994,
        family=FAMILY,
        paper=("D. L. Donoho and I. M. Johnstone, \"Ideal spatial adaptation by wavelet "
               "shrinkage\", Biometrika 81(3), 1994, pp. 425-455; \"Adapting to unknown "
               "smoothness via wavelet shrinkage\", JASA 90, 1995; S. G. Chang, B. Yu and "
               "M. Vetterli, \"Adaptive wavelet thresholding for image denoising and "
               "compression\", IEEE Trans. Image Process. 9(9), 2000; R. R. Coifman and "
               "D. L. Donoho, \"Translation-invariant de-noising\", 1995"),
        idea=("Describe the image as a sum of small waves (wavelets) at every scale and "
              "position: a coarse thumbnail plus details. A photograph needs only a few large "
              "detail coefficients, at its edges and textures, while noise spreads thinly "
              "over all of them. So shrink every detail coefficient towards zero: the many "
              "small ones, mostly noise, vanish, and the few big ones, mostly image, survive. "
              "The threshold is the whole art: one universal value (VisuShrink) blurs, one "
              "per subband fitted to the image (SureShrink, BayesShrink) keeps more. Because "
              "the wavelet grid is fixed, the result shows faint blocky ripples; denoising "
              "shifted copies of the image and averaging them (cycle spinning) smooths "
              "those away."),
        params=WAVELET,
        run=wavelet,
        url="https://doi.org/10.1093/biomet/81.3.425",
    ),
)
