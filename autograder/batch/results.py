"""A task's result: what crosses the wire, where it is kept, and how the client writes it into the course.

A grading task (``autograder.batch.worker.grade_task``) returns an ``Outcome``: what grading
gave (``Graded``, plain data) and three files as bytes (the autograded notebook, the
feedback page, the grading log). Nothing else crosses the wire.

``ResultStore`` keeps each outcome under its key, ``sha256(release) + "-" + sha256(submission)``
(``result_key``), in ``COURSE/.work/results/<key>/``, written as it arrives. A rerun, a batch
stopped half-way and run again, or a second student with the same bytes reuses it: nothing
is graded twice. A failed grading (status ``error``: the grading itself failed, not the
submission) is not kept, so a rerun tries it again.

``write_files`` is the client writing one student's files from an outcome: only the client
writes the course directory (``autograded/``, ``feedback/``, ``logs/``), as nbgrader lays it out.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import find_all_files

from autograder.course import CourseDir
from autograder.grade.submission import STUDENT, Graded
from autograder.plumbing import EXCHANGE_FILES

FILES = ("autograded.ipynb", "feedback.html", "grading.log")
#: what nbgrader's autograde does not copy into autograded/ (its ignore list, and the notebooks it writes itself)
NOT_COPIED = [*CourseDirectory.class_traits()["ignore"].default(), "*.ipynb"]


def submission_digest(notebook: bytes, timestamp: bytes | None) -> str:
    """sha256 of what a task reads of a submission: the notebook, and nbgrader's timestamp.txt if any."""
    digest = hashlib.sha256(notebook)
    if timestamp is not None:
        digest.update(b"\0timestamp.txt\0" + timestamp)
    return digest.hexdigest()


def result_key(release_digest: str, submission: str) -> str:
    return f"{release_digest}-{submission}"


@dataclass
class Outcome:
    """What one grading task gives: ``Graded`` and the files it wrote (``None`` when it wrote none)."""

    graded: Graded
    files: dict[str, bytes | None]

    @classmethod
    def collect(cls, graded: Graded, scratch: Path, chapter: str) -> Outcome:
        """The outcome of grading in the scratch course directory ``scratch`` (``autograder.batch.worker``)."""
        course = CourseDir(scratch)
        paths = {
            "autograded.ipynb": course.autograded(STUDENT, chapter) / f"{chapter}.ipynb",
            "feedback.html": course.feedback(STUDENT, chapter),
            "grading.log": course.log(STUDENT, chapter),
        }
        return cls(graded, {name: path.read_bytes() if path.is_file() else None for name, path in paths.items()})

    def to_wire(self) -> dict:
        """Plain data and bytes, for dask to carry."""
        return {"graded": self.graded.to_json(), "files": dict(self.files)}

    @classmethod
    def from_wire(cls, data: dict) -> Outcome:
        return cls(Graded.from_json(data["graded"]), {name: data["files"].get(name) for name in FILES})

    @classmethod
    def failed(cls, why: str) -> Outcome:
        """A task that gave no outcome (its worker crashed, the task raised)."""
        return cls(Graded(failure=why), {**dict.fromkeys(FILES), "grading.log": f"grading failed: {why}\n".encode()})


class ResultStore:
    """``COURSE/.work/results/<key>/``: ``graded.json`` and the files of each outcome kept."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def get(self, key: str) -> Outcome | None:
        folder = self.root / key
        try:
            graded = Graded.from_json(json.loads((folder / "graded.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        return Outcome(
            graded, {name: (folder / name).read_bytes() if (folder / name).is_file() else None for name in FILES}
        )

    def put(self, key: str, outcome: Outcome) -> None:
        """Keep ``outcome`` (whole or not at all: a stopped client leaves no half-written result)."""
        if outcome.graded.failure:
            return
        partial = self.root / f".{key}.{uuid.uuid4().hex}"
        partial.mkdir(parents=True)
        for name, content in outcome.files.items():
            if content is not None:
                (partial / name).write_bytes(content)
        (partial / "graded.json").write_text(json.dumps(outcome.graded.to_json()), encoding="utf-8")
        shutil.rmtree(self.root / key, ignore_errors=True)
        os.rename(partial, self.root / key)


def write_files(course: CourseDir, chapter: str, student: str, outcome: Outcome) -> None:
    """The student's ``autograded/``, ``feedback/`` and log, as nbgrader's autograde and feedback lay them out.

    ``autograded/<student>/<chapter>/`` gets what nbgrader copies there (the submission's
    other files, then the source folder's files) and the autograded notebook; the feedback
    folder gets the page and nbgrader's exchange files (for ``nbgrader release_feedback``).
    """
    log = course.log(student, chapter)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(outcome.files["grading.log"] or b"")
    notebook = outcome.files["autograded.ipynb"]
    if notebook is None:
        return
    submitted, source = course.submitted(student, chapter), course.source(chapter)
    autograded = course.autograded(student, chapter)
    for folder in (submitted, source):
        for path in find_all_files(str(folder), NOT_COPIED):
            target = autograded / Path(path).relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    autograded.mkdir(parents=True, exist_ok=True)
    (autograded / f"{chapter}.ipynb").write_bytes(notebook)
    if outcome.files["feedback.html"] is not None:
        page = course.feedback(student, chapter)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_bytes(outcome.files["feedback.html"])
        for name in EXCHANGE_FILES:
            if (autograded / name).is_file():
                shutil.copyfile(autograded / name, page.parent / name)
