"""Ember in a notebook and in IPython, for real: a Jupyter kernel (ipykernel, driven through jupyter_client as a
notebook front end drives it) runs cells that start a context and run jobs, and the messages the kernel publishes are
checked as a front end would render them: what tasks print arrives as the cell's own stream output before the cell
ends, the job's progress is an HTML bar in that cell, updated in place, and the context shows itself as HTML.
ember-shell is run as a user runs it, with IPython installed."""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.kernelspec import KernelSpecManager

import ember
from conftest import driver_env

CELL_TIMEOUT = 60.0
VENV_BIN = Path(sys.executable).parent

# Two partitions of two elements; each element sleeps, so the job lasts long enough for the bar to be redrawn.
PRINTING_JOB = ('import time\n'
                'sc.parallelize(range(4), 2).map(lambda x: (time.sleep(0.3), print("seen", x), x)[2]).collect()')
PROGRESS = re.compile(r'<progress value="(\d+)" max="(\d+)"')


@dataclass
class Cell:
    """One executed cell: the iopub messages whose parent is its execute request, in order, and its reply."""
    msg_id: str
    messages: list[dict]
    reply: dict

    def of_type(self, *types: str) -> list[dict]:
        return [m for m in self.messages if m["msg_type"] in types]

    def stream_text(self, name: str = "stderr") -> str:
        return "".join(m["content"]["text"] for m in self.of_type("stream") if m["content"]["name"] == name)

    def index_of(self, msg: dict) -> int:
        return next(i for i, m in enumerate(self.messages) if m is msg)

    def idle_index(self) -> int:
        return next(i for i, m in enumerate(self.messages)
                    if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle")

    def progress_displays(self) -> list[dict]:
        """display_data and update_display_data messages that carry an Ember progress bar."""
        return [m for m in self.of_type("display_data", "update_display_data")
                if "ember-progress" in m["content"]["data"].get("text/html", "")]


@dataclass
class Kernel:
    manager: KernelManager
    client: BlockingKernelClient
    log: Path
    everything: list[dict] = field(default_factory=list)  # Every iopub message, of any cell, in arrival order.

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def execute(self, code: str, timeout: float = CELL_TIMEOUT) -> Cell:
        msg_id = self.client.execute(code)
        deadline = time.monotonic() + timeout
        messages: list[dict] = []
        try:
            while True:
                msg = self.client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
                self.everything.append(msg)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                messages.append(msg)
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            while True:
                reply = self.client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
        except queue.Empty:
            raise AssertionError(f"the cell {code!r} did not finish in {timeout} s; its messages so far: "
                                 f"{[m['msg_type'] for m in messages]}\n--- kernel log ---\n{self.log_tail()}")
        return Cell(msg_id, messages, reply)

    def run_ok(self, code: str) -> Cell:
        cell = self.execute(code)
        content = cell.reply["content"]
        assert content["status"] == "ok", (
            f"the cell {code!r} failed: {content.get('ename')}: {content.get('evalue')}\n"
            + "\n".join(content.get("traceback", [])) + f"\n--- stderr ---\n{cell.stream_text()}")
        return cell


@contextmanager
def running_kernel(directory: Path, setup: str) -> Iterator[Kernel]:
    """A kernel of this venv's python, in ``directory``, that has run ``setup`` (which must make ``sc``); on the way
    out, whatever happened, the context is stopped and the kernel shut down."""
    directory.mkdir(parents=True, exist_ok=True)
    # A kernel spec of our own, so that no python3 kernel installed for the user is picked instead of the venv's.
    spec_dir = directory / "kernels" / "ember-test"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Ember test kernel", "language": "python"}))
    manager = KernelManager(kernel_name="ember-test",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(directory / "kernels")]))
    log = directory / "kernel.log"
    with open(log, "w") as log_file:
        manager.start_kernel(cwd=str(directory), env=driver_env(), stdout=log_file, stderr=subprocess.STDOUT)
    client = manager.client()
    kernel = Kernel(manager, client, log)
    started_context = False
    try:
        client.start_channels()
        client.wait_for_ready(timeout=CELL_TIMEOUT)
        kernel.run_ok(setup)
        started_context = True
        yield kernel
    finally:
        try:
            if started_context:
                kernel.run_ok("sc.stop()")
        finally:
            client.stop_channels()
            try:
                manager.shutdown_kernel(now=False)
            except Exception:  # noqa: BLE001 - a kernel that will not stop politely is killed
                manager.shutdown_kernel(now=True)
            assert not manager.is_alive(), "the kernel outlived its shutdown"


@pytest.fixture(scope="module")
def notebook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel whose ``sc`` is ``SparkContext("local[2]", "nb")``, as a notebook's first cell would make it."""
    with running_kernel(tmp_path_factory.mktemp("notebook"),
                        'from ember import SparkContext\nsc = SparkContext("local[2]", "nb")') as kernel:
        yield kernel


