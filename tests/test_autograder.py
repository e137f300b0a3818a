"""The autograder's parts that need no kernel: CLI usage, submissions, reading notebooks,
the student edition of `solutions` (mapping and leaks), feedback redaction, expected points.

The grading of real notebooks is in test_autograder_grading.py (a tiny fixture chapter)
and test_autograder_chapters.py (every chapter, slow).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import zipfile
from types import SimpleNamespace

import nbformat
import pytest
from fixtures.autograder_fixtures import write_tiny_chapter
from nbgrader.preprocessors import ClearSolutions

from autograder import cli
from autograder.batch.collect import SubmittedFile, Unreadable, clean_student_id, collect, read_notebook
from autograder.course import ROOT, Chapter, all_chapters
from autograder.grade.feedback import friendly_error
from autograder.grade.sanitize import RestoreCells
from autograder.plumbing import (
    RELEASE_PREPROCESSORS,
    ClearSolutionsWithNamedStubs,
    public_lines,
    secret_lines,
    visible_source,
)
from autograder.release.samples import expected_points
from autograder.release.student_edition import (
    answer_map,
    build_student_edition,
    chapters_from,
    find_secret,
    graded_definitions,
    library_definitions,
    names_needed_by_checks,
    secrets,
)

pytestmark = pytest.mark.autograder

CHAPTERS = all_chapters()


def per_chapter():
    return pytest.mark.parametrize(
        "chapter", [pytest.param(c, marks=getattr(pytest.mark, f"ch{c[:2]}")) for c in CHAPTERS]
    )


def notebook_bytes(cells=None) -> bytes:
    nb = nbformat.v4.new_notebook(cells=cells or [nbformat.v4.new_code_cell("x = 1")])
    return nbformat.writes(nb).encode()


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------


def test_usage_errors_exit_with_status_2(tmp_path, capsys):
    submissions = tmp_path / "subs"
    submissions.mkdir()
    assert cli.main(["grade", "99_no_such_chapter", str(submissions), "--out", str(tmp_path / "o")]) == 2
    assert "99_no_such_chapter" in capsys.readouterr().err
    tiny = write_tiny_chapter(tmp_path / "src")
    assert cli.main(["grade", str(tiny), str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    assert "no such folder or zip file" in capsys.readouterr().err
    assert cli.main(["grade", str(tiny), str(submissions), "--out", str(submissions / "out")]) == 2
    assert "inside the submissions folder" in capsys.readouterr().err
    collected = tmp_path / "course" / "submitted"  # what `nbgrader collect` fills: grade would rewrite it
    (collected / "kim" / "00_tiny").mkdir(parents=True)
    assert cli.main(["grade", str(tiny), str(collected), "--out", str(tmp_path / "course")]) == 2
    assert "is the submitted/ folder of --out" in capsys.readouterr().err
    assert (collected / "kim" / "00_tiny").is_dir()
    (tmp_path / "notes.txt").write_text("not a zip")
    assert cli.main(["grade", str(tiny), str(tmp_path / "notes.txt"), "--out", str(tmp_path / "o")]) == 2
    for bad in (["grade", str(tiny), str(submissions), "--out", "o", "--workers", "0"], ["grade"], ["frobnicate"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(bad)
        assert stop.value.code == 2


def test_console_script_is_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'autograder = "autograder.__main__:main"' in text
    from autograder.__main__ import main

    assert main is cli.main


def test_python_dash_m_autograder_mapping_runs():
    done = subprocess.run([sys.executable, "-m", "autograder", "mapping"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "chapter" in done.stdout


# ---------------------------------------------------------------------------
# collecting submissions
# ---------------------------------------------------------------------------


def test_student_ids_from_folders_files_and_lms_names(tmp_path):
    root = tmp_path / "subs"
    (root / "s001").mkdir(parents=True)
    (root / "s001" / "03_activations.ipynb").write_bytes(notebook_bytes())
    (root / "s001" / ".ipynb_checkpoints").mkdir()
    (root / "s001" / ".ipynb_checkpoints" / "03_activations-checkpoint.ipynb").write_bytes(notebook_bytes())
    (root / "Jane Doe_123456_assignsubmission_file_").mkdir()
    (root / "Jane Doe_123456_assignsubmission_file_" / "work.ipynb").write_bytes(notebook_bytes())
    (root / "kimminsu_LATE_4411_99120_03_activations.ipynb").write_bytes(notebook_bytes())
    (root / "lee.ipynb").write_bytes(notebook_bytes())
    (root / "park ji-hoon").mkdir()
    (root / "park ji-hoon" / "nested").mkdir()
    (root / "park ji-hoon" / "nested" / "03_activations.ipynb").write_bytes(notebook_bytes())
    (root / ".DS_Store").write_bytes(b"")
    (root / "index.html").write_text("<p>LMS export</p>")  # not a submission
    (root / "choijin_7_8_report.pdf").write_bytes(b"%PDF-1.4")  # Canvas: choijin submitted a PDF
    (root / "__MACOSX").mkdir()
    found = {s.student: s for s in collect(root, tmp_path / "scratch")}
    assert sorted(found) == ["123456", "choijin", "kimminsu", "lee", "park_ji-hoon", "s001"]
    assert found["choijin"].choose("03_activations")[1] == (
        "missing notebook: no .ipynb file (found choijin_7_8_report.pdf)"
    )
    assert [f.name for f in found["s001"].files] == ["03_activations.ipynb"]  # checkpoints ignored
    assert found["kimminsu"].choose("03_activations") == (found["kimminsu"].files[0], "")  # Canvas: original name
    chosen, note = found["lee"].choose("03_activations")
    assert chosen.name == "lee.ipynb" and note == "graded lee.ipynb (expected 03_activations.ipynb)"
    assert found["park_ji-hoon"].choose("03_activations")[1] == ""
    assert clean_student_id("  ../evil/..  ") == "evil"


def test_choose_the_expected_notebook_or_the_only_one(tmp_path):
    root = tmp_path / "subs"
    (root / "a").mkdir(parents=True)
    for name in ("draft.ipynb", "03_activations.ipynb", "notes.pdf"):
        (root / "a" / name).write_bytes(notebook_bytes())
    (root / "b").mkdir()
    (root / "b" / "x.ipynb").write_bytes(notebook_bytes())
    (root / "b" / "y.ipynb").write_bytes(notebook_bytes())
    (root / "c").mkdir()
    (root / "c" / "answers.py").write_text("x = 1")
    (root / "empty").mkdir()
    found = {s.student: s for s in collect(root, tmp_path / "scratch")}
    assert "empty" not in found  # submitted nothing: no row
    assert found["a"].choose("03_activations")[0].name == "03_activations.ipynb"
    assert found["b"].choose("03_activations") == (
        None, "missing notebook: no 03_activations.ipynb among 2 notebooks (x.ipynb, y.ipynb)"
    )
    assert found["c"].choose("03_activations")[1].startswith("missing notebook")


def test_zip_export_with_a_top_folder_and_a_damaged_member(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("export/s1/03_activations.ipynb", notebook_bytes())
        zf.writestr("export/s2/03_activations.ipynb", notebook_bytes())
        zf.writestr("export/s2/.ipynb_checkpoints/x.ipynb", notebook_bytes())
        zf.writestr("__MACOSX/export/s1/._03_activations.ipynb", b"junk")
        zf.writestr("export/../../escape.ipynb", notebook_bytes())
    # damage s2's notebook inside the archive: flip bytes of its compressed data
    data = bytearray(archive.read_bytes())
    start = data.index(b"export/s2/03_activations.ipynb") + len("export/s2/03_activations.ipynb")
    data[start + 10 : start + 40] = b"\x00" * 30
    archive.write_bytes(bytes(data))
    found = {s.student: s for s in collect(archive, tmp_path / "scratch")}
    assert sorted(found) == ["s1", "s2"]
    assert read_notebook(found["s1"].files[0]).cells[0].source == "x = 1"
    with pytest.raises(Unreadable, match="damaged in the zip file|invalid JSON|not a valid"):
        read_notebook(found["s2"].files[0])
    assert not (tmp_path / "escape.ipynb").exists()


def test_symbolic_links_are_never_followed_and_say_where_they_point(tmp_path):
    root, elsewhere = tmp_path / "subs", tmp_path / "elsewhere"
    (elsewhere / "folder").mkdir(parents=True)
    (elsewhere / "03_activations.ipynb").write_bytes(notebook_bytes())
    (elsewhere / "folder" / "03_activations.ipynb").write_bytes(notebook_bytes())
    (root / "honest").mkdir(parents=True)
    (root / "honest" / "03_activations.ipynb").write_bytes(notebook_bytes())
    (root / "outside").mkdir()
    (root / "outside" / "03_activations.ipynb").symlink_to(elsewhere / "03_activations.ipynb")
    (root / "inside").mkdir()
    (root / "inside" / "03_activations.ipynb").symlink_to("../honest/03_activations.ipynb")
    (root / "dangling").mkdir()
    (root / "dangling" / "03_activations.ipynb").symlink_to(tmp_path / "nothing.ipynb")
    (root / "subfolder").mkdir()
    (root / "subfolder" / "03_activations.ipynb").write_bytes(notebook_bytes())
    (root / "subfolder" / "work").symlink_to(elsewhere / "folder", target_is_directory=True)
    (root / "whole").symlink_to(elsewhere / "folder", target_is_directory=True)
    (root / "top.ipynb").symlink_to(elsewhere / "03_activations.ipynb")
    (root / "README.md").symlink_to(elsewhere / "03_activations.ipynb")  # not a submission: ignored
    found = {s.student: s for s in collect(root, tmp_path / "scratch")}
    assert sorted(found) == ["dangling", "honest", "inside", "outside", "subfolder", "top", "whole"]
    assert found["honest"].links == [] and len(found["honest"].files) == 1
    assert found["outside"].links == [
        "symbolic link: outside/03_activations.ipynb points to a file outside the submissions folder "
        f"({elsewhere / '03_activations.ipynb'}); the grader reads only regular files"]
    assert found["outside"].files == []  # never read
    assert "inside/03_activations.ipynb points to honest/03_activations.ipynb, inside the submissions folder" in \
        found["inside"].links[0]
    assert "points to nothing" in found["dangling"].links[0]
    assert found["subfolder"].links == [
        "symbolic link: subfolder/work points to a folder outside the submissions folder "
        f"({elsewhere / 'folder'}); the grader reads only regular files"]
    assert [f.name for f in found["subfolder"].files] == ["03_activations.ipynb"]  # nothing read through the link
    assert "symbolic link: whole points to a folder outside" in found["whole"].links[0] and not found["whole"].files
    assert "symbolic link: top.ipynb points to a file outside" in found["top"].links[0]

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("s1/03_activations.ipynb", notebook_bytes())
        member = zipfile.ZipInfo("s2/03_activations.ipynb")
        member.external_attr = (0o120777 << 16)  # a symbolic link, as `zip --symlinks` stores it
        zf.writestr(member, "/home/instructor/chapters/03_activations.ipynb")
    zipped = {s.student: s for s in collect(archive, tmp_path / "scratch")}
    assert zipped["s1"].links == [] and zipped["s2"].files == []
    assert zipped["s2"].links == ["symbolic link: s2/03_activations.ipynb in the zip file points to "
                                  "/home/instructor/chapters/03_activations.ipynb; the grader reads only regular files"]


def test_canvas_file_names_give_canvas_user_ids(tmp_path):
    root = tmp_path / "subs"
    root.mkdir()
    (root / "doejane_LATE_4411_99120_03_activations.ipynb").write_bytes(notebook_bytes())
    (root / "lee.ipynb").write_bytes(notebook_bytes())
    found = {s.student: s for s in collect(root, tmp_path / "scratch")}
    assert (found["doejane"].lms_user_id, found["lee"].lms_user_id) == ("4411", None)


@pytest.mark.parametrize(
    "data, why",
    [
        (b"", "the file is empty"),
        (b"   \n", "only whitespace"),
        (b'{"cells": [', "invalid JSON (line 1"),
        (b"%PDF-1.4\n\xe2\xe3", "PDF file"),
        (json.dumps({"answers": 1}).encode(), "without notebook cells"),
        (json.dumps({"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}).encode(), "nbformat 5 is newer"),
        (json.dumps({"cells": [{"cell_type": "code"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode(),
         "not a valid nbformat 4 notebook"),
    ],
)
def test_unreadable_notebooks_say_why(tmp_path, data, why):
    path = tmp_path / "n.ipynb"
    path.write_bytes(data)
    with pytest.raises(Unreadable, match=None) as error:
        read_notebook(SubmittedFile("n.ipynb", path))
    assert why in str(error.value)


def test_old_nbformat_is_unreadable_and_4_4_is_fine(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    old = tmp_path / "old.ipynb"
    old.write_text(nbformat.writes(nbformat.convert(copy.deepcopy(nb), 3)))
    with pytest.raises(Unreadable, match="nbformat 3 is too old"):
        read_notebook(SubmittedFile("old.ipynb", old))
    four = json.loads(nbformat.writes(nb))
    four["nbformat_minor"] = 4
    for cell in four["cells"]:
        cell.pop("id", None)
    ok = tmp_path / "ok.ipynb"
    ok.write_text(json.dumps(four))
    assert read_notebook(SubmittedFile("ok.ipynb", ok)).cells[0].source == "x = 1"


# ---------------------------------------------------------------------------
# the student edition of `solutions`
# ---------------------------------------------------------------------------


def test_graded_definitions_are_the_functions_with_a_solution_region(tmp_path):
    nb = nbformat.read(write_tiny_chapter(tmp_path), as_version=4)
    assert graded_definitions(nb) == {"add": "add_answer", "scale": "scale_answer", "mean": "mean_answer"}
    helper = nbformat.v4.new_code_cell(
        "def given(x):\n    return x\n\ndef todo(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    )
    helper.metadata["nbgrader"] = {
        "solution": True, "grade_id": "h", "grade": False, "locked": False, "schema_version": 3
    }
    assert graded_definitions(nbformat.v4.new_notebook(cells=[helper])) == {"todo": "h"}


def test_mapping_matches_answer_cells_and_library_names():
    library = library_definitions()
    mapped = {(a.chapter, a.name) for a in answer_map()}
    for chapter in CHAPTERS:
        nb = nbformat.read(Chapter.resolve(chapter).path, as_version=4)
        for name in graded_definitions(nb):
            assert ((chapter, name) in mapped) == (name in library), f"{chapter}: {name}"


@pytest.mark.skipif("03_activations" not in CHAPTERS, reason="chapter 3 is not written yet")
def test_mapping_knows_chapter_3_activations():
    answers = {a.qualname: a.chapter for a in answer_map([Chapter.resolve("03_activations")])}
    for name in ("relu", "leaky_relu", "relu_backward", "leaky_relu_backward", "elu", "elu_backward"):
        assert answers[f"solutions.activations.{name}"] == "03_activations"


@per_chapter()
def test_student_edition_stubs_answers_and_hides_every_later_secret(chapter, tmp_path):
    edition = build_student_edition(Chapter.resolve(chapter), tmp_path)
    owners = chapters_from(Chapter.resolve(chapter))
    stubbed = {(s.module, s.qualname) for s in edition.stubs}
    for answer in answer_map(owners):
        if answer.name not in names_needed_by_checks():
            assert (answer.module, answer.name) in stubbed, answer
    files = {p: p.read_text() for p in (tmp_path / "solutions").glob("*.py")}
    for owner in owners:
        for secret in secrets(owner):
            for path, text in files.items():
                assert not find_secret(text, secret), f"{path.name} holds the {secret.kind} of {owner.id}:{secret.cell}"
    assert set(files) == {tmp_path / "solutions" / p.name for p in (ROOT / "solutions").glob("*.py")}


def test_student_edition_stubs_raise_and_name_the_chapter_earlier_answers_work(tmp_path):
    answers = answer_map()
    if len({a.chapter for a in answers}) < 2:
        pytest.skip("needs two chapters whose answers are library functions")
    first = answers[0]
    later_chapter = next(a.chapter for a in answers if a.chapter > first.chapter)
    build_student_edition(Chapter.resolve(first.chapter), tmp_path / "own")
    build_student_edition(Chapter.resolve(later_chapter), tmp_path / "later")
    probe = (
        "import importlib, inspect, sys\n"
        f"module = importlib.import_module('solutions.{first.module}')\n"
        "assert module.__file__.startswith(sys.argv[1]), module.__file__\n"
        f"function = getattr(module, {first.name!r})\n"
        "required = [p for p in inspect.signature(function).parameters.values() if p.default is p.empty]\n"
        "try:\n    function(*[None] * len(required))\nexcept NotImplementedError as error:\n    print('STUB', error)\n"
        "except Exception as error:\n    print('RUNS', type(error).__name__)\n"
    )
    own = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "own")], cwd=tmp_path / "own",
                         capture_output=True, text=True)
    assert own.returncode == 0, own.stderr
    assert f"STUB solutions.{first.module}.{first.name} is an exercise of this chapter ({first.chapter})" in own.stdout
    later = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "later")], cwd=tmp_path / "later",
                           capture_output=True, text=True)
    assert later.returncode == 0, later.stderr
    assert "RUNS" in later.stdout  # called with None arguments it fails, but not as a stub


# ---------------------------------------------------------------------------
# the named stubs (no kernel)
# ---------------------------------------------------------------------------


def answer(source: str, grade_id: str, cell_type: str = "code"):
    make = nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell
    cell = make(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": cell_type == "markdown", "grade_id": grade_id,
                                 "locked": False, "schema_version": 3, "points": 1 if cell_type == "markdown" else 0}
    return cell


def stubbed(cells) -> list[str]:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb, _ = ClearSolutionsWithNamedStubs().preprocess(nb, {})
    return [cell.source for cell in nb.cells]


def test_each_stub_names_its_function_or_method_exercise_and_chapter():
    region = "### BEGIN SOLUTION\n{indent}return 1\n{indent}### END SOLUTION"
    sources = stubbed([
        nbformat.v4.new_markdown_cell("# 4. Momentum\n\nText."),
        nbformat.v4.new_markdown_cell("## Build it\n### Part 2: the step $m(t)$ (3 points)"),
        answer('def step(w):\n    """Doc."""\n    ' + region.format(indent="    ") + "\n\n\ndef other(w):\n    "
               + region.format(indent="    "), "step_answer"),
        nbformat.v4.new_markdown_cell("### Exercise 3 (seed 000): nodes"),
        answer("class Node:\n    def forward(self, x):\n        " + region.format(indent="        "), "node_answer"),
        answer("x = 1\n" + region.format(indent=""), "top_level_answer"),
        answer("x = 1", "whole_cell_answer"),
        answer("### BEGIN SOLUTION\nmodel answer\n### END SOLUTION", "written", cell_type="markdown"),
    ])
    assert sources[2] == (
        'def step(w):\n    """Doc."""\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("step: write this function (chapter 4, Part 2: the step m(t))")\n\n\n'
        'def other(w):\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("other: write this function (chapter 4, Part 2: the step m(t))")')
    assert sources[4].endswith(
        '        raise NotImplementedError("Node.forward: write this method (chapter 4, Exercise 3: nodes)")')
    assert sources[5] == (
        'x = 1\n# YOUR CODE HERE\nraise NotImplementedError("write your code here (chapter 4, Exercise 3: nodes)")'
    )
    assert sources[6] == (
        '# YOUR CODE HERE\nraise NotImplementedError("write your code here (chapter 4, Exercise 3: nodes)")'
    )
    assert sources[7] == "YOUR ANSWER HERE"
    for source in sources[2:7]:
        compile(source, "stub", "exec")  # every stub is Python


def test_stubs_without_headings_still_name_the_function():
    sources = stubbed([answer("def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION", "f_answer")])
    assert sources == ['def f():\n    # YOUR CODE HERE\n    raise NotImplementedError("f: write this function")']


def test_the_release_and_the_restored_answer_use_the_named_stubs():
    assert ClearSolutionsWithNamedStubs in RELEASE_PREPROCESSORS and ClearSolutions not in RELEASE_PREPROCESSORS
    restore = RestoreCells()
    restore.stubs = ClearSolutionsWithNamedStubs(chapter="chapter 0", exercise="Exercise 2: scale")
    source_cell = SimpleNamespace(name="scale_answer", cell_type="code", locked=False, checksum="",
                                  source="def scale(x, k):\n    ### BEGIN SOLUTION\n    return k * x\n"
                                         "    ### END SOLUTION")
    cell = restore.missing_cell_transform(source_cell, 0, is_solution=True)
    assert "return k * x" not in cell["source"]
    assert cell["source"].endswith(
        'def scale(x, k):\n    # YOUR CODE HERE\n'
        '    raise NotImplementedError("scale: write this function (chapter 0, Exercise 2: scale)")')


# ---------------------------------------------------------------------------
# feedback redaction and expected points (no kernel)
# ---------------------------------------------------------------------------


def test_visible_source_drops_the_hidden_region():
    source = "check(1)\n### BEGIN HIDDEN TESTS\ncheck_secret(13.5)\n### END HIDDEN TESTS\ncheck(2)"
    assert visible_source(source) == "check(1)\n# ... hidden tests (not shown) ...\ncheck(2)"


def test_friendly_error_shows_the_check_message_or_only_the_hidden_checks_name():
    failure = nbformat.from_dict({
        "output_type": "error", "ename": "CheckFailed",
        "evalue": "scale by 4.5: 1 of 1 values differ\n  received: 1.0\n  expected: 13.5\n  hint: multiply",
        "traceback": ["\x1b[0;31mCell In[5], line 4\x1b[0m", "check_close('scale by 4.5', ...)"],
    })
    visible = friendly_error(failure, hidden=False)
    assert visible.evalue.startswith("Check failed: scale by 4.5") and "expected: 13.5" in visible.evalue
    hidden = friendly_error(failure, hidden=True)
    assert "A hidden test failed: scale by 4.5" in hidden.evalue
    assert "13.5" not in json.dumps(hidden) and "check_close" not in json.dumps(hidden)


def test_secret_and_public_lines(tmp_path):
    nb = nbformat.read(write_tiny_chapter(tmp_path), as_version=4)
    secret = secret_lines(nb)
    assert 'check_close("scale by 4.5", scale(np.array([3.0]), 4.5), [13.5])' in secret
    assert "return float(np.sum(x) / len(x))" in secret
    assert 'check_equal("add(2, 3)", add(2, 3), 5, hint="return a + b")' in public_lines(nb)


def test_expected_points_of_a_partly_filled_notebook(tmp_path):
    nb = nbformat.read(write_tiny_chapter(tmp_path), as_version=4)
    assert expected_points(nb, {"add_answer"}) == {"add_tests": 2.0, "scale_tests": 0.0, "mean_tests": 0.0}
    assert expected_points(nb, {"add_answer", "mean_answer"}) == {
        "add_tests": 2.0, "scale_tests": 0.0, "mean_tests": 5.0
    }
    everything = {"add_answer", "scale_answer", "mean_answer"}
    assert sum(expected_points(nb, everything).values()) == 10.0


# ---------------------------------------------------------------------------
# the bundled samples of `make grade-demo`
# ---------------------------------------------------------------------------

SAMPLES = ROOT / "autograder" / "samples"
SAMPLE_NAMES = {"reference", "blank", "partly_wrong", "throws", "infinite_loop", "damaged"}


@pytest.mark.parametrize("folder", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_bundled_samples_fit_their_chapter(folder):
    regenerate = f"regenerate them: python -m autograder samples {folder} --out autograder/samples/{folder}"
    assert folder in CHAPTERS, f"autograder/samples/{folder}: no such chapter"
    assert {p.name for p in (SAMPLES / folder).iterdir()} == SAMPLE_NAMES
    source = nbformat.read(Chapter.resolve(folder).path, as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in source.cells if "nbgrader" in c.metadata]
    for name in SAMPLE_NAMES - {"damaged"}:
        nb = read_notebook(SubmittedFile(f"{folder}.ipynb", SAMPLES / folder / name / f"{folder}.ipynb"))
        assert [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata] == ids, regenerate
    with pytest.raises(Unreadable, match="invalid JSON"):
        read_notebook(SubmittedFile(f"{folder}.ipynb", SAMPLES / folder / "damaged" / f"{folder}.ipynb"))


def test_the_empty_gradebook_is_made_by_nbgrader_once_and_holds_nothing(tmp_path):
    from nbgrader.api import Gradebook

    from autograder.batch.run import empty_gradebook

    made = empty_gradebook()
    when = made.stat().st_mtime_ns
    assert empty_gradebook() == made and made.stat().st_mtime_ns == when  # kept, not made again
    shutil.copyfile(made, tmp_path / "gradebook.db")
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gb:
        assert gb.assignments == [] and gb.students == []


def test_the_release_digest_changes_with_the_library_its_expected_values_come_from(tmp_path, monkeypatch):
    """A reference answer fixed in `solutions` changes the expected values, not the student edition: the
    results stored under the old digest must not be reused."""
    from autograder.batch import bundles
    from autograder.course import CourseDir

    course, chapter = CourseDir(tmp_path / "course"), Chapter.resolve(CHAPTERS[0])
    (course.source(chapter.id) / "solutions").mkdir(parents=True)
    (course.source(chapter.id) / "solutions" / "layers.py").write_text("def relu(x):\n    raise NotImplementedError\n")
    (tmp_path / "template.db").write_bytes(b"")
    monkeypatch.setattr(bundles, "template_content", lambda db, chapter_id: {"cells": []})
    data = bundles.pack_data([])

    def digest(library: str) -> str:
        monkeypatch.setattr(bundles, "library_fingerprint", lambda: library)
        return bundles.pack_release(course, chapter, tmp_path / "template.db", {}, data).digest

    assert digest("library v1") == digest("library v1") != digest("library v2")


def test_a_parse_tripped_by_another_threads_parse_is_parsed_again(monkeypatch):
    import ast

    from autograder import plumbing

    real, calls = ast.parse, []

    def tripped_once(source, *args, **kwargs):
        calls.append(source)
        if len(calls) == 1:  # what CPython 3.11 raises when two threads convert ASTs at once (gh-106905)
            raise SystemError("AST constructor recursion depth mismatch (before=189, after=211)")
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", tripped_once)
    assert isinstance(plumbing.parse_python("x = 1").body[0], ast.Assign) and len(calls) == 2
    monkeypatch.setattr(ast, "parse", lambda source: (_ for _ in ()).throw(SystemError("another problem")))
    with pytest.raises(SystemError, match="another problem"):
        plumbing.parse_python("x = 1")
