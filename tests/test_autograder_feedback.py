"""Feedback pages: the score a student reads, hand grading, math offline, figures that fit, no solution.

Fast tests: the header's score logic, TeX to MathML, and the redaction of a copied reference.
Slow tests grade (real nbgrader, real kernels) the tiny fixture chapter, extended with the
text of every markdown cell of the ten chapters and a 15-inch, 3-panel figure, for:

* ``reference``: every answer right, the written answer left as released;
* ``writer``: every answer right, and a written answer with math in it;
* ``partly_wrong``: only the first answer;
* ``source_copy``: a copy of the instructor's source notebook (graded, and flagged);
* ``source_link``: a symlink to it (the issue's case: refused, never read);
* ``broken``: invalid JSON (not graded).

Then a grader scores the written answer and comments through nbgrader's Gradebook API (what
formgrader does), ``python -m autograder feedback`` writes the pages again, and headless
Chromium opens a page from a file:// URL with every network request blocked.
"""

from __future__ import annotations

import copy
import html
import os
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from fixtures.autograder_fixtures import (
    CHAPTER,
    MODEL_ANSWER,
    SECRET_EXPECTED,
    computed_once,
    tree_digest,
)
from nbconvert.filters.markdown_mistune import MarkdownWithMath

from autograder import cli
from autograder.grade.feedback import REFERENCE_NOTE, HideHiddenTests
from autograder.grade.feedback_page import MathMLRenderer, tex_to_mathml
from autograder.grade.feedback_score import CellGrade, FeedbackScore
from autograder.grade.submission import Limits
from autograder.plumbing import HIDDEN_TESTS, SOLUTION, public_lines, region_texts

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "_build" / "screenshots"

pytestmark = [pytest.mark.autograder]


# ---------------------------------------------------------------------------
# the header's score (fast)
# ---------------------------------------------------------------------------


def _cells(*written: float | None) -> tuple[CellGrade, ...]:
    tests = (CellGrade("a_tests", True, 4.0, 4.0), CellGrade("b_tests", True, 6.0, 3.0))
    return tests + tuple(CellGrade(f"q{n}", False, 2.0, score) for n, score in enumerate(written))


def test_after_autograding_the_header_says_the_autograded_score_and_that_written_answers_are_graded_by_hand():
    for written in ((None, None), (0.0, None), (2.0, 1.5)):  # even scored ones: no one has graded by hand yet
        score = FeedbackScore(_cells(*written))
        assert score.headline == "Autograded score: 7 / 10"
        assert score.details == [("Written answers (4 points) are graded by hand: "
                                 "this page will show their points once they are graded.")]
        assert not score.complete


def test_after_hand_grading_the_header_says_the_full_score_with_its_parts_and_the_late_penalty():
    score = FeedbackScore(_cells(2.0, 0.5), late_penalty=1.0, after_hand_grading=True)
    assert score.complete and (score.total, score.total_max) == (8.5, 14.0)
    assert score.headline == "Score: 8.5 / 14"
    assert score.details == ["Tests (autograded): 7 / 10", "Written answers (graded by hand): 2.5 / 4",
                             "Late submission penalty: -1"]


def test_a_written_answer_still_waiting_keeps_the_autograded_header():
    score = FeedbackScore(_cells(1.0, None), after_hand_grading=True)
    assert score.headline == "Autograded score: 7 / 10"
    assert score.details == [("Written answers (4 points) are graded by hand; 1 of 2 graded so far: "
                             "this page will show their points once they are graded.")]
    assert [c.name for c in score.waiting] == ["q1"]
    one_point = FeedbackScore((CellGrade("t", True, 2.0, 2.0), CellGrade("q", False, 1.0, None)))
    assert "Written answers (1 point) are graded by hand" in one_point.details[0]


def test_without_written_answers_the_autograded_score_is_the_full_score():
    for after_hand_grading in (False, True):
        score = FeedbackScore(_cells(), after_hand_grading=after_hand_grading)
        assert score.headline == "Score: 7 / 10" and score.details == ["Tests (autograded): 7 / 10"]


