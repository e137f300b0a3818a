"""``export``: the term's final grades, read from nbgrader's gradebook, as one CSV file.

The course format (``grades-final.csv`` by default, in the course folder) has one row per
student and, per chapter, five columns, then the course's total::

    student_id, <chapter>_auto, <chapter>_manual, <chapter>_total, <chapter>_max, <chapter>_status, ..., total, max

* ``_auto``: the points of the test cells (autograded); ``_manual``: the points of the written
  answers (graded by hand in formgrader); ``_total``: their sum less nbgrader's late penalty,
  never above ``_max``, the chapter's maximum. These are the numbers of the feedback page's
  header (``autograder.grade.feedback_score.FeedbackScore``), read through nbgrader's API.
* ``_status``, one of:
  ``complete``: every cell has its score;
  ``needs hand grading``: a written answer has no score yet, or a score a grader entered
  before a regrade waits for review (nbgrader's ``needs_manual_grade``; formgrader lists them);
  ``needs attention``: the submission is flagged in the gradebook: ``grade`` flags every
  submission that is flagged, unreadable, missing or failed (grades.csv says why); after you
  looked at it, unflag it in formgrader (Ctrl+Shift+F) to accept its grade;
  ``not submitted``: no submission of the chapter in the gradebook (the points columns are empty).
* ``total``/``max``: the sum over the chapters (a chapter not submitted counts 0 of its maximum).

nbgrader does not cap scores: its API (and formgrader's, though not formgrader's page) accepts a
manual score above a cell's maximum, and extra credit has no limit. A chapter's total is
capped at its maximum here, and every cap is reported (``FinalGrades.notes``).

Which chapters: those given, or every assignment of the gradebook (``release`` adds them all).
A chapter not in the gradebook is left out, and one never graded says ``not submitted``,
each with a note. Without a gradebook, ``export`` is a usage error. The Canvas and Moodle
import files are made from the same grades (``autograder.term.lms``).
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograder.batch.report import read_statuses
from autograder.course import CourseDir, UsageError, text_table
from autograder.grade.feedback_score import FeedbackScore, points
from autograder.grade.submission import quiet_nbgrader
from autograder.plumbing import COURSE_ID

COMPLETE, NEEDS_HAND_GRADING, NEEDS_ATTENTION, NOT_SUBMITTED = (
    "complete",
    "needs hand grading",
    "needs attention",
    "not submitted",
)
STATUSES = (COMPLETE, NEEDS_HAND_GRADING, NEEDS_ATTENTION, NOT_SUBMITTED)
PER_CHAPTER = ("auto", "manual", "total", "max", "status")  # the columns of each chapter, in order


@dataclass(frozen=True)
class ChapterGrade:
    """One student's grade for one chapter, as the course CSV shows it."""

    status: str
    maximum: float
    auto: float | None = None  # None: not submitted
    manual: float | None = None
    total: float | None = None  # auto + manual - late penalty, at most ``maximum``

    @property
    def final(self) -> bool:
        return self.status == COMPLETE


@dataclass
class FinalGrades:
    """Every student's grade of every chapter exported, and what the instructor should know."""

    chapters: list[str]
    maxima: dict[str, float]
    grades: dict[str, dict[str, ChapterGrade]] = field(default_factory=dict)  # student -> chapter -> grade
    lms_user_ids: dict[str, str] = field(default_factory=dict)  # student -> LMS user id (Canvas), when known
    notes: list[str] = field(default_factory=list)

    @property
    def students(self) -> list[str]:
        return sorted(self.grades)

    def grade(self, student: str, chapter: str) -> ChapterGrade:
        return self.grades.get(student, {}).get(chapter) or ChapterGrade(NOT_SUBMITTED, self.maxima[chapter])

    def course_total(self, student: str) -> float:
        return sum(self.grade(student, chapter).total or 0.0 for chapter in self.chapters)

    @property
    def course_max(self) -> float:
        return sum(self.maxima.values())

    def counts(self) -> dict[str, Counter]:
        """chapter -> how many students have each status."""
        return {chapter: Counter(self.grade(s, chapter).status for s in self.students) for chapter in self.chapters}

    @property
    def waiting(self) -> int:
        """Grades that are not final yet: hand grading to do, or a submission to look at."""
        return sum(
            n
            for c in self.counts().values()
            for status, n in c.items()
            if status in (NEEDS_HAND_GRADING, NEEDS_ATTENTION)
        )


