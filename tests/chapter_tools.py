"""Shared machinery for the chapter tests: find, release, validate and execute notebooks.

Every chapter notebook in ``chapters/`` is an nbgrader source. These helpers run
the real nbgrader on it: ``generate_assignment`` for the student release (in a
throwaway course directory, with the course's named stubs, ``autograder.plumbing``)
and nbgrader's ``Validator`` to execute and grade it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
from nbgrader.validator import Validator
from traitlets.config import Config

from autograder.plumbing import (
    generate_assignment,
    secret_lines,  # noqa: F401  (the chapter tests import it from here)
)
from autograder.plumbing import public_lines as feedback_public_lines

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_DIR = ROOT / "chapters"
CHAPTERS = sorted(path.stem for path in CHAPTER_DIR.glob("[0-9][0-9]_*.ipynb"))
EXECUTION_TIMEOUT = 600  # seconds per cell; chapters take far less (CHAPTERS.md: <= 60 s in all)


def chapter_path(chapter: str) -> Path:
    return CHAPTER_DIR / f"{chapter}.ipynb"


def read_chapter(chapter: str):
    return nbformat.read(chapter_path(chapter), as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def answer_cells(nb) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("solution") and c.cell_type == "code"]


def grade_test_cells(nb) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"]


def written_cells(nb) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "markdown"]


def generate_release(chapter: str, course_dir: Path) -> Path:
    """The course's ``nbgrader generate_assignment`` of a chapter (named stubs); the release notebook's path."""
    source_dir = course_dir / "source" / chapter
    source_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(chapter_path(chapter), source_dir / f"{chapter}.ipynb")
    return generate_assignment(course_dir, chapter) / f"{chapter}.ipynb"


class RecordingValidator(Validator):
    """nbgrader's Validator that also keeps the executed notebook for inspection."""

    executed = None

    def _preprocess(self, nb):
        nb = super()._preprocess(nb)
        self.executed = nb
        return nb


def validate(path: Path, invert: bool = False) -> tuple[dict, object]:
    """Run nbgrader's validation on a notebook; returns (results, executed notebook).

    ``results`` is empty when validation passes; otherwise it has "failed",
    "passed" (with invert) or "changed" entries, as ``nbgrader validate`` reports.
    """
    config = Config()
    config.Validator.invert = invert
    config.Execute.timeout = EXECUTION_TIMEOUT
    config.Execute.interrupt_on_timeout = True
    config.Execute.kernel_name = "python3"
    validator = RecordingValidator(config=config)
    results = validator.validate(str(path))
    return results, validator.executed


def errors_in(nb) -> list[tuple[int, str, str]]:
    """(cell index, exception name, message) of every error output in an executed notebook."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                found.append((index, output.get("ename", ""), output.get("evalue", "")))
    return found


def public_lines(nb) -> set[str]:
    """Lines outside the secret regions (they may legitimately repeat a secret line)."""
    return set(feedback_public_lines(nb))


def answer_namespace(chapter: str, grade_ids: list[str]) -> dict:
    """Execute a chapter's first code cell (its imports) and the named answer cells.

    Returns the namespace, so a test can call the reference answers directly
    and compare them with ``solutions``.
    """
    nb = read_chapter(chapter)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    by_id = {nbgrader_meta(c).get("grade_id"): c for c in code_cells}
    missing = [g for g in grade_ids if g not in by_id]
    if missing:
        raise KeyError(f"{chapter}: no answer cells with grade_id {missing}")
    namespace: dict = {"__name__": f"chapter_{chapter}"}
    for cell in [code_cells[0]] + [by_id[g] for g in grade_ids]:
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        exec(compile(source, f"{chapter}:{nbgrader_meta(cell).get('grade_id', 'setup')}", "exec"), namespace)
    return namespace


def dump(obj) -> str:
    return json.dumps(obj, indent=1)[:4000]
