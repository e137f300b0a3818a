"""A sequential network (신경망): layers in order, a loss on top.

Parameters are exposed as one flat dict, DLFS style: the k-th affine layer
owns ``W{k}`` and ``b{k}``, the k-th normalization layer ``gamma{k}`` and
``beta{k}``. The dict holds the layers' own arrays, so an optimizer that
updates it in place updates the network.

Build one from a spec::

    net = Sequential.from_spec(784, ["affine 256", "relu", "dropout 0.2", "affine 10"], init="he", seed=0)

or with the shortcut ``build_mlp(784, [256, 256], 10, activation="relu", init="he")``.

The loss is softmax cross-entropy unless you pass another one: a name from
``solutions.losses.LOSSES`` or a ``(forward, backward)`` pair of functions,
``forward(logits, t) -> float`` and ``backward(logits, t) -> dL/dlogits``.

Weight decay (가중치 감쇠) is the L2 penalty of the lectures, added to the loss::

    E + lambda/2 * sum_k ||W_k||^2      (gradient: dE/dW_k + lambda * W_k)

over the weight matrices only: biases, gammas and betas are not decayed.
PyTorch's ``torch.optim.SGD(..., weight_decay=lambda)`` (and ``Adam``'s) is this
same coupled L2 term, added to the gradient, except that it decays every
parameter it is given unless the biases are put in a parameter group with
weight_decay 0. ``torch.optim.AdamW`` is not: it shrinks the weights outside
the adaptive step (decoupled decay, like seed 000's W <- (W + dW)(1 - eps)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from solutions import init as initializers
from solutions import layers as L
from solutions import losses, metrics

LossFunctions = tuple[Callable[[np.ndarray, np.ndarray], float], Callable[[np.ndarray, np.ndarray], np.ndarray]]

SPEC_KINDS = ("affine", "batchnorm", "layernorm", "dropout", "relu", "sigmoid", "tanh", "leaky_relu", "elu", "silu")
PENALTIES = {
    "l2": (losses.l2_penalty, losses.l2_penalty_backward),  # weight decay
    "l1": (losses.l1_penalty, losses.l1_penalty_backward),  # seed 002's L1 term
}


class Sequential:
    """Layers applied in order, followed by a loss.

    Args:
        layers: the layers, input side first.
        loss: "softmax_cross_entropy" (the default) or another name from
            ``solutions.losses.LOSSES``, or a (forward, backward) pair of functions of (logits, targets).
        weight_decay_lambda: lambda >= 0 of the penalty on the weight matrices added to the loss.
        penalty: "l2" (weight decay: lambda/2 ||W||^2, gradient lambda W) or
            "l1" (seed 002: lambda/2 sum |W|, gradient lambda/2 sign(W)).
    """

    def __init__(
        self,
        layers: Sequence[L.Layer],
        loss: str | LossFunctions = "softmax_cross_entropy",
        weight_decay_lambda: float = 0.0,
        penalty: str = "l2",
    ) -> None:
        if isinstance(loss, str) and loss not in losses.LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose from {sorted(losses.LOSSES)} or pass (forward, backward)")
        if penalty not in PENALTIES:
            raise ValueError(f"unknown penalty {penalty!r}; choose from {sorted(PENALTIES)}")
        self.layers = list(layers)
        self.loss_forward, self.loss_backward = losses.LOSSES[loss] if isinstance(loss, str) else loss
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.penalty_name = penalty
        self._names: list[tuple[L.Layer, str, str]] = []  # (layer, key in layer.params, flat name)
        counts: dict[str, int] = {}
        for layer in self.layers:
            if not layer.params:
                continue
            group = "W" if "W" in layer.params else "gamma"
            counts[group] = counts.get(group, 0) + 1
            for key in layer.params:
                self._names.append((layer, key, f"{key}{counts[group]}"))
        self._logits: np.ndarray | None = None
        self._targets: np.ndarray | None = None

    # -- construction --------------------------------------------------------

    @classmethod
    def from_spec(
        cls,
        input_dim: int,
        spec: Sequence[str],
        init: str | float = "he",
        seed: int = 0,
        dtype: type = np.float32,
        **options,
    ) -> Sequential:
        """Build a network from a list of strings, one layer each.

        Items: ``"affine N"`` (N output units), ``"relu"``, ``"sigmoid"``, ``"tanh"``,
        ``"leaky_relu"``, ``"elu"``, ``"silu"``, ``"batchnorm"``, ``"layernorm"``,
        ``"dropout P"`` (P is drop_prob). The last affine layer gives the logits.

        Args:
            input_dim: the number of input features D.
            init: the weight initializer for every affine layer: a name from
                ``solutions.init.INITIALIZERS`` or a std for N(0, std^2). Biases start at zero.
            seed: seeds both the weights and the dropout masks.
            **options: ``loss``, ``weight_decay_lambda``, ``penalty``, passed to ``Sequential``.
        """
        rng = np.random.default_rng(seed)
        built: list[L.Layer] = []
        width = input_dim
        for position, item in enumerate(spec):
            words = str(item).split()
            if not words or words[0] not in SPEC_KINDS:
                raise ValueError(f"spec item {position} ({item!r}): the kind must be one of {SPEC_KINDS}")
            kind, args = words[0], words[1:]
            if kind == "affine":
                if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
                    raise ValueError(f"spec item {position} ({item!r}): write 'affine N' with N >= 1 units")
                units = int(args[0])
                W = initializers.init_weights(init, width, units, rng, dtype)
                # the input of the very first layer is the data: no gradient needed
                built.append(L.Affine(W, np.zeros(units, dtype=dtype), need_input_grad=bool(built)))
                width = units
            elif kind == "dropout":
                if len(args) != 1:
                    raise ValueError(f"spec item {position} ({item!r}): write 'dropout P' with P the drop probability")
                built.append(L.Dropout(float(args[0]), rng))
            elif kind == "batchnorm":
                built.append(L.BatchNorm(width, dtype=dtype))
            elif kind == "layernorm":
                built.append(L.LayerNorm(width, dtype=dtype))
            elif kind == "relu":
                built.append(L.ReLU())
            else:
                built.append(L.Activation(kind))
        if not any(isinstance(layer, L.Affine) for layer in built):
            raise ValueError("the spec has no 'affine N' layer")
        return cls(built, **options)

    # -- parameters ----------------------------------------------------------

    @property
    def params(self) -> dict[str, np.ndarray]:
        """Flat dict of the layers' parameter arrays (the arrays themselves, not copies)."""
        return {name: layer.params[key] for layer, key, name in self._names}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Flat dict of the gradients of the last ``backward`` call."""
        return {name: layer.grads[key] for layer, key, name in self._names}

    def num_params(self) -> int:
        """The number of learned numbers: weights, biases, gammas and betas."""
        return int(sum(p.size for p in self.params.values()))

    def summary(self) -> str:
        """One line per layer with its parameter count."""
        lines = []
        for layer in self.layers:
            count = sum(p.size for p in layer.params.values())
            lines.append(f"{layer!r:<32} {count:>10,d}")
        lines.append(f"{'total':<32} {self.num_params():>10,d}")
        return "\n".join(lines)

    # -- forward and backward ------------------------------------------------

    def forward(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """Logits (N, C) for inputs (N, D). ``train=True`` enables dropout and batch statistics."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def _weights(self) -> list[np.ndarray]:
        return [layer.params["W"] for layer in self.layers if isinstance(layer, L.Affine)]

    def penalty(self) -> float:
        """The weight penalty, lambda/2 sum ||W||^2 (or lambda/2 sum |W| for "l1"); 0 without one."""
        if not self.weight_decay_lambda:
            return 0.0
        value, _ = PENALTIES[self.penalty_name]
        return value(self._weights(), self.weight_decay_lambda)

    def loss(self, x: np.ndarray, t: np.ndarray, train: bool = False) -> float:
        """The mean loss of the batch plus the weight penalty."""
        self._logits = self.forward(x, train)
        self._targets = t
        return self.loss_forward(self._logits, t) + self.penalty()

    def backward(self) -> dict[str, np.ndarray]:
        """Backpropagate the loss of the last ``loss`` call; returns the flat grads."""
        if self._logits is None or self._targets is None:
            raise RuntimeError("call loss(x, t) before backward()")
        dout: Any = self.loss_backward(self._logits, self._targets)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)  # the first affine layer returns None: nothing below needs it
        if self.weight_decay_lambda:
            _, gradient = PENALTIES[self.penalty_name]
            for layer in self.layers:
                if isinstance(layer, L.Affine):
                    layer.grads["W"] = layer.grads["W"] + gradient(layer.params["W"], self.weight_decay_lambda)
        return self.grads

    def gradients(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Loss (in training mode) and the gradients of every parameter."""
        value = self.loss(x, t, train=True)
        return value, self.backward()

    # -- evaluation ----------------------------------------------------------

    def predict(self, x: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        """Predicted class ids (N,), in evaluation mode, batch by batch."""
        return np.concatenate(
            [self.forward(x[i : i + batch_size]).argmax(axis=1) for i in range(0, len(x), batch_size)]
        )

    def evaluate(self, x: np.ndarray, t: np.ndarray, batch_size: int = 2000) -> tuple[float, float]:
        """(mean loss without the penalty, accuracy), in evaluation mode. t: labels or one-hot rows."""
        total_loss, predicted = 0.0, []
        for i in range(0, len(x), batch_size):
            logits = self.forward(x[i : i + batch_size])
            total_loss += self.loss_forward(logits, t[i : i + batch_size]) * len(logits)
            predicted.append(logits.argmax(axis=1))
        labels = np.asarray(t).argmax(axis=1) if np.ndim(t) == 2 else t
        return total_loss / len(x), metrics.accuracy(labels, np.concatenate(predicted))

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 2000) -> float:
        """``solutions.metrics.accuracy`` of the predictions, in evaluation mode."""
        return self.evaluate(x, t, batch_size)[1]

    def __repr__(self) -> str:
        return "Sequential(\n  " + ",\n  ".join(repr(layer) for layer in self.layers) + "\n)"


def build_mlp(
    input_dim: int,
    hidden: Sequence[int],
    num_classes: int,
    activation: str = "relu",
    init: str | float = "he",
    drop_prob: float = 0.0,
    batch_norm: bool = False,
    layer_norm: bool = False,
    seed: int = 0,
    dtype: type = np.float32,
    **options,
) -> Sequential:
    """A multi-layer perceptron: [affine, (norm), activation, (dropout)] per hidden layer, then affine.

    Example: ``build_mlp(784, [256, 256], 10)`` is the 784-256-256-10 ReLU network.
    ``options`` (``loss``, ``weight_decay_lambda``, ``penalty``) go to ``Sequential``.
    """
    spec: list[str] = []
    for units in hidden:
        spec.append(f"affine {units}")
        if batch_norm:
            spec.append("batchnorm")
        if layer_norm:
            spec.append("layernorm")
        spec.append(activation)
        if drop_prob:
            spec.append(f"dropout {drop_prob}")
    spec.append(f"affine {num_classes}")
    return Sequential.from_spec(input_dim, spec, init=init, seed=seed, dtype=dtype, **options)
