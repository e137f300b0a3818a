"""solutions.plots: every figure draws what it should, with labelled axes."""

from __future__ import annotations

import math
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402

from solutions.metrics import confusion_matrix  # noqa: E402
from solutions.plots import (  # noqa: E402
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
from solutions.search import LogUniform, random_search  # noqa: E402

pytestmark = pytest.mark.foundation


@pytest.fixture(autouse=True)
def close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def labelled(ax) -> bool:
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def test_moving_average_known_values() -> None:
    np.testing.assert_allclose(moving_average([1, 2, 3, 4, 5], 2), [1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_average([1, 2, 3], 1), [1, 2, 3])
    np.testing.assert_allclose(moving_average([1, 2, 3], 10), [2.0])  # the window is clipped to the length


def test_plot_history_train_and_validation_panels() -> None:
    history = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3], "train_acc": [0.5, 0.7, 0.8],
               "val_loss": [1.2, 0.7, 0.6], "val_acc": [], "step_loss": [], "seconds": []}
    fig = plot_history(history, title="run")
    loss_ax, acc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(acc_ax.lines) == 1  # no validation accuracy recorded
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), history["val_loss"])
    assert acc_ax.get_ylabel() == "accuracy" and labelled(loss_ax) and fig.get_suptitle() == "run"


def test_plot_loss_curves_smoothing_and_log_scale() -> None:
    curves = {"SGD": np.exp(-np.linspace(0, 3, 100)), "Momentum": np.exp(-np.linspace(0, 6, 80))}
    (ax,) = plot_loss_curves(curves, log_scale=True, smooth=10, title="optimizers").axes
    assert ax.get_yscale() == "log" and len(ax.lines) == 4  # smoothed + faint raw, per curve
    smoothed = ax.lines[0]
    assert len(smoothed.get_ydata()) == 91 and smoothed.get_xdata()[0] == 9  # a trailing window ends at step 9
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "Momentum"]
    assert ax.get_title() == "optimizers" and labelled(ax)
    (plain,) = plot_loss_curves(curves, smooth=10, show_raw=False).axes
    assert len(plain.lines) == 2 and plain.get_yscale() == "linear"


def test_plot_activation_histograms_share_bins_and_ignore_nan() -> None:
    fig = plot_activation_histograms({"layer 1": np.array([0.0, 1.0]), "layer 2": np.array([2.0, 4.0, np.nan])},
                                     bins=4, title="outputs")
    left, right = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["layer 1", "layer 2"]
    assert left.patches[0].get_x() == pytest.approx(0.0) and right.patches[0].get_x() == pytest.approx(0.0)
    assert sum(p.get_height() for p in right.patches) == 2
    assert left.get_shared_y_axes().joined(left, right) and labelled(left)


def test_plot_activation_histograms_into_given_axes() -> None:
    fig, axes = plt.subplots(1, 3)
    layers = {f"layer {i}": np.random.default_rng(i).random(50) for i in range(3)}
    assert plot_activation_histograms(layers, bins=5, range=(0.0, 1.0), axes=axes) is fig
    assert all(sum(p.get_height() for p in ax.patches) == 50 for ax in axes)


def test_plot_gradient_norms_one_line_per_network_on_a_log_scale() -> None:
    norms = {"sigmoid": [1e-1, 1e-3, 1e-5, 1e-7], "relu + He": [0.5, 0.4, 0.45, 0.5]}
    (ax,) = plot_gradient_norms(norms, layer_names=["1", "2", "3", "out"], title="vanishing").axes
    assert ax.get_yscale() == "log" and len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [1, 2, 3, 4])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "out"] and labelled(ax)


def test_plot_decision_boundary_calls_predict_with_a_float32_grid() -> None:
    X = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    seen = {}

    def predict(points: np.ndarray) -> np.ndarray:
        seen["shape"], seen["dtype"] = points.shape, points.dtype
        return (points[:, 0] > 0).astype(np.int64)

    (ax,) = plot_decision_boundary(predict, X, y, resolution=50, padding=0.5, title="linear").axes
    assert seen == {"shape": (2500, 2), "dtype": np.float32}
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 1 and len(scatters[0].get_offsets()) == 50
    assert ax.get_xlim()[0] == pytest.approx(X[:, 0].min() - 0.5, rel=1e-5)
    assert ax.get_title() == "linear" and labelled(ax)


def test_plot_confusion_matrix_shows_the_counts() -> None:
    y_true, y_pred = np.array([0, 0, 1, 1, 1, 2]), np.array([0, 1, 1, 1, 0, 2])
    fig = plot_confusion_matrix(y_true, y_pred, class_names=["a", "b", "c"], title="three classes")
    ax = fig.axes[0]  # and the colour bar's axes
    np.testing.assert_array_equal(ax.images[0].get_array(), confusion_matrix(y_true, y_pred))
    assert [t.get_text() for t in ax.texts] == ["1", "1", "0", "1", "2", "0", "0", "0", "1"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"] and labelled(ax)


def gd_path(lr: float, steps: int = 30) -> np.ndarray:
    """Gradient descent on f(x, y) = x**2 / 20 + y**2 from (-7, 2)."""
    path = [np.array([-7.0, 2.0])]
    for _ in range(steps):
        point = path[-1]
        path.append(point - lr * np.array([point[0] / 10, 2 * point[1]]))
    return np.array(path)


def f_dlfs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return x**2 / 20 + y**2


def test_plot_optimizer_paths_one_panel_each() -> None:
    paths = {"SGD": gd_path(0.95), "slow": gd_path(0.1), "tiny": gd_path(0.01)}
    fig = plot_optimizer_paths(f_dlfs, paths, xlim=(-10, 10), ylim=(-5, 5), levels=15, title="paths")
    assert len(fig.axes) == 3  # the empty 4th cell of the 2 x 2 grid is removed
    for ax, (name, path) in zip(fig.axes, paths.items(), strict=True):
        assert ax.get_title() == name and len(ax.lines) == 2  # the path and the "+" at the minimum
        np.testing.assert_allclose(ax.lines[0].get_xydata(), path)
        assert ax.get_xlim() == (-10, 10) and labelled(ax)


def test_plot_optimizer_paths_overlay_into_given_axes() -> None:
    fig, ax = plt.subplots()
    plot_optimizer_paths(f_dlfs, {"SGD": gd_path(0.95), "slow": gd_path(0.1)}, overlay=True, minimum=None, axes=[ax])
    assert fig.axes == [ax] and len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "slow"]


def test_plot_search_scatter_marks_the_diverged_and_the_best() -> None:
    def objective(lr: float, weight_decay: float) -> dict:
        return {"val_acc": math.nan if lr > 0.3 else 1.0 - abs(math.log10(lr) + 3) / 10 - weight_decay}

    space = {"lr": LogUniform(1e-5, 1.0), "weight_decay": LogUniform(1e-8, 1e-2)}
    trials = random_search(objective, space, n_trials=40, seed=0)
    n_nan = sum(t.diverged for t in trials)
    assert 0 < n_nan < 40
    ax = plot_search_scatter(trials, title="search").axes[0]  # and the colour bar's axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    finite, diverged, best = ax.collections
    assert len(finite.get_offsets()) == 40 - n_nan and len(diverged.get_offsets()) == n_nan
    np.testing.assert_allclose(finite.get_array(), [t.score for t in trials if not t.diverged])
    best_lr = max((t for t in trials if not t.diverged), key=lambda t: t.score).params["lr"]
    assert best.get_offsets()[0][0] == pytest.approx(best_lr)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("lr", "weight_decay")
