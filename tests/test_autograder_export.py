"""``python -m autograder export``: final grades from a real nbgrader gradebook, for the course and
for Canvas and Moodle.

The gradebook is made with nbgrader's own API (what ``grade`` and formgrader write): three
chapters, one of them never graded, and students whose grades are complete, wait for hand
grading, are flagged, or hold a score above a cell's maximum. No kernel runs (fast).
"""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import cli
from autograder.batch.report import CSV_COLUMNS
from autograder.course import CourseDir
from autograder.grade.submission import quiet_nbgrader
from autograder.plumbing import COURSE_ID, ensure_tools_on_path

pytestmark = pytest.mark.autograder

CHAPTERS = {  # chapter -> graded cells (name, nbgrader cell type, points)
    "01_alpha": [("t1", "code", 4.0), ("w1", "markdown", 2.0)],
    "02_beta": [("t2", "code", 3.0)],
    "03_gamma": [("t3", "code", 5.0)],  # released, never graded
}


def make_gradebook(root: Path, submissions: dict[str, dict[str, dict]], lms_ids: dict[str, str] | None = None,
                   statuses: dict[tuple[str, str], str] | None = None) -> CourseDir:
    """A course folder whose gradebook holds ``CHAPTERS`` and, per student and chapter, the given grades.

    A grade is {cell: (auto_score, manual_score, extra_credit, needs_manual_grade)}; "flagged" flags it.
    """
    course = CourseDir(root)
    course.create()
    ensure_tools_on_path()  # nbgrader creates a gradebook with the `alembic` command
    with quiet_nbgrader(), Gradebook(course.db_url, COURSE_ID) as gb:
        for chapter, cells in CHAPTERS.items():
            gb.add_assignment(chapter)
            gb.add_notebook(chapter, chapter)
            for name, kind, points in cells:
                gb.add_grade_cell(name, chapter, chapter, max_score=points, cell_type=kind)
        for student, chapters in submissions.items():
            gb.add_student(student, lms_user_id=(lms_ids or {}).get(student))
            for chapter, grades in chapters.items():
                gb.add_submission(chapter, student)
                notebook = gb.find_submission_notebook(chapter, chapter, student)
                notebook.flagged = bool(grades.pop("flagged", False))
                for name, (auto, manual, extra, waiting) in grades.items():
                    grade = gb.find_grade(name, chapter, chapter, student)
                    grade.auto_score, grade.manual_score, grade.extra_credit = auto, manual, extra
                    grade.needs_manual_grade = waiting
                gb.db.commit()
    with open(course.grades_csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for (student, chapter), status in (statuses or {}).items():
            writer.writerow({"student_id": student, "chapter": chapter, "score": "0", "max_score": "4",
                             "status": status, "reason": "unreadable notebook: invalid JSON"})
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> CourseDir:
    return make_gradebook(tmp_path_factory.mktemp("export") / "course", {
        "ann": {"01_alpha": {"t1": (4.0, None, None, False), "w1": (None, 1.5, None, False)},
                "02_beta": {"t2": (3.0, None, None, False)}},
        "bob": {"01_alpha": {"t1": (2.0, None, None, False), "w1": (None, None, None, True)}},  # waits for a grader
        "cho": {"01_alpha": {"t1": (0.0, None, None, False), "w1": (0.0, None, None, False), "flagged": True},
                "02_beta": {"t2": (3.0, 5.0, None, False)}},  # 5 > 3, through nbgrader's API
        "dan": {"02_beta": {"t2": (1.0, None, 2.5, False)}},  # extra credit: 3.5 > 3
    }, lms_ids={"ann": "4411"}, statuses={("cho", "01_alpha"): "unreadable"})


def run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue() + err.getvalue()


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def by_student(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


def test_the_course_csv_has_points_status_and_totals_per_chapter(course):
    status, printed = run(["export", "--out", str(course.root)])
    assert status == 1, printed  # bob waits for hand grading, cho is flagged
    rows = read_csv(course.root / "final_grades.csv")
    assert rows[0] == ["student_id",
                       *(f"{c}_{k}" for c in CHAPTERS for k in ("auto", "manual", "total", "max", "status")),
                       "total", "max"]
    grades = by_student(rows)
    assert [grades["ann"][f"01_alpha_{k}"] for k in ("auto", "manual", "total", "max", "status")] == \
        ["4", "1.5", "5.5", "6", "complete"]
    assert [grades["ann"][f"02_beta_{k}"] for k in ("auto", "manual", "total", "max", "status")] == \
        ["3", "0", "3", "3", "complete"]
    assert [grades["ann"][f"03_gamma_{k}"] for k in ("auto", "manual", "total", "max", "status")] == \
        ["", "", "", "5", "not submitted"]
    assert (grades["ann"]["total"], grades["ann"]["max"]) == ("8.5", "14")
    assert (grades["bob"]["01_alpha_total"], grades["bob"]["01_alpha_status"]) == ("2", "needs hand grading")
    assert grades["bob"]["02_beta_status"] == "not submitted"
    assert grades["cho"]["01_alpha_status"] == "needs attention"
    assert (grades["cho"]["02_beta_auto"], grades["cho"]["02_beta_total"]) == ("5", "3")  # capped at the maximum
    assert (grades["dan"]["02_beta_auto"], grades["dan"]["02_beta_total"]) == ("3.5", "3")
    for row in grades.values():  # never a total above the maximum
        for chapter in CHAPTERS:
            assert float(row[f"{chapter}_total"] or 0) <= float(row[f"{chapter}_max"])
        assert float(row["total"]) <= float(row["max"])
    assert "note: 03_gamma: never graded" in printed
    assert "note: cho: 02_beta: 5 points" in printed and "capped at the maximum 3" in printed
    assert "note: dan: 02_beta: 3.5 points" in printed
    assert "note: cho: 01_alpha: flagged (unreadable in grades.csv); unflag it in formgrader" in printed
    assert "2 grades are not final yet" in printed
    assert "01_alpha" in printed and "needs hand grading" in printed  # the summary table


def test_a_chapter_not_in_the_gradebook_is_left_out_with_a_note_and_the_rest_is_written(course):
    status, printed = run(["export", "02_beta", "09_nothing", "--out", str(course.root), "--file",
                           str(course.root / "two.csv")])
    assert status == 0, printed  # every 02_beta grade is final
    assert "note: 09_nothing: not in the gradebook" in printed
    rows = read_csv(course.root / "two.csv")
    assert rows[0] == ["student_id", "02_beta_auto", "02_beta_manual", "02_beta_total", "02_beta_max",
                       "02_beta_status", "total", "max"]
    assert by_student(rows)["bob"]["02_beta_status"] == "not submitted"


def test_usage_errors_say_what_is_wrong(course, tmp_path):
    status, printed = run(["export", "--out", str(tmp_path / "nowhere")])
    assert status == 2 and "no gradebook.db here" in printed, printed
    assert not (tmp_path / "nowhere").exists()
    status, printed = run(["export", "--out", str(course.root), "--format", "canvas"])
    assert status == 2 and "--format canvas needs --roster" in printed
    status, printed = run(["export", "--out", str(course.root), "--format", "moodle", "--roster",
                           str(tmp_path / "missing.csv")])
    assert status == 2 and "missing.csv: cannot be read" in printed
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,mail\nAnn,ann@example.org\n")
    status, printed = run(["export", "--out", str(course.root), "--format", "canvas", "--roster", str(wrong)])
    assert status == 2 and "wrong.csv: no column Student, ID, SIS User ID, SIS Login ID, Section" in printed
    status, printed = run(["export", "09_nothing", "--out", str(course.root)])
    assert status == 2 and "none of 09_nothing" in printed


CANVAS_EXPORT = """\
Student,ID,SIS User ID,SIS Login ID,Section,01_alpha: first steps (9001),Quiz 1 (9002),Current Score
    Points Possible,,,,,6,10,
"Ann, A",4411,S1,ann.a,Sec 1,,8,
"Bob, B",4412,S2,bob,Sec 1,,7,
"Cho, C",4413,S3,cho,Sec 2,,9,
"Student, Test",9999,,,Sec 1,,,
"""


def test_canvas_import_maps_students_by_canvas_id_or_sis_login_and_leaves_unfinished_grades_empty(course, tmp_path):
    roster = tmp_path / "Grades-DNN.csv"
    roster.write_text(CANVAS_EXPORT)
    status, printed = run(["export", "--out", str(course.root), "--format", "canvas", "--roster", str(roster)])
    assert status == 1, printed
    rows = read_csv(course.root / "canvas_import.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_alpha: first steps (9001)",
                       "02_beta", "03_gamma"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "6", "3", "5"]
    assert rows[2:] == [
        ["Ann, A", "4411", "S1", "ann.a", "Sec 1", "5.5", "3", ""],  # by the Canvas id `grade` recorded
        ["Bob, B", "4412", "S2", "bob", "Sec 1", "", "", ""],  # by SIS Login ID; waits for hand grading
        ["Cho, C", "4413", "S3", "cho", "Sec 2", "", "3", ""],  # flagged chapter empty; capped total
        ["Student, Test", "9999", "", "", "Sec 1", "", "", ""],
    ]
    assert "note: not in the roster, so not in the LMS file: dan" in printed
    assert "their cells are left empty" in printed


def test_moodle_import_joins_each_students_participant_ids_by_email(tmp_path):
    course = make_gradebook(tmp_path / "course", {
        "111": {"01_alpha": {"t1": (4.0, None, None, False), "w1": (None, 2.0, None, False)}},  # Jane, chapter 1
        "222": {"02_beta": {"t2": (1.0, None, None, False)}},  # Jane again: another participant id in chapter 2
        "333": {"01_alpha": {"t1": (1.0, None, None, False), "w1": (None, None, None, True)}},  # Ken, not graded yet
    })
    sheet = "Identifier,Full name,Email address,Status,Grade,Maximum Grade\n"
    (tmp_path / "ws01.csv").write_text(sheet + "Participant 111,Jane Roe,jane@example.org,Submitted,,6\n"
                                               "Participant 333,Ken Poe,ken@example.org,Submitted,,6\n")
    (tmp_path / "ws02.csv").write_text(sheet + "Participant 222,Jane Roe,jane@example.org,Submitted,,3\n"
                                               "Participant 444,Ken Poe,ken@example.org,No submission,,3\n")
    status, printed = run(["export", "01_alpha", "02_beta", "--out", str(course.root), "--format", "moodle",
                           "--roster", str(tmp_path / "ws01.csv"), "--roster", str(tmp_path / "ws02.csv")])
    assert status == 1, printed
    assert read_csv(course.root / "moodle_import.csv") == [
        ["Email address", "01_alpha", "02_beta"],
        ["jane@example.org", "6", "1"],
        ["ken@example.org", "", ""],
    ]
    own = tmp_path / "roster.csv"
    own.write_text("student_id,email\n111,jane@example.org\n222,jane@example.org\n")
    status, printed = run(["export", "--out", str(course.root), "--format", "moodle", "--roster", str(own),
                           "--file", str(tmp_path / "m.csv")])
    assert read_csv(tmp_path / "m.csv")[:2] == [["email", "01_alpha", "02_beta", "03_gamma"],
                                                ["jane@example.org", "6", "1", ""]]
    assert "note: not in the roster, so not in the LMS file: 333" in printed
