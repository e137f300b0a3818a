"""Helpers for tests/test_website.py: build the student site, serve it, list its pages.

The site is built by ``book/build.py`` (through its cache, so chapters already
executed by an earlier ``make book`` are not executed again) and served over
http://127.0.0.1 on a free port: MathJax and the search page do not work from
file:// URLs.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: how long the browser tests wait for a page (ms)
PAGE_TIMEOUT_MS = 30_000
#: nbgrader's region markers; none may appear anywhere in the student site
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "HIDDEN TESTS")
#: set to 1 to build a draft without the chapters that do not exist yet
ALLOW_MISSING = os.environ.get("BOOK_ALLOW_MISSING") == "1"


def build_student_site_once() -> subprocess.CompletedProcess | None:
    """Build the student site (every language) once per test run, even with several pytest-xdist workers.

    The first worker to take the lock builds; the others wait for it and then
    reuse its site (None). Without xdist every session builds (through the
    cache, so this is quick when nothing changed).
    """
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    lock_path = ROOT / "_build" / ".website-tests.lock"
    done_path = ROOT / "_build" / ".website-tests.built"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if run_id and done_path.exists() and done_path.read_text() == run_id:
            return None
        done_path.unlink(missing_ok=True)
        finished = build_student_site()
        if finished.returncode == 0 and run_id:
            done_path.write_text(run_id)
        return finished


def build_student_site() -> subprocess.CompletedProcess:
    """Run book/build.py for the student edition; returns the finished process."""
    command = [sys.executable, str(ROOT / "book" / "build.py"), "--edition", "student"]
    if ALLOW_MISSING:
        command.append("--allow-missing")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    """Every page of _toc.yml (without suffix), root first, as sphinx-external-toc reads it."""
    from sphinx_external_toc.parsing import parse_toc_yaml

    return list(parse_toc_yaml(ROOT / "_toc.yml"))


def expected_pages() -> list[str]:
    """URL paths (relative to the site root) of every page the site must have."""
    return [f"{page}.html" for page in toc_files()] + ["genindex.html", "search.html"]


def chapter_pages() -> list[str]:
    return [page for page in toc_files() if page.startswith("chapters/")]


def source_exists(page: str) -> bool:
    return any((ROOT / f"{page}{suffix}").exists() for suffix in (".md", ".ipynb"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a browser that closes a connection early (e.g. after a redirect) is not an error
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class SiteServer:
    """python's http.server serving a folder on 127.0.0.1, on a free port, in a thread."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.httpd = _QuietServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> SiteServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


#: a citation role of sphinxcontrib-bibtex in a page's source: {cite:p}`key1,key2`
CITE_ROLE = re.compile(r"\{cite:[a-z]+\}`([^`]+)`")


def cited_keys(page: str) -> set[str]:
    """The bibliography keys that a page's source cites with a role (markdown cells of a notebook)."""
    path = next(ROOT / f"{page}{suffix}" for suffix in (".ipynb", ".md") if (ROOT / f"{page}{suffix}").exists())
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    return {re.sub(r"\{[^}]*\}", "", key).strip() for targets in CITE_ROLE.findall(text) for key in targets.split(",")}


def words(text: str, min_length: int = 1) -> set[str]:
    """The identifiers and words of a text, lower case, with at least ``min_length`` characters."""
    return {w.lower() for w in WORD.findall(text) if len(w) >= min_length}
