"""The worker processes as the event loop drives them (api/workers.py): the loop watches each
process's pipe, so a process that ends while idle is replaced at once; a result longer than a
chunk is relayed at the client's pace, with the loop idle while the client does not read; a
client that stops reading loses its query at the deadline; one timer finds the heavy queries.

Each test runs a real server (uvicorn in a thread) on an on-disk store with its own runner.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad

from diplograph.api.workers import ProcessRunner
from diplograph.loader.store.embedded import EmbeddedStore
from tests.support.server import LiveServer, StartServer, add_quads

pytestmark = pytest.mark.server

CHEAP = "ASK { ?s <urn:x:p> 1 }"
#: Four million rows (a cross join of 2,000 values): far more than any socket buffer holds.
ENDLESS = "SELECT ?x ?y { ?a <urn:x:p> ?x . ?b <urn:x:p> ?y }"


@pytest.fixture
def disk_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """2,000 numbered triples in an on-disk store."""
    store = EmbeddedStore(tmp_path / "store")
    add_quads(
        store,
        (
            Quad(NamedNode(f"urn:x:s{i}"), NamedNode("urn:x:p"), Literal(i), NamedNode("urn:x:g"))
            for i in range(2_000)
        ),
    )
    yield store
    store.close()


def small_chunks() -> ProcessRunner:
    return ProcessRunner(2, first_chunk_bytes=4096, chunk_bytes=4096, buffer_chunks=2)


def queries(server: LiveServer) -> dict[str, Any]:
    return dict(httpx.get(server.url + "/health", timeout=10).json()["queries"])


def wait_for(condition: Any, *, within: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within, f"{what}: not within {within} s"
        time.sleep(0.02)


def test_an_idle_worker_process_that_ends_is_replaced_at_once(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    runner = ProcessRunner(2)
    with start_server(store=disk_store, runner=runner) as server:
        assert httpx.get(server.sparql, params={"query": CHEAP}).status_code == 200
        wait_for(lambda: queries(server)["available"] == 2, within=5.0, what="workers idle")
        pids = {slot.process.pid for slot in runner._slots if slot.process}
        victim = next(iter(pids))
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        wait_for(
            lambda: (
                victim not in {s.process.pid for s in runner._slots if s.process}
                and queries(server)["available"] == 2
            ),
            within=5.0,
            what="the ended process is not replaced",
        )
        with httpx.Client(timeout=10) as http:
            answers = [http.get(server.sparql, params={"query": CHEAP}) for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 6


def test_a_long_result_waits_for_a_slow_client_with_the_loop_idle(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store, runner=small_chunks(), query_timeout=30.0) as server:
        with httpx.stream("GET", server.sparql, params={"query": ENDLESS}, timeout=30) as response:
            assert response.status_code == 200
            chunks = response.iter_bytes()
            next(chunks)
            time.sleep(0.5)  # the socket buffers fill up; the relay waits for the client
            began = time.process_time()
            time.sleep(1.0)
            spent = time.process_time() - began  # this process: the server's loop included
            received = sum(len(next(chunks)) for _ in range(100))
        assert spent < 0.3, f"{spent:.2f} s of CPU while the client read nothing for 1 s"
        assert received > 0  # it went on once the client read again


def test_a_client_that_stops_reading_loses_its_query_at_the_deadline(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store, runner=small_chunks(), query_timeout=2.0) as server:
        with httpx.stream("GET", server.sparql, params={"query": ENDLESS}, timeout=30) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
            # The client keeps the connection and reads nothing more.
            wait_for(lambda: queries(server)["killed"] == 1, within=6.0,
                     what="the worker of the stalled stream is not killed")  # fmt: skip
        wait_for(lambda: queries(server)["available"] == 2, within=5.0,
                 what="no worker comes back")  # fmt: skip


def test_quick_queries_are_never_taken_for_heavy_ones(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    runner = ProcessRunner(2, heavy_seconds=0.2)
    with start_server(store=disk_store, runner=runner) as server, httpx.Client() as http:
        until = time.monotonic() + 1.0  # five turns of the heavy timer
        while time.monotonic() < until:
            assert http.get(server.sparql, params={"query": CHEAP}).status_code == 200
        assert not any(slot.demoted for slot in runner._slots)
