"""Query isolation under load: what issue 13 says must hold, measured side by side in one run.

``python -m bench.isolation --sizes 1k,10k --virtuoso`` loads N generated documents into a fresh
on-disk store (cached in ``bench/out/stores/``), then for each size:

1. **HTTP overhead**: the cheap lookup (``q02``) timed in process (the same evaluation and
   serialization a worker does) and over HTTP with one keep-alive client; medians.
2. **Throughput**: the cheap lookup under wrk at 1 and 16 connections, against
   ``diplograph serve``, a bare ASGI app under the same uvicorn settings answering the same
   bytes (:mod:`bench.bare_asgi`: the ceiling of one Python front process) and
   (``--virtuoso``) Virtuoso loaded with the same quads.
3. **Heavy queries beside cheap ones**: 10 concurrent heavy queries (a COUNT over a cross join,
   minutes of work) while 4 clients loop the cheap lookup; the lookups' p50/p99 and errors, the
   heavy queries' statuses. Twice: the 10 heavy queries from one client address, and from ten.
4. **Capacity back**: a burst of cheap lookups from 16 clients right after the last heavy query
   got its 503; the time until the burst runs at 90 % of the rate the same burst had before.

Clients use distinct source addresses (127.0.0.x, all this machine) where the test says
"clients": the server's fair queue tells clients apart by address. Everything runs on this
machine, clients included, so rates are floors and only ratios travel. Results go to
``bench/out/isolation.json`` (``--out`` names another file).

``--set NAME=VALUE`` (repeatable) gives the server a setting (``DIPLOGRAPH_NAME``), and
``--heavy-only`` runs only part 3 (with the burst it is timed against): how a setting changes
the heavy queries' effect, in a minute a size. ``--cheap-only`` runs only parts 1 and 2 without
the bare ASGI app (diplograph and, with ``--virtuoso``, Virtuoso), and ``--code DIR`` serves the
diplograph found in ``DIR`` (an export of an earlier commit: ``git archive COMMIT | tar -x -C
DIR``) instead of this checkout's, for a before-and-after run of the same command (part 1's
in-process time is always this checkout's).

The throughput runs need ``wrk`` (``make bench-tools``, or the ``wrk`` package of the
distribution); without it the benchmark stops at once and says so. Servers listen on 127.0.0.1
and are stopped by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.generate import parse_count
from bench.http_queries import ACCEPT_JSON, LOOKUP_QUERY, wrk
from bench.inputs import ensure_docs, load_queries
from bench.loadtest import percentile
from bench.measure import label, log, machine
from bench.paths import OUT
from bench.servers import Server, diplograph_serve, free_port, http_ok

ROOT = Path(__file__).resolve().parent.parent
#: Minutes of work in one engine call (a count over a cross join of the whole store).
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d FILTER(?b != ?d) }"
QUERY_TIMEOUT = 5.0


def store_for(n: int) -> Path:
    """An on-disk store with ``n`` generated documents (seed 1), loaded once and kept."""
    path = OUT / "stores" / f"isolation-{label(n)}"
    if (path / "CURRENT").exists():
        return path
    docs = ensure_docs(n, 1)
    log(f"loading {docs.name} into {path}")
    env = {**os.environ, "DIPLOGRAPH_STORE_PATH": str(path)}
    cmd = [sys.executable, "-c", "from diplograph.cli import main; main()", "load", str(docs)]
    subprocess.run([*cmd, "--no-progress"], cwd=ROOT, env=env, check=True, capture_output=True)
    return path


def in_process_ms(store: Path, query: str, repeat: int) -> float:
    """Median ms of the lookup as a worker runs it: evaluate and write SPARQL JSON."""
    from diplograph.api.sparql import QueryTask
    from diplograph.loader.store.embedded import EmbeddedStore

    opened = EmbeddedStore(store)
    task = QueryTask(
        original=query,
        base=None,
        default_graph=None,
        named_graphs=None,
        union=True,
        dataset_in_query=False,
        accept=ACCEPT_JSON,
        format=None,
        base_iri="https://w3id.org/diplograph/",
    )
    times = []
    for i in range(repeat + 50):
        began = time.perf_counter()
        body = b"".join(p for p in task(opened, lambda: None) if isinstance(p, bytes))
        if i >= 50:
            times.append((time.perf_counter() - began) * 1000)
    assert body
    opened.close()
    return statistics.median(times)


def http_ms(endpoint: str, query: str, repeat: int) -> float:
    """Median ms of the lookup over HTTP, one keep-alive client."""
    times = []
    with httpx.Client(timeout=30) as http:
        for i in range(repeat + 50):
            began = time.perf_counter()
            response = http.get(endpoint, params={"query": query}, headers={"Accept": ACCEPT_JSON})
            response.read()
            assert response.status_code == 200, response.text
            if i >= 50:
                times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def client(address: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def burst(endpoint: str, query: str, seconds: float, clients: int = 16) -> list[tuple[float, int]]:
    """Cheap lookups from ``clients`` addresses for ``seconds``: (completion time, status)."""
    done: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def run(index: int) -> None:
        with client(f"127.0.1.{index + 1}") as http:
            while time.monotonic() < stop_at:
                try:
                    status = http.get(endpoint, params={"query": query}).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    done.append((time.monotonic(), status))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done


def heavy_beside_cheap(
    endpoint: str, query: str, heavy_addresses: list[str], baseline_rps: float
) -> dict[str, Any]:
    """10 heavy queries while 4 clients loop ``query``; then a burst, timed against baseline."""
    stop = threading.Event()
    cheap: list[tuple[float, int]] = []
    heavy: list[tuple[int, float, float]] = []
    lock = threading.Lock()

    def cheap_client(index: int) -> None:
        with client(f"127.0.2.{index + 1}") as http:
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    status = http.get(endpoint, params={"query": query}).status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    cheap.append(((time.perf_counter() - began) * 1000, status))

    def heavy_client(index: int) -> None:
        with client(heavy_addresses[index % len(heavy_addresses)]) as http:
            began = time.monotonic()
            response = http.get(endpoint, params={"query": HEAVY})
            with lock:
                heavy.append((response.status_code, time.monotonic(), time.monotonic() - began))

    cheap_threads = [threading.Thread(target=cheap_client, args=(i,)) for i in range(4)]
    for thread in cheap_threads:
        thread.start()
    time.sleep(1.0)
    with lock:
        cheap.clear()  # latencies while the heavy queries run, not the warm-up
    heavy_threads = [threading.Thread(target=heavy_client, args=(i,)) for i in range(10)]
    for thread in heavy_threads:
        thread.start()
    for thread in heavy_threads:
        thread.join()
    stop.set()
    for thread in cheap_threads:
        thread.join()
    last = max(arrived for _, arrived, _ in heavy)
    after = burst(endpoint, query, 4.0)
    return {
        "heavy_addresses": len(heavy_addresses),
        "heavy_statuses": sorted(status for status, _, _ in heavy),
        "heavy_seconds_max": max(seconds for _, _, seconds in heavy),
        "cheap_requests": len(cheap),
        "cheap_errors": sum(1 for _, status in cheap if status != 200),
        "cheap_p50_ms": percentile([ms for ms, _ in cheap], 0.5),
        "cheap_p99_ms": percentile([ms for ms, _ in cheap], 0.99),
        "cheap_max_ms": max(ms for ms, _ in cheap),
        "burst_errors": sum(1 for _, status in after if status != 200),
        **full_rate_after(after, last, baseline_rps),
    }


def full_rate_after(done: list[tuple[float, int]], start: float, baseline: float) -> dict[str, Any]:
    """When a burst first ran at 90 % of ``baseline`` over a whole second, counted from
    ``start``; the rate of each 0.25 s window (the clients share the machine: rates are noisy,
    so one window is not enough)."""
    width, span = 0.25, 4  # four windows: one second
    windows: dict[int, int] = {}
    for finished, status in done:
        if status == 200 and finished >= start:
            index = int((finished - start) / width)
            windows[index] = windows.get(index, 0) + 1
    last = max(windows, default=0)
    rates = [windows.get(i, 0) / width for i in range(last)]  # the last window is partial
    reached = None
    for i in range(len(rates) - span + 1):
        if sum(rates[i : i + span]) / span >= 0.9 * baseline:
            reached = i * width
            break
    return {"full_rate_after_s": reached, "window_rps": [round(r) for r in rates]}


#: ``diplograph serve`` as it was before worker processes: the same app and server, with the
#: query runner of threads (``python -c THREADS_SERVER STORE PORT``), for a side-by-side run.
THREADS_SERVER = """
import sys
from pathlib import Path
import uvicorn
from diplograph.api.app import DEFAULT_QUERY_WORKERS, create_app
from diplograph.api.execution import QueryRunner
from diplograph.loader.config import load_settings
from diplograph.loader.store.embedded import EmbeddedStore
store = EmbeddedStore(Path(sys.argv[1]))
settings = load_settings(store_path=sys.argv[1], max_result_rows=100000000)
app = create_app(settings, store, runner=QueryRunner(DEFAULT_QUERY_WORKERS))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False, server_header=False)
"""


def threads_side_by_side(store: Path, lookup: str, args: argparse.Namespace) -> dict[str, Any]:
    """The lookup's HTTP time and wrk rates with worker threads instead of processes."""
    port = free_port()
    cmd = [sys.executable, "-c", THREADS_SERVER, str(store), str(port)]
    out: dict[str, Any] = {}
    ready = http_ok(f"http://127.0.0.1:{port}/health")
    with Server(cmd, ready, cwd=ROOT, env=dict(os.environ), wait=60):
        endpoint = f"http://127.0.0.1:{port}/sparql"
        out["http_ms"] = http_ms(endpoint, lookup, args.repeat)
        out["wrk"] = [wrk(endpoint, lookup, c, args.seconds) for c in (1, 16)]
    rates = [round(w.get("rps", 0)) for w in out["wrk"]]
    log(f"  threads: HTTP {out['http_ms']:.2f} ms, wrk {rates}")
    return out


