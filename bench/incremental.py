"""A small load into a large store against the same load into an empty one (issue 17 §5).

``python -m bench.incremental --store 10k --docs 1k --runs 2`` answers "1k documents into a store
of N documents take at most 1.5x their time into an empty store". It builds the store of the
``--store`` seeded documents once (``diplograph load``, kept in ``bench/out/stores/``), brings
it up to the current code (:func:`up_to_date`, untimed), then alternates, ``--runs`` times:
``diplograph load`` of the ``--docs`` documents that follow them into a fresh copy of that
store, and into an empty store. Whole processes, the command's
default settings, as a user runs them; each line gives the machine's load average at its start.
The ratio is taken between the medians. ``--doc`` is not offered: the figures go into
docs/benchmarks.md by hand, with the run's context.

``--via api`` posts the same documents to ``POST /facts`` of a ``diplograph serve`` of each
store instead, in ``--parts`` requests, as a newsroom feeding a running server does. The first
request reads the store's claims, as a process's first load does; it is timed on its own, and
the ratio is taken over the other requests together: the pace of a server that keeps running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import parse_count
from bench.inputs import ensure_docs
from bench.measure import label, loadavg, vmhwm
from bench.paths import OUT, ROOT
from bench.remote_load import line, timed_load
from bench.servers import Server, diplograph_serve, free_port, http_ok


def built_store(n: int, seed: int, env: dict[str, str]) -> Path:
    """The store of the first ``n`` documents at ``seed``, loaded on first use."""
    path = OUT / "stores" / f"incremental-{label(n)}-s{seed}"
    if not (path / "CURRENT").exists():
        shutil.rmtree(path, ignore_errors=True)
        result = timed_load(ensure_docs(n, seed), env, ["--store-path", str(path)])
        print(line(f"building the {label(n)} store", result), flush=True)
        if not result["ok"]:
            raise SystemExit(1)
    return path


def up_to_date(path: Path) -> None:
    """Bring a kept store up to the current code before it is copied and timed, as a load by
    this code would have left it: a summary of another layout rebuilt (and the store then
    compacted, as the end of a bulk load does), the claims file written anew for other loader
    code. Otherwise every timed run into a copy would pay that one-time upgrade."""
    from diplograph.loader.config import load_settings
    from diplograph.loader.iris import IriMinter
    from diplograph.loader.ontology import superclass_closure
    from diplograph.loader.reconcile import Reconciler, keep_claims
    from diplograph.loader.store.embedded import EmbeddedStore
    from diplograph.loader.summary import Summary

    base = load_settings().base_iri
    with EmbeddedStore(path) as store:
        summary = Summary(store, base)
        if summary.state() != "current":
            start = time.perf_counter()
            summary.rebuild(in_steps=True)
            store.compact()
            print(
                f"the kept store's summary rebuilt and the store compacted "
                f"({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
        start = time.perf_counter()
        Reconciler.of(store, IriMinter(base), superclass_closure()).current()
        keep_claims(store)
        print(
            f"the kept store's claims read and kept ({time.perf_counter() - start:.1f} s)",
            flush=True,
        )


#: The write token of the servers this bench starts (they listen on 127.0.0.1 only).
_TOKEN = "bench-incremental"


def timed_posts(
    docs: Path,
    store_path: Path,
    parts: int,
    hold_events: bool = True,
    prepare_writes: bool = True,
) -> dict[str, Any]:
    """``docs`` posted to ``POST /facts`` of a ``diplograph serve`` of ``store_path``, in
    ``parts`` requests of consecutive documents: the first request's time (``first_s``) and the
    others' together (``wall_s``), the server's own peak RSS and the largest report answered
    (``largest_report_kb``). ``hold_events`` and ``prepare_writes`` are the server's settings.

    The store's claims are read once in the server: as it starts (``prepare_s``, from the
    server's first answer to ``writes_ready`` in ``/health``, before the first request is
    sent) or, not prepared, in the first request."""
    import httpx  # a test and bench dependency, as in bench/servers.py

    lines = docs.read_text(encoding="utf-8").splitlines(keepends=True)
    size = -(-len(lines) // parts)
    chunks = [lines[i : i + size] for i in range(0, len(lines), size)]
    port = free_port()
    settings = {
        "DIPLOGRAPH_WRITE_TOKEN": _TOKEN,
        "DIPLOGRAPH_HOLD_EVENTS": str(hold_events),
        "DIPLOGRAPH_PREPARE_WRITES": str(prepare_writes),
    }
    cmd, env = diplograph_serve(port, 600, ["--store-path", str(store_path)], settings)
    headers = {"Authorization": f"Bearer {_TOKEN}", "Content-Type": "application/x-ndjson"}
    out: dict[str, Any] = {"ok": True, "exit": 0, "load_avg": loadavg(), "docs": len(lines)}
    times: list[float] = []
    sizes: list[int] = []
    loaded = 0
    ready = http_ok(f"http://127.0.0.1:{port}/health")
    with (
        Server(cmd, ready, cwd=ROOT, env=env, wait=300) as server,
        httpx.Client(timeout=3600) as client,
    ):
        started = time.perf_counter()
        # A server of older code says nothing of it: ready when it answers.
        while not client.get(f"http://127.0.0.1:{port}/health").json().get("writes_ready", 1):
            time.sleep(0.1)
        out["prepare_s"] = time.perf_counter() - started
        for chunk in chunks:
            started = time.perf_counter()
            response = client.post(
                f"http://127.0.0.1:{port}/facts", content="".join(chunk), headers=headers
            )
            times.append(time.perf_counter() - started)
            sizes.append(len(response.content))
            if response.status_code != 200:
                out.update(ok=False, exit=response.status_code, error=response.text[-1000:])
                break
            loaded += response.json()["documents"]["loaded"]
        out["peak_rss_mb"] = vmhwm(server.pid)
    out["first_s"], out["wall_s"] = times[0], sum(times[1:])
    out["largest_report_kb"] = max(sizes) / 1024 if sizes else 0.0
    rest = len(lines) - len(chunks[0])
    out["docs_per_s"] = rest / out["wall_s"] if out["wall_s"] else 0.0
    out["summary"] = f"loaded {loaded} documents in {len(times)} requests"
    return out


def api_line(name: str, r: dict[str, Any]) -> str:
    """One run through the API as a progress line."""
    if not r["ok"]:
        return f"{name}: failed ({r['exit']}): {r.get('error', '')}"
    peak = "unknown" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f} MB"
    return (
        f"{name}: ready for writes after {r['prepare_s']:.1f} s, "
        f"the first request {r['first_s']:.1f} s, the rest {r['wall_s']:.1f} s "
        f"({r['docs_per_s']:.1f} docs/s), server peak RSS {peak}, "
        f"largest report {r['largest_report_kb']:,.0f} KB, "
        f"load avg {r['load_avg']:.2f}; {r['summary']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incremental", description=__doc__)
    parser.add_argument("--store", type=parse_count, default=10_000, help="the store (10k)")
    parser.add_argument("--docs", type=parse_count, default=1000, help="documents loaded (1k)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each (alternating)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--via",
        choices=("cli", "api"),
        default="cli",
        help="`diplograph load` processes (cli), or POST /facts to `diplograph serve` (api)",
    )
    parser.add_argument("--parts", type=int, default=10, help="requests of --via api (10)")
    parser.add_argument(
        "--no-hold-events",
        dest="hold_events",
        action="store_false",
        help="--via api: a server that does not hold the events its checks read",
    )
    parser.add_argument(
        "--no-prepare-writes",
        dest="prepare_writes",
        action="store_false",
        help="--via api: a server that reads the store's claims at its first request",
    )
    args = parser.parse_args(argv)

    env = dict(os.environ)
    stored = built_store(args.store, args.seed, env)
    up_to_date(stored)
    docs = ensure_docs(args.docs, args.seed, after=args.store)
    work = OUT / "stores" / "incremental-work"
    runs: dict[str, list[dict[str, Any]]] = {"into_store": [], "into_empty": []}
    for run in range(args.runs):
        for kind in runs:
            shutil.rmtree(work, ignore_errors=True)
            if kind == "into_store":
                shutil.copytree(stored, work)
            name = f"run {run + 1}, {kind.replace('_', ' ')}"
            if args.via == "api":
                result = timed_posts(docs, work, args.parts, args.hold_events, args.prepare_writes)
                print(api_line(name, result), flush=True)
            else:
                result = timed_load(docs, env, ["--store-path", str(work)])
                print(line(name, result), flush=True)
            if not result["ok"]:
                return 1
            runs[kind].append(result)
    shutil.rmtree(work, ignore_errors=True)
    medians = {kind: statistics.median(r["wall_s"] for r in rs) for kind, rs in runs.items()}
    ratio = medians["into_store"] / medians["into_empty"]
    what = "documents" if args.via == "cli" else "documents but the first request's"
    print(
        f"{label(args.docs)} {what}: {medians['into_store']:.1f} s into the "
        f"{label(args.store)} store, {medians['into_empty']:.1f} s into an empty one (median): "
        f"{ratio:.2f}x (goal <= 1.5x)"
    )
    if args.via == "api":
        # Every request, the first too: what a client of a server that is ready for writes
        # waits in all.
        whole = {
            kind: statistics.median(r["first_s"] + r["wall_s"] for r in rs)
            for kind, rs in runs.items()
        }
        print(
            f"every request of the {label(args.docs)} documents: {whole['into_store']:.1f} s "
            f"into the {label(args.store)} store, {whole['into_empty']:.1f} s into an empty "
            f"one (median): {whole['into_store'] / whole['into_empty']:.2f}x"
        )
    via = "" if args.via == "cli" else "-api"
    out = OUT / f"incremental-{label(args.store)}-{label(args.docs)}{via}.json"
    out.write_text(json.dumps({"args": vars(args), "runs": runs, "ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
