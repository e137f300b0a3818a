"""The checking helper that every chapter's nbgrader test cells call.

A test cell never uses a bare ``assert``. It calls one of these functions with
a *name* for the check, the value the student's code *received*, and what is
*expected*::

    from autograder.checks import check_close
    check_close("relu on the lecture's x", relu(x), [0, 0, 0, 0, 1, 5, 10, 20, 100])

On success a check prints one line (``ok: <name>``). On failure it raises
``CheckFailed`` (an ``AssertionError``) that names the most informative problem
first: a wrong shape, then wrong values (how many, where the largest difference
is and by how much, NaN or inf), then a wrong dtype; then what was received,
what was expected, and a hint. nbgrader scores a test cell by whether it raised,
so every check in a cell must pass for its points. In JupyterLab (and in the
dialog of nbgrader's Validate button) a failed check shows as that short block
and the line of the test cell, without the frames of this helper.

Why one helper: how results are compared and scored can change in one place.
Every check is identified by its name and compares plain data (arrays and
numbers). When the grader runs a submission, the test cells do not call these
functions in the student's process: they only send the received values out
(``autograder.runtime.probe``), and the grader calls these same functions outside it,
with expected values the student's process never sees (``autograder.grade.seal``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, NoReturn

import numpy as np

from .i18n import N_, _, translate

__all__ = [
    "CheckFailed",
    "Unsupported",
    "as_plain_array",
    "check_close",
    "check_dtype",
    "check_equal",
    "check_gradient",
    "check_raised",
    "check_raises",
    "check_shape",
    "check_true",
    "check_unchanged",
]

_MAX_SHOWN = 12  # array elements shown in a message
_MAX_CODE = 64  # characters of the test cell's failing line shown under a failed check
_RED_BOLD, _DIM, _RESET = "\x1b[1;31m", "\x1b[2m", "\x1b[0m"


class CheckFailed(AssertionError):
    """A check failed. ``str()`` is the learner's message; the grader's feedback shows it too.

    The message has one line ``<name>: <problem>``, then ``received:``, ``expected:``
    and ``hint:`` lines when there is something to say, in the release's language
    (``autograder.runtime.i18n``: the test cell's name and hint too). In IPython the error shows
    as the same block under a ``Check failed`` title (``_render_traceback_``).
    """

    def __init__(
        self, name: str, problem: str, received: str | None = None, expected: str | None = None, hint: str = ""
    ) -> None:
        self.name, self.problem, self.received, self.expected, self.hint = name, problem, received, expected, hint
        super().__init__("\n".join([f"{name}: {problem}", *self._details()]))

    def __reduce__(self):
        return type(self), (self.name, self.problem, self.received, self.expected, self.hint)

    def _details(self) -> list[str]:
        shown = ((_("received"), self.received), (_("expected"), self.expected), (_("hint"), self.hint or None))
        # a multi-line array lines up under its first line
        return [
            f"  {label}: " + text.replace("\n", "\n" + " " * (_width(label) + 4))
            for label, text in shown
            if text is not None
        ]

    def _render_traceback_(self) -> list[str]:
        """The lines IPython shows for this error: the block and the test cell's line, no frames, no paths."""
        lines = [
            _RED_BOLD + _("Check failed: {name}").format(name=self.name) + _RESET,
            f"  {self.problem}",
            *self._details(),
        ]
        where = _cell_line(self.__traceback__)
        return lines + ([f"{_DIM}{where}{_RESET}"] if where else [])


def _width(text: str) -> int:
    """Columns ``text`` takes in a monospaced font: a Hangul or CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _cell_line(traceback: Any) -> str | None:
    """``Cell In[7], line 3: <code>``, IPython's label of the first notebook-cell frame of a traceback."""
    try:
        import linecache

        from IPython import get_ipython

        shell = get_ipython()
        while traceback is not None and shell is not None:
            filename = traceback.tb_frame.f_code.co_filename
            label = shell.compile.format_code_name(filename)
            if label is not None:
                code = linecache.getline(filename, traceback.tb_lineno).strip()
                code = code if len(code) <= _MAX_CODE else code[: _MAX_CODE - 3] + "..."
                where = _("{cell}, line {line}").format(cell=f"{label[0]} {label[1]}", line=traceback.tb_lineno)
                return where + (f": {code}" if code else "")
            traceback = traceback.tb_next
    except Exception:  # noqa: BLE001, S110 - the location is a courtesy; the block stands without it
        pass
    return None


class Unsupported:
    """A received value that could not cross from the student's process as data."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __repr__(self) -> str:
        return _("<an object of type {type}>").format(type=self.type_name)


def _type_name(value: Any) -> str:
    return value.type_name if isinstance(value, Unsupported) else type(value).__name__


def _fail(
    name: str, problem: str, received: str | None = None, expected: str | None = None, hint: str = ""
) -> NoReturn:
    """Raise the failure; ``name`` and ``hint`` are the test cell's words, translated here."""
    raise CheckFailed(translate(name), problem, received, expected, translate(hint))


def _passed(name: str) -> None:
    print(f"ok: {translate(name)}")


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
        text = f"{text[:-1]}, ...] " + _("(shape {shape}, first {count} shown)").format(
            shape=array.shape, count=_MAX_SHOWN
        )
    return text


def _number(value: Any) -> str:
    return f"{float(value):.8g}"


def _index(array: np.ndarray, flat: int) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(flat, array.shape))


