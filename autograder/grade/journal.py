"""What happened to one submission while it was graded, in words for the instructor.

Every preprocessor of the grading pipeline reports to the submission's ``Journal``
(``resources["autograder"]``): notes (a cell was restored, a cell timed out), flags (the
instructor should look at this submission) and a failure (grading itself failed). The
journal becomes the ``reason`` column of grades.csv.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode


@dataclass
class Journal:
    """What happened to one submission while it was graded, in words for the instructor."""

    notes: list[str] = field(default_factory=list)  # informational (cell restored, timeout, ...)
    flags: list[str] = field(default_factory=list)  # the instructor should look at this submission
    failure: str = ""  # grading itself failed
    kernel_starting: bool = False  # a kernel was being started
    kernel_started: bool = False  # ... and it answered; no code of the submission ran before

    def __deepcopy__(self, memo):
        # nbconvert deep-copies the resources of every pass; the journal must stay one object
        return self

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def flag(self, text: str) -> None:
        if text not in self.flags:
            self.flags.append(text)


def journal_of(resources: dict) -> Journal:
    journal = resources.get("autograder")
    return journal if isinstance(journal, Journal) else Journal()


def cell_label(cell: NotebookNode, index: int) -> str:
    """'cell 12 (relu_tests)': 1-based position in the graded notebook, and the grade id if any."""
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"
