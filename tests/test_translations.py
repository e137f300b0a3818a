"""The translation catalogs of the course's other languages (book/locale), as text: fast, nothing is built.

* Markdown is cut into units and joined again unchanged; tables by row, lists by item, directives'
  bodies as Markdown, code and math kept.
* A translation that loses or adds markup (a ``$``, a backtick, a role's or a link's target, a
  placeholder) is named with its file and line, fails ``catalogs.load`` and stops the build
  before anything slow.
* Every catalog parses and keeps its markup; the catalogs that ``book/locale/languages.yml``
  requires are complete: no string missing, untranslated or fuzzy against the English as it is now.
* The glossary's terms: where an English term is in a translated string, its Korean main form
  (or a listed variant) is in the translation.
* The gettext merge: a changed English paragraph becomes fuzzy (with its old translation), a new
  one untranslated.
* The runtime's catalog: exact texts, a test cell's f-string as a pattern, the stubs' messages,
  the notebook's prose translated and its code and graded cells unchanged.
"""

from __future__ import annotations

import gettext
import io
import re

import nbformat
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from book_tools import CHAPTERS, PAGES, glossary_entries

from autograder.release import catalogs, markdown_units, translated
from autograder.runtime import i18n
from book import translation_sources
from book.tools import translations

pytestmark = pytest.mark.book

LANGUAGES = catalogs.languages()
REQUIRED = [(code, domain) for code, language in LANGUAGES.items() for domain in translation_sources.domains()
            if language.must_be_complete(domain)]


def write_po(path, entries, language="ko"):
    """A .po file of {msgid or (context, msgid): msgstr}, as the tools write it."""
    catalog = Catalog(locale=language, charset="utf-8")
    for key, string in entries.items():
        context, msgid = key if isinstance(key, tuple) else (None, key)
        catalog.add(msgid, string, context=context)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(translations.po_bytes(catalog))
    return path


@pytest.fixture
def locale(tmp_path, monkeypatch):
    """An empty book/locale with the language ko."""
    folder = tmp_path / "locale"
    folder.mkdir()
    (folder / "languages.yml").write_text("ko:\n  name: 한국어\n  complete: [intro]\n", encoding="utf-8")
    monkeypatch.setattr(catalogs, "LOCALE_DIR", folder)
    monkeypatch.setattr(catalogs, "LANGUAGES_FILE", folder / "languages.yml")
    return folder


# --------------------------------------------------------------------------- #
# units and markup
# --------------------------------------------------------------------------- #


def joined(pieces):
    return "\n".join(p.text if isinstance(p, markdown_units.Unit) else p for p in pieces)


def test_every_page_and_markdown_cell_is_cut_into_units_and_joined_again_unchanged():
    texts = [page.read_text(encoding="utf-8") for page in PAGES]
    texts += [cell.source for chapter in CHAPTERS for cell in nbformat.read(chapter, as_version=4).cells
              if cell.cell_type == "markdown"]
    for text in texts:
        assert joined(markdown_units.split(text)) == text


def test_units_of_headings_tables_lists_directives_code_and_math():
    text = """\
(label)=
# A title

| name | value |
|---|---|
| one | $x$ |
| 1 | 2 |

- first item
  continued
- second item

$$
E = mc^2
$$

```python
print("not prose")
```

:::{admonition} A box
:class: tip
Inside the box.
:::

```{only} student
Only for students.
```"""
    assert markdown_units.units(text) == [
        "# A title", "| name | value |", "| one | $x$ |", "- first item\n  continued", "- second item",
        ":::{admonition} A box\n:class: tip", "Inside the box.", "Only for students."]


