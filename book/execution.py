"""Execute the chapter notebooks, with their solutions, once: through jupyter-cache.

    from book.execution import executed_chapter
    nb = executed_chapter("03_activations")   # executes it first if the cache has no result

One cache, ``_build/.jupyter_cache``, serves the website build and the tests. jupyter-cache
keys a notebook by its code cells (sources and metadata) and its kernelspec; markdown is
not in the key, so editing prose never re-executes a chapter. ``ChapterCache`` adds one
more notebook metadata field to what jupyter-cache hashes, ``course_library``: a
fingerprint of everything the outputs depend on besides the notebook (``LIBRARY``: the
``solutions`` package, the checking helper the test cells import, the data files; and
the Python and NumPy versions). Changing any of them re-executes every chapter.

Execution is jupyter-cache's own (its project records, and the worker of its
"local-parallel" executor): cwd ``chapters/``, ``CELL_TIMEOUT`` per cell, one BLAS thread
per kernel, up to ``jobs`` notebooks at a time. Like ``nbgrader validate``, it runs every
cell even after an error (``allow_errors``), so the executed notebook records which cells
failed: ``execution_errors(nb)`` lists them, and nbgrader's ``determine_grade`` scores its
test cells. A result with errors is cached like any other, so an unchanged broken chapter
is not executed again to be reported again.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import multiprocessing
import os
import platform
from pathlib import Path

import nbformat
from jupyter_cache.cache.main import JupyterCacheBase
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_DIR = ROOT / "chapters"
CACHE_DIR = ROOT / "_build" / ".jupyter_cache"
#: files and folders whose content the chapters' outputs depend on (missing ones are skipped)
LIBRARY = ("solutions", "autograder/runtime", "autograder/checks.py", "autograder/probe.py", "data")
#: seconds one cell may run (CHAPTERS.md: a whole chapter takes <= 150 s)
CELL_TIMEOUT = 600
#: executed notebooks kept (least recently used ones go first): a few versions of each chapter
CACHE_LIMIT = 50
#: bump to execute everything again after a change of how chapters are executed
EXECUTION_VERSION = "2"
FINGERPRINT_KEY = "course_library"
BLAS_THREADS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


class ExecutionError(RuntimeError):
    """A chapter that could not be executed, or whose cells raised; the message names them."""


def library_fingerprint() -> str:
    """SHA-256 of the files of ``LIBRARY`` (paths and bytes) and of the Python and NumPy versions."""
    import numpy

    digest = hashlib.sha256(f"{EXECUTION_VERSION} {platform.python_version()} {numpy.__version__}".encode())
    for name in LIBRARY:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(f"\0{file.relative_to(ROOT).as_posix()}\0".encode() + file.read_bytes())
    return digest.hexdigest()


class ChapterCache(JupyterCacheBase):
    """jupyter-cache whose key also covers the library fingerprint (as notebook metadata)."""

    def __init__(self, path: Path, fingerprint: str):
        super().__init__(path)
        self.fingerprint = fingerprint

    def create_hashed_notebook(self, nb, nb_metadata=("kernelspec",), cell_metadata=None):
        nb = copy.copy(nb)
        nb.metadata = nbformat.from_dict({**nb.metadata, FINGERPRINT_KEY: self.fingerprint})
        keys = None if nb_metadata is None else (*nb_metadata, FINGERPRINT_KEY)
        return super().create_hashed_notebook(nb, keys, cell_metadata)


def open_cache() -> ChapterCache:
    cache = ChapterCache(CACHE_DIR, library_fingerprint())
    if cache.get_cache_limit() != CACHE_LIMIT:
        cache.change_cache_limit(CACHE_LIMIT)
    return cache


@contextlib.contextmanager
def _locked_environment():
    """One process at a time executes into the cache; kernels get one BLAS thread and the inline backend."""
    CACHE_DIR.parent.mkdir(parents=True, exist_ok=True)
    saved = dict(os.environ)
    with open(CACHE_DIR.parent / ".jupyter_cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        os.environ.update(BLAS_THREADS)
        os.environ.pop("MPLBACKEND", None)  # figures must become outputs
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _cached(cache: ChapterCache, nb):
    """The notebook with the cached outputs merged in, or None."""
    try:
        return cache.merge_match_into_notebook(nb)[1]
    except KeyError:
        return None


def execute_chapters(notebooks: dict, jobs: int = 2, log=print) -> dict:
    """Each chapter (id -> notebook as read from ``chapters/``) with its outputs, executed if needed.

    Raises ExecutionError naming every chapter that could not be executed.
    """
    results, missing = {}, []
    with _locked_environment():
        cache = open_cache()
        for chapter, nb in notebooks.items():
            results[chapter] = _cached(cache, nb)
            if results[chapter] is None:
                missing.append(chapter)
        if not missing:
            return results
        # the longest chapters (the capstone) first, so that the others fill the second worker
        missing.sort(reverse=True)
        log(f"executing {len(missing)} chapter(s) with jupyter-cache, {min(jobs, len(missing))} at a time: "
            f"{', '.join(missing)}")
        records = {chapter: cache.add_nb_to_project(str(CHAPTER_DIR / f"{chapter}.ipynb")) for chapter in missing}
        work = [ProcessData(records[c].pk, records[c].uri, cache, CELL_TIMEOUT, True) for c in missing]
        worker = ExecutionWorkerLocalMProc()
        if min(jobs, len(work)) > 1:
            with multiprocessing.get_context("fork").Pool(min(jobs, len(work))) as pool:
                statuses = list(pool.imap_unordered(worker, work, chunksize=1))
        else:
            statuses = [worker(data) for data in work]
        failures = []
        for status, uri in statuses:
            chapter = Path(uri).stem
            if status != 0:
                traceback = cache.get_project_record(uri).traceback or "(see the log above)"
                cache.remove_nb_from_project(uri)
                failures.append(f"chapters/{chapter}.ipynb: the execution failed:\n{traceback[-3000:]}")
                continue
            cache.remove_nb_from_project(uri)  # the project is only the list of what to execute now
            results[chapter] = _cached(cache, notebooks[chapter])
            if results[chapter] is None:
                failures.append(f"chapters/{chapter}.ipynb: changed while it was executed; run again")
            else:
                seconds = cache.match_cache_notebook(notebooks[chapter]).data.get("execution_seconds", 0)
                log(f"executed {chapter} in {seconds:.1f} s")
    if failures:
        raise ExecutionError("\n".join(failures))
    return results


def execution_errors(nb) -> list[tuple[int, str, str, str]]:
    """(cell index, cell id, exception name, message) of every error output, as nbgrader validate sees them."""
    return [
        (index, cell.get("id", ""), output.get("ename", ""), output.get("evalue", ""))
        for index, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def executed_chapter(chapter_id: str, jobs: int = 1):
    """``chapters/<chapter_id>.ipynb`` executed with its solutions (an nbformat NotebookNode), from the cache.

    Cells that raised keep their error outputs (see ``execution_errors``).
    """
    path = CHAPTER_DIR / f"{chapter_id}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such chapter")
    nb = nbformat.read(path, as_version=4)
    return execute_chapters({chapter_id: nb}, jobs)[chapter_id]
