"""Sphinx extension of the course website (loaded through _config.yml, local_extensions).

It declares the ``course_edition`` setting, which book/build.py fills in when it
stages an edition ("student" or "instructor"). Built any other way (for example
``jupyter-book build .`` at the repository root) the chapters would be the
unexecuted instructor sources, solutions included, so the build stops with an
error that says how to build the site.
"""

from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

EDITIONS = ("student", "instructor")


def check_edition(app: Sphinx, config) -> None:
    if config.course_edition not in EDITIONS:
        raise ConfigError(
            "course_edition is not set: build the website with `make book` "
            "(or `.venv/bin/python book/build.py [--edition instructor]`), not with "
            "`jupyter-book build` directly; book/build.py executes the chapters and removes "
            "the solutions from the student edition."
        )


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
    app.connect("config-inited", check_edition)
    app.connect("html-page-context", add_edition_to_context)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
