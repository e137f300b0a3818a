"""Data sets and preprocessing (데이터 전처리), all offline.

Real data ships in the repository's ``data/`` folder (see ``data/README.md``):
``load_iris`` (Fisher's 150 flowers) and ``load_mnist`` (70,000 handwritten digits).
Small synthetic 2-D sets draw decision boundaries: ``make_xor``, ``make_moons``,
``make_spirals`` and ``make_imbalanced`` (a rare class, for SMOTE and focal loss).
Preprocessing: ``train_test_split``, ``train_val_test_split`` and ``subset`` (all
stratified: every class keeps its share), ``one_hot`` and ``standardize``.

Conventions: features are float32, labels are int64 class ids of shape (N,);
randomness comes only from ``np.random.default_rng(seed)``; no function modifies
its inputs.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

#: The repository's ``data/`` folder (next to the ``solutions`` package).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: When set, this environment variable names the folder to read instead (the autograder sets it).
DATA_DIR_ENV_VAR = "DNN_COURSE_DATA"

IRIS_FILE = "iris.csv"
IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")

MNIST_FILE = "mnist.npz"
#: sha256 of the committed ``data/mnist.npz``; ``load_mnist`` refuses any other file.
MNIST_SHA256 = "99b6212d8b734503d7fa2e29ea6413bad62226998e56555f4a6b0b30072f1aec"
MNIST_SHAPES = {"x_train": (60000, 28, 28), "y_train": (60000,), "x_test": (10000, 28, 28), "y_test": (10000,)}


class DataFileError(ValueError):
    """A data file exists but is damaged or is not the file the course expects."""


def data_dir() -> Path:
    """The folder the loaders read: ``$DNN_COURSE_DATA`` if set, else ``DATA_DIR``."""
    override = os.environ.get(DATA_DIR_ENV_VAR)
    return Path(override).expanduser().resolve() if override else DATA_DIR


def _existing(name: str) -> Path:
    path = data_dir() / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: data file not found. It is part of the repository: restore it with "
            f"`git checkout data/{name}`, or unset {DATA_DIR_ENV_VAR} to read {DATA_DIR}."
        )
    return path


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris data from ``data/iris.csv``.

    Returns:
        X: (150, 4) float32 measurements in cm, columns as in ``IRIS_FEATURES``.
        y: (150,) int64 class ids; ``IRIS_CLASSES[y[i]]`` is the species. The
        rows are in file order: 50 setosa, 50 versicolor, 50 virginica.
    """
    path = _existing(IRIS_FILE)
    with open(path, newline="", encoding="utf-8") as file:
        header, *rows = [row for row in csv.reader(file) if row]
    if [cell.strip() for cell in header] != [*IRIS_FEATURES, "species"]:
        raise DataFileError(f"{path}: the header should be {','.join(IRIS_FEATURES)},species, got {header}")
    X = np.empty((len(rows), 4), dtype=np.float32)
    y = np.empty(len(rows), dtype=np.int64)
    for i, row in enumerate(rows):
        species = row[-1].strip()
        if len(row) != 5 or species not in IRIS_CLASSES:
            raise DataFileError(f"{path}, line {i + 2}: expected 4 numbers and a species, got {row}")
        X[i], y[i] = [float(cell) for cell in row[:4]], IRIS_CLASSES.index(species)
    return X, y


@functools.lru_cache(maxsize=1)
def _mnist_arrays(path: Path, mtime_ns: int) -> tuple[np.ndarray, ...]:
    """The four uint8 arrays of ``mnist.npz``, read and checked once per file version (read-only: shared)."""
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != MNIST_SHA256:
        raise DataFileError(
            f"{path}: the MNIST file is damaged or is not the course's copy (sha256 expected "
            f"{MNIST_SHA256}, actual {digest}). Restore it with `git checkout data/{MNIST_FILE}`."
        )
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        arrays = tuple(archive[name] for name in MNIST_SHAPES)
    for array in arrays:
        array.flags.writeable = False
    return arrays


