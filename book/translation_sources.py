"""What the course's catalogs translate: the English text of every document, read from its source.

``templates()`` is {domain: babel ``Catalog``}, gettext's ``.pot`` templates in memory, one per
catalog of ``autograder.release.catalogs``:

* each page of ``_toc.yml`` (``intro``, ``book/glossary``, ...): the units of its Markdown
  (``autograder.release.markdown_units``);
* each chapter: the units of its markdown cells (not nbgrader's written answers, which stay as
  released), and the words of its test cells: the name, ``hint=`` and ``message=`` of every
  ``check_*(...)`` call, a string (context ``check``), a name bound to one, or an f-string, whose
  ``{...}`` parts become placeholders (context ``pattern``: matched when the check runs); the words
  of hidden tests have the contexts ``hidden check`` and ``hidden pattern`` (the grader shows them,
  a release never holds them);
* ``learner``: the messages the code that speaks to a student marks with ``_()``, ``N_()`` and
  ``P_()`` (a pattern): the checks, the grader's verdicts, the stubs (babel's Python extractor);
* ``site``: the messages the website build marks with ``_()``, the title of ``_config.yml``, its
  footer, and the part captions of ``_toc.yml``;
* ``assignment_readme``: the units of the README template of an assignment folder.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python

from autograder.plumbing import hidden_line_numbers, is_grade, is_solution, is_test_cell
from autograder.release import markdown_units
from autograder.release.assignment import README_TEMPLATE
from autograder.release.catalogs import CHECK, HIDDEN, LEARNER, PATTERN, README, SITE

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "Training Deep Neural Networks from Scratch"
#: the code whose marked messages a student reads (the learner catalog)
LEARNER_SOURCES = ("autograder/runtime/checks.py", "autograder/runtime/assignment.py", "autograder/grade/score.py",
                   "autograder/grade/feedback.py", "autograder/plumbing.py", "autograder/release/student_edition.py")
#: the code whose marked messages the website shows (the site catalog)
SITE_SOURCES = ("book/staging.py", "book/ext/course_site.py", "book/translated_site.py")
KEYWORDS = {"_": None, "N_": None, "P_": None}
#: the arguments of a check_*(...) call that a student reads
CHECK_WORDS = ("hint", "message")


def new_catalog(domain: str) -> Catalog:
    return Catalog(domain=domain, project=PROJECT, version="", fuzzy=False, charset="utf-8")


def add(catalog: Catalog, text: str, where: tuple[str, int | None], context: str | None = None,
        comment: str | None = None) -> None:
    message = catalog.get(text, context)
    if message is None:
        message = catalog.add(text, locations=[where], context=context, auto_comments=[comment] if comment else [])
        if context is None and domain_is_markdown(catalog):
            message.flags.discard("python-brace-format")  # babel's guess; a role {doc}`...` is no placeholder
    elif where not in message.locations:
        message.locations.append(where)


def domain_is_markdown(catalog: Catalog) -> bool:
    return catalog.domain != LEARNER


def add_markdown(catalog: Catalog, text: str, label: str, first_line: int = 1) -> None:
    """Every unit of a Markdown text, located at its first line."""
    line = first_line
    for piece in markdown_units.split(text):
        if isinstance(piece, markdown_units.Unit):
            add(catalog, piece.text, (label, line))
        line += (piece.text if isinstance(piece, markdown_units.Unit) else piece).count("\n") + 1


# --------------------------------------------------------------------------- #
# chapters: prose and the words of the checks
# --------------------------------------------------------------------------- #


def fstring_template(node: ast.JoinedStr) -> str | None:
    """``f"eta = {eta:.2f}"`` as the template ``eta = {eta:.2f}``; None when a literal part has a brace."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            if "{" in value.value or "}" in value.value:
                return None
            parts.append(value.value)
        elif isinstance(value, ast.FormattedValue):
            conversion = f"!{chr(value.conversion)}" if value.conversion != -1 else ""
            spec = ""
            if value.format_spec is not None:
                if not all(isinstance(v, ast.Constant) for v in value.format_spec.values):
                    return None
                spec = ":" + "".join(v.value for v in value.format_spec.values)
            parts.append(f"{{{ast.unparse(value.value)}{conversion}{spec}}}")
    return "".join(parts)


