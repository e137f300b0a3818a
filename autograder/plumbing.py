"""The nbgrader plumbing that the autograder, the book build and the tests share.

Everything here is what nbgrader itself already knows, said once:

* the course id, and nbgrader's configuration of a course directory;
* what a cell is: ``nbgrader.utils``' predicates, and the three kinds of graded cell a
  chapter has (answer cells, test cells, written answers);
* where a region starts and ends: the delimiters of nbgrader's own ``ClearSolutions``,
  ``ClearHiddenTests`` and ``ClearMarkScheme`` preprocessors, and the rule they share (a
  line that contains the delimiter opens or closes the region);
* which lines of a chapter are secret: in a solution or hidden-test region, and not shown
  by the release anyway;
* the release: nbgrader's ``GenerateAssignment`` converter, in this process.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions
from nbgrader.utils import is_grade, is_locked, is_solution, is_task
from traitlets.config import Config

__all__ = [
    "COURSE_ID", "HIDDEN_TESTS", "MARK_SCHEME", "MARKERS", "SOLUTION", "Delimiters", "generate_assignment",
    "hidden_line_numbers", "is_answer_cell", "is_grade", "is_graded", "is_locked", "is_solution", "is_task",
    "is_test_cell", "is_written_cell", "nbgrader_config", "public_lines", "region_texts", "release_notebook", "release_notebooks",
    "secret_lines", "visible_source", "without_regions",
]

COURSE_ID = "dnn-from-scratch"


# ---------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------


def is_answer_cell(cell) -> bool:
    """An autograded answer cell: code the student writes (``### BEGIN SOLUTION`` in the source)."""
    return cell.cell_type == "code" and is_solution(cell)


def is_test_cell(cell) -> bool:
    """An autograder test cell: locked code with points."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def is_written_cell(cell) -> bool:
    """A manually graded written answer: markdown the student writes, graded by hand."""
    return cell.cell_type == "markdown" and is_grade(cell) and is_solution(cell)


def is_graded(cell) -> bool:
    """Any cell nbgrader tracks by grade id with points or a solution (answer, test, written, task)."""
    return is_grade(cell) or is_solution(cell) or is_task(cell)


# ---------------------------------------------------------------------------
# regions
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delimiters:
    """The begin and end delimiters of one kind of region, as nbgrader's preprocessor has them."""

    kind: str
    begin: str
    end: str


SOLUTION = Delimiters("solution", ClearSolutions.begin_solution_delimeter.default_value,
                      ClearSolutions.end_solution_delimeter.default_value)
HIDDEN_TESTS = Delimiters("hidden tests", ClearHiddenTests.begin_test_delimeter.default_value,
                          ClearHiddenTests.end_test_delimeter.default_value)
MARK_SCHEME = Delimiters("mark scheme", ClearMarkScheme.begin_mark_scheme_delimeter.default_value,
                         ClearMarkScheme.end_mark_scheme_delimeter.default_value)
#: every delimiter: none of them may survive in anything a student gets
MARKERS = tuple(text for d in (SOLUTION, HIDDEN_TESTS, MARK_SCHEME) for text in (d.begin, d.end))


def _regions(source: str, kinds: tuple[Delimiters, ...]) -> list[tuple[Delimiters, int, int]]:
    """(kind, first line, last line), 0-based and inclusive of the delimiter lines, by nbgrader's rule."""
    found, open_kind, start = [], None, 0
    for number, line in enumerate(source.splitlines()):
        if open_kind is None:
            for kind in kinds:
                if kind.begin in line:
                    open_kind, start = kind, number
                    break
        elif open_kind.end in line:
            found.append((open_kind, start, number))
            open_kind = None
    return found


def region_texts(source: str, kind: Delimiters) -> list[str]:
    """The text inside each region of ``kind`` (delimiter lines excluded)."""
    lines = source.splitlines()
    return ["\n".join(lines[first + 1 : last]) for _, first, last in _regions(source, (kind,))]


def hidden_line_numbers(source: str) -> set[int]:
    """1-based numbers of the lines of hidden-test regions, delimiter lines included."""
    return {n + 1 for _, first, last in _regions(source, (HIDDEN_TESTS,)) for n in range(first, last + 1)}


def without_regions(source: str, kinds: tuple[Delimiters, ...] = (SOLUTION, HIDDEN_TESTS, MARK_SCHEME)) -> str:
    """The source with every region of ``kinds`` removed, delimiter lines included."""
    drop = {n for _, first, last in _regions(source, kinds) for n in range(first, last + 1)}
    return "\n".join(line for n, line in enumerate(source.splitlines()) if n not in drop)


def visible_source(source: str) -> str:
    """A test cell as the student may see it: each hidden-test region becomes one comment line."""
    lines = source.splitlines()
    shown: list[str] = []
    regions = {first: last for _, first, last in _regions(source, (HIDDEN_TESTS,))}
    number = 0
    while number < len(lines):
        if number in regions:
            indent = lines[number][: len(lines[number]) - len(lines[number].lstrip())]
            shown.append(f"{indent}# ... hidden tests (not shown) ...")
            number = regions[number] + 1
            continue
        shown.append(lines[number])
        number += 1
    return "\n".join(shown)


def public_lines(source_nb) -> list[str]:
    """Stripped lines of the source outside solution and hidden-test regions: the release shows them."""
    public = set()
    for cell in source_nb.cells:
        public.update(line.strip() for line in without_regions(cell.source, (SOLUTION, HIDDEN_TESTS)).splitlines())
    return sorted(public - {""})


SECRET_MIN_CHARS = 12  # shorter lines (``return x``) are too generic to be told apart from a student's


def secret_lines(source_nb) -> list[str]:
    """Stripped lines of solution and hidden-test regions that the release does not show anyway."""
    secret = set()
    for cell in source_nb.cells:
        for kind in (SOLUTION, HIDDEN_TESTS):
            for region in region_texts(cell.source, kind):
                for line in region.splitlines():
                    stripped = line.strip()
                    if len(stripped) >= SECRET_MIN_CHARS and not stripped.startswith(("#", "<!--")):
                        secret.add(stripped)
    return sorted(secret - set(public_lines(source_nb)))


# ---------------------------------------------------------------------------
# the release
# ---------------------------------------------------------------------------


def ensure_tools_on_path() -> None:
    """nbgrader runs the ``alembic`` command of its own environment: put the venv's bin on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}"


def nbgrader_config(root: Path, assignment: str, student: str = ".", db_url: str | None = None) -> Config:
    """The configuration every nbgrader converter gets here (no configuration file is read)."""
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.assignment_id = assignment
    config.CourseDirectory.student_id = student
    config.CourseDirectory.db_url = db_url or f"sqlite:///{Path(root) / 'gradebook.db'}"
    return config


def generate_assignment(root: Path, assignment: str, db_url: str | None = None,
                        log: logging.Logger | None = None) -> Path:
    """nbgrader's ``generate_assignment`` of ``root/source/<assignment>/``; returns the release folder.

    Solutions become nbgrader's stubs, hidden tests and mark schemes are removed, the other
    files of the source folder are copied, and the gradebook learns the assignment's cells.
    """
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    ensure_tools_on_path()
    config = nbgrader_config(root, assignment, db_url=db_url)
    config.BaseConverter.force = True
    quiet = logging.getLogger("autograder.plumbing.nbgrader")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config, log=log or quiet)
    converter.start()
    release = Path(root) / "release" / assignment
    if not any(release.glob("*.ipynb")):
        raise RuntimeError(f"nbgrader generate_assignment {assignment} wrote no notebook in {release}")
    return release


def release_notebook(source: Path, dest: Path) -> Path:
    """nbgrader's release of one notebook, made in a throwaway course directory, written to ``dest``."""
    return release_notebooks({Path(source): Path(dest)})[Path(source)]


def release_notebooks(jobs: dict[Path, Path]) -> dict[Path, Path]:
    """nbgrader's release of each notebook ``source -> dest``, made in one throwaway course directory.

    One gradebook serves them all: creating it is most of the cost of a release (about 2.5 s,
    then about 0.15 s per notebook). The assignment name is each source's file stem.
    """
    with tempfile.TemporaryDirectory(prefix="release-") as scratch:
        for source, dest in jobs.items():
            assignment = Path(source).stem
            folder = Path(scratch) / "source" / assignment
            folder.mkdir(parents=True)
            shutil.copyfile(source, folder / f"{assignment}.ipynb")
            release = generate_assignment(Path(scratch), assignment)
            Path(dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(release / f"{assignment}.ipynb", dest)
    return dict(jobs)
