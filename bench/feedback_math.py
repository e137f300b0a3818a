"""Math in feedback pages: does TeX written as MathML render as the website's MathJax does?

Every ``$...$``, ``$$...$$`` and ``\\begin{...}`` of the ten chapters' markdown, found by
nbconvert's markdown parser (the one that renders feedback pages), is converted by each
candidate and compared with the MathML that the website's own MathJax 3.2.2
(``book/extra/mathjax``, ``MathJax.tex2mmlPromise``, run in Debian's Chromium) makes of
it. Compared is what Chromium draws from each MathML, formula by formula:

* glyphs: every character of every token, in order, with its style: italic for a
  one-letter ``<mi>``, a ``mathvariant`` as MathJax means it, but for a candidate only what
  Chromium honours (MathML Core: ``mathvariant="normal"``; ``bold``, ``monospace``... are
  ignored, so ``\\mathbf{x}`` must be the character 𝐱). Equivalent glyphs are equal
  (``-`` and ``−``, ``…`` and ``...``, accents as combining or spacing characters);
* layout: the sequence of fractions, roots, scripts and table cells;
* display style of each fraction and large operator (``\\tfrac`` inside ``$$``);
* size of each fence: stretchy (``\\left(``), fixed (``\\big(``, its size), or not stretchy;
* no ``<merror>``, no TeX command left as text, no conversion error.

Candidates: math-core (what ``autograder.grade.feedback_page`` uses) and, when installed,
latex2mathml. Also printed: milliseconds per formula and MathML bytes per formula.

    .venv/bin/python bench/feedback_math.py [--show N]

Measured (math-core 0.9.0, latex2mathml 3.81.1, Chromium 156): 1515 formulas (920
different). math-core renders all 1515 as MathJax does (0.01 to 0.02 ms and about 150
bytes per formula; 13 formulas with ``\\dots`` get LaTeX's three spaced periods where
MathJax draws the one character ``…``, counted as the same); latex2mathml 1418 (93.6%; 83
different formulas differ: ``\\Delta`` italic, ``\\mathrm`` and ``\\mathtt`` lost, ``aligned``
broken, ``\\sim`` drawn as a tilde, ``\\bigl\\{`` left as TeX).
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

LEAVES = {"mi", "mn", "mo", "mtext", "ms"}
SCRIPTS = {"msub", "msup", "msubsup", "munder", "mover", "munderover", "mmultiscripts"}
INVISIBLE = set("\u2061\u2062\u2063\u2064 \u00a0\u200b\ufe00\ufe01\n\t")
SAME_GLYPH = {
    "-": "\u2212", "\u2013": "\u2212", "*": "\u2217", "'": "\u2032", "^": "\u02c6", "\u0302": "\u02c6", "~": "\u02dc",
    "\u0303": "\u02dc", "\u203e": "\u00af", "\u0304": "\u00af", "\u2015": "\u00af", "\u2223": "|", "\u2225": "\u2016",
    "\u00b7": "\u22c5", "\u2236": ":", "\u0307": "\u02d9", "\u27f6": "\u2192", "\u27f5": "\u2190", "\u2a7d": "\u2264",
    "\u2a7e": "\u2265", "\u2026": "...", "\u22ef": "\u22c5\u22c5\u22c5",
}
FENCES = set("()[]{}|\u2016\u2308\u2309\u230a\u230b\u27e8\u27e9")
LARGE_OPERATORS = set("\u2211\u220f\u222b")
STYLE_WORDS = ["BOLD ITALIC", "BOLD SCRIPT", "BOLD FRAKTUR", "SANS-SERIF BOLD ITALIC", "SANS-SERIF BOLD",
               "SANS-SERIF ITALIC", "SANS-SERIF", "DOUBLE-STRUCK", "MONOSPACE", "FRAKTUR", "SCRIPT", "BOLD", "ITALIC"]
LETTERLIKE = {"\u210e": ("italic", "h"), "\u2112": ("script", "L"), "\u211b": ("script", "R"),
              "\u211d": ("double-struck", "R"), "\u2115": ("double-struck", "N"), "\u2124": ("double-struck", "Z"),
              "\u2130": ("script", "E"), "\u2131": ("script", "F"), "\u210b": ("script", "H"),
              "\u2133": ("script", "M"), "\u212c": ("script", "B")}
MATHJAX_VARIANT = {"bold-italic": "bold italic", "-tex-calligraphic": "script", "-tex-bold-calligraphic": "bold script",
                   "-tex-bold-italic": "bold italic", "bold-sans-serif": "sans-serif bold",
                   "sans-serif-italic": "sans-serif italic", "-tex-mathit": "italic"}


def chapter_formulas() -> list[tuple[bool, str]]:
    """(display, TeX) of every formula of the chapters' markdown cells, as the feedback page finds them."""
    import nbformat
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    found: list[tuple[bool, str]] = []

    class Collect(IPythonRenderer):
        def block_math(self, body):
            found.append((True, body))
            return ""

        def inline_math(self, body):
            found.append((False, body))
            return ""

        def latex_environment(self, name, body):
            found.append((True, f"\\begin{{{name}}}{body}\\end{{{name}}}"))
            return ""

    for path in sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                MarkdownWithMath(renderer=Collect(escape=False)).render(cell.source)
    return found


