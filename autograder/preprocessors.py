"""The nbgrader preprocessors the autograder adds or extends, one small class per step.

nbgrader's ``autograde`` runs two pipelines on a submission (see
``nbgrader/converters/autograde.py``). The autograder keeps nbgrader's steps and
swaps in these subclasses where nbgrader lacks something:

sanitize:  ClearOutput, **DeduplicateGradeIds**, OverwriteKernelspec, **RestoreCells**, CheckCellMetadata
autograde: **GuardedExecute**, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
           SaveAutoGrades, AssignLatePenalties, CheckCellMetadata

What each adds is in its docstring. They report what they did to the submission's
``Journal`` (``resources["autograder"]``), which becomes the ``reason`` column.
"""

from __future__ import annotations

import copy
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, DeduplicateIds, Execute, OverwriteCells
from traitlets import Any, Float, Integer, Unicode

from autograder import kernel as kernels
from autograder import sandbox as sandboxes
from autograder.probe import RECORD_MIME

SCHEMA_VERSION = 3


@dataclass
class Journal:
    """What happened to one submission while it was graded, in words for the instructor."""

    notes: list[str] = field(default_factory=list)  # informational (cell restored, timeout, ...)
    flags: list[str] = field(default_factory=list)  # the instructor should look at this submission
    failure: str = ""  # grading itself failed
    kernel_starting: bool = False  # a kernel was being started
    kernel_started: bool = False  # ... and it answered; no code of the submission ran before

    def __deepcopy__(self, memo):
        # nbconvert deep-copies the resources of every pass; the journal must stay one object
        return self

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def flag(self, text: str) -> None:
        if text not in self.flags:
            self.flags.append(text)


def journal_of(resources: dict) -> Journal:
    journal = resources.get("autograder")
    return journal if isinstance(journal, Journal) else Journal()


def cell_label(cell: NotebookNode, index: int) -> str:
    """'cell 12 (relu_tests)': 1-based position in the graded notebook, and the grade id if any."""
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return f"cell {index + 1} ({grade_id})" if grade_id else f"cell {index + 1}"


# ---------------------------------------------------------------------------
# sanitize
# ---------------------------------------------------------------------------


