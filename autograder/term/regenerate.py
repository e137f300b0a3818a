"""``feedback``: every graded student's page of a chapter written again, once hand grading is done.

``grade`` writes each page right after autograding, when no written answer has a score.
Graders then score the written answers and comment in nbgrader's formgrader, which keeps
both in the course gradebook (``Grade.manual_score``, ``Comment.manual_comment``).
``regenerate_feedback`` renders each student's autograded notebook again with
``autograder.grade.feedback.FeedbackGenerator`` (nbgrader's GenerateFeedback), reading the
course gradebook: the page then shows the full score, each written answer's points and the
grader's comments, and still no hidden test or solution.

Nothing is executed. The autograded notebooks, the submissions and the gradebook are only
read; only ``feedback/<student>/<chapter>/`` is written.

Who gets a page: every student with a submission of the chapter in the gradebook. A
submission that could not be graded (grades.csv says unreadable, missing or error) has no
autograded notebook; its page is the notice ``grade`` wrote, kept. A graded student whose
autograded notebook is missing is reported and skipped; the others are still written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory

from autograder.batch.report import read_statuses
from autograder.course import Chapter, CourseDir, UsageError, file_logger, nbgrader_config
from autograder.grade.feedback import FeedbackGenerator
from autograder.grade.feedback_score import FeedbackScore
from autograder.grade.submission import ERROR, MISSING, UNREADABLE, describe, quiet_nbgrader
from autograder.plumbing import COURSE_ID, public_lines, secret_lines


@dataclass
class Page:
    """One page written: whose, where, and the score its header shows."""

    student: str
    path: Path
    score: FeedbackScore


@dataclass
class Regenerated:
    """The outcome of one ``feedback`` run."""

    chapter: str
    pages: list[Page] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (student, why): needs the instructor's attention
    not_graded: list[str] = field(default_factory=list)  # ungradable submissions: grade's notice page is kept
    seconds: float = 0.0


def graded_students(course: CourseDir, chapter: str) -> list[str]:
    """Students with a submission of ``chapter`` in the course gradebook; a usage error if there is none."""
    if not course.db_path.is_file():
        raise UsageError(
            f"{course.root}: no gradebook.db here; grade the chapter first "
            f"(python -m autograder grade {chapter} SUBMISSIONS --out {course.root})"
        )
    with quiet_nbgrader(), Gradebook(course.db_url, COURSE_ID) as gb:
        try:
            submissions = gb.find_assignment(chapter).submissions
        except MissingEntry:
            submissions = []
        students = sorted(s.student.id for s in submissions)
    if not students:
        raise UsageError(
            f"{chapter} was never graded in {course.root} (no submission in its gradebook); "
            f"grade it first (python -m autograder grade {chapter} SUBMISSIONS --out {course.root})"
        )
    return students


def regenerate_feedback(chapter: Chapter, out: Path) -> Regenerated:
    """Write again the feedback page of every graded student of ``chapter`` in course folder ``out``."""
    started = time.monotonic()
    course = CourseDir(Path(out).resolve())
    students = graded_students(course, chapter.id)
    statuses = read_statuses(course.grades_csv, chapter.id)
    source_nb = nbformat.read(chapter.path, as_version=4)
    secrets, public = secret_lines(source_nb), public_lines(source_nb)
    log = file_logger(f"autograder.feedback.{chapter.id}", course.root / "logs" / chapter.id / "_feedback.log")
    done = Regenerated(chapter.id)
    for student in students:
        notebook = course.autograded(student, chapter.id) / f"{chapter.id}.ipynb"
        if not notebook.is_file():
            if statuses.get(student) in (UNREADABLE, MISSING, ERROR):
                done.not_graded.append(student)
            else:
                done.skipped.append((student, f"no autograded notebook {notebook.relative_to(course.root)}"))
            continue
        config = nbgrader_config(course, chapter.id, student)
        config.BaseConverter.force = True
        config.HideHiddenTests.secrets = secrets
        config.HideHiddenTests.public = public
        config.GetHandGrades.after_hand_grading = True
        try:
            with quiet_nbgrader():
                generator = FeedbackGenerator(coursedir=CourseDirectory(config=config), config=config, log=log)
                generator.start()
                with Gradebook(course.db_url, COURSE_ID) as gb:
                    notebook_grades = gb.find_submission_notebook(chapter.id, chapter.id, student)
                    score = FeedbackScore.from_gradebook(notebook_grades, after_hand_grading=True)
        except Exception as error:  # noqa: BLE001 - one student's page must not stop the others
            log.exception("%s: no feedback", student)
            done.skipped.append((student, f"feedback failed: {describe(error)}"))
            continue
        done.pages.append(Page(student, course.feedback(student, chapter.id), score))
    done.seconds = time.monotonic() - started
    log.info("%d pages in %.1f s", len(done.pages), done.seconds)
    return done
