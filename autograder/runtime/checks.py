"""The checking helper that every chapter's nbgrader test cells call.

A test cell never uses a bare ``assert``. It calls one of these functions with
a *name* for the check, the value the student's code *received*, and what is
*expected*::

    from autograder.checks import check_close
    check_close("relu on the lecture's x", relu(x), [0, 0, 0, 0, 1, 5, 10, 20, 100])

On success a check prints one line (``ok: <name>``). On failure it raises
``CheckFailed`` (an ``AssertionError``) whose message says what was received,
what was expected, where they differ most, and a hint. nbgrader scores a test
cell by whether it raised, so every check in a cell must pass for its points.

Why one helper: how results are compared and scored can change in one place.
Every check is identified by its name and compares plain data (arrays and
numbers). When the grader runs a submission, the test cells do not call these
functions in the student's process: they only send the received values out
(``autograder.runtime.probe``), and the grader calls these same functions outside it,
with expected values the student's process never sees (``autograder.grade.seal``).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = [
    "CheckFailed", "Unsupported", "as_plain_array", "check_close", "check_dtype", "check_equal", "check_gradient",
    "check_raised", "check_raises", "check_shape", "check_true", "check_unchanged",
]

_MAX_SHOWN = 12  # array elements shown in a message


class CheckFailed(AssertionError):
    """A check failed; the message is written for the learner."""


class Unsupported:
    """A received value that could not cross from the student's process as data."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<an object of type {self.type_name}>"


def _type_name(value: Any) -> str:
    return value.type_name if isinstance(value, Unsupported) else type(value).__name__


def _fail(name: str, problem: str, received: str | None = None, expected: str | None = None, hint: str = "") -> None:
    lines = [f"{name}: {problem}"]
    if received is not None:
        lines.append(f"  received: {received}")
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if hint:
        lines.append(f"  hint: {hint}")
    raise CheckFailed("\n".join(lines))


def _passed(name: str) -> None:
    print(f"ok: {name}")


def _show(value: Any) -> str:
    array = np.asarray(value)
    if array.ndim == 0:
        return repr(array.item())
    text = np.array2string(
        array.reshape(-1)[:_MAX_SHOWN] if array.size > _MAX_SHOWN else array,
        precision=6,
        separator=", ",
        max_line_width=100,
    )
    if array.size > _MAX_SHOWN:
        text = f"{text[:-1]}, ...] (shape {array.shape}, first {_MAX_SHOWN} shown)"
    return text


def as_plain_array(name: str, received: Any, hint: str = "") -> np.ndarray:
    """The received value as a plain ``np.ndarray`` of numbers, or a failed check.

    Subclasses of ndarray and objects that merely pretend to be arrays are
    converted to a base ndarray, so their own ``__eq__`` plays no part.
    """
    if received is None:
        _fail(name, "your code returned None", hint=hint or "did you forget a `return` statement?")
    if isinstance(received, np.ndarray):
        array = np.array(received, copy=True, subok=False)
    elif isinstance(received, (int, float, bool, np.number, np.bool_, list, tuple)):
        try:
            array = np.array(received, subok=False)
        except ValueError as error:
            _fail(name, f"could not be read as an array of numbers ({error})", hint=hint)
    else:
        _fail(
            name,
            f"expected a NumPy array or a number, got an object of type {_type_name(received)}",
            hint=hint,
        )
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        _fail(name, f"expected numbers, got an array of dtype {array.dtype}", hint=hint)
    return array


def check_close(
    name: str,
    received: Any,
    expected: Any,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    dtype: Any = None,
    hint: str = "",
) -> None:
    """Check that ``received`` equals ``expected`` within tolerances, shape included.

    Args:
        name: what is checked, in words a learner understands.
        received: the student's result (array or number).
        expected: the right answer.
        rtol, atol: as in ``np.allclose``: |received - expected| <= atol + rtol * |expected|.
        dtype: if given, the received array must have exactly this dtype.
        hint: what to look at when the check fails.
    """
    got = as_plain_array(name, received, hint)
    want = np.asarray(expected)
    if got.shape != want.shape:
        _fail(name, f"wrong shape {got.shape}, expected shape {want.shape}", hint=hint)
    if dtype is not None and got.dtype != np.dtype(dtype):
        _fail(name, f"wrong dtype {got.dtype}, expected {np.dtype(dtype)}", hint=hint or "keep float32 end to end")
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    if not np.all(np.isfinite(got64)) and np.all(np.isfinite(want64)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(got64))[0]) if got64.ndim else ()
        _fail(name, f"contains NaN or inf (first at index {where})", _show(got), _show(want), hint)
    close = np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        error = np.array(np.abs(got64 - want64), dtype=np.float64, ndmin=1)
        error[np.reshape(close, error.shape)] = 0.0
        if got64.ndim == 0:
            detail = f"received {float(got64):.8g}, expected {float(want64):.8g}"
        else:
            worst = np.unravel_index(int(np.argmax(error)), error.shape)
            index = tuple(int(i) for i in worst)
            detail = (
                f"{int(np.size(close) - np.count_nonzero(close))} of {np.size(close)} values differ; "
                f"the largest difference is at index {index}: received {got64[worst]:.8g}, "
                f"expected {want64[worst]:.8g}"
            )
        _fail(name, detail, _show(got), _show(want), hint)
    _passed(name)


