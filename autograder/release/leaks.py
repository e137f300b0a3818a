"""The release's leak check: no callable of a student edition may compute an answer of its chapter or a later one.

Stubbing by name (``autograder.release.student_edition``) misses an answer that the library
computes under another name (``losses.softmax_cross_entropy`` is chapter 1's
``cross_entropy``). So each release is *probed*: every public function and class of its
student edition is called on the recorded inputs of the visible checks of every graded answer
of this chapter and the later ones (``autograder.release.recorded_calls``), in a subprocess
(``autograder/release/reproduce.py``). A callable that yields an answer's result reproduces it.

What probing cannot reach (a function that needs other arguments, a class whose method needs
state set by hand) is in the reviewed table ``reviewed_leaks.toml`` next to this module,
which also says where a chapter's own demos need a function that gives a later answer away.

``build_probed_edition`` makes a release's edition: stubs by name, then the reviewed table's
stubs, then the probe's reproductions, except those the table keeps for this release. A
reproduction that cannot be stubbed (``autograder.checks`` needs it) refuses the release.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from autograder.course import Chapter, UsageError, all_chapters
from autograder.release.recorded_calls import CACHE_DIR, AnswerCalls, recorded_calls
from autograder.release.student_edition import (
    Stub,
    StudentEdition,
    build_student_edition,
    chapters_from,
    graded_definitions,
    library_definitions,
)

WORKER = Path(__file__).with_name("reproduce.py")
REVIEWED_FILE = Path(__file__).with_name("reviewed_leaks.toml")
BUDGET_SECONDS = 120.0  # CPU seconds for the whole probe of one release; it takes a few
WALL_SECONDS = 1800.0  # the worker is stopped after this long, however loaded the machine


class LeakError(UsageError):
    """A release would give away an answer of its chapter or a later one, and nothing can stub it (exit status 2)."""


@dataclass(frozen=True)
class Reproduction:
    """A callable of a student edition that reproduces a graded answer on its recorded inputs."""

    module: str
    name: str
    chapter: str  # the answer's chapter
    answer: str
    how: str

    @property
    def function(self) -> str:
        return f"{self.module}.{self.name}"

    def describe(self) -> str:
        return f"solutions.{self.function} reproduces {self.answer} ({self.chapter}): {self.how}"


# ---------------------------------------------------------------------------
# the probe
# ---------------------------------------------------------------------------


def from_data(data: Any) -> Any:
    """A recorded value as Python data: ``autograder.grade.score.decode``, plus dicts and NumPy Generators."""
    from autograder.grade.score import decode

    if isinstance(data, dict) and len(data) == 1:
        ((kind, value),) = data.items()
        if kind == "dict" and isinstance(value, dict):
            return {key: from_data(item) for key, item in value.items()}
        if kind in ("list", "tuple") and isinstance(value, list):
            items = [from_data(item) for item in value]
            return items if kind == "list" else tuple(items)
        if kind == "rng" and isinstance(value, dict):
            generator = np.random.Generator(getattr(np.random, value["bit_generator"])())
            generator.bit_generator.state = value
            return generator
    return decode(data)


@dataclass(frozen=True)
class Probed:
    """What the probe of one student edition found."""

    reproductions: list[Reproduction]
    unprobed: list[str]  # module.name of callables that took too long to try on every call


def probe(edition: Path, answers: list[AnswerCalls], budget: float = BUDGET_SECONDS) -> Probed:
    """The callables of ``edition/solutions`` that reproduce one of ``answers`` on its recorded calls.

    The result is kept in ``_build/autograder-calls/probes/``, keyed by the edition's code, the calls and
    the worker: a release probed again (``release --check``, each ``grade``) costs nothing.
    """
    digest = hashlib.sha256(WORKER.read_bytes() + repr(budget).encode())
    for path in sorted((edition / "solutions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    digest.update(json.dumps([[a.chapter, a.answer, a.calls] for a in answers], sort_keys=True).encode())
    saved = CACHE_DIR / "probes" / f"{digest.hexdigest()}.json"
    try:
        result = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = _run_worker(edition, answers, budget)
        saved.parent.mkdir(parents=True, exist_ok=True)
        partial = saved.with_name(f"{saved.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(result), encoding="utf-8")
        partial.replace(saved)
    if result["incomplete"]:
        raise LeakError(f"{edition}: {result['incomplete']}; the release cannot be shown to be free of answers")
    return Probed(
        [Reproduction(*found) for found in result["found"]], [f"{module}.{name}" for module, name in result["unprobed"]]
    )


def _run_worker(edition: Path, answers: list[AnswerCalls], budget: float) -> dict:
    """``reproduce.py`` in a subprocess that imports ``edition/solutions``; its result."""
    task = {
        "budget": budget,
        "answers": [
            {
                "chapter": a.chapter,
                "answer": a.answer,
                "calls": [
                    {
                        "args": from_data(c["args"]),
                        "kwargs": from_data(c["kwargs"]),
                        "parameters": c["parameters"],
                        "defaults": from_data(c["defaults"]),
                        "result": from_data(c["result"]),
                    }
                    for c in a.calls
                ],
            }
            for a in answers
            if a.calls
        ],
    }
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    with tempfile.TemporaryDirectory(prefix="autograder-probe-") as scratch:
        task_file, result_file = Path(scratch) / "task.pickle", Path(scratch) / "result.pickle"
        task_file.write_bytes(pickle.dumps(task))
        try:
            command = [sys.executable, "-I", str(WORKER), str(edition.resolve()), str(task_file), str(result_file)]
            done = subprocess.run(
                command, cwd=scratch, env=env, capture_output=True, text=True, check=False, timeout=WALL_SECONDS
            )
        except subprocess.TimeoutExpired:
            raise LeakError(f"the leak probe of {edition} did not finish in {WALL_SECONDS:g} s") from None
        if done.returncode != 0 or not result_file.is_file():
            raise LeakError(f"the leak probe of {edition} failed (exit {done.returncode}): {done.stderr[-2000:]}")
        result = pickle.loads(result_file.read_bytes())
    return {
        "found": [list(found) for found in result["found"]],
        "unprobed": [list(u) for u in result["unprobed"]],
        "incomplete": result["incomplete"],
    }


# ---------------------------------------------------------------------------
# the reviewed table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewed:
    """One entry of reviewed_leaks.toml: a library function that gives graded answers away."""

    function: str  # module.name
    answers: tuple[tuple[str, str], ...]  # (chapter, answer name)
    how: str
    reviewed: str
    keep_in: tuple[str, ...] = ()
    why_kept: str = ""

    def gives_away(self, release: str) -> list[tuple[str, str]]:
        """The answers of ``release``'s chapter or a later one that the function gives away."""
        return [(chapter, name) for chapter, name in self.answers if chapter >= release]

    def stubbed_in(self, release: str) -> bool:
        return bool(self.gives_away(release)) and release not in self.keep_in