def _shape_problem(got: np.ndarray, want: np.ndarray, what: str = "") -> str | None:
    if got.shape == want.shape:
        return None
    return _("wrong shape {received}, expected shape {expected}").format(received=got.shape, expected=want.shape) + what


def _not_finite_problem(got: np.ndarray, want: np.ndarray) -> str | None:
    """Where ``got`` has NaN or inf and ``want`` a finite number (same shapes, float64)."""
    bad = ~np.isfinite(got) & np.isfinite(want)
    if not np.any(bad):
        return None
    first = int(np.flatnonzero(bad)[0])
    values = _("received {received}, expected {expected}").format(
        received=_number(got.reshape(-1)[first]), expected=_number(want.reshape(-1)[first])
    )
    if got.ndim == 0:
        return _("the value is NaN or inf: {values}").format(values=values)
    return _("{count} of {size} values are NaN or inf, the first at index {index}: {values}").format(
        count=int(np.count_nonzero(bad)), size=got.size, index=_index(got, first), values=values
    )


def _values_problem(got: np.ndarray, want: np.ndarray, wrong: np.ndarray, allowed: np.ndarray | None = None) -> str:
    """How many values are wrong, and the largest difference: where, received, expected, by how much."""
    difference = np.where(wrong, np.abs(got - want), -1.0).reshape(-1)
    worst = int(np.argmax(difference))
    received, expected = got.reshape(-1)[worst], want.reshape(-1)[worst]
    detail = _("received {received}, expected {expected}").format(
        received=_number(received), expected=_number(expected)
    )
    if np.isfinite(difference[worst]):
        detail += _(", off by {difference}").format(difference=f"{difference[worst]:.3g}")
    if allowed is not None and difference[worst] < 100 * allowed.reshape(-1)[worst]:
        detail += _(" (allowed: {allowed})").format(allowed=f"{allowed.reshape(-1)[worst]:.2g}")
    if got.ndim == 0:
        return detail
    count = int(np.count_nonzero(wrong))
    if count > 1:
        where = _("{count} of {size} values differ; the largest difference is at index {index}: {detail}")
    else:
        where = _("{count} of {size} values differ; the difference is at index {index}: {detail}")
    return where.format(count=count, size=got.size, index=_index(got, worst), detail=detail)


def _dtype_problem(got: np.ndarray, dtype: Any) -> str | None:
    if got.dtype == np.dtype(dtype):
        return None
    return _("the values are right but the dtype is {received}, expected {expected}").format(
        received=got.dtype, expected=np.dtype(dtype)
    )


