"""The reference run: each chapter executed once, with its reference answers, kept in jupyter-cache.

A chapter's source notebook runs in a trusted kernel, with the full ``solutions`` library,
in its *trusted form*: every test cell in expect form (``autograder.grade.seal``: each
check records its name, kind and arguments as data, then runs), and after each answer cell
a cell that records the calls of its graded answers (``autograder.runtime.probe.watch``).
That one execution serves everything that needs the chapter run:

* the website's outputs and figures (``source_view``: the notebook as written, with the
  run's outputs; the records and the added cells taken out);
* the proof that the chapter runs top to bottom and its reference earns every point
  (``errors``: no cell raised, so every check passed);
* sealed scoring's expected values (``expectations``);
* the leak probe's inputs (``visible_calls``: the graded answers' calls that visible checks use).

The executed notebook is kept in jupyter-cache (``_build/.jupyter_cache``), whose key is the
notebook's code cells and kernelspec, plus ``course_library``: a fingerprint of everything
else the outputs depend on (``LIBRARY``, and the Python and NumPy versions). So a prose edit
never runs a chapter again, and two processes (the website build, test workers) never run
the same chapter twice: one runs it, under a lock of its own, the others wait and read it.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import platform
from pathlib import Path

import nbformat
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.cache.main import JupyterCacheBase

from autograder.course import ROOT
from autograder.plumbing import is_answer_cell, is_test_cell

CACHE_DIR = ROOT / "_build" / ".jupyter_cache"
RUNS_DIR = ROOT / "_build" / ".reference_runs"  # the trusted forms jupyter-cache knows by path; the kernels' cwd
#: files and folders the chapters' outputs depend on besides the notebook (missing ones are skipped)
LIBRARY = ("solutions", "autograder/runtime", "autograder/checks.py", "autograder/probe.py", "data")
CELL_TIMEOUT = 600  # seconds one cell may run (CHAPTERS.md: a whole chapter takes <= 150 s)
CACHE_LIMIT = 60  # executed notebooks kept (least recently used go first): a few versions of each chapter
RUN_VERSION = "4"  # bump to run everything again after a change of how chapters run
FINGERPRINT_KEY = "course_library"
ADDED = "autograder_added"  # metadata of the cells the trusted form adds
WATCH = "import autograder.probe as _autograder_probe\n_autograder_probe.watch(globals(), {names!r})"
BLAS_THREADS = {
    name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
}


class ReferenceRunError(RuntimeError):
    """A chapter that could not be run; the message names the chapter and the problem."""


# ---------------------------------------------------------------------------
# the trusted form and back
# ---------------------------------------------------------------------------


def trusted_form(source_nb):
    """The source notebook with its test cells in expect form and each answer cell's graded answers watched."""
    from autograder.grade.score import expect_notebook
    from autograder.release.student_edition import graded_definitions

    nb = expect_notebook(source_nb)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        names = sorted(graded_definitions(nbformat.v4.new_notebook(cells=[cell]))) if is_answer_cell(cell) else []
        if names:
            watch = nbformat.v4.new_code_cell(WATCH.format(names=names))
            watch.metadata[ADDED] = "watch"
            watch.id = f"{cell.get('id', 'cell')}-watch"[:64]
            cells.append(watch)
    nb.cells = cells
    return nb


def source_view(executed, source_nb):
    """The source notebook as written, with the outputs of its reference run (records and added cells out)."""
    from autograder.runtime.probe import CALL_MIME, RECORD_MIME

    nb = copy.deepcopy(source_nb)
    ran = [cell for cell in executed.cells if ADDED not in cell.metadata]
    if len(ran) != len(nb.cells):
        raise ReferenceRunError(f"the reference run has {len(ran)} cells, the notebook {len(nb.cells)}")
    for cell, run in zip(nb.cells, ran, strict=True):
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in run.get("outputs", []) if not {RECORD_MIME, CALL_MIME} & set(o.get("data") or {})
            ]
            cell.execution_count = run.get("execution_count")
    return nb


