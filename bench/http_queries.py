"""Queries over HTTP, the same way for every endpoint: timed GETs, row counts, wrk under load."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from bench.measure import log
from bench.query_timing import SLOW_QUERY_S, query_kind
from bench.servers import Server

#: The cheap lookup sent at 1 and 16 concurrent clients.
LOOKUP_QUERY = "q02_entity_properties"
ACCEPT_JSON = "application/sparql-results+json"
ACCEPT_RDF = "application/n-triples"


def sparql_count(endpoint: str) -> int:
    """The number of quads an endpoint holds (``COUNT`` over ``GRAPH ?g``)."""
    import httpx

    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = httpx.get(
        endpoint, params={"query": query}, headers={"Accept": ACCEPT_JSON}, timeout=600
    )
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def count_rows(body: bytes, content_type: str, kind: str) -> int:
    """Solutions in a response body (distinct triples for CONSTRUCT, 1 for ASK)."""
    if kind == "ASK":
        return 1
    if kind == "SELECT":
        return len(json.loads(body)["results"]["bindings"])
    from pyoxigraph import RdfFormat, parse

    media = content_type.split(";")[0].strip()
    fmt = RdfFormat.from_media_type(media) or RdfFormat.N_TRIPLES
    return len(set(parse(body, format=fmt)))


def http_queries(
    endpoint: str,
    queries: dict[str, str],
    *,
    repeat: int,
    timeout: float,
    server: Server | None = None,
    skip: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Median request time (until the whole body is received) per query, GET, keep-alive.

    After a client timeout the server is restarted (it may still be evaluating the query).
    """
    import httpx

    results: dict[str, dict[str, Any]] = {}
    with httpx.Client(timeout=timeout + 10) as client:
        for name, text in queries.items():
            if skip and name in skip:
                results[name] = {"ok": False, "error": skip[name]}
                log(f"    {name}: {skip[name]}")
                continue
            kind = query_kind(text)
            accept = ACCEPT_RDF if kind in ("CONSTRUCT", "DESCRIBE") else ACCEPT_JSON

            def once(text: str = text, kind: str = kind, accept: str = accept) -> tuple[int, float]:
                t0 = time.perf_counter()
                response = client.get(endpoint, params={"query": text}, headers={"Accept": accept})
                body = response.content
                ms = (time.perf_counter() - t0) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {body[:200]!r}")
                return count_rows(body, response.headers.get("content-type", ""), kind), ms

            try:
                rows, warmup = once()
                runs = [once() for _ in range(1 if warmup > SLOW_QUERY_S * 1000 else repeat)]
            except (httpx.HTTPError, RuntimeError, ValueError) as exc:
                timed_out = isinstance(exc, httpx.TimeoutException)
                error = f"timeout after {timeout:.0f} s" if timed_out else f"{exc}"
                results[name] = {"ok": False, "error": f"{type(exc).__name__}: {error}"[:300]}
                log(f"    {name}: {results[name]['error']}")
                if (timed_out or "HTTP 5" in error) and server is not None:
                    server.restart()  # it may still be evaluating the query
                continue
            times = [ms for _, ms in runs]
            results[name] = {
                "ok": True,
                "rows": runs[-1][0],
                "warmup_ms": warmup,
                "times_ms": times,
                "median_ms": statistics.median(times),
            }
            log(f"    {name}: {results[name]['median_ms']:.2f} ms, {rows} rows")
    return results


def served_queries(
    endpoint: str,
    queries: dict[str, str],
    args: argparse.Namespace,
    server: Server,
    skip: Mapping[str, str],
) -> dict[str, dict[str, Any]]:
    """:func:`http_queries` against a server we run, with the run's repeat and timeout."""
    return http_queries(
        endpoint,
        queries,
        repeat=args.repeat,
        timeout=args.query_timeout,
        server=server,
        skip=skip,
    )


def concurrency(
    endpoint: str, queries: dict[str, str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """The cheap lookup at 1 and 16 clients (:func:`wrk`), for the run's seconds."""
    return [wrk(endpoint, queries[LOOKUP_QUERY], c, args.concurrency_seconds) for c in (1, 16)]


def wrk(url: str, query: str, clients: int, seconds: int) -> dict[str, Any]:
    """Requests/s and latency percentiles of GET ``query`` at ``clients`` connections (wrk)."""
    if shutil.which("wrk") is None:
        return {"ok": False, "error": "wrk is not installed"}
    full = url + "?" + urllib.parse.urlencode({"query": query})
    threads = 1 if clients == 1 else 2
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Accept: {ACCEPT_JSON}",
        full,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    text = proc.stdout

    def ms(value: str) -> float:
        number = float(re.sub(r"[a-z]+$", "", value))
        unit = re.sub(r"^[0-9.]+", "", value)
        return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}.get(unit, 1.0)

    rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.MULTILINE)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    errors = re.search(r"Socket errors:.*", text)
    if not (rps and p50 and p99):
        return {"ok": False, "error": f"cannot read wrk output: {text[-300:]}{proc.stderr[-300:]}"}
    return {
        "ok": True,
        "clients": clients,
        "rps": float(rps.group(1)),
        "p50_ms": ms(p50.group(1)),
        "p99_ms": ms(p99.group(1)),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(0) if errors else "",
    }
