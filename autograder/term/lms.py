"""Final grades as an LMS's grade-import CSV (Canvas, Moodle), with a roster that maps the LMS's students to nbgrader's.

nbgrader knows a student by the id ``grade`` derived from the submissions (see
``autograder.batch.collect``): Canvas's login part of its file names, Moodle's participant id
(one per assignment!), a JupyterHub user name, a folder name. An LMS imports grades by its own
identifiers. The roster (``--roster FILE``, repeatable) is a CSV the LMS already gives you:

* **Canvas**: the Gradebook's export (*Grades > Export > Export Entire Gradebook*), columns
  ``Student, ID, SIS User ID, SIS Login ID, Section, ...``. A row is the nbgrader student
  whose Canvas user id (``Student.lms_user_id``, which ``grade`` records from Canvas's file
  names ``<login>_<user id>_<submission id>_<file>``) is its ``ID``; or whose id is its ``SIS
  Login ID`` or ``SIS User ID`` (a JupyterHub that logs in with the SIS login).
* **Moodle**: each assignment's grading worksheet (*Assignment > View all submissions >
  Download grading worksheet*), columns ``Identifier`` (``Participant 123456``: the id of
  Moodle's folder names) and ``Email address``. Moodle gives a student another participant
  id in every assignment: give one worksheet per chapter; rows with the same e-mail address
  are one student.
* Either: a column ``student_id`` (the nbgrader id, as in grades.csv) says it directly.

The files (``canvas_rows``, ``moodle_rows``) hold a chapter's total for a student only when
its status is ``complete`` (``autograder.term.export``); any other cell is empty, so that no
partial grade reaches the LMS, and ``export`` lists what is not final. Canvas: the
columns are ``Student, ID, SIS User ID, SIS Login ID, Section`` copied from the roster, then
one per chapter, named as the roster's column of that assignment (``03_activations (4711)``:
a Canvas assignment whose name starts with the chapter id), or the chapter id (Canvas then
makes a new assignment); a second row, ``Points Possible``, has each chapter's maximum.
Moodle: the roster's ``Email address`` (or ``Username``, ``ID number``), then one column per
chapter; in *Import > CSV file*, map that column to the user field and each chapter to its
grade item. Students of the gradebook who are not in the roster are left out, with a note.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import UsageError
from autograder.grade.feedback_score import points
from autograder.term.export import NOT_SUBMITTED, FinalGrades

CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas's own export writes it
MOODLE_IDENTITIES = ("Email address", "email", "Username", "username", "ID number", "idnumber")
MOODLE_PARTICIPANT = re.compile(r"^\s*Participant\s+(\d+)\s*$")
CANVAS_ASSIGNMENT_ID = re.compile(r"\s*\(\d+\)\s*$")  # "03_activations (4711)"


@dataclass
class Roster:
    """The rows of the roster files, as read."""

    header: list[str]
    rows: list[dict[str, str]]


@dataclass
class Person:
    """One student of the LMS: the roster's columns, and the nbgrader ids that are this student."""

    identity: dict[str, str]
    student_ids: list[str] = field(default_factory=list)


def read_roster(paths: list[Path]) -> Roster:
    """The rows of every roster file (same columns or not); a clear error for a file that cannot be read."""
    header: list[str] = []
    rows: list[dict[str, str]] = []
    for path in paths:
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                reader = csv.DictReader(handle)
                columns = [name.strip() for name in reader.fieldnames or []]
                read = [{k.strip(): (v or "").strip() for k, v in row.items() if k is not None} for row in reader]
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            raise UsageError(f"--roster {path}: cannot be read as a CSV file ({error})") from None
        if not columns:
            raise UsageError(f"--roster {path}: the file is empty (a CSV file with a header row is expected)")
        header += [c for c in columns if c not in header]
        rows += read
    return Roster(header, rows)


def _require(roster: Roster, columns: tuple[str, ...], paths: list[Path], what: str) -> None:
    missing = [c for c in columns if c not in roster.header]
    if missing:
        raise UsageError(f"--roster {', '.join(map(str, paths))}: no column {', '.join(missing)}; {what}")


