#!/usr/bin/env python
"""Build the course website (Jupyter Book 1.x) in one of its two editions.

    python book/build.py                      # student edition  -> _build/html
    python book/build.py --edition instructor # instructor edition -> _build/instructor/html

Every chapter notebook in ``chapters/`` is an nbgrader *source*: it holds the
reference solutions and the hidden tests. The website must never show them to
students, yet it must show every demo output and figure, which only the
solutions can produce. So the build goes in four steps:

1. **Execute** each instructor notebook (the source, with solutions) once,
   through a cache under ``_build/.book_cache/executed``. The cache key is the
   SHA-256 of the notebook file plus everything its outputs depend on
   (``solutions/``, ``autograder/``, ``data/`` and the versions of Python and
   NumPy), so an unchanged notebook is never executed again.
2. **Release** each chapter with the real ``nbgrader generate_assignment``
   (cached by the same key); the release is the file students download from
   ``/assignments/<chapter>.ipynb``.
3. **Stage** a source tree for Jupyter Book under ``_build/.book_stage/<edition>``:
   the pages of ``intro.md`` and ``book/``, the configuration, and one notebook
   per chapter, made from the *executed* instructor notebook:

   * student edition: nbgrader's own ``ClearSolutions``, ``ClearHiddenTests``
     and ``ClearMarkScheme`` preprocessors replace every solution by the stub
     and drop the hidden tests; the outputs of answer and test cells are
     cleared (a test cell's output would name its hidden checks); every cell
     is then compared with nbgrader's release, and any difference fails the
     build. Demo cells keep their outputs and figures.
   * instructor edition: the solutions stay, in collapsed toggles.

   A staged file is rewritten only when its content changed, so Sphinx's
   incremental build re-renders only what changed.
4. **Render** the staged tree with Jupyter Book (Sphinx), execution off,
   strictly: any warning is an error (``-W -n --keep-going``).

The build refuses to start when a chapter listed in ``_toc.yml`` is missing,
unless ``--allow-missing`` is given (for drafts; it leaves the missing
chapters out of the table of contents and says so loudly).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import copy
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
CACHE = BUILD / ".book_cache"
STAGE = BUILD / ".book_stage"
CHAPTER_DIR = ROOT / "chapters"
BOOK_DIR = ROOT / "book"
BIBFILE = BOOK_DIR / "references.bib"

#: where each edition's HTML goes
OUTPUT = {"student": BUILD / "html", "instructor": BUILD / "instructor" / "html"}
#: files of book/ that are build machinery, not website content
NOT_CONTENT = {"build.py", "README.md"}
#: URL folder (under the site root) of the student release notebooks
ASSIGNMENTS = "assignments"
#: seconds a single cell may run (CHAPTERS.md: a whole chapter takes <= 150 s)
CELL_TIMEOUT = 600
#: bump to invalidate every cached execution (e.g. after changing how we execute)
CACHE_VERSION = "1"


def log(message: str) -> None:
    print(f"[book] {message}", flush=True)


class BuildError(RuntimeError):
    """A problem that stops the build; the message says which file and why."""


# --------------------------------------------------------------------------- #
# table of contents
# --------------------------------------------------------------------------- #


def read_yaml(path: Path):
    import yaml

    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def toc_files(toc) -> list[str]:
    """Every ``file:`` entry of a jb-book toc, in order (root first)."""
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def drop_files(toc, missing: set[str]):
    """A copy of the toc without the given files (and without parts left empty)."""
    toc = copy.deepcopy(toc)

    def keep(entries):
        kept = []
        for entry in entries or []:
            if entry.get("file") in missing:
                continue
            if "sections" in entry:
                entry["sections"] = keep(entry["sections"])
            kept.append(entry)
        return kept

    if "parts" in toc:
        toc["parts"] = [p for p in toc["parts"] if keep(p.get("chapters"))]
        for part in toc["parts"]:
            part["chapters"] = keep(part["chapters"])
    if "chapters" in toc:
        toc["chapters"] = keep(toc["chapters"])
    return toc


def source_of(entry: str) -> Path:
    """The file behind a toc entry (entries may omit the suffix)."""
    path = ROOT / entry
    if path.suffix in {".md", ".ipynb"}:
        return path
    for suffix in (".ipynb", ".md"):
        if path.with_suffix(suffix).exists():
            return path.with_suffix(suffix)
    return path.with_suffix(".ipynb" if entry.startswith("chapters/") else ".md")


# --------------------------------------------------------------------------- #
# cache keys
# --------------------------------------------------------------------------- #


def _hash_files(digest, paths) -> None:
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")


def environment_fingerprint() -> str:
    """What a chapter's outputs depend on besides the notebook itself."""
    import numpy

    digest = hashlib.sha256()
    digest.update(f"cache {CACHE_VERSION}; python {platform.python_version()}; numpy {numpy.__version__}".encode())
    # the chapters import the solutions package and the checking helper
    _hash_files(digest, [*(ROOT / "solutions").glob("*.py"), ROOT / "autograder" / "checks.py"])
    _hash_files(digest, [p for p in (ROOT / "data").iterdir() if p.is_file()])
    return digest.hexdigest()


