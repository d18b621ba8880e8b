"""The lean path of a SPARQL query: what is kept per query text and per ``Accept`` header, the
route that takes ``GET``/``POST /sparql`` ahead of the documented ones, the JSON writer's term
text, and the worker processes' cheap checks. Each keeps the behaviour it stands in for."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import threading

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import BaseDirection, BlankNode, Literal, NamedNode, Triple
from starlette.routing import Match

from diplograph.api.execution import Runner
from diplograph.api.formats import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Term,
    _json_term,
    _json_term_text,
    negotiate,
)
from diplograph.api.guard import CACHED_TEXT_CHARS, inspect_query
from diplograph.api.query_process import Order, read_message, write_message
from diplograph.api.query_text import prepare
from diplograph.api.sparql import LeanRoute, QueryTask
from diplograph.api.streaming import Channel, Whole
from diplograph.loader.config import load_settings
from diplograph.loader.errors import ForbiddenQueryError, UnsupportedFormatError
from diplograph.loader.store import Store

SERVICE = "SELECT * WHERE { SERVICE <http://a.example/sparql> { ?s ?p ?o } }"


# --- kept per query text -----------------------------------------------------------------------


def test_a_refused_query_is_refused_every_time_it_is_sent() -> None:
    settings = load_settings(store="memory")
    for _ in range(3):
        with pytest.raises(ForbiddenQueryError):
            inspect_query(SERVICE, settings)


def test_a_kept_inspection_follows_the_allow_list_it_was_made_with() -> None:
    allowing = load_settings(store="memory", allow_service=["http://a.example/"])
    assert inspect_query(SERVICE, allowing).reaches[0].iri == "http://a.example/sparql"
    with pytest.raises(ForbiddenQueryError):
        inspect_query(SERVICE, load_settings(store="memory"))


def test_a_text_longer_than_the_kept_ones_is_inspected_the_same_way() -> None:
    settings = load_settings(store="memory")
    padding = "#" + "x" * CACHED_TEXT_CHARS + "\n"
    short = inspect_query("ASK { <a> ?p ?o }", settings)
    long = inspect_query(padding + "ASK { <a> ?p ?o }", settings)
    assert (short.form, short.relative_iris) == (long.form, long.relative_iris) == ("ASK", True)
    with pytest.raises(ForbiddenQueryError):
        inspect_query(padding + SERVICE, settings)


def test_the_base_goes_in_front_only_of_text_with_relative_iris() -> None:
    relative = prepare("ASK { <a> ?p ?o }", True, "http://h.example/sparql")
    absolute = prepare("ASK { <urn:a> ?p ?o }", False, "http://h.example/sparql")
    assert relative.text.startswith("BASE <http://h.example/sparql> ")
    assert "BASE" not in absolute.text
    assert relative.text.endswith("ASK { <a> ?p ?o }")
    assert len(relative.text) - relative.shift == len("ASK { <a> ?p ?o }")


def test_a_query_task_carries_the_clients_text_and_runs_it_with_the_prologue(
    story_store: Store,
) -> None:
    task = QueryTask(
        original="ASK { ?s rdf:type ?t }",  # rdf: is predeclared
        base=None,
        default_graph=None,
        named_graphs=None,
        union=True,
        dataset_in_query=False,
        accept="application/sparql-results+json",
        format=None,
        base_iri=None,
    )
    media_type, body = list(task(story_store, lambda: None))
    assert media_type == "application/sparql-results+json; charset=utf-8"
    assert json.loads(body) == {"head": {}, "boolean": True}


# --- kept per Accept header --------------------------------------------------------------------


def test_the_same_accept_header_is_negotiated_per_family() -> None:
    assert negotiate("*/*", RESULT_FORMATS).name == "json"
    assert negotiate("*/*", GRAPH_FORMATS).name == "turtle"
    assert negotiate("*/*", RESULT_FORMATS, override="csv").name == "csv"


def test_an_impossible_accept_header_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(UnsupportedFormatError):
            negotiate("image/png", RESULT_FORMATS, what="a SELECT")


# --- the route ---------------------------------------------------------------------------------


def test_the_lean_route_takes_get_and_post_and_leaves_head_to_the_head_middleware() -> None:
    route = LeanRoute()
    scope = {"type": "http", "path": "/sparql", "root_path": ""}
    assert route.matches({**scope, "method": "GET"})[0] == Match.FULL
    assert route.matches({**scope, "method": "POST"})[0] == Match.FULL
    assert route.matches({**scope, "method": "HEAD"})[0] == Match.PARTIAL


def test_the_lean_route_comes_before_the_documented_ones(client: TestClient) -> None:
    get = {"type": "http", "path": "/sparql", "root_path": "", "method": "GET"}
    routes = client.app.router.routes  # type: ignore[attr-defined]
    taking = [route for route in routes if route.matches(get)[0] == Match.FULL]
    assert isinstance(taking[0], LeanRoute)


def test_the_sparql_endpoint_stays_in_the_api_description(client: TestClient) -> None:
    operations = client.get("/openapi.json").json()["paths"]["/sparql"]
    assert set(operations) == {"get", "post"}


def test_a_small_result_is_one_body_with_its_length_and_vary(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(response.content))
    assert response.headers["vary"] == "Accept"
    assert "transfer-encoding" not in response.headers


# --- the JSON writer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "term",
    [
        NamedNode("http://example.org/a?b=c&d=é/ü"),
        BlankNode("b0"),
        Literal('plain "quoted" \\ back\nslash\ttab \u0001 ü 😀'),
        Literal("hello", language="en"),
        Literal("مرحبا", language="ar", direction=BaseDirection.RTL),
        Literal("42", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
        Triple(NamedNode("urn:s"), NamedNode("urn:p"), Literal("o", language="fr")),
    ],
)
def test_a_term_is_written_byte_for_byte_as_json_would_write_it(term: Term) -> None:
    expected = json.dumps(_json_term(term), ensure_ascii=False, separators=(",", ":"))
    assert _json_term_text(term) == expected


# --- the hand-over and the worker processes ----------------------------------------------------


def test_an_item_already_handed_over_is_taken_without_waiting() -> None:
    async def run() -> object:
        channel = Channel(asyncio.get_running_loop(), 4)
        channel._items.put_nowait(b"ready")
        return await channel.get(0)

    assert asyncio.run(run()) == b"ready"


def test_a_channel_that_stays_empty_times_out() -> None:
    async def run() -> None:
        channel = Channel(asyncio.get_running_loop(), 4)
        await channel.get(0.01)

    with pytest.raises(TimeoutError):
        asyncio.run(run())


class _AnswersWhole(Runner):
    """A runner whose "worker" hands every query's result over as one :class:`Whole` item."""

    def _ensure_workers(self) -> None:
        pass

    def _submitted(self) -> None:
        job = self.queue.take_nowait()
        assert job is not None
        job.media_type = "text/plain"
        job.channel.put(Whole(b"all of it"))


