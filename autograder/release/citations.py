"""How a citation reads: one author-year style, for the website and for the notebooks students get.

The pages and chapters cite with sphinxcontrib-bibtex's roles, for example
``{cite:p}`he2015delving``` (parenthetical) and ``{cite:t}`he2015delving``` (textual);
``book/tools/cite_roles.py`` writes them from plain "(He et al. 2015)" text. This module
holds the one reference style both outputs use:

* ``register_style()``: the style ``author_year_round`` of ``_config.yml``
  (``bibtex_reference_style``), registered for Sphinx by ``book/ext/course_site.py``:
  "(He et al. 2015)", "He et al. (2015)", "(Glorot & Bengio 2010; Kingma & Ba 2015)";
* ``plain_citations(markdown, bibfile)``: the roles rendered back to that text by the same
  style, for the notebooks students download (JupyterLab does not know the roles);
  ``plain_notebook(nb, bibfile)`` applies it to a notebook's markdown cells, and
  ``PlainCitations`` is the release's nbgrader step that does it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pybtex.plugin
from nbgrader.preprocessors import NbGraderPreprocessor
from pybtex.database import parse_file
from sphinxcontrib.bibtex.citation_target import parse_citation_targets
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import (
    BracketStyle,
    PersonStyle,
    format_references,
)
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo
from traitlets import Unicode

BIBFILE = Path(__file__).resolve().parents[2] / "book" / "references.bib"  # the course's bibliography
STYLE = "author_year_round"
#: a citation role in MyST Markdown: {cite:p}`key`, {cite:t}`key1,key2`, {cite:alp}`key{post}`
ROLE = re.compile(r"\{cite:(?P<role>[a-z]+)\}`(?P<targets>[^`]+)`")


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")", sep="; ")


def _persons() -> PersonStyle:
    return PersonStyle(sep2=" & ", last_sep=", & ", other=" et al.")


@dataclass
class RoundAuthorYearStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year style with round brackets, "&" and no comma before the year."""

    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)
    person: PersonStyle = field(default_factory=_persons)
    author_year_sep: str = " "


def register_style() -> None:
    """Make ``bibtex_reference_style: author_year_round`` known to sphinxcontrib-bibtex."""
    register_plugin("sphinxcontrib.bibtex.style.referencing", STYLE, RoundAuthorYearStyle, force=True)


@functools.lru_cache(maxsize=4)
def _entries(bibfile: str, mtime: float):
    return parse_file(bibfile).entries


@functools.lru_cache(maxsize=1)
def _renderer():
    """The style, pybtex's docutils backend, and a builder that links nowhere (so a reference is its text)."""
    backend = pybtex.plugin.find_plugin("pybtex.backends", "docutils")()
    return RoundAuthorYearStyle(), backend, SimpleNamespace(name="text", get_relative_uri=lambda *_: "")


def plain_citations(markdown: str, bibfile: str | Path) -> str:
    """``markdown`` with every citation role replaced by its text, as the website shows it.

    Raises KeyError naming the key when a role cites a key that ``bibfile`` does not have.
    """
    if not ROLE.search(markdown):
        return markdown
    entries = _entries(str(bibfile), Path(bibfile).stat().st_mtime)
    style, backend, builder = _renderer()

    def text(match: re.Match) -> str:
        references = []
        for target in parse_citation_targets(match["targets"]):
            if target.key not in entries:
                raise KeyError(f"{match[0]}: {target.key!r} is not in {bibfile}")
            info = SphinxReferenceInfo(builder, "", "", "", None, target.pre, target.post)
            references.append((entries[target.key], None, info))
        rich = format_references(style, match["role"], references)
        return "".join(node.astext() for node in rich.render(backend))

    return ROLE.sub(text, markdown)


def plain_notebook(nb, bibfile: str | Path):
    """The notebook with ``plain_citations`` applied to its markdown cells (in place; returned).

    nbgrader's cells are left alone: their checksums are of the text as released.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "nbgrader" not in cell.metadata:
            cell.source = plain_citations(cell.source, bibfile)
    return nb


class PlainCitations(NbGraderPreprocessor):
    """The release's step that writes citation roles as text (JupyterLab does not render the roles)."""

    bibfile = Unicode(str(BIBFILE), help="the course's bibliography").tag(config=True)

    def preprocess(self, nb, resources):
        return plain_notebook(nb, self.bibfile), resources
