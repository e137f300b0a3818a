"""Sealed scoring, step 1: test cells rewritten so that the student's process only sends data.

Stock nbgrader runs the test cells, hidden tests included, inside the student's
kernel and gives the points of a cell when its output shows no error. Code in the
same process can defeat that in many ways (a ``skip-execution`` tag, an input or
AST transformer, an always-true ``__eq__``, a patched ``numpy.testing``, a fake
traceback, a hook that copies the hidden tests, ``os._exit``...). So every
``check_*(name, received, expected, ...)`` call of a test cell is rewritten:

* **probe form** (``SealTestCells``, before a submission runs): each check call only
  sends the value(s) the student's code produced (``autograder.runtime.probe``). The
  expected values, tolerances, hints and the statements that only compute expected
  values are removed: they never enter the student's process. Tags are removed from
  test cells.
* **expect form** (the reference run, ``autograder.grade.score``): each check call
  records its name, kind and every argument as data.

A check whose expected side is computed from the student's own results (a
consistency check such as ``check_close("out", out, x * mask)``) is found by a taint
analysis of the cell; its expected side is computed in the student's process and sent
with the received values. ``autograder.grade.score`` then decides the points.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from collections.abc import Mapping

from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.course import UsageError
from autograder.plumbing import hidden_line_numbers, is_test_cell, parse_python
from autograder.runtime import checks

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
# the values a probe sends (``autograder.runtime.probe``): the same, except that a raises-check sends what was raised
SENT = RECEIVED | {"raises": ("raised",)}
REQUIRED = {kind: tuple(p for p in params if p != "message") for kind, params in SENT.items()}
AST_REQUIRED = {kind: tuple(p for p in params if p != "message") for kind, params in RECEIVED.items()}
SIGNATURES = {kind: inspect.signature(getattr(checks, f"check_{kind}")) for kind in RECEIVED}


class SealingError(UsageError):
    """A test cell cannot be rewritten or scored: a problem of the chapter, not of a submission (exit status 2)."""


# ---------------------------------------------------------------------------
# rewriting test cells
# ---------------------------------------------------------------------------


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _assigned_names(statement: ast.stmt) -> set[str] | None:
    """Names a plain ``a = ...`` / ``a, b = ...`` assigns; None for any other statement."""
    if not isinstance(statement, ast.Assign):
        return None
    names: set[str] = set()
    for target in statement.targets:
        elements = target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]
        if not all(isinstance(e, ast.Name) for e in elements):
            return None
        names.update(e.id for e in elements if isinstance(e, ast.Name))  # all are, as checked above
    return names


# names a test cell may use without their values coming from the student's code
TRUSTED_NAMES = frozenset(dir(builtins)) | {
    "np",
    "numpy",
    "math",
    "solutions",
    "activations",
    "losses",
    "layers",
    "init",
    "optim",
    "network",
    "train",
    "gradcheck",
    "data",
    "search",
    "plots",
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


def relational_parameters(kind: str, given: Mapping[str, ast.AST], derived: set[str]) -> tuple[str, ...]:
    """Expected-side parameters computed from the student's own results (a consistency check such as
    ``check_close("out = x * mask", out, x * mask)``): they are computed in the student's process and
    sent with the received values, since the reference's values would not be the student's."""
    return tuple(
        p
        for p, value in given.items()
        if p not in RECEIVED[kind] and p not in NEVER_RELATIONAL and _loaded_names(value) & derived
    )


class _CheckRewriter(ast.NodeTransformer):
    """Numbers the check calls of a cell (the site) and rewrites each one for ``mode``."""

    def __init__(self, mode: str, hidden: set[int], derived: set[str]) -> None:
        self.mode, self.hidden, self.derived, self.site = mode, hidden, derived, 0
        self.expectation_names: set[str] = set()  # names only the removed arguments used

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        kind = (
            node.func.id[len("check_") :]
            if isinstance(node.func, ast.Name) and node.func.id.startswith("check_")
            else None
        )
        if kind not in RECEIVED:
            return node
        site, self.site = self.site, self.site + 1
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise SealingError(f"line {node.lineno}: check_{kind} is called with * or ** arguments")
        names = list(SIGNATURES[kind].parameters)
        # (every keyword has a name: ** was refused above)
        given = dict(zip(names, node.args, strict=False)) | {k.arg: k.value for k in node.keywords if k.arg is not None}
        if unknown := set(given) - set(names):
            raise SealingError(f"line {node.lineno}: check_{kind} has no parameter {sorted(unknown)}")
        missing = [p for p in AST_REQUIRED[kind] if p not in given]
        if missing:
            raise SealingError(f"line {node.lineno}: check_{kind} is missing {missing}")
        relational = relational_parameters(kind, given, self.derived)
        if self.mode == "expect":
            call = ast.Call(
                func=ast.Attribute(value=ast.Name(PROBE_MODULE, ast.Load()), attr="expect", ctx=ast.Load()),
                args=[
                    ast.Constant(site),
                    ast.Constant(kind),
                    ast.Constant(node.lineno in self.hidden),
                    # typeshed gap: a tuple of constants is a valid Constant value (compile() accepts it)
                    ast.Constant(relational),  # type: ignore[arg-type]
                    *node.args,
                ],
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
            assert isinstance(statement, ast.Assign)  # the only statement _assigned_names names
            module.body.remove(statement)
            feeding |= _loaded_names(statement.value)
            changed = True


def rewrite(source: str, mode: str) -> str:
    """A test cell's source in ``probe`` form (the student's run) or ``expect`` form (the reference run)."""
    try:
        module = parse_python(source)
    except SyntaxError as error:
        raise SealingError(f"the test cell does not parse: {error}") from None
    rewriter = _CheckRewriter(mode, hidden_line_numbers(source), student_derived(module))
    module = rewriter.visit(module)
    if rewriter.site == 0:
        raise SealingError("the test cell calls no check_* function, so no points could be sealed")
    if mode == "probe":
        _drop_expectation_statements(module, rewriter.expectation_names)
    module.body.insert(0, parse_python(PROBE_IMPORT).body[0])
    return ast.unparse(ast.fix_missing_locations(module))


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
