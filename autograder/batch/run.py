"""``grade``: submissions in, grades.csv + feedback + the nbgrader gradebook out, graded on a dask cluster.

Steps:

1. the cluster starts (``autograder.batch.cluster``: a LocalCluster, or the workers of an
   existing scheduler, each checking its environment and its sandbox) while the
   submissions are collected (``autograder.batch.collect``) and, for each chapter found,
   the course directory is (re)generated (``prepare_course``: source, release, a gradebook
   holding only the assignment, the course gradebook ``OUT/gradebook.db``) and packed into
   content-addressed bundles (``autograder.batch.bundles``), with the chapter's expected
   values from its reference run (``autograder.release.reference_run``: kept in
   jupyter-cache, which the release's leak probe filled);
2. a notebook that cannot be read, or cannot be found, or a submission holding a symbolic
   link, gets 0 points and a reason right away (``triage``); each readable one is copied to
   ``submitted/<student>/<chapter>/``;
3. a notebook whose result is stored (``autograder.batch.results``: same release, same
   bytes) is not graded again; the others become one task each on the cluster
   (``autograder.batch.worker.grade_task``), one per distinct notebook;
4. the client, the only writer, takes each result as it arrives: it stores it, writes the
   student's files, merges the grades into the course gradebook
   (``autograder.batch.gradebook``), and at the end writes grades.csv.

The submissions themselves are only ever read.
"""

from __future__ import annotations

import fcntl
import html
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch import bundles
from autograder.batch.cluster import ALLOWED_FAILURES, Cluster, connect
from autograder.batch.collect import Submission, Unreadable, collect, read_notebook
from autograder.batch.dispatch import Prepared, Work, outcomes
from autograder.batch.environment import expected
from autograder.batch.progress import Progress
from autograder.batch.report import write_csv
from autograder.batch.results import Outcome, ResultStore, result_key, submission_digest, write_files
from autograder.batch.worker import WorkerChecks
from autograder.course import ROOT, Chapter, ClusterLost, CourseDir, UsageError, file_logger
from autograder.grade import sandbox
from autograder.grade.score import expectations_of
from autograder.grade.submission import ATTENTION, ERROR, MISSING, UNREADABLE, Limits, Result, quiet_nbgrader
from autograder.plumbing import ensure_tools_on_path
from autograder.release import reference_run
from autograder.release.assignment import add_student_files, chapter_data_files, generate_assignment, prepare_source


@dataclass
class Batch:
    """The outcome of one ``grade`` run."""

    chapters: list[str]
    course: CourseDir
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    protections: list[str] = field(default_factory=list)  # how the kernels were isolated (autograder.grade.sandbox)
    refused: dict[str, str] = field(default_factory=dict)  # worker -> why it took no task (autograder.batch.worker)
    reused: list[tuple[str, str]] = field(default_factory=list)  # (chapter, student): result stored by an earlier run
    graded: int = 0  # distinct notebooks graded by this run (identical submissions are graded once)
    unmatched: list[str] = field(
        default_factory=list
    )  # a whole course: students with no notebook named after a chapter
    writing: float = 0.0  # seconds the client spent keeping results and writing them (files, gradebook)

    @property
    def chapter(self) -> str:
        return ", ".join(self.chapters)

    @property
    def attention(self) -> list[Result]:
        return [r for r in self.results if r.status in ATTENTION]

    def by_student(self, chapter: str | None = None) -> dict[str, Result]:
        return {r.student: r for r in self.results if chapter in (None, r.chapter)}


# ---------------------------------------------------------------------------
# preparing the course directory
# ---------------------------------------------------------------------------


def prepare_course(course: CourseDir, chapter: Chapter, log) -> Path:
    """Source, release, template gradebook and course gradebook; returns the template's path."""
    ensure_tools_on_path()
    prepare_source(course, chapter, log)
    work = course.work(chapter.id)
    work.mkdir(parents=True, exist_ok=True)
    template = work / "template.db"
    shutil.copyfile(empty_gradebook(), template)
    generate_assignment(course, chapter, db_url=f"sqlite:///{template}", log=log)
    if course.db_path.exists():
        from autograder.batch.gradebook import copy_due_date

        generate_assignment(course, chapter, log=log)  # updates the cells, keeps every grade
        copy_due_date(course.db_url, f"sqlite:///{template}", chapter.id)  # late penalties need it
    else:
        shutil.copyfile(template, course.db_path)
    add_student_files(course, chapter)
    return template


