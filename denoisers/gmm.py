"""A Gaussian mixture of image patches, learned by EM: the prior of EPLL.

Zoran & Weiss (2011) learned what clean 8x8 patches look like as a mixture
of Gaussians with full covariances, fitted by expectation-maximisation to
patches cut at random from clean photographs, each patch's mean (its DC)
removed first so that the mixture models its texture and not its brightness.
Each component is a kind of patch (flat, an edge at some angle, a texture);
its covariance's leading eigenvectors are the shapes that kind of patch is
made of.

``python -m denoisers.train epll --data DIR --out FILE.npz`` runs
:func:`train`. Only torch and numpy are needed (with the image loader's
Pillow and scikit-image).

References
----------
D. Zoran and Y. Weiss, "From learning models of natural image patches to
whole image restoration", Proc. IEEE ICCV 2011, pp. 479-486.
https://doi.org/10.1109/ICCV.2011.6126278
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .core import InvalidInput
from .images import load_folder

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
        """The mixture of these parameters, its covariances decomposed (largest eigenvalue first)."""
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
        return self.means[chosen] + np.einsum("nij,nj->ni", self.eigenvectors[chosen], scaled), chosen

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
    with its own mean removed (Zoran & Weiss's DC-free patches), float64."""
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

def component_log_densities(x: torch.Tensor, weights: torch.Tensor, means: torch.Tensor,
                            covariances: torch.Tensor, *, chunk: int = 8192) -> torch.Tensor:
    """log(w_k N(x_n; mu_k, Sigma_k)) for every sample and component, (N, K), float64: the
    whitened samples L_k^-1 (x - mu_k), with L_k each covariance's Cholesky factor, for all
    components at once as one matrix product per chunk of ``chunk`` samples, in the dtype of
    ``x`` (float32 halves the time; the factors are computed in float64)."""
    covariances = covariances.to(torch.float64)
    means = means.to(torch.float64)
    factors = torch.linalg.cholesky(covariances)
    eye = torch.eye(x.shape[1], dtype=torch.float64).expand_as(factors)
    whiten = torch.linalg.solve_triangular(factors, eye, upper=False)  # L_k^-1, (K, d, d)
    k, d = means.shape
    stacked = whiten.transpose(1, 2).permute(1, 0, 2).reshape(d, k * d).to(x.dtype)
    shift = torch.einsum("kij,kj->ki", whiten, means).to(x.dtype)  # L_k^-1 mu_k
    log_det = 2.0 * torch.log(torch.diagonal(factors, dim1=1, dim2=2)).sum(1)
    constant = torch.log(weights.to(torch.float64)) - 0.5 * (log_det + d * math.log(2 * math.pi))
    out = torch.empty(x.shape[0], k, dtype=torch.float64)
    for start in range(0, x.shape[0], chunk):
        z = (x[start:start + chunk] @ stacked).reshape(-1, k, d).sub_(shift)
        out[start:start + chunk] = constant - 0.5 * z.square_().sum(2)
    return out


def fit(x: np.ndarray, components: int, *, iterations: int = 50, seed: int = 0,
        floor: float = COVARIANCE_FLOOR, tolerance: float = 1e-5, size: int | None = None,
        dtype: torch.dtype = torch.float64,
        log: Callable[[int, float], None] | None = None) -> tuple[GaussianMixture, list[float]]:
    """Fit a Gaussian mixture with full covariances to the rows of ``x`` by EM.

    Starts from ``components`` means drawn by k-means++ seeding among the
    samples, every covariance the samples' own and equal weights; each
    M-step adds ``floor`` to the covariances' diagonals. Stops after
    ``iterations`` or when the mean log-likelihood per sample rises by less
    than ``tolerance``. The large products (whitening every sample for
    every component, the second moments) run in ``dtype``; the parameters,
    Cholesky factors and log-likelihoods are kept in float64.

    Returns
    -------
    mixture : GaussianMixture
    history : list of float
        The mean log-likelihood per sample before each M-step.
    """
    n, d = x.shape
    if components < 1 or n < components:
        raise InvalidInput(f"a mixture of {components} components needs at least as many "
                           f"samples; got {n}")
    data = torch.as_tensor(x, dtype=dtype)
    generator = torch.Generator().manual_seed(seed)
    means = _kmeans_plus_plus(data, components, generator).to(torch.float64)
    spread = (torch.cov(data.T.to(torch.float64)).reshape(d, d)
              + floor * torch.eye(d, dtype=torch.float64))
    covariances = spread.expand(components, d, d).clone()
    weights = torch.full((components,), 1.0 / components, dtype=torch.float64)
    history: list[float] = []
    for iteration in range(iterations):
        joint = component_log_densities(data, weights, means, covariances)
        total = torch.logsumexp(joint, dim=1, keepdim=True)
        history.append(float(total.mean()))
        if log is not None:
            log(iteration, history[-1])
        if len(history) > 1 and history[-1] - history[-2] < tolerance:
            break
        weights, means, covariances = _maximise(data, torch.exp(joint - total), floor)
    mixture = GaussianMixture.from_covariances(weights.numpy(), means.numpy(), covariances.numpy(),
                                               size or int(round(math.sqrt(d))))
    return mixture, history


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


