"""The measurements, each run by ``bench.run`` in a subprocess of its own.

``python -m bench.workers TASK ...`` does one measurement and prints one line
``RESULT {json}`` at the end. A fresh process per measurement keeps peak memory (``ru_maxrss``,
``VmHWM``) attributable and lets the runner bound every step in time and end it by PID.

Tasks:

* ``load-raw`` — the floor: parse and map the documents with diplograph's own code (untimed),
  then time ``pyoxigraph.Store.extend`` of each batch's quads into an on-disk store;
* ``load`` — diplograph end to end (``Loader.load``: parse, map, SHACL-validate, commit) into an
  on-disk store, empty or not, with the time split by stage;
* ``query`` — one query against a store, in process: a warm-up, then the median of 5;
* ``baseline`` — what a user would otherwise assemble: map everything, validate the whole graph
  with pySHACL once, then insert;
* ``profile`` — ``load`` under pyinstrument, its report written to a file;
* ``dump`` — a store's quads as N-Quads (for the peers).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench.query_timing import run_query, timed_runs

T = TypeVar("T")


def memory() -> dict[str, float]:
    """Peak and current resident memory of this process, in MB."""
    out = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                key = "vmhwm_mb" if line.startswith("VmHWM") else "vmrss_mb"
                out[key] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return out


def emit(result: dict[str, Any]) -> None:
    result.update(memory())
    print("RESULT " + json.dumps(result), flush=True)


class Timers:
    """Accumulated wall time per stage, filled in by wrapped functions."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, func: Callable[..., T]) -> Callable[..., T]:
        def timed(*args: Any, **kwargs: Any) -> T:
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed

    def iterate(self, name: str, items: Iterable[T]) -> Iterator[T]:
        iterator = iter(items)
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
                return
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            yield item


def _until(deadline: float, items: Iterable[T], stopped: list[bool]) -> Iterator[T]:
    for item in items:
        if time.monotonic() > deadline:
            stopped.append(True)
            return
        yield item


# ------------------------------------------------------------------------------------------------
# Loading


def _settings(store: Path, batch_size: int, remote: str | None = None) -> Any:
    """Embedded settings, or remote ones when ``remote`` is a JSON object of remote_* values."""
    import json

    from diplograph.loader.config import load_settings

    if remote:
        return load_settings(store="remote", batch_size=batch_size, **json.loads(remote))
    return load_settings(store="embedded", store_path=store, batch_size=batch_size)


def task_load_raw(args: argparse.Namespace) -> None:
    """Map (untimed), then ``Store.extend`` each batch's quads (timed): the floor."""
    from pyoxigraph import NamedNode, Quad, Store

    from diplograph.loader.facts import read_path
    from diplograph.loader.iris import IriMinter
    from diplograph.loader.mapping import map_document
    from diplograph.loader.namespaces import ONTOLOGY_IRI
    from diplograph.loader.ontology import ontology_triples, superclass_closure

    settings = _settings(args.store, args.batch_size)
    minter = IriMinter(settings.base_iri)
    superclasses = superclass_closure()
    store = Store(str(args.store))
    graph = NamedNode(ONTOLOGY_IRI)
    store.extend([Quad(t.subject, t.predicate, t.object, graph) for t in ontology_triples()])
    insert_s = 0.0
    docs = quads = 0
    started = time.perf_counter()
    deadline = time.monotonic() + args.max_seconds
    stopped: list[bool] = []
    batch: list[Quad] = []

    def flush() -> None:
        nonlocal insert_s, quads
        t0 = time.perf_counter()
        store.extend(batch)
        insert_s += time.perf_counter() - t0
        quads += len(batch)
        batch.clear()

    pending = 0
    for record in _until(deadline, read_path(args.docs), stopped):
        assert record.document is not None, record.error
        mapped = map_document(record.document, minter, superclasses)
        g = NamedNode(mapped.graph)
        batch.extend(Quad(t.subject, t.predicate, t.object, g) for t in mapped.triples)
        docs += 1
        pending += 1
        if pending >= args.batch_size:
            flush()
            pending = 0
    if batch:
        flush()
    total_s = time.perf_counter() - started
    store.flush()
    emit(
        {
            "docs": docs,
            "quads": quads,
            "insert_s": insert_s,
            "total_s": total_s,
            "store_quads": len(store),
            "finished": not stopped,
        }
    )


