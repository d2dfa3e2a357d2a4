"""The built distribution as an operator uses it: bin/ember with the Gogo shell, and bundles dropped into load/."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from ember.launch import find_home


class ShellSession:
    """``bin/ember shell`` with its console on pipes; output is collected by a reader thread."""

    def __init__(self, home: Path) -> None:
        self.process = subprocess.Popen(
            [str(home / "bin" / "ember"), "shell"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)
        self.output: list[str] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._lock:
                self.output.append(line)

    def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def poll_command(self, command: str, done: Callable[[str], bool], deadline_s: float = 20.0) -> str:
        """Sends ``command`` every half second until the output it produced satisfies ``done``."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            with self._lock:
                start = len(self.output)
            self.send(command)
            time.sleep(0.5)
            with self._lock:
                text = "".join(self.output[start:])
            if done(text):
                return text
        with self._lock:
            everything = "".join(self.output)
        raise AssertionError(f"'{command}' never gave the expected output; the shell printed:\n{everything[-4000:]}")

    def close(self) -> int:
        try:
            self.send("stop 0")
        except (BrokenPipeError, OSError):
            pass
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def make_bundle(path: Path, symbolic_name: str) -> None:
    manifest = (f"Manifest-Version: 1.0\nBundle-ManifestVersion: 2\nBundle-SymbolicName: {symbolic_name}\n"
                f"Bundle-Version: 1.0.0\n")
    with zipfile.ZipFile(path, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)


@pytest.fixture()
def private_distribution(tmp_path: Path) -> Path:
    """A copy of the built distribution, so dropping bundles into load/ does not touch the shared one."""
    home = tmp_path / "ember"
    shutil.copytree(find_home(), home, symlinks=True)
    return home


def bundle_line(listing: str, name: str) -> str:
    return next((line for line in listing.splitlines() if name in line), "")


def test_shell_lists_ember_bundles_active(private_distribution: Path) -> None:
    shell = ShellSession(private_distribution)
    try:
        names = ["Ember API", "Ember engine", "Ember Py4J gateway", "Ember TCP worker transport",
                 "Ember pickle codec", "Declarative Services", "Configuration Admin", "File Install"]
        listing = shell.poll_command(
            "lb", lambda text: all("Active" in bundle_line(text, name) for name in names))
        for name in names:
            assert "Active" in bundle_line(listing, name), f"{name} is not active:\n{listing}"
    finally:
        shell.close()


def test_a_jar_dropped_into_load_is_installed_and_removing_it_uninstalls_it(private_distribution: Path) -> None:
    shell = ShellSession(private_distribution)
    try:
        shell.poll_command("lb", lambda text: "Ember engine" in text)
        jar = private_distribution / "load" / "dropin.jar"
        make_bundle(jar, "test.dropin")
        listing = shell.poll_command("lb", lambda text: "test.dropin" in text)
        assert "Active" in bundle_line(listing, "test.dropin"), listing
        jar.unlink()
        listing = shell.poll_command("lb", lambda text: "Ember engine" in text and "test.dropin" not in text)
        assert "test.dropin" not in listing
    finally:
        assert shell.close() == 0


def test_bin_ember_without_java_says_so(private_distribution: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin/nonexistent", "JAVA_HOME": str(tmp_path / "no-java")}
    result = subprocess.run(["/bin/sh", str(private_distribution / "bin" / "ember"), "run"], env=env,
                            capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "no Java runtime found" in result.stderr
