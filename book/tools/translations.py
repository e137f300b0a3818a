#!/usr/bin/env python
"""Keep the translation catalogs in step with the English sources, and say what is left to translate.

    .venv/bin/python book/tools/translations.py update [DOMAIN ...]   # write book/locale/<lang>/LC_MESSAGES/*.po
    .venv/bin/python book/tools/translations.py status [DOMAIN ...]   # what is translated; exit 1 if a required
                                                                      # catalog is incomplete or any is broken

``update`` extracts the English text of every document (``book/translation_sources.py``) and
merges it into each language's catalog the gettext way (babel's ``Catalog.update``, as
``msgmerge`` does): a new paragraph is added untranslated, a changed one keeps its old
translation marked *fuzzy* with the old English text beside it (``#| msgid``), a removed one
becomes obsolete (``#~``). Nothing is ever translated by this tool. ``status`` compares the
catalogs with the English sources as they are now: a string that is missing, untranslated or
fuzzy is not translated yet; a translation that lost markup is reported with its file and line.
Which catalogs must be complete is set in ``book/locale/languages.yml`` (``complete``).
--language limits both to one language (default: every language of languages.yml).
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from babel.messages.catalog import Catalog  # noqa: E402 - after the sys.path setup above
from babel.messages.pofile import write_po  # noqa: E402 - after the sys.path setup above

from autograder.release import catalogs  # noqa: E402 - after the sys.path setup above
from book import translation_sources  # noqa: E402 - after the sys.path setup above


@dataclass
class Status:
    """How far a catalog is: each English string of the source is translated, fuzzy, untranslated or missing."""

    language: str
    domain: str
    total: int = 0
    translated: int = 0
    fuzzy: list[str] = field(default_factory=list)         # "file:line: msgid"
    untranslated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)       # not in the catalog: run `update`
    problems: list[str] = field(default_factory=list)      # broken markup or syntax

    @property
    def complete(self) -> bool:
        return self.translated == self.total and not self.problems


def merged(language: str, domain: str, template: Catalog) -> Catalog:
    """The language's catalog of ``domain`` updated to ``template`` (a new catalog when there is none)."""
    path = catalogs.po_path(language, domain)
    if path.is_file():
        catalog = catalogs.read(path)
    else:
        catalog = Catalog(locale=language, domain=domain, project=translation_sources.PROJECT, version="",
                          fuzzy=False, charset="utf-8")
    catalog.update(template, update_creation_date=False)
    for key in [key for key, message in catalog.obsolete.items() if not message.string]:
        del catalog.obsolete[key]  # an obsolete entry without a translation holds nothing worth keeping
    for message in catalog:  # babel guesses python-brace-format from the text; the template says
        wanted = template.get(message.id, message.context) if message.id else None
        if wanted is not None:
            message.flags = {flag for flag in message.flags if flag == "fuzzy"} | (wanted.flags - {"fuzzy"})
    return catalog


def po_bytes(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, include_previous=True)
    return buffer.getvalue()


def update(language: str, domains: list[str] | None = None) -> list[Status]:
    """Merge the English sources into ``language``'s catalogs; returns their status afterwards."""
    result = []
    for domain in domains or translation_sources.domains():
        template = translation_sources.template(domain)
        path = catalogs.po_path(language, domain)
        data = po_bytes(merged(language, domain, template))
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        result.append(status(language, domain, template))
    return result


def status(language: str, domain: str, template: Catalog | None = None) -> Status:
    """The catalog of ``domain`` against its English source as it is now."""
    template = template or translation_sources.template(domain)
    found = Status(language, domain)
    path = catalogs.po_path(language, domain)
    try:
        catalog = catalogs.read(path) if path.is_file() else None
    except catalogs.CatalogError as error:
        found.problems.append(str(error))
        catalog = None
    lines = path.read_text(encoding="utf-8").split("\n") if catalog is not None else []
    where = catalogs.relative(path)
    for message in template:
        if not message.id:
            continue
        found.total += 1
        have = catalog.get(message.id, message.context) if catalog is not None else None
        label = f"{message.id[:70]!r}" + (f" ({message.context})" if message.context else "")
        if have is None:
            found.missing.append(f"{where}: {label}")
        elif have.fuzzy:
            found.fuzzy.append(f"{where}:{catalogs.msgstr_line(lines, have.lineno)}: {label}")
        elif not have.string:
            found.untranslated.append(f"{where}:{catalogs.msgstr_line(lines, have.lineno)}: {label}")
        else:
            found.translated += 1
    if catalog is not None:
        found.problems += catalogs.problems(path, domain, catalog)
    return found


def report(statuses: list[Status], required: dict[str, catalogs.Language], verbose: bool) -> int:
    """Print a table of the statuses; 1 if a required catalog is incomplete or any catalog is broken."""
    failed = 0
    print(f"{'language':8} {'catalog':34} {'done':>9} {'fuzzy':>6} {'untr.':>6} {'missing':>7}  required")
    for item in statuses:
        must = required[item.language].must_be_complete(item.domain)
        print(f"{item.language:8} {item.domain:34} {item.translated:4}/{item.total:<4} {len(item.fuzzy):6} "
              f"{len(item.untranslated):6} {len(item.missing):7}  {'yes' if must else ''}")
        shown = item.problems + ((item.missing + item.untranslated + item.fuzzy) if must or verbose else [])
        for line in shown[:40]:
            print(f"    {line}")
        if len(shown) > 40:
            print(f"    ... and {len(shown) - 40} more")
        failed |= bool(item.problems) or (must and not item.complete)
    return int(failed)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "status"))
    parser.add_argument("domains", nargs="*", metavar="DOMAIN",
                        help="catalogs such as intro, chapters/01_gradient_descent, learner (default: all)")
    parser.add_argument("--language", help="one language of book/locale/languages.yml (default: all of them)")
    parser.add_argument("--verbose", action="store_true", help="list every string left, not only of required catalogs")
    args = parser.parse_args(argv)
    known = catalogs.languages()
    if args.language and args.language not in known:
        parser.error(f"{args.language!r} is not in {catalogs.LANGUAGES_FILE}: {sorted(known)}")
    unknown = sorted(set(args.domains) - set(translation_sources.domains()))
    if unknown:
        parser.error(f"no such catalog: {', '.join(unknown)} (catalogs: {', '.join(translation_sources.domains())})")
    statuses = []
    for language in [args.language] if args.language else sorted(known):
        if args.command == "update":
            statuses += update(language, args.domains or None)
        else:
            domains = args.domains or translation_sources.domains()
            templates = {domain: translation_sources.template(domain) for domain in domains}
            statuses += [status(language, domain, template) for domain, template in templates.items()]
    return report(statuses, known, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
