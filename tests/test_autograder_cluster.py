"""Grading on a dask cluster (autograder/batch/cluster.py, dispatch.py, worker.py, results.py), with real faults.

Each test grades the tiny chapter (tests/fixtures/) on a real ``LocalCluster``, or on a
scheduler and workers started as processes, with real sandboxed kernels and a real
nbgrader gradebook:

* a worker killed mid-batch: its task runs again elsewhere, nothing is lost, nothing is
  graded twice; a submission whose worker is killed twice becomes an error row and the
  batch goes on;
* a batch interrupted (Ctrl-C) and run again completes without grading again what was done;
* a worker whose sandbox or installation check fails takes no task and is reported; with
  no worker able to grade, or a scheduler that cannot be reached, ``grade`` exits 2 before
  grading anything;
* the scheduler lost mid-batch: exit status 3, and a rerun goes on;
* a whole course (two chapters) in one batch.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import dask
import nbformat
import pytest
from distributed import Client
from fixtures.autograder_fixtures import CHAPTER, TOTAL, computed_once, release_tiny_chapter

from autograder import cli
from autograder.batch import run as batches
from autograder.batch.cluster import local_cluster
from autograder.batch.dispatch import GRADE
from autograder.batch.results import submission_digest
from autograder.batch.run import grade
from autograder.course import Chapter, ClusterLost, UsageError
from autograder.grade.submission import Limits
from autograder.release.samples import filled

pytestmark = [pytest.mark.autograder, pytest.mark.slow]

LIMITS = Limits(cell_timeout=20, time_limit=60)
DASK = str(Path(sys.executable).parent / "dask")
SLOW = "time.sleep(3)  # long enough for a test to find this task running"
SLOWER = "time.sleep(12)  # long enough for a test to find this task running, and kill its worker"


@pytest.fixture(scope="session")
def tiny(tmp_path_factory):
    def make(base: Path) -> dict:
        chapter, release_nb, source_nb = release_tiny_chapter(base)
        return {"chapter": chapter, "release": release_nb, "source": source_nb}
    return computed_once(tmp_path_factory, "autograder-cluster-chapter", make)


def write(folder: Path, notebooks: dict) -> Path:
    for student, nb in notebooks.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / student / f"{CHAPTER}.ipynb")
    return folder


def students(tiny, count: int, slow: bool = False, slower: tuple[int, ...] = ()) -> dict:
    """``count`` reference submissions, each different (a comment), optionally slowed down by a few seconds."""
    notebooks = {}
    for n in range(count):
        nb = filled(tiny["release"], tiny["source"])
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "add_answer")
        delay = SLOWER if n in slower else SLOW if slow else ""
        cell.source = f"{delay}\n# student {n}\n{cell.source}"
        notebooks[f"s{n:02d}"] = nb
    return notebooks


def gradebook_rows(course: Path) -> list[tuple[str, float]]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return sorted((s.student.id, s.code_score) for s in gb.find_assignment(CHAPTER).submissions)


def csv_rows(course: Path) -> dict[str, dict]:
    with open(course / "grades.csv", newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


# ---------------------------------------------------------------------------
# a worker killed mid-batch
# ---------------------------------------------------------------------------


class Killer(threading.Thread):
    """SIGKILLs the worker that runs the task of a target submission, as often as asked for each target."""

    def __init__(self, address: str, targets: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.client = Client(address)
        self.targets = dict(targets)  # submission digest -> kills left
        self.killed: list[str] = []
        self.stop = threading.Event()

    def running(self, digest: str) -> str | None:
        """The worker running the task of ``digest`` alone, if any."""
        for worker, keys in self.client.processing().items():
            if len(keys) == 1 and str(keys[0]).startswith(GRADE) and str(keys[0]).endswith(digest):
                return worker
        return None

    def run(self) -> None:
        while not self.stop.is_set() and any(self.targets.values()):
            for digest in [d for d, left in self.targets.items() if left]:
                worker = self.running(digest)
                if worker is None:
                    continue
                time.sleep(2.0)  # its kernel is running the slow cell
                pid = self.client.run(os.getpid, workers=[worker]).get(worker)
                if pid and self.running(digest) == worker:
                    os.kill(pid, signal.SIGKILL)
                    self.targets[digest] -= 1
                    self.killed.append(digest)
            time.sleep(0.1)
        self.client.close()


def digest_of(folder: Path, student: str) -> str:
    return submission_digest((folder / student / f"{CHAPTER}.ipynb").read_bytes(), None)


def test_a_killed_worker_loses_nothing_and_a_submission_that_kills_two_workers_is_an_error_row(tiny, tmp_path):
    submissions = write(tmp_path / "submissions", students(tiny, 5, slower=(1, 3)))
    once, twice = digest_of(submissions, "s01"), digest_of(submissions, "s03")
    warm_up = write(tmp_path / "warm-up", {"s00": nbformat.read(submissions / "s00" / f"{CHAPTER}.ipynb", 4)})
    with local_cluster(2) as cluster:
        # the expected values, kept for the batch: no task waits for the reference run (and shares a worker)
        grade(tiny["chapter"], warm_up, tmp_path / "out", limits=LIMITS, progress=False,
              scheduler=cluster.scheduler_address)
        killer = Killer(cluster.scheduler_address, {once: 1, twice: 2})
        killer.start()
        try:
            batch = grade(tiny["chapter"], submissions, tmp_path / "out", limits=LIMITS, progress=False,
                          scheduler=cluster.scheduler_address)
        finally:
            killer.stop.set()
            killer.join(timeout=30)
    assert sorted(killer.killed) == sorted([once, twice, twice]), [
        (r.student, r.status, r.reason) for r in batch.results
    ]
    results = batch.by_student()
    assert sorted(results) == ["s00", "s01", "s02", "s03", "s04"]
    crashed = results.pop("s03")
    assert crashed.status == "error" and "the grader crashed twice" in crashed.reason, crashed.reason
    for student, result in results.items():  # s01's task ran again on another worker
        assert (result.status, result.score) == ("graded", TOTAL), f"{student}: {result.reason}"
    assert gradebook_rows(tmp_path / "out") == [(f"s{n:02d}", 0.0 if n == 3 else TOTAL) for n in range(5)]
    stored = sorted(p.name for p in (tmp_path / "out" / ".work" / "results").iterdir())
    assert len(stored) == 4 and not any(name.endswith(twice) for name in stored)  # an error is not kept


# ---------------------------------------------------------------------------
# interrupted, then run again
# ---------------------------------------------------------------------------


def test_an_interrupted_batch_run_again_grades_only_what_was_not_done(tiny, tmp_path):
    submissions = write(tmp_path / "submissions", students(tiny, 4, slow=True))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(tiny["chapter"].path), str(submissions),
               "--out", str(out), "--workers", "1", "--no-progress", "--cell-timeout", "20", "--time-limit", "60"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = out / ".work" / "results"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and process.poll() is None:
        if results.is_dir() and len([p for p in results.iterdir() if not p.name.startswith(".")]) >= 2:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err[-2000:]
    done = {p.name: p.stat().st_mtime_ns for p in results.iterdir() if not p.name.startswith(".")}
    assert 2 <= len(done) < 4
    # each result is kept, then merged, as it arrives (Ctrl-C may come in between: the rerun merges it)
    assert len(done) - 1 <= len(gradebook_rows(out)) <= len(done), (gradebook_rows(out), err[-2000:])

    again = grade(tiny["chapter"], submissions, out, workers=1, limits=LIMITS, progress=False)
    assert len(again.reused) == len(done) and again.graded == 4 - len(done)
    assert {p.name: p.stat().st_mtime_ns for p in results.iterdir() if p.name in done} == done  # not written again
    assert [(r.status, r.score) for r in again.results] == [("graded", TOTAL)] * 4
    assert gradebook_rows(out) == [(f"s{n:02d}", TOTAL) for n in range(4)]
    assert [row["score"] for row in csv_rows(out).values()] == ["10"] * 4


# ---------------------------------------------------------------------------
# workers that cannot grade, a scheduler that cannot be reached or is lost
# ---------------------------------------------------------------------------


def fake_bwrap(folder: Path) -> Path:
    """A bwrap that fails as bubblewrap does in a container without the right to create namespaces."""
    script = folder / "bwrap"
    script.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    script.chmod(0o755)
    return script


def start_worker(address: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([DASK, "worker", address, "--nthreads", "1", "--no-dashboard"],
                            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_workers(address: str, count: int) -> None:
    with Client(address) as client:
        client.wait_for_workers(count, timeout=120)


@contextlib.contextmanager
def worker_without_bubblewrap(address: str, tmp_path: Path, workers: int):
    """A `dask worker` whose bubblewrap fails (``fake_bwrap``), until the scheduler has ``workers`` workers."""
    bad = start_worker(address, {"AUTOGRADER_BWRAP": str(fake_bwrap(tmp_path))})
    try:
        wait_for_workers(address, workers)
        yield
    finally:
        bad.terminate()
        bad.wait(timeout=60)


def test_a_worker_whose_sandbox_fails_takes_no_task_and_is_reported(tiny, tmp_path, capsys):
    submissions = write(tmp_path / "submissions", students(tiny, 2))
    with local_cluster(1) as cluster, worker_without_bubblewrap(cluster.scheduler_address, tmp_path, workers=2):
        code = cli.main(["grade", str(tiny["chapter"].path), str(submissions), "--out", str(tmp_path / "out"),
                         "--scheduler", cluster.scheduler_address, "--no-progress", "--table"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert err.count("refused to grade") == 1, err
    assert "cannot isolate the students' kernels: bubblewrap failed on this machine " \
           "(bwrap: No permissions to create new namespace)" in err
    assert [row["score"] for row in csv_rows(tmp_path / "out").values()] == ["10", "10"]


def test_no_worker_that_can_grade_is_a_usage_error_before_grading(tiny, tmp_path, capsys):
    submissions = write(tmp_path / "submissions", students(tiny, 1))
    with local_cluster(0) as cluster, worker_without_bubblewrap(cluster.scheduler_address, tmp_path, workers=1):
        code = cli.main(["grade", str(tiny["chapter"].path), str(submissions), "--out", str(tmp_path / "out"),
                         "--scheduler", cluster.scheduler_address, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"no worker of {cluster.scheduler_address} can grade: worker tcp://" in err
    assert "No permissions to create new namespace" in err
    assert not (tmp_path / "out" / "grades.csv").exists() and not (tmp_path / "out" / "autograded").exists()


def test_a_worker_whose_installation_differs_from_the_lock_is_refused(tiny, tmp_path, monkeypatch):
    submissions = write(tmp_path / "submissions", students(tiny, 1))
    real = batches.expected

    def another_lock():
        wanted = real()
        wanted["packages"]["numpy"] = "1.0.0"
        return wanted

    monkeypatch.setattr(batches, "expected", another_lock)
    with pytest.raises(UsageError, match=r"can grade: worker tcp://.*packages differ from the course's lock: "
                                         r"numpy 2\.\S+ \(lock: 1\.0\.0\)"):
        grade(tiny["chapter"], submissions, tmp_path / "out", workers=1, limits=LIMITS, progress=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_wrong_scheduler_address_exits_2_with_a_clear_message(tiny, tmp_path, capsys):
    submissions = write(tmp_path / "submissions", students(tiny, 1))
    address = f"tcp://127.0.0.1:{free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
        code = cli.main(["grade", str(tiny["chapter"].path), str(submissions), "--out", str(tmp_path / "out"),
                         "--scheduler", address, "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and f"--scheduler {address}: cannot connect to a dask scheduler there" in err, err


def test_a_lost_scheduler_stops_the_batch_with_exit_3_and_a_rerun_goes_on(tiny, tmp_path, capsys):
    submissions = write(tmp_path / "submissions", students(tiny, 4, slow=True))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([DASK, "scheduler", "--port", str(port), "--no-dashboard"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        worker = start_worker(address)
        wait_for_workers(address, 1)
        results = tmp_path / "out" / ".work" / "results"

        def kill_the_scheduler_after_the_first_result():
            while not (results.is_dir() and any(not p.name.startswith(".") for p in results.iterdir())):
                time.sleep(0.2)
            scheduler.kill()

        threading.Thread(target=kill_the_scheduler_after_the_first_result, daemon=True).start()
        code = cli.main(["grade", str(tiny["chapter"].path), str(submissions), "--out", str(tmp_path / "out"),
                         "--scheduler", address, "--no-progress", "--cell-timeout", "20", "--time-limit", "60"])
    finally:
        scheduler.kill()
        if worker is not None:
            worker.kill()
    err = capsys.readouterr().err
    assert code == 3, err
    assert f"stopped: lost the dask scheduler at {address}" in err and "run the same command again" in err
    done = len(list(results.iterdir()))
    again = grade(tiny["chapter"], submissions, tmp_path / "out", workers=2, limits=LIMITS, progress=False)
    assert len(again.reused) == done and again.graded == 4 - done
    assert [r.score for r in again.results] == [TOTAL] * 4, [(r.student, r.status, r.reason) for r in again.results]


def test_cluster_lost_is_exit_status_3(monkeypatch, capsys):
    def lost(args):
        raise ClusterLost("lost the dask scheduler at tcp://x:1 (scheduler-connection-lost)")

    monkeypatch.setattr(cli, "run_grade", lost)
    assert cli.main(["grade", "a", "b", "--out", "o"]) == 3


# ---------------------------------------------------------------------------
# a whole course
# ---------------------------------------------------------------------------


def test_a_whole_course_is_one_batch_with_each_chapter_s_rows(tiny, tmp_path):
    from autograder.course import CourseDir
    from autograder.release.assignment import release_chapter

    second = tmp_path / "src" / "00_tiny_b.ipynb"
    second.parent.mkdir()
    second.write_bytes(tiny["chapter"].path.read_bytes())
    chapter_b = Chapter.resolve(str(second))
    release_b = release_chapter(CourseDir(tmp_path / "release"), chapter_b)
    blank_b = nbformat.read(release_b / "00_tiny_b.ipynb", as_version=4)
    submissions = tmp_path / "submissions"
    for student in ("kim", "lee"):
        (submissions / student).mkdir(parents=True)
        nbformat.write(filled(tiny["release"], tiny["source"]), submissions / student / f"{CHAPTER}.ipynb")
    nbformat.write(blank_b, submissions / "kim" / "00_tiny_b.ipynb")
    (submissions / "park").mkdir()
    (submissions / "park" / "notes.ipynb").write_text(nbformat.writes(blank_b))
    batch = grade([tiny["chapter"], chapter_b], submissions, tmp_path / "out", workers=2, limits=LIMITS,
                  progress=False)
    assert batch.chapters == [CHAPTER, "00_tiny_b"]
    assert [(r.chapter, r.student, r.score) for r in batch.results] == [
        ("00_tiny", "kim", TOTAL), ("00_tiny", "lee", TOTAL), ("00_tiny_b", "kim", 0.0)]
    assert batch.graded == 2  # kim's and lee's reference notebooks are the same bytes: graded once
    assert batch.unmatched == ["park"]
    with open(tmp_path / "out" / "grades.csv", newline="") as handle:
        rows = [(r["chapter"], r["student_id"], r["score"]) for r in csv.DictReader(handle)]
    assert rows == [("00_tiny", "kim", "10"), ("00_tiny", "lee", "10"), ("00_tiny_b", "kim", "0")]


def test_all_takes_only_the_submissions(capsys):
    assert cli.main(["grade", "--all", "03_activations", "subs", "--out", "o"]) == 2
    assert "with --all, give only SUBMISSIONS" in capsys.readouterr().err
    assert cli.main(["grade", "subs", "--out", "o"]) == 2
    assert "give CHAPTER and SUBMISSIONS" in capsys.readouterr().err
    argv = ["grade", "03_activations", "subs", "--out", "o", "--workers", "2", "--scheduler", "tcp://x:1"]
    assert cli.main(argv) == 2
    assert "--workers sets the size of the local cluster" in capsys.readouterr().err