def test_a_cell_grade_is_empty_only_when_the_gradebook_has_no_score_at_all():
    def grade(auto, manual, extra=None, cell_type="markdown"):
        score = manual if manual is not None else auto
        return SimpleNamespace(name="q", cell_type=cell_type, max_score=2, auto_score=auto, manual_score=manual,
                               score=(score or 0.0) + (extra or 0.0))

    assert CellGrade.from_gradebook(grade(None, None)).score is None  # answered, waiting for a grader
    assert CellGrade.from_gradebook(grade(0.0, None)).score == 0.0  # left as released: nbgrader's 0
    assert CellGrade.from_gradebook(grade(0.0, 1.5, extra=0.5)).score == 2.0  # the grader's, with extra credit
    assert CellGrade.from_gradebook(grade(3.0, None, cell_type="code")).autograded


# ---------------------------------------------------------------------------
# math as MathML, a copied reference (fast)
# ---------------------------------------------------------------------------


def test_tex_becomes_mathml_and_unreadable_tex_stays_visible_as_tex():
    inline = tex_to_mathml(r"\frac{\partial E}{\partial W} = \delta^\top y", display=False)
    assert inline.startswith("<math") and "<mfrac>" in inline and "\\" not in inline
    assert tex_to_mathml(r"\sum_i x_i", display=True).startswith('<math display="block"')
    broken = tex_to_mathml(r"\frac{1}{<script>", display=False)
    assert broken.startswith('<code class="tex-error"') and "<script>" not in broken and "&lt;script&gt;" in broken
    page = MarkdownWithMath(renderer=MathMLRenderer(escape=False)).render(
        "Inline $a^2$, display $$\\sqrt{x}$$ and\n\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n")
    assert page.count("<math") == 3 and "$" not in page and "\\begin" not in page


def test_a_second_page_renders_the_same_without_compiling_a_template_again(tmp_path, monkeypatch):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
    from nbgrader.coursedir import CourseDirectory

    from autograder.grade import feedback_page
    from autograder.grade.feedback import FeedbackGenerator

    notebook = new_notebook(cells=[new_markdown_cell(r"The loss $L = \frac{1}{N}\sum_i \ell_i$."),
                                   new_code_cell("x = 1 + 1\nprint(x)")])
    resources = {"nbgrader": {"score": 1.0, "max_score": 2.0, "late_penalty": 0, "notebook": CHAPTER}}

    def page() -> str:  # a new exporter for every page, as each submission's FeedbackGenerator makes
        generator = FeedbackGenerator(coursedir=CourseDirectory(root=str(tmp_path)))
        exporter = generator.exporter_class(parent=generator, config=generator.config)
        return exporter.from_notebook_node(notebook, resources=copy.deepcopy(resources))[0]

    first = page()
    compiled = []
    monkeypatch.setattr(feedback_page._COMPILED, "dump_bytecode", compiled.append)  # called after each compile
    assert page() == first and "<math" in first
    assert feedback_page._COMPILED.code and compiled == []


def test_a_copied_reference_shows_a_note_instead_of_each_solution_region(tmp_path):
    from fixtures.autograder_fixtures import write_tiny_chapter

    source = nbformat.read(write_tiny_chapter(tmp_path), as_version=4)
    hide = HideHiddenTests()
    for cell in copy.deepcopy(source).cells:
        regions = region_texts(cell.source, SOLUTION)
        shown, _ = hide.preprocess_cell(cell, {}, 0)
        for region in regions:
            for line in filter(str.strip, region.splitlines()):
                assert line.strip() not in shown.source
        if regions:
            assert REFERENCE_NOTE[cell.cell_type] in shown.source and SOLUTION.begin not in shown.source
    answer = next(c for c in source.cells if "def add" in c.source)
    shown, _ = hide.preprocess_cell(copy.deepcopy(answer), {}, 0)
    assert shown.source.splitlines()[:2] == ['def add(a, b):', '    """a + b."""']  # the signature stays


