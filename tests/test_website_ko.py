"""The Korean edition of the website (``_build/html/ko``), checked in a real browser like the English one.

``book/build.py`` builds every language at once, so this module shares the build of
tests/test_website.py (``build_student_site_once``) and its checks (``page_problems``):

* every Korean page loads offline without errors, has its math typeset, its images loaded, no
  traceback, no solution and no hidden test;
* every page of each language links to its counterpart in the other (the language switcher),
  and clicking the switcher goes there and back;
* each Korean chapter page links the Korean bundle: the Korean notebook (its language in the
  metadata, the learner catalog beside it), with the English bundle's code and graded cells,
  and nothing of a solution or hidden test of its chapter or a later one;
* the Korean search finds a chapter; screenshots ``_build/screenshots/ko-*.png`` with Korean fonts.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import nbformat
import pytest
from babel.messages.mofile import read_mo
from test_website import Visit, page_problems, search_hits, secrets_of
from website_tools import (
    MARKERS,
    SCREENSHOTS,
    chapter_pages,
    expected_pages,
    source_exists,
)

from autograder.plumbing import is_graded

pytestmark = [pytest.mark.slow, pytest.mark.website, pytest.mark.xdist_group("website")]

LANGUAGE = "ko"
SWITCHER = "a.course-language-link"


def korean(page: str) -> str:
    return f"{LANGUAGE}/{page}"


def existing_pages() -> list[str]:
    return [page for page in expected_pages() if page.endswith(("genindex.html", "search.html"))
            or source_exists(page.removesuffix(".html"))]


@pytest.mark.parametrize("page", existing_pages())
def test_korean_page_renders_cleanly_in_a_browser(page, site, server, browser_context, secrets, all_public_lines):
    problems = page_problems(site, server, browser_context, korean(page), secrets_of(page, secrets, all_public_lines))
    assert not problems, f"{korean(page)}:\n  " + "\n  ".join(problems)


def switcher_links(html: str) -> dict[str, str]:
    """{hreflang: href} of a page's language switcher."""
    return {language: href for href, language in
            re.findall(r'<a class="course-language-link" href="([^"]+)" hreflang="([^"]+)"', html)}


def test_every_page_links_to_its_counterpart_in_the_other_language(site):
    problems = []
    for page in existing_pages():
        english, translated = site / page, site / korean(page)
        for path, language, counterpart in ((english, LANGUAGE, translated), (translated, "en", english)):
            links = switcher_links(path.read_text(encoding="utf-8"))
            if language not in links:
                problems.append(f"{path.relative_to(site)}: no link to the {language} page")
            elif (path.parent / links[language]).resolve() != counterpart.resolve():
                problems.append(
                    f"{path.relative_to(site)}: links {links[language]}, not {counterpart.relative_to(site)}"
                )
        if 'lang="ko"' not in translated.read_text(encoding="utf-8")[:500]:
            problems.append(f"{korean(page)}: the page does not say it is Korean (<html lang=\"ko\">)")
    assert not problems, "\n".join(problems)


def test_the_switcher_goes_to_the_korean_chapter_and_back(server, browser_context):
    chapter = f"{chapter_pages()[0]}.html"
    visit = Visit(browser_context, f"{server.url}/{chapter}")
    try:
        visit.page.click(f"{SWITCHER}[hreflang={LANGUAGE}]")
        visit.page.wait_for_url(f"{server.url}/{korean(chapter)}")
        assert visit.page.evaluate("document.documentElement.lang") == LANGUAGE
        assert "이 장을 마치면 할 수 있는 것" in visit.page.inner_text("main")
        visit.page.click(f"{SWITCHER}[hreflang=en]")
        visit.page.wait_for_url(f"{server.url}/{chapter}")
        assert "What you will be able to do" in visit.page.inner_text("main")
    finally:
        visit.close()
    assert not visit.problems, visit.problems


