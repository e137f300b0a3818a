"""Data sets and preprocessing, all offline.

Real data ships in the repository's ``data/`` folder (see ``data/README.md``):

* ``load_iris``  - Fisher's 150 iris flowers, 4 features, 3 classes.
* ``load_mnist`` - the 70,000 handwritten digits (60,000 train / 10,000 test).

Small synthetic 2-D sets, for pictures of decision boundaries:
``make_xor``, ``make_moons``, ``make_spirals``, ``make_two_gaussians`` and
``make_imbalanced`` (a rare class, for SMOTE and focal loss).

Preprocessing: ``train_test_split``, ``train_val_test_split`` and ``subset``
(stratified: every class keeps its share), ``one_hot`` and ``standardize``.

Conventions:
    * Features are float32, labels are integer class ids of shape (N,), dtype int64.
    * Randomness comes only from ``np.random.default_rng(seed)``: same seed, same data.
    * No function modifies its inputs; every result is a new array (the one
      exception, documented in ``load_mnist``, is the read-only uint8 cache).
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

# ----------------------------------------------------------------------------
# Where the data lives
# ----------------------------------------------------------------------------

#: The repository's ``data/`` folder (next to the ``solutions`` package).
DATA_DIR: Path = Path(__file__).resolve().parent.parent / "data"

#: Environment variable that, when set, replaces ``DATA_DIR`` (read at every call).
DATA_DIR_ENV_VAR = "DNN_COURSE_DATA"

IRIS_FILE = "iris.csv"
IRIS_FEATURES: tuple[str, ...] = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES: tuple[str, ...] = ("setosa", "versicolor", "virginica")

MNIST_FILE = "mnist.npz"
#: sha256 of the committed ``data/mnist.npz``; ``load_mnist`` refuses any other file.
MNIST_SHA256 = "99b6212d8b734503d7fa2e29ea6413bad62226998e56555f4a6b0b30072f1aec"
MNIST_NUM_CLASSES = 10
MNIST_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}


class DataFileError(ValueError):
    """A data file exists but is damaged or is not the file the course expects."""


def data_dir() -> Path:
    """The folder the loaders read: ``$DNN_COURSE_DATA`` if set, else ``DATA_DIR``."""
    override = os.environ.get(DATA_DIR_ENV_VAR)
    return Path(override).expanduser().resolve() if override else DATA_DIR


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: data file not found. It is part of the repository: restore it with "
            f"`git checkout data/{path.name}`, or unset {DATA_DIR_ENV_VAR} "
            f"(currently {os.environ.get(DATA_DIR_ENV_VAR)!r}) to use {DATA_DIR}."
        )


# ----------------------------------------------------------------------------
# Iris
# ----------------------------------------------------------------------------


def load_iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris data from ``data/iris.csv``.

    Returns:
        X: (150, 4) float32, columns in the order of ``IRIS_FEATURES`` (cm).
        y: (150,) int64 class ids; ``IRIS_CLASSES[y[i]]`` is the species name.
           The rows are in file order: 50 setosa, 50 versicolor, 50 virginica.
    """
    path = data_dir() / IRIS_FILE
    _require_file(path)
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    expected_header = [*IRIS_FEATURES, "species"]
    if not rows or [cell.strip() for cell in rows[0]] != expected_header:
        raise DataFileError(f"{path}: header should be {','.join(expected_header)}, got {rows[:1]}")
    body = [row for row in rows[1:] if row]
    if len(body) != 150:
        raise DataFileError(f"{path}: expected 150 data rows, got {len(body)}")
    features = np.empty((150, 4), dtype=np.float32)
    labels = np.empty(150, dtype=np.int64)
    for i, row in enumerate(body):
        line = i + 2  # 1-based, after the header
        if len(row) != 5:
            raise DataFileError(f"{path}, line {line}: expected 5 fields, got {len(row)}")
        species = row[4].strip()
        if species not in IRIS_CLASSES:
            raise DataFileError(f"{path}, line {line}: unknown species {species!r}")
        try:
            features[i] = [float(cell) for cell in row[:4]]
        except ValueError as error:
            raise DataFileError(f"{path}, line {line}: {error}") from None
        labels[i] = IRIS_CLASSES.index(species)
    return features, labels