def test_the_rubric_follows_each_written_answer_for_the_grader_and_no_feedback_keeps_it(tmp_path):
    from fixtures.autograder_fixtures import RUBRIC_ITEM, WRITTEN_ID, write_tiny_chapter

    from autograder.grade.rubric import AddRubrics, DropRubrics, is_rubric_cell, rubric_texts

    source = nbformat.read(write_tiny_chapter(tmp_path), as_version=4)
    texts = rubric_texts(source)
    assert list(texts) == [WRITTEN_ID] and MODEL_ANSWER in texts[WRITTEN_ID] and RUBRIC_ITEM in texts[WRITTEN_ID]
    assert "BEGIN SOLUTION" not in texts[WRITTEN_ID] and "Why is the mean a float?" not in texts[WRITTEN_ID]
    answer = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID)
    answer.source = "A student's answer."
    forged = nbformat.v4.new_markdown_cell("a student's cell claiming to be a rubric")
    forged.metadata["autograder"] = {"rubric_for": WRITTEN_ID}
    source.cells.append(forged)
    graded, _ = AddRubrics(rubrics=texts).preprocess(copy.deepcopy(source), {})
    index = next(i for i, c in enumerate(graded.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID)
    assert is_rubric_cell(graded.cells[index + 1]) and RUBRIC_ITEM in graded.cells[index + 1].source
    assert sum(map(is_rubric_cell, graded.cells)) == 1  # the forged one is unmarked: nothing of the student's is hidden
    for step in (HideHiddenTests(), DropRubrics()):
        shown, _ = step.preprocess(copy.deepcopy(graded), {})
        assert not any(RUBRIC_ITEM in c.source for c in shown.cells)
        assert any(c.source == forged.source for c in shown.cells)


# ---------------------------------------------------------------------------
# graded pages (slow)
# ---------------------------------------------------------------------------

WRITTEN = "The sum $\\sum_i x_i$ is divided by $n$, so $\\bar x = \\frac{1}{n}\\sum_i x_i$ is a float."
COMMENT = "Right; also say **why** NumPy returns `float64`: $\\frac{6}{3} = 2.0$."
LIMITS = Limits(cell_timeout=60, time_limit=120)
FIGURE = """
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for k, ax in enumerate(axes):
    ax.plot(np.arange(10) ** (k + 1))
    ax.set_title(f"panel {k + 1}")
plt.show()
"""


def chapter_text_cells() -> list:
    """Every markdown cell of the ten chapters that is no graded cell, as plain markdown cells."""
    cells = []
    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown" and "nbgrader" not in cell.metadata:
                cells.append(nbformat.v4.new_markdown_cell(cell.source))
    return cells


def formulas_in(cells) -> int:
    """How many formulas nbconvert's markdown parser finds in ``cells`` (what the page must render)."""
    found = []

    class Count(MathMLRenderer):
        def block_math(self, body):
            found.append(body)
            return ""

        inline_math = block_math

        def latex_environment(self, name, body):
            found.append(body)
            return ""

    for cell in cells:
        MarkdownWithMath(renderer=Count(escape=False)).render(cell.source)
    return len(found)


def grade_feedback_batch(base: Path) -> dict:
    from fixtures.autograder_fixtures import write_tiny_chapter

    from autograder.batch.run import grade
    from autograder.course import Chapter, CourseDir
    from autograder.release.assignment import release_chapter
    from autograder.release.samples import filled

    source_path = write_tiny_chapter(base / "src")
    source = nbformat.read(source_path, as_version=4)
    thoughts = next(i for i, c in enumerate(source.cells) if c.source.startswith("## Your thoughts"))
    text = chapter_text_cells()
    source.cells[thoughts:thoughts] = [nbformat.v4.new_code_cell(FIGURE.strip()), *text]
    nbformat.write(source, source_path)
    chapter = Chapter.resolve(str(source_path))
    release = nbformat.read(release_chapter(CourseDir(base / "release"), chapter) / f"{CHAPTER}.ipynb", as_version=4)

    submissions = base / "submissions"
    reference = filled(release, source)
    writer = copy.deepcopy(reference)
    next(c for c in writer.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "why_question").source = WRITTEN
    students = {"reference": reference, "writer": writer, "partly_wrong": filled(release, source, {"add_answer"})}
    for student, nb in students.items():
        (submissions / student).mkdir(parents=True)
        nbformat.write(nb, submissions / student / f"{CHAPTER}.ipynb")
    (submissions / "source_copy").mkdir()
    shutil.copyfile(source_path, submissions / "source_copy" / f"{CHAPTER}.ipynb")
    (submissions / "source_link").mkdir()
    os.symlink(source_path, submissions / "source_link" / f"{CHAPTER}.ipynb")
    (submissions / "broken").mkdir()
    (submissions / "broken" / f"{CHAPTER}.ipynb").write_text('{"cells": [')
    batch = grade(chapter, submissions, base / "out", workers=2, limits=LIMITS, progress=False)
    course = batch.course
    after_grade = {r.student: course.feedback(r.student, CHAPTER).read_text(encoding="utf-8") for r in batch.results}
    return {"chapter": chapter, "source": source, "course": course, "batch": batch, "after_grade": after_grade,
            "formulas": formulas_in(text), "submissions": submissions}


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    return computed_once(tmp_path_factory, "autograder-feedback-batch", grade_feedback_batch)


@pytest.fixture(scope="session")
def hand_graded(graded, tmp_path_factory):
    """The graded course, copied; a grader scores `writer`'s and `reference`'s written answer; `feedback` runs."""

    def run(folder: Path) -> dict:
        from nbgrader.api import Gradebook

        course = folder / "course"
        shutil.copytree(graded["course"].root, course, symlinks=True)
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "dnn-from-scratch") as gb:
            gb.find_grade("why_question", CHAPTER, CHAPTER, "writer").manual_score = 0.5
            gb.find_comment("why_question", CHAPTER, CHAPTER, "writer").manual_comment = COMMENT
            gb.find_grade("why_question", CHAPTER, CHAPTER, "reference").manual_score = 0.0
            gb.db.commit()
        before = tree_digest(course / "autograded"), tree_digest(course / "submitted")
        status, printed = _run_cli(["feedback", str(graded["chapter"].path), "--out", str(course)])
        after = tree_digest(course / "autograded"), tree_digest(course / "submitted")
        return {"course": course, "status": status, "printed": printed, "unchanged": before == after}

    return computed_once(tmp_path_factory, "autograder-feedback-hand-graded", run)


