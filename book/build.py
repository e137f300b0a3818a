#!/usr/bin/env python
"""Build the course website (Jupyter Book 1.x) in one of its two editions.

    python book/build.py                      # student edition  -> _build/html
    python book/build.py --edition instructor # instructor edition -> _build/instructor/html

Every chapter notebook in ``chapters/`` is an nbgrader *source*: it holds the
reference solutions and the hidden tests. The website must never show them to
students, yet it must show every demo output and figure, which only the
solutions can produce. So the build goes in four steps:

1. **Execute** each chapter, with its solutions, once, through jupyter-cache
   (``book/execution.py``: cache ``_build/.jupyter_cache``, keyed by the code cells and
   a fingerprint of the library they import; prose edits never re-execute).
2. **Release** each chapter as the course does (``autograder.release``: nbgrader's
   ``generate_assignment``, the student edition of the library, the data), packed into the
   zip students download (``autograder.release.bundle``), cached by its inputs in
   ``_build/.bundles``.
3. **Stage** a source tree for Jupyter Book under ``_build/.book_stage/<edition>``
   (``book/staging.py``): the pages of the table of contents, the configuration, and
   one page per chapter made from the executed notebook. Student edition: the release's
   own steps (nbgrader's stubs, no hidden tests), graded outputs cleared, every cell
   compared with the release in the bundle. Instructor edition: the solutions in
   collapsed toggles. A staged file is rewritten only when its content changed, so
   Sphinx re-renders only what changed.
4. **Render** the staged tree with Jupyter Book (Sphinx), execution off, with the Sphinx
   tag ``student`` or ``instructor`` (pages say what differs with ``{only}``; the tag
   also sets ``course_edition`` in ``book/ext/course_site.py``), strictly: any warning
   is an error (``-W -n --keep-going``).
5. **The other languages** (``book/locale/languages.yml``): steps 2 to 4 again for each, into
   ``<output>/<language>/``, from the same executed chapters: the bundles are the English ones
   translated (``autograder.release.translated``), the pages and the prose of the chapters are
   translated with their catalogs (``book/translated_site.py``), Sphinx renders with ``language``
   set. A catalog whose translation lost markup stops the build, naming its file and line; a
   string not translated yet shows in English. Every page links to its counterpart in the
   other languages (``book/ext/course_site.py``). ``--language en`` builds English only.

The build refuses to start when a file listed in ``_toc.yml`` is missing, unless
``--allow-missing`` is given (for drafts: the missing files are dropped from the
table of contents, parsed by sphinx-external-toc, and the build says so loudly), and
when a page, a markdown cell or a piece of math holds a control character (a TAB
where ``\\times`` was meant).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[0] == str(Path(__file__).resolve().parent):  # run as a script: import the package `book`
    sys.path[0] = str(ROOT)

import nbformat  # noqa: E402 - after the sys.path setup above
import yaml  # noqa: E402 - after the sys.path setup above

from autograder.release import catalogs  # noqa: E402 - after the sys.path setup above
from book import execution, staging, translated_site  # noqa: E402 - after the sys.path setup above

BUILD = ROOT / "_build"
STAGE = BUILD / ".book_stage"
BUNDLES = BUILD / ".bundles"
CHAPTER_DIR = ROOT / "chapters"
BOOK_DIR = ROOT / "book"
BIBFILE = BOOK_DIR / "references.bib"
#: where each edition's HTML goes (the edition is also the Sphinx tag)
OUTPUT = {"student": BUILD / "html", "instructor": BUILD / "instructor" / "html"}
#: folders of book/ that are build machinery, not website content (its *.py and *.md files are not either)
NOT_CONTENT = {"tools", "locale", "__pycache__"}


def log(message: str) -> None:
    print(f"[book] {message}", flush=True)


class BuildError(RuntimeError):
    """A problem that stops the build; the message says which file and why."""


def read_toc(allow_missing: bool):
    """The table of contents (a sphinx-external-toc SiteMap), its source file per page, and the missing pages."""
    from sphinx_external_toc.api import FileItem
    from sphinx_external_toc.parsing import MalformedError, parse_toc_yaml

    try:
        site_map = parse_toc_yaml(ROOT / "_toc.yml")
    except MalformedError as error:
        raise BuildError(f"_toc.yml: {error}") from error
    if site_map.globs():
        raise BuildError("_toc.yml: glob entries are not supported; list every file")
    sources = {name: next((ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md")
                           if (ROOT / f"{name}{suffix}").is_file()), None) for name in site_map}
    missing = sorted(name for name, source in sources.items() if source is None)
    if missing:
        listing = "\n".join(f"  - {name} (.ipynb or .md)" for name in missing)
        if not allow_missing or site_map.root.docname in missing:
            raise BuildError(f"_toc.yml lists files that do not exist:\n{listing}\nAdd them, remove them from "
                             "_toc.yml, or build a draft with `make book BOOK_ALLOW_MISSING=1` (--allow-missing).")
        log(f"\n{'!' * 78}\nWARNING: building a DRAFT without these missing pages:\n{listing}\n{'!' * 78}")
        for document in site_map.values():  # the draft's toc: without the missing files, nor empty parts
            for tree in document.subtrees:
                tree.items = [item for item in tree.items if not (isinstance(item, FileItem) and item in missing)]
            document.subtrees = [tree for tree in document.subtrees if tree.items]
        for name in missing:
            del site_map[name]
            del sources[name]
    return site_map, sources, missing


def bundles(chapters: list[str], language: str = catalogs.SOURCE_LANGUAGE) -> dict[str, Path]:
    """Each chapter's assignment bundle (``autograder.release.bundle``), made only when one of its inputs changed."""
    from autograder.course import Chapter
    from autograder.release.bundle import cached_bundles

    start = time.perf_counter()
    try:
        paths = cached_bundles([Chapter.resolve(chapter) for chapter in chapters], BUNDLES, language)
    except catalogs.CatalogError as error:
        raise BuildError(str(error)) from error
    except Exception as error:
        raise BuildError(
            f"the assignment bundles ({language}) could not be made: {type(error).__name__}: {error}"
        ) from error
    log(f"assignment bundles ({language}) ready in {time.perf_counter() - start:.1f} s ({BUNDLES.relative_to(ROOT)})")
    return paths