class DeduplicateGradeIds(DeduplicateIds):
    """nbgrader's DeduplicateIds, without aborting the whole batch (nbgrader issue #1083).

    When a student copies a cell, two cells carry the same grade id. nbgrader
    keeps the last one and empties the others' metadata to ``{}``, which
    CheckCellMetadata then rejects as "schema version 0", and ``nbgrader
    autograde`` stops for every student. Here the copies lose their nbgrader
    metadata altogether (they stay ordinary cells, still executed) and the
    submission is flagged for the instructor.
    """

    def preprocess(self, nb, resources):
        self.journal = journal_of(resources)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader.get("grade_id")
        if grade_id in self.grade_ids:
            self.journal.flag(f"duplicated grade id {grade_id} (the last copy was graded)")
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class RestoreCells(OverwriteCells):
    """nbgrader's OverwriteCells, made robust against any metadata a student can produce.

    Before nbgrader's checks, every cell that names a grade id of the assignment
    gets its nbgrader metadata rebuilt from the gradebook (a ``schema_version``
    that was changed flags the submission; nbgrader would abort the batch);
    nbgrader metadata naming an unknown grade id is removed. Then nbgrader
    restores edited test cells. Deleted test cells (or test cells whose
    metadata was stripped) are added back (``add_missing_cells``) next to the
    nearest cell that is still there, which also works when the answer cell
    before them was deleted too (nbgrader's own placement then fails).
    """

    def preprocess(self, nb, resources):
        self.journal = journal_of(resources)
        self.add_missing_cells = True
        return super().preprocess(nb, resources)

    def report_change(self, name, attr, old, new):
        super().report_change(name, attr, old, new)
        if attr == "checksum" and not self._as_released(self._current, name):
            self.journal.note(f"restored edited test cell {name}")
        elif attr == "cell_type":
            self.journal.note(f"restored the cell type of {name}")

    def _as_released(self, cell: NotebookNode, grade_id: str) -> bool:
        """Whether a test cell is exactly as the release had it (nbgrader removed its hidden tests)."""
        source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        released = NotebookNode(cell_type=source.cell_type, source=source.source, metadata={})
        ClearHiddenTests()._remove_hidden_test_region(released)
        return cell.source.strip() == released.source.strip()

    def missing_cell_transform(self, source_cell, max_score, is_solution=False, is_task=False):
        """nbgrader's restored cell; an answer cell is restored as the release had it, never with the solution."""
        cell = super().missing_cell_transform(source_cell, max_score, is_solution=is_solution, is_task=is_task)
        if is_solution or is_task:
            released = NotebookNode(cell_type=source_cell.cell_type, source=source_cell.source, metadata={})
            clear = ClearSolutions()
            code = source_cell.cell_type == "code"
            if not clear._replace_solution_region(released, "python"):
                released.source = clear.code_stub["python"] if code else clear.text_stub
            notice = self.missing_cell_notification.format(cell_id=source_cell.name)
            cell["source"] = ("# " if code else "") + notice + released.source
        return cell

    def _canonical_metadata(self, cell: NotebookNode, cell_index: int) -> None:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            return
        if not isinstance(meta, dict) or not isinstance(meta.get("grade_id"), str):
            self.journal.note(f"removed unusable nbgrader metadata of {cell_label(cell, cell_index)}")
            del cell.metadata["nbgrader"]
            return
        grade_id = meta["grade_id"]
        try:
            source = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            if meta.get("grade") or meta.get("solution") or meta.get("task") or meta.get("locked"):
                self.journal.note(f"ignored nbgrader metadata of an unknown cell {grade_id!r}")
            del cell.metadata["nbgrader"]
            return
        if meta.get("schema_version") != SCHEMA_VERSION:
            self.journal.flag(
                f"nbgrader schema_version of {grade_id} was changed to {meta.get('schema_version')!r} (restored)"
            )
        canonical = {
            "grade": False,
            "grade_id": grade_id,
            "locked": bool(source.locked),
            "schema_version": SCHEMA_VERSION,
            "solution": False,
            "task": False,
        }
        try:
            graded = self.gradebook.find_graded_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            graded = None
        if graded is not None and graded.__class__.__name__ == "GradeCell":
            canonical["grade"] = True
            canonical["points"] = float(graded.max_score)
        if graded is not None and graded.__class__.__name__ == "TaskCell":
            canonical["task"] = True
            canonical["points"] = float(graded.max_score)
        try:
            self.gradebook.find_solution_cell(grade_id, self.notebook_id, self.assignment_id)
            canonical["solution"] = True
        except MissingEntry:
            pass
        changed = sorted(k for k in canonical if k != "schema_version" and meta.get(k) != canonical[k] and k in meta)
        if changed:
            self.journal.note(f"restored nbgrader metadata of {grade_id} ({', '.join(changed)})")
        cell.metadata["nbgrader"] = canonical

    def preprocess_cell(self, cell, resources, cell_index):
        self._canonical_metadata(cell, cell_index)
        self._current = cell
        return super().preprocess_cell(cell, resources, cell_index)

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        order = [cell.name for cell in source_nb.source_cells]
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        solution_ids = {cell.name for cell in source_nb.solution_cells}

        def present() -> dict[str, int]:
            return {
                c.metadata["nbgrader"]["grade_id"]: i
                for i, c in enumerate(nb.cells)
                if "nbgrader" in c.metadata and (utils.is_grade(c) or utils.is_solution(c) or utils.is_locked(c))
            }

        for position, name in enumerate(order):
            if name not in grade_cells or name in present():
                continue
            where = present()
            before = [where[n] for n in order[:position] if n in where]
            after = [where[n] for n in order[position + 1 :] if n in where]
            index = max(before) + 1 if before else min(after) if after else len(nb.cells)
            source_cell = self.gradebook.find_source_cell(name, self.notebook_id, self.assignment_id)
            restored = self.missing_cell_transform(source_cell, grade_cells[name].max_score, is_solution=name in solution_ids)
            restored = nbformat.from_dict(restored)
            restored.id = re.sub(r"[^A-Za-z0-9_-]", "-", f"restored-{name}")[:64]
            nb.cells.insert(index, restored)
            kind = "test cell" if restored.cell_type == "code" and name not in solution_ids else "graded answer"
            self.journal.note(f"restored deleted {kind} {name}")
        return nb, resources


