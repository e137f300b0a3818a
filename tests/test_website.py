"""The student edition of the website, checked in a real browser (Debian's chromium).

The session builds the student site with book/build.py (through its cache: a
chapter that ``make book`` already executed is not executed again), serves
_build/html over http://127.0.0.1, and opens every page in headless chromium
through Playwright. Each page must:

* load without console errors, page errors, failed requests or requests to
  any other host (the site works offline: MathJax is served by the site);
* have its math typeset by MathJax (no raw ``\\(`` or ``$$`` left in the text,
  no MathJax error);
* have every image loaded (naturalWidth > 0);
* have no cell output with a traceback;
* show no solution and no hidden test.

The search index and every downloadable file (the assignment notebooks, the
page sources) are checked for solutions and hidden tests too. Every citation
(a sphinxcontrib-bibtex role in the source) must be a link to its entry on the
references page, and the assignment notebooks must read citations as text. Screenshots of
the home page and of a chapter go to _build/screenshots/.

Never run ``playwright install``: the tests use /usr/bin/chromium (``make
browser`` or ``apt-get install chromium``; set CHROMIUM to use another binary).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from chapter_tools import CHAPTER_DIR, public_lines
from website_tools import (
    ALLOW_MISSING,
    MARKERS,
    PAGE_TIMEOUT_MS,
    SCREENSHOTS,
    chapter_pages,
    cited_keys,
    config,
    expected_pages,
    source_exists,
    words,
)

# the site is built once per test run, whichever worker asks first (website_tools.build_student_site_once)
pytestmark = [pytest.mark.slow, pytest.mark.website]


# --------------------------------------------------------------------------- #
# helpers (the fixtures site, server, browser_context, secrets are in conftest.py)
# --------------------------------------------------------------------------- #


def secrets_of(name: str, secrets: dict[str, list[str]], all_public_lines: set[str]) -> set[str]:
    """The secret lines to look for in a page or file: its chapter's, or (for other pages)
    those of every chapter that no chapter shows publicly."""
    for chapter, lines in secrets.items():
        if chapter in name:
            return set(lines)
    return {line for lines in secrets.values() for line in lines} - all_public_lines


class Visit:
    """One page opened in the browser, with everything that went wrong while loading it."""

    def __init__(self, context, url: str):
        self.problems: list[str] = []
        self.page = context.new_page()
        host = urlparse(url).netloc
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))

        def only_this_site(route):
            if urlparse(route.request.url).netloc == host or route.request.url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                self.problems.append(f"request to another host (the site must work offline): {route.request.url}")
                route.abort()

        self.page.route("**/*", only_this_site)
        self.page.goto(url, wait_until="load")
        # MathJax typesets after startup; wait until it has finished
        self.page.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise")
        self.page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")

    def close(self) -> None:
        self.page.close()


# JavaScript run in each page: facts the checks below need.
PAGE_FACTS = r"""
() => {
  const visibleText = (root) => {
    const copy = root.cloneNode(true);
    copy.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight')
        .forEach((el) => el.remove());
    return copy.textContent;
  };
  const main = document.querySelector('main') || document.body;
  return {
    title: document.title,
    mathSources: document.querySelectorAll('span.math, div.math').length,
    mathRendered: document.querySelectorAll('mjx-container').length,
    mathErrors: Array.from(document.querySelectorAll('mjx-merror')).map((e) => e.textContent).slice(0, 5),
    prose: visibleText(main),
    text: document.body.innerText,
    images: Array.from(document.images).map((img) => ({src: img.src, ok: img.complete && img.naturalWidth > 0})),
    tracebacks: Array.from(document.querySelectorAll('.cell_output .traceback, .cell_output .output.error'))
        .map((e) => e.textContent.slice(0, 300)),
    outputs: Array.from(document.querySelectorAll('.cell_output')).map((e) => e.textContent),
    codeLines: Array.from(document.querySelectorAll('pre')).flatMap((e) => e.textContent.split('\n')),
    links: Array.from(document.querySelectorAll('a[href]')).map((a) => a.href),
    downloads: Array.from(document.querySelectorAll('a.download-assignment')).map((a) => a.href),
  };
}
"""


def _page_params():
    params = []
    for page in expected_pages():
        source = page.removesuffix(".html")
        marks = []
        if page.startswith(("chapters/", "book/")) and not source_exists(source):
            if ALLOW_MISSING:
                marks.append(pytest.mark.skip(reason=f"draft build: {source} does not exist yet"))
        params.append(pytest.param(page, id=page, marks=marks))
    return params


# --------------------------------------------------------------------------- #
# every page in the browser
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("page", _page_params())
def test_page_renders_cleanly_in_a_browser(page, site, server, browser_context, secrets, all_public_lines):
    problems = page_problems(site, server, browser_context, page, secrets_of(page, secrets, all_public_lines))
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


def page_problems(site: Path, server, browser_context, page: str, secret: set[str]) -> list[str]:
    """What is wrong with a page in the browser: loading, math, images, tracebacks, solutions and hidden tests."""
    assert (site / page).exists(), f"{site / page}: the page is missing from the built site"
    visit = Visit(browser_context, f"{server.url}/{page}")
    try:
        facts = visit.page.evaluate(PAGE_FACTS)
    finally:
        visit.close()
    problems = list(visit.problems)

    # math typeset by MathJax
    if facts["mathSources"]:
        if facts["mathRendered"] < facts["mathSources"]:
            problems.append(f"MathJax typeset {facts['mathRendered']} of {facts['mathSources']} formulas")
    for raw in ("\\(", "\\)", "\\[", "$$"):
        if raw in facts["prose"]:
            at = facts["prose"].index(raw)
            problems.append(f"raw math {raw!r} left in the text: ...{facts['prose'][max(0, at - 60):at + 60]!r}...")
    if facts["mathErrors"]:
        problems.append(f"MathJax errors: {facts['mathErrors']}")

    # images
    broken = [image["src"] for image in facts["images"] if not image["ok"]]
    if broken:
        problems.append(f"images that did not load: {broken}")

    # outputs
    if facts["tracebacks"]:
        problems.append(f"cell outputs with a traceback: {facts['tracebacks']}")
    for output in facts["outputs"]:
        if "Traceback (most recent call last)" in output or "NotImplementedError" in output:
            problems.append(f"a cell output shows an error: {output[:300]!r}")

    # no solutions, no hidden tests
    for marker in MARKERS:
        if marker in facts["text"]:
            problems.append(f"the page shows nbgrader's marker {marker!r}")
    lines = {line.strip() for line in facts["codeLines"]} | {line.strip() for line in facts["text"].splitlines()}
    leaked = sorted(lines & secret)
    if leaked:
        problems.append(f"the page shows solution or hidden-test lines: {leaked[:5]}")
    return problems


# --------------------------------------------------------------------------- #
# chapter pages: assignment link, launch buttons, repository, outcomes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "chapter",
    [pytest.param(c, id=c, marks=[pytest.mark.skip(reason="draft build: not written yet")]
                  if ALLOW_MISSING and not source_exists(c) else []) for c in chapter_pages()],
)
def test_chapter_page_has_its_assignment_zip_no_launch_button_and_outcomes(chapter, site, server, browser_context):
    settings = config()
    visit = Visit(browser_context, f"{server.url}/{chapter}.html")
    try:
        facts = visit.page.evaluate(PAGE_FACTS)
        # the download link is served, and it is the chapter's assignment bundle with nbgrader's release
        name = Path(chapter).name
        expected = f"{server.url}/assignments/{name}.zip"
        assert facts["downloads"] == [expected], (
            f"{chapter}: download links {facts['downloads']}, expected [{expected}]"
        )
        response = visit.page.request.get(expected)
        assert response.ok, f"{expected}: HTTP {response.status}"
        with zipfile.ZipFile(io.BytesIO(response.body())) as bundle:
            members = bundle.namelist()
            release = nbformat.reads(bundle.read(f"{name}/{name}.ipynb").decode(), as_version=4)
        for member in ("README.md", "requirements.txt", "solutions/__init__.py", "autograder/checks.py"):
            assert f"{name}/{member}" in members, f"{expected}: no {member}"
        stubs = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
        assert stubs and all("raise NotImplementedError(" in c.source for c in stubs), (
            f"{expected}: the answer cells are not nbgrader's stubs"
        )
    finally:
        visit.close()
    assert not visit.problems, f"{chapter}: {visit.problems}"

    # nothing opens the instructor source: no launch button, no link into the repository
    repository = settings["repository"]["url"].rstrip("/")
    opens_source = [link for link in facts["links"]
                    if repository in link or any(host in urlparse(link).netloc
                                                 for host in ("mybinder.org", "colab.research.google.com"))
                    or (f"chapters/{name}.ipynb" in link and not link.startswith(server.url))]
    assert not opens_source, f"{chapter}: links that open the instructor source: {opens_source}"
    assert "What you will be able to do" in facts["text"], f"{chapter}: no learning outcomes"
    assert re.search(r"worth [0-9.]+ points in total", facts["text"]), f"{chapter}: no points total"


# --------------------------------------------------------------------------- #
# files: nothing secret anywhere in the site
# --------------------------------------------------------------------------- #


def file_lines(path: Path, text: str) -> set[str]:
    """The stripped lines of a downloadable file; of a notebook: of its cell sources and text outputs."""
    if path.suffix != ".ipynb":
        return {line.strip() for line in text.splitlines()}
    nb = nbformat.reads(text, as_version=4)
    chunks = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            chunks.append(output.get("text", ""))
            chunks.append(output.get("data", {}).get("text/plain", ""))
    return {line.strip() for chunk in chunks for line in str(chunk).splitlines()}


def test_no_file_of_the_site_contains_solutions_or_hidden_tests(site, secrets, all_public_lines):
    offenders = []
    text_files = [p for p in site.rglob("*")
                  if p.is_file() and p.suffix in {".html", ".js", ".txt", ".ipynb", ".json", ".md", ".py"}
                  and "mathjax" not in p.relative_to(site).parts]
    assert text_files, f"{site}: no files"
    for path in text_files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in MARKERS:
            if marker in text:
                offenders.append(f"{path.relative_to(site)}: contains {marker!r}")
        if path.suffix in {".ipynb", ".txt", ".md", ".py"}:  # downloadable sources
            leaked = sorted(file_lines(path, text) & secrets_of(path.name, secrets, all_public_lines))
            if leaked:
                offenders.append(f"{path.relative_to(site)}: contains solution or hidden-test lines {leaked[:3]}")
    assert not offenders, "\n".join(offenders)


def test_assignment_bundles_hold_the_release_and_no_answer_of_their_chapter_or_a_later_one(
        site, secrets, all_public_lines):
    from autograder.course import Chapter
    from autograder.release.student_edition import chapters_from, find_secret
    from autograder.release.student_edition import secrets as code_secrets

    folder = site / "assignments"
    published = sorted(p.stem for p in folder.glob("*.zip"))
    expected = sorted(Path(c).name for c in chapter_pages() if source_exists(c))
    assert published == expected, f"{folder}: has {published}, expected {expected}"
    problems = []
    for name in published:
        # in the notebook: the lines its own release hides, and any later chapter's that no chapter shows
        later = {line for chapter, lines in secrets.items() if chapter > name for line in lines} - all_public_lines
        hidden_lines = set(secrets[name]) | later
        # in code: the solution and hidden-test regions of this chapter and later ones (as the release checks them)
        regions = [s for owner in chapters_from(Chapter.resolve(name)) for s in code_secrets(owner)]
        with zipfile.ZipFile(folder / f"{name}.zip") as bundle:
            nb = nbformat.reads(bundle.read(f"{name}/{name}.ipynb").decode(), as_version=4)
            for member in bundle.namelist():
                if Path(member).suffix not in {".ipynb", ".py", ".md", ".txt", ".json", ".css", ".template"}:
                    continue
                text = bundle.read(member).decode("utf-8", errors="replace")
                problems += [f"{name}.zip: {member} contains {marker!r}" for marker in MARKERS if marker in text]
                leaked = sorted(file_lines(Path(member), text) & hidden_lines) if member.endswith(".ipynb") else [
                    f"{s.kind} of {s.chapter}:{s.cell} at line {line + 1}"
                    for s in regions for line in find_secret(text, s)]
                if leaked:
                    problems.append(f"{name}.zip: {member} contains a solution or hidden test of {name} "
                                    f"or a later chapter: {leaked[:3]}")
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        if not graded:
            problems.append(f"{name}.zip: the notebook has no nbgrader test cells")
        if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            problems.append(f"{name}.zip: the release must have no outputs")
        roles = [c.source[:200] for c in nb.cells if c.cell_type == "markdown" and "{cite:" in c.source]
        if roles:
            problems.append(f"{name}.zip: citation roles not written as text (JupyterLab shows them raw): {roles}")
    assert not problems, "\n".join(problems)


def test_every_citation_links_to_its_entry_on_the_references_page(site):
    references = (site / "book" / "references.html").read_text(encoding="utf-8")
    problems = []
    for page in [p.removesuffix(".html") for p in expected_pages() if source_exists(p.removesuffix(".html"))]:
        html = (site / f"{page}.html").read_text(encoding="utf-8")
        linked = set(re.findall(r'href="(?:[^"#]*references\.html)?#cite-([^"]+)"', html))
        for key in sorted(cited_keys(page) - linked):
            problems.append(f"{page}.html: the citation of {key} is not a link to book/references.html#cite-{key}")
        if "{cite:" in re.sub(r"<(pre|code|script)[^>]*>.*?</\1>", "", html, flags=re.DOTALL):
            problems.append(f"{page}.html: a citation role was not rendered (shows '{{cite:')")
        for key in sorted(linked):
            if f'id="cite-{key}"' not in references:
                problems.append(f"{page}.html: links to #cite-{key}, which the references page does not have")
    assert not problems, "\n".join(problems)


def test_search_index_has_no_solution_words(site, secrets):
    """Words that occur only inside solutions or hidden tests must not be searchable."""
    from sphinx.search.en import SearchEnglish

    raw = (site / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(raw[raw.index("(") + 1: raw.rindex(")")])
    terms = set(index["terms"]) | set(index.get("titleterms", {}))
    public_words = set()
    for path in sorted(CHAPTER_DIR.glob("[0-9][0-9]_*.ipynb")):
        public_words |= words("\n".join(public_lines(nbformat.read(path, as_version=4))))
    # words the site shows anywhere (outputs of demos included) are public too
    for path in site.rglob("*.html"):
        public_words |= words(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8", errors="replace")))
    stem = SearchEnglish({}).stem
    public_stems = {stem(w) for w in public_words} | public_words
    # words of 6 or more characters: shorter ones are too common to tell anything
    secret_words = {w for lines in secrets.values() for w in words("\n".join(lines), 6)} - public_words
    leaked = sorted(w for w in secret_words if stem(w) not in public_stems and (stem(w) in terms or w in terms))
    assert not leaked, f"searchindex.js has words found only in solutions or hidden tests: {leaked[:10]}"


# --------------------------------------------------------------------------- #
# screenshots (kept by CI) and the search page
# --------------------------------------------------------------------------- #


def test_screenshots_of_home_and_a_chapter(site, server, browser_context, request):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chapters = [c for c in chapter_pages() if (site / f"{c}.html").exists()]
    assert chapters, "no chapter page was built"
    # a chapter with math and figures: the activations chapter when it exists
    chapter = next((c for c in chapters if "03_" in c), chapters[0])
    shots = {"home.png": "intro.html", "chapter.png": f"{chapter}.html", "glossary.png": "book/glossary.html"}
    for filename, page in shots.items():
        visit = Visit(browser_context, f"{server.url}/{page}")
        try:
            visit.page.screenshot(path=str(SCREENSHOTS / filename), full_page=(filename == "chapter.png"))
        finally:
            visit.close()
        assert (SCREENSHOTS / filename).stat().st_size > 10_000, f"{filename}: the screenshot looks empty"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        request.config.add_cleanup(lambda: reporter.write_line(f"website screenshots: {SCREENSHOTS}"))


def search_hits(browser_context, url: str) -> tuple[list[str], list[str]]:
    """The links the site's search page at ``url`` (with its ``?q=``) lists, and the page's problems."""
    visit = Visit(browser_context, url)
    try:
        visit.page.wait_for_selector("#search-results ul.search li", timeout=PAGE_TIMEOUT_MS)
        hits = visit.page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.href)")
    finally:
        visit.close()
    return hits, visit.problems


def test_search_finds_a_chapter(site, server, browser_context):
    hits, problems = search_hits(browser_context, f"{server.url}/search.html?q=backpropagation")
    assert any("/chapters/" in hit for hit in hits), f"searching 'backpropagation' found no chapter: {hits[:5]}"
    assert not problems, problems


def test_internal_links_and_anchors_resolve(site):
    """Every link between pages of the site reaches an existing file and, with #anchor, an existing id."""
    href_pattern = re.compile(r'<a\s[^>]*href="([^"]+)"')
    id_pattern = re.compile(r'\sid="([^"]+)"')
    ids: dict[Path, set[str]] = {}

    def ids_of(path: Path) -> set[str]:
        if path not in ids:
            ids[path] = set(id_pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
        return ids[path]

    broken = []
    pages = [p for p in site.rglob("*.html") if "_sources" not in p.relative_to(site).parts]
    for page in pages:
        for href in set(href_pattern.findall(page.read_text(encoding="utf-8", errors="replace"))):
            if re.match(r"^[a-z][a-z0-9+.-]*:", href):  # http:, https:, mailto:, javascript:, ...
                continue
            target, _, fragment = href.partition("#")
            target = target.split("?")[0]
            path = (page.parent / target).resolve() if target else page
            if path.is_dir():
                path = path / "index.html"
            if not path.exists():
                broken.append(f"{page.relative_to(site)}: {href} (no such file)")
            elif fragment and path.suffix == ".html" and fragment not in ids_of(path):
                broken.append(f"{page.relative_to(site)}: {href} (no id {fragment!r})")
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(sorted(broken)[:30])
