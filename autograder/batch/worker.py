"""What runs on a dask worker: its start-up checks, its cache, and the grading task.

* ``WorkerChecks``, a dask ``WorkerPlugin``: when a worker starts (or when a batch
  registers it), the worker checks that its installation matches what the client expects
  (``autograder.batch.environment``: the course's lock, Python, the grader's code) and that
  its sandbox works: ``autograder.grade.sandbox.detect`` (bubblewrap, setpriv, prlimit, each
  kernel's cgroup), then a tiny notebook in a sandboxed kernel (``kernel_check``). Only a
  worker that passes gets the resource ``RESOURCE``, which every task of a batch requires:
  a worker that fails takes no task, and says why (``verdict``, which the client reports).
* ``ReleaseBundles``, a ``WorkerPlugin`` too: the batch's bundles (``autograder.batch.bundles``),
  unpacked into the worker's cache (``cache_root()``) by digest, when the worker starts, with
  each chapter's expected values (``autograder.grade.score``).
* ``grade_task(release_digest, notebook, timestamp)``: one submission. A pure function of
  the release and the submission's bytes: it grades in a scratch folder of its own
  (``autograder.grade.submission.grade_notebook``) and returns plain data and bytes, never
  objects made from the student's data. It writes nothing outside this worker's cache.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import nbformat
from distributed import WorkerPlugin, get_worker

from autograder.batch import bundles, environment
from autograder.grade import sandbox as sandboxes
from autograder.grade.submission import STUDENT, Limits, Task, grade_notebook

RESOURCE = "autograder"  # held by a worker whose checks passed; every task needs one
NOT_CHECKED = "not checked yet"  # a worker's verdict before its checks ran
CACHE_ENV = "AUTOGRADER_WORKER_CACHE"
CHECK_CELL = "import os\nprint('uid', os.getuid())"
EXPECTATIONS = "expectations.json"  # in a release's folder of the cache


# ---------------------------------------------------------------------------
# start-up checks
# ---------------------------------------------------------------------------


@dataclass
class Verdict:
    """A worker's checks: ``problem`` is "" when it grades; ``sandbox`` is how it isolates kernels."""

    problem: str = NOT_CHECKED
    sandbox: sandboxes.Sandbox | None = None


_verdict = Verdict()  # this worker process's


class WorkerChecks(WorkerPlugin):
    """The start-up checks of every worker of a batch (see the module docstring)."""

    name = "autograder-checks"

    def __init__(self, wanted: dict, isolated: bool, memory: int) -> None:
        self.wanted, self.isolated, self.memory = wanted, isolated, memory

    async def setup(self, worker) -> None:
        global _verdict
        try:
            _verdict = await asyncio.get_running_loop().run_in_executor(None, self.check)
        except Exception as error:  # noqa: BLE001 - a check that fails unexpectedly is a refusal too
            _verdict = Verdict(f"its checks failed: {type(error).__name__}: {error}")
        if _verdict.problem:
            worker.log_event("autograder", {"refused": _verdict.problem})
        await worker.set_resources(**{RESOURCE: 0 if _verdict.problem else 1})

    async def teardown(self, worker) -> None:
        await worker.set_resources(**{RESOURCE: 0})

    def check(self) -> Verdict:
        differences = environment.differences(self.wanted)
        if differences:
            return Verdict("its installation differs from the client's: " + "; ".join(differences))
        if not self.isolated:
            return Verdict("")
        try:
            sandbox = sandboxes.detect(self.memory, tempfile.gettempdir())
        except sandboxes.IsolationUnavailable as error:
            return Verdict(str(error))
        problem = kernel_check(sandbox)
        if problem:
            return Verdict(f"a sandboxed kernel does not run here: {problem}", sandbox)
        return Verdict("", sandbox)


def verdict(dask_worker=None) -> Verdict:
    """This worker's verdict (for ``Client.run``)."""
    return _verdict


def kernel_check(sandbox: sandboxes.Sandbox) -> str:
    """Run a one-cell notebook in a sandboxed kernel; returns why it failed ('' when it printed its uid)."""
    from autograder.grade.execute import GuardedExecute
    from autograder.grade.journal import Journal

    folder = Path(tempfile.mkdtemp(prefix="grader-check-"))
    folder.chmod(0o755)
    journal = Journal()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CHECK_CELL)])
    try:
        executor = GuardedExecute(
            timeout=120,
            time_limit=180,
            sandbox=sandbox.for_data(str(folder), sandbox.memory),
            data_dir=str(folder),
            shutdown_kernel="immediate",
        )
        nb, _ = executor.preprocess(nb, {"metadata": {"path": str(folder)}, "autograder": journal})
    except Exception as error:  # noqa: BLE001 - whatever failed, the worker must say it and refuse
        return f"{type(error).__name__}: {str(error).strip()[:300]}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    printed = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    if not printed.startswith("uid "):
        return "; ".join(journal.notes) or f"the kernel printed {printed[:200]!r}"
    return ""


# ---------------------------------------------------------------------------
# the cache
# ---------------------------------------------------------------------------


def cache_root() -> Path:
    """Where this machine's workers unpack bundles and grade: ``$AUTOGRADER_WORKER_CACHE``, or the temp folder.

    The same path on every machine, so that a path in a traceback is the same whichever worker graded.
    """
    root = Path(os.environ.get(CACHE_ENV) or tempfile.gettempdir()) / f"autograder-worker-{os.getuid()}"
    root.mkdir(mode=0o711, parents=True, exist_ok=True)
    return root


