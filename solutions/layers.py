"""Layers (계층): pure forward/backward kernels and thin classes on top of them.

The kernels follow cs231n: ``*_forward`` returns ``(out, cache)`` and
``*_backward(dout, cache)`` returns the gradients. They keep no state, never
modify their inputs, and keep the dtype of their inputs.

The classes follow *Deep Learning from Scratch*: each has ``forward(x, train)``
and ``backward(dout)``, and keeps its parameters in ``params`` and their
gradients in ``grads`` (dicts with the same keys), so that a network can hand
both to an optimizer.

Weight convention: ``W`` has shape (D_in, D_out) and ``out = x @ W + b``. The
lecture's v = x W^T uses the transpose, W of shape (D_out, D_in).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from solutions import activations

# ---------------------------------------------------------------------------
# Affine (fully connected)
# ---------------------------------------------------------------------------


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """out = x @ W + b.

    Args:
        x: (N, D_in) inputs. W: (D_in, D_out) weights. b: (D_out,) biases.
    Returns:
        out: (N, D_out); cache: (x, W) for the backward pass.
    """
    return x @ W + b, (x, W)


def affine_backward(
    dout: np.ndarray, cache: tuple, need_dx: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """Gradients of out = x @ W + b.

    Args:
        dout: (N, D_out) upstream gradient.
        cache: (x, W) from ``affine_forward``.
        need_dx: False skips dx (the first layer's input needs no gradient),
            which saves the largest matrix product of that layer.
    Returns:
        dx: (N, D_in) or None; dW: (D_in, D_out); db: (D_out,).
    """
    x, W = cache
    dx = dout @ W.T if need_dx else None
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db


# ---------------------------------------------------------------------------
# Dropout (inverted)
# ---------------------------------------------------------------------------


def dropout_forward(
    x: np.ndarray, drop_prob: float, rng: np.random.Generator, train: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Inverted dropout: drop each unit with probability ``drop_prob`` while training.

    Kept units are divided by keep_prob = 1 - drop_prob *during training*, so the
    expected activation is unchanged and the test-time network needs no scaling.
    (The original paper instead multiplied by keep_prob at test time; seed 003's
    ``predict`` shows that version, its ``train_step`` the inverted one.)

    Args:
        x: (N, D) activations.
        drop_prob: probability of *dropping* a unit, in [0, 1).
        rng: the generator that draws the mask (seed it for reproducible runs).
        train: at test time (False) the input passes through unchanged.
    Returns:
        out: like x; cache: the mask (already scaled by 1/keep_prob), or None.
    """
    if not 0.0 <= drop_prob < 1.0:
        raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob}")
    if not train or drop_prob == 0.0:
        return x, None
    keep_prob = 1.0 - drop_prob
    mask = (rng.random(x.shape, dtype=np.float32) >= drop_prob).astype(x.dtype)
    mask *= 1.0 / keep_prob
    return x * mask, mask


def dropout_backward(dout: np.ndarray, cache: np.ndarray | None) -> np.ndarray:
    """Gradients flow only through the kept units, with the same 1/keep_prob scale."""
    return dout if cache is None else dout * cache


# ---------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, tuple]:
    """Batch normalization in training mode (Ioffe & Szegedy 2015, Algorithm 1).

    Each feature j is normalized with the statistics of the mini-batch::

        mu_j = 1/m sum_i x_ij,   var_j = 1/m sum_i (x_ij - mu_j)^2   (1/m, not 1/(m-1))
        x_hat = (x - mu) / sqrt(var + eps),   out = gamma * x_hat + beta

    Args:
        x: (N, D). gamma, beta: (D,).
    Returns:
        out: (N, D); cache: for the backward pass. ``cache[-2:]`` are the batch
        mean and variance, (D,) each, for the running averages.
    """
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std, mean, var)


def batchnorm_eval_forward(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    running_mean: np.ndarray,
    running_var: np.ndarray,
    eps: float = 1e-5,
) -> np.ndarray:
    """Batch normalization at test time: the running statistics replace the batch's.

    Args:
        x: (N, D). gamma, beta, running_mean, running_var: (D,).
    Returns:
        out: (N, D). Each sample's output no longer depends on the rest of the batch.
    """
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta


def update_running_average(running: np.ndarray, batch_value: np.ndarray, momentum: float = 0.9) -> np.ndarray:
    """Exponential moving average: momentum * running + (1 - momentum) * batch_value (a new array)."""
    return momentum * running + (1.0 - momentum) * batch_value


def batchnorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of training-mode batch norm, in the compact form.

    With x_hat the normalized input and m the batch size::

        dbeta  = sum_i dout_i
        dgamma = sum_i dout_i * x_hat_i
        dx     = gamma / sqrt(var + eps) * (dout - mean(dout) - x_hat * mean(dout * x_hat))

    Args:
        dout: (N, D). cache: from ``batchnorm_forward``.
    Returns:
        dx: (N, D); dgamma: (D,); dbeta: (D,).
    """
    x_hat, gamma, inv_std, _, _ = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    m = dout.shape[0]
    dx = (gamma * inv_std) * (dout - dbeta / m - x_hat * (dgamma / m))
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------
# Layer normalization
# ---------------------------------------------------------------------------


def layernorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float = 1e-5
) -> tuple[np.ndarray, tuple]:
    """Layer normalization (Ba et al. 2016): batch norm's formula along the other axis.

    Each *sample* i is normalized over its own D features, so the result does not
    depend on the batch (it works with a batch of 1, and the same at train and test time).

    Args:
        x: (N, D). gamma, beta: (D,).
    Returns:
        out: (N, D); cache for the backward pass.
    """
    mean = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def layernorm_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of layer norm: batch norm's dx formula, with means taken over features.

    Returns:
        dx: (N, D); dgamma: (D,); dbeta: (D,).
    """
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=1, keepdims=True) - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True))
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------
# Layer classes
# ---------------------------------------------------------------------------