FIELDS = {"function", "answers", "how", "reviewed", "keep_in", "why_kept"}
REQUIRED = ("function", "answers", "how", "reviewed")


def reviewed_table(path: Path = REVIEWED_FILE) -> list[Reviewed]:
    """The reviewed table, checked: each problem names the file, the entry and what is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise UsageError(f"{path}: cannot be read: {error}") from None
    chapters, library = all_chapters(), library_definitions()
    graded = {c: graded_definitions(nbformat.read(Chapter.resolve(c).path, as_version=4)) for c in chapters}
    entries = []
    for number, entry in enumerate(data.get("leak", []), start=1):
        where = f"{path}, [[leak]] number {number} ({entry.get('function', 'no function')})"
        if unknown := set(entry) - FIELDS:
            raise UsageError(f"{where}: unknown field(s) {sorted(unknown)}; the fields are {sorted(FIELDS)}")
        if missing := [f for f in REQUIRED if not entry.get(f)]:
            raise UsageError(f"{where}: missing field(s) {missing}")
        module, _, name = str(entry["function"]).partition(".")
        if library.get(name) != module:
            raise UsageError(f"{where}: solutions/{module}.py defines no top-level function or class {name!r}")
        answers = []
        for answer in entry["answers"]:
            chapter, _, answer_name = str(answer).partition(":")
            if answer_name not in graded.get(chapter, {}):
                raise UsageError(
                    f"{where}: {answer!r} is no graded answer: write '<chapter>:<name>' with a chapter "
                    f"of chapters/ and a function its answer cells define"
                )
            answers.append((chapter, answer_name))
        keep_in = tuple(entry.get("keep_in", ()))
        last = max(chapter for chapter, _ in answers)
        if bad := [c for c in keep_in if c not in chapters or c > last]:
            raise UsageError(f"{where}: keep_in {bad}: each must be a chapter up to {last}")
        if keep_in and not entry.get("why_kept"):
            raise UsageError(f"{where}: keep_in needs why_kept (why those releases may keep it)")
        entries.append(
            Reviewed(
                f"{module}.{name}",
                tuple(answers),
                str(entry["how"]),
                str(entry["reviewed"]),
                keep_in,
                " ".join(str(entry.get("why_kept", "")).split()),
            )
        )
    return entries


# ---------------------------------------------------------------------------
# a release's edition
# ---------------------------------------------------------------------------


def _stub(function: str, chapter: str, why: str) -> Stub:
    module, _, name = function.partition(".")
    return Stub(module, name, chapter, why)


def kept_notes(chapter: Chapter) -> list[str]:
    """One line per function that the reviewed table keeps in the release of ``chapter``, and why."""
    return [
        f"kept: solutions.{r.function} gives away {_answers(r.gives_away(chapter.id))}: {r.why_kept} ({r.reviewed})"
        for r in reviewed_table()
        if chapter.id in r.keep_in
    ]


def _answers(answers: list[tuple[str, str]]) -> str:
    return ", ".join(f"{name} ({chapter})" for chapter, name in answers)


def kept_reproductions(chapter: Chapter) -> set[tuple[str, str, str]]:
    """(function, chapter, answer) that the reviewed table keeps in the release of ``chapter``."""
    return {(r.function, c, n) for r in reviewed_table() if chapter.id in r.keep_in for c, n in r.answers}


def build_probed_edition(chapter: Chapter, dest: Path, log: logging.Logger | None = None) -> StudentEdition:
    """The student edition of ``chapter`` in ``dest/solutions``, free of answers of this chapter and later ones."""
    answers = [calls for owner in chapters_from(chapter) for calls in recorded_calls(owner, log)]
    table = reviewed_table()
    reviewed = [
        _stub(
            r.function,
            min(c for c, _ in r.gives_away(chapter.id)),
            "reviewed: gives away " + _answers(r.gives_away(chapter.id)),
        )
        for r in table
        if r.stubbed_in(chapter.id)
    ]
    kept = kept_reproductions(chapter)
    edition = build_student_edition(chapter, dest, tuple(reviewed))
    probed = probe(dest, answers)
    found = [r for r in probed.reproductions if (r.function, r.chapter, r.answer) not in kept]
    if found:
        stubs = [_stub(r.function, r.chapter, f"reproduces {r.answer} on its test inputs") for r in found]
        edition = build_student_edition(chapter, dest, tuple(reviewed + stubs))
        stubbed = {f"{s.module}.{s.qualname}" for s in edition.stubs}
        if left := [r for r in found if r.function not in stubbed]:
            raise LeakError(
                f"the release of {chapter.id} would give answers away and cannot stub "
                + "; ".join(r.describe() for r in left)
            )
    edition.reproductions = found
    if log:
        for reproduction in found:
            log.info("%s: stubbed %s", chapter.id, reproduction.describe())
        for function in probed.unprobed:
            log.info("%s: solutions.%s took too long to try on every recorded call", chapter.id, function)
    return edition