class ReleaseBundles(WorkerPlugin):
    """A batch's bundles, unpacked into the cache of every worker as it starts, a restarted one too.

    Dask keeps the plugin on the scheduler and sets it up on each worker that joins: unlike
    scattered data, a release cannot be lost with the workers that held it. With them, each
    chapter's expected values.
    """

    def __init__(self, releases: list[bundles.Bundle], data: list[bundles.Bundle], expectations: dict[str, str]):
        self.releases, self.data, self.expectations = releases, data, expectations
        # one per set of releases: two batches on one cluster keep theirs
        self.name = "autograder-releases-" + bundles.sha256("".join(sorted(b.digest for b in releases)).encode())[:16]

    async def setup(self, worker) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.unpack)

    def unpack(self) -> None:
        root = cache_root()
        for bundle in self.data:
            bundles.unpack(bundle, root / "data").chmod(0o755)  # the kernels' uids read it
        for bundle in self.releases:
            folder = bundles.unpack(bundle, root / "releases")
            if bundle.digest in self.expectations:
                keep(folder / EXPECTATIONS, self.expectations[bundle.digest])


@dataclass(frozen=True)
class Release:
    """A release bundle unpacked in this worker's cache (``ReleaseBundles``)."""

    digest: str
    folder: Path
    data_dir: Path
    settings: dict = field(hash=False, compare=False)

    @classmethod
    def of(cls, digest: str) -> Release:
        folder = cache_root() / "releases" / digest
        if not folder.is_dir():
            raise RuntimeError(f"release {digest[:16]} is not in this worker's cache (its ReleaseBundles plugin)")
        settings = bundles.settings_of(folder)
        return cls(digest, folder, cache_root() / "data" / settings["data"], settings)

    @property
    def chapter(self) -> str:
        return self.settings["chapter"]

    @property
    def source(self) -> Path:
        return self.folder / "source" / self.chapter


def keep(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all."""
    partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


@lru_cache(maxsize=32)
def shown_lines(source: Path) -> tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(secret, public) lines of a chapter's source notebook, for the feedback's redaction, and its rubrics."""
    from autograder.grade.rubric import rubric_texts
    from autograder.plumbing import public_lines, secret_lines

    nb = nbformat.read(source, as_version=4)
    return tuple(secret_lines(nb)), tuple(public_lines(nb)), tuple(rubric_texts(nb).items())


def expectations_of(release: Release):
    """A callable returning the chapter's expectations, from this worker's cache (``ReleaseBundles`` put them);
    read only when the kernel has run (``ScoreTestCells``), never copied by traitlets' configuration."""
    path = release.folder / EXPECTATIONS

    def load() -> dict:
        return json.loads(path.read_text(encoding="utf-8"))

    return load


# ---------------------------------------------------------------------------
# the tasks
# ---------------------------------------------------------------------------


def isolation(settings: dict) -> sandboxes.Sandbox | None:
    """This worker's sandbox for a release graded isolated; None for --unsafe."""
    if not settings["isolated"]:
        return None
    if _verdict.problem or _verdict.sandbox is None:
        worker = get_worker().address if _verdict.problem != NOT_CHECKED else "this worker"
        raise RuntimeError(f"{worker} cannot isolate kernels: {_verdict.problem}")
    return _verdict.sandbox


def grade_task(release_digest: str, notebook: bytes, timestamp: bytes | None) -> dict:
    """Grade one submission (see the module docstring); returns ``autograder.batch.results.Outcome.to_wire()``."""
    scratch = cache_root() / "grading" / f"{release_digest[:16]}-{bundles.sha256(notebook + (timestamp or b''))[:16]}"
    scratch.parent.mkdir(exist_ok=True)
    # the same folder for the same task, so that its paths are the same whichever worker grades it; a task
    # still running from an interrupted batch (its worker not yet gone) has it until it ends
    with open(scratch.parent / f"{scratch.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _grade_in(scratch, release_digest, notebook, timestamp)


def _grade_in(scratch: Path, release_digest: str, notebook: bytes, timestamp: bytes | None) -> dict:
    from autograder.batch.results import Outcome

    here = Release.of(release_digest)
    limits = Limits(**here.settings["limits"])
    sandbox = isolation(here.settings)
    shutil.rmtree(scratch, ignore_errors=True)
    submitted = scratch / "submitted" / STUDENT / here.chapter
    submitted.mkdir(parents=True)
    (scratch / "source").mkdir()
    (scratch / "source" / here.chapter).symlink_to(here.source)
    (submitted / f"{here.chapter}.ipynb").write_bytes(notebook)
    if timestamp is not None:
        (submitted / "timestamp.txt").write_bytes(timestamp)
    secrets, public, rubrics = shown_lines(here.source / f"{here.chapter}.ipynb")
    task = Task(
        root=str(scratch),
        chapter=here.chapter,
        template_db=str(here.folder / bundles.TEMPLATE),
        limits=limits,
        data_dir=str(here.data_dir),
        expectations=expectations_of(here),
        secrets=secrets,
        public=public,
        rubrics=rubrics,
        sandbox=sandbox.for_data(str(here.data_dir), limits.memory) if sandbox else None,
    )
    try:
        graded = grade_notebook(task)
        return Outcome.collect(graded, scratch, here.chapter).to_wire()
    finally:
        sandboxes.remove_folder(scratch)
