"""``release``: the student assignment of each chapter, made by nbgrader generate_assignment.

For a chapter the course directory gets (all generated, nothing kept by hand):

* ``source/<chapter>/<chapter>.ipynb``: a symlink to ``chapters/<chapter>.ipynb``;
* ``source/<chapter>/solutions/``: the student edition of the library (``autograder.library``);
* ``source/<chapter>/autograder/checks.py``: the checking helper the test cells import;
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

from autograder.course import ROOT, Chapter, CourseDir, ensure_tools_on_path, file_logger, nbgrader_config
from autograder.library import CHECKS_FILE, build_student_edition

DATA_DIR = ROOT / "data"

CHECKS_PACKAGE_INIT = '''\
"""The checking helper that the test cells of the course's notebooks call (autograder.checks),
and what the grader's rewritten test cells call instead (autograder.probe)."""
'''
PROBE_FILE = ROOT / "autograder" / "probe.py"

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


def prepare_source(course: CourseDir, chapter: Chapter) -> Path:
    """Generate ``source/<chapter>/`` from the repository; returns that folder."""
    course.create()
    source = course.source(chapter.id)
    source.mkdir(parents=True, exist_ok=True)
    _symlink(chapter.path, source / f"{chapter.id}.ipynb")
    build_student_edition(chapter, source)
    checks = source / "autograder"
    checks.mkdir(exist_ok=True)
    (checks / "__init__.py").write_text(CHECKS_PACKAGE_INIT, encoding="utf-8")
    shutil.copyfile(CHECKS_FILE, checks / "checks.py")
    shutil.copyfile(PROBE_FILE, checks / "probe.py")
    (source / "README.md").write_text(STUDENT_README.format(chapter=chapter.id), encoding="utf-8")
    return source


def generate_assignment(course: CourseDir, chapter: Chapter, db_url: str | None = None,
                        log: logging.Logger | None = None) -> Path:
    """Run nbgrader's GenerateAssignment converter (what `nbgrader generate_assignment` runs)."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    ensure_tools_on_path()
    config = nbgrader_config(course, chapter.id, db_url=db_url)
    config.BaseConverter.force = True
    coursedir = CourseDirectory(config=config)
    converter = GenerateAssignment(coursedir=coursedir, config=config, log=log or file_logger("autograder.release", None))
    converter.start()
    notebook = course.release(chapter.id) / f"{chapter.id}.ipynb"
    if not notebook.is_file():
        raise RuntimeError(f"nbgrader generate_assignment {chapter.id} wrote no {notebook}")
    return notebook


def add_data(course: CourseDir, chapter: Chapter) -> None:
    data = course.release(chapter.id) / "data"
    data.mkdir(exist_ok=True)
    for path in chapter_data_files(chapter):
        shutil.copyfile(path, data / path.name)


def release_chapter(course: CourseDir, chapter: Chapter, log: logging.Logger | None = None) -> Path:
    """Source, nbgrader release and data for one chapter; returns the release folder."""
    prepare_source(course, chapter)
    generate_assignment(course, chapter, log=log)
    add_data(course, chapter)
    return course.release(chapter.id)


def release(chapters: list[Chapter], out: Path) -> list[Path]:
    course = CourseDir(out.resolve())
    log = file_logger("autograder.release", course.root / "logs" / "release.log")
    return [release_chapter(course, chapter, log) for chapter in chapters]
