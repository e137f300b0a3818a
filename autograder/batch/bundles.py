"""What a grading task reads from the course side, as content-addressed bytes: a chapter's release and its data.

A task must grade on any worker exactly as it would on the client. Everything it reads
from the course side travels in two bundles (tar files, as bytes), each named by a digest
of its content:

* the **data** bundle: the data files the chapter's kernels read (``data/iris.csv``, and
  ``data/mnist.npz`` when the chapter uses MNIST: ``chapter_data_files``);
* the **release** bundle: the chapter's source folder (the notebook with its reference
  answers and hidden tests, the student edition of ``solutions``, ``autograder.runtime``),
  the template gradebook (the assignment's cells, checksums, points and due date) and the
  grading settings (the limits, whether kernels are isolated).

The release digest covers all of it: each source file's sha256, what nbgrader reads from
the template gradebook (not its bytes: a fresh gradebook has fresh random ids), the
settings, the data bundle's digest, the grader's own code (``environment.code_digest``) and
the library its expected values come from (``reference_run.library_fingerprint``: the full
``solutions``, whose answers the student edition leaves out, and the Python and NumPy versions).
The same release therefore has the same digest in every run, and a result stored under it
(``autograder.batch.results``) is reused only when nothing a task reads has changed.

``unpack`` puts a bundle into a worker's cache, once per digest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import shutil
import tarfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from autograder.batch.environment import code_digest
from autograder.course import Chapter, CourseDir
from autograder.release.reference_run import library_fingerprint

SKIPPED = ("__pycache__", ".ipynb_checkpoints")
TEMPLATE, SETTINGS = "template.db", "settings.json"


@dataclass(frozen=True)
class Bundle:
    """Bytes (a tar file) and the digest that names them."""

    digest: str
    data: bytes = dataclasses.field(repr=False)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar(files: dict[str, bytes]) -> bytes:
    """A tar file of ``files`` (name -> content), the same bytes for the same files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(files[name]), 0o644, 0
            archive.addfile(info, io.BytesIO(files[name]))
    return buffer.getvalue()


def folder_files(folder: Path, prefix: str) -> dict[str, bytes]:
    """Every file below ``folder`` (symlinks followed), named ``prefix/<relative path>``."""
    return {
        f"{prefix}/{path.relative_to(folder).as_posix()}": path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not any(part in SKIPPED for part in path.relative_to(folder).parts)
    }


def pack_data(files: list[Path]) -> Bundle:
    """The data bundle of these files (each at the top of the bundle)."""
    contents = {path.name: path.read_bytes() for path in files}
    manifest = {name: sha256(content) for name, content in sorted(contents.items())}
    return Bundle(sha256(json.dumps(manifest, sort_keys=True).encode()), tar(contents))


def template_content(db_path: Path, chapter: str) -> dict:
    """What nbgrader reads from the template gradebook, as plain data (no ids, no timestamps)."""
    from nbgrader.api import Gradebook

    from autograder.course import COURSE_ID
    from autograder.grade.submission import quiet_nbgrader

    with quiet_nbgrader(), Gradebook(f"sqlite:///{db_path}", COURSE_ID) as gb:
        assignment = gb.find_assignment(chapter)
        return {
            "duedate": assignment.duedate.isoformat() if assignment.duedate else None,
            "notebooks": [
                {
                    "name": notebook.name,
                    "grade_cells": sorted([c.name, c.cell_type, float(c.max_score)] for c in notebook.grade_cells),
                    "solution_cells": sorted(c.name for c in notebook.solution_cells),
                    "task_cells": sorted([c.name, c.cell_type, float(c.max_score)] for c in notebook.task_cells),
                    "source_cells": sorted(
                        [c.name, c.cell_type, bool(c.locked), c.checksum or "", c.source or ""]
                        for c in notebook.source_cells
                    ),
                }
                for notebook in sorted(assignment.notebooks, key=lambda n: n.name)
            ],
        }


def pack_release(course: CourseDir, chapter: Chapter, template: Path, settings: dict, data: Bundle) -> Bundle:
    """The release bundle of ``chapter`` (see the module docstring); ``settings`` must be JSON."""
    source = folder_files(course.source(chapter.id), f"source/{chapter.id}")
    settings = {**settings, "chapter": chapter.id, "data": data.digest}
    manifest = {
        "source": {name: sha256(content) for name, content in source.items()},
        "template": template_content(template, chapter.id),
        "settings": settings,
        "grader": code_digest(),
        "library": library_fingerprint(),
    }
    digest = sha256(json.dumps(manifest, sort_keys=True).encode())
    contents = {**source, TEMPLATE: template.read_bytes(), SETTINGS: json.dumps(settings, sort_keys=True).encode()}
    return Bundle(digest, tar(contents))


def unpack(bundle: Bundle, cache: Path) -> Path:
    """``cache/<digest>/`` holding the bundle's files, extracted the first time only."""
    folder = cache / bundle.digest
    if folder.is_dir():
        return folder
    partial = cache / f".{bundle.digest}.{uuid.uuid4().hex}"
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(bundle.data)) as archive:
        archive.extractall(partial, filter="data")
    try:
        os.rename(partial, folder)
    except OSError:  # another task of this machine was first: same digest, same files
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def settings_of(release: Path) -> dict:
    return json.loads((release / SETTINGS).read_text(encoding="utf-8"))