def chapter_key(path: Path, fingerprint: str) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(fingerprint.encode())
    return digest.hexdigest()[:20]


# --------------------------------------------------------------------------- #
# step 1 and 2: execute and release (run in worker processes)
# --------------------------------------------------------------------------- #


def execute_notebook(source: str, target: str, cwd: str, threads: int) -> float:
    """Execute the notebook ``source`` in the folder ``cwd``; write the executed notebook to ``target``."""
    import nbformat
    from nbclient import NotebookClient

    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    # kernels must use the inline backend so that figures become outputs
    os.environ.pop("MPLBACKEND", None)
    start = time.perf_counter()
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": cwd}},
    )
    client.execute()
    errors = [
        (index, output.get("ename"), output.get("evalue"))
        for index, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    if errors:
        raise BuildError(f"{source}: the instructor notebook raised errors (cell, exception, message): {errors}")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    partial = Path(target).with_suffix(".partial")
    nbformat.write(nb, partial)
    partial.replace(target)
    return time.perf_counter() - start


def release_notebooks(jobs: list[tuple[str, str, str]]) -> float:
    """Run the real ``nbgrader generate_assignment`` (its Python API) on each (chapter, source, target).

    One process releases every chapter, so nbgrader is imported once.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    start = time.perf_counter()
    # nbgrader runs the `alembic` command of its own environment: put it on PATH
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    course = CACHE / "nbgrader"
    shutil.rmtree(course, ignore_errors=True)
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.CourseDirectory.course_id = "dnn-from-scratch"
    for chapter, source, _ in jobs:
        (course / "source" / chapter).mkdir(parents=True)
        shutil.copy(source, course / "source" / chapter / f"{chapter}.ipynb")
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for chapter, _, target in jobs:
        result = api.generate_assignment(chapter, force=True, create=True)
        release = course / "release" / chapter / f"{chapter}.ipynb"
        if not result.get("success") or not release.exists():
            raise BuildError(f"nbgrader generate_assignment {chapter} failed:\n{result.get('error')}\n{result.get('log')}")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(release, target)
    shutil.rmtree(course, ignore_errors=True)
    return time.perf_counter() - start


def prepare_chapters(chapters: list[str], jobs: int) -> dict[str, tuple[Path, Path]]:
    """Executed notebook and release of every chapter, from the cache or made now.

    Each chapter file is read once and snapshotted under its key, so a notebook
    that an author rewrites during the build cannot make the executed notebook
    and the release disagree.
    """
    fingerprint = environment_fingerprint()
    results, executions, releases = {}, [], []
    for chapter in chapters:
        content = (CHAPTER_DIR / f"{chapter}.ipynb").read_bytes()
        source_key = hashlib.sha256(content).hexdigest()[:20]
        key = hashlib.sha256(content + fingerprint.encode()).hexdigest()[:20]
        executed = CACHE / "executed" / f"{chapter}-{key}.ipynb"
        release = CACHE / "release" / f"{chapter}-{source_key}.ipynb"  # depends on the notebook only
        results[chapter] = (executed, release)
        if executed.exists() and release.exists():
            continue
        snapshot = CACHE / "sources" / f"{chapter}-{source_key}.ipynb"
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_bytes(content)
        if not executed.exists():
            executions.append((chapter, snapshot, executed))
        if not release.exists():
            releases.append((chapter, str(snapshot), str(release)))
    if not executions and not releases:
        log(f"all {len(chapters)} chapters are up to date in the cache ({CACHE.relative_to(ROOT)})")
        return results
    log(f"{len(executions)} notebook(s) to execute ({jobs} at a time), {len(releases)} release(s) to generate")
    threads = max(1, (os.cpu_count() or 1) // jobs)
    # the longest chapters (the capstone) first
    executions.sort(key=lambda job: job[0], reverse=True)
    failures = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {}
        if releases:
            futures[pool.submit(release_notebooks, releases)] = ("release", ", ".join(r[0] for r in releases))
        for chapter, snapshot, executed in executions:
            future = pool.submit(execute_notebook, str(snapshot), str(executed), str(CHAPTER_DIR), threads)
            futures[future] = ("execute", chapter)
        for future in concurrent.futures.as_completed(futures):
            kind, what = futures[future]
            try:
                seconds = future.result()
            except Exception as error:  # report every failing chapter, then stop
                failures.append(f"{kind} {what}: {type(error).__name__}: {error}")
                log(f"FAILED to {kind} {what}")
            else:
                log(f"{'executed' if kind == 'execute' else 'released'} {what} in {seconds:.1f} s")
    shutil.rmtree(CACHE / "sources", ignore_errors=True)
    if failures:
        raise BuildError("\n".join(failures))
    prune_cache(results)
    return results


def prune_cache(keep: dict[str, tuple[Path, Path]]) -> None:
    """Delete cached versions of the chapters built now that are not the current ones."""
    current = {path for pair in keep.values() for path in pair}
    for folder in ("executed", "release"):
        for path in (CACHE / folder).glob("*.ipynb"):
            chapter = path.stem.rsplit("-", 1)[0]
            if chapter in keep and path not in current:
                path.unlink()


# --------------------------------------------------------------------------- #
# step 3: stage
# --------------------------------------------------------------------------- #


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_graded_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("solution") or meta.get("grade") or meta.get("task"))


def add_tag(cell, tag: str) -> None:
    tags = cell.metadata.setdefault("tags", [])
    if tag not in tags:
        tags.append(tag)


def total_points(nb) -> float:
    return sum(float(nbgrader_meta(c).get("points", 0)) for c in nb.cells if nbgrader_meta(c).get("grade"))


def assignment_box(chapter: str, points: float, edition: str):
    """The markdown cell with the download link, placed under the chapter's points table."""
    from nbformat.v4 import new_markdown_cell

    href = f"../{ASSIGNMENTS}/{chapter}.ipynb"
    text = (
        ":::{admonition} The assignment\n"
        ":class: tip assignment-box\n"
        f'<a class="download-assignment" href="{href}" download="{chapter}.ipynb">'
        f'<i class="fa-solid fa-download"></i> Download the assignment notebook <code>{chapter}.ipynb</code></a> '
        f"(worth {points:g} points). The graded exercises below show the stubs you "
        "fill in; the visible tests under each one tell you whether you are on track. "
        "Open the notebook in JupyterLab, run *Validate*, and submit it as described in "
        "{ref}`the student workflow <student-workflow>`.\n"
        ":::"
    )
    if edition == "instructor":
        text = text.replace(
            "The graded exercises below show the stubs you fill in; the visible tests under each "
            "one tell you whether you are on track. ",
            "**Instructor edition:** the reference solutions are in the collapsed cells "
            "marked *Show solution*; test cells include the hidden tests. ",
        )
    cell = new_markdown_cell(text)
    cell.id = "assignment-box"
    return cell


def stage_student(executed, release, chapter: str):
    """The student page: nbgrader's stubs, no hidden tests, demo outputs kept."""
    from nbgrader.preprocessors import ClearHiddenTests, ClearMarkScheme, ClearSolutions

    nb = copy.deepcopy(executed)
    resources: dict = {}
    for preprocessor in (ClearSolutions(), ClearHiddenTests(), ClearMarkScheme()):
        nb, resources = preprocessor.preprocess(nb, resources)
    for cell in nb.cells:
        if cell.cell_type == "code" and is_graded_cell(cell):
            cell.outputs, cell.execution_count = [], None
            meta = nbgrader_meta(cell)
            add_tag(cell, "graded-tests" if meta.get("grade") else "graded-answer")
    # every cell must read exactly as in the release students download
    if len(release.cells) != len(nb.cells):
        raise BuildError(f"{chapter}: the staged page has {len(nb.cells)} cells, the release {len(release.cells)}")
    for index, (page_cell, release_cell) in enumerate(zip(nb.cells, release.cells)):
        if page_cell.source != release_cell.source or page_cell.cell_type != release_cell.cell_type:
            raise BuildError(
                f"{chapter}: cell {index} ({page_cell.get('id')}) of the student page differs from "
                f"nbgrader's release:\n--- page\n{page_cell.source}\n--- release\n{release_cell.source}"
            )
    return nb


def stage_instructor(executed):
    """The instructor page: solutions and hidden tests kept, answers in collapsed toggles."""
    nb = copy.deepcopy(executed)
    for cell in nb.cells:
        if cell.cell_type != "code" or not is_graded_cell(cell):
            continue
        meta = nbgrader_meta(cell)
        add_tag(cell, "hide-input")
        if meta.get("grade"):
            add_tag(cell, "graded-tests-all")
            prompts = ("Show the tests (with hidden tests)", "Hide the tests")
        else:
            add_tag(cell, "graded-solution")
            prompts = ("Show solution", "Hide solution")
        cell.metadata["mystnb"] = {"code_prompt_show": prompts[0], "code_prompt_hide": prompts[1]}
    return nb


def stage_chapter(chapter: str, executed_path: Path, release_path: Path, edition: str) -> bytes:
    import nbformat

    executed = nbformat.read(executed_path, as_version=4)
    release = nbformat.read(release_path, as_version=4)
    if edition == "student":
        nb = stage_student(executed, release, chapter)
    else:
        nb = stage_instructor(executed)
    # the download box goes right under the points table ("... worth T points in total")
    after = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "points in total" in c.source), 0)
    nb.cells.insert(after + 1, assignment_box(chapter, total_points(executed), edition))
    link_notebook_citations(nb, citation_patterns(BIBFILE), f"../{REFERENCES_PAGE}.html")
    nb.metadata.pop("celltoolbar", None)
    return (nbformat.writes(nb) + "\n").encode()