def mathjax_mathml(formulas: list[tuple[bool, str]]) -> list[str]:
    """MathJax 3.2.2's MathML of each formula: the website's MathJax, in Chromium."""
    from playwright.sync_api import sync_playwright
    from website_tools import CHROMIUM, CHROMIUM_ARGS, SiteServer

    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder)
        (site / "mathjax").symlink_to(ROOT / "book" / "extra" / "mathjax")
        (site / "index.html").write_text(
            "<!DOCTYPE html><html><head><script>window.MathJax = {startup: {typeset: false}};</script>"
            '<script src="mathjax/tex-chtml.js"></script></head><body></body></html>')
        with SiteServer(site) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{server.url}/index.html")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            result = page.evaluate("""async (items) => { await MathJax.startup.promise; const out = [];
                for (const [display, tex] of items) {
                  try { out.push(await MathJax.tex2mmlPromise(tex, {display})); }
                  catch (e) { out.push('ERROR ' + e.message); }
                } return out; }""", [list(f) for f in formulas])
            browser.close()
    return result


def _glyph(char: str, variant: str | None) -> tuple[str, str]:
    if char in LETTERLIKE:
        return LETTERLIKE[char]
    name = unicodedata.name(char, "")
    if name.startswith("MATHEMATICAL "):
        for word in STYLE_WORDS:
            if name[len("MATHEMATICAL "):].startswith(word + " "):
                return word.lower(), unicodedata.normalize("NFKC", char)
    char = SAME_GLYPH.get(char, char)
    has_italic = len(char) == 1 and char.isalpha() and (char.isascii() or "GREEK" in name)
    if variant is None:
        return ("italic" if has_italic else "normal"), char
    if variant == "normal" or not char.isalnum() or (variant == "italic" and not has_italic):
        return "normal", char
    return variant, char


def _display(element, block: bool) -> bool:
    if element.has_attr("displaystyle"):
        return element["displaystyle"] == "true"
    child, node = element, element.parent
    while node is not None and node.name != "math":
        first = next((c for c in node.children if getattr(c, "name", None)), None)
        if node.name == "mfrac" or (node.name in SCRIPTS and child is not first) or node.name == "mtable":
            return False
        if node.has_attr("displaystyle"):
            return node["displaystyle"] == "true"
        child, node = node, node.parent
    return block


def rendering(mathml: str, by_chromium: bool) -> dict | None:
    """What a MathML string draws: glyphs, layout, display styles, fences, problems."""
    from bs4 import BeautifulSoup

    math = BeautifulSoup(mathml, "html.parser").find("math")
    if math is None:
        return None
    block = math.get("display") == "block"
    drawn = {"glyphs": [], "layout": [], "display": [], "fences": [], "problems": []}
    for element in math.find_all(True):
        name = element.name
        if name == "merror":
            drawn["problems"].append("merror")
        if name == "mfrac":
            drawn["layout"].append(name)
            drawn["display"].append(("fraction", _display(element, block)))
        elif name in ("msqrt", "mroot", "mtable", "mtr", "mtd"):
            drawn["layout"].append(name)
        elif name in SCRIPTS:
            drawn["layout"].append("script")
        if name not in LEAVES:
            continue
        text = element.get_text()
        if "\\" in text and name != "mtext":
            drawn["problems"].append(f"TeX left as text: {text}")
        variant = element.get("mathvariant")
        letters = [c for c in text if c not in INVISIBLE]
        if variant is None and (name != "mi" or len(letters) > 1):
            variant = "normal"
        elif by_chromium and variant not in (None, "normal"):
            variant = None if name == "mi" and len(letters) == 1 else "normal"  # Chromium ignores other values
        elif variant is not None:
            variant = MATHJAX_VARIANT.get(variant, variant)
        for char in letters:
            style, shown = _glyph(char, variant)
            drawn["glyphs"].extend((style, c) for c in shown)
        if name == "mo":
            symbol = SAME_GLYPH.get(text.strip(), text.strip())
            if symbol in FENCES:
                drawn["fences"].append((symbol, element.get("minsize") or element.get("stretchy") or "true"))
            if symbol in LARGE_OPERATORS:
                drawn["display"].append(("operator", _display(element, block)))
    return drawn


def differences(reference: dict, candidate: dict | None) -> list[str]:
    if candidate is None:
        return ["no <math> element"]
    return candidate["problems"] + [key for key in ("glyphs", "layout", "display", "fences")
                                    if reference[key] != candidate[key]]


def candidates() -> dict:
    from math_core import LatexToMathML

    converter = LatexToMathML()
    found = {"math-core": lambda tex, display: converter.convert_with_local_state(tex, displaystyle=display)}
    try:
        from latex2mathml.converter import convert
    except ImportError:
        print("(latex2mathml is not installed: pip install latex2mathml to compare it too)")
    else:
        found["latex2mathml"] = lambda tex, display: convert(tex, display="block" if display else "inline")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", type=int, default=5, help="formulas to show per candidate that render differently")
    args = parser.parse_args()
    formulas = chapter_formulas()
    unique = sorted(set(formulas))
    count = collections.Counter(formulas)
    references = mathjax_mathml(unique)
    broken = [tex for (_, tex), mathml in zip(unique, references, strict=True)
              if mathml.startswith("ERROR") or "merror" in mathml]
    print(f"{len(formulas)} formulas in the ten chapters ({len(unique)} different); "
          f"MathJax 3.2.2 fails on {len(broken)}")
    for name, convert in candidates().items():
        wrong, seconds, size = [], 0.0, 0
        for (display, tex), reference in zip(unique, references, strict=True):
            started = time.perf_counter()
            try:
                mathml = convert(tex, display)
            except Exception as error:  # noqa: BLE001 - a candidate's failure is a result
                mathml, why = None, [f"error: {str(error).strip().splitlines()[0][:120]}"]
            seconds += time.perf_counter() - started
            if mathml is not None:
                size += len(mathml.encode()) * count[(display, tex)]
                why = differences(rendering(reference, by_chromium=False), rendering(mathml, by_chromium=True))
            if why:
                wrong.append((tex, why))
        right = sum(count[f] for f in unique) - sum(count[f] for f in unique if f[1] in {t for t, _ in wrong})
        print(f"\n{name}: {right}/{len(formulas)} formulas render as MathJax's ({right / len(formulas):.1%}); "
              f"{len(unique) - len(wrong)}/{len(unique)} different ones; {seconds / len(unique) * 1e3:.3f} ms "
              f"and {size / len(formulas):.0f} bytes per formula")
        if wrong:
            print("  what differs:", dict(collections.Counter(w.split(":")[0] for _, why in wrong for w in why)))
        for tex, why in wrong[: args.show]:
            print(f"  {' '.join(tex.split())[:90]!r}: {', '.join(why)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
