"""A batch's tasks on the cluster: the bundles shipped once, one task per distinct notebook, results as they arrive.

``outcomes(cluster, work, chapters)`` is the ``concurrent.futures`` shape of dask: it ships
each bundle to the workers once (``Client.scatter``, under its digest), submits each
chapter's reference run when its expected values are not cached yet (first, and published
under ``autograder.grade.worker.expectations_name`` for the grading tasks to find), then one
``grade_task`` per result key, and yields ``(key, Outcome)`` as each task finishes
(``as_completed``). The caller, the client, is the only writer of what they give.

What a task's end can be:

* its result: an ``Outcome``;
* its worker died twice (dask's ``KilledWorker``): an ``error`` outcome, "the grader crashed
  twice"; the batch goes on;
* it raised (a bug, a worker that cannot grade): an ``error`` outcome saying what it raised;
* the scheduler is gone (the future is cancelled): ``ClusterLost``; the batch stops.

A chapter whose reference run fails stops the batch (``SealingError``, a usage error).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from distributed import CancelledError, KilledWorker, as_completed

from autograder.course import Chapter, ClusterLost, UsageError
from autograder.grade.bundles import Bundle
from autograder.grade.cluster import Cluster
from autograder.grade.results import Outcome
from autograder.grade.score import save_expectations
from autograder.grade.worker import (
    RESOURCE,
    expectations_name,
    grade_task,
    reference_task,
)

GRADE = "autograder-grade-"  # a grading task's key: GRADE + its result key
REFERENCE_PRIORITY = 10  # before any grading task: their scores wait for it


@dataclass(frozen=True)
class Prepared:
    """A chapter ready to grade: its bundles, its points, and its expected values when they are cached."""

    chapter: Chapter
    release: Bundle
    data: Bundle
    max_score: float
    expectation_key: str
    expectations_file: Path
    expectations: dict | None  # None: the reference run is a task of this batch


@dataclass(frozen=True)
class Work:
    """One distinct notebook to grade."""

    chapter: str
    notebook: bytes
    timestamp: bytes | None


def outcomes(cluster: Cluster, work: dict[str, Work], chapters: dict[str, Prepared]) -> Iterator[tuple[str, Outcome]]:
    """(result key, outcome) of each piece of ``work``, in the order they finish (see the module docstring)."""
    client = cluster.client
    needed = [chapters[name] for name in sorted({w.chapter for w in work.values()})]
    shipped = {}
    for chapter in needed:
        for kind, bundle in (("release", chapter.release), ("data", chapter.data)):
            name = f"autograder-{kind}-{bundle.digest}"
            shipped.setdefault(bundle.digest, client.scatter({name: bundle}, broadcast=True)[name])
    references = {}
    for chapter in needed:
        name = expectations_name(chapter.release.digest)
        if chapter.expectations is not None:
            future = client.scatter({name: json.dumps(chapter.expectations)})[name]
        else:
            future = client.submit(reference_task, shipped[chapter.release.digest], shipped[chapter.data.digest],
                                   key=name, priority=REFERENCE_PRIORITY, resources={RESOURCE: 1})
            references[name] = (future, chapter)
        client.publish_dataset(**{name: future}, override=True)
    futures = [client.submit(grade_task, shipped[chapters[w.chapter].release.digest],
                             shipped[chapters[w.chapter].data.digest], w.notebook, w.timestamp,
                             key=GRADE + key, resources={RESOURCE: 1})
               for key, w in work.items()]
    try:
        for future in as_completed([*futures, *(f for f, _ in references.values())]):
            if future.key in references:
                chapter = references[future.key][1]
                cells = json.loads(_result(future, cluster))
                save_expectations(chapter.expectations_file, chapter.expectation_key, cells)
                continue
            yield future.key[len(GRADE):], _outcome(future, cluster)
    finally:
        for chapter in needed:
            try:
                client.unpublish_dataset(expectations_name(chapter.release.digest))
            except Exception:  # noqa: BLE001 - the scheduler may be gone
                pass


def _result(future, cluster: Cluster):
    """The future's result; ``ClusterLost`` when it was cancelled because the scheduler went away."""
    try:
        return future.result()
    except CancelledError as error:
        raise ClusterLost(f"lost the dask scheduler at {cluster.address} ({getattr(error, 'reason', None) or error})"
                          ) from None


def _outcome(future, cluster: Cluster) -> Outcome:
    try:
        return Outcome.from_wire(_result(future, cluster))
    except KilledWorker:
        return Outcome.failed(f"the grader crashed {cluster.crashes} while grading this notebook")
    except (ClusterLost, UsageError):
        raise
    except Exception as error:  # noqa: BLE001 - one task's failure must not stop the batch
        return Outcome.failed(f"{type(error).__name__}: {str(error).strip()[:300]}")
