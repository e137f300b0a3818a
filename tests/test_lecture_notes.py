"""The chapters cite the lecture notes by readable names that link to their entries in book/references.md.

* No chapter and no page cites a set of notes by its file number ("seed 003") any more.
* Every name is a MyST link to its entry's label, with the right name for the label, wherever it
  appears in the prose (headings excepted: a heading holds no link).
* Every link target exists in book/references.md, and each entry's "Cited in chapters ..." list
  is exactly the chapters that link to it.
"""

from __future__ import annotations

import re

import pytest
from book_tools import CHAPTERS, PAGES, REFERENCES, chapter_markdown, prose

# label -> the names that may stand for it (the link text), as the chapters write them
NAMES = {
    "notes-oh": ["Oh's lecture notes"],
    "notes-jeju": ["Jeju lectures", "Jeju MNIST labs"],
    "notes-anonymous": ["anonymous slides"],
    "notes-cs231n": ["CS231n notes"],
    "notes-dl101": ["Deep Learning 101 notes"],
}
SECTION = "lecture-notes"  # the section that lists all five
LINK = re.compile(r"\[([^\[\]]+)\]\(((?:notes-[a-z0-9]+)|" + SECTION + r")\)")
FILE_NUMBER = re.compile(r"(?i)\bseeds?\s+00[0-4]\b|\bseed_?00[0-4]\b")


def texts():
    for chapter in CHAPTERS:
        yield pytest.param(chapter.name, chapter_markdown(chapter), int(chapter.name[:2]),
                           marks=getattr(pytest.mark, f"ch{chapter.name[:2]}"), id=chapter.stem)
    for page in PAGES:
        yield pytest.param(page.name, page.read_text(encoding="utf-8"), None, marks=pytest.mark.book, id=page.name)


def defined_labels() -> set[str]:
    return set(re.findall(r"^\(([a-z0-9-]+)\)=$", REFERENCES.read_text(encoding="utf-8"), flags=re.M))


def cited_in(label: str) -> list[int]:
    """The chapter numbers that the entry `label` of book/references.md says cite it."""
    text = REFERENCES.read_text(encoding="utf-8")
    entry = text[text.index(f"({label})="):]
    line = re.search(r"^- \*\*Cited in\*\* (.*)$", entry, flags=re.M).group(1)
    return [int(n) for n in re.findall(r"\{doc\}`(\d+) <", line)]


@pytest.mark.parametrize("name,text,number", list(texts()))
def test_no_notes_are_cited_by_file_number(name, text, number):
    if name == REFERENCES.name:
        return  # its introduction explains the old numbering, which code comments still use
    hits = sorted(set(m.group(0) for m in FILE_NUMBER.finditer(prose(text))))
    assert not hits, f"{name} cites lecture notes by file number {hits}: use the names of book/references.md"


@pytest.mark.parametrize("name,text,number", list(texts()))
def test_every_name_is_a_link_to_its_entry(name, text, number):
    text = prose(text)
    labels = defined_labels()
    for link_text, label in LINK.findall(text):
        link_text = " ".join(link_text.split())
        assert label in labels, f"{name}: [{link_text}]({label}) points to no label of book/references.md"
        if label != SECTION:
            assert link_text in NAMES[label], f"{name}: [{link_text}]({label}) should read one of {NAMES[label]}"
    if name == REFERENCES.name:
        return  # the entries themselves
    # the prose without links and headings, as one line (a name may be broken across two lines)
    lines = [re.sub(r"^(> ?)+", "", line) for line in LINK.sub("", text).splitlines() if not line.startswith("#")]
    flat = " ".join(" ".join(lines).split())
    for names in NAMES.values():
        for plain in names:
            at = flat.lower().find(plain.lower())
            assert at < 0, f"{name}: {plain!r} is not a link in: ...{flat[max(0, at - 80):at + 80]}..."


@pytest.mark.book
@pytest.mark.parametrize("label", sorted(NAMES))
def test_each_entry_lists_the_chapters_that_cite_it(label):
    citing = sorted(int(path.name[:2]) for path in CHAPTERS if f"]({label})" in chapter_markdown(path))
    assert citing, f"no chapter cites {label}"
    assert cited_in(label) == citing, (
        f"book/references.md says {label} is cited in {cited_in(label)}, the chapters: {citing}"
    )
