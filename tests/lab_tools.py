"""Helpers for the browser tests of JupyterLab: a real server on loopback, driven by Debian's chromium.

Start the server with ``EXPOSE_APP`` among its arguments: ``Notebook`` reads the notebook's
state (kernel status, running cells) from JupyterLab's own model, not from the page's text.

``LabServer`` starts ``jupyter lab`` (or ``nbgrader formgrader``) in a folder on 127.0.0.1 with a
token, waits until it answers, and stops it with its kernels. ``chromium`` launches the browser
the website tests use (never ``playwright install``). ``Notebook`` wraps the few JupyterLab actions
the tests take: open a notebook, wait for the kernel, type into a cell, run, press a toolbar button.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from website_tools import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

STARTUP_SECONDS = 180
EXPOSE_APP = "--LabApp.expose_app_in_browser=True"  # window.jupyterapp, for Notebook.state


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """``command`` (a Jupyter server application) in ``folder``, on 127.0.0.1, until the block ends."""

    def __init__(self, command: list[str], folder: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port, self.token = free_port(), secrets.token_hex(12)
        self.command = [*command, "--no-browser", f"--port={self.port}", "--ServerApp.ip=127.0.0.1",
                        f"--IdentityProvider.token={self.token}", "--ServerApp.port_retries=0"]
        self.folder, self.log, self.env = folder, log, env
        self.process: subprocess.Popen | None = None

    def url(self, path: str = "lab") -> str:
        separator = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{separator}token={self.token}"

    def __enter__(self) -> LabServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("w")
        env = {**os.environ, **(self.env or {})}
        self.process = subprocess.Popen(self.command, cwd=self.folder, stdout=handle, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.command[0]} exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"{' '.join(self.command)} did not answer within {STARTUP_SECONDS} s:\n"
                           f"{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@contextmanager
def chromium(viewport=(1400, 1000)):
    """A fresh page of Debian's chromium, with the page's console errors collected in ``page.errors``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
            page.errors = []
            page.on("pageerror", lambda error: page.errors.append(str(error)))
            yield page
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class Notebook:
    """One notebook open in JupyterLab 4, and the actions a student takes on it."""

    def __init__(self, page, server: LabServer, name: str) -> None:
        self.page, self.server, self.name = page, server, name

    def open(self) -> Notebook:
        self.page.goto(self.server.url(f"lab/tree/{self.name}?reset"))  # a fresh workspace: this notebook only
        self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=120_000)
        self.wait_idle()
        return self

    #: the notebook's state from JupyterLab's own model (the server runs with --LabApp.expose_app_in_browser)
    STATE_JS = """() => {
        const panel = window.jupyterapp.shell.currentWidget;
        if (!panel || !panel.content || !panel.content.model || !panel.sessionContext.session) return null;
        const kernel = panel.sessionContext.session.kernel;
        const code = Array.from(panel.content.model.cells).filter(cell => cell.type === 'code');
        return {kernel: kernel ? kernel.status : null,
                running: code.filter(cell => cell.executionState === 'running').length,
                counts: code.map(cell => cell.executionCount)};
    }"""

    def state(self) -> dict | None:
        return self.page.evaluate(self.STATE_JS)

    def wait_idle(self, timeout_s: float = 300) -> dict:
        """Until the kernel is idle and no cell is queued or running; returns the notebook's state."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = self.state()
            if state and state["kernel"] == "idle" and state["running"] == 0:
                return state
            time.sleep(0.5)
        raise TimeoutError(f"{self.name}: the kernel was still busy after {timeout_s} s: {self.state()}")

    def cell(self, text: str):
        """The (first) cell whose text contains ``text``."""
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", has_text=text).first

    def text_of(self, cell_text: str) -> str:
        """What the cell holding ``cell_text`` shows, outputs included (scrolled into view first:
        JupyterLab does not render the cells far outside the window)."""
        cell = self.cell(cell_text)
        cell.scroll_into_view_if_needed()
        self.page.wait_for_timeout(300)
        return cell.inner_text()

    def run_cell(self, cell_text: str) -> dict:
        """Click into the cell holding ``cell_text`` and run it with Shift+Enter, as a student does."""
        cell = self.cell(cell_text)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        time.sleep(0.5)
        return self.wait_idle()

    def replace_line(self, cell_text: str, line_text: str, lines: list[str]) -> None:
        """Click the line holding ``line_text`` in the cell holding ``cell_text``, and type ``lines`` over it.

        Each line is typed key by key; Enter lets the editor indent the next one, as for a person.
        """
        line = self.cell(cell_text).locator(".cm-line", has_text=line_text).first
        line.click()
        self.page.keyboard.press("End")
        self.page.keyboard.press("Shift+Home")
        for number, text in enumerate(lines):
            if number:
                self.page.keyboard.press("Enter")
            self.page.keyboard.type(text)
        self.page.keyboard.press("Escape")

    def menu(self, *path: str) -> None:
        """Click through the menu bar: ``menu("Run", "Run All Cells")``."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=path[0]).first.click()
        for label in path[1:]:
            self.page.locator(".lm-Menu-itemLabel", has_text=label).first.click()

    def run_all(self) -> dict:
        """Run > Run All Cells, until it is done (JupyterLab stops at the first error)."""
        self.menu("Run", "Run All Cells")
        time.sleep(1)
        return self.wait_idle()

    def save(self) -> None:
        self.page.keyboard.press("Control+s")
        self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-mod-dirty", state="detached",
                                    timeout=30_000)

    def validate(self, timeout_s: float = 300) -> str:
        """Press Validate; returns the text of its dialog once it shows (the dialog stays open)."""
        toolbar = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar").first
        toolbar.get_by_text("Validate", exact=True).click()
        dialog = self.page.locator(".jp-Dialog #validation-message")
        dialog.wait_for(timeout=timeout_s * 1000)
        return dialog.inner_text()

    def close_dialog(self) -> None:
        self.page.locator(".jp-Dialog .jp-mod-accept").click()
        self.page.locator(".jp-Dialog").wait_for(state="detached")
