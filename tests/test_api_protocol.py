"""The SPARQL 1.1 Protocol at /sparql, in process: queries, negotiation, errors, updates,
the service description, and the app's middleware (body cap, CORS, health, request log).

Each peer bug listed in shared/research/peers.md has a test here: double-decoded form posts,
missing TSV and 406, CONSTRUCT/DESCRIBE labelled with the wrong type, an ignored
default-graph-uri, a hard-coded sd:endpoint, CORS reflecting any origin with credentials.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode, Quad, RdfFormat, Triple, parse

from diplograph.api.app import create_app
from diplograph.loader.config import load_settings
from tests.support.server import GRAPHS, TOKEN, add_quads, load_test_store

DIP = "https://w3id.org/diplograph/ns#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SD = "http://www.w3.org/ns/sparql-service-description#"
#: A literal of the test data with the characters a second percent-decoding would destroy.
TRICKY = 'Talks on %41 & "tariffs"+trade'
TRICKY_QUERY = 'SELECT ?s WHERE { ?s ?p "Talks on %41 & \\"tariffs\\"+trade" }'
LABELS = f"SELECT ?s ?label WHERE {{ ?s <{RDFS_LABEL}> ?label }} ORDER BY ?s ?label"
SRX = "{http://www.w3.org/2005/sparql-results#}"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_client(**overrides: Any) -> TestClient:
    values: dict[str, Any] = {"store": "memory", "write_token": TOKEN}
    values.update(overrides)
    return TestClient(create_app(load_settings(**values), load_test_store()))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    bindings: list[dict[str, Any]] = response.json()["results"]["bindings"]
    return bindings


def graph(body: bytes, fmt: RdfFormat) -> set[Triple]:
    return {q.triple for q in parse(body, format=fmt)}


# --- the three ways to send a query -------------------------------------------------------------


def test_get_form_post_and_direct_post_give_the_same_rows(client: TestClient) -> None:
    by_get = rows(client.get("/sparql", params={"query": LABELS}))
    by_form = rows(client.post("/sparql", data={"query": LABELS}))
    by_direct = rows(
        client.post("/sparql", content=LABELS, headers={"Content-Type": "application/sparql-query"})
    )
    assert by_get == by_form == by_direct
    assert len(by_get) == 7


def test_a_form_post_is_percent_decoded_exactly_once(client: TestClient) -> None:
    # The literal holds %41, a plus and an ampersand; decoded twice, %41 would become "A".
    for response in (
        client.get("/sparql", params={"query": TRICKY_QUERY}),
        client.post("/sparql", data={"query": TRICKY_QUERY}),
        client.post(
            "/sparql",
            content=TRICKY_QUERY.encode(),
            headers={"Content-Type": "application/sparql-query"},
        ),
    ):
        assert [r["s"]["value"] for r in rows(response)] == [
            "https://w3id.org/diplograph/id/event/meeting-2"
        ]


def test_a_plus_in_a_form_body_is_a_space(client: TestClient) -> None:
    body = b"query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D"
    response = client.post(
        "/sparql", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.json()["boolean"] is True


def test_a_charset_other_than_utf8_is_refused(client: TestClient) -> None:
    # SPARQL 1.1 Protocol: requests are UTF-8 (W3C tests bad_query_non_utf8, bad_update_non_utf8).
    for kind in ("query", "update"):
        response = client.post(
            "/sparql",
            content="ASK {}".encode("utf-16"),
            headers={"Content-Type": f"application/sparql-{kind}; charset=UTF-16", **AUTH},
        )
        assert response.status_code == 415
        assert "UTF-8" in response.json()["message"]
    utf8 = client.post(
        "/sparql",
        content='ASK { ?s ?p "王毅"@zh }'.encode(),
        headers={"Content-Type": "application/sparql-query; charset=UTF-8"},
    )
    assert utf8.json()["boolean"] is True


# --- the dataset ---------------------------------------------------------------------------------


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count(response: Any) -> int:
    return int(rows(response)[0]["n"]["value"])


def test_the_default_graph_is_the_union_of_the_named_graphs(client: TestClient) -> None:
    assert count(client.get("/sparql", params={"query": COUNT})) == 23


def test_the_union_can_be_turned_off(client: TestClient) -> None:
    with make_client(union_default_graph=False) as off:
        assert count(off.get("/sparql", params={"query": COUNT})) == 0
        response = off.get("/sparql")
        assert SD + "UnionDefaultGraph" not in response.text


def test_default_graph_uri_selects_one_stored_graph(client: TestClient) -> None:
    readout = "https://w3id.org/diplograph/id/doc/readout-1"
    response = client.get("/sparql", params={"query": COUNT, "default-graph-uri": readout})
    assert count(response) == 11
    both = client.get("/sparql", params={"query": COUNT, "default-graph-uri": [readout, GRAPHS[0]]})
    assert count(both) == 14


def test_default_graph_uri_overrides_the_query_from(client: TestClient) -> None:
    query = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPHS[0]}> WHERE {{ ?s ?p ?o }}"
    assert count(client.get("/sparql", params={"query": query})) == 3
    response = client.get("/sparql", params={"query": query, "default-graph-uri": GRAPHS[2]})
    assert count(response) == 9


def test_from_selects_only_its_graph_even_with_the_union_on(client: TestClient) -> None:
    # pyoxigraph's union flag would override FROM; the endpoint must not pass it then.
    query = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPHS[1]}> WHERE {{ ?s ?p ?o }}"
    assert count(client.get("/sparql", params={"query": query})) == 11


def test_named_graph_uri_limits_graph_patterns(client: TestClient) -> None:
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.get("/sparql", params={"query": query, "named-graph-uri": GRAPHS[2]})
    assert [r["g"]["value"] for r in rows(response)] == [GRAPHS[2]]
    everything = client.get("/sparql", params={"query": query})
    assert sorted(r["g"]["value"] for r in rows(everything)) == sorted(GRAPHS)


def test_a_graph_the_store_does_not_hold_is_empty_not_an_error(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": COUNT, "default-graph-uri": "http://nowhere.example/g"}
    )
    assert count(response) == 0


def test_a_malformed_graph_iri_is_a_400(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": COUNT, "default-graph-uri": "not an iri"})
    assert response.status_code == 400
    assert "default-graph-uri" in response.json()["message"]


# --- negotiation ---------------------------------------------------------------------------------


def test_select_as_json(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": LABELS}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    body = response.json()
    assert body["head"]["vars"] == ["s", "label"]
    wang = [b["label"] for b in body["results"]["bindings"] if b["label"].get("xml:lang") == "zh"]
    assert wang == [{"type": "literal", "value": "王毅", "xml:lang": "zh"}]


def test_a_result_smaller_than_the_first_chunk_comes_with_a_content_length(
    client: TestClient,
) -> None:
    """It is complete before the status is sent, so it is not sent chunked."""
    response = client.get(
        "/sparql", params={"query": LABELS}, headers={"Accept": "application/sparql-results+json"}
    )
    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(response.content))
    assert "transfer-encoding" not in response.headers


def test_select_as_xml(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": LABELS}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert response.headers["content-type"].startswith("application/sparql-results+xml")
    root = ET.fromstring(response.content)
    names = [v.get("name") for v in root.iter(SRX + "variable")]
    assert names == ["s", "label"]
    literals = [lit.text for lit in root.iter(SRX + "literal")]
    assert TRICKY in literals and "王毅" in literals


def test_select_as_csv(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "\r\n" in response.text
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == ["s", "label"]
    assert ["https://w3id.org/diplograph/id/event/meeting-2", TRICKY] in table


def test_select_as_tsv(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": LABELS}, headers={"Accept": "text/tab-separated-values"}
    )
    assert response.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[0] == "?s\t?label"
    assert '<https://w3id.org/diplograph/id/person/wang-yi>\t"王毅"@zh' in lines
    note = client.get(
        "/sparql",
        params={"query": f"SELECT ?n WHERE {{ ?s <{DIP}note> ?n }}"},
        headers={"Accept": "text/tab-separated-values"},
    )
    assert note.text.splitlines()[1] == '"tab\\tseparated, with a comma"'


def test_an_unbound_variable_is_left_out(client: TestClient) -> None:
    query = f"SELECT ?s ?x WHERE {{ ?s <{DIP}note> ?n OPTIONAL {{ ?s <urn:none> ?x }} }}"
    assert rows(client.get("/sparql", params={"query": query}))[0].keys() == {"s"}
    tsv = client.get("/sparql", params={"query": query, "format": "tsv"})
    assert tsv.text.splitlines()[1].endswith("\t")


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/sparql-results+json", '{"head":{},"boolean":true}'),
        ("text/csv", "true"),
        ("text/tab-separated-values", "true"),
    ],
)
def test_ask_in_each_format(client: TestClient, accept: str, expected: str) -> None:
    response = client.get(
        "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept
    assert response.text.strip() == expected


def test_ask_as_xml(client: TestClient) -> None:
    response = client.get(
        "/sparql",
        params={"query": "ASK { ?s <urn:none> ?o }"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert ET.fromstring(response.content).find(SRX + "boolean").text == "false"  # type: ignore[union-attr]


CONSTRUCT = f"CONSTRUCT {{ ?s <{RDFS_LABEL}> ?l }} WHERE {{ ?s <{RDFS_LABEL}> ?l }}"


@pytest.mark.parametrize(
    ("accept", "media_type", "fmt"),
    [
        ("text/turtle", "text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", "application/n-triples", RdfFormat.N_TRIPLES),
        ("application/rdf+xml", "application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", "application/ld+json", RdfFormat.JSON_LD),
    ],
)
def test_construct_in_each_rdf_format(
    client: TestClient, accept: str, media_type: str, fmt: RdfFormat
) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media_type
    reference = client.get(
        "/sparql", params={"query": CONSTRUCT}, headers={"Accept": "application/n-triples"}
    )
    assert graph(response.content, fmt) == graph(reference.content, RdfFormat.N_TRIPLES)
    assert len(graph(response.content, fmt)) == 7


def test_describe_as_turtle_is_labelled_turtle(client: TestClient) -> None:
    response = client.get(
        "/sparql",
        params={"query": "DESCRIBE <https://w3id.org/diplograph/id/person/blinken>"},
        headers={"Accept": "text/turtle"},
    )
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    triples = graph(response.content, RdfFormat.TURTLE)
    assert (
        Triple(
            NamedNode("https://w3id.org/diplograph/id/person/blinken"),
            NamedNode(DIP + "holds"),
            NamedNode("https://w3id.org/diplograph/id/state/usa"),
        )
        in triples
    )


def test_large_graph_results_are_one_document_across_batches(client: TestClient) -> None:
    # Batches of 2000 triples are framed into one document for every format.
    store = load_test_store()
    add_quads(
        store,
        (
            Quad(
                NamedNode(f"urn:x:s{i}"),
                NamedNode(f"http://x.example/p{i % 7}#v"),
                NamedNode(f"urn:x:o{i}"),
                NamedNode("urn:x:g"),
            )
            for i in range(4500)
        ),
    )
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    with TestClient(create_app(load_settings(store="memory"), store)) as big:
        expected = graph(
            big.get("/sparql", params={"query": query, "format": "nt"}).content,
            RdfFormat.N_TRIPLES,
        )
        assert len(expected) == 4523
        for name, fmt in [
            ("ttl", RdfFormat.TURTLE),
            ("rdfxml", RdfFormat.RDF_XML),
            ("jsonld", RdfFormat.JSON_LD),
        ]:
            response = big.get("/sparql", params={"query": query, "format": name})
            assert graph(response.content, fmt) == expected, name


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/sparql-results+xml;q=0.5, text/csv", "text/csv"),
        ("application/sparql-results+json;q=0, */*", "application/sparql-results+xml"),
        ("text/*;q=0.9, application/sparql-results+xml;q=0.8", "text/csv"),
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/sparql-results+xml",
        ),
        ("application/json", "application/sparql-results+json"),
    ],
)
def test_quality_values_are_respected(
    client: TestClient, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", params={"query": LABELS}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected
    assert response.headers["vary"] == "Accept"


def test_406_lists_what_can_be_served(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/html"})
    assert response.status_code == 406
    body = response.json()
    assert body["error"] == "UnsupportedFormatError"
    for media_type in ("application/sparql-results+json", "text/csv", "text/tab-separated-values"):
        assert media_type in body["message"]


def test_construct_is_never_labelled_as_csv(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "text/turtle" in response.json()["message"]


def test_the_format_parameter_overrides_accept(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": LABELS, "format": "csv"}, headers={"Accept": "text/html"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    by_type = client.get("/sparql", params={"query": LABELS, "format": "text/tab-separated-values"})
    assert by_type.headers["content-type"].startswith("text/tab-separated-values")
    wrong = client.get("/sparql", params={"query": LABELS, "format": "turtle"})
    assert wrong.status_code == 406
    xml = client.get("/sparql", params={"query": CONSTRUCT, "format": "xml"})
    assert xml.headers["content-type"].startswith("application/rdf+xml")


# --- errors --------------------------------------------------------------------------------------


def test_a_malformed_query_is_a_400_with_line_and_column(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "QuerySyntaxError"
    assert body["status"] == 400
    assert re.search(r"error at 3:\d+", body["message"]), body["message"]


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"params": {"query": ""}}, 400, "empty"),
        ({"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "more than one"),
        ({"data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400, "not both"),
        ({"data": {"format": "json"}}, 400, "neither"),
        ({"content": b"ASK {}", "headers": {"Content-Type": "text/plain"}}, 415, "sparql-query"),
        ({"content": b"ASK {}", "headers": {}}, 415, "without Content-Type"),
    ],
)
def test_requests_that_are_not_protocol_requests(
    client: TestClient, kwargs: dict[str, Any], status: int, words: str
) -> None:
    method = client.get if "params" in kwargs else client.post
    response = method("/sparql", **kwargs)
    assert response.status_code == status
    assert words in response.json()["message"]


def test_an_update_sent_by_get_is_refused(client: TestClient) -> None:
    response = client.get("/sparql", params={"update": "CLEAR ALL"})
    assert response.status_code == 405
    assert response.json()["error"] == "MethodNotAllowedError"


def test_every_error_has_the_same_shape(client: TestClient) -> None:
    for response in (
        client.get("/no/such/route"),
        client.delete("/sparql"),
        client.get("/sparql", params={"query": "SELEKT"}),
    ):
        body = response.json()
        assert set(body) >= {"error", "message", "status"}
        assert body["status"] == response.status_code
        assert response.headers["content-type"] == "application/json"


# --- updates -------------------------------------------------------------------------------------

INSERT = 'INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> "x" } }'  # noqa: E501
HAS_INSERT = 'ASK { <http://example.org/s> <http://example.org/p> "x" }'


def asks(client: TestClient, query: str) -> bool:
    answer: bool = client.get("/sparql", params={"query": query}).json()["boolean"]
    return answer


def test_an_update_with_the_token_is_applied(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    by_body = client.post(
        "/sparql",
        content=INSERT,
        headers={"Content-Type": "application/sparql-update", **auth},
    )
    assert by_body.status_code == 204
    assert asks(client, HAS_INSERT)
    by_form = client.post(
        "/sparql", data={"update": "CLEAR GRAPH <http://example.org/g>"}, headers=auth
    )
    assert by_form.status_code == 204
    assert not asks(client, HAS_INSERT)


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer wrong"}, 401), ({"Authorization": "Basic eDp5"}, 401)],
)
def test_an_update_without_the_right_token_is_refused(
    client: TestClient, headers: dict[str, str], status: int
) -> None:
    response = client.post("/sparql", data={"update": INSERT}, headers=headers)
    assert response.status_code == status
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "AuthError"
    assert not asks(client, HAS_INSERT)


def test_updates_are_disabled_without_a_configured_token() -> None:
    with make_client(write_token=None) as readonly:
        response = readonly.post(
            "/sparql", data={"update": INSERT}, headers={"Authorization": "Bearer anything"}
        )
        assert response.status_code == 403
        assert "DIPLOGRAPH_WRITE_TOKEN" in response.json()["message"]
        assert SD + "SPARQL11Update" not in readonly.get("/sparql").text


def test_an_update_is_atomic(client: TestClient) -> None:
    update = INSERT + " ; CREATE GRAPH <https://w3id.org/diplograph/id/doc/readout-1>"
    response = client.post(
        "/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 400
    assert "nothing was changed" in response.json()["message"]
    assert not asks(client, HAS_INSERT)


def test_a_malformed_update_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/sparql", data={"update": "INSERT DATA {"}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "QuerySyntaxError"


def test_using_graph_uri_sets_the_dataset_of_the_update(client: TestClient) -> None:
    copy = (
        "INSERT { GRAPH <http://example.org/copy> { ?s ?p ?o } } WHERE { ?s ?p ?o }"
        " ; DELETE WHERE { GRAPH <http://example.org/none> { ?s ?p ?o } }"
    )
    response = client.post(
        "/sparql", data={"update": copy, "using-graph-uri": GRAPHS[0]}, headers=AUTH
    )
    assert response.status_code == 204, response.text
    copied = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <http://example.org/copy> { ?s ?p ?o } }"
    assert count(client.get("/sparql", params={"query": copied})) == 3


def test_delete_where_takes_using_graph_uri_too(client: TestClient) -> None:
    def sizes() -> list[int]:
        query = "SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{}> {{ ?s ?p ?o }} }}"
        return [count(client.get("/sparql", params={"query": query.format(g)})) for g in GRAPHS]

    before = sizes()
    response = client.post(
        "/sparql",
        data={"update": "DELETE WHERE { ?s ?p ?o }", "using-graph-uri": GRAPHS[0]},
        headers=AUTH,
    )
    assert response.status_code == 204, response.text
    # DELETE acts on the store's default graph (empty here); the named graphs are untouched.
    assert sizes() == before


def test_using_graph_uri_with_a_with_clause_is_a_400(client: TestClient) -> None:
    update = "WITH <http://example/a> DELETE { ?s ?p 'x' } WHERE { ?s ?p 'x' }"
    response = client.post(
        "/sparql",
        data={"update": update, "using-named-graph-uri": "http://example/people"},
        headers=AUTH,
    )
    assert response.status_code == 400
    assert "WITH" in response.json()["message"]


def test_relative_iris_resolve_against_the_endpoint(client: TestClient) -> None:
    update = "INSERT DATA { GRAPH <http://example.org/b> { <http://example.org/s> <p> <test> } }"
    assert client.post("/sparql", data={"update": update}, headers=AUTH).status_code == 204
    query = "SELECT ?p ?o WHERE { GRAPH <http://example.org/b> { ?s ?p ?o } }"
    (row,) = rows(client.get("/sparql", params={"query": query}))
    assert row["o"] == {"type": "uri", "value": "http://testserver/test"}
    ask = "ASK { GRAPH <http://example.org/b> { ?s <p> <test> } }"
    assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
    bad = client.get("/sparql", params={"query": "SELECT * WHERE { <a> <b> }"})
    assert "error at 1:" in bad.json()["message"]
    column = int(re.search(r"error at 1:(\d+)", bad.json()["message"]).group(1))  # type: ignore[union-attr]
    assert column <= len("SELECT * WHERE { <a> <b> }") + 1


# --- service description -------------------------------------------------------------------------


def description(response: Any, fmt: RdfFormat = RdfFormat.TURTLE) -> set[Triple]:
    assert response.status_code == 200, response.text
    return graph(response.content, fmt)


def objects(triples: set[Triple], predicate: str) -> set[str]:
    return {str(t.object.value) for t in triples if t.predicate.value == predicate}  # type: ignore[union-attr]


def test_the_service_description_names_the_url_the_client_used(client: TestClient) -> None:
    triples = description(client.get("/sparql"))
    assert objects(triples, SD + "endpoint") == {"http://testserver/sparql"}
    other = client.get("http://diplograph.example:8123/sparql")
    assert objects(description(other), SD + "endpoint") == {"http://diplograph.example:8123/sparql"}


def test_the_service_description_uses_public_url_when_set() -> None:
    with make_client(public_url="https://sparql.example.org/") as proxied:
        triples = description(proxied.get("/sparql"))
        assert objects(triples, SD + "endpoint") == {"https://sparql.example.org/sparql"}


def test_the_service_description_lists_formats_features_and_graphs(client: TestClient) -> None:
    triples = description(client.get("/sparql"))
    formats = objects(triples, SD + "resultFormat")
    assert "http://www.w3.org/ns/formats/SPARQL_Results_TSV" in formats
    assert "http://www.w3.org/ns/formats/JSON-LD" in formats
    assert objects(triples, SD + "feature") == {SD + "UnionDefaultGraph"}
    assert objects(triples, SD + "name") == set(GRAPHS)
    assert objects(triples, SD + "supportedLanguage") == {
        SD + "SPARQL11Query",
        SD + "SPARQL11Update",
    }
    assert "3 named graphs, 23 quads" in objects(
        triples, "http://www.w3.org/2000/01/rdf-schema#comment"
    )


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [("application/rdf+xml", RdfFormat.RDF_XML), ("application/ld+json", RdfFormat.JSON_LD)],
)
def test_the_service_description_is_negotiated(
    client: TestClient, accept: str, fmt: RdfFormat
) -> None:
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    assert objects(description(response, fmt), SD + "endpoint") == {"http://testserver/sparql"}


# --- middleware: body cap, CORS, health, request log ----------------------------------------------


def test_a_body_over_the_cap_is_a_413() -> None:
    with make_client(max_body_bytes=2048) as small:
        query = "ASK { ?s ?p " + '"' + "x" * 4000 + '" }'
        response = small.post(
            "/sparql", content=query, headers={"Content-Type": "application/sparql-query"}
        )
        assert response.status_code == 413
        assert response.json()["error"] == "PayloadTooLargeError"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b"ASK { ?s ?p "
            yield b'"' + b"x" * 4000 + b'" }'

        streamed = small.post(
            "/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"}
        )
        assert streamed.status_code == 413
        long_get = small.get("/sparql", params={"query": query})
        assert long_get.status_code == 413


def test_no_cors_headers_unless_configured(client: TestClient) -> None:
    response = client.get(
        "/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://a.example"}
    )
    assert "access-control-allow-origin" not in response.headers


def preflight(client: TestClient, origin: str) -> Any:
    return client.options(
        "/sparql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )


def test_cors_with_listed_origins_allows_only_those() -> None:
    with make_client(cors_origins=["https://app.example"]) as cors:
        allowed = preflight(cors, "https://app.example")
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = preflight(cors, "http://evil.example")
        assert refused.headers.get("access-control-allow-origin") != "http://evil.example"


def test_cors_any_origin_never_comes_with_credentials() -> None:
    with make_client(cors_origins=["*"]) as cors:
        for response in (
            preflight(cors, "http://evil.example"),
            cors.get(
                "/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://evil.example"}
            ),
        ):
            assert response.headers["access-control-allow-origin"] == "*"
            assert "access-control-allow-credentials" not in response.headers


def test_health_reports_the_store_and_the_workers(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["store"] == {"kind": "memory", "ok": True, "quads": 23}
    assert body["queries"]["busy"] == 0
    assert body["writes"] == "enabled"


def test_health_says_when_the_store_is_down() -> None:
    store = load_test_store()
    with TestClient(create_app(load_settings(store="memory"), store)) as c:
        store.close()  # the app's store is gone
        response = c.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "error"
        assert response.json()["store"]["ok"] is False


def test_every_request_is_logged_with_its_status_and_time(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="diplograph.api.access"):
        client.get("/sparql", params={"query": "ASK {}"})
    (record,) = [r for r in caplog.records if r.name == "diplograph.api.access"]
    message = record.getMessage()
    assert "GET /sparql?query=ASK" in message
    assert " 200 " in message and " ms " in message


def test_json_results_are_valid_json_when_empty(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x <urn:none> ?y }"})
    assert json.loads(response.text) == {"head": {"vars": ["x"]}, "results": {"bindings": []}}


# --- the W3C SPARQL 1.1 Protocol tests -----------------------------------------------------------
# Ported from the w3c/rdf-tests manifest sparql/sparql11/protocol/manifest.ttl: the same requests
# (path, method, Content-Type, body) and the same expectations (status class, boolean). The
# graphs the manifest preloads (ut:graphData) are loaded into the store under their names.
# Not ported: query_multiple_dataset, whose URL encodes '&' inside one named-graph-uri value.

KASEI = "http://kasei.us/2009/09/sparql/data/"
K = "http%3A%2F%2Fkasei.us%2F2009%2F09%2Fsparql%2Fdata%2F"
FORM, QUERY, UPDATE = (
    "application/x-www-form-urlencoded",
    "application/sparql-query",
    "application/sparql-update",
)
DATA3 = f"""DROP ALL ;
INSERT DATA {{
    GRAPH <{KASEI}data1.rdf> {{ <{KASEI}data1.rdf> a foaf:Document }}
    GRAPH <{KASEI}data2.rdf> {{ <{KASEI}data2.rdf> a foaf:Document }}
    GRAPH <{KASEI}data3.rdf> {{ <{KASEI}data3.rdf> a foaf:Document }}
}} ;"""
PRO = "PREFIX dc: <http://purl.org/dc/terms/>\nPREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"


def _check(name: str, test: str) -> str:
    return f"""ASK {{
    GRAPH <http://example.org/{test}/> {{
        <{KASEI}data1.rdf> a <http://purl.org/dc/terms/BibliographicResource> .
        <{KASEI}data2.rdf> a <http://purl.org/dc/terms/BibliographicResource> .
    }}
    FILTER NOT EXISTS {{ GRAPH <http://example.org/{test}/> {{
        <{KASEI}data3.rdf> a <http://purl.org/dc/terms/BibliographicResource> . }} }}
}}"""


Step = tuple[str, str, str | None, str, int, bool | None]
W3C: dict[str, list[Step]] = {
    "query_post_form": [
        ("POST", f"/sparql?default-graph-uri={K}data0.rdf", FORM, "query=ASK%20%7B%7D", 2, True)
    ],
    "query_dataset_default_graphs_get": [
        ("GET", f"/sparql?query=ASK%20%7B%20%3C{K}data1.rdf%3E%20a%20%3Ftype%20.%20%3C{K}data2.rdf"
         f"%3E%20a%20%3Ftype%20.%20%7D&default-graph-uri={K}data1.rdf&default-graph-uri={K}"
         "data2.rdf", None, "", 2, True)
    ],
    "query_dataset_default_graphs_post": [
        ("POST", f"/sparql?default-graph-uri={K}data1.rdf&default-graph-uri={K}data2.rdf", QUERY,
         f"ASK {{ <{KASEI}data1.rdf> a ?type . <{KASEI}data2.rdf> a ?type . }}", 2, True)
    ],
    "query_dataset_named_graphs_post": [
        ("POST", f"/sparql?named-graph-uri={K}data1.rdf&named-graph-uri={K}data2.rdf", QUERY,
         f"ASK {{ GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }} "
         f"GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }} }}", 2, True)
    ],
    "query_dataset_named_graphs_get": [
        ("GET", f"/sparql?query=ASK%20%7B%20GRAPH%20%3Fg1%20%7B%20%3C{K}data1.rdf%3E%20a%20%3Ftype"
         f"%20%7D%20GRAPH%20%3Fg2%20%7B%20%3C{K}data2.rdf%3E%20a%20%3Ftype%20%7D%20%7D&named-graph"
         f"-uri={K}data1.rdf&named-graph-uri={K}data2.rdf", None, "", 2, True)
    ],
    "query_dataset_full": [
        ("POST", f"/sparql?default-graph-uri={K}data3.rdf&named-graph-uri={K}data1.rdf"
         f"&named-graph-uri={K}data2.rdf", QUERY,
         f"ASK {{\n  <{KASEI}data3.rdf> a ?type\n  GRAPH ?g1 {{ <{KASEI}data1.rdf> a ?type }}\n"
         f"  GRAPH ?g2 {{ <{KASEI}data2.rdf> a ?type }}\n}}", 2, True)
    ],
    "query_get": [("GET", f"/sparql?query=ASK%20%7B%7D&default-graph-uri={K}data0.rdf", None, "",
                   2, True)],
    "query_content_type_select": [
        ("POST", f"/sparql?default-graph-uri={K}data0.rdf", QUERY, "SELECT (1 AS ?value) {}", 2,
         None)
    ],
    "query_content_type_ask": [
        ("POST", f"/sparql?default-graph-uri={K}data0.rdf", QUERY, "ASK {}", 2, True)
    ],
    "query_content_type_describe": [
        ("POST", f"/sparql?default-graph-uri={K}data0.rdf", QUERY,
         "DESCRIBE <http://example.org/>", 2, None)
    ],
    "query_content_type_construct": [
        ("POST", f"/sparql?default-graph-uri={K}data0.rdf", QUERY,
         "CONSTRUCT { <s> <p> 1 } WHERE {}", 2, None)
    ],
    "update_dataset_default_graph": [
        ("POST", f"/sparql?using-graph-uri={K}data1.rdf", UPDATE,
         f"{PRO}CLEAR ALL ;\nINSERT DATA {{\n    GRAPH <{KASEI}data1.rdf> {{\n        <{KASEI}"
         "data1.rdf> a foaf:Document\n    }\n} ;\nINSERT {\n    GRAPH <http://example.org/"
         "protocol-update-dataset-test/> {\n        ?s a dc:BibliographicResource\n    }\n}\n"
         "WHERE {\n    ?s a foaf:Document\n}", 2, None),
        ("POST", "/sparql", QUERY,
         "ASK {\n    GRAPH <http://example.org/protocol-update-dataset-test/> {\n        <"
         f"{KASEI}data1.rdf> a <http://purl.org/dc/terms/BibliographicResource>\n    }}\n}}",
         2, True),
    ],
    "update_dataset_default_graphs": [
        ("POST", f"/sparql?using-graph-uri={K}data1.rdf&using-graph-uri={K}data2.rdf", UPDATE,
         f"{PRO}{DATA3}\nINSERT {{\n    GRAPH <http://example.org/protocol-update-dataset-graphs-"
         "test/> {\n        ?s a dc:BibliographicResource\n    }\n}\nWHERE {\n"
         "    ?s a foaf:Document\n}", 2, None),
        ("POST", "/sparql", QUERY, _check("", "protocol-update-dataset-graphs-test"), 2, True),
    ],
    "update_dataset_named_graphs": [
        ("POST", f"/sparql?using-named-graph-uri={K}data1.rdf&using-named-graph-uri={K}data2.rdf",
         UPDATE, f"{PRO}{DATA3}\nINSERT {{\n    GRAPH <http://example.org/protocol-update-dataset-"
         "named-graphs-test/> {\n        ?s a dc:BibliographicResource\n    }\n}\nWHERE {\n"
         "    GRAPH ?g {\n        ?s a foaf:Document\n    }\n}", 2, None),
        ("POST", "/sparql", QUERY, _check("", "protocol-update-dataset-named-graphs-test"), 2,
         True),
    ],
    "update_dataset_full": [
        ("POST", f"/sparql?using-graph-uri={K}data1.rdf&using-named-graph-uri={K}data2.rdf",
         UPDATE, f"{PRO}{DATA3}\nINSERT {{\n    GRAPH <http://example.org/protocol-update-dataset-"
         "full-test/> {\n        ?s <http://example.org/in> ?in\n    }\n}\nWHERE {\n    {\n"
         "        GRAPH ?g { ?s a foaf:Document }\n        BIND(?g AS ?in)\n    }\n    UNION\n"
         '    {\n        ?s a foaf:Document .\n        BIND("default" AS ?in)\n    }\n}', 2, None),
        ("POST", "/sparql", QUERY,
         "ASK {\n    GRAPH <http://example.org/protocol-update-dataset-full-test/> {\n"
         f'        <{KASEI}data1.rdf> <http://example.org/in> "default" .\n'
         f"        <{KASEI}data2.rdf> <http://example.org/in> <{KASEI}data2.rdf> .\n    }}\n"
         "    FILTER NOT EXISTS {\n        GRAPH <http://example.org/protocol-update-dataset-full"
         f"-test/> {{\n            <{KASEI}data3.rdf> ?p ?o\n        }}\n    }}\n}}", 2, True),
    ],
    "update_post_form": [("POST", "/sparql", FORM, "update=CLEAR+ALL", 2, None)],
    "update_post_direct": [("POST", "/sparql", UPDATE, "CLEAR ALL", 2, None)],
    "update_base_uri": [
        # Oxigraph (like the Update spec) fails CLEAR on a graph that does not exist: create it.
        ("POST", "/sparql", UPDATE, "CREATE SILENT GRAPH <http://example.org/protocol-base-test/>",
         2, None),
        ("POST", "/sparql", UPDATE, "CLEAR GRAPH <http://example.org/protocol-base-test/> ;\n"
         "INSERT DATA { GRAPH <http://example.org/protocol-base-test/> { <http://example.org/s> "
         "<http://example.org/p> <test> } }", 2, None),
    ],
    "query_post_direct": [("POST", "/sparql", QUERY, "ASK {}", 2, True)],
    "bad_query_method": [
        ("PUT", f"/sparql?query=ASK%20%7B%7D&default-graph-uri={K}data0.rdf", FORM, "", 4, None)
    ],
    "bad_multiple_queries": [
        ("GET", "/sparql?query=ASK%20%7B%7D&query=SELECT%20%2A%20%7B%7D", None, "", 4, None)
    ],
    "bad_query_wrong_media_type": [("POST", "/sparql", "text/plain", "ASK {}", 4, None)],
    "bad_query_missing_form_type": [("POST", "/sparql", None, "query=ASK%20%7B%7D", 4, None)],
    "bad_query_missing_direct_type": [("POST", "/sparql", None, "ASK {}", 4, None)],
    "bad_query_syntax": [("GET", "/sparql?query=ASK%20%7B", None, "", 4, None)],
    "bad_update_get": [("GET", "/sparql?update=CLEAR%20ALL", None, "", 4, None)],
    "bad_multiple_updates": [
        ("POST", "/sparql", FORM, "update=CLEAR%20NAMED&update=CLEAR%20DEFAULT", 4, None)
    ],
    "bad_update_wrong_media_type": [("POST", "/sparql", "text/plain", "CLEAR NAMED", 4, None)],
    "bad_update_missing_form_type": [("POST", "/sparql", None, "update=CLEAR%20NAMED", 4, None)],
    "bad_update_syntax": [("POST", "/sparql", FORM, "update=CLEAR%20XYZ", 4, None)],
    "bad_update_dataset_conflict": [
        ("POST", "/sparql?using-named-graph-uri=http%3A%2F%2Fexample%2Fpeople", UPDATE,
         "PREFIX foaf:  <http://xmlns.com/foaf/0.1/>\nWITH <http://example/addresses>\n"
         "DELETE { ?person foaf:givenName 'Bill' }\nINSERT { ?person foaf:givenName 'William' }\n"
         "WHERE {\n    ?person foaf:givenName 'Bill'\n}", 4, None)
    ],
}  # fmt: skip


@pytest.fixture
def w3c_client() -> Iterator[TestClient]:
    store = load_test_store()
    foaf_document = NamedNode("http://xmlns.com/foaf/0.1/Document")
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    for n in range(4):
        iri = NamedNode(f"{KASEI}data{n}.rdf")
        add_quads(
            store,
            [Quad(iri, NamedNode(rdf_type), foaf_document, iri)],
        )
    with TestClient(create_app(load_settings(store="memory", write_token=TOKEN), store)) as c:
        yield c


@pytest.mark.parametrize("name", sorted(W3C))
def test_w3c_protocol(w3c_client: TestClient, name: str) -> None:
    for method, path, content_type, body, status_class, boolean in W3C[name]:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        response = w3c_client.request(method, path, content=body.encode(), headers=headers)
        assert response.status_code // 100 == status_class, (name, response.text)
        if boolean is not None:
            assert response.json()["boolean"] is boolean, name
    if name == "update_base_uri":
        query = "SELECT ?o WHERE { GRAPH <http://example.org/protocol-base-test/> { ?s ?p ?o } }"
        (row,) = rows(w3c_client.get("/sparql", params={"query": query}))
        assert row["o"]["type"] == "uri" and row["o"]["value"] != "test"


# --- predeclared prefixes and readable syntax errors ---------------------------------------------


def test_the_prefixes_of_diplograph_query_are_predeclared(client: TestClient) -> None:
    found = rows(client.get("/sparql", params={"query": "SELECT ?s ?l { ?s rdfs:label ?l }"}))
    assert found
    ask = "ASK { ?e dip:participant ?p }"
    assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True


def test_a_prefix_the_query_declares_wins_over_the_predeclared_one(client: TestClient) -> None:
    query = "PREFIX dip: <urn:x:> SELECT ?i { BIND(STR(dip:a) AS ?i) }"
    (row,) = rows(client.get("/sparql", params={"query": query}))
    assert row["i"]["value"] == "urn:x:a"


def test_the_service_description_lists_the_predeclared_prefixes(client: TestClient) -> None:
    triples = description(client.get("/sparql"))
    declared = {
        (t.subject, str(t.predicate.value).rsplit("#", 1)[1], t.object.value)
        for t in triples
        if str(t.predicate.value).startswith("http://www.w3.org/ns/shacl#")
    }
    prefixes = {value for _, name, value in declared if name == "prefix"}
    namespaces = {value for _, name, value in declared if name == "namespace"}
    assert {"dip", "rdfs", "skos", "prov"} <= prefixes
    assert "https://w3id.org/diplograph/ns#" in namespaces


def test_an_unknown_prefix_is_named_with_the_declaration_to_add(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s foo:bar ?o }"})
    assert response.status_code == 400
    message = response.json()["message"]
    assert "unknown prefix `foo:` — add `PREFIX foo: <…>`" in message
    assert "error at 1:28" in message  # the column in the client's text


def test_a_syntax_error_shows_the_line_and_no_unicode_ranges(client: TestClient) -> None:
    text = "SELECT * WHERE {\n  ?s ?p ?o .\n  ?x ?y }"
    message = client.get("/sparql", params={"query": text}).json()["message"]
    assert "error at 3:" in message
    assert "\n    ?x ?y }\n" in message  # the offending line, then a caret under the column
    assert message.rstrip().endswith("^")
    assert "\\u{" not in message and "..=" not in message


def test_an_update_syntax_error_points_into_the_clients_text(client: TestClient) -> None:
    update = "INSERT DATA { <urn:a> <urn:b> }"
    response = client.post("/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("malformed SPARQL update: error at 1:")
    column = int(re.search(r"error at 1:(\d+)", message).group(1))  # type: ignore[union-attr]
    assert column <= len(update) + 1


# --- headers: HEAD, Allow, Vary, CORS exposure ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/sparql", {}),
        ("/sparql", {"query": "ASK { ?s ?p ?o }"}),
        ("/health", {}),
        ("/metrics", {}),
        ("/dump", {}),
        ("/", {}),
    ],
)
def test_head_answers_every_get_resource_with_its_headers_and_no_body(
    client: TestClient, path: str, params: dict[str, str]
) -> None:
    got = client.get(path, params=params)
    head = client.head(path, params=params)
    assert head.status_code == got.status_code == 200
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.content == b""


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/sparql", "GET, HEAD, POST"),
        ("DELETE", "/health", "GET, HEAD"),
        ("POST", "/dump", "GET, HEAD"),
        ("PATCH", "/store", "GET, HEAD, POST, PUT, DELETE"),
        ("GET", "/facts", "POST"),
    ],
)
def test_every_405_lists_the_real_methods_in_allow(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["error"] == "MethodNotAllowedError"


def test_an_update_sent_with_get_is_a_405_with_allow(client: TestClient) -> None:
    response = client.get("/sparql", params={"update": "CLEAR ALL"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_a_406_and_a_negotiated_404_vary_on_accept(client: TestClient) -> None:
    refused = client.get(
        "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "image/png"}
    )
    assert refused.status_code == 406
    assert "Accept" in refused.headers["vary"]
    missing = client.get("/store", params={"graph": "urn:x:none"})
    assert missing.status_code == 404
    assert "Accept" in missing.headers["vary"]
    head_missing = client.head("/store", params={"graph": "urn:x:none"})
    assert "Accept" in head_missing.headers["vary"]
    unknown = client.get("/id/person/nobody-here", headers={"Accept": "text/turtle"})
    assert unknown.status_code == 404
    assert "Accept" in unknown.headers["vary"]


def test_cors_exposes_location_and_content_disposition_to_scripts() -> None:
    with make_client(cors_origins=["https://app.example"]) as cors:
        response = cors.get("/sparql", headers={"Origin": "https://app.example"})
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"Location", "Content-Disposition"} <= exposed
