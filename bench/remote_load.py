"""Validated loading into Virtuoso through the remote store, beside the embedded store (issue 17).

``python -m bench.remote_load --docs 10k --probe 1k`` runs ``diplograph load`` as a user would
(whole processes, the command's default settings unless ``--workers`` is given), in this order:

1. the ``--docs`` documents into an empty embedded store;
2. the same documents into an empty Virtuoso, through the remote store (SPARQL 1.1 Query and
   Update, the Graph Store Protocol), Virtuoso started fresh in ``bench/out/``;
3. the ``--probe`` documents that follow them into each of the two stores now holding the data
   set (the form of the earlier "probe" measurement of the remote store).

Each load reports its wall time, documents a second, the loading process's CPU time and peak
RSS; then the remote rate over the embedded one (goal ≥ 50%). The documents and stores are the
seeded ones of ``bench.run``. ``--doc`` is not offered: the figures go into docs/benchmarks.md by
hand, with the run's context.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.generate import parse_count
from bench.inputs import ensure_docs
from bench.loadtest import run_facts
from bench.measure import label, loadavg, run_measured
from bench.paths import OUT, ROOT
from bench.peers.virtuoso import create_user, virtuoso_server


def timed_load(docs: Path, env: dict[str, str], args: Sequence[str]) -> dict[str, Any]:
    """``diplograph load ARGS DOCS`` in a child process: wall s, documents/s, CPU s (with its
    validation workers') and peak RSS (the loading process's own, not its workers';
    :func:`~bench.measure.run_measured`)."""
    cmd = [sys.executable, "-m", "diplograph", "load", "--no-progress", *args, str(docs)]
    load_avg = loadavg()
    started = time.perf_counter()
    proc = run_measured(cmd, cwd=ROOT, env=env)
    wall = time.perf_counter() - started
    out: dict[str, Any] = {
        "ok": proc.returncode == 0,
        "exit": proc.returncode,
        "wall_s": wall,
        "cpu_s": proc.cpu_s,
        "peak_rss_mb": proc.peak_rss_mb,
        "load_avg": load_avg,
        "summary": next((x for x in proc.stdout.splitlines() if x.startswith("loaded")), ""),
    }
    if proc.returncode != 0:
        out["error"] = proc.stderr.strip()[-1000:]
    out["docs"] = sum(1 for _ in docs.open(encoding="utf-8"))
    out["docs_per_s"] = out["docs"] / wall
    return out


def line(name: str, r: dict[str, Any]) -> str:
    """One load as a progress line."""
    if not r["ok"]:
        return f"{name}: failed ({r['exit']}): {r.get('error', '')}"
    return (
        f"{name}: {r['docs']} docs in {r['wall_s']:.1f} s ({r['docs_per_s']:.1f} docs/s), "
        f"CPU {r['cpu_s']:.1f} s, load avg {r['load_avg']:.2f}; {r['summary']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.remote_load", description=__doc__)
    parser.add_argument("--docs", type=parse_count, default=10_000, help="the data set (10k)")
    parser.add_argument("--probe", type=parse_count, default=1000, help="documents after it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, help="`diplograph load --workers` (its default)")
    parser.add_argument("--timeout", type=float, default=120.0, help="remote request timeout")
    parser.add_argument("--keep-stores", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("virtuoso-t") is None:
        parser.error("virtuoso-t is not installed (apt-get install virtuoso-opensource)")

    docs = ensure_docs(args.docs, args.seed)
    probe = ensure_docs(args.probe, args.seed, after=args.docs)
    tag = label(args.docs)
    flags = [] if args.workers is None else ["--workers", str(args.workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIPLOGRAPH_")}
    result: dict[str, Any] = {**run_facts("bench.remote_load", argv), "loads": {}}
    loads = result["loads"]

    embedded = OUT / "stores" / f"remote-load-embedded-{tag}"
    shutil.rmtree(embedded, ignore_errors=True)
    embedded_flags = [*flags, "--store-path", str(embedded)]
    loads["embedded"] = timed_load(docs, env, embedded_flags)
    print(line("embedded", loads["embedded"]), flush=True)

    vdir = OUT / f"virtuoso-remote-load-{tag}"
    with virtuoso_server(vdir, OUT) as (_, sql_port, http_port):
        base = f"http://127.0.0.1:{http_port}"
        remote_env = {
            **env,
            "DIPLOGRAPH_STORE": "remote",
            "DIPLOGRAPH_REMOTE_QUERY_URL": base + "/sparql-auth",
            "DIPLOGRAPH_REMOTE_GSP_URL": base + "/sparql-graph-crud-auth",
            "DIPLOGRAPH_REMOTE_USER": "diplograph",
            "DIPLOGRAPH_REMOTE_PASSWORD": create_user(sql_port),
            "DIPLOGRAPH_REMOTE_TIMEOUT": str(args.timeout),
        }
        loads["remote"] = timed_load(docs, remote_env, flags)
        print(line("remote", loads["remote"]), flush=True)
        if args.probe:
            loads["embedded_probe"] = timed_load(probe, env, embedded_flags)
            print(line("embedded, probe", loads["embedded_probe"]), flush=True)
            loads["remote_probe"] = timed_load(probe, remote_env, flags)
            print(line("remote, probe", loads["remote_probe"]), flush=True)
    if not args.keep_stores:
        shutil.rmtree(embedded, ignore_errors=True)
        shutil.rmtree(vdir, ignore_errors=True)

    for kind in ("", "_probe"):
        ours, theirs = loads.get("remote" + kind), loads.get("embedded" + kind)
        if ours and theirs and ours["ok"] and theirs["ok"]:
            ratio = ours["docs_per_s"] / theirs["docs_per_s"]
            result["ratio" + kind] = ratio
            verdict = "met" if ratio >= 0.5 else "not met"
            print(
                f"remote / embedded{kind.replace('_', ', ')}: {ratio:.0%} (goal ≥ 50%): {verdict}"
            )
    (OUT / f"remote-load-{tag}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if all(r["ok"] for r in loads.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