@pytest.mark.parametrize("source, translation, problem", [
    ("the loss $E(w)$ falls", "손실 E(w)가 줄어듭니다", "math '$E(w)$'"),
    ("the loss $E(w)$ falls", "손실 $E(w가 줄어듭니다", "math '$E(w)$'"),
    ("call `np.exp` here", "여기서 np.exp`를 호출", "inline code '`np.exp`'"),
    ("see [the notes](notes-oh)", "[노트](notes-jeju) 참고", "link target '[...](notes-oh)'"),
    ("as {cite:p}`he2015delving` shows", "{cite:p}`he2015` 처럼", "role '{cite:p}`he2015delving`'"),
    ("the {doc}`glossary <book/glossary>`", "{doc}`용어집 <book/notation>`", "role '{doc}`book/glossary`'"),
    ("worth {points} points", "{point}점", "placeholder '{points}'"),
    ("<code>x</code> here", "<code>x 여기", "HTML '</code>'"),
    ("# A title", "## 제목", "heading level '#'"),
    ("| a | b |", "| 가 |", "table cells '2'"),
    ("> quoted\n> text", "> 인용\n문장", "blockquote"),
])
def test_a_translation_that_loses_markup_is_named(source, translation, problem):
    problems = markdown_units.markup_problems(source, translation)
    assert any(problem in found for found in problems), problems


def test_a_translation_that_keeps_the_markup_passes():
    source = "The {doc}`glossary <book/glossary>` and $x^2$, `code`, [notes](notes-oh), **bold**, {points}"
    assert markdown_units.markup_problems(source, "**굵게**, [노트](notes-oh), `code`, $x^2$, {points}, "
                                                  "{doc}`용어집 <book/glossary>`") == []


# --------------------------------------------------------------------------- #
# the catalogs
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_catalog_parses_and_keeps_the_markup_of_its_english(language):
    problems = catalogs.check_all(language)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("language, domain", REQUIRED, ids=[f"{code}:{domain}" for code, domain in REQUIRED])
def test_required_catalogs_are_complete(language, domain):
    status = translations.status(language, domain)
    left = status.missing + status.untranslated + status.fuzzy + status.problems
    assert status.complete, (
        f"{len(left)} of {status.total} strings of {catalogs.relative(catalogs.po_path(language, domain))} are not "
        f"translated (book/locale/languages.yml requires it complete). Run "
        f"`.venv/bin/python book/tools/translations.py update {domain}`, translate, and see book/README.md:\n  "
        + "\n  ".join(left[:30]))


def prose(text: str) -> str:
    """What a reader reads of a catalog string: role and link texts, without code, math, targets and tags."""
    def role(match):
        target = markdown_units.ROLE_TARGET.match(match["content"])
        shown = target["text"] if target else match["content"] if match["name"] in markdown_units.TEXT_ROLES else ""
        return f" {shown} "

    text = markdown_units.ROLE.sub(role, text)
    for pattern in (markdown_units.CODE, markdown_units.MATH, markdown_units.URL, markdown_units.HTML):
        text = pattern.sub(" ", text)
    return markdown_units.LINK.sub(lambda match: f" {match['text']} ", text)


