"""The learner's language: what the checks, the test cells and the stubs say, translated by a gettext catalog.

A release in another language than English ships its compiled catalog beside this module,
``locale/<language>/LC_MESSAGES/learner.mo`` (written by ``autograder.release.translated``
from the course's ``.po`` catalogs); the release's language is the one whose catalog is
there, English (the source language) when there is none. Like every gettext catalog it is
keyed by the English text, so nothing of the notebook changes:

* ``_(message)``: a message of this package, e.g. ``_("wrong shape {received}, expected shape {expected}")``;
* ``translate(text)``: a text the notebook hands over, a check's name, hint or message, or a stub's
  ``NotImplementedError`` message: its exact English text, or else one of the catalog's *patterns*,
  entries whose ``{...}`` placeholders stand for whatever the text has there (a test cell's f-string
  ``f"trajectory shape for eta = {eta}"`` is the pattern ``trajectory shape for eta = {eta}``);
* ``using(language)``: the grader judges a submission outside the kernel in the submission's language;
* ``show_stubs_translated()``: in IPython, a ``NotImplementedError`` shows its message translated.

Only the standard library: this module runs in the student's kernel.
"""

from __future__ import annotations

import contextlib
import gettext
import re
from collections.abc import Iterator
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "learner"
SOURCE_LANGUAGE = "en"
#: gettext's context of a pattern entry (in a .mo file the key is "pattern\x04<msgid>")
PATTERN_CONTEXT = "pattern"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it here (translated where it is shown)."""
    return message


def P_(template: str) -> str:
    """Mark a template as a pattern: the text shown fills its placeholders, and is translated by matching."""
    return template


class Language:
    """A language and its catalog (``gettext.NullTranslations`` for English)."""

    def __init__(self, code: str, translations: gettext.NullTranslations | None = None) -> None:
        self.code = code
        self.translations = translations or gettext.NullTranslations()
        self._patterns: list[tuple[re.Pattern, list[str], str]] | None = None

    def message(self, text: str) -> str:
        return self.translations.gettext(text)

    def patterns(self) -> list[tuple[re.Pattern, list[str], str]]:
        """(regular expression, placeholders, translation) of each pattern entry, compiled once."""
        if self._patterns is None:
            prefix = f"{PATTERN_CONTEXT}\x04"
            catalog = getattr(self.translations, "_catalog", {})  # GNUTranslations' dict of the .mo file
            self._patterns = []
            for key, translation in catalog.items():
                if isinstance(key, str) and key.startswith(prefix) and translation:
                    template = key[len(prefix) :]
                    parts = PLACEHOLDER.split(template)
                    regex = "(.*?)".join(re.escape(part) for part in parts)
                    self._patterns.append((re.compile(regex, re.DOTALL), PLACEHOLDER.findall(template), translation))
            self._patterns.sort(key=lambda item: -len(item[0].pattern))  # the most specific first
        return self._patterns

    def translate(self, text: str) -> str:
        """``text`` in this language: its exact entry, else the first pattern it matches; else unchanged."""
        if self.code == SOURCE_LANGUAGE or not isinstance(text, str) or not text:
            return text
        exact = self.translations.gettext(text)
        if exact != text:
            return exact
        for regex, placeholders, translation in self.patterns():
            match = regex.fullmatch(text)
            if match:
                return fill(translation, dict(zip(placeholders, match.groups(), strict=True)))
        return text


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with each placeholder of ``values`` (``{eta}``: ``"0.4"``) replaced by its value."""
    return PLACEHOLDER.sub(lambda found: values.get(found[0], found[0]), template)


def release_language() -> Language:
    """The language of the release this package is part of: the catalog in ``locale/``, or English."""
    found = sorted(LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    if not found:
        return Language(SOURCE_LANGUAGE)
    with found[0].open("rb") as file:
        return Language(found[0].parent.parent.name, gettext.GNUTranslations(file))


_active: Language | None = None


def active() -> Language:
    global _active
    if _active is None:
        _active = release_language()
    return _active


@contextlib.contextmanager
def using(language: Language) -> Iterator[Language]:
    """Speak ``language`` inside the block (the grader, for one submission)."""
    global _active
    saved = _active
    _active = language
    try:
        yield language
    finally:
        _active = saved


def _(message: str) -> str:
    """The translation of one of this package's messages (format it afterwards)."""
    return active().message(message)


def translate(text: str) -> str:
    """A text the notebook passed (a check's name, hint or message, a stub's message), translated."""
    return active().translate(text)


def language() -> str:
    return active().code


def show_stubs_translated() -> None:
    """In IPython, show a ``NotImplementedError``'s message (a stub's) in the release's language."""
    if active().code == SOURCE_LANGUAGE:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_course_stubs_translated", False):
        return

    def translated_traceback(shell, etype, value, tb, tb_offset=None):
        if len(value.args) == 1 and isinstance(value.args[0], str):
            value.args = (translate(value.args[0]),)
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset, running_compiled_code=True)

    shell.set_custom_exc((NotImplementedError,), translated_traceback)
    shell._course_stubs_translated = True
