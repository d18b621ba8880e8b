"""A bounded load test of the SPARQL endpoint: a fixed number of requests at 1, 4 and 16 clients.

``python -m bench.loadtest`` loads the example story and N generated documents into a fresh
on-disk store, starts ``diplograph serve`` on 127.0.0.1 in its own process, and sends the
competency questions (``ontology/queries/*.rq``: cheap lookups and aggregates over all events
alike, in a fixed round-robin order) from 1, 4 and 16 client threads, each with its own
keep-alive connection. Each level is bounded twice: a fixed number of requests, and a time limit
after which no new request starts. It reports, per level, the requests sent, errors (any status
but 200, or a transport error), requests per second, and p50/p99/max latency, and with
``--doc`` writes them into ``docs/benchmarks.md``.

The same :func:`run_load` is what ``tests/test_load_test.py`` runs (smaller) against a live
server, asserting zero errors.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "ontology" / "queries"
DOC = ROOT / "docs" / "benchmarks.md"
MARKER = "loadtest"


@dataclass(frozen=True)
class Level:
    """What one concurrency level measured."""

    clients: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    #: The first few errors, for the report (status and a line of the body, or the exception).
    error_samples: list[str] = field(default_factory=list)


def competency_queries(directory: Path = QUERIES) -> list[tuple[str, str]]:
    """The competency questions as (name, text), in file order."""
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.rq"))]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in [0, 1]) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def run_level(
    endpoint: str,
    queries: Sequence[tuple[str, str]],
    *,
    clients: int,
    requests: int,
    max_seconds: float,
    timeout: float = 30.0,
) -> Level:
    """Send ``requests`` queries (round-robin over ``queries``) from ``clients`` threads."""
    lock = threading.Lock()
    next_index = 0
    latencies: list[float] = []
    errors: list[str] = []
    start = time.perf_counter()
    stop_at = start + max_seconds

    def take() -> int | None:
        nonlocal next_index
        with lock:
            if next_index >= requests or time.perf_counter() > stop_at:
                return None
            next_index += 1
            return next_index - 1

    def client() -> None:
        with httpx.Client(timeout=timeout) as http:
            while (index := take()) is not None:
                name, text = queries[index % len(queries)]
                t0 = time.perf_counter()
                try:
                    response = http.get(
                        endpoint,
                        params={"query": text},
                        headers={"Accept": "application/sparql-results+json"},
                    )
                    response.read()
                    problem = (
                        None
                        if response.status_code == 200
                        else f"{name}: {response.status_code} {response.text[:120]!r}"
                    )
                except httpx.HTTPError as exc:
                    problem = f"{name}: {type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    if problem is not None:
                        errors.append(problem)

    threads = [threading.Thread(target=client, name=f"load-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return Level(
        clients=clients,
        requests=len(latencies),
        errors=len(errors),
        seconds=seconds,
        rps=len(latencies) / seconds if seconds > 0 else 0.0,
        p50_ms=statistics.median(ms) if ms else float("nan"),
        p99_ms=percentile(ms, 0.99),
        max_ms=max(ms) if ms else float("nan"),
        error_samples=errors[:5],
    )


def run_load(
    endpoint: str,
    *,
    levels: Sequence[int] = (1, 4, 16),
    requests: int = 400,
    max_seconds: float = 20.0,
    queries: Sequence[tuple[str, str]] | None = None,
) -> list[Level]:
    """One :class:`Level` per client count, after one warm-up pass over the queries."""
    chosen = list(queries) if queries is not None else competency_queries()
    run_level(endpoint, chosen, clients=1, requests=len(chosen), max_seconds=max_seconds)
    return [
        run_level(endpoint, chosen, clients=n, requests=requests, max_seconds=max_seconds)
        for n in levels
    ]


# ------------------------------------------------------------------------------------------------
# The command: data, a server in its own process, the report


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _diplograph(*args: str) -> list[str]:
    return [sys.executable, "-m", "diplograph.cli", *args]


def _prepare_store(store: Path, docs: int, seed: int, env: dict[str, str]) -> None:
    files = [ROOT / "examples" / "story.json"]
    if docs:
        generated = store.parent / f"docs-{docs}.jsonl"
        command = ["-m", "bench.generate", "--docs", str(docs), "--seed", str(seed)]
        subprocess.run(
            [sys.executable, *command, "-o", str(generated)],
            check=True,
            cwd=ROOT,
        )
        files.append(generated)
    for path in files:
        subprocess.run(_diplograph("load", str(path)), check=True, env=env, cwd=ROOT)


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        _diplograph("serve", "--port", str(port)),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"diplograph serve exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("diplograph serve did not answer /health within 60 s")


def machine() -> str:
    """The CPU model, core count and Python version, for the reports."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def render(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    levels = [Level(**lv) for lv in result["levels"]]
    lines = [
        f"## Load test: {result['date']}",
        "",
        f"Command: `{result['command']}` (from the repository root, in its venv).",
        "",
        f"Machine: {result['machine']}. Data: the example story and {result['docs']:,} "
        f"generated documents (seed {result['seed']}). The server (`diplograph serve`, one "
        "process, default settings) and the client threads share the machine's cores. "
        f"Requests: the {result['queries']} competency questions of `ontology/queries/` in turn, "
        f"GET, SPARQL JSON results; at most {result['requests']} requests or "
        f"{result['max_seconds']:g} s per level, after one warm-up pass.",
        "",
        "| clients | requests | errors | req/s | p50 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for lv in levels:
        lines.append(
            f"| {lv.clients} | {lv.requests} | {lv.errors} | {lv.rps:,.0f} | {lv.p50_ms:.1f} | "
            f"{lv.p99_ms:.1f} | {lv.max_ms:.1f} |"
        )
    samples = [s for lv in levels for s in lv.error_samples]
    if samples:
        lines += ["", "Errors (first of each level):", ""] + [f"- `{s}`" for s in samples]
    return "\n".join(lines) + "\n"


def run_facts(module: str, argv: Sequence[str] | None) -> dict[str, str]:
    """When, where and how a run was made: the head of every report of ``bench``."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": f"python -m {module} " + " ".join(sys.argv[1:] if argv is None else argv),
    }


def write_doc(section: str, path: Path = DOC, *, marker: str = MARKER) -> None:
    """Replace the ``marker`` section of ``path`` (added at the end the first time)."""
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = f"{begin}\n{section}{end}\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1].lstrip("\n")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__)
    parser.add_argument("--docs", type=int, default=1000, help="generated documents to add")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clients", default="1,4,16", help="concurrency levels")
    parser.add_argument("--requests", type=int, default=400, help="requests per level")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time limit per level")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "loadtest.json")
    parser.add_argument("--doc", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)

    levels = [int(x) for x in args.clients.split(",") if x]
    work = Path(tempfile.mkdtemp(prefix="diplograph-load-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    env.update(DIPLOGRAPH_STORE_PATH=str(work / "store"), PYTHONPATH=str(ROOT))
    server: subprocess.Popen[bytes] | None = None
    try:
        print(f"loading the story and {args.docs} generated documents", flush=True)
        _prepare_store(work / "store", args.docs, args.seed, env)
        port = _free_port()
        server = _serve(env, port)
        endpoint = f"http://127.0.0.1:{port}/sparql"
        measured = run_load(
            endpoint, levels=levels, requests=args.requests, max_seconds=args.max_seconds
        )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)
    result: dict[str, Any] = {
        **run_facts("bench.loadtest", argv),
        "docs": args.docs,
        "seed": args.seed,
        "requests": args.requests,
        "max_seconds": args.max_seconds,
        "queries": len(competency_queries()),
        "levels": [asdict(lv) for lv in measured],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    section = render(result)
    print(section)
    if args.doc:
        write_doc(section)
    return 1 if any(lv.errors for lv in measured) else 0


if __name__ == "__main__":
    sys.exit(main())