def _instrumented_loader(
    store_path: Path, batch_size: int, remote: str | None = None
) -> tuple[Any, Any, Timers]:
    import diplograph.loader.pipeline as pipeline
    from diplograph.loader.store import open_store

    timers = Timers()
    pipeline.map_document = timers.wrap("map", pipeline.map_document)  # type: ignore[assignment]
    settings = _settings(store_path, batch_size, remote)
    store = open_store(settings)
    loader = pipeline.Loader(store, settings)
    loader.ensure_ontology()
    # Warm the validator (shapes and ontology are parsed once per process) outside the timer.
    loader.validator.validate([])
    loader.validator.validate = timers.wrap("validate", loader.validator.validate)
    store.types_of = timers.wrap("neighbourhood (types_of)", store.types_of)  # type: ignore[method-assign]
    store.commit = timers.wrap("commit", store.commit)  # type: ignore[method-assign]
    store.graph_triples = timers.wrap("unchanged check", store.graph_triples)  # type: ignore[method-assign]
    return loader, store, timers


def task_load(args: argparse.Namespace) -> None:
    """diplograph end to end, with the time split into parse, map, validate, commit."""
    from diplograph.loader.facts import read_path

    loader, store, timers = _instrumented_loader(args.store, args.batch_size, args.remote)
    before = store.count()
    deadline = time.monotonic() + args.max_seconds
    stopped: list[bool] = []
    records = timers.iterate("parse (read + pydantic)", read_path(args.docs))
    started = time.perf_counter()
    report = loader.load(_until(deadline, records, stopped))
    total_s = time.perf_counter() - started
    stages = dict(timers.seconds)
    stages["other"] = total_s - sum(stages.values())
    after = store.count()
    store.close()
    emit(
        {
            "docs": report.documents_seen,
            "loaded": report.documents_loaded,
            "rejected": report.documents_rejected,
            "unchanged": report.documents_unchanged,
            "triples": report.triples_loaded,
            "total_s": total_s,
            "stages_s": stages,
            "calls": timers.calls,
            "store_quads_before": before,
            "store_quads": after,
            "finished": not stopped,
            "first_rejection": report.rejections[0].to_dict() if report.rejections else None,
        }
    )


def task_profile(args: argparse.Namespace) -> None:
    """``load`` under pyinstrument; the text report goes to ``--out``."""
    from pyinstrument import Profiler

    from diplograph.loader.facts import read_path

    loader, _store, timers = _instrumented_loader(args.store, args.batch_size)
    profiler = Profiler(interval=0.002)
    profiler.start()
    started = time.perf_counter()
    report = loader.load(timers.iterate("parse (read + pydantic)", read_path(args.docs)))
    total_s = time.perf_counter() - started
    profiler.stop()
    args.out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    args.out.with_suffix(".html").write_text(profiler.output_html())
    stages = dict(timers.seconds)
    stages["other"] = total_s - sum(stages.values())
    emit({"docs": report.documents_seen, "total_s": total_s, "stages_s": stages})


