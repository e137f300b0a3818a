"""Running a submission: nbgrader's Execute with the limits a batch of untrusted notebooks needs.

``GuardedExecute`` replaces nbgrader's ``Execute`` in the autograde pipeline: a per-cell
timeout that holds even against code that ignores interrupts, a watchdog for the whole
notebook, a dead kernel handled cell by cell, output capped as it arrives, and the
kernel started in its sandbox by ``autograder.grade.kernel``.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Any, Float, Integer, Unicode

from autograder.grade import kernel as kernels
from autograder.grade import sandbox as sandboxes
from autograder.grade.journal import cell_label, journal_of
from autograder.runtime.probe import RECORD_MIME

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
    * The kernel is started by ``autograder.grade.kernel`` (environment, logs, kill).
    """

    time_limit = Float(900.0, help="seconds for the whole notebook").tag(config=True)
    max_output_chars = Integer(100_000, help="characters of text output kept per cell").tag(config=True)
    max_display_chars = Integer(5_000_000, help="characters of figures and other rich output kept per cell").tag(
        config=True
    )
    data_dir = Unicode("", help="DNN_COURSE_DATA for the kernel").tag(config=True)
    kernel_log = Unicode("", help="file that receives the kernel process's own stdout/stderr").tag(config=True)
    sandbox = Any(None, allow_none=True, help="the kernel's sandbox (autograder.grade.sandbox); None: --unsafe").tag(
        config=True
    )
    max_record_chars = Integer(200_000_000, help="characters of values sent by test cells, for the whole notebook").tag(
        config=True
    )

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
        self._cgroup = None
        try:
            return super().preprocess(nb, resources, km)
        finally:
            watchdog.cancel()
            kernels.release_cgroup(self._cgroup)
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
            options["env"] = kernels.isolate(
                self.km,
                self.sandbox,
                workdir,
                self._socket_folder,
                options["env"],
                sandboxes.cpu_seconds(self.time_limit),
            )
            self._cgroup = self.km.cgroup
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
                cell.outputs.append(
                    error_output("KernelDied", f"the kernel died while running this cell ({how or 'no exit code'})")
                )
            self._stop(why)
        except CellTimeoutError:
            kernels.kill_kernel(self.km)
            why = (
                f"{cell_label(cell, index)} ran longer than {self.timeout} s and ignored the interrupt; "
                "the kernel was stopped"
            )
            cell.outputs.append(error_output("CellTimeoutError", f"the cell ran longer than {self.timeout} s"))
            self._stop(why)
        else:
            if any(o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError" for o in cell.outputs):
                self.journal.note(f"{cell_label(cell, index)} timed out after {self.timeout} s")
        return cell, resources

    def _record(self, outs, msg, display_id, cell_index):
        """A probe record (autograder.grade.score): its own budget for the whole notebook; only the record is kept."""
        size = message_size(msg)
        used = self._output_chars.get((-1, "records"), 0)
        if used + size > self.max_record_chars:
            self.journal.note(
                f"values sent by cell {cell_index + 1} exceed {self.max_record_chars} characters; ignored"
            )
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