def check_words(source: str) -> list[tuple[int, str, str, str]]:
    """(line, text, context, what) of the words of each ``check_*(...)`` call of a test cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    bound = {node.targets[0].id: node.value.value for node in ast.walk(tree)
             if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
             and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    found = []
    for node in ast.walk(tree):
        function = node.func if isinstance(node, ast.Call) else None
        name = (
            function.id if isinstance(function, ast.Name)
            else function.attr if isinstance(function, ast.Attribute)
            else ""
        )
        if not name.startswith("check_"):
            continue
        arguments = [("name", node.args[0])] if node.args else []
        arguments += [(k.arg, k.value) for k in node.keywords if k.arg in ("name", *CHECK_WORDS)]
        for what, value in arguments:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                found.append((value.lineno, value.value, CHECK, what))
            elif isinstance(value, ast.Name) and bound.get(value.id):
                found.append((value.lineno, bound[value.id], CHECK, what))
            elif isinstance(value, ast.JoinedStr):
                template = fstring_template(value)
                if template and markdown_units.has_words(template):
                    found.append((value.lineno, template, PATTERN, what))
    return sorted(found)


def chapter_template(path: Path, domain: str) -> Catalog:
    catalog = new_catalog(domain)
    nb = nbformat.read(path, as_version=4)
    label = path.relative_to(ROOT).as_posix()
    for cell in nb.cells:
        where = f"{label}#{cell.get('id', '')}"
        if cell.cell_type == "markdown" and not (is_grade(cell) or is_solution(cell)):
            add_markdown(catalog, cell.source, where)
    for cell in nb.cells:  # the checks' words after the prose
        if is_test_cell(cell):
            where = f"{label}#{cell.get('id', '')}"
            hidden = hidden_line_numbers(cell.source)
            for line, text, context, what in check_words(cell.source):
                comment = f"the {what} of a check in a test cell"
                if line in hidden:
                    context, comment = f"{HIDDEN} {context}", f"the {what} of a check in a hidden test"
                if context.endswith(PATTERN):
                    comment += "; each {...} is filled in when the check runs: keep them as they are"
                add(catalog, text, (where, line), context, comment)
    return catalog


# --------------------------------------------------------------------------- #
# code: the learner's messages and the site's words
# --------------------------------------------------------------------------- #


def add_code_messages(catalog: Catalog, relative: str) -> None:
    """The messages a Python file marks with ``_()``, ``N_()`` or ``P_()`` (babel's extractor)."""
    with (ROOT / relative).open("rb") as file:
        for line, function, messages, _comments in extract_python(file, KEYWORDS, [], {}):
            text = messages if isinstance(messages, str) else messages[0] if messages else None
            if isinstance(text, str) and text:
                add(catalog, text, (relative, line), PATTERN if function == "P_" else None,
                    "a template: each {...} is filled in when it is shown; keep them as they are"
                    if function == "P_" or "{" in text else None)


def learner_template() -> Catalog:
    catalog = new_catalog(LEARNER)
    for relative in LEARNER_SOURCES:
        add_code_messages(catalog, relative)
    return catalog


def site_template(toc_path: Path = ROOT / "_toc.yml", config_path: Path = ROOT / "_config.yml") -> Catalog:
    catalog = new_catalog(SITE)
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    add(catalog, config["title"], ("_config.yml", None))
    footer = (config.get("html") or {}).get("extra_footer")
    if footer:
        add(catalog, footer.strip(), ("_config.yml", None))
    toc = yaml.safe_load(toc_path.read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption"):
            add(catalog, part["caption"], ("_toc.yml", None))
    for relative in SITE_SOURCES:
        if (ROOT / relative).is_file():
            add_code_messages(catalog, relative)
    from book.staging import ASSIGNMENT_BOX

    add_markdown(catalog, ASSIGNMENT_BOX, "book/staging.py (ASSIGNMENT_BOX)")
    return catalog


# --------------------------------------------------------------------------- #
# all of them
# --------------------------------------------------------------------------- #


def documents() -> dict[str, Path]:
    """{domain: source file} of every page and chapter of ``_toc.yml`` that exists."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    found = {}
    for name in parse_toc_yaml(ROOT / "_toc.yml"):
        source = next(
            (ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{name}{suffix}").is_file()), None
        )
        if source is not None:
            found[name] = source
    return found


def template(domain: str) -> Catalog:
    """The template of one catalog, from its English source."""
    if domain == LEARNER:
        return learner_template()
    if domain == SITE:
        return site_template()
    if domain == README:
        catalog = new_catalog(README)
        add_markdown(catalog, README_TEMPLATE.read_text(encoding="utf-8"), README_TEMPLATE.relative_to(ROOT).as_posix())
        return catalog
    source = documents()[domain]
    if source.suffix == ".ipynb":
        return chapter_template(source, domain)
    catalog = new_catalog(domain)
    add_markdown(catalog, source.read_text(encoding="utf-8"), source.relative_to(ROOT).as_posix())
    return catalog


def domains() -> list[str]:
    return [*documents(), LEARNER, SITE, README]


def templates() -> dict[str, Catalog]:
    return {domain: template(domain) for domain in domains()}
