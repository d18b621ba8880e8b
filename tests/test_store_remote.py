"""The remote store: protocol details against a scripted server, and Virtuoso's particulars.

The Store contract itself runs against Virtuoso in test_store_contract.py. Here:

* without a server (``httpx.MockTransport``): settings, error mapping, authentication, the
  query form and dataset sent, result-cap handling, Virtuoso's JSON quirks;
* on a real Virtuoso (``virtuoso`` fixture): failed commits leave nothing behind, large commits
  are staged (by update requests or the Graph Store Protocol), paging, the union default graph,
  the differences from the embedded store that docs/stores.md lists, and the bulk-load path
  from an embedded store that docs/stores.md describes.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    RdfFormat,
    Triple,
    serialize,
)

from diplograph.loader.config import load_settings
from diplograph.loader.errors import (
    ConfigError,
    QuerySyntaxError,
    RemoteStoreError,
    ResultTooLargeError,
)
from diplograph.loader.facts import read_path
from diplograph.loader.iris import IriMinter
from diplograph.loader.pipeline import load
from diplograph.loader.store import GraphChange, open_store
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.store.remote import STAGING_PREFIX, RemoteStore
from tests.conftest import EXAMPLES
from tests.support.virtuoso import Virtuoso

XSD = "http://www.w3.org/2001/XMLSchema#"
ENDPOINT = "http://store.test/sparql"
Handler = Callable[[httpx.Request], httpx.Response]


def results(*rows: object, variables: tuple[str, ...] = ("o",)) -> dict[str, object]:
    return {"head": {"vars": list(variables)}, "results": {"bindings": list(rows)}}


def literal(value: str) -> dict[str, object]:
    return {"type": "literal", "value": value}


def mock_store(handler: Handler, **options: object) -> RemoteStore:
    """A remote store whose requests ``handler`` answers (``union`` native unless given)."""
    values: dict[str, object] = {"union": "native", **options}
    return RemoteStore(ENDPOINT, transport=httpx.MockTransport(handler), **values)  # type: ignore[arg-type]


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


def json_response(body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        200,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/sparql-results+json", **(headers or {})},
    )


# --- settings --------------------------------------------------------------------------------


def test_from_settings_needs_a_query_url() -> None:
    with pytest.raises(ConfigError, match="DIPLOGRAPH_REMOTE_QUERY_URL"):
        RemoteStore.from_settings(load_settings(store="remote"))


def test_from_settings_takes_every_remote_setting() -> None:
    settings = load_settings(
        store="remote",
        remote_query_url="http://store.test/query",
        remote_gsp_url="http://store.test/gsp",
        remote_user="me",
        remote_password="secret",
        remote_timeout=7,
        remote_write_requests=2,
    )
    store = open_store(settings)
    try:
        assert isinstance(store, RemoteStore)
        assert store.kind == "remote"
        assert store.update_url == "http://store.test/query"  # defaults to the query URL
        assert store.gsp_url == "http://store.test/gsp"
        assert store.timeout == 7
        assert store.write_requests == 2
    finally:
        store.close()


# --- errors ----------------------------------------------------------------------------------


def test_a_400_on_a_query_is_a_syntax_error_with_the_servers_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        text = "Virtuoso 37000 Error SP030: syntax error at 'SELEC'\n\nSPARQL query:\nSELEC *"
        return httpx.Response(400, text=text, headers={"Content-Type": "text/plain"})

    with mock_store(handler) as store, pytest.raises(QuerySyntaxError) as caught:
        store.query("SELEC *")
    assert "SP030: syntax error at 'SELEC'" in caught.value.message
    assert "SPARQL query" not in caught.value.message  # the echoed query is cut off


def test_a_server_error_is_a_remote_store_error_with_status_and_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        html = "<html><body><h1>Request Failed</h1><p>Error 22023: out of cheese</p></body></html>"
        return httpx.Response(500, text=html, headers={"Content-Type": "text/html"})

    with mock_store(handler) as store, pytest.raises(RemoteStoreError) as caught:
        store.query("SELECT * WHERE { ?s ?p ?o }")
    assert "HTTP 500" in caught.value.message
    assert "Request Failed Error 22023: out of cheese" in caught.value.message
    assert caught.value.status == 502  # what the API answers with


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (httpx.ConnectError("connection refused"), "cannot reach the remote store"),
        (httpx.ReadTimeout("timed out"), "DIPLOGRAPH_REMOTE_TIMEOUT"),
    ],
)
def test_network_failures_are_remote_store_errors(exception: Exception, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exception

    with (
        mock_store(handler) as store,
        pytest.raises(RemoteStoreError, match=expected),
    ):
        store.count()


def test_refused_credentials_name_the_settings() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="forbidden")

    with (
        mock_store(handler) as store,
        pytest.raises(RemoteStoreError, match="DIPLOGRAPH_REMOTE_USER"),
    ):
        store.update("CLEAR ALL")


def test_an_unreachable_port_is_a_remote_store_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = RemoteStore(f"http://127.0.0.1:{port}/sparql", timeout=5)
    with store, pytest.raises(RemoteStoreError, match="cannot reach"):
        store.graph_names()


# --- authentication --------------------------------------------------------------------------


def test_credentials_answer_a_basic_challenge() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if "authorization" not in request.headers:
            return httpx.Response(401, headers={"WWW-Authenticate": 'Basic realm="sparql"'})
        return json_response({"head": {}, "boolean": True})

    with mock_store(handler, user="me", password="pw") as store:
        assert bool(store.query("ASK {}"))
        assert bool(store.query("ASK {}"))
    basic = "Basic " + base64.b64encode(b"me:pw").decode()
    assert seen == [None, basic, basic]


def test_credentials_answer_a_digest_challenge_and_are_then_sent_up_front() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if "authorization" not in request.headers:
            challenge = 'Digest realm="SPARQL", nonce="abc", qop="auth", algorithm="MD5"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        return json_response({"head": {}, "boolean": True})

    with mock_store(handler, user="me", password="pw") as store:
        store.query("ASK {}")
        store.query("ASK {}")
    assert seen[0] is None
    assert all(h is not None and h.startswith("Digest ") for h in seen[1:])
    assert len(seen) == 3  # one challenge only


# --- what is sent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "application/sparql-results+json"),
        ("ask {}", "application/sparql-results+json"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples"),
        (
            "# a comment with SELECT in it\nBASE <http://x/#a>\nPREFIX ex: <http://x/#>\n"
            "prefix : <urn:y>\n# another\nDESCRIBE ex:a",
            "application/n-triples",
        ),
        (
            'DEFINE input:inference "rules" CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }',
            "application/n-triples",
        ),
    ],
)
def test_the_query_form_chooses_the_format_asked_for(query: str, accept: str) -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.headers["accept"])
        if accept == "application/n-triples":
            return httpx.Response(200, text="", headers={"Content-Type": "application/n-triples"})
        return json_response(results())

    with mock_store(handler) as store:
        store.query(query)
    assert asked == [accept]


def test_list_mode_names_every_graph_as_default_and_named_graph() -> None:
    sent: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fields = form(request)
        sent.append(fields)
        if "DISTINCT ?g" in fields["query"][0]:
            rows = [
                {"g": {"type": "uri", "value": g}}
                for g in ("urn:g:2", "urn:g:1", STAGING_PREFIX + "x:0")
            ]
            return json_response(results(*rows, variables=("g",)))
        return json_response(results())

    with mock_store(handler, union="list") as store:
        store.query("SELECT * WHERE { ?s ?p ?o }")
        store.query("SELECT * WHERE { ?s ?p ?o }", named_graphs=["urn:g:9"])
        store.query("SELECT * WHERE { ?s ?p ?o }", default_graph=[])
    assert sent[1]["default-graph-uri"] == ["urn:g:1", "urn:g:2"]  # staging graphs left out
    assert sent[1]["named-graph-uri"] == ["urn:g:1", "urn:g:2"]
    assert sent[3]["default-graph-uri"] == ["urn:g:1", "urn:g:2"]
    assert sent[3]["named-graph-uri"] == ["urn:g:9"]
    assert sent[4]["default-graph-uri"] == ["urn:x-diplograph:empty"]  # [] selects nothing


def test_auto_mode_asks_once_who_answers() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(form(request)["query"][0])
        return json_response(results(), headers={"Server": "Virtuoso/07.20.3229 (Linux)"})

    with mock_store(handler, union="auto") as store:
        store.query("SELECT * WHERE { ?s ?p ?o }")
        store.query("SELECT * WHERE { ?s ?p ?o }")
    assert sent == ["ASK {}", "SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p ?o }"]


# --- result caps and paging ------------------------------------------------------------------


def capped_server(rows: list[str], cap: int) -> tuple[Handler, list[str]]:
    """A store that holds one graph of ``rows`` objects and cuts every answer at ``cap`` rows."""
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        query = form(request)["query"][0]
        queries.append(query)
        limit = int(query.split("LIMIT ")[1].split()[0]) if "LIMIT" in query else len(rows)
        offset = int(query.split("OFFSET ")[1].split()[0]) if "OFFSET" in query else 0
        page = rows[offset : offset + min(limit, cap)]
        bindings = [
            {
                "s": {"type": "uri", "value": "urn:s"},
                "p": {"type": "uri", "value": "urn:p"},
                "o": literal(o),
            }
            for o in page
        ]
        headers = {"X-SPARQL-MaxRows": str(cap)} if limit >= cap else {}
        return json_response(results(*bindings, variables=("s", "p", "o")), headers)

    return handler, queries


def test_pages_shrink_to_the_stores_row_cap() -> None:
    rows = [f"v{i:02}" for i in range(23)]
    handler, queries = capped_server(rows, cap=5)
    store = mock_store(handler, page_size=10)
    with store:
        found = store.graph_triples("urn:g")
    assert {t.object for t in found} == {Literal(row) for row in rows}
    assert store.page_size == 5
    assert len(queries) == 1 + 5  # one page cut at the cap, then 5 pages of 5 (the last short)


def test_a_query_result_cut_at_the_cap_is_refused() -> None:
    handler, _ = capped_server([f"v{i}" for i in range(9)], cap=5)
    with mock_store(handler) as store:
        with pytest.raises(ResultTooLargeError, match="ResultSetMaxRows"):
            store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
        short = store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3")
        assert isinstance(short, QuerySolutions)
        assert len(list(short)) == 3


def test_virtuoso_blank_nodes_and_booleans_are_repaired() -> None:
    body = results(
        {"o": {"type": "bnode", "value": "nodeID://b10001"}},
        {"o": {"type": "typed-literal", "datatype": XSD + "boolean", "value": "1"}},
        {"o": {"type": "typed-literal", "datatype": XSD + "boolean", "value": "0"}},
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(body, headers={"Server": "Virtuoso/07.20.3229"})

    with mock_store(handler) as store:
        result = store.query("SELECT ?o WHERE { ?s ?p ?o }")
    assert isinstance(result, QuerySolutions)
    assert [row["o"] for row in result] == [
        BlankNode("b10001"),  # as Virtuoso's own N-Triples call it
        Literal("true", datatype=NamedNode(XSD + "boolean")),
        Literal("false", datatype=NamedNode(XSD + "boolean")),
    ]


# --- on a real Virtuoso ----------------------------------------------------------------------


class CountingTransport(httpx.HTTPTransport):
    """A real transport that remembers the requests the server accepted: (method, kind), where
    kind is "update", "query" or "gsp"."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "graph-crud" in request.url.path:
            kind = "gsp"
        else:
            kind = "update" if "update" in form(request) else "query"
        response = super().handle_request(request)
        if response.status_code < 300:
            self.accepted.append((request.method, kind))
        return response

    def writes(self) -> list[tuple[str, str]]:
        return [(method, kind) for method, kind in self.accepted if kind != "query"]

    def queries(self) -> int:
        return sum(1 for _, kind in self.accepted if kind == "query")


