"""Tests for solutions.plots: the pure helpers and that every figure draws what it should."""

from __future__ import annotations

import math
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from solutions.plots import (  # noqa: E402
    confusion_matrix,
    moving_average,
    plot_activation_histograms,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_gradient_norms,
    plot_history,
    plot_loss_curves,
    plot_optimizer_paths,
    plot_search_scatter,
)
from solutions.search import LogUniform, Trial, random_search  # noqa: E402

pytestmark = pytest.mark.foundation


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def make_history(epochs: int = 4, with_val: bool = True) -> dict[str, list]:
    steps_per_epoch = 5
    return {
        "epoch": list(range(1, epochs + 1)),
        "train_loss": [1.0 / e for e in range(1, epochs + 1)],
        "train_acc": [0.5 + 0.1 * e for e in range(epochs)],
        "val_loss": [1.2 / e for e in range(1, epochs + 1)] if with_val else [],
        "val_acc": [0.45 + 0.1 * e for e in range(epochs)] if with_val else [],
        "step_loss": list(np.linspace(2.0, 0.2, epochs * steps_per_epoch)),
        "seconds": [0.1] * epochs,
    }


# --- pure helpers -----------------------------------------------------------


def test_confusion_matrix_known_values() -> None:
    y_true = np.array([0, 0, 1, 1, 1, 2], dtype=np.int64)
    y_pred = np.array([0, 1, 1, 1, 0, 2], dtype=np.int64)
    expected = np.array([[1, 1, 0], [1, 2, 0], [0, 0, 1]])
    matrix = confusion_matrix(y_true, y_pred)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == len(y_true)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y_true))  # rows = true


def test_confusion_matrix_num_classes_and_errors() -> None:
    matrix = confusion_matrix([1, 1], [1, 0], num_classes=4)
    assert matrix.shape == (4, 4)
    assert matrix[1, 1] == 1 and matrix[1, 0] == 1 and matrix.sum() == 2
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix([0, 3], [0, 0], num_classes=3)
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0])
    with pytest.raises(TypeError, match="integer"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]))


def test_moving_average_known_values() -> None:
    np.testing.assert_allclose(moving_average([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_average([1, 2, 3], 1), [1, 2, 3])
    np.testing.assert_allclose(moving_average([1, 2, 3], 10), [2.0])  # window clipped to length
    with pytest.raises(ValueError, match="window"):
        moving_average([1, 2], 0)


# --- training curves --------------------------------------------------------


def test_plot_history_train_and_val() -> None:
    history = make_history()
    fig = plot_history(history, title="run")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 2
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), history["epoch"])
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), history["val_loss"])
    assert acc_ax.get_ylabel() == "accuracy"


def test_plot_history_without_validation_and_with_steps() -> None:
    history = make_history(with_val=False)
    fig = plot_history(history, metrics=("loss",), show_steps=True)
    (ax,) = fig.axes
    assert len(ax.lines) == 2  # faint step loss + train loss, no val
    steps = ax.lines[0]
    assert len(steps.get_xdata()) == len(history["step_loss"])
    assert steps.get_xdata()[-1] == pytest.approx(history["epoch"][-1])
    with pytest.raises(KeyError, match="val_f1"):
        plot_history(history, metrics=("f1",))


def test_plot_history_into_given_axes() -> None:
    fig, axes = plt.subplots(1, 2)
    returned = plot_history(make_history(), axes=axes)
    assert returned is fig and len(fig.axes) == 2


def test_plot_loss_curves_smoothing_and_log_scale() -> None:
    rng = np.random.default_rng(0)
    curves = {
        "SGD": np.exp(-np.linspace(0, 3, 100)) + 0.05 * rng.random(100),
        "Momentum": np.exp(-np.linspace(0, 6, 80)) + 0.05 * rng.random(80),
    }
    fig = plot_loss_curves(curves, log_scale=True, smooth=10, title="optimizers")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 4  # smoothed + faint raw per curve
    smoothed = ax.lines[0]
    assert len(smoothed.get_ydata()) == 100 - 10 + 1
    assert smoothed.get_xdata()[0] == 9  # trailing window ends at step 9
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "Momentum"]

    plain = plot_loss_curves(curves)
    assert len(plain.axes[0].lines) == 2 and plain.axes[0].get_yscale() == "linear"


