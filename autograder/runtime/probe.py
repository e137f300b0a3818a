"""The kernel's side of sealed scoring: test cells hand out data, never verdicts.

When the grader runs a submission, each test cell is rewritten (``autograder.grade.seal``)
so that every ``check_*(name, received, expected, ...)`` call becomes
``_autograder_probe.close(site, received)``: the values the student's code produced
are sent to the grader as plain data (NumPy ``.npy`` bytes with ``allow_pickle=False``,
numbers, strings) in a display message of type ``RECORD_MIME``, which the grader takes
out of the notebook. The expected value, the tolerances and the comparison are not in
the student's process at all: the grader compares outside it.

``expect`` is the reference run's side: the source notebook, with the same rewriting,
records the expected values (and runs the real check, so a wrong reference is noticed).
``watch`` is the recording run's side (``autograder.release.recorded_calls``): it wraps the
graded answers so that each call a *visible* check depends on is sent out as data
(``CALL_MIME``), for the release's probe of the student edition (``autograder.release.leaks``).

Only NumPy and IPython are imported: this module runs inside the sandboxed kernel.
"""

from __future__ import annotations

import base64
import functools
import inspect
import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np

RECORD_MIME = "application/x-autograder-record+json"
MAX_DEPTH = 4  # nesting of lists and tuples kept as data
MAX_ITEMS = 10_000  # items of a list or tuple kept as data


