"""A mini-batch trainer (미니배치 학습).

One epoch is one pass over the training set in shuffled mini-batches: with N
samples and batch size B that is ceil(N / B) updates (batch gradient descent
is B = N, one update per epoch; stochastic gradient descent is B = 1, N updates).

``train`` returns a history dict (see ``new_history``) that ``solutions.plots``
draws. It stops early when the validation loss has not improved for
``patience`` epochs, and it refuses to go on when the loss becomes NaN or inf,
saying at which epoch and step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from tqdm import tqdm

from solutions.network import Sequential
from solutions.optim import Optimizer


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or inf: the learning rate is most likely too high."""


def new_history() -> dict[str, Any]:
    """An empty training history: one entry per epoch, plus one loss per step."""
    return {
        "epoch": [],
        "train_loss": [],
        "train_acc": [],
        "val_loss": [],
        "val_acc": [],
        "step_loss": [],
        "seconds": [],
    }


def minibatches(n_samples: int, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index arrays of one shuffled epoch; the last batch may be smaller."""
    order = rng.permutation(n_samples)
    return [order[i : i + batch_size] for i in range(0, n_samples, batch_size)]


def train(
    model: Sequential,
    optimizer: Optimizer,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    seed: int = 0,
    patience: int | None = None,
    monitor: str = "val_loss",
    lr_decay: float = 1.0,
    on_nonfinite: str = "raise",
    train_eval_size: int | None = 10_000,
    callback: Callable[[int, dict], None] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train ``model`` with ``optimizer`` on mini-batches; evaluate after every epoch.

    Args:
        model: the network (its parameters are updated in place).
        optimizer: anything with ``update(params, grads)`` and an ``lr`` attribute.
        x_train: (N, D) float32 inputs. y_train: (N,) int labels.
        x_val, y_val: optional validation set, evaluated every epoch.
        epochs: the most epochs to run.
        batch_size: samples per update (N for batch GD, 1 for SGD).
        seed: seeds the shuffling (a fresh ``np.random.Generator``).
        patience: stop when the monitored validation metric has not improved for
            this many epochs, and restore the parameters of the best epoch. Needs x_val.
        monitor: "val_loss" (lower is better) or "val_acc" (higher is better).
        lr_decay: multiply ``optimizer.lr`` by this after every epoch.
        on_nonfinite: "raise" raises ``TrainingDiverged``; "stop" ends training,
            keeps the history so far and records the reason in history["stopped"].
        train_eval_size: evaluate training accuracy on this many training samples
            (a fixed seeded subset) to save time; None uses all of them.
        callback: called as callback(epoch, history) after every epoch.
        progress: show a tqdm progress bar over epochs.

    Returns:
        The history dict; also "best_epoch" when early stopping is on and
        "stopped" (a message) when training stopped before ``epochs``.
    """
    if monitor not in ("val_loss", "val_acc"):
        raise ValueError(f"monitor must be 'val_loss' or 'val_acc', got {monitor!r}")
    if on_nonfinite not in ("raise", "stop"):
        raise ValueError(f"on_nonfinite must be 'raise' or 'stop', got {on_nonfinite!r}")
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    if patience is not None and x_val is None:
        raise ValueError("early stopping (patience) needs validation data x_val, y_val")
    if len(x_train) != len(y_train):
        raise ValueError(f"x_train has {len(x_train)} samples but y_train has {len(y_train)}")

    rng = np.random.default_rng(seed)
    eval_idx = None
    if train_eval_size is not None and train_eval_size < len(x_train):
        eval_idx = np.random.default_rng(seed + 1).choice(len(x_train), train_eval_size, replace=False)
    x_eval = x_train if eval_idx is None else x_train[eval_idx]
    y_eval = y_train if eval_idx is None else y_train[eval_idx]

    history = new_history()
    sign = 1.0 if monitor == "val_loss" else -1.0  # minimize sign * metric
    best_value, best_params, epochs_without_improvement = math.inf, None, 0
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        start = time.perf_counter()
        for step, idx in enumerate(minibatches(len(x_train), batch_size, rng), start=1):
            with np.errstate(over="ignore", invalid="ignore"):  # the guard below reports divergence
                loss, grads = model.gradients(x_train[idx], y_train[idx])
            if not math.isfinite(loss):
                message = (
                    f"training diverged: the loss became {loss} at epoch {epoch}, step {step} "
                    f"(lr={optimizer.lr:g}); lower the learning rate"
                )
                if on_nonfinite == "raise":
                    bar.close()
                    raise TrainingDiverged(message)
                history["stopped"] = message
                bar.close()
                return history
            history["step_loss"].append(loss)
            with np.errstate(over="ignore", invalid="ignore"):
                optimizer.update(model.params, grads)

        with np.errstate(over="ignore", invalid="ignore"):
            train_loss, train_acc = model.evaluate(x_eval, y_eval)
        history["epoch"].append(epoch)
        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        if x_val is not None and y_val is not None:
            val_loss, val_acc = model.evaluate(x_val, y_val)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["seconds"].append(time.perf_counter() - start)
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.4f}")
        if callback is not None:
            callback(epoch, history)
        optimizer.lr *= lr_decay

        if patience is not None:
            value = sign * history[monitor][-1]
            if value < best_value:
                best_value, epochs_without_improvement = value, 0
                best_params = {name: p.copy() for name, p in model.params.items()}
                history["best_epoch"] = epoch
            else:
                epochs_without_improvement += 1
                if epochs_without_improvement >= patience:
                    history["stopped"] = (
                        f"early stopping at epoch {epoch}: no better {monitor} for {patience} epochs; "
                        f"restored epoch {history['best_epoch']}"
                    )
                    break
    bar.close()
    if best_params is not None:
        for name, p in model.params.items():
            p[...] = best_params[name]
    return history
