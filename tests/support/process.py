"""``diplograph serve`` as a real subprocess on 127.0.0.1, for tests that must survive what the
server does not (a crash takes only the child down) or that stop and restart it.

Unlike ``tests/support/server.py`` (uvicorn in a thread of the test process), this is the
installed command, started the way a user starts it, on its own store directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import ROOT

TOKEN = "process-test-token"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """One ``diplograph serve`` child: start, stop (SIGTERM), kill (SIGKILL), by its PID."""

    store_path: Path
    args: Sequence[str] = ()
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def start(self, timeout: float = 60.0) -> ServerProcess:
        """Start the server and wait until ``/health`` answers."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
        env.update(
            DIPLOGRAPH_STORE_PATH=str(self.store_path),
            DIPLOGRAPH_WRITE_TOKEN=TOKEN,
            PYTHONPATH=str(ROOT),
        )
        command = [sys.executable, "-m", "loader.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, *self.args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr
                err = stderr.read().decode(errors="replace") if stderr else ""
                code = self.process.returncode
                raise RuntimeError(f"diplograph serve exited with {code}: {err}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"diplograph serve did not answer /health within {timeout:g} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then wait; SIGKILL if it does not exit. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)
        if self.process.stderr:
            self.process.stderr.close()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
