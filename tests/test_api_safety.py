"""Safe by default, against a real server: no outbound requests, timeouts that answer with an
error status before any result bytes, caps, and a server that keeps answering other clients.

Outbound requests are detected with a listener socket on 127.0.0.1 that must receive no
connection; a positive control (the allow-list pointing at the listener) shows that the same
listener does see the request when one is made.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Quad
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from diplograph.api.execution import QueryRunner, StreamAborted
from diplograph.api.guard import inspect_query, inspect_update
from diplograph.loader.config import load_settings
from diplograph.loader.errors import ForbiddenQueryError
from tests.conftest import ROOT, requests_before_fence
from tests.support.listener import Listener
from tests.support.server import GRAPHS, LiveServer, StartServer, add_quads, load_test_store

pytestmark = pytest.mark.server


def query(server: LiveServer, text: str, **params: Any) -> httpx.Response:
    return httpx.get(server.sparql, params={"query": text, **params}, timeout=30)


def query_from(address: str, server: LiveServer, text: str) -> httpx.Response:
    """:func:`query` from another client address (any 127.x.y.z is this machine): the server
    limits how many queries one client runs at once."""
    transport = httpx.HTTPTransport(local_address=address)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.get(server.sparql, params={"query": text})


def update(server: LiveServer, text: str) -> httpx.Response:
    return httpx.post(server.sparql, data={"update": text}, headers=server.auth, timeout=30)


def poll_until(condition: Callable[[], bool], *, within: float, what: str) -> float:
    """Wait for ``condition`` to hold, checking it every 20 ms; fail after ``within`` seconds.
    Returns the seconds it took. The deadline is generous: it catches a state that never comes,
    not a slow machine."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within, f"{what}: not within {within} s"
        time.sleep(0.02)
    return time.monotonic() - start


