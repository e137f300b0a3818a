"""Sanitizing a submission before it runs: nbgrader's steps, robust against any metadata a student can produce.

nbgrader's ``autograde`` sanitizes a submission with ClearOutput, DeduplicateIds,
OverwriteKernelspec, OverwriteCells and CheckCellMetadata (``nbgrader/converters/autograde.py``).
Two of them abort the whole batch on input a student can produce, so they are replaced:

* ``DeduplicateGradeIds`` (nbgrader's ``DeduplicateIds``): copied cells lose their metadata
  and the submission is flagged, instead of stopping every student's grading;
* ``RestoreCells`` (nbgrader's ``OverwriteCells``): metadata rebuilt from the gradebook,
  deleted test cells added back next to their neighbours, and a note of what was restored.

One step is added before them, while the notebook is still exactly what the student submitted:

* ``FlagInstructorMarkers``: a notebook that holds nbgrader's solution, hidden-test or mark
  scheme delimiters was not written from the release (the instructor's source, or a copy
  of it): it is graded, and flagged.
"""

from __future__ import annotations

import re

import nbformat
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, DeduplicateIds, NbGraderPreprocessor, OverwriteCells

from autograder.grade.journal import cell_label, journal_of
from autograder.plumbing import (
    HIDDEN_TESTS,
    MARK_SCHEME,
    SOLUTION,
    ClearSolutionsWithNamedStubs,
    chapter_of,
    exercise_of,
)

SCHEMA_VERSION = 3
REGIONS = (SOLUTION, HIDDEN_TESTS, MARK_SCHEME)  # delimiters the release never has

# ---------------------------------------------------------------------------
# sanitize
# ---------------------------------------------------------------------------


class FlagInstructorMarkers(NbGraderPreprocessor):
    """Flag a submission that holds nbgrader's delimiters: the release has none, the instructor's source has.

    nbgrader's rule: a line that contains a delimiter opens or closes a region. The flag
    names the delimiters and the cells (grade id, or position) where they were found.
    """

    def preprocess(self, nb, resources):
        kinds, where = set(), []
        for index, cell in enumerate(nb.cells):
            found = {kind for kind in REGIONS if kind.begin in cell.source or kind.end in cell.source}
            if found:
                kinds |= found
                where.append(cell_label(cell, index))
        if kinds:
            names = " and ".join(kind.begin for kind in REGIONS if kind in kinds)
            cells = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
            journal_of(resources).flag(
                f"the notebook holds nbgrader's {names} delimiters ({cells}): "
                "it was not written from the release (the instructor's source?)"
            )
        return nb, resources