@pytest.fixture
def ns() -> str:
    return f"http://example.org/remote/{uuid.uuid4().hex}/"


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that keeps the text of every update request."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.updates.extend(form(request).get("update", []))
        return super().handle_request(request)


class RefusingTransport(httpx.HTTPTransport):
    """A real transport, but the Graph Store Protocol PUT of a graph whose name ends with
    ``suffix`` is answered 500 without reaching the server."""

    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.params.get("graph", "").endswith(self.suffix):
            return httpx.Response(500, text="refused on purpose", request=request)
        return super().handle_request(request)


@pytest.fixture
def remote(virtuoso: Virtuoso, ns: str) -> Iterator[RemoteStore]:
    """A remote store on the session's Virtuoso; graphs under ``ns`` are dropped afterwards."""
    store = virtuoso.store()
    yield store
    store.commit([GraphChange(g, None) for g in store.graph_names() if g.startswith(ns)])
    store.close()


def staging_graphs(store: RemoteStore) -> list[str]:
    result = store.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(STRSTARTS(STR(?g), "{STAGING_PREFIX}")) }}'
    )
    assert isinstance(result, QuerySolutions)
    return [str(row["g"]) for row in result]


@pytest.mark.parametrize("write_requests", [1, 3])
def test_staged_graphs_go_by_the_graph_store_protocol_write_requests_at_a_time(
    write_requests: int,
) -> None:
    lock = threading.Lock()
    in_flight, most, puts = [0], [0], []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
                puts.append(request.url.params["graph"])
            time.sleep(0.05)  # a server busy writing: the other requests overlap this one
            with lock:
                in_flight[0] -= 1
            return httpx.Response(201)
        if request.method == "POST" and "update" in form(request):
            return httpx.Response(200)
        # Which graphs hold something: every one, so each is staged.
        held = re.findall(r"<([^>]*)>", form(request)["query"][0])
        return json_response(
            results(*({"g": {"type": "uri", "value": g}} for g in held), variables=("g",))
        )

    ns = "http://example.org/concurrent/"
    store = mock_store(
        handler, gsp_url="http://store.test/gsp", max_update_bytes=1, write_requests=write_requests
    )
    store.commit([GraphChange(f"{ns}g{i}", rows(ns, 3)) for i in range(6)])
    assert len(puts) == 6
    assert most[0] == write_requests


