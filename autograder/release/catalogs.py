"""The course's translation catalogs: gettext ``.po`` files under ``book/locale/<language>/LC_MESSAGES/``.

One catalog (a gettext *domain*) per document: each page and chapter of the website under its
name in ``_toc.yml`` (``intro``, ``chapters/01_gradient_descent``, ``book/glossary``), plus
``learner`` (what the checks and the grader say to a student), ``site`` (the website's own words)
and ``assignment_readme`` (the README of an assignment folder). Each entry is keyed by its English
text (``msgid``), as gettext does: a paragraph of a page (``autograder.release.markdown_units``),
a check's name or hint of a chapter's test cells (context ``check``), a template whose ``{...}``
placeholders are filled in when it is shown (context ``pattern``). ``book/locale/languages.yml``
names the languages and the catalogs each must have complete. ``book/tools/translations.py``
writes the catalogs from the English sources (book/README.md, "Translating the course").

* ``load(language, domain)``: the catalog's translations (translated and not fuzzy). Each is
  checked against its English text: a translation that loses or adds markup (math, code, a role's
  or a link's target, a tag, a placeholder) raises ``CatalogError`` naming the file and the line.
* ``Translations.markdown(text)``: a Markdown text in the language, unit by unit (a unit without
  translation stays English); ``Translations.text(msgid, context)``: one entry.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from babel.messages.catalog import Catalog
from babel.messages.pofile import PoFileError, read_po

from autograder.release import markdown_units

ROOT = Path(__file__).resolve().parents[2]
LOCALE_DIR = ROOT / "book" / "locale"
LANGUAGES_FILE = LOCALE_DIR / "languages.yml"
SOURCE_LANGUAGE = "en"
#: catalogs that are not a page or a chapter of the website
LEARNER, SITE, README = "learner", "site", "assignment_readme"
#: contexts of entries that are plain text, not Markdown: a check's words, a template; the words of a hidden
#: test have the context "hidden check" or "hidden pattern" (the grader shows them; a release never holds them)
CHECK, PATTERN, HIDDEN = "check", "pattern", "hidden"


class CatalogError(ValueError):
    """A catalog that cannot be used: the message names the file, the line and the problem."""


@dataclass(frozen=True)
class Language:
    """A language of the course besides English, as ``book/locale/languages.yml`` describes it."""

    code: str
    name: str
    complete: tuple[str, ...] | str  # the domains that must be complete, or "all"

    def must_be_complete(self, domain: str) -> bool:
        return self.complete == "all" or domain in self.complete


def languages() -> dict[str, Language]:
    """The course's languages besides English: {code: Language}."""
    import yaml

    if not LANGUAGES_FILE.is_file():
        return {}
    data = yaml.safe_load(LANGUAGES_FILE.read_text(encoding="utf-8")) or {}
    found = {}
    for code, entry in data.items():
        if not isinstance(entry, dict) or "name" not in entry:
            raise CatalogError(f"{LANGUAGES_FILE}: {code}: needs a name and a list `complete` (or `complete: all`)")
        complete = entry.get("complete") or ()
        found[code] = Language(code, entry["name"], complete if complete == "all" else tuple(complete))
    return found


def po_path(language: str, domain: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"


def is_markdown(domain: str, context: str | None) -> bool:
    """Whether an entry is Markdown (a page's or a README's unit) rather than plain text (a message)."""
    return domain != LEARNER and context is None


def read(path: Path) -> Catalog:
    """A ``.po`` file, parsed by babel; a syntax error raises ``CatalogError`` with the file and line."""
    try:
        with path.open("rb") as file:
            return read_po(file, abort_invalid=True)
    except PoFileError as error:
        raise CatalogError(f"{relative(path)}:{getattr(error, 'lineno', '?')}: not a valid .po file: {error}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise CatalogError(f"{relative(path)}: not a valid .po file: {error}") from None


def relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def msgstr_line(lines: list[str], msgid_line: int | None) -> int | None:
    """The line of the ``msgstr`` of the entry whose ``msgid`` is on ``msgid_line`` (1-based)."""
    if msgid_line is None:
        return None
    return next((n + 1 for n in range(msgid_line - 1, len(lines)) if lines[n].startswith("msgstr")), msgid_line)


def problems(path: Path, domain: str, catalog: Catalog) -> list[str]:
    """Every translated entry whose markup differs from its English text: ``file:line: problem``."""
    lines = path.read_text(encoding="utf-8").split("\n")
    found = []
    for message in catalog:
        if not message.id or not message.string or message.fuzzy or not isinstance(message.id, str):
            continue
        translation = cast(str, message.string)  # a singular message (its id is a str): one translation
        wrong = markdown_units.markup_problems(message.id, translation, is_markdown(domain, message.context))
        if wrong:
            where = f"{relative(path)}:{msgstr_line(lines, message.lineno)}"
            found += [f"{where}: {problem} (msgid {message.id[:60]!r})" for problem in wrong]
    return found


@dataclass
class Translations:
    """The usable translations of one catalog: {(context, English): translation}."""

    language: str
    domain: str
    entries: dict[tuple[str | None, str], str] = field(default_factory=dict)

    def text(self, msgid: str, context: str | None = None) -> str:
        return self.entries.get((context, msgid), msgid)

    def markdown(self, text: str) -> str:
        """``text`` with each unit translated (a unit without a translation stays as it is)."""
        return markdown_units.join(markdown_units.split(text), lambda unit: self.entries.get((None, unit), unit))

    def of_context(self, context: str | None) -> dict[str, str]:
        return {msgid: string for (ctx, msgid), string in self.entries.items() if ctx == context}


@functools.lru_cache(maxsize=64)
def _load(path: Path, mtime_ns: int, language: str, domain: str) -> Translations:
    catalog = read(path)
    wrong = problems(path, domain, catalog)
    if wrong:
        raise CatalogError("a translation does not keep the markup of its English text:\n  " + "\n  ".join(wrong))
    entries = {  # singular messages (their ids are str): one translation each
        (m.context, m.id): cast(str, m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }
    return Translations(language, domain, entries)


def load(language: str, domain: str) -> Translations:
    """The translations of ``domain`` in ``language`` (none for English or a missing catalog), checked."""
    path = po_path(language, domain)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return Translations(language, domain)
    return _load(path, path.stat().st_mtime_ns, language, domain)


def check_all(language: str) -> list[str]:
    """``file:line: problem`` for every broken catalog of ``language`` (syntax or markup)."""
    found = []
    for path in sorted((LOCALE_DIR / language / "LC_MESSAGES").rglob("*.po")):
        domain = path.relative_to(LOCALE_DIR / language / "LC_MESSAGES").with_suffix("").as_posix()
        try:
            found += problems(path, domain, read(path))
        except CatalogError as error:
            found.append(str(error))
    return found