def empty_gradebook() -> Path:
    """A gradebook with no assignment, made by nbgrader once per version of nbgrader on this machine.

    Making one takes seconds (nbgrader runs alembic in a subprocess), at the start of every
    ``grade`` into a new course folder, while the workers wait for their first task.
    """
    import nbgrader
    from nbgrader.api import Gradebook

    empty = ROOT / "_build" / ".gradebooks" / f"empty-nbgrader-{nbgrader.__version__}.db"
    if not empty.exists():
        empty.parent.mkdir(parents=True, exist_ok=True)
        partial = empty.with_suffix(f".{os.getpid()}.partial")
        partial.unlink(missing_ok=True)
        with Gradebook(f"sqlite:///{partial}"):
            pass
        partial.replace(empty)
    return empty


def check_paths(submissions: Path, out: Path) -> None:
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.exists():
        raise UsageError(f"{submissions}: no such folder or zip file")
    if submissions.is_dir() and (out == submissions or submissions in out.parents):
        raise UsageError(f"--out {out} is inside the submissions folder {submissions}; choose another folder")
    working = out / "submitted"  # grade's copies, replaced for every student graded: never the submissions themselves
    if submissions == working or working in submissions.parents:
        raise UsageError(
            f"{submissions} is the submitted/ folder of --out {out}, which `grade` rewrites; grade it "
            f"into another course folder (nbgrader collect's folder: --out graded)"
        )
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")


# ---------------------------------------------------------------------------
# one student
# ---------------------------------------------------------------------------


def _clear_previous(course: CourseDir, student: str, chapter: str) -> None:
    for folder in (
        course.submitted(student, chapter),
        course.autograded(student, chapter),
        course.feedback(student, chapter).parent,
    ):
        if folder.exists():
            shutil.rmtree(folder)


def _placeholder_feedback(course: CourseDir, chapter: str, result: Result) -> None:
    """A one-page feedback for a submission that could not be graded."""
    path = course.feedback(result.student, chapter)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>'
        f"{html.escape(chapter)}</title></head><body>\n<h1>{html.escape(chapter)}</h1>\n"
        f"<p>Score: {result.score:g} / {result.max_score:g}</p>\n"
        f"<p>Your submission could not be graded: {html.escape(result.reason)}.</p>\n"
        "<p>Submit the notebook of the release, saved from JupyterLab, under its original name.</p>\n"
        "</body></html>\n",
        encoding="utf-8",
    )


def triage(submission: Submission, course: CourseDir, chapter: str) -> tuple[Result | None, str]:
    """Place a readable notebook in ``submitted/``; or return the result of an ungradable submission."""
    _clear_previous(course, submission.student, chapter)
    if submission.links:  # never followed (autograder.batch.collect): refused, with where each one points
        return Result(submission.student, UNREADABLE, "; ".join(submission.links)), ""
    chosen, note = submission.choose(chapter)
    if chosen is None:
        return Result(submission.student, MISSING, note), ""
    try:
        read_notebook(chosen)
    except Unreadable as why:
        reason = f"unreadable notebook: {why}"
        if note:
            reason += f" ({note})"
        return Result(submission.student, UNREADABLE, reason), ""
    target = course.submitted(submission.student, chapter) / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    assert chosen.path is not None  # read_notebook refuses a file without a readable copy
    shutil.copyfile(chosen.path, target)
    for extra in chosen.exchange_files:
        shutil.copyfile(extra, target.parent / extra.name)
    return None, note


# ---------------------------------------------------------------------------
# the chapters
# ---------------------------------------------------------------------------


def prepare_chapter(course: CourseDir, chapter: Chapter, limits: Limits, isolated: bool, log) -> Prepared:
    """The chapter's course directory (``prepare_course``), packed into the bundles its tasks read."""
    from autograder.batch.gradebook import max_code_score

    with quiet_nbgrader():
        template = prepare_course(course, chapter, log)
        max_score = max_code_score(f"sqlite:///{template}", chapter.id)
    data_dir = _data_dir()
    data = bundles.pack_data(
        [data_dir / path.name for path in chapter_data_files(chapter) if (data_dir / path.name).is_file()]
    )
    release = bundles.pack_release(course, chapter, template, {"limits": limits.to_json(), "isolated": isolated}, data)
    expected = expectations_of(reference_run.executed(chapter.path, log.info))  # cached: the release's probe ran it
    return Prepared(chapter, release, data, max_score, expected)


