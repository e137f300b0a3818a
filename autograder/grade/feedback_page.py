"""The feedback page as one self-contained HTML file: math written as MathML, no script, no network.

nbgrader's feedback template loads MathJax 2 from a CDN, so offline every formula shows
as raw TeX. Here the page is rendered by ``FeedbackHTMLExporter``:

* every ``$...$``, ``$$...$$`` and ``\\begin{...}`` of a markdown cell (and of a
  ``text/latex`` or ``text/markdown`` output) becomes MathML when the page is written,
  by math-core (TeX to MathML Core, the MathML that Chromium, Firefox and Safari
  render natively). ``bench/feedback_math.py`` compares it with the website's MathJax
  3.2.2 on every formula of the ten chapters. TeX that math-core cannot read stays
  visible as TeX (a student's typo in a written answer must not hide the answer);
* the template is ``templates/autograder_feedback/``: nbgrader's feedback template
  extended (see its ``index.html.j2``), with the page's stylesheet in place of the
  MathJax script.

A page needs nothing else: figures are inline PNGs, styles are inline, so the file can
travel alone (``nbgrader release_feedback``, an LMS upload, an e-mail).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from jinja2 import BytecodeCache, pass_context
from jinja2.bccache import Bucket
from math_core import LatexError, LatexToMathML
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

from autograder.grade.feedback_score import points_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE_NAME = "autograder_feedback"

IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_CONVERTER = LatexToMathML()


def tex_to_mathml(tex: str, display: bool) -> str:
    """MathML for one formula; TeX math-core cannot read is shown as TeX, marked ``tex-error``."""
    try:
        return _CONVERTER.convert_with_local_state(tex, displaystyle=display)
    except LatexError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable TeX"
        delimiter = "$$" if display else "$"
        return (
            f'<code class="tex-error" title="{html.escape(reason)}">{html.escape(delimiter + tex + delimiter)}</code>'
        )


class MathMLRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, with math written as MathML instead of left for MathJax."""

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, display=True)

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body, display=False)

    def latex_environment(self, name: str, body: str) -> str:
        return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in memory for the life of the process.

    A worker writes a feedback page per submission, each with a new exporter and so a new
    Jinja environment, which would parse and compile the same dozen templates every time.
    Jinja checks each template's source against the checksum kept with its code.
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = CompiledTemplates()


class FeedbackHTMLExporter(HTMLExporter):
    """nbconvert's HTMLExporter with math as MathML, and without its BeautifulSoup pass over the page.

    That pass (alt text on images, tab stops for the lab template) parses the whole
    page again and takes half the time of a feedback page; nbgrader's feedback
    template is the classic one, so only the alt text applies, added here directly.
    """

    @pass_context
    def markdown2html(self, context, source):
        """nbconvert's filter of the same name, with ``MathMLRenderer``."""
        cell = context.get("cell", {})
        path = context.get("resources", {}).get("metadata", {}).get("path", "")
        renderer = MathMLRenderer(
            escape=False,
            attachments=cell.get("attachments", {}),
            embed_images=self.embed_images,
            path=path,
            anchor_link_text=self.anchor_link_text,
            exclude_anchor_links=self.exclude_anchor_links,
            **self.lexer_options,
        )
        return MarkdownWithMath(renderer=renderer).render(source)

    def _create_environment(self):
        environment = super()._create_environment()
        environment.bytecode_cache = _COMPILED
        return environment

    def default_filters(self):
        yield from super().default_filters()
        yield ("markdown2html", self.markdown2html)
        yield ("points", points_text)

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name", None))
        resources = self._init_resources(resources)
        self.register_filter(
            "highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        )
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
        )
        page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return IMG_WITHOUT_ALT.sub('<img alt="figure"', page), resources
