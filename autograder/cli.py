"""Command line: ``python -m autograder release|grade|feedback|export|samples|mapping``
(also the ``autograder`` script).

Exit status: 0 when everything was graded, 1 when some submissions need the
instructor's attention (they are listed; for ``export``: some grades are not final yet),
2 on a usage error (nothing was graded), 3 when ``grade`` lost its dask scheduler half-way
(what was graded is kept: run it again).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from autograder.course import Chapter, ClusterLost, UsageError, all_chapters

EPILOG = "Documentation: autograder/README.md"
FORMATS = {"course": "final_grades.csv", "canvas": "canvas_import.csv", "moodle": "moodle_import.csv"}  # default files


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value:g} must be more than 0")
    return value


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, grade and give feedback on the course's nbgrader assignments.",
        epilog=EPILOG,
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release = commands.add_parser(
        "release", help="make the student assignments (nbgrader generate_assignment)", epilog=EPILOG
    )
    release.add_argument(
        "chapters", nargs="*", metavar="CHAPTER", help="chapter ids such as 03_activations (default: every chapter)"
    )
    release.add_argument(
        "--out",
        required=True,
        type=Path,
        help="course directory; releases go to OUT/release/<chapter>/, the zip files students "
        "download to OUT/assignments/<chapter>.zip",
    )
    release.add_argument(
        "--language",
        default="en",
        metavar="CODE",
        help="the language of the release: en (default) or a language of book/locale/languages.yml, "
        "e.g. ko: the notebook's prose, the checks' messages and the README in that language, "
        "the same code and graded cells; zip files go to OUT/assignments/CODE/<chapter>.zip",
    )
    release.add_argument(
        "--check",
        action="store_true",
        help="also run each chapter's reference answers against its release (student edition of "
        "`solutions`), probe the edition for answers, and list the problems; exit 1 if any",
    )

    grade = commands.add_parser(
        "grade",
        help="grade a folder or zip file of submissions",
        epilog=EPILOG,
        usage="python -m autograder grade (CHAPTER SUBMISSIONS | --all SUBMISSIONS) --out COURSE [options]",
    )
    grade.add_argument(
        "targets",
        nargs="+",
        metavar="CHAPTER SUBMISSIONS",
        help="a chapter id (e.g. 03_activations) or a source .ipynb, then a folder of "
        "<student_id>/<anything>.ipynb or an LMS zip export; with --all, only SUBMISSIONS",
    )
    grade.add_argument(
        "--all",
        action="store_true",
        help="grade every chapter found in SUBMISSIONS (notebooks named <chapter>.ipynb) in one batch",
    )
    grade.add_argument(
        "--out", required=True, type=Path, help="course directory: grades.csv, feedback/, gradebook.db, ..."
    )
    grade.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        help=f"worker processes of the local dask cluster (default: the number of CPUs, {os.cpu_count() or 1} here)",
    )
    grade.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on the existing dask cluster of this scheduler (e.g. tcp://10.0.0.5:8786) "
        "instead of a local cluster",
    )
    grade.add_argument(
        "--cell-timeout",
        type=_positive_int,
        default=300,
        metavar="SECONDS",
        help="time limit of one cell (default %(default)s)",
    )
    grade.add_argument(
        "--time-limit",
        type=_positive_float,
        default=900.0,
        metavar="SECONDS",
        help="time limit of a whole notebook (default %(default)g)",
    )
    grade.add_argument(
        "--library",
        choices=("student",),
        default="student",
        help="the solutions package the kernels import: always the release's student edition "
        "(the only choice; the option is accepted for older scripts)",
    )
    grade.add_argument(
        "--unsafe",
        action="store_true",
        help="run the kernels without isolation (no bubblewrap); only for notebooks you trust",
    )
    grade.add_argument("--table", action="store_true", help="print every student's row, not only those to look at")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")

    feedback = commands.add_parser(
        "feedback",
        epilog=EPILOG,
        help="write each graded student's feedback page again, with the hand grading of formgrader",
    )
    feedback.add_argument("chapter", metavar="CHAPTER", help="chapter id (e.g. 03_activations) or a source .ipynb")
    feedback.add_argument(
        "--out",
        required=True,
        type=Path,
        help="the course directory `grade` wrote (gradebook.db, autograded/, feedback/)",
    )

    export = commands.add_parser(
        "export",
        epilog=EPILOG,
        help="final grades from the gradebook: one CSV for the course, or the grade import file of Canvas or Moodle",
    )
    export.add_argument(
        "chapters",
        nargs="*",
        metavar="CHAPTER",
        help="chapter ids (or source notebooks) to export (default: every chapter of the gradebook)",
    )
    export.add_argument("--out", required=True, type=Path, help="the course directory (gradebook.db, grades.csv)")
    export.add_argument(
        "--format",
        choices=FORMATS,
        default="course",
        help="course: points and status per chapter (default); canvas: Canvas's Gradebook import; "
        "moodle: Moodle's grade import (both need --roster)",
    )
    export.add_argument(
        "--file",
        type=Path,
        help="the CSV file to write (default: OUT/"
        + FORMATS["course"]
        + ", OUT/"
        + FORMATS["canvas"]
        + ", OUT/"
        + FORMATS["moodle"]
        + ")",
    )
    export.add_argument(
        "--roster",
        type=Path,
        action="append",
        default=[],
        metavar="CSV",
        help="the LMS's students: Canvas's Gradebook export, or Moodle's grading worksheet of each "
        "assignment (repeat the option); any CSV with a student_id column works too",
    )

    samples = commands.add_parser("samples", help="write sample submissions made from a chapter", epilog=EPILOG)
    samples.add_argument("chapter", metavar="CHAPTER")
    samples.add_argument("--out", required=True, type=Path, help="folder for <sample>/<chapter>.ipynb")

    commands.add_parser(
        "mapping", help="print which solutions functions are which chapter's graded answers", epilog=EPILOG
    )
    return main


def run_release(args) -> int:
    from autograder.course import CourseDir
    from autograder.release.assignment import release
    from autograder.release.bundle import bundle

    names = args.chapters or all_chapters()
    if not names:
        raise UsageError("there are no chapters in chapters/ to release")
    chapters = [Chapter.resolve(name) for name in names]
    translated = args.language != "en"
    if translated:
        from autograder.release.catalogs import languages
        from autograder.release.translated import translate_release

        if args.language not in languages():
            raise UsageError(
                f"--language {args.language}: the course's languages are en and {', '.join(languages())} "
                "(book/locale/languages.yml)"
            )
    for chapter, folder in zip(chapters, release(chapters, args.out), strict=True):
        if translated:
            translate_release(folder, chapter, args.language)
        downloads = args.out / "assignments" / (args.language if translated else "")
        zipped = bundle(CourseDir(args.out.resolve()), chapter, downloads)
        print(f"released {folder}  (for download: {zipped})")
    if not args.check:
        return 0
    from autograder.release.check import check_release
    from autograder.release.leaks import kept_notes

    status = 0
    for chapter in chapters:
        problems = check_release(chapter, args.out / ".work" / chapter.id / "check")
        print(
            f"\n{chapter.id}: "
            + (
                "the release runs with its student edition of `solutions` and gives no answer away"
                if not problems
                else "problems of the release with its student edition:"
            )
        )
        for line in problems + kept_notes(chapter):
            print(f"  {line}")
        status |= bool(problems)
    return status


def grade_targets(args) -> tuple[Chapter | list[Chapter], Path]:
    """(chapter or every chapter, submissions) from ``grade``'s positional arguments."""
    if args.all:
        if len(args.targets) != 1:
            raise UsageError("with --all, give only SUBMISSIONS (every chapter found there is graded)")
        return [Chapter.resolve(name) for name in all_chapters()], Path(args.targets[0])
    if len(args.targets) != 2:
        raise UsageError("give CHAPTER and SUBMISSIONS (or --all SUBMISSIONS to grade every chapter found)")
    return Chapter.resolve(args.targets[0]), Path(args.targets[1])


