"""``release --check``: does a chapter's release run with its own student edition of ``solutions``?

The release of chapter N stubs the answers of chapter N and later in its copy of
``solutions``, and what computes them under another name (``autograder.release.leaks``).
A demo cell that still calls one of them would stop a student who wrote every answer
correctly (Run All stops at an error) or cost them points (a test cell). The check grades
the chapter's own reference answers against the release, through the real pipeline, and
probes the release's edition once more: nothing in it may reproduce an answer of this
chapter or a later one, except what the reviewed table keeps for this release.
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
    from autograder.batch.run import grade, prepare_course
    from autograder.grade import sandbox
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
    return problems + leak_problems(chapter, course.release(chapter.id))


def leak_problems(chapter: Chapter, release: Path) -> list[str]:
    """One line per callable of the release's edition that reproduces an answer of this chapter or a later one."""
    from autograder.release.leaks import kept_reproductions, probe
    from autograder.release.recorded_calls import recorded_calls
    from autograder.release.student_edition import chapters_from

    answers = [calls for owner in chapters_from(chapter) for calls in recorded_calls(owner)]
    kept = kept_reproductions(chapter)
    return [
        f"leak: {r.describe()}"
        for r in probe(release, answers).reproductions
        if (r.function, r.chapter, r.answer) not in kept
    ]


def unexpected_errors(graded_nb) -> list[str]:
    """One line per error output of a graded notebook that the reference answers must not raise.

    That is every error outside the cells tagged ``raises-exception``, and in those cells a
    ``NotImplementedError``: the reference implements every answer, so it comes from a stub
    of the student edition, which a student with every answer right would hit too.
    """
    problems = []
    for index, cell in enumerate(graded_nb.cells):
        if cell.cell_type != "code":
            continue
        tolerated = "raises-exception" in cell.metadata.get("tags", [])
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error" or (tolerated and output.get("ename") != "NotImplementedError"):
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            where = f"test cell {grade_id}" if is_grade(cell) else f"cell {index + 1}"
            problems.append(f"{where}: {output.get('ename')}: {str(output.get('evalue', ''))[:160]}")
    return problems


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
