"""Sealed scoring, step 2: the grader compares, outside the student's process, and decides the points.

* **Expectations** (``expectations_of``): the chapter's reference run
  (``autograder.release.reference_run``: the source notebook with its reference answers,
  once, in a trusted kernel) has its test cells in expect form (``autograder.grade.seal``),
  which records every check's name, kind and arguments as data; the reference's own values
  must pass when compared here. A batch ships them to its workers with the chapter's release
  (``autograder.batch.dispatch``).
* **Scores** (``ScoreTestCells``, after a submission ran): each received value is
  compared with its expectation by the same ``autograder.runtime.checks`` function the
  notebook uses, and the test cell's outputs become the grader's verdict: ``ok: <name>``
  lines and, for the first failing check, one error output with the learner's message.
  Whatever the kernel printed or raised in a test cell is dropped, so nbgrader's
  ``SaveAutoGrades`` sees only the verdict.

A received value is data only: arrays, NumPy scalars, Python numbers, strings, lists
and tuples of them (``autograder.runtime.probe.encode``), read with
``np.load(allow_pickle=False)``. A check with no received value (the cell raised, was
skipped, the kernel died) fails.
"""

from __future__ import annotations

import base64
import contextlib
import io
from typing import Any

import nbformat
import numpy as np
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Any as AnyTrait

from autograder.grade.feedback import EXPLAIN, HIDDEN_TESTS_CHECK, RED, RESET, SEALED_ERROR
from autograder.grade.seal import REQUIRED, SENT, SOURCES, SealingError, rewrite
from autograder.plumbing import is_test_cell
from autograder.runtime import checks
from autograder.runtime.i18n import _, translate, using
from autograder.runtime.probe import RECORD_MIME

# ---------------------------------------------------------------------------
# data that crossed from a kernel
# ---------------------------------------------------------------------------


def decode(data: Any) -> Any:
    """Inverse of ``autograder.runtime.probe.encode``; malformed data becomes ``checks.Unsupported``."""
    if not isinstance(data, dict) or len(data) != 1:
        return checks.Unsupported("malformed data")
    ((key, value),) = data.items()
    try:
        if key == "py" and (value is None or isinstance(value, bool)):
            return value
        if key == "int":
            return int(value)
        if key == "float":
            return float(value)
        if key == "str" and isinstance(value, str):
            return value
        if key in ("ndarray", "scalar"):
            array = np.load(io.BytesIO(base64.b64decode(value, validate=True)), allow_pickle=False)
            return array if key == "ndarray" else array[()]
        if key in ("list", "tuple") and isinstance(value, list):
            items = [decode(item) for item in value]
            return items if key == "list" else tuple(items)
        if key == "exception" and isinstance(value, str):
            return value
        if key == "dtype" and isinstance(value, str):
            return np.dtype(value)
        if key == "unsupported":
            return checks.Unsupported(str(value)[:100])
    except (ValueError, TypeError, OverflowError):
        pass
    return checks.Unsupported("malformed data")


def records_of(outputs: list) -> list[dict]:
    """The probe records among a cell's outputs (display data of ``RECORD_MIME``)."""
    return [
        o["data"][RECORD_MIME]
        for o in outputs
        if o.get("output_type") == "display_data" and RECORD_MIME in (o.get("data") or {})
    ]


# ---------------------------------------------------------------------------
# expectations: the reference run
# ---------------------------------------------------------------------------


def expect_notebook(source_nb) -> NotebookNode:
    """The source notebook with every test cell in expect form."""
    nb = nbformat.from_dict(source_nb)
    for index, cell in enumerate(nb.cells):
        if is_test_cell(cell):
            try:
                cell.source = rewrite(cell.source, "expect")
            except SealingError as error:
                raise SealingError(
                    f"test cell {cell.metadata.nbgrader['grade_id']} (cell {index + 1}): {error}"
                ) from None
    return nb


def expectations_of(executed_nb) -> dict[str, list[dict]]:
    """Each test cell's checks, as data, from a reference run (``autograder.release.reference_run``).

    The reference answers must pass: a cell that raised in the run, or a check whose own values
    fail when compared here, outside the kernel, stops with ``SealingError`` naming it.
    """
    from autograder.release.reference_run import errors

    failed = errors(executed_nb)
    if failed:
        where = "; ".join(
            f"cell {index + 1} ({cell_id}): {name}: {str(message)[:300]}"
            for index, cell_id, name, message in failed[:3]
        )
        raise SealingError(f"the reference answers fail in the reference run: {where}")
    expectations: dict[str, list[dict]] = {}
    for cell in executed_nb.cells:
        if not is_test_cell(cell):
            continue
        expectations[cell.metadata.nbgrader["grade_id"]] = [
            {**record, "occurrence": occurrence} for (_, occurrence), record in numbered(records_of(cell.outputs))
        ]
    for grade_id, checks_of_cell in expectations.items():
        for expectation in checks_of_cell:  # the reference's own values must pass outside its kernel
            sent = (*SENT[expectation["kind"]], *expectation.get("relational", ()))
            own = {k: v for k, v in expectation["arguments"].items() if k in sent}
            problem = judge(expectation, own)
            if problem is not None:
                raise SealingError(
                    f"test cell {grade_id}: the reference's own values fail when compared outside its kernel: {problem}"
                )
    return expectations


# ---------------------------------------------------------------------------
# scoring outside the student's process
# ---------------------------------------------------------------------------


