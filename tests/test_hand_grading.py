"""The instructor's hand grading, in a real formgrader in a real JupyterLab, driven by Debian's chromium.

After ``python -m autograder grade``, the instructor runs ``jupyter lab`` in the course folder
(nbgrader 0.9 has no ``nbgrader formgrader`` command: formgrader is a server extension of
JupyterLab), opens *Nbgrader > Formgrader*, *Manual Grading*, the chapter, the notebook, a
student, and grades the written answer with its model answer and rubric right under it.
This module does exactly that, on the tiny fixture chapter, and checks:

1. the rubric is under the student's answer, next to formgrader's score and comment boxes;
2. the points and the comment typed into formgrader are in nbgrader's gradebook; a score
   above the cell's maximum is turned into the maximum by formgrader's page (its API, and
   nbgrader's Python API, accept it: ``export`` caps the total and says so);
3. a regrade (``python -m autograder grade`` again) keeps the hand-entered points and the
   comment and marks them for review: formgrader shows the kept score and its *Resolve* button;
4. ``python -m autograder feedback`` shows the hand-graded points and the comment (no rubric);
   ``python -m autograder export`` says ``complete`` once resolved.

Screenshots: _build/screenshots/formgrader-*.png.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from fixtures.autograder_fixtures import CHAPTER, MODEL_ANSWER, RUBRIC_ITEM, WRITTEN_ID, release_tiny_chapter
from lab_tools import LabServer, chromium, screenshot
from nbgrader.api import Gradebook

from autograder import cli
from autograder.course import CourseDir
from autograder.grade.rubric import RUBRIC_HEADING
from autograder.release.samples import filled

pytestmark = [pytest.mark.slow, pytest.mark.autograder]

ANSWER = "Because `np.sum(x) / len(x)` is a true division: the result is a float."
COMMENT = "Right about the **true division**; also say why `float(...)` is there."
LIMITS = ["--cell-timeout", "60", "--time-limit", "120", "--workers", "1", "--no-progress"]


def run(argv: list[str]) -> tuple[int, str]:
    """``python -m autograder ...`` in this process; (exit status, what it printed)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(argv)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    """The tiny chapter graded for two students: ``ann`` wrote the written answer, ``bob`` left it as released."""
    base = tmp_path_factory.mktemp("hand-grading")
    chapter, release_nb, source_nb = release_tiny_chapter(base)
    submissions = base / "submissions"
    ann = filled(release_nb, source_nb)
    next(c for c in ann.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID).source = ANSWER
    for student, nb in {"ann": ann, "bob": filled(release_nb, source_nb, {"add_answer"})}.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(nb, submissions / student / f"{CHAPTER}.ipynb")
    status, printed = run(["grade", str(chapter.path), str(submissions), "--out", str(base / "course"), *LIMITS])
    assert status == 0, printed
    return {"chapter": chapter, "submissions": submissions, "course": CourseDir(base / "course"), "base": base}


def lab(course: CourseDir, base: Path) -> LabServer:
    """``jupyter lab`` in the course folder, as the instructor starts it (``--allow-root`` only as root)."""
    command = [str(Path(sys.executable).parent / "jupyter"), "lab"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = {"JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"), "JUPYTER_PLATFORM_DIRS": "1"}
    return LabServer(command, course.root, base / "jupyterlab.log", env=env)


def wait_for_frame(page, path: str, seconds: float = 120) -> None:
    """Until formgrader's frame shows the page at ``path`` (a click on a link of the page before does nothing)."""
    deadline = time.monotonic() + seconds
    while not any(frame.url.split("?")[0].rstrip("/").endswith(path) for frame in page.frames):
        assert time.monotonic() < deadline, f"formgrader did not open {path}: {[f.url for f in page.frames]}"
        page.wait_for_timeout(200)


def open_submission(page, server: LabServer, student: str):
    """Nbgrader > Formgrader > Manual Grading > chapter > notebook > the student; returns formgrader's frame."""
    page.goto(server.url("lab"))
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").first.click(timeout=120_000)
    page.locator(".lm-Menu-itemLabel", has_text="Formgrader").first.click()
    formgrader = page.frame_locator(".jp-MainAreaWidget iframe").first
    formgrader.get_by_role("link", name="Manual Grading").click()
    formgrader.get_by_role("link", name=CHAPTER).first.click()  # the assignment: its notebooks
    wait_for_frame(page, f"/formgrader/gradebook/{CHAPTER}")
    formgrader.get_by_role("link", name=CHAPTER).first.click()  # the notebook: its submissions
    wait_for_frame(page, f"/formgrader/gradebook/{CHAPTER}/{CHAPTER}")
    formgrader.get_by_role("link", name="Submission #1").wait_for()
    formgrader.get_by_role("button", name="Show All Names").click()
    formgrader.get_by_role("link", name=student, exact=True).click()
    formgrader.locator(f"input#{WRITTEN_ID}").wait_for()
    page.wait_for_timeout(500)  # formgrader fills the boxes from its API once the page is there
    news = page.get_by_role("button", name="No", exact=True)  # JupyterLab's "get notified about news?"
    if news.count():
        news.click()
    return formgrader


def show_written_answer(page, formgrader, name: str) -> None:
    formgrader.locator(".text_cell", has_text=RUBRIC_HEADING).scroll_into_view_if_needed()
    screenshot(page, name)


def grade_row(course: CourseDir, student: str) -> tuple:
    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade(WRITTEN_ID, CHAPTER, CHAPTER, student)
        comment = gb.find_comment(WRITTEN_ID, CHAPTER, CHAPTER, student)
        return grade.manual_score, grade.needs_manual_grade, comment.manual_comment, grade.id


