"""Grading one student's notebook: nbgrader autograde + feedback, in a gradebook of its own.

``grade_student(task)`` is what each worker process runs. It copies a gradebook
that holds only the assignment (no students) and runs nbgrader's ``Autograde``
converter, with the preprocessors of ``autograder.grade.sanitize``, ``.execute``, ``.seal``, ``.score``
(and ``.rubric``, which puts each written question's model answer and rubric under the
answer for formgrader), and then
``autograder.grade.feedback.FeedbackGenerator``. Because every submission writes to a
gradebook of its own, workers never contend for a database, and a grade never
depends on which worker graded it, in which order, or on an earlier run. The
caller merges the result into the course's gradebook (``autograder.gradebook``).
"""

from __future__ import annotations

import _thread
import shutil
import threading
import time
import traceback
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.converters.base import NbGraderException
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    IgnorePattern,
    LimitOutput,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from sqlalchemy.exc import SAWarning
from traitlets import Instance, List

from autograder.course import CourseDir, file_logger, nbgrader_config
from autograder.grade.feedback import FeedbackGenerator
from autograder.grade.execute import GuardedExecute
from autograder.grade.journal import Journal
from autograder.grade.rubric import AddRubrics
from autograder.grade.sanitize import DeduplicateGradeIds, FlagInstructorMarkers, RestoreCells
from autograder.grade.score import ScoreTestCells
from autograder.grade.seal import SealTestCells

# statuses; the last three need the instructor's attention
GRADED, FLAGGED, UNREADABLE, MISSING, ERROR = "graded", "flagged", "unreadable", "missing", "error"
ATTENTION = (FLAGGED, UNREADABLE, MISSING, ERROR)


@dataclass(frozen=True)
class Limits:
    """What a submission may use. Defaults suit the course: chapters run in <= 150 s."""

    cell_timeout: int = 300  # seconds per cell
    time_limit: float = 900.0  # seconds for the whole notebook
    max_output_chars: int = 100_000  # per cell
    memory: int = 4 * 2**30  # bytes of address space of each kernel process (sandboxed kernels)


@dataclass(frozen=True)
class Task:
    root: str
    chapter: str
    student: str
    template_db: str
    limits: Limits
    data_dir: str
    secrets: tuple[str, ...] = ()
    public: tuple[str, ...] = ()
    note: str = ""  # e.g. "graded foo.ipynb (expected 03_activations.ipynb)"
    sandbox: object = None  # autograder.grade.sandbox.Sandbox isolating the kernel; None: --unsafe
    expectations: str = ""  # the chapter's expectations.json (autograder.grade.score)
    rubrics: tuple[tuple[str, str], ...] = ()  # (grade id, model answer and rubric) of each written answer


@dataclass
class Result:
    student: str
    status: str
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    grades: dict[str, dict] = field(default_factory=dict)  # grade_id -> auto_score, max_score, needs_manual_grade, cell_type
    comments: dict[str, str | None] = field(default_factory=dict)
    timestamp: str | None = None  # from nbgrader's timestamp.txt, when the submission had one
    late_penalty: float | None = None
    seconds: float = 0.0

    @property
    def cell_scores(self) -> dict[str, float]:
        """Points of each autograded test cell."""
        return {name: g["auto_score"] or 0.0 for name, g in self.grades.items() if g["cell_type"] == "code"}


class Autograder(Autograde):
    """nbgrader's Autograde with the autograder's preprocessors and a journal per submission."""

    sanitize_preprocessors = List(
        [FlagInstructorMarkers, ClearOutput, DeduplicateGradeIds, OverwriteKernelspec, RestoreCells, CheckCellMetadata]
    ).tag(config=True)
    autograde_preprocessors = List(
        [SealTestCells, GuardedExecute, ScoreTestCells, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
         SaveAutoGrades, AssignLatePenalties, CheckCellMetadata, AddRubrics]
    ).tag(config=True)
    journal = Instance(Journal, args=())

    def init_single_notebook_resources(self, notebook_filename):
        resources = super().init_single_notebook_resources(notebook_filename)
        resources["autograder"] = self.journal
        return resources

    def convert_single_notebook(self, notebook_filename):
        try:
            super().convert_single_notebook(notebook_filename)
        except Exception as error:
            self.journal.failure = describe(error)
            raise


