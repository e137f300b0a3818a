"""Every chapter through the real pipeline: release, then grade [reference, blank, partly wrong].

One batch per chapter (2 workers), shared by the tests of that chapter:

* the release (notebook, student edition of `solutions`, every other file) contains no
  solution region and no hidden test of this chapter or a later one;
* the reference scores full marks, the blank release 0, and a partly wrong submission
  (first answer cell filled in, the others left as stubs) exactly the points its test
  cells' metadata promise (``autograder.release.samples.expected_points``);
* graded with the release's student edition of `solutions` (the only library the kernels
  get), the reference raises in no cell except those tagged ``raises-exception``: a
  demo that calls the library's copy of an answer of this or a later chapter (a stub in
  the release) would stop a student's Run All (``python -m autograder release --check``
  reports the same);
* nothing in the release's edition reproduces an answer of this chapter or a later one on
  its recorded inputs, except what ``autograder/release/reviewed_leaks.toml`` keeps there;
* no feedback page shows a hidden test.

Serial/parallel agreement and regrade idempotence are checked once, on the tiny fixture
chapter (test_autograder_grading.py), to keep CI within its time budget.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest
from fixtures.autograder_fixtures import computed_once

from autograder.batch.run import grade, prepare_course
from autograder.course import Chapter, CourseDir, all_chapters
from autograder.plumbing import HIDDEN_TESTS, SOLUTION, public_lines, region_texts, secret_lines
from autograder.release.check import leak_problems, unexpected_errors
from autograder.release.samples import expected_points, first_answer, sample_notebooks
from autograder.release.student_edition import chapters_from, find_secret, secrets

CHAPTERS = all_chapters()
SUBMISSIONS = ("reference", "blank", "partly_wrong")
TEXT_FILES = {".ipynb", ".py", ".md", ".txt", ".json", ".cfg", ".toml"}


def per_chapter():
    return pytest.mark.parametrize(
        "chapter",
        [pytest.param(c, marks=[getattr(pytest.mark, f"ch{c[:2]}"), pytest.mark.slow, pytest.mark.autograder])
         for c in CHAPTERS],
    )


def grade_chapter_batch(chapter_id: str, base: Path) -> dict:
    chapter = Chapter.resolve(chapter_id)
    course = CourseDir(base / "course")
    prepare_course(course, chapter, log=None)
    release_nb = nbformat.read(course.release(chapter_id) / f"{chapter_id}.ipynb", as_version=4)
    source_nb = nbformat.read(chapter.path, as_version=4)
    samples = sample_notebooks(release_nb, source_nb)
    for name in SUBMISSIONS:
        path = base / "submissions" / name / f"{chapter_id}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(samples[name], path)
    batch = grade(chapter, base / "submissions", course.root, workers=2, progress=False)
    return {"chapter": chapter, "course": course, "batch": batch, "source": source_nb}


@pytest.fixture(scope="session")
def chapter_batch(tmp_path_factory):
    """The chapter's batch, graded once per test run (whichever pytest-xdist worker asks first)."""
    return lambda chapter_id: computed_once(
        tmp_path_factory, f"autograder-{chapter_id}", lambda base: grade_chapter_batch(chapter_id, base)
    )