# ----------------------------------------------------------------------------
# MNIST
# ----------------------------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.lru_cache(maxsize=2)
def _load_mnist_raw(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, ...]:
    """Read, verify and decode ``mnist.npz`` once per (path, modification time, size).

    Returns:
        (x_train, y_train, x_test, y_test): uint8 arrays of ``MNIST_SHAPES``,
        marked read-only because they are shared by every caller.
    """
    del mtime_ns, size  # only part of the cache key: a changed file is read again
    raw = Path(path).read_bytes()
    actual = _sha256(raw)
    if actual != MNIST_SHA256:
        raise DataFileError(
            f"{path}: MNIST file is damaged or is not the course's copy "
            f"(sha256 expected {MNIST_SHA256}, actual {actual}). "
            f"Restore it with `git checkout data/{MNIST_FILE}` "
            f"(or rebuild it as described in data/README.md)."
        )
    arrays = []
    with np.load(io.BytesIO(raw), allow_pickle=False) as archive:
        for name, shape in MNIST_SHAPES.items():
            array = archive[name]
            if array.shape != shape or array.dtype != np.uint8:
                raise DataFileError(
                    f"{path}: {name} should be uint8 {shape}, got {array.dtype} {array.shape}"
                )
            array.flags.writeable = False
            arrays.append(array)
    return tuple(arrays)


def load_mnist(
    normalize: bool = True, flatten: bool = True, one_hot: bool = False
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The MNIST digits from ``data/mnist.npz``.

    The file's sha256 is checked against ``MNIST_SHA256`` the first time it is
    read; a damaged or foreign file raises ``DataFileError``, a missing one
    ``FileNotFoundError``. The decoded arrays are cached for the life of the
    process, so later calls are fast.

    Args:
        normalize: if True, images are float32 in [0, 1] (pixel / 255), a new
            array per call. If False, images are the cached uint8 0..255
            arrays, returned READ-ONLY (call ``.copy()`` to get a writable one).
        flatten: if True images are (N, 784) rows; else (N, 28, 28).
        one_hot: if True labels are float32 (N, 10) one-hot rows; else int64 (N,).

    Returns:
        ((x_train, y_train), (x_test, y_test)) with N = 60000 and 10000:
        x: (N, 784) or (N, 28, 28), float32 or uint8 (see above);
        y: (N,) int64 or (N, 10) float32.
    """
    path = data_dir() / MNIST_FILE
    _require_file(path)
    stat = path.stat()
    x_train, y_train, x_test, y_test = _load_mnist_raw(str(path), stat.st_mtime_ns, stat.st_size)

    def images(x: np.ndarray) -> np.ndarray:
        if flatten:
            x = x.reshape(x.shape[0], -1)
        if normalize:
            x = x.astype(np.float32)
            x /= np.float32(255)
        return x

    def labels(y: np.ndarray) -> np.ndarray:
        y = y.astype(np.int64)
        return _one_hot(y, MNIST_NUM_CLASSES) if one_hot else y

    return (images(x_train), labels(y_train)), (images(x_test), labels(y_test))


# ----------------------------------------------------------------------------
# Synthetic 2-D data sets
# ----------------------------------------------------------------------------


def _check_count(value: int, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_noise(noise: float, name: str = "noise") -> float:
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _shuffled(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(X float32 (N, 2), y int64 (N,)) in a random row order."""
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def make_xor(
    n_samples: int = 200, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: class 1 where exactly one coordinate is positive.

    Points are uniform in the four quadrants of [-1, 1]^2 (as equal a share
    per quadrant as n_samples allows), labelled y = (x0 > 0) XOR (x1 > 0), then
    moved by Gaussian noise of standard deviation ``noise`` (labels are kept,
    so noise makes points cross the axes).

    Returns:
        X: (n_samples, 2) float32. y: (n_samples,) int64 in {0, 1}, shuffled rows.
    """
    n_samples = _check_count(n_samples, "n_samples")
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    quadrant = np.arange(n_samples) % 4  # 0:(+,+) 1:(-,+) 2:(-,-) 3:(+,-)
    signs = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)[quadrant]
    X = signs * rng.uniform(0.0, 1.0, size=(n_samples, 2))
    y = (quadrant % 2).astype(np.int64)  # quadrants 1 and 3 have one positive coordinate
    X += rng.normal(0.0, noise, size=X.shape)
    return _shuffled(X, y, rng)


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (as scikit-learn's make_moons).

    Class 0 is the upper arc (cos t, sin t), class 1 the lower arc
    (1 - cos t, 0.5 - sin t), t in [0, pi]; Gaussian noise of std ``noise``.

    Returns:
        X: (n_samples, 2) float32. y: (n_samples,) int64 in {0, 1}, shuffled rows.
    """
    n_samples = _check_count(n_samples, "n_samples", minimum=2)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower]) + rng.normal(0.0, noise, size=(n_samples, 2))
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    return _shuffled(X, y, rng)


