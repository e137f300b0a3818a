"""The student edition of the ``solutions`` package that ships with each release.

The full ``solutions`` package holds the reference implementation of every
exercise. A student working on chapter N must not find there the answers to
chapter N or to any later chapter, but the release must still run, so the
answers of earlier chapters stay.

Which library functions are answers (the mapping)
    A chapter's graded answers are the top-level ``def name(`` / ``class Name``
    in its answer cells whose body holds a ``### BEGIN SOLUTION`` region
    (helpers given in full are not the student's work). A library function is
    the answer of chapter N when a top-level function or class of a module in
    ``solutions/`` has the same name. A chapter whose answers have no
    same-named library function strips nothing by name. ``python -m autograder
    mapping`` prints the table.

What the student edition of chapter N contains
    Every module of ``solutions``; the functions and classes that are answers
    of chapter N or later become stubs that keep their signature and docstring
    and raise ``NotImplementedError`` naming the chapter. Then, as a safety
    net, any other function or method whose code still contains the text of a
    solution region or hidden test of chapter N or later (for example a
    ``ReLU`` layer class that computes ``np.maximum(x, 0)`` itself) becomes a
    stub too. Functions that ``autograder.checks`` imports are never stubbed:
    the test cells need them.

    A release also stubs the definitions that compute an answer of chapter N or
    later under another name, found by the release's leak probe or listed in its
    reviewed table (``autograder.release.leaks``; ``also_stub`` here).
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import nbformat

from autograder.course import ROOT, Chapter, all_chapters, text_table
from autograder.plumbing import HIDDEN_TESTS, SOLUTION, is_answer_cell, parse_python, region_texts
from autograder.runtime.i18n import P_

LIBRARY_DIR = ROOT / "solutions"
RUNTIME_DIR = ROOT / "autograder" / "runtime"  # what runs in the student's kernel: the checks and the probe
CHECKS_FILE = RUNTIME_DIR / "checks.py"

MIN_REGION_CHARS = 12  # shorter regions (``return x``) are too generic to be called a leak


# ---------------------------------------------------------------------------
# Reading chapters
# ---------------------------------------------------------------------------


def grade_id(cell) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "?")


def answer_cells(nb) -> list:
    return [c for c in nb.cells if is_answer_cell(c)]


def python_source(source: str) -> str:
    """Cell source without IPython magics and shell escapes, which ``ast`` cannot parse."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def graded_definitions(nb) -> dict[str, str]:
    """{name: grade_id} of the top-level functions/classes that answer cells ask students to write."""
    found: dict[str, str] = {}
    for cell in answer_cells(nb):
        source = python_source(cell.source)
        try:
            tree = parse_python(source)
        except SyntaxError:
            continue
        lines = source.splitlines()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                body = lines[node.lineno - 1 : node.end_lineno]
                if any("### BEGIN SOLUTION" in line for line in body):
                    found[node.name] = grade_id(cell)
    return found


def library_definitions() -> dict[str, str]:
    """{name: module} of every top-level function and class in ``solutions/``."""
    found: dict[str, str] = {}
    for path in sorted(LIBRARY_DIR.glob("*.py")):
        tree = parse_python(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found.setdefault(node.name, path.stem)
    return found


def names_needed_by_checks() -> set[str]:
    """Library names that ``autograder.checks`` imports (they must keep working)."""
    tree = parse_python(CHECKS_FILE.read_text(encoding="utf-8"))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("solutions")
        for alias in node.names
    }


@dataclass(frozen=True)
class LibraryAnswer:
    """One library function or class that is a graded answer of a chapter."""

    chapter: str
    grade_id: str
    module: str
    name: str

    @property
    def qualname(self) -> str:
        return f"solutions.{self.module}.{self.name}"


def answer_map(chapters: list[Chapter] | None = None) -> list[LibraryAnswer]:
    """The explicit mapping: which ``solutions`` functions are which chapter's graded answers."""
    chapters = chapters if chapters is not None else [Chapter.resolve(c) for c in all_chapters()]
    library = library_definitions()
    answers = []
    for chapter in chapters:
        nb = nbformat.read(chapter.path, as_version=4)
        for name, grade_id in sorted(graded_definitions(nb).items()):
            if name in library:
                answers.append(LibraryAnswer(chapter.id, grade_id, library[name], name))
    return answers


def chapters_from(chapter: Chapter) -> list[Chapter]:
    """This chapter and every later one of the course (a chapter outside chapters/ comes first)."""
    later = [Chapter.resolve(c) for c in all_chapters() if c >= chapter.id and c != chapter.id]
    return [chapter, *later]


# ---------------------------------------------------------------------------
# Secret text: solution regions and hidden tests
# ---------------------------------------------------------------------------


