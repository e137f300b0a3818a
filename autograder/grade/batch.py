"""``grade``: a batch of submissions in, grades.csv + feedback + the nbgrader gradebook out.

Steps:

1. the course directory is (re)generated for the chapter (``autograder.release``):
   a gradebook holding only the assignment (the template every submission is
   graded in) and the course gradebook ``OUT/gradebook.db``;
2. the submissions are collected (``autograder.grade.collect``); a notebook that
   cannot be read, or cannot be found, or a submission holding a symbolic link, gets 0
   points and a reason right away;
3. each readable notebook is copied to ``submitted/<student>/<chapter>/`` and
   graded by ``autograder.grade.submission.grade_student``, in ``workers`` processes;
4. each result is merged into the course gradebook as it arrives
   (``autograder.gradebook``), then grades.csv is written.

The submissions themselves are only ever read.
"""

from __future__ import annotations

import fcntl
import html
import multiprocessing
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import nbformat
from tqdm import tqdm

from autograder.grade.submission import (
    ATTENTION,
    ERROR,
    MISSING,
    UNREADABLE,
    Limits,
    Result,
    Task,
    grade_student,
    quiet_nbgrader,
)
from autograder.grade import sandbox
from autograder.course import Chapter, CourseDir, UsageError, file_logger
from autograder.release.assignment import add_student_files, generate_assignment, prepare_source
from autograder.grade.report import write_csv
from autograder.grade.rubric import rubric_texts
from autograder.grade.score import ensure_expectations
from autograder.plumbing import ensure_tools_on_path, public_lines, secret_lines
from autograder.grade.collect import Submission, Unreadable, collect, read_notebook

@dataclass
class Batch:
    """The outcome of one ``grade`` run."""

    chapter: str
    course: CourseDir
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0
    protections: list[str] = field(default_factory=list)  # how the kernels were isolated (autograder.grade.sandbox)

    @property
    def attention(self) -> list[Result]:
        return [r for r in self.results if r.status in ATTENTION]

    def by_student(self) -> dict[str, Result]:
        return {r.student: r for r in self.results}


# ---------------------------------------------------------------------------
# preparing the course directory
# ---------------------------------------------------------------------------


def prepare_course(course: CourseDir, chapter: Chapter, log) -> Path:
    """Source, release, template gradebook and course gradebook; returns the template's path."""
    ensure_tools_on_path()
    prepare_source(course, chapter, log)
    work = course.work(chapter.id)
    work.mkdir(parents=True, exist_ok=True)
    empty = course.root / ".work" / "empty-gradebook.db"
    if not empty.exists():  # creating a gradebook takes seconds (alembic); do it once per course folder
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{empty}"):
            pass
    template = work / "template.db"
    shutil.copyfile(empty, template)
    generate_assignment(course, chapter, db_url=f"sqlite:///{template}", log=log)
    if course.db_path.exists():
        from autograder.grade.gradebook import copy_due_date

        generate_assignment(course, chapter, log=log)  # updates the cells, keeps every grade
        copy_due_date(course.db_url, f"sqlite:///{template}", chapter.id)  # late penalties need it
    else:
        shutil.copyfile(template, course.db_path)
    add_student_files(course, chapter)
    return template


def check_paths(submissions: Path, out: Path) -> None:
    submissions, out = submissions.resolve(), out.resolve()
    if not submissions.exists():
        raise UsageError(f"{submissions}: no such folder or zip file")
    if submissions.is_dir() and (out == submissions or submissions in out.parents):
        raise UsageError(f"--out {out} is inside the submissions folder {submissions}; choose another folder")
    working = out / "submitted"  # grade's copies, replaced for every student graded: never the submissions themselves
    if submissions == working or working in submissions.parents:
        raise UsageError(f"{submissions} is the submitted/ folder of --out {out}, which `grade` rewrites; grade it "
                         f"into another course folder (nbgrader collect's folder: --out graded)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")


# ---------------------------------------------------------------------------
# one student
# ---------------------------------------------------------------------------


def _clear_previous(course: CourseDir, student: str, chapter: str) -> None:
    for folder in (course.submitted(student, chapter), course.autograded(student, chapter),
                   course.feedback(student, chapter).parent):
        if folder.exists():
            shutil.rmtree(folder)


def _placeholder_feedback(course: CourseDir, chapter: str, result: Result) -> None:
    """A one-page feedback for a submission that could not be graded."""
    path = course.feedback(result.student, chapter)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
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
    if submission.links:  # never followed (autograder.grade.collect): refused, with where each one points
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
    shutil.copyfile(chosen.path, target)
    for extra in chosen.exchange_files:
        shutil.copyfile(extra, target.parent / extra.name)
    return None, note


# ---------------------------------------------------------------------------
# running the tasks
# ---------------------------------------------------------------------------


def _ready() -> bool:
    return True


