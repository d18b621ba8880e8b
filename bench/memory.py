"""Memory while loading and dumping: does the loader stream?

``python -m bench.memory --docs 100k`` loads N generated documents (the data of
``bench.run``, same seed, same bytes) into a fresh on-disk store with ``Graph.load_records``,
the path of ``diplograph load`` (with its validation workers and bulk writes), and records
this process's resident memory every ``--every`` documents: ``VmRSS`` (now), ``RssAnon``
(heap, not file pages) and ``VmHWM`` (the peak so far). The peak at 10k documents and the
peak at the end answer "peak RSS while loading 100k documents is at most 1.5x the peak while
loading 10k" (issues 5 and 17): one process, so the first 10k documents are the 10k run.
Then it reopens the store and dumps it (N-Quads, gzip) while a thread samples ``VmRSS``
every 0.2 s, for "dumps stream with flat memory".

It runs for a long time at 100k documents (about 40 minutes on 2 cores); ``--doc`` writes the
tables into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import parse_count
from bench.inputs import ensure_docs
from bench.loadtest import run_facts, write_doc
from bench.measure import label
from bench.paths import OUT
from diplograph.cli_options import allow_bulk_writes
from diplograph.cli_options import load_workers as cli_load_workers
from diplograph.graph import Graph
from diplograph.loader.config import load_settings
from diplograph.loader.dump import dump_to_path
from diplograph.loader.facts import read_path
from diplograph.loader.store.embedded import EmbeddedStore

MARKER = "memory"


def status() -> dict[str, float]:
    """This process's ``VmRSS``, ``RssAnon`` and ``VmHWM`` in MB."""
    wanted = {"VmRSS:": "rss_mb", "RssAnon:": "anon_mb", "VmHWM:": "hwm_mb"}
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = wanted.get(line.split(maxsplit=1)[0]) if line else None
        if key:
            out[key] = int(line.split()[1]) / 1024
    return out


def descendants_rss_mb() -> float:
    """The ``VmRSS`` of this process's descendants (the validation workers and the forkserver
    that starts them), summed, in MB."""
    total_kb = 0
    todo = [p.read_text().split() for p in Path("/proc/self/task").glob("*/children")]
    pids = [pid for group in todo for pid in group]
    while pids:
        pid = pids.pop()
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                pids += children.read_text().split()
        except OSError:  # the process ended meanwhile
            continue
    return total_kb / 1024


def measure_load(
    docs: Path, store_path: Path, every: int, batch_size: int | None, workers: int | None
) -> list[dict[str, Any]]:
    """Load ``docs``; a sample of memory and speed every ``every`` documents. ``workers``
    validation processes besides this one, as ``diplograph load --workers`` (None: its
    default, the machine's cores); their memory is not this process's."""
    settings = load_settings(
        store="embedded",
        store_path=store_path,
        batch_size=batch_size,
        **cli_load_workers(workers),
    )
    samples: list[dict[str, Any]] = []
    start = time.perf_counter()
    seen = 0
    last = (0, start)

    def progress(count: int) -> None:
        nonlocal seen, last
        seen += count
        if seen // every != (seen - count) // every:
            now = time.perf_counter()
            rate = (seen - last[0]) / (now - last[1]) if now > last[1] else 0.0
            samples.append(
                {
                    "docs": seen,
                    "seconds": now - start,
                    "docs_per_s": rate,
                    **status(),
                    "workers_mb": descendants_rss_mb(),
                }
            )
            print(json.dumps(samples[-1]), flush=True)
            last = (seen, now)

    with Graph(settings) as graph:
        allow_bulk_writes(graph.store, True)  # as `diplograph load` does by default
        report = graph.load_records(read_path(docs), progress=progress)
    # The end of the run: the last batch committed and, after a bulk load, the summary rebuilt.
    now = time.perf_counter()
    rate = (seen - last[0]) / (now - last[1]) if now > last[1] else 0.0
    samples.append(
        {"docs": seen, "seconds": now - start, "docs_per_s": rate, "end": True, **status()}
    )
    if report.documents_rejected:
        print(f"warning: {report.documents_rejected} documents rejected", file=sys.stderr)
    return samples


