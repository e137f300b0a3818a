"""Grading one notebook: nbgrader autograde + feedback, in a gradebook and a course folder of its own.

``grade_notebook(task)`` is what a worker runs for each submission
(``autograder.batch.worker``). In a scratch nbgrader course directory holding the chapter's
source folder and the submitted notebook, it copies a gradebook that holds only the
assignment (no students) and runs nbgrader's ``Autograde`` converter, with the
preprocessors of ``autograder.grade.sanitize``, ``.execute``, ``.seal``, ``.score``, and then
``autograder.grade.feedback.FeedbackGenerator``; ``autograder.grade.rubric`` puts each written
question's model answer and rubric under the answer, for formgrader. Every notebook is graded under the same
student id, ``STUDENT``, in a gradebook of its own: a grade depends only on the notebook's
bytes and the release, never on who submitted it, which worker graded it, in which order,
or on an earlier run. What it gives back, ``Graded``, is plain data; the client turns it
into each submitting student's ``Result`` and merges it into the course's gradebook
(``autograder.batch.gradebook``).
"""

from __future__ import annotations

import ctypes
import shutil
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import cast

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
from autograder.grade.execute import GuardedExecute
from autograder.grade.feedback import FeedbackGenerator
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

    def to_json(self) -> dict:
        """The limits as plain data, each of its field's type: ``Limits(time_limit=60)`` is ``60.0`` as for the CLI."""
        # (every field has a default: its type converts)
        return {f.name: cast(type, type(f.default))(getattr(self, f.name)) for f in fields(self)}


STUDENT = "student"  # the id every notebook is graded under in its scratch course directory


@dataclass(frozen=True)
class Task:
    """One notebook to grade, in a scratch course directory that holds the chapter's source folder."""

    root: str  # the scratch course directory: source/<chapter>/, submitted/STUDENT/<chapter>/<chapter>.ipynb
    chapter: str
    template_db: str
    limits: Limits
    data_dir: str
    expectations: Callable[[], dict]  # the chapter's expected values (autograder.grade.score)
    secrets: tuple[str, ...] = ()
    public: tuple[str, ...] = ()
    sandbox: object = None  # autograder.grade.sandbox.Sandbox isolating the kernel; None: --unsafe
    rubrics: tuple[tuple[str, str], ...] = ()  # (grade id, model answer and rubric) of each written answer


@dataclass
class Result:
    """A student's row: what ``grades.csv`` and the course gradebook get."""

    student: str
    status: str
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    grades: dict[str, dict] = field(
        default_factory=dict
    )  # grade_id -> auto_score, max_score, needs_manual_grade, cell_type
    comments: dict[str, str | None] = field(default_factory=dict)
    timestamp: str | None = None  # from nbgrader's timestamp.txt, when the submission had one
    late_penalty: float | None = None
    seconds: float = 0.0
    chapter: str = ""

    @property
    def cell_scores(self) -> dict[str, float]:
        """Points of each autograded test cell."""
        return {name: g["auto_score"] or 0.0 for name, g in self.grades.items() if g["cell_type"] == "code"}


@dataclass
class Graded:
    """What grading one notebook gave, as plain data: the same for every student who submitted these bytes."""

    failure: str = ""  # grading itself failed
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    grades: dict[str, dict] = field(default_factory=dict)
    comments: dict[str, str | None] = field(default_factory=dict)
    timestamp: str | None = None
    late_penalty: float | None = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Graded:
        return cls(**data)

    def result(self, student: str, chapter: str, note: str, log: str) -> Result:
        """The row of ``student``; ``note`` comes from triage, ``log`` is where the grading log is."""
        notes = [note, *self.notes] if note and note not in self.notes else self.notes
        code = {n: g for n, g in self.grades.items() if g["cell_type"] == "code"}
        result = Result(
            student,
            ERROR if self.failure else FLAGGED if self.flags else GRADED,
            chapter=chapter,
            grades=dict(self.grades),
            comments=dict(self.comments),
            timestamp=self.timestamp,
            late_penalty=self.late_penalty,
            seconds=self.seconds,
            score=sum(g["auto_score"] or 0.0 for g in code.values()),
            max_score=sum(g["max_score"] for g in code.values()),
        )
        if self.failure:
            result.grades, result.score = {}, 0.0
            result.reason = "; ".join([f"grading failed: {self.failure} (see {log})", *self.flags, *notes])
        else:
            result.reason = "; ".join([*self.flags, *notes])
        return result


