"""The graded answers' calls that a chapter's visible checks depend on: the leak probe's inputs.

They come from the chapter's reference run (``autograder.release.reference_run``): the source
notebook with the full ``solutions`` library and the reference answers, its test cells in
expect form, and after each answer cell a cell that wraps the cell's graded answers
(``autograder.runtime.probe.watch``). Each check of a test cell sends the calls made since the
previous one as the inputs of a visible or a hidden check; the visible ones are kept, each with
its arguments and the reference's result as data (``probe.call_data``). The calls depend only
on the chapter, the library and the recorder, not on any release, and the run is kept in
jupyter-cache, so a chapter is run once for the website, the grader and the leak probe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import nbformat

from autograder.course import ROOT, Chapter
from autograder.release.student_edition import graded_definitions

CACHE_DIR = ROOT / "_build" / "autograder-calls"  # the leak probe's results (autograder.release.leaks)


@dataclass(frozen=True)
class AnswerCalls:
    """The recorded calls of one graded answer (as data: ``autograder.runtime.probe.call_data``)."""

    chapter: str
    answer: str
    grade_id: str
    calls: tuple[dict, ...]


def recorded_calls(chapter: Chapter, log: logging.Logger | None = None) -> list[AnswerCalls]:
    """The visible calls of every graded answer of ``chapter``, from its reference run."""
    from autograder.release import reference_run

    calls = reference_run.visible_calls(reference_run.executed(chapter.path, log=log.info if log else None))
    grade_ids = graded_definitions(nbformat.read(chapter.path, as_version=4))
    return [
        AnswerCalls(chapter.id, name, grade_ids.get(name, "?"), tuple(found)) for name, found in sorted(calls.items())
    ]
