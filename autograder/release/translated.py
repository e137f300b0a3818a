"""An assignment in another language, made from the English release: same code, same graded cells.

``translate_release(folder, chapter, language)`` turns a chapter's release folder (made by
``autograder.release.assignment.release_chapter``) into the release in ``language``, in place:

* the notebook's prose (its markdown cells that are not nbgrader's) translated with the chapter's
  catalog (``autograder.release.catalogs``), citations written as text again. Every code cell and
  every graded cell stays byte for byte as released in English, written answers' "YOUR ANSWER HERE"
  included: the gradebook's grade ids and checksums are those of the English release, and
  ``python -m autograder grade`` grades both alike;
* ``metadata.course.language``: the grader writes its verdicts in that language;
* ``autograder/locale/<language>/LC_MESSAGES/learner.mo``: the learner catalog with the chapter's
  check names and hints (of its visible tests only) and its stubs' messages, so that the checks,
  the test cells' words and the stubs speak the language in the student's kernel
  (``autograder.runtime.i18n``);
* ``README.md`` from the translated template.

For the grader, ``submission_language(nb, chapter)`` is the same catalog (hidden tests' words
included) as an ``autograder.runtime.i18n.Language``, chosen by the notebook's metadata.
"""

from __future__ import annotations

import copy
import functools
import io
import json
import re
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from autograder.course import CHAPTER_DIR, Chapter
from autograder.plumbing import (
    ASIDE,
    EXERCISE_HEADING,
    ClearSolutionsWithNamedStubs,
    is_answer_cell,
)
from autograder.release import catalogs
from autograder.release.assignment import README_TEMPLATE, student_readme
from autograder.release.citations import BIBFILE, plain_citations
from autograder.runtime import i18n

STUB_LITERAL = re.compile(r"NotImplementedError\((\"(?:[^\"\\]|\\.)*\")\)")
HEADING_TEXT = re.compile(r"^#{1,6}\s+(.*)$")


class TranslationError(RuntimeError):
    """A release that cannot be translated: the message says why."""


def chapter_domain(chapter_id: str) -> str:
    return f"{CHAPTER_DIR.name}/{chapter_id}"


# --------------------------------------------------------------------------- #
# the notebook
# --------------------------------------------------------------------------- #


def is_prose(cell) -> bool:
    """A markdown cell of the chapter's text (not an nbgrader cell: a written answer stays as released)."""
    return cell.cell_type == "markdown" and "nbgrader" not in cell.metadata


def translate_notebook(release, source, translations: catalogs.Translations, bibfile: Path = BIBFILE):
    """The release notebook with each prose cell translated from its source cell (matched by cell id)."""
    nb = copy.deepcopy(release)
    sources = {cell.get("id"): cell for cell in source.cells}
    for index, cell in enumerate(nb.cells):
        if not is_prose(cell):
            continue
        original = sources.get(cell.get("id"))
        if original is None or plain_citations(original.source, bibfile) != cell.source:
            raise TranslationError(
                f"cell {index} ({cell.get('id')}) of the release is not the source's: release and source differ"
            )
        cell.source = plain_citations(translations.markdown(original.source), bibfile)
    return nb


# --------------------------------------------------------------------------- #
# the learner catalog of a chapter
# --------------------------------------------------------------------------- #


def exercise_titles(translations: catalogs.Translations) -> dict[str, str]:
    """{English exercise title: translated}, as the stubs name them, from the chapter's headings."""

    def title(heading: str) -> str:
        return ASIDE.sub("", heading).replace("$", "").strip()

    found = {}
    for english, translated in translations.of_context(None).items():
        heading = EXERCISE_HEADING.fullmatch(english.strip())
        own = HEADING_TEXT.match(translated.strip())
        if heading and own:
            found[title(heading[1])] = title(own[1])
    return found


def stub_messages(nb, words=None) -> list[str]:
    """The messages of the stubs nbgrader's release writes into the answer cells, in order."""
    step = ClearSolutionsWithNamedStubs(words=words)
    cleared, _ = step.preprocess(copy.deepcopy(nb), {})
    return [
        json.loads(literal)
        for cell in cleared.cells
        if is_answer_cell(cell)
        for literal in STUB_LITERAL.findall(cell.source)
    ]


