"""The leak probe's worker: call every public callable of a student edition on the graded answers' inputs.

Run as a script in a subprocess (``autograder.release.leaks`` starts it), with the student
edition's folder first on ``sys.path``, so that ``import solutions`` is the edition and not
the full library::

    python reproduce.py EDITION TASK.pickle RESULT.pickle

``TASK`` holds the recorded calls of the graded answers (``autograder.release.recorded_calls``),
decoded: ``[{"chapter", "answer", "calls": [{"args", "kwargs", "parameters", "defaults",
"result"}]}]``. For each call, every public function and class of every module of the
edition is tried:

* a function with the call's arguments as they were given, all positional in the answer's
  order, or all by the answer's parameter names, each with and without the answer's defaults;
* a class built from the call's numbers (none, by name, or in order), then each of its
  public methods given the call's other arguments, in order, by name, or each array as a
  one-entry dict (the ``update(params, grads)`` form).

An attempt reproduces the answer when a value it yields (its result, an element of a tuple
result, or an argument it changed in place) equals the answer's result, or the first element
of a tuple result (``np.allclose``, same shape). Results that prove nothing are skipped: None,
booleans, strings, 0 and +-1, all-zero arrays, and a result equal to one of the call's inputs.
An attempt that raises, or runs longer than ``ATTEMPT_SECONDS``, is no reproduction; a
candidate whose attempts take longer than ``CANDIDATE_SECONDS`` in all (a plot that draws
thousands of panels) is reported as not fully probed. Times are CPU times of this process.

Only the standard library and NumPy are imported here (and the edition).
"""

from __future__ import annotations

import copy
import importlib
import inspect
import io
import os
import pickle
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

# CPU seconds (this process's), so that a loaded machine probes as much as a quiet one
ATTEMPT_SECONDS = 1.0  # one call of a candidate
CANDIDATE_SECONDS = 4.0  # all the calls of one candidate; beyond, it is reported as not fully probed
MEMORY_BYTES = 4 * 2**30
RTOL, ATOL = 1e-5, 1e-8


class AttemptTimeout(BaseException):
    """An attempt ran longer than ATTEMPT_SECONDS (a BaseException: library code may catch Exception)."""


def _on_timer(signum, frame):
    raise AttemptTimeout


# ---------------------------------------------------------------------------
# comparing values
# ---------------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal as data: dicts key by key, sequences element by element, numbers and arrays by np.allclose."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if (
        isinstance(a, (list, tuple))
        and isinstance(b, (list, tuple))
        and (len(a) != len(b) or any(isinstance(x, (list, tuple, dict)) for x in (*a, *b)))
    ):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    try:
        x, y = np.asarray(a), np.asarray(b)
    except Exception:  # noqa: BLE001 - not data
        return False
    if x.shape != y.shape or x.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        return False
    return bool(np.allclose(x, y, rtol=RTOL, atol=ATOL, equal_nan=True))


def telling(value: Any, inputs: list[Any]) -> bool:
    """Does matching ``value`` prove anything? Not for None, booleans, strings, 0, +-1, zeros, or an input."""
    if value is None or isinstance(value, (bool, str, bytes)):
        return False
    if isinstance(value, dict):
        return any(telling(v, inputs) for v in value.values()) and not any(same(value, i) for i in inputs)
    try:
        array = np.asarray(value, dtype=float)
    except Exception:  # noqa: BLE001 - a nested structure: telling if any part is
        return isinstance(value, (list, tuple)) and any(telling(v, inputs) for v in value)
    if array.size == 0 or not np.any(array) or (array.size == 1 and abs(float(array.ravel()[0])) == 1.0):
        return False
    return not any(same(value, i) for i in inputs)


def targets(result: Any, inputs: list[Any]) -> list[Any]:
    """The answer's result, and the first element of a tuple result, where matching them proves something."""
    found = [result]
    if isinstance(result, (tuple, list)) and result and not isinstance(result[0], (dict, list, tuple)):
        found.append(result[0])
    return [t for t in found if telling(t, inputs)]


