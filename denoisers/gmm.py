"""A Gaussian mixture of image patches, learned by EM: the prior of EPLL.

Zoran & Weiss (2011) learned what clean 8x8 patches look like as a mixture
of Gaussians with full covariances, fitted by expectation-maximisation to
patches cut at random from clean photographs, each patch's mean (its DC)
removed first so that the mixture models its texture and not its brightness.
Each component is a kind of patch (flat, an edge at some angle, a texture);
its covariance's leading eigenvectors are the shapes that kind of patch is
made of.

``python -m denoisers.train epll --data DIR --out FILE.npz`` runs
:func:`train`: on CUDA where there is one (``--device``), within ``--minutes``,
checkpointing after every iteration so that ``--resume`` goes on, or starting
from a mixture (``--init``) grown to more components by splitting. Only torch
and numpy are needed (with the image loader's Pillow and scikit-image).

References
----------
D. Zoran and Y. Weiss, "From learning models of natural image patches to
whole image restoration", Proc. IEEE ICCV 2011, pp. 479-486.
https://doi.org/10.1109/ICCV.2011.6126278
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .core import InvalidInput
from .images import load_folder
from .lazy import torch

#: Where the site's mixture lives.
WEIGHTS = Path(__file__).resolve().parent.parent / "assets" / "weights" / "epll_gmm.npz"

#: Smallest variance added to every covariance's diagonal (on the [0, 1] scale: 1e-5 is a
#: standard deviation of 0.8 grey levels in 255), so that no component collapses.
COVARIANCE_FLOOR = 1e-5


@dataclass(frozen=True)
class GaussianMixture:
    """A Gaussian mixture over flattened square patches, kept as eigendecompositions.

    Attributes
    ----------
    weights : ndarray, shape (K,)
        The mixing weights, summing to 1.
    means : ndarray, shape (K, d)
        The component means (near zero for DC-free patches).
    eigenvalues : ndarray, shape (K, d)
        Each covariance's eigenvalues, largest first.
    eigenvectors : ndarray, shape (K, d, d)
        Each covariance's eigenvectors, as columns in the same order.
    size : int
        The patch side (d = size²).
    """

    weights: np.ndarray
    means: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    size: int

    @property
    def components(self) -> int:
        return len(self.weights)

    @property
    def covariances(self) -> np.ndarray:
        """The full covariances, (K, d, d)."""
        return np.einsum("kij,kj,klj->kil", self.eigenvectors, self.eigenvalues, self.eigenvectors)

    @classmethod
    def from_covariances(cls, weights: np.ndarray, means: np.ndarray, covariances: np.ndarray,
                         size: int) -> GaussianMixture:
        """The mixture of these parameters, its covariances decomposed (largest eigenvalue
        first).

        Parameters
        ----------
        weights : array_like, shape (K,)
            The mixing weights (summing to 1).
        means : array_like, shape (K, d)
            The component means.
        covariances : array_like, shape (K, d, d)
            The components' covariances, symmetric; eigenvalues below 0 (round-off)
            are raised to 0.
        size : int
            The patch side (d = size²).
        """
        values, vectors = np.linalg.eigh(np.asarray(covariances, np.float64))
        return cls(weights=np.asarray(weights, np.float64), means=np.asarray(means, np.float64),
                   eigenvalues=np.maximum(values[:, ::-1], 0.0),
                   eigenvectors=np.ascontiguousarray(vectors[:, :, ::-1]),
                   size=size)

    def sample(self, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``count`` patches drawn from the mixture, (count, d), and the component of each."""
        rng = np.random.default_rng(seed)
        chosen = rng.choice(self.components, size=count, p=self.weights / self.weights.sum())
        unit = rng.standard_normal((count, self.means.shape[1]))
        scaled = unit * np.sqrt(self.eigenvalues[chosen])
        drawn = self.means[chosen] + np.einsum("nij,nj->ni", self.eigenvectors[chosen], scaled)
        return drawn, chosen

    def save(self, path: Path | str, record: dict | None = None) -> None:
        """Write the mixture (float32) and a record of its training to an ``.npz`` file."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as file:
            np.savez_compressed(file, weights=self.weights.astype(np.float32),
                                means=self.means.astype(np.float32),
                                eigenvalues=self.eigenvalues.astype(np.float32),
                                eigenvectors=self.eigenvectors.astype(np.float32),
                                size=np.int64(self.size),
                                record=np.array(json.dumps(record or {})))

    @classmethod
    def load(cls, path: Path | str) -> GaussianMixture:
        """The mixture saved in ``path``; an :class:`InvalidInput` if there is none to read."""
        path = Path(path)
        if not path.is_file():
            raise InvalidInput(f"the patch prior {path} is missing: train it with "
                               f"`python -m denoisers.train epll --data ../shared/data/train400 "
                               f"--out {path}`")
        try:
            with np.load(path) as saved:
                return cls(weights=saved["weights"].astype(np.float64),
                           means=saved["means"].astype(np.float64),
                           eigenvalues=saved["eigenvalues"].astype(np.float64),
                           eigenvectors=saved["eigenvectors"].astype(np.float64),
                           size=int(saved["size"]))
        except (OSError, KeyError, ValueError) as exc:
            raise InvalidInput(f"the patch prior {path} cannot be read ({exc}); train it again "
                               f"with `python -m denoisers.train epll`") from exc

    @staticmethod
    def record_of(path: Path | str) -> dict:
        """The training record saved beside the mixture in ``path``."""
        with np.load(path) as saved:
            return json.loads(str(saved["record"]))


# --------------------------------------------------------------------------- patches

def sample_patches(images: Sequence[np.ndarray], count: int, *, size: int = 8,
                   seed: int = 0) -> np.ndarray:
    """``count`` patches (count, size²) cut at random positions of random grey images, each
    with its own mean removed (Zoran & Weiss's DC-free patches), float64.

    Parameters
    ----------
    images : sequence of ndarray
        Training images, (H, W) or (H, W, 3) (a colour one is averaged over
        its channels), on the [0, 1] scale; those smaller than ``size`` on a
        side are skipped.
    count : int
        How many patches to cut.
    size : int
        The patch side in pixels.
    seed : int
        Seed of the generator that picks the images and positions.
    """
    rng = np.random.default_rng(seed)
    usable = [image for image in images if min(image.shape[:2]) >= size]
    if not usable:
        raise InvalidInput(f"no training image is at least {size}x{size}")
    which = rng.integers(len(usable), size=count)
    patches = np.empty((count, size * size))
    for index in np.unique(which):
        image = usable[index]
        if image.ndim == 3:
            image = image.mean(axis=2)
        taken = np.flatnonzero(which == index)
        rows = rng.integers(image.shape[0] - size + 1, size=len(taken))
        cols = rng.integers(image.shape[1] - size + 1, size=len(taken))
        offsets = np.arange(size)
        blocks = image[rows[:, None, None] + offsets[:, None], cols[:, None, None] + offsets]
        patches[taken] = blocks.reshape(len(taken), -1)
    return patches - patches.mean(axis=1, keepdims=True)


# --------------------------------------------------------------------------- EM

@dataclass
class Parameters:
    """A mixture's parameters during EM, float64 tensors on the device EM runs on."""

    weights: torch.Tensor  # (K,)
    means: torch.Tensor  # (K, d)
    covariances: torch.Tensor  # (K, d, d)

    def to_mixture(self, size: int) -> GaussianMixture:
        return GaussianMixture.from_covariances(self.weights.cpu().numpy(),
                                                self.means.cpu().numpy(),
                                                self.covariances.cpu().numpy(), size)

    @classmethod
    def of(cls, mixture: GaussianMixture, device: torch.device) -> Parameters:
        return cls(*(torch.as_tensor(array, dtype=torch.float64, device=device)
                     for array in (mixture.weights, mixture.means, mixture.covariances)))


def _whitening(params: Parameters, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor,
                                                                torch.Tensor]:
    """What :func:`_joint` needs: every component's whitening L_k^-1 stacked as one (d, K·d)
    matrix and its shift L_k^-1 mu_k, (K, d), in ``dtype``; and log w_k - log|Sigma_k|/2 -
    d log(2 pi)/2, float64 (the Cholesky factors L_k are computed in float64)."""
    covariances, means = params.covariances, params.means
    factors = torch.linalg.cholesky(covariances)
    eye = torch.eye(means.shape[1], dtype=torch.float64, device=means.device).expand_as(factors)
    whiten = torch.linalg.solve_triangular(factors, eye, upper=False)  # L_k^-1, (K, d, d)
    k, d = means.shape
    stacked = whiten.transpose(1, 2).permute(1, 0, 2).reshape(d, k * d).to(dtype)
    shift = torch.einsum("kij,kj->ki", whiten, means).to(dtype)
    log_det = 2.0 * torch.log(torch.diagonal(factors, dim1=1, dim2=2)).sum(1)
    constant = torch.log(params.weights) - 0.5 * (log_det + d * math.log(2 * math.pi))
    return stacked, shift, constant


def _joint(x: torch.Tensor, whitening: tuple[torch.Tensor, torch.Tensor, torch.Tensor]
           ) -> torch.Tensor:
    """log(w_k N(x_n; mu_k, Sigma_k)), (n, K), float64, for a chunk of samples ``x``: the
    whitened samples for all components at once as one matrix product in the dtype of ``x``."""
    stacked, shift, constant = whitening
    k, d = shift.shape
    z = (x @ stacked).reshape(-1, k, d).sub_(shift)
    return constant - 0.5 * z.square_().sum(2).to(torch.float64)


def component_log_densities(x: torch.Tensor, weights: torch.Tensor, means: torch.Tensor,
                            covariances: torch.Tensor, *, chunk: int = 8192) -> torch.Tensor:
    """log(w_k N(x_n; mu_k, Sigma_k)) for every sample and component, (N, K), float64 on the
    device of ``x``, the whitening products in the dtype of ``x`` (float32 halves the time).

    Parameters
    ----------
    x : torch.Tensor, shape (N, d)
        The samples (flattened patches), float32 or float64.
    weights : torch.Tensor, shape (K,)
        The mixing weights.
    means : torch.Tensor, shape (K, d)
        The component means.
    covariances : torch.Tensor, shape (K, d, d)
        The components' covariances, positive definite (they are
        Cholesky-factored in float64).
    chunk : int
        How many samples go through the products at a time (bounds the memory:
        a chunk's whitened samples take chunk·K·d numbers).
    """
    params = Parameters(*(t.to(device=x.device, dtype=torch.float64)
                          for t in (weights, means, covariances)))
    whitening = _whitening(params, x.dtype)
    return torch.cat([_joint(x[start:start + chunk], whitening)
                      for start in range(0, x.shape[0], chunk)])


def em_iteration(data: torch.Tensor, params: Parameters, floor: float, *,
                 chunk: int = 8192) -> tuple[float, Parameters]:
    """One EM iteration over the rows of ``data``, in one pass of ``chunk`` rows at a time.

    Returns the mean log-likelihood per sample under ``params`` (the E-step's)
    and the parameters of the M-step, each covariance's diagonal raised by
    ``floor``. The large products (the whitening, the responsibility-weighted
    first and second moments) run in the dtype of ``data``, each chunk's sums
    are accumulated in float64, and so are the parameters.

    Parameters
    ----------
    data : torch.Tensor, shape (N, d)
        The samples (flattened DC-free patches), float32 or float64, on the
        device EM runs on.
    params : Parameters
        The current weights, means and covariances (float64, same device).
    floor : float
        Variance added to every new covariance's diagonal so that no component
        collapses ([0, 1] scale squared; :data:`COVARIANCE_FLOOR` by default
        in :func:`fit`).
    chunk : int
        How many rows go through the products at a time (bounds the memory).
    """
    n, d = data.shape
    k = params.weights.shape[0]
    device = data.device
    whitening = _whitening(params, data.dtype)
    rows, cols = torch.triu_indices(d, d, device=device)
    mass = torch.zeros(k, dtype=torch.float64, device=device)
    first = torch.zeros(k, d, dtype=torch.float64, device=device)
    second = torch.zeros(k, len(rows), dtype=torch.float64, device=device)
    total = torch.zeros((), dtype=torch.float64, device=device)
    for start in range(0, n, chunk):
        x = data[start:start + chunk]
        joint = _joint(x, whitening)
        likelihood = torch.logsumexp(joint, dim=1, keepdim=True)
        total += likelihood.sum()
        shares = torch.exp(joint - likelihood)
        mass += shares.sum(0)
        shares = shares.to(data.dtype).T
        first += (shares @ x).to(torch.float64)
        second += (shares @ (x[:, rows] * x[:, cols])).to(torch.float64)
    mass = mass.clamp_min(1e-10)
    means = first / mass[:, None]
    moments = torch.empty(k, d, d, dtype=torch.float64, device=device)
    moments[:, rows, cols] = second
    moments[:, cols, rows] = second
    covariances = (moments / mass[:, None, None] - means[:, :, None] * means[:, None, :]
                   + floor * torch.eye(d, dtype=torch.float64, device=device))
    return float(total) / n, Parameters(mass / n, means, covariances)


def seeded_parameters(data: torch.Tensor, components: int, seed: int,
                      floor: float) -> Parameters:
    """EM's cold start: ``components`` means drawn by k-means++ seeding among the samples (on
    the CPU, so that every device starts alike), every covariance the samples' own, equal
    weights.

    Parameters
    ----------
    data : torch.Tensor, shape (N, d)
        The samples, with N at least ``components``.
    components : int
        The number K of components, at least 1.
    seed : int
        Seed of the k-means++ draws.
    floor : float
        Variance added to the shared covariance's diagonal ([0, 1] scale
        squared).
    """
    n, d = data.shape
    if components < 1 or n < components:
        raise InvalidInput(f"a mixture of {components} components needs at least as many "
                           f"samples; got {n}")
    generator = torch.Generator().manual_seed(seed)
    means = _kmeans_plus_plus(data.cpu(), components, generator).to(torch.float64)
    wide = data.to(torch.float64)
    spread = torch.cov(wide.T).reshape(d, d) + floor * torch.eye(d, dtype=torch.float64,
                                                                  device=data.device)
    return Parameters(torch.full((components,), 1.0 / components, dtype=torch.float64,
                                 device=data.device),
                      means.to(data.device), spread.expand(components, d, d).clone())


def grown(mixture: GaussianMixture, components: int) -> GaussianMixture:
    """``mixture`` with ``components`` components: while it has fewer, its heaviest component
    is split in two halves along its leading eigenvector (means at ±sqrt(2λ/π) v, the means of
    the two half-Gaussians, and λ lowered to λ(1 - 2/π)), which keeps the mixture's first and
    second moments."""
    if components < mixture.components:
        raise InvalidInput(f"the starting mixture has {mixture.components} components; it can "
                           f"grow, not shrink, to {components}")
    weights, means = list(mixture.weights), list(mixture.means)
    covariances = list(mixture.covariances)
    while len(weights) < components:
        heaviest = int(np.argmax(weights))
        values, vectors = np.linalg.eigh(covariances[heaviest])
        value, vector = values[-1], vectors[:, -1]
        offset = math.sqrt(2 * value / math.pi) * vector
        narrower = covariances[heaviest] - (2 / math.pi) * value * np.outer(vector, vector)
        weights[heaviest] /= 2
        weights.append(weights[heaviest])
        means.append(means[heaviest] - offset)
        means[heaviest] = means[heaviest] + offset
        covariances[heaviest] = narrower
        covariances.append(narrower)
    return GaussianMixture.from_covariances(np.array(weights), np.array(means),
                                            np.array(covariances), mixture.size)


def fit(x: np.ndarray, components: int, *, iterations: int = 50, seed: int = 0,
        floor: float = COVARIANCE_FLOOR, tolerance: float = 1e-5, size: int | None = None,
        dtype: torch.dtype | None = None, device: str | torch.device = "cpu",
        start: GaussianMixture | None = None,
        log: Callable[[int, float], None] | None = None) -> tuple[GaussianMixture, list[float]]:
    """Fit a Gaussian mixture with full covariances to the rows of ``x`` by EM.

    Starts from ``start`` (grown to ``components`` by :func:`grown`) or, without
    one, from :func:`seeded_parameters`. Stops after ``iterations`` M-steps or
    when the mean log-likelihood per sample rises by less than ``tolerance``.
    The large products run in ``dtype`` (float64 when None) on ``device`` (see
    :func:`em_iteration`).

    Parameters
    ----------
    x : ndarray, shape (N, d)
        The samples, one flattened patch per row (DC-free patches on the
        [0, 1] scale for EPLL's prior).
    components : int
        The number K of components.
    iterations : int
        The most M-steps to run.
    seed : int
        Seed of the k-means++ cold start (unused with ``start``).
    floor : float
        Variance added to every covariance's diagonal at each M-step, so that
        no component collapses ([0, 1] scale squared).
    tolerance : float
        Stop once an iteration raises the mean log-likelihood per sample by
        less than this (nats).
    size : int, optional
        The patch side, d = size²; ``None`` takes ``round(sqrt(d))``.
    dtype : torch.dtype, optional
        The dtype of the large products (``torch.float32`` halves the time);
        ``None`` is float64. The parameters are kept in float64 either way.
    device : str or torch.device
        Where EM runs (``"cpu"``, ``"cuda"``).
    start : GaussianMixture, optional
        A mixture to start from (a warm start, or one with fewer components,
        grown by :func:`grown`); ``None`` starts from
        :func:`seeded_parameters`.
    log : callable, optional
        Called as ``log(iteration, value)`` after every E-step, with the
        0-based iteration and the mean log-likelihood per sample.

    Returns
    -------
    mixture : GaussianMixture
    history : list of float
        The mean log-likelihood per sample before each M-step.
    """
    data = torch.as_tensor(x, dtype=torch.float64 if dtype is None else dtype, device=device)
    size = size or int(round(math.sqrt(x.shape[1])))
    params = (Parameters.of(grown(start, components), data.device) if start is not None
              else seeded_parameters(data, components, seed, floor))
    history: list[float] = []
    for iteration in range(iterations):
        value, updated = em_iteration(data, params, floor)
        history.append(value)
        if log is not None:
            log(iteration, value)
        if converged(history, tolerance):
            break
        params = updated
    return params.to_mixture(size), history


def converged(history: Sequence[float], tolerance: float) -> bool:
    """Whether the last iteration raised the log-likelihood by less than ``tolerance``."""
    return len(history) > 1 and history[-1] - history[-2] < tolerance


def _kmeans_plus_plus(data: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    """``count`` rows of ``data`` chosen by k-means++ seeding (each further from those chosen
    with probability growing with its squared distance)."""
    first = int(torch.randint(len(data), (1,), generator=generator))
    chosen = [first]
    nearest = ((data - data[first]) ** 2).sum(1)
    for _ in range(count - 1):
        total = nearest.sum()
        if total <= 0:
            pick = int(torch.randint(len(data), (1,), generator=generator))
        else:
            pick = int(torch.multinomial(nearest / total, 1, generator=generator))
        chosen.append(pick)
        nearest = torch.minimum(nearest, ((data - data[pick]) ** 2).sum(1))
    return data[chosen].clone()


# --------------------------------------------------------------------------- checkpoints

#: Where ``--resume`` looks by default.
CHECKPOINT = Path("checkpoints") / "epll_gmm.ckpt.npz"


@dataclass
class Run:
    """What a checkpoint holds besides the parameters: the settings that fix the patches
    (their count, size, seed, folders and a digest of them), where EM started, the
    log-likelihood before every M-step so far, and the seconds and calls spent."""

    components: int
    patches: int
    size: int
    seed: int
    data: list[str]
    digest: str
    init: dict | None = None
    history: list[float] = field(default_factory=list)
    done: bool = False
    seconds: float = 0.0
    runs: list[dict] = field(default_factory=list)

    @property
    def iterations(self) -> int:
        """The M-steps done (a converged run's last E-step has none)."""
        return len(self.history) - int(self.done)


def patch_digest(patches: np.ndarray) -> str:
    """A short digest of the training patches, to check that a resumed run sees the same."""
    return hashlib.blake2b(np.ascontiguousarray(patches).tobytes(), digest_size=8).hexdigest()


def save_checkpoint(path: Path, params: Parameters, run: Run) -> None:
    """Write the float64 parameters and the run to ``path`` (through a temporary file, so that
    a killed run leaves the last whole one).

    Parameters
    ----------
    path : Path
        The ``.npz`` file to write (its folder is created).
    params : Parameters
        The mixture's parameters after the last M-step.
    run : Run
        The settings and history of the run, stored as JSON beside them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        np.savez(file, weights=params.weights.cpu().numpy(), means=params.means.cpu().numpy(),
                 covariances=params.covariances.cpu().numpy(),
                 run=np.array(json.dumps(asdict(run))))
    temporary.replace(path)


def load_checkpoint(path: Path, device: torch.device) -> tuple[Parameters, Run]:
    """The parameters and run saved by :func:`save_checkpoint`."""
    if not path.is_file():
        raise InvalidInput(f"there is no checkpoint {path} to resume")
    with np.load(path) as saved:
        params = Parameters(*(torch.as_tensor(saved[name], device=device)
                              for name in ("weights", "means", "covariances")))
        return params, Run(**json.loads(str(saved["run"])))


# --------------------------------------------------------------------------- the command

@dataclass(frozen=True)
class GmmConfig:
    """The settings of ``python -m denoisers.train epll``."""

    data: tuple[Path, ...]
    out: Path
    val: Path | None = None
    components: int = 48
    patches: int = 100_000
    iterations: int = 30
    size: int = 8
    seed: int = 0
    minutes: float | None = None
    checkpoint: Path = CHECKPOINT
    resume: bool = False
    init: Path | None = None
    device: str = "auto"
    tolerance: float = 1e-5

    def __post_init__(self) -> None:
        checks = {"components": (self.components, 1, 1000), "patches": (self.patches, 10, 10**7),
                  "iterations": (self.iterations, 1, 10_000), "size": (self.size, 2, 16)}
        for name, (value, low, high) in checks.items():
            if not low <= value <= high:
                raise InvalidInput(f"the '{name}' setting of the mixture must be an integer in "
                                   f"[{low}, {high}]; got {value}")
        if self.patches < self.components:
            raise InvalidInput(f"{self.components} components need at least as many patches; "
                               f"got {self.patches}")
        if self.minutes is not None and self.minutes <= 0:
            raise InvalidInput(f"the minutes must be positive; got {self.minutes}")
        if self.resume and self.init is not None:
            raise InvalidInput("--resume goes on from the checkpoint; --init starts a new run: "
                               "give one of them")
        if self.device not in ("auto", "cpu", "cuda"):
            raise InvalidInput(f"the device must be auto, cpu or cuda; got {self.device}")

    @property
    def torch_device(self) -> torch.device:
        """The device EM runs on: ``auto`` is CUDA where there is one, the CPU otherwise."""
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise InvalidInput("--device cuda was asked for but torch sees no CUDA device")
        return torch.device(self.device)


def _log(start: float, message: str) -> None:
    print(f"epll: {message} ({(time.perf_counter() - start) / 60:.1f} min)", file=sys.stderr,
          flush=True)


def _start(config: GmmConfig, patches: np.ndarray, data: torch.Tensor
           ) -> tuple[Parameters, Run]:
    """The parameters and run this call starts from: the checkpoint's (``--resume``, which must
    have the same patches), a grown ``--init`` mixture, or a k-means++ seeding."""
    digest = patch_digest(patches)
    if config.resume:
        params, run = load_checkpoint(config.checkpoint, data.device)
        settings = {"components": config.components, "patches": config.patches,
                    "size": config.size, "seed": config.seed, "digest": digest}
        differ = [f"{name} {getattr(run, name)} there, {value} here"
                  for name, value in settings.items() if getattr(run, name) != value]
        if differ:
            raise InvalidInput(f"the checkpoint {config.checkpoint} was trained with other "
                               f"settings or patches ({'; '.join(differ)})")
        return params, run
    run = Run(components=config.components, patches=config.patches, size=config.size,
              seed=config.seed, data=[str(folder) for folder in config.data], digest=digest)
    if config.init is None:
        return seeded_parameters(data, config.components, config.seed, COVARIANCE_FLOOR), run
    start = GaussianMixture.load(config.init)
    if start.size != config.size:
        raise InvalidInput(f"the starting mixture {config.init} models {start.size}x{start.size} "
                           f"patches, not {config.size}x{config.size}")
    record = GaussianMixture.record_of(config.init)
    run.init = {"file": str(config.init), "components": start.components,
                **{key: record[key] for key in ("patches", "iterations", "log_likelihood")
                   if key in record}}
    return Parameters.of(grown(start, config.components), data.device), run


def train(config: GmmConfig) -> GaussianMixture:
    """Fit the mixture of ``config`` by EM to random DC-free patches of its training folders.

    Goes on from the checkpoint (``resume``), from a mixture (``init``) or
    from a k-means++ seeding, until the run has ``iterations`` M-steps, EM
    converges, or the next iteration would overrun ``minutes``; writes the
    checkpoint after every iteration, then the mixture with a record of the
    run (and the held-out log-likelihood of ``val``'s patches) to ``out``.
    """
    start = time.perf_counter()
    device = config.torch_device
    images = [image for folder in config.data for image in load_folder(folder, colour=False)]
    patches = sample_patches(images, config.patches, size=config.size, seed=config.seed)
    data = torch.as_tensor(patches, dtype=torch.float32, device=device)
    params, run = _start(config, patches, data)
    del patches
    _log(start, f"{config.components} components, {config.patches} patches of "
                f"{config.size}x{config.size} from {len(images)} images on {device}, "
                f"{run.iterations} iterations done")
    chunk = 65_536 if device.type == "cuda" else 8192
    first, lap = run.iterations, time.perf_counter()
    slowest = 0.0
    while not run.done and run.iterations < config.iterations:
        if config.minutes is not None and (time.perf_counter() - start + slowest
                                           > 60 * config.minutes):
            _log(start, "stopping: the next iteration would overrun the minutes")
            break
        began = time.perf_counter()
        value, updated = em_iteration(data, params, COVARIANCE_FLOOR, chunk=chunk)
        run.history.append(value)
        run.done = converged(run.history, config.tolerance)
        if not run.done:
            params = updated
        now = time.perf_counter()
        run.seconds += now - lap
        lap = now
        save_checkpoint(config.checkpoint, params, run)
        _log(start, f"iteration {len(run.history) - 1} log-likelihood {value:.4f} per patch")
        slowest = max(slowest, time.perf_counter() - began)
    hardware = (torch.cuda.get_device_name(device) if device.type == "cuda"
                else f"cpu, {torch.get_num_threads()} threads")
    run.runs.append({"device": hardware, "iterations": run.iterations - first,
                     "minutes": round((time.perf_counter() - start) / 60, 2)})
    save_checkpoint(config.checkpoint, params, run)
    mixture = params.to_mixture(config.size)
    record = {"components": config.components, "patches": config.patches, "size": config.size,
              "seed": config.seed, "iterations": run.iterations,
              "log_likelihood": run.history[-1] if run.history else None,
              "converged": run.done, "seconds": round(run.seconds, 1), "data": run.data,
              "init": run.init, "runs": run.runs}
    if config.val is not None:
        held_out = sample_patches(load_folder(config.val, colour=False), 20_000,
                                  size=config.size, seed=config.seed + 1)
        record["val_log_likelihood"] = held_out_log_likelihood(mixture, held_out, device)
        _log(start, f"held-out log-likelihood {record['val_log_likelihood']:.4f} per patch "
                    f"({config.val})")
    mixture.save(config.out, record)
    _log(start, f"wrote {config.out}")
    print(json.dumps({key: record[key] for key in ("components", "patches", "iterations",
                                                   "log_likelihood", "converged")}
                     | {"val_log_likelihood": record.get("val_log_likelihood")}), flush=True)
    return mixture


def held_out_log_likelihood(mixture: GaussianMixture, patches: np.ndarray,
                            device: str | torch.device = "cpu") -> float:
    """The mean log-likelihood per patch of ``patches`` under ``mixture``.

    Parameters
    ----------
    mixture : GaussianMixture
        The fitted mixture.
    patches : ndarray, shape (N, d)
        Held-out samples (flattened DC-free patches), not used in the fit.
    device : str or torch.device
        Where the densities are computed.
    """
    data = torch.as_tensor(patches, dtype=torch.float64, device=device)
    joint = component_log_densities(data, torch.as_tensor(mixture.weights),
                                    torch.as_tensor(mixture.means),
                                    torch.as_tensor(mixture.covariances))
    return float(torch.logsumexp(joint, dim=1).mean())


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m denoisers.train epll``."""
    defaults = GmmConfig(data=(), out=WEIGHTS)
    parser = argparse.ArgumentParser(prog="python -m denoisers.train epll",
                                     description="Fit EPLL's Gaussian mixture of DC-free patches "
                                                 "by EM.")
    parser.add_argument("--data", type=Path, nargs="+", required=True,
                        help="folders of clean training images (read as grey)")
    parser.add_argument("--val", type=Path,
                        help="folder of images whose held-out patches' log-likelihood is printed")
    parser.add_argument("--out", type=Path, required=True, help="mixture file to write (.npz)")
    for name in ("components", "patches", "size", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name),
                            help=f"default {getattr(defaults, name)}")
    parser.add_argument("--iterations", type=int, default=defaults.iterations,
                        help=f"the run's M-steps in all, those of a resumed checkpoint included; "
                             f"default {defaults.iterations}")
    parser.add_argument("--minutes", type=float,
                        help="stop, writing the checkpoint and the mixture, before the next "
                             "iteration would overrun this budget (start-up included)")
    parser.add_argument("--checkpoint", type=Path, default=defaults.checkpoint,
                        help=f"written after every iteration; default {defaults.checkpoint}")
    parser.add_argument("--resume", action="store_true",
                        help="go on from the checkpoint (same data, components, patches, size "
                             "and seed)")
    parser.add_argument("--init", type=Path,
                        help="start from this mixture (e.g. the committed one), its heaviest "
                             "components split along their leading eigenvector up to "
                             "--components")
    parser.add_argument("--tolerance", type=float, default=defaults.tolerance,
                        help="stop once an iteration raises the log-likelihood per patch by "
                             "less (near convergence the covariance floor makes it fall a "
                             "little; a negative value goes on); default "
                             f"{defaults.tolerance}")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default=defaults.device,
                        help="auto: cuda where torch sees one, else cpu")
    parser.add_argument("--threads", type=int, help="CPU threads for torch")
    return parser


def main(argv: Sequence[str]) -> int:
    """Run ``python -m denoisers.train epll ARGV``; return the exit status (a refused setting or
    folder is a usage error, with the refusal's message)."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        train(GmmConfig(data=tuple(args.data), out=args.out, val=args.val,
                        components=args.components, patches=args.patches,
                        iterations=args.iterations, size=args.size, seed=args.seed,
                        minutes=args.minutes, checkpoint=args.checkpoint, resume=args.resume,
                        init=args.init, device=args.device, tolerance=args.tolerance))
    except (InvalidInput, OSError) as exc:
        parser.error(str(exc))
    return 0
