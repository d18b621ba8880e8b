"""Scale-out: diplograph driving a running Virtuoso as its remote store.

First ``diplograph serve --store remote`` answers the queries over the data Virtuoso holds (the
same data its own endpoint just answered); then ``Loader.load`` writes the probe documents
through the remote store (validated, committed over the SPARQL Update and Graph Store
protocols) into the Virtuoso holding the data set, to compare with the same documents loaded
into the embedded store holding the same data (``probe_full``).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.http_queries import served_queries
from bench.measure import load_line, log, worker
from bench.paths import OUT, ROOT
from bench.servers import Server, diplograph_serve, free_port, http_ok


def bench_remote(
    http_port: int,
    password: str,
    queries: dict[str, str],
    args: argparse.Namespace,
    skip: Mapping[str, str],
    probe: Path | None,
) -> dict[str, Any]:
    """Queries through ``diplograph serve --store remote``, then the validated load of
    ``probe`` through the remote store, against the Virtuoso at ``http_port`` (user
    ``diplograph`` with ``password``)."""
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
    settings = {"DIPLOGRAPH_" + k.upper(): str(v) for k, v in remote.items()}
    cmd, env = diplograph_serve(port, args.query_timeout, ["--store", "remote"], settings)
    log("  diplograph serve --store remote (Virtuoso)")
    try:
        with Server(cmd, http_ok(url + "/health"), cwd=ROOT, env=env, wait=120) as srv:
            out["queries"] = served_queries(url + "/sparql", queries, args, srv, skip)
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
        log(f"  {load_line(out['load'])}")
    return out
