"""Where a batch's tasks run: one ``distributed.Client``, on a LocalCluster or on an existing scheduler.

* ``grade --workers N`` (the default): a dask ``LocalCluster`` of N single-threaded worker
  processes on this machine (``local_cluster``), started while the course directory is prepared;
* ``grade --scheduler tcp://HOST:8786``: an existing cluster, whatever started it (``dask
  scheduler`` and ``dask worker`` on several machines, dask-jobqueue on SLURM or PBS,
  dask-kubernetes): see autograder/README.md.

``connect`` registers the workers' start-up checks (``autograder.batch.worker.WorkerChecks``)
and returns a ``Cluster`` that says which workers grade and which refused, and why. When no
worker can grade, or the scheduler cannot be reached, it raises ``UsageError`` before
anything is graded.

Faults are dask's to handle, with the course's rule: a task whose worker dies (killed, out
of memory) runs once more elsewhere; when a second worker dies running it, the scheduler
gives up on it (``KilledWorker``) and the submission becomes an error row
(``ALLOWED_FAILURES``, dask's ``distributed.scheduler.allowed-failures``, set on a
LocalCluster; the scheduler of an existing cluster keeps its own: autograder/README.md says
how to set it). A worker holds only the task it runs (``autograder.batch.dispatch``), so
that its death counts against that task alone.
A lost scheduler cancels every future of the client: the batch stops (``ClusterLost``, exit
status 3) and a rerun goes on where it stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from multiprocessing import forkserver

import dask
from distributed import Client, LocalCluster
from distributed.utils import get_mp_context

from autograder.batch.worker import NOT_CHECKED, RESOURCE, WorkerChecks, verdict
from autograder.course import ClusterLost, UsageError
from autograder.grade.sandbox import Sandbox

ALLOWED_FAILURES = 1  # a task is run again once when its worker dies, not twice
WAIT_FOR_WORKERS = 60  # seconds an existing scheduler has to show its first worker
PRELOAD = "autograder.batch.worker"  # what a local worker process has imported when it starts
#: dask's housekeeping on a LocalCluster, made quieter: it shares the cores with the kernels.
#: A grading task is one long call, so dask's statistical profiler (a stack sample of every
#: thread, 100 times a second) and its 20 ms event-loop checks measure nothing useful, and a
#: worker holds no dask data for its memory monitor to spill.
QUIET = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}


@dataclass
class Cluster:
    """The client of a batch, and what its workers said at start-up."""

    client: Client
    local: LocalCluster | None
    address: str
    ready: dict[str, Sandbox | None] = field(default_factory=dict)  # worker -> its sandbox (None: --unsafe)
    refused: dict[str, str] = field(default_factory=dict)  # worker -> why it takes no task
    allowed_failures: int = ALLOWED_FAILURES

    @property
    def crashes(self) -> str:
        """How many worker deaths make a task fail, in words ("twice")."""
        times = self.allowed_failures + 1
        return {1: "once", 2: "twice"}.get(times, f"{times} times")

    def threads(self) -> int:
        """Threads of the workers that grade now (they hold ``RESOURCE``; a restarted one once it passed its checks)."""
        if self.client.status != "running":
            raise self.lost(f"the client is {self.client.status}")
        try:
            return self.client.run_on_scheduler(_grading_threads)
        except OSError as error:
            raise self.lost(str(error)) from None

    def lost(self, why: str) -> ClusterLost:
        return ClusterLost(f"lost the dask scheduler at {self.address} ({why})")

    def close(self) -> None:
        try:
            if self.local is None and self.client.status == "running":
                self.client.unregister_worker_plugin(WorkerChecks.name)
        except Exception:  # noqa: BLE001 - the scheduler may be gone already
            pass
        self.client.close()
        if self.local is not None:
            self.local.close()


def local_cluster(workers: int, processes: bool = True, env: dict[str, str] | None = None) -> LocalCluster:
    """A LocalCluster of ``workers`` single-threaded workers (processes unless a test asks for threads).

    The worker processes are forked from a forkserver that has imported the grader once
    (dask's ``multiprocessing-method``), as a process pool would: none imports nbgrader again.
    They get the environment the forkserver started with, updated with ``env``.
    """
    settings = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.worker.multiprocessing-method": "forkserver",
        **QUIET,
    }
    with dask.config.set(settings):
        if processes:
            get_mp_context()  # dask's forkserver: its own preload first, then ours (which imports distributed)
            forkserver.set_forkserver_preload([PRELOAD])
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            **({"env": env} if env else {}),
        )


def client_of(scheduler: str) -> Client:
    """A client of the scheduler at ``scheduler``; a ``UsageError`` naming it when it cannot be reached."""
    try:
        return Client(scheduler)
    except (OSError, ValueError, TypeError) as error:
        raise UsageError(
            f"--scheduler {scheduler}: cannot connect to a dask scheduler there "
            f"({str(error).strip() or type(error).__name__})"
        ) from None


def connect(workers: int, scheduler: str | None, checks: WorkerChecks) -> Cluster:
    """The client of a batch, its workers checked (see the module docstring)."""
    local: LocalCluster | None
    if scheduler:
        local, client, address = None, client_of(scheduler), scheduler
    else:
        local = local_cluster(workers)
        client, address = Client(local), local.scheduler_address
    cluster = Cluster(client, local, address)
    try:
        try:
            client.wait_for_workers(1 if scheduler else workers, timeout=WAIT_FOR_WORKERS)
        except TimeoutError:
            raise UsageError(f"{cluster.address}: no worker joined the scheduler within {WAIT_FOR_WORKERS} s") from None
        client.register_plugin(checks)
        for address, seen in sorted(client.run(verdict).items()):
            if not seen.problem:
                cluster.ready[address] = seen.sandbox
            elif seen.problem != NOT_CHECKED:
                cluster.refused[address] = seen.problem
        if not cluster.ready:
            reasons = "; ".join(f"worker {address}: {why}" for address, why in cluster.refused.items())
            raise UsageError(f"no worker of {cluster.address} can grade: {reasons or 'none was checked'}")
        cluster.allowed_failures = client.run_on_scheduler(_allowed_failures)
    except BaseException:
        cluster.close()
        raise
    return cluster


def _allowed_failures(dask_scheduler=None) -> int:
    return dask_scheduler.allowed_failures


def _grading_threads(dask_scheduler=None) -> int:
    return sum(ws.nthreads for ws in dask_scheduler.workers.values() if ws.resources.get(RESOURCE, 0) > 0)
