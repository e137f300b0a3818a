"""Stage an edition: the page of each chapter, its download, and the checks on the text.

* ``chapter_page``: the page Jupyter Book renders, made from the chapter executed with its
  solutions. Student edition: the release's own steps (``autograder.plumbing``'s
  ``STUDENT_PAGE_PREPROCESSORS``: nbgrader's stubs and cleared hidden tests and mark
  schemes), the outputs of answer and test cells cleared, then every cell compared with the
  release in the chapter's bundle (any difference is an error). Instructor edition: the
  solutions and hidden tests stay, in collapsed toggles. Both get the assignment box. In
  another language than English, the prose cells are translated with the chapter's catalog
  (``autograder.release.catalogs``) and the bundle is the release in that language; code,
  outputs and graded cells are the English ones.
* ``assignment``: the download box of a chapter and the bundle it links to.
* ``control_characters`` and ``check_notebook``: no control character (TAB included) in
  Markdown, in LaTeX math, or in a code string that holds math (``"$3\\times 3$"`` without
  ``r`` is a TAB).
* ``Stage``: a tree whose files are rewritten only when their content changes, so that
  Sphinx re-renders only what changed.
"""

from __future__ import annotations

import ast
import copy
import re
import zipfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell

from autograder.plumbing import MARKERS, STUDENT_PAGE_PREPROCESSORS, is_answer_cell, is_grade, is_test_cell
from autograder.release import catalogs
from autograder.release.citations import plain_citations
from autograder.release.translated import chapter_domain, is_prose
from autograder.runtime.i18n import N_

#: every control character (C0, DEL, C1) but the newline
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
#: the LaTeX commands a Python string escape eats: "\times" is TAB + "imes"
ESCAPES = {"\t": "TAB (\\t: \\times, \\tau?)", "\b": "BACKSPACE (\\b: \\beta?)", "\f": "FORM FEED (\\f: \\frac?)",
           "\v": "VERTICAL TAB (\\v: \\vec?)", "\a": "BELL (\\a: \\alpha?)", "\r": "CARRIAGE RETURN (\\r: \\rho?)"}


class StageError(RuntimeError):
    """A page that cannot be staged; the message names the chapter, the cell and the problem."""


# --------------------------------------------------------------------------- #
# control characters
# --------------------------------------------------------------------------- #


def control_characters(text: str) -> list[tuple[int, int, str]]:
    """(line, column, name) of each control character of ``text``, 1-based."""
    return [(number, match.start() + 1, ESCAPES.get(match[0], f"U+{ord(match[0]):04X}"))
            for number, line in enumerate(text.split("\n"), start=1)
            for match in CONTROL.finditer(line.removesuffix("\r"))]  # the CR of a CRLF newline is a newline


def _describe(where: str, text: str) -> list[str]:
    lines = text.split("\n")
    return [f"{where}line {line}, column {column}: control character {name} in {lines[line - 1].strip()[:80]!r}"
            for line, column, name in control_characters(text)]


