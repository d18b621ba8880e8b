"""``diplograph`` as real child processes, for tests that kill them, starve them or race them.

* :func:`generate_facts` – seeded facts from the benchmark generator (``python -m bench.generate``);
* :func:`command` / :func:`child_env` – the command line and a clean environment for a child;
* :class:`WatchedLoad` – ``diplograph load --progress`` with its stderr on a pseudo-terminal, so
  the test can read its progress bar (documents committed so far) and kill it at a known point;
* :class:`ServeChild` – ``diplograph serve`` on a free port of 127.0.0.1, killable by its PID.

Children are ended only by their own PID (SIGKILL for a crash, SIGTERM for a clean stop).
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "TOKEN",
    "ServeChild",
    "WatchedLoad",
    "child_env",
    "command",
    "generate_facts",
    "poll_until",
]

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "children-test-token"
_PROGRESS = re.compile(rb"(\d+)/(\d+)")


def command(*args: str) -> list[str]:
    """The command line of ``diplograph ARGS…`` run by this Python (the CLI's entry point)."""
    return [sys.executable, "-m", "diplograph.cli", *args]


def child_env(**settings: object) -> dict[str, str]:
    """This environment without DIPLOGRAPH_* variables, plus ``settings`` as DIPLOGRAPH_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update({f"DIPLOGRAPH_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def generate_facts(path: Path, docs: int, *, seed: int = 1, after: int = 0) -> Path:
    """Write ``docs`` generated documents (JSON Lines) to ``path`` with the seeded generator."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.generate",
            "--docs",
            str(docs),
            "--seed",
            str(seed),
            "--after",
            str(after),
            "-o",
            str(path),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return path


class WatchedLoad:
    """``diplograph load --progress ARGS…`` with stderr on a pseudo-terminal.

    The progress bar advances after each batch is committed (or found unchanged or rejected),
    so "N/total" on it means the first N documents are done.
    """

    def __init__(self, args: Sequence[str], env: Mapping[str, str], **popen: Any) -> None:
        self._master, slave = pty.openpty()
        try:
            self.process = subprocess.Popen(
                command("load", "--progress", *args),
                env=dict(env),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=slave,
                **popen,
            )
        except BaseException:
            os.close(self._master)
            raise
        finally:
            os.close(slave)
        self.output = b""
        self.done = 0

    def _read(self, wait: float) -> bool:
        """Read what the child wrote; False when its terminal closed (it exited)."""
        ready, _, _ = select.select([self._master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the child closed its end of the terminal
            return False
        if not chunk:
            return False
        self.output += chunk
        numbers = _PROGRESS.findall(self.output[-200:])
        if numbers:
            self.done = int(numbers[-1][0])
        return True

    def wait_for(self, documents: int, timeout: float = 120.0) -> float:
        """Wait until at least ``documents`` are done; returns the time that took."""
        start = time.monotonic()
        while self.done < documents:
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"no progress to {documents} documents: {self.text()[-500:]}")
            if not self._read(0.1) or self.process.poll() is not None:
                while self._read(0):
                    pass
                if self.done >= documents:
                    break
                raise RuntimeError(
                    f"diplograph load exited with {self.process.poll()} at {self.done} "
                    f"documents: {self.text()[-2000:]}"
                )
        return time.monotonic() - start

    def wait(self, timeout: float) -> int:
        """Wait for the child to exit, reading its terminal meanwhile: a child whose terminal
        is full (its report's warnings and conflicts) blocks until someone reads it."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.process.args, timeout, self.output)
            self._read(0.1)
        while self._read(0):
            pass
        return self.process.returncode

    def text(self) -> str:
        """What the child wrote to its terminal (progress bar and errors)."""
        return self.output.decode(errors="replace")

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would; waits for the child to be gone."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def close(self) -> None:
        """Kill the child if it still runs and release the terminal."""
        self.kill()
        os.close(self._master)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeChild:
    """``diplograph serve`` on 127.0.0.1 with writes enabled (:data:`TOKEN`) on ``store_path``."""

    def __init__(self, store_path: Path, *, args: Sequence[str] = (), **settings: object) -> None:
        self.store_path = store_path
        self.args = tuple(args)  # more ``serve`` flags, e.g. ("--load", path)
        self.settings = settings
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def start(self, timeout: float = 60.0) -> ServeChild:
        """Start the server and wait until ``/health`` answers."""
        env = child_env(store_path=self.store_path, write_token=TOKEN, **self.settings)
        self.process = subprocess.Popen(
            command("serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args),
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"diplograph serve exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"diplograph serve did not answer /health within {timeout:g} s")

    def alive(self) -> bool:
        """Whether the child is still running."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would; waits for the child to be gone."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (a clean stop), SIGKILL when it does not exit in time; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def select(self, sparql: str) -> list[dict[str, Any]]:
        """The bindings of a SELECT query, asked over the SPARQL protocol."""
        response = httpx.post(
            self.url + "/sparql",
            data={"query": sparql},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30,
        )
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()["results"]["bindings"]
        return rows


def poll_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Call ``check`` every 50 ms until it is true; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)
