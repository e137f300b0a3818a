"""Activation functions (활성화 함수) and their backward passes.

Every forward function maps an array to an array of the same shape and dtype.
Every backward function has the signature ``name_backward(dout, x, ...)``:
``dout`` is the upstream gradient dL/dy and ``x`` is the *input* the forward
pass received (the pre-activation), both of the same shape. It returns
dL/dx = dout * f'(x) and never modifies ``dout`` or ``x``.

The dtype follows the input: float32 in, float32 out; float64 for gradient checks.
Slopes and other constants are Python floats, so they never promote float32.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic sigmoid, sigma(x) = 1 / (1 + exp(-x)).

    Computed as (1 + tanh(x/2)) / 2, which is the same function but never
    overflows: ``np.exp(-x)`` overflows for x < -88 in float32.
    """
    x = np.asarray(x)
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dx = dout * sigma(x) * (1 - sigma(x)). Note sigma' <= 1/4 everywhere."""
    s = sigmoid(x)
    return dout * s * (1.0 - s)


def tanh(x: np.ndarray) -> np.ndarray:
    """The hyperbolic tangent, zero-centred, with range (-1, 1)."""
    return np.tanh(x)


def tanh_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dx = dout * (1 - tanh(x)^2)."""
    t = np.tanh(x)
    return dout * (1.0 - t * t)


def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit, max(0, x)."""
    return np.maximum(x, 0)


def relu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dx = dout where x > 0, else 0. At x = 0 we use the subgradient 0."""
    return dout * (x > 0)


def leaky_relu(x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: x for x > 0, ``slope * x`` otherwise (seed 000: slope 0.01)."""
    return np.maximum(x, 0) + slope * np.minimum(x, 0)  # branch-free: np.where is ~20x slower


def leaky_relu_backward(dout: np.ndarray, x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """dL/dx = dout where x > 0, ``slope * dout`` otherwise."""
    positive = x > 0
    return dout * positive + (slope * dout) * ~positive


def prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Parametric ReLU, max(alpha * x, x) for 0 <= alpha <= 1, with a learned alpha.

    Args:
        x: (N, D) pre-activations.
        alpha: (D,) one slope per unit, or a scalar shared by all units.
    """
    return np.maximum(x, 0) + alpha * np.minimum(x, 0)


def prelu_backward(dout: np.ndarray, x: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Returns (dx, dalpha); ``dalpha`` has alpha's shape (summed over the batch)."""
    negative = x <= 0
    dx = np.where(negative, dout * alpha, dout)
    dalpha_full = dout * x * negative
    alpha = np.asarray(alpha)
    if alpha.ndim == 0:
        dalpha = np.asarray(dalpha_full.sum(), dtype=dalpha_full.dtype)
    else:
        dalpha = dalpha_full.reshape(-1, alpha.size).sum(axis=0).reshape(alpha.shape)
    return dx, dalpha


def elu(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0))


def elu_backward(dout: np.ndarray, x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """dL/dx = dout for x > 0, dout * alpha * exp(x) otherwise."""
    positive = x > 0
    return dout * positive + dout * (alpha * np.exp(np.minimum(x, 0))) * ~positive


def silu(x: np.ndarray) -> np.ndarray:
    """Swish / SiLU (sigmoid linear unit): x * sigma(x) = x / (1 + exp(-x))."""
    return x * sigmoid(x)


def silu_backward(dout: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dL/dx = dout * (sigma(x) + x * sigma(x) * (1 - sigma(x)))."""
    s = sigmoid(x)
    return dout * (s + x * s * (1.0 - s))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: exp(x - max) / sum(exp(x - max)).

    Subtracting the row maximum changes nothing mathematically (it cancels in
    the ratio) but keeps exp from overflowing for logits such as 1000. Followed
    by cross-entropy its backward pass fuses into (y - t) / N (``solutions.losses``).

    Args:
        x: (N, C) logits (any shape; normalized along ``axis``).
    Returns:
        probabilities of the same shape, summing to 1 along ``axis``.
    """
    x = np.asarray(x)
    shifted = x - np.max(x, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)


def maxout(pieces: np.ndarray) -> np.ndarray:
    """Maxout: the largest of k linear pieces, max(w1.x + b1, ..., wk.x + bk).

    Args:
        pieces: (N, D, k) the k pre-activations of each of D units.
    Returns:
        (N, D) the largest piece per unit.
    """
    return np.max(pieces, axis=-1)


def maxout_backward(dout: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """Route dout (N, D) to the winning piece; returns (N, D, k)."""
    winner = np.argmax(pieces, axis=-1)[..., None]
    dpieces = np.zeros_like(pieces, dtype=np.result_type(dout, pieces))
    np.put_along_axis(dpieces, winner, dout[..., None], axis=-1)
    return dpieces


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "relu": (relu, relu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "elu": (elu, elu_backward),
    "silu": (silu, silu_backward),
}
"""Name -> (forward, backward) for the activations without learned parameters."""
