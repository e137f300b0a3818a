"""``release``: the student assignment of each chapter, made by nbgrader generate_assignment.

For a chapter the course directory gets (all generated, nothing kept by hand):

* ``source/<chapter>/<chapter>.ipynb``: a symlink to ``chapters/<chapter>.ipynb``;
* ``source/<chapter>/solutions/``: the student edition of the library (``autograder.release.student_edition``),
  probed for answers under other names (``autograder.release.leaks``);
* ``source/<chapter>/autograder/``: ``autograder.runtime`` (the checking helper the test cells
  import, and the probe the grader's rewritten test cells call);
* ``source/<chapter>/README.md``: what to do with the assignment.

``nbgrader generate_assignment`` turns this into ``release/<chapter>/`` (it strips
solutions and hidden tests from the notebook and copies the other files), and
fills the gradebook with the chapter's cells. The data files the chapter reads
(``data/iris.csv``, and ``data/mnist.npz`` when the chapter uses MNIST) are then
added to the release only: grading reads them from the repository, so that they
are not copied into every student's autograded folder.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import nbformat

from autograder.course import DATA_DIR, Chapter, CourseDir, file_logger
from autograder.plumbing import generate_assignment as nbgrader_generate_assignment
from autograder.release.leaks import build_probed_edition
from autograder.release.student_edition import RUNTIME_DIR

STUDENT_README = """\
# {chapter}

This folder is one assignment of *Training Deep Neural Networks from Scratch*.

* `{chapter}.ipynb`: the notebook. Fill in every cell that says `raise NotImplementedError()`
  and answer the written questions.
* `solutions/`: the course's NumPy library, without the answers to this chapter and later ones
  (they raise `NotImplementedError`; see `solutions/STUDENT_EDITION.txt`).
* `autograder/checks.py`: the checks that the test cells call.
* `data/`: the data sets the notebook reads.

Open it with JupyterLab from this folder (`jupyter lab {chapter}.ipynb`), run every cell,
and press **Validate** (nbgrader's button in the notebook toolbar) before you submit.
Submit only `{chapter}.ipynb`, under this name.
"""


def chapter_data_files(chapter: Chapter) -> list[Path]:
    """The data files a chapter's release needs: iris always (tiny), MNIST when the code mentions it."""
    nb = nbformat.read(chapter.path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code").lower()
    files = [DATA_DIR / "iris.csv", DATA_DIR / "README.md"]
    if "mnist" in code:
        files.append(DATA_DIR / "mnist.npz")
    return [f for f in files if f.is_file()]


def _symlink(target: Path, link: Path) -> None:
    if link.is_symlink() or link.exists():
        if link.is_symlink() and Path(os.readlink(link)) == target:
            return
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def prepare_source(course: CourseDir, chapter: Chapter, log: logging.Logger | None = None) -> Path:
    """Generate ``source/<chapter>/`` from the repository; returns that folder."""
    course.create()
    source = course.source(chapter.id)
    source.mkdir(parents=True, exist_ok=True)
    _symlink(chapter.path, source / f"{chapter.id}.ipynb")
    build_probed_edition(chapter, source, log)
    runtime = source / "autograder"
    if runtime.exists():
        shutil.rmtree(runtime)
    shutil.copytree(RUNTIME_DIR, runtime, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "README.md").write_text(STUDENT_README.format(chapter=chapter.id), encoding="utf-8")
    return source


def generate_assignment(course: CourseDir, chapter: Chapter, db_url: str | None = None,
                        log: logging.Logger | None = None) -> Path:
    """nbgrader's generate_assignment of the chapter in the course directory; returns the release notebook."""
    release = nbgrader_generate_assignment(course.root, chapter.id, db_url=db_url or course.db_url,
                                           log=log or file_logger("autograder.release", None))
    return release / f"{chapter.id}.ipynb"


def add_data(course: CourseDir, chapter: Chapter) -> None:
    data = course.release(chapter.id) / "data"
    data.mkdir(exist_ok=True)
    for path in chapter_data_files(chapter):
        shutil.copyfile(path, data / path.name)


def release_chapter(course: CourseDir, chapter: Chapter, log: logging.Logger | None = None) -> Path:
    """Source, nbgrader release and data for one chapter; returns the release folder."""
    prepare_source(course, chapter, log)
    generate_assignment(course, chapter, log=log)
    add_data(course, chapter)
    return course.release(chapter.id)


def release(chapters: list[Chapter], out: Path) -> list[Path]:
    course = CourseDir(out.resolve())
    log = file_logger("autograder.release", course.root / "logs" / "release.log")
    return [release_chapter(course, chapter, log) for chapter in chapters]