def load_mnist() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The MNIST digits from ``data/mnist.npz`` (its sha256 is checked on the first read).

    Returns:
        ((x_train, y_train), (x_test, y_test)) with 60,000 and 10,000 images:
        x: (N, 784) float32 pixels in [0, 1] (new arrays at every call),
        y: (N,) int64 digits.
    """
    path = _existing(MNIST_FILE)
    x_train, y_train, x_test, y_test = _mnist_arrays(path, path.stat().st_mtime_ns)

    def pixels(images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)

    return (pixels(x_train), y_train.astype(np.int64)), (pixels(x_test), y_test.astype(np.int64))


# ----------------------------------------------------------------------------
# Synthetic 2-D data sets: X (N, 2) float32, y (N,) int64, rows shuffled
# ----------------------------------------------------------------------------


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def make_xor(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: class 1 where exactly one coordinate is positive.

    Points are uniform in the four quadrants of [-1, 1]^2 (an equal share each, as
    far as n_samples allows), labelled (x0 > 0) XOR (x1 > 0), then moved by
    Gaussian noise of standard deviation ``noise`` (so some cross the axes).
    """
    rng = np.random.default_rng(seed)
    quadrant = np.arange(n_samples) % 4  # (+, +), (-, +), (-, -), (+, -)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)[quadrant]
    X = signs * rng.uniform(0.0, 1.0, size=(n_samples, 2)) + rng.normal(0.0, noise, size=(n_samples, 2))
    return _shuffled(X, quadrant % 2, rng)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, as scikit-learn's ``make_moons``.

    Class 0 is the upper arc (cos t, sin t), class 1 the lower arc
    (1 - cos t, 0.5 - sin t), t in [0, pi], plus Gaussian noise of std ``noise``.
    """
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    t_upper, t_lower = np.linspace(0.0, np.pi, n_upper), np.linspace(0.0, np.pi, n_samples - n_upper)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n_samples, 2))
    return _shuffled(X, np.repeat([0, 1], [n_upper, n_samples - n_upper]), rng)


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (cs231n's "spiral" data).

    Arm k has radius r = linspace(0, 1) and angle linspace(4k, 4(k + 1)) plus
    noise * N(0, 1); its points are (r sin theta, r cos theta). The first classes
    get one point more when n_classes does not divide n_samples.
    """
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for k in range(n_classes):
        n_k = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        radius = np.linspace(0.0, 1.0, n_k)
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), n_k) + noise * rng.standard_normal(n_k)
        points.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        labels.append(np.full(n_k, k))
    return _shuffled(np.concatenate(points), np.concatenate(labels), rng)


def make_imbalanced(
    n_majority: int = 950, n_minority: int = 50, seed: int = 0, separation: float = 2.0, minority_std: float = 0.6
) -> tuple[np.ndarray, np.ndarray]:
    """Two classes where class 1 is rare: N((0, 0), I) against a tighter blob
    N(c, minority_std^2 I) at distance ``separation`` along the diagonal, overlapping its tail."""
    rng = np.random.default_rng(seed)
    majority = rng.normal(0.0, 1.0, size=(n_majority, 2))
    minority = separation / np.sqrt(2.0) + rng.normal(0.0, minority_std, size=(n_minority, 2))
    return _shuffled(np.concatenate([majority, minority]), np.repeat([0, 1], [n_majority, n_minority]), rng)


# ----------------------------------------------------------------------------
# Splitting and sampling, stratified
# ----------------------------------------------------------------------------


