"""Feedback HTML that shows each test's points and message, and never a hidden test or solution.

nbgrader's ``generate_feedback`` renders the autograded notebook, whose test
cells were restored from the gradebook *with* their hidden tests, and whose
tracebacks quote the failing lines (nbgrader issues #917, #1363). Here one
preprocessor runs before nbgrader's own (GetGrades, CSSHTMLHeaderPreprocessor):

``HideHiddenTests``
    * the graders' model answers and rubrics (``autograder.grade.rubric``) are removed;
    * test cells show their visible part only; the hidden region becomes one comment;
    * errors in test cells show the learner-friendly message of ``autograder.checks``
      (what was received, what was expected, a hint) instead of a traceback; a
      failure inside the hidden region shows only the check's name;
    * finally every cell source the student did not write, and every output, is
      searched for lines of the chapter's hidden tests and solutions; any such
      line is replaced by ``[hidden]``;
    * an answer cell that still holds nbgrader's solution delimiters was not written
      from the release: it is the instructor's source (a copy of it, or a symlink to it,
      was submitted). Each solution region of such a cell becomes a note, so its
      reference solution or model answer is never shown.

Then nbgrader's ``GetGrades``, extended by ``autograder.grade.feedback_score.GetHandGrades``
(the header's score, written answers "graded by hand"), and the page is rendered by
``autograder.grade.feedback_page.FeedbackHTMLExporter`` (math as MathML, no network).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from nbconvert.exporters import Exporter
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbformat.notebooknode import NotebookNode
from nbgrader.converters import GenerateFeedback
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets import List, Type, Unicode
from traitlets.config import Config

from autograder.grade.feedback_page import TEMPLATE_NAME, TEMPLATES, FeedbackHTMLExporter
from autograder.grade.feedback_score import GetHandGrades
from autograder.grade.rubric import without_rubrics
from autograder.plumbing import (
    EXCHANGE_FILES,
    SOLUTION,
    hidden_line_numbers,
    is_grade,
    is_solution,
    replace_regions,
    visible_source,
)
from autograder.runtime.i18n import N_, _, using

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
CELL_FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")
RED, RESET = "\x1b[0;31m", "\x1b[0m"
MAX_MESSAGE = 2000
#: what replaces a solution region of the instructor's source submitted as an answer
REFERENCE_NOTE = {
    "code": "# (the reference solution is not shown: this cell is the instructor's source, not your answer)",
    "markdown": "*(The model answer is not shown: this cell is the instructor's source, not your answer.)*",
}
GRADER_ERRORS = {"CellTimeoutError", "TimeLimit", "KernelDied", "NotRun"}  # added by the grader, no test text
SEALED_ERROR = "TestFailed"  # a test cell's verdict written by autograder.grade.score

#: what an error in a test cell means for the learner (translated where it is shown)
EXPLAIN = {
    "NotImplementedError": N_(
        "a function this test calls still raises NotImplementedError: write it in its answer cell"
    ),
    "NameError": N_("a name this test uses is not defined: keep (and run) the answer cell that defines it"),
    "CellTimeoutError": N_("the cell ran out of time: look for an endless loop in the functions it calls"),
    "TimeLimit": N_("the notebook ran out of time before this cell finished"),
    "KernelDied": N_(
        "the Python process crashed while running this cell (os._exit, a crash in native code, or too much memory)"
    ),
    "NotRun": N_("this cell did not run because the notebook had stopped earlier"),
}
HIDDEN_TESTS_CHECK = N_(
    "(hidden tests check edge cases: shapes, dtypes, inputs left unchanged, large values, fresh inputs)"
)


def failing_line(output: NotebookNode, execution_count) -> int | None:
    """Line of the test cell where the error was raised, from IPython's traceback."""
    text = ANSI.sub("", "\n".join(output.get("traceback", [])))
    for cell_number, line in CELL_FRAME.findall(text):
        if execution_count is not None and int(cell_number) == execution_count:
            return int(line)
    return None


def friendly_error(output: NotebookNode, hidden: bool) -> NotebookNode:
    ename = output.get("ename", "Error")
    evalue = str(output.get("evalue", "")).strip()
    if hidden:
        if ename == "CheckFailed":
            name = evalue.splitlines()[0].split(": ", 1)[0] if evalue else _("a check")
            lines = [_("A hidden test failed: {name}").format(name=name)]
        else:
            first = evalue.splitlines()[0][:200] if evalue else ""
            lines = [_("A hidden test raised {error}").format(error=ename + (f": {first}" if first else ""))]
        lines.append(_(HIDDEN_TESTS_CHECK))
    else:
        lines = [f"{ename}: {evalue}" if evalue else ename] if ename != "CheckFailed" else evalue.splitlines()
        if ename == "CheckFailed":
            lines[0] = _("Check failed: {message}").format(message=lines[0])
    if ename in EXPLAIN:
        lines.append(_("hint: {hint}").format(hint=_(EXPLAIN[ename])))
    message = "\n".join(lines)[:MAX_MESSAGE]
    first, *rest = message.splitlines() or [""]
    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=message,
        traceback=[f"{RED}{first}{RESET}", *rest],
    )