class DeduplicateGradeIds(DeduplicateIds):
    """nbgrader's DeduplicateIds, without aborting the whole batch (nbgrader issue #1083).

    When a student copies a cell, two cells carry the same grade id. nbgrader
    keeps the last one and empties the others' metadata to ``{}``, which
    CheckCellMetadata then rejects as "schema version 0", and ``nbgrader
    autograde`` stops for every student. Here the copies lose their nbgrader
    metadata altogether (they stay ordinary cells, still executed) and the
    submission is flagged for the instructor.
    """

    def preprocess(self, nb, resources):
        self.journal = journal_of(resources)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader.get("grade_id")
        if grade_id in self.grade_ids:
            self.journal.flag(f"duplicated grade id {grade_id} (the last copy was graded)")
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class RestoreCells(OverwriteCells):
    """nbgrader's OverwriteCells, made robust against any metadata a student can produce.

    Before nbgrader's checks, every cell that names a grade id of the assignment
    gets its nbgrader metadata rebuilt from the gradebook (a ``schema_version``
    that was changed flags the submission; nbgrader would abort the batch);
    nbgrader metadata naming an unknown grade id is removed. Then nbgrader
    restores edited test cells. Deleted test cells (or test cells whose
    metadata was stripped) are added back (``add_missing_cells``) next to the
    nearest cell that is still there, which also works when the answer cell
    before them was deleted too (nbgrader's own placement then fails). A deleted
    answer cell comes back as the release had it: with the course's named stubs.
    """

    def preprocess(self, nb, resources):
        self.journal = journal_of(resources)
        self.add_missing_cells = True
        self.stubs = ClearSolutionsWithNamedStubs()
        return super().preprocess(nb, resources)

    def report_change(self, name, attr, old, new):
        super().report_change(name, attr, old, new)
        if attr == "checksum" and not self._as_released(self._current, name):
            self.journal.note(f"restored edited test cell {name}")
        elif attr == "cell_type":
            self.journal.note(f"restored the cell type of {name}")

    def _as_released(self, cell: NotebookNode, grade_id: str) -> bool:
        """Whether a test cell is exactly as the release had it (nbgrader removed its hidden tests)."""
        source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        released = NotebookNode(cell_type=source.cell_type, source=source.source, metadata={})
        ClearHiddenTests()._remove_hidden_test_region(released)
        return cell.source.strip() == released.source.strip()

    def missing_cell_transform(self, source_cell, max_score, is_solution=False, is_task=False):
        """nbgrader's restored cell; an answer cell is restored as the release had it, never with the solution."""
        cell = super().missing_cell_transform(source_cell, max_score, is_solution=is_solution, is_task=is_task)
        if is_solution or is_task:
            released = NotebookNode(
                cell_type=source_cell.cell_type, source=source_cell.source, metadata={"nbgrader": {"solution": True}}
            )
            self.stubs.preprocess_cell(released, {"language": "python"}, 0)
            notice = self.missing_cell_notification.format(cell_id=source_cell.name)
            cell["source"] = ("# " if source_cell.cell_type == "code" else "") + notice + released.source
        return cell

    def _canonical_metadata(self, cell: NotebookNode, cell_index: int) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
            self.journal.note(f"removed unusable nbgrader metadata of {cell_label(cell, cell_index)}")
            del cell.metadata["nbgrader"]
            return
        grade_id = meta["grade_id"]
        try:
            source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            if meta.get("grade") or meta.get("solution") or meta.get("task") or meta.get("locked"):
                self.journal.note(f"ignored nbgrader metadata of an unknown cell {grade_id!r}")
            del cell.metadata["nbgrader"]
            return
        if meta.get("schema_version") != SCHEMA_VERSION:
            self.journal.flag(
                f"nbgrader schema_version of {grade_id} was changed to {meta.get('schema_version')!r} (restored)"
            )
        canonical = {
            "grade": False,
            "grade_id": grade_id,
            "locked": bool(source.locked),
            "schema_version": SCHEMA_VERSION,
            "solution": False,
            "task": False,
        }
        try:
            graded = self.gradebook.find_graded_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            graded = None
        if graded is not None and graded.__class__.__name__ == "GradeCell":
            canonical["grade"] = True
            canonical["points"] = float(graded.max_score)
        if graded is not None and graded.__class__.__name__ == "TaskCell":
            canonical["task"] = True
            canonical["points"] = float(graded.max_score)
        try:
            self.gradebook.find_solution_cell(grade_id, self.notebook_id, self.assignment_id)
            canonical["solution"] = True
        except MissingEntry:
            pass
        changed = sorted(k for k in canonical if k != "schema_version" and meta.get(k) != canonical[k] and k in meta)
        if changed:
            self.journal.note(f"restored nbgrader metadata of {grade_id} ({', '.join(changed)})")
        cell.metadata["nbgrader"] = canonical

    def preprocess_cell(self, cell, resources, cell_index):
        self._canonical_metadata(cell, cell_index)
        self._current = cell
        return super().preprocess_cell(cell, resources, cell_index)

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source_nb.source_cells]
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}

        def present() -> dict[str, int]:
            return {
                c.metadata["nbgrader"]["grade_id"]: i
                for i, c in enumerate(nb.cells)
                if "nbgrader" in c.metadata and (utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c))
            }

        for position, name in enumerate(order):
            if name not in grade_cells or name in present():
                continue
            where = present()
            before = [where[n] for n in order[:position] if n in where]
            after = [where[n] for n in order[position + 1 :] if n in where]
            index = max(before) + 1 if before else min(after) if after else len(nb.cells)
            source_cell = self.gradebook.find_source_cell(name, self.notebook_id, self.assignment_id)
            # the stubs name the exercise and chapter of the headings before the restored cell
            self.stubs = ClearSolutionsWithNamedStubs(
                chapter=chapter_of(nb.cells), exercise=exercise_of(nb.cells[:index])
            )
            restored = self.missing_cell_transform(
                source_cell, grade_cells[name].max_score, is_solution=name in solution_ids
            )
            restored = nbformat.from_dict(restored)
            restored.id = re.sub(r"[^A-Za-z0-9_-]", "-", f"restored-{name}")[:64]
            nb.cells.insert(index, restored)
            kind = "test cell" if restored.cell_type == "code" and name not in solution_ids else "graded answer"
            self.journal.note(f"restored deleted {kind} {name}")
        return nb, resources