def _stratified_pick(y: np.ndarray, n_pick: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``n_pick`` rows and of the other rows, each in random order, every class in proportion.

    Class k gets floor(n_k * n_pick / N) picks; the picks left over go to the classes
    with the largest remainders (ties: the smaller class id).
    """
    classes, class_of_row = np.unique(y, return_inverse=True)
    sizes = np.bincount(class_of_row)
    ideal = sizes * (n_pick / len(y))
    picks = np.floor(ideal).astype(np.int64)
    picks[np.argsort(-(ideal - picks), kind="stable")[: n_pick - picks.sum()]] += 1
    chosen, rest = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(class_of_row == k))
        chosen.append(members[: picks[k]])
        rest.append(members[picks[k] :])
    return rng.permutation(np.concatenate(chosen)), rng.permutation(np.concatenate(rest))


def _count(n_rows: int, fraction: float, name: str) -> int:
    """round(n_rows * fraction), refusing a fraction that leaves a part empty."""
    count = int(np.floor(n_rows * fraction + 0.5))
    if not 0.0 < fraction < 1.0 or not 0 < count < n_rows:
        raise ValueError(f"{name}={fraction!r} of {n_rows} rows leaves an empty part; use a value in (0, 1)")
    return count


def _check_rows(X: np.ndarray, y: np.ndarray) -> None:
    if len(X) != len(y) or np.ndim(y) != 1:
        raise ValueError(
            f"X and y must have the same number of rows and y must be (N,), got {np.shape(X)} and {np.shape(y)}"
        )


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows at random into training and test parts; each class is split in the same proportion.

    Args:
        X: (N, ...) features. y: (N,) integer labels.
        test_fraction: the test part's share, in (0, 1); it gets round(N * test_fraction) rows.
    Returns:
        X_train, X_test, y_train, y_test: new arrays, rows shuffled.
    """
    _check_rows(X, y)
    test, train = _stratified_pick(y, _count(len(y), test_fraction, "test_fraction"), np.random.default_rng(seed))
    return X[train], X[test], y[train], y[test]


def train_val_test_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows into training, validation and test parts, each class in the same proportion.

    Both fractions are shares of ALL rows (0.1 and 0.2 give 70/10/20). The test part
    is drawn first, then the validation part from the rest.

    Returns:
        X_train, X_val, X_test, y_train, y_val, y_test: new arrays.
    """
    _check_rows(X, y)
    if not val_fraction + test_fraction < 1.0:
        raise ValueError(f"val_fraction + test_fraction must be below 1, got {val_fraction} + {test_fraction}")
    rng = np.random.default_rng(seed)
    test, rest = _stratified_pick(y, _count(len(y), test_fraction, "test_fraction"), rng)
    n_val = _count(len(y), val_fraction, "val_fraction")
    val, train = (rest[i] for i in _stratified_pick(y[rest], n_val, rng))
    return X[train], X[val], X[test], y[train], y[val], y[test]


def subset(X: np.ndarray, y: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A random subset of ``n`` rows in which every class keeps its share, e.g. 5,000 MNIST digits.

    Returns:
        X_sub: (n, ...), y_sub: (n,), new arrays, rows in random order.
    """
    _check_rows(X, y)
    if not 1 <= n <= len(y):
        raise ValueError(f"subset: n={n} must be between 1 and the number of rows, {len(y)}")
    chosen, _ = _stratified_pick(y, n, np.random.default_rng(seed))
    return X[chosen], y[chosen]


# ----------------------------------------------------------------------------
# Encoding and scaling
# ----------------------------------------------------------------------------


def one_hot(y: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Integer labels as one-hot rows.

    Args:
        y: (N,) integer labels in 0..C-1. num_classes: C, by default max(y) + 1.
    Returns:
        (N, C) float32; row i is 0 except for a 1 in column y[i].
    """
    y = np.asarray(y)
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or np.any((y < 0) | (y >= num_classes)):
        raise ValueError(f"one_hot: y must be (N,) integer labels in 0..{num_classes - 1}, got {y!r}")
    encoded = np.zeros((len(y), num_classes), dtype=np.float32)
    encoded[np.arange(len(y)), y] = 1.0
    return encoded


class FeatureStats(NamedTuple):
    """Per-feature statistics of a training set, as ``standardize`` returns them."""

    mean: np.ndarray  # (D,)
    std: np.ndarray  # (D,); 1 where the training std is 0


def standardize(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Zero mean and unit variance per feature, with statistics of the training set only.

    The mean and standard deviation of every column are measured on ``X_train`` and
    applied to it and to every array in ``others`` (validation, test): no
    information flows from held-out data into the preprocessing. A constant
    column is only centred.

    Usage: ``X_train_s, X_test_s, (mean, std) = standardize(X_train, X_test)``.

    Returns:
        The standardized copies in argument order (float inputs keep their dtype,
        integers become float32), then ``FeatureStats(mean, std)``.
    """
    dtype = X_train.dtype if np.issubdtype(X_train.dtype, np.floating) else np.dtype(np.float32)
    mean = X_train.mean(axis=0, dtype=np.float64)  # in float64 for accuracy, then stored as the data's dtype
    std = X_train.std(axis=0, dtype=np.float64)
    stats = FeatureStats(mean.astype(dtype), np.where(std > 0.0, std, 1.0).astype(dtype))
    scaled = []
    for X in (X_train, *others):
        out_dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float32)
        scaled.append(((X - stats.mean) / stats.std).astype(out_dtype, copy=False))
    return (*scaled, stats)
