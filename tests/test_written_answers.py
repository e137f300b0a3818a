"""Every written question has a model answer and a rubric for the instructor, and students never see them.

Each manually graded answer cell (markdown, nbgrader ``solution`` and ``grade``) holds, between
nbgrader's delimiters, exactly::

    <!-- BEGIN SOLUTION -->
    **Model answer.** What a strong student writes ...

    **Rubric (2 points).**
    - 1 point: what exactly earns it
    - 0.5 points: ...
    <!-- END SOLUTION -->

The rubric's points add up to the cell's ``points``, which the question above the cell states too.
nbgrader's release of the chapter (``nbgrader generate_assignment``, as ``chapter_tools.generate_release``
runs it, here in one process for all chapters) replaces the region by "YOUR ANSWER HERE" and keeps
no "Model answer", no "Rubric" and no line of the model answer.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from chapter_tools import CHAPTERS, chapter_path, nbgrader_meta, read_chapter, written_cells

BEGIN, END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"
RUBRIC_ITEM = re.compile(r"^- (?P<points>\d+(?:\.\d+)?) points?: \S.*$")


def per_chapter():
    return pytest.mark.parametrize(
        "chapter", [pytest.param(c, marks=getattr(pytest.mark, f"ch{c[:2]}")) for c in CHAPTERS]
    )


def points_text(points: float) -> str:
    return f"{points:g} point" + ("" if points == 1 else "s")


def parse_answer(source: str) -> tuple[str, float, list[float]]:
    """(model answer, points in the rubric's heading, points of each rubric item) of an answer cell.

    Raises AssertionError with the reason when the cell is not in the required shape.
    """
    lines = source.strip().splitlines()
    assert lines and lines[0] == BEGIN and lines[-1] == END, f"the cell must start with {BEGIN} and end with {END}"
    body = "\n".join(lines[1:-1]).strip()
    assert body.startswith("**Model answer.** "), "the solution region must start with '**Model answer.** '"
    heading = re.search(r"^\*\*Rubric \((\d+(?:\.\d+)?) points?\)\.\*\*$", body, flags=re.M)
    assert heading, "no '**Rubric (N points).**' line"
    answer = body[len("**Model answer.** "):heading.start()].strip()
    assert len(answer.split()) >= 40, f"the model answer has only {len(answer.split())} words"
    assert body[heading.start() - 2:heading.start()] == "\n\n", (
        "a blank line must separate the model answer and the rubric"
    )
    items = body[heading.end():].strip().splitlines()
    assert items, "the rubric lists no items"
    bad = [item for item in items if not RUBRIC_ITEM.match(item)]
    assert not bad, f"rubric lines must read '- <points> point(s): <what earns them>': {bad}"
    item_points = [float(RUBRIC_ITEM.match(item)["points"]) for item in items]
    for item, value in zip(items, item_points, strict=True):
        assert item.startswith(f"- {points_text(value)}: "), f"write '{points_text(value)}' in: {item}"
    return answer, float(heading.group(1)), item_points


@per_chapter()
def test_every_written_answer_has_a_model_answer_and_a_rubric(chapter):
    nb = read_chapter(chapter)
    cells = written_cells(nb)
    assert cells, f"{chapter} has no written question"
    for cell in cells:
        meta = nbgrader_meta(cell)
        where = f"{chapter}, {meta['grade_id']}"
        assert meta.get("solution") and cell.cell_type == "markdown", f"{where}: not a manually graded answer cell"
        try:
            _, heading_points, item_points = parse_answer(cell.source)
        except AssertionError as error:
            raise AssertionError(f"{where}: {error}") from None
        assert heading_points == meta["points"], (
            f"{where}: the rubric says {heading_points:g}, the cell is worth {meta['points']:g}"
        )
        assert sum(item_points) == pytest.approx(meta["points"]), (
            f"{where}: the rubric's items add up to {sum(item_points):g}, the cell is worth {meta['points']:g}"
        )
        question = nb.cells[nb.cells.index(cell) - 1]
        assert question.cell_type == "markdown" and f"({points_text(meta['points'])})" in question.source, (
            f"{where}: the question above the answer cell should state '({points_text(meta['points'])})'"
        )


def test_the_shape_checker_rejects_broken_answers():
    good = (
        f"{BEGIN}\n**Model answer.** {'word ' * 40}\n\n"
        f"**Rubric (2 points).**\n- 1 point: a\n- 0.5 points: b\n- 0.5 points: c\n{END}"
    )
    assert parse_answer(good)[1:] == (2.0, [1.0, 0.5, 0.5])
    broken = {
        "no delimiters": good.replace(BEGIN + "\n", ""),
        "no model answer": good.replace("**Model answer.** ", ""),
        "short answer": good.replace("word " * 40, "yes"),
        "no rubric heading": good.replace("**Rubric (2 points).**", "Rubric:"),
        "no blank line": good.replace("\n\n**Rubric", "\n**Rubric"),
        "item without points": good.replace("- 1 point: a", "- a"),
        "wrong plural": good.replace("- 1 point: a", "- 1 points: a"),
    }
    for name, source in broken.items():
        with pytest.raises(AssertionError):
            parse_answer(source)
            pytest.fail(f"parse_answer accepted a cell with {name}")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A function chapter -> text of nbgrader's release of it, made in one process for all chapters."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    course = tmp_path_factory.mktemp("course")
    for chapter in CHAPTERS:
        (course / "source" / chapter).mkdir(parents=True)
        shutil.copy(chapter_path(chapter), course / "source" / chapter / f"{chapter}.ipynb")
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.CourseDirectory.course_id = "dnn-from-scratch"
    api = NbGraderAPI(config=config)
    cache: dict[str, str] = {}

    def release(chapter: str) -> str:
        if chapter not in cache:
            # nbgrader runs the `alembic` command of its own environment: put it on PATH (as generate_release does)
            path = os.environ.get("PATH", "")
            os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"
            try:
                result = api.generate_assignment(chapter, force=True)
            finally:
                os.environ["PATH"] = path
            notebook = course / "release" / chapter / f"{chapter}.ipynb"
            assert result["success"] and notebook.exists(), (
                f"nbgrader generate_assignment {chapter} failed:\n{result['log']}"
            )
            cache[chapter] = notebook.read_text(encoding="utf-8")
        return cache[chapter]

    return release


@per_chapter()
def test_the_release_hides_model_answers_and_rubrics(chapter, released):
    import json

    release = released(chapter)
    text = "\n".join("".join(cell["source"]) for cell in json.loads(release)["cells"])
    for marker in ("Model answer", "Rubric", "BEGIN SOLUTION", "END SOLUTION"):
        assert marker not in text, f"{chapter}: the release contains {marker!r}"
    for cell in written_cells(read_chapter(chapter)):
        region = cell.source.split(BEGIN, 1)[1].split(END, 1)[0]
        leaked = [line.strip() for line in region.splitlines() if line.strip() and line.strip() in text]
        assert not leaked, (
            f"{chapter}, {nbgrader_meta(cell)['grade_id']}: the release shows lines of the model answer: {leaked[:3]}"
        )
    answers = [c for c in json.loads(release)["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
               in {nbgrader_meta(w)["grade_id"] for w in written_cells(read_chapter(chapter))}]
    assert answers and all("".join(c["source"]).strip() == "YOUR ANSWER HERE" for c in answers), (
        f"{chapter}: the released answer cells should read 'YOUR ANSWER HERE'"
    )
