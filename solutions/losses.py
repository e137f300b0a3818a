"""Loss functions (손실 함수) and penalties.

Conventions:
    * ``y`` are the network's outputs, ``t`` the targets (the lectures write d).
    * Losses are averaged over the batch of N samples and returned as Python floats.
    * A loss a network trains with has a fused backward that returns dL/d(output)
      with the 1/N already applied, e.g. (softmax(z) - t) / N for softmax cross-entropy.
    * Targets for classification are integer labels (N,) or one-hot (N, C).
"""

from __future__ import annotations

import numpy as np

from solutions.activations import softmax


def _one_hot_like(t: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """Targets as one-hot rows of ``logits``' shape and dtype."""
    t = np.asarray(t)
    if t.shape == logits.shape:
        return t.astype(logits.dtype, copy=False)
    if t.ndim != 1 or t.shape[0] != logits.shape[0]:
        raise ValueError(f"targets of shape {t.shape} do not match logits of shape {logits.shape}")
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"integer class labels expected, got dtype {t.dtype}")
    one_hot = np.zeros_like(logits)
    one_hot[np.arange(t.shape[0]), t] = 1
    return one_hot


def binary_cross_entropy_with_logits(z: np.ndarray, t: np.ndarray) -> float:
    """Binary cross-entropy of sigma(z) against t in {0, 1} (seed 001's logistic neuron), computed stably.

    -[t log s(z) + (1-t) log(1 - s(z))] = max(z, 0) - z t + log(1 + exp(-|z|)).

    Args:
        z: (N,) or (N, K) logits (K independent yes/no outputs). t: targets of the same shape.
    Returns:
        the sum over the K outputs, averaged over the N samples.
    """
    z = np.asarray(z)
    n = z.shape[0] if z.ndim else 1
    return float(np.sum(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))) / n)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax(z) along the last axis, stable for any logits."""
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def softmax_cross_entropy(z: np.ndarray, t: np.ndarray) -> float:
    """E = -1/N sum_n log softmax(z_n)[t_n]: cross-entropy of the softmax of logits.

    Args:
        z: (N, C) logits.
        t: (N,) integer labels or (N, C) one-hot (or soft) targets.
    """
    z = np.asarray(z)
    log_probs = log_softmax(z)
    t = np.asarray(t)
    if t.shape == z.shape:
        return float(-np.sum(t * log_probs) / z.shape[0])
    return float(-np.mean(log_probs[np.arange(z.shape[0]), t]))


def softmax_cross_entropy_backward(z: np.ndarray, t: np.ndarray) -> np.ndarray:
    """dE/dz = (softmax(z) - t) / N, with t one-hot: the fused backward (y - d)/N.

    The softmax's own Jacobian and the cross-entropy's 1/y cancel, which is why
    the lecture's delta_o = softmax'(v_o) e_o is wrong for this loss: delta_o = e_o.
    """
    z = np.asarray(z)
    return (softmax(z) - _one_hot_like(t, z)) / z.shape[0]


def focal_loss(z: np.ndarray, t: np.ndarray, gamma: float = 2.0, alpha: float | None = None) -> float:
    """Focal loss (Lin et al. 2017) for C classes: -1/N sum alpha_t (1 - p_t)^gamma log p_t.

    gamma = 0 (and no alpha) gives plain softmax cross-entropy. A larger gamma
    down-weights well-classified samples (p_t near 1), so the rare, hard ones count more.

    Args:
        z: (N, C) logits. t: (N,) integer labels.
        gamma: the focusing parameter, >= 0.
        alpha: optional weight of class 1 in a two-class problem (class 0 gets 1 - alpha).
    """
    z, t = np.asarray(z), np.asarray(t)
    log_p = log_softmax(z)[np.arange(z.shape[0]), t]
    p = np.exp(log_p)
    weight = (1.0 - p) ** gamma
    if alpha is not None:
        weight = weight * np.where(t == 1, alpha, 1.0 - alpha)
    return float(-np.mean(weight * log_p))


def focal_loss_backward(z: np.ndarray, t: np.ndarray, gamma: float = 2.0, alpha: float | None = None) -> np.ndarray:
    """dE/dz of ``focal_loss``, (N, C)."""
    z, t = np.asarray(z), np.asarray(t)
    n = z.shape[0]
    probs = softmax(z)
    rows = np.arange(n)
    p = probs[rows, t]
    log_p = np.log(np.maximum(p, np.finfo(probs.dtype).tiny))
    # E_n = -(1-p)^g log p; dE_n/dp = g (1-p)^(g-1) log p - (1-p)^g / p, and dp/dz = p (onehot - probs)
    one_minus = 1.0 - p
    # (1-p)^(g-1) log p -> 0 as p -> 1, so a saturated sample contributes 0 there
    safe = np.where(one_minus > 0, one_minus, 1.0)
    focusing = np.where(one_minus > 0, gamma * safe ** (gamma - 1.0) * log_p, 0.0)
    dE_dp = focusing - one_minus**gamma / p
    if alpha is not None:
        # np.where over two Python floats gives float64: cast, or float32 logits get a float64 gradient
        dE_dp = dE_dp * np.where(t == 1, alpha, 1.0 - alpha).astype(probs.dtype)
    one_hot = _one_hot_like(t, z)
    return (dE_dp * p)[:, None] * (one_hot - probs) / n


def l1_penalty(weights: list[np.ndarray], lam: float) -> float:
    """Seed 002's L1 term: lambda/2 * sum |w| over all weight matrices."""
    return 0.5 * lam * float(sum(np.sum(np.abs(w)) for w in weights))


def l1_penalty_backward(w: np.ndarray, lam: float) -> np.ndarray:
    """d/dw of lambda/2 |w| = lambda/2 * sign(w): a constant pull towards 0."""
    return (0.5 * lam) * np.sign(w)


def l2_penalty(weights: list[np.ndarray], lam: float) -> float:
    """Seed 002's L2 term: lambda/2 * sum w^T w over all weight matrices."""
    return 0.5 * lam * float(sum(np.sum(w * w) for w in weights))


def l2_penalty_backward(w: np.ndarray, lam: float) -> np.ndarray:
    """d/dw of lambda/2 w^T w = lambda * w: a pull proportional to the weight."""
    return lam * w


LOSSES = {
    "softmax_cross_entropy": (softmax_cross_entropy, softmax_cross_entropy_backward),
    "focal_loss": (focal_loss, focal_loss_backward),
}
"""Name -> (forward, backward) of the losses a ``solutions.network.Sequential`` can train with."""
