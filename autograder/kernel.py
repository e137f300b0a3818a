"""How a student's notebook kernel is started and stopped: the one place to harden later.

Every kernel the grader starts gets its options from ``launch_options`` and is
stopped by ``kill_kernel``. Sandboxing (a container, resource limits, no
network, hidden expected values kept outside the kernel) belongs here.

Today a kernel is an ordinary local ``ipykernel`` process:

* in its own session and process group (jupyter_client starts it so), which
  ``kill_kernel`` kills as a whole, children included;
* talking to the grader over Unix sockets in a private folder (``use_private_sockets``),
  not TCP ports: with TCP, a port chosen free can be taken by another kernel before
  this one binds it (parallel grading starts many kernels at once), and the kernel
  dies at start or the grader talks to the wrong one;
* with one BLAS/OpenMP thread, so that parallel grading does not oversubscribe
  the cores and floating-point results do not depend on the thread count;
* reading the course data from the repository (``DNN_COURSE_DATA``);
* with its stdout/stderr (crash messages, warnings) in the student's grading log.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import IO, Any

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


def use_private_sockets(km: Any) -> str:
    """Make ``km`` start its kernel on Unix sockets in a new private folder; returns the folder.

    Call before the kernel starts; remove the folder with ``remove_sockets`` after it stopped.
    The folder is short (an AF_UNIX path holds at most 107 bytes) and readable by its owner only.
    """
    folder = tempfile.mkdtemp(prefix="grader-kernel-")
    km.transport = "ipc"
    km.ip = os.path.join(folder, "kernel")  # the sockets are kernel-1 ... kernel-5
    return folder


def remove_sockets(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def kernel_process_group(km: Any) -> int | None:
    provisioner = getattr(km, "provisioner", None)
    return getattr(provisioner, "pgid", None) or getattr(provisioner, "pid", None)


def kill_kernel(km: Any) -> bool:
    """Kill the kernel's whole process group at once (SIGKILL cannot be caught or ignored)."""
    group = kernel_process_group(km)
    if not group:
        return False
    try:
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def exit_description(km: Any) -> str:
    """How the kernel process ended, e.g. 'killed by SIGSEGV' or 'exit code 3' ('' if unknown)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return ""
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def open_kernel_log(path: Path) -> IO[Any]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "ab", buffering=0)
