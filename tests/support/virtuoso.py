"""A real Virtuoso for tests: its own database in a temporary directory, on 127.0.0.1 only.

The session-scoped ``virtuoso`` fixture starts ``virtuoso-t`` (Debian package
``virtuoso-opensource``) with a ``virtuoso.ini`` written here: SQL and HTTP ports chosen free at
run time and bound to 127.0.0.1, small buffers, no checkpoints, and the result caps lifted
(``ResultSetMaxRows``, ``MaxQueryExecutionTime``: their defaults silently cut results). Once the
HTTP server answers, ``isql-vt`` (same package) creates a user with a random password and the
``SPARQL_SELECT`` and ``SPARQL_UPDATE`` roles and gives ``dba`` a random password too. The user
reaches the digest-authenticated endpoints ``/sparql-auth`` (query, update) and
``/sparql-graph-crud-auth`` (Graph Store Protocol); the anonymous ``/sparql`` cannot write.

At the end the fixture stops the process it started (SIGTERM, then SIGKILL, by PID) and removes
its directory. Without ``virtuoso-t`` the tests that use it skip (fail in CI: see
``tests/support/external.py``). Start-up takes about two seconds.

Tests that use the fixture are marked ``server``, ``external`` and ``slow``.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from diplograph.loader.config import Settings, load_settings
from diplograph.loader.store.remote import RemoteStore
from tests.support.external import require_program

__all__ = ["USER", "Virtuoso"]

USER = "diplograph"
_START_TIMEOUT = 60.0

_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 0
O_DIRECT = 0
CaseMode = 2
AllowOSCalls = 0
DirsAllowed = ., {dir}
ThreadsPerQuery = 2
NumberOfBuffers = 4000
MaxDirtyBuffers = 3000
MaxQueryMem = 128M

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}/www
MaxClientConnections = 10
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
EnabledDavVSP = 0
Charset = UTF-8
EnabledGzipContent = 1

[SPARQL]
ResultSetMaxRows = 0
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


@dataclass(frozen=True)
class Virtuoso:
    """A running Virtuoso: endpoint URLs, the test user's credentials, a directory it may read."""

    url: str  #: http://127.0.0.1:port, no trailing slash
    user: str
    password: str
    dba_password: str
    sql_port: int
    directory: Path  #: Virtuoso may read files here (DirsAllowed): put bulk-load files in it
    isql_program: str

    @property
    def query_url(self) -> str:
        return self.url + "/sparql-auth"

    @property
    def update_url(self) -> str:
        return self.url + "/sparql-auth"

    @property
    def gsp_url(self) -> str:
        return self.url + "/sparql-graph-crud-auth"

    def settings(self, **overrides: Any) -> Settings:
        """Settings for the remote store on this Virtuoso (GSP included)."""
        values: dict[str, Any] = {
            "store": "remote",
            "remote_query_url": self.query_url,
            "remote_update_url": self.update_url,
            "remote_gsp_url": self.gsp_url,
            "remote_user": self.user,
            "remote_password": self.password,
            "remote_timeout": 30.0,
        }
        values.update(overrides)
        return load_settings(**values)

    def store(self, **options: Any) -> RemoteStore:
        """A :class:`RemoteStore` on this Virtuoso; ``options`` go to its constructor."""
        values: dict[str, Any] = {
            "update_url": self.update_url,
            "gsp_url": self.gsp_url,
            "user": self.user,
            "password": self.password,
            "timeout": 30.0,
        }
        values.update(options)
        return RemoteStore(self.query_url, **values)

    def isql(self, sql: str) -> str:
        """Run ``sql`` (statements ending with ';') as dba; its output, or a failed test."""
        return _isql(self.isql_program, self.sql_port, self.dba_password, sql)


def _isql(program: str, port: int, password: str, sql: str) -> str:
    done = subprocess.run(
        [program, f"127.0.0.1:{port}", "dba", password, f"exec={sql}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output:
        pytest.fail(f"isql failed ({done.returncode}) on {sql!r}:\n{output}")
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop exactly ``process``: SIGTERM (Virtuoso shuts down quickly), SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        response = httpx.get(url + "/sparql", params={"query": "ASK {}"}, timeout=2)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _log_tail(directory: Path) -> str:
    lines: list[str] = []
    for name in ("virtuoso.log", "stdout.txt"):
        path = directory / name
        if path.exists():
            lines += path.read_text(errors="replace").splitlines()[-15:]
    return "\n".join(lines)


def _start(program: str, directory: Path) -> tuple[subprocess.Popen[bytes], int, int]:
    """Start Virtuoso on free ports; retry with new ports if it dies (a port taken meanwhile)."""
    (directory / "www").mkdir(exist_ok=True)
    for _attempt in range(3):
        sql_port, http_port = _free_port(), _free_port()
        ini = directory / "virtuoso.ini"
        ini.write_text(_INI.format(dir=directory, sql_port=sql_port, http_port=http_port))
        with (directory / "stdout.txt").open("wb") as out:
            process = subprocess.Popen(
                [program, "+foreground", "+configfile", str(ini)],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            if _answers(f"http://127.0.0.1:{http_port}"):
                return process, sql_port, http_port
            time.sleep(0.1)
        _stop(process)
        if time.monotonic() >= deadline:
            break
        for name in ("virtuoso.db", "virtuoso.trx", "virtuoso.lck", "virtuoso-temp.db"):
            (directory / name).unlink(missing_ok=True)
    pytest.fail(f"Virtuoso did not start within {_START_TIMEOUT:g} s:\n{_log_tail(directory)}")


@pytest.fixture(scope="session")
def virtuoso() -> Iterator[Virtuoso]:
    """A fresh Virtuoso on 127.0.0.1 for the whole session (see the module docstring)."""
    program = require_program("virtuoso-t")
    isql = require_program("isql-vt", "isql")
    directory = Path(tempfile.mkdtemp(prefix="diplograph-virtuoso-")).resolve()
    process: subprocess.Popen[bytes] | None = None
    try:
        process, sql_port, http_port = _start(program, directory)
        password, dba_password = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        _isql(
            isql,
            sql_port,
            "dba",
            f"DB.DBA.USER_CREATE('{USER}', '{password}'); "
            f'GRANT SPARQL_SELECT TO "{USER}"; GRANT SPARQL_UPDATE TO "{USER}"; '
            f"USER_CHANGE_PASSWORD('dba', 'dba', '{dba_password}');",
        )
        yield Virtuoso(
            url=f"http://127.0.0.1:{http_port}",
            user=USER,
            password=password,
            dba_password=dba_password,
            sql_port=sql_port,
            directory=directory,
            isql_program=isql,
        )
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(directory, ignore_errors=True)