def yielded(returned: Any, before: list[Any], after: list[Any]) -> list[Any]:
    """What an attempt produced: its result, each element of a tuple result, each input it changed in place."""
    values = [returned]
    if isinstance(returned, (tuple, list)):
        values += list(returned)
    for old, new in zip(before, after, strict=True):
        if not same(old, new):
            values.append(new)
            if isinstance(new, dict) and len(new) == 1:
                values += list(new.values())
    return values


# ---------------------------------------------------------------------------
# the attempts
# ---------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return type(value) in (int, float)


Variant = tuple[str, list, dict]  # (how, args, kwargs)


@dataclass
class Call:
    """One recorded call of a graded answer, with the argument lists every attempt draws from."""

    chapter: str
    answer: str
    inputs: list[Any]
    wanted: list[Any]
    as_function: list[Variant]  # a function's arguments
    numbers: dict[str, Any]  # a constructor's arguments
    as_method: list[Variant]  # a method's arguments

    @classmethod
    def prepare(cls, chapter: str, answer: str, call: dict) -> Call:
        args, kwargs, names = list(call["args"]), dict(call["kwargs"]), list(call["parameters"])
        given = dict(zip(names, args, strict=False)) | kwargs
        as_function = [("as called", args, kwargs)]
        for label, values in (("", given), (" with the answer's defaults", given | call["defaults"])):
            ordered = [n for n in names if n in values]
            if ordered == names[: len(ordered)]:
                as_function.append(("positionally" + label, [values[n] for n in ordered], {}))
            as_function.append(("by name" + label, [], {n: values[n] for n in ordered}))
        others = {n: v for n, v in given.items() if not is_number(v)}
        in_dicts = [{"p": v} if isinstance(v, np.ndarray) else v for v in others.values()]
        as_method = [
            ("the other arguments in order", list(others.values()), {}),
            ("the other arguments by name", [], others),
            ("each array in a dict", in_dicts, {}),
            *as_function,
        ]
        inputs = [*args, *kwargs.values()]
        return cls(
            chapter,
            answer,
            inputs,
            targets(call["result"], inputs),
            as_function,
            {n: v for n, v in given.items() if is_number(v)},
            as_method,
        )


@cache
def signature_of(function: Callable) -> inspect.Signature | None:
    try:
        return inspect.signature(function)
    except (TypeError, ValueError):
        return None


def fitted(function: Callable, args: list, kwargs: dict, skip_self: bool = False) -> tuple[list, dict] | None:
    """The arguments as they bind to ``function``'s signature, else the leading positional ones that do; or None."""
    signature = signature_of(function)
    if signature is None:
        return None
    lead = [None] if skip_self else []
    for count in range(len(args), -1, -1):
        try:
            signature.bind(*lead, *args[:count], **kwargs)
        except TypeError:
            if kwargs:
                return None
            continue
        return args[:count], kwargs
    return None


def attempt(function: Callable, args: list, kwargs: dict, call: Call) -> bool:
    """Call ``function`` on fresh copies of the arguments; True if it yields what the answer returned."""
    fresh_args, fresh_kwargs = copy.deepcopy(args), copy.deepcopy(kwargs)
    signal.setitimer(signal.ITIMER_PROF, ATTEMPT_SECONDS)
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            returned = function(*fresh_args, **fresh_kwargs)
    except (Exception, AttemptTimeout):  # noqa: BLE001 - an attempt that raises reproduces nothing
        return False
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        _close_figures()
    values = yielded(returned, [*args, *kwargs.values()], [*fresh_args, *fresh_kwargs.values()])
    return any(same(value, target) for value in values for target in call.wanted)


def _close_figures() -> None:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


def public_callables(edition: Path) -> Iterator[tuple[str, str, Any]]:
    """(module, name, object) of every public function and class defined in a module of ``edition/solutions``."""
    for path in sorted((edition / "solutions").glob("*.py")):
        if path.stem.startswith("_"):
            continue
        module = importlib.import_module(f"solutions.{path.stem}")
        for name, value in sorted(vars(module).items()):
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(value) or (inspect.isclass(value) and not issubclass(value, BaseException)):
                yield path.stem, name, value


