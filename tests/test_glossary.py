"""The glossary (book/glossary.md) and the chapters agree on the Korean names of the terms.

* Every Korean term a chapter or a page gives in parentheses, "backpropagation (역전파)", is the
  main form of a glossary entry: a variant spelling or a term missing from the glossary fails.
* Every glossary entry is used: some chapter gives its Korean main form.
* A chapter gives each term's Korean form at most once (at its first use).
* The glossary stays parseable for the Korean edition: one main form per entry, variants listed
  as "(also ...)", and the index by Korean name lists every main form and every variant.
"""

from __future__ import annotations

import collections

import pytest
from book_tools import (
    CHAPTERS,
    GLOSSARY,
    PAGES,
    REFERENCES,
    chapter_markdown,
    glossary_entries,
    korean_index,
    korean_terms_given,
)

ENTRIES = glossary_entries()
MAIN_FORMS = {entry.korean: entry for entry in ENTRIES}
VARIANTS = {variant: entry for entry in ENTRIES for variant in entry.variants}
# The glossary defines the terms; the references give people's and institutions' names in Korean.
CHECKED_PAGES = [page for page in PAGES if page not in (GLOSSARY, REFERENCES)]


def per_chapter():
    return pytest.mark.parametrize(
        "chapter",
        [pytest.param(path, marks=getattr(pytest.mark, f"ch{path.name[:2]}"), id=path.stem) for path in CHAPTERS],
    )


def unknown_terms(text: str) -> list[str]:
    problems = []
    for term in korean_terms_given(text):
        if term in VARIANTS:
            problems.append(f"{term!r} is a variant: use the glossary's main form {VARIANTS[term].korean!r}")
        elif term not in MAIN_FORMS:
            problems.append(f"{term!r} is not in book/glossary.md: add an entry (or quote it if it is a quotation)")
    return problems


@per_chapter()
def test_every_korean_term_of_a_chapter_is_a_glossary_main_form(chapter):
    problems = unknown_terms(chapter_markdown(chapter))
    assert not problems, f"{chapter.name}: " + "; ".join(problems)


@per_chapter()
def test_a_chapter_gives_each_korean_term_at_most_once(chapter):
    counts = collections.Counter(korean_terms_given(chapter_markdown(chapter)))
    repeated = {term: n for term, n in counts.items() if n > 1}
    assert not repeated, (
        f"{chapter.name} gives these Korean terms more than once (give each once, at first use): {repeated}"
    )


@pytest.mark.book
@pytest.mark.parametrize("page", CHECKED_PAGES, ids=lambda p: p.name)
def test_every_korean_term_of_a_page_is_a_glossary_main_form(page):
    problems = unknown_terms(page.read_text(encoding="utf-8"))
    assert not problems, f"{page.name}: " + "; ".join(problems)


@pytest.mark.book
def test_every_glossary_entry_is_used_by_a_chapter():
    given = set()
    for chapter in CHAPTERS:
        given.update(korean_terms_given(chapter_markdown(chapter)))
    unused = [f"{entry.term} ({entry.korean})" for entry in ENTRIES if entry.korean not in given]
    assert not unused, f"glossary entries no chapter gives in Korean (give them at first use, or drop them): {unused}"


@pytest.mark.book
def test_the_glossary_is_parseable_and_its_korean_index_is_complete():
    assert len(ENTRIES) >= 40, f"only {len(ENTRIES)} entries parsed from book/glossary.md: is the format intact?"
    terms = [entry.term for entry in ENTRIES]
    assert len(terms) == len(set(terms)), "an English term appears twice"
    forms = [entry.korean for entry in ENTRIES] + [v for entry in ENTRIES for v in entry.variants]
    assert len(forms) == len(set(forms)), "a Korean form (main or variant) belongs to two entries"
    expected = {(entry.korean, entry.term) for entry in ENTRIES}
    expected |= {
        (f"{variant} (variant of {entry.korean})", entry.term) for entry in ENTRIES for variant in entry.variants
    }
    rows = korean_index()
    assert len(rows) == len(set(rows))
    assert set(rows) == expected, (
        f"the index by Korean name is out of date: missing {sorted(expected - set(rows))}, "
        f"extra {sorted(set(rows) - expected)}"
    )
    assert [korean for korean, _ in rows] == sorted(korean for korean, _ in rows), "the index is not in 가나다 order"


@pytest.mark.book
def test_the_term_finder_tells_terms_from_quotations():
    # the rules of korean_terms_given, on the kinds of text the chapters contain
    text = (
        'backpropagation (역전파), the **loss function** (손실함수), regularization (정규화 / 규제), '
        'dropout (역 드랍아웃; the [CS231n notes](notes-cs231n)), a quote "(계층 몇 개 뺀다)", '
        'too low ("손실이 내려가지 않음"), mixed (가중치 ε를 곱함), math $f(\\text{역전파})$, code `f(역전파)`, '
        'a name (Srivastava et al. 2014), and a nested one (see the gradient (기울기 소실))'
    )
    assert korean_terms_given(text) == ["역전파", "손실함수", "정규화 / 규제", "역 드랍아웃", "기울기 소실"]
