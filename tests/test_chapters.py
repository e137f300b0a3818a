"""Every chapter is a valid nbgrader source whose release is safe to hand out.

For each notebook in chapters/ (CHAPTERS.md):
* its nbgrader metadata is well formed, it is stored without outputs, and it
  has at least 3 autograded test cells with points and a written answer;
* it runs top to bottom and ``nbgrader validate`` passes on it (the reference earns
  every point): read from the chapter's one reference run
  (``autograder.release.reference_run``, kept in jupyter-cache, which the website and the
  grader use too), not run again here;
* the release made by ``nbgrader generate_assignment`` contains no solution and no
  hidden test (that a blank release earns nothing and raises nothing but the stubs'
  ``NotImplementedError`` is checked by grading it: test_autograder_chapters.py);
* every stub of the release names its function, exercise and chapter, e.g.
  ``raise NotImplementedError("relu: write this function (chapter 3, Exercise 1: ReLU and
  Leaky ReLU)")`` (``autograder.plumbing.ClearSolutionsWithNamedStubs``), and a blank
  release raises no ``NotImplementedError`` without a message.
"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest
from chapter_tools import (
    CHAPTERS,
    answer_cells,
    chapter_path,
    grade_test_cells,
    nbgrader_meta,
    public_lines,
    read_chapter,
    secret_lines,
    written_cells,
)


def per_chapter(*extra_marks):
    return pytest.mark.parametrize(
        "chapter",
        [pytest.param(c, marks=[getattr(pytest.mark, f"ch{c[:2]}"), *extra_marks]) for c in CHAPTERS],
    )


@per_chapter()
def test_notebook_is_stored_clean_and_well_formed(chapter):
    nb = read_chapter(chapter)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{chapter}: cell {index} is stored with outputs"
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), f"{chapter}: duplicated grade_id in {ids}"
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta:
            assert meta["schema_version"] == 3, f"{chapter}: {meta['grade_id']} has schema {meta['schema_version']}"
    tests = grade_test_cells(nb)
    assert len(tests) >= 3, f"{chapter}: {len(tests)} autograded test cells, CHAPTERS.md asks for at least 3"
    assert all(nbgrader_meta(c)["points"] > 0 for c in tests), f"{chapter}: a test cell has no points"
    assert written_cells(nb), f"{chapter}: no manually graded written answer"
    assert answer_cells(nb), f"{chapter}: no autograded answer cell"
    for cell in answer_cells(nb):
        assert "### BEGIN SOLUTION" in cell.source, (
            f"{chapter}: {nbgrader_meta(cell)['grade_id']} has no solution region"
        )
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in tests), f"{chapter}: no hidden tests"
    for cell in tests:
        assert "autograder.checks" in cell.source or "check_" in cell.source, (
            f"{chapter}: test cell {nbgrader_meta(cell)['grade_id']} does not go through autograder.checks"
        )
    total = sum(nbgrader_meta(c)["points"] for c in tests + written_cells(nb))
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert f"{total:g} points" in text, f"{chapter}: the notebook should state its total, '{total:g} points'"


@pytest.fixture(scope="session")
def releases(tmp_path_factory):
    """Every chapter's release (the course's named stubs), made once per test run in one gradebook."""
    from fixtures.autograder_fixtures import computed_once

    from autograder.plumbing import release_notebooks

    def release_all(folder):
        jobs = {chapter_path(c): folder / f"{c}.ipynb" for c in CHAPTERS}
        release_notebooks(jobs)
        return {c: folder / f"{c}.ipynb" for c in CHAPTERS}

    return computed_once(tmp_path_factory, "chapter-releases", release_all)


@per_chapter(pytest.mark.slow)
def test_the_chapter_runs_top_to_bottom_and_passes_nbgrader_validate(chapter):
    from nbgrader.validator import Validator

    from book.execution import executed_chapter, execution_errors

    executed = executed_chapter(chapter)
    assert not execution_errors(executed), f"{chapter}: cells raised in its reference run: {execution_errors(executed)}"
    validator = Validator()  # what `nbgrader validate` decides, on the cells as they ran
    failed = validator._get_failed_cells(executed)
    assert not failed, (
        f"{chapter}: nbgrader validate fails on the source: {[nbgrader_meta(c)['grade_id'] for c in failed]}"
    )
    graded = grade_test_cells(executed)
    assert graded and all(c.get("outputs") for c in graded), f"{chapter}: a test cell did not run"


@per_chapter(pytest.mark.slow)
def test_release_hides_solutions_and_hidden_tests(chapter, releases):
    source = read_chapter(chapter)
    release_text = releases[chapter].read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in release_text, f"{chapter}: the release still contains {marker!r}"
    public = public_lines(source)
    leaked = [line for line in secret_lines(source) if line not in public and line in release_text]
    assert not leaked, f"{chapter}: the release leaks solution or hidden-test lines: {leaked[:5]}"


STUB = re.compile(
    r'^(?P<indent>\s*)raise NotImplementedError\("(?P<what>[^"]*) '
    r'\(chapter (?P<chapter>\d+)(?:, (?P<exercise>[^"]+))?\)"\)$'
)


def innermost_definition(source: str, line: int) -> str | None:
    """The dotted name of the innermost def/class around a 1-based line of a cell, by its indentation and ast."""
    names, node = [], ast.parse(source)
    while True:
        inner = [n for n in ast.iter_child_nodes(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                 and n.lineno <= line <= n.end_lineno]
        if not inner:
            return ".".join(names) or None
        node = inner[0]
        names.append(node.name)


@per_chapter(pytest.mark.slow)
def test_every_stub_names_its_function_exercise_and_chapter(chapter, releases):
    """Run All on a blank release stops at a stub that says what to write, in which exercise and chapter."""
    source = read_chapter(chapter)
    release = nbformat.read(releases[chapter], as_version=4)
    regions = sum(c.source.count("### BEGIN SOLUTION") for c in answer_cells(source))
    stubs = 0
    headings: list[str] = []
    for cell in release.cells:
        if cell.cell_type == "markdown":
            headings += [line for line in cell.source.splitlines() if line.startswith("#")]
        if cell not in answer_cells(release):
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
        lines = cell.source.splitlines()
        assert "raise NotImplementedError()" not in cell.source, f"{chapter}: {grade_id} has a bare stub"
        for number, line in enumerate(lines, start=1):
            if "NotImplementedError" not in line:
                continue
            stub = STUB.match(line)
            assert stub, f"{chapter}: {grade_id}: not a named stub: {line!r}"
            stubs += 1
            assert int(stub["chapter"]) == int(chapter[:2]), f"{chapter}: {grade_id}: {line!r} names another chapter"
            function = innermost_definition(cell.source, number)
            kind = "method" if function and "." in function else "function"
            assert stub["what"] == f"{function}: write this {kind}", f"{chapter}: {grade_id}: {line!r} is in {function}"
            exercise = stub["exercise"]
            label = exercise.split(":")[0] if exercise else ""
            assert re.fullmatch(r"(Exercise|Part) \w+", label), f"{chapter}: {grade_id}: no exercise in {line!r}"
            nearest = [h for h in headings if re.match(r"#+\s+(Exercise|Part)\b", h)][-1]
            assert re.match(rf"#+\s+{label}\b", nearest), (
                f"{chapter}: {grade_id}: {label!r}, but the heading is {nearest!r}"
            )
    assert stubs == regions, f"{chapter}: {stubs} named stubs for {regions} solution regions"
    for cell in written_cells(release):
        assert cell.source.strip() == "YOUR ANSWER HERE", (
            f"{chapter}: {nbgrader_meta(cell)['grade_id']}: {cell.source!r}"
        )


@pytest.mark.slow
def test_the_stubs_of_chapters_2_and_3_read_as_the_course_wants(releases):
    release = nbformat.read(releases["03_activations"], as_version=4)
    text = "\n".join(c.source for c in answer_cells(release))
    assert 'raise NotImplementedError("relu: write this function (chapter 3, Exercise 1: ReLU and Leaky ReLU)")' in text
    assert ('raise NotImplementedError("relu_backward: write this function (chapter 3, Exercise 2: the backward '
            'passes)")') in text
    release = nbformat.read(releases["02_backprop_iris"], as_version=4)
    text = "\n".join(c.source for c in answer_cells(release))
    assert ('        raise NotImplementedError("AddNode.backward: write this method (chapter 2, Part A: add and '
            'multiply nodes)")') in text
    assert "Part B: every partial of L(a, b, c))" in text  # no "(2 points)", no "$" of the heading's math
