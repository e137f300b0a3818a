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

from autograder.course import DATA_DIR, ROOT, Chapter, CourseDir, file_logger
from autograder.plumbing import generate_assignment as nbgrader_generate_assignment
from autograder.plumbing import is_test_cell, is_written_cell
from autograder.release.leaks import build_probed_edition
from autograder.release.student_edition import RUNTIME_DIR

STUDENT_FILES = Path(__file__).resolve().parent / "student_files"  # JupyterLab and Validate settings
README_TEMPLATE = STUDENT_FILES / "README.md.template"
CONSTRAINTS = ROOT / "constraints.txt"
#: what a student needs besides the library's own dependencies (pyproject.toml): JupyterLab and Validate
STUDENT_TOOLS = ("jupyterlab", "nbgrader")
#: files of the course's release folder that students do not need (the grader's probe)
GRADER_ONLY = ("autograder/probe.py",)


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
    return source


def generate_assignment(
    course: CourseDir, chapter: Chapter, db_url: str | None = None, log: logging.Logger | None = None
) -> Path:
    """nbgrader's generate_assignment of the chapter in the course directory; returns the release notebook."""
    release = nbgrader_generate_assignment(
        course.root, chapter.id, db_url=db_url or course.db_url, log=log or file_logger("autograder.release", None)
    )
    return release / f"{chapter.id}.ipynb"


def add_student_files(course: CourseDir, chapter: Chapter) -> None:
    """What the release adds for students beside nbgrader's output: the data, requirements.txt, a README,
    and the settings of a student's JupyterLab (Validate, no instructor panels); the grader's probe goes."""
    release = course.release(chapter.id)
    data = release / "data"
    data.mkdir(exist_ok=True)
    for path in chapter_data_files(chapter):
        shutil.copyfile(path, data / path.name)
    for name in GRADER_ONLY:
        (release / name).unlink(missing_ok=True)
    for path in sorted(STUDENT_FILES.rglob("*")):
        if path.is_file() and path != README_TEMPLATE and "__pycache__" not in path.parts:
            target = release / path.relative_to(STUDENT_FILES)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    (release / "requirements.txt").write_text(student_requirements(), encoding="utf-8")
    (release / "README.md").write_text(student_readme(chapter), encoding="utf-8")


def student_readme(chapter: Chapter, template: str | None = None, nb=None) -> str:
    """The assignment folder's README.md: what is in it, how to set up, open, Validate and submit.

    ``template`` and ``nb`` (whose first heading is the title) are the README template and the notebook
    in the release's language (``autograder.release.translated``); by default the English ones.
    """
    nb = nb or nbformat.read(chapter.path, as_version=4)
    title = next(
        (
            line[2:].strip()
            for c in nb.cells
            if c.cell_type == "markdown"
            for line in c.source.splitlines()
            if line.startswith("# ")
        ),
        chapter.id,
    )
    auto = sum(float(c.metadata.nbgrader.get("points", 0)) for c in nb.cells if is_test_cell(c))
    written = sum(float(c.metadata.nbgrader.get("points", 0)) for c in nb.cells if is_written_cell(c))
    return (template or README_TEMPLATE.read_text(encoding="utf-8")).format(
        chapter=chapter.id, title=title, total=f"{auto + written:g}", auto=f"{auto:g}", written=f"{written:g}"
    )


def student_packages() -> list[str]:
    """The library's dependencies (pyproject.toml's ``[project] dependencies``) and ``STUDENT_TOOLS``."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text).name for text in project["dependencies"]] + list(STUDENT_TOOLS)


def student_requirements() -> str:
    """requirements.txt of an assignment: ``student_packages()`` and all they need, at the course's versions.

    The versions come from the course's lock (constraints.txt); which packages, from the installed
    packages' own requirements (environment markers evaluated here; a platform's extra needs, such
    as pywinpty on Windows, are then resolved by pip).
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = (name.strip(), version.strip())
    needed, queue = set(), [canonicalize_name(p) for p in student_packages()]
    while queue:
        name = queue.pop()
        if name in needed:
            continue
        needed.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                queue.append(canonicalize_name(requirement.name))
    missing = sorted(n for n in needed if n not in pins)
    if missing:
        raise RuntimeError(f"{CONSTRAINTS}: no pinned version of {', '.join(missing)}; run `make lock`")
    lines = [f"{pins[n][0]}=={pins[n][1]}" for n in sorted(needed)]
    header = (
        "# The packages this assignment's notebook and nbgrader's Validate need, at the course's versions.\n"
        "# Install them into a fresh virtual environment: see README.md.\n"
    )
    return header + "\n".join(lines) + "\n"


def release_chapter(course: CourseDir, chapter: Chapter, log: logging.Logger | None = None) -> Path:
    """Source, nbgrader release and data for one chapter; returns the release folder."""
    prepare_source(course, chapter, log)
    generate_assignment(course, chapter, log=log)
    add_student_files(course, chapter)
    return course.release(chapter.id)


def release(chapters: list[Chapter], out: Path) -> list[Path]:
    course = CourseDir(out.resolve())
    log = file_logger("autograder.release", course.root / "logs" / "release.log")
    return [release_chapter(course, chapter, log) for chapter in chapters]
