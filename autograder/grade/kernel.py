"""How a student's notebook kernel is started and stopped.

Every kernel the grader starts gets its options from ``launch_options`` and is
stopped by ``kill_kernel``. A graded kernel is an ``ipykernel`` process started by
``SandboxedKernelManager``, which ``isolate`` makes launch it inside the batch's
sandbox (``autograder.grade.sandbox``: bubblewrap, setpriv, prlimit); with ``--unsafe``
it is an ordinary local process. Either way it runs:

* in its own session and process group (jupyter_client starts it so), which
  ``kill_kernel`` kills as a whole, children included; a sandboxed kernel also in a cgroup
  of its own (``autograder.grade.fair_share``), whose every process ``kill_kernel`` kills,
  those that left the session too, and which ``release_cgroup`` deletes afterwards;
* talking to the grader over Unix sockets in a private folder (``use_private_sockets``),
  not TCP ports: with TCP, a port chosen free can be taken by another kernel before
  this one binds it (parallel grading starts many kernels at once), and the kernel
  dies at start or the grader talks to the wrong one;
* with one BLAS/OpenMP thread, so that parallel grading does not oversubscribe
  the cores and floating-point results do not depend on the thread count;
* reading the course data from the repository (``DNN_COURSE_DATA``);
* with its stdout/stderr (crash messages, warnings) in the student's grading log.

A sandboxed kernel is interrupted by a message (``interrupt_mode`` "message": ipykernel
signals itself), not by SIGINT to its process group: SIGINT would end bubblewrap, and
with it the kernel, instead of interrupting the cell.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from typing import IO, Any

from jupyter_client.manager import AsyncKernelManager

from autograder.grade import fair_share
from autograder.grade import sandbox as sandboxes

SINGLE_THREAD = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}


def kernel_environment(data_dir: str | None = None) -> dict[str, str]:
    """The environment variables of a grading kernel."""
    env = dict(os.environ)
    env.update(SINGLE_THREAD)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # silence debugpy's startup warning
    env.pop("PYTHONPATH", None)  # the kernel imports what its working folder and the venv provide
    if data_dir:
        env["DNN_COURSE_DATA"] = data_dir
    return env


def launch_options(data_dir: str | None, log_file: IO[Any] | None) -> dict[str, Any]:
    """Keyword arguments for ``KernelManager.start_kernel`` (passed down to ``Popen``)."""
    options: dict[str, Any] = {"env": kernel_environment(data_dir)}
    if log_file is not None:
        options["stdout"] = log_file
        options["stderr"] = log_file
    return options


class SandboxedKernelManager(AsyncKernelManager):
    """jupyter_client's kernel manager, launching the kernel command after ``wrapper`` (the sandbox).

    With an empty ``wrapper`` it is jupyter_client's ``AsyncKernelManager``.
    """

    wrapper: list[str] = []
    kernel_uid: int | None = None  # owner of the connection file (the grader is root)
    cgroup: fair_share.KernelCgroup | None = None  # the kernel's share of the machine

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [*self.wrapper, *super().format_kernel_cmd(extra_arguments)]

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None and self.wrapper:
            spec.interrupt_mode = "message"
        return spec

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        if self.kernel_uid is not None:
            os.chown(self.connection_file, self.kernel_uid, self.kernel_uid)


def use_private_sockets(km: Any) -> str:
    """Make ``km`` start its kernel on Unix sockets in a new private folder; returns the folder.

    The connection file is written there too. Call before the kernel starts; remove the
    folder with ``remove_sockets`` after it stopped. The folder is short (an AF_UNIX path
    holds at most 107 bytes) and readable by its owner only.
    """
    folder = tempfile.mkdtemp(prefix="grader-kernel-")
    km.transport = "ipc"
    km.ip = os.path.join(folder, "kernel")  # the sockets are kernel-1 ... kernel-5
    km.connection_file = os.path.join(folder, "kernel.json")
    return folder


def remove_sockets(folder: str | None) -> None:
    if folder:
        sandboxes.remove_folder(folder)


def isolate(
    km: SandboxedKernelManager,
    sandbox: sandboxes.Sandbox,
    workdir: str,
    folder: str,
    env: dict[str, str],
    cpu_seconds: int,
) -> dict[str, str]:
    """Make ``km`` launch its kernel in ``sandbox``, in ``workdir``; returns the kernel's environment.

    ``folder`` is the kernel's private folder (``use_private_sockets``): the only place it can write.
    """
    uid = None if sandbox.user_namespace else sandboxes.kernel_uid()
    private = sandboxes.prepare_private_folder(Path(folder), uid, sandbox.font_cache)
    km.kernel_uid = uid
    km.wrapper = sandboxes.command(sandbox, os.path.abspath(workdir), folder, uid, cpu_seconds)
    if sandbox.share.available:
        km.cgroup = fair_share.KernelCgroup.create(sandbox.share, sandbox.memory, sandbox.processes)
        km.wrapper = [*km.cgroup.launcher(), *km.wrapper]
    return sandboxes.environment(env, private)


def release_cgroup(cgroup: fair_share.KernelCgroup | None) -> None:
    """Kill whatever the kernel left running and delete its cgroup."""
    if cgroup is not None:
        cgroup.remove()


def kernel_process_group(km: Any) -> int | None:
    provisioner = getattr(km, "provisioner", None)
    return getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)


def kill_kernel(km: Any) -> bool:
    """Kill the kernel's whole process group at once (SIGKILL cannot be caught or ignored), and its cgroup."""
    if getattr(km, "cgroup", None) is not None:
        km.cgroup.kill()
    group = kernel_process_group(km)
    if not group:
        return False
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def exit_description(km: Any) -> str:
    """How the kernel process ended, e.g. 'killed by SIGSEGV' or 'exit code 3' ('' if unknown).

    bubblewrap exits with 128 + N when the kernel was killed by signal N (a kernel that
    calls ``os._exit(139)`` is therefore reported as killed by SIGSEGV).
    """
    process = getattr(getattr(km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return ""
    if getattr(km, "wrapper", None) and 128 < code < 128 + signal.NSIG:
        code = 128 - code
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def open_kernel_log(path: Path) -> IO[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab", buffering=0)
