"""MyST Markdown cut into the units a translator translates, and the markup each unit must keep.

A document (a page of the website, a markdown cell of a chapter, the assignment's README) is a
sequence of blocks separated by blank lines. ``split(text)`` cuts it into pieces, each a
``Unit`` (text to translate) or a plain string (kept as it is); joined with newlines they are
the text again, and ``join`` puts translations in their place:

* code fences, ``$$`` math blocks, MyST labels ``(name)=`` and HTML comments are kept;
* a heading, a paragraph or a blockquote is one unit; a table has one unit per row, a list one
  per item (a changed row or item leaves the others translated);
* a MyST directive (```` ```{note} ````, ``:::{admonition}``) keeps its fence lines; its body is
  Markdown again, and its first line with its options is a unit when the argument (a title) has words;
  a directive of code or math (``{code-cell}``, ``{math}``) is kept whole;
* a piece with no words outside its markup (a lone formula, a row of numbers) is kept.

``markup(text)`` is what a translation must keep exactly: every math segment, inline code, role
target, link target, HTML tag, label, directive line, option and ``{placeholder}``, the heading
level, the number of table cells; ``markup_problems(source, translation)`` lists what differs.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass

FENCE = re.compile(r"^(?P<indent>\s*)(?P<marker>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE = re.compile(r"^\{(?P<name>[\w:.-]+)\}\s*(?P<argument>.*)$")
#: directives whose body is code or math, not Markdown
LITERAL_DIRECTIVES = {
    "code",
    "code-block",
    "code-cell",
    "sourcecode",
    "math",
    "literalinclude",
    "raw",
    "eval-rst",
    "bibliography",
    "mermaid",
    "graphviz",
    "csv-table",
    "list-table",
}
#: directives whose argument is not a title (a tag expression, a path): the line stays as it is
NO_TITLE_DIRECTIVES = {
    "only",
    "include",
    "figure",
    "image",
    "grid",
    "toctree",
    "glossary",
    "tabularcolumns",
    "ifconfig",
    "tab-set",
    "card-carousel",
}
OPTION = re.compile(r"^\s*:[\w-]+:(\s.*)?$")
LABEL = re.compile(r"^\s*\([^()\s]+\)=\s*$")
COMMENT_LINE = re.compile(r"^\s*(<!--.*-->|%.*)\s*$")
HEADING = re.compile(r"^(#{1,6})\s")
LIST_ITEM = re.compile(r"^(?P<indent>\s{0,3})(?P<marker>[-*+]|\d+[.)])\s+")
TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
WORDS = re.compile(r"[A-Za-z]{2,}|[\uac00-\ud7a3]")

ROLE = re.compile(r"\{(?P<name>[\w:+.-]+)\}(?P<ticks>`+)(?P<content>.+?)(?P=ticks)", re.DOTALL)
ROLE_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
CODE = re.compile(r"(?P<ticks>`+)(?P<content>.+?)(?P=ticks)", re.DOTALL)
MATH = re.compile(
    r"(?<![\\$])\$\$(?P<display>.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\$)(?P<inline>.+?)(?<![\\$])\$(?!\$)", re.DOTALL
)
LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
AUTOLINK = re.compile(r"<(?P<url>(?:https?|mailto):[^<>\s]+)>")
URL = re.compile(r"https?://[^\s<>()\"']+")
HTML = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>", re.DOTALL)
PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\{[^{}\s`$][^{}`$]*\}")
#: roles whose text is words a reader sees (the others name a key or a path)
TEXT_ROLES = {"term", "doc", "ref", "numref", "download"}


@dataclass(frozen=True)
class Unit:
    """A piece of text to translate."""

    text: str


# --------------------------------------------------------------------------- #
# units
# --------------------------------------------------------------------------- #


def has_words(text: str) -> bool:
    """Whether ``text`` has words outside math, code, roles' keys, link targets, tags and URLs."""

    def role_words(match: re.Match) -> str:
        if match["name"] not in TEXT_ROLES:
            return " "
        found = ROLE_TARGET.match(match["content"])
        return f" {found['text'] if found else match['content']} "

    stripped = ROLE.sub(role_words, text)
    for pattern in (CODE, MATH, AUTOLINK, URL, HTML, PLACEHOLDER):
        stripped = pattern.sub(" ", stripped)
    stripped = LINK.sub(lambda m: f" {m['text']} ", stripped)
    return bool(WORDS.search(stripped))


