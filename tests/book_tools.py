"""Read the website's pages and the chapters' prose: the glossary's entries, and the Korean terms
the chapters give in parentheses ("backpropagation (역전파)").

Shared by tests/test_glossary.py and tests/test_lecture_notes.py. No build, no execution: plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "book" / "glossary.md"
REFERENCES = ROOT / "book" / "references.md"
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
# The pages of the website besides the chapters (book/README.md is not built).
PAGES = [ROOT / "intro.md"] + sorted(p for p in (ROOT / "book").glob("*.md") if p.name != "README.md")

HANGUL = "\uac00-\ud7a3"
QUOTES = "\"'“”‘’「」"


@dataclass(frozen=True)
class Entry:
    term: str          # the English term, as the glossary directive lists it
    korean: str        # the main Korean form, the one the chapters use
    variants: tuple    # other spellings, listed as "(also ...)" after the main form


_ENTRY = re.compile(r"^(?P<term>\S[^\n]*)\n  \*\*(?P<korean>[^*]+)\*\*(?: \(also (?P<variants>[^)]*)\))? · ", re.M)


def glossary_entries() -> list[Entry]:
    """The entries of the ``{glossary}`` directive of book/glossary.md, in the order of the file."""
    text = GLOSSARY.read_text(encoding="utf-8")
    start = text.index("```{glossary}")
    block = text[start:text.index("```", start + 3)]
    return [
        Entry(m["term"], m["korean"], tuple(v.strip() for v in (m["variants"] or "").split(",") if v.strip()))
        for m in _ENTRY.finditer(block)
    ]


def korean_index() -> list[tuple[str, str]]:
    """(Korean name as written in the first column, English term) for every row of the index by Korean name."""
    text = GLOSSARY.read_text(encoding="utf-8")
    table = text[text.index("| 한국어 | English |"):]
    return re.findall(r"^\| ([^|]+?) \| \{term\}`([^`]+)` \|$", table, flags=re.M)


def chapter_markdown(path: Path) -> str:
    """All markdown cells of a chapter notebook, joined."""
    nb = nbformat.read(path, as_version=4)
    return "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")


def prose(text: str) -> str:
    """Markdown without code (fenced blocks, inline code and roles) and without math."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    text = re.sub(r"\$\$.*?\$\$", "", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$]*?(?<!\\)\$", "", text)
    return re.sub(r"`[^`]*`", "", text)


def _parenthesized(text: str):
    """(index of the opening parenthesis, content) for every balanced parenthesis, nested ones too."""
    stack = []
    for index, char in enumerate(text):
        if char == "(":
            stack.append(index)
        elif char == ")" and stack:
            start = stack.pop()
            yield start, text[start + 1:index]


_TERM = re.compile(rf"[{HANGUL}]+(?: ?/ ?[{HANGUL}]+| [{HANGUL}]+)*")


def korean_terms_given(text: str) -> list[str]:
    """The Korean terms a text gives in parentheses, in order: "term (한국어)", "(역전파; ...)".

    A parenthesis gives a term when one of its parts (split at ';' and ',') is Korean words
    only. Korean quoted from the lecture notes is not a term: it stands in quotation marks,
    inside or just before the parenthesis ("(\"손실이 내려가지 않음\")"), or it mixes in other
    characters ("(가중치 ε를 곱함)").
    """
    text = prose(text)
    found = []
    for start, content in _parenthesized(text):
        if start and text[start - 1] in QUOTES:
            continue
        for part in re.split(r"[;,]", content):
            part = part.strip()
            if _TERM.fullmatch(part):
                found.append(part)
    return found
