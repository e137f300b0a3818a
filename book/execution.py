"""The chapters with their outputs, for the website and the tests: from each chapter's reference run.

    from book.execution import executed_chapter
    nb = executed_chapter("03_activations")   # runs it first if the cache has no run of it

A chapter runs once, with its reference answers, in the autograder's reference run
(``autograder.release.reference_run``: kept in jupyter-cache, ``_build/.jupyter_cache``,
keyed by the notebook's code cells and a fingerprint of the library; prose edits never run a
chapter again). The same run gives the grader its expected values and the release its leak
probe's inputs; here it gives the pages their outputs and figures (``source_view``: the
notebook as written, with the run's outputs). Like ``nbgrader validate``, the run goes on
after an error, so the notebook records which cells failed: ``execution_errors(nb)``.
"""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import nbformat

from autograder.release import reference_run

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_DIR = ROOT / "chapters"


class ExecutionError(RuntimeError):
    """A chapter that could not be executed; the message names it."""


def _run(chapter: str) -> str:
    reference_run.executed(CHAPTER_DIR / f"{chapter}.ipynb")
    return chapter


def execute_chapters(notebooks: dict, jobs: int = 2, log=print) -> dict:
    """Each chapter (id -> its notebook as read from ``chapters/``) with the outputs of its reference run.

    The chapters the cache does not have yet run ``jobs`` at a time, the longest (the capstone) first.
    """
    runs = {chapter: reference_run.cached_run(reference_run.trusted_form(nb)) for chapter, nb in notebooks.items()}
    missing = sorted((chapter for chapter, run in runs.items() if run is None), reverse=True)
    if missing:
        log(f"running {len(missing)} chapter(s) with their reference answers, {min(jobs, len(missing))} at a time: "
            f"{', '.join(missing)}")
        with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, min(jobs, len(missing)))) as pool:
            futures = {pool.submit(_run, chapter): chapter for chapter in missing}
            failures = []
            for future in concurrent.futures.as_completed(futures):
                try:
                    log(f"ran {future.result()}")
                except Exception as error:  # report every chapter that failed
                    failures.append(f"chapters/{futures[future]}.ipynb: {type(error).__name__}: {error}")
        if failures:
            raise ExecutionError("\n".join(failures))
        runs = {chapter: reference_run.executed(CHAPTER_DIR / f"{chapter}.ipynb") for chapter in notebooks}
    return {chapter: reference_run.source_view(runs[chapter], nb) for chapter, nb in notebooks.items()}


def execution_errors(nb) -> list[tuple[int, str, str, str]]:
    """(cell index, cell id, exception name, message) of every error output, as nbgrader validate sees them."""
    return [(index, cell.get("id", ""), output.get("ename", ""), output.get("evalue", ""))
            for index, cell in enumerate(nb.cells)
            for output in cell.get("outputs", []) if output.get("output_type") == "error"]


def executed_chapter(chapter_id: str):
    """``chapters/<chapter_id>.ipynb`` with the outputs of its reference run (an nbformat NotebookNode).

    Cells that raised keep their error outputs (see ``execution_errors``).
    """
    path = CHAPTER_DIR / f"{chapter_id}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such chapter")
    source = nbformat.read(path, as_version=4)
    return reference_run.source_view(reference_run.executed(path), source)