def _math_strings(source: str) -> list[tuple[int, str]]:
    """(line, value) of each string constant of Python code that contains math (a ``$``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: not Python
        return []
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "$" in node.value]


def check_notebook(label: str, nb) -> list[str]:
    """Control characters in markdown cells, in code strings that hold math, and in LaTeX outputs."""
    problems = []
    for index, cell in enumerate(nb.cells):
        where = f"{label}, cell {index} ({cell.cell_type}), "
        if cell.cell_type == "markdown":
            problems += _describe(where, cell.source)
        elif cell.cell_type == "code":
            for line, value in _math_strings(cell.source):
                problems += [f"{where}line {line}: a string with math has the control character {name} "
                             "(write the backslash twice, or use a raw string r'...')"
                             for _, _, name in control_characters(value)]
            for output in cell.get("outputs", []):
                problems += _describe(f"{where}LaTeX output, ", output.get("data", {}).get("text/latex", ""))
    return problems


def check_page(label: str, text: str) -> list[str]:
    """Control characters in a Markdown page."""
    return _describe(f"{label}, ", text)


# --------------------------------------------------------------------------- #
# chapter pages
# --------------------------------------------------------------------------- #


def total_points(nb) -> float:
    return sum(float(cell.metadata["nbgrader"].get("points", 0)) for cell in nb.cells if is_grade(cell))


def add_tag(cell, tag: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


#: a chapter's download box; its units are in the site catalog, {chapter}, {filename} and {points} are filled in
ASSIGNMENT_BOX = """\
:::{admonition} The assignment
:class: tip assignment-box
<a class="download-assignment" href="../assignments/{filename}" download="{filename}">\
<i class="fa-solid fa-download"></i> Download the assignment <code>{filename}</code></a> \
(worth {points} points). It unpacks into a folder <code>{chapter}/</code> with the notebook
<code>{chapter}.ipynb</code>, the course library without the answers of this chapter and later
ones (<code>solutions/</code>), the checks the test cells call (<code>autograder/</code>), the data
(<code>data/</code>), the exact package versions (<code>requirements.txt</code>) and a
<code>README.md</code> with the two commands that set it up and open it in JupyterLab.

```{only} student
The graded exercises below show the stubs you fill in; the visible tests under each one tell
you whether you are on track.
```

```{only} instructor
**Instructor edition:** the reference solutions are in the collapsed cells marked
*Show solution*; test cells include the hidden tests.
```

