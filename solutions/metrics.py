"""Metrics (평가 지표): how good are a classifier's predictions?

Both functions compare integer class ids: ``y_true`` the labels, ``y_pred`` the
predicted classes (for a network, ``logits.argmax(axis=1)``).
"""

from __future__ import annotations

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """The fraction of correct predictions, mean(y_pred == y_true).

    Args:
        y_true: (N,) integer labels. y_pred: (N,) predicted class ids.
    Returns:
        A Python float in [0, 1].
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"accuracy: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """How often each true class is predicted as each class.

    Args:
        y_true: (N,) integer labels. y_pred: (N,) predicted class ids.
        num_classes: C; defaults to the largest class id seen plus one.
    Returns:
        (C, C) int64 counts M, M[i, j] = the number of samples of true class i
        predicted as class j: rows are true classes, columns predictions, and the
        diagonal holds the correct ones.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"confusion_matrix: need two (N,) arrays, got shapes {y_true.shape} and {y_pred.shape}")
    largest = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)))
    num_classes = largest + 1 if num_classes is None else num_classes
    if min(y_true.min(initial=0), y_pred.min(initial=0)) < 0 or largest >= num_classes:
        raise ValueError(f"confusion_matrix: class ids must lie in 0..{num_classes - 1} (num_classes={num_classes})")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)