def make_spirals(
    n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the cs231n "spiral" data).

    Arm k has radius r = linspace(0, 1) and angle
    theta = linspace(4k, 4(k + 1)) + noise * N(0, 1); the point is
    (r sin theta, r cos theta). ``n_samples`` is the total: classes get
    n_samples // n_classes points each, the first classes one more if needed.

    Returns:
        X: (n_samples, 2) float32 in about [-1, 1]^2.
        y: (n_samples,) int64 in 0..n_classes-1, shuffled rows.
    """
    n_classes = _check_count(n_classes, "n_classes", minimum=2)
    n_samples = _check_count(n_samples, "n_samples", minimum=n_classes)
    noise = _check_noise(noise)
    rng = np.random.default_rng(seed)
    points, labels = [], []
    for k in range(n_classes):
        n_k = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        radius = np.linspace(0.0, 1.0, n_k)
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), n_k) + noise * rng.standard_normal(n_k)
        points.append(np.column_stack([radius * np.sin(theta), radius * np.cos(theta)]))
        labels.append(np.full(n_k, k, dtype=np.int64))
    return _shuffled(np.concatenate(points), np.concatenate(labels), rng)


def make_two_gaussians(
    n_samples: int = 200, distance: float = 2.0, std: float = 1.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two round Gaussian blobs centred at (-distance/2, 0) and (+distance/2, 0).

    Class 0 is the left blob; the classes get n_samples // 2 and the rest.
    With distance comparable to std they overlap, so no boundary is perfect.

    Returns:
        X: (n_samples, 2) float32. y: (n_samples,) int64 in {0, 1}, shuffled rows.
    """
    n_samples = _check_count(n_samples, "n_samples", minimum=2)
    std = _check_noise(std, "std")
    if not np.isfinite(distance):
        raise ValueError(f"distance must be finite, got {distance!r}")
    rng = np.random.default_rng(seed)
    n_left = n_samples // 2
    y = np.concatenate([np.zeros(n_left, np.int64), np.ones(n_samples - n_left, np.int64)])
    centres = np.column_stack([np.where(y == 0, -distance / 2, distance / 2), np.zeros(n_samples)])
    X = centres + rng.normal(0.0, std, size=(n_samples, 2))
    return _shuffled(X, y, rng)


def make_imbalanced(
    n_majority: int = 950,
    n_minority: int = 50,
    seed: int = 0,
    separation: float = 2.0,
    minority_std: float = 0.6,
) -> tuple[np.ndarray, np.ndarray]:
    """A two-class set where class 1 is rare (for SMOTE and focal-loss demos).

    Class 0 (majority): N((0, 0), I). Class 1 (minority): a tighter blob
    N((separation, separation) / sqrt(2), minority_std^2 I), i.e. at distance
    ``separation`` from the majority's centre, overlapping its tail.

    Returns:
        X: (n_majority + n_minority, 2) float32.
        y: (n_majority + n_minority,) int64, 1 for the minority, shuffled rows.
    """
    n_majority = _check_count(n_majority, "n_majority")
    n_minority = _check_count(n_minority, "n_minority")
    minority_std = _check_noise(minority_std, "minority_std")
    if not np.isfinite(separation):
        raise ValueError(f"separation must be finite, got {separation!r}")
    rng = np.random.default_rng(seed)
    majority = rng.normal(0.0, 1.0, size=(n_majority, 2))
    centre = np.full(2, separation / np.sqrt(2.0))
    minority = centre + rng.normal(0.0, minority_std, size=(n_minority, 2))
    X = np.concatenate([majority, minority])
    y = np.concatenate([np.zeros(n_majority, np.int64), np.ones(n_minority, np.int64)])
    return _shuffled(X, y, rng)


# ----------------------------------------------------------------------------
# Splitting and sampling
# ----------------------------------------------------------------------------


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of class labels (N,), got shape {y.shape}")
    if X.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X and y must have the same number of rows, got X {X.shape} and y {y.shape}"
        )
    if len(y) == 0:
        raise ValueError("X and y are empty")
    return X, y


