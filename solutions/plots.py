"""The figures the chapters draw.

Every function draws with matplotlib, labels its axes, and returns the Figure
(its axes are ``fig.axes``) without calling ``plt.show()``, so a notebook can
still add to it. Pass ``ax`` (or ``axes``) to draw into an existing figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from solutions.metrics import confusion_matrix


def _figure(ax: Axes) -> Figure:
    """The figure ``ax`` belongs to."""
    figure = ax.get_figure(root=True)
    assert figure is not None, "the axes belong to no figure"
    return figure


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new single-axes figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return _figure(ax), ax


def _panels(axes: Sequence[Axes] | None, count: int, ncols: int, size: tuple[float, float]) -> list[Axes]:
    """``count`` axes: the given ones, or a new grid of ``ncols`` columns (unused cells removed)."""
    if axes is not None:
        return list(np.ravel(np.asarray(axes, dtype=object)))[:count]
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    _, grid = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False, layout="constrained"
    )
    for extra in grid.ravel()[count:]:
        extra.remove()
    return list(grid.ravel()[:count])


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------


def plot_history(history: Mapping[str, Sequence[float]], title: str | None = None) -> Figure:
    """Training and validation loss and accuracy per epoch, side by side.

    Args:
        history: the dict ``solutions.train.train`` returns ("epoch", "train_loss",
            "train_acc", "val_loss", "val_acc"; the val_ lists may be empty).
    """
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for ax, metric, label in [(loss_ax, "loss", "loss"), (acc_ax, "acc", "accuracy")]:
        for split, style in [("train", "o-"), ("val", "s--")]:
            if len(history[f"{split}_{metric}"]):
                ax.plot(history["epoch"], history[f"{split}_{metric}"], style, markersize=4, label=split)
        ax.set(xlabel="epoch", ylabel=label)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing means of ``window`` values: (T,) -> (T - window + 1,); element i belongs to step i + window - 1."""
    window = max(1, min(window, len(values)))
    return np.convolve(np.asarray(values, dtype=np.float64), np.full(window, 1.0 / window), mode="valid")


def plot_loss_curves(
    curves: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    log_scale: bool = False,
    smooth: int = 1,
    show_raw: bool = True,
    xlabel: str = "step",
    ylabel: str = "loss",
    title: str | None = None,
) -> Figure:
    """Several runs' curves on one axes, e.g. SGD against momentum against Adam.

    Args:
        curves: label -> (T,) values, one line each (lengths may differ).
        smooth: a moving-average window; 1 draws the raw values. With ``show_raw``
            the raw curve is also drawn faintly behind the smoothed one.
    """
    fig, ax = _new_axes(ax, (6.0, 4.0))
    for label, values in curves.items():
        steps = np.arange(len(values))
        if smooth > 1:
            smoothed = moving_average(values, smooth)
            (line,) = ax.plot(steps[len(values) - len(smoothed) :], smoothed, label=label)
            if show_raw:
                ax.plot(steps, values, color=line.get_color(), alpha=0.25, linewidth=0.8)
        else:
            ax.plot(steps, values, label=label)
    if log_scale:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title or "")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


# ---------------------------------------------------------------------------
# Activations and gradients
# ---------------------------------------------------------------------------