def check_text(pages: list[Path], notebooks: dict) -> None:
    """Stop on a control character in a page, or in a chapter's markdown, math strings and LaTeX outputs."""
    problems = [problem for path in pages
                for problem in staging.check_page(path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))]
    problems += [problem for chapter, nb in notebooks.items()
                 for problem in staging.check_notebook(f"chapters/{chapter}.ipynb", nb)]
    if problems:
        raise BuildError("control characters (a lost backslash, e.g. a TAB for \\t in \\times):\n  "
                         + "\n  ".join(problems))


def render(stage: Path, output: Path, edition: str, draft: bool, verbose: bool,
           language: str = catalogs.SOURCE_LANGUAGE) -> int:
    from jupyter_book.sphinx import build_sphinx

    overrides = {"external_toc_path": (stage / "_toc.yml").as_posix(), "nitpicky": True, "latex_individualpages": False,
                 "language": language, "course_language": language}
    if draft:  # links to the missing pages are expected to dangle
        config = yaml.safe_load((stage / "_config.yml").read_text(encoding="utf-8"))
        overrides["suppress_warnings"] = [*config.get("sphinx", {}).get("config", {}).get("suppress_warnings", []),
                                          "ref.doc"]
    result = build_sphinx(stage, output, noconfig=True, path_config=str(stage / "_config.yml"), confoverrides=overrides,
                          doctreedir=BUILD / ".doctrees" / site_name(edition, language), builder="html", tags=[edition],
                          warningiserror=True, keep_going=True, quiet=not verbose)
    return 1 if isinstance(result, Exception) else int(result or 0)


def site_name(edition: str, language: str) -> str:
    return edition if language == catalogs.SOURCE_LANGUAGE else f"{edition}-{language}"


def stage_site(edition: str, language: str, site_map, pages: dict[str, Path], executed: dict,
               released: dict[str, Path], extra: list[str]) -> staging.Stage:
    """The source tree Jupyter Book renders for one edition in one language."""
    from sphinx_external_toc.parsing import create_toc_dict

    english = language == catalogs.SOURCE_LANGUAGE
    stage = staging.Stage(STAGE / site_name(edition, language))
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    stage.write("_config.yml", config.encode() if english else translated_site.config(config, language))
    toc = create_toc_dict(site_map)
    stage.write("_toc.yml", yaml.safe_dump(toc, sort_keys=False, allow_unicode=True).encode() if english
                else translated_site.toc(toc, language))
    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        stage.write(path.relative_to(ROOT).as_posix(),
                    text.encode() if english else translated_site.page(name, text, language))
    for path in sorted(BOOK_DIR.iterdir()):
        if path.is_dir() and path.name not in NOT_CONTENT:
            stage.copy_tree(path, f"book/{path.name}")
        elif path.is_file() and path.suffix not in {".py", ".md"}:
            stage.copy(path, f"book/{path.name}")
    for chapter, nb in executed.items():
        try:
            page, downloads = staging.chapter_page(chapter, nb, released[chapter], edition, BIBFILE, language)
        except (staging.StageError, KeyError) as error:
            raise BuildError(f"chapters/{chapter}.ipynb: {error}") from error
        stage.write(f"chapters/{chapter}.ipynb", page)
        for relative, data in downloads.items():
            stage.write(f"{extra[0]}/{relative}", data)
    stage.remove_stale()
    log(f"staged the {edition} edition ({language}) in {stage.root.relative_to(ROOT)} "
        f"({stage.changed} file(s) changed)")
    return stage