def test_a_whole_result_handed_over_at_once_is_answered_as_one_body() -> None:
    async def run() -> bytes | None:
        stream = await _AnswersWhole(2).start(
            lambda store, tick: iter(()), timeout=5, max_rows=None
        )
        return stream.whole

    assert asyncio.run(run()) == b"all of it"


def test_an_order_travels_as_a_plain_tuple_and_reads_back_by_name() -> None:
    fields = ("task", Store, "/snapshots/1", 12.5, 5.0, None, True)
    order = Order._make(fields)
    assert (order.snapshot, order.deadline, order.max_rows) == ("/snapshots/1", 12.5, None)
    assert tuple(order) == fields


@pytest.mark.parametrize("size", [0, 100, 4096, 200_000], ids=["empty", "small", "edge", "large"])
def test_a_message_is_read_whole_and_the_next_one_intact(size: int) -> None:
    ours, theirs = multiprocessing.Pipe()
    first = ("data", "text/plain", b"x" * size, False)
    second = ("end", None, b"", True)

    def send() -> None:  # a large message fills the pipe: send from a thread
        write_message(theirs.fileno(), first)
        theirs.send(second)

    sender = threading.Thread(target=send)
    sender.start()
    assert read_message(ours, min(size, 16384) or 1) == first
    assert ours.recv() == second
    sender.join()


def test_a_message_written_whole_is_read_by_connection_recv() -> None:
    ours, theirs = multiprocessing.Pipe()
    message = ("task", None, "/snapshots/1", 12.5, 5.0, None, True)
    write_message(theirs.fileno(), message)
    assert ours.recv() == message


def test_a_closed_pipe_reads_as_the_end_of_the_process() -> None:
    ours, theirs = multiprocessing.Pipe()
    theirs.close()
    with pytest.raises(EOFError):
        read_message(ours, 16384)
