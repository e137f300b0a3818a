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

import numpy as np


def normal(fan_in: int, fan_out: int, std: float, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """N(0, std^2) with a fixed std, e.g. seed 003's 0.01 * randn (too small) or 1.0 (too large)."""
    return (rng.standard_normal((fan_in, fan_out), dtype=np.float64) * std).astype(dtype)


def variance_scaling(
    fan_in: int,
    fan_out: int,
    rng: np.random.Generator,
    gain: float,
    mode: str = "fan_in",
    distribution: str = "normal",
    dtype=np.float32,
) -> np.ndarray:
    """Weights with variance ``gain / fan``: the rule behind Xavier and He.

    Args:
        fan_in, fan_out: the weight matrix is (fan_in, fan_out).
        gain: 1 for Xavier (tanh, sigmoid), 2 for He (ReLU zeroes half its inputs).
        mode: which fan: "fan_in", or "fan_avg" = (fan_in + fan_out) / 2.
        distribution: "normal" draws N(0, gain / fan); "uniform" draws U(-a, a) with
            a = sqrt(3 gain / fan), which has the same variance.
    Returns:
        (fan_in, fan_out) weights of ``dtype``.
    """
    fans = {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}
    if mode not in fans:
        raise ValueError(f"mode must be 'fan_in' or 'fan_avg', got {mode!r}")
    variance = gain / fans[mode]
    if distribution == "normal":
        return normal(fan_in, fan_out, float(np.sqrt(variance)), rng, dtype)
    if distribution == "uniform":
        limit = float(np.sqrt(3.0 * variance))
        return rng.uniform(-limit, limit, (fan_in, fan_out)).astype(dtype)
    raise ValueError(f"distribution must be 'normal' or 'uniform', got {distribution!r}")


def xavier_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Xavier/Glorot normal: N(0, 2 / (fan_in + fan_out))."""
    return variance_scaling(fan_in, fan_out, rng, 1.0, "fan_avg", "normal", dtype)


def xavier_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Xavier/Glorot uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    return variance_scaling(fan_in, fan_out, rng, 1.0, "fan_avg", "uniform", dtype)


def he_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He/Kaiming normal: N(0, 2 / fan_in)."""
    return variance_scaling(fan_in, fan_out, rng, 2.0, "fan_in", "normal", dtype)


def he_uniform(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He/Kaiming uniform: U(-a, a) with a = sqrt(6 / fan_in)."""
    return variance_scaling(fan_in, fan_out, rng, 2.0, "fan_in", "uniform", dtype)


INITIALIZERS: dict[str, tuple[float, str, str]] = {
    "xavier_normal": (1.0, "fan_avg", "normal"),
    "xavier_uniform": (1.0, "fan_avg", "uniform"),
    "he_normal": (2.0, "fan_in", "normal"),
    "he_uniform": (2.0, "fan_in", "uniform"),
}
INITIALIZERS["xavier"] = INITIALIZERS["xavier_normal"]
INITIALIZERS["he"] = INITIALIZERS["he_normal"]
"""Initializer name -> the (gain, mode, distribution) of ``variance_scaling`` it stands for."""


def init_weights(
    init: str | float, fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float32
) -> np.ndarray:
    """Weights by name ("he", "xavier_uniform", ...) or, for a number, N(0, init^2)."""
    if isinstance(init, (int, float)) and not isinstance(init, bool):
        return normal(fan_in, fan_out, float(init), rng, dtype)
    if init not in INITIALIZERS:
        raise ValueError(f"unknown initializer {init!r}; choose from {sorted(INITIALIZERS)} or give a std")
    gain, mode, distribution = INITIALIZERS[init]
    return variance_scaling(fan_in, fan_out, rng, gain, mode, distribution, dtype)
