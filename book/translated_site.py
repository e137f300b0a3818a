"""The website in another language: its configuration, table of contents and pages, translated.

``book/build.py`` renders every language of ``book/locale/languages.yml`` after English, into
``<output>/<language>/``, from the same executed chapters (nothing is executed again) and with
Sphinx's ``language`` set (Sphinx's and the theme's own words). What the language changes:

* ``config(text, language)``: ``_config.yml`` with its title and footer translated (site catalog);
* ``toc(toc, language)``: ``_toc.yml`` with its part captions translated;
* ``page(name, text, language)``: a page's Markdown, unit by unit, with the page's catalog;
* ``summary(language, domains)``: how much of each catalog the site shows translated, for the log.

The chapters' pages and the assignment box are translated by ``book.staging``; the language
switcher on every page is ``book/ext/course_site.py``'s.
"""

from __future__ import annotations

import yaml

from autograder.release import catalogs


def config(text: str, language: str) -> bytes:
    """``_config.yml`` for ``language``: translated title and footer."""
    site = catalogs.load(language, catalogs.SITE)
    data = yaml.safe_load(text)
    data["title"] = site.text(data["title"])
    html = data.setdefault("html", {})
    if html.get("extra_footer"):
        html["extra_footer"] = site.text(html["extra_footer"].strip())
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def toc(toc_dict: dict, language: str) -> bytes:
    """The table of contents (sphinx-external-toc's dict) with its part captions translated."""
    site = catalogs.load(language, catalogs.SITE)
    for part in toc_dict.get("parts", []):
        if part.get("caption"):
            part["caption"] = site.text(part["caption"])
    return yaml.safe_dump(toc_dict, sort_keys=False, allow_unicode=True).encode()


def page(name: str, text: str, language: str) -> bytes:
    """A page (``intro``, ``book/glossary``) in ``language``: each unit its catalog translates."""
    return catalogs.load(language, name).markdown(text).encode()


def summary(language: str, domains: list[str]) -> str:
    """"12 of 18 catalogs complete" and the number of strings in English still, for the build's log."""
    from book import translation_sources

    done, left = 0, 0
    for domain in domains:
        template = translation_sources.template(domain)
        have = catalogs.load(language, domain).entries
        missing = sum(1 for m in template if m.id and (m.context, m.id) not in have)
        done += missing == 0
        left += missing
    return f"{done} of {len(domains)} catalogs complete; {left} strings not translated yet (shown in English)"