def plan(
    found: list[Submission], chapters: list[Chapter], whole_course: bool
) -> tuple[list[tuple[Chapter, Submission]], list[str]]:
    """Which submission is graded for which chapter, and the students none of whose notebooks is a chapter's.

    One chapter: every student who submitted anything (``triage`` picks the notebook). A whole
    course: for each chapter, the students who submitted a notebook named ``<chapter>.ipynb``.
    """
    if not whole_course:
        return [(chapters[0], submission) for submission in found], []
    pairs = [
        (chapter, submission)
        for chapter in chapters
        for submission in found
        if submission.choose(chapter.id)[1] == "" and submission.choose(chapter.id)[0] is not None
    ]
    matched = {submission.student for _, submission in pairs}
    return pairs, [submission.student for submission in found if submission.student not in matched]


# ---------------------------------------------------------------------------
# the batch
# ---------------------------------------------------------------------------


def grade(
    chapters: Chapter | list[Chapter],
    submissions: Path,
    out: Path,
    workers: int = 1,
    limits: Limits = Limits(),
    library: str = "student",
    progress: bool = True,
    unsafe: bool = False,
    scheduler: str | None = None,
) -> Batch:
    """Grade the submissions of ``chapters`` found in ``submissions``; see the module docstring.

    ``chapters``: one ``Chapter`` (every student who submitted anything gets a row; the only
    notebook a student submitted is graded whatever its name), or a list of them, a whole
    course (each chapter's row for each student who submitted ``<chapter>.ipynb``; only the
    chapters found are prepared).

    The tasks run on a LocalCluster of ``workers`` processes, or on the cluster of the dask
    scheduler at ``scheduler``. Each kernel runs isolated (``autograder.grade.sandbox``); a
    worker without the tools for that takes no task, and with no worker left ``grade``
    refuses (``UsageError``), unless ``unsafe``: then kernels run as plain processes.

    The kernels import the release's student edition of ``solutions``
    (``autograder.release.student_edition``), the only ``library`` there is: with the
    installed, full package a submission could import the reference answers.
    """
    started = time.monotonic()
    whole_course = not isinstance(chapters, Chapter)
    chapters = [chapters] if isinstance(chapters, Chapter) else list(chapters)
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if library != "student":
        raise UsageError(
            f"--library {library}: the only choice is 'student' (the release's student edition "
            "of `solutions`); the full library would give the students' code the reference answers"
        )
    check_paths(submissions, out)
    if unsafe:
        print(
            "warning: grading without isolation (--unsafe): student code runs with the grader's rights", file=sys.stderr
        )
    course = CourseDir(out.resolve())
    course.create()
    batch = Batch([], course)
    checks = WorkerChecks(expected(), isolated=not unsafe, memory=limits.memory)
    with _exclusive(course), _interruptible(), _starting(workers, scheduler, checks) as starting:
        try:
            _grade_with(batch, starting, chapters, whole_course, submissions, limits, progress, unsafe)
        finally:
            for chapter in batch.chapters:  # also when the batch stopped: the rows of what was done
                rows = sorted((r for r in batch.results if r.chapter == chapter), key=lambda r: r.student)
                if rows:
                    write_csv(course.grades_csv, chapter, rows)
            shutil.rmtree(course.root / ".work" / "unzipped", ignore_errors=True)
    batch.results.sort(key=lambda r: (r.chapter, r.student))
    batch.seconds = time.monotonic() - started
    return batch


_ctrl_c = threading.Event()