def _proportional_counts(class_counts: np.ndarray, total: int) -> np.ndarray:
    """Split ``total`` picks over classes in proportion to their sizes.

    Largest-remainder rounding: each class gets floor(count * total / N), and
    the picks left over go to the classes with the largest fractional parts
    (ties: the smaller class id). The result sums to exactly ``total`` and never
    exceeds a class's count.
    """
    ideal = class_counts * (total / class_counts.sum())
    counts = np.floor(ideal).astype(np.int64)
    leftover = total - int(counts.sum())
    order = np.argsort(-(ideal - counts), kind="stable")
    counts[order[:leftover]] += 1
    return counts


def _pick(
    y: np.ndarray, n_pick: int, rng: np.random.Generator, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``n_pick`` rows and of the other rows, each in random order.

    If ``stratify``, every class contributes in proportion to its size
    (see ``_proportional_counts``); otherwise the rows are drawn uniformly.
    """
    if not stratify:
        order = rng.permutation(len(y))
        return order[:n_pick], order[n_pick:]
    classes, class_of_row = np.unique(y, return_inverse=True)
    counts = np.bincount(class_of_row, minlength=len(classes))
    picks = _proportional_counts(counts, n_pick)
    chosen, rest = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(class_of_row == k))
        chosen.append(members[: picks[k]])
        rest.append(members[picks[k]:])
    return rng.permutation(np.concatenate(chosen)), rng.permutation(np.concatenate(rest))


def _count_for_fraction(n_rows: int, fraction: float, name: str) -> int:
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {fraction!r}")
    count = int(np.floor(n_rows * fraction + 0.5))
    if not 0 < count < n_rows:
        raise ValueError(
            f"{name}={fraction} of {n_rows} rows leaves an empty part ({count} vs {n_rows - count})"
        )
    return count


def train_test_split(
    X: np.ndarray,
    y: np.ndarray,
    test_fraction: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows at random into a training part and a test part.

    The test part has round(N * test_fraction) rows. With ``stratify`` each
    class is split in the same proportion (up to rounding by one row), so a
    rare class is not lost from either part. Rows come out shuffled.

    Args:
        X: (N, ...) features. y: (N,) integer class labels.
        test_fraction: share of rows for the test part, in (0, 1).
        seed: seed of the random split.
        stratify: keep each class's share in both parts.

    Returns:
        X_train, X_test, y_train, y_test (new arrays, same dtypes as the inputs).
    """
    X, y = _check_xy(X, y)
    n_test = _count_for_fraction(len(y), test_fraction, "test_fraction")
    rng = np.random.default_rng(seed)
    test_idx, train_idx = _pick(y, n_test, rng, stratify)
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


def train_val_test_split(
    X: np.ndarray,
    y: np.ndarray,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    seed: int = 0,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows into training, validation and test parts.

    Both fractions are shares of ALL rows (e.g. 0.1 and 0.2 give 70/10/20).
    The test part is drawn first, then the validation part from the rest.

    Args:
        X: (N, ...) features. y: (N,) integer class labels.
        val_fraction, test_fraction: in (0, 1), with a sum below 1.
        seed: seed of the random split.
        stratify: keep each class's share in all three parts.

    Returns:
        X_train, X_val, X_test, y_train, y_val, y_test (new arrays).
    """
    X, y = _check_xy(X, y)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be strictly between 0 and 1, got {val_fraction!r}")
    if not val_fraction + test_fraction < 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be below 1, got {val_fraction} + {test_fraction}"
        )
    n_test = _count_for_fraction(len(y), test_fraction, "test_fraction")
    n_val = _count_for_fraction(len(y), val_fraction, "val_fraction")
    if n_val >= len(y) - n_test:
        raise ValueError(f"val_fraction={val_fraction} leaves no training rows out of {len(y)}")
    rng = np.random.default_rng(seed)
    test_idx, rest_idx = _pick(y, n_test, rng, stratify)
    val_pos, train_pos = _pick(y[rest_idx], n_val, rng, stratify)
    val_idx, train_idx = rest_idx[val_pos], rest_idx[train_pos]
    return X[train_idx], X[val_idx], X[test_idx], y[train_idx], y[val_idx], y[test_idx]


def subset(
    X: np.ndarray, y: np.ndarray, n: int, seed: int = 0, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A random subset of ``n`` rows, e.g. 5000 MNIST digits for a quick run.

    With ``stratify`` every class keeps its share of the rows (up to rounding).

    Args:
        X: (N, ...) features. y: (N,) integer class labels. n: 1 <= n <= N.

    Returns:
        X_sub: (n, ...), y_sub: (n,) new arrays, rows in random order.
    """
    X, y = _check_xy(X, y)
    n = _check_count(n, "n")
    if n > len(y):
        raise ValueError(f"n={n} is larger than the number of rows ({len(y)})")
    chosen, _ = _pick(y, n, np.random.default_rng(seed), stratify)
    return X[chosen], y[chosen]


# ----------------------------------------------------------------------------
# Encoding and scaling
# ----------------------------------------------------------------------------


def _one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """(N,) valid int labels -> (N, num_classes) float32 one-hot rows."""
    encoded = np.zeros((y.shape[0], num_classes), dtype=np.float32)
    encoded[np.arange(y.shape[0]), y] = 1.0
    return encoded


def one_hot(y: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    Args:
        y: (N,) integer labels in 0..num_classes-1.
        num_classes: C; defaults to max(y) + 1.

    Returns:
        (N, C) float32, row i is all zeros except a 1 in column y[i].

    Raises:
        ValueError / TypeError naming the first bad label and its position.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels (N,), got shape {y.shape}")
    if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if num_classes is None:
        if len(y) == 0:
            raise ValueError("num_classes must be given when y is empty")
        num_classes = int(y.max()) + 1
    num_classes = _check_count(num_classes, "num_classes")
    bad = np.flatnonzero((y < 0) | (y >= num_classes))
    if len(bad):
        i = int(bad[0])
        raise ValueError(
            f"y[{i}] = {int(y[i])} is not a valid label: labels must be in 0..{num_classes - 1} "
            f"(num_classes={num_classes}); {len(bad)} invalid label(s) in total"
        )
    return _one_hot(y.astype(np.intp), num_classes)


class FeatureStats(NamedTuple):
    """Per-feature statistics of a training set, as used by ``standardize``."""

    mean: np.ndarray  # (D,) (or X.shape[1:]), dtype of the standardized data
    std: np.ndarray  # same shape; 1 where the training std is 0


def standardize(X_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardize features to zero mean and unit variance, using training statistics only.

    The mean and standard deviation of every feature (column) are measured on
    ``X_train`` alone and applied to it and to every array in ``others``
    (validation, test, ...): no information flows from held-out data into
    the preprocessing. A constant feature (std 0) is only centred (std 1).

    Usage::

        X_train_s, X_test_s, stats = standardize(X_train, X_test)
        X_train_s, X_val_s, X_test_s, (mean, std) = standardize(X_train, X_val, X_test)

    Args:
        X_train: (N, D) features (any (N, ...) shape works: statistics are per
            position over axis 0).
        *others: arrays of shape (M, D) to transform with the same statistics.

    Returns:
        The standardized copies, in argument order, then a ``FeatureStats``
        (mean, std) of shape (D,). Floating inputs keep their dtype; integer
        inputs become float32. Inputs are never modified.
    """
    X_train = np.asarray(X_train)
    if X_train.ndim < 1 or X_train.shape[0] == 0:
        raise ValueError(f"X_train must have at least one row, got shape {X_train.shape}")
    dtype = X_train.dtype if np.issubdtype(X_train.dtype, np.floating) else np.dtype(np.float32)
    # Statistics in float64 for accuracy, then stored in the data's dtype.
    mean64 = X_train.mean(axis=0, dtype=np.float64)
    std64 = X_train.std(axis=0, dtype=np.float64)
    std64 = np.where(std64 > 0.0, std64, 1.0)
    stats = FeatureStats(mean=mean64.astype(dtype), std=std64.astype(dtype))

    results = []
    for position, X in enumerate((X_train, *others)):
        X = np.asarray(X)
        if X.shape[1:] != X_train.shape[1:]:
            name = "X_train" if position == 0 else f"others[{position - 1}]"
            raise ValueError(
                f"{name} has feature shape {X.shape[1:]}, X_train has {X_train.shape[1:]}"
            )
        out_dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.dtype(np.float32)
        results.append(((X - stats.mean) / stats.std).astype(out_dtype, copy=False))
    return (*results, stats)
