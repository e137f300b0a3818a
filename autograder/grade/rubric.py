"""The model answer and rubric of each written question, next to the answer where the grader grades it.

nbgrader's formgrader shows the *autograded* notebook, and a mark scheme only for "task"
cells (nbgrader issues #1310, #1499). The course's written answers are "manually graded
answer" cells: their model answer and rubric sit in the source's solution region, which the
release replaces by "YOUR ANSWER HERE" (and the gradebook's copy of the cell, ``SourceCell``,
is saved after that replacement, so it does not hold them either). Here:

``rubric_texts(source_nb)``
    grade id -> the text of each written answer's solution region in the instructor's source
    ("**Model answer.** ... **Rubric (N points).** ...").
``AddRubrics``
    the last step of autograding: after each written answer of the autograded notebook, a
    read-only markdown cell, "Model answer and rubric (for the grader)", with that text.
    formgrader renders it under the student's answer, next to the score and comment boxes.
``DropRubrics``, ``without_rubrics``
    remove those cells again: every feedback page is made without them
    (``autograder.grade.feedback.HideHiddenTests``; nbgrader's own ``generate_feedback`` and
    formgrader's feedback button through the course's ``nbgrader_config.py``).

A rubric cell is marked ``metadata.autograder.rubric_for = <grade id>``; it has no nbgrader
metadata, so nbgrader neither grades nor checksums it.
"""

from __future__ import annotations

from nbformat.notebooknode import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Unicode

from autograder.plumbing import SOLUTION, is_written_cell, region_texts

RUBRIC_HEADING = "Model answer and rubric (for the grader)"
MARK = "rubric_for"  # metadata.autograder.rubric_for = the written answer's grade id


def rubric_texts(source_nb) -> dict[str, str]:
    """grade id -> the model answer and rubric of each written answer of the instructor's source."""
    texts = {}
    for cell in source_nb.cells:
        if is_written_cell(cell):
            regions = region_texts(cell.source, SOLUTION)
            text = "\n\n".join(region.strip() for region in regions) if regions else cell.source.strip()
            if text:
                texts[cell.metadata.nbgrader["grade_id"]] = text
    return texts


def rubric_cell(grade_id: str, text: str) -> NotebookNode:
    """The read-only markdown cell that follows the written answer ``grade_id``: a quote, set off from the page."""
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
    cell = new_markdown_cell(f"> **{RUBRIC_HEADING}**, not shown to students\n>\n{quoted}")
    cell.metadata.update({"autograder": {MARK: grade_id}, "editable": False, "deletable": False})
    cell.id = f"rubric-{grade_id}"[:64]
    return cell


def is_rubric_cell(cell) -> bool:
    return MARK in cell.get("metadata", {}).get("autograder", {})


def without_rubrics(nb) -> int:
    """Remove the rubric cells from ``nb`` in place; returns how many there were."""
    before = len(nb.cells)
    nb.cells = [cell for cell in nb.cells if not is_rubric_cell(cell)]
    return before - len(nb.cells)


class AddRubrics(NbGraderPreprocessor):
    """After each written answer, its model answer and rubric from the instructor's source."""

    rubrics = Dict(value_trait=Unicode(), help="grade id -> model answer and rubric (rubric_texts)").tag(config=True)

    def preprocess(self, nb, resources):
        cells = []
        for cell in nb.cells:
            if is_rubric_cell(cell):  # a student's cell with the mark: unmarked, so that nothing of theirs is hidden
                del cell.metadata["autograder"][MARK]
            cells.append(cell)
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if is_written_cell(cell) and grade_id in self.rubrics:
                cells.append(rubric_cell(grade_id, self.rubrics[grade_id]))
        nb.cells = cells
        return nb, resources


class DropRubrics(NbGraderPreprocessor):
    """The first step of every feedback page: no rubric cell reaches a student."""

    def preprocess(self, nb, resources):
        if without_rubrics(nb):
            self.log.info("feedback: removed the graders' model answers and rubrics")
        return nb, resources
