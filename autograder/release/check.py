"""``release --check``: does a chapter's release run with its own student edition of ``solutions``?

The release of chapter N stubs the answers of chapter N and later in its copy of
``solutions``. A demo cell that still calls one of them outside a cell tagged
``raises-exception`` would stop a student who wrote every answer correctly (Run All stops
at an error) or cost them points (a test cell). The check grades the chapter's own
reference answers against the release, through the real pipeline.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from autograder.course import Chapter, CourseDir
from autograder.plumbing import is_grade


def check_release(chapter: Chapter, scratch: Path) -> list[str]:
    """Run the chapter's reference answers against its release's student edition of `solutions`.

    Returns one line per cell that raised an error, other than in cells tagged
    ``raises-exception``: there, students who wrote every answer correctly would be stopped
    (Run All stops at an error) or lose points (a test cell).
    """
    from autograder.grade import sandbox
    from autograder.grade.batch import grade, prepare_course
    from autograder.release.samples import sample_notebooks

    course = CourseDir(scratch.resolve())
    prepare_course(course, chapter, log=None)
    release_nb = nbformat.read(course.release(chapter.id) / f"{chapter.id}.ipynb", as_version=4)
    reference = sample_notebooks(release_nb, nbformat.read(chapter.path, as_version=4))["reference"]
    submissions = course.root.parent / f"{course.root.name}-submission"
    shutil.rmtree(submissions, ignore_errors=True)
    nbformat.write(reference, _mkdir(submissions / "reference") / f"{chapter.id}.ipynb")
    # the course's own reference answers: isolated when this machine can, else run as they are
    batch = grade(chapter, submissions, course.root, workers=1, progress=False, unsafe=not sandbox.available())
    graded = nbformat.read(course.autograded("reference", chapter.id) / f"{chapter.id}.ipynb", as_version=4)
    problems = unexpected_errors(graded)
    result = batch.by_student()["reference"]
    if result.score < result.max_score:
        problems.append(f"the reference answers score {result.score:g}/{result.max_score:g} with the student edition")
    return problems


def unexpected_errors(graded_nb) -> list[str]:
    """One line per error output of a graded notebook outside the cells tagged ``raises-exception``."""
    problems = []
    for index, cell in enumerate(graded_nb.cells):
        if cell.cell_type != "code" or "raises-exception" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                where = f"test cell {grade_id}" if is_grade(cell) else f"cell {index + 1}"
                problems.append(f"{where}: {output.get('ename')}: {str(output.get('evalue', ''))[:160]}")
    return problems


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