def bare_side_by_side(
    body: bytes, media_type: str, lookup: str, args: argparse.Namespace
) -> dict[str, Any]:
    """wrk at 1 and 16 connections against a bare ASGI app answering ``body`` (the ceiling)."""
    path = OUT / "isolation-lookup-body"
    path.write_bytes(body)
    port = free_port()
    cmd = [sys.executable, "-m", "bench.bare_asgi", str(path), media_type, str(port)]
    out: dict[str, Any] = {"bytes": len(body)}
    with Server(cmd, http_ok(f"http://127.0.0.1:{port}/which"), cwd=ROOT, env=dict(os.environ),
                wait=60):  # fmt: skip
        out["uvicorn"] = httpx.get(f"http://127.0.0.1:{port}/which").json()
        out["wrk"] = [wrk(f"http://127.0.0.1:{port}/sparql", lookup, c, args.seconds)
                      for c in (1, 16)]  # fmt: skip
    log(f"  bare ASGI ({out['uvicorn']}): wrk {[round(w.get('rps', 0)) for w in out['wrk']]}")
    return out


def bench_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    store = store_for(n)
    queries = load_queries()
    lookup = queries[LOOKUP_QUERY]
    out: dict[str, Any] = {"docs": n, "settings": args.set}
    if not args.heavy_only:
        out["in_process_ms"] = in_process_ms(store, lookup, args.repeat)
    port = free_port()
    settings = {f"DIPLOGRAPH_{name.upper()}": value for name, value in args.set.items()}
    cmd, env = diplograph_serve(port, QUERY_TIMEOUT, ["--store-path", str(store)], settings)
    cwd = ROOT
    if args.code:  # another copy of diplograph (an earlier commit): run there, found first
        cwd = Path(args.code).resolve()
        env["PYTHONPATH"] = os.pathsep.join([str(cwd), env["PYTHONPATH"]])
    out["code"] = args.code or "this checkout"
    endpoint = f"http://127.0.0.1:{port}/sparql"
    with Server(cmd, http_ok(f"http://127.0.0.1:{port}/health"), cwd=cwd, env=env, wait=60):
        out["workers"] = httpx.get(f"http://127.0.0.1:{port}/health").json()["queries"]
        if not args.heavy_only:
            out["http_ms"] = http_ms(endpoint, lookup, args.repeat)
            out["overhead_ms"] = out["http_ms"] - out["in_process_ms"]
            log(f"  {label(n)}: in process {out['in_process_ms']:.2f} ms, "
                f"HTTP {out['http_ms']:.2f} ms")  # fmt: skip
            out["wrk"] = [wrk(endpoint, lookup, c, args.seconds) for c in (1, 16)]
            log(f"  {label(n)}: wrk {[round(w.get('rps', 0)) for w in out['wrk']]} req/s")
            answer = httpx.get(endpoint, params={"query": lookup}, headers={"Accept": ACCEPT_JSON})
        if not args.cheap_only:
            heavy_parts(out, endpoint, lookup, n)
        out["metrics"] = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    if args.cheap_only:  # the server stopped: the peers have the machine to themselves
        return _cheap_peers(out, store, lookup, n, args)
    if args.heavy_only:
        return out
    out["bare"] = bare_side_by_side(answer.content, answer.headers["content-type"], lookup, args)
    if args.threads:
        out["threads"] = threads_side_by_side(store, lookup, args)
    if args.virtuoso:
        out["virtuoso"] = virtuoso(store, lookup, n, args)
    return out