def canvas_people(roster: Roster, final: FinalGrades) -> list[Person]:
    by_lms_id = {lms: student for student, lms in final.lms_user_ids.items()}
    known = set(final.students)
    people = []
    for row in roster.rows:
        if row.get("Student", "").strip() == CANVAS_POINTS_ROW.strip():
            continue
        candidates = [
            row.get("student_id"),
            by_lms_id.get(row.get("ID", "")),
            row.get("SIS Login ID"),
            row.get("SIS User ID"),
        ]
        student = next((c for c in candidates if c and c in known), None)
        people.append(Person({c: row.get(c, "") for c in CANVAS_IDENTITY}, [student] if student else []))
    return people


def moodle_people(roster: Roster, identity: str) -> list[Person]:
    people: dict[str, Person] = {}
    for row in roster.rows:
        key = row.get(identity, "")
        if not key:
            continue
        participant = MOODLE_PARTICIPANT.match(row.get("Identifier", ""))
        ids = [i for i in (row.get("student_id"), participant.group(1) if participant else None) if i]
        person = people.setdefault(key, Person({identity: key}))
        person.student_ids += [i for i in ids if i not in person.student_ids]
    return list(people.values())


def chapter_cell(person: Person, chapter: str, final: FinalGrades, notes: list[str]) -> str:
    """The chapter's total for the LMS: only a final one; otherwise empty."""
    submitted = [s for s in person.student_ids if final.grade(s, chapter).status != NOT_SUBMITTED]
    if len(submitted) > 1:
        notes.append(
            f"{', '.join(submitted)}: one student of the roster, each with a submission of {chapter}; left empty"
        )
        return ""
    if not submitted:
        return ""
    grade = final.grade(submitted[0], chapter)
    if not grade.final:
        return ""
    assert grade.total is not None  # a final grade has its total (export.chapter_grade)
    return points(grade.total)


def _left_out(people: list[Person], final: FinalGrades, notes: list[str]) -> None:
    mapped = {s for person in people for s in person.student_ids}
    missing = [s for s in final.students if s not in mapped]
    if missing:
        notes.append(f"not in the roster, so not in the LMS file: {', '.join(missing)}")


def canvas_column(chapter: str, roster: Roster) -> str:
    """The roster's column of the chapter's Canvas assignment (its name starts with the chapter id), else the id."""
    for column in roster.header:
        if CANVAS_ASSIGNMENT_ID.search(column) and CANVAS_ASSIGNMENT_ID.sub("", column).startswith(chapter):
            return column
    return chapter


def canvas_rows(final: FinalGrades, roster_paths: list[Path], notes: list[str]) -> list[list[str]]:
    """Canvas's Gradebook import CSV: identity columns, a Points Possible row, one column per chapter."""
    roster = read_roster(roster_paths)
    _require(roster, CANVAS_IDENTITY, roster_paths, "the Canvas roster is the Gradebook's export (Grades > Export)")
    people = canvas_people(roster, final)
    _left_out(people, final, notes)
    rows = [
        [*CANVAS_IDENTITY, *(canvas_column(c, roster) for c in final.chapters)],
        [CANVAS_POINTS_ROW, "", "", "", "", *(points(final.maxima[c]) for c in final.chapters)],
    ]
    for person in people:
        rows.append(
            [
                *(person.identity[c] for c in CANVAS_IDENTITY),
                *(chapter_cell(person, c, final, notes) for c in final.chapters),
            ]
        )
    return rows


def moodle_rows(final: FinalGrades, roster_paths: list[Path], notes: list[str]) -> list[list[str]]:
    """Moodle's grade import CSV: the roster's identifier column, then one column per chapter."""
    roster = read_roster(roster_paths)
    identity = next((c for c in MOODLE_IDENTITIES if c in roster.header), None)
    if identity is None:
        raise UsageError(
            f"--roster {', '.join(map(str, roster_paths))}: no column {' or '.join(MOODLE_IDENTITIES)}; "
            "the Moodle roster is each assignment's grading worksheet, or a CSV of student_id and email"
        )
    if "student_id" not in roster.header and "Identifier" not in roster.header:
        raise UsageError(
            f"--roster {', '.join(map(str, roster_paths))}: no column student_id or Identifier "
            "(Moodle's 'Participant N'): nothing says which nbgrader student a row is"
        )
    people = moodle_people(roster, identity)
    _left_out(people, final, notes)
    rows = [[identity, *final.chapters]]
    for person in people:
        rows.append([person.identity[identity], *(chapter_cell(person, c, final, notes) for c in final.chapters)])
    return rows
