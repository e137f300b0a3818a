"""Grading real notebooks with real nbgrader: every kind of bad submission, on a tiny chapter.

One batch grades every fixture of tests/fixtures/autograder_fixtures.py (one student per
case of the issue's table) with 4 workers, a 10 s cell timeout and a 25 s notebook limit.
Then: one worker and two give exactly the same grades, a regrade grades nothing again and
changes nothing, identical submissions are graded once, a resubmission that
dropped cells leaves no stale score, the submissions are never modified, the feedback has
no hidden test, and nbgrader's own `export` reads the gradebook.
"""

from __future__ import annotations

import csv
import html
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from fixtures.autograder_fixtures import (
    CHAPTER,
    EXPECTED,
    MODEL_ANSWER,
    POINTS,
    RUBRIC_ITEM,
    SECRET_EXPECTED,
    WRITTEN_ID,
    computed_once,
    release_tiny_chapter,
    tree_digest,
    write_bad_submissions,
)

from autograder import cli
from autograder.batch.report import CSV_COLUMNS
from autograder.batch.run import grade
from autograder.grade.submission import Limits
from autograder.plumbing import HIDDEN_TESTS, SOLUTION, region_texts

pytestmark = [pytest.mark.autograder, pytest.mark.slow]

LIMITS = Limits(cell_timeout=10, time_limit=25)


def page_text(path: Path) -> str:
    """The visible text of an HTML page (tags removed, entities decoded)."""
    raw = path.read_text(encoding="utf-8")
    body = raw[raw.index("<body"):] if "<body" in raw else raw
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def grade_tiny_batch(base: Path) -> dict:
    chapter, release_nb, source_nb = release_tiny_chapter(base)
    submissions = base / "submissions"
    write_bad_submissions(release_nb, source_nb, submissions)
    before = tree_digest(submissions), tree_digest(base / "elsewhere")  # the links' targets too
    batch = grade(chapter, submissions, base / "out", workers=4, limits=LIMITS, progress=False)
    return {"base": base, "chapter": chapter, "source": source_nb, "release": release_nb,
            "submissions": submissions, "before": before, "batch": batch}


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    return computed_once(tmp_path_factory, "autograder-tiny-batch", grade_tiny_batch)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_every_kind_of_submission_gets_a_status_points_and_a_reason(tiny, case):
    result = tiny["batch"].by_student()[case]
    status, points, words = EXPECTED[case]
    assert (result.status, result.score, result.max_score) == (status, points, sum(POINTS.values())), result
    for word in words:
        assert word in result.reason, f"{case}: {word!r} not in reason {result.reason!r}"
    if status in ("graded", "flagged"):
        assert set(result.cell_scores) == set(POINTS)


def test_kernel_death_and_time_limits_keep_the_earlier_points(tiny):
    results = tiny["batch"].by_student()
    for case in ("segfault", "os_exit", "out_of_memory", "infinite_loop", "ignores_sigint", "catches_interrupt"):
        assert results[case].cell_scores == {"add_tests": 2.0, "scale_tests": 3.0, "mean_tests": 0.0}, case
    assert results["time_limit"].cell_scores == {"add_tests": 2.0, "scale_tests": 3.0, "mean_tests": 0.0}


def test_the_batch_finishes_and_lists_what_needs_attention(tiny):
    batch = tiny["batch"]
    assert sorted(r.student for r in batch.results) == sorted(EXPECTED)
    attention = {r.student for r in batch.attention}
    assert attention == {case for case, (status, _, _) in EXPECTED.items() if status != "graded"}


def test_submissions_are_never_modified(tiny):
    assert (tree_digest(tiny["submissions"]), tree_digest(tiny["base"] / "elsewhere")) == tiny["before"]
    assert any(" to " in value for value in tiny["before"][0].values() if value.startswith("link"))