@contextmanager
def _interruptible():
    """Ctrl-C stops the batch, at the latest after the next result: Python drops a KeyboardInterrupt that
    lands in a finalizer (e.g. a weakref callback of dask's), and the batch would go on."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _ctrl_c.clear()

    def pressed(signum, frame):
        _ctrl_c.set()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, pressed)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _starting(workers: int, scheduler: str | None, checks: WorkerChecks):
    """The cluster, started in the background (``Future[Cluster]``), closed at the end."""
    with ThreadPoolExecutor(1, thread_name_prefix="cluster") as pool:
        starting = pool.submit(connect, workers, scheduler, checks)
        try:
            yield starting
        finally:
            try:
                starting.result().close()
            except BaseException:  # noqa: BLE001 - it failed to start: there is nothing to close
                pass


@contextmanager
def _exclusive(course: CourseDir):
    """One `grade` at a time per course directory (they would write the same gradebook)."""
    with open(course.root / ".grading.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{course.root}: another `grade` is running on this course directory") from None
        yield


def _grade_with(
    batch: Batch,
    starting: Future,
    chapters: list[Chapter],
    whole_course: bool,
    submissions: Path,
    limits: Limits,
    progress: bool,
    unsafe: bool,
) -> None:
    from nbgrader.api import Gradebook

    from autograder.batch.gradebook import merge, remember_lms_user_id

    course = batch.course
    found = collect(submissions, course.root / ".work" / "unzipped")
    pairs, batch.unmatched = plan(found, chapters, whole_course)
    if whole_course and not pairs:
        raise UsageError(
            f"{submissions}: no notebook is named after a chapter ({', '.join(f'{c.id}.ipynb' for c in chapters)})"
        )
    logs = {
        c.id: file_logger(f"autograder.grade.{c.id}", course.root / "logs" / c.id / "_batch.log")
        for c in chapters
        if not whole_course or any(c == chapter for chapter, _ in pairs)
    }
    prepared = {c.id: prepare_chapter(course, c, limits, not unsafe, logs[c.id]) for c in chapters if c.id in logs}
    batch.chapters = list(prepared)
    cluster: Cluster = starting.result()  # no worker can grade: UsageError, before anything is graded
    batch.refused = dict(cluster.refused)
    kernels = None if unsafe else next(iter(cluster.ready.values()))
    batch.protections = sandbox.protections(kernels, sandbox.cpu_seconds(limits.time_limit))
    for log in logs.values():
        for line in batch.protections:
            log.info("isolation: %s", line)
        for worker, why in batch.refused.items():
            log.warning("worker %s refused to grade: %s", worker, why)
    if cluster.allowed_failures != ALLOWED_FAILURES:
        print(
            f"note: {cluster.address} runs a task again {cluster.allowed_failures} times when its worker dies "
            "(set DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1 where the scheduler starts)",
            file=sys.stderr,
        )

    store, gradebook = ResultStore(course.root / ".work" / "results"), Gradebook(course.db_url)
    bar: Progress | None = None

    def record(result: Result) -> None:
        result.max_score = prepared[result.chapter].max_score
        if result.status in (UNREADABLE, MISSING, ERROR):
            result.score = 0.0
            _placeholder_feedback(course, result.chapter, result)
        merge(gradebook, result.chapter, result)
        batch.results.append(result)
        if bar is not None:
            bar.update(result)
        logs[result.chapter].info(
            "%s: %s %g/%g %s", result.student, result.status, result.score, result.max_score, result.reason
        )

    waiting: dict[str, list[tuple[str, str, str]]] = {}  # result key -> (chapter, student, note) of each submitter

    def deliver(key: str, outcome: Outcome) -> None:
        for chapter, student, note in waiting.pop(key):
            write_files(course, chapter, student, outcome)
            record(
                outcome.graded.result(
                    student, chapter, note, str(course.log(student, chapter).relative_to(course.root))
                )
            )

    work: dict[str, Work] = {}
    try:
        for submission in found:
            remember_lms_user_id(gradebook, submission.student, submission.lms_user_id)
        for chapter, submission in pairs:
            early, note = triage(submission, course, chapter.id)
            if early is not None:
                early.chapter = chapter.id
                record(early)
                continue
            folder = course.submitted(submission.student, chapter.id)
            notebook = (folder / f"{chapter.id}.ipynb").read_bytes()
            timestamp = (folder / "timestamp.txt").read_bytes() if (folder / "timestamp.txt").is_file() else None
            key = result_key(prepared[chapter.id].release.digest, submission_digest(notebook, timestamp))
            waiting.setdefault(key, []).append((chapter.id, submission.student, note))
            work[key] = Work(chapter.id, notebook, timestamp)
        for key in list(work):
            stored = store.get(key)
            if stored is not None:
                batch.reused += [(chapter, student) for chapter, student, _ in waiting[key]]
                del work[key]
                deliver(key, stored)
        bar = Progress(len(pairs), list(batch.results), batch.chapter, progress)
        for key, outcome in outcomes(cluster, work, prepared):
            started = time.perf_counter()
            store.put(key, outcome)
            batch.graded += 1
            deliver(key, outcome)
            batch.writing += time.perf_counter() - started
            if _ctrl_c.is_set():  # its KeyboardInterrupt was lost (see _interruptible)
                raise KeyboardInterrupt
    except ClusterLost as lost:
        graded = len(batch.results)
        raise ClusterLost(
            f"{lost}; {graded} of {len(pairs)} notebooks are done and kept in {store.root}: run the same "
            "command again to grade the rest"
        ) from None
    finally:
        if bar is not None:
            bar.close()
        gradebook.close()


def _data_dir() -> Path:
    from solutions.data import data_dir

    return data_dir()
