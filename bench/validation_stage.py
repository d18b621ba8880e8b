"""Scaling of the validation stage over worker processes: in process, a process pool, Dask.

``python -m bench.validation_stage --docs 1000`` maps ``--docs`` generated documents (seed 1) as
a load does, one batch at a time into a store in memory, and keeps every chunk the load
validates (the triples with their neighbourhood, and the nodes to judge: what
loader/batch_validation.py hands a worker). Untimed. Then it times validating all the chunks,
``--repeat`` times each way, alternating:

- *in process*: one process, chunk after chunk (what ``--workers 1`` does);
- *pool N*: the chunks submitted at once to a ``ProcessPoolExecutor`` of N forkserver processes
  (the executor of ``--workers``), the results gathered;
- *Dask N*: the same through a ``distributed.LocalCluster`` of N worker processes, one thread
  each (``--cluster local:N``).

Workers are started and warmed (each has built its validator) before the clock starts. The
loading process only submits and gathers here; in a load it also validates a chunk of each
batch itself, and reads, identifies, maps and commits. The issue's goal (17): 2 Dask worker
processes at least 1.6 times the rate of 1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from datetime import UTC, datetime
from typing import Any

from pyoxigraph import RdfFormat, serialize

from bench.generate import generate, parse_count
from bench.measure import label, machine
from bench.paths import OUT

#: (N-Triples, focus nodes) of each chunk, as a worker receives it.
Chunks = list[tuple[bytes, list[str]]]


def collect(docs: int) -> Chunks:
    """The chunks a one-process load of ``docs`` generated documents validates."""
    from diplograph.loader import batch_validation
    from diplograph.loader.config import load_settings
    from diplograph.loader.facts import parse_document
    from diplograph.loader.pipeline import Loader
    from diplograph.loader.store import open_store

    kept: Chunks = []
    run = batch_validation.BatchValidator._run

    def keep(self: Any, chunks: Sequence[Any]) -> Any:
        kept.extend(
            (serialize(triples, format=RdfFormat.N_TRIPLES) or b"", list(focus))
            for triples, focus in chunks
        )
        return run(self, chunks)

    batch_validation.BatchValidator._run = keep  # type: ignore[method-assign]
    try:
        settings = load_settings(store="memory")
        records = (
            parse_document(doc, source="generated", line=i)
            for i, doc in enumerate(generate(docs, seed=1), start=1)
        )
        Loader(open_store(settings), settings).load(records)
    finally:
        batch_validation.BatchValidator._run = run  # type: ignore[method-assign]
    return kept


def in_process(chunks: Chunks) -> float:
    from diplograph.loader.batch_validation import _validate_text

    _validate_text("sparql", *chunks[0])  # the validator built, as a worker's is
    began = time.perf_counter()
    for data, focus in chunks:
        _validate_text("sparql", data, focus)
    return time.perf_counter() - began


def on_executor(executor: Executor, chunks: Chunks, workers: int) -> float:
    from diplograph.loader.batch_validation import _validate_text

    # Warm every worker: tasks that build the validator and then hold their worker a moment,
    # so that the scheduler spreads them (tasks that end at once may all go to one worker,
    # and the other would build its validator, a second or two, on the clock).
    for future in [executor.submit(_warm) for _ in range(2 * workers)]:
        future.result()
    began = time.perf_counter()
    futures = [executor.submit(_validate_text, "sparql", data, focus) for data, focus in chunks]
    for future in futures:
        future.result()
    return time.perf_counter() - began


def _warm() -> None:
    from diplograph.loader.batch_validation import _validate_text

    _validate_text("sparql", b"", ["urn:x:warm"])
    time.sleep(0.5)


def pool(workers: int) -> tuple[Executor, Callable[[], None]]:
    executor = ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )
    return executor, lambda: executor.shutdown(wait=True)


def dask(workers: int) -> tuple[Executor, Callable[[], None]]:
    from diplograph.loader.cluster import connect

    return connect(f"local:{workers}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=parse_count, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    args = parser.parse_args(argv)
    began = datetime.now(UTC)
    chunks = collect(args.docs)
    counts = [int(n) for n in args.workers.split(",")]
    ways: dict[str, Callable[[], float]] = {"in process": lambda: in_process(chunks)}
    for n in counts:
        for name, start in (("pool", pool), ("Dask", dask)):

            def timed(start: Any = start, n: int = n) -> float:
                executor, close = start(n)
                try:
                    return on_executor(executor, chunks, n)
                finally:
                    close()

            ways[f"{name} {n}"] = timed
    seconds: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(args.repeat):
        for way, run in ways.items():
            seconds[way].append(run())
            print(f"{way}: {seconds[way][-1]:.2f} s", flush=True)
    result = {
        "began": began.isoformat(timespec="seconds"),
        "ended": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "documents": args.docs,
        "chunks": len(chunks),
        "seconds": seconds,
        "median": {way: statistics.median(s) for way, s in seconds.items()},
    }
    out = OUT / f"validation-stage-{label(args.docs)}.json"
    out.write_text(json.dumps(result, indent=2))
    base = result["median"]
    print(f"\n{args.docs} documents, {len(chunks)} chunks; median of {args.repeat}")
    print("| way | median s | documents/s | ÷ the same way with 1 worker |")
    print("|---|---|---|---|")
    for way, median in base.items():
        one = base.get(way.rsplit(" ", 1)[0] + " 1") if way != "in process" else None
        ratio = f"{one / median:.2f}" if one else "—"
        print(f"| {way} | {median:.2f} | {args.docs / median:.1f} | {ratio} |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