async def poll_until_async(condition: Callable[[], bool], *, within: float, what: str) -> None:
    """:func:`poll_until` for a test running in an event loop."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < within, f"{what}: not within {within} s"
        await asyncio.sleep(0.02)


# --- SERVICE and LOAD ----------------------------------------------------------------------------

SERVICE_FORMS = [
    "SELECT * WHERE {{ SERVICE <{u}/sparql> {{ ?s ?p ?o }} }}",
    "select * where {{ service silent <{u}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICESILENT<{u}/sparql>{{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?s ?p ?o . ?s ?p trueSERVICE<{u}/sparql>{{ ?s ?p ?o }} }}",
    "PREFIX : <{u}/sparql> SELECT * WHERE {{ SERVICE:{{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ VALUES ?e {{ <{u}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <http\\u003A//127.0.0.1:{p}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ #\n SERVICE\n<{u}/sparql> {{ ?s ?p ?o }} }}",
    'SELECT * WHERE {{ ?s ?p """x"""SERVICE<{u}/sparql>{{ ?s ?p ?o }} }}',
]


@pytest.mark.parametrize("form", SERVICE_FORMS)
def test_service_is_refused_and_nothing_is_fetched(
    live_server: LiveServer, listener: Listener, form: str
) -> None:
    response = query(live_server, form.format(u=listener.url, p=listener.port))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "ForbiddenQueryError"
    assert "DIPLOGRAPH_ALLOW_SERVICE" in response.json()["message"]
    assert requests_before_fence(listener) == []


def test_the_listener_sees_a_service_call_the_allow_list_permits(
    start_server: StartServer, listener: Listener
) -> None:
    # Positive control: the same listener does receive a request when SERVICE is allowed.
    with start_server(allow_service=[listener.url + "/sparql"]) as server:
        allowed = query(
            server, f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?x ?y ?z }} }}"
        )
        assert allowed.status_code == 200, allowed.text
        assert listener.requests and listener.requests[0].startswith("POST /sparql")
        beside = query(
            server, f"SELECT * WHERE {{ SERVICE <{listener.url}/sparqlx> {{ ?x ?y ?z }} }}"
        )
        assert beside.status_code == 400
        assert len(listener.requests) == 1


@pytest.mark.parametrize(
    "form",
    ["LOAD <{u}/data.ttl>", "LOAD SILENT <{u}/d> INTO GRAPH <urn:g>", "LOADSILENT<{u}/d>",
     "PREFIX : <{u}/d> LOAD:", "CLEAR SILENT GRAPH <urn:g> ; load <{u}/d>"],
)  # fmt: skip
def test_load_is_refused_and_nothing_is_fetched(
    live_server: LiveServer, listener: Listener, form: str
) -> None:
    response = update(live_server, form.format(u=listener.url))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "ForbiddenQueryError"
    assert requests_before_fence(listener) == []


def test_the_listener_sees_a_load_the_allow_list_permits(
    start_server: StartServer, listener: Listener
) -> None:
    with start_server(allow_service=[listener.url + "/"]) as server:
        response = update(server, f"LOAD <{listener.url}/data.ttl> INTO GRAPH <urn:x:loaded>")
        assert response.status_code == 204, response.text
        assert listener.requests == ["GET /data.ttl HTTP/1.1"]


@pytest.mark.parametrize(
    "text",
    [
        'SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:9/> {}" }',
        "SELECT * WHERE { ?s ?p '''LOAD <http://127.0.0.1:9/>''' }",
        "SELECT * WHERE { ?s ?p <http://example.org/SERVICE/LOAD> }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:9/> { }",
        "SELECT ?SERVICE WHERE { ?SERVICE ?p $load }",
        "PREFIX schema: <https://schema.org/> SELECT * WHERE { ?s a schema:Service }",
        "PREFIX dcat: <http://www.w3.org/ns/dcat#> SELECT * WHERE { ?s dcat:downloadURL ?u }",
    ],
)
def test_the_words_in_strings_comments_iris_and_names_are_not_refused(
    live_server: LiveServer, text: str
) -> None:
    assert query(live_server, text).status_code == 200


# --- FROM, dataset parameters, USING, WITH: only store graphs, never fetched ---------------------


def test_dataset_clauses_never_fetch(
    live_server: LiveServer, listener: Listener, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.ttl"
    secret.write_text('<urn:x:s> <urn:x:p> "TOP-SECRET" .')
    remote, local = f"{listener.url}/graph.ttl", secret.as_uri()
    responses = [
        query(live_server, f"SELECT * FROM <{remote}> WHERE {{ ?s ?p ?o }}"),
        query(live_server, f"SELECT * FROM <{local}> WHERE {{ ?s ?p ?o }}"),
        query(live_server, f"SELECT * FROM NAMED <{remote}> FROM NAMED <{local}> "
                           "WHERE { GRAPH ?g { ?s ?p ?o } }"),
        query(live_server, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": [remote, local]}),
        query(live_server, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
              **{"named-graph-uri": [remote, local]}),
    ]  # fmt: skip
    for response in responses:
        assert response.status_code == 200
        assert response.json()["results"]["bindings"] == []
    for text in (
        f"INSERT {{ GRAPH <urn:x:copy> {{ ?s ?p ?o }} }} USING <{remote}> USING <{local}> "
        "WHERE { ?s ?p ?o }",
        f"WITH <{remote}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    ):
        assert update(live_server, text).status_code == 204
    assert requests_before_fence(listener) == []
    assert "TOP-SECRET" not in httpx.get(live_server.url + "/store").text


def test_from_still_selects_the_stores_own_graphs(live_server: LiveServer) -> None:
    text = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPHS[0]}> WHERE {{ ?s ?p ?o }}"
    assert query(live_server, text).json()["results"]["bindings"][0]["n"]["value"] == "3"


def test_uploads_never_fetch_contexts_entities_or_dtds(
    live_server: LiveServer, listener: Listener
) -> None:
    jsonld = f'{{"@context": "{listener.url}/context.jsonld", "@id": "urn:x:s", "name": "x"}}'
    dtd = f"""<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "{listener.url}/rdf.dtd">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"""
    entity = f"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "{listener.url}/e">]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>"""
    for body, media_type in [
        (jsonld, "application/ld+json"),
        (dtd, "application/rdf+xml"),
        (entity, "application/rdf+xml"),
    ]:
        httpx.put(
            live_server.url + "/store",
            params={"graph": "urn:x:upload"},
            content=body.encode(),
            headers={"Content-Type": media_type, **live_server.auth},
        )
    remote_context = httpx.put(
        live_server.url + "/store",
        params={"graph": "urn:x:upload"},
        content=jsonld.encode(),
        headers={"Content-Type": "application/ld+json", **live_server.auth},
    )
    assert remote_context.status_code == 400
    assert requests_before_fence(listener) == []


# --- the guard, against an independent parser and under fuzzing -----------------------------------


def _has_service(node: Any) -> bool:
    if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
        return True
    if isinstance(node, dict):
        return any(_has_service(v) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_has_service(v) for v in node)
    if hasattr(node, "asList"):
        return any(_has_service(v) for v in node)
    return False


ORACLE_CASES = [
    *(path.read_text() for path in sorted((ROOT / "ontology" / "queries").glob("*.rq"))),
    'SELECT * WHERE { ?s ?p "SERVICE <http://x.example/> { }" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x.example/> { }",
    "SELECT * WHERE { ?s <http://x.example/SERVICE> ?o }",
    "SELECT * WHERE { SERVICE <http://x.example/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://x.example/> { ?s ?p ?x } } }",
]


