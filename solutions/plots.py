"""Figure helpers shared by the chapters.

Every ``plot_*`` function draws with matplotlib, **returns the Figure** (its
axes are ``fig.axes``) so a notebook can tweak titles or limits, and never
calls ``plt.show()``. Single-panel functions accept an ``ax`` to draw into;
multi-panel ones accept ``axes``. Without one, a new figure is created.

Also here: ``confusion_matrix`` and ``moving_average``, two small pure helpers.
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

__all__ = [
    "moving_average",
    "confusion_matrix",
    "plot_history",
    "plot_loss_curves",
    "plot_activation_histograms",
    "plot_decision_boundary",
    "plot_optimizer_paths",
    "plot_search_scatter",
    "plot_confusion_matrix",
    "plot_gradient_norms",
]


# ---------------------------------------------------------------------------
# Pure helpers
# ---------------------------------------------------------------------------


def moving_average(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average.

    Args:
        values: (T,) numbers.
        window: averaging window, ``1 <= window``; clipped to ``T``.

    Returns:
        (T - window + 1,) float64 array; element ``i`` is the mean of
        ``values[i : i + window]`` (so it belongs at step ``i + window - 1``).
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"plots.moving_average: window must be an int >= 1, got {window!r}")
    window = min(int(window), max(len(data), 1))
    if len(data) == 0:
        return data
    kernel = np.full(window, 1.0 / window)
    return np.convolve(data, kernel, mode="valid")


def confusion_matrix(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int],
    num_classes: int | None = None,
) -> np.ndarray:
    """Count how often each true class is predicted as each class.

    Args:
        y_true: (N,) integer class ids.
        y_pred: (N,) integer class ids.
        num_classes: C; defaults to ``max(y_true.max(), y_pred.max()) + 1``.

    Returns:
        (C, C) int64 matrix ``M`` with ``M[i, j]`` = number of samples whose true
        class is ``i`` and predicted class is ``j`` (rows = true, cols = predicted).
    """
    true = np.asarray(y_true)
    pred = np.asarray(y_pred)
    if true.ndim != 1 or pred.ndim != 1 or true.shape != pred.shape:
        raise ValueError(
            "plots.confusion_matrix: y_true and y_pred must be 1-D of the same length, "
            f"got shapes {true.shape} and {pred.shape}"
        )
    for name, labels in (("y_true", true), ("y_pred", pred)):
        if labels.size and labels.dtype.kind not in "iub":
            raise TypeError(
                f"plots.confusion_matrix: {name} must hold integer class ids, got dtype {labels.dtype}"
            )
        if labels.size and labels.min() < 0:
            raise ValueError(f"plots.confusion_matrix: {name} has negative class ids")
    true = true.astype(np.int64)
    pred = pred.astype(np.int64)
    largest = int(max(true.max(initial=-1), pred.max(initial=-1)))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(
            f"plots.confusion_matrix: found class id {largest} but num_classes={num_classes}"
        )
    counts = np.bincount(true * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


# ---------------------------------------------------------------------------
# Small internal utilities
# ---------------------------------------------------------------------------


def _figure_and_ax(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """Use ``ax`` if given, else make a new single-axes figure."""
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _figure_and_axes(
    axes: Sequence[Axes] | np.ndarray | None,
    count: int,
    ncols: int,
    panel_size: tuple[float, float],
    where: str,
    **subplot_kw: Any,
) -> tuple[Figure, list[Axes]]:
    """Use ``axes`` if given (must hold ``count`` axes), else make a grid of ``count`` panels.

    Grid cells beyond ``count`` are removed so ``len(fig.axes) == count``.
    """
    if axes is not None:
        given = list(np.ravel(np.asarray(axes, dtype=object)))
        if len(given) < count:
            raise ValueError(f"plots.{where}: need {count} axes, got {len(given)}")
        return given[0].figure, given[:count]
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    fig, grid = plt.subplots(
        nrows,
        ncols,
        figsize=(panel_size[0] * ncols, panel_size[1] * nrows),
        squeeze=False,
        layout="constrained",
        **subplot_kw,
    )
    flat = list(grid.ravel())
    for extra in flat[count:]:
        extra.remove()
    return fig, flat[:count]


def _named_items(data: Mapping[str, Any] | Sequence[Any], prefix: str) -> list[tuple[str, Any]]:
    """(name, value) pairs from a dict, or from a list named ``f"{prefix} {i}"`` (1-based)."""
    if isinstance(data, Mapping):
        return [(str(name), value) for name, value in data.items()]
    return [(f"{prefix} {i}", value) for i, value in enumerate(data, start=1)]


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------

_METRIC_LABELS = {"loss": "loss", "acc": "accuracy"}


def plot_history(
    history: Mapping[str, Sequence[float]],
    metrics: Sequence[str] = ("loss", "acc"),
    title: str | None = None,
    *,
    show_steps: bool = False,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Plot train vs validation curves per epoch, one panel per metric.

    Args:
        history: the dict returned by ``solutions.train.train`` with keys
            ``"epoch"``, ``"train_<m>"`` and ``"val_<m>"`` (val lists may be
            empty) and ``"step_loss"``.
        metrics: metric names ``m``, e.g. ``("loss", "acc")``.
        title: figure title.
        show_steps: also draw the per-step loss faintly on the loss panel.
        axes: ``len(metrics)`` axes to draw into (default: a new 1 x M figure).

    Returns:
        The figure (one axes per metric; one line per non-empty train/val list).
    """
    if isinstance(metrics, str):
        metrics = (metrics,)
    if "epoch" not in history:
        raise KeyError("plots.plot_history: history has no 'epoch' key (see CONVENTIONS.md)")
    epochs = np.asarray(history["epoch"])
    fig, panels = _figure_and_axes(axes, len(metrics), len(metrics), (5.0, 3.6), "plot_history")
    for ax, metric in zip(panels, metrics):
        drawn = 0
        if show_steps and metric == "loss" and len(history.get("step_loss", [])) and len(epochs):
            steps = np.asarray(history["step_loss"], dtype=np.float64)
            # step k of n ends at epoch (k + 1) / n * last_epoch
            positions = np.arange(1, len(steps) + 1) / len(steps) * epochs[-1]
            ax.plot(positions, steps, color="0.6", alpha=0.4, linewidth=0.8, label="train (step)")
        for split, style in (("train", "o-"), ("val", "s--")):
            key = f"{split}_{metric}"
            values = history.get(key, [])
            if len(values) == 0:
                continue
            if len(values) != len(epochs):
                raise ValueError(
                    f"plots.plot_history: history[{key!r}] has {len(values)} values "
                    f"but history['epoch'] has {len(epochs)}"
                )
            ax.plot(epochs, values, style, markersize=4, label=split)
            drawn += 1
        if drawn == 0:
            raise KeyError(
                f"plots.plot_history: history has no non-empty 'train_{metric}' or 'val_{metric}'"
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(_METRIC_LABELS.get(metric, metric))
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


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
    """Compare several runs' curves on one axes (e.g. SGD vs momentum vs Adam).

    Args:
        curves: label -> (T,) values (lengths may differ).
        ax: axes to draw into (default: a new figure).
        log_scale: log-scale y axis.
        smooth: moving-average window; ``1`` = no smoothing.
        show_raw: when smoothing, also draw the raw curve faintly (same colour).
        xlabel: x-axis label.
        ylabel: y-axis label.
        title: axes title.

    Returns:
        The figure. One labelled line per curve (plus one faint unlabelled raw
        line per curve when ``smooth > 1 and show_raw``).
    """
    if not curves:
        raise ValueError("plots.plot_loss_curves: curves must be a non-empty dict label -> values")
    fig, ax = _figure_and_ax(ax, (6.0, 4.0))
    for label, values in curves.items():
        data = np.asarray(values, dtype=np.float64).ravel()
        steps = np.arange(len(data))
        if smooth > 1 and len(data):
            smoothed = moving_average(data, smooth)
            window = len(data) - len(smoothed) + 1
            (line,) = ax.plot(steps[window - 1 :], smoothed, label=str(label))
            if show_raw:
                ax.plot(steps, data, color=line.get_color(), alpha=0.25, linewidth=0.8)
        else:
            ax.plot(steps, data, label=str(label))
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------
# Activations and gradients
# ---------------------------------------------------------------------------


def plot_activation_histograms(
    activations: Sequence[np.ndarray] | Mapping[str, np.ndarray],
    bins: int = 30,
    range: tuple[float, float] | None = None,  # noqa: A002 - mirrors np.histogram
    title: str | None = None,
    *,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """One histogram of activation values per layer, side by side, shared y (DLFS ch. 6).

    Args:
        activations: per layer an array of any shape (e.g. (N, H)), as a list
            (panels titled "Layer 1", ...) or a dict name -> array.
        bins: number of histogram bins.
        range: (low, high) of the bins; default: the min..max over *all*
            layers, so the panels are comparable.
        title: figure title.
        axes: one axes per layer to draw into (default: a new 1 x L figure).

    Returns:
        The figure, with one axes per layer. Non-finite values are ignored.
    """
    items = _named_items(activations, "Layer")
    if not items:
        raise ValueError("plots.plot_activation_histograms: need at least one layer of activations")
    flats = []
    for name, values in items:
        flat = np.asarray(values, dtype=np.float64).ravel()
        flats.append(flat[np.isfinite(flat)])
    if range is None:
        nonempty = [flat for flat in flats if flat.size]
        if nonempty:
            low = min(float(flat.min()) for flat in nonempty)
            high = max(float(flat.max()) for flat in nonempty)
            range = (low, high) if high > low else (low - 0.5, high + 0.5)
    fig, panels = _figure_and_axes(
        axes, len(items), len(items), (2.6, 3.0), "plot_activation_histograms", sharey=True
    )
    for index, (ax, (name, _), flat) in enumerate(zip(panels, items, flats)):
        ax.hist(flat, bins=bins, range=range, color="C0", edgecolor="white", linewidth=0.3)
        ax.set_title(name)
        if index > 0:
            ax.tick_params(labelleft=False)
    panels[0].set_ylabel("count")
    if title:
        fig.suptitle(title)
    return fig


def plot_gradient_norms(
    norms: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    *,
    kind: str = "line",
    log_scale: bool = True,
    layer_names: Sequence[str] | None = None,
    ylabel: str = "gradient norm",
    title: str | None = None,
) -> Figure:
    """Per-layer gradient norms for several networks (the vanishing-gradient figure).

    Args:
        norms: label (e.g. "sigmoid", "relu + He") -> (L,) norms, layer 1 first.
        ax: axes to draw into (default: a new figure).
        kind: ``"line"`` (one line per label) or ``"bar"`` (grouped bars).
        log_scale: log-scale y axis (vanishing gradients span many decades).
        layer_names: tick labels for the layers (default "1", "2", ...).
        ylabel: y-axis label.
        title: axes title.

    Returns:
        The figure. ``kind="line"``: one line per label; ``kind="bar"``: one bar
        container per label.
    """
    if not norms:
        raise ValueError("plots.plot_gradient_norms: norms must be a non-empty dict label -> values")
    if kind not in ("line", "bar"):
        raise ValueError(f"plots.plot_gradient_norms: kind must be 'line' or 'bar', got {kind!r}")
    fig, ax = _figure_and_ax(ax, (6.0, 4.0))
    num_layers = max(len(values) for values in norms.values())
    width = 0.8 / len(norms)
    for position, (label, values) in enumerate(norms.items()):
        data = np.asarray(values, dtype=np.float64).ravel()
        layers = np.arange(1, len(data) + 1)
        if kind == "line":
            ax.plot(layers, data, "o-", label=str(label))
        else:
            offset = (position - (len(norms) - 1) / 2) * width
            ax.bar(layers + offset, data, width=width, label=str(label))
    ax.set_xticks(np.arange(1, num_layers + 1))
    if layer_names is not None:
        if len(layer_names) != num_layers:
            raise ValueError(
                f"plots.plot_gradient_norms: got {len(layer_names)} layer_names for {num_layers} layers"
            )
        ax.set_xticklabels(layer_names)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, which="both", axis="y")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------
# Classifiers
# ---------------------------------------------------------------------------


def _class_colormap(num_classes: int) -> ListedColormap:
    """A discrete colormap with one colour per class."""
    base = plt.get_cmap("tab10" if num_classes <= 10 else "tab20")
    return ListedColormap([base(i % base.N) for i in np.arange(num_classes)])


def plot_decision_boundary(
    predict_fn: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    ax: Axes | None = None,
    resolution: int = 200,
    padding: float = 0.5,
    title: str | None = None,
) -> Figure:
    """Colour the plane by predicted class and scatter the data on top.

    Args:
        predict_fn: maps (M, 2) float32 points to (M,) integer labels.
        X: (N, 2) data points.
        y: (N,) integer labels.
        ax: axes to draw into (default: a new figure).
        resolution: grid points per axis (the classifier sees resolution**2 points).
        padding: margin around the data, in data units.
        title: axes title.

    Returns:
        The figure (one filled contour set + one scatter collection).
    """
    points = np.asarray(X)
    labels = np.asarray(y)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"plots.plot_decision_boundary: X must have shape (N, 2), got {points.shape}")
    if labels.shape != (points.shape[0],):
        raise ValueError(
            f"plots.plot_decision_boundary: y must have shape ({points.shape[0]},), got {labels.shape}"
        )
    x_min, y_min = points.min(axis=0) - padding
    x_max, y_max = points.max(axis=0) + padding
    xs = np.linspace(x_min, x_max, resolution, dtype=np.float32)
    ys = np.linspace(y_min, y_max, resolution, dtype=np.float32)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.stack([grid_x.ravel(), grid_y.ravel()], axis=1).astype(np.float32)
    predicted = np.asarray(predict_fn(grid))
    if predicted.shape != (grid.shape[0],):
        raise ValueError(
            "plots.plot_decision_boundary: predict_fn must return (M,) labels for (M, 2) input, "
            f"got shape {predicted.shape} for M={grid.shape[0]}"
        )
    regions = predicted.reshape(grid_x.shape)
    num_classes = int(max(labels.max(initial=0), regions.max(initial=0))) + 1
    cmap = _class_colormap(num_classes)
    levels = np.arange(num_classes + 1) - 0.5

    fig, ax = _figure_and_ax(ax, (5.0, 5.0))
    ax.contourf(grid_x, grid_y, regions, levels=levels, cmap=cmap, alpha=0.3)
    ax.scatter(
        points[:, 0], points[:, 1], c=labels, cmap=cmap, vmin=-0.5, vmax=num_classes - 0.5,
        s=18, edgecolors="k", linewidths=0.4,
    )
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return fig