def normalize_line(line: str) -> str:
    """A code line without indentation, trailing comment and repeated spaces ('' if nothing is left)."""
    text = line.strip()
    if text.startswith("#"):
        return ""
    if "#" in text and "'" not in text and '"' not in text:
        text = text.split("#", 1)[0].rstrip()
    return " ".join(text.split())


def normalized_lines(text: str) -> list[tuple[int, str]]:
    """(0-based line number, normalized line) of every line that has code."""
    return [(number, norm) for number, line in enumerate(text.splitlines()) if (norm := normalize_line(line))]


@dataclass(frozen=True)
class Secret:
    """The normalized code of one solution region or hidden-test region."""

    chapter: str
    kind: str  # "solution" or "hidden test"
    cell: str  # grade_id of the cell it comes from
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def secrets(chapter: Chapter) -> list[Secret]:
    """Every solution region and hidden-test region of a chapter source that is long enough to matter."""
    nb = nbformat.read(chapter.path, as_version=4)
    found = []
    for cell in nb.cells:
        for delimiters in (SOLUTION, HIDDEN_TESTS):
            kind = "solution" if delimiters is SOLUTION else "hidden test"
            for region in region_texts(cell.source, delimiters):
                lines = tuple(norm for _, norm in normalized_lines(region))
                if len("".join(lines)) >= MIN_REGION_CHARS:
                    found.append(Secret(chapter.id, kind, grade_id(cell), lines))
    return found


def find_secret(text: str, secret: Secret) -> list[int]:
    """0-based line numbers in ``text`` where the secret's code starts (contiguous, normalized)."""
    lines = normalized_lines(text)
    width = len(secret.lines)
    norms = [norm for _, norm in lines]
    return [lines[i][0] for i in range(len(norms) - width + 1) if tuple(norms[i : i + width]) == secret.lines]


# ---------------------------------------------------------------------------
# Building the student edition
# ---------------------------------------------------------------------------


@dataclass
class Stub:
    module: str
    qualname: str
    chapter: str
    why: str  # "answer" (same name) or "contains <kind> of <cell>"


@dataclass
class StudentEdition:
    """What ``build_student_edition`` did, for the release manifest and the tests."""

    chapter: str
    stubs: list[Stub] = field(default_factory=list)
    kept_for_checks: list[str] = field(default_factory=list)
    reproductions: list = field(default_factory=list)  # what the leak probe found and stubbed (leaks.Reproduction)

    def manifest(self) -> str:
        lines = [
            f"Student edition of `solutions` for chapter {self.chapter}.",
            "These functions are exercises of this chapter or a later one; here they raise NotImplementedError:",
            "",
        ]
        rows = [(f"solutions.{s.module}.{s.qualname}", s.chapter, s.why) for s in self.stubs]
        lines.append(text_table(("function", "chapter", "why"), rows))
        if self.kept_for_checks:
            lines += ["", "Kept although graded later, because autograder.checks needs them:"]
            lines += [f"  {name}" for name in self.kept_for_checks]
        return "\n".join(lines) + "\n"


#: the stubs' messages: patterns of the learner catalog, so that a student reads them in the release's language
STUB_OF_THIS_CHAPTER = P_("{name} is an exercise of this chapter ({chapter}): write it yourself in the notebook.")
STUB_OF_A_LATER_CHAPTER = P_(
    "{name} is an exercise of a later chapter ({chapter}); it is not part of the release of {release}."
)


def _stub_message(qualname: str, owner: str, current: str) -> str:
    if owner == current:
        return STUB_OF_THIS_CHAPTER.format(name=qualname, chapter=owner)
    return STUB_OF_A_LATER_CHAPTER.format(name=qualname, chapter=owner, release=current)


def _gives_away_message(qualname: str, owner: str, current: str) -> str:
    which = "this chapter" if owner == current else "a later chapter"
    return f"{qualname} computes an exercise of {which} ({owner}); it is not part of the release of {current}."


Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef  # what a stub replaces the body of


def _stub_lines(node: Definition, lines: list[str], message: str) -> tuple[int, int, list[str]]:
    """(first, last) 0-based lines of ``node``'s body to replace, and the replacement lines."""
    body = node.body
    first_statement = body[0]
    has_docstring = (
        isinstance(first_statement, ast.Expr)
        and isinstance(first_statement.value, ast.Constant)
        and isinstance(first_statement.value.value, str)
    )
    # 0-based slice [start, end) of the lines after the docstring up to the end of the definition
    # (end_lineno: always set by ast.parse)
    start = cast(int, first_statement.end_lineno) if has_docstring else first_statement.lineno - 1
    end = cast(int, node.end_lineno)
    indent = " " * (first_statement.col_offset)
    if isinstance(node, ast.ClassDef):
        new = [
            f"{indent}def __init__(self, *args, **kwargs):",
            f"{indent}    raise NotImplementedError({message!r})",
        ]
    else:
        new = [f"{indent}raise NotImplementedError({message!r})"]
    return start, end, new