def check_equal(name: str, received: Any, expected: Any, *, hint: str = "") -> None:
    """Check exact equality of plain values: ints, strings, tuples, integer arrays, shapes."""
    if isinstance(expected, np.ndarray) or isinstance(received, np.ndarray):
        got = as_plain_array(name, received, hint)
        want = np.asarray(expected)
        if got.shape != want.shape or not np.array_equal(got, want):
            _fail(name, "values differ", _show(got), _show(want), hint)
    else:
        if type(received) not in (int, float, str, bool, tuple, list, type(None)) and not isinstance(received, np.generic):
            _fail(name, f"expected a plain value like {expected!r}, got type {_type_name(received)}", hint=hint)
        plain = received.item() if isinstance(received, np.generic) else received
        if type(plain) is not type(expected) or plain != expected:
            _fail(name, "values differ", repr(received), repr(expected), hint)
    _passed(name)


def check_shape(name: str, received: Any, shape: tuple[int, ...], *, hint: str = "") -> None:
    """Check an array's shape."""
    got = as_plain_array(name, received, hint)
    if got.shape != tuple(shape):
        _fail(name, f"wrong shape {got.shape}, expected shape {tuple(shape)}", hint=hint)
    _passed(name)


def check_dtype(name: str, received: Any, dtype: Any, *, hint: str = "") -> None:
    """Check an array's dtype exactly (float32 stays float32)."""
    got = as_plain_array(name, received, hint)
    if got.dtype != np.dtype(dtype):
        _fail(
            name,
            f"wrong dtype {got.dtype}, expected {np.dtype(dtype)}",
            hint=hint or "a float64 constant such as np.float64(0.5) or np.exp of a float64 promotes float32 arrays",
        )
    _passed(name)


def check_true(name: str, condition: bool, *, message: str = "the condition does not hold", hint: str = "") -> None:
    """Check a yes/no property computed in the test cell (never in student code)."""
    if not isinstance(condition, (bool, np.bool_)):
        _fail(name, f"the check needs True or False, got {_type_name(condition)}", hint=hint)
    if not bool(condition):
        _fail(name, message, hint=hint)
    _passed(name)


def check_unchanged(name: str, before: np.ndarray, after: np.ndarray, *, hint: str = "") -> None:
    """Check that an input array was not modified (compare a copy taken before the call)."""
    if not np.array_equal(np.asarray(before), np.asarray(after), equal_nan=True):
        _fail(
            name,
            "your function modified its input array",
            hint=hint or "work on a copy or build a new array; never write into an argument (no `x[...] = ` or `x *= `)",
        )
    _passed(name)


def check_gradient(name: str, analytic: Any, numeric: Any, *, tol: float = 1e-7, hint: str = "") -> None:
    """Check an analytic gradient against a numerical one by relative error."""
    from solutions.gradcheck import gradient_report, relative_error

    got = as_plain_array(name, analytic, hint)
    want = np.asarray(numeric, dtype=np.float64)
    if got.shape != want.shape:
        _fail(name, f"gradient of shape {got.shape}, expected the input's shape {want.shape}", hint=hint)
    if not np.all(np.isfinite(got)):
        _fail(name, "the gradient contains NaN or inf", hint=hint)
    error = relative_error(got, want)
    if error > tol:
        _fail(name, gradient_report(got, want, "gradient").replace("gradient: ", "", 1) + f" (tolerance {tol:g})", hint=hint)
    _passed(name)


def check_raises(name: str, function: Callable[[], Any], exception: type[BaseException], *, hint: str = "") -> None:
    """Check that calling ``function()`` raises ``exception`` (e.g. ValueError for bad input)."""
    try:
        function()
    except Exception as error:  # noqa: BLE001 - compared below, by class name
        check_raised(name, [cls.__name__ for cls in type(error).__mro__], exception.__name__, hint=hint,
                     detail=f"{type(error).__name__}: {error}")
        return
    check_raised(name, None, exception.__name__, hint=hint)


def check_raised(name: str, raised: list[str] | None, exception: str, *, hint: str = "", detail: str = "") -> None:
    """Check what a call raised, given as the class names of the error (most derived first) or None."""
    if raised is None:
        _fail(name, f"raised nothing, expected {exception}", hint=hint)
    if not isinstance(raised, list) or not all(isinstance(n, str) for n in raised) or not raised:
        _fail(name, f"no record of what was raised, expected {exception}", hint=hint)
    if exception not in raised:
        _fail(name, f"raised {detail or raised[0]}, expected {exception}", hint=hint)
    _passed(name)