@cache
def public_methods(cls: type) -> tuple[str, ...]:
    return tuple(
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_")
        and inspect.isfunction(value)
        and getattr(value, "__module__", "").startswith("solutions")
    )


def constructors(cls: type, call: Call) -> Iterator[Variant]:
    """How to build ``cls`` for a call: with its defaults, or from the call's numbers, by name or in order."""
    signature = signature_of(cls)
    if signature is None:
        return
    yield "its defaults", [], {}
    yield "the call's numbers by name", [], {n: v for n, v in call.numbers.items() if n in signature.parameters}
    yield "the call's numbers in order", list(call.numbers.values()), {}


def reproduction(name: str, value: Any, call: Call) -> str | None:
    """How ``value`` (a function or class of the edition) reproduces the recorded call, or None."""
    tried: dict = {}
    if inspect.isfunction(value):
        for how, args, kwargs in call.as_function:
            fit = fitted(value, args, kwargs)
            if fit is not None and _first_time(tried, "", *fit) and attempt(value, *fit, call):
                return f"{name}(...), the arguments {how}"
        return None
    for built, cargs, ckwargs in constructors(value, call):
        if fitted(value, cargs, ckwargs) != (cargs, ckwargs):
            continue
        for method in public_methods(value):
            for how, args, kwargs in call.as_method:
                fit = fitted(getattr(value, method), args, kwargs, skip_self=True)
                if fit is None or not _first_time(tried, built + method, *fit):
                    continue

                def build_and_call(*a, _method=method, _cargs=cargs, _ckwargs=ckwargs, **k):
                    return getattr(value(*_cargs, **_ckwargs), _method)(*a, **k)

                if attempt(build_and_call, *fit, call):
                    return f"{name}({built}).{method}(...), given {how}"
    return None


def _first_time(tried: dict, where: str, args: list, kwargs: dict) -> bool:
    """True the first time these arguments (the same objects, in the same places) are tried at ``where``."""
    key = (where, tuple(map(id, args)), tuple(sorted((k, id(v)) for k, v in kwargs.items())))
    if key in tried:
        return False
    tried[key] = (args, kwargs)  # keeps the objects alive, so that their ids stay theirs
    return True


def probe(edition: Path, answers: list[dict], budget: float) -> dict:
    """{"found": [(module, name, chapter, answer, how)], "unprobed": [(module, name)], "incomplete": str | None}."""
    signal.signal(signal.SIGPROF, _on_timer)
    sys.path.insert(0, str(edition))
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        candidates = list(public_callables(edition))
    module_file = sys.modules["solutions"].__file__
    assert module_file is not None, "solutions is a package with an __init__.py"
    imported = Path(module_file).resolve()
    if not imported.is_relative_to(edition.resolve()):
        raise RuntimeError(f"import solutions gave {imported}, not the edition in {edition}")
    calls = [Call.prepare(a["chapter"], a["answer"], c) for a in answers for c in a["calls"]]
    calls = [c for c in calls if c.wanted]
    found: list[tuple[str, str, str, str, str]] = []
    unprobed: list[tuple[str, str]] = []
    deadline = time.process_time() + budget
    for module, name, value in candidates:
        started, reproduced = time.process_time(), set()
        for call in calls:
            if (call.chapter, call.answer) in reproduced:
                continue
            now = time.process_time()
            if now > deadline:
                return {
                    "found": found,
                    "unprobed": unprobed,
                    "incomplete": f"the probe ran out of time ({budget:g} CPU seconds) at solutions.{module}.{name}",
                }
            if now - started > CANDIDATE_SECONDS:
                unprobed.append((module, name))
                break
            how = reproduction(name, value, call)
            if how is not None:
                reproduced.add((call.chapter, call.answer))
                found.append((module, name, call.chapter, call.answer, how))
    return {"found": found, "unprobed": unprobed, "incomplete": None}


def main(argv: list[str]) -> int:
    edition, task_file, result_file = Path(argv[1]), Path(argv[2]), Path(argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    os.environ.setdefault("MPLBACKEND", "Agg")
    task = pickle.loads(task_file.read_bytes())
    result = probe(edition, task["answers"], task["budget"])
    result_file.write_bytes(pickle.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
