"""Every command of the instructor guide (book/instructor_guide.md), run as the page shows it.

The guide shows its commands in fenced ``bash`` blocks. An HTML comment on the line before
each block (invisible on the website) says how it is tested:

``<!-- guide-test: lms -->``, ``hub``, ``lms hub``
    run here, in the term that grades an LMS's zip export, in the term that uses JupyterHub's
    exchange, or in both. Each term is a folder of its own with ``dnn-from-scratch`` (a link to
    this repository) in it, as the guide sets it up; each block runs in one ``bash``, from
    that folder, with the venv's ``bin`` first on ``PATH``.
``<!-- guide-test: elsewhere tests/<file>.py -->``
    needs a browser or a web server: that test file runs it, and must name each command.
``<!-- guide-test: nbgrader-config -->``
    (a ``python`` block) the hub's ``nbgrader_config.py``: written to the term's Jupyter
    configuration folder (``JUPYTER_CONFIG_DIR``).

What an LMS or a student would do between the blocks, the test does: it makes the LMS's
zip export (Canvas's file names and a Moodle folder, from the guide's own sample
submissions), the Canvas roster and the Moodle worksheet, scores the written answers as a
grader does in formgrader (nbgrader's Gradebook API; the browser path is
tests/test_hand_grading.py), and on the hub fetches, submits and fetches the feedback with
nbgrader's own commands. ``/srv/nbgrader/exchange`` becomes a folder of the test, and
``sudo`` is dropped. A ``python -m autograder`` command may exit with 1 (the guide says what
it means: something needs your attention, or some grades are not final); any other command
must exit with 0.
"""

from __future__ import annotations

import csv
import getpass
import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "book" / "instructor_guide.md"
CHAPTER = "01_gradient_descent"
EXCHANGE = "/srv/nbgrader/exchange"
TAGS = {"lms", "hub", "elsewhere", "nbgrader-config"}
BLOCK = re.compile(r"^(?P<comment><!--\s*guide-test:(?P<tags>[^>]*)-->\s*\n)?```(?P<lang>\w+)\n(?P<body>.*?)^```",
                   re.MULTILINE | re.DOTALL)

pytestmark = pytest.mark.autograder


@dataclass(frozen=True)
class Block:
    """One fenced block of the guide: its language, its test tags, its lines, where it is."""

    lang: str
    tags: tuple[str, ...]
    lines: tuple[str, ...]
    line_number: int

    @property
    def commands(self) -> list[str]:
        return [line for line in self.lines if line.strip() and not line.lstrip().startswith("#")]


def guide_blocks() -> list[Block]:
    text = GUIDE.read_text(encoding="utf-8")
    return [Block(m["lang"], tuple((m["tags"] or "").split()), tuple(m["body"].splitlines()),
                  text[: m.start()].count("\n") + 1)
            for m in BLOCK.finditer(text)]


def bash_blocks(term: str) -> list[Block]:
    return [b for b in guide_blocks() if b.lang == "bash" and term in b.tags]


# ---------------------------------------------------------------------------
# fast: every block says how it is tested
# ---------------------------------------------------------------------------


def test_every_command_block_says_how_it_is_tested():
    blocks = guide_blocks()
    bash = [b for b in blocks if b.lang == "bash"]
    assert len(bash) >= 10
    for block in bash:
        assert block.tags, (
            f"instructor_guide.md line {block.line_number}: a bash block without <!-- guide-test: ... -->"
        )
        assert block.tags[0] in TAGS, f"line {block.line_number}: unknown guide-test tag {block.tags[0]!r}"
        if block.tags[0] == "elsewhere":
            where = ROOT / block.tags[1]
            assert where.is_file(), f"line {block.line_number}: {block.tags[1]} does not exist"
            text = where.read_text(encoding="utf-8")
            for command in block.commands:
                for part in command.split("&&"):
                    words = part.split()
                    if words and words[0] != "cd":
                        assert " ".join(words[:2]) in text, f"{block.tags[1]} does not run {' '.join(words[:2])!r}"
    assert [b for b in blocks if "nbgrader-config" in b.tags and b.lang == "python"]
    for step in ("release", "grade", "export", "feedback", "nbgrader release_assignment", "nbgrader collect",
                 "nbgrader release_feedback", "--format canvas", "--format moodle"):
        assert any(step in c for b in bash for c in b.commands), f"the guide shows no {step!r}"


# ---------------------------------------------------------------------------
# running the blocks
# ---------------------------------------------------------------------------