@pytest.mark.parametrize("text", ORACLE_CASES)
def test_the_guard_agrees_with_rdflibs_parser(text: str) -> None:
    expected = _has_service(parseQuery(text))
    try:
        inspect_query(text, load_settings(store="memory"))
        refused = False
    except ForbiddenQueryError:
        refused = True
    assert refused == expected


BENIGN = [
    '"SERVICE <http://x.example/> { }"',
    "'''LOAD <http://x.example/>'''",
    '"""multi\nline SERVICE"""',
    "'it\\'s SERVICE'",
    "<http://x.example/SERVICE>",
    "# SERVICE <http://x.example/> { }\n",
    "?SERVICE",
    "$load",
    "schema:Service",
    "dcat:downloadURL",
    "?s ?p ?o .",
    "FILTER(?a < 3)",
    "{ }",
]
DANGEROUS = [
    "SERVICE <http://x.example/> { }",
    "service silent <http://x.example/> {}",
    "SERVICESILENT<http://x.example/>{}",
    "trueSERVICE<http://x.example/>{}",
    "SERVICE ?e { }",
    "SERVICE:{ }",
    "LOAD <http://x.example/>",
]


@settings(max_examples=300, deadline=None)
@given(
    benign=st.lists(st.sampled_from(BENIGN), max_size=8),
    dangerous=st.one_of(st.none(), st.sampled_from(DANGEROUS)),
    where=st.integers(min_value=0, max_value=8),
)
def test_the_guard_refuses_exactly_the_real_keywords(
    benign: list[str], dangerous: str | None, where: int
) -> None:
    parts = list(benign)
    if dangerous is not None:
        parts.insert(min(where, len(parts)), dangerous)
    text = "SELECT * WHERE { " + " ".join(parts) + " }"
    config = load_settings(store="memory")
    if dangerous is None:
        inspect_query(text, config)
        inspect_update(text, config)
    else:
        with pytest.raises(ForbiddenQueryError):
            inspect_query(text, config)


# --- timeouts: an error status before any bytes, and other clients keep being answered -----------


def heavy_store(items: int) -> Any:
    store = load_test_store()
    add_quads(
        store,
        (
            Quad(NamedNode(f"urn:x:s{i}"), NamedNode("urn:x:p"), Literal(i), NamedNode("urn:x:g"))
            for i in range(items)
        ),
    )
    return store


#: A lazy three-way cross join (27 million combinations) whose rows trickle out about every
#: 10 ms: it would run for about half a minute, but stops when its rows stop being read.
TRICKLE = """SELECT ?x ?y ?z WHERE { ?a <urn:x:p> ?x . ?b <urn:x:p> ?y . ?c <urn:x:p> ?z .
  BIND(?x * 90000 + ?y * 300 + ?z AS ?i) FILTER(?i - FLOOR(?i / 9973) * 9973 = 0) }"""
#: An aggregate over a cross join: all its work happens inside one engine call (seconds).
AGGREGATE = """SELECT (COUNT(*) AS ?n) WHERE { ?a <urn:x:p> ?x . ?b <urn:x:p> ?y .
  FILTER(?x + ?y > 100000) }"""


def health(server: LiveServer) -> dict[str, Any]:
    body: dict[str, Any] = httpx.get(server.url + "/health", timeout=10).json()
    return body


def wait_idle(server: LiveServer, within: float) -> float:
    """Seconds until /health reports no busy query worker (at most ``within``)."""
    return poll_until(
        lambda: not health(server)["queries"]["busy"], within=within, what="a worker stays busy"
    )


@pytest.mark.slow
def test_a_heavy_query_gets_503_while_cheap_queries_keep_answering(
    start_server: StartServer,
) -> None:
    with start_server(store=heavy_store(300), query_timeout=1.0) as server:
        outcome: dict[str, Any] = {}
        heavy_answered = threading.Event()

        def run_heavy() -> None:
            began = time.monotonic()
            try:
                response = query_from("127.0.0.2", server, TRICKLE)
                outcome.update(response=response, elapsed=time.monotonic() - began)
            finally:
                heavy_answered.set()

        heavy = threading.Thread(target=run_heavy)
        heavy.start()
        latencies = []
        # Cheap queries, a few a second, for exactly as long as the heavy one is unanswered.
        while not heavy_answered.is_set():
            began = time.monotonic()
            cheap = query(server, "ASK { ?s a <https://w3id.org/diplograph/ns#Person> }")
            latencies.append(time.monotonic() - began)
            assert cheap.status_code == 200 and cheap.json()["boolean"] is True
            heavy_answered.wait(0.02)
        heavy.join()
        response = outcome["response"]
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"] == "QueryTimeoutError"
        assert "timeout" in response.json()["message"]
        assert 1.0 <= outcome["elapsed"] < 3.0
        assert len(latencies) >= 5
        assert max(latencies) < 1.0, latencies
        # The evaluation itself was stopped: the worker is free long before the ~30 s it needs.
        assert wait_idle(server, within=5.0) < 5.0


