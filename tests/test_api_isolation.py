"""Query isolation against a real server on an on-disk store: a query past its timeout is
stopped (its worker process is killed and replaced), heavy queries cannot deny the service, one
client cannot hold every worker, and a write is seen by the next query.

The heavy queries here run for minutes if nobody stops them; every bound below is the one the
server promises (timeout + 1 s for capacity to come back), not a guess at the machine's speed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from diplograph.api.workers import ProcessRunner
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA
from tests.support.server import DATA_FILE, LiveServer, StartServer, add_quads

pytestmark = pytest.mark.server

#: An aggregate over a cross join of 20 000 values (400 million pairs): all its work happens in
#: one engine call, which no thread can interrupt; it runs for minutes unless it is killed.
AGGREGATE = """SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:x:p> ?x . ?b <urn:x:p> ?y .
  FILTER(?x + ?y > 100000) }"""
CHEAP = "ASK { ?s a <https://w3id.org/diplograph/ns#Person> }"
TIMEOUT = 1.0


@pytest.fixture
def disk_store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """The test data plus 20 000 numbered triples, in an on-disk store."""
    store = EmbeddedStore(tmp_path / "store")
    add_quads(store, parse(path=str(DATA_FILE), format=RdfFormat.TRIG))
    add_quads(
        store,
        (
            Quad(NamedNode(f"urn:x:s{i}"), NamedNode("urn:x:p"), Literal(i), NamedNode("urn:x:g"))
            for i in range(20_000)
        ),
    )
    yield store
    store.close()


def client(address: str = "127.0.0.1") -> httpx.Client:
    """An HTTP client whose connections come from ``address`` (any 127.x.y.z is this machine),
    so that the server sees distinct clients."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=60)


def ask(http: httpx.Client, server: LiveServer, text: str) -> httpx.Response:
    return http.get(server.sparql, params={"query": text})


def cheap_from(address: str, server: LiveServer) -> int:
    with client(address) as http:
        return ask(http, server, CHEAP).status_code


def health(server: LiveServer) -> httpx.Response:
    return httpx.get(server.url + "/health", timeout=10)


def heavy_in_parallel(server: LiveServer, count: int) -> list[tuple[httpx.Response, float]]:
    """``count`` heavy queries at once, each from its own client address; their responses
    and the monotonic time each arrived."""
    results: list[Any] = [None] * count

    def one(index: int) -> None:
        with client(f"127.0.0.{10 + index}") as http:
            response = ask(http, server, AGGREGATE)
            results[index] = (response, time.monotonic())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.slow
def test_heavy_queries_on_every_worker_do_not_deny_the_service(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store, query_timeout=TIMEOUT) as server:
        workers = health(server).json()["queries"]["workers"]
        outcomes = heavy_in_parallel(server, workers)
        for response, _ in outcomes:
            assert response.status_code == 503
            assert response.json()["error"] == "QueryTimeoutError"
        last = max(arrived for _, arrived in outcomes)
        # Full capacity is back within timeout + 1 s of the timeouts: a burst of cheap
        # queries, one per worker and at once, is answered.
        with client() as http:
            while True:
                burst = [ask(http, server, CHEAP) for _ in range(workers)]
                if all(r.status_code == 200 for r in burst):
                    break
                assert time.monotonic() - last < TIMEOUT + 1.0, [r.text for r in burst]
                time.sleep(0.05)
        assert time.monotonic() - last < TIMEOUT + 1.0
        assert health(server).json()["queries"]["killed"] >= 1


