"""Tests of solutions.data: the shipped data files, the generators and the preprocessing."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

from solutions import data
from solutions.data import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    MNIST_SHA256,
    DataFileError,
    load_iris,
    load_mnist,
    make_imbalanced,
    make_moons,
    make_spirals,
    make_xor,
    one_hot,
    standardize,
    subset,
    train_test_split,
    train_val_test_split,
)

pytestmark = pytest.mark.data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def clean_env(monkeypatch):
    """Make sure the loaders read the repository's data/ folder."""
    monkeypatch.delenv(data.DATA_DIR_ENV_VAR, raising=False)


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only copy: any in-place write by the code under test raises."""
    array = np.array(array)
    array.flags.writeable = False
    return array


# ----------------------------------------------------------------------------
# MNIST
# ----------------------------------------------------------------------------


def test_committed_mnist_file_has_the_checked_hash(clean_env):
    path = data.DATA_DIR / data.MNIST_FILE
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MNIST_SHA256


def test_mnist_shapes_dtypes_and_known_facts(clean_env):
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (60000,) and y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert np.bincount(y_train, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test, minlength=10).tolist() == MNIST_TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    pixels = np.rint(x_train * 255)  # the stored uint8 values, divided by 255 in float32
    np.testing.assert_array_equal(pixels.astype(np.float32) / np.float32(255), x_train)
    assert int(pixels[0].sum()) == 27525
    assert abs(float(x_train.mean(dtype=np.float64)) - 0.1307) < 1e-3  # MNIST's known mean pixel
    images = x_train.reshape(-1, 28, 28)  # digits are centred: the frame's border is (almost) always 0
    assert images[:, 0, :].mean() < 0.01 and images[:, :, 0].mean() < 0.01


def test_mnist_returns_new_arrays_every_call(clean_env):
    (x_first, y_first), _ = load_mnist()
    x_first[0] = -1.0
    y_first[0] = 7
    (x_again, y_again), _ = load_mnist()
    assert x_again[0].min() == 0.0 and y_again[0] == 5


def test_damaged_mnist_is_refused_with_a_clear_error(tmp_path, monkeypatch):
    damaged = tmp_path / "mnist.npz"
    shutil.copyfile(data.DATA_DIR / "mnist.npz", damaged)
    content = bytearray(damaged.read_bytes())
    middle = len(content) // 2
    content[middle:middle + 16] = bytes(b ^ 0xFF for b in content[middle:middle + 16])
    damaged.write_bytes(bytes(content))
    actual = hashlib.sha256(bytes(content)).hexdigest()
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError) as error:
        load_mnist()
    message = str(error.value)
    assert str(damaged.resolve()) in message
    assert MNIST_SHA256 in message and actual in message
    assert "git checkout data/mnist.npz" in message


def test_truncated_mnist_is_refused(tmp_path, monkeypatch):
    (tmp_path / "mnist.npz").write_bytes((data.DATA_DIR / "mnist.npz").read_bytes()[:1000])
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match="sha256"):
        load_mnist()


def test_missing_files_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mnist.npz") as error:
        load_mnist()
    assert str(tmp_path.resolve()) in str(error.value)
    with pytest.raises(FileNotFoundError, match="iris.csv"):
        load_iris()


def test_data_dir_override_reads_the_other_folder(tmp_path, monkeypatch):
    shutil.copyfile(data.DATA_DIR / "iris.csv", tmp_path / "iris.csv")
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(tmp_path))
    assert data.data_dir() == tmp_path.resolve()
    X, y = load_iris()
    assert X.shape == (150, 4)
    monkeypatch.delenv(data.DATA_DIR_ENV_VAR)
    assert data.data_dir() == data.DATA_DIR


# ----------------------------------------------------------------------------
# Iris
# ----------------------------------------------------------------------------


def test_iris_shape_counts_and_means(clean_env):
    X, y = load_iris()
    assert X.shape == (150, 4) and X.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    np.testing.assert_allclose(X.mean(axis=0), [5.843, 3.057, 3.758, 1.199], atol=1e-3)
    assert IRIS_CLASSES == ("setosa", "versicolor", "virginica")
    assert IRIS_FEATURES == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    np.testing.assert_array_equal(X[0], np.array([5.1, 3.5, 1.4, 0.2], dtype=np.float32))
    assert y[0] == 0 and y[50] == 1 and y[149] == 2
    # The corrected rows 35 and 38 (1-based) of the UCI file.
    np.testing.assert_array_equal(X[34], np.array([4.9, 3.1, 1.5, 0.2], dtype=np.float32))
    np.testing.assert_array_equal(X[37], np.array([4.9, 3.6, 1.4, 0.1], dtype=np.float32))
    # Setosa is linearly separable: all its petals are shorter than 2.5 cm, the others' longer.
    assert X[y == 0, 2].max() < 2.5 < X[y != 0, 2].min()


def test_iris_file_with_unknown_species_is_refused(tmp_path, monkeypatch):
    text = (data.DATA_DIR / "iris.csv").read_text().replace("virginica", "virginia", 1)
    (tmp_path / "iris.csv").write_text(text)
    monkeypatch.setenv(data.DATA_DIR_ENV_VAR, str(tmp_path))
    with pytest.raises(DataFileError, match=r"iris\.csv, line 102: expected 4 numbers and a species.*virginia"):
        load_iris()


# ----------------------------------------------------------------------------
# Synthetic data sets
# ----------------------------------------------------------------------------

GENERATORS = {
    "xor": lambda seed: make_xor(200, noise=0.1, seed=seed),
    "moons": lambda seed: make_moons(201, noise=0.1, seed=seed),
    "spirals": lambda seed: make_spirals(301, n_classes=3, noise=0.2, seed=seed),
    "imbalanced": lambda seed: make_imbalanced(190, 10, seed=seed),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_shapes_dtypes_and_determinism(name):
    X, y = GENERATORS[name](0)
    assert X.ndim == 2 and X.shape[1] == 2 and X.dtype == np.float32
    assert y.shape == (X.shape[0],) and y.dtype == np.int64
    assert np.all(np.isfinite(X))
    X_same, y_same = GENERATORS[name](0)
    np.testing.assert_array_equal(X, X_same)
    np.testing.assert_array_equal(y, y_same)
    X_other, _ = GENERATORS[name](1)
    assert not np.array_equal(X, X_other)
    # Rows are shuffled: the labels are not sorted by class.
    assert np.any(np.diff(y) < 0)


def test_generator_class_counts():
    assert np.bincount(make_xor(200, seed=0)[1]).tolist() == [100, 100]
    assert np.bincount(make_moons(201, seed=0)[1]).tolist() == [100, 101]
    assert np.bincount(make_spirals(301, n_classes=3, seed=0)[1]).tolist() == [101, 100, 100]
    assert np.bincount(make_spirals(100, n_classes=4, seed=0)[1]).tolist() == [25] * 4
    assert np.bincount(make_imbalanced(950, 50, seed=0)[1]).tolist() == [950, 50]


def test_xor_without_noise_follows_the_xor_rule():
    X, y = make_xor(400, noise=0.0, seed=3)
    assert np.all(np.abs(X) <= 1.0)
    np.testing.assert_array_equal(y, ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64))


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = make_moons(100, noise=0.0, seed=0)
    upper, lower = X[y == 0].astype(np.float64), X[y == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6


def test_spirals_radius_spans_zero_to_one():
    X, y = make_spirals(300, n_classes=3, noise=0.0, seed=0)
    for k in range(3):
        radius = np.sort(np.hypot(X[y == k, 0], X[y == k, 1]).astype(np.float64))
        np.testing.assert_allclose(radius, np.linspace(0.0, 1.0, 100), atol=1e-6)


def test_imbalanced_minority_is_a_separate_tighter_blob():
    X, y = make_imbalanced(2000, 400, seed=0, separation=3.0, minority_std=0.5)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [0.0, 0.0], atol=0.1)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [3 / np.sqrt(2)] * 2, atol=0.1)
    np.testing.assert_allclose(X[y == 1].std(axis=0), [0.5, 0.5], atol=0.06)


# ----------------------------------------------------------------------------
# Splitting and sampling
# ----------------------------------------------------------------------------


def imbalanced_labels() -> np.ndarray:
    """1000 labels: 700 of class 0, 200 of class 1, 100 of class 2, interleaved."""
    return read_only(np.random.default_rng(0).permutation(np.repeat([0, 1, 2], [700, 200, 100])))


def test_train_test_split_partitions_the_rows_and_keeps_class_shares():
    y = imbalanced_labels()
    X = read_only(np.arange(2000, dtype=np.float32).reshape(1000, 2))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_fraction=0.2, seed=0)
    assert X_train.shape == (800, 2) and X_test.shape == (200, 2)
    assert X_train.dtype == np.float32 and y_train.dtype == y.dtype
    rows_train, rows_test = X_train[:, 0] // 2, X_test[:, 0] // 2
    assert np.intersect1d(rows_train, rows_test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([rows_train, rows_test])), np.arange(1000))
    # Labels travel with their rows.
    np.testing.assert_array_equal(y_train, y[rows_train.astype(int)])
    np.testing.assert_array_equal(y_test, y[rows_test.astype(int)])
    # Stratified: exactly 20 % of every class in the test part.
    assert np.bincount(y_test).tolist() == [140, 40, 20]
    assert np.bincount(y_train).tolist() == [560, 160, 80]


def test_stratified_split_keeps_proportions_within_one_row_when_not_divisible():
    y = read_only(np.repeat([0, 1, 2, 3], [503, 251, 167, 79]))
    X = read_only(np.zeros((1000, 3)))
    for seed in range(5):
        _, _, y_train, y_test = train_test_split(X, y, test_fraction=0.3, seed=seed)
        assert len(y_test) == 300
        expected = np.bincount(y) * 0.3
        assert np.all(np.abs(np.bincount(y_test, minlength=4) - expected) < 1.0)


def test_split_is_deterministic_by_seed_and_shuffled():
    y = imbalanced_labels()
    X = read_only(np.arange(1000))
    first = train_test_split(X, y, seed=7)
    again = train_test_split(X, y, seed=7)
    other = train_test_split(X, y, seed=8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])
    assert np.any(np.diff(first[0]) < 0)  # training rows are not in input order


def test_train_val_test_split_three_disjoint_stratified_parts():
    y = imbalanced_labels()
    X = read_only(np.arange(1000))
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
        X, y, val_fraction=0.1, test_fraction=0.2, seed=0
    )
    assert (len(X_train), len(X_val), len(X_test)) == (700, 100, 200)
    all_rows = np.sort(np.concatenate([X_train, X_val, X_test]))
    np.testing.assert_array_equal(all_rows, np.arange(1000))
    np.testing.assert_array_equal(y_val, y[X_val])
    assert np.bincount(y_test).tolist() == [140, 40, 20]
    assert np.bincount(y_val).tolist() == [70, 20, 10]
    assert np.bincount(y_train).tolist() == [490, 140, 70]


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"test_fraction": 0.0}, "test_fraction"),
        ({"test_fraction": 1.0}, "test_fraction"),
        ({"test_fraction": 0.0001}, "test_fraction"),
    ],
)
def test_split_rejects_bad_fractions(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        train_test_split(np.zeros((100, 2)), np.zeros(100, dtype=np.int64), **kwargs)


def test_split_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="same number of rows"):
        train_test_split(np.zeros((10, 2)), np.zeros(9, dtype=np.int64))
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction"):
        train_val_test_split(np.zeros((10, 2)), np.zeros(10, dtype=np.int64), 0.5, 0.5)


def test_subset_is_stratified_deterministic_and_sized(clean_env):
    X, y = load_iris()
    X_sub, y_sub = subset(read_only(X), read_only(y), 30, seed=1)
    assert X_sub.shape == (30, 4) and np.bincount(y_sub).tolist() == [10, 10, 10]
    # Each picked row is a real row of X with its own label.
    for row, label in zip(X_sub, y_sub, strict=True):
        matches = np.flatnonzero(np.all(X == row, axis=1))
        assert matches.size and label in y[matches]
    X_again, y_again = subset(X, y, 30, seed=1)
    np.testing.assert_array_equal(X_sub, X_again)
    np.testing.assert_array_equal(y_sub, y_again)
    with pytest.raises(ValueError, match="n=151"):
        subset(X, y, 151)


def test_subset_of_mnist_keeps_digit_shares(clean_env):
    (x_train, y_train), _ = load_mnist()
    x_sub, y_sub = subset(x_train, y_train, 6000, seed=0)
    assert x_sub.shape == (6000, 784) and x_sub.dtype == np.float32
    expected = np.array(MNIST_TRAIN_COUNTS) / 10
    assert np.all(np.abs(np.bincount(y_sub, minlength=10) - expected) < 1.0)


# ----------------------------------------------------------------------------
# one_hot and standardize
# ----------------------------------------------------------------------------


def test_one_hot_values():
    encoded = one_hot(np.array([2, 0, 1, 2]))
    assert encoded.dtype == np.float32 and encoded.shape == (4, 3)
    np.testing.assert_array_equal(
        encoded, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]
    )
    assert one_hot([1], num_classes=5).tolist() == [[0, 1, 0, 0, 0]]
    assert one_hot(np.array([], dtype=np.int64), num_classes=3).shape == (0, 3)


@pytest.mark.parametrize(
    "labels, num_classes",
    [([0, 1, -1, 2], None), ([0, 3, 1], 3), (np.array([0.0, 1.0]), None), (np.zeros((2, 2), dtype=np.int64), None)],
    ids=["negative", "too_large", "float", "2d"],
)
def test_one_hot_rejects_bad_labels(labels, num_classes):
    with pytest.raises(ValueError, match="integer labels in 0.."):
        one_hot(np.asarray(labels), num_classes=num_classes)


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X_train = read_only(rng.normal(5.0, 3.0, size=(200, 3)).astype(np.float32))
    X_test = read_only(rng.normal(-4.0, 0.5, size=(50, 3)).astype(np.float32))
    train_s, test_s, (mean, std) = standardize(X_train, X_test)
    assert train_s.dtype == np.float32 and test_s.dtype == np.float32
    assert mean.shape == (3,) and std.shape == (3,)
    np.testing.assert_allclose(mean, X_train.astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(std, X_train.astype(np.float64).std(axis=0), rtol=1e-6)
    np.testing.assert_allclose(train_s.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_s.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(test_s, (X_test - mean) / std, rtol=1e-6)
    # The test set is NOT centred on its own mean: its statistics were not used.
    assert np.all(test_s.mean(axis=0) < -2.0)


def test_standardize_constant_column_and_dtypes():
    X_train = read_only(np.array([[1, 7], [3, 7], [5, 7]], dtype=np.int64))
    train_s, stats = standardize(X_train)
    assert train_s.dtype == np.float32
    assert stats.std.dtype == np.float32
    np.testing.assert_allclose(stats.std, [np.std([1, 3, 5]), 1.0], rtol=1e-6)
    np.testing.assert_array_equal(train_s[:, 1], 0.0)
    _, other64, _ = standardize(np.ones((4, 2)), np.ones((1, 2)))
    assert other64.dtype == np.float64
