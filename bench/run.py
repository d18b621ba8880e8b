"""Run the benchmarks and write ``docs/benchmarks.md``: ``python -m bench.run --sizes 1k,10k``.

For each size it generates the documents (``bench.generate``, cached in ``bench/out/``), then
measures side by side, every measurement in a subprocess bounded in time:

1. loading: the raw pyoxigraph insert of the mapped quads (the floor) and diplograph end to
   end (parse, map, SHACL-validate, commit), with peak memory and the time per stage;
2. queries (``bench/queries/*.rq``): in process on pyoxigraph, then over HTTP against
   ``diplograph serve`` on 127.0.0.1 (and against Virtuoso / rdflib-endpoint with
   ``--virtuoso`` / ``--rdflib-endpoint``), plus a cheap lookup at 16 concurrent clients (wrk);
3. map-then-validate-the-whole-graph (the baseline a user would otherwise assemble);
4. validation cost per document against store size: 1k more documents into an empty store and
   into the store holding this size.

A profile of a 1k load (pyinstrument) goes to ``bench/out/``. Results are kept as JSON in
``bench/out/results.json``; the tables are written between the markers in
``docs/benchmarks.md`` (text outside them is kept), with the plot next to it. Servers listen on
127.0.0.1 only and are stopped by PID; so are the worker processes when they overrun.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.generate import parse_count, write_jsonl
from bench.workers import SLOW_QUERY_S, query_kind

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
QUERIES = ROOT / "bench" / "queries"
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "benchmarks-scaling.png"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
PACKAGES = ("pyoxigraph", "pyshacl", "rdflib", "pydantic", "fastapi", "starlette", "uvicorn")
LOOKUP_QUERY = "q02_entity_properties"
ACCEPT_JSON = "application/sparql-results+json"
ACCEPT_RDF = "application/n-triples"


def log(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return (0, 0)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields) - idle, sum(fields))


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError):
        return float("nan")


# ------------------------------------------------------------------------------------------------
# The machine


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {"cores": os.cpu_count()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip('"')
    info["kernel"] = platform.release()
    info["python"] = platform.python_version()
    versions = {}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    info["packages"] = versions
    return info


# ------------------------------------------------------------------------------------------------
# Subprocesses


def worker(task: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run ``python -m bench.workers TASK ARGS``; its RESULT, or why there is none."""
    cmd = [sys.executable, "-m", "bench.workers", task, *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    env["PYTHONPATH"] = str(ROOT)
    started = time.perf_counter()
    load_before = loadavg()
    busy0, total0 = cpu_jiffies()
    child0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # our own child, by PID
        proc.communicate()
        return {"ok": False, "error": f"timeout after {timeout:.0f} s", "wall_s": timeout}
    wall = time.perf_counter() - started
    busy1, total1 = cpu_jiffies()
    child1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (child1.ru_utime + child1.ru_stime) - (child0.ru_utime + child0.ru_stime)
    cores = os.cpu_count() or 1
    busy_cores = (busy1 - busy0) / (total1 - total0) * cores if total1 > total0 else 0.0
    for line in reversed(out.splitlines()):
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
            result.update(
                ok=True,
                wall_s=wall,
                loadavg=[load_before, loadavg()],
                # the machine's busy cores during the step, and what our worker used of them
                busy_cores=busy_cores,
                own_cores=own / wall if wall else 0.0,
            )
            return result
    tail = " | ".join(err.strip().splitlines()[-3:])
    return {"ok": False, "error": f"exit {proc.returncode}: {tail}"[:500], "wall_s": wall}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
        return self.proc.pid if self.proc else None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sparql_count(endpoint: str) -> int:
    """The number of quads an endpoint holds (``COUNT`` over ``GRAPH ?g``)."""
    import httpx

    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = httpx.get(
        endpoint, params={"query": query}, headers={"Accept": ACCEPT_JSON}, timeout=600
    )
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def http_ok(url: str) -> Callable[[], bool]:
    import httpx

    def check() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.HTTPError:
            return False

    return check


# ------------------------------------------------------------------------------------------------
# Queries over HTTP


def count_rows(body: bytes, content_type: str, kind: str) -> int:
    if kind == "ASK":
        return 1
    if kind == "SELECT":
        return len(json.loads(body)["results"]["bindings"])
    from pyoxigraph import RdfFormat, parse

    media = content_type.split(";")[0].strip()
    fmt = RdfFormat.from_media_type(media) or RdfFormat.N_TRIPLES
    return len(set(parse(body, format=fmt)))


def http_queries(
    endpoint: str,
    queries: dict[str, str],
    *,
    repeat: int,
    timeout: float,
    server: Server | None = None,
    skip: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Median request time (until the whole body is received) per query, GET, keep-alive.

    After a client timeout the server is restarted (it may still be evaluating the query).
    """
    import httpx

    results: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=timeout + 10) as client:
        for name, text in queries.items():
            if skip and name in skip:
                results[name] = {"ok": False, "error": skip[name]}
                log(f"    {name}: {skip[name]}")
                continue
            kind = query_kind(text)
            accept = ACCEPT_RDF if kind in ("CONSTRUCT", "DESCRIBE") else ACCEPT_JSON

            def once(text: str = text, kind: str = kind, accept: str = accept) -> tuple[int, float]:
                t0 = time.perf_counter()
                response = client.get(endpoint, params={"query": text}, headers={"Accept": accept})
                body = response.content
                ms = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {body[:200]!r}")
                return count_rows(body, response.headers.get("content-type", ""), kind), ms

            try:
                rows, warmup = once()
                runs = [once() for _ in range(1 if warmup > SLOW_QUERY_S * 1000 else repeat)]
            except (httpx.HTTPError, RuntimeError, ValueError) as exc:
                timed_out = isinstance(exc, httpx.TimeoutException)
                error = f"timeout after {timeout:.0f} s" if timed_out else f"{exc}"
                results[name] = {"ok": False, "error": f"{type(exc).__name__}: {error}"[:300]}
                log(f"    {name}: {results[name]['error']}")
                if (timed_out or "HTTP 5" in error) and server is not None:
                    server.restart()  # it may still be evaluating the query
                continue
            times = [ms for _, ms in runs]
            results[name] = {
                "ok": True,
                "rows": runs[-1][0],
                "warmup_ms": warmup,
                "times_ms": times,
                "median_ms": statistics.median(times),
            }
            log(f"    {name}: {results[name]['median_ms']:.2f} ms, {rows} rows")
    return results


def wrk(url: str, query: str, clients: int, seconds: int) -> dict[str, Any]:
    """Requests/s and latency percentiles of GET ``query`` at ``clients`` connections (wrk)."""
    import urllib.parse

    if shutil.which("wrk") is None:
        return {"ok": False, "error": "wrk is not installed"}
    full = url + "?" + urllib.parse.urlencode({"query": query})
    threads = 1 if clients == 1 else 2
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Accept: {ACCEPT_JSON}",
        full,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    text = proc.stdout

    def ms(value: str) -> float:
        number = float(re.sub(r"[a-z]+$", "", value))
        unit = re.sub(r"^[0-9.]+", "", value)
        return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}.get(unit, 1.0)

    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    if not (rps and p50 and p99):
        return {"ok": False, "error": f"cannot read wrk output: {text[-300:]}{proc.stderr[-300:]}"}
    return {
        "ok": True,
        "clients": clients,
        "rps": float(rps.group(1)),
        "p50_ms": ms(p50.group(1)),
        "p99_ms": ms(p99.group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


# ------------------------------------------------------------------------------------------------
# Peers


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
    cmd = ["isql-vt", f"127.0.0.1:{port}", "dba", "dba", f"exec={sql}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or "*** Error" in proc.stdout:
        raise RuntimeError(f"isql: {proc.stdout[-300:]} {proc.stderr[-300:]}")
    return proc.stdout


def virtuoso_version() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True, timeout=10)
        match = re.search(r"Version (\S+)", proc.stdout + proc.stderr)
        if match:
            return match.group(1)
    return "unknown"


def bench_virtuoso(
    nquads: Path,
    queries: dict[str, str],
    args: argparse.Namespace,
    tag: str,
    skip: Mapping[str, str],
    probe: Path | None = None,
) -> dict[str, Any]:
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        return {
            "ok": False,
            "error": "virtuoso-t / isql-vt not installed (apt-get install virtuoso-opensource)",
        }
    vdir = OUT / f"virtuoso-{tag}"
    shutil.rmtree(vdir, ignore_errors=True)
    vdir.mkdir(parents=True)
    sql_port, http_port = free_port(), free_port()
    (vdir / "virtuoso.ini").write_text(
        VIRTUOSO_INI.format(
            dir=vdir, sql_port=sql_port, http_port=http_port, data_dir=nquads.parent
        )
    )
    endpoint = f"http://127.0.0.1:{http_port}/sparql"

    def ready() -> bool:
        try:
            isql(sql_port, "status('');", timeout=10)
        except (RuntimeError, subprocess.SubprocessError):
            return False
        return http_ok(endpoint)()

    out: dict[str, Any] = {"ok": True, "version": virtuoso_version()}
    cmd = ["virtuoso-t", "+foreground", "+configfile", str(vdir / "virtuoso.ini")]
    try:
        with Server(cmd, ready, cwd=vdir, env=dict(os.environ), wait=120) as srv:
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
            out["queries"] = http_queries(
                endpoint,
                queries,
                repeat=args.repeat,
                timeout=args.query_timeout,
                server=srv,
                skip=skip,
            )
            if args.concurrency:
                out["concurrency"] = [
                    wrk(endpoint, queries[LOOKUP_QUERY], c, args.concurrency_seconds)
                    for c in (1, 16)
                ]
            out["vmhwm_mb"] = _vmhwm(srv.pid)
            if args.remote_store:
                out["remote"] = bench_remote(sql_port, http_port, queries, args, skip, probe)
            out["restarts"] = srv.restarts
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        out.update(ok=False, error=str(exc)[:500])
    if not args.keep_stores:
        shutil.rmtree(vdir, ignore_errors=True)
    return out


def bench_remote(
    sql_port: int,
    http_port: int,
    queries: dict[str, str],
    args: argparse.Namespace,
    skip: Mapping[str, str],
    probe: Path | None,
) -> dict[str, Any]:
    """Scale-out: diplograph driving the running Virtuoso as its remote store.

    First ``diplograph serve --store remote`` answers the queries over the data Virtuoso
    holds (the same data its own endpoint just answered); then ``Loader.load`` writes the
    probe documents through the remote store (validated, committed over the SPARQL Update and
    Graph Store protocols) into the Virtuoso holding the data set, to compare with the same
    documents loaded into the embedded store holding the same data (``probe_full``).
    """
    password = secrets.token_hex(12)
    isql(
        sql_port,
        f"DB.DBA.USER_CREATE('diplograph', '{password}'); "
        'GRANT SPARQL_SELECT TO "diplograph"; GRANT SPARQL_UPDATE TO "diplograph";',
        timeout=60,
    )
    base = f"http://127.0.0.1:{http_port}"
    remote = {
        "remote_query_url": base + "/sparql-auth",
        "remote_gsp_url": base + "/sparql-graph-crud-auth",
        "remote_user": "diplograph",
        "remote_password": password,
        "remote_timeout": float(args.step_timeout),
    }
    out: dict[str, Any] = {"ok": True}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    env.update(
        {"DIPLOGRAPH_" + k.upper(): str(v) for k, v in remote.items()},
        PYTHONPATH=str(ROOT),
        DIPLOGRAPH_MAX_RESULT_ROWS="100000000",
    )
    cmd = [sys.executable, "-c", "from diplograph.cli import main; main()", "serve"]
    cmd += ["--store", "remote", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--query-timeout", str(args.query_timeout)]
    log("  diplograph serve --store remote (Virtuoso)")
    try:
        with Server(cmd, http_ok(url + "/health"), cwd=ROOT, env=env, wait=120) as srv:
            out["queries"] = http_queries(
                url + "/sparql",
                queries,
                repeat=args.repeat,
                timeout=args.query_timeout,
                server=srv,
                skip=skip,
            )
    except (RuntimeError, OSError) as exc:
        out["queries_error"] = str(exc)[:500]
        log(f"  {out['queries_error']}")
    if probe is not None:
        log(f"  validated load of {probe.name} through the remote store")
        out["load"] = worker(
            "load",
            "--docs",
            str(probe),
            "--batch-size",
            str(args.batch_size),
            "--store",
            str(OUT / "unused"),
            "--remote",
            json.dumps(remote),
            timeout=args.step_timeout,
        )
        log(f"  {_load_line(out['load'])}")
    return out


def _vmhwm(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def rdflib_endpoint_python() -> Path:
    """The Python of rdflib-endpoint's own venv (bench/out/venv-rdflib-endpoint), made once."""
    venv = OUT / "venv-rdflib-endpoint"
    python = venv / "bin" / "python"
    if not python.exists():
        log("  creating the rdflib-endpoint venv")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "rdflib-endpoint[cli]", "uvicorn"],
            check=True,
        )
    return python


