"""Sphinx extension of the course website (loaded through _config.yml, local_extensions).

The edition is the Sphinx tag that book/build.py renders with: ``student`` or
``instructor`` (pages say what differs with ``{only}``). From the tag it sets the
``course_edition`` setting (also in the templates' context) and, for the instructor
edition, the title and a warning banner on every page. Built any other way (for
example ``jupyter-book build .`` at the repository root) there is no tag, and the
chapters would be the unexecuted instructor sources, solutions included, so the
build stops with an error that says how to build the site.

It also registers the citation style of ``bibtex_reference_style``
(``autograder/release/citations.py``) and removes duplicated inline scripts.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

EDITIONS = ("student", "instructor")
INSTRUCTOR_BANNER = (
    "Instructor edition: this site shows the reference solutions and hidden tests. "
    "Do not publish it; the public site is the student edition (make book)."
)


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
    if config.course_edition == "instructor":
        config.html_title = f"{config.html_title} (instructor edition)"
        config.html_theme_options = {**config.html_theme_options, "announcement": INSTRUCTOR_BANNER}
    from autograder.release.citations import register_style  # importable when book/build.py renders

    register_style()


def add_edition_to_context(app: Sphinx, pagename, templatename, context, doctree) -> None:
    context["course_edition"] = app.config.course_edition


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
    app.connect("config-inited", set_edition)
    app.connect("html-page-context", add_edition_to_context)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True}
