"""What a feedback page says about points: the header's score, and each graded cell's.

nbgrader's feedback header says ``Score: 7.0 / 14.0``: the autograded points over the
maximum *including* the written answers, which nobody has graded yet (0 / 4), while
grades.csv says 7 / 10. Here:

* the page ``grade`` writes right after autograding says the autograded score out of the
  autograded maximum (the numbers of grades.csv) and that the written answers (N points)
  are graded by hand;
* the page ``feedback`` writes after hand grading (``after_hand_grading``) says the full
  score, as nbgrader computes it (the late penalty subtracted), with the tests' and the
  written answers' parts, once every written answer has a score: entered by a grader in
  formgrader, or nbgrader's 0 for one left as released. Until then it says the autograded
  score, and how many written answers are graded so far;
* a written answer not scored yet shows "graded by hand", not 0 (``GetHandGrades``).

A cell is *autograded* when its nbgrader cell type is code (a test cell), as grades.csv
counts it; any other graded cell (a written answer, a task) is graded by hand. A cell is
*not graded yet* when the gradebook has neither a manual nor an automatic score for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nbgrader.preprocessors import GetGrades
from traitlets import Bool


def points(value: float) -> str:
    """A number of points as grades.csv writes it: 7, 2.5."""
    return f"{value:g}"


def points_text(value: float) -> str:
    """1 point, 2.5 points."""
    return f"{points(value)} point{'' if value == 1 else 's'}"


@dataclass(frozen=True)
class CellGrade:
    """One graded cell of a submission, as the gradebook has it."""

    name: str
    autograded: bool  # a test cell; otherwise a written answer or a task, graded by hand
    max_score: float
    score: float | None  # None: not graded yet

    @classmethod
    def from_gradebook(cls, grade) -> CellGrade:
        """From nbgrader's ``Grade`` (its ``score`` is the manual score if any, else the automatic one)."""
        graded = grade.manual_score is not None or grade.auto_score is not None
        return cls(
            grade.name, grade.cell_type == "code", float(grade.max_score), float(grade.score) if graded else None
        )


@dataclass(frozen=True)
class FeedbackScore:
    """The score a feedback page's header shows."""

    cells: tuple[CellGrade, ...]
    late_penalty: float = 0.0
    after_hand_grading: bool = False  # False: the page `grade` writes, before anyone graded by hand

    @classmethod
    def from_gradebook(cls, notebook, after_hand_grading: bool = False) -> FeedbackScore:
        """From nbgrader's ``SubmittedNotebook``."""
        cells = tuple(sorted((CellGrade.from_gradebook(g) for g in notebook.grades), key=lambda c: c.name))
        return cls(cells, float(notebook.late_submission_penalty or 0.0), after_hand_grading)

    @property
    def autograded(self) -> float:
        return sum(c.score or 0.0 for c in self.cells if c.autograded)

    @property
    def autograded_max(self) -> float:
        return sum(c.max_score for c in self.cells if c.autograded)

    @property
    def by_hand(self) -> tuple[CellGrade, ...]:
        return tuple(c for c in self.cells if not c.autograded)

    @property
    def by_hand_max(self) -> float:
        return sum(c.max_score for c in self.by_hand)

    @property
    def by_hand_score(self) -> float:
        return sum(c.score or 0.0 for c in self.by_hand)

    @property
    def waiting(self) -> tuple[CellGrade, ...]:
        """Cells graded by hand that have no score yet."""
        return tuple(c for c in self.by_hand if c.score is None)

    @property
    def complete(self) -> bool:
        """The full score is known: every written answer has a score, given after autograding (or none to give)."""
        return not self.waiting and (self.after_hand_grading or not self.by_hand)

    @property
    def total(self) -> float:
        """The full score, as nbgrader's: every cell's score, less the late penalty."""
        return sum(c.score or 0.0 for c in self.cells) - self.late_penalty

    @property
    def total_max(self) -> float:
        return self.autograded_max + self.by_hand_max

    @property
    def headline(self) -> str:
        if self.complete:
            return f"Score: {points(self.total)} / {points(self.total_max)}"
        return f"Autograded score: {points(self.autograded)} / {points(self.autograded_max)}"

    @property
    def details(self) -> list[str]:
        """The lines under the headline: the parts of the score, or what is still to be graded."""
        by_hand = self.by_hand
        scored = [c for c in by_hand if c.score is not None]
        lines = []
        if self.complete:
            lines.append(f"Tests (autograded): {points(self.autograded)} / {points(self.autograded_max)}")
            if by_hand:
                lines.append(
                    f"Written answers (graded by hand): {points(self.by_hand_score)} / {points(self.by_hand_max)}"
                )
        else:
            so_far = f"; {len(scored)} of {len(by_hand)} graded so far" if self.after_hand_grading else ""
            lines.append(
                f"Written answers ({points_text(self.by_hand_max)}) are graded by hand{so_far}: "
                "this page will show their points once they are graded."
            )
        if self.late_penalty:
            lines.append(f"Late submission penalty: -{points(self.late_penalty)}")
        return lines


class GetHandGrades(GetGrades):
    """nbgrader's GetGrades, and the header's score in ``resources["feedback_score"]``.

    A cell not graded yet gets ``score`` None in its metadata (nbgrader's: 0), so the
    template says "graded by hand" there.
    """

    after_hand_grading = Bool(
        False,
        help="the gradebook has the hand grading (the `feedback` command); "
        "False: the page is written right after autograding",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        with self.gradebook:
            notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
            resources["feedback_score"] = FeedbackScore.from_gradebook(notebook, self.after_hand_grading)
        return nb, resources

    def _get_score(self, cell, resources) -> None:
        grade = self.gradebook.find_grade(
            cell.metadata["nbgrader"]["grade_id"], self.notebook_id, self.assignment_id, self.student_id
        )
        cell.metadata.nbgrader["score"] = CellGrade.from_gradebook(grade).score
        cell.metadata.nbgrader["points"] = grade.max_score
