"""Each protection of a graded kernel (autograder/grade/sandbox.py), proved by hostile submissions.

One batch of the tiny chapter (2 workers) grades:

* ``a_explorer``: one cell tries the network, reads the course's and the repository's
  files, writes everywhere, reports its uid and limits, and leaves IPython startup files
  in every HOME/IPYTHONDIR it can find; it prints what happened as JSON;
* ``b_fork_bomb``: processes that fork without end, next to the kernel;
* ``c_memory_hog``: a 20 GB allocation;
* ``d_slow``: an infinite loop in the first answer, so its test cell times out;
* ``e_witness``, ``f_witness``: honest students graded after them on the same workers,
  who report whether a startup file ran in their kernel.

Then ``grade`` itself: its workers refuse without bubblewrap (or when bubblewrap cannot
create namespaces), and so does ``grade``, unless ``--unsafe``. Last, a CPU-burning
submission next to an honest one: each kernel's cgroup keeps the honest one on time.
"""

from __future__ import annotations

import json
import re
import sysconfig
from pathlib import Path

import nbformat
import pytest
from fixtures.autograder_fixtures import CHAPTER, SECRET_EXPECTED, TOTAL, computed_once, write_tiny_chapter

from autograder import cli
from autograder.batch.cluster import local_cluster
from autograder.batch.run import grade
from autograder.course import ROOT, Chapter, CourseDir, UsageError
from autograder.grade import sandbox
from autograder.grade.submission import Limits
from autograder.release.assignment import release_chapter
from autograder.release.samples import filled, inject

pytestmark = [pytest.mark.autograder, pytest.mark.slow]

LIMITS = Limits(cell_timeout=10, time_limit=40)
REPORT, WITNESS, FORK_BOMB = "SANDBOX-REPORT ", "WITNESS ", "FORK-BOMB "

EXPLORER = r'''
import json, os, resource, socket

def attempt(action):
    try:
        value = action()
    except BaseException as error:
        return "blocked: " + type(error).__name__
    return "ok: " + str(value)[:200]

def write(path, text="written by a student"):
    with open(path, "w") as handle:
        handle.write(text)
    return path

def startup_file(ipython_dir):
    folder = os.path.join(ipython_dir, "profile_default", "startup")
    os.makedirs(folder, exist_ok=True)
    return write(os.path.join(folder, "00-planted.py"), "import builtins\nbuiltins.PLANTED = 'a_explorer'\n")

course, repo, site = COURSE, REPO, SITE  # set by the line before this cell's code
report = {
    "uid": [os.getuid(), os.geteuid(), os.getgid(), os.getgroups()],
    "status": {line.split(":")[0]: line.split(":")[1].strip() for line in open("/proc/self/status")
               if line.startswith(("CapEff", "CapBnd", "NoNewPrivs"))},
    "limits": {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name))
               for name in ("AS", "NPROC", "NOFILE", "FSIZE", "CORE", "CPU")},
    "network_ip": attempt(lambda: socket.create_connection(("1.1.1.1", 53), timeout=3)),
    "network_dns": attempt(lambda: socket.getaddrinfo("pypi.org", 443)),
    "read_gradebook": attempt(lambda: len(open(course + "/gradebook.db", "rb").read())),
    "read_course_source": attempt(lambda: os.listdir(course + "/source/" + CHAPTER)),
    "read_course_work": attempt(lambda: os.listdir(course + "/.work")),
    "read_submissions": attempt(lambda: os.listdir(SUBMISSIONS)),
    "read_other_student": attempt(lambda: os.listdir(course + "/autograded/e_witness")),
    "read_chapters": attempt(lambda: os.listdir(repo + "/chapters")),
    "read_solutions": attempt(lambda: open(repo + "/solutions/activations.py").read()),
    "read_samples": attempt(lambda: os.listdir(repo + "/autograder/samples")),
    "read_grader": attempt(lambda: os.listdir(repo + "/autograder")),
    "read_runtime": attempt(lambda: sorted(n for n in os.listdir("autograder") if n.endswith(".py"))),
    "read_git": attempt(lambda: open(repo + "/.git/HEAD").read()),
    "read_build": attempt(lambda: os.listdir(repo + "/_build")),
    "read_root_home": attempt(lambda: os.listdir("/root")),
    "read_own_notebook": attempt(lambda: len(open(CHAPTER + ".ipynb").read())),
    "write_working_folder": attempt(lambda: write("planted.txt")),
    "write_student_edition": attempt(lambda: write("solutions/__init__.py")),
    "write_venv": attempt(lambda: write(site + "/sitecustomize.py")),
    "write_autograder": attempt(lambda: write(repo + "/autograder/checks.py")),
    "write_tmp": attempt(lambda: write("/tmp/planted.txt")),
    "write_course": attempt(lambda: write(course + "/grades.csv")),
    "write_home": attempt(lambda: write(os.environ["HOME"] + "/notes.txt")),
    "write_tmpdir": attempt(lambda: write(os.environ["TMPDIR"] + "/notes.txt")),
    "startup_ipythondir": attempt(lambda: startup_file(os.environ["IPYTHONDIR"])),
    "startup_home": attempt(lambda: startup_file(os.path.expanduser("~/.ipython"))),
    "startup_root": attempt(lambda: startup_file("/root/.ipython")),
}
print("SANDBOX-REPORT", json.dumps(report))
'''