def test_grades_csv_has_one_row_per_student(tiny):
    course = tiny["batch"].course
    with open(course.grades_csv, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CSV_COLUMNS
        rows = {row["student_id"]: row for row in reader}
    assert set(rows) == set(EXPECTED)
    for case, (status, points, _) in EXPECTED.items():
        row = rows[case]
        assert (row["chapter"], row["status"], float(row["score"]), float(row["max_score"])) == (
            CHAPTER, status, points, 10.0)
    assert rows["invalid_json"]["reason"].startswith("unreadable notebook: ")


def test_nbgrader_exchange_files_are_kept_for_late_penalties_and_release_feedback(tiny):
    course = tiny["batch"].course
    feedback = course.feedback("exchange_layout", CHAPTER).parent
    assert (feedback / "submission_secret.txt").read_text() == "a-secret-from-the-exchange"
    assert (feedback / "timestamp.txt").is_file()
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        assert str(gb.find_submission(CHAPTER, "exchange_layout").timestamp).startswith("2026-03-02 09:15")


def test_huge_output_is_truncated(tiny):
    course = tiny["batch"].course
    nb = nbformat.read(course.autograded("huge_output", CHAPTER) / f"{CHAPTER}.ipynb", as_version=4)
    sizes = [sum(len(o.get("text", "")) for o in c.outputs) for c in nb.cells if c.cell_type == "code"]
    assert max(sizes) < 120_000  # 2 x 5 MB printed (while the test cells ran); about 100,000 characters kept
    assert "output of cell" in tiny["batch"].by_student()["huge_output"].reason  # "output of cell N truncated"
    # a test cell shows the grader's verdict only (autograder.grade.score), not what the kernel printed
    tests_output = [o.get("text", "") for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "add_tests"
                    for o in c.outputs]
    assert tests_output and all(line.startswith("ok: ") for text in tests_output for line in text.splitlines())


def test_feedback_shows_points_and_messages_but_no_hidden_test_or_solution(tiny):
    course, source = tiny["batch"].course, tiny["source"]
    hidden = [line.strip() for c in source.cells for r in region_texts(c.source, HIDDEN_TESTS)
              for line in r.splitlines() if len(line.strip()) >= 12]
    solutions = [line.strip() for c in source.cells for r in region_texts(c.source, SOLUTION) for line in r.splitlines()
                 if len(line.strip()) >= 12]
    assert hidden and solutions
    for case in EXPECTED:
        page = course.feedback(case, CHAPTER)
        assert page.is_file(), f"no feedback for {case}"
        text = page_text(page)
        raw = page.read_text(encoding="utf-8")
        for line in hidden:
            assert line not in text and html.escape(line) not in raw, f"{case}: hidden test {line!r} in feedback"
        assert "BEGIN HIDDEN TESTS" not in raw and SECRET_EXPECTED not in text, case
        assert MODEL_ANSWER not in raw and RUBRIC_ITEM not in raw, (
            f"{case}: the written answer's solution is in the feedback"
        )
        assert "Model answer and rubric" not in raw, case
        if case in ("blank", "partly_wrong", "edited_tests", "instructor_source", "symlink_to_source"):
            # they never wrote the solutions (the instructor's source holds them: each region becomes a note)
            for line in solutions[1:]:
                assert line not in text, f"{case}: solution {line!r} in feedback"
    partly = page_text(course.feedback("partly_wrong", CHAPTER))
    assert "Score: 2.0 / 2.0" in partly and "Score: 0.0 / 3.0" in partly and "Score: 0.0 / 5.0" in partly
    assert "still raises NotImplementedError" in partly
    hidden_fail = page_text(course.feedback("hidden_fail", CHAPTER))
    assert "A hidden test failed: scale keeps float32" in hidden_fail
    assert "ok: scale([1, 2], 3)" in hidden_fail
    died = page_text(course.feedback("segfault", CHAPTER))
    assert "KernelDied" in died and "SIGSEGV" in died
    assert "invalid JSON" in page_text(course.feedback("invalid_json", CHAPTER))


def test_the_grader_sees_the_model_answer_and_rubric_under_each_written_answer(tiny):
    """formgrader renders the autograded notebook: the rubric cell follows the written answer there, and only there."""
    from autograder.grade.rubric import RUBRIC_HEADING, is_rubric_cell

    course = tiny["batch"].course
    for case in ("reference", "blank", "deleted_written_answer", "instructor_source"):
        nb = nbformat.read(course.autograded(case, CHAPTER) / f"{CHAPTER}.ipynb", as_version=4)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        rubrics = [(i, c) for i, c in enumerate(nb.cells) if is_rubric_cell(c)]
        assert len(rubrics) == 1, case
        index, cell = rubrics[0]
        assert ids[index - 1] == WRITTEN_ID, case  # right under the answer, even a restored one
        assert cell.cell_type == "markdown" and "nbgrader" not in cell.metadata
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        assert RUBRIC_HEADING in cell.source and MODEL_ANSWER in cell.source and RUBRIC_ITEM in cell.source
        assert "BEGIN SOLUTION" not in cell.source
    for folder in ("release", "feedback"):
        for path in (course.root / folder).rglob("*"):
            if path.is_file() and path.suffix in (".ipynb", ".html"):
                assert RUBRIC_ITEM not in path.read_text(encoding="utf-8", errors="replace"), path


def test_nbgrader_export_reads_the_gradebook(tiny):
    course = tiny["batch"].course
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", "export"], cwd=course.root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(course.root / "nbgrader_export.csv", newline="") as handle:
        exported = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(exported) == set(EXPECTED)
    for case, (_, points, _) in EXPECTED.items():
        assert float(exported[case]["score"]) == points, case  # written answers are not graded yet: 0
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        flagged = {s.student.id for s in gb.find_assignment(CHAPTER).submissions if s.notebooks[0].flagged}
    assert flagged == {c for c, (status, _, _) in EXPECTED.items() if status != "graded"}


def gradebook_scores(course: Path) -> dict[str, dict[str, float]]:
    """student -> {grade id: score} of every graded cell in the course gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s.student.id: {g.name: g.score for g in s.notebooks[0].grades}
                for s in gb.find_assignment(CHAPTER).submissions}


def test_two_workers_give_exactly_the_grades_of_one_and_a_regrade_changes_nothing(tiny, tmp_path):
    subset = tmp_path / "subset"
    cases = ("reference", "blank", "partly_wrong", "hidden_fail", "edited_tests", "duplicate_grade_id", "os_exit",
             "wrong_name", "invalid_json")
    for case in cases:
        shutil.copytree(tiny["submissions"] / case, subset / case)
    shutil.copytree(tiny["submissions"] / "reference", subset / "reference_twin")  # the same bytes: graded once
    one, two = tmp_path / "one", tmp_path / "two"
    serial = grade(tiny["chapter"], subset, one, workers=1, limits=LIMITS, progress=False)
    parallel = grade(tiny["chapter"], subset, two, workers=2, limits=LIMITS, progress=False)
    assert (one / "grades.csv").read_bytes() == (two / "grades.csv").read_bytes()
    assert gradebook_scores(one) == gradebook_scores(two)
    assert serial.graded == parallel.graded == len(cases) - 1  # the twin shares the reference's result
    first = {r.student: (r.status, r.cell_scores, r.reason) for r in serial.results}
    big_batch = {r.student: (r.status, r.cell_scores, r.reason) for r in tiny["batch"].results if r.student in first}
    assert {s: first[s] for s in big_batch} == big_batch and first["reference_twin"] == first["reference"]
    again = grade(tiny["chapter"], subset, one, workers=2, limits=LIMITS, progress=False)  # a regrade
    assert again.graded == 0 and len(again.reused) == len(cases)  # every readable one reused, none graded again
    assert (one / "grades.csv").read_bytes() == (two / "grades.csv").read_bytes()
    assert gradebook_scores(one) == gradebook_scores(two)
    assert gradebook_scores(one)["reference"]["add_tests"] == 2.0


def test_a_regrade_after_a_resubmission_that_dropped_cells_keeps_no_stale_score(tiny, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(tiny["submissions"] / "reference", first / "kim")
    shutil.copytree(tiny["submissions"] / "blank", first / "lee")
    shutil.copytree(tiny["submissions"] / "deleted_answer_and_test", second / "kim")
    out = tmp_path / "out"
    grade(tiny["chapter"], first, out, workers=1, limits=LIMITS, progress=False)
    again = grade(tiny["chapter"], second, out, workers=1, limits=LIMITS, progress=False)
    assert again.by_student()["kim"].cell_scores == {"add_tests": 2.0, "scale_tests": 3.0, "mean_tests": 0.0}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        assert gb.find_grade("mean_tests", CHAPTER, CHAPTER, "kim").score == 0.0
        assert gb.find_submission(CHAPTER, "kim").code_score == 5.0
        assert gb.find_submission(CHAPTER, "lee").code_score == 0.0
    with open(out / "grades.csv", newline="") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert (rows["kim"]["score"], rows["lee"]["score"]) == ("5", "0")  # lee's row from the first run is kept


def test_cli_grades_a_zip_export_and_exits_0_or_1(tiny, tmp_path, capsys):
    source = str(tiny["chapter"].path)
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(tiny["submissions"] / "reference" / f"{CHAPTER}.ipynb", f"submissions/park/{CHAPTER}.ipynb")
        zf.write(tiny["submissions"] / "blank" / f"{CHAPTER}.ipynb", f"submissions/choi/{CHAPTER}.ipynb")
    code = cli.main(["grade", source, str(archive), "--out", str(tmp_path / "o1"), "--workers", "2",
                     "--cell-timeout", "10", "--time-limit", "25", "--no-progress", "--table", "--library", "student"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert re.search(r"park\s+10/10\s+graded", printed) and re.search(r"choi\s+0/10\s+graded", printed)
    # --library student: the kernel ran next to the release's student edition of `solutions`
    assert (tmp_path / "o1" / "autograded" / "park" / CHAPTER / "solutions" / "STUDENT_EDITION.txt").is_file()
    broken = tmp_path / "broken"
    shutil.copytree(tiny["submissions"] / "invalid_json", broken / "song")
    code = cli.main(["grade", source, str(broken), "--out", str(tmp_path / "o2"), "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 1 and "song: unreadable: unreadable notebook: invalid JSON" in printed


def test_a_kernel_that_fails_to_start_is_started_once_more_on_unix_sockets(tiny, tmp_path, monkeypatch):
    """A kernel that never answers is no fault of the student's: grade again, once.

    Kernels talk to the grader over Unix sockets in a private folder, not TCP ports, so
    parallel kernels cannot take each other's ports (a CI failure of session 1). The worker
    runs in this process (a LocalCluster of threads), so that the kernel start can fail on cue.
    """
    from nbclient.util import run_sync

    from autograder.batch.cluster import local_cluster
    from autograder.batch.worker import CHECK_CELL
    from autograder.grade import execute as preprocessors

    shutil.copytree(tiny["submissions"] / "reference", tmp_path / "subs" / "reference")
    start_client = preprocessors.GuardedExecute.async_start_new_kernel_client
    kernels = []

    def failing(times: int):
        async def start(self):
            if self.nb.cells[0].source != CHECK_CELL:  # not the worker's start-up check
                kernels.append((self.km.transport, Path(self.km.ip).parent))
                if len(kernels) <= times:
                    raise RuntimeError("Kernel didn't respond in 60 seconds")
            return await start_client(self)
        monkeypatch.setattr(preprocessors.GuardedExecute, "async_start_new_kernel_client", start)
        monkeypatch.setattr(preprocessors.GuardedExecute, "start_new_kernel_client", run_sync(start))

    with local_cluster(1, processes=False) as cluster:
        failing(times=1)
        batch = grade(tiny["chapter"], tmp_path / "subs", tmp_path / "out", limits=LIMITS, progress=False,
                      scheduler=cluster.scheduler_address)
        result = batch.by_student()["reference"]
        assert (result.status, result.score) == ("graded", 10.0), result.reason
        assert [transport for transport, _ in kernels] == ["ipc", "ipc"]
        assert not any(folder.exists() for _, folder in kernels)  # the socket folders are removed
        log = tmp_path / "out" / "logs" / CHAPTER / "reference.log"
        assert "attempt 1: the kernel did not start" in log.read_text()

        kernels.clear()
        failing(times=2)
        batch = grade(tiny["chapter"], tmp_path / "subs", tmp_path / "again", limits=LIMITS, progress=False,
                      scheduler=cluster.scheduler_address)
    result = batch.by_student()["reference"]
    assert len(kernels) == 2
    assert result.status == "error" and "Kernel didn't respond" in result.reason, result.reason
