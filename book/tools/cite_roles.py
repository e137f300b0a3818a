#!/usr/bin/env python
"""Rewrite plain author-year citations as sphinxcontrib-bibtex roles, in place.

    .venv/bin/python book/tools/cite_roles.py           # rewrite; print what changed
    .venv/bin/python book/tools/cite_roles.py --check   # change nothing; exit 1 if any is left

It reads the markdown cells of ``chapters/*.ipynb`` (not nbgrader's cells), ``intro.md``
and the pages ``book/*.md``, finds every citation of an entry of ``book/references.bib``
written as text, and rewrites it:

* "(He et al. 2015)", "(Glorot & Bengio 2010; Kingma & Ba 2015)": a parenthesis that holds
  only citations becomes ``{cite:p}`he2015delving``` (keys joined by commas);
* "He et al. (2015)", "He et al. 2015 showed": ``{cite:t}`he2015delving```;
* a citation inside a parenthesis with other words, followed by ``,``, ``;`` or ``)``,
  as in "(AdamW, Loshchilov & Hutter 2019)": ``{cite:alp}`...``` (no brackets of its own).

Author lists follow the bibliography: one surname, "A & B" (or "A and B") for two
authors, "A et al." for more. Code, math, links, HTML and existing roles are never
touched, so the script is safe to run again on converted text and on new citations.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from pathlib import Path

import nbformat
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[2]
BIBFILE = ROOT / "book" / "references.bib"

#: Markdown that is not prose: fenced code (a directive's fence only when its body is code or
#: math), roles and inline code, math, links, HTML tags
PROTECTED = re.compile(
    r"(?ms)^(?P<fence>```+|~~~+)(?:(?!\{)|\{(?:code|code-block|code-cell|math|raw|eval-rst)\}).*?^(?P=fence)"
    r"|\{[\w:-]+\}`[^`]*`|(?P<ticks>`+)[^`\n][^\n]*?(?P=ticks)"
    r"|\$\$.+?\$\$|\$[^$\n]+\$|\\begin\{(?P<env>[^}]+)\}.*?\\end\{(?P=env)\}"
    r"|!?\[[^\]\n]*\]\([^)\n]*\)|<[^>\n]+>"
)


def citation_patterns(bibfile: Path = BIBFILE) -> list[tuple[re.Pattern, str]]:
    """(pattern, key) per entry; the pattern's group ``paren_year`` is set for "Name (2015)"."""
    patterns = []
    for key, entry in parse_file(str(bibfile)).entries.items():
        surnames = [" ".join(person.last_names) for person in entry.persons.get("author", [])]
        if not surnames or "year" not in entry.fields:
            continue
        first, year = re.escape(surnames[0]), re.escape(entry.fields["year"])
        if len(surnames) == 1:
            names = first
        elif len(surnames) == 2:
            names = rf"{first}\s+(?:&|and)\s+{re.escape(surnames[1])}"
        else:
            names = rf"{first}\s+et\s+al\."
        patterns.append((re.compile(rf"\b{names},?\s+(?:(?P<paren_year>\({year}\))|{year}\b)"), key))
    return patterns


def _mask(markdown: str) -> str:
    """The text with every protected span blanked out (same length, no parentheses left in it)."""
    return PROTECTED.sub(lambda m: re.sub(r"[^\n]", "\x00", m[0]), markdown)


def find_citations(markdown: str, patterns) -> list[tuple[int, int, str, bool]]:
    """(start, end, key, year in parentheses) of each plain citation, in order.

    Raises ValueError when one piece of text matches two entries (write that role by hand).
    """
    masked = _mask(markdown)
    found = sorted((m.start(), m.end(), key, bool(m["paren_year"])) for pattern, key in patterns
                   for m in pattern.finditer(masked))
    for before, after in itertools.pairwise(found):
        if after[0] < before[1]:
            raise ValueError(f"{markdown[before[0]:before[1]]!r} matches {before[2]} and {after[2]}: "
                             "write this citation's role by hand")
    return found