@contextmanager
def quiet_nbgrader():
    """nbgrader's gradebook code makes SQLAlchemy 2 warn about autoflush; the warnings are harmless."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)
        yield


def describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300]}" if text else type(error).__name__


def _configure(course: CourseDir, task: Task, db: Path, log_path: Path):
    config = nbgrader_config(course, task.chapter, task.student, db_url=f"sqlite:///{db}")
    config.BaseConverter.force = True
    config.GuardedExecute.timeout = task.limits.cell_timeout
    config.GuardedExecute.time_limit = task.limits.time_limit
    config.GuardedExecute.max_output_chars = task.limits.max_output_chars
    config.GuardedExecute.data_dir = task.data_dir
    config.GuardedExecute.kernel_log = str(log_path)
    config.GuardedExecute.sandbox = task.sandbox
    config.GuardedExecute.shutdown_kernel = "immediate"  # a graded kernel has nothing to save: kill it at once
    config.ScoreTestCells.expectations_file = task.expectations
    config.HideHiddenTests.secrets = list(task.secrets)
    config.HideHiddenTests.public = list(task.public)
    config.AddRubrics.rubrics = dict(task.rubrics)
    return config, CourseDirectory(config=config)


def read_grades(db: Path, chapter: str, student: str, result: Result) -> None:
    with Gradebook(f"sqlite:///{db}") as gb:
        notebook = gb.find_submission_notebook(chapter, chapter, student)
        submission = gb.find_submission(chapter, student)
        result.timestamp = submission.timestamp.isoformat() if submission.timestamp else None
        result.late_penalty = notebook.late_submission_penalty
        grades = {
            g.name: {
                "auto_score": g.auto_score,
                "max_score": float(g.max_score),
                "needs_manual_grade": bool(g.needs_manual_grade),
                "cell_type": g.cell_type,
            }
            for g in notebook.grades
        }
        result.grades = grades
        result.comments = {c.name: c.auto_comment for c in notebook.comments}


class _FailSafe:
    """Interrupts the worker if nbgrader itself hangs well past the notebook's time limit."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        _thread.interrupt_main()

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()


KERNEL_START_RETRIES = 1  # a kernel that never answered is started once more


def _autograde(course: CourseDir, task: Task, db: Path, log_path: Path, logger, journal: Journal,
               failsafe: "_FailSafe"):
    """nbgrader's autograde of one submission; failures go to ``journal.failure``."""
    config = coursedir = None
    try:
        config, coursedir = _configure(course, task, db, log_path)
        Autograder(coursedir=coursedir, config=config, log=logger, journal=journal).start()
    except KeyboardInterrupt:
        if not failsafe.fired:
            raise
        journal.failure = "the grader stopped responding"
    except NbGraderException as error:
        journal.failure = journal.failure or describe(error)
    except Exception as error:  # noqa: BLE001 - one bad submission must not stop the batch
        logger.error(traceback.format_exc())
        journal.failure = describe(error)
    return config, coursedir


def grade_student(task: Task) -> Result:
    """Autograde one submission already placed in ``submitted/<student>/<chapter>/``; write its feedback."""
    started = time.monotonic()
    course = CourseDir(Path(task.root))
    log_path = course.log(task.student, task.chapter)
    log_path.unlink(missing_ok=True)
    logger = file_logger(f"autograder.{task.chapter}.{task.student}", log_path)
    db = course.work(task.chapter) / "gradebooks" / f"{task.student}.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    result = Result(task.student, ERROR)
    journal = Journal()
    try:
        with _FailSafe(task.limits.time_limit + 180) as failsafe, quiet_nbgrader():
            for attempt in range(1 + KERNEL_START_RETRIES):
                journal = Journal()
                if task.note:
                    journal.note(task.note)
                shutil.copyfile(task.template_db, db)
                config, coursedir = _autograde(course, task, db, log_path, logger, journal, failsafe)
                if not (journal.failure and journal.kernel_starting and not journal.kernel_started):
                    break
                # the kernel did not start (no code of the submission ran): not the student's doing
                logger.warning("attempt %d: the kernel did not start (%s); grading again", attempt + 1, journal.failure)
            notebook = course.autograded(task.student, task.chapter) / f"{task.chapter}.ipynb"
            if not journal.failure and notebook.is_file():
                read_grades(db, task.chapter, task.student, result)
                try:
                    FeedbackGenerator(coursedir=coursedir, config=config, log=logger).start()
                except Exception as error:  # noqa: BLE001
                    logger.error(traceback.format_exc())
                    journal.note(f"no feedback: {describe(error)}")
            elif not journal.failure:
                journal.failure = "nbgrader wrote no autograded notebook"
    except KeyboardInterrupt:
        raise
    except Exception as error:  # noqa: BLE001
        logger.error(traceback.format_exc())
        journal.failure = describe(error)
    finally:
        db.unlink(missing_ok=True)
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)

    code = {n: g for n, g in result.grades.items() if g["cell_type"] == "code"}
    result.score = sum(g["auto_score"] or 0.0 for g in code.values())
    result.max_score = sum(g["max_score"] for g in code.values())
    if journal.failure:
        result.status = ERROR
        result.grades = {}
        result.reason = "; ".join(
            [f"grading failed: {journal.failure} (see {log_path.relative_to(course.root)})", *journal.flags, *journal.notes]
        )
    else:
        result.status = FLAGGED if journal.flags else GRADED
        result.reason = "; ".join([*journal.flags, *journal.notes])
    result.seconds = time.monotonic() - started
    return result