def check_release_is_clean(chapter: str, release_path: Path) -> None:
    text = release_path.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        if marker in text:
            raise BuildError(f"{release_path}: nbgrader's release of {chapter} still contains {marker!r}")


# --------------------------------------------------------------------------- #
# citations: "(He et al. 2015)" in the text links to its entry on the references page
# --------------------------------------------------------------------------- #

REFERENCES_PAGE = "book/references"
CITE_ID = "cite-{key}"  # = bibtex_cite_id in _config.yml


def citation_patterns(bibfile: Path) -> list[tuple[re.Pattern, str]]:
    """(pattern, key) for every entry: "Surname 2010", "A & B 2010", "A and B 2010", "A et al. 2010"."""
    from pybtex.database import parse_file

    patterns = []
    for key, entry in parse_file(str(bibfile)).entries.items():
        authors = [" ".join(person.last_names) for person in entry.persons.get("author", [])]
        if not authors:
            continue
        first, year = re.escape(authors[0]), re.escape(entry.fields["year"])
        if len(authors) == 1:
            names = first
        elif len(authors) == 2:
            names = rf"{first}\s+(?:&|and)\s+{re.escape(authors[1])}"
        else:
            names = rf"{first}\s+et\s+al\."
        patterns.append((re.compile(rf"\b{names},?\s+(?:\({year}\)|{year}\b)"), key))
    return patterns