def test_task_output_and_progress_belong_to_the_cell_that_runs_the_job(notebook: Kernel) -> None:
    cell = notebook.run_ok(PRINTING_JOB)

    # (c) The result is the job's.
    results = cell.of_type("execute_result")
    assert len(results) == 1 and results[0]["content"]["data"]["text/plain"] == "[0, 1, 2, 3]", results

    # (a) Every line a task printed is stream output of this very cell, before the cell went idle and before its
    # reply was sent; the data stays clean of it.
    text = cell.stream_text("stderr")
    for x in range(4):
        assert f"[stage 0 partition {x // 2}] seen {x}\n" in text, text
    idle = cell.idle_index()
    printed = [m for m in cell.of_type("stream") if "seen" in m["content"]["text"]]
    assert printed and all(cell.index_of(m) < idle for m in printed)
    reply_date = cell.reply["header"]["date"]
    assert all(m["header"]["date"] <= reply_date for m in printed), (printed, reply_date)
    assert not cell.stream_text("stdout").strip(), cell.stream_text("stdout")
    # Nothing of it went anywhere else: no other cell's output carries a printed line.
    strays = [m for m in notebook.everything if m["msg_type"] == "stream" and "seen" in m["content"]["text"]
              and m["parent_header"].get("msg_id") != cell.msg_id]
    assert not strays, strays

    # (b) The bar: displayed once in this cell, then updated in place (same display id) as tasks end, and left
    # showing the job's end.
    displays = cell.progress_displays()
    assert displays, f"no progress display in the cell: {[m['msg_type'] for m in cell.messages]}"
    first = displays[0]
    assert first["msg_type"] == "display_data", displays
    assert "<progress" in first["content"]["data"]["text/html"]
    display_id = first["content"]["transient"]["display_id"]
    assert display_id
    updates = displays[1:]
    assert updates and all(m["msg_type"] == "update_display_data" for m in updates), displays
    assert all(m["content"]["transient"]["display_id"] == display_id for m in updates), displays
    done = [tuple(map(int, PROGRESS.search(m["content"]["data"]["text/html"]).groups())) for m in displays]
    assert all(total == 2 for _, total in done), done  # Two partitions: two tasks.
    assert any(count > done[0][0] for count, _ in done[1:]), f"no update counted more done tasks: {done}"
    assert done == sorted(done), done
    assert done[-1] == (2, 2), f"the bar left in the cell does not show the finished job: {done}"
    assert all(cell.index_of(m) < idle for m in displays)

    # A cell that runs no job shows no bar, and none of the job's output.
    quiet = notebook.run_ok("1 + 1")
    assert not quiet.progress_displays() and not quiet.of_type("display_data", "update_display_data")
    assert "seen" not in quiet.stream_text("stderr")


def test_the_context_shows_itself_as_html(notebook: Kernel) -> None:
    cell = notebook.run_ok("sc")
    results = cell.of_type("execute_result")
    assert len(results) == 1, cell.messages
    data = results[0]["content"]["data"]
    html = data.get("text/html", "")
    assert 'class="ember-context"' in html, data
    assert "<code>local[2]</code>" in html and "<code>nb</code>" in html, html
    assert f"<code>{ember.__version__}</code>" in html, html
    assert "<code>2</code>" in html, html  # Parallelism of local[2].
    assert "local[2]" in data["text/plain"], data


def test_no_bar_when_console_progress_is_off(tmp_path: Path) -> None:
    setup = ('from ember import SparkConf, SparkContext\n'
             'sc = SparkContext("local[2]", "nb-quiet", '
             'conf=SparkConf().set("spark.ui.showConsoleProgress", "false"))')
    with running_kernel(tmp_path / "quiet", setup) as kernel:
        cell = kernel.run_ok(PRINTING_JOB)
        assert cell.of_type("execute_result")[0]["content"]["data"]["text/plain"] == "[0, 1, 2, 3]"
        assert not cell.of_type("display_data", "update_display_data"), cell.messages
        # The tasks' output still comes, with the cell.
        text = cell.stream_text("stderr")
        for x in range(4):
            assert f"[stage 0 partition {x // 2}] seen {x}\n" in text, text


def _shell(args: list[str], stdin: str, tmp_path: Path) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([str(VENV_BIN / "ember-shell"), *args], input=stdin, capture_output=True, text=True,
                          env=driver_env(), cwd=str(tmp_path), timeout=CELL_TIMEOUT)


def test_ember_shell_runs_ipython_with_sc_ready(tmp_path: Path) -> None:
    # IPython reads piped input line by line (its simple prompt, as without a terminal): no pty needed.
    proc = _shell([], "print(sc.parallelize(range(10)).sum())\nexit()\n", tmp_path)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    out = proc.stdout
    assert f"Welcome to Ember {ember.__version__}" in out, out
    assert "master local[*], app ember-shell." in out, out
    assert "In [1]:" in out, f"not IPython's prompt:\n{out}"
    assert re.search(r"^(In \[1\]: )?45$", out, re.MULTILINE), out
    assert "Traceback" not in proc.stderr, proc.stderr


def test_ember_shell_runs_a_command(tmp_path: Path) -> None:
    proc = _shell(["-c", "print(sc.master)"], "", tmp_path)
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    assert proc.stdout.splitlines() == ["local[*]"], proc.stdout