def _npy(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode(value: Any, depth: int = 0) -> dict:
    """``value`` as JSON-ready plain data; anything else becomes ``{"unsupported": type name}``.

    Arrays (subclasses included) are copied into a base ndarray, so no method of the
    student's classes runs on the grader's side; object arrays are not data.
    """
    kind = type(value)
    if kind is bool or value is None:
        return {"py": value}
    if kind is int:
        return {"int": str(value)}
    if kind is float:
        return {"float": repr(value)}
    if kind is str:
        return {"str": value}
    if isinstance(value, (np.ndarray, np.generic)):
        try:
            array = np.array(value, copy=True, subok=False)
        except Exception:  # noqa: BLE001 - a hostile __array__ is no data
            return {"unsupported": type(value).__name__}
        if array.dtype.hasobject or array.dtype.kind not in "biufcSUM":
            return {"unsupported": f"{type(value).__name__} of dtype {array.dtype}"}
        key = "ndarray" if isinstance(value, np.ndarray) else "scalar"
        return {key: _npy(array)}
    if kind in (list, tuple) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {kind.__name__: [encode(item, depth + 1) for item in value]}
    if isinstance(value, type) and issubclass(value, BaseException):
        return {"exception": value.__name__}
    if isinstance(value, type) and issubclass(value, np.generic) or isinstance(value, np.dtype):
        return {"dtype": np.dtype(value).str}
    return {"unsupported": type(value).__name__}


def _publish(record: dict) -> None:
    from IPython.display import publish_display_data

    publish_display_data({RECORD_MIME: record})


# ---------------------------------------------------------------------------
# the student's run: one function per check, the received values only
# ---------------------------------------------------------------------------


def _send(site: int, **values: Any) -> None:
    _publish({"site": site, "values": {name: encode(value) for name, value in values.items()}})


def close(site: int, received: Any, **relational: Any) -> None:
    _send(site, received=received, **relational)


def equal(site: int, received: Any, **relational: Any) -> None:
    _send(site, received=received, **relational)


def shape(site: int, received: Any, **relational: Any) -> None:
    _send(site, received=received, **relational)


def dtype(site: int, received: Any, **relational: Any) -> None:
    _send(site, received=received, **relational)


def true(site: int, condition: Any, message: Any = None, **relational: Any) -> None:
    values = {"condition": condition, **relational}
    if message is not None:
        values["message"] = message
    _send(site, **values)


def unchanged(site: int, before: Any, after: Any, **relational: Any) -> None:
    _send(site, before=before, after=after, **relational)


def gradient(site: int, analytic: Any, numeric: Any, **relational: Any) -> None:
    _send(site, analytic=analytic, numeric=numeric, **relational)


def raised_by(function: Callable[[], Any]) -> list[str] | None:
    """The class names (most derived first) of what ``function()`` raised, or None."""
    try:
        function()
    except Exception as error:  # noqa: BLE001 - what was raised is the datum
        return [cls.__name__ for cls in type(error).__mro__]
    return None


def raises(site: int, function: Callable[[], Any], **relational: Any) -> None:
    _send(site, raised=raised_by(function), **relational)


# ---------------------------------------------------------------------------
# the reference run: everything the check was given, and the real check
# ---------------------------------------------------------------------------


def expect(site: int, kind: str, hidden: bool, relational: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
    """Record one check of the reference run (every argument, as data), then run the check itself."""
    from . import checks

    check = getattr(checks, f"check_{kind}")
    _send_calls(hidden)
    bound = inspect.signature(check).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    name = str(arguments.pop("name"))
    if kind == "raises":  # the function is called once; what it raised is the datum
        arguments["raised"] = raised_by(arguments.pop("function"))
    _publish(
        {
            "site": site,
            "kind": kind,
            "hidden": hidden,
            "name": name,
            "relational": list(relational),
            "arguments": {key: encode(value) for key, value in arguments.items()},
        }
    )
    if kind == "raises":
        checks.check_raised(name, arguments["raised"], arguments["exception"].__name__, hint=arguments["hint"])
    else:
        check(*args, **kwargs)


# ---------------------------------------------------------------------------
# the recording run: the graded answers' calls that a check depends on
# ---------------------------------------------------------------------------

CALL_MIME = "application/x-autograder-call+json"
MAX_CALLS = 6  # calls of one answer recorded per test cell
MAX_CALL_BYTES = 2_000_000  # array bytes of one call's arguments and result; larger calls are not recorded
_pending: list[tuple[int, dict]] = []  # (cell, call) made since the last check
_counts: dict[tuple[int, str], int] = {}


def watch(namespace: dict, names: list[str]) -> None:
    """Replace the functions ``names`` of ``namespace`` by wrappers that record their calls."""
    for name in names:
        function = namespace.get(name)
        if inspect.isfunction(function) and not hasattr(function, "__autograder_watched__"):
            namespace[name] = _watched(name, function)


def _cell() -> int:
    from IPython import get_ipython

    shell = get_ipython()
    return shell.execution_count if shell is not None else 0


def _watched(name: str, function: Callable) -> Callable:
    signature = inspect.signature(function)
    parameters = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    defaults = {p.name: p.default for p in signature.parameters.values() if p.default is not p.empty}

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = (_cell(), name)
        if _counts.get(key, 0) >= MAX_CALLS or _nbytes((args, kwargs)) > MAX_CALL_BYTES:
            return function(*args, **kwargs)
        call = {
            "answer": name,
            "args": call_data(list(args)),
            "kwargs": call_data(kwargs),
            "parameters": parameters,
            "defaults": call_data({k: v for k, v in defaults.items() if k not in kwargs}),
        }
        result = function(*args, **kwargs)  # the arguments were encoded before: the function may change them
        if _nbytes(result) <= MAX_CALL_BYTES:
            call["result"] = call_data(result)
            if "unsupported" not in repr(call["args"]) + repr(call["kwargs"]) + repr(call["result"]):
                _pending.append((key[0], call))
                _counts[key] = _counts.get(key, 0) + 1
        return result

    wrapper.__autograder_watched__ = True  # type: ignore[attr-defined]
    return wrapper


def call_data(value: Any, depth: int = 0) -> dict:
    """``encode``, extended for calls: dicts with string keys, and NumPy Generators (their state)."""
    if isinstance(value, dict) and depth < MAX_DEPTH and all(isinstance(k, str) for k in value):
        return {"dict": {k: call_data(v, depth + 1) for k, v in value.items()}}
    if type(value) in (list, tuple) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return {type(value).__name__: [call_data(item, depth + 1) for item in value]}
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        try:
            return {"rng": json.loads(json.dumps(state))}
        except TypeError:  # a bit generator whose state holds arrays
            return {"unsupported": "Generator"}
    return encode(value, depth)


def _nbytes(value: Any, depth: int = 0) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if depth < MAX_DEPTH and isinstance(value, (list, tuple)):
        return sum(_nbytes(item, depth + 1) for item in value)
    if depth < MAX_DEPTH and isinstance(value, dict):
        return sum(_nbytes(item, depth + 1) for item in value.values())
    return 0


def take_calls(cell: int) -> list[dict]:
    """The calls recorded in ``cell`` since the last check (those of earlier cells are dropped)."""
    calls = [call for made_in, call in _pending if made_in == cell]
    _pending.clear()
    return calls


def _send_calls(hidden: bool) -> None:
    """Send the calls this cell made since the last check, as the inputs of a visible or hidden check."""
    calls = take_calls(_cell())
    if calls:
        from IPython.display import publish_display_data

        publish_display_data({CALL_MIME: {"hidden": hidden, "calls": calls}})
