"""Helpers for writing a chapter notebook with valid nbgrader metadata.

A chapter notebook is the website page, the nbgrader source and a CI test at
once (see ``shared/CHAPTERS.md``). Build one from Python, then edit the
``.ipynb`` directly afterwards if you like::

    from autograder.release.authoring import md, code, answer, tests, written, write_notebook
    cells = [
        md("# 3. Activations"),
        code("import numpy as np"),
        answer("relu_answer", '''def relu(x):
        ### BEGIN SOLUTION
        return np.maximum(x, 0)
        ### END SOLUTION'''),
        tests("relu_tests", 2, "check_close('relu', relu(x), expected)"),
        written("why_relu", 2, "Explain ..."),
    ]
    write_notebook("chapters/03_activations.ipynb", cells)

Cell kinds (nbgrader schema 3):

* ``answer``: an autograded answer cell (``solution: true``); the release
  replaces each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region with
  nbgrader's stub, named: ``raise NotImplementedError("relu: write this function
  (chapter 3, Exercise 1: ...)")`` (the chapter comes from the ``# N. Title`` heading,
  the exercise from the last ``### Exercise ...`` or ``### Part ...`` heading before
  the cell).
* ``tests``: an autograder test cell with points (``grade: true, locked: true``);
  ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed
  from the release.
* ``written``: a manually graded markdown answer with points.
* ``md`` / ``code``: ordinary cells; ``code(..., tags=["raises-exception"])``
  for a demo cell that uses the student's answer and therefore raises
  ``NotImplementedError`` in a blank release.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def _dedent(source: str) -> str:
    return textwrap.dedent(source).strip("\n")


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(source: str):
    """A markdown cell."""
    return new_markdown_cell(_dedent(source))


def code(source: str, tags: list[str] | None = None):
    """An ordinary code cell (demo, figure, import)."""
    cell = new_code_cell(_dedent(source))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def answer(grade_id: str, source: str):
    """An autograded answer cell; the solution sits between BEGIN/END SOLUTION markers."""
    source = _dedent(source)
    if "### BEGIN SOLUTION" not in source or "### END SOLUTION" not in source:
        raise ValueError(f"answer cell {grade_id!r} needs ### BEGIN SOLUTION / ### END SOLUTION markers")
    cell = new_code_cell(source)
    cell.metadata.update(_nbgrader(grade_id, grade=False, solution=True, locked=False))
    return cell


def tests(grade_id: str, points: float, source: str):
    """An autograded test cell worth ``points``."""
    cell = new_code_cell(_dedent(source))
    cell.metadata.update(_nbgrader(grade_id, grade=True, solution=False, locked=True, points=points))
    return cell


def written(grade_id: str, points: float, source: str = "YOUR ANSWER HERE"):
    """A manually graded written answer (markdown) worth ``points``."""
    cell = new_markdown_cell(_dedent(source))
    cell.metadata.update(_nbgrader(grade_id, grade=True, solution=True, locked=False, points=points))
    return cell


def write_notebook(path: str | Path, cells: list, title: str | None = None) -> Path:
    """Write cells as a notebook without outputs, with a Python 3 kernelspec."""
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    if title:
        notebook.metadata["title"] = title
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.id = f"{index:03d}-{grade_id}" if grade_id else f"{index:03d}-{cell.cell_type}"  # stable ids
    nbformat.validator.normalize(notebook)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