def measure_dump(store_path: Path, target: Path) -> dict[str, Any]:
    """Dump the store to ``target`` while sampling memory; the before, peak and after."""
    store = EmbeddedStore(store_path)
    before = status()
    peak = [before["rss_mb"]]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak.append(status()["rss_mb"])

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    sampler.start()
    try:
        dump_to_path(store, target)
    finally:
        done.set()
        sampler.join()
        store.close()
    return {
        "seconds": time.perf_counter() - start,
        "bytes": target.stat().st_size,
        "rss_before_mb": before["rss_mb"],
        "rss_peak_mb": max(peak),
        "rss_after_mb": status()["rss_mb"],
    }


def render(result: dict[str, Any]) -> str:
    """The markdown section for docs/benchmarks.md."""
    samples = result["load"]
    ten_k = next((s for s in samples if s["docs"] >= 10_000), None)
    last = samples[-1]
    lines = [
        f"## Memory: {result['date']}",
        "",
        f"Command: `{result['command']}` (from the repository root, in its venv). Machine: "
        f"{result['machine']}. One process loads {last['docs']:,} generated documents (seed "
        f"{result['seed']}, batches of {result['batch_size']}, "
        f"{result.get('workers', 1)} validation processes, bulk writes) with "
        "`Graph.load_records` into a fresh "
        "on-disk store, then dumps the store to gzipped N-Quads. *RSS* is `VmRSS`, *heap* "
        "`RssAnon` (without file pages), *peak* `VmHWM` so far; the rate is over the documents "
        "since the row before; *workers' RSS* the validation processes' `VmRSS`, summed. The "
        "end of the run includes the summary rebuild of a bulk load (docs/mapping.md).",
        "",
        "| documents | elapsed s | docs/s | RSS MB | heap MB | peak MB | workers' RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in samples:
        docs = f"{s['docs']:,}" + (" (end of the run)" if s.get("end") else "")
        rate = f"{s['docs_per_s']:,.0f}" if s["docs_per_s"] else "—"  # no documents since
        lines.append(
            f"| {docs} | {s['seconds']:,.0f} | {rate} | "
            f"{s['rss_mb']:,.0f} | {s['anon_mb']:,.0f} | {s['hwm_mb']:,.0f} | "
            + (f"{s['workers_mb']:,.0f} |" if "workers_mb" in s else "— |")
        )
    if ten_k is not None and last["docs"] > ten_k["docs"]:
        ratio = last["hwm_mb"] / ten_k["hwm_mb"]
        verdict = "met" if ratio <= 1.5 else "**not met**"
        lines += [
            "",
            f"Peak at {last['docs']:,} documents against the peak at {ten_k['docs']:,}: "
            f"{ratio:.2f}x (goal ≤ 1.5x): {verdict}.",
        ]
    dump = result.get("dump")
    if dump:
        lines += [
            "",
            f"Dump of that store: {dump['seconds']:,.0f} s, {dump['bytes'] / 1e6:,.0f} MB "
            f"gzipped; RSS {dump['rss_before_mb']:,.0f} MB before, "
            f"{dump['rss_peak_mb']:,.0f} MB at most during the dump, "
            f"{dump['rss_after_mb']:,.0f} MB after.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    parser.add_argument("--docs", type=parse_count, default=100_000, help="documents (100k)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=5000, help="documents between samples")
    parser.add_argument("--batch-size", type=int, help="documents per batch (default: the setting)")
    parser.add_argument(
        "--workers", type=int, help="validation processes, as `diplograph load --workers`"
    )
    parser.add_argument("--no-dump", action="store_true", help="skip the dump")
    parser.add_argument("--keep-store", action="store_true")
    parser.add_argument("--doc", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args(argv)

    docs = ensure_docs(args.docs, args.seed)
    store_path = OUT / "stores" / f"memory-{label(args.docs)}"
    shutil.rmtree(store_path, ignore_errors=True)
    result: dict[str, Any] = {
        **run_facts("bench.memory", argv),
        "seed": args.seed,
        "batch_size": args.batch_size or load_settings().batch_size,
        "workers": load_settings(**cli_load_workers(args.workers)).load_workers,
    }
    try:
        result["load"] = measure_load(docs, store_path, args.every, args.batch_size, args.workers)
        if not args.no_dump:
            target = OUT / f"dump-memory-{label(args.docs)}.nq.gz"
            result["dump"] = measure_dump(store_path, target)
            target.unlink()
    finally:
        if not args.keep_store:
            shutil.rmtree(store_path, ignore_errors=True)
    out = OUT / f"memory-{label(args.docs)}.json"
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    section = render(result)
    print(section)
    if args.doc:
        write_doc(section, marker=MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
