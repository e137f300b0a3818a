"""Weight initialization (가중치 초기화).

Each initializer returns a weight matrix of shape (fan_in, fan_out) for
``out = x @ W + b``: fan_in is the number of inputs of a unit, fan_out the
number of units. The aim is variance preservation: Var[out] ~ Var[x] forwards
(and Var of the gradients backwards), so that deep networks neither collapse
to zero nor saturate.

==================  =====================================  ==========================
initializer         distribution                           fan used
==================  =====================================  ==========================
``normal``          N(0, std^2), std given                 none
``xavier_normal``   N(0, 2 / (fan_in + fan_out))           mean of fan_in and fan_out
``xavier_uniform``  U(-sqrt(6/(fan_in+fan_out)), +...)     mean of fan_in and fan_out
``he_normal``       N(0, 2 / fan_in)                       fan_in
``he_uniform``      U(-sqrt(6/fan_in), +sqrt(6/fan_in))    fan_in
==================  =====================================  ==========================

A uniform U(-a, a) has variance a^2/3, which is why the uniform limits carry a 6
where the normal variances carry a 2. Xavier (Glorot & Bengio 2010) suits tanh
and sigmoid; He (He et al. 2015) doubles the variance because ReLU zeroes half
of its inputs.
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def zeros(shape: int | tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """All zeros: fine for biases, fatal for weights (every unit stays identical)."""
    return np.zeros(shape, dtype=dtype)


def constant(shape: int | tuple[int, ...], value: float, dtype=np.float32) -> np.ndarray:
    """Every entry equal to ``value``; as symmetric, and as useless for weights, as zeros."""
    return np.full(shape, value, dtype=dtype)


def normal(fan_in: int, fan_out: int, std: float, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """N(0, std^2) with a fixed std, e.g. seed 003's 0.01 * randn (too small) or 1.0 (too large)."""
    return (rng.standard_normal((fan_in, fan_out), dtype=np.float64) * std).astype(dtype)


def xavier_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Xavier/Glorot normal: N(0, 2 / (fan_in + fan_out))."""
    return normal(fan_in, fan_out, float(np.sqrt(2.0 / (fan_in + fan_out))), rng, dtype)


def xavier_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Xavier/Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    limit = float(np.sqrt(6.0 / (fan_in + fan_out)))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype)


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He/Kaiming normal: N(0, 2 / fan_in)."""
    return normal(fan_in, fan_out, float(np.sqrt(2.0 / fan_in)), rng, dtype)


def he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He/Kaiming uniform: U(-a, a) with a = sqrt(6 / fan_in)."""
    limit = float(np.sqrt(6.0 / fan_in))
    return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype)


INITIALIZERS: dict[str, Callable[..., np.ndarray]] = {
    "xavier_normal": xavier_normal,
    "xavier_uniform": xavier_uniform,
    "he_normal": he_normal,
    "he_uniform": he_uniform,
    "xavier": xavier_normal,
    "he": he_normal,
}


def init_weights(
    init: str | float, fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """Weights by name ("he", "xavier_uniform", ...) or, for a number, N(0, init^2)."""
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return normal(fan_in, fan_out, float(init), rng, dtype)
    if init not in INITIALIZERS:
        raise ValueError(f"unknown initializer {init!r}; choose from {sorted(INITIALIZERS)} or give a std")
    return INITIALIZERS[init](fan_in, fan_out, rng, dtype)