def run_grade(args) -> int:
    from autograder.batch.report import table
    from autograder.batch.run import grade
    from autograder.grade.submission import Limits

    chapters, submissions = grade_targets(args)
    if args.scheduler and args.workers:
        raise UsageError("--workers sets the size of the local cluster; with --scheduler the cluster's workers grade")
    workers = args.workers or os.cpu_count() or 1
    limits = Limits(cell_timeout=args.cell_timeout, time_limit=args.time_limit)
    batch = grade(
        chapters,
        submissions,
        args.out,
        workers=workers,
        limits=limits,
        library=args.library,
        progress=not args.no_progress,
        unsafe=args.unsafe,
        scheduler=args.scheduler,
    )
    if args.table:
        print(table(batch.results))
    graded = sum(1 for r in batch.results if r.status not in ("unreadable", "missing", "error"))
    where = f"on {args.scheduler}" if args.scheduler else f"{workers} workers"
    writing = f"; the client wrote each result in {1000 * batch.writing / batch.graded:.0f} ms" if batch.graded else ""
    print(
        f"\n{batch.chapter}: {len(batch.results)} notebooks, {graded} graded, in {batch.seconds:.0f} s ({where}; "
        f"{batch.graded} graded now, {len(batch.reused)} results of an earlier run reused{writing})"
    )
    print(f"grades:   {batch.course.grades_csv}")
    print(f"feedback: {batch.course.root / 'feedback'}/<student_id>/<chapter>/<chapter>.html")
    print(f"nbgrader: cd {batch.course.root} && nbgrader export   (or formgrader in JupyterLab)")
    print("isolation of the kernels:")
    for line in batch.protections:
        print(f"  {line}")
    for worker, why in batch.refused.items():
        print(f"worker {worker} refused to grade: {why}", file=sys.stderr)
    if batch.unmatched:
        print(f"\nnot graded, no notebook named after a chapter: {', '.join(batch.unmatched)}")
    if batch.attention:
        count = len(batch.attention)
        print(f"\n{count} submission{'s need' if count > 1 else ' needs'} your attention:")
        for result in batch.attention:
            chapter = f" ({result.chapter})" if len(batch.chapters) > 1 else ""
            print(f"  {result.student}{chapter}: {result.status}: {result.reason}")
    return 1 if batch.attention or batch.unmatched else 0