def task_baseline(args: argparse.Namespace) -> None:
    """Map everything, validate the whole graph with pySHACL once, then insert it."""
    from pyoxigraph import NamedNode, Quad, Store

    from diplograph.loader.facts import read_path
    from diplograph.loader.iris import IriMinter
    from diplograph.loader.mapping import map_document
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.validate import Validator

    settings = _settings(args.store, 50)
    minter = IriMinter(settings.base_iri)
    superclasses = superclass_closure()
    validator = Validator()
    validator.validate([])  # parse the shapes outside the timer, as for the loader
    t0 = time.perf_counter()
    quads: list[Quad] = []
    union: set[Any] = set()
    for record in read_path(args.docs):
        assert record.document is not None, record.error
        mapped = map_document(record.document, minter, superclasses)
        g = NamedNode(mapped.graph)
        quads.extend(Quad(t.subject, t.predicate, t.object, g) for t in mapped.triples)
        union.update(mapped.triples)
    t1 = time.perf_counter()
    report = validator.validate(list(union))
    t2 = time.perf_counter()
    store = Store(str(args.store))
    store.extend(quads)
    store.flush()
    t3 = time.perf_counter()
    emit(
        {
            "map_s": t1 - t0,
            "validate_s": t2 - t1,
            "insert_s": t3 - t2,
            "total_s": t3 - t0,
            "union_triples": len(union),
            "quads": len(quads),
            "conforms": report.conforms,
            "results": len(report.results),
        }
    )


# ------------------------------------------------------------------------------------------------
# Queries


def task_query(args: argparse.Namespace) -> None:
    from pyoxigraph import Store

    store = Store.read_only(str(args.store))
    text = args.query.read_text()
    run = lambda: run_query(store, text, args.union)  # noqa: E731
    emit({"query": args.query.stem, **timed_runs(run, args.repeat)})


def task_union(args: argparse.Namespace) -> None:
    """Open a store written by the raw insert with diplograph, which builds the union, then
    build the summary graph."""
    from pyoxigraph import DefaultGraph

    from diplograph.loader.config import load_settings
    from diplograph.loader.store.embedded import EmbeddedStore
    from diplograph.loader.summary import Summary

    t0 = time.perf_counter()
    store = EmbeddedStore(args.store)
    union_s = time.perf_counter() - t0
    # The raw insert wrote no summary graph either: build it, for the *_summary queries.
    t1 = time.perf_counter()
    Summary(store, load_settings(store="embedded", store_path=args.store).base_iri).rebuild()
    summary_s = time.perf_counter() - t1
    union = sum(1 for _ in store.oxigraph.quads_for_pattern(None, None, None, DefaultGraph()))
    store.close()
    emit({"union_s": union_s, "summary_s": summary_s, "union_quads": union})


def task_dump(args: argparse.Namespace) -> None:
    from pyoxigraph import DefaultGraph, RdfFormat, Store, serialize

    store = Store.read_only(str(args.store))
    t0 = time.perf_counter()
    # The named graphs only: the default graph holds diplograph's union, derived from them.
    quads = (q for q in store if not isinstance(q.graph_name, DefaultGraph))
    serialize(quads, output=str(args.out), format=RdfFormat.N_QUADS)
    emit({"dump_s": time.perf_counter() - t0, "bytes": args.out.stat().st_size})


# ------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers")
    sub = parser.add_subparsers(dest="task", required=True)
    for name in ("load-raw", "load", "profile", "baseline"):
        p = sub.add_parser(name)
        p.add_argument("--docs", type=Path, required=True)
        p.add_argument("--store", type=Path, required=True)
        p.add_argument("--batch-size", type=int, default=50)
        p.add_argument("--max-seconds", type=float, default=float("inf"))
        p.add_argument("--out", type=Path)
        p.add_argument("--remote", help="JSON of remote_* settings: load into a remote store")
    p = sub.add_parser("query")
    p.add_argument("--store", type=Path, required=True)
    p.add_argument("--query", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--union", choices=("materialized", "bag"), default="materialized")
    p = sub.add_parser("union")
    p.add_argument("--store", type=Path, required=True)
    p = sub.add_parser("dump")
    p.add_argument("--store", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    tasks: dict[str, Callable[[argparse.Namespace], None]] = {
        "load-raw": task_load_raw,
        "load": task_load,
        "profile": task_profile,
        "baseline": task_baseline,
        "query": task_query,
        "dump": task_dump,
        "union": task_union,
    }
    tasks[args.task](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