def _definitions(tree: ast.Module) -> list[tuple[str, Definition]]:
    """(qualname, node) of every function, method and class, outermost first."""
    found: list[tuple[str, Definition]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{prefix}{child.name}"
                found.append((qualname, child))
                visit(child, f"{qualname}.")

    visit(tree, "")
    return found


class LeakError(RuntimeError):
    """The student edition would still contain secret text that no stub can remove."""


def _apply_stubs(source: str, targets: dict[str, str]) -> str:
    """Replace the bodies of the definitions named in ``targets`` ({qualname: message}) by stubs."""
    tree = parse_python(source)
    lines = source.splitlines()
    edits = []
    for qualname, node in _definitions(tree):
        if qualname in targets:
            edits.append(_stub_lines(node, lines, targets[qualname]))
    # outermost stubs win; drop edits nested inside another edit
    edits.sort(key=lambda e: (e[0], -e[1]))
    kept: list[tuple[int, int, list[str]]] = []
    for edit in edits:
        if kept and edit[0] >= kept[-1][0] and edit[1] <= kept[-1][1]:
            continue
        kept.append(edit)
    for start, end, new in sorted(kept, reverse=True):
        lines[start:end] = new
    return "\n".join(lines) + "\n"


def build_student_edition(chapter: Chapter, dest: Path, also_stub: tuple[Stub, ...] = ()) -> StudentEdition:
    """Write the student edition of ``solutions`` for ``chapter`` into ``dest/solutions``.

    ``also_stub``: further top-level definitions to stub (``Stub.why`` says which answer they give away).
    """
    owners = chapters_from(chapter)
    answers = {a.name: a for a in answer_map(owners)}
    protected = names_needed_by_checks()
    secret_list = [s for owner in owners for s in secrets(owner)]
    edition = StudentEdition(chapter.id)
    edition.kept_for_checks = sorted(protected & set(answers))

    package = dest / "solutions"
    if package.exists():
        shutil.rmtree(package)
    package.mkdir(parents=True)
    for path in sorted(LIBRARY_DIR.glob("*.py")):
        module = path.stem
        source = path.read_text(encoding="utf-8")
        targets: dict[str, str] = {}
        for name, answer in answers.items():
            if answer.module == module and name not in protected:
                targets[name] = _stub_message(answer.qualname, answer.chapter, chapter.id)
                edition.stubs.append(Stub(module, name, answer.chapter, f"answer of {answer.grade_id}"))
        for stub in also_stub:
            if stub.module == module and stub.qualname not in targets and stub.qualname not in protected:
                qualname = f"solutions.{module}.{stub.qualname}"
                targets[stub.qualname] = _gives_away_message(qualname, stub.chapter, chapter.id)
                edition.stubs.append(stub)
        source = _apply_stubs(source, targets)
        # safety net: stub the innermost definition around any remaining secret text
        for _ in range(20):
            tree = parse_python(source)
            definitions = _definitions(tree)
            extra: dict[str, str] = {}
            for secret in secret_list:
                for line in find_secret(source, secret):
                    around = [
                        (q, n)
                        for q, n in definitions
                        if n.lineno - 1 <= line < cast(int, n.end_lineno) and q.split(".")[0] not in protected
                    ]
                    if not around:
                        raise LeakError(
                            f"solutions/{path.name}, line {line + 1}: contains the {secret.kind} of "
                            f"{secret.chapter}:{secret.cell} outside any function, so no stub can hide it"
                        )
                    qualname = around[-1][0]
                    extra[qualname] = _stub_message(f"solutions.{module}.{qualname}", secret.chapter, chapter.id)
                    edition.stubs.append(
                        Stub(module, qualname, secret.chapter, f"contains the {secret.kind} of {secret.cell}")
                    )
            if not extra:
                break
            source = _apply_stubs(source, extra)
        (package / path.name).write_text(source, encoding="utf-8")
    for item in sorted(LIBRARY_DIR.iterdir()):
        if item.is_file() and item.suffix != ".py" and not item.name.startswith("."):
            shutil.copy(item, package / item.name)
    (package / "STUDENT_EDITION.txt").write_text(edition.manifest(), encoding="utf-8")
    return edition


def mapping_table() -> str:
    """The mapping as text, for ``python -m autograder mapping``."""
    answers = answer_map()
    if not answers:
        return "No chapter answer has a same-named function in solutions/.\n"
    rows = [(a.chapter, a.grade_id, a.qualname) for a in answers]
    return text_table(("chapter", "grade_id", "library function"), rows) + "\n"