def stub_translations(source_nb, learner: i18n.Language, chapter: catalogs.Translations) -> dict[str, str]:
    """{English stub message: translated}: the stubs named again with translated words."""
    titles = exercise_titles(chapter)
    english = stub_messages(source_nb)
    translated = stub_messages(source_nb, lambda text: titles.get(text) or learner.translate(text))
    return {e: t for e, t in zip(english, translated, strict=True) if e != t}


def learner_catalog(language: str, chapter_id: str, hidden: bool) -> Catalog:
    """The learner catalog of a chapter in ``language``: messages, check words (hidden ones if asked), stubs."""
    catalog = Catalog(locale=language, domain=i18n.DOMAIN, charset="utf-8")
    learner = catalogs.load(language, catalogs.LEARNER)
    for (context, msgid), string in learner.entries.items():
        catalog.add(msgid, string, context=context)
    chapter = catalogs.load(language, chapter_domain(chapter_id))
    kinds = {catalogs.CHECK: None, catalogs.PATTERN: i18n.PATTERN_CONTEXT}
    if hidden:
        kinds |= {
            f"{catalogs.HIDDEN} {catalogs.CHECK}": None,
            f"{catalogs.HIDDEN} {catalogs.PATTERN}": i18n.PATTERN_CONTEXT,
        }
    for (context, msgid), string in chapter.entries.items():
        if context in kinds:
            catalog.add(msgid, string, context=kinds[context])
    source = nbformat.read(CHAPTER_DIR / f"{chapter_id}.ipynb", as_version=4)
    words = i18n.Language(language, _translations(catalog))
    for english, translated in stub_translations(source, words, chapter).items():
        catalog.add(english, translated)
    return catalog


def mo_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def _translations(catalog: Catalog):
    import gettext

    return gettext.GNUTranslations(io.BytesIO(mo_bytes(catalog)))


@functools.lru_cache(maxsize=32)
def _learner_language(language: str, chapter_id: str, stamp: tuple) -> i18n.Language:
    return i18n.Language(language, _translations(learner_catalog(language, chapter_id, hidden=True)))


def learner_language(language: str, chapter_id: str) -> i18n.Language:
    """The grader's learner catalog of a chapter (hidden tests' words included), as a runtime Language."""
    paths = [catalogs.po_path(language, catalogs.LEARNER), catalogs.po_path(language, chapter_domain(chapter_id))]
    stamp = tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in paths)
    return _learner_language(language, chapter_id, stamp)


def submission_language(nb, chapter_id: str) -> i18n.Language:
    """The language a submission's verdicts are written in: its metadata's, when the course has that language."""
    code = ((nb.get("metadata") or {}).get("course") or {}).get("language", catalogs.SOURCE_LANGUAGE)
    if code == catalogs.SOURCE_LANGUAGE or code not in catalogs.languages() or not chapter_id:
        return i18n.Language(catalogs.SOURCE_LANGUAGE)
    if not (CHAPTER_DIR / f"{chapter_id}.ipynb").is_file():
        return i18n.Language(catalogs.SOURCE_LANGUAGE)
    return learner_language(code, chapter_id)


# --------------------------------------------------------------------------- #
# the release folder
# --------------------------------------------------------------------------- #


def translate_release(folder: Path, chapter: Chapter, language: str) -> Path:
    """Turn ``folder``, the English release of ``chapter``, into its release in ``language``; returns the notebook."""
    if language not in catalogs.languages():
        raise TranslationError(f"{language!r} is not a language of the course ({catalogs.LANGUAGES_FILE})")
    path = folder / f"{chapter.id}.ipynb"
    release = nbformat.read(path, as_version=4)
    source = nbformat.read(chapter.path, as_version=4)
    nb = translate_notebook(release, source, catalogs.load(language, chapter_domain(chapter.id)))
    nb.metadata.setdefault("course", {})["language"] = language
    nbformat.write(nb, path)
    locale = folder / "autograder" / i18n.LOCALE_DIR.name / language / "LC_MESSAGES"
    locale.mkdir(parents=True, exist_ok=True)
    (locale / f"{i18n.DOMAIN}.mo").write_bytes(mo_bytes(learner_catalog(language, chapter.id, hidden=False)))
    template = catalogs.load(language, catalogs.README).markdown(README_TEMPLATE.read_text(encoding="utf-8"))
    (folder / "README.md").write_text(student_readme(chapter, template, nb), encoding="utf-8")
    return path