@pytest.mark.parametrize("chapter", [c for c in chapter_pages() if source_exists(c)])
def test_korean_chapter_page_links_the_korean_bundle(chapter, site, server, browser_context, secrets):
    """The Korean bundle is the English one but for its notebook's prose, its README and its catalog:
    the English bundle's guarantees hold for it (tests/test_website.py checks those)."""
    name = Path(chapter).name
    visit = Visit(browser_context, f"{server.url}/{korean(chapter)}.html")
    try:
        downloads = visit.page.eval_on_selector_all("a.download-assignment", "els => els.map(e => e.href)")
        expected = f"{server.url}/{LANGUAGE}/assignments/{name}.zip"
        assert downloads == [expected], f"{korean(chapter)}: download links {downloads}, expected [{expected}]"
        response = visit.page.request.get(expected)
        assert response.ok, f"{expected}: HTTP {response.status}"
        data = response.body()
    finally:
        visit.close()
    notebook, readme = f"{name}/{name}.ipynb", f"{name}/README.md"
    catalog = f"{name}/autograder/locale/{LANGUAGE}/LC_MESSAGES/learner.mo"
    with zipfile.ZipFile(io.BytesIO(data)) as bundle, zipfile.ZipFile(site / "assignments" / f"{name}.zip") as english:
        assert set(bundle.namelist()) == set(english.namelist()) | {catalog}
        changed = [m for m in english.namelist() if bundle.read(m) != english.read(m)]
        assert set(changed) <= {notebook, readme}, f"{name}.zip ({LANGUAGE}) differs from English in {changed}"
        release = nbformat.reads(bundle.read(notebook).decode(), as_version=4)
        original = nbformat.reads(english.read(notebook).decode(), as_version=4)
        hidden_words = bundle.read(catalog)
    assert release.metadata.course == {**original.metadata.course, "language": LANGUAGE}
    assert len(release.cells) == len(original.cells)
    for ours, theirs in zip(release.cells, original.cells, strict=True):
        if ours.cell_type == "code" or is_graded(ours):
            assert ours == theirs, f"{name}.zip ({LANGUAGE}): cell {ours.get('id')} differs from the English release"
    text = nbformat.writes(release)
    assert not [marker for marker in MARKERS if marker in text]
    hidden_names = [line for line in secrets.get(name, []) if line.startswith("check_")]
    shipped = {message.id if isinstance(message.id, str) else message.id[0]
               for message in read_mo(io.BytesIO(hidden_words)) if message.id}
    # a hidden check's name that a visible check has too is in the release anyway
    visible = "\n".join(cell.source for cell in release.cells if cell.cell_type == "code")
    leaked = [line for line in hidden_names if (quoted := re.search(r'"([^"]{12,})"', line))
              and quoted[1] in shipped and f'"{quoted[1]}"' not in visible]
    assert not leaked, f"{name}.zip ({LANGUAGE}): its catalog holds the names of hidden checks: {leaked[:3]}"


def test_korean_search_finds_a_chapter(site, server, browser_context):
    hits, problems = search_hits(browser_context, f"{server.url}/{LANGUAGE}/search.html?q=경사")
    assert any(f"/{LANGUAGE}/chapters/" in hit for hit in hits), f"searching '경사' found no chapter: {hits[:5]}"
    assert not problems, problems


def test_screenshots_of_the_korean_site_with_korean_fonts(site, server, browser_context, request):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    chapter = chapter_pages()[0]
    shots = {"ko-home.png": "intro.html", "ko-chapter.png": f"{chapter}.html", "ko-glossary.png": "book/glossary.html"}
    for filename, page in shots.items():
        visit = Visit(browser_context, f"{server.url}/{korean(page)}")
        try:
            font = visit.page.evaluate("getComputedStyle(document.body).fontFamily")
            loaded = visit.page.evaluate("document.fonts.check('16px NanumBarunGothic', '한국어')")
            visit.page.screenshot(path=str(SCREENSHOTS / filename), full_page=(filename == "ko-chapter.png"))
        finally:
            visit.close()
        assert "Nanum" in font, f"{korean(page)}: the Korean text is not set in a Korean font: {font}"
        assert loaded, f"{korean(page)}: the font NanumBarunGothic is not available (install fonts-nanum)"
        assert (SCREENSHOTS / filename).stat().st_size > 10_000, f"{filename}: the screenshot looks empty"
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        request.config.add_cleanup(lambda: reporter.write_line(f"Korean website screenshots: {SCREENSHOTS}/ko-*.png"))