def as_plain_array(name: str, received: Any, hint: str = "") -> np.ndarray:
    """The received value as a plain ``np.ndarray`` of numbers, or a failed check.

    Subclasses of ndarray and objects that merely pretend to be arrays are
    converted to a base ndarray, so their own ``__eq__`` plays no part.
    """
    if received is None:
        _fail(name, _("your code returned None"), hint=hint or _("did you forget a `return` statement?"))
    if isinstance(received, np.ndarray):
        array = np.array(received, copy=True, subok=False)
    elif isinstance(received, (int, float, bool, np.number, np.bool_, list, tuple)):
        try:
            array = np.array(received, subok=False)
        except ValueError as error:
            _fail(name, _("could not be read as an array of numbers ({error})").format(error=error), hint=hint)
    else:
        _fail(
            name,
            _("expected a NumPy array or a number, got an object of type {type}").format(type=_type_name(received)),
            hint=hint,
        )
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        _fail(name, _("expected numbers, got an array of dtype {dtype}").format(dtype=array.dtype), hint=hint)
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
    """Check that ``received`` equals ``expected`` within tolerances: shape, then values, then dtype.

    Args:
        name: what is checked, in words a learner understands.
        received: the student's result (array or number).
        expected: the right answer.
        rtol, atol: as in ``np.allclose``: |received - expected| <= atol + rtol * |expected|.
        dtype: if given, the received array must have exactly this dtype (checked after the values).
        hint: what to look at when the check fails.
    """
    got = as_plain_array(name, received, hint)
    want = np.asarray(expected)
    problem = _shape_problem(got, want)
    if problem:
        _fail(name, problem, hint=hint)
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    # a number's problem line says both
    shown: tuple[str | None, str | None] = (_show(got), _show(want)) if got.ndim else (None, None)
    problem = _not_finite_problem(got64, want64)
    if problem:
        _fail(name, problem, *shown, hint)
    close = np.isclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        allowed = atol + rtol * np.abs(want64)
        _fail(name, _values_problem(got64, want64, ~close, allowed), *shown, hint)
    problem = _dtype_problem(got, dtype) if dtype is not None else None
    if problem:
        _fail(name, problem, hint=hint or _("keep float32 end to end"))
    _passed(name)


def check_equal(name: str, received: Any, expected: Any, *, hint: str = "") -> None:
    """Check exact equality of plain values: ints, strings, tuples, integer arrays, shapes."""
    if isinstance(expected, np.ndarray) or isinstance(received, np.ndarray):
        got = as_plain_array(name, received, hint)
        want = np.asarray(expected)
        problem = _shape_problem(got, want)
        if problem:
            _fail(name, problem, _show(got), _show(want), hint)
        if not np.array_equal(got, want):
            got64, want64 = got.astype(np.float64), want.astype(np.float64)
            _fail(name, _values_problem(got64, want64, got != want), _show(got), _show(want), hint)
    else:
        if type(received) not in (int, float, str, bool, tuple, list, type(None)) and not isinstance(
            received, np.generic
        ):
            _fail(
                name,
                _("expected a plain value like {expected}, got type {type}").format(
                    expected=repr(expected), type=_type_name(received)
                ),
                hint=hint,
            )
        plain = received.item() if isinstance(received, np.generic) else received
        if not _plain_equal(plain, expected):
            _fail(name, _("values differ"), repr(received), repr(expected), hint)
        if type(plain) is not type(expected):
            _fail(
                name,
                _("the value is right but its type is {received}, expected {expected}").format(
                    received=type(plain).__name__, expected=type(expected).__name__
                ),
                repr(received),
                repr(expected),
                hint,
            )
    _passed(name)


def _plain_equal(received: Any, expected: Any) -> bool:
    try:
        return bool(received == expected)
    except Exception:  # noqa: BLE001 - values that cannot even be compared (a list of arrays) are not equal
        return False


def check_shape(name: str, received: Any, shape: tuple[int, ...], *, hint: str = "") -> None:
    """Check an array's shape."""
    got = as_plain_array(name, received, hint)
    if got.shape != tuple(shape):
        _fail(
            name,
            _("wrong shape {received}, expected shape {expected}").format(received=got.shape, expected=tuple(shape)),
            hint=hint,
        )
    _passed(name)


def check_dtype(name: str, received: Any, dtype: Any, *, hint: str = "") -> None:
    """Check an array's dtype exactly (float32 stays float32)."""
    got = as_plain_array(name, received, hint)
    if got.dtype != np.dtype(dtype):
        _fail(
            name,
            _("wrong dtype {received}, expected {expected}").format(received=got.dtype, expected=np.dtype(dtype)),
            hint=hint or _("a float64 constant such as np.float64(0.5) or np.exp of a float64 promotes float32 arrays"),
        )
    _passed(name)