def run_feedback(args) -> int:
    from autograder.course import text_table
    from autograder.term.regenerate import regenerate_feedback

    chapter = Chapter.resolve(args.chapter)
    done = regenerate_feedback(chapter, args.out)
    if done.pages:
        print(text_table(("student_id", "header", "page"), ((p.student, p.score.headline, p.path) for p in done.pages)))
    waiting = sum(not page.score.complete for page in done.pages)
    print(
        f"\n{chapter.id}: {len(done.pages)} feedback pages written in {done.seconds:.0f} s; "
        f"{waiting} still wait for hand grading (their header says so)"
    )
    if done.not_graded:
        print(f"not graded, their notice from `grade` is kept: {', '.join(done.not_graded)}")
    if done.skipped:
        print(f"\n{len(done.skipped)} student{'s' if len(done.skipped) > 1 else ''} skipped:")
        for student, why in done.skipped:
            print(f"  {student}: {why}")
        return 1
    return 0


def run_export(args) -> int:
    from autograder.course import CourseDir
    from autograder.term.export import course_rows, read_final_grades, summary, write_rows
    from autograder.term.lms import canvas_rows, moodle_rows

    if args.format != "course" and not args.roster:
        raise UsageError(f"--format {args.format} needs --roster: the LMS's list of students (see --help)")
    course = CourseDir(args.out.resolve())
    chapters = [Path(name).stem if name.endswith(".ipynb") else name for name in args.chapters]
    final = read_final_grades(course, chapters or None)
    notes = list(final.notes)
    if args.format == "course":
        rows = course_rows(final)
    else:
        rows = (canvas_rows if args.format == "canvas" else moodle_rows)(final, args.roster, notes)
    path = write_rows(args.file or course.root / FORMATS[args.format], rows)
    print(summary(final))
    students, exported = len(final.students), len(final.chapters)
    print(
        f"\n{students} student{'s' * (students != 1)}, {exported} chapter{'s' * (exported != 1)} "
        f"({args.format}): {path}"
    )
    for note in notes:
        print(f"note: {note}")
    if final.waiting:
        kept = "" if args.format == "course" else "; their cells are left empty"
        print(f"\n{final.waiting} grades are not final yet (needs hand grading or needs attention){kept}")
        return 1
    return 0


def run_samples(args) -> int:
    import nbformat

    from autograder.course import CourseDir
    from autograder.release.assignment import release_chapter
    from autograder.release.samples import write_samples

    chapter = Chapter.resolve(args.chapter)
    with tempfile.TemporaryDirectory() as scratch:
        release_folder = release_chapter(CourseDir(Path(scratch)), chapter)
        release_nb = nbformat.read(release_folder / f"{chapter.id}.ipynb", as_version=4)
    source_nb = nbformat.read(chapter.path, as_version=4)
    for path in write_samples(release_nb, source_nb, chapter.id, args.out):
        print(path)
    return 0


def run_mapping(args) -> int:
    from autograder.release.student_edition import mapping_table

    print(mapping_table(), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = {
        "release": run_release,
        "grade": run_grade,
        "feedback": run_feedback,
        "export": run_export,
        "samples": run_samples,
        "mapping": run_mapping,
    }
    try:
        return command[args.command](args)
    except UsageError as error:
        print(f"python -m autograder {args.command}: error: {error}", file=sys.stderr)
        return 2
    except ClusterLost as error:
        print(f"python -m autograder {args.command}: stopped: {error}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
