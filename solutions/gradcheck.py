"""Gradient checking: is the backward pass right?

An analytic gradient (from a backward pass) is compared with a *numerical* one,
found by nudging each input a little in both directions (a centred difference)::

    df/dx[i] ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

The error of the centred difference is O(h^2), against O(h) for the one-sided
difference used in seed 001 (nudge w by 1e-5 and watch E).  Everything here runs
in float64: in float32 the rounding error of f swamps the difference for any h.

The two are compared with the *relative* error (cs231n)::

    rel_error(a, b) = max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)

Rules of thumb: below 1e-7 the gradient is right; around 1e-4 something is off
for a smooth function (kinks such as ReLU's at 0 can cause this legitimately);
above 1e-2 the gradient is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

DEFAULT_STEP = 1e-5


def numerical_gradient(
    f: Callable[[np.ndarray], object],
    x: np.ndarray,
    dout: np.ndarray | None = None,
    h: float = DEFAULT_STEP,
) -> np.ndarray:
    """Centred-difference gradient of ``f`` at ``x``, in float64.

    Args:
        f: a function of one array. Without ``dout`` it must return a scalar.
            With ``dout`` it may return an array of ``dout``'s shape, and the
            gradient is that of ``sum(f(x) * dout)`` (a backward pass's input).
        x: the point, any shape. It is copied to float64 and never modified.
        dout: optional upstream gradient, the shape of ``f(x)``.
        h: the step.

    Returns:
        grad: the shape of ``x``, float64.
    """
    x = np.array(x, dtype=np.float64)  # a private copy we may nudge
    upstream = None if dout is None else np.asarray(dout, dtype=np.float64)

    def scalar(point: np.ndarray) -> float:
        value = np.asarray(f(point), dtype=np.float64)
        if upstream is None:
            if value.size != 1:
                raise ValueError(
                    f"numerical_gradient: f returned shape {value.shape}; "
                    "pass dout to check a function with an array output"
                )
            return float(value.reshape(()))
        return float(np.sum(value * upstream))

    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = scalar(x)
        flat_x[i] = original - h
        f_minus = scalar(x)
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(received: np.ndarray, expected: np.ndarray) -> float:
    """The largest elementwise relative error, ``max |a-b| / max(1e-8, |a|+|b|)``."""
    a = np.asarray(received, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} against {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def gradient_report(received: np.ndarray, expected: np.ndarray, name: str = "gradient") -> str:
    """Describe, for a learner, how an analytic gradient differs from the numerical one."""
    a = np.asarray(received, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    errors = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    worst = np.unravel_index(int(np.argmax(errors)), errors.shape) if errors.size else ()
    index = tuple(int(i) for i in worst)
    lines = [
        f"{name}: relative error {float(errors.max()):.3g}",
        f"  largest error at index {index}: your backward pass gave {a[worst]:.8g}, "
        f"the numerical gradient is {b[worst]:.8g}",
    ]
    ratio = _common_ratio(a, b)
    if ratio is not None and ratio != 1.0:
        if np.isclose(ratio, -1.0):
            lines.append("  hint: every value has the wrong sign; check the sign of the error signal or the update")
        elif np.isclose(ratio, 2.0) or np.isclose(ratio, 0.5):
            lines.append("  hint: off by a factor of 2; check the derivative of a square, or a 1/2 in the loss")
        else:
            lines.append(
                f"  hint: your gradient is {ratio:.6g} times the expected one everywhere; "
                "a constant factor (such as the batch size N) is missing or doubled"
            )
    return "\n".join(lines)


def _common_ratio(a: np.ndarray, b: np.ndarray) -> float | None:
    """The factor ``a / b`` if ``a`` is a constant multiple of ``b``, else ``None``."""
    nonzero = np.abs(b) > 1e-12
    if not np.any(nonzero):
        return None
    ratio = float(np.median(a[nonzero] / b[nonzero]))
    if np.allclose(a, ratio * b, rtol=1e-5, atol=1e-12):
        return round(ratio, 6)
    return None


def assert_gradient_close(
    received: np.ndarray,
    expected: np.ndarray,
    tol: float = 1e-7,
    name: str = "gradient",
) -> float:
    """Raise ``AssertionError`` with a learner-friendly message if the gradients differ.

    Args:
        received: the analytic gradient (from your backward pass).
        expected: the numerical gradient, same shape.
        tol: the largest relative error accepted.
        name: what is being checked, for the message (``"dW1"``, ``"dx"``).

    Returns:
        The relative error, when it is within ``tol``.
    """
    a, b = np.asarray(received), np.asarray(expected)
    if a.shape != b.shape:
        raise AssertionError(
            f"{name}: your gradient has shape {a.shape}, but it must have the shape "
            f"of the input it is the gradient of, {b.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise AssertionError(f"{name}: your gradient contains NaN or inf")
    error = relative_error(a, b)
    if error > tol:
        raise AssertionError(gradient_report(a, b, name) + f"\n  tolerance: {tol:g}")
    return error


def check_gradients(
    loss: Callable[[], float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    tol: float = 1e-7,
    h: float = DEFAULT_STEP,
) -> dict[str, float]:
    """Check a model's gradients, parameter by parameter.

    ``loss()`` must compute the scalar loss from the *current* values of the
    arrays in ``params`` (a model's own parameter arrays, in float64). Each entry
    is nudged in place and restored, so the model sees the nudge.

    Returns:
        The relative error of each parameter, by name.

    Raises:
        AssertionError: naming the first parameter whose error exceeds ``tol``.
    """
    errors = {}
    for name, param in params.items():
        if param.dtype != np.float64:
            raise TypeError(f"check_gradients: parameter {name} is {param.dtype}; gradient checks need float64")
        numeric = np.zeros_like(param)
        flat_param, flat_numeric = param.reshape(-1), numeric.reshape(-1)
        for i in range(flat_param.size):
            original = flat_param[i]
            flat_param[i] = original + h
            f_plus = loss()
            flat_param[i] = original - h
            f_minus = loss()
            flat_param[i] = original
            flat_numeric[i] = (f_plus - f_minus) / (2 * h)
        errors[name] = assert_gradient_close(grads[name], numeric, tol=tol, name=name)
    return errors