def _maximise(data: torch.Tensor, responsibilities: torch.Tensor,
              floor: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """EM's M-step: the weights, means and floored covariances that the responsibilities give."""
    n, d = data.shape
    mass = responsibilities.sum(0).clamp_min(1e-10)
    weights = mass / n
    shares = responsibilities.to(data.dtype)
    means = (shares.T @ data).to(torch.float64) / mass[:, None]
    covariances = torch.empty(len(mass), d, d, dtype=torch.float64)
    eye = torch.eye(d, dtype=torch.float64)
    for k in range(len(mass)):
        second = ((data * shares[:, k, None]).T @ data).to(torch.float64) / mass[k]
        covariances[k] = second - torch.outer(means[k], means[k]) + floor * eye
    return weights, means, covariances


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

    def __post_init__(self) -> None:
        checks = {"components": (self.components, 1, 1000), "patches": (self.patches, 10, 10**7),
                  "iterations": (self.iterations, 1, 1000), "size": (self.size, 2, 16)}
        for name, (value, low, high) in checks.items():
            if not low <= value <= high:
                raise InvalidInput(f"the '{name}' setting of the mixture must be an integer in "
                                   f"[{low}, {high}]; got {value}")
        if self.patches < self.components:
            raise InvalidInput(f"{self.components} components need at least as many patches; "
                               f"got {self.patches}")


def train(config: GmmConfig) -> GaussianMixture:
    """Fit the mixture of ``config`` to random DC-free patches of its training folders, print
    the log-likelihood per iteration (and per held-out patch of ``config.val``), and save it
    with a record of the run to ``config.out``."""
    start = time.perf_counter()
    images = [image for folder in config.data for image in load_folder(folder, colour=False)]
    patches = sample_patches(images, config.patches, size=config.size, seed=config.seed)
    print(f"epll: {config.components} components, {len(patches)} patches of "
          f"{config.size}x{config.size} from {len(images)} images", file=sys.stderr, flush=True)

    def log(iteration: int, value: float) -> None:
        print(f"epll: iteration {iteration} log-likelihood {value:.4f} per patch "
              f"{(time.perf_counter() - start) / 60:.1f} min", file=sys.stderr, flush=True)

    mixture, history = fit(patches, config.components, iterations=config.iterations,
                           seed=config.seed, size=config.size, dtype=torch.float32, log=log)
    record = {"components": config.components, "patches": config.patches,
              "size": config.size, "seed": config.seed, "iterations": len(history),
              "log_likelihood": history[-1], "seconds": round(time.perf_counter() - start, 1),
              "data": [str(folder) for folder in config.data], "threads": torch.get_num_threads()}
    if config.val is not None:
        held_out = sample_patches(load_folder(config.val, colour=False), 20_000,
                                  size=config.size, seed=config.seed + 1)
        record["val_log_likelihood"] = held_out_log_likelihood(mixture, held_out)
        print(f"epll: held-out log-likelihood {record['val_log_likelihood']:.4f} per patch "
              f"({config.val})", file=sys.stderr, flush=True)
    mixture.save(config.out, record)
    print(f"epll: wrote {config.out}", file=sys.stderr, flush=True)
    return mixture


def held_out_log_likelihood(mixture: GaussianMixture, patches: np.ndarray) -> float:
    """The mean log-likelihood per patch of ``patches`` under ``mixture``."""
    data = torch.as_tensor(patches, dtype=torch.float64)
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
    for name in ("components", "patches", "iterations", "size", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name),
                            help=f"default {getattr(defaults, name)}")
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
                        iterations=args.iterations, size=args.size, seed=args.seed))
    except (InvalidInput, OSError) as exc:
        parser.error(str(exc))
    return 0
