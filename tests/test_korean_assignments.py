"""The Korean assignment of chapter 1, through the real pipeline: release, a student's kernel, grading.

* ``python -m autograder release 01_gradient_descent --language ko`` makes a release whose prose,
  README and runtime catalog are Korean, and whose graded cells (grade ids, sources, checksums) and
  code cells are those of the English release, with its zip in ``assignments/ko/``;
* in a kernel started in that folder, a failing check and an unwritten stub speak Korean;
* ``python -m autograder grade`` (the same command as for English) gives the Korean reference full
  marks and the blank release 0, written answers left as released get nbgrader's automatic 0,
  and the blank's feedback page says why in Korean.
"""

from __future__ import annotations

import zipfile

import nbformat
import pytest
from fixtures.autograder_fixtures import computed_once
from nbgrader.api import Gradebook
from nbgrader.utils import compute_checksum

from autograder import cli
from autograder.batch.run import grade
from autograder.course import Chapter, CourseDir
from autograder.plumbing import is_graded, is_written_cell
from autograder.release.samples import sample_notebooks

pytestmark = [pytest.mark.slow, pytest.mark.autograder, pytest.mark.ch01]

CHAPTER = "01_gradient_descent"


def release_and_grade(base):
    course = base / "course"
    assert cli.main(["release", CHAPTER, "--out", str(base / "english")]) == 0
    assert cli.main(["release", CHAPTER, "--language", "ko", "--out", str(course)]) == 0
    release = CourseDir(course).release(CHAPTER)
    korean = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    chapter = Chapter.resolve(CHAPTER)
    samples = sample_notebooks(korean, nbformat.read(chapter.path, as_version=4))
    for name in ("reference", "blank"):
        path = base / "submissions" / name / f"{CHAPTER}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(samples[name], path)
    batch = grade(chapter, base / "submissions", base / "graded", workers=2, progress=False)
    return {"course": course, "release": release, "batch": batch,
            "english": CourseDir(base / "english").release(CHAPTER) / f"{CHAPTER}.ipynb"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return computed_once(tmp_path_factory, "korean-assignment-01", release_and_grade)


def test_the_korean_release_has_korean_prose_and_the_english_code_and_graded_cells(run):
    release = run["release"]
    nb = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    english = nbformat.read(run["english"], as_version=4)
    assert nb.metadata.course == {**english.metadata.course, "language": "ko"}
    assert nb.cells[0].source.startswith("# 1. 손실함수와 경사 하강법")
    assert len(nb.cells) == len(english.cells)
    for korean_cell, english_cell in zip(nb.cells, english.cells, strict=True):
        if korean_cell.cell_type == "code" or is_graded(korean_cell):
            assert korean_cell == english_cell
        if is_graded(korean_cell):
            assert compute_checksum(korean_cell) == korean_cell.metadata.nbgrader["checksum"]
        elif korean_cell.cell_type == "markdown" and korean_cell.source.strip():
            assert korean_cell.source != english_cell.source, f"{korean_cell.id} is not translated"
    assert any(is_written_cell(cell) and "YOUR ANSWER HERE" in cell.source for cell in nb.cells)
    assert (release / "autograder" / "locale" / "ko" / "LC_MESSAGES" / "learner.mo").is_file()
    assert "## 2. 과제 풀기" in (release / "README.md").read_text(encoding="utf-8")
    with zipfile.ZipFile(run["course"] / "assignments" / "ko" / f"{CHAPTER}.zip") as bundle:
        zipped = nbformat.reads(bundle.read(f"{CHAPTER}/{CHAPTER}.ipynb").decode(), as_version=4)
    assert zipped == nb


def executed_in(release, nb):
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(release)}})
    client.execute()
    return nb


def shown(cell) -> str:
    """What the learner sees of a cell's outputs: text, and the traceback of an error."""
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        parts += output.get("traceback", [])
    return "\n".join(parts)


def test_a_korean_learner_reads_the_checks_and_the_stubs_in_korean(run):
    release = run["release"]
    blank = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    first_test = next(i for i, c in enumerate(blank.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    wrong = nbformat.from_dict(blank)
    answer = wrong.cells[first_test - 1]
    answer.source = "def cross_entropy(z, y):\n    return 0.0"
    nb = nbformat.v4.new_notebook(cells=wrong.cells[:first_test + 1] + [nbformat.v4.new_code_cell(
        "cross_entropy = None\nexec(" + repr(blank.cells[first_test - 1].source) + ")\ncross_entropy(None, None)")])
    nb.metadata = blank.metadata
    nb = executed_in(release, nb)
    failed = shown(nb.cells[first_test])
    assert "검사 실패: 로짓 [2, 1, 0.1], 정답 클래스 0일 때의 cross_entropy" in failed, failed
    assert "받은 값" in failed and "힌트: -log(e^2 / (e^2 + e^1 + e^0.1)). 정답 클래스의 로그 확률을 고르세요" in failed
    stub = shown(nb.cells[-1])
    assert "cross_entropy: 이 함수를 작성하세요 (1장, 문제 1: 로짓으로 계산하는 교차 엔트로피)" in stub, stub


def test_the_same_grade_command_gives_the_korean_reference_full_marks_and_the_blank_zero(run):
    results = run["batch"].by_student()
    reference, blank = results["reference"], results["blank"]
    for result in (reference, blank):
        assert result.status == "graded", f"{result.student}: {result.status}: {result.reason}"
    assert reference.max_score > 0 and reference.score == reference.max_score, reference.cell_scores
    assert blank.score == 0, blank.cell_scores
    course = run["batch"].course
    with Gradebook(course.db_url) as gradebook:
        cells = gradebook.find_notebook(CHAPTER, CHAPTER).grade_cells
        written = [cell.name for cell in cells if cell.cell_type == "markdown"]
        assert written
        for name in written:  # left as released: nbgrader's automatic 0, as in English
            assert gradebook.find_grade(name, CHAPTER, CHAPTER, "blank").auto_score == 0
    page = course.feedback("blank", CHAPTER).read_text(encoding="utf-8")
    assert "cross_entropy: 이 함수를 작성하세요" in page and "힌트:" in page
    assert "A hidden test" not in page and "Check failed" not in page