def chapter_grade(notebook, chapter: str, student: str, notes: list[str]) -> ChapterGrade:
    """From nbgrader's ``SubmittedNotebook``: the points, the status, and a note when the total is capped."""
    score = FeedbackScore.from_gradebook(notebook, after_hand_grading=True)
    maximum = score.total_max
    if notebook.flagged:
        status = NEEDS_ATTENTION
    elif any(grade.needs_manual_grade for grade in notebook.grades):
        status = NEEDS_HAND_GRADING
    else:
        status = COMPLETE
    total = min(max(score.total, 0.0), maximum)
    if score.total > maximum:
        notes.append(
            f"{student}: {chapter}: {points(score.total)} points (extra credit, or a score above a cell's "
            f"maximum entered through nbgrader's API) capped at the maximum {points(maximum)}"
        )
    return ChapterGrade(status, maximum, score.autograded, score.by_hand_score, total)


def read_final_grades(course: CourseDir, chapters: list[str] | None = None) -> FinalGrades:
    """Every student's grades of ``chapters`` (default: every assignment of the gradebook)."""
    if not course.db_path.is_file():
        raise UsageError(
            f"{course.root}: no gradebook.db here; release and grade first "
            f"(python -m autograder grade CHAPTER SUBMISSIONS --out {course.root})"
        )
    with quiet_nbgrader(), Gradebook(course.db_url, COURSE_ID) as gb:
        known = {a.name: a for a in gb.assignments}
        wanted = list(chapters) if chapters else sorted(known)
        if not wanted:
            raise UsageError(f"{course.db_path}: the gradebook holds no chapter; release and grade first")
        final = FinalGrades([c for c in wanted if c in known], {})
        for chapter in wanted:
            if chapter not in known:
                final.notes.append(
                    f"{chapter}: not in the gradebook (never released or graded in {course.root}); left out"
                )
                continue
            final.maxima[chapter] = float(known[chapter].max_score)
            if not known[chapter].submissions:
                final.notes.append(f"{chapter}: never graded; every student is 'not submitted'")
        if not final.chapters:
            raise UsageError(f"none of {', '.join(wanted)} is in {course.db_path}")
        for student in gb.students:
            final.grades[student.id] = {}
            if student.lms_user_id:
                final.lms_user_ids[student.id] = student.lms_user_id
            for chapter in final.chapters:
                try:
                    notebook = gb.find_submission_notebook(chapter, chapter, student.id)
                except MissingEntry:
                    continue
                final.grades[student.id][chapter] = chapter_grade(notebook, chapter, student.id, final.notes)
    for chapter in final.chapters:
        statuses = read_statuses(course.grades_csv, chapter)
        for student in final.students:
            if final.grade(student, chapter).status == NEEDS_ATTENTION and student in statuses:
                final.notes.append(
                    f"{student}: {chapter}: flagged ({statuses[student]} in grades.csv); "
                    "unflag it in formgrader once you have looked"
                )
    return final


def course_rows(final: FinalGrades) -> list[list[str]]:
    """The course CSV: a header, then one row per student."""
    header = ["student_id", *(f"{c}_{column}" for c in final.chapters for column in PER_CHAPTER), "total", "max"]
    rows = [header]
    for student in final.students:
        row = [student]
        for chapter in final.chapters:
            grade = final.grade(student, chapter)
            row += [
                _number(grade.auto),
                _number(grade.manual),
                _number(grade.total),
                points(grade.maximum),
                grade.status,
            ]
        rows.append([*row, points(final.course_total(student)), points(final.course_max)])
    return rows


def _number(value: float | None) -> str:
    return "" if value is None else points(value)


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    """A CSV file (UTF-8, written whole or not at all)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    os.replace(partial, path)
    return path


def summary(final: FinalGrades) -> str:
    """How many students have each status, per chapter (the text ``export`` prints)."""
    counts = final.counts()
    return text_table(("chapter", *STATUSES), ((c, *(str(counts[c][s]) for s in STATUSES)) for c in final.chapters))
