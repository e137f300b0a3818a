"""A batch's tasks on the cluster: the bundles shipped once, one task per distinct notebook, results as they arrive.

``outcomes(cluster, work, chapters)`` is the ``concurrent.futures`` shape of dask: it ships
each bundle to the workers once, in a worker plugin (``autograder.batch.worker.ReleaseBundles``:
a worker that joins or restarts later gets them too, where scattered data would be lost with
the workers that held it), with the chapter's expected values (from its reference run, which
the client took from the cache ``release`` filled). Then one ``grade_task`` per result key; it yields
``(key, Outcome)`` as each task finishes (``as_completed``) and drops the future, so that a
worker lost later does not make it run again. The caller, the client, is the only writer of
what they give.

Only as many tasks are in flight as the ready workers have threads (``Cluster.threads``),
topped up as each one ends (``as_completed.add``). Tasks that need a resource are never
queued by dask's scheduler: all of them would be sent to the workers at once, and when a
worker dies, dask counts the death against every task it holds (``allowed-failures``), so
two unrelated worker deaths would make innocent submissions "crash twice". With the
window, a worker holds the task it runs and nothing else.

What a task's end can be:

* its result: an ``Outcome``;
* its worker died twice (dask's ``KilledWorker``): an ``error`` outcome, "the grader crashed
  twice"; the batch goes on;
* it raised (a bug, a worker that cannot grade), or dask cancelled it: an ``error`` outcome
  saying why;
* the scheduler is gone (dask cancels every future): ``ClusterLost``; the batch stops.

"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from distributed import CancelledError, KilledWorker, as_completed

from autograder.batch.bundles import Bundle
from autograder.batch.cluster import Cluster
from autograder.batch.results import Outcome
from autograder.batch.worker import RESOURCE, ReleaseBundles, grade_task
from autograder.course import Chapter, ClusterLost, UsageError

GRADE = "autograder-grade-"  # a grading task's key: GRADE + its result key
LOST = "scheduler-connection-lost"  # dask's reason for the futures it cancels when the scheduler is gone


@dataclass(frozen=True)
class Prepared:
    """A chapter ready to grade: its bundles, its points, and its expected values when they are cached."""

    chapter: Chapter
    release: Bundle
    data: Bundle
    max_score: float
    expectations: dict  # grade id -> checks, from the chapter's reference run (autograder.grade.score)


@dataclass(frozen=True)
class Work:
    """One distinct notebook to grade."""

    chapter: str
    notebook: bytes
    timestamp: bytes | None


def outcomes(cluster: Cluster, work: dict[str, Work], chapters: dict[str, Prepared]) -> Iterator[tuple[str, Outcome]]:
    """(result key, outcome) of each piece of ``work``, in the order they finish (see the module docstring)."""
    if not work:
        return
    client = cluster.client
    needed = [chapters[name] for name in sorted({w.chapter for w in work.values()})]
    data = {chapter.data.digest: chapter.data for chapter in needed}
    expected = {c.release.digest: json.dumps(c.expectations) for c in needed}
    shipment = ReleaseBundles([c.release for c in needed], list(data.values()), expected)
    try:
        client.register_plugin(shipment)
    except Exception as error:  # noqa: BLE001 - say which workers could not take them
        raise UsageError(f"the workers could not unpack the releases: {type(error).__name__}: {error}") from None
    queue = iter(work.items())
    pending = as_completed()

    def top_up() -> None:
        """Keep as many tasks in flight as the workers can run."""
        while pending.count() < max(1, cluster.threads()):
            item = next(queue, None)
            if item is None:
                return
            key, w = item
            pending.add(
                client.submit(
                    grade_task,
                    chapters[w.chapter].release.digest,
                    w.notebook,
                    w.timestamp,
                    key=GRADE + key,
                    resources={RESOURCE: 1},
                )
            )

    try:
        top_up()
        for future in pending:  # the future is dropped once its result is taken: a worker lost later loses nothing
            outcome = _outcome(future, cluster)
            top_up()
            yield future.key[len(GRADE) :], outcome
    finally:
        _forget(client, shipment)


def _forget(client, shipment: ReleaseBundles) -> None:
    """The batch's plugin, removed from the scheduler (workers keep what they unpacked)."""
    if client.status != "running":
        return
    try:
        client.unregister_worker_plugin(shipment.name)
    except Exception:  # noqa: BLE001, S110 - the scheduler is gone
        pass


def _result(future, cluster: Cluster):
    """The future's result; ``ClusterLost`` when it was cancelled because the scheduler went away."""
    try:
        return future.result()
    except CancelledError as error:
        reason = getattr(error, "reason", None) or str(error)
        if cluster.client.status != "running" or reason == LOST:
            raise cluster.lost(reason) from None
        raise


def _outcome(future, cluster: Cluster) -> Outcome:
    try:
        return Outcome.from_wire(_result(future, cluster))
    except KilledWorker:
        return Outcome.failed(f"the grader crashed {cluster.crashes} while grading this notebook")
    except CancelledError as error:
        return Outcome.failed(f"the task was cancelled ({getattr(error, 'reason', None) or error})")
    except (ClusterLost, UsageError):
        raise
    except Exception as error:  # noqa: BLE001 - one task's failure must not stop the batch
        return Outcome.failed(f"{type(error).__name__}: {str(error).strip()[:300]}")