def check_true(name: str, condition: bool, *, message: str = N_("the condition does not hold"), hint: str = "") -> None:
    """Check a yes/no property computed in the test cell (never in student code)."""
    if not isinstance(condition, (bool, np.bool_)):
        _fail(name, _("the check needs True or False, got {type}").format(type=_type_name(condition)), hint=hint)
    if not bool(condition):
        _fail(name, translate(message), hint=hint)
    _passed(name)


def check_unchanged(name: str, before: np.ndarray, after: np.ndarray, *, hint: str = "") -> None:
    """Check that an input array was not modified (compare a copy taken before the call)."""
    was, now = np.asarray(before), np.asarray(after)
    if not np.array_equal(was, now, equal_nan=True):
        if was.shape != now.shape:
            detail = _("its shape changed from {before} to {after}").format(before=was.shape, after=now.shape)
        else:
            same = was == now
            if was.dtype.kind in "fc" and now.dtype.kind in "fc":
                same |= np.isnan(was) & np.isnan(now)
            changed = ~np.asarray(same)
            first = int(np.flatnonzero(changed)[0])
            changes = (
                _("{count} of {size} values changed, the first at index {index}: {before} became {after}")
                if was.ndim
                else _("{count} of {size} values changed, the first: {before} became {after}")
            )
            detail = changes.format(
                count=int(np.count_nonzero(changed)),
                size=was.size,
                index=_index(was, first),
                before=repr(was.reshape(-1)[first].item()),
                after=repr(now.reshape(-1)[first].item()),
            )
        _fail(
            name,
            _("your function modified its input array: {detail}").format(detail=detail),
            hint=hint
            or _("work on a copy or build a new array; never write into an argument (no `x[...] = ` or `x *= `)"),
        )
    _passed(name)


def check_gradient(name: str, analytic: Any, numeric: Any, *, tol: float = 1e-7, hint: str = "") -> None:
    """Check an analytic gradient against a numerical one by relative error: shape, NaN or inf, then values."""
    from solutions.gradcheck import gradient_report, relative_error

    got = as_plain_array(name, analytic, hint)
    want = np.asarray(numeric, dtype=np.float64)
    problem = _shape_problem(got, want, _(" (the gradient has the shape of the input)"))
    if problem:
        _fail(name, problem, hint=hint)
    problem = _not_finite_problem(got.astype(np.float64), want)
    if problem:
        _fail(name, problem, _show(got), _show(want), hint)
    if relative_error(got, want) > tol:
        first, *rest = gradient_report(got, want, "gradient").replace("gradient: ", "", 1).split("\n")
        _fail(name, "\n".join([first + _(" (tolerance {tolerance})").format(tolerance=f"{tol:g}"), *rest]), hint=hint)
    _passed(name)


def check_raises(name: str, function: Callable[[], Any], exception: type[BaseException], *, hint: str = "") -> None:
    """Check that calling ``function()`` raises ``exception`` (e.g. ValueError for bad input)."""
    try:
        function()
    except Exception as error:  # noqa: BLE001 - compared below, by class name
        check_raised(
            name,
            [cls.__name__ for cls in type(error).__mro__],
            exception.__name__,
            hint=hint,
            detail=f"{type(error).__name__}: {error}",
        )
        return
    check_raised(name, None, exception.__name__, hint=hint)


def check_raised(name: str, raised: list[str] | None, exception: str, *, hint: str = "", detail: str = "") -> None:
    """Check what a call raised, given as the class names of the error (most derived first) or None."""
    if raised is None:
        _fail(name, _("raised nothing, expected {exception}").format(exception=exception), hint=hint)
    if not isinstance(raised, list) or not all(isinstance(n, str) for n in raised) or not raised:
        _fail(name, _("no record of what was raised, expected {exception}").format(exception=exception), hint=hint)
    if exception not in raised:
        _fail(
            name,
            _("raised {raised}, expected {exception}").format(raised=detail or raised[0], exception=exception),
            hint=hint,
        )
    _passed(name)