def judge(expectation: dict, values: Any) -> str | None:
    """None if the received ``values`` pass the check ``expectation``; else the learner's message."""
    kind, name = expectation["kind"], expectation["name"]
    relational = tuple(expectation.get("relational", ()))
    if not isinstance(values, dict) or not all(p in values for p in (*REQUIRED[kind], *relational)):
        return _("{name}: no value was received for this check").format(name=translate(name))
    arguments = {key: decode(value) for key, value in expectation["arguments"].items()}
    for parameter in (*SENT[kind], *relational):
        if parameter in values:
            arguments[parameter] = decode(values[parameter])
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            if kind == "raises":
                checks.check_raised(name, arguments["raised"], arguments["exception"], hint=arguments.get("hint", ""))
            else:
                arguments.pop("raised", None)
                getattr(checks, f"check_{kind}")(name, **arguments)
    except checks.CheckFailed as failure:
        return str(failure)
    except Exception as error:  # noqa: BLE001 - data that cannot be compared fails the check
        return _("{name}: the received value could not be compared ({error})").format(
            name=translate(name), error=type(error).__name__
        )
    return None


def numbered(records: list) -> list[tuple[tuple[int, int], dict]]:
    """Each record with its (site, occurrence): the n-th record of a site, in the order they arrived."""
    seen: dict[int, int] = {}
    result = []
    for record in records:
        site = record.get("site") if isinstance(record, dict) else None
        if not isinstance(site, int):
            continue
        seen[site] = seen.get(site, -1) + 1
        result.append(((site, seen[site]), record))
    return result


def received_by_check(records: list[dict]) -> dict[tuple[int, int], Any]:
    """The values of each (site, occurrence)."""
    return {key: record.get("values") for key, record in numbered(records)}


def verdict(expected: list[dict], records: list[dict]) -> tuple[list[str], dict | None]:
    """Names of the checks passed before the first failure, and that failure (None if all passed).

    The failure is ``{"check": expectation, "message": str, "received": bool}``.
    """
    received = received_by_check(records)
    passed: list[str] = []
    for expectation in expected:
        key = (expectation["site"], expectation["occurrence"])
        message = judge(expectation, received.get(key))
        if message is not None:
            return passed, {"check": expectation, "message": message, "received": key in received}
        passed.append(expectation["name"])
    return passed, None


# ---------------------------------------------------------------------------
# the nbgrader preprocessor
# ---------------------------------------------------------------------------


class ScoreTestCells(NbGraderPreprocessor):
    """After execution: each test cell's outputs become the grader's verdict, in the submission's language
    (``autograder.release.translated.submission_language``); its source is restored."""

    expectations = AnyTrait(
        None,
        help="a callable returning the chapter's expectations (grade id -> checks): a handle, because traitlets "
        "deep-copies a configured value for every configurable, and chapter 10's expectations are ~80 MB",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        from autograder.release.translated import submission_language

        with using(submission_language(nb, resources.get("nbgrader", {}).get("assignment", ""))):
            return self._score(nb, resources)

    def _score(self, nb, resources):
        expectations = self.expectations()
        originals = resources.get(SOURCES, {})
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if index in originals and is_test_cell(cell):
                grade_id = cell.metadata.nbgrader["grade_id"]
                if grade_id not in expectations:
                    raise SealingError(f"no expected values for test cell {grade_id}: regenerate the course folder")
                passed, failure = verdict(expectations[grade_id], records_of(cell.outputs))
                cell.outputs = verdict_outputs(passed, failure, kernel_error(cell.outputs))
                cell.source = originals[index]
            else:
                cell.outputs = [o for o in cell.outputs if not records_of([o])]
        return nb, resources


def kernel_error(outputs: list) -> tuple[str, str] | None:
    """(ename, first line of evalue) of the first error the kernel (or the grader) put in a cell."""
    for output in outputs:
        if output.get("output_type") == "error":
            evalue = str(output.get("evalue", "")).strip()
            return str(output.get("ename", "Error"))[:100], (evalue.splitlines()[0][:300] if evalue else "")
    return None


def verdict_outputs(passed: list[str], failure: dict | None, error: tuple[str, str] | None) -> list[NotebookNode]:
    """``ok: <name>`` lines, then the first failure as one error output (ename ``TestFailed``)."""
    outputs = []
    if passed:
        text = "".join(f"ok: {translate(name)}\n" for name in passed)
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=text))
    if failure is None:
        return outputs
    check, hidden = failure["check"], failure["check"]["hidden"]
    name = translate(check["name"])
    if failure["received"]:
        if hidden:
            lines = [_("A hidden test failed: {name}").format(name=name), _(HIDDEN_TESTS_CHECK)]
        else:
            lines = [_("Check failed: {message}").format(message=failure["message"])]
    elif error is not None:
        ename, evalue = error
        said = f"{ename}: {translate(evalue)}" if evalue else ename  # a stub's message, translated
        lines = [
            _("A hidden test raised {error}").format(error=said)
            if hidden
            else _("{error} (before the check '{name}')").format(error=said, name=name)
        ]
        if ename in EXPLAIN:
            lines.append(_("hint: {hint}").format(hint=_(EXPLAIN[ename])))
    else:
        lines = [
            _("A hidden test: the cell did not run this check")
            if hidden
            else _("{name}: the cell did not run this check").format(name=name)
        ]
    first, *rest = "\n".join(lines)[:2000].splitlines()
    outputs.append(
        NotebookNode(
            output_type="error",
            ename=SEALED_ERROR,
            evalue="\n".join([first, *rest]),
            traceback=[f"{RED}{first}{RESET}", *rest],
        )
    )
    return outputs