def plot_activation_histograms(
    activations: Mapping[str, np.ndarray],
    bins: int = 30,
    range: tuple[float, float] | None = None,  # noqa: A002 (the name np.histogram uses)
    title: str | None = None,
    *,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """One histogram per layer, side by side with a shared y axis (DLFS ch. 6).

    Args:
        activations: panel title -> that layer's outputs (any shape).
        range: (low, high) of the bins; by default the min..max over all layers,
            so that every panel has the same bins.
        axes: one axes per layer to draw into (default: a new 1 x L figure).
    """
    values = {name: np.asarray(a, dtype=np.float64).ravel() for name, a in activations.items()}
    values = {name: flat[np.isfinite(flat)] for name, flat in values.items()}
    if range is None:
        everything = np.concatenate(list(values.values()))
        range = (float(everything.min()), float(everything.max()))  # noqa: A001
    if axes is None:
        _, grid = plt.subplots(1, len(values), figsize=(2.6 * len(values), 3.0), sharey=True, layout="constrained")
        axes = list(np.atleast_1d(grid))
    for index, (ax, (name, flat)) in enumerate(zip(axes, values.items(), strict=False)):
        ax.hist(flat, bins=bins, range=range, color="C0", edgecolor="white", linewidth=0.3)
        ax.set(title=name, xlabel="output")
        if index > 0:
            ax.tick_params(labelleft=False)
    axes[0].set_ylabel("count")
    fig = _figure(axes[0])
    if title:
        fig.suptitle(title)
    return fig


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    layer_names: Sequence[str] | None = None,
    ylabel: str = "gradient norm",
    title: str | None = None,
) -> Figure:
    """A per-layer quantity (gradient norms, spreads) for several networks, one line each, on a log scale.

    Args:
        norms: label (e.g. "sigmoid") -> (L,) values, layer 1 first.
        layer_names: tick labels for the L layers (default 1, 2, ...).
    """
    fig, ax = _new_axes(ax, (6.0, 4.0))
    for label, values in norms.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", label=label)
    num_layers = max(len(values) for values in norms.values())
    ax.set_xticks(np.arange(1, num_layers + 1), layer_names)
    ax.set(yscale="log", xlabel="layer", ylabel=ylabel, title=title or "")
    ax.grid(True, alpha=0.3, which="both", axis="y")
    ax.legend()
    return fig


# ---------------------------------------------------------------------------
# Classifiers
# ---------------------------------------------------------------------------


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    padding: float = 0.5,
    title: str | None = None,
) -> Figure:
    """Colour the plane by predicted class, with the data on top.

    Args:
        predict_fn: maps (M, 2) float32 points to (M,) integer classes, e.g. ``net.predict``.
        X: (N, 2) points. y: (N,) integer labels.
        resolution: grid points per axis (the classifier sees resolution**2 points).
        padding: margin around the data, in data units.
    """
    x_min, y_min = X.min(axis=0) - padding
    x_max, y_max = X.max(axis=0) + padding
    grid_x, grid_y = np.meshgrid(
        np.linspace(x_min, x_max, resolution, dtype=np.float32), np.linspace(y_min, y_max, resolution, dtype=np.float32)
    )
    regions = np.asarray(predict_fn(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))).reshape(grid_x.shape)
    num_classes = int(max(y.max(), regions.max())) + 1
    cmap = ListedColormap([f"C{k}" for k in range(num_classes)])  # one colour per class
    fig, ax = _new_axes(ax, (5.0, 5.0))
    ax.contourf(grid_x, grid_y, regions, levels=np.arange(num_classes + 1) - 0.5, cmap=cmap, alpha=0.3)
    ax.scatter(
        X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5, s=18, edgecolors="k", linewidths=0.4
    )
    ax.set(xlim=(x_min, x_max), ylim=(y_min, y_max), xlabel="$x_1$", ylabel="$x_2$", title=title or "")
    return fig


