"""Sealed scoring: the student's process computes data; the grader decides the points.

Stock nbgrader runs the test cells, hidden tests included, inside the student's
kernel and gives the points of a cell when its output shows no error. Code in the
same process can defeat that in many ways (a ``skip-execution`` tag, an input or
AST transformer, an always-true ``__eq__``, a patched ``numpy.testing``, a fake
traceback, a hook that copies the hidden tests, ``os._exit``...). Here:

1. **Expectations** (``ensure_expectations``): once per chapter, the source notebook
   (reference answers, hidden tests) runs in a trusted kernel with every
   ``check_*(...)`` call of its test cells rewritten to ``_autograder_probe.expect``,
   which records each check's name, kind and arguments as data.
2. **Probe form** (``SealTestCells``, before execution): in the submission, every
   test cell is rewritten so that each check call only sends the value(s) the
   student's code produced (``autograder.probe``). The expected values, tolerances,
   hints and the statements that only compute expected values are removed: they
   never enter the student's process. Tags are removed from test cells.
3. **Scores** (``ScoreTestCells``, after execution): the grader compares, outside
   the student's process, each received value with its expectation by calling the
   same ``autograder.checks`` function the notebook uses, and writes the test cell's
   outputs itself: ``ok: <name>`` lines and, for the first failing check, one error
   output with the learner's message. Whatever the kernel printed or raised in a
   test cell is dropped, so nbgrader's ``SaveAutoGrades`` sees only the verdict.

A received value is data only: arrays, NumPy scalars, Python numbers, strings,
lists and tuples of them (``autograder.probe.encode``), read with
``np.load(allow_pickle=False)``. A check with no received value (the cell raised,
was skipped, the kernel died) fails.
"""

from __future__ import annotations

import ast
import base64
import builtins
import contextlib
import hashlib
import inspect
import io
import json
import shutil
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder import checks
from autograder.course import UsageError
from autograder.feedback import EXPLAIN, RED, RESET, SEALED_ERROR, hidden_line_numbers
from autograder.probe import RECORD_MIME

PROBE_MODULE = "_autograder_probe"
PROBE_IMPORT = f"import autograder.probe as {PROBE_MODULE}"

# the parameters of each check whose values the student's process computes
RECEIVED = {
    "close": ("received",),
    "equal": ("received",),
    "shape": ("received",),
    "dtype": ("received",),
    "true": ("condition", "message"),
    "unchanged": ("before", "after"),
    "gradient": ("analytic", "numeric"),
    "raises": ("function",),
}
# the values a probe sends (``autograder.probe``): the same, except that a raises-check sends what was raised
SENT = RECEIVED | {"raises": ("raised",)}
REQUIRED = {kind: tuple(p for p in params if p != "message") for kind, params in SENT.items()}
AST_REQUIRED = {kind: tuple(p for p in params if p != "message") for kind, params in RECEIVED.items()}
SIGNATURES = {kind: inspect.signature(getattr(checks, f"check_{kind}")) for kind in RECEIVED}


class SealingError(UsageError):
    """A test cell cannot be rewritten or scored: a problem of the chapter, not of a submission (exit status 2)."""


# ---------------------------------------------------------------------------
# rewriting test cells
# ---------------------------------------------------------------------------


def is_test_cell(cell: NotebookNode) -> bool:
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _assigned_names(statement: ast.stmt) -> set[str] | None:
    """Names a plain ``a = ...`` / ``a, b = ...`` assigns; None for any other statement."""
    if not isinstance(statement, ast.Assign):
        return None
    names = set()
    for target in statement.targets:
        elements = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        if not all(isinstance(e, ast.Name) for e in elements):
            return None
        names.update(e.id for e in elements)
    return names


# names a test cell may use without their values coming from the student's code
TRUSTED_NAMES = frozenset(dir(builtins)) | {
    "np", "numpy", "math", "solutions", "activations", "losses", "layers", "init", "optim", "network", "train",
    "gradcheck", "data", "search", "plots",
}
NEVER_RELATIONAL = {"name", "hint"}