def term_folder(base: Path, config: str = "") -> tuple[Path, dict[str, str]]:
    """A folder for one term, with the repository linked in as the guide clones it, and its environment."""
    base.mkdir(parents=True, exist_ok=True)
    (base / "dnn-from-scratch").symlink_to(ROOT, target_is_directory=True)
    jupyter_config = base / "jupyter-config"
    jupyter_config.mkdir()
    if config:
        (jupyter_config / "nbgrader_config.py").write_text(config, encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "JUPYTER_CONFIG_DIR": str(jupyter_config), "JUPYTER_PLATFORM_DIRS": "1"}
    env.pop("VIRTUAL_ENV", None)
    return base, env


def as_run_here(command: str, exchange: Path) -> str:
    return command.replace("sudo ", "").replace(EXCHANGE, str(exchange))


def run_block(block: Block, folder: Path, env: dict[str, str], exchange: Path) -> str:
    """The block's commands in one bash, from ``folder``; fails on an exit status the guide does not explain."""
    script = []
    for command in block.commands:
        allowed = 1 if "-m autograder" in command else 0
        script.append(f"{as_run_here(command, exchange)}\nstatus=$?\nif [ $status -gt {allowed} ]; then "
                      f"echo 'guide-test: exit status '$status' from: {command}' >&2; exit $status; fi")
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=folder, env=env, capture_output=True, text=True,
                          timeout=1800)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"instructor_guide.md line {block.line_number}:\n{output[-4000:]}"
    return output