FORK_BOMB_CELL = r'''
import os, time

def multiply():
    while True:
        try:
            if os.fork() == 0:
                continue  # every child forks too
        except OSError:
            time.sleep(0.1)

if os.fork() == 0:
    try:
        multiply()
    finally:
        os._exit(0)
time.sleep(4)
print("FORK-BOMB", len([p for p in os.listdir("/proc") if p.isdigit()]))
'''

MEMORY_HOG_CELL = "hog = np.empty(20 * 10**9, dtype=np.uint8)  # 20 GB\n"

WITNESS_CELL = r'''
import builtins, os
print("WITNESS", getattr(builtins, "PLANTED", "clean"),
      sorted(os.listdir(os.path.join(os.environ["IPYTHONDIR"], "profile_default", "startup"))))
'''


def with_cell(nb, source: str, after: int = 1):
    """``nb`` with a plain code cell inserted after its cell ``after`` (1: the imports)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells.insert(after + 1, nbformat.v4.new_code_cell(source))
    return nb


def hostile_submissions(release_nb, source_nb, course: Path, submissions: Path) -> dict:
    reference = filled(release_nb, source_nb)
    paths = (str(course), str(ROOT), sysconfig.get_paths()["purelib"], str(submissions), CHAPTER)
    explorer = f"COURSE, REPO, SITE, SUBMISSIONS, CHAPTER = {paths!r}\n" + EXPLORER
    return {
        "a_explorer": with_cell(reference, explorer),
        "b_fork_bomb": with_cell(reference, FORK_BOMB_CELL),
        "c_memory_hog": with_cell(reference, MEMORY_HOG_CELL),
        "d_slow": inject(reference, "add_answer", "while True:\n    pass"),
        "e_witness": with_cell(reference, WITNESS_CELL, after=len(reference.cells) - 1),
        "f_witness": with_cell(reference, WITNESS_CELL, after=len(reference.cells) - 1),
    }


def grade_hostile_batch(base: Path) -> dict:
    source = write_tiny_chapter(base / "src")
    chapter = Chapter.resolve(str(source))
    release = release_chapter(CourseDir(base / "release"), chapter)
    release_nb = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    course, submissions = base / "out", base / "submissions"
    source_nb = nbformat.read(source, as_version=4)
    for student, nb in hostile_submissions(release_nb, source_nb, course, submissions).items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(nb, submissions / student / f"{CHAPTER}.ipynb")
    batch = grade(chapter, submissions, course, workers=2, limits=LIMITS, progress=False)
    graded = {student: nbformat.read(batch.course.autograded(student, CHAPTER) / f"{CHAPTER}.ipynb", as_version=4)
              for student in batch.by_student()}
    return {"base": base, "batch": batch, "graded": graded, "chapter": chapter}


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    return computed_once(tmp_path_factory, "autograder-sandbox-batch", grade_hostile_batch)


def printed(nb, prefix: str) -> str:
    """The text after ``prefix`` in the first stdout line of the notebook that starts with it."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for line in output.get("text", "").splitlines():
                if line.startswith(prefix):
                    return line[len(prefix):]
    raise AssertionError(f"no output line starts with {prefix!r}")