class Autograder(Autograde):
    """nbgrader's Autograde with the autograder's preprocessors and a journal per submission."""

    sanitize_preprocessors = List(
        [FlagInstructorMarkers, ClearOutput, DeduplicateGradeIds, OverwriteKernelspec, RestoreCells, CheckCellMetadata]
    ).tag(config=True)
    autograde_preprocessors = List(
        [
            SealTestCells,
            GuardedExecute,
            ScoreTestCells,
            IgnorePattern,
            ClearMetadataPreprocessor,
            LimitOutput,
            SaveAutoGrades,
            AssignLatePenalties,
            CheckCellMetadata,
            AddRubrics,
        ]
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
    config = nbgrader_config(course, task.chapter, STUDENT, db_url=f"sqlite:///{db}")
    config.BaseConverter.force = True
    config.GuardedExecute.timeout = task.limits.cell_timeout
    config.GuardedExecute.time_limit = task.limits.time_limit
    config.GuardedExecute.max_output_chars = task.limits.max_output_chars
    config.GuardedExecute.data_dir = task.data_dir
    config.GuardedExecute.kernel_log = str(log_path)
    config.GuardedExecute.sandbox = task.sandbox
    config.GuardedExecute.shutdown_kernel = "immediate"  # a graded kernel has nothing to save: kill it at once
    config.ScoreTestCells.expectations = task.expectations
    config.HideHiddenTests.secrets = list(task.secrets)
    config.HideHiddenTests.public = list(task.public)
    config.AddRubrics.rubrics = dict(task.rubrics)
    return config, CourseDirectory(config=config)


def read_grades(db: Path, chapter: str, result: Graded) -> None:
    with Gradebook(f"sqlite:///{db}") as gb:
        notebook = gb.find_submission_notebook(chapter, chapter, STUDENT)
        submission = gb.find_submission(chapter, STUDENT)
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
    """Interrupts the grading thread if nbgrader itself hangs well past the notebook's time limit.

    A dask worker grades in a thread of its own: the interrupt (``KeyboardInterrupt``) is raised
    in that thread, at its next Python instruction.
    """

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.thread = threading.get_ident()
        self.timer = threading.Timer(seconds, self._fire)
        self.timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread), ctypes.py_object(KeyboardInterrupt))

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()


KERNEL_START_RETRIES = 1  # a kernel that never answered is started once more


def _autograde(course: CourseDir, task: Task, db: Path, log_path: Path, logger, journal: Journal, failsafe: _FailSafe):
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


def grade_notebook(task: Task) -> Graded:
    """Autograde the notebook in ``submitted/STUDENT/<chapter>/`` of the task's course directory; write its feedback.

    The autograded notebook, the feedback page and the log are left in that directory
    (``autograded/``, ``feedback/``, ``logs/``) for the caller to take.
    """
    started = time.monotonic()
    course = CourseDir(Path(task.root))
    log_path = course.log(STUDENT, task.chapter)
    log_path.unlink(missing_ok=True)
    logger = file_logger(f"autograder.grading.{Path(task.root).name}", log_path)
    db = course.work(task.chapter) / "gradebook.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    result = Graded()
    journal = Journal()
    try:
        with _FailSafe(task.limits.time_limit + 180) as failsafe, quiet_nbgrader():
            for attempt in range(1 + KERNEL_START_RETRIES):
                journal = Journal()
                shutil.copyfile(task.template_db, db)
                config, coursedir = _autograde(course, task, db, log_path, logger, journal, failsafe)
                if not (journal.failure and journal.kernel_starting and not journal.kernel_started):
                    break
                # the kernel did not start (no code of the submission ran): not the student's doing
                logger.warning("attempt %d: the kernel did not start (%s); grading again", attempt + 1, journal.failure)
            notebook = course.autograded(STUDENT, task.chapter) / f"{task.chapter}.ipynb"
            if not journal.failure and notebook.is_file():
                read_grades(db, task.chapter, result)
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
    result.failure, result.flags, result.notes = journal.failure, list(journal.flags), list(journal.notes)
    if result.failure:
        result.grades, result.comments = {}, {}
    result.seconds = time.monotonic() - started
    return result