Run *Validate* before you submit the notebook, as described in
{ref}`the student workflow <student-workflow>`.
:::"""
#: what the instructor edition's toggles say
TOGGLES = {"tests": (N_("Show the tests (with hidden tests)"), N_("Hide the tests")),
           "solution": (N_("Show solution"), N_("Hide solution"))}


def fill(template: str, **values) -> str:
    """``template`` with each ``{name}`` of ``values`` replaced (other braces, MyST's, stay)."""
    for name, value in values.items():
        template = template.replace(f"{{{name}}}", str(value))
    return template


def assignment(chapter: str, points: float, bundle: Path, language: str = catalogs.SOURCE_LANGUAGE):
    """The chapter's download box (a markdown cell) and the file it links to ({path under the site root: bytes}).

    The download is the chapter's assignment bundle (``autograder.release.bundle``): the release
    notebook with everything it needs to run, and a README that says how.
    """
    filename = f"{chapter}.zip"
    box = catalogs.load(language, catalogs.SITE).markdown(ASSIGNMENT_BOX)
    text = fill(box, filename=filename, points=f"{points:g}", chapter=chapter)
    cell = new_markdown_cell(text)
    cell.id = "assignment-box"
    return cell, {f"assignments/{filename}": bundle.read_bytes()}


def release_notebook(bundle: Path, chapter: str):
    """The release notebook inside a chapter's bundle."""
    with zipfile.ZipFile(bundle) as archive:
        return nbformat.reads(archive.read(f"{chapter}/{chapter}.ipynb").decode("utf-8"), as_version=4)


def translate_prose(nb, translations: catalogs.Translations) -> None:
    """Translate the notebook's prose cells in place (nbgrader's cells stay as released)."""
    for cell in nb.cells:
        if is_prose(cell):
            cell.source = translations.markdown(cell.source)


def stage_student(executed, release, chapter: str, bibfile: Path, translations: catalogs.Translations | None = None):
    """The student page: the release's own steps (named stubs, no hidden tests, no mark schemes), demo
    outputs kept, and every cell as in the release (whose citations are text; the page links them)."""
    nb, resources = copy.deepcopy(executed), {"nbgrader": {"assignment": chapter}}
    for step in STUDENT_PAGE_PREPROCESSORS:
        nb, resources = step().preprocess(nb, resources)
    if translations is not None:
        translate_prose(nb, translations)
    for cell in nb.cells:
        if is_answer_cell(cell) or is_test_cell(cell):
            cell.outputs, cell.execution_count = [], None  # a test cell's output would name its hidden checks
            add_tag(cell, "graded-tests" if is_test_cell(cell) else "graded-answer")
    if len(release.cells) != len(nb.cells):
        raise StageError(
            f"{chapter}: the student page has {len(nb.cells)} cells, nbgrader's release {len(release.cells)}"
        )
    for index, (page_cell, release_cell) in enumerate(zip(nb.cells, release.cells, strict=True)):
        page_text = (
            plain_citations(page_cell.source, bibfile) if page_cell.cell_type == "markdown" else page_cell.source
        )
        if page_text != release_cell.source or page_cell.cell_type != release_cell.cell_type:
            raise StageError(
                f"{chapter}: cell {index} ({page_cell.get('id')}) of the student page differs from "
                f"nbgrader's release:\n--- page\n{page_text}\n--- release\n{release_cell.source}"
            )
    return nb


def stage_instructor(executed, language: str = catalogs.SOURCE_LANGUAGE):
    """The instructor page: solutions and hidden tests kept, in collapsed toggles."""
    nb = copy.deepcopy(executed)
    words = catalogs.load(language, catalogs.SITE).text
    for cell in nb.cells:
        if not (is_answer_cell(cell) or is_test_cell(cell)):
            continue
        add_tag(cell, "hide-input")
        if is_test_cell(cell):
            add_tag(cell, "graded-tests-all")
            prompts = TOGGLES["tests"]
        else:
            add_tag(cell, "graded-solution")
            prompts = TOGGLES["solution"]
        cell.metadata["mystnb"] = {"code_prompt_show": words(prompts[0]), "code_prompt_hide": words(prompts[1])}
    return nb


def chapter_page(chapter: str, executed, bundle: Path, edition: str, bibfile: Path,
                 language: str = catalogs.SOURCE_LANGUAGE) -> tuple[bytes, dict[str, bytes]]:
    """The staged page of a chapter (notebook bytes) and the files its download box links to.

    In another language than English, ``bundle`` is the release in that language.
    """
    release = release_notebook(bundle, chapter)
    text = nbformat.writes(release)
    leaked = [marker for marker in MARKERS if marker in text]
    if leaked:
        raise StageError(f"{chapter}: nbgrader's release still contains {leaked}")
    translations = catalogs.load(language, chapter_domain(chapter))
    if edition == "student":
        nb = stage_student(executed, release, chapter, bibfile, translations)
    else:
        nb = stage_instructor(executed, language)
        translate_prose(nb, translations)
    box, files = assignment(chapter, total_points(executed), bundle, language)
    # the box goes right under the points table ("... worth T points in total" in English)
    anchor = next(
        (c.get("id") for c in executed.cells if c.cell_type == "markdown" and "points in total" in c.source), None
    )
    after = next((i for i, c in enumerate(nb.cells) if anchor is not None and c.get("id") == anchor), 0)
    nb.cells.insert(after + 1, box)
    nb.metadata.pop("celltoolbar", None)
    return (nbformat.writes(nb) + "\n").encode(), files


# --------------------------------------------------------------------------- #
# the staged tree
# --------------------------------------------------------------------------- #


class Stage:
    """A staging tree whose files are only rewritten when their content changes."""

    def __init__(self, root: Path):
        self.root = root
        self.expected: set[Path] = set()
        self.changed = 0

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        self.expected.add(path)
        if path.exists() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.changed += 1

    def copy(self, source: Path, relative: str) -> None:
        self.write(relative, source.read_bytes())

    def copy_tree(self, source: Path, relative: str) -> None:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                self.copy(path, f"{relative}/{path.relative_to(source).as_posix()}")

    def remove_stale(self) -> None:
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_file() and path not in self.expected:
                path.unlink()
                self.changed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