def _run_cli(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue() + err.getvalue()


def page_text(raw: str) -> str:
    body = raw[raw.index("<body"):] if "<body" in raw else raw
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def _region_lines(source, kind) -> list[str]:
    return [line.strip() for c in source.cells for region in region_texts(c.source, kind)
            for line in region.splitlines() if len(line.strip()) >= 12]


@pytest.mark.slow
def test_after_grading_the_header_has_the_numbers_of_grades_csv_and_says_written_answers_are_graded_by_hand(graded):
    import csv

    with open(graded["course"].grades_csv, newline="", encoding="utf-8") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == {"reference", "writer", "partly_wrong", "source_copy", "source_link", "broken"}
    assert rows["source_copy"]["score"] == "10" and rows["partly_wrong"]["score"] == "2"
    assert rows["source_copy"]["status"] == "flagged" and "BEGIN SOLUTION" in rows["source_copy"]["reason"]
    assert (rows["source_link"]["status"], rows["source_link"]["score"]) == ("unreadable", "0")
    assert "points to a file outside the submissions folder" in rows["source_link"]["reason"]
    for student in ("reference", "writer", "partly_wrong", "source_copy"):
        text = page_text(graded["after_grade"][student])
        row = rows[student]
        assert f"{CHAPTER}: Autograded score: {row['score']} / {row['max_score']}" in text, student
        assert "Written answers (1 point) are graded by hand" in text, student
        assert "Score: 10 / 11" not in text and "(Score: 10.0 / 11.0)" not in text
    writer = page_text(graded["after_grade"]["writer"])
    assert "Graded by hand (1 point)" in writer and "(graded by hand, 1 point)" in writer  # the cell and the list
    assert "Score: 0.0 / 1.0" not in writer


@pytest.mark.slow
def test_feedback_after_hand_grading_shows_the_full_score_the_written_points_and_the_comment(graded, hand_graded):
    assert hand_graded["status"] == 0, hand_graded["printed"]
    assert hand_graded["unchanged"], "feedback changed an autograded notebook or a submission"
    printed = hand_graded["printed"]
    assert re.search(r"writer\s+Score: 10\.5 / 11\s+\S+feedback/writer/00_tiny/00_tiny\.html", printed), printed
    assert re.search(r"source_copy\s+Autograded score: 10 / 10", printed), printed  # its answer waits for a grader
    assert "not graded, their notice from `grade` is kept: broken, source_link" in printed
    course = hand_graded["course"]
    writer = page_text((course / "feedback" / "writer" / CHAPTER / f"{CHAPTER}.html").read_text(encoding="utf-8"))
    assert f"{CHAPTER}: Score: 10.5 / 11" in writer
    assert "Tests (autograded): 10 / 10" in writer and "Written answers (graded by hand): 0.5 / 1" in writer
    assert "Score: 0.5 / 1.0" in writer and "Score: 5.0 / 5.0" in writer  # per cell, as nbgrader's template
    assert "Right; also say why NumPy returns float64" in writer  # the grader's comment, as markdown
    reference = page_text((course / "feedback" / "reference" / CHAPTER / f"{CHAPTER}.html").read_text(encoding="utf-8"))
    assert f"{CHAPTER}: Score: 10 / 11" in reference
    partly = page_text((course / "feedback" / "partly_wrong" / CHAPTER / f"{CHAPTER}.html").read_text(encoding="utf-8"))
    assert f"{CHAPTER}: Score: 2 / 11" in partly  # left as released: nbgrader's 0, no grader needed


@pytest.mark.slow
def test_no_page_shows_a_hidden_test_or_a_solution_not_even_for_the_instructors_source(graded, hand_graded):
    hidden, solutions = _region_lines(graded["source"], HIDDEN_TESTS), _region_lines(graded["source"], SOLUTION)
    public = public_lines(graded["source"])
    solutions = [line for line in solutions if not any(line in shown for shown in public)]  # "return a + b" is a hint
    assert hidden and solutions
    pages = {f"{student} after grade": raw for student, raw in graded["after_grade"].items()}
    for page in (hand_graded["course"] / "feedback").glob(f"*/{CHAPTER}/{CHAPTER}.html"):
        pages[f"{page.parent.parent.name} after feedback"] = page.read_text(encoding="utf-8")
    assert len(pages) == 12
    for name, raw in pages.items():
        text = page_text(raw)
        assert "BEGIN SOLUTION" not in raw and "BEGIN HIDDEN TESTS" not in raw, name
        assert MODEL_ANSWER not in raw and SECRET_EXPECTED not in text, name
        assert "Model answer and rubric" not in raw and "RUBRIC-ITEM" not in raw, name
        for line in hidden + (solutions if name.startswith("source_") else []):  # the others wrote theirs
            assert line not in text and html.escape(line) not in raw, f"{name}: {line!r}"
    copied = page_text(pages["source_copy after feedback"])
    assert REFERENCE_NOTE["code"].lstrip("# ") in copied and REFERENCE_NOTE["markdown"].strip("*()") in copied


@pytest.mark.slow
def test_feedback_usage_errors_and_a_missing_autograded_notebook(graded, tmp_path):
    status, printed = _run_cli(["feedback", str(graded["chapter"].path), "--out", str(tmp_path / "nothing")])
    assert status == 2 and "no gradebook.db here" in printed, printed
    status, printed = _run_cli(["feedback", "01_gradient_descent", "--out", str(graded["course"].root)])
    assert status == 2 and "01_gradient_descent was never graded" in printed, printed
    status, printed = _run_cli(["feedback", "no_such_chapter", "--out", str(graded["course"].root)])
    assert status == 2 and "no_such_chapter" in printed

    course = tmp_path / "course"
    shutil.copytree(graded["course"].root, course, symlinks=True)
    (course / "autograded" / "partly_wrong" / CHAPTER / f"{CHAPTER}.ipynb").unlink()
    status, printed = _run_cli(["feedback", str(graded["chapter"].path), "--out", str(course)])
    assert status == 1, printed
    assert f"partly_wrong: no autograded notebook autograded/partly_wrong/{CHAPTER}/{CHAPTER}.ipynb" in printed
    assert re.search(r"writer\s+Autograded score: 10 / 10", printed)  # the others are still written


# ---------------------------------------------------------------------------
# in a browser, offline (slow)
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_the_page_renders_every_formula_offline_and_figures_fit_the_page(graded, hand_graded):
    sync_api = pytest.importorskip("playwright.sync_api")
    from website_tools import CHROMIUM, CHROMIUM_ARGS

    page_path = hand_graded["course"] / "feedback" / "writer" / CHAPTER / f"{CHAPTER}.html"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for width in (1280, 800):
                page = browser.new_page(viewport={"width": width, "height": 900})

                def offline(route):
                    if not route.request.url.startswith(("file:", "data:")):
                        requests.append(route.request.url)
                        route.abort()
                    else:
                        route.continue_()

                page.route("**/*", offline)
                page.goto(page_path.as_uri())
                page.wait_for_load_state("load")
                found = page.evaluate(RENDERED)
                assert not requests, f"the page asked the network for {requests}"
                assert found["raw"] == [], f"raw TeX left in the text: {found['raw'][:5]}"
                assert found["texErrors"] == [], found["texErrors"][:5]
                # + the answer, the comment
                assert found["math"] == graded["formulas"] + 4, (found["math"], graded["formulas"])
                assert found["emptyMath"] == 0, "a formula rendered with no size"
                assert found["images"], "no figure on the page"
                for image in found["images"]:
                    assert image["right"] <= found["pageWidth"] + 0.5, (width, image, found["pageWidth"])
                # the 15-inch figure, scaled
                assert any(image["natural"] > image["width"] + 1 for image in found["images"])
                assert found["scrollWidth"] <= found["pageWidth"], "the page scrolls sideways"
                if width == 1280:
                    page.screenshot(path=str(SCREENSHOTS / "feedback-header.png"))
                    page.locator("math[display=block]").nth(3).scroll_into_view_if_needed()
                    page.evaluate("window.scrollBy(0, -200)")
                    page.screenshot(path=str(SCREENSHOTS / "feedback-math.png"))
                page.locator("div.output_png img").first.scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / f"feedback-figure-{width}.png"))
                page.locator("a[name=why_question]").scroll_into_view_if_needed()
                page.screenshot(path=str(SCREENSHOTS / f"feedback-written-answer-{width}.png"))
                page.close()
        finally:
            browser.close()


RENDERED = """() => {
  const raw = [], texErrors = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('pre, code, math, .highlight, style, script')) continue;
    if (/\\$|\\\\\\(|\\\\\\[|\\\\(frac|sum|begin|alpha|partial)\\b/.test(node.textContent))
      raw.push(node.textContent.trim());
  }
  document.querySelectorAll('code.tex-error').forEach(e => texErrors.push(e.textContent));
  const maths = [...document.querySelectorAll('math')];
  const images = [...document.querySelectorAll('img')].map(img => {
    const box = img.getBoundingClientRect();
    return {right: box.right, width: box.width, natural: img.naturalWidth};
  });
  return {raw, texErrors, math: maths.length,
          emptyMath: maths.filter(m => {
            const b = m.getBoundingClientRect(); return b.width === 0 || b.height === 0;
          }).length,
          images, pageWidth: document.documentElement.clientWidth, scrollWidth: document.documentElement.scrollWidth};
}"""