@pytest.mark.slow
def test_an_uninterruptible_aggregate_gets_503_and_the_damage_is_bounded(
    start_server: StartServer,
) -> None:
    with start_server(store=heavy_store(5000), query_timeout=0.5, runner=QueryRunner(1)) as server:
        began = time.monotonic()
        response = query(server, AGGREGATE)
        assert response.status_code == 503
        assert response.json()["error"] == "QueryTimeoutError"
        assert time.monotonic() - began < 2.0
        # The engine call cannot be stopped in-process: its worker is overdue, and /health says
        # that no worker can take a query (503, degraded).
        answer = httpx.get(server.url + "/health", timeout=10)
        assert answer.status_code == 503
        assert answer.json()["status"] == "degraded"
        assert answer.json()["queries"]["overdue"] == 1
        # Every worker (one here) is overdue: a new query is refused at once, not queued.
        began = time.monotonic()
        busy = query(server, "ASK { ?s ?p ?o }")
        assert busy.status_code == 503
        assert busy.json()["error"] == "ServerBusyError"
        assert time.monotonic() - began < 0.5
        wait_idle(server, within=30.0)
        assert query(server, "ASK { ?s ?p ?o }").status_code == 200


@pytest.mark.slow
def test_a_timeout_after_the_status_was_sent_breaks_the_connection(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    runner = QueryRunner(2, first_chunk_bytes=256, chunk_bytes=256)
    with start_server(store=heavy_store(300), query_timeout=1.0, runner=runner) as server:
        received = b""
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream("GET", server.sparql, params={"query": TRICKLE}, timeout=30) as response,
        ):
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                received += chunk
        assert received.startswith(b'{"head":{"vars":["x","y","z"]}')
        assert not received.rstrip().endswith(b"]}}")  # never a clean end
        wait_idle(server, within=5.0)
    assert any("aborted after its status was sent" in r.getMessage() for r in caplog.records)


def test_a_result_over_the_row_cap_is_413_before_any_bytes(start_server: StartServer) -> None:
    with start_server(max_result_rows=5) as server:
        response = query(server, "SELECT * WHERE { ?s ?p ?o }")
        assert response.status_code == 413
        assert response.json()["error"] == "ResultTooLargeError"
        assert "LIMIT" in response.json()["message"]
        assert query(server, "SELECT * WHERE { ?s ?p ?o } LIMIT 5").status_code == 200
        construct = query(server, "CONSTRUCT WHERE { ?s ?p ?o }")
        assert construct.status_code == 413


def test_a_row_cap_hit_while_streaming_breaks_the_connection(start_server: StartServer) -> None:
    runner = QueryRunner(2, first_chunk_bytes=64, chunk_bytes=64)
    with start_server(max_result_rows=5, runner=runner) as server:
        with (
            pytest.raises(httpx.RemoteProtocolError),
            httpx.stream(
                "GET", server.sparql, params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=30
            ) as response,
        ):
            assert response.status_code == 200
            response.read()
        assert query(server, "ASK { ?s ?p ?o }").status_code == 200


def test_a_client_that_goes_away_stops_its_query(start_server: StartServer) -> None:
    runner = QueryRunner(2, first_chunk_bytes=256, chunk_bytes=256)
    with start_server(store=heavy_store(300), query_timeout=30.0, runner=runner) as server:
        with httpx.stream("GET", server.sparql, params={"query": TRICKLE}, timeout=30) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        # Closing the connection ends the stream; the worker stops at its next row.
        wait_idle(server, within=5.0)


@pytest.mark.parametrize("mid_stream_deadline", [True, False])
def test_a_client_that_stops_reading_cannot_hold_a_worker(mid_stream_deadline: bool) -> None:
    async def scenario() -> None:
        runner = QueryRunner(1, first_chunk_bytes=10, chunk_bytes=10, buffer_chunks=2,
                             stall_timeout=0.5)  # fmt: skip
        runner.bind(load_test_store())

        def endless(store: Any, tick: Any) -> Generator[str | bytes, None, None]:
            yield "text/plain"
            while True:
                yield b"0123456789"

        stream = await runner.start(
            endless, timeout=0.5, max_rows=None, deadline_mid_stream=mid_stream_deadline
        )
        assert runner.status()["busy"] == 1
        # The client reads nothing more: the worker gives up once the buffer stays full for
        # the stall timeout (or at the deadline), well within the generous bound here.
        await poll_until_async(
            lambda: runner.status()["busy"] == 0, within=30.0, what="the worker stays busy"
        )
        assert runner.status()["busy"] == 0
        with pytest.raises(StreamAborted):
            async for _ in stream.chunks():
                pass
        runner.close()

    asyncio.run(scenario())
