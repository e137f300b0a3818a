"""The graded answers' calls that a chapter's visible checks depend on: the leak probe's inputs.

A *recording run* executes the chapter's source notebook in a trusted kernel, with the full
``solutions`` library and the reference answers, its test cells in expect form
(``autograder.grade.score``), and after each answer cell a cell that wraps the cell's graded
answers (``autograder.runtime.probe.watch``). Each check of a test cell sends the calls made
since the previous one as the inputs of a visible or a hidden check; the visible ones are
kept, each with its arguments and the reference's result as data (``probe.call_data``).

The calls depend only on the chapter, the library and the recorder, not on any release, so
they are recorded once per content and kept in ``_build/autograder-calls/<chapter>.json``
for every course folder (a file lock keeps parallel test workers from recording twice).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.course import ROOT, Chapter
from autograder.plumbing import is_answer_cell, is_test_cell
from autograder.release.student_edition import (
    LIBRARY_DIR,
    RUNTIME_DIR,
    graded_definitions,
)
from autograder.runtime.probe import CALL_MIME

CACHE_DIR = ROOT / "_build" / "autograder-calls"
WATCH = "import autograder.probe as _autograder_probe\n_autograder_probe.watch(globals(), {names!r})"


@dataclass(frozen=True)
class AnswerCalls:
    """The recorded calls of one graded answer (as data: ``autograder.runtime.probe.call_data``)."""

    chapter: str
    answer: str
    grade_id: str
    calls: tuple[dict, ...]


def recording_notebook(source_nb):
    """The source notebook in expect form, each answer cell followed by a cell that watches its graded answers."""
    from autograder.grade.score import expect_notebook

    nb = expect_notebook(source_nb)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if is_answer_cell(cell):
            names = sorted(graded_definitions(nbformat.v4.new_notebook(cells=[cell])))
            if names:
                cells.append(nbformat.v4.new_code_cell(WATCH.format(names=names)))
    nb.cells = cells
    return nb


def visible_calls(executed_nb) -> dict[str, list[dict]]:
    """{answer: [call, ...]} sent by the visible checks of an executed recording notebook (duplicates dropped)."""
    found: dict[str, list[dict]] = {}
    seen: set[str] = set()
    for cell in executed_nb.cells:
        if not is_test_cell(cell):
            continue
        for output in cell.get("outputs", []):
            record = (output.get("data") or {}).get(CALL_MIME) if output.get("output_type") == "display_data" else None
            if not record or record.get("hidden"):
                continue
            for call in record.get("calls", []):
                key = json.dumps(call, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    found.setdefault(call["answer"], []).append(call)
    return found


def content_key(chapter: Chapter) -> str:
    """What the recorded calls depend on: the notebook, the full library, the recorder and this module."""
    digest = hashlib.sha256(chapter.path.read_bytes())
    for path in [*sorted(LIBRARY_DIR.glob("*.py")), RUNTIME_DIR / "probe.py", Path(__file__)]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def record(chapter: Chapter, data_dir: str | None) -> dict[str, list[dict]]:
    """Run the recording notebook of ``chapter`` with the full library; its visible calls per answer."""
    from autograder.grade.score import execute_trusted

    nb = recording_notebook(nbformat.read(chapter.path, as_version=4))
    with tempfile.TemporaryDirectory(prefix="autograder-calls-") as scratch:
        # the runtime as the package `autograder`; `solutions` is the installed, full library
        shutil.copytree(RUNTIME_DIR, Path(scratch) / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
        execute_trusted(nb, Path(scratch), data_dir)
    return visible_calls(nb)


def recorded_calls(chapter: Chapter, log: logging.Logger | None = None) -> list[AnswerCalls]:
    """The visible calls of every graded answer of ``chapter``, recorded unless the cache is up to date."""
    from solutions.data import data_dir

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    path, key = CACHE_DIR / f"{chapter.id}.json", content_key(chapter)
    with open(CACHE_DIR / f"{chapter.id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        calls = _cached(path, key)
        if calls is None:
            if log:
                log.info("recording the calls of %s's graded answers (once per content)", chapter.id)
            calls = record(chapter, str(data_dir()))
            partial = path.with_suffix(".json.partial")
            partial.write_text(json.dumps({"key": key, "calls": calls}), encoding="utf-8")
            partial.replace(path)
    grade_ids = graded_definitions(nbformat.read(chapter.path, as_version=4))
    return [AnswerCalls(chapter.id, name, grade_ids.get(name, "?"), tuple(found)) for name, found in sorted(calls.items())]


def _cached(path: Path, key: str) -> dict[str, list[dict]] | None:
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("calls") if saved.get("key") == key else None