def wait_for(condition: Any, *, within: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within, f"{what}: not within {within} s"
        time.sleep(0.02)


@pytest.mark.slow
def test_one_client_cannot_hold_every_worker(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store, query_timeout=3.0) as server:
        workers = health(server).json()["queries"]["workers"]
        heavy: list[httpx.Response] = []

        def greedy() -> None:
            with client("127.0.0.2") as http:
                heavy.append(ask(http, server, AGGREGATE))

        threads = [threading.Thread(target=greedy) for _ in range(workers + 2)]
        for thread in threads:
            thread.start()
        wait_for(lambda: health(server).json()["queries"]["busy"] >= 1, within=3.0,
                 what="the heavy queries never start")  # fmt: skip
        with client("127.0.0.3") as http:
            began = time.monotonic()
            response = ask(http, server, CHEAP)
            elapsed = time.monotonic() - began
        assert response.status_code == 200
        assert elapsed < 1.0  # it did not wait for a heavy query's 3 s deadline
        for thread in threads:
            thread.join()
        assert [r.status_code for r in heavy] == [503] * (workers + 2)


@pytest.mark.slow
def test_heavy_queries_from_more_clients_than_workers_leave_room_for_others(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store, query_timeout=4.0) as server:
        workers = health(server).json()["queries"]["workers"]
        crowd = threading.Thread(target=heavy_in_parallel, args=(server, workers + 2))
        crowd.start()
        # Once every worker holds a heavy query (0.25 s), extra workers start for the others.
        wait_for(lambda: health(server).json()["queries"]["extra"] >= 1, within=3.0,
                 what="no extra worker starts")  # fmt: skip
        with client("127.0.0.3") as http:
            began = time.monotonic()
            response = ask(http, server, CHEAP)
            elapsed = time.monotonic() - began
        assert response.status_code == 200
        assert elapsed < 1.5  # not the 4 s a heavy query's deadline would make it wait
        crowd.join()
        wait_for(lambda: health(server).json()["queries"]["extra"] == 0, within=15.0,
                 what="the extra workers stay")  # fmt: skip


@pytest.mark.slow
def test_health_is_degraded_while_no_worker_can_take_a_query(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    # No process beyond the pool (no spare, no extra): two heavy queries take every worker.
    limits = {"query_workers": 2, "query_max_processes": 2}
    with start_server(store=disk_store, query_timeout=2.0, **limits) as server:
        assert health(server).status_code == 200
        runner = threading.Thread(target=heavy_in_parallel, args=(server, 2))
        runner.start()
        wait_for(lambda: health(server).status_code == 503, within=2.0,
                 what="/health never says degraded")  # fmt: skip
        body = health(server).json()
        assert body["status"] == "degraded"
        assert body["queries"]["available"] == 0
        runner.join()
        wait_for(lambda: health(server).status_code == 200, within=1.0,
                 what="/health stays degraded after the heavy queries were killed")  # fmt: skip
        assert health(server).json()["status"] == "ok"
        assert httpx.head(server.url + "/health", timeout=10).status_code == 200


@pytest.mark.slow
def test_metrics_count_queries_timeouts_and_killed_workers(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store, query_timeout=TIMEOUT) as server, client() as http:
        assert ask(http, server, CHEAP).status_code == 200
        assert ask(http, server, AGGREGATE).status_code == 503
        response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.text.splitlines()
    assert 'diplograph_queries_total{status="200"} 1' in lines
    assert 'diplograph_queries_total{status="503"} 1' in lines
    assert "diplograph_query_timeouts_total 1" in lines
    assert "diplograph_query_workers_killed_total 1" in lines
    assert 'diplograph_query_seconds_bucket{le="+Inf"} 2' in lines
    assert "diplograph_query_seconds_count 2" in lines
    assert "# TYPE diplograph_query_seconds histogram" in lines


WRITES = [
    ("update", "INSERT DATA { GRAPH <urn:x:new> { <urn:x:a> <urn:x:b> <urn:x:c> } }"),
    ("store", "<urn:x:a> <urn:x:b> <urn:x:c> ."),
]
#: A facts document (the ingest tests' call), and a question only it answers.
FACTS = (DATA / "api_b" / "call.json").read_text(encoding="utf-8")
FROM_FACTS = "ASK { ?p rdfs:label ?name FILTER(CONTAINS(STR(?name), 'Ana')) }"


@pytest.mark.parametrize(("route", "body"), WRITES, ids=[w[0] for w in WRITES])
def test_after_a_write_returns_the_next_query_sees_it(
    start_server: StartServer, tmp_path: Path, route: str, body: str
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    with start_server(store=store) as server, client() as http:
        seen = "ASK { <urn:x:a> <urn:x:b> <urn:x:c> }"
        assert ask(http, server, seen).json()["boolean"] is False
        if route == "update":
            written = http.post(server.sparql, data={"update": body}, headers=server.auth)
        else:
            written = http.put(
                server.url + "/store", params={"graph": "urn:x:new"}, content=body,
                headers={**server.auth, "Content-Type": "application/n-triples"},
            )  # fmt: skip
        assert written.status_code in (201, 204)
        assert ask(http, server, seen).json()["boolean"] is True
    store.close()


def test_a_result_larger_than_the_first_chunk_streams_whole_from_a_worker_process(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with start_server(store=disk_store) as server, client() as http:
        response = http.get(
            server.sparql,
            params={"query": "SELECT ?s ?o { ?s <urn:x:p> ?o }"},
            headers={"Accept": "text/tab-separated-values"},
        )
        assert response.status_code == 200
        assert "content-length" not in response.headers  # streamed, in chunks
        assert len(response.content) > 256 * 1024
        assert len(response.text.splitlines()) == 1 + 20_000


def test_a_client_that_goes_away_mid_stream_frees_its_worker(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    cross = "SELECT ?x ?y { ?a <urn:x:p> ?x . ?b <urn:x:p> ?y }"  # 400 million rows
    with start_server(store=disk_store, query_timeout=30.0) as server:
        with httpx.stream("GET", server.sparql, params={"query": cross}, timeout=30) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        wait_for(lambda: health(server).json()["queries"]["killed"] == 1, within=5.0,
                 what="the worker of the abandoned stream is not killed")  # fmt: skip
        wait_for(lambda: health(server).json()["queries"]["available"] >= 1, within=5.0,
                 what="no worker comes back")  # fmt: skip


def test_after_a_load_returns_the_next_query_sees_it(
    start_server: StartServer, tmp_path: Path
) -> None:
    store = EmbeddedStore(tmp_path / "store")
    with start_server(store=store) as server, client() as http:
        assert ask(http, server, FROM_FACTS).json()["boolean"] is False
        loaded = http.post(
            server.url + "/facts",
            content=FACTS,
            headers={**server.auth, "Content-Type": "application/json"},
        )
        assert loaded.status_code == 200, loaded.text
        assert ask(http, server, FROM_FACTS).json()["boolean"] is True
    store.close()


@pytest.mark.slow
def test_a_spare_process_is_ready_while_heavy_queries_hold_the_pool(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    # Two heavy queries on two workers and nothing waiting: the one process beyond the pool is
    # the spare, ready before any query asks for it.
    limits = {"query_workers": 2, "query_spare_processes": 1, "query_heavy_seconds": 0.5}
    with start_server(store=disk_store, query_timeout=3.0, **limits) as server:
        # Cheap queries alone, more at once than there are workers, call for no spare.
        cheap = ThreadPoolExecutor(8).map(
            lambda i: cheap_from(f"127.0.1.{i % 8}", server), range(64)
        )
        assert set(cheap) == {200}
        assert health(server).json()["queries"]["extra"] == 0
        crowd = threading.Thread(target=heavy_in_parallel, args=(server, 2))
        crowd.start()
        wait_for(lambda: health(server).json()["queries"]["busy"] == 2, within=2.0,
                 what="the heavy queries never start")  # fmt: skip
        wait_for(lambda: health(server).json()["queries"]["available"] >= 1, within=2.5,
                 what="no spare process is ready while both workers are busy")  # fmt: skip
        assert health(server).json()["queries"]["extra"] == 1
        with client("127.0.0.3") as http:
            began = time.monotonic()
            response = ask(http, server, CHEAP)
            elapsed = time.monotonic() - began
        assert response.status_code == 200
        assert elapsed < 1.0  # not the 3 s a heavy query's deadline would make it wait
        crowd.join()
        wait_for(lambda: health(server).json()["queries"]["extra"] == 0, within=15.0,
                 what="the spare process stays once nothing runs")  # fmt: skip


@contextmanager
def one_heavy_query_running(
    start_server: StartServer, store: EmbeddedStore
) -> Iterator[tuple[LiveServer, ProcessRunner]]:
    """A server whose queries turn heavy after 0.1 s, and its runner, while one heavy query
    runs into its 2 s deadline."""
    runner = ProcessRunner(2, heavy_seconds=0.1)
    with start_server(store=store, query_timeout=2.0, runner=runner) as server:
        crowd = threading.Thread(target=heavy_in_parallel, args=(server, 1))
        crowd.start()
        wait_for(lambda: health(server).json()["queries"]["busy"] == 1, within=2.0,
                 what="the heavy query never starts")  # fmt: skip
        yield server, runner
        crowd.join()


def test_a_heavy_query_alone_keeps_its_priority(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with one_heavy_query_running(start_server, disk_store) as (_, runner):
        (slot,) = [slot for slot in runner._slots if slot.job is not None]
        time.sleep(0.6)  # six times the heavy threshold, with no other query
        assert slot.job is not None  # still running
        assert not slot.demoted
        if hasattr(os, "SCHED_IDLE"):
            assert slot.process is not None and slot.process.pid is not None
            assert os.sched_getscheduler(slot.process.pid) == os.SCHED_OTHER


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="no SCHED_IDLE on this system")
def test_a_heavy_query_runs_only_on_cpu_no_other_process_wants(
    start_server: StartServer, disk_store: EmbeddedStore
) -> None:
    with one_heavy_query_running(start_server, disk_store) as (server, runner):
        time.sleep(0.3)  # past the heavy threshold
        with client("127.0.0.3") as http:  # another query wants a core
            assert ask(http, server, CHEAP).status_code == 200
        wait_for(lambda: any(slot.demoted for slot in runner._slots), within=2.0,
                 what="the heavy query's process is never demoted")  # fmt: skip
        (slot,) = [slot for slot in runner._slots if slot.demoted]
        assert slot.process is not None and slot.process.pid is not None
        assert os.sched_getscheduler(slot.process.pid) == os.SCHED_IDLE
        others = [s.process.pid for s in runner._slots if not s.demoted and s.process]
        assert others and all(os.sched_getscheduler(pid) == os.SCHED_OTHER for pid in others)