class Layer:
    """A layer: ``forward(x, train)`` then ``backward(dout)``; parameters in ``params``."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Affine(Layer):
    """A fully connected layer, out = x @ W + b.

    Args:
        W: (D_in, D_out) initial weights. b: (D_out,) initial biases.
        need_input_grad: False for the first layer, whose input is the data.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, need_input_grad: bool = True) -> None:
        super().__init__()
        self.params = {"W": W, "b": b}
        self.need_input_grad = need_input_grad
        self._cache: Any = None  # set by forward

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, self._cache = affine_forward(x, self.params["W"], self.params["b"])
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        dx, self.grads["W"], self.grads["b"] = affine_backward(dout, self._cache, self.need_input_grad)
        return dx

    def __repr__(self) -> str:
        d_in, d_out = self.params["W"].shape
        return f"Affine({d_in} -> {d_out})"


class Activation(Layer):
    """An elementwise activation from ``solutions.activations``, by name.

    Args:
        name: "sigmoid", "tanh", "relu", "leaky_relu", "elu" or "silu".
        **kwargs: passed to the function, e.g. ``slope=0.01`` for leaky_relu.
    """

    def __init__(self, name: str, **kwargs: float) -> None:
        super().__init__()
        if name not in activations.ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; choose from {sorted(activations.ACTIVATIONS)}")
        self.name = name
        self.kwargs = kwargs
        self._forward, self._backward = activations.ACTIVATIONS[name]
        self._x: Any = None  # set by forward

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._x = x
        return self._forward(x, **self.kwargs)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._backward(dout, self._x, **self.kwargs)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v}" for k, v in self.kwargs.items())
        return f"Activation({self.name!r}{extra})"


class ReLU(Layer):
    """ReLU, kept as its own class because it is the hot path of every MNIST run."""

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self._mask


class Dropout(Layer):
    """Inverted dropout. ``drop_prob`` is the probability of dropping a unit.

    Args:
        drop_prob: in [0, 1). keep_prob = 1 - drop_prob.
        rng: the generator for the masks; pass a seeded one for reproducible runs.
    """

    def __init__(self, drop_prob: float, rng: np.random.Generator) -> None:
        super().__init__()
        if not 0.0 <= drop_prob < 1.0:
            raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob}")
        self.drop_prob = drop_prob
        self.rng = rng
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, self._mask = dropout_forward(x, self.drop_prob, self.rng, train)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dropout_backward(dout, self._mask)

    def __repr__(self) -> str:
        return f"Dropout(drop_prob={self.drop_prob})"


class BatchNorm(Layer):
    """Batch normalization with learned gamma, beta and running statistics.

    Training (``train=True``) uses the batch's mean and variance and updates the
    running averages; evaluation (``train=False``) uses the running averages.

    Args:
        dim: the number of features D.
        momentum: weight of the old running value in the moving average.
        eps: added to the variance before the square root.
        dtype: of the parameters and statistics.
    """

    def __init__(self, dim: int, momentum: float = 0.9, eps: float = 1e-5, dtype=np.float32) -> None:
        super().__init__()
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.running_mean = np.zeros(dim, dtype=dtype)
        self.running_var = np.ones(dim, dtype=dtype)
        self.momentum = momentum
        self.eps = eps
        self._cache: Any = None  # set by forward

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not train:
            return batchnorm_eval_forward(x, gamma, beta, self.running_mean, self.running_var, self.eps)
        out, self._cache = batchnorm_forward(x, gamma, beta, self.eps)
        batch_mean, batch_var = self._cache[-2:]
        self.running_mean = update_running_average(self.running_mean, batch_mean, self.momentum)
        self.running_var = update_running_average(self.running_var, batch_var, self.momentum)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["gamma"], self.grads["beta"] = batchnorm_backward(dout, self._cache)
        return dx

    def __repr__(self) -> str:
        return f"BatchNorm({self.params['gamma'].size})"


class LayerNorm(Layer):
    """Layer normalization with learned gamma and beta; the same in training and evaluation."""

    def __init__(self, dim: int, eps: float = 1e-5, dtype=np.float32) -> None:
        super().__init__()
        self.params = {"gamma": np.ones(dim, dtype=dtype), "beta": np.zeros(dim, dtype=dtype)}
        self.eps = eps
        self._cache: Any = None  # set by forward

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        out, self._cache = layernorm_forward(x, self.params["gamma"], self.params["beta"], self.eps)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, self.grads["gamma"], self.grads["beta"] = layernorm_backward(dout, self._cache)
        return dx

    def __repr__(self) -> str:
        return f"LayerNorm({self.params['gamma'].size})"