def nbgrader(args: list[str], folder: Path, env: dict[str, str]) -> str:
    """A student's nbgrader command (fetch, submit, fetch feedback)."""
    done = subprocess.run(["nbgrader", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------
# what the LMS gives the instructor
# ---------------------------------------------------------------------------

CANVAS_STUDENTS = {  # Canvas login -> (name, Canvas user id, sample)
    "kimjin": ("Kim, Jin", "101", "reference"),
    "leemin": ("Lee, Min", "102", "partly_wrong"),
    "parkso": ("Park, So", "103", "damaged"),
}
MOODLE_STUDENT = ("Jane Roe", "777", "jane@example.org", "blank")  # a Moodle folder in the same export
CANVAS_COLUMN = f"{CHAPTER}: Gradient descent (9001)"


def lms_export(samples: Path, target: Path) -> None:
    """The zip an LMS exports: Canvas's file names, and one Moodle folder, from the guide's sample submissions."""
    from autograder.plumbing import is_written_cell

    with zipfile.ZipFile(target, "w") as archive:
        for login, (_, user_id, sample) in CANVAS_STUDENTS.items():
            late = "LATE_" if login == "leemin" else ""
            name = f"{login}_{late}{user_id}_{5000 + int(user_id)}_{CHAPTER}.ipynb"
            text = (samples / sample / f"{CHAPTER}.ipynb").read_text(encoding="utf-8")
            if sample == "reference":  # and the written answers, for the grader
                nb = nbformat.reads(text, as_version=4)
                for cell in filter(is_written_cell, nb.cells):
                    cell.source = "The loss falls fastest along the negative gradient, so each step goes there."
                text = nbformat.writes(nb)
            archive.writestr(name, text)
        name, participant, _, sample = MOODLE_STUDENT
        archive.write(samples / sample / f"{CHAPTER}.ipynb",
                      f"{name}_{participant}_assignsubmission_file_/{CHAPTER}.ipynb")


def canvas_roster(target: Path) -> None:
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CANVAS_COLUMN, "Current Score"],
            ["    Points Possible", "", "", "", "", "18", ""]]
    rows += [[name, user_id, f"S{user_id}", f"{login}@uni.example", "DNN-1", "", ""]
             for login, (name, user_id, _) in CANVAS_STUDENTS.items()]
    with open(target, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def moodle_worksheet(target: Path) -> None:
    name, participant, email, _ = MOODLE_STUDENT
    target.write_text("Identifier,Full name,Email address,Status,Grade,Maximum Grade,Grade can be changed\n"
                      f"Participant {participant},{name},{email},Submitted for grading,,18.00,Yes\n", encoding="utf-8")


def grade_by_hand(course: Path, student: str) -> None:
    """Full points for every written answer of ``student``, as a grader enters them in formgrader."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for grade in gb.find_submission_notebook(CHAPTER, CHAPTER, student).grades:
            if grade.cell_type == "markdown":
                grade.manual_score = grade.max_score
                grade.needs_manual_grade = False
        gb.db.commit()


@pytest.mark.slow
def test_the_lms_term_runs_as_the_guide_shows(tmp_path):
    folder, env = term_folder(tmp_path / "term-lms")
    exchange = tmp_path / "exchange-unused"
    for block in bash_blocks("lms"):
        text = "\n".join(block.commands)
        if "submissions.zip" in text:
            lms_export(folder / "samples", folder / "submissions.zip")
        if "export" in text:
            grade_by_hand(folder / "course", "kimjin")
            canvas_roster(folder / "Grades-DNN.csv")
            moodle_worksheet(folder / "worksheet-01.csv")
        run_block(block, folder, env, exchange)

    course = folder / "course"
    assert (folder / "samples" / "reference" / f"{CHAPTER}.ipynb").is_file()
    assert (course / "release" / CHAPTER / f"{CHAPTER}.ipynb").is_file()
    assert zipfile.ZipFile(course / "assignments" / f"{CHAPTER}.zip").namelist()
    graded = {row["student_id"]: row for row in read_rows(course / "grades.csv")}
    assert set(graded) == {"kimjin", "leemin", "parkso", "777"}
    kimjin = graded["kimjin"]
    assert (kimjin["status"], kimjin["score"], kimjin["max_score"]) == ("graded", "14", "14")
    assert graded["parkso"]["status"] == "unreadable" and graded["777"]["score"] == "0"

    final = {row["student_id"]: row for row in read_rows(course / "final_grades.csv")}
    kim = final["kimjin"]
    assert (kim[f"{CHAPTER}_auto"], kim[f"{CHAPTER}_manual"], kim[f"{CHAPTER}_total"], kim[f"{CHAPTER}_max"],
            kim[f"{CHAPTER}_status"]) == ("14", "4", "18", "18", "complete")
    assert final["parkso"][f"{CHAPTER}_status"] == "needs attention"
    canvas = list(csv.reader(open(course / "canvas_import.csv", newline="", encoding="utf-8")))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", CANVAS_COLUMN]
    assert canvas[1] == ["    Points Possible", "", "", "", "", "18"]
    # by the Canvas id in its file name
    assert canvas[2] == ["Kim, Jin", "101", "S101", "kimjin@uni.example", "DNN-1", "18"]
    assert canvas[4][-1] == ""  # parkso: needs attention, not exported
    moodle = list(csv.reader(open(course / "moodle_import.csv", newline="", encoding="utf-8")))
    assert moodle[0] == ["Email address", CHAPTER] and moodle[1][0] == "jane@example.org"
    page = (course / "feedback" / "kimjin" / CHAPTER / f"{CHAPTER}.html").read_text(encoding="utf-8")
    assert "Score: 18 / 18" in page


@pytest.mark.slow
def test_the_jupyterhub_term_runs_as_the_guide_shows(tmp_path):
    exchange = tmp_path / "exchange"
    config_block = next(b for b in guide_blocks() if "nbgrader-config" in b.tags)
    folder, env = term_folder(tmp_path / "term-hub", as_run_here("\n".join(config_block.lines), exchange) + "\n")
    student = folder / "student-home"
    student.mkdir()
    for block in bash_blocks("hub"):
        text = "\n".join(block.commands)
        if "nbgrader collect" in text:  # the student fetches, works and submits, in the Assignments tab
            nbgrader(["fetch_assignment", CHAPTER], student, env)
            from autograder.course import Chapter
            from autograder.release.samples import filled

            notebook = student / CHAPTER / f"{CHAPTER}.ipynb"
            release = nbformat.read(notebook, as_version=4)
            nbformat.write(filled(release, nbformat.read(Chapter.resolve(CHAPTER).path, as_version=4)), notebook)
            nbgrader(["submit", CHAPTER], student, env)
        run_block(block, folder, env, exchange)
        if "nbgrader release_feedback" in text:
            nbgrader(["fetch_feedback", CHAPTER], student, env)

    user = getpass.getuser()
    assert (folder / "course" / "submitted" / user / CHAPTER / f"{CHAPTER}.ipynb").is_file()
    graded = {row["student_id"]: row for row in read_rows(folder / "graded" / "grades.csv")}
    assert (graded[user]["status"], graded[user]["score"]) == ("graded", "14")
    pages = list((student / CHAPTER / "feedback").glob(f"*/{CHAPTER}.html"))
    assert len(pages) == 1, "the feedback did not reach the student"
    assert "Autograded score: 14 / 14" in pages[0].read_text(encoding="utf-8")
