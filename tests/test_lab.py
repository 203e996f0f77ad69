"""The chapters in JupyterLab, as a reader runs them: the README's ``./dev lab``.

The server is started by ``./dev lab`` itself, from the ``.venv`` that ``./dev`` sets up, in a
pseudo-terminal, headless, on a free local port, with its own runtime, config and workspace
folders. Headless Chromium opens a chapter and waits until its title is shown in the notebook
view; its MyST exercises, solutions and admonitions are drawn by jupyterlab-myst as boxes, not
shown as raw directives; a chapter runs cell by cell through a kernel the server started; the
chapters' first cell stops with one line when ``ddpg_tutorial`` cannot be imported. Last, Ctrl-C
stops the server, and nothing it started may still be running. Select these tests with ``-m lab``.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
import websocket

from check_html import CHROMIUM_FLAGS, normalize, notebook_title

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parent.parent
BOOK = REPO / "book"
VENV = REPO / ".venv"
BROWSER_CHAPTER = "01_introduction.ipynb"
KERNEL_CHAPTER = "02_pendulum.ipynb"  # the quickest chapter with an assert (3 s on 2 cores)
SCREENSHOT_COPY = REPO / "_build" / "lab-screenshot.png"
START_TIMEOUT_S = 90
PAGE_TIMEOUT_S = 90
CELL_TIMEOUT_S = 120
STOP_TIMEOUT_S = 30
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\(B")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check, timeout: float, interval: float = 0.25):
    """Call ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# The server ---------------------------------------------------------------------------------