def _piece(lines: list[str]) -> str | Unit:
    text = "\n".join(lines)
    return Unit(text) if has_words(text) else text


def _block(lines: list[str]) -> list[str | Unit]:
    """The pieces of one block (non-blank lines outside fences): labels apart, tables by row, lists by item."""
    pieces: list[str | Unit] = []
    rest: list[str] = []
    for line in lines:  # labels and comment lines stand alone
        if LABEL.match(line) or COMMENT_LINE.match(line):
            pieces += _unit_lines(rest)
            pieces.append(line)
            rest = []
        else:
            rest.append(line)
    return pieces + _unit_lines(rest)


def _unit_lines(lines: list[str]) -> list[str | Unit]:
    if not lines:
        return []
    if all(line.lstrip().startswith("|") for line in lines):  # a table: one unit per row
        return [line if TABLE_SEPARATOR.match(line) else _piece([line]) for line in lines]
    first = LIST_ITEM.match(lines[0])
    if first:  # a list: one unit per item at the first item's indentation
        items: list[list[str]] = []
        for line in lines:
            item = LIST_ITEM.match(line)
            if item and len(item["indent"]) <= len(first["indent"]) or not items:
                items.append([line])
            else:
                items[-1].append(line)
        return [_piece(item) for item in items]
    pieces = []
    while lines and HEADING.match(lines[0]):  # a heading is a unit of its own
        pieces.append(_piece([lines[0]]))
        lines = lines[1:]
    return pieces + ([_piece(lines)] if lines else [])


def _closing(lines: list[str], start: int, marker: str) -> int:
    """Index of the line that closes the fence opened at ``start`` (the last line if none does)."""
    closing = re.compile(rf"^\s*{re.escape(marker[0])}{{{len(marker)},}}\s*$")
    return next((n for n in range(start + 1, len(lines)) if closing.match(lines[n])), len(lines) - 1)


def _math_opens(line: str) -> bool:
    """A line that opens a ``$$`` block without closing it."""
    return line.lstrip().startswith("$$") and line.count("$$") % 2 == 1


def _split_lines(lines: list[str]) -> list[str | Unit]:
    pieces: list[str | Unit] = []
    block: list[str] = []

    def flush() -> None:
        pieces.extend(_block(block))
        block.clear()

    index = 0
    while index < len(lines):
        line = lines[index]
        fence = FENCE.match(line)
        if fence and (fence["marker"][0] != ":" or fence["info"].startswith("{")):
            flush()
            end = _closing(lines, index, fence["marker"])
            directive = DIRECTIVE.match(fence["info"].strip())
            if directive and (fence["marker"][0] == ":" or directive["name"] not in LITERAL_DIRECTIVES) and end > index:
                body = index + 1
                while body < end and OPTION.match(lines[body]):
                    body += 1
                header = lines[index:body]
                titled = directive["name"] not in NO_TITLE_DIRECTIVES and has_words(directive["argument"])
                pieces.append(Unit("\n".join(header)) if titled else "\n".join(header))
                pieces += _split_lines(lines[body:end])
                pieces.append(lines[end])
            else:
                pieces.append("\n".join(lines[index : end + 1]))
            index = end + 1
        elif _math_opens(line):
            flush()
            end = next((n for n in range(index + 1, len(lines)) if lines[n].count("$$") % 2 == 1), len(lines) - 1)
            pieces.append("\n".join(lines[index : end + 1]))
            index = end + 1
        elif not line.strip():
            flush()
            pieces.append(line)
            index += 1
        else:
            block.append(line)
            index += 1
    flush()
    return pieces