def heavy_parts(out: dict[str, Any], endpoint: str, lookup: str, n: int) -> None:
    """Parts 3 and 4: heavy queries from one client and from ten beside cheap lookups."""
    before = burst(endpoint, lookup, 4.0)
    out["burst_rps"] = sum(1 for _, s in before if s == 200) / 4.0
    out["one_heavy_client"] = heavy_beside_cheap(endpoint, lookup, ["127.0.3.1"], out["burst_rps"])
    log(f"  {label(n)}: one heavy client: {summary(out['one_heavy_client'])}")
    out["ten_heavy_clients"] = heavy_beside_cheap(
        endpoint, lookup, [f"127.0.3.{i + 1}" for i in range(10)], out["burst_rps"]
    )
    log(f"  {label(n)}: ten heavy clients: {summary(out['ten_heavy_clients'])}")


def _cheap_peers(
    out: dict[str, Any], store: Path, lookup: str, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    """``--cheap-only``: after diplograph's lookups, the peers' (threads, Virtuoso) if asked."""
    if args.threads:
        out["threads"] = threads_side_by_side(store, lookup, args)
    if args.virtuoso:
        out["virtuoso"] = virtuoso(store, lookup, n, args)
    return out


def summary(result: dict[str, Any]) -> str:
    return (
        f"cheap p50 {result['cheap_p50_ms']:.1f} ms p99 {result['cheap_p99_ms']:.1f} ms, "
        f"{result['cheap_errors']} errors of {result['cheap_requests']}; heavy "
        f"{result['heavy_statuses']}; full rate after {result['full_rate_after_s']} s"
    )


def virtuoso(store: Path, lookup: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """The same quads in Virtuoso: wrk at 1 and 16 connections on the lookup."""
    from bench.peers.virtuoso import bench_virtuoso

    nquads = OUT / "data" / f"isolation-{label(n)}.nq"
    if not nquads.exists():
        env = {**os.environ, "DIPLOGRAPH_STORE_PATH": str(store)}
        dump = [sys.executable, "-c", "from diplograph.cli import main; main()", "dump"]
        subprocess.run([*dump, str(nquads)], cwd=ROOT, env=env, check=True, capture_output=True)
    peer_args = argparse.Namespace(
        step_timeout=1800, repeat=5, query_timeout=60, concurrency=True,
        concurrency_seconds=args.seconds, remote_store=False, keep_stores=False,
    )  # fmt: skip
    result = bench_virtuoso(nquads, {LOOKUP_QUERY: lookup}, peer_args, f"isolation-{label(n)}", {})
    log(f"  {label(n)}: virtuoso {[round(w.get('rps', 0)) for w in result.get('concurrency', [])]}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="1k", help="document counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=300, help="timed lookups for the medians")
    parser.add_argument("--seconds", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--virtuoso", action="store_true", help="also Virtuoso (wrk)")
    parser.add_argument(
        "--threads", action="store_true", help="also the server with worker threads (before)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="NAME=VALUE",
        help="a server setting, e.g. query_spare_processes=0 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--heavy-only", action="store_true", help="only the heavy queries beside cheap ones"
    )
    parser.add_argument(
        "--cheap-only", action="store_true",
        help="only the lookup's times and wrk rates (and the peers asked for), no heavy queries",
    )  # fmt: skip
    parser.add_argument(
        "--code", metavar="DIR", help="serve the diplograph in DIR (an earlier commit's export)"
    )
    parser.add_argument("--out", default="isolation.json", help="file name in bench/out/")
    args = parser.parse_args(argv)
    if args.cheap_only and args.heavy_only:
        parser.error("--cheap-only and --heavy-only exclude each other")
    args.set = dict(item.split("=", 1) for item in args.set)
    if shutil.which("wrk") is None and not args.heavy_only:
        print(
            "bench.isolation: wrk is not installed, and the throughput runs need it. Install it "
            "with `make bench-tools` (as root: apt-get install wrk), or run only the heavy "
            "queries beside cheap ones with --heavy-only.",
            file=sys.stderr,
        )
        return 2
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "sizes": {},
    }
    for size in args.sizes.split(","):
        n = parse_count(size)
        log(f"isolation at {label(n)} documents")
        results["sizes"][label(n)] = bench_size(n, args)
        (OUT / args.out).write_text(json.dumps(results, indent=1))
    results["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["load_average"] = os.getloadavg()
    (OUT / args.out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