def errors(nb) -> list[str]:
    return [o.get("ename", "") for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


@pytest.fixture(scope="session")
def report(hostile):
    return json.loads(printed(hostile["graded"]["a_explorer"], REPORT))


def test_the_batch_reports_its_protections(hostile):
    lines = hostile["batch"].protections
    assert [line.split(":")[0] for line in lines] == ["network", "user", "limits", "files", "share"]
    log = (hostile["batch"].course.root / "logs" / CHAPTER / "_batch.log").read_text()
    assert "isolation: network: none" in log


def test_no_network(report):
    assert report["network_ip"].startswith("blocked: "), report["network_ip"]
    assert report["network_dns"].startswith("blocked: "), report["network_dns"]


def test_an_unprivileged_uid_of_its_own_without_capabilities(report):
    uid, euid, gid, groups = report["uid"]
    assert uid == euid == gid >= sandbox.KERNEL_UID_BASE and groups == []
    assert int(report["status"]["CapEff"], 16) == 0 and int(report["status"]["CapBnd"], 16) == 0
    assert report["status"]["NoNewPrivs"] == "1"


def test_resource_limits(report):
    limits = {name: tuple(value) for name, value in report["limits"].items()}
    assert limits["AS"] == (4 * 2**30,) * 2
    assert limits["NPROC"] == (256, 256) and limits["NOFILE"] == (1024, 1024) and limits["CORE"] == (0, 0)
    assert limits["FSIZE"] == (256 * 2**20,) * 2
    assert limits["CPU"] == (int(LIMITS.time_limit) + 60,) * 2


@pytest.mark.parametrize("what", ["read_gradebook", "read_course_source", "read_course_work", "read_submissions",
                                  "read_other_student", "read_chapters", "read_solutions", "read_git", "read_build"])
def test_the_course_the_repository_and_other_students_cannot_be_read(report, what):
    assert report[what].startswith("blocked: "), f"{what}: {report[what]}"


def test_reference_answers_and_hidden_tests_cannot_be_read(report):
    assert report["read_samples"].startswith("blocked: ")  # the grader's package is not in the kernel's view
    assert report["read_grader"].startswith("blocked: ")
    # of the autograder, the kernel sees only autograder.runtime, as its working folder's autograder/
    assert report["read_runtime"] == "ok: ['__init__.py', 'assignment.py', 'checks.py', 'i18n.py', 'probe.py']"
    assert report["read_root_home"] == "ok: ['.pyenv']" or report["read_root_home"].startswith("blocked")
    assert report["read_own_notebook"] == "blocked: PermissionError"  # nbgrader's copy, with the hidden tests
    assert SECRET_EXPECTED not in json.dumps(report)


@pytest.mark.parametrize("where", ["write_working_folder", "write_student_edition", "write_venv", "write_autograder",
                                   "write_tmp", "write_course", "startup_root"])
def test_nothing_outside_the_private_folder_can_be_written(report, hostile, where):
    assert report[where].startswith("blocked: "), f"{where}: {report[where]}"
    course = hostile["batch"].course
    assert not (course.autograded("a_explorer", CHAPTER) / "planted.txt").exists()
    assert not (Path(sysconfig.get_paths()["purelib"]) / "sitecustomize.py").exists()


def test_the_private_home_and_tmpdir_are_writable_and_removed_afterwards(report):
    for where in ("write_home", "write_tmpdir", "startup_ipythondir", "startup_home"):
        assert report[where].startswith("ok: /tmp/grader-kernel-"), f"{where}: {report[where]}"
    private_folder = Path(report["write_home"][len("ok: "):]).parents[1]
    assert private_folder.name.startswith("grader-kernel-") and not private_folder.exists()


def test_a_startup_file_planted_by_one_student_has_no_effect_on_the_next(hostile):
    for witness in ("e_witness", "f_witness"):
        seen = printed(hostile["graded"][witness], WITNESS)
        assert seen.startswith("clean [") and "00-planted.py" not in seen, f"{witness}: {seen}"
        assert hostile["batch"].by_student()[witness].score == TOTAL


def test_a_fork_bomb_is_contained_and_the_batch_goes_on(hostile):
    processes = int(printed(hostile["graded"]["b_fork_bomb"], FORK_BOMB))
    assert 100 < processes <= 256, processes  # the bomb went off, up to the limit of its uid
    results = hostile["batch"].by_student()
    bomb = results["b_fork_bomb"]
    assert (bomb.status, bomb.score) == ("graded", TOTAL), bomb.reason
    for student, result in results.items():
        assert result.status == "graded", f"{student}: {result.reason}"


def test_a_huge_allocation_fails_with_memory_error_and_later_cells_run(hostile):
    assert "MemoryError" in errors(hostile["graded"]["c_memory_hog"])
    result = hostile["batch"].by_student()["c_memory_hog"]
    assert (result.status, result.score) == ("graded", TOTAL), result.reason


def test_a_cell_timeout_interrupts_the_sandboxed_kernel_and_the_next_cells_score(hostile):
    result = hostile["batch"].by_student()["d_slow"]
    assert "(add_tests) timed out after" in result.reason, result.reason
    assert "ignored the interrupt" not in result.reason, result.reason
    assert result.cell_scores == {"add_tests": 0.0, "scale_tests": 3.0, "mean_tests": 5.0}, result.cell_scores


# ---------------------------------------------------------------------------
# grade without isolation
# ---------------------------------------------------------------------------


def test_grade_refuses_without_bubblewrap_unless_unsafe(hostile, tmp_path, capsys):
    submissions = tmp_path / "submissions"
    blank = hostile["base"] / "submissions" / "e_witness"
    (submissions / "e_witness").mkdir(parents=True)
    (submissions / "e_witness" / f"{CHAPTER}.ipynb").write_bytes((blank / f"{CHAPTER}.ipynb").read_bytes())
    args = ["grade", str(hostile["chapter"].path), str(submissions), "--no-progress",
            "--cell-timeout", "10", "--time-limit", "30"]

    with local_cluster(1, env={sandbox.BWRAP_ENV: str(tmp_path / "nowhere" / "bwrap")}) as cluster:
        with pytest.raises(UsageError, match=r"no worker of tcp://\S+ can grade: worker tcp://\S+: cannot isolate "
                                             r"the students' kernels: bwrap not found.*apt-get install bubblewrap"
                                             r".*--unsafe"):
            grade(hostile["chapter"], submissions, tmp_path / "refused", limits=LIMITS, progress=False,
                  scheduler=cluster.scheduler_address)
        assert cli.main([*args, "--out", str(tmp_path / "refused"), "--scheduler", cluster.scheduler_address]) == 2
    assert "bwrap not found" in capsys.readouterr().err
    assert not (tmp_path / "refused" / "grades.csv").exists() and not (tmp_path / "refused" / "autograded").exists()

    code = cli.main([*args, "--out", str(tmp_path / "unsafe"), "--unsafe", "--table", "--workers", "1"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "none: --unsafe" in out and "without isolation" in err
    assert re.search(rf"e_witness\s+{TOTAL:g}/{TOTAL:g}\s+graded", out), out


def test_grade_refuses_when_bubblewrap_cannot_create_namespaces(hostile, tmp_path):
    fake = tmp_path / "bwrap"  # fails as bubblewrap does in a container without the right to create namespaces
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    with local_cluster(1, env={sandbox.BWRAP_ENV: str(fake)}) as cluster:
        with pytest.raises(UsageError, match="No permissions to create new namespace.*--unsafe"):
            grade(hostile["chapter"], hostile["base"] / "submissions", tmp_path / "out", limits=LIMITS,
                  progress=False, scheduler=cluster.scheduler_address)


# ---------------------------------------------------------------------------
# fair share: a busy submission next to an honest one
# ---------------------------------------------------------------------------

BURNER_CELL = r'''
import os
born = os.pipe()  # (read end, write end)
for _ in range(200):  # busy processes, each in a session of its own: out of the kernel's process group
    if os.fork() == 0:
        os.setsid()
        os.close(born[1])
        os.read(born[0], 1)  # returns once every process is born (the kernel closed its end)
        while True:
            pass
os.close(born[1])
print("BURNING", 200)
'''
BUSY_LINE = "_busy = sum(i * i for i in range(2_000_000))  # about 0.3 s of one CPU\n"


def test_a_cpu_burning_submission_does_not_starve_an_honest_one(tmp_path):
    """Graded at the same time on two workers: 200 busy processes share their kernel's one CPU.

    Without a share per kernel the honest kernel would get about 1/200 of a CPU, and each of
    its busy answer cells would run past the 15 s cell timeout (0 points).
    """
    source = write_tiny_chapter(tmp_path / "src")
    chapter = Chapter.resolve(str(source))
    release = release_chapter(CourseDir(tmp_path / "release"), chapter)
    release_nb = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    reference = filled(release_nb, nbformat.read(source, as_version=4))
    burner = with_cell(reference, BURNER_CELL)
    for number in range(4):
        burner.cells.insert(3 + number, nbformat.v4.new_code_cell(f"time.sleep(10)  # still burning ({number})"))
    honest = nbformat.from_dict(json.loads(json.dumps(reference)))
    for cell in honest.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_answer"):
            cell.source = BUSY_LINE + cell.source
    submissions = tmp_path / "submissions"
    for student, nb in (("a_burner", burner), ("b_honest", honest)):
        (submissions / student).mkdir(parents=True)
        nbformat.write(nb, submissions / student / f"{CHAPTER}.ipynb")
    batch = grade(chapter, submissions, tmp_path / "out", workers=2, limits=Limits(cell_timeout=15, time_limit=90),
                  progress=False)
    assert any(line.startswith("share: a cgroup") for line in batch.protections), batch.protections
    results = batch.by_student()
    graded = nbformat.read(batch.course.autograded("a_burner", CHAPTER) / f"{CHAPTER}.ipynb", as_version=4)
    streams = ["".join(o.get("text", "") for o in c.get("outputs", [])) for c in graded.cells]
    assert any("BURNING 200\n" in text for text in streams)  # (a starved kernel sends its print in pieces)
    assert (results["b_honest"].status, results["b_honest"].score) == ("graded", TOTAL), results["b_honest"].reason