def split(text: str) -> list[str | Unit]:
    """The pieces of ``text``: "\\n".join of their texts is ``text``."""
    return _split_lines(text.split("\n"))


def units(text: str) -> list[str]:
    """The texts of the units of ``text``, in order."""
    return [piece.text for piece in split(text) if isinstance(piece, Unit)]


def join(pieces: list[str | Unit], translate) -> str:
    """The text again, each unit replaced by ``translate(unit text)``."""
    return "\n".join(translate(piece.text) if isinstance(piece, Unit) else piece for piece in pieces)


# --------------------------------------------------------------------------- #
# markup a translation keeps
# --------------------------------------------------------------------------- #


def markup(text: str, markdown: bool = True) -> collections.Counter:
    """What a translation of ``text`` must keep, as a multiset of (kind, text).

    Plain text (a check's message) keeps its inline code, math and ``{placeholders}``; Markdown
    also its roles' targets, links' targets, HTML tags, URLs, labels, directive lines, options,
    heading level and table cells.
    """
    found: collections.Counter = collections.Counter()
    rest = text
    if markdown:
        for match in ROLE.finditer(rest):
            target = ROLE_TARGET.match(match["content"])
            found["role", f"{{{match['name']}}}`{target['target'] if target else match['content']}`"] += 1
        rest = ROLE.sub(" ", rest)
    for match in CODE.finditer(rest):
        found["inline code", match[0]] += 1
    rest = CODE.sub(" ", rest)
    for match in MATH.finditer(rest):
        found["math", match[0]] += 1
    rest = MATH.sub(" ", rest)
    if rest.count("$"):
        found["a lone $", "$"] += rest.count("$") - rest.count("\\$")
    if markdown:
        for match in LINK.finditer(rest):
            found["link target", f"{match['image']}[...]({match['target']})"] += 1
        rest = LINK.sub(" ", rest)
        for pattern, kind in ((AUTOLINK, "link"), (URL, "URL"), (HTML, "HTML")):
            found.update((kind, match[0]) for match in pattern.finditer(rest))
            rest = pattern.sub(" ", rest)
        for line in text.split("\n"):
            fence = FENCE.match(line)
            if LABEL.match(line):
                found["label", line.strip()] += 1
            elif OPTION.match(line):
                found["directive option", line.strip()] += 1
            elif fence:
                directive = DIRECTIVE.match(fence["info"].strip())
                found[
                    "directive", fence["marker"] + (f"{{{directive['name']}}}" if directive else fence["info"].strip())
                ] += 1
        heading = HEADING.match(text)
        if heading:
            found["heading level", heading[1]] += 1
        if text.lstrip().startswith("|"):
            found["table cells", str(text.strip().strip("|").count("|") + 1)] += 1
    found.update(("placeholder", match[0]) for match in PLACEHOLDER.finditer(rest))
    return found


def markup_problems(source: str, translation: str, markdown: bool = True) -> list[str]:
    """What the translation lost or added of the source's markup, in words; [] when it kept it all."""
    want, got = markup(source, markdown), markup(translation, markdown)
    problems = []
    for (kind, text), count in sorted((want - got).items()):
        problems.append(
            f"the {kind} {text!r} of the English text is missing or changed" + (f" ({count}x)" if count > 1 else "")
        )
    for (kind, text), count in sorted((got - want).items()):
        problems.append(f"the {kind} {text!r} is not in the English text" + (f" ({count}x)" if count > 1 else ""))
    if (
        markdown
        and source.lstrip().startswith(">")
        and not all(line.startswith(">") for line in translation.split("\n"))
    ):
        problems.append("every line of a blockquote starts with '>'")
    if markdown and source.count("**") % 2 == 0 and translation.count("**") % 2 == 1:
        problems.append("an unpaired '**' (bold)")
    return problems