def plot_confusion_matrix(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int],
    class_names: Sequence[str] | None = None,
    normalize: bool = False,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    colorbar: bool = True,
    cmap: str = "Blues",
) -> Figure:
    """Show the confusion matrix as an image (rows = true, cols = predicted).

    Args:
        y_true: (N,) integer class ids.
        y_pred: (N,) integer class ids.
        class_names: C names for the ticks (also fixes C).
        normalize: divide each row by its total (per-class recall); empty rows stay 0.
        ax: axes to draw into (default: a new figure).
        title: axes title.
        annotate: write the value in each cell (default: when C <= 15).
        colorbar: add a colour bar (a second axes).
        cmap: matplotlib colormap name.

    Returns:
        The figure (the matrix axes, plus the colour-bar axes if ``colorbar``).
    """
    num_classes = None if class_names is None else len(class_names)
    counts = confusion_matrix(y_true, y_pred, num_classes)
    num_classes = counts.shape[0]
    if normalize:
        totals = counts.sum(axis=1, keepdims=True)
        matrix = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    else:
        matrix = counts
    fig, ax = _figure_and_ax(ax, (1.0 + 0.5 * max(num_classes, 6),) * 2)
    image = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=1 if normalize else None)
    names = [str(i) for i in np.arange(num_classes)] if class_names is None else list(class_names)
    ax.set_xticks(np.arange(num_classes), names, rotation=45 if class_names is not None else 0)
    ax.set_yticks(np.arange(num_classes), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if annotate is None:
        annotate = num_classes <= 15
    if annotate:
        threshold = matrix.max() / 2 if matrix.size else 0
        for i, j in np.ndindex(matrix.shape):
            text = f"{matrix[i, j]:.2f}" if normalize else str(matrix[i, j])
            color = "white" if matrix[i, j] > threshold else "black"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    if colorbar:
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    if title:
        ax.set_title(title)
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
    resolution: int = 200,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
) -> Figure:
    """Contours of ``f(x, y)`` with each optimizer's path on top (DLFS fig. 6-8).

    Args:
        f: vectorised function, ``f(X, Y) -> Z`` for (H, W) arrays, e.g.
            ``lambda x, y: x**2 / 20 + y**2``.
        paths: optimizer name -> (T, 2) positions, start first.
        xlim: x range of the contour plot.
        ylim: y range of the contour plot.
        levels: number of contour levels or explicit level values.
        overlay: all paths on one axes (with a legend) instead of one panel each.
        ncols: panels per row when not overlaying.
        minimum: where to draw a "+" (the optimum); ``None`` for none.
        resolution: contour grid points per axis.
        axes: axes to draw into (1 if overlay, else one per path).
        title: figure title.

    Returns:
        The figure: one axes (overlay) or one per path, each with a contour set
        and one line per path drawn on it (plus one for ``minimum``).
    """
    if not paths:
        raise ValueError("plots.plot_optimizer_paths: paths must be a non-empty dict name -> (T, 2) array")
    arrays = {}
    for name, path in paths.items():
        array = np.asarray(path, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != 2:
            raise ValueError(
                f"plots.plot_optimizer_paths: paths[{name!r}] must have shape (T, 2), got {array.shape}"
            )
        arrays[str(name)] = array
    xs = np.linspace(xlim[0], xlim[1], resolution)
    ys = np.linspace(ylim[0], ylim[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    heights = np.asarray(f(grid_x, grid_y), dtype=np.float64)
    if heights.shape != grid_x.shape:
        raise ValueError(
            "plots.plot_optimizer_paths: f must be vectorised: f(X, Y) with (H, W) inputs "
            f"returned shape {heights.shape}, expected {grid_x.shape}"
        )

    count = 1 if overlay else len(arrays)
    fig, panels = _figure_and_axes(axes, count, ncols, (4.5, 3.6), "plot_optimizer_paths")
    groups = [list(arrays.items())] if overlay else [[item] for item in arrays.items()]
    for ax, group in zip(panels, groups):
        ax.contour(grid_x, grid_y, heights, levels=levels, colors="0.7", linewidths=0.8)
        for name, path in group:
            ax.plot(path[:, 0], path[:, 1], "o-", markersize=3, linewidth=1, label=name)
        if minimum is not None:
            ax.plot(*minimum, "+", color="k", markersize=10)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        if overlay:
            ax.legend()
        else:
            ax.set_title(group[0][0])
    if title:
        fig.suptitle(title)
    return fig


# ---------------------------------------------------------------------------
# Hyperparameter search
# ---------------------------------------------------------------------------


def _trial_value(trial: Any, name: str) -> Any:
    """Look ``name`` up in a trial's params, then its metrics ("score" = trial.score)."""
    if name in trial.params:
        return trial.params[name]
    if name in trial.metrics:
        return trial.metrics[name]
    if name == "score":
        return trial.score
    return None


def plot_search_scatter(
    trials: Sequence[Any],
    x: str = "lr",
    y: str = "weight_decay",
    score: str = "val_acc",
    log: bool | tuple[bool, bool] = True,
    *,
    ax: Axes | None = None,
    mark_best: bool = True,
    cmap: str = "viridis",
    title: str | None = None,
) -> Figure:
    """Scatter two hyperparameters of a search, coloured by score.

    Args:
        trials: ``solutions.search.Trial`` records (anything with ``params``,
            ``metrics`` and ``score``).
        x: parameter (or metric) on the x axis.
        y: parameter (or metric) on the y axis.
        score: metric used for the colour; ``"score"`` means ``trial.score``.
            Trials whose score is missing or NaN (diverged) are drawn as red x.
        log: log-scale both axes, or ``(log_x, log_y)``.
        ax: axes to draw into (default: a new figure).
        mark_best: ring the best trial with a star.
        cmap: colormap for the score.
        title: axes title.

    Returns:
        The figure (scatter axes + colour-bar axes). Collections on the scatter
        axes: finite trials, then diverged trials (if any), then the best star.
    """
    if not trials:
        raise ValueError("plots.plot_search_scatter: trials is empty")
    for name in (x, y):
        if all(_trial_value(t, name) is None for t in trials):
            available = sorted(set().union(*(set(t.params) | set(t.metrics) for t in trials)))
            raise KeyError(f"plots.plot_search_scatter: no trial has {name!r}; available: {available}")
    finished = [t for t in trials if not _is_nan(t.score)]
    if score != "score" and finished and all(score not in t.metrics for t in finished):
        available = sorted(set().union(*(set(t.metrics) for t in trials)))
        raise KeyError(f"plots.plot_search_scatter: no trial has metric {score!r}; available: {available}")

    xs = np.array([_as_float_or_nan(_trial_value(t, x)) for t in trials])
    ys = np.array([_as_float_or_nan(_trial_value(t, y)) for t in trials])
    scores = np.array([_as_float_or_nan(_trial_value(t, score)) for t in trials])
    ok = np.isfinite(scores)
    log_x, log_y = (log, log) if isinstance(log, bool) else log

    fig, ax = _figure_and_ax(ax, (6.0, 4.5))
    points = ax.scatter(xs[ok], ys[ok], c=scores[ok], cmap=cmap, s=40, edgecolors="k", linewidths=0.4)
    if not ok.all():
        ax.scatter(xs[~ok], ys[~ok], marker="x", color="tab:red", s=40, label="diverged (NaN)")
    if mark_best and ok.any():
        best = int(np.flatnonzero(ok)[np.argmax(scores[ok])])
        ax.scatter(xs[best], ys[best], marker="*", s=250, facecolors="none", edgecolors="tab:red",
                   linewidths=1.5, label=f"best ({score} = {scores[best]:.4g})")
    fig.colorbar(points, ax=ax, label=score)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if not ok.all() or (mark_best and ok.any()):
        ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)
    return fig


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _as_float_or_nan(value: Any) -> float:
    """A number as float; anything else (None, strings) as NaN."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