def student_derived(module: ast.Module) -> set[str]:
    """Names whose values may come from the student's code: every name the cell uses but neither
    assigns, defines, imports nor trusts (the student's functions, earlier results), and every name
    the cell assigns from one of those."""
    assigned, defined = set(), set()
    for node in ast.walk(module):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            assigned.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
    derived = _loaded_names(module) - assigned - defined - TRUSTED_NAMES
    bindings = [(t, v) for node in ast.walk(module) for t, v in _bindings(node)]
    changed = True
    while changed:
        changed = False
        for target, value in bindings:
            if _loaded_names(value) & derived:
                new = {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} - derived
                if new:
                    derived |= new
                    changed = True
    return derived


def _bindings(node: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """(target, value) pairs of the statements and expressions that bind names."""
    if isinstance(node, ast.Assign):
        return [(t, node.value) for t in node.targets]
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
        return [(node.target, node.value)]
    if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
        return [(node.target, node.iter)]
    if isinstance(node, ast.NamedExpr):
        return [(node.target, node.value)]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [(node.optional_vars, node.context_expr)]
    return []


def relational_parameters(kind: str, given: dict[str, ast.AST], derived: set[str]) -> tuple[str, ...]:
    """Expected-side parameters computed from the student's own results (a consistency check such as
    ``check_close("out = x * mask", out, x * mask)``): they are computed in the student's process and
    sent with the received values, since the reference's values would not be the student's."""
    return tuple(p for p, value in given.items()
                 if p not in RECEIVED[kind] and p not in NEVER_RELATIONAL and _loaded_names(value) & derived)


class _CheckRewriter(ast.NodeTransformer):
    """Numbers the check calls of a cell (the site) and rewrites each one for ``mode``."""

    def __init__(self, mode: str, hidden: set[int], derived: set[str]) -> None:
        self.mode, self.hidden, self.derived, self.site = mode, hidden, derived, 0
        self.expectation_names: set[str] = set()  # names only the removed arguments used

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        kind = node.func.id[len("check_"):] if isinstance(node.func, ast.Name) and node.func.id.startswith("check_") else None
        if kind not in RECEIVED:
            return node
        site, self.site = self.site, self.site + 1
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise SealingError(f"line {node.lineno}: check_{kind} is called with * or ** arguments")
        names = list(SIGNATURES[kind].parameters)
        given = dict(zip(names, node.args)) | {k.arg: k.value for k in node.keywords}
        if unknown := set(given) - set(names):
            raise SealingError(f"line {node.lineno}: check_{kind} has no parameter {sorted(unknown)}")
        missing = [p for p in AST_REQUIRED[kind] if p not in given]
        if missing:
            raise SealingError(f"line {node.lineno}: check_{kind} is missing {missing}")
        relational = relational_parameters(kind, given, self.derived)
        if self.mode == "expect":
            call = ast.Call(
                func=ast.Attribute(value=ast.Name(PROBE_MODULE, ast.Load()), attr="expect", ctx=ast.Load()),
                args=[ast.Constant(site), ast.Constant(kind), ast.Constant(node.lineno in self.hidden),
                      ast.Constant(relational), *node.args],
                keywords=node.keywords,
            )
            return ast.copy_location(call, node)
        sent = [p for p in (*RECEIVED[kind], *relational) if p in given]
        for parameter, value in given.items():
            if parameter not in sent:
                self.expectation_names |= _loaded_names(value)
        call = ast.Call(
            func=ast.Attribute(value=ast.Name(PROBE_MODULE, ast.Load()), attr=kind, ctx=ast.Load()),
            args=[ast.Constant(site)],
            keywords=[ast.keyword(arg=p, value=given[p]) for p in sent],
        )
        return ast.copy_location(call, node)


def _drop_expectation_statements(module: ast.Module, expectation_names: set[str]) -> None:
    """Remove top-level ``name = ...`` statements that only feed removed expected values."""
    feeding = set(expectation_names)
    changed = True
    while changed:
        changed = False
        for statement in list(module.body):
            assigned = _assigned_names(statement)
            if not assigned or not assigned <= feeding:
                continue
            others = set().union(*(_loaded_names(s) for s in module.body if s is not statement))
            if assigned & others:
                continue
            module.body.remove(statement)
            feeding |= _loaded_names(statement.value)
            changed = True


def rewrite(source: str, mode: str) -> str:
    """A test cell's source in ``probe`` form (the student's run) or ``expect`` form (the reference run)."""
    try:
        module = ast.parse(source)
    except SyntaxError as error:
        raise SealingError(f"the test cell does not parse: {error}") from None
    rewriter = _CheckRewriter(mode, hidden_line_numbers(source), student_derived(module))
    module = rewriter.visit(module)
    if rewriter.site == 0:
        raise SealingError("the test cell calls no check_* function, so no points could be sealed")
    if mode == "probe":
        _drop_expectation_statements(module, rewriter.expectation_names)
    module.body.insert(0, ast.parse(PROBE_IMPORT).body[0])
    return ast.unparse(ast.fix_missing_locations(module))


# ---------------------------------------------------------------------------
# data that crossed from a kernel
# ---------------------------------------------------------------------------


def decode(data: Any) -> Any:
    """Inverse of ``autograder.probe.encode``; malformed data becomes ``checks.Unsupported``."""
    if not isinstance(data, dict) or len(data) != 1:
        return checks.Unsupported("malformed data")
    (key, value), = data.items()
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
    return [o["data"][RECORD_MIME] for o in outputs
            if o.get("output_type") == "display_data" and RECORD_MIME in (o.get("data") or {})]


# ---------------------------------------------------------------------------
# expectations: the reference run
# ---------------------------------------------------------------------------


def expectation_key(source_nb_text: str, release: Path) -> str:
    digest = hashlib.sha256(source_nb_text.encode("utf-8"))
    for path in sorted(release.rglob("*.py")):
        digest.update(path.relative_to(release).as_posix().encode())
        digest.update(path.read_bytes())
    for module in (checks.__file__, __file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def expect_notebook(source_nb) -> NotebookNode:
    """The source notebook with every test cell in expect form."""
    nb = nbformat.from_dict(source_nb)
    for index, cell in enumerate(nb.cells):
        if is_test_cell(cell):
            try:
                cell.source = rewrite(cell.source, "expect")
            except SealingError as error:
                raise SealingError(f"test cell {cell.metadata.nbgrader['grade_id']} (cell {index + 1}): {error}") from None
    return nb


def run_reference(source_nb, workdir: Path, data_dir: str | None, timeout: int = 900) -> dict[str, list[dict]]:
    """Execute the source notebook (expect form) in a trusted kernel in ``workdir``; its checks per grade id."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from autograder import kernel as kernels

    nb = expect_notebook(source_nb)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(workdir)}})
    client.km = client.create_kernel_manager()
    sockets = kernels.use_private_sockets(client.km)
    try:
        client.execute(**kernels.launch_options(data_dir, None))
    except CellExecutionError as error:
        raise SealingError(f"the reference answers fail in the reference run: {str(error)[:2000]}") from None
    finally:
        kernels.remove_sockets(sockets)
    expectations: dict[str, list[dict]] = {}
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        expectations[cell.metadata.nbgrader["grade_id"]] = [
            {**record, "occurrence": occurrence} for (_, occurrence), record in numbered(records_of(cell.outputs))]
    for grade_id, checks_of_cell in expectations.items():
        for expectation in checks_of_cell:  # the reference's own values must pass outside its kernel
            sent = (*SENT[expectation["kind"]], *expectation.get("relational", ()))
            own = {k: v for k, v in expectation["arguments"].items() if k in sent}
            problem = judge(expectation, own)
            if problem is not None:
                raise SealingError(f"test cell {grade_id}: the reference's own values fail when compared outside "
                                   f"its kernel: {problem}")
    return expectations


def ensure_expectations(source_path: Path, release: Path, work: Path, data_dir: str | None, log=None) -> Path:
    """``work/expectations.json`` for the chapter, made by a reference run unless it is up to date."""
    text = source_path.read_text(encoding="utf-8")
    key = expectation_key(text, release)
    path = work / "expectations.json"
    if path.is_file():
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("key") == key:
                return path
        except ValueError:
            pass
    scratch = work / "reference-run"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.copytree(release, scratch, ignore=shutil.ignore_patterns("*.ipynb"))
    if log:
        log.info("reference run of %s for the expected values", source_path.name)
    expectations = run_reference(nbformat.reads(text, as_version=4), scratch, data_dir)
    shutil.rmtree(scratch, ignore_errors=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps({"key": key, "cells": expectations}), encoding="utf-8")
    partial.replace(path)
    return path


def load_expectations(path: str | Path) -> dict[str, list[dict]]:
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


# ---------------------------------------------------------------------------
# scoring outside the student's process
# ---------------------------------------------------------------------------


def judge(expectation: dict, values: Any) -> str | None:
    """None if the received ``values`` pass the check ``expectation``; else the learner's message."""
    kind, name = expectation["kind"], expectation["name"]
    relational = tuple(expectation.get("relational", ()))
    if not isinstance(values, dict) or not all(p in values for p in (*REQUIRED[kind], *relational)):
        return f"{name}: no value was received for this check"
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
        return f"{name}: the received value could not be compared ({type(error).__name__})"
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
    passed = []
    for expectation in expected:
        key = (expectation["site"], expectation["occurrence"])
        message = judge(expectation, received.get(key))
        if message is not None:
            return passed, {"check": expectation, "message": message, "received": key in received}
        passed.append(expectation["name"])
    return passed, None


# ---------------------------------------------------------------------------
# nbgrader preprocessors
# ---------------------------------------------------------------------------

SOURCES = "autograder_sealed_sources"  # resources key: the restored sources of the test cells


class SealTestCells(NbGraderPreprocessor):
    """Before execution: every test cell in probe form, without tags (the restored source is kept)."""

    def preprocess(self, nb, resources):
        originals = {}
        for index, cell in enumerate(nb.cells):
            if is_test_cell(cell):
                originals[index] = cell.source
                try:
                    cell.source = rewrite(cell.source, "probe")
                except SealingError as error:
                    raise SealingError(f"test cell {cell.metadata.nbgrader['grade_id']}: {error}") from None
                cell.metadata.pop("tags", None)
        resources[SOURCES] = originals
        return nb, resources


class ScoreTestCells(NbGraderPreprocessor):
    """After execution: each test cell's outputs become the grader's verdict; its source is restored."""

    expectations_file = Unicode("", help="expectations.json of the chapter (autograder.sealed)").tag(config=True)

    def preprocess(self, nb, resources):
        expectations = load_expectations(self.expectations_file)
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
        text = "".join(f"ok: {name}\n" for name in passed)
        outputs.append(NotebookNode(output_type="stream", name="stdout", text=text))
    if failure is None:
        return outputs
    check, hidden = failure["check"], failure["check"]["hidden"]
    if failure["received"]:
        if hidden:
            lines = [f"A hidden test failed: {check['name']}",
                     "(hidden tests check edge cases: shapes, dtypes, inputs left unchanged, large values, fresh inputs)"]
        else:
            lines = ["Check failed: " + failure["message"]]
    elif error is not None:
        ename, evalue = error
        said = f"{ename}: {evalue}" if evalue else ename
        lines = [f"A hidden test raised {said}" if hidden else f"{said} (before the check '{check['name']}')"]
        if ename in EXPLAIN:
            lines.append(f"hint: {EXPLAIN[ename]}")
    else:
        lines = [f"{'A hidden test' if hidden else check['name']}: the cell did not run this check"]
    first, *rest = "\n".join(lines)[:2000].splitlines()
    outputs.append(NotebookNode(output_type="error", ename=SEALED_ERROR, evalue="\n".join([first, *rest]),
                                traceback=[f"{RED}{first}{RESET}", *rest]))
    return outputs