def _whole_parenthesis(masked: str, citations, first: int) -> tuple[int, int] | None:
    """(end, next) when ``citations[first:next]`` alone fill a parenthesis, "(A 2010; B 2012)"."""
    if not masked[: citations[first][0]].rstrip().endswith("("):
        return None
    position = citations[first][0]
    for index in range(first, len(citations)):
        start, end, _, paren_year = citations[index]
        if paren_year or masked[position:start].strip() not in ("", ";"):
            return None
        tail = masked[end:].lstrip()
        if tail.startswith(")"):
            return masked.index(")", end) + 1, index + 1
        if not tail.startswith(";"):
            return None
        position = end
    return None


def _inside_parenthesis(masked: str, position: int) -> bool:
    """Whether ``position`` is inside a parenthesis opened in the same paragraph."""
    paragraph = masked.rfind("\n\n", 0, position) + 1
    depth = 0
    for char in reversed(masked[paragraph:position]):
        depth += {")": 1, "(": -1}.get(char, 0)
        if depth < 0:
            return True
    return False


def convert(markdown: str, patterns) -> str:
    """The markdown with every plain citation written as a role."""
    masked = _mask(markdown)
    citations = find_citations(markdown, patterns)
    pieces, last, index = [], 0, 0
    while index < len(citations):
        start, end, key, paren_year = citations[index]
        whole = _whole_parenthesis(masked, citations, index)
        if whole:
            closing, following = whole
            keys = ",".join(citation[2] for citation in citations[index:following])
            pieces += [markdown[last:masked.rindex("(", 0, start)], f"{{cite:p}}`{keys}`"]
            last, index = closing, following
            continue
        alongside_words = (not paren_year and _inside_parenthesis(masked, start)
                           and masked[end:].lstrip()[:1] in (",", ";", ")"))
        pieces += [markdown[last:start], f"{{cite:{'alp' if alongside_words else 't'}}}`{key}`"]
        last, index = end, index + 1
    pieces.append(markdown[last:])
    return "".join(pieces)


def is_nbgrader_cell(cell) -> bool:
    return "nbgrader" in cell.metadata


def documents(root: Path = ROOT) -> list[Path]:
    """The files whose prose is checked: the chapters, the home page and the pages of book/."""
    pages = [p for p in sorted((root / "book").glob("*.md")) if p.name != "README.md"]
    return [*sorted((root / "chapters").glob("*.ipynb")), root / "intro.md", *pages]


def texts(path: Path):
    """(where, markdown) of each text of a document: its markdown cells, or the whole page."""
    if path.suffix != ".ipynb":
        yield path.name, path.read_text(encoding="utf-8")
        return
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    for number, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and not is_nbgrader_cell(cell):
            yield f"{path.name}, cell {number}", cell.source


def rewrite(path: Path, patterns) -> int:
    """Rewrite one document in place; returns how many citations became roles."""
    if path.suffix != ".ipynb":
        text = path.read_text(encoding="utf-8")
        count = len(find_citations(text, patterns))
        if count:
            path.write_text(convert(text, patterns), encoding="utf-8")
        return count
    raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=nbformat.NO_CONVERT)
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not is_nbgrader_cell(cell):
            found = len(find_citations(cell.source, patterns))
            if found:
                cell.source, count = convert(cell.source, patterns), count + found
    if count:
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a plain citation is left")
    args = parser.parse_args(argv)
    patterns = citation_patterns()
    left = 0
    for path in documents():
        if args.check:
            for where, text in texts(path):
                for start, end, key, _ in find_citations(text, patterns):
                    print(f"{where}: plain citation {text[start:end]!r} ({key})")
                    left += 1
        else:
            count = rewrite(path, patterns)
            if count:
                print(f"{path.relative_to(ROOT)}: {count} citation(s) written as roles")
    if args.check and left:
        print(f"{left} plain citation(s): run book/tools/cite_roles.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