@per_chapter()
def test_release_contains_no_solution_or_hidden_test_of_this_or_a_later_chapter(chapter, chapter_batch):
    run = chapter_batch(chapter)
    release = run["course"].release(chapter)
    files = [p for p in release.rglob("*") if p.is_file() and p.suffix in TEXT_FILES]
    assert release / f"{chapter}.ipynb" in files and release / "solutions" / "__init__.py" in files
    texts = {}
    for path in files:
        if path.suffix == ".ipynb":
            for index, cell in enumerate(nbformat.read(path, as_version=4).cells):
                texts[f"{path.relative_to(release)} cell {index}"] = cell.source
        else:
            texts[str(path.relative_to(release))] = path.read_text(encoding="utf-8")
    for owner in chapters_from(run["chapter"]):
        for secret in secrets(owner):
            for where, text in texts.items():
                assert not find_secret(text, secret), f"{where} holds the {secret.kind} of {owner.id}:{secret.cell}"
    # line by line for the chapter's own notebook, as nbgrader's release must guarantee
    notebook = (release / f"{chapter}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in notebook
    leaked = [line for line in secret_lines(run["source"]) if line in notebook]
    assert not leaked, f"the release of {chapter} shows {leaked[:3]}"


@per_chapter()
def test_reference_full_marks_blank_zero_partly_wrong_exact(chapter, chapter_batch):
    run = chapter_batch(chapter)
    results = run["batch"].by_student()
    reference, blank, partly = (results[name] for name in SUBMISSIONS)
    for result in (reference, blank, partly):
        assert result.status == "graded", f"{chapter}: {result.student} {result.status}: {result.reason}"
    assert reference.max_score > 0
    assert reference.score == reference.max_score, f"{chapter}: the reference lost points: {reference.cell_scores}"
    assert blank.score == 0, f"{chapter}: the blank release scored {blank.cell_scores}"
    expected = expected_points(run["source"], {first_answer(run["source"])})
    assert partly.cell_scores == expected, f"{chapter}: partly wrong scored {partly.cell_scores}, expected {expected}"
    assert 0 < partly.score < partly.max_score


@per_chapter()
def test_the_blank_release_raises_nothing_but_its_stubs(chapter, chapter_batch):
    """Graded as it is handed out, a chapter raises only the stubs' NotImplementedError (with their message):
    a NameError or a crash in a demo would stop a student's Run All before they wrote anything."""
    run = chapter_batch(chapter)
    graded = nbformat.read(run["course"].autograded("blank", chapter) / f"{chapter}.ipynb", as_version=4)
    raised = [(index, output.get("ename"), str(output.get("evalue", "")).strip())
              for index, cell in enumerate(graded.cells) if cell.cell_type == "code"
              and not cell.metadata.get("nbgrader", {}).get("grade")  # test cells hold the grader's verdict
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert raised, f"{chapter}: the blank release raised nothing (its demos should call the stubs)"
    unexpected = [r for r in raised if r[1] != "NotImplementedError" or not r[2]]
    assert not unexpected, f"{chapter}: the blank release raised other errors (cell, exception, message): {unexpected}"


@per_chapter()
def test_reference_runs_with_the_student_edition_without_errors(chapter, chapter_batch):
    run = chapter_batch(chapter)
    release = run["course"].release(chapter)
    assert (release / "solutions" / "STUDENT_EDITION.txt").is_file()
    graded_dir = run["course"].autograded("reference", chapter)
    assert (graded_dir / "solutions" / "STUDENT_EDITION.txt").is_file(), "the kernel did not get the student edition"
    graded = nbformat.read(graded_dir / f"{chapter}.ipynb", as_version=4)
    assert any(cell.get("outputs") for cell in graded.cells if cell.cell_type == "code"), "nothing was executed"
    problems = unexpected_errors(graded)
    assert not problems, f"{chapter}: with the student edition of `solutions`, the reference raises in: {problems}"


@per_chapter()
def test_the_release_gives_no_answer_away_under_another_name(chapter, chapter_batch):
    run = chapter_batch(chapter)
    problems = leak_problems(run["chapter"], run["course"].release(chapter))
    assert not problems, f"{chapter}: " + "\n".join(problems)


@per_chapter()
def test_feedback_never_shows_a_hidden_test(chapter, chapter_batch):
    run = chapter_batch(chapter)
    # a hidden-test line that the release shows anyway, or that a reference answer also contains
    # (the reference student's own code is in the feedback), is no secret
    shown_anyway = set(public_lines(run["source"])) | {
        line.strip() for cell in run["source"].cells for region in region_texts(cell.source, SOLUTION)
        for line in region.splitlines()}
    hidden = {line.strip() for cell in run["source"].cells for region in region_texts(cell.source, HIDDEN_TESTS)
              for line in region.splitlines() if len(line.strip()) >= 12 and line.strip() not in shown_anyway}
    for name in SUBMISSIONS:
        raw = run["course"].feedback(name, chapter).read_text(encoding="utf-8")
        text = html.unescape(re.sub(r"<[^>]+>", "", raw))
        assert "BEGIN HIDDEN TESTS" not in raw
        shown = [line for line in hidden if line in text]
        assert not shown, f"{chapter}: the feedback of {name} shows hidden tests: {shown[:3]}"
        assert "Score:" in text
