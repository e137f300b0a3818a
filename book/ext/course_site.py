"""Sphinx extension of the course website (loaded through _config.yml, local_extensions).

The edition is the Sphinx tag that book/build.py renders with: ``student`` or
``instructor`` (pages say what differs with ``{only}``). From the tag it sets the
``course_edition`` setting (also in the templates' context) and, for the instructor
edition, the title and a warning banner on every page. Built any other way (for
example ``jupyter-book build .`` at the repository root) there is no tag, and the
chapters would be the unexecuted instructor sources, solutions included, so the
build stops with an error that says how to build the site.

The site of each language (``course_language``, set by book/build.py: ``en`` at the root of the
output, another language of ``book/locale/languages.yml`` in ``<output>/<language>/``) gets a
language switcher in every page's header (``templates/language-switcher.html``): links to the
same page in the other languages, relative, so that they work wherever the site is served. The
instructor edition's title and banner are translated with the site catalog.

It also registers the citation style of ``bibtex_reference_style``
(``autograder/release/citations.py``) and removes duplicated inline scripts.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

from autograder.runtime.i18n import N_

EDITIONS = ("student", "instructor")
INSTRUCTOR_BANNER = N_(
    "Instructor edition: this site shows the reference solutions and hidden tests. "
    "Do not publish it; the public site is the student edition (make book)."
)
INSTRUCTOR_TITLE = N_("{title} (instructor edition)")
#: the label over each kind of graded cell (a CSS ``::before`` of the cell's tag, see static/course.css)
CELL_LABELS = {
    "graded-answer": N_("Graded exercise \u2014 your code goes here"),
    "graded-tests": N_("Autograder tests \u2014 run them to check your answer"),
    "graded-solution": N_("Graded exercise \u2014 reference solution"),
    "graded-tests-all": N_("Autograder tests \u2014 visible and hidden"),
}
SWITCHER = "language-switcher.html"
SOURCE_LANGUAGE, SOURCE_LANGUAGE_NAME = "en", "English"


def set_edition(app: Sphinx, config) -> None:
    editions = [edition for edition in EDITIONS if app.tags.has(edition)]
    if len(editions) != 1:
        raise ConfigError(
            "the edition is not set (the Sphinx tag student or instructor): build the website with "
            "`make book` (or `.venv/bin/python book/build.py [--edition instructor]`), not with "
            "`jupyter-book build` directly; book/build.py executes the chapters and removes "
            "the solutions from the student edition."
        )
    config.course_edition = editions[0]
    from autograder.release import catalogs  # importable when book/build.py renders
    from autograder.release.citations import register_style

    words = catalogs.load(config.course_language, catalogs.SITE).text
    if config.course_edition == "instructor":
        config.html_title = words(INSTRUCTOR_TITLE).format(title=config.html_title)
        config.html_theme_options = {**config.html_theme_options, "announcement": words(INSTRUCTOR_BANNER)}
    header = list(config.html_theme_options.get("article_header_end") or ["article-header-buttons.html"])
    config.html_theme_options = {**config.html_theme_options, "article_header_end": [SWITCHER, *header]}
    config.templates_path = [*config.templates_path, str(Path(__file__).resolve().parent / "templates")]
    config.course_languages = [(SOURCE_LANGUAGE, SOURCE_LANGUAGE_NAME)] + [
        (code, language.name) for code, language in catalogs.languages().items()]
    rules = "".join(f'div.cell.tag_{tag}::before{{content:"{words(label).replace(chr(34), chr(39))}"}}'
                    for tag, label in CELL_LABELS.items())
    config.course_cell_labels = f"\n<style>{rules}</style>"
    register_style()


def add_edition_to_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    context["course_edition"] = app.config.course_edition


def language_links(pagename: str, language: str, languages: list[tuple[str, str]]) -> list[dict]:
    """Links from ``pagename`` of the ``language`` site to the same page of every other language's site."""
    to_root = "../" * pagename.count("/") + ("" if language == SOURCE_LANGUAGE else "../")
    return [{"code": code, "name": name, "title": name,
             "href": f"{to_root}{'' if code == SOURCE_LANGUAGE else code + '/'}{pagename}.html"}
            for code, name in languages if code != language]


def add_language_switcher(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """The switcher's links, and ``<link rel="alternate" hreflang>`` in the page's head."""
    links = language_links(pagename, app.config.course_language, app.config.course_languages)
    context["course_language_links"] = links
    context["course_language_label"] = "Language / 언어"
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<link rel="alternate" hreflang="{link["code"]}" href="{link["href"]}" />' for link in links
    ) + app.config.course_cell_labels


def drop_duplicate_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    """Include each script once.

    Inline scripts that extensions add after the builder starts (sphinx-thebe's
    ``const THEBE_JS_URL = ...``, sphinx-togglebutton's selector) end up twice in
    Sphinx 7.4's list, once with the file name None and once with "", and the
    second ``const`` throws "Identifier 'THEBE_JS_URL' has already been declared".
    """
    seen, unique = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", str(script)) or "", repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.add_config_value("course_edition", "", "env", types=[str])
    app.add_config_value("course_language", SOURCE_LANGUAGE, "env", types=[str])
    app.add_config_value("course_languages", [], "html", types=[list])
    app.add_config_value("course_cell_labels", "", "html", types=[str])
    app.connect("config-inited", set_edition)
    app.connect("html-page-context", add_edition_to_context)
    app.connect("html-page-context", add_language_switcher)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