class HideHiddenTests(NbGraderPreprocessor):
    """Take hidden tests, solutions and tracebacks out of the notebook that becomes feedback."""

    secrets = List(Unicode(), help="lines that must never appear in feedback").tag(config=True)
    public = List(Unicode(), help="lines the release shows (a secret inside one of them is no secret)").tag(config=True)
    display_data_priority = List(GetGrades.display_data_priority.default_value, config=True)  # shared config

    def preprocess(self, nb, resources):
        from autograder.release.translated import submission_language

        without_rubrics(nb)
        with using(submission_language(nb, resources.get("nbgrader", {}).get("assignment", ""))):
            nb, resources = super().preprocess(nb, resources)
        self._redact_secrets(nb)
        return nb, resources

    def preprocess_cell(self, cell, resources, cell_index):
        if is_solution(cell) and SOLUTION.begin in cell.source:
            self.log.warning(
                "feedback: %s holds a solution region (the instructor's source?); not shown",
                cell.metadata.nbgrader.get("grade_id", "a cell"),
            )
            cell.source = replace_regions(cell.source, SOLUTION, REFERENCE_NOTE.get(cell.cell_type, "[hidden]"))
            return cell, resources
        if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
            return cell, resources
        hidden = hidden_line_numbers(cell.source)
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" and output.get("ename") == SEALED_ERROR:
                outputs.append(
                    output
                )  # the grader's own verdict (autograder.grade.score), already written for the learner
            elif output.get("output_type") == "error":
                outputs.append(friendly_error(output, hidden=self._in_hidden_part(output, cell, hidden)))
            else:
                outputs.append(output)
        cell.outputs = outputs
        cell.source = visible_source(cell.source)
        return cell, resources

    @staticmethod
    def _in_hidden_part(output: NotebookNode, cell: NotebookNode, hidden: set[int]) -> bool:
        if output.get("ename") in GRADER_ERRORS or not hidden:
            return False
        line = failing_line(output, cell.get("execution_count"))
        return line in hidden if line is not None else True  # unknown line: assume hidden

    def _redact(self, text: str) -> str:
        if not any(secret in text for secret in self.secrets):
            return text
        public = set(self.public)
        lines = text.split("\n")
        for number, line in enumerate(lines):
            if line.strip() in public:
                continue
            for secret in self.secrets:
                if secret in line:
                    self.log.warning("feedback: removed a line of a hidden test or solution")
                    line = line.replace(secret, "[hidden]")
            lines[number] = line
        return "\n".join(lines)

    def _redact_secrets(self, nb) -> None:
        for cell in nb.cells:
            written_by_student = is_solution(cell)
            if not written_by_student:
                cell.source = self._redact(cell.source)
            for output in cell.get("outputs", []):
                if "text" in output:
                    output.text = self._redact(output.text)
                if "evalue" in output:
                    output.evalue = self._redact(output.evalue)
                    output.traceback = [self._redact(line) for line in output.get("traceback", [])]
                for mime, value in (output.get("data") or {}).items():
                    if isinstance(value, str) and mime.startswith("text/"):
                        output.data[mime] = self._redact(value)


class FeedbackGenerator(GenerateFeedback):
    """nbgrader's GenerateFeedback: ``HideHiddenTests`` first, the course's template, only the HTML file."""

    preprocessors = List([HideHiddenTests, GetHandGrades, CSSHTMLHeaderPreprocessor]).tag(config=True)
    exporter_class = Type(FeedbackHTMLExporter, klass=Exporter).tag(config=True)

    def __init__(self, coursedir=None, **kwargs) -> None:
        super().__init__(coursedir=coursedir, **kwargs)
        nbgrader_templates = self.config.HTMLExporter.extra_template_basedirs  # set by GenerateFeedback
        config = Config()
        config.HTMLExporter.template_name = TEMPLATE_NAME
        config.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), *nbgrader_templates]
        # searched by name too, so that the course's template can extend 'feedback/index.html.j2'
        config.HTMLExporter.extra_template_paths = [*self.config.HTMLExporter.extra_template_paths, *nbgrader_templates]
        self.update_config(config)

    def init_assignment(self, assignment_id: str, student_id: str) -> None:
        """nbgrader copies every file of the autograded folder; here only what `release_feedback` reads."""
        source = Path(self._format_source(assignment_id, student_id))
        dest = Path(self._format_dest(assignment_id, student_id))
        for name in EXCHANGE_FILES:
            if (source / name).is_file():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, dest / name)