class Workers:
    """``n`` grading processes; with ``n == 1`` submissions are graded in this process, in order.

    The processes come from a forkserver that has already imported the grader, and are
    started as soon as the batch begins, while the course directory is being prepared.
    A process that dies (it should not: student code runs in its own kernel process) is
    replaced, and its submissions are graded again once.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> "Workers":
        if self.n > 1:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["autograder.grade.submission"])
            self.pool = ProcessPoolExecutor(max_workers=self.n, mp_context=context)
            for _ in range(self.n):
                self.pool.submit(_ready)
        return self

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def run(self, tasks: list[Task], on_result: Callable[[Result], None]) -> None:
        if self.n <= 1:
            for task in tasks:
                on_result(grade_student(task))
            return
        queue, attempts = list(tasks), {}
        while queue:
            if self.pool is None:
                self.start()
            running: dict[Future, Task] = {self.pool.submit(grade_student, task): task for task in queue}
            queue = []
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    task = running.pop(future)
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        attempts[task.student] = attempts.get(task.student, 0) + 1
                        if attempts[task.student] <= 1:
                            queue.append(task)
                        else:
                            on_result(Result(task.student, ERROR, "grading failed: the grading process crashed twice"))
                        continue
                    on_result(result)
            if queue:
                self.close()


# ---------------------------------------------------------------------------
# the batch
# ---------------------------------------------------------------------------


class Progress:
    """tqdm bar: students done, failed (not gradable or grading failed), and remaining."""

    def __init__(self, total: int, chapter: str, enabled: bool) -> None:
        self.total, self.done, self.failed = total, 0, 0
        self.bar = tqdm(total=total, desc=f"grading {chapter}", unit="student", disable=not enabled,
                        file=sys.stderr, dynamic_ncols=True)
        self._show()

    def _show(self) -> None:
        remaining = self.total - self.done - self.failed
        self.bar.set_postfix_str(f"done {self.done}, failed {self.failed}, remaining {remaining}")

    def update(self, result: Result) -> None:
        if result.status in (UNREADABLE, MISSING, ERROR):
            self.failed += 1
        else:
            self.done += 1
        self._show()
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def grade(
    chapter: Chapter,
    submissions: Path,
    out: Path,
    workers: int = 1,
    limits: Limits = Limits(),
    library: str = "student",
    progress: bool = True,
    unsafe: bool = False,
) -> Batch:
    """Grade every submission of ``chapter`` found in ``submissions``; see the module docstring.

    Each kernel runs isolated (``autograder.grade.sandbox``); without the tools for that, ``grade``
    refuses (``UsageError``) unless ``unsafe``: then kernels run as plain processes.

    The kernels import the release's student edition of ``solutions`` (``autograder.release.student_edition``),
    the only ``library`` there is: with the installed, full package a submission could import
    the reference answers (``from solutions.activations import relu``).
    """
    started = time.monotonic()
    if workers < 1:
        raise UsageError(f"--workers {workers}: must be at least 1")
    if library != "student":
        raise UsageError(f"--library {library}: the only choice is 'student' (the release's student edition "
                         "of `solutions`); the full library would give the students' code the reference answers")
    check_paths(submissions, out)
    isolation = None if unsafe else sandbox.detect(limits.memory, str(_data_dir()))
    if isolation is None:
        print("warning: grading without isolation (--unsafe): student code runs with the grader's rights",
              file=sys.stderr)
    course = CourseDir(out.resolve())
    course.create()
    with _exclusive(course):
        pool = Workers(workers).start()  # the workers start up while the course directory is prepared
        try:
            batch = _grade_with(pool, chapter, submissions, course, limits, progress, isolation)
        finally:
            pool.close()
    batch.results.sort(key=lambda r: r.student)
    write_csv(course.grades_csv, chapter.id, batch.results)
    shutil.rmtree(course.work(chapter.id) / "unzipped", ignore_errors=True)
    batch.seconds = time.monotonic() - started
    return batch


@contextmanager
def _exclusive(course: CourseDir):
    """One `grade` at a time per course directory (they would write the same gradebook)."""
    with open(course.root / ".grading.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"{course.root}: another `grade` is running on this course directory") from None
        yield


def _grade_with(pool: Workers, chapter: Chapter, submissions: Path, course: CourseDir, limits: Limits,
                progress: bool, isolation: sandbox.Sandbox | None = None) -> Batch:
    from nbgrader.api import Gradebook

    from autograder.grade.gradebook import max_code_score, merge, remember_lms_user_id

    log = file_logger("autograder.grade", course.root / "logs" / chapter.id / "_batch.log")
    with quiet_nbgrader():
        template = prepare_course(course, chapter, log)
        max_score = max_code_score(f"sqlite:///{template}", chapter.id)
    source_nb = nbformat.read(chapter.path, as_version=4)
    secrets, public = tuple(secret_lines(source_nb)), tuple(public_lines(source_nb))
    rubrics = tuple(rubric_texts(source_nb).items())
    data_dir = str(_data_dir())
    expectations = ensure_expectations(chapter.path, course.work(chapter.id), log)

    found = collect(submissions, course.work(chapter.id) / "unzipped")
    batch = Batch(chapter.id, course, protections=sandbox.protections(isolation, sandbox.cpu_seconds(limits.time_limit)))
    for line in batch.protections:
        log.info("isolation: %s", line)
    bar = Progress(len(found), chapter.id, progress)
    gradebook = Gradebook(course.db_url)

    def record(result: Result) -> None:
        result.max_score = max_score
        if result.status in (UNREADABLE, MISSING, ERROR):
            result.score = 0.0
            _placeholder_feedback(course, chapter.id, result)
        merge(gradebook, chapter.id, result)
        batch.results.append(result)
        bar.update(result)
        log.info("%s: %s %g/%g %s", result.student, result.status, result.score, result.max_score, result.reason)

    try:
        tasks = []
        for submission in found:
            remember_lms_user_id(gradebook, submission.student, submission.lms_user_id)
            early, note = triage(submission, course, chapter.id)
            if early is not None:
                record(early)
                continue
            tasks.append(Task(
                root=str(course.root), chapter=chapter.id, student=submission.student, template_db=str(template),
                limits=limits, data_dir=data_dir, secrets=secrets, public=public, note=note,
                expectations=str(expectations), sandbox=isolation, rubrics=rubrics,
            ))
        pool.run(tasks, record)
    finally:
        bar.close()
        gradebook.close()
    return batch


def _data_dir() -> Path:
    from solutions.data import data_dir

    return data_dir()
