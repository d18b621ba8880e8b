"""diplograph's own steps: the end-to-end load, the union and the queries in process, the
endpoint over HTTP, the store-size probe and the profile; each in a worker or a server of its
own."""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.generate import parse_count
from bench.http_queries import concurrency, served_queries
from bench.inputs import ensure_docs, query_files
from bench.measure import label, load_line, log, vmhwm, worker
from bench.paths import OUT, ROOT
from bench.results import timed_out_before
from bench.servers import Server, diplograph_serve, free_port, http_ok

#: Seconds a bounded load stops itself before its step's time limit, to report how far it got.
STOP_MARGIN_S = 120


def load_step(
    task: str, docs: Path, store: Path, args: argparse.Namespace, *, bounded: bool = False
) -> dict[str, Any]:
    """A loading worker (``load-raw``, ``load``, ``baseline``) of ``docs`` into ``store``;
    ``bounded`` loads stop themselves at the step's time limit and say how far they got."""
    cmd = ["--docs", str(docs), "--batch-size", str(args.batch_size), "--store", str(store)]
    if bounded:
        cmd += ["--max-seconds", str(args.step_timeout - STOP_MARGIN_S)]
    return worker(task, *cmd, timeout=args.step_timeout)


def bench_load(docs: Path, store: Path, args: argparse.Namespace) -> dict[str, Any]:
    """diplograph end to end (``Loader.load``) into a new store at ``store``, then removed."""
    shutil.rmtree(store, ignore_errors=True)
    result = load_step("load", docs, store, args, bounded=True)
    log(f"  {load_line(result)}")
    shutil.rmtree(store, ignore_errors=True)
    return result


def build_union(store: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Open a raw-insert store with diplograph, which builds the union, then the summary."""
    result = worker("union", "--store", str(store), timeout=args.step_timeout)
    log(
        f"  {result['union_quads']:,} quads in {result['union_s']:.1f} s, "
        f"summary {result['summary_s']:.1f} s"
        if result["ok"]
        else result["error"]
    )
    return result


def queries_in_process(
    store: Path, union: str, tag: str, n: int, results: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    """Every query in a fresh subprocess on ``store``, with the ``union`` the worker takes."""
    key = "inprocess" if union == "materialized" else "inprocess_bag"
    log(f"{tag}: queries in process ({union} union)")
    out: dict[str, Any] = {}
    skip = timed_out_before(results, n, key)
    for name, path in ((p.stem, p) for p in query_files()):
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


def bench_http(
    store: Path, queries: dict[str, str], args: argparse.Namespace, skip: Mapping[str, str]
) -> dict[str, Any]:
    """``diplograph serve`` on ``store``: the queries over HTTP and the lookup under load."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    store_options = ["--store", "embedded", "--store-path", str(store)]
    cmd, env = diplograph_serve(port, args.query_timeout, store_options)
    out: dict[str, Any] = {"ok": True}
    log("  diplograph serve")
    try:
        with Server(cmd, http_ok(base + "/health"), cwd=ROOT, env=env, wait=120) as srv:
            out["queries"] = served_queries(base + "/sparql", queries, args, srv, skip)
            if args.concurrency:
                out["concurrency"] = concurrency(base + "/sparql", queries, args)
            out["vmhwm_mb"] = vmhwm(srv.pid)
            out["restarts"] = srv.restarts
    except (RuntimeError, OSError) as exc:
        out.update(ok=False, error=str(exc)[:500])
        log(f"  {out['error']}")
    return out


def bench_probe(n: int, store: Path, tag: str, args: argparse.Namespace) -> dict[str, Any]:
    """The documents that follow the data set, into an empty store and into ``store`` (which
    holds the data set): ``probe_empty`` and ``probe_full``."""
    probe = ensure_docs(args.probe_docs, args.seed, after=n)
    log(f"{tag}: {args.probe_docs} more documents into an empty store / into this store")
    empty_store = OUT / "stores" / f"probe-empty-{tag}"
    shutil.rmtree(empty_store, ignore_errors=True)
    out = {"probe_empty": load_step("load", probe, empty_store, args)}
    shutil.rmtree(empty_store, ignore_errors=True)
    out["probe_full"] = load_step("load", probe, store, args)
    for key, result in out.items():
        log(f"  {key}: {load_line(result)}")
    return out


def bench_profile(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """A load of ``--profile-docs`` under pyinstrument; the report's top into ``results``."""
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