def render_site(stage: staging.Stage, output: Path, edition: str, language: str, draft: bool, verbose: bool,
                extra: list[str]) -> None:
    log(f"rendering the {language} site with Jupyter Book (Sphinx; warnings are errors)")
    if render(stage.root, output, edition, draft, verbose, language):
        raise BuildError(f"Jupyter Book failed ({language}); the warnings above are errors (-W)")
    # Sphinx copies html_extra_path and html_static_path only when some page was rebuilt: make
    # sure the site has the current downloads, MathJax files and stylesheets even when no page changed
    config = yaml.safe_load((stage.root / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    copies = [(folder, output) for folder in extra] + [(folder, output / "_static")
                                                       for folder in config.get("html_static_path", [])]
    for folder, root in copies:
        for path in (stage.root / folder).rglob("*"):
            target = root / path.relative_to(stage.root / folder)
            if path.is_file() and (not target.exists() or target.read_bytes() != path.read_bytes()):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)


def build(edition: str, allow_missing: bool, jobs: int, verbose: bool = False,
          languages: list[str] | None = None) -> Path:
    """Build ``edition`` in English and in each of ``languages`` (default: every language of the course)."""
    start = time.perf_counter()
    languages = list(catalogs.languages()) if languages is None else languages
    broken = [problem for language in languages for problem in catalogs.check_all(language)]
    if broken:  # before the slow steps
        raise BuildError("translation catalogs with broken markup (fix the msgstr on that line):\n  "
                         + "\n  ".join(broken))
    site_map, sources, missing = read_toc(allow_missing)
    chapters = {name.split("/", 1)[1]: path.read_bytes() for name, path in sources.items()
                if name.startswith("chapters/") and path.suffix == ".ipynb"}  # each read once
    notebooks = {chapter: nbformat.reads(data, as_version=4) for chapter, data in chapters.items()}
    pages = {name: path for name, path in sources.items() if path.suffix == ".md"}
    check_text(list(pages.values()), notebooks)  # before the slow steps
    released = bundles(list(chapters))
    try:
        executed = execution.execute_chapters(notebooks, jobs, log=log)
    except execution.ExecutionError as error:
        raise BuildError(str(error)) from error
    failed = [f"chapters/{chapter}.ipynb, cell {index} ({cell_id}): {name}: {message}"
              for chapter, nb in executed.items() for index, cell_id, name, message in execution.execution_errors(nb)]
    if failed:
        raise BuildError("cells raised when the chapters were executed with their solutions:\n  " + "\n  ".join(failed))
    check_text([], executed)  # and the LaTeX outputs

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    extra = config["sphinx"]["config"].get("html_extra_path")
    if not extra:
        raise BuildError("_config.yml: sphinx.config.html_extra_path must name the folder for the downloads")
    output = OUTPUT[edition]
    stage = stage_site(edition, catalogs.SOURCE_LANGUAGE, site_map, pages, executed, released, extra)
    render_site(stage, output, edition, catalogs.SOURCE_LANGUAGE, bool(missing), verbose, extra)
    log(f"{edition} edition (en) built in {time.perf_counter() - start:.1f} s: {output.relative_to(ROOT)}/index.html")
    for language in languages:
        begun = time.perf_counter()
        released_here = bundles(list(chapters), language)
        stage = stage_site(edition, language, site_map, pages, executed, released_here, extra)
        render_site(stage, output / language, edition, language, bool(missing), verbose, extra)
        log(f"{edition} edition ({language}) built in {time.perf_counter() - begun:.1f} s: "
            f"{(output / language).relative_to(ROOT)}/index.html; "
            + translated_site.summary(language, [*pages, *(f"chapters/{c}" for c in chapters)]))
    if missing:
        log(f"WARNING: DRAFT build; missing pages: {', '.join(missing)}")
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edition", choices=sorted(OUTPUT), default="student")
    parser.add_argument("--allow-missing", action="store_true",
                        help="build a draft that leaves out toc entries whose files do not exist")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="notebooks executed at the same time (default: min(2, cores))")
    parser.add_argument("--verbose", action="store_true", help="show Sphinx's progress, not only its warnings")
    parser.add_argument("--language", action="append", metavar="CODE",
                        help="build English and this language (repeatable; default: every language of "
                             "book/locale/languages.yml); --language en builds English only")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    languages = None if not args.language else [code for code in args.language if code != catalogs.SOURCE_LANGUAGE]
    unknown = sorted(set(languages or ()) - set(catalogs.languages()))
    if unknown:
        parser.error(f"--language {', '.join(unknown)}: not in {catalogs.LANGUAGES_FILE.relative_to(ROOT)}")
    try:
        build(args.edition, args.allow_missing or os.environ.get("BOOK_ALLOW_MISSING") == "1", max(1, args.jobs),
              args.verbose, languages)
    except BuildError as error:
        print(f"\nbook/build.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
