"""Servers the benchmarks start and stop by PID: ``diplograph serve`` and the peers' servers.

Every server listens on 127.0.0.1 on a free port; its output goes to ``bench/out/server-*.log``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bench.measure import clean_env
from bench.paths import OUT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers with a status below 500."""
    import httpx

    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    return check


class Server:
    """A server process we start and stop by PID (SIGTERM, then SIGKILL); restartable."""

    def __init__(
        self,
        cmd: Sequence[str],
        ready: Callable[[], bool],
        *,
        cwd: Path,
        env: dict[str, str],
        wait: float,
    ) -> None:
        self.cmd, self.ready, self.cwd, self.env, self.wait = list(cmd), ready, cwd, env, wait
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = OUT / f"server-{Path(cmd[0]).name}-{os.getpid()}.log"
        self.restarts = 0
        self.start_s = 0.0

    def start(self) -> float:
        """Start and wait until ready; the seconds that took."""
        t0 = time.perf_counter()
        with open(self.log, "ab") as logfile:
            self.proc = subprocess.Popen(
                self.cmd, cwd=self.cwd, env=self.env, stdout=logfile, stderr=logfile
            )
        deadline = time.monotonic() + self.wait
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.cmd[0]} exited with {self.proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.cmd[0]} not ready after {self.wait:.0f} s")
            time.sleep(0.25)
        if not self.restarts:
            self.start_s = time.perf_counter() - t0
        return time.perf_counter() - t0

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 60 s; nothing when it is not running."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def restart(self) -> None:
        """After a client timeout: the server may still be busy with the query, so restart it."""
        self.stop()
        self.restarts += 1
        self.start()

    @property
    def pid(self) -> int | None:
        """The running process's PID, None when stopped."""
        return self.proc.pid if self.proc else None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def diplograph_serve(
    port: int, query_timeout: float, store: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command and environment of ``diplograph serve`` on 127.0.0.1:``port``.

    ``store`` holds the ``--store …`` options; ``env`` adds settings (``DIPLOGRAPH_*``). No cap
    on result rows: the benchmarks consume every row.
    """
    cmd = [sys.executable, "-c", "from diplograph.cli import main; main()", "serve", *store]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--query-timeout", str(query_timeout)]
    full_env = clean_env()
    full_env.update(env or {})
    full_env["DIPLOGRAPH_MAX_RESULT_ROWS"] = "100000000"
    return cmd, full_env
