"""The adversarial corpus (tests/fixtures/cheat_fixtures.py): a hostile submission earns nothing and touches nothing.

One batch grades every cheat together with an honest reference and a blank release
(the tiny chapter, 2 workers); the reference must keep its 10 points and the blank its 0,
whatever the cheats did before or beside them.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import nbformat
import pytest
from fixtures.autograder_fixtures import CHAPTER, computed_once, release_tiny_chapter, tree_digest
from fixtures.cheat_fixtures import CHEATS, NEVER_SHOWN, cheat_notebooks, write_cheats

from autograder.batch.run import grade
from autograder.course import CourseDir
from autograder.grade.submission import Limits
from autograder.release.samples import filled

pytestmark = [pytest.mark.autograder, pytest.mark.slow]

LIMITS = Limits(cell_timeout=10, time_limit=25)
HONEST = 10.0  # the tiny chapter's autograded points


def grade_cheats(base: Path) -> dict:
    chapter, release_nb, source_nb = release_tiny_chapter(base)
    submissions = base / "submissions"
    write_cheats(release_nb, submissions)
    for name, nb in (("honest_reference", filled(release_nb, source_nb)), ("honest_blank", release_nb)):
        (submissions / name).mkdir(parents=True)
        nbformat.write(nb, submissions / name / f"{CHAPTER}.ipynb")
    before = tree_digest(submissions)
    batch = grade(chapter, submissions, base / "out", workers=2, limits=LIMITS, progress=False)
    return {"base": base, "chapter": chapter, "batch": batch, "release": release_nb, "source": source_nb,
            "before": before}


@pytest.fixture(scope="session")
def cheats(tmp_path_factory):
    return computed_once(tmp_path_factory, "autograder-cheats-batch", grade_cheats)


def feedback_text(course: CourseDir, student: str) -> str:
    raw = course.feedback(student, CHAPTER).read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


@pytest.mark.parametrize("case", sorted(CHEATS))
def test_a_cheat_earns_nothing(cheats, case):
    result = cheats["batch"].by_student()[case]
    points, words = CHEATS[case]
    assert result.status in ("graded", "flagged"), f"{case}: {result.status} {result.reason}"
    assert result.score == points, f"{case} scored {result.cell_scores}: {result.reason}"
    for word in words:
        assert word in result.reason, f"{case}: {word!r} not in {result.reason!r}"


def test_the_honest_students_of_the_same_batch_are_unaffected(cheats):
    results = cheats["batch"].by_student()
    assert (results["honest_reference"].status, results["honest_reference"].score) == ("graded", HONEST)
    assert (results["honest_blank"].status, results["honest_blank"].score) == ("graded", 0.0)
    with open(cheats["batch"].course.grades_csv, newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(results)
    assert rows["honest_reference"]["score"] == "10"


def test_no_feedback_shows_a_hidden_test_its_expected_values_or_a_solution(cheats):
    course = cheats["batch"].course
    for student in cheats["batch"].by_student():
        if student == "honest_reference":
            continue  # its own answers are in its feedback
        text = feedback_text(course, student)
        for secret in NEVER_SHOWN:
            assert secret not in text, f"the feedback of {student} shows {secret!r}"


def test_the_gradebook_holds_only_the_graders_scores(cheats):
    from nbgrader.api import Gradebook

    with Gradebook(cheats["batch"].course.db_url) as gb:
        for student in cheats["batch"].by_student():
            submission = gb.find_submission(CHAPTER, student)
            for notebook in submission.notebooks:
                for grade_ in notebook.grades:
                    assert grade_.manual_score is None, (
                        f"{student}: manual score {grade_.manual_score} in {grade_.name}"
                    )
                    assert grade_.max_score <= 5, f"{student}: max score of {grade_.name} changed"
        assert gb.find_submission(CHAPTER, "writes_gradebook").code_score == 0
        assert gb.find_submission(CHAPTER, "honest_reference").code_score == HONEST


def test_a_startup_file_has_no_effect_on_the_next_student(cheats, tmp_path):
    """Graded one after the other in one process: the blank student after the startup-file cheater."""
    release_nb = cheats["release"]
    submissions = tmp_path / "submissions"
    for name, nb in (("a_startup_file", cheat_notebooks(release_nb)["startup_file"]), ("b_blank", release_nb)):
        (submissions / name).mkdir(parents=True)
        nbformat.write(nb, submissions / name / f"{CHAPTER}.ipynb")
    batch = grade(cheats["chapter"], submissions, tmp_path / "out", workers=1, limits=LIMITS, progress=False)
    assert [(r.student, r.score) for r in batch.results] == [("a_startup_file", 0.0), ("b_blank", 0.0)]
    assert not (Path.home() / ".ipython" / "profile_default" / "startup" / "00-answers.py").exists()


def test_the_submissions_and_the_course_source_are_untouched(cheats):
    base = cheats["base"]
    assert tree_digest(base / "submissions") == cheats["before"]
    source = cheats["batch"].course.source(CHAPTER) / f"{CHAPTER}.ipynb"
    assert nbformat.read(source, as_version=4) == cheats["source"]
    for name in ("results.json", "expectations.json", "feedback.html"):
        assert not (base / "out" / name).exists()
