"""What a student meets when an answer is wrong: a short block, in JupyterLab and in Validate.

One chapter (03_activations), released with ``python -m autograder release``'s own code.
The "student" has written every answer, but ``relu_backward`` drops ``dout`` (``(x > 0) * 1.0``,
float64 and wrong), and ``elu`` has a bug of their own (a ``TypeError``):

* nbgrader's ``Validator``, called as its JupyterLab handler calls it, reports the failed
  visible check as a short block: the check's name, the wrong values first (not the dtype),
  received, expected, hint and the test cell's line; no frame of the checking helper, no
  path. The student's own ``TypeError`` keeps IPython's usual traceback through their code.
* In a real JupyterLab 4 (Debian's chromium through Playwright), the student edits
  ``relu_backward`` in the browser, runs all cells and presses nbgrader's *Validate* button:
  the failing cell's output and the Validate dialog show that block. Screenshots go to
  ``_build/screenshots/learner_messages_*.png``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from website_tools import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

from autograder.course import Chapter, CourseDir
from autograder.release.assignment import release_chapter
from autograder.release.samples import filled

pytestmark = [pytest.mark.autograder, pytest.mark.slow, pytest.mark.ch03]

CHAPTER = "03_activations"
CHECK = "relu_backward on a small example"
RIGHT_RELU_BACKWARD = "return dout * (x > 0)"
DROPPED_DOUT = "return (x > 0) * 1.0"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def plain(text: str) -> str:
    return ANSI.sub("", text)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """The chapter's release, with every answer of the reference filled in (a student who did the work)."""
    course = CourseDir(tmp_path_factory.mktemp("learner-messages") / "course")
    folder = release_chapter(course, Chapter.resolve(CHAPTER))
    path = folder / f"{CHAPTER}.ipynb"
    source = nbformat.read(Chapter.resolve(CHAPTER).path, as_version=4)
    nbformat.write(filled(nbformat.read(path, as_version=4), source), path)
    return folder


def answer_cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def assert_short_block(text: str, where: str) -> None:
    """The failed check as a learner should see it, in ``text`` (ANSI codes removed)."""
    lines = [line for line in plain(text).strip().splitlines() if line.strip()]
    assert lines[0] == f"Check failed: {CHECK}", f"{where}: the block does not open with the check:\n{text}"
    assert lines[1].strip().startswith("2 of 4 values differ; the largest difference is at index (0, 3): "
                                       "received 1, expected 4, off by 3"), f"{where}: not the values first:\n{text}"
    assert any(line.strip().startswith("received: [[0., 0., 1., 1.]]") for line in lines), f"{where}:\n{text}"
    assert any(line.strip().startswith("expected: [[0., 0., 3., 4.]]") for line in lines), f"{where}:\n{text}"
    assert any(line.strip().startswith("hint: pass dout through") for line in lines), f"{where}:\n{text}"
    assert re.search(r"Cell In\[\d+\], line 3: check_close\(", lines[-1]), f"{where}: no test cell line:\n{text}"
    assert len(lines) == 6, f"{where}: {len(lines)} lines, expected a 6-line block:\n{text}"
    for frame_or_path in ("Traceback", "checks.py", "_fail", "dtype", "/tmp", "site-packages", str(Path.home())):
        assert frame_or_path not in plain(text), f"{where}: {frame_or_path!r} in the block:\n{text}"