def test_hand_grading_in_formgrader_survives_a_regrade_and_reaches_feedback_and_export(course):
    course_dir, base = course["course"], course["base"]
    assert grade_row(course_dir, "ann")[:3] == (None, True, None)  # waits for a grader

    with lab(course_dir, base) as server, chromium() as page:
        formgrader = open_submission(page, server, "ann")

        # 1. the student's answer, and right under it the model answer and rubric
        answer = formgrader.locator(".nbgrader_cell", has=formgrader.locator(f"input#{WRITTEN_ID}"))
        assert "true division: the result is a float" in answer.inner_text()
        rubric = formgrader.locator(".text_cell", has_text=RUBRIC_HEADING)
        assert rubric.count() == 1
        assert MODEL_ANSWER in rubric.inner_text() and RUBRIC_ITEM in rubric.inner_text()
        follows = formgrader.locator(".text_cell:has(.nbgrader_cell input#why_question) + .text_cell")
        assert RUBRIC_HEADING in follows.inner_text(), "the rubric is not the cell right after the answer"
        show_written_answer(page, formgrader, "formgrader-rubric")

        # 2. points and a comment, typed as a grader does; a score above the maximum becomes the maximum
        score = formgrader.locator(f"input#{WRITTEN_ID}")
        score.fill("5")
        score.press("Tab")
        page.wait_for_timeout(1000)
        assert score.input_value() == "1"
        assert grade_row(course_dir, "ann")[0] == 1.0
        score.fill("0.5")
        score.press("Tab")
        comment = formgrader.locator(f"textarea#{WRITTEN_ID}-comment")
        comment.fill(COMMENT)
        comment.press("Tab")
        page.wait_for_timeout(1500)
        show_written_answer(page, formgrader, "formgrader-graded")
    manual, waiting, saved_comment, grade_id = grade_row(course_dir, "ann")
    assert (manual, waiting, saved_comment) == (0.5, False, COMMENT)

    # formgrader's API itself accepts a score above the maximum (so does nbgrader's Python API)
    with lab(course_dir, base) as server:
        request = urllib.request.Request(server.url(f"formgrader/api/grade/{grade_id}"), method="PUT",
                                         data=json.dumps({"manual_score": 3, "extra_credit": None}).encode())
        with urllib.request.urlopen(request, timeout=30) as answer_:
            assert json.loads(answer_.read())["manual_score"] == 3
    status, printed = run(["export", "--out", str(course_dir.root)])
    assert status == 0 and "ann: 00_tiny: 13 points" in printed and "capped at the maximum 11" in printed, printed
    assert _row(course_dir, "ann")["00_tiny_total"] == "11"
    with Gradebook(course_dir.db_url) as gb:  # back to the grader's 0.5
        gb.find_grade(WRITTEN_ID, CHAPTER, CHAPTER, "ann").manual_score = 0.5
        gb.db.commit()

    # 3. a regrade keeps the hand-entered points and the comment, and marks them for review
    status, printed = run(["grade", str(course["chapter"].path), str(course["submissions"]), "--out",
                           str(course_dir.root), *LIMITS])
    assert status == 0, printed
    assert grade_row(course_dir, "ann")[:3] == (0.5, True, COMMENT)
    with lab(course_dir, base) as server, chromium() as page:
        formgrader = open_submission(page, server, "ann")
        score = formgrader.locator(f"input#{WRITTEN_ID}")
        assert score.input_value() == "0.5"
        assert "needs_manual_grade" in score.get_attribute("class")
        resolve = formgrader.locator(".nbgrader_cell", has=score).get_by_role("button", name="Resolve")
        assert resolve.is_visible()
        assert formgrader.locator(f"textarea#{WRITTEN_ID}-comment").input_value() == COMMENT
        show_written_answer(page, formgrader, "formgrader-after-regrade")
        status, printed = run(["export", "--out", str(course_dir.root)])
        assert "needs hand grading" in _row(course_dir, "ann")["00_tiny_status"], printed
        resolve.click()
        page.wait_for_timeout(1500)
        assert not resolve.is_visible()
        show_written_answer(page, formgrader, "formgrader-resolved")
    assert grade_row(course_dir, "ann")[:3] == (0.5, False, COMMENT)

    # 4. the feedback page shows the hand-graded points and the comment; the export says complete
    status, printed = run(["feedback", str(course["chapter"].path), "--out", str(course_dir.root)])
    assert status == 0, printed
    page_html = course_dir.feedback("ann", CHAPTER).read_text(encoding="utf-8")
    assert "Score: 10.5 / 11" in page_html and "Written answers (graded by hand): 0.5 / 1" in page_html
    assert "true division" in page_html and "also say why" in page_html  # the comment, as markdown
    assert RUBRIC_ITEM not in page_html and MODEL_ANSWER not in page_html and RUBRIC_HEADING not in page_html
    status, printed = run(["export", "--out", str(course_dir.root)])
    ann = _row(course_dir, "ann")
    assert (ann["00_tiny_auto"], ann["00_tiny_manual"], ann["00_tiny_total"], ann["00_tiny_status"]) == (
        "10", "0.5", "10.5", "complete")
    assert _row(course_dir, "bob")["00_tiny_status"] == "complete"  # left as released: nbgrader's 0, nothing to grade
    assert status == 0, printed


def _row(course: CourseDir, student: str) -> dict[str, str]:
    with open(course.root / "final_grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}[student]