# ---------------------------------------------------------------------------
# autograde
# ---------------------------------------------------------------------------


def error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def message_size(msg: dict) -> int:
    content = msg.get("content", {})
    if msg.get("msg_type") == "stream":
        return len(content.get("text", ""))
    data = content.get("data", {}) or {}
    return sum(len(value) if isinstance(value, str) else len(str(value)) for value in data.values())


TRUNCATED = "\n... output truncated by the grader ...\n"


class GuardedExecute(Execute):
    """nbgrader's Execute with the limits a batch of untrusted notebooks needs.

    * Per-cell timeout (``timeout``, nbgrader's): the kernel is interrupted and the
      cell scores 0; if the kernel ignores the interrupt (student code that catches
      ``KeyboardInterrupt`` or ignores SIGINT), its process group is killed.
    * Whole-notebook time limit (``time_limit``): a watchdog kills the kernel's
      process group when it is reached, whatever the kernel does.
    * When the kernel is gone (killed, ``os._exit``, a segfault, out of memory),
      the cells that ran keep their outputs and so their points; the cell that
      was running and every later test cell get an error output, so they score 0,
      and the journal says ``kernel died in cell N``.
    * Output is capped per cell while it arrives (``max_output_chars``), so a print
      loop cannot fill the grader's memory; errors and a first stderr line are
      always kept, because they decide the cell's score.
    * The kernel is started by ``autograder.kernel`` (environment, logs, kill).
    """

    time_limit = Float(900.0, help="seconds for the whole notebook").tag(config=True)
    max_output_chars = Integer(100_000, help="characters of text output kept per cell").tag(config=True)
    max_display_chars = Integer(5_000_000, help="characters of figures and other rich output kept per cell").tag(config=True)
    data_dir = Unicode("", help="DNN_COURSE_DATA for the kernel").tag(config=True)
    kernel_log = Unicode("", help="file that receives the kernel process's own stdout/stderr").tag(config=True)
    sandbox = Any(None, allow_none=True, help="the kernel's sandbox (autograder.sandbox); None: --unsafe").tag(config=True)
    max_record_chars = Integer(200_000_000, help="characters of values sent by test cells, for the whole notebook").tag(config=True)

    # ---- the notebook --------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        self.journal = journal_of(resources or {})
        self._stopped = ""  # why no further cell runs
        self._deadline_reached = False
        self._output_chars: dict[tuple[int, str], int] = {}
        self._truncated: set[int] = set()
        self._started = time.monotonic()
        watchdog = threading.Timer(self.time_limit, self._on_deadline)
        watchdog.daemon = True
        self._log_file = kernels.open_kernel_log(Path(self.kernel_log)) if self.kernel_log else None
        watchdog.start()
        self._socket_folder = None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            watchdog.cancel()
            kernels.remove_sockets(self._socket_folder)
            if self._log_file is not None:
                self._log_file.close()

    def _on_deadline(self) -> None:
        self._deadline_reached = True
        if getattr(self, "km", None) is not None:
            kernels.kill_kernel(self.km)

    def create_kernel_manager(self):
        self.kernel_manager_class = kernels.SandboxedKernelManager
        km = super().create_kernel_manager()
        self.journal.kernel_starting = True
        self._socket_folder = kernels.use_private_sockets(km)
        return km

    async def async_start_new_kernel(self, **kwargs):
        options = kernels.launch_options(self.data_dir or None, self._log_file)
        if self.sandbox is not None:
            workdir = kwargs.get("cwd") or self.resources.get("metadata", {}).get("path") or os.getcwd()
            options["env"] = kernels.isolate(self.km, self.sandbox, workdir, self._socket_folder, options["env"],
                                             sandboxes.cpu_seconds(self.time_limit))
        kwargs.update(options)
        await super().async_start_new_kernel(**kwargs)

    async def async_start_new_kernel_client(self):
        client = await super().async_start_new_kernel_client()
        self.journal.kernel_started = True  # from here on, a failure may be the submission's doing
        return client

    start_new_kernel = run_sync(async_start_new_kernel)  # nbclient binds the sync names to its own methods
    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    # ---- each cell -----------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if not self._stopped and self._deadline_reached:
            self._stop(f"time limit of {self.time_limit:g} s reached before {cell_label(cell, index)}")
        if self._stopped:
            cell.outputs = []
            if utils.is_grade(cell):
                cell.outputs.append(error_output("NotRun", f"not run: {self._stopped}"))
            return cell, resources
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            if self._deadline_reached:
                why = f"time limit of {self.time_limit:g} s reached in {cell_label(cell, index)}"
                cell.outputs.append(error_output("TimeLimit", f"the notebook ran longer than {self.time_limit:g} s"))
            else:
                how = kernels.exit_description(self.km)
                why = f"kernel died in {cell_label(cell, index)}" + (f": {how}" if how else "")
                cell.outputs.append(error_output("KernelDied", f"the kernel died while running this cell ({how or 'no exit code'})"))
            self._stop(why)
        except CellTimeoutError:
            kernels.kill_kernel(self.km)
            why = f"{cell_label(cell, index)} ran longer than {self.timeout} s and ignored the interrupt; the kernel was stopped"
            cell.outputs.append(error_output("CellTimeoutError", f"the cell ran longer than {self.timeout} s"))
            self._stop(why)
        else:
            if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                self.journal.note(f"{cell_label(cell, index)} timed out after {self.timeout} s")
        return cell, resources

    def _record(self, outs, msg, display_id, cell_index):
        """A probe record (autograder.sealed): its own budget for the whole notebook; only the record is kept."""
        size = message_size(msg)
        used = self._output_chars.get((-1, "records"), 0)
        if used + size > self.max_record_chars:
            self.journal.note(f"values sent by cell {cell_index + 1} exceed {self.max_record_chars} characters; ignored")
            return None
        self._output_chars[(-1, "records")] = used + size
        record = copy.deepcopy(msg)
        record["content"]["data"] = {RECORD_MIME: msg["content"]["data"][RECORD_MIME]}
        record["content"]["metadata"] = {}
        return super().output(outs, record, display_id, cell_index)

    def _stop(self, why: str) -> None:
        self._stopped = why
        self.journal.note(why)

    # ---- output as it arrives -------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        kind = msg.get("msg_type")
        if kind == "error":  # decides the score: always kept (LimitOutput shortens long tracebacks)
            return super().output(outs, msg, display_id, cell_index)
        if kind == "display_data" and RECORD_MIME in (msg.get("content", {}).get("data") or {}):
            return self._record(outs, msg, display_id, cell_index)
        text = kind == "stream"
        budget = self.max_output_chars if text else self.max_display_chars
        key = (cell_index, "text" if text else "display")
        size = message_size(msg)
        used = self._output_chars.get(key, 0)
        room = budget - used
        if size <= room:
            self._output_chars[key] = used + size
            return super().output(outs, msg, display_id, cell_index)
        if cell_index not in self._truncated:
            self._truncated.add(cell_index)
            self.journal.note(f"output of cell {cell_index + 1} truncated")
        if text:
            name = msg["content"].get("name", "stdout")
            keep = max(room, 0)
            if keep == 0 and name == "stderr" and not any(o.get("name") == "stderr" for o in outs):
                keep = 200  # a stderr output decides the score (nbgrader gives 0): keep its start
            if keep == 0:
                return None
            shortened = copy.deepcopy(msg)
            shortened["content"]["text"] = msg["content"]["text"][:keep] + TRUNCATED
            self._output_chars[key] = budget
            return super().output(outs, shortened, display_id, cell_index)
        if kind == "execute_result":  # a partial-credit value decides the score: keep its text
            shortened = copy.deepcopy(msg)
            text_value = str(msg["content"].get("data", {}).get("text/plain", ""))[:1000]
            shortened["content"]["data"] = {"text/plain": text_value}
            return super().output(outs, shortened, display_id, cell_index)
        return None
