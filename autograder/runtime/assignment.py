"""Is the student's notebook still the assignment as released? Renamed, or a graded cell deleted.

The release writes into the notebook's metadata which assignment it is and which graded
cells it has (``course``: ``assignment``, ``test_cells`` {grade id: points},
``answer_cells``). Two places use it to tell the student, in time, what to do:

* ``check_open_notebook`` runs when a notebook's first cell imports ``autograder``: in
  JupyterLab it reads the saved notebook the kernel belongs to (``JPY_SESSION_NAME``)
  and prints what is wrong;
* ``before_validation`` is nbgrader's Validate hook (``nbgrader_config.py`` of the
  assignment folder sets ``Execute.on_notebook_start``): a deleted graded cell shows in
  Validate's dialog as a failed check that says what to do.

Nothing here changes what a submission scores: the grader restores deleted test cells
and grades a renamed notebook anyway. It only spares the student a surprise.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .i18n import _

METADATA_KEY = "course"
CHECK_CELL_ID = "validate-missing-cells"


def _grade_ids(cells) -> set[str]:
    ids = set()
    for cell in cells:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if isinstance(meta, dict) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def problems(notebook: dict, file_name: str | None = None) -> list[str]:
    """What a student should fix in ``notebook`` (a dict or NotebookNode), in words for them."""
    info = (notebook.get("metadata") or {}).get(METADATA_KEY) or {}
    assignment = info.get("assignment")
    if not assignment:
        return []
    found: list[str] = []
    expected_name = f"{assignment}.ipynb"
    if file_name is not None and Path(file_name).name != expected_name:
        found.append(
            _(
                "This notebook is open as {name}, but the assignment is {expected}: rename it back "
                "(File > Rename Notebook) and submit it as {expected}."
            ).format(name=Path(file_name).name, expected=expected_name)
        )
    present = _grade_ids(notebook.get("cells") or [])
    for grade_id, points in (info.get("test_cells") or {}).items():
        if grade_id not in present:
            found.append(
                _(
                    "The test cell {grade_id} ({points} points) is not in this notebook. It is put back when "
                    "your notebook is graded, but until then nothing checks that part: get it back with Edit > "
                    "Undo, or copy it from a fresh copy of the assignment (unzip {assignment}.zip into another "
                    "folder)."
                ).format(grade_id=grade_id, points=f"{points:g}", assignment=assignment)
            )
    for grade_id in info.get("answer_cells") or []:
        if grade_id not in present:
            found.append(
                _(
                    "The answer cell {grade_id} is missing or lost its nbgrader metadata: the grader only reads "
                    "answers from the assignment's own answer cells. Copy your code into that cell of a fresh copy "
                    "of {assignment}.ipynb (unzip {assignment}.zip into another folder)."
                ).format(grade_id=grade_id, assignment=assignment)
            )
    return found


def check_open_notebook() -> None:
    """In JupyterLab: print what is wrong with the saved notebook this kernel belongs to, if anything."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    if not session.endswith(".ipynb") or not Path(session).is_file():
        return
    try:
        notebook = json.loads(Path(session).read_text(encoding="utf-8"))
        found = problems(notebook, session)
    except (OSError, ValueError, AttributeError, TypeError):
        return
    for problem in found:
        print(_("Note: {problem}").format(problem=problem), file=sys.stderr)


def before_validation(notebook=None, **_options):
    """nbgrader Validate's hook: a missing graded cell becomes one failing check that says what to do."""
    if notebook is None:
        return
    found = problems(notebook)  # without a file name: only the missing cells
    if not found:
        return
    from nbformat.v4 import new_code_cell

    title = _("graded cells are missing from this notebook")
    message = "\n".join(found)
    cell = new_code_cell(
        "# Validate: graded cells are missing from this notebook\n"
        "from autograder.checks import CheckFailed\n"
        f"raise CheckFailed({title!r}, {message!r})"
    )
    cell.id = CHECK_CELL_ID
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": CHECK_CELL_ID,
        "locked": False,
        "points": 0,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    notebook.cells.append(cell)
