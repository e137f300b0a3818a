"""Grading throughput: `autograder grade --workers 2` (a dask LocalCluster) against stock serial `nbgrader autograde`.

All grade the same N copies (default 20) of one chapter's reference submission, in one run,
on this machine. Each copy differs from the others by one metadata field: the grader grades
identical notebooks once, and this benchmark measures grading, not that.

* stock:    `nbgrader autograde CHAPTER` in a course directory where `nbgrader
  generate_assignment` already ran (only the autograde command is timed);
* pool:     with `--pool-from COMMIT`, the same `python -m autograder grade` command of an
  earlier commit of this repository (extracted with `git archive`), e.g. 725f210, the last
  with the process pool, timed in the same run;
* cluster:  `python -m autograder grade CHAPTER SUBMISSIONS --out DIR --workers 2`, end to
  end: the LocalCluster and its workers' checks, course preparation, the chapter's expected
  values, grading, feedback HTML, gradebook merge, grades.csv. Twice:
  - warm: the chapter's reference run comes from the cache the release above filled, as on
    an instructor's machine (``release`` runs it, for the leak probe of the student edition);
  - with its reference run: from a copy of the grader's files and of this checkout's caches
    less the chapter's own reference run, which ``grade`` therefore runs (its preparation
    of the release needs it before the first task).

Prints each wall time, the throughput (submissions per minute), and the ratio stock/ours.
The target is at least 1.8x on 2 cores, the reference run included. Every contestant must
give every copy full marks. Measured figures: bench/README.md.

    .venv/bin/python bench/grading_throughput.py [--chapter 05_regularization] [--copies 20] [--workers 2]
                                                 [--pool-from 725f210]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course import Chapter, CourseDir, all_chapters  # noqa: E402

#: what `grade` reads (`book/`: the release's references.bib)
TREE = ("autograder", "solutions", "chapters", "data", "book", "constraints.txt", "pyproject.toml")


def tool_env(pythonpath: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def run(command: list[str], cwd: Path, pythonpath: Path | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=tool_env(pythonpath), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    for line in done.stdout.splitlines():
        if "graded now" in line:  # `grade`'s summary: the client's share of each result
            print(f"  ({line.strip()})")
    return seconds


def reference_copies(chapter: Chapter, scratch: Path, copies: int) -> tuple[list[Path], Path]:
    """The chapter's reference answers in its release (autograder.release.samples), ``copies`` times, each different;
    and the release folder (what a student's submission folder holds besides the notebook)."""
    import nbformat

    from autograder.release.assignment import release_chapter
    from autograder.release.samples import sample_notebooks

    release = release_chapter(CourseDir(scratch / "release-course"), chapter)
    release_nb = nbformat.read(release / f"{chapter.id}.ipynb", as_version=4)
    reference = sample_notebooks(release_nb, nbformat.read(chapter.path, as_version=4))["reference"]
    paths = []
    for number in range(copies):
        reference.metadata["bench_copy"] = number
        paths.append(scratch / "copies" / f"s{number:03d}.ipynb")
        paths[-1].parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(reference, paths[-1])
    return paths, release


def stock_serial(chapter: Chapter, copies: list[Path], release: Path, course: Path) -> tuple[float, list[float]]:
    """Stock nbgrader, its source folder as the course's: the notebook, and the release's `solutions/` (student
    edition), `autograder/` (checks) and `data/`, which nbgrader copies to the folder it grades in."""
    shutil.copytree(release, course / "source" / chapter.id, ignore=shutil.ignore_patterns("*.ipynb"))
    shutil.copy(chapter.path, course / "source" / chapter.id / f"{chapter.id}.ipynb")
    common = [f"--CourseDirectory.root={course}", "--CourseDirectory.course_id=bench"]
    run([sys.executable, "-m", "nbgrader", "generate_assignment", chapter.id, *common], course)
    for copy in copies:
        target = course / "submitted" / copy.stem / chapter.id / f"{chapter.id}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(copy, target)
    seconds = run([sys.executable, "-m", "nbgrader", "autograde", chapter.id, *common], course)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        scores = [s.code_score for s in gb.find_assignment(chapter.id).submissions]
    return seconds, scores


def autograder_grade(chapter_id: str, copies: list[Path], scratch: Path, workers: int,
                     tree: Path | None = None) -> tuple[float, list[float]]:
    """``python -m autograder grade`` of this repository, or of an extracted ``tree`` of another commit."""
    folder = scratch / "submissions"
    for copy in copies:
        target = folder / copy.stem / f"{chapter_id}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(copy, target)
    out = scratch / "out"
    seconds = run([sys.executable, "-m", "autograder", "grade", chapter_id, str(folder), "--out", str(out),
                   "--workers", str(workers), "--no-progress"], tree or ROOT, pythonpath=tree)
    with open(out / "grades.csv", newline="") as handle:
        scores = [float(row["score"]) for row in csv.DictReader(handle)]
    return seconds, scores


def fresh_copy(folder: Path) -> Path:
    """The files ``grade`` reads, as they are now, without this checkout's caches (``_build/``)."""
    folder.mkdir(parents=True)
    for name in TREE:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    return folder


def without_reference_run(chapter: Chapter, folder: Path) -> Path:
    """``fresh_copy`` with this checkout's caches (``_build/``), less the chapter's own reference run."""
    from jupyter_cache.cache.main import JupyterCacheBase

    from autograder.release import reference_run

    tree = fresh_copy(folder)
    for cache in (reference_run.CACHE_DIR, ROOT / "_build" / ".gradebooks"):
        if cache.is_dir():
            shutil.copytree(cache, tree / cache.relative_to(ROOT))
    cache = JupyterCacheBase(str(tree / reference_run.CACHE_DIR.relative_to(ROOT)))
    runs = [r for r in cache.list_cache_records() if Path(r.uri).name.startswith(f"{chapter.id}-")]
    if not runs:
        sys.exit(f"{chapter.id}: its reference run is not in {reference_run.CACHE_DIR}")
    for record in runs:
        cache.remove_cache(record.pk)
    return tree


def extract(commit: str, folder: Path) -> Path:
    """The files ``grade`` reads, as they were at ``commit`` (git archive)."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit, *TREE], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def line(name: str, seconds: float, copies: int) -> str:
    return f"{name:<40} {seconds:7.1f} s  {60 * copies / seconds:6.1f} submissions/min"


def main() -> int:
    chapters = all_chapters()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", default="05_regularization" if "05_regularization" in chapters else chapters[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pool-from", metavar="COMMIT", help="also time `grade` of this commit (the process pool)")
    args = parser.parse_args()
    chapter = Chapter.resolve(args.chapter)
    load = os.getloadavg()[0]
    print(f"chapter {chapter.id}, {args.copies} copies of the reference submission, {os.cpu_count()} CPUs, "
          f"load average {load:.1f} at the start")
    scores = {}
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as scratch_name:
        scratch = Path(scratch_name)
        copies, release = reference_copies(chapter, scratch, args.copies)
        stock, scores["stock"] = stock_serial(chapter, copies, release, scratch / "stock")
        print(line("stock nbgrader autograde (serial)", stock, args.copies), flush=True)
        if args.pool_from:
            tree = extract(args.pool_from, scratch / "pool-tree")
            pool, scores["pool"] = autograder_grade(chapter.id, copies, scratch / "pool", args.workers, tree)
            print(line(f"grade --workers {args.workers}, pool ({args.pool_from})", pool, args.copies), flush=True)
        ours, scores["cluster"] = autograder_grade(chapter.id, copies, scratch / "cluster", args.workers)
        print(line(f"grade --workers {args.workers}, LocalCluster, warm", ours, args.copies), flush=True)
        cold, scores["cold"] = autograder_grade(chapter.id, copies, scratch / "cold", args.workers,
                                                without_reference_run(chapter, scratch / "cold-tree"))
        print(line(f"grade --workers {args.workers}, with its reference run", cold, args.copies), flush=True)
    print(f"throughput ratio, LocalCluster: {stock / ours:.2f}x stock serial with the release's cache, "
          f"{stock / cold:.2f}x with the reference run (target >= 1.8x on 2 cores, the reference run included)")
    if args.pool_from:
        print(f"throughput ratio, pool:         {stock / pool:.2f}x stock serial; LocalCluster / pool time: "
              f"{ours / pool:.3f}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    expected = sorted(scores["stock"])
    if len(set(expected)) != 1 or any(sorted(s) != expected for s in scores.values()):
        print(f"scores differ: {scores}")
        return 1
    print(f"every copy scored {expected[0]:g} with each")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