def errors(executed) -> list[tuple[int, str, str, str]]:
    """(cell index, cell id, exception, message) of every cell that raised in the reference run."""
    return [
        (index, cell.get("id", ""), output.get("ename", ""), output.get("evalue", ""))
        for index, cell in enumerate(c for c in executed.cells if ADDED not in c.metadata)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


# ---------------------------------------------------------------------------
# the cache
# ---------------------------------------------------------------------------


def library_fingerprint() -> str:
    """SHA-256 of the files of ``LIBRARY`` (paths and bytes) and of the Python and NumPy versions."""
    import numpy

    digest = hashlib.sha256(f"{RUN_VERSION} {platform.python_version()} {numpy.__version__}".encode())
    for name in LIBRARY:
        path = ROOT / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path] if path.is_file() else []
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(f"\0{file.relative_to(ROOT).as_posix()}\0".encode() + file.read_bytes())
    return digest.hexdigest()


#: the cell metadata the key covers: what a run depends on (the graded cells' ids, the added cells), never what
#: a run writes (nbclient's ``execution`` timings would make every run a new key)
HASHED_CELL_METADATA = ("nbgrader", ADDED)


class ReferenceCache(JupyterCacheBase):
    """jupyter-cache whose key also covers the library fingerprint (as notebook metadata it hashes), and of the
    cells' metadata only ``HASHED_CELL_METADATA``."""

    def __init__(self, path: Path, fingerprint: str):
        super().__init__(str(path))
        self.fingerprint = fingerprint

    def create_hashed_notebook(self, nb, nb_metadata=("kernelspec",), cell_metadata=HASHED_CELL_METADATA):
        nb = copy.copy(nb)
        nb.metadata = nbformat.from_dict({**nb.metadata, FINGERPRINT_KEY: self.fingerprint})
        keys = None if nb_metadata is None else (*nb_metadata, FINGERPRINT_KEY)
        return super().create_hashed_notebook(nb, keys, cell_metadata)


def _cache() -> ReferenceCache:
    cache = ReferenceCache(CACHE_DIR, library_fingerprint())
    if cache.get_cache_limit() != CACHE_LIMIT:
        cache.change_cache_limit(CACHE_LIMIT)
    return cache


@contextlib.contextmanager
def _lock(name: str):
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    with open(RUNS_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cached_run(nb):
    """The notebook with the cached outputs merged in, or None (under the database's lock)."""
    with _lock("database"):
        try:
            return _cache().merge_match_into_notebook(nb)[1]
        except KeyError:
            return None


def _run(nb, where: Path) -> float:
    """Execute ``nb`` in a trusted kernel in ``where`` (every cell, even after an error); seconds taken."""
    import time

    from nbclient import NotebookClient

    from autograder.grade import kernel as kernels

    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(where)}}
    )
    client.km = client.create_kernel_manager()
    sockets = kernels.use_private_sockets(client.km)
    options = kernels.launch_options(None, None)
    options["env"].update(BLAS_THREADS)
    options["env"].pop("MPLBACKEND", None)  # figures must become outputs
    try:
        client.execute(**options)
    finally:
        kernels.remove_sockets(sockets)
    return time.perf_counter() - start


def executed(source: Path, log=None):
    """The trusted form of the notebook at ``source``, executed (from the cache, or run now and kept)."""
    source = Path(source).resolve()
    if not source.is_file():
        raise ReferenceRunError(f"{source}: no such notebook")
    trusted = trusted_form(nbformat.read(source, as_version=4))
    found = cached_run(trusted)
    if found is not None:
        return found
    name = f"{source.stem}-{hashlib.sha256(str(source).encode()).hexdigest()[:8]}"
    with _lock(name):  # one process runs it; the others wait here, then find it
        found = cached_run(trusted)
        if found is not None:
            return found
        if log:
            log(f"running {source.name} with its reference answers")
        path = RUNS_DIR / f"{name}.ipynb"
        nbformat.write(trusted, path)
        seconds = _run(trusted, RUNS_DIR)
        with _lock("database"):
            _cache().cache_notebook_bundle(
                CacheBundleIn(trusted, str(path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
        if log:
            log(f"ran {source.name} in {seconds:.1f} s")
        return trusted


# ---------------------------------------------------------------------------
# what the run gives
# ---------------------------------------------------------------------------


def expectations(executed_nb) -> dict[str, list[dict]]:
    """Sealed scoring's expected values: each test cell's checks, as data (``autograder.grade.score``)."""
    from autograder.grade.score import expectations_of

    return expectations_of(executed_nb)


def visible_calls(executed_nb) -> dict[str, list[dict]]:
    """{answer: [call, ...]} sent by the visible checks (the leak probe's inputs; duplicates dropped)."""
    import json

    from autograder.runtime.probe import CALL_MIME

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