# --- activations and gradients ----------------------------------------------


def test_plot_activation_histograms_list_and_dict() -> None:
    rng = np.random.default_rng(0)
    layers = [1 / (1 + np.exp(-rng.normal(0, s, size=(100, 20)))) for s in (1, 3, 5, 7, 9)]
    fig = plot_activation_histograms(layers, bins=30, range=(0, 1), title="sigmoid, std=1")
    assert len(fig.axes) == 5
    assert [ax.get_title() for ax in fig.axes] == [f"Layer {i}" for i in range(1, 6)]
    for ax, acts in zip(fig.axes, layers):
        assert len(ax.patches) == 30
        assert sum(p.get_height() for p in ax.patches) == acts.size
    first, second = fig.axes[:2]
    assert first.get_shared_y_axes().joined(first, second)

    fig2 = plot_activation_histograms({"relu1": rng.random((10, 4)), "relu2": rng.random((10, 4))})
    assert [ax.get_title() for ax in fig2.axes] == ["relu1", "relu2"]


def test_plot_activation_histograms_default_range_is_shared() -> None:
    fig = plot_activation_histograms([np.array([0.0, 1.0]), np.array([2.0, 4.0, np.nan])], bins=4)
    left, right = fig.axes
    assert left.patches[0].get_x() == pytest.approx(0.0)
    assert right.patches[0].get_x() == pytest.approx(0.0)  # same bins in every panel
    assert sum(p.get_height() for p in right.patches) == 2  # NaN ignored


def test_plot_gradient_norms_line_and_bar() -> None:
    norms = {"sigmoid": [1e-1, 1e-3, 1e-5, 1e-7], "relu + He": [0.5, 0.4, 0.45, 0.5]}
    fig = plot_gradient_norms(norms, title="vanishing gradients")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3, 4])

    bars = plot_gradient_norms(norms, kind="bar", layer_names=["fc1", "fc2", "fc3", "fc4"])
    (bar_ax,) = bars.axes
    assert len(bar_ax.containers) == 2 and len(bar_ax.patches) == 8
    assert [t.get_text() for t in bar_ax.get_xticklabels()] == ["fc1", "fc2", "fc3", "fc4"]
    with pytest.raises(ValueError, match="kind"):
        plot_gradient_norms(norms, kind="pie")


# --- classifiers ------------------------------------------------------------


def test_plot_decision_boundary_calls_predict_with_float32_grid() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    seen = {}

    def predict(points: np.ndarray) -> np.ndarray:
        seen["shape"], seen["dtype"] = points.shape, points.dtype
        return (points[:, 0] > 0).astype(np.int64)

    fig = plot_decision_boundary(predict, X, y, resolution=50, padding=0.5, title="linear")
    assert seen == {"shape": (2500, 2), "dtype": np.float32}
    (ax,) = fig.axes
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 1 and len(scatters[0].get_offsets()) == 50
    assert len(ax.collections) == 2  # filled contour set + scatter
    assert ax.get_xlim()[0] == pytest.approx(X[:, 0].min() - 0.5, rel=1e-5)
    assert ax.get_title() == "linear"


def test_plot_decision_boundary_rejects_bad_predict() -> None:
    X = np.zeros((4, 2), dtype=np.float32)
    y = np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match="predict_fn"):
        plot_decision_boundary(lambda p: np.zeros((len(p), 2)), X, y, resolution=10)


def test_plot_confusion_matrix_counts_and_normalized() -> None:
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0, 2])
    fig = plot_confusion_matrix(y_true, y_pred, class_names=["a", "b", "c"])
    assert len(fig.axes) == 2  # matrix + colorbar
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), confusion_matrix(y_true, y_pred))
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "1", "2", "0", "0", "0", "1"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]

    normalized = plot_confusion_matrix(y_true, y_pred, normalize=True, colorbar=False)
    assert len(normalized.axes) == 1
    image = np.asarray(normalized.axes[0].images[0].get_array())
    np.testing.assert_allclose(image.sum(axis=1), 1.0)
    assert image[1, 1] == pytest.approx(2 / 3)


