"""The assignment bundle: the one zip file a student downloads from a chapter's page.

``<chapter>.zip`` holds one folder, ``<chapter>/``: the chapter's release folder, made by the
same release code as the course (``autograder.release.assignment.release_chapter``):

* ``<chapter>.ipynb``: nbgrader's release of the chapter (stubs, no hidden tests);
* ``solutions/``: the student edition of the library (this chapter's and later answers stubbed);
* ``autograder/``: the checks the test cells import (not the grader);
* ``data/``: the data the chapter reads;
* ``requirements.txt``: the course's pinned versions of what the notebook and Validate need;
* ``README.md``, ``jupyter_lab_config.py``, ``nbgrader_config.py``, ``.jupyter/``: how to set up,
  open, Validate and submit, and the settings of a student's JupyterLab.

The zip is reproducible: the same sources give the same bytes (members in a fixed order, with
a fixed time stamp and permissions). A bundle in another language than English is the English
one translated (``autograder.release.translated``): the same code and graded cells.
"""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from pathlib import Path

from autograder.course import DATA_DIR, ROOT, Chapter, CourseDir
from autograder.release import catalogs
from autograder.release.assignment import release_chapter

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip file can hold
FILE_MODE = 0o644


def zip_folder(folder: Path, target: Path, top: str) -> Path:
    """Every file below ``folder`` into ``target``, under ``top/``, reproducibly."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".zip.partial")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            info = zipfile.ZipInfo(f"{top}/{path.relative_to(folder).as_posix()}", date_time=FIXED_TIME)
            info.external_attr = FILE_MODE << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    partial.replace(target)
    return target


def bundle(course: CourseDir, chapter: Chapter, out: Path) -> Path:
    """``out/<chapter>.zip`` from the chapter's release folder in ``course``; returns its path."""
    return zip_folder(course.release(chapter.id), Path(out) / f"{chapter.id}.zip", chapter.id)


def write_bundles(chapters: list[Chapter], out: Path) -> list[Path]:
    """``out/<chapter>.zip`` of each chapter, from fresh releases (one throwaway course directory)."""
    with tempfile.TemporaryDirectory(prefix="bundles-") as scratch:
        course = CourseDir(Path(scratch))
        for chapter in chapters:
            release_chapter(course, chapter)
        return [bundle(course, chapter, out) for chapter in chapters]


def bundle_key(chapter: Chapter, language: str = catalogs.SOURCE_LANGUAGE) -> str:
    """A digest of everything a chapter's bundle is made from: the chapter, the library, the autograder
    (the release code, the runtime, the students' settings), the data and the lock; in another language
    than English, the language's catalogs too."""
    digest = hashlib.sha256(chapter.path.read_bytes() + language.encode())
    inputs = [
        *sorted((ROOT / "solutions").glob("*.py")),
        *sorted((ROOT / "autograder").rglob("*")),
        *sorted(DATA_DIR.iterdir()),
        ROOT / "constraints.txt",
        ROOT / "pyproject.toml",
        ROOT / "book" / "references.bib",
    ]
    if language != catalogs.SOURCE_LANGUAGE:
        inputs += [catalogs.LANGUAGES_FILE, *sorted((catalogs.LOCALE_DIR / language).rglob("*.po"))]
    for path in inputs:
        if path.is_file() and "__pycache__" not in path.parts and "samples" not in path.relative_to(ROOT).parts[:2]:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def translated_bundle(english: Path, chapter: Chapter, language: str, target: Path) -> Path:
    """``target``: the English bundle ``english`` with its release translated into ``language``."""
    from autograder.release.translated import translate_release

    with tempfile.TemporaryDirectory(prefix="bundle-") as scratch:
        with zipfile.ZipFile(english) as archive:
            archive.extractall(scratch)
        folder = Path(scratch) / chapter.id
        translate_release(folder, chapter, language)
        return zip_folder(folder, target, chapter.id)


def cached_bundles(chapters: list[Chapter], cache: Path, language: str = catalogs.SOURCE_LANGUAGE) -> dict[str, Path]:
    """{chapter id: its zip}, made only when ``bundle_key`` changed (``cache/<chapter>[-<language>]-<key>.zip``)."""
    cache.mkdir(parents=True, exist_ok=True)
    tag = "" if language == catalogs.SOURCE_LANGUAGE else f"-{language}"
    paths = {chapter.id: cache / f"{chapter.id}{tag}-{bundle_key(chapter, language)}.zip" for chapter in chapters}
    todo = [chapter for chapter in chapters if not paths[chapter.id].exists()]
    if todo and tag:
        english = cached_bundles(todo, cache)
        for chapter in todo:
            translated_bundle(english[chapter.id], chapter, language, paths[chapter.id])
    elif todo:
        with tempfile.TemporaryDirectory(prefix="bundles-") as scratch:
            for made in write_bundles(todo, Path(scratch)):
                made.replace(paths[made.stem])
    for path in cache.glob("*.zip"):  # older bundles of these chapters in this language
        if path.stem.rsplit("-", 1)[0] in {f"{c}{tag}" for c in paths} and path not in paths.values():
            path.unlink()
    return paths
