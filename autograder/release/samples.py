"""Sample submissions made from a chapter, and the points each one must get.

Built from the chapter's source and its nbgrader release, so they work for any chapter:

* ``reference``: the release with every answer cell filled in from the source;
* ``blank``: the release as handed out;
* ``partly_wrong``: the first answer cell filled in, the others left as the release's stubs;
* ``throws``: the reference with a bug that raises ``IndexError`` in the last answer cell;
* ``infinite_loop``: the reference with an endless loop in the last answer cell;
* ``damaged``: the reference, cut off in the middle of its JSON (as after a failed upload).

``expected_points`` says which test cells a partly filled-in notebook passes, from the
test cells' metadata and a static look at which names each cell uses.
"""

from __future__ import annotations

import ast
import copy
from pathlib import Path

import nbformat

from autograder.plumbing import parse_python
from autograder.release.student_edition import answer_cells, graded_definitions, python_source

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def student_answer(source: str) -> str:
    """An answer cell's source as a student who wrote the reference would submit it (no markers)."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in (BEGIN, END))


def filled(release_nb, source_nb, grade_ids: set[str] | None = None):
    """The release with the named answer cells (all when None) filled in from the source."""
    answers = {_meta(c)["grade_id"]: c.source for c in answer_cells(source_nb)}
    nb = copy.deepcopy(release_nb)
    for cell in answer_cells(nb):
        grade_id = _meta(cell)["grade_id"]
        if grade_id in answers and (grade_ids is None or grade_id in grade_ids):
            cell.source = student_answer(answers[grade_id])
    return nb


def inject(nb, grade_id: str, statement: str):
    """Insert ``statement`` at the top of the first function body in answer cell ``grade_id``."""
    nb = copy.deepcopy(nb)
    for cell in answer_cells(nb):
        if _meta(cell)["grade_id"] != grade_id:
            continue
        tree = parse_python(python_source(cell.source))
        function = next(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
        first = function.body[0]
        lines = cell.source.splitlines()
        indent = " " * first.col_offset
        at = first.end_lineno if _is_docstring(first) else first.lineno - 1
        lines[at:at] = [indent + line for line in statement.splitlines()]
        cell.source = "\n".join(lines)
        return nb
    raise KeyError(f"no answer cell {grade_id!r}")


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def sample_notebooks(release_nb, source_nb) -> dict[str, object]:
    """{name: notebook} of the samples that are notebooks (``damaged`` is made by ``write_samples``)."""
    answers = [_meta(c)["grade_id"] for c in answer_cells(source_nb)]
    reference = filled(release_nb, source_nb)
    last = answers[-1]
    return {
        "reference": reference,
        "blank": copy.deepcopy(release_nb),
        "partly_wrong": filled(release_nb, source_nb, {answers[0]}),
        "throws": inject(reference, last, "values = []\nfirst_value = values[0]  # bug: the list is empty"),
        "infinite_loop": inject(reference, last, "while True:  # bug: never stops\n    pass"),
    }


def write_samples(release_nb, source_nb, chapter: str, out: Path) -> list[Path]:
    """Write ``out/<sample>/<chapter>.ipynb`` for every sample, ``damaged`` included."""
    written = []
    for name, nb in sample_notebooks(release_nb, source_nb).items():
        path = out / name / f"{chapter}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written.append(path)
    text = nbformat.writes(sample_notebooks(release_nb, source_nb)["reference"])
    damaged = out / "damaged" / f"{chapter}.ipynb"
    damaged.parent.mkdir(parents=True, exist_ok=True)
    damaged.write_text(text[: len(text) // 2], encoding="utf-8")
    written.append(damaged)
    return written


# ---------------------------------------------------------------------------
# expected points
# ---------------------------------------------------------------------------


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


def expected_points(source_nb, kept_answers: set[str]) -> dict[str, float]:
    """{test grade_id: points} for a submission whose answer cells outside ``kept_answers`` are stubs.

    The notebook is walked in order, as it runs. A stubbed function raises; a
    statement that calls one (directly, or through functions whose bodies refer
    to one at that moment) raises, and so leaves the names it and the rest of its
    cell would bind undefined; a later clean assignment defines a name again. A
    test cell scores its points when none of its statements raises.
    """
    stubbed_cells = {_meta(c)["grade_id"] for c in answer_cells(source_nb)} - set(kept_answers)
    broken: set[str] = set()  # names whose use raises at this point of the notebook
    bodies: dict[str, set[str]] = {}  # function/class name -> global names its body refers to
    points: dict[str, float] = {}

    def raises(names: set[str], seen: frozenset = frozenset()) -> bool:
        for name in names - seen:
            if name in broken or (name in bodies and raises(bodies[name], seen | {name})):
                return True
        return False

    for cell in source_nb.cells:
        if cell.cell_type != "code":
            continue
        meta = _meta(cell)
        try:
            tree = parse_python(python_source(cell.source))
        except SyntaxError:
            continue
        graded_here = set(graded_definitions(nbformat.v4.new_notebook(cells=[cell]))) if meta.get("solution") else set()
        stub_cell = meta.get("grade_id") in stubbed_cells
        failed = False
        for statement in tree.body:
            bound = _bound_names(statement)
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not failed:
                bodies[statement.name] = _loaded_names(statement)
                if stub_cell and statement.name in graded_here:
                    broken.add(statement.name)
                else:
                    broken.discard(statement.name)
                continue
            if failed or raises(_loaded_names(statement)):
                failed = True
                broken |= bound
            else:
                broken -= bound
        if meta.get("grade") and cell.cell_type == "code":
            points[meta["grade_id"]] = 0.0 if failed else float(meta["points"])
    return points


def first_answer(source_nb) -> str:
    return _meta(answer_cells(source_nb)[0])["grade_id"]
