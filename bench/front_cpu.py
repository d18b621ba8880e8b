"""The front process's CPU per cheap lookup, in process: what bounds req/s when its core is full.

``python -m bench.front_cpu --size 1k`` builds the app ``diplograph serve`` builds (the on-disk
store of :func:`bench.isolation.store_for`, worker processes, logging as the server configures
it, to a null stream) and drives it directly as an ASGI app on uvloop: no sockets, one lookup
(``q02``) at a time. It prints the front process's CPU time per lookup (every thread of the
process; the worker processes are not counted) and the wall time, medians of ``--rounds``
rounds. ``--profile FILE`` writes a cProfile of one more round.

This is the part of a lookup that the HTTP server does not do (parsing, sockets): at 16
connections on 2 cores, the front's one core is full, so its CPU per lookup sets the rate.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import os
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import uvloop

from bench.generate import parse_count
from bench.http_queries import ACCEPT_JSON, LOOKUP_QUERY
from bench.inputs import load_queries
from bench.isolation import QUERY_TIMEOUT, store_for


def lookup_scope(query: str) -> dict[str, Any]:
    """The scope uvicorn gives the app for ``GET /sparql?query=…`` from a keep-alive client."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": "/sparql",
        "raw_path": b"/sparql",
        "query_string": urlencode({"query": query}).encode("ascii"),
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", ACCEPT_JSON.encode("ascii")),
            (b"user-agent", b"front-cpu"),
        ],
        "state": {},
    }


async def lookups(app: Any, scope: dict[str, Any], count: int) -> None:
    """``count`` lookups, one after the other; each must answer 200."""
    request = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return request

    for _ in range(count):
        status = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        await app(dict(scope), receive, send)
        assert status == 200, status


async def measure(
    app: Any, query: str, rounds: int, per_round: int, concurrency: int = 1
) -> dict[str, Any]:
    scope = lookup_scope(query)
    each = per_round // concurrency
    per_round = each * concurrency
    async with app.router.lifespan_context(app):
        scope["app"] = app
        await lookups(app, scope, 500)  # warm: workers started, snapshots open, caches full
        cpu, system, wall = [], [], []
        for _ in range(rounds):
            began_cpu, began = os.times(), time.perf_counter()
            await asyncio.gather(
                *(lookups(app, {**scope, "client": (f"127.0.1.{i + 1}", 50000)}, each)
                  for i in range(concurrency))
            )  # fmt: skip
            ended = os.times()
            user = ended.user - began_cpu.user
            kernel = ended.system - began_cpu.system
            cpu.append((user + kernel) / per_round * 1e6)
            system.append(kernel / per_round * 1e6)
            wall.append((time.perf_counter() - began) / per_round * 1e6)
    return {
        "front_cpu_us": statistics.median(cpu),
        "system_us": statistics.median(system),
        "wall_us": statistics.median(wall),
        "rounds_cpu_us": [round(c) for c in cpu],
    }


async def profile(app: Any, query: str, count: int, path: Path) -> None:
    scope = lookup_scope(query)
    async with app.router.lifespan_context(app):
        scope["app"] = app
        await lookups(app, scope, 500)
        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        await lookups(app, scope, count)
        profiler.disable()
    profiler.dump_stats(str(path))


def build_app(store: Path) -> Any:
    from diplograph.api.app import create_app
    from diplograph.loader.config import load_settings

    logging.basicConfig(
        format="%(levelname)s %(name)s: %(message)s",
        stream=open(os.devnull, "w"),  # noqa: SIM115 - for the process's life
    )
    for name in ("diplograph.api", "uvicorn.error"):  # as api.server configures them
        logging.getLogger(name).setLevel(logging.INFO)
    settings = load_settings(
        store_path=str(store), query_timeout=QUERY_TIMEOUT, max_result_rows=100_000_000
    )
    return create_app(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", default="1k", help="documents in the store (1k, 10k)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=2000, help="lookups per round")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="lookups at once (as many clients)"
    )
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of one round")
    args = parser.parse_args(argv)
    store = store_for(parse_count(args.size))
    query = load_queries()[LOOKUP_QUERY]
    app = build_app(store)
    if args.profile:
        uvloop.run(profile(app, query, args.per_round, Path(args.profile)))
        return 0
    result = uvloop.run(measure(app, query, args.rounds, args.per_round, args.concurrency))
    print(
        f"front CPU per lookup {result['front_cpu_us']:.0f} µs (rounds {result['rounds_cpu_us']}),"
        f" of which in the kernel {result['system_us']:.0f} µs; wall {result['wall_us']:.0f} µs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
