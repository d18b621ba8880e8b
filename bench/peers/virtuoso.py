"""Virtuoso (the Debian package ``virtuoso-opensource``) as a peer: the same data, its endpoint.

It runs from its own ``virtuoso.ini`` in ``bench/out/virtuoso-*/`` (loopback ports, no caps on
result rows or execution time), loaded from an N-Quads dump of the measured store with
``ld_dir`` + ``rdf_loader_run()`` + ``checkpoint``. With ``--remote-store`` the same running
Virtuoso then serves as diplograph's remote store (:mod:`bench.peers.remote_store`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bench.http_queries import concurrency, served_queries, sparql_count
from bench.measure import log, vmhwm
from bench.paths import OUT
from bench.peers.remote_store import bench_remote
from bench.servers import Server, free_port, http_ok

VIRTUOSO_INI = """\
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
LiteMode = 0
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 20
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
CheckpointAuditTrail = 0
AllowOSCalls = 0
SchedulerInterval = 10
DirsAllowed = ., {data_dir}
ThreadCleanupInterval = 0
ThreadThreshold = 10
ResourcesCleanupInterval = 0
FreeTextBatchSize = 100000
SingleCPU = 0
PrefixResultNames = 0
RdfFreeTextRulesSize = 100
IndexTreeMaps = 64
MaxMemPoolSize = 200000000
MaxQueryMem = 2G
VectorSize = 1000
MaxVectorSize = 1000000
AdjustVectorSize = 0
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 10
NumberOfBuffers = 340000
MaxDirtyBuffers = 250000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 20
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
TempASPXDir = 0
ServerThreads = 20
MaxKeepAlives = 20
KeepAliveTimeout = 10
MaxCachedProxyConnections = 10
ProxyConnectionCacheTimeout = 15
HTTPThreadSize = 280000
HttpPrintWarningsInOutput = 0
Charset = UTF-8
EnabledGzipContent = 0

[AutoRepair]
BadParentLinks = 0

[Client]
SQL_PREFETCH_ROWS = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT = 0
SQL_TXN_TIMEOUT = 0

[SPARQL]
ResultSetMaxRows = 0
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
DefaultGraph =
DeferInferenceRulesInit = 0
"""


def isql(port: int, sql: str, timeout: float) -> str:
    """Run ``sql`` as ``dba`` through ``isql-vt``; its output (RuntimeError on an error)."""
    cmd = ["isql-vt", f"127.0.0.1:{port}", "dba", "dba", f"exec={sql}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or "*** Error" in proc.stdout:
        raise RuntimeError(f"isql: {proc.stdout[-300:]} {proc.stderr[-300:]}")
    return proc.stdout


def virtuoso_version() -> str:
    """The installed ``virtuoso-t``'s version, or ``unknown``."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True, timeout=10)
        match = re.search(r"Version (\S+)", proc.stdout + proc.stderr)
        if match:
            return match.group(1)
    return "unknown"


@contextlib.contextmanager
def virtuoso_server(vdir: Path, data_dir: Path) -> Iterator[tuple[Server, int, int]]:
    """A fresh Virtuoso in ``vdir`` (emptied first) on free loopback ports, allowed to bulk-load
    files from ``data_dir``: the server, its SQL port and its HTTP port. Stopped on exit."""
    shutil.rmtree(vdir, ignore_errors=True)
    vdir.mkdir(parents=True)
    sql_port, http_port = free_port(), free_port()
    (vdir / "virtuoso.ini").write_text(
        VIRTUOSO_INI.format(dir=vdir, sql_port=sql_port, http_port=http_port, data_dir=data_dir)
    )
    endpoint = f"http://127.0.0.1:{http_port}/sparql"

    def ready() -> bool:
        try:
            isql(sql_port, "status('');", timeout=10)
        except (RuntimeError, subprocess.SubprocessError):
            return False
        return http_ok(endpoint)()

    cmd = ["virtuoso-t", "+foreground", "+configfile", str(vdir / "virtuoso.ini")]
    with Server(cmd, ready, cwd=vdir, env=dict(os.environ), wait=120) as srv:
        yield srv, sql_port, http_port


def bench_virtuoso(
    nquads: Path,
    queries: dict[str, str],
    args: argparse.Namespace,
    tag: str,
    skip: Mapping[str, str],
    probe: Path | None = None,
) -> dict[str, Any]:
    """Load ``nquads`` into a fresh Virtuoso, then time the queries over its endpoint (and the
    cheap lookup under concurrency, and with ``--remote-store`` diplograph driving it)."""
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        return {
            "ok": False,
            "error": "virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource)",
        }
    vdir = OUT / f"virtuoso-{tag}"
    out: dict[str, Any] = {"ok": True, "version": virtuoso_version()}
    try:
        with virtuoso_server(vdir, nquads.parent) as (srv, sql_port, http_port):
            endpoint = f"http://127.0.0.1:{http_port}/sparql"
            t0 = time.perf_counter()
            isql(
                sql_port,
                f"ld_dir('{nquads.parent}', '{nquads.name}', 'urn:bench:default'); "
                "rdf_loader_run(); checkpoint;",
                timeout=args.step_timeout,
            )
            out["load_s"] = time.perf_counter() - t0
            out["quads"] = sparql_count(endpoint)
            log(f"  virtuoso: loaded {out['quads']} quads in {out['load_s']:.1f} s")
            out["queries"] = served_queries(endpoint, queries, args, srv, skip)
            if args.concurrency:
                out["concurrency"] = concurrency(endpoint, queries, args)
            out["vmhwm_mb"] = vmhwm(srv.pid)
            if args.remote_store:
                password = create_user(sql_port)
                out["remote"] = bench_remote(http_port, password, queries, args, skip, probe)
            out["restarts"] = srv.restarts
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        out.update(ok=False, error=str(exc)[:500])
    if not args.keep_stores:
        shutil.rmtree(vdir, ignore_errors=True)
    return out


def create_user(sql_port: int) -> str:
    """A Virtuoso user ``diplograph`` allowed to query and update over SPARQL; its password."""
    password = secrets.token_hex(12)
    isql(
        sql_port,
        f"DB.DBA.USER_CREATE('diplograph', '{password}'); "
        'GRANT SPARQL_SELECT TO "diplograph"; GRANT SPARQL_UPDATE TO "diplograph";',
        timeout=60,
    )
    return password