class Lab:
    """``./dev lab`` in a pseudo-terminal of its own, so that Ctrl-C is a real Ctrl-C."""

    def __init__(self, workdir: Path, *options: str) -> None:
        self.port, self.token = free_port(), ""  # the token: the one ./dev lab prints
        env = dict(os.environ)
        for name, folder in [("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                             ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                             ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")]:
            env[name] = str(workdir / folder)
        # No pop-up asking whether to fetch Jupyter news (the test machine has no network), and
        # no autosave: the tests must leave the chapters as they are.
        for plugin, setting in [("apputils-extension/notification", '{"fetchNews": "false"}'),
                                ("docmanager-extension/plugin", '{"autosave": false}')]:
            path = workdir / f"settings/@jupyterlab/{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(setting)
        command = ["./dev", "lab", f"--port={self.port}", "--ServerApp.port_retries=0",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", *options]
        master, slave = os.openpty()
        # setsid --ctty: a session of its own whose controlling terminal is the pty, as in a shell.
        self.proc = subprocess.Popen(["setsid", "--ctty", *command], cwd=REPO, env=env,
                                     stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        self.master, self.chunks = master, []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.started: list[psutil.Process] = []

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:  # EIO: every process holding the terminal has gone
                return
            if not data:
                return
            self.chunks.append(data)

    @property
    def output(self) -> str:
        return ANSI.sub("", b"".join(self.chunks).decode(errors="replace")).replace("\r", "")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def api(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            self.url(path), method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None

    def wait_until_ready(self) -> None:
        """Wait for the URL to open, as a reader would; then the server must answer."""
        def url_printed():
            if self.proc.poll() is not None:
                pytest.fail(f"./dev lab exited with status {self.proc.returncode}:\n{self.output}")
            return re.search(rf"http://127\.0\.0\.1:{self.port}/lab\?token=(\w+)", self.output)
        self.token = wait_for("./dev lab to print its URL", url_printed, START_TIMEOUT_S)[1]
        assert self.api("GET", "/api/status")["started"]

    def ctrl_c(self) -> int | None:
        """Press Ctrl-C in the server's terminal; its exit status, or None if it did not stop."""
        if self.proc.poll() is None:
            self.started = self.proc_tree()
            os.write(self.master, b"\x03")
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                return None
        return self.proc.returncode

    def proc_tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def left_behind(self) -> list[psutil.Process]:
        """What the server started that is still running, a few seconds after it stopped."""
        _, alive = psutil.wait_procs(self.started, timeout=10)
        return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]

    def kill(self) -> None:
        """Whatever happened: nothing of the server's may outlive the tests."""
        if self.proc.poll() is None:
            self.started = self.proc_tree()
            os.killpg(self.proc.pid, signal.SIGKILL)
        for proc in self.started:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(10)
        os.close(self.master)
        self.reader.join(5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if Path(sys.prefix).resolve() != VENV.resolve():
        pytest.skip("the JupyterLab tests start ./dev lab from .venv: run them with ./dev test")
    server = Lab(tmp_path_factory.mktemp("lab"))
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.ctrl_c()
        server.kill()


# A kernel of the server's, over its websocket -----------------------------------------------

class Kernel:
    """Runs code in a kernel of the server, over the websocket JupyterLab uses."""

    def __init__(self, lab: Lab, kernel_id: str) -> None:
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{lab.port}/api/kernels/{kernel_id}/channels?session_id={self.session}",
            header=[f"Authorization: token {lab.token}"], timeout=CELL_TIMEOUT_S)

    def execute(self, code: str) -> tuple[dict, list[dict]]:
        """The execute_reply's content and the cell's outputs, as the notebook would get them."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": "test", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        reply, outputs, idle = None, [], False
        while reply is None or not idle:
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "execute_reply":
                reply = msg["content"]
            elif kind == "status":
                idle = msg["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append({"output_type": kind, **msg["content"]})
        return reply, outputs

    def close(self) -> None:
        self.ws.close()


def text_of(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


def errors_of(outputs: list[dict]) -> str:
    return "\n".join(ANSI.sub("", "\n".join(o["traceback"]))
                     for o in outputs if o["output_type"] == "error")


def code_cells(chapter: str) -> list[nbformat.NotebookNode]:
    nb = nbformat.read(BOOK / chapter, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def count_asserts(source: str) -> int:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return sum(isinstance(node, ast.Assert) for node in ast.walk(ast.parse("\n".join(lines))))


def python_prefix(lab: Lab, kernel_id: str) -> Path:
    kernel = Kernel(lab, kernel_id)
    try:
        reply, outputs = kernel.execute("import sys; print(sys.prefix)")
    finally:
        kernel.close()
    assert reply["status"] == "ok", errors_of(outputs)
    return Path(text_of(outputs).strip())


# A browser ----------------------------------------------------------------------------------

class Chromium:
    """Headless Chromium, driven over the DevTools protocol."""

    def __init__(self, profile: Path, log: Path) -> None:
        flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--virtual-time-budget")]
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            ["chromium", *flags, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1280,900", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, start_new_session=True)
        active = profile / "DevToolsActivePort"
        port = wait_for("chromium's DevTools port",
                        lambda: active.is_file() and active.read_text().split("\n")[0].strip(), 60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as response:
            page = next(t for t in json.load(response) if t["type"] == "page")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60,
                                              suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
            except ProcessLookupError:
                pass
            self.log.close()


# What JupyterLab shows: the open notebook's first heading, its kernel, the kernel's state, and
# whether its tab is marked modified. (jupyterlab-myst renders the first heading as the title of
# its front-matter block, not inside a .jp-RenderedMarkdown.)
NOTEBOOK_VIEW = """(() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const h1 = panel.querySelector('.jp-Notebook .jp-MarkdownCell h1');
  const kernel = panel.querySelector('.jp-Toolbar-kernelName');
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  return {title: h1 ? h1.textContent : null, kernel: kernel ? kernel.textContent : null,
          status: status ? status.getAttribute('data-status') : null,
          modified: document.querySelector('.lm-TabBar-tab.jp-mod-dirty') !== null};
})()"""


@pytest.fixture
def browser(tmp_path):
    if shutil.which("chromium") is None:
        pytest.skip("chromium is not installed: apt-get install chromium (.ci/run does)")
    chromium = Chromium(tmp_path / "profile", tmp_path / "chromium.log")
    try:
        yield chromium
    finally:
        chromium.close()


# The tests ----------------------------------------------------------------------------------

def test_jupyterlab_shows_a_chapter_in_headless_chromium(lab, browser, tmp_path):
    title = normalize(notebook_title(f"book/{Path(BROWSER_CHAPTER).stem}"))
    stored = (BOOK / BROWSER_CHAPTER).read_bytes()
    browser.call("Page.enable")
    browser.call("Page.navigate", url=lab.url(f"/lab/tree/{BROWSER_CHAPTER}?token={lab.token}"))

    def title_shown():
        view = browser.evaluate(NOTEBOOK_VIEW)
        return view if view and title in normalize(view["title"] or "") else None

    wait_for(f"JupyterLab to show the title '{title}'", title_shown, PAGE_TIMEOUT_S)

    def kernel_ready():  # the toolbar names the kernel, and it has started
        view = browser.evaluate(NOTEBOOK_VIEW)
        return view["kernel"] not in (None, "No Kernel") and view["status"] == "idle" and view

    view = wait_for("the chapter's kernel to start", kernel_ready, PAGE_TIMEOUT_S)
    assert view["kernel"] == "Python 3 (ipykernel)", view  # the kernel the chapters ask for
    # Opening a chapter changes nothing in it (its kernelspec matches the kernel's).
    assert not view["modified"], "JupyterLab marks the chapter modified as soon as it opens"
    shot = tmp_path / "lab-chapter.png"
    shot.write_bytes(base64.b64decode(browser.call("Page.captureScreenshot", format="png")["data"]))
    SCREENSHOT_COPY.parent.mkdir(exist_ok=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)
    print(f"screenshot: {shot} (copied to {SCREENSHOT_COPY})")

    # The chapter's kernel is the project's environment, the .venv that ./dev set up.
    sessions = [s for s in lab.api("GET", "/api/sessions") if s["path"] == BROWSER_CHAPTER]
    assert len(sessions) == 1, f"JupyterLab started no kernel for {BROWSER_CHAPTER}"
    assert python_prefix(lab, sessions[0]["kernel"]["id"]).resolve() == VENV.resolve()
    assert (BOOK / BROWSER_CHAPTER).read_bytes() == stored


# The MyST the chapter's markdown cells show: each rendered cell's text (editors left out), and
# jupyterlab-myst's exercise, solution and admonition boxes.
MYST_VIEW = """(() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-MarkdownCell')];
  const text = cell => {
    const shown = cell.querySelector('.jp-Cell-inputWrapper').cloneNode(true);
    shown.querySelectorAll('.jp-InputArea-editor, jp-toolbar').forEach(e => e.remove());
    return shown.textContent;
  };
  const title = box => {
    const t = box.querySelector('.myst-exercise-title, .myst-admonition-header-text');
    return t ? t.textContent : null;
  };
  return {
    cells: cells.map(text),
    exercises: [...panel.querySelectorAll('aside.myst-exercise')].map(
      box => ({id: box.id, title: title(box)})),
    solutions: [...panel.querySelectorAll('details.myst-exercise')].map(
      box => ({title: title(box), open: box.open})),
    admonitions: [...panel.querySelectorAll('.myst-admonition')].map(title),
  };
})()"""

# In the chapters' source: ":::{exercise} Title" then ":label: id", ":::{solution} id" and
# ":::{admonition} Title"; fenced with colons or backticks.
DIRECTIVE = re.compile(r"^(?::{3,}|`{3,})\{(exercise|solution|admonition)\}[ \t]*(.*)\n"
                       r"(?:[ \t]*:label:[ \t]*(\S+))?", re.MULTILINE)
RAW_DIRECTIVE = re.compile(r"(?::{3}|`{3})\{[\w-]+\}")


def test_jupyterlab_renders_the_chapters_exercises_and_admonitions(lab, browser):
    # jupyterlab-myst (the lab extra) renders MyST: a chapter's exercises as numbered boxes, its
    # solutions folded, its admonitions as boxes; without it they show as raw ":::{exercise}".
    markdown = [c.source for c in nbformat.read(BOOK / BROWSER_CHAPTER, as_version=4).cells
                if c.cell_type == "markdown"]
    found = [m.groups() for source in markdown for m in DIRECTIVE.finditer(source)]
    exercises = [(label, title) for kind, title, label in found if kind == "exercise"]
    solutions = [title for kind, title, _ in found if kind == "solution"]
    admonitions = [title for kind, title, _ in found if kind == "admonition"]
    assert exercises and solutions and admonitions, f"{BROWSER_CHAPTER}: {found}"
    browser.call("Page.enable")
    browser.call("Page.navigate", url=lab.url(f"/lab/tree/{BROWSER_CHAPTER}?token={lab.token}"))

    def rendered():  # every markdown cell shown, and its boxes drawn
        view = browser.evaluate(MYST_VIEW)
        return (view and len(view["cells"]) == len(markdown)
                and len(view["exercises"]) == len(exercises) and view)

    view = wait_for(f"jupyterlab-myst to draw the {len(exercises)} exercises of "
                    f"{BROWSER_CHAPTER} as boxes (is it installed and enabled?)", rendered,
                    PAGE_TIMEOUT_S)
    for number, ((label, title), shown) in enumerate(zip(exercises, view["exercises"]), 1):
        assert shown["id"] == label, view["exercises"]
        assert normalize(shown["title"]) == f"Exercise {number} ({normalize(title)})", shown
    # Each solution: a folded box, titled with the exercise it solves.
    assert [(normalize(s["title"]), s["open"]) for s in view["solutions"]] == [
        (f"Solution to Exercise {n}", False) for n in range(1, len(solutions) + 1)]
    assert [normalize(title) for title in view["admonitions"]] == \
        [normalize(title) for title in admonitions]
    raw = [text for text in view["cells"] if RAW_DIRECTIVE.search(text)]
    assert not raw, f"raw MyST directives shown: {raw}"


def test_a_chapter_runs_through_the_servers_kernel(lab):
    cells = code_cells(KERNEL_CHAPTER)
    asserts = sum(count_asserts(c.source) for c in cells)
    assert asserts > 0, f"{KERNEL_CHAPTER} has no assert to check"
    # As JupyterLab does when it opens the notebook: a session, and the server starts its kernel.
    session = lab.api("POST", "/api/sessions", {"path": KERNEL_CHAPTER, "type": "notebook",
                                                "name": KERNEL_CHAPTER,
                                                "kernel": {"name": "python3"}})
    kernel = Kernel(lab, session["kernel"]["id"])
    try:
        for i, cell in enumerate(cells, start=1):
            reply, outputs = kernel.execute(cell.source)
            assert reply["status"] == "ok" and not errors_of(outputs), (
                f"{KERNEL_CHAPTER} code cell {i} failed in the server's kernel:\n"
                f"{errors_of(outputs) or reply}")
            if i == 1:  # the guard: silent where ddpg_tutorial imports
                assert outputs == [], f"the first cell printed {outputs}"
    finally:
        kernel.close()
    try:
        assert python_prefix(lab, session["kernel"]["id"]).resolve() == VENV.resolve()
    finally:
        lab.api("DELETE", f"/api/sessions/{session['id']}")


# As if ddpg_tutorial were not installed: its import fails as it then would.
HIDE_THE_LIBRARY = """\
import sys

