"""Fixtures of the website's browser tests (tests/test_website.py, tests/test_website_ko.py), shared by both.

The site is built once (``website_tools.build_student_site_once``: every language), served once,
and opened in one headless chromium (Playwright's sync API allows one per process).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from chapter_tools import CHAPTER_DIR, public_lines, secret_lines
from website_tools import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PAGE_TIMEOUT_MS,
    SITE,
    SiteServer,
    build_student_site_once,
)


@pytest.fixture(scope="session")
def site() -> Path:
    """The built student edition (_build/html), built now through the cache."""
    done = build_student_site_once()
    if done is not None and done.returncode != 0:
        pytest.fail(
            "book/build.py (student edition) failed:\n"
            f"{done.stdout[-6000:]}\n{done.stderr[-6000:]}",
            pytrace=False,
        )
    assert (SITE / "intro.html").exists(), f"{SITE}: the build did not produce intro.html"
    return SITE


@pytest.fixture(scope="session")
def server(site):
    with SiteServer(site) as running:
        yield running


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} does not exist: install Debian's chromium (`make browser`, or "
            "`apt-get install chromium`), or set CHROMIUM to a chromium binary. "
            "Never run `playwright install`.",
            pytrace=False,
        )
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # a fresh user-data dir
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        yield context
        context.close()


@pytest.fixture(scope="session")
def secrets() -> dict[str, list[str]]:
    """Per chapter: the substantive lines of its solution and hidden-test regions."""
    found = {}
    for path in sorted(CHAPTER_DIR.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        public = public_lines(nb)
        found[path.stem] = [line for line in secret_lines(nb) if line not in public]
    return found


@pytest.fixture(scope="session")
def all_public_lines() -> set[str]:
    lines = set()
    for path in sorted(CHAPTER_DIR.glob("[0-9][0-9]_*.ipynb")):
        lines |= public_lines(nbformat.read(path, as_version=4))
    return lines