def term_pattern(term: str) -> re.Pattern:
    """The English term as words (any case, a hyphen or space between them, plural -s/-es)."""
    words = r"[\s-]+".join(re.escape(word) for word in re.split(r"[\s-]+", term))
    return re.compile(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", re.IGNORECASE)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_translations_use_the_glossary_terms(language):
    terms = [
        (entry, term_pattern(entry.term), [form.strip() for form in entry.korean.split("/")] + list(entry.variants))
        for entry in glossary_entries()
    ]
    problems = []
    for domain in translation_sources.domains():
        for (_, english), translation in catalogs.load(language, domain).entries.items():
            spoken = re.sub(r"\s+", " ", translation)  # a line break inside a term renders as a space
            for entry, pattern, forms in terms:
                if pattern.search(prose(english)) and not any(form in spoken for form in forms):
                    problems.append(f"{domain}: {entry.term!r} is in {english[:60]!r} but none of {forms} is in "
                                    f"its translation {translation[:60]!r}")
    assert not problems, "book/glossary.md's Korean terms are not used:\n" + "\n".join(problems[:30])


def test_broken_markup_fails_load_and_the_build_with_the_file_and_line(locale):
    path = write_po(catalogs.po_path("ko", "intro"),
                    {"# Training": "# 학습", "the loss $E$ falls": "손실 E가 줄어듭니다"})
    line = next(n for n, text in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if "손실 E" in text)
    with pytest.raises(catalogs.CatalogError, match=rf"intro\.po:{line}: the math '\$E\$'"):
        catalogs.load("ko", "intro")
    from book import build

    with pytest.raises(build.BuildError, match=rf"intro\.po:{line}: the math '\$E\$'"):
        build.build("student", allow_missing=False, jobs=1, languages=["ko"])


def test_a_changed_paragraph_becomes_fuzzy_and_a_new_one_untranslated(locale):
    def template(*paragraphs):
        catalog = translation_sources.new_catalog("intro")
        for paragraph in paragraphs:
            catalog.add(paragraph, locations=[("intro.md", 1)])
        return catalog

    old = "Gradient descent moves the weights a small step against the gradient of the loss."
    write_po(catalogs.po_path("ko", "intro"), {old: "경사 하강법은 가중치를 손실의 기울기와 반대로 조금 옮깁니다."})
    changed = old.replace("a small step", "a small step (the learning rate)")
    catalog = translations.merged("ko", "intro", template(changed, "A new paragraph."))
    fuzzy, new = catalog.get(changed), catalog.get("A new paragraph.")
    assert fuzzy.fuzzy and fuzzy.string.startswith("경사 하강법") and fuzzy.previous_id == [old]
    assert not new.string and not new.fuzzy
    catalogs.po_path("ko", "intro").write_bytes(translations.po_bytes(catalog))
    status = translations.status("ko", "intro", template(changed, "A new paragraph."))
    assert (status.translated, len(status.fuzzy), len(status.untranslated), status.complete) == (0, 1, 1, False)
    assert catalogs.load("ko", "intro").markdown(changed) == changed  # a fuzzy translation is not used


# --------------------------------------------------------------------------- #
# the runtime's catalog
# --------------------------------------------------------------------------- #


def runtime_language(entries) -> i18n.Language:
    catalog = Catalog(locale="ko", charset="utf-8")
    for key, string in entries.items():
        context, msgid = key if isinstance(key, tuple) else (None, key)
        catalog.add(msgid, string, context=context)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return i18n.Language("ko", gettext.GNUTranslations(io.BytesIO(buffer.getvalue())))


def test_the_runtime_translates_exact_texts_patterns_and_its_own_messages():
    language = runtime_language({
        "values differ": "값이 다릅니다",
        ("pattern", "trajectory shape for eta = {eta}"): "eta = {eta}일 때 궤적의 shape",
        ("pattern", "N = {N}, B = {B}: batches"): "N = {N}, B = {B}: 배치",
    })
    assert language.translate("values differ") == "값이 다릅니다"
    assert language.translate("trajectory shape for eta = 0.4") == "eta = 0.4일 때 궤적의 shape"
    assert language.translate("N = 5, B = 2: batches") == "N = 5, B = 2: 배치"
    assert language.translate("not in the catalog") == "not in the catalog"
    from autograder.runtime import checks

    with i18n.using(language), pytest.raises(checks.CheckFailed) as failure:
        checks.check_equal("trajectory shape for eta = 0.1", 3, 4)
    assert str(failure.value).startswith("eta = 0.1일 때 궤적의 shape: 값이 다릅니다")
    assert i18n.language() == "en"


def test_the_runtime_catalog_of_chapter_1_has_its_visible_checks_and_stubs_not_its_hidden_ones():
    catalog = translated.learner_catalog("ko", "01_gradient_descent", hidden=False)
    ids = {(message.context, message.id) for message in catalog if message.id}
    assert (None, "cross_entropy returns a Python float") in ids
    assert (i18n.PATTERN_CONTEXT, "trajectory shape for eta = {eta}") in ids
    assert (None, "cross_entropy on fresh random logits") not in ids  # a hidden test's name
    assert (None, "cross_entropy on fresh random logits") in {
        (m.context, m.id) for m in translated.learner_catalog("ko", "01_gradient_descent", hidden=True) if m.id}
    stubs = translated.stub_translations(nbformat.read(CHAPTERS[0], as_version=4),
                                         translated.learner_language("ko", "01_gradient_descent"),
                                         catalogs.load("ko", "chapters/01_gradient_descent"))
    assert stubs["cross_entropy: write this function (chapter 1, Part 1: cross-entropy from logits)"] == (
        "cross_entropy: 이 함수를 작성하세요 (1장, 문제 1: 로짓으로 계산하는 교차 엔트로피)")
    assert len(stubs) == 5 and all("이 함수를 작성하세요" in text for text in stubs.values())


def test_a_korean_release_notebook_has_korean_prose_and_the_english_code_and_graded_cells(tmp_path):
    from nbgrader.utils import compute_checksum

    from autograder.plumbing import is_graded, release_notebook

    english = nbformat.read(release_notebook(CHAPTERS[0], tmp_path / "release.ipynb"), as_version=4)
    korean = translated.translate_notebook(english, nbformat.read(CHAPTERS[0], as_version=4),
                                           catalogs.load("ko", "chapters/01_gradient_descent"))
    assert len(korean.cells) == len(english.cells)
    for ours, theirs in zip(korean.cells, english.cells, strict=True):
        if ours.cell_type == "code" or is_graded(ours):
            assert ours == theirs
            if is_graded(ours):
                assert compute_checksum(ours) == compute_checksum(theirs) == theirs.metadata.nbgrader["checksum"]
    assert korean.cells[0].source.startswith("# 1. 손실함수와 경사 하강법")
    assert "(Goodfellow" not in nbformat.writes(korean) and "{cite:" not in nbformat.writes(korean)


def test_a_submissions_language_is_its_metadatas_when_the_course_has_it():
    nb = nbformat.v4.new_notebook()
    assert translated.submission_language(nb, "01_gradient_descent").code == "en"
    nb.metadata["course"] = {"language": "ko"}
    assert translated.submission_language(nb, "01_gradient_descent").code == "ko"
    nb.metadata["course"] = {"language": "xx"}
    assert translated.submission_language(nb, "01_gradient_descent").code == "en"


def test_the_language_switcher_links_each_page_to_its_counterpart():
    from book.ext.course_site import language_links

    languages = [("en", "English"), ("ko", "한국어")]
    assert [link["href"] for link in language_links("intro", "en", languages)] == ["ko/intro.html"]
    assert [link["href"] for link in language_links("chapters/01_gradient_descent", "en", languages)] == [
        "../ko/chapters/01_gradient_descent.html"]
    assert [link["href"] for link in language_links("chapters/01_gradient_descent", "ko", languages)] == [
        "../../chapters/01_gradient_descent.html"]
    assert [link["href"] for link in language_links("search", "ko", languages)] == ["../search.html"]


def test_validate_explains_a_missing_graded_cell_in_the_releases_language():
    from autograder.runtime.assignment import before_validation
    from autograder.runtime.checks import CheckFailed

    nb = nbformat.v4.new_notebook()
    nb.metadata["course"] = {"assignment": "01_gradient_descent", "test_cells": {"cross_entropy_tests": 3.0},
                             "answer_cells": []}
    for language, expected in ((i18n.Language("en"), "graded cells are missing from this notebook: The test cell "
                                "cross_entropy_tests (3 points) is not in this notebook"),
                               (translated.learner_language("ko", "01_gradient_descent"),
                                "이 노트북에서 채점 셀이 빠졌습니다: "
                                "테스트 셀 cross_entropy_tests(3점)가 이 노트북에 없습니다")):
        cells = nbformat.v4.new_notebook(metadata=nb.metadata)
        with i18n.using(language):
            before_validation(cells)
        with pytest.raises(CheckFailed) as failure:
            exec(cells.cells[-1].source, {})
        assert str(failure.value).startswith(expected)
