"""Finding each student's notebook in a folder of submissions or in an LMS zip export.

Rules (also in autograder/README.md):

* ``SUBMISSIONS/<student_id>/...``: every file under a folder belongs to the student the
  folder is named after (sub-folders included, e.g. nbgrader's ``<student>/<chapter>/``).
  Moodle names folders ``<Full Name>_<participant id>_assignsubmission_file_``: the student id
  is the participant id.
* ``SUBMISSIONS/<file>.ipynb``: a file at the top level belongs to the student named by the
  file: Canvas names files ``<login>_[LATE_]<user id>_<submission id>_<original name>``, whose
  student id is the login; any other notebook's student id is its name without ``.ipynb``.
  Other top-level files (a README, an LMS index) are ignored, unless Canvas named them.
* A zip file is read as if it were unpacked (only its ``.ipynb`` members are extracted, into
  the grading run's scratch folder). If everything sits in one top folder that holds no
  notebook itself (``export/<student>/...``), that folder is looked into.
* Ignored: hidden files and folders (``.ipynb_checkpoints``, ``.DS_Store``), ``__MACOSX``.
* Student ids keep letters, digits and ``. _ - @ +``; any other character becomes ``_``.
* Symbolic links are never followed, wherever they point: a student whose files include one
  (a notebook, ``timestamp.txt``, a sub-folder, or the student's folder itself) gets no grade
  and a reason naming the link (``Submission.links``). Neither an LMS export nor ``nbgrader
  collect`` makes links; one in the submissions folder was made by hand, and it could make
  the grader read the instructor's source or another student's work.
* Which notebook is graded: the one named ``<chapter>.ipynb``; otherwise the only notebook
  the student submitted (whatever its name); otherwise none (``missing notebook``).

Nothing here writes to the submissions: files are only read (or extracted from the zip).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from autograder.course import UsageError
from autograder.plumbing import EXCHANGE_FILES

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024  # larger files are not notebooks a student wrote
CANVAS_FILE = re.compile(r"^(?P<student>[^_]+)_(?:LATE_)?(?P<user_id>\d+)_\d+_(?P<original>.+)$")
MOODLE_FOLDER = re.compile(r"^(?P<name>.+)_(?P<student>\d+)_assign(?:submission|feedback)_\w*$")
IGNORED_NAMES = {"__MACOSX", "Thumbs.db", "desktop.ini"}


def clean_student_id(raw: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._@+-]+", "_", raw.strip()).strip("._")
    return cleaned or "unnamed"


def _ignored(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") or part in IGNORED_NAMES for part in parts)


@dataclass
class SubmittedFile:
    """One file a student submitted: its name as submitted and where its bytes are."""

    name: str  # relative name inside the student's submission, e.g. "03_activations.ipynb"
    path: Path | None  # readable copy (None when it could not be extracted)
    problem: str = ""  # why it could not be read from the archive
    exchange_files: tuple[Path, ...] = ()  # nbgrader's timestamp.txt / submission_secret.txt beside it

    @property
    def is_notebook(self) -> bool:
        return self.name.lower().endswith(".ipynb")


@dataclass
class Submission:
    """Everything one student submitted, and the notebook that gets graded."""

    student: str
    files: list[SubmittedFile] = field(default_factory=list)
    origin: str = ""  # folder or file name the student id came from
    links: list[str] = field(default_factory=list)  # symbolic links found (not followed): why it is refused

    @property
    def lms_user_id(self) -> str | None:
        """Canvas's user id, from Canvas's file name (``<login>_<user id>_<submission id>_<name>``); else None.

        (Moodle's folder names give the participant id, which is the student id already.)
        """
        match = CANVAS_FILE.match(self.origin)
        return match.group("user_id") if match else None

    def choose(self, chapter: str) -> tuple[SubmittedFile | None, str]:
        """The notebook to grade and a note ("" when it is the expected ``<chapter>.ipynb``)."""
        notebooks = [f for f in self.files if f.is_notebook]
        expected = f"{chapter}.ipynb"
        exact = [f for f in notebooks if PurePosixPath(_original_name(f.name)).name == expected]
        if exact:
            return exact[0], ""
        if len(notebooks) == 1:
            return notebooks[0], f"graded {notebooks[0].name} (expected {expected})"
        if notebooks:
            names = ", ".join(sorted(f.name for f in notebooks))
            return None, f"missing notebook: no {expected} among {len(notebooks)} notebooks ({names})"
        others = ", ".join(sorted(f.name for f in self.files)[:5])
        return None, f"missing notebook: no .ipynb file (found {others})"


def _original_name(name: str) -> str:
    match = CANVAS_FILE.match(PurePosixPath(name).name)
    return match.group("original") if match else name


def student_of_folder(name: str) -> str:
    match = MOODLE_FOLDER.match(name)
    return clean_student_id(match.group("student") if match else name)


def _belongs_to_a_student(name: str) -> bool:
    """A top-level file is a submission if it is a notebook or carries Canvas's student prefix."""
    return name.lower().endswith(".ipynb") or bool(CANVAS_FILE.match(name))


def student_of_file(name: str) -> str:
    stem = name[: -len(".ipynb")] if name.lower().endswith(".ipynb") else name.rsplit(".", 1)[0]
    match = CANVAS_FILE.match(name)
    return clean_student_id(match.group("student") if match else stem)


def _add(found: dict[str, Submission], student: str, file: SubmittedFile, origin: str) -> None:
    submission = found.setdefault(student, Submission(student, origin=origin))
    submission.files.append(file)


def _refuse_link(found: dict[str, Submission], student: str, why: str, origin: str) -> None:
    found.setdefault(student, Submission(student, origin=origin)).links.append(why)


def describe_link(link: Path, root: Path) -> str:
    """Why the grader does not read ``link``: where it points, in words for the instructor."""
    name = link.relative_to(root).as_posix()
    kind = "folder" if link.is_dir() else "file"
    target = Path(os.path.realpath(link))
    real_root = Path(os.path.realpath(root))
    if not target.exists():
        where = f"points to nothing ({os.readlink(link)})"
    elif target == real_root or real_root in target.parents:
        where = f"points to {target.relative_to(real_root).as_posix()}, inside the submissions folder"
    else:
        where = f"points to a {kind} outside the submissions folder ({target})"
    return f"symbolic link: {name} {where}; the grader reads only regular files"


def _student_files(folder: Path, root: Path) -> list[tuple[Path, str]]:
    """(path, "") for each regular file under ``folder``, (path, why) for each link, in path order.

    Links are not followed (``os.walk`` does not descend into a linked folder).
    """
    found = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = [d for d in dirs if not _ignored((d,))]
        for name in dirs + [f for f in files if not _ignored((f,))]:
            path = Path(here) / name
            if path.is_symlink():
                found.append((path, describe_link(path, root)))
            elif name in files and path.is_file():
                found.append((path, ""))
    return sorted(found)


def collect_folder(root: Path) -> list[Submission]:
    """Submissions in a folder laid out as described in the module docstring."""
    found: dict[str, Submission] = {}
    for entry in sorted(root.iterdir()):
        if _ignored((entry.name,)):
            continue
        if entry.is_symlink():
            if entry.is_dir():
                _refuse_link(found, student_of_folder(entry.name), describe_link(entry, root), entry.name)
            elif _belongs_to_a_student(entry.name):
                _refuse_link(found, student_of_file(entry.name), describe_link(entry, root), entry.name)
        elif entry.is_dir():
            student = student_of_folder(entry.name)
            for path, link in _student_files(entry, root):
                if link:
                    _refuse_link(found, student, link, entry.name)
                    continue
                beside = tuple(path.parent / n for n in EXCHANGE_FILES if (path.parent / n).is_file())
                _add(
                    found,
                    student,
                    SubmittedFile(path.relative_to(entry).as_posix(), path, exchange_files=beside),
                    entry.name,
                )
        elif entry.is_file() and _belongs_to_a_student(entry.name):
            _add(found, student_of_file(entry.name), SubmittedFile(entry.name, entry), entry.name)
    return [found[s] for s in sorted(found)]


def _is_link(info: zipfile.ZipInfo) -> bool:
    """A zip member stored as a symbolic link (Unix mode in the high bits of ``external_attr``)."""
    return stat.S_ISLNK(info.external_attr >> 16)


def collect_zip(archive: Path, scratch: Path) -> list[Submission]:
    """Submissions in an LMS zip export; notebooks are extracted below ``scratch``."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise UsageError(f"{archive}: not a readable zip file ({error})") from None
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    with zf:
        members = []
        for info in zf.infolist():
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.is_dir() or not parts or _ignored(parts) or parts[0] in ("/", "..") or ".." in parts:
                continue
            members.append((parts, info))
        # look into a single top folder that holds no files of its own ("export/<student>/...")
        while members and len({p[0] for p, _ in members}) == 1 and all(len(p) > 2 for p, _ in members):
            members = [(p[1:], info) for p, info in members]
        found: dict[str, Submission] = {}
        for index, (parts, info) in enumerate(members):
            if len(parts) == 1 and not _belongs_to_a_student(parts[0]):
                continue
            if len(parts) == 1:
                student, name, origin = student_of_file(parts[0]), parts[0], parts[0]
            else:
                student, name, origin = student_of_folder(parts[0]), "/".join(parts[1:]), parts[0]
            if _is_link(info):
                target = zf.read(info)[:300].decode("utf-8", "replace")
                _refuse_link(
                    found,
                    student,
                    f"symbolic link: {'/'.join(parts)} in the zip file points to {target}; "
                    "the grader reads only regular files",
                    origin,
                )
                continue
            file = SubmittedFile(name, None)
            if file.is_notebook:
                if info.file_size > MAX_NOTEBOOK_BYTES:
                    file.problem = f"the file is {info.file_size / 1e6:.0f} MB, more than a notebook can be"
                else:
                    extracted = scratch / f"{index:05d}.ipynb"
                    try:
                        with zf.open(info) as source, open(extracted, "wb") as sink:
                            shutil.copyfileobj(source, sink)
                        file.path = extracted
                    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
                        file.problem = f"damaged in the zip file ({error})"
            _add(found, student, file, origin)
    return [found[s] for s in sorted(found)]


def collect(submissions: Path, scratch: Path) -> list[Submission]:
    if submissions.is_dir():
        return collect_folder(submissions)
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        return collect_zip(submissions, scratch)
    if submissions.exists():
        raise UsageError(f"{submissions}: expected a folder of <student_id>/<notebook>.ipynb or a zip file")
    raise UsageError(f"{submissions}: no such folder or zip file")


# ---------------------------------------------------------------------------
# Reading a notebook, or saying why it cannot be read
# ---------------------------------------------------------------------------


class Unreadable(Exception):
    """The file is not a notebook the grader can read; the message says why."""


def read_notebook(file: SubmittedFile):
    """The notebook as nbformat v4, or ``Unreadable`` with a reason a student understands."""
    if file.path is None:
        raise Unreadable(file.problem or "could not be read")
    size = file.path.stat().st_size
    if size == 0:
        raise Unreadable("the file is empty (0 bytes)")
    if size > MAX_NOTEBOOK_BYTES:
        raise Unreadable(f"the file is {size / 1e6:.0f} MB, more than a notebook can be")
    raw = file.path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        kind = "a PDF file" if raw.startswith(b"%PDF") else "a zip file" if raw.startswith(b"PK") else "binary data"
        raise Unreadable(f"not a notebook: the file holds {kind}, not UTF-8 text") from None
    if not text.strip():
        raise Unreadable("the file holds only whitespace")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise Unreadable(f"invalid JSON (line {error.lineno}, column {error.colno}: {error.msg})") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise Unreadable("not a notebook: valid JSON, but without notebook cells")
    major = data.get("nbformat")
    if not isinstance(major, int):
        raise Unreadable("not a notebook: no nbformat version number")
    if major < 4:
        raise Unreadable(f"nbformat {major} is too old: the release is nbformat 4; copy your answers into the release")
    if major > 4:
        raise Unreadable(f"nbformat {major} is newer than nbformat 4, which the grader reads")
    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validator.normalize(nb)
        nbformat.validate(nb)
    except Exception as error:  # noqa: BLE001 - every nbformat failure means the same to the student
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unreadable(f"not a valid nbformat 4 notebook ({message[:200]})") from None
    return nb