def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str] | None = None,
    *,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """The confusion matrix (``solutions.metrics.confusion_matrix``) as an image with its counts.

    Rows are true classes, columns predicted ones. ``class_names`` labels the ticks.
    """
    counts = confusion_matrix(y_true, y_pred, None if class_names is None else len(class_names))
    size = counts.shape[0]
    names = [str(i) for i in range(size)] if class_names is None else list(class_names)
    fig, ax = _new_axes(ax, (1.0 + 0.5 * max(size, 6),) * 2)
    image = ax.imshow(counts, cmap="Blues")
    ax.set_xticks(np.arange(size), names, rotation=0 if class_names is None else 45)
    ax.set_yticks(np.arange(size), names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title or "")
    for (i, j), count in np.ndenumerate(counts):
        color = "white" if count > counts.max() / 2 else "black"
        ax.text(j, i, str(count), ha="center", va="center", color=color, fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return fig


# ---------------------------------------------------------------------------
# Optimizers
# ---------------------------------------------------------------------------


def plot_optimizer_paths(
    f: Callable[[np.ndarray, np.ndarray], np.ndarray],
    paths: Mapping[str, np.ndarray],
    xlim: tuple[float, float] = (-10.0, 10.0),
    ylim: tuple[float, float] = (-10.0, 10.0),
    levels: int | Sequence[float] = 20,
    *,
    overlay: bool = False,
    ncols: int = 2,
    minimum: tuple[float, float] | None = (0.0, 0.0),
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """Contours of f(x, y) with each optimizer's path on top (DLFS fig. 6-8).

    Args:
        f: vectorized, ``f(X, Y)`` for (H, W) grids, e.g. ``lambda x, y: x**2 / 20 + y**2``.
        paths: name -> (T, 2) positions, start first.
        levels: the number of contour levels, or the levels themselves.
        overlay: all paths on one axes with a legend, instead of one panel each
            (``ncols`` panels per row).
        minimum: where to mark the optimum with a "+"; None for no mark.
        axes: the axes to draw into (one if overlay, else one per path).
    """
    grid_x, grid_y = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    heights = f(grid_x, grid_y)
    groups = [list(paths.items())] if overlay else [[item] for item in paths.items()]
    panels = _panels(axes, len(groups), ncols, (4.5, 3.6))
    for ax, group in zip(panels, groups, strict=True):
        ax.contour(grid_x, grid_y, heights, levels=levels, colors="0.7", linewidths=0.8)
        for name, path in group:
            path = np.asarray(path)
            ax.plot(path[:, 0], path[:, 1], "o-", markersize=3, linewidth=1, label=name)
        if minimum is not None:
            ax.plot(*minimum, "+", color="k", markersize=10)
        ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")
        if overlay:
            ax.legend()
        else:
            ax.set_title(group[0][0])
    fig = _figure(panels[0])
    if title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------------------
# Hyperparameter search
# ---------------------------------------------------------------------------


def plot_search_scatter(
    trials: Sequence[Any],
    x: str = "lr",
    y: str = "weight_decay",
    score: str = "val_acc",
    title: str | None = None,
) -> Figure:
    """Two hyperparameters of a search on log axes, each trial coloured by its score.

    Args:
        trials: ``solutions.search.Trial`` records; ``x`` and ``y`` name parameters,
            ``score`` a metric. Diverged trials (NaN) are drawn as red crosses,
            and a star marks the best trial.
    """
    xs = np.array([t.params[x] for t in trials], dtype=np.float64)
    ys = np.array([t.params[y] for t in trials], dtype=np.float64)
    scores = np.array([t.metrics.get(score, math.nan) for t in trials], dtype=np.float64)
    ok = np.isfinite(scores)
    fig, ax = _new_axes(None, (6.0, 4.5))
    points = ax.scatter(xs[ok], ys[ok], c=scores[ok], cmap="viridis", s=40, edgecolors="k", linewidths=0.4)
    fig.colorbar(points, ax=ax, label=score)
    if not ok.all():
        ax.scatter(xs[~ok], ys[~ok], marker="x", color="tab:red", s=40, label="diverged (NaN)")
    if ok.any():
        best = np.flatnonzero(ok)[np.argmax(scores[ok])]
        ax.scatter(
            xs[best],
            ys[best],
            marker="*",
            s=250,
            facecolors="none",
            edgecolors="tab:red",
            linewidths=1.5,
            label=f"best ({score} = {scores[best]:.4g})",
        )
    ax.set(xscale="log", yscale="log", xlabel=x, ylabel=y, title=title or "")
    ax.legend(loc="best", fontsize=8)
    return fig