RDFLIB_ENDPOINT_APP = """\
import sys, time
import rdflib, uvicorn
from rdflib_endpoint import SparqlEndpoint
t0 = time.perf_counter()
g = rdflib.Dataset(default_union=True)
g.parse(sys.argv[1], format="nquads")
print(f"LOADED {len(g)} {time.perf_counter() - t0:.3f}", flush=True)
app = SparqlEndpoint(graph=g, cors_enabled=False)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def bench_rdflib_endpoint(
    nquads: Path, queries: dict[str, str], args: argparse.Namespace, skip: Mapping[str, str]
) -> dict[str, Any]:
    try:
        python = rdflib_endpoint_python()
    except (subprocess.SubprocessError, OSError) as exc:
        return {"ok": False, "error": f"cannot install rdflib-endpoint: {exc}"[:300]}
    script = OUT / "rdflib_endpoint_app.py"
    script.write_text(RDFLIB_ENDPOINT_APP)
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}/"
    out: dict[str, Any] = {"ok": True}
    with contextlib.suppress(importlib.metadata.PackageNotFoundError, subprocess.SubprocessError):
        out["version"] = subprocess.run(
            [
                str(python),
                "-c",
                "import importlib.metadata as m; "
                "print(m.version('rdflib-endpoint'), m.version('rdflib'))",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
    cmd = [str(python), str(script), str(nquads), str(port)]
    try:
        srv = Server(cmd, http_ok(endpoint), cwd=OUT, env=dict(os.environ), wait=args.step_timeout)
        with srv:
            out["load_s"] = srv.start_s
            log(f"  rdflib-endpoint: ready after {out['load_s']:.1f} s")
            out["queries"] = http_queries(
                endpoint,
                queries,
                repeat=args.repeat,
                timeout=args.query_timeout,
                server=srv,
                skip=skip,
            )
            out["vmhwm_mb"] = _vmhwm(srv.pid) if srv.pid else None
            out["restarts"] = srv.restarts
    except (RuntimeError, OSError) as exc:
        out.update(ok=False, error=str(exc)[:500])
    return out


# ------------------------------------------------------------------------------------------------
# One size


def ensure_docs(n: int, seed: int, after: int = 0) -> Path:
    name = f"docs-{label(n)}-s{seed}" + (f"-after-{label(after)}" if after else "") + ".jsonl"
    path = OUT / "data" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            write_jsonl(n, seed, out, after=after)
        tmp.replace(path)
    return path


def load_queries() -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted(QUERIES.glob("*.rq"))}


def timed_out_before(results: dict[str, Any], n: int, target: str) -> dict[str, str]:
    """Queries that timed out for ``target`` at a smaller size: not worth waiting for again."""
    out: dict[str, str] = {}
    for tag, entry in results["sizes"].items():
        if entry["docs"] >= n:
            continue
        block = entry.get(target)
        if not isinstance(block, dict):
            continue
        per_query = block if target.startswith("inprocess") else block.get("queries", {})
        for name, r in per_query.items():
            if isinstance(r, dict) and "timeout" in str(r.get("error", "")).lower():
                out.setdefault(name, f"skipped: timed out at {tag}")
    return out


def queries_in_process(
    store: Path, union: str, tag: str, n: int, results: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """Every query in a fresh subprocess on ``store``, with the ``union`` the worker takes."""
    key = "inprocess" if union == "materialized" else "inprocess_bag"
    log(f"{tag}: queries in process ({union} union)")
    out: dict[str, Any] = {}
    skip = timed_out_before(results, n, key)
    for name, path in ((p.stem, p) for p in sorted(QUERIES.glob("*.rq"))):
        if name in skip:
            out[name] = {"ok": False, "error": skip[name]}
            log(f"    {name}: {skip[name]}")
            continue
        out[name] = worker(
            "query",
            "--store",
            str(store),
            "--query",
            str(path),
            "--repeat",
            str(args.repeat),
            "--union",
            union,
            timeout=args.query_timeout * 3,
        )
        r = out[name]
        log(
            f"    {name}: "
            + (f"{r['median_ms']:.2f} ms, {r['rows']} rows" if r["ok"] else r["error"])
        )
    return out


def bench_size(n: int, args: argparse.Namespace, results: dict[str, Any]) -> None:
    tag = label(n)
    entry: dict[str, Any] = results["sizes"].setdefault(tag, {"docs": n})
    save = lambda: write_results(results, args)  # noqa: E731
    stores = OUT / "stores"
    stores.mkdir(parents=True, exist_ok=True)
    docs = ensure_docs(n, args.seed)
    entry["file_mb"] = docs.stat().st_size / 1e6
    log(f"{tag}: {docs.name} ({entry['file_mb']:.1f} MB)")
    common = ["--docs", str(docs), "--batch-size", str(args.batch_size)]

    raw_store = stores / f"raw-{tag}"
    shutil.rmtree(raw_store, ignore_errors=True)
    log(f"{tag}: raw pyoxigraph insert (the floor)")
    entry["raw"] = worker(
        "load-raw",
        *common,
        "--store",
        str(raw_store),
        "--max-seconds",
        str(args.step_timeout - 120),
        timeout=args.step_timeout,
    )
    log(f"  {_load_line(entry['raw'])}")
    save()

    log(f"{tag}: diplograph end to end")
    e2e_store = stores / f"e2e-{tag}"
    shutil.rmtree(e2e_store, ignore_errors=True)
    entry["diplograph"] = worker(
        "load",
        *common,
        "--store",
        str(e2e_store),
        "--max-seconds",
        str(args.step_timeout - 120),
        timeout=args.step_timeout,
    )
    log(f"  {_load_line(entry['diplograph'])}")
    shutil.rmtree(e2e_store, ignore_errors=True)
    save()

    raw_ok = entry["raw"].get("ok") and entry["raw"].get("finished")
    queries = load_queries()
    if raw_ok:
        # Oxigraph's own union first (a bag), while the raw store has no materialized union;
        # then diplograph opens the store, which builds the union (timed), and the same queries
        # run over it: the floor for the HTTP overhead.
        entry["inprocess_bag"] = queries_in_process(raw_store, "bag", tag, n, results, args)
        save()
        log(f"{tag}: building the materialized union and the summary graph")
        entry["union"] = worker("union", "--store", str(raw_store), timeout=args.step_timeout)
        u = entry["union"]
        log(
            f"  {u['union_quads']:,} quads in {u['union_s']:.1f} s, summary {u['summary_s']:.1f} s"
            if u["ok"]
            else u["error"]
        )
        entry["inprocess"] = queries_in_process(raw_store, "materialized", tag, n, results, args)
        save()
        if not args.no_http:
            skip = timed_out_before(results, n, "http")
            entry["http"] = bench_http(raw_store, queries, args, skip)
            save()
        if args.virtuoso or args.rdflib_endpoint:
            nquads = OUT / "data" / f"dump-{tag}" / "data.nq"
            nquads.parent.mkdir(parents=True, exist_ok=True)
            entry["dump"] = worker(
                "dump", "--store", str(raw_store), "--out", str(nquads), timeout=args.step_timeout
            )
            if args.virtuoso:
                log(f"{tag}: virtuoso")
                skip = timed_out_before(results, n, "virtuoso")
                probe = None
                if args.remote_store and args.probe_docs:
                    probe = ensure_docs(args.probe_docs, args.seed, after=n)
                entry["virtuoso"] = bench_virtuoso(nquads, queries, args, tag, skip, probe)
                save()
            if args.rdflib_endpoint:
                if n > parse_count(args.rdflib_max):
                    entry["rdflib_endpoint"] = {"ok": False, "error": "not run at this size"}
                else:
                    log(f"{tag}: rdflib-endpoint")
                    skip = timed_out_before(results, n, "rdflib_endpoint")
                    skip.update(
                        {q: "skipped (--rdflib-skip)" for q in args.rdflib_skip.split(",") if q}
                    )
                    entry["rdflib_endpoint"] = bench_rdflib_endpoint(nquads, queries, args, skip)
                save()
            if not args.keep_stores:
                shutil.rmtree(nquads.parent, ignore_errors=True)

    if n <= parse_count(args.baseline_max):
        log(f"{tag}: map, then validate the whole graph with pySHACL")
        base_store = stores / f"baseline-{tag}"
        shutil.rmtree(base_store, ignore_errors=True)
        entry["baseline"] = worker(
            "baseline", *common, "--store", str(base_store), timeout=args.step_timeout
        )
        shutil.rmtree(base_store, ignore_errors=True)
        b = entry["baseline"]
        log(
            "  "
            + (
                f"{b['total_s']:.1f} s (validate {b['validate_s']:.1f} s)"
                if b["ok"]
                else b["error"]
            )
        )
        save()

    if raw_ok and args.probe_docs:
        probe = ensure_docs(args.probe_docs, args.seed, after=n)
        pcommon = ["--docs", str(probe), "--batch-size", str(args.batch_size)]
        log(f"{tag}: {args.probe_docs} more documents into an empty store / into this store")
        empty_store = stores / f"probe-empty-{tag}"
        shutil.rmtree(empty_store, ignore_errors=True)
        entry["probe_empty"] = worker(
            "load", *pcommon, "--store", str(empty_store), timeout=args.step_timeout
        )
        shutil.rmtree(empty_store, ignore_errors=True)
        entry["probe_full"] = worker(
            "load", *pcommon, "--store", str(raw_store), timeout=args.step_timeout
        )
        for key in ("probe_empty", "probe_full"):
            log(f"  {key}: {_load_line(entry[key])}")
        save()
    if not args.keep_stores:
        shutil.rmtree(raw_store, ignore_errors=True)
    entry["done"] = True
    save()


def bench_http(
    store: Path, queries: dict[str, str], args: argparse.Namespace, skip: Mapping[str, str]
) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    env.update(PYTHONPATH=str(ROOT), DIPLOGRAPH_MAX_RESULT_ROWS="100000000")
    cmd = [
        sys.executable,
        "-c",
        "from diplograph.cli import main; main()",
        "serve",
        "--store",
        "embedded",
        "--store-path",
        str(store),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--query-timeout",
        str(args.query_timeout),
    ]
    out: dict[str, Any] = {"ok": True}
    log("  diplograph serve")
    try:
        with Server(cmd, http_ok(base + "/health"), cwd=ROOT, env=env, wait=120) as srv:
            out["queries"] = http_queries(
                base + "/sparql",
                queries,
                repeat=args.repeat,
                timeout=args.query_timeout,
                server=srv,
                skip=skip,
            )
            if args.concurrency:
                out["concurrency"] = [
                    wrk(base + "/sparql", queries[LOOKUP_QUERY], c, args.concurrency_seconds)
                    for c in (1, 16)
                ]
            out["vmhwm_mb"] = _vmhwm(srv.pid) if srv.pid else None
            out["restarts"] = srv.restarts
    except (RuntimeError, OSError) as exc:
        out.update(ok=False, error=str(exc)[:500])
        log(f"  {out['error']}")
    return out


def _load_line(r: dict[str, Any]) -> str:
    if not r.get("ok"):
        return str(r.get("error"))
    docs = r.get("loaded", r.get("docs", 0))
    seconds = r.get("insert_s", r.get("total_s", 0.0))
    quads = r.get("quads", r.get("triples", 0))
    return (
        f"{docs} docs, {quads} quads in {seconds:.1f} s ({docs / seconds:.0f} docs/s, "
        f"{quads / seconds:.0f} quads/s), peak RSS {r.get('vmhwm_mb', 0):.0f} MB"
        + ("" if r.get("finished", True) else " — stopped at the time limit")
        + (f", {r['rejected']} rejected" if r.get("rejected") else "")
    )


def bench_profile(args: argparse.Namespace, results: dict[str, Any]) -> None:
    n = parse_count(args.profile_docs)
    docs = ensure_docs(n, args.seed)
    store = OUT / "stores" / "profile"
    shutil.rmtree(store, ignore_errors=True)
    target = OUT / f"profile-{label(n)}.txt"
    log(f"profile: pyinstrument over a {label(n)} load")
    results["profile"] = worker(
        "profile",
        "--docs",
        str(docs),
        "--store",
        str(store),
        "--out",
        str(target),
        "--batch-size",
        str(args.batch_size),
        timeout=args.step_timeout,
    )
    results["profile"]["docs_n"] = n
    if target.exists():
        results["profile"]["excerpt"] = profile_excerpt(target.read_text())
    shutil.rmtree(store, ignore_errors=True)


def profile_excerpt(text: str, lines: int = 60) -> str:
    """The top of a pyinstrument report, with machine paths shortened."""
    keep = []
    for line in text.splitlines():
        line = re.sub(r"\S*/site-packages/", "", line)
        line = line.replace(str(ROOT) + "/", "")
        keep.append(line.rstrip())
    return "\n".join(keep[:lines])


# ------------------------------------------------------------------------------------------------
# Results and the report


def write_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=1))


def render(results: dict[str, Any]) -> str:
    from bench.report import render_markdown

    return render_markdown(results)


def write_doc(results: dict[str, Any]) -> None:
    from bench.report import plot

    body = render(results)
    plot(results, PLOT)
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{BEGIN}\n{body}\n{END}{tail}"
    else:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{body}\n{END}\n"
    DOC.write_text(text)
    log(f"wrote {DOC.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1k,10k", help="document counts, e.g. 1k,10k,100k")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=50, help="documents per batch")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per query")
    parser.add_argument("--virtuoso", action="store_true", help="also measure Virtuoso")
    parser.add_argument(
        "--remote-store",
        action="store_true",
        help="with --virtuoso: also drive Virtuoso as diplograph's remote store (scale-out)",
    )
    parser.add_argument(
        "--rdflib-endpoint", action="store_true", help="also measure rdflib-endpoint"
    )
    parser.add_argument("--rdflib-max", default="10k", help="largest size for rdflib-endpoint")
    parser.add_argument(
        "--rdflib-skip", default="", help="queries not sent to rdflib-endpoint (comma-separated)"
    )
    parser.add_argument("--no-http", action="store_true", help="skip diplograph over HTTP")
    parser.add_argument(
        "--concurrency",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the cheap lookup at 1 and 16 clients with wrk",
    )
    parser.add_argument("--concurrency-seconds", type=int, default=10)
    parser.add_argument("--baseline-max", default="10k", help="largest size for the baseline")
    parser.add_argument("--probe-docs", type=int, default=1000)
    parser.add_argument("--profile-docs", default="1k")
    parser.add_argument("--step-timeout", type=float, default=3600.0, help="seconds per step")
    parser.add_argument("--query-timeout", type=float, default=300.0, help="seconds per query")
    parser.add_argument("--keep-stores", action="store_true")
    parser.add_argument(
        "--render", type=Path, metavar="RESULTS_JSON", help="only rewrite the report"
    )
    parser.add_argument(
        "--resume",
        type=Path,
        metavar="RESULTS_JSON",
        help="keep the sizes RESULTS_JSON has finished and measure the others of --sizes",
    )
    args = parser.parse_args(argv)
    if args.render:
        write_doc(json.loads(args.render.read_text()))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [parse_count(s) for s in args.sizes.split(",") if s]
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.resume:
        return resume(args, sizes, command)
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "machine": machine(),
        "settings": {
            "seed": args.seed,
            "batch_size": args.batch_size,
            "repeat": args.repeat,
            "probe_docs": args.probe_docs,
            "step_timeout_s": args.step_timeout,
            "query_timeout_s": args.query_timeout,
        },
        "queries": {name: _title(text) for name, text in load_queries().items()},
        "sizes": {},
    }
    if args.virtuoso:
        results["machine"]["virtuoso"] = virtuoso_version()
    started = time.perf_counter()
    bench_profile(args, results)
    write_results(results, args)
    for n in sorted(sizes):
        bench_size(n, args, results)
    results["elapsed_s"] = time.perf_counter() - started
    write_results(results, args)
    write_doc(results)
    return 0


def resume(args: argparse.Namespace, sizes: list[int], command: str) -> int:
    """Continue an interrupted run: finished sizes are kept, the others measured again."""
    assert args.resume is not None
    results: dict[str, Any] = json.loads(args.resume.read_text())
    results.setdefault("commands", [results["command"]]).append(command)
    results["sizes"] = {
        tag: entry
        for tag, entry in results["sizes"].items()
        if entry.get("done") or "probe_full" in entry
    }
    started = time.perf_counter()
    for n in sorted(sizes):
        if label(n) not in results["sizes"]:
            bench_size(n, args, results)
    results["elapsed_s"] = results.get("elapsed_s", 0.0) + time.perf_counter() - started
    write_results(results, args)
    write_doc(results)
    return 0


def _title(text: str) -> str:
    match = re.search(r"^# title: (.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else ""


if __name__ == "__main__":
    sys.exit(main())