# --- optimizers -------------------------------------------------------------


def _gd_path(lr: float, steps: int = 30) -> np.ndarray:
    """Gradient descent on f(x, y) = x**2 / 20 + y**2 from (-7, 2)."""
    point = np.array([-7.0, 2.0])
    path = [point.copy()]
    for _ in range(steps):
        point = point - lr * np.array([point[0] / 10, 2 * point[1]])
        path.append(point.copy())
    return np.array(path)


def f_dlfs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 / 20 + y**2


def test_plot_optimizer_paths_grid_of_panels() -> None:
    paths = {"SGD": _gd_path(0.95), "slow": _gd_path(0.1), "tiny": _gd_path(0.01)}
    fig = plot_optimizer_paths(f_dlfs, paths, xlim=(-10, 10), ylim=(-5, 5), levels=15)
    assert len(fig.axes) == 3  # the empty 4th cell of the 2x2 grid is removed
    assert [ax.get_title() for ax in fig.axes] == ["SGD", "slow", "tiny"]
    for ax, path in zip(fig.axes, paths.values()):
        assert len(ax.lines) == 2  # path + "+" at the minimum
        np.testing.assert_allclose(ax.lines[0].get_xydata(), path)
        assert len(ax.collections) == 1  # the contour set
        assert ax.get_xlim() == (-10, 10)


def test_plot_optimizer_paths_overlay() -> None:
    paths = {"SGD": _gd_path(0.95), "slow": _gd_path(0.1)}
    fig = plot_optimizer_paths(f_dlfs, paths, (-10, 10), (-5, 5), overlay=True, minimum=None)
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "slow"]
    with pytest.raises(ValueError, match="vectorised"):
        plot_optimizer_paths(lambda x, y: 1.0, paths, (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        plot_optimizer_paths(f_dlfs, {"bad": np.zeros((5, 3))}, (-1, 1), (-1, 1))


# --- hyperparameter search --------------------------------------------------


def test_plot_search_scatter_with_nan_trials() -> None:
    def objective(lr: float, weight_decay: float) -> dict[str, float]:
        if lr > 0.3:
            return {"val_acc": math.nan}
        return {"val_acc": 1.0 - abs(math.log10(lr) + 3) / 10 - weight_decay}

    space = {"lr": LogUniform(1e-5, 1.0), "weight_decay": LogUniform(1e-8, 1e-2)}
    trials = random_search(objective, space, n_trials=40, seed=0)
    n_nan = sum(t.diverged for t in trials)
    assert 0 < n_nan < 40

    fig = plot_search_scatter(trials, x="lr", y="weight_decay", score="val_acc", log=True)
    assert len(fig.axes) == 2  # scatter + colorbar
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    finite, diverged, best = ax.collections
    assert len(finite.get_offsets()) == 40 - n_nan
    assert len(diverged.get_offsets()) == n_nan
    np.testing.assert_allclose(finite.get_array(), [t.score for t in trials if not t.diverged])
    best_lr = max((t for t in trials if not t.diverged), key=lambda t: t.score).params["lr"]
    assert best.get_offsets()[0][0] == pytest.approx(best_lr)

    with pytest.raises(KeyError, match="momentum"):
        plot_search_scatter(trials, x="momentum")
    with pytest.raises(KeyError, match="val_loss"):
        plot_search_scatter(trials, score="val_loss")


def test_plot_search_scatter_float_objective_and_linear_axes() -> None:
    trials = [
        Trial(params={"lr": 0.1, "momentum": 0.9}, score=0.8, metrics={"val_acc": 0.8}, index=0),
        Trial(params={"lr": 0.2, "momentum": 0.5}, score=0.6, metrics={"val_acc": 0.6}, index=1),
    ]
    fig = plot_search_scatter(trials, y="momentum", log=(True, False), mark_best=False)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear"
    assert len(ax.collections) == 1