#: pieces of Markdown that must not be touched: code, math, links, raw HTML
_PROTECTED = re.compile(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\[[^\]\n]*\]\([^)\n]*\)|<[^>\n]+>", re.S)


def link_citations(markdown: str, patterns, references_href: str) -> str:
    """Wrap each author-year citation in a link to its entry on the references page."""
    def link_plain(text: str) -> str:
        for pattern, key in patterns:
            text = pattern.sub(
                lambda m: f'<a class="reference-link" href="{references_href}#{CITE_ID.format(key=key)}">{m.group(0)}</a>',
                text,
            )
        return text

    pieces, last = [], 0
    for protected in _PROTECTED.finditer(markdown):
        pieces.append(link_plain(markdown[last:protected.start()]))
        pieces.append(protected.group(0))
        last = protected.end()
    pieces.append(link_plain(markdown[last:]))
    return "".join(pieces)


def link_notebook_citations(nb, patterns, references_href: str) -> None:
    for cell in nb.cells:
        if cell.cell_type == "markdown" and not is_graded_cell(cell):
            cell.source = link_citations(cell.source, patterns, references_href)


class Stage:
    """A staging tree whose files are only rewritten when their content changes."""

    def __init__(self, root: Path):
        self.root = root
        self.expected: set[Path] = set()
        self.changed = 0

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        self.expected.add(path)
        if path.exists() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.changed += 1

    def copy(self, source: Path, relative: str) -> None:
        self.write(relative, source.read_bytes())

    def copy_tree(self, source: Path, relative: str, skip=()) -> None:
        for path in sorted(source.rglob("*")):
            rel = path.relative_to(source)
            if path.is_file() and not any(part in skip for part in rel.parts) and "__pycache__" not in rel.parts:
                self.copy(path, f"{relative}/{rel.as_posix()}")

    def remove_stale(self) -> None:
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_file() and path not in self.expected:
                path.unlink()
                self.changed += 1
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def edition_config(config: dict, edition: str, draft: bool) -> dict:
    config = copy.deepcopy(config)
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["course_edition"] = edition
    if draft:  # links to the missing chapters are expected to dangle
        sphinx_config["suppress_warnings"] = [*sphinx_config.get("suppress_warnings", []), "ref.doc"]
    if edition == "instructor":
        config["title"] = f"{config['title']} (instructor edition)"
        html = config.setdefault("html", {})
        html["announcement"] = (
            "Instructor edition: this site shows the reference solutions and hidden tests. "
            "Do not publish it; the public site is the student edition (make book)."
        )
    return config


