"""The course gradebook: merging each submission's own gradebook into it, through nbgrader's API.

Every submission is graded in a gradebook of its own (``autograder.grade.submission``);
the main process then copies the result into ``OUT/gradebook.db`` one submission
at a time, so the course gradebook has a single writer. The merge overwrites
*every* autograded score of the submission, so a resubmission that dropped a
cell leaves no stale score from the previous run. Manual scores that a grader
entered in formgrader are kept (as nbgrader does), and such cells are marked
for review again.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.api import Gradebook

from autograder.course import COURSE_ID
from autograder.grade.submission import GRADED, Result, quiet_nbgrader


def copy_due_date(main_db_url: str, template_db_url: str, chapter: str) -> None:
    """Due date set in the course gradebook (`nbgrader db assignment add --duedate`) -> the template."""
    with Gradebook(main_db_url, COURSE_ID) as main:
        due = main.find_assignment(chapter).duedate
    if due is not None:
        with Gradebook(template_db_url, COURSE_ID) as template:
            template.update_or_create_assignment(chapter, duedate=due)


def max_code_score(db_url: str, chapter: str) -> float:
    """Points of the chapter's autograded test cells."""
    with Gradebook(db_url, COURSE_ID) as gb:
        notebook = gb.find_notebook(chapter, chapter)
        return float(sum(cell.max_score for cell in notebook.grade_cells if cell.cell_type == "code"))


def remember_lms_user_id(gb: Gradebook, student: str, lms_user_id: str | None) -> None:
    """The LMS's own id of a student (Canvas's user id, from its file names), in nbgrader's ``Student.lms_user_id``.

    ``python -m autograder export --format canvas`` finds the student's row of the Canvas roster by it.
    """
    if lms_user_id:
        with quiet_nbgrader():
            gb.update_or_create_student(student, lms_user_id=lms_user_id)


def merge(gb: Gradebook, chapter: str, result: Result) -> None:
    """Record one submission's result in the course gradebook (zero points when it was not graded)."""
    with quiet_nbgrader():
        _merge(gb, chapter, result)


def _merge(gb: Gradebook, chapter: str, result: Result) -> None:
    gb.update_or_create_student(result.student)
    submission = gb.update_or_create_submission(chapter, result.student)
    submission.timestamp = utils.parse_utc(result.timestamp) if result.timestamp else None
    notebook = gb.find_submission_notebook(chapter, chapter, result.student)
    notebook.late_submission_penalty = result.late_penalty
    graded = bool(result.grades)
    for grade in notebook.grades:
        new = result.grades.get(grade.name)
        if new is None:
            # not graded (unreadable, missing, failed) or a cell the submission did not have: zero
            grade.auto_score = 0.0
            needs_review = False
        else:
            grade.auto_score = new["auto_score"]
            needs_review = new["needs_manual_grade"]
        grade.needs_manual_grade = True if grade.manual_score is not None else needs_review
    for comment in notebook.comments:
        comment.auto_comment = result.comments.get(comment.name) if graded else None
    notebook.flagged = result.status != GRADED
    gb.db.commit()
