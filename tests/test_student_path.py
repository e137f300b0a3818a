"""The student's path, end to end, in a real JupyterLab driven by Debian's chromium.

A student who has only the website downloads a chapter's assignment zip, unpacks it into an
empty folder, creates a virtual environment from its requirements.txt alone, opens JupyterLab
as its README says, types an answer, runs the notebook, presses Validate, saves, and submits.
This module does exactly that, on loopback only, and grades the saved notebook with
``python -m autograder grade``:

1. the zip is made by the release code the website uses (``autograder.release.bundle``) and holds
   what its README promises; the same sources give the same bytes;
2. a fresh venv from the bundle's requirements.txt (pip's cache makes this a minute);
3. JupyterLab with the bundle's settings: Validate, no instructor panels, no errors;
4. the student types ``momentum_step`` with the keyboard, runs every cell, validates: success, with
   the line that hidden tests still run at grading; saves; the grader gives full marks;
5. a broken answer: the cell shows a short failure block; Validate names the check in a short
   message (no test-cell source, no traceback through the helper, no machine path); graded, the
   score is what the test cells that need ``momentum_step`` leave;
6. bad input: a deleted test cell (Validate says which and what to do), a renamed notebook
   (the notebook says so), the notebook opened away from its folder (a clear error).

Screenshots go to _build/screenshots/student-*.png.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from lab_tools import EXPOSE_APP, LabServer, Notebook, chromium, screenshot

from autograder.course import Chapter
from autograder.release.bundle import write_bundles
from autograder.release.samples import filled

pytestmark = [pytest.mark.slow, pytest.mark.autograder, pytest.mark.website]

CHAPTER = "04_momentum"
TYPED_ANSWER = "momentum_step_answer"  # the answer the student types; the others are already done
CORRECT = ["delta_w = -alpha * grad", "m = delta_w + beta * m_prev", "return w + m, m"]
BROKEN = ["return w - alpha * grad, m_prev"]  # forgets the momentum
TYPED_TESTS = "momentum_step_tests"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("website-assignments")
    return write_bundles([Chapter.resolve(CHAPTER)], out)[0]


@pytest.fixture(scope="module")
def student_folder(bundle, tmp_path_factory) -> Path:
    """The bundle unpacked into an empty folder, with every answer but one already written (the
    written answers too: Validate wants a response in every cell graded by hand)."""
    home = tmp_path_factory.mktemp("student")
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(home)
    folder = home / CHAPTER
    notebook = folder / f"{CHAPTER}.ipynb"
    source = nbformat.read(Chapter.resolve(CHAPTER).path, as_version=4)
    release = nbformat.read(notebook, as_version=4)
    done = {c.metadata.nbgrader["grade_id"] for c in source.cells
            if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"} - {TYPED_ANSWER}
    work = filled(release, source, done)
    for cell in work.cells:
        if cell.cell_type == "markdown" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.source = "My answer: the gradient steps add up, as the chapter shows."
    nbformat.write(work, notebook)
    return folder


@pytest.fixture(scope="module")
def student_venv(student_folder) -> Path:
    """``python -m venv .venv`` and ``pip install -r requirements.txt``, as the README says."""
    venv = student_folder / ".venv"
    subprocess.run([sys._base_executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                           "-q", "-r", "requirements.txt"], cwd=student_folder, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, (
        f"pip install -r requirements.txt failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return venv


def grade(notebook: Path, tmp: Path) -> tuple[dict, dict]:
    """``python -m autograder grade`` on one saved notebook: (grades.csv row, per-cell points)."""
    from nbgrader.api import Gradebook

    submissions, course = tmp / "submissions", tmp / "course"
    shutil.rmtree(submissions, ignore_errors=True)
    (submissions / "student").mkdir(parents=True)
    shutil.copyfile(notebook, submissions / "student" / notebook.name)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", CHAPTER, str(submissions), "--out", str(course),
                           "--workers", "1", "--no-progress"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"grade failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    with open(course / "grades.csv", newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["student_id"] == "student")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        cells = {g.name: g.auto_score for g in gradebook.find_submission_notebook(CHAPTER, CHAPTER, "student").grades
                 if g.cell_type == "code"}
    return row, cells


def points_without(function: str) -> dict[str, float]:
    """{test cell: points} when ``function`` gives wrong values: the test cells that call it, directly or
    through another answer's function, score 0 (read from the chapter's code, not written out here)."""
    import ast

    source = nbformat.read(Chapter.resolve(CHAPTER).path, as_version=4)
    calls: dict[str, set[str]] = {}  # answer function -> names its body uses
    for cell in source.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.FunctionDef):
                    calls[node.name] = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}

    def needs(names: set[str], seen: frozenset = frozenset()) -> bool:
        return function in names or any(needs(calls[n], seen | {n}) for n in names & set(calls) - seen)

    points = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade"):
            used = {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}
            points[meta["grade_id"]] = 0.0 if needs(used) else float(meta["points"])
    return points


def check_the_zip(bundle: Path, tmp: Path) -> None:
    """Step 1: the zip holds what its README promises, and the same sources give the same bytes."""
    names = zipfile.ZipFile(bundle).namelist()
    top = {name.split("/")[1] for name in names}
    assert {f"{CHAPTER}.ipynb", "solutions", "autograder", "data", "requirements.txt", "README.md",
            "jupyter_lab_config.py", "nbgrader_config.py", ".jupyter"} <= top
    assert f"{CHAPTER}/autograder/checks.py" in names
    assert f"{CHAPTER}/autograder/probe.py" not in names  # the grader's side stays with the grader
    readme = zipfile.ZipFile(bundle).read(f"{CHAPTER}/README.md").decode()
    for promise in ("requirements.txt", "--config=jupyter_lab_config.py", "Validate", f"{CHAPTER}.ipynb", "Windows"):
        assert promise in readme
    again = write_bundles([Chapter.resolve(CHAPTER)], tmp)[0]
    assert again.read_bytes() == bundle.read_bytes(), "the same sources must give the same zip"


def type_the_answer_validate_and_grade(folder: Path, lab: LabServer, tmp: Path) -> None:
    """Step 4: the right answer, typed; Run All; Validate says success (and that hidden tests still run); full marks."""
    total = sum(float(c.metadata.nbgrader["points"]) for c in nbformat.read(folder / f"{CHAPTER}.ipynb", 4).cells
                if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    with chromium() as page:
        notebook = Notebook(page, lab, f"{CHAPTER}.ipynb").open()
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert "Nbgrader" not in menus and page.locator("text=Create Assignment").count() == 0, menus
        screenshot(page, "student-01-opened")

        notebook.replace_line("def momentum_step", "raise NotImplementedError", CORRECT)
        state = notebook.run_all()
        assert None not in state["counts"], f"Run All stopped early: {state}"
        assert "ok: first step, m = -alpha * grad (m_prev = 0)" in notebook.text_of("first step, m = -alpha * grad")
        assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
        screenshot(page, "student-02-ran-all")

        message = notebook.validate()
        screenshot(page, "student-03-validated")
        assert "Success! Your notebook passes all the tests." in message
        honest = page.evaluate("getComputedStyle(document.querySelector('#validation-message'), '::after').content")
        assert "visible tests only" in honest and "hidden tests" in honest
        notebook.close_dialog()
        notebook.save()
        assert not page.errors, page.errors

    row, cells = grade(folder / f"{CHAPTER}.ipynb", tmp)
    assert (row["status"], float(row["score"]), float(row["max_score"])) == ("graded", total, total), row


def break_the_answer_validate_and_grade(folder: Path, lab: LabServer, tmp: Path) -> None:
    """Step 5: a wrong answer: a short block in the cell and in Validate; graded, only its points are lost."""
    expected = points_without("momentum_step")  # the test cells that need momentum_step score 0, the others keep theirs
    with chromium() as page:
        notebook = Notebook(page, lab, f"{CHAPTER}.ipynb").open()
        cell = notebook.cell("def momentum_step")
        cell.locator(".cm-line", has_text="delta_w = -alpha * grad").click()
        page.keyboard.press("Control+a")  # the whole cell: type the broken function from scratch
        for number, text in enumerate(["def momentum_step(w, grad, m_prev, alpha, beta):", *BROKEN]):
            if number:
                page.keyboard.press("Enter")
            page.keyboard.type(text)
        page.keyboard.press("Escape")
        notebook.run_all()
        failure = notebook.text_of("first step, m = -alpha * grad")
        screenshot(page, "student-04-broken-cell")
        assert "first step" in failure and "received" in failure and "expected" in failure, failure
        assert "Traceback" not in failure and "checks.py" not in failure and "/" + "tmp" not in failure, failure

        message = notebook.validate()
        screenshot(page, "student-05-broken-validated")
        assert "The following cell failed" in message and "first step" in message, message
        assert "Traceback" not in message and "checks.py" not in message and str(folder) not in message
        shown = page.locator("#validation-message pre").evaluate_all(
            "nodes => nodes.filter(n => n.offsetParent !== null).map(n => n.innerText)")
        assert len(shown) == message.count("The following cell failed"), "the dialog shows the test cells' source"
        assert all(text.startswith("Check failed: ") for text in shown), shown
        notebook.close_dialog()
        notebook.save()

    row, cells = grade(folder / f"{CHAPTER}.ipynb", tmp)
    assert cells[TYPED_TESTS] == 0
    assert cells == pytest.approx(expected), (cells, expected)
    assert float(row["score"]) == pytest.approx(sum(expected.values()))


def delete_a_test_cell_and_rename(folder: Path, lab: LabServer) -> None:
    """Step 6: a renamed copy without a test cell: the notebook and Validate say what to do."""
    renamed = folder / "my copy.ipynb"
    nb = nbformat.read(folder / f"{CHAPTER}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != TYPED_TESTS]
    nbformat.write(nb, renamed)
    with chromium() as page:
        notebook = Notebook(page, lab, renamed.name).open()
        notebook.run_cell("import pathlib")
        note = notebook.text_of("import pathlib")
        assert f"rename it back (File > Rename Notebook) and submit it as {CHAPTER}.ipynb" in note, note
        assert f"The test cell {TYPED_TESTS} (3 points) is not in this notebook" in note, note
        message = notebook.validate()
        screenshot(page, "student-06-deleted-test-cell")
        assert f"The test cell {TYPED_TESTS} (3 points) is not in this notebook" in message, message
        assert "Check failed: graded cells are missing from this notebook" in message, message
        assert "Edit > Undo" in message, message
        notebook.close_dialog()
    renamed.unlink()


def test_the_students_path_from_the_zip_to_the_grade(bundle, student_folder, student_venv, tmp_path_factory):
    """One student, in order (each step starts where the last one left the notebook)."""
    check_the_zip(bundle, tmp_path_factory.mktemp("again"))
    log = tmp_path_factory.mktemp("lab-log") / "jupyterlab.log"
    command = [str(student_venv / "bin" / "jupyter"), "lab", "--config=jupyter_lab_config.py", EXPOSE_APP]
    with LabServer(command, student_folder, log) as lab:  # as the README says (as root or not)
        type_the_answer_validate_and_grade(student_folder, lab, tmp_path_factory.mktemp("graded-right"))
        break_the_answer_validate_and_grade(student_folder, lab, tmp_path_factory.mktemp("graded-wrong"))
        delete_a_test_cell_and_rename(student_folder, lab)


def test_the_notebook_away_from_its_folder_says_what_to_do(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        (tmp_path / f"{CHAPTER}.ipynb").write_bytes(archive.read(f"{CHAPTER}/{CHAPTER}.ipynb"))
    done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                           "--stdout", f"{CHAPTER}.ipynb"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert f"{CHAPTER}.ipynb needs the files of its assignment folder: unzip {CHAPTER}.zip" in done.stderr
    assert "ModuleNotFoundError" not in done.stderr