# --------------------------------------------------------------------------- #
# step 4: render
# --------------------------------------------------------------------------- #


def render(stage: Path, output: Path, doctrees: Path, verbose: bool) -> int:
    from jupyter_book.sphinx import build_sphinx

    result = build_sphinx(
        stage,
        output,
        noconfig=True,
        path_config=str(stage / "_config.yml"),
        confoverrides={
            "external_toc_path": (stage / "_toc.yml").as_posix(),
            "nitpicky": True,
            "latex_individualpages": False,
        },
        doctreedir=doctrees,
        builder="html",
        warningiserror=True,
        keep_going=True,
        quiet=not verbose,
    )
    if isinstance(result, Exception):
        return 1
    return int(result or 0)


# --------------------------------------------------------------------------- #
# main
# --------------------------------------------------------------------------- #


def build(edition: str, allow_missing: bool, jobs: int, verbose: bool = False) -> Path:
    import yaml

    start = time.perf_counter()
    toc = read_yaml(ROOT / "_toc.yml")
    config = read_yaml(ROOT / "_config.yml")
    entries = toc_files(toc)
    missing = {entry for entry in entries if not source_of(entry).exists()}
    if missing:
        listing = "\n".join(f"  - {source_of(e).relative_to(ROOT)}" for e in sorted(missing))
        if not allow_missing:
            raise BuildError(
                f"_toc.yml lists files that do not exist:\n{listing}\n"
                "Add them, remove them from _toc.yml, or build a draft with "
                "`make book BOOK_ALLOW_MISSING=1` (book/build.py --allow-missing)."
            )
        bar = "!" * 78
        log(f"\n{bar}\nWARNING: building a DRAFT without these missing pages:\n{listing}\n{bar}")
        toc = drop_files(toc, missing)
        entries = [e for e in entries if e not in missing]
    chapters = [Path(e).name if not e.endswith(".ipynb") else Path(e).stem for e in entries if e.startswith("chapters/")]
    prepared = prepare_chapters(chapters, jobs)

    stage = Stage(STAGE / edition)
    stage.write("_config.yml", yaml.safe_dump(edition_config(config, edition, bool(missing)), sort_keys=False, allow_unicode=True).encode())
    stage.write("_toc.yml", yaml.safe_dump(toc, sort_keys=False, allow_unicode=True).encode())
    patterns = citation_patterns(BIBFILE)
    for entry in entries:
        source = source_of(entry)
        if entry.startswith("chapters/"):
            continue
        relative = source.relative_to(ROOT).as_posix()
        if source.suffix == ".md" and entry != REFERENCES_PAGE:
            href = os.path.relpath(REFERENCES_PAGE, os.path.dirname(relative) or ".") + ".html"
            stage.write(relative, link_citations(source.read_text(encoding="utf-8"), patterns, href).encode())
        else:
            stage.copy(source, relative)
    for path in BOOK_DIR.iterdir():
        if path.name in NOT_CONTENT or path.name == "__pycache__" or path.suffix == ".md":
            continue  # pages are staged from the toc above
        if path.is_dir():
            stage.copy_tree(path, f"book/{path.name}")
        else:
            stage.copy(path, f"book/{path.name}")
    extra = config.get("sphinx", {}).get("config", {}).get("html_extra_path", [])
    if not extra:
        raise BuildError("_config.yml: sphinx.config.html_extra_path must name the folder for /assignments/")
    for chapter, (executed, release) in prepared.items():
        check_release_is_clean(chapter, release)
        stage.write(f"chapters/{chapter}.ipynb", stage_chapter(chapter, executed, release, edition))
        stage.copy(release, f"{extra[0]}/{ASSIGNMENTS}/{chapter}.ipynb")
    stage.remove_stale()
    log(f"staged {edition} edition in {stage.root.relative_to(ROOT)} ({stage.changed} file(s) changed)")

    output = OUTPUT[edition]
    log("rendering with Jupyter Book (Sphinx; warnings are errors)")
    status = render(stage.root, output, BUILD / ".doctrees" / edition, verbose)
    if status:
        raise BuildError(f"Jupyter Book failed (exit {status}); the warnings above are errors (-W)")
    # Sphinx copies html_extra_path only when some page was rebuilt: make sure the
    # site has the current assignments and MathJax files even when no page changed
    for folder in extra:
        for path in (stage.root / folder).rglob("*"):
            target = output / path.relative_to(stage.root / folder)
            if path.is_file() and (not target.exists() or target.read_bytes() != path.read_bytes()):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    log(f"{edition} edition built in {time.perf_counter() - start:.1f} s: {output.relative_to(ROOT)}/index.html")
    if missing:
        log(f"WARNING: DRAFT build; missing pages: {', '.join(sorted(missing))}")
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", choices=sorted(OUTPUT), default="student")
    parser.add_argument("--allow-missing", action="store_true",
                        help="build a draft that leaves out toc entries whose files do not exist")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at the same time (default: min(2, cores))")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress, not only its warnings")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    try:
        build(args.edition, args.allow_missing or os.environ.get("BOOK_ALLOW_MISSING") == "1", max(1, args.jobs), args.verbose)
    except BuildError as error:
        print(f"\nbook/build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
