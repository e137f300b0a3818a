"""The website build's own pieces, on synthetic input (fast: nothing is executed or rendered).

* the control-character check (``book.staging``): a TAB where ``\\times`` was meant fails
  the build, naming the file, the cell and the line;
* the execution cache key (``book.execution``): markdown is not in it, code and the
  library fingerprint are;
* citations: ``book/tools/cite_roles.py`` writes roles from plain text, idempotently, and
  ``book.citations.plain_citations`` renders them back; no plain citation is left in the
  sources;
* the table of contents (``book/build.py``): a draft drops the missing files.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.release import reference_run
from autograder.release.citations import plain_citations
from book import build, execution
from book.staging import check_notebook, check_page, control_characters

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.foundation

BIBFILE = ROOT / "book" / "references.bib"


def _cite_roles():
    spec = importlib.util.spec_from_file_location("cite_roles", ROOT / "book" / "tools" / "cite_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cite_roles = _cite_roles()


# --------------------------------------------------------------------------- #
# control characters
# --------------------------------------------------------------------------- #


def test_a_tab_in_math_is_reported_with_its_line_and_column():
    assert control_characters("fine\nshows $3 \times 10$\n") == [(2, 10, "TAB (\\t: \\times, \\tau?)")]
    assert control_characters("a\r\nb\r\n") == []  # CRLF newlines are newlines
    assert [name for _, _, name in control_characters("\x0crac \x08eta \x85")] == [
        "FORM FEED (\\f: \\frac?)", "BACKSPACE (\\b: \\beta?)", "U+0085"]


def test_check_notebook_names_the_cell_and_line():
    nb = new_notebook(cells=[
        new_markdown_cell("# Title\nno problem"),
        new_markdown_cell("line one\nloss $3 \times 10^{-3}$"),
        new_code_cell('plt.title("$3\times 3$")\nprint("a\\tb")'),  # the second string holds no math
    ])
    nb.cells[2].outputs = [nbformat.v4.new_output("display_data", data={"text/latex": "$\x08eta$"})]
    problems = check_notebook("chapters/99_demo.ipynb", nb)
    assert len(problems) == 3, problems
    assert problems[0].startswith("chapters/99_demo.ipynb, cell 1 (markdown), line 2, column 9: control character TAB")
    assert problems[1].startswith("chapters/99_demo.ipynb, cell 2 (code), line 1: a string with math has the "
                                  "control character TAB")
    assert problems[2].startswith("chapters/99_demo.ipynb, cell 2 (code), LaTeX output, line 1, column 2: "
                                  "control character BACKSPACE")


def test_check_page_names_the_file_and_line():
    assert check_page("book/notation.md", "# Notation\n\n$\x0crac{1}{2}$") == [
        "book/notation.md, line 3, column 2: control character FORM FEED (\\f: \\frac?) in '$\\x0crac{1}{2}$'"]


# --------------------------------------------------------------------------- #
# the execution cache key
# --------------------------------------------------------------------------- #


def test_cache_key_has_code_and_library_but_not_markdown(tmp_path):
    nb = new_notebook(cells=[new_markdown_cell("prose"), new_code_cell("x = 1")],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    cache = reference_run.ReferenceCache(tmp_path, "library-1")
    key = cache.create_hashed_notebook(nb)[1]
    prose = nbformat.from_dict(nb)
    prose.cells[0].source = "other prose"
    assert cache.create_hashed_notebook(prose)[1] == key
    code = nbformat.from_dict(nb)
    code.cells[1].source = "x = 2"
    assert cache.create_hashed_notebook(code)[1] != key
    assert reference_run.ReferenceCache(tmp_path, "library-2").create_hashed_notebook(nb)[1] != key


def test_a_notebook_run_once_is_found_in_the_cache_by_its_source(tmp_path, monkeypatch):
    """The executed notebook (with nbclient's timings in its cells' metadata) is kept under the key its source has."""
    monkeypatch.setattr(reference_run, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(reference_run, "RUNS_DIR", tmp_path / "runs")
    source = tmp_path / "chapter.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("prose"), new_code_cell("print(6 * 7)")],
                                metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}), source)
    def cached(path):
        return reference_run.cached_run(reference_run.trusted_form(nbformat.read(path, as_version=4)))

    assert cached(source) is None
    ran = reference_run.executed(source)
    assert ran.cells[1].outputs[0]["text"] == "42\n" and "execution" in ran.cells[1].metadata
    monkeypatch.setattr(reference_run, "_run", lambda nb, where: pytest.fail("ran a second time"))
    assert cached(source).cells[1].outputs[0]["text"] == "42\n"
    assert reference_run.executed(source).cells[1].outputs[0]["text"] == "42\n"


def test_library_fingerprint_follows_the_library(tmp_path, monkeypatch):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "layers.py").write_text("A = 1\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "iris.csv").write_text("1,2\n")
    monkeypatch.setattr(reference_run, "ROOT", tmp_path)
    first = reference_run.library_fingerprint()
    assert reference_run.library_fingerprint() == first
    (tmp_path / "solutions" / "layers.py").write_text("A = 2\n")
    second = reference_run.library_fingerprint()
    assert second != first
    (tmp_path / "data" / "iris.csv").write_text("1,3\n")
    assert reference_run.library_fingerprint() != second


def test_execution_errors_are_listed_like_nbgrader_validate_sees_them():
    nb = new_notebook(cells=[new_code_cell("1/0"), new_code_cell("ok")])
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                  traceback=[])]
    assert execution.execution_errors(nb) == [(0, nb.cells[0].id, "ZeroDivisionError", "division by zero")]


# --------------------------------------------------------------------------- #
# citations
# --------------------------------------------------------------------------- #

CONVERSIONS = [
    ("PReLU (He et al. 2015) learns", "PReLU {cite:p}`he2015delving` learns", "PReLU (He et al. 2015) learns"),
    ("Swish (Ramachandran et al. 2017; Elfwing et al. 2018) is",
     "Swish {cite:p}`ramachandran2017searching,elfwing2018sigmoid` is",
     "Swish (Ramachandran et al. 2017; Elfwing et al. 2018) is"),
    ("From Krizhevsky et al. (2012), the", "From {cite:t}`krizhevsky2012imagenet`, the",
     "From Krizhevsky et al. (2012), the"),
    ("as Ioffe & Szegedy 2015 do", "as {cite:t}`ioffe2015batch` do", "as Ioffe & Szegedy (2015) do"),
    ("(AdamW, Loshchilov & Hutter 2019).", "(AdamW, {cite:alp}`loshchilov2019decoupled`).",
     "(AdamW, Loshchilov & Hutter 2019)."),
    ("(Goodfellow et al. 2016, section 7.8)", "({cite:alp}`goodfellow2016deep`, section 7.8)",
     "(Goodfellow et al. 2016, section 7.8)"),
    ("follows Chawla et al.\n(2002); the", "follows {cite:t}`chawla2002smote`; the",
     "follows Chawla et al. (2002); the"),
    ("Xavier (Glorot and Bengio 2010)", "Xavier {cite:p}`glorot2010understanding`", "Xavier (Glorot & Bengio 2010)"),
]


@pytest.mark.parametrize("plain, roles, rendered", CONVERSIONS)
def test_cite_roles_writes_roles_and_plain_citations_reads_them_back(plain, roles, rendered):
    patterns = cite_roles.citation_patterns(BIBFILE)
    assert cite_roles.convert(plain, patterns) == roles
    assert cite_roles.convert(roles, patterns) == roles  # idempotent
    assert plain_citations(roles, BIBFILE) == rendered


def test_cite_roles_leaves_code_math_and_links_alone():
    patterns = cite_roles.citation_patterns(BIBFILE)
    text = ("`He et al. 2015` and $He et al. 2015$ and [He et al. 2015](https://doi.org) and\n"
            "```python\n# He et al. 2015\n```\n<a title='He et al. 2015'>x</a>")
    assert cite_roles.convert(text, patterns) == text


def test_cite_roles_reads_inside_directives():
    patterns = cite_roles.citation_patterns(BIBFILE)
    text = "```{glossary}\nBN\n  Normalise (Ioffe & Szegedy 2015).\n```"
    assert cite_roles.convert(text, patterns) == "```{glossary}\nBN\n  Normalise {cite:p}`ioffe2015batch`.\n```"


def test_plain_citations_names_an_unknown_key():
    with pytest.raises(KeyError, match="nobody2020"):
        plain_citations("see {cite:p}`nobody2020`", BIBFILE)


def test_no_plain_citation_is_left_in_the_sources():
    """Run ``book/tools/cite_roles.py`` after writing "(Author 2015)" in a page or a chapter."""
    patterns = cite_roles.citation_patterns(BIBFILE)
    left = [f"{where}: {text[start:end]!r}" for path in cite_roles.documents()
            for where, text in cite_roles.texts(path)
            for start, end, _, _ in cite_roles.find_citations(text, patterns)]
    assert not left, "plain citations (run .venv/bin/python book/tools/cite_roles.py):\n" + "\n".join(left)


# --------------------------------------------------------------------------- #
# the table of contents
# --------------------------------------------------------------------------- #


def _site(tmp_path: Path) -> None:
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: chapters/01_a\n      - file: chapters/02_b\n"
        "  - caption: B\n    chapters:\n      - file: book/gone\n")
    (tmp_path / "chapters").mkdir()
    (tmp_path / "intro.md").write_text("# Intro\n")
    (tmp_path / "chapters" / "01_a.ipynb").write_text("{}")


def test_toc_missing_files_stop_the_build(tmp_path, monkeypatch):
    _site(tmp_path)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    with pytest.raises(build.BuildError, match="chapters/02_b"):
        build.read_toc(allow_missing=False)


def test_toc_draft_drops_missing_files_and_empty_parts(tmp_path, monkeypatch):
    from sphinx_external_toc.parsing import create_toc_dict, parse_toc_data

    _site(tmp_path)
    monkeypatch.setattr(build, "ROOT", tmp_path)
    site_map, sources, missing = build.read_toc(allow_missing=True)
    assert missing == ["book/gone", "chapters/02_b"]
    assert sources == {"intro": tmp_path / "intro.md", "chapters/01_a": tmp_path / "chapters" / "01_a.ipynb"}
    staged = parse_toc_data(create_toc_dict(site_map))  # what the build writes to the staged _toc.yml
    assert list(staged) == ["intro", "chapters/01_a"]
    assert [(tree.caption, tree.files()) for tree in staged.root.subtrees] == [("A", ["chapters/01_a"])]