def rows(ns: str, count: int, tag: str = "") -> list[Triple]:
    return [
        Triple(NamedNode(f"{ns}s{i}"), NamedNode(ns + "p"), Literal(f"value {i} {tag}"))
        for i in range(count)
    ]


@pytest.mark.server
@pytest.mark.external
@pytest.mark.slow
class TestOnVirtuoso:
    def test_settings_from_the_fixture_open_a_working_store(self, virtuoso: Virtuoso) -> None:
        store = open_store(virtuoso.settings())
        try:
            assert isinstance(store, RemoteStore)
            assert store.count() > 0  # Virtuoso's own graphs
        finally:
            store.close()

    def test_wrong_credentials_are_refused(self, virtuoso: Virtuoso) -> None:
        store = virtuoso.store(password="wrong")
        with store, pytest.raises(RemoteStoreError, match="DIPLOGRAPH_REMOTE_PASSWORD"):
            store.count()

    def test_the_anonymous_endpoint_cannot_write(self, virtuoso: Virtuoso, ns: str) -> None:
        store = RemoteStore(virtuoso.url + "/sparql")
        with store, pytest.raises(RemoteStoreError, match=r"SECURITY|permission"):
            store.commit([GraphChange(ns + "g", rows(ns, 1))])

    def test_a_commit_that_fails_half_way_leaves_nothing_behind(
        self, remote: RemoteStore, ns: str
    ) -> None:
        """Virtuoso keeps the operations before a failing one; staging keeps them off the targets.

        Virtuoso 7.2 cannot store xsd:duration (SR553), which makes a commit fail on the server
        after it has already written other graphs of the same request.
        """
        a, b = ns + "a", ns + "b"
        remote.commit([GraphChange(a, rows(ns, 3, "old")), GraphChange(b, rows(ns, 2, "old"))])
        duration = Triple(
            NamedNode(ns + "e"),
            NamedNode(ns + "lasted"),
            Literal("PT1H", datatype=NamedNode(XSD + "duration")),
        )

        with pytest.raises(RemoteStoreError, match="duration"):
            remote.commit(
                [
                    GraphChange(a, rows(ns, 5, "new")),
                    GraphChange(b, [*rows(ns, 1, "new"), duration]),
                ]
            )

        assert remote.graph_triples(a) == set(rows(ns, 3, "old"))
        assert remote.graph_triples(b) == set(rows(ns, 2, "old"))
        assert staging_graphs(remote) == []

    def test_a_commit_staged_by_concurrent_graph_store_requests_fails_whole(
        self, virtuoso: Virtuoso, ns: str
    ) -> None:
        """One refused request among several sent at once: the targets keep their contents and
        no staging graph is left, whatever the other requests were doing."""
        store = virtuoso.store(max_update_bytes=2_000, write_requests=4)
        graphs = [f"{ns}g{i}" for i in range(6)]
        try:
            store.commit([GraphChange(g, rows(ns, 3, "old")) for g in graphs])
            refusing = virtuoso.store(
                max_update_bytes=2_000, write_requests=4, transport=RefusingTransport(":3")
            )
            with refusing, pytest.raises(RemoteStoreError, match="refused on purpose"):
                refusing.commit([GraphChange(g, rows(ns, 40, "new")) for g in graphs])
            for graph in graphs:
                assert store.graph_triples(graph) == set(rows(ns, 3, "old"))
            assert staging_graphs(store) == []
        finally:
            store.commit([GraphChange(g, None) for g in store.graph_names() if g.startswith(ns)])
            store.close()

    def test_new_graphs_are_written_in_place_and_a_failure_drops_them_again(
        self, virtuoso: Virtuoso, ns: str
    ) -> None:
        """A graph that holds nothing needs no staging: the commit inserts into it directly
        (2.5 times faster on Virtuoso), and a failed commit drops what it wrote."""
        transport = RecordingTransport()
        store = virtuoso.store(transport=transport)
        a, b = ns + "a", ns + "b"
        duration = Triple(
            NamedNode(ns + "e"),
            NamedNode(ns + "lasted"),
            Literal("PT1H", datatype=NamedNode(XSD + "duration")),
        )
        try:
            with pytest.raises(RemoteStoreError, match="duration"):
                store.commit([GraphChange(a, rows(ns, 5)), GraphChange(b, [duration])])
            assert store.graph_triples(a) == set()
            assert store.graph_triples(b) == set()

            store.commit([GraphChange(a, rows(ns, 5))])
            assert store.graph_triples(a) == set(rows(ns, 5))
            assert not [u for u in transport.updates if STAGING_PREFIX in u and "INSERT" in u]
        finally:
            store.commit([GraphChange(g, None) for g in store.graph_names() if g.startswith(ns)])
            store.close()

    def test_with_operations_new_graphs_are_written_in_place_between_before_and_after(
        self, virtuoso: Virtuoso, ns: str
    ) -> None:
        """The summary's operations read a graph as it was (``before``) and as it is
        (``after``); a new graph written in place must land between the two."""
        transport = RecordingTransport()
        store = virtuoso.store(transport=transport)
        a, seen = ns + "a", ns + "seen"

        def size_as(label: str) -> str:
            return (
                f"INSERT {{ GRAPH <{seen}> {{ <{ns}{label}> <{ns}size> ?n }} }} WHERE {{ "
                f"{{ SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{a}> {{ ?s ?p ?o }} }} }} }}"
            )

        try:
            store.commit(
                [GraphChange(a, rows(ns, 4))], before=[size_as("before")], after=[size_as("after")]
            )
            sizes = {t.subject.value: t.object.value for t in store.graph_triples(seen)}
            assert sizes == {ns + "before": "0", ns + "after": "4"}
            assert store.graph_triples(a) == set(rows(ns, 4))
            assert not [u for u in transport.updates if STAGING_PREFIX in u and "INSERT" in u]

            # Too large for one request: the graphs are staged, so that the operations still
            # run around the swaps that bring them in.
            store.commit([GraphChange(a, None)])
            store.commit([GraphChange(seen, None)])
            small = virtuoso.store(transport=transport, max_update_bytes=2_000, gsp_url=None)
            small.commit(
                [GraphChange(a, rows(ns, 40))],
                before=[size_as("before")],
                after=[size_as("after")],
            )
            sizes = {t.subject.value: t.object.value for t in store.graph_triples(seen)}
            assert sizes == {ns + "before": "0", ns + "after": "40"}
            assert [u for u in transport.updates if STAGING_PREFIX in u and "INSERT" in u]
            small.close()
        finally:
            store.commit([GraphChange(g, None) for g in store.graph_names() if g.startswith(ns)])
            store.close()

    def test_the_story_with_its_one_hour_call_loads_through_the_loader(
        self, virtuoso: Virtuoso
    ) -> None:
        """Durations are xsd:dayTimeDuration, which Virtuoso stores (xsd:duration it cannot)."""
        settings = virtuoso.settings()
        store = open_store(settings)
        try:
            report = load(read_path(EXAMPLES / "story.json"), store, settings)
            assert (report.documents_loaded, report.documents_rejected) == (1, 0)
            result = store.query(
                "SELECT ?d WHERE { ?call <https://w3id.org/diplograph/ns#duration> ?d }"
            )
            assert isinstance(result, QuerySolutions)
            [duration] = [row["d"] for row in result]
            assert isinstance(duration, Literal)
            assert duration.datatype == NamedNode(XSD + "dayTimeDuration")
            assert duration.value in ("PT1H", "PT3600S")  # Virtuoso gives the value in seconds
        finally:
            graph = IriMinter(settings.base_iri).document("bloomberg-2023-10-14-blinken-wang-call")
            store.commit([GraphChange(graph, None)])
            store.close()

    @pytest.mark.parametrize("by", ["update", "gsp"])
    def test_large_commits_are_staged_then_swapped_in_one_request(
        self, virtuoso: Virtuoso, ns: str, by: str
    ) -> None:
        transport = CountingTransport()
        store = virtuoso.store(
            transport=transport,
            max_update_bytes=30_000,
            gsp_url=virtuoso.gsp_url if by == "gsp" else None,
        )
        p = NamedNode(ns + "p")
        # One blank-node component: it must travel whole. The Graph Store Protocol takes any size;
        # an update operation of more than ~1,400 triples is refused by Virtuoso.
        linked = [BlankNode() for _ in range(3000 if by == "gsp" else 900)]
        chain = [Triple(x, p, y) for x, y in itertools.pairwise(linked)]
        big = [*rows(ns, 2500), *chain]
        try:
            store.commit(
                [
                    GraphChange(ns + "small", rows(ns, 2)),
                    GraphChange(ns + "big", big),
                    GraphChange(ns + "gone", None),
                ]
            )

            writes = transport.writes()
            assert len(writes) > 2
            assert writes[-1] == ("POST", "update")  # the swaps, in one request
            if by == "gsp":
                assert set(writes[:-1]) <= {("PUT", "gsp"), ("POST", "gsp")}
                assert writes.count(("PUT", "gsp")) == 2  # one per staged graph
            else:
                assert set(writes[:-1]) == {("POST", "update")}
            assert store.graph_triples(ns + "small") == set(rows(ns, 2))
            found = store.graph_triples(ns + "big")
            assert {t for t in found if isinstance(t.subject, NamedNode)} == set(rows(ns, 2500))
            links = {t for t in found if isinstance(t.subject, BlankNode)}
            assert len(links) == len(chain)
            successors = {t.subject: t.object for t in links}
            assert len(set(successors.values())) == len(chain)  # still one chain, unbroken
            assert staging_graphs(store) == []
        finally:
            store.commit([GraphChange(g, None) for g in store.graph_names() if g.startswith(ns)])
            store.close()

    def test_reads_page_through_large_graphs(self, virtuoso: Virtuoso, ns: str) -> None:
        transport = CountingTransport()
        store = virtuoso.store(transport=transport, page_size=7)
        try:
            store.commit([GraphChange(ns + "g", rows(ns, 25))])
            before = transport.queries()
            assert store.graph_triples(ns + "g") == set(rows(ns, 25))
            assert transport.queries() - before == 4  # 7 + 7 + 7 + 4
            assert len(list(store.quads(ns + "g"))) == 25
        finally:
            store.commit([GraphChange(ns + "g", None)])
            store.close()

    def test_without_union_the_default_graph_is_still_the_union(
        self, remote: RemoteStore, ns: str
    ) -> None:
        """Virtuoso has no default graph of its own: without a dataset, queries see every graph."""
        remote.commit([GraphChange(ns + "g", rows(ns, 1))])
        result = remote.query(f"ASK {{ <{ns}s0> ?p ?o }}", union_default_graph=False)
        assert isinstance(result, QueryBoolean)
        assert bool(result)

    def test_virtuoso_reports_graphs_of_its_own(self, remote: RemoteStore) -> None:
        assert "http://www.openlinksw.com/schemas/virtrdf#" in remote.graph_names()

    @pytest.mark.parametrize(
        ("written", "read"),
        [
            (("2.0", "decimal"), ("2", "decimal")),
            (("1.50", "decimal"), ("1.5", "decimal")),
            (("042", "integer"), ("42", "integer")),
            (("1.0E0", "double"), ("1.0", "double")),
            (("1", "boolean"), ("true", "boolean")),
            (("2024-03-01T10:00:00.5Z", "dateTime"), ("2024-03-01T10:00:00.500Z", "dateTime")),
        ],
    )
    def test_virtuoso_keeps_values_not_lexical_forms(
        self, remote: RemoteStore, ns: str, written: tuple[str, str], read: tuple[str, str]
    ) -> None:
        """Listed in docs/stores.md; if this fails, Virtuoso changed: update the docs."""
        triple = Triple(
            NamedNode(ns + "s"),
            NamedNode(ns + "p"),
            Literal(written[0], datatype=NamedNode(XSD + written[1])),
        )
        remote.commit([GraphChange(ns + "g", [triple])])
        (found,) = remote.graph_triples(ns + "g")
        assert found.object == Literal(read[0], datatype=NamedNode(XSD + read[1]))

    def test_an_embedded_store_moves_into_virtuoso_by_bulk_load(
        self, virtuoso: Virtuoso, remote: RemoteStore, ns: str, tmp_path: Path
    ) -> None:
        """The path docs/stores.md describes: dump N-Quads, then ld_dir + rdf_loader_run."""
        embedded = EmbeddedStore(tmp_path / "store")
        lit = Literal('quotes " and \n newline, é, 😀', language="en")
        embedded.commit(
            [
                GraphChange(
                    ns + "doc/1",
                    [*rows(ns, 3), Triple(NamedNode(ns + "x"), NamedNode(ns + "label"), lit)],
                ),
                GraphChange(ns + "doc/2", rows(ns, 2, "two")),
            ]
        )
        expected = set(embedded.quads())
        folder = virtuoso.directory / f"load-{uuid.uuid4().hex}"
        folder.mkdir()
        (folder / "dump.nq").write_bytes(
            serialize(embedded.quads(), format=RdfFormat.N_QUADS) or b""
        )
        embedded.close()

        virtuoso.isql(
            f"ld_dir('{folder}', '*.nq', 'http://example.org/no-graph'); "
            "rdf_loader_run(); checkpoint;"
        )
        errors = virtuoso.isql(
            "SELECT ll_file, ll_error FROM DB.DBA.LOAD_LIST "
            f"WHERE ll_file LIKE '{folder}%' AND ll_error IS NOT NULL;"
        )
        assert "0 Rows" in errors

        graphs = [g for g in remote.graph_names() if g.startswith(ns)]
        assert graphs == [ns + "doc/1", ns + "doc/2"]
        assert {q for g in graphs for q in remote.quads(g)} == expected