def test_validate_reports_a_failed_check_as_a_short_block_and_student_errors_with_their_traceback(release, tmp_path):
    from nbgrader.validator import Validator
    from traitlets.config import Config

    path = tmp_path / f"{CHAPTER}.ipynb"
    for item in release.iterdir():  # the release folder as a student has it
        if item.is_dir():
            (tmp_path / item.name).symlink_to(item)
    nb = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    backward = answer_cell(nb, "backward_answer")
    backward.source = backward.source.replace(RIGHT_RELU_BACKWARD, DROPPED_DOUT)
    elu = answer_cell(nb, "elu_answer")
    elu.source = elu.source.replace('"""\n', '"""\n    x = x + "1"  # a bug of the student\'s own\n', 1)
    assert DROPPED_DOUT in backward.source and 'x + "1"' in elu.source
    nbformat.write(nb, path)

    results = Validator(config=Config()).validate(str(path))  # as nbgrader's JupyterLab handler does

    failed = {item["source"].splitlines()[0]: item for item in results["failed"]}
    backward_tests = next(item for first, item in failed.items() if first.startswith("x_small = np.array([[-2.0"))
    assert_short_block(backward_tests["raw_error"], "Validate (raw)")
    html_text = re.sub(r"<[^>]+>", "", backward_tests["error"]).replace("&gt;", ">").replace("&#34;", '"')
    assert_short_block(html_text, "Validate (HTML)")

    elu_tests = next(item for item in results["failed"] if "elu on" in item["source"] or "elu(" in item["source"])
    own = plain(elu_tests["raw_error"])
    assert "Traceback (most recent call last)" in own and "TypeError" in own, own
    assert 'x = x + "1"' in own and "Check failed" not in own, own  # IPython's frames through the student's code


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def jupyterlab(release, tmp_path_factory):
    """JupyterLab 4 serving the release folder, in a home of its own; yields its URL and token."""
    home = tmp_path_factory.mktemp("jupyterlab-home")
    port, token = free_port(), "learner-messages"
    env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"), "MPLBACKEND": "Agg",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (home / "jupyterlab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={release}", "--ServerApp.ip=127.0.0.1",
         "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=release, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{(home / 'jupyterlab.log').read_text()[-4000:]}",
                                pytrace=False)
                time.sleep(0.5)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_jupyterlab_cell_output_and_validate_dialog_show_the_short_block(release, jupyterlab):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} does not exist: install Debian's chromium (`make browser`); "
                    "never run `playwright install`", pytrace=False)
    url, token = jupyterlab
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/lab/tree/{CHAPTER}.ipynb?token={token}")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=120_000)
            news = page.locator(".jp-toast-button", has_text="No")  # "notified about official Jupyter news?"
            if news.count():
                news.first.click()

            # the student breaks relu_backward in the editor: dout is dropped
            line = page.locator(".jp-Cell .cm-line", has_text=RIGHT_RELU_BACKWARD)
            line.scroll_into_view_if_needed()
            line.click()
            page.keyboard.press("End")
            page.keyboard.press("Shift+Home")
            page.keyboard.type(DROPPED_DOUT)
            page.locator(".jp-Cell .cm-line", has_text=DROPPED_DOUT).wait_for()

            # Run All: execution stops at the failing test cell
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            output = page.locator(".jp-OutputArea-output", has_text=f"Check failed: {CHECK}")
            output.wait_for(timeout=300_000)
            cell = page.locator(".jp-Notebook .jp-Cell", has=output)
            cell.scroll_into_view_if_needed()
            cell.screenshot(path=str(SCREENSHOTS / "learner_messages_cell.png"))
            assert_short_block(output.inner_text(), "the cell's output in JupyterLab")

            # nbgrader's Validate button: it saves the notebook, runs it and opens a dialog
            page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
            dialog = page.locator(".jp-Dialog", has_text="Validation Results")
            dialog.wait_for(timeout=600_000)
            failure = dialog.locator(".jp-RenderedText pre", has_text=f"Check failed: {CHECK}")
            failure.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "learner_messages_validate.png"))
            failure.screenshot(path=str(SCREENSHOTS / "learner_messages_validate_error.png"))
            assert_short_block(failure.inner_text(), "the Validate dialog")
        finally:
            browser.close()
    saved = nbformat.read(release / f"{CHAPTER}.ipynb", as_version=4)
    assert DROPPED_DOUT in answer_cell(saved, "backward_answer").source, "the edit made in the browser was not saved"
