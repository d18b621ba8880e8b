"""The Graph Store HTTP Protocol at /store: reads, writes, formats, status codes and auth."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple, parse

from diplograph.api.app import create_app
from diplograph.loader.config import load_settings
from tests.support.server import GRAPHS, TOKEN, load_test_store

AUTH = {"Authorization": f"Bearer {TOKEN}"}
G = "http://example.org/graph/1"
S, P = NamedNode("http://example.org/s"), NamedNode("http://example.org/p")
TURTLE = b'<http://example.org/s> <http://example.org/p> "one", "two" .'
NTRIPLES = b'<http://example.org/s> <http://example.org/p> "three" .\n'
RDFXML = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>four</ex:p></rdf:Description>
</rdf:RDF>"""
JSONLD = b'{"@id": "http://example.org/s", "http://example.org/p": "five"}'


def make_client(**overrides: Any) -> TestClient:
    values: dict[str, Any] = {"store": "memory", "write_token": TOKEN}
    values.update(overrides)
    return TestClient(create_app(load_settings(**values), load_test_store()))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with make_client() as c:
        yield c


def triples(body: bytes, fmt: RdfFormat = RdfFormat.TURTLE) -> set[Triple]:
    return {q.triple for q in parse(body, format=fmt)}


def values(client: TestClient, graph: str = G) -> set[str]:
    response = client.get("/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    if response.status_code == 404:
        return set()
    return {t.object.value for t in triples(response.content)}  # type: ignore[union-attr]


def put(client: TestClient, body: bytes, media_type: str, **params: str) -> Any:
    return client.put(
        "/store", params=params, content=body, headers={"Content-Type": media_type, **AUTH}
    )


def post(client: TestClient, body: bytes, media_type: str, **params: str) -> Any:
    return client.post(
        "/store", params=params, content=body, headers={"Content-Type": media_type, **AUTH}
    )


# --- reads -------------------------------------------------------------------------------------


def test_get_a_named_graph(client: TestClient) -> None:
    readout = GRAPHS[1]
    response = client.get("/store", params={"graph": readout})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    store = load_test_store()
    assert triples(response.content) == store.graph_triples(readout)


@pytest.mark.parametrize(
    ("accept", "fmt"),
    [
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
    ],
)
def test_get_a_graph_in_each_format(client: TestClient, accept: str, fmt: RdfFormat) -> None:
    response = client.get("/store", params={"graph": GRAPHS[2]}, headers={"Accept": accept})
    assert response.headers["content-type"].split(";")[0] == accept
    assert triples(response.content, fmt) == load_test_store().graph_triples(GRAPHS[2])


def test_get_a_missing_graph_is_404(client: TestClient) -> None:
    response = client.get("/store", params={"graph": "http://example.org/none"})
    assert response.status_code == 404
    assert response.json()["error"] == "NotFoundError"


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    found = client.head("/store", params={"graph": GRAPHS[0]})
    assert found.status_code == 200
    assert found.headers["content-type"] == "text/turtle; charset=utf-8"
    assert found.content == b""
    assert client.head("/store", params={"graph": "http://example.org/none"}).status_code == 404


def test_default_reads_back_what_was_written_while_queries_keep_the_union(
    client: TestClient,
) -> None:
    nt = {"Accept": "application/n-triples"}
    assert triples(client.get("/store", params={"default": ""}, headers=nt).content) == set()
    assert put(client, TURTLE, "text/turtle", default="").status_code == 204
    got = client.get("/store", params={"default": ""}, headers=nt)
    assert triples(got.content, RdfFormat.N_TRIPLES) == triples(TURTLE)
    # A query's default graph is still the union of the named graphs (and the stored default).
    count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    (row,) = client.get("/sparql", params={"query": count}).json()["results"]["bindings"]
    assert int(row["n"]["value"]) > len(triples(TURTLE))


def test_get_the_whole_dataset(client: TestClient) -> None:
    expected = set(load_test_store().quads())
    nquads = client.get("/store", headers={"Accept": "application/n-quads"})
    assert nquads.headers["content-type"] == "application/n-quads; charset=utf-8"
    assert set(parse(nquads.content, format=RdfFormat.N_QUADS)) == expected
    trig = client.get("/store")
    assert trig.headers["content-type"] == "application/trig; charset=utf-8"
    assert set(parse(trig.content, format=RdfFormat.TRIG)) == expected


def test_reads_negotiate_and_refuse_with_406(client: TestClient) -> None:
    response = client.get("/store", params={"graph": GRAPHS[0]}, headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "text/turtle" in response.json()["message"]
    dataset = client.get("/store", headers={"Accept": "text/turtle"})
    assert dataset.status_code == 406
    assert "application/trig" in dataset.json()["message"]


def test_reads_are_public_even_without_a_token() -> None:
    with make_client(write_token=None) as readonly:
        assert readonly.get("/store", params={"graph": GRAPHS[0]}).status_code == 200


def test_bad_targets_are_400(client: TestClient) -> None:
    both = client.get("/store", params={"graph": G, "default": ""})
    assert both.status_code == 400
    twice = client.get("/store", params=[("graph", G), ("graph", G + "2")])
    assert twice.status_code == 400
    relative = client.get("/store", params={"graph": "not an iri"})
    assert relative.status_code == 400


# --- writes ------------------------------------------------------------------------------------


def test_put_creates_then_replaces_a_graph(client: TestClient) -> None:
    created = put(client, TURTLE, "text/turtle", graph=G)
    assert created.status_code == 201
    assert values(client) == {"one", "two"}
    replaced = put(client, NTRIPLES, "application/n-triples", graph=G)
    assert replaced.status_code == 204
    assert values(client) == {"three"}


def test_put_of_an_empty_body_leaves_an_empty_graph(client: TestClient) -> None:
    put(client, TURTLE, "text/turtle", graph=G)
    assert put(client, b"", "text/turtle", graph=G).status_code == 204
    response = client.get("/store", params={"graph": G})
    assert response.status_code == 200
    assert triples(response.content) == set()


def test_post_adds_to_a_graph(client: TestClient) -> None:
    assert post(client, TURTLE, "text/turtle", graph=G).status_code == 201
    assert post(client, RDFXML, "application/rdf+xml", graph=G).status_code == 204
    assert post(client, JSONLD, "application/ld+json", graph=G).status_code == 204
    assert values(client) == {"one", "two", "four", "five"}


def test_delete_a_graph(client: TestClient) -> None:
    put(client, TURTLE, "text/turtle", graph=G)
    deleted = client.delete("/store", params={"graph": G}, headers=AUTH)
    assert deleted.status_code == 204
    assert client.get("/store", params={"graph": G}).status_code == 404
    again = client.delete("/store", params={"graph": G}, headers=AUTH)
    assert again.status_code == 404


def test_other_graphs_are_untouched_by_graph_writes(client: TestClient) -> None:
    before = {g: values(client, g) for g in GRAPHS}
    put(client, TURTLE, "text/turtle", graph=G)
    client.delete("/store", params={"graph": G}, headers=AUTH)
    assert {g: values(client, g) for g in GRAPHS} == before


def test_writes_to_the_default_graph() -> None:
    with make_client(union_default_graph=False) as c:
        assert put(c, TURTLE, "text/turtle", default="").status_code == 204
        assert post(c, NTRIPLES, "application/n-triples", default="").status_code == 204
        got = c.get("/store", params={"default": ""})
        assert {t.object.value for t in triples(got.content)} == {"one", "two", "three"}  # type: ignore[union-attr]
        assert c.delete("/store", params={"default": ""}, headers=AUTH).status_code == 204
        assert triples(c.get("/store", params={"default": ""}).content) == set()
        # The named graphs were left alone.
        assert values(c, GRAPHS[0])


def test_post_and_put_the_whole_dataset(client: TestClient) -> None:
    trig = b"""<http://example.org/a> { <http://example.org/s> <http://example.org/p> "a" . }
               <http://example.org/s> <http://example.org/p> "d" ."""
    assert post(client, trig, "application/trig").status_code == 204
    assert values(client, "http://example.org/a") == {"a"}
    assert values(client, GRAPHS[0])
    nquads = b'<http://example.org/s> <http://example.org/p> "b" <http://example.org/b> .\n'
    assert put(client, nquads, "application/n-quads").status_code == 204
    dataset = set(parse(client.get("/store").content, format=RdfFormat.TRIG))
    assert dataset == {Quad(S, P, Literal("b"), NamedNode("http://example.org/b"))}


def test_deleting_the_whole_dataset_is_refused(client: TestClient) -> None:
    response = client.delete("/store", headers=AUTH)
    assert response.status_code == 400
    assert client.get("/store", params={"graph": GRAPHS[0]}).status_code == 200


def test_a_body_in_an_unknown_format_is_415(client: TestClient) -> None:
    response = put(client, b"s,p,o", "text/csv", graph=G)
    assert response.status_code == 415
    assert "text/turtle" in response.json()["message"]
    quads_to_a_graph = put(client, b"<a:s> <a:p> <a:o> <a:g> .", "application/n-quads", graph=G)
    assert quads_to_a_graph.status_code == 415


def test_a_body_that_does_not_parse_is_400_with_the_position(client: TestClient) -> None:
    response = put(
        client, b"<http://example.org/s> <http://example.org/p> .", "text/turtle", graph=G
    )
    assert response.status_code == 400
    assert "does not parse" in response.json()["message"]
    assert "line 1 column" in response.json()["message"]
    assert client.get("/store", params={"graph": G}).status_code == 404


def test_named_graphs_inside_a_graph_body_are_refused(client: TestClient) -> None:
    trig = b"<http://example.org/x> { <http://example.org/s> <http://example.org/p> 1 . }"
    response = put(client, trig, "text/turtle", graph=G)
    assert response.status_code == 400


def test_a_blank_node_graph_name_is_refused(client: TestClient) -> None:
    trig = b"_:g { <http://example.org/s> <http://example.org/p> 1 . }"
    response = post(client, trig, "application/trig")
    assert response.status_code == 400
    assert "blank node" in response.json()["message"]


def test_blank_nodes_in_uploads_are_kept_as_blank_nodes(client: TestClient) -> None:
    body = b"<http://example.org/s> <http://example.org/p> [ <http://example.org/p> 'inner' ] ."
    assert put(client, body, "text/turtle", graph=G).status_code == 201
    got = triples(client.get("/store", params={"graph": G}).content)
    assert len(got) == 2
    assert any(t.object.value == "inner" for t in got)  # type: ignore[union-attr]


@pytest.mark.parametrize("method", ["put", "post", "delete"])
def test_writes_need_the_token(client: TestClient, method: str) -> None:
    call = getattr(client, method)
    kwargs: dict[str, Any] = {"params": {"graph": GRAPHS[0]}}
    if method != "delete":
        kwargs["content"] = TURTLE
        kwargs["headers"] = {"Content-Type": "text/turtle"}
    missing = call("/store", **kwargs)
    assert missing.status_code == 401
    kwargs.setdefault("headers", {})["Authorization"] = "Bearer nope"
    assert call("/store", **kwargs).status_code == 401
    assert values(client, GRAPHS[0]) != {"one", "two"}
    assert client.get("/store", params={"graph": GRAPHS[0]}).status_code == 200


def test_writes_are_disabled_without_a_configured_token() -> None:
    with make_client(write_token=None) as readonly:
        response = put(readonly, TURTLE, "text/turtle", graph=G)
        assert response.status_code == 403
        assert response.json()["error"] == "AuthError"


def test_a_default_graph_quad_in_a_dataset_post_lands_in_the_default_graph(
    client: TestClient,
) -> None:
    post(client, b'<http://example.org/s> <http://example.org/p> "d" .', "application/n-quads")
    dataset = set(parse(client.get("/store").content, format=RdfFormat.TRIG))
    assert Quad(S, P, Literal("d"), DefaultGraph()) in dataset


# --- what an upload can never do ---------------------------------------------------------------


def test_rdfxml_with_entities_is_refused(client: TestClient, tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY xxe SYSTEM "file://{secret}"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>&xxe;</ex:p></rdf:Description>
</rdf:RDF>""".encode()
    response = put(client, xxe, "application/rdf+xml", graph=G)
    assert response.status_code == 400
    assert "ENTITY" in response.json()["message"]
    assert "TOP-SECRET" not in client.get("/store").text


def test_an_entity_expansion_bomb_is_refused(client: TestClient) -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    bomb = f"""<?xml version="1.0"?><!DOCTYPE r [{entities}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
<rdf:Description rdf:about="http://example.org/s"><ex:p>&i;</ex:p></rdf:Description></rdf:RDF>"""
    assert len(bomb) < 2000  # would expand to 10^9 characters
    response = put(client, bomb.encode(), "application/rdf+xml", graph=G)
    assert response.status_code == 400


def test_the_openapi_description_names_the_targets_and_the_upload_formats(
    client: TestClient,
) -> None:
    store = client.get("/openapi.json").json()["paths"]["/store"]
    for method in ("get", "head", "put", "post", "delete"):
        names = {p["name"] for p in store[method]["parameters"]}
        assert {"graph", "default"} <= names, method
    for method in ("put", "post"):
        uploads = set(store[method]["requestBody"]["content"])
        assert {"text/turtle", "application/rdf+xml", "application/ld+json"} <= uploads
        assert {"application/trig", "application/n-quads"} <= uploads


# --- a new graph, multipart bodies ---------------------------------------------------------------


def test_a_graph_posted_to_the_store_itself_becomes_a_new_graph_at_its_location(
    client: TestClient,
) -> None:
    created = post(client, TURTLE, "text/turtle")
    assert created.status_code == 201
    location = created.headers["location"]
    assert location.startswith("http://testserver/store?graph=urn%3Auuid%3A")
    got = client.get(location, headers={"Accept": "text/turtle"})
    assert got.status_code == 200
    assert {t.object.value for t in triples(got.content)} == {"one", "two"}  # type: ignore[union-attr]
    second = post(client, TURTLE, "text/turtle").headers["location"]
    assert second != location  # each POST makes a graph of its own
    assert values(client, GRAPHS[0])  # the other graphs are untouched


def multipart(*parts: tuple[str, bytes, str]) -> dict[str, Any]:
    """``files=`` for httpx: (file name, body, content type) per part."""
    return {"files": [("file", part) for part in parts]}


def test_a_multipart_post_merges_its_parts_into_the_graph(client: TestClient) -> None:
    response = client.post(
        "/store",
        params={"graph": G},
        headers=AUTH,
        **multipart(
            ("a.ttl", TURTLE, "text/turtle"),
            ("b.nt", NTRIPLES, "application/n-triples"),
            ("c.jsonld", JSONLD, "application/octet-stream"),  # the extension decides
        ),
    )
    assert response.status_code == 201, response.text
    assert values(client) == {"one", "two", "three", "five"}


def test_a_multipart_part_in_an_unknown_format_is_415(client: TestClient) -> None:
    response = client.post(
        "/store", params={"graph": G}, headers=AUTH, **multipart(("a.csv", b"s,p,o", "text/csv"))
    )
    assert response.status_code == 415
    assert "part 1 (a.csv)" in response.json()["message"]
    assert values(client) == set()


def test_a_multipart_post_to_the_store_itself_makes_one_new_graph(client: TestClient) -> None:
    response = client.post(
        "/store",
        headers=AUTH,
        **multipart(("a.ttl", TURTLE, "text/turtle"), ("b.nt", NTRIPLES, "application/n-triples")),
    )
    assert response.status_code == 201
    got = client.get(response.headers["location"], headers={"Accept": "text/turtle"})
    assert {t.object.value for t in triples(got.content)} == {"one", "two", "three"}  # type: ignore[union-attr]