class _NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "ddpg_tutorial":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.modules.pop("ddpg_tutorial", None)
sys.meta_path.insert(0, _NotInstalled())
"""


def test_the_first_cell_says_in_one_line_what_to_install(lab):
    guard = code_cells(BROWSER_CHAPTER)[0].source  # the same in every chapter (test_notebooks)
    kernel_id = lab.api("POST", "/api/kernels", {"name": "python3"})["id"]
    kernel = Kernel(lab, kernel_id)
    try:
        reply, outputs = kernel.execute(HIDE_THE_LIBRARY)
        assert reply["status"] == "ok", errors_of(outputs)
        reply, outputs = kernel.execute(guard)
    finally:
        kernel.close()
        lab.api("DELETE", f"/api/kernels/{kernel_id}")
    # An error stops "Run All" here; what the notebook shows is the error's traceback lines.
    assert reply["status"] == "error"
    assert [o["output_type"] for o in outputs] == ["error"], outputs
    shown = outputs[0]["traceback"]
    assert len(shown) == 1 and "\n" not in shown[0], f"more than one line: {shown}"
    assert shown[0].startswith("No module named 'ddpg_tutorial'. ")
    assert "pip install -e '.[lab]'" in shown[0]


def test_ctrl_c_stops_the_server_and_everything_it_started(lab):
    # One more kernel for the server to shut down, started and answering.
    assert python_prefix(lab, lab.api("POST", "/api/kernels", {"name": "python3"})["id"])
    status = lab.ctrl_c()
    assert status in (0, 130), f"after Ctrl-C: exit status {status}\n{lab.output}"
    assert "Traceback" not in lab.output, lab.output
    left = lab.left_behind()
    assert not left, f"still running after the server stopped: {[p.cmdline() for p in left]}"
