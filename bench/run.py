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
import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import parse_count
from bench.inputs import ensure_docs, load_queries, query_title
from bench.measure import label, log, machine, worker
from bench.paths import OUT
from bench.peers.baseline import bench_baseline
from bench.peers.raw_oxigraph import bench_raw_insert
from bench.peers.rdflib_endpoint import bench_rdflib_endpoint
from bench.peers.virtuoso import bench_virtuoso, virtuoso_version
from bench.report.document import write_doc
from bench.results import finished_sizes, timed_out_before, write_results
from bench.steps import (
    bench_http,
    bench_load,
    bench_probe,
    bench_profile,
    build_union,
    queries_in_process,
)


def bench_size(n: int, args: argparse.Namespace, results: dict[str, Any]) -> None:
    """Every measurement at ``n`` documents, into ``results["sizes"]``, saved after each step."""
    tag = label(n)
    entry: dict[str, Any] = results["sizes"].setdefault(tag, {"docs": n})

    def save() -> None:
        write_results(results)

    stores = OUT / "stores"
    stores.mkdir(parents=True, exist_ok=True)
    docs = ensure_docs(n, args.seed)
    entry["file_mb"] = docs.stat().st_size / 1e6
    log(f"{tag}: {docs.name} ({entry['file_mb']:.1f} MB)")

    raw_store = stores / f"raw-{tag}"
    log(f"{tag}: raw pyoxigraph insert (the floor)")
    entry["raw"] = bench_raw_insert(docs, raw_store, args)
    save()

    log(f"{tag}: diplograph end to end")
    entry["diplograph"] = bench_load(docs, stores / f"e2e-{tag}", args)
    save()

    raw_ok = entry["raw"].get("ok") and entry["raw"].get("finished")
    if raw_ok:
        query_engines(n, raw_store, args, results)

    if n <= parse_count(args.baseline_max):
        log(f"{tag}: map, then validate the whole graph with pySHACL")
        entry["baseline"] = bench_baseline(docs, tag, args)
        save()

    if raw_ok and args.probe_docs:
        entry.update(bench_probe(n, raw_store, tag, args))
        save()
    if not args.keep_stores:
        shutil.rmtree(raw_store, ignore_errors=True)
    entry["done"] = True
    save()


def query_engines(
    n: int, raw_store: Path, args: argparse.Namespace, results: dict[str, Any]
) -> None:
    """The queries at ``n`` documents on every engine, over the store the raw insert wrote."""
    tag = label(n)
    entry: dict[str, Any] = results["sizes"][tag]
    queries = load_queries()
    # Oxigraph's own union first (a bag), while the raw store has no materialized union; then
    # diplograph opens the store, which builds the union (timed), and the same queries run over
    # it: the floor for the HTTP overhead.
    entry["inprocess_bag"] = queries_in_process(raw_store, "bag", tag, n, results, args)
    write_results(results)
    log(f"{tag}: building the materialized union and the summary graph")
    entry["union"] = build_union(raw_store, args)
    entry["inprocess"] = queries_in_process(raw_store, "materialized", tag, n, results, args)
    write_results(results)
    if not args.no_http:
        skip = timed_out_before(results, n, "http")
        entry["http"] = bench_http(raw_store, queries, args, skip)
        write_results(results)
    if not (args.virtuoso or args.rdflib_endpoint):
        return
    # The peers load an N-Quads dump of the same store.
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
        write_results(results)
    if args.rdflib_endpoint:
        if n > parse_count(args.rdflib_max):
            entry["rdflib_endpoint"] = {"ok": False, "error": "not run at this size"}
        else:
            log(f"{tag}: rdflib-endpoint")
            skip = timed_out_before(results, n, "rdflib_endpoint")
            skip.update({q: "skipped (--rdflib-skip)" for q in args.rdflib_skip.split(",") if q})
            entry["rdflib_endpoint"] = bench_rdflib_endpoint(nquads, queries, args, skip)
        write_results(results)
    if not args.keep_stores:
        shutil.rmtree(nquads.parent, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: measure ``--sizes`` (or ``--resume``, or only ``--render``)."""
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
        "queries": {name: query_title(text) for name, text in load_queries().items()},
        "sizes": {},
    }
    if args.virtuoso:
        results["machine"]["virtuoso"] = virtuoso_version()
    started = time.perf_counter()
    bench_profile(args, results)
    write_results(results)
    for n in sorted(sizes):
        bench_size(n, args, results)
    results["elapsed_s"] = time.perf_counter() - started
    write_results(results)
    write_doc(results)
    return 0


def resume(args: argparse.Namespace, sizes: list[int], command: str) -> int:
    """Continue an interrupted run: finished sizes are kept, the others measured again."""
    assert args.resume is not None
    results: dict[str, Any] = json.loads(args.resume.read_text())
    results.setdefault("commands", [results["command"]]).append(command)
    results["sizes"] = finished_sizes(results)
    started = time.perf_counter()
    for n in sorted(sizes):
        if label(n) not in results["sizes"]:
            bench_size(n, args, results)
    results["elapsed_s"] = results.get("elapsed_s", 0.0) + time.perf_counter() - started
    write_results(results)
    write_doc(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
