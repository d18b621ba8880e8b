"""Linked data: minted IRIs dereference (HTML and RDF by Accept), the ontology, code lists,
shapes and schema at their paths, the VoID description, and streamed dumps.

The store holds the story (examples/story.json) and one more document
(tests/data/api_b/call.json), loaded through the real pipeline, so every IRI the loader mints
for them can be dereferenced. Most tests use the app in process; the streaming test uses a real
server.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import IO, Any

import httpx
import jsonschema
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
)

from diplograph.api.app import create_app
from diplograph.api.dump import DUMP_BUFFER_CHUNKS, DumpStream
from diplograph.api.formats import accepts_encoding
from diplograph.api.negotiation import HTML, RDF_FORMATS, choose_format
from diplograph.loader.config import load_settings
from diplograph.loader.facts import json_schema, read_path
from diplograph.loader.namespaces import DIP, ONTOLOGY_IRI, RDF, RDFS, SKOS, VOID
from diplograph.loader.pipeline import load
from diplograph.loader.store import QueryResult, Store
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA, EXAMPLES
from tests.support.server import StartServer, add_quads

BASE = "https://w3id.org/diplograph/"
BLINKEN = BASE + "id/person/antony-blinken"
CHROME_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)
#: What Protégé (OWL API) sends when it opens an ontology from a URL.
PROTEGE_ACCEPT = (
    "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, text/plain; q=0.1, */*; q=0.09"
)
RDF_TYPES = {
    "text/turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
}


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def story_store() -> Iterator[EmbeddedStore]:
    """The story and one more document, loaded through the pipeline (read-only in this module)."""
    store = EmbeddedStore(None)
    settings = load_settings(store="memory")
    for path in (EXAMPLES / "story.json", DATA / "api_b" / "call.json"):
        report = load(read_path(path), store, settings)
        assert report.documents_rejected == 0, report.to_dict()
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(story_store: EmbeddedStore) -> Iterator[TestClient]:
    with TestClient(create_app(load_settings(store="memory"), story_store)) as c:
        yield c


def triples_of(response: Any) -> set[Triple]:
    media = response.headers["content-type"].split(";")[0]
    return {q.triple for q in parse(response.content, format=RDF_TYPES[media])}


def spo(triples: set[Triple]) -> list[tuple[Any, Any, Any]]:
    return [(t.subject, t.predicate, t.object) for t in triples]


def _ground(items: set[Any]) -> set[Any]:
    """The triples or quads without blank nodes (whose labels differ between serializations)."""

    def has_bnode(item: Any) -> bool:
        return any(isinstance(term, BlankNode) for term in (item.subject, item.object))

    return {i for i in items if not has_bnode(i)}


def select(store: Store, sparql: str) -> list[dict[str, Any]]:
    result = store.query(sparql)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return [{n: row[n] for n in names} for row in result]


def minted_iris(store: Store) -> list[str]:
    rows = select(
        store,
        "SELECT DISTINCT ?s WHERE { ?s ?p ?o "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{BASE}id/")) }}',
    )
    return sorted(row["s"].value for row in rows)


class Links(HTMLParser):
    """Collects hrefs, element ids and script/link/img sources of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        if tag == "a" and values.get("href"):
            self.hrefs.append(values["href"] or "")
        if tag in ("script", "img", "iframe") and values.get("src"):
            self.sources.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.sources.append(values["href"] or "")


def links(text: str) -> Links:
    parser = Links()
    parser.feed(text)
    return parser


# --- a resource, by content negotiation -----------------------------------------------------------


def test_a_person_dereferences_as_turtle_with_links_in_and_out_and_labels(
    client: TestClient,
) -> None:
    response = client.get("/id/person/antony-blinken", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    triples = triples_of(response)
    me = NamedNode(BLINKEN)
    label = Triple(me, NamedNode(RDFS + "label"), Literal("Antony Blinken", language="en"))
    assert label in triples
    assert Triple(me, NamedNode(RDF + "type"), NamedNode(DIP + "Person")) in triples
    # incoming: the phone call names him as initiator
    initiators = {t.subject for t in triples if t.predicate == NamedNode(DIP + "initiator")}
    assert any(s.value.startswith(BASE + "id/event/phonecall-") for s in initiators)
    # labels of the linked nodes: the post he holds
    post = NamedNode(BASE + "id/post/us-secretary-of-state")
    assert Triple(me, NamedNode(DIP + "holdsPost"), post) in triples
    assert any(t.subject == post and t.predicate == NamedNode(RDFS + "label") for t in triples)


@pytest.mark.parametrize("media_type", list(RDF_TYPES))
def test_every_rdf_format_carries_the_same_description(client: TestClient, media_type: str) -> None:
    turtle = triples_of(client.get("/id/person/antony-blinken", headers={"Accept": "text/turtle"}))
    response = client.get("/id/person/antony-blinken", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert triples_of(response) == turtle


def test_the_format_parameter_overrides_accept(client: TestClient) -> None:
    response = client.get(
        "/id/person/antony-blinken", params={"format": "ntriples"}, headers={"Accept": "text/html"}
    )
    assert response.headers["content-type"] == "application/n-triples; charset=utf-8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/turtle"),
        ("*/*", "text/turtle"),
        (CHROME_ACCEPT, "text/html"),
        ("text/html, */*", "text/html"),
        ("application/json", "application/ld+json"),
        ("text/turtle;q=0.5, application/ld+json", "application/ld+json"),
        ("application/n-triples, text/html;q=0.1", "application/n-triples"),
    ],
)
def test_negotiation_respects_quality_and_prefers_specific_types(
    client: TestClient, accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {"Accept": ""}
    response = client.get("/id/person/antony-blinken", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_an_unservable_accept_is_406_naming_the_formats(client: TestClient) -> None:
    response = client.get("/id/person/antony-blinken", headers={"Accept": "image/png"})
    assert response.status_code == 406
    body = response.json()
    assert body["error"] == "UnsupportedFormatError"
    assert "text/turtle" in body["message"] and "text/html" in body["message"]


def test_an_iri_without_triples_is_404(client: TestClient) -> None:
    response = client.get("/id/person/nobody-at-all", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.json()["error"] == "NotFoundError"
    page = client.get("/id/person/nobody-at-all", headers={"Accept": CHROME_ACCEPT})
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]
    assert "nobody-at-all" in page.text


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    head = client.head("/id/person/antony-blinken", headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "text/turtle; charset=utf-8"
    assert head.headers["vary"] == "Accept"
    assert client.head("/id/person/nobody-at-all").status_code == 404
    for path in ("/ns", "/kw/", "/kw/initiator", "/shapes", "/schema", "/.well-known/void"):
        assert client.head(path).status_code == 200, path


def test_every_minted_iri_dereferences(client: TestClient, story_store: EmbeddedStore) -> None:
    iris = minted_iris(story_store)
    kinds = {iri[len(BASE + "id/") :].split("/")[0] for iri in iris}
    assert {
        "person",
        "org",
        "state",
        "place",
        "post",
        "event",
        "situation",
        "holding",
        "doc",
    } <= kinds
    assert any("/attestation/" in iri and "/span/" in iri for iri in iris)
    assert any("/participation/" in iri for iri in iris)
    for iri in iris:
        path = "/" + iri[len(BASE) :]
        response = client.get(path, headers={"Accept": "application/n-triples"})
        assert response.status_code == 200, path
        assert any(t.subject == NamedNode(iri) for t in triples_of(response)), path
        page = client.get(path, headers={"Accept": CHROME_ACCEPT})
        assert page.status_code == 200, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"


# --- the HTML page of a resource ------------------------------------------------------------------


def test_the_page_of_a_person_shows_labels_types_links_and_events(client: TestClient) -> None:
    response = client.get("/id/person/antony-blinken", headers={"Accept": CHROME_ACCEPT})
    assert response.status_code == 200
    assert response.headers["vary"] == "Accept"
    text = response.text
    assert "<h1>Antony Blinken</h1>" in text
    found = links(text)
    # links out and in are local, clickable links
    assert "/id/post/us-secretary-of-state" in found.hrefs
    assert any(h.startswith("/id/event/phonecall-") for h in found.hrefs)
    assert "/ns#Person" in found.hrefs or "/ns#Diplomat" in found.hrefs
    # the events he took part in, with the role and the documents they rest on
    assert 'id="event"' in text
    events = text.split('id="event"', 1)[1].split("</section>", 1)[0]
    assert "Blinken and Wang Yi spoke by phone" in events
    assert "dip:initiator" in events and "dip:visitor" in events
    assert "/id/doc/bloomberg-2023-10-14-blinken-wang-call" in events
    assert "Wang Yi" in events  # the other side of the call
    # the posts he held
    assert 'id="postholding"' in text


def test_the_page_of_a_fact_shows_the_sources_it_rests_on(client: TestClient) -> None:
    rows = client.get(
        "/sparql",
        params={
            "query": f"SELECT ?e WHERE {{ ?e a <{DIP}PhoneCall> ; <{DIP}summary> ?s "
            "FILTER(CONTAINS(?s, 'Ana Diplomat')) }"
        },
    ).json()["results"]["bindings"]
    [row] = rows
    path = "/" + row["e"]["value"][len(BASE) :]
    text = client.get(path, headers={"Accept": CHROME_ACCEPT}).text
    sources = text.split('id="sources"', 1)[1].split("</section>", 1)[0]
    assert "Ana Diplomat and Bo Minister speak by phone" in sources  # the document title
    assert "Example Wire" in sources  # the publisher
    assert "0.8" in sources  # the confidence
    assert "5–61" in sources  # the evidence offsets
    assert "https://news.example.org/2024/01/26/call" in sources  # the article
    assert "/id/doc/api-b-wire-call" in links(sources).hrefs


def test_every_local_link_on_a_page_resolves(client: TestClient) -> None:
    for start in ("/id/person/antony-blinken", "/id/person/wang-yi", "/id/doc/api-b-wire-call"):
        page = client.get(start, headers={"Accept": CHROME_ACCEPT})
        local = {h.split("#")[0] for h in links(page.text).hrefs if h.startswith("/")}
        assert len(local) > 5
        for href in sorted(local):
            response = client.get(href, headers={"Accept": CHROME_ACCEPT})
            assert response.status_code == 200, f"{start} links to {href}"


def test_pages_escape_what_the_data_says(story_store: EmbeddedStore) -> None:
    store = EmbeddedStore(None)
    evil = NamedNode(BASE + "id/person/evil")
    graph = NamedNode(BASE + "id/doc/evil")
    add_quads(
        store,
        [
            Quad(evil, NamedNode(RDFS + "label"), Literal("<script>alert(1)</script>"), graph),
            Quad(evil, NamedNode(RDF + "type"), NamedNode(DIP + "Person"), graph),
        ],
    )
    with TestClient(create_app(load_settings(store="memory"), store)) as c:
        text = c.get("/id/person/evil", headers={"Accept": "text/html"}).text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


# --- another base IRI -----------------------------------------------------------------------------


def test_the_server_root_stands_for_the_base_iri() -> None:
    settings = load_settings(store="memory", base_iri="http://data.example.org/kg/")
    store = EmbeddedStore(None)
    load(read_path(DATA / "api_b" / "call.json"), store, settings)
    with TestClient(create_app(settings, store)) as c:
        response = c.get("/id/person/ana-diplomat", headers={"Accept": "text/turtle"})
        assert response.status_code == 200
        subjects = {t.subject for t in triples_of(response)}
        assert NamedNode("http://data.example.org/kg/id/person/ana-diplomat") in subjects
        page = c.get("/id/person/ana-diplomat", headers={"Accept": "text/html"}).text
        assert any(h.startswith("/id/event/phonecall-") for h in links(page).hrefs)
    store.close()


# --- the ontology, code lists, shapes and schema --------------------------------------------------


def test_the_ontology_is_served_as_turtle_and_as_rdf_xml_for_protege(client: TestClient) -> None:
    turtle = client.get("/ns")
    assert turtle.status_code == 200
    assert turtle.headers["content-type"] == "text/turtle; charset=utf-8"
    ontology = NamedNode(ONTOLOGY_IRI)
    owl_ontology = NamedNode("http://www.w3.org/2002/07/owl#Ontology")
    ttl = triples_of(turtle)
    assert Triple(ontology, NamedNode(RDF + "type"), owl_ontology) in ttl
    xml = client.get("/ns", headers={"Accept": PROTEGE_ACCEPT})
    assert xml.headers["content-type"] == "application/rdf+xml; charset=utf-8"
    rdfxml = triples_of(xml)
    assert Triple(ontology, NamedNode(RDF + "type"), owl_ontology) in rdfxml

    assert _ground(rdfxml) == _ground(ttl)
    assert len(rdfxml) == len(ttl)


def test_the_ontology_page_has_an_anchor_per_term(client: TestClient) -> None:
    response = client.get("/ns", headers={"Accept": CHROME_ACCEPT})
    assert response.status_code == 200
    page = links(response.text)
    terms = select(
        client.app.state.store,  # type: ignore[attr-defined]
        f"SELECT DISTINCT ?t WHERE {{ GRAPH <{ONTOLOGY_IRI}> {{ ?t a ?k }} "
        "VALUES ?k { <http://www.w3.org/2002/07/owl#Class> "
        "<http://www.w3.org/2002/07/owl#ObjectProperty> "
        "<http://www.w3.org/2002/07/owl#DatatypeProperty> } "
        f'FILTER(STRSTARTS(STR(?t), "{DIP}")) }}',
    )
    names = {row["t"].value[len(DIP) :] for row in terms}
    assert {"PhoneCall", "Person", "initiator", "confidence"} <= names
    assert names <= page.ids
    assert "A consultation held by telephone or video link." in response.text
    assert "/ns#Consultation" in page.hrefs  # PhoneCall's superclass, linked


def test_code_lists_and_codes_dereference(client: TestClient) -> None:
    for path, code in (("/kw/", "initiator"), ("/cameo/", "041"), ("/plover/", "CONSULT")):
        page = client.get(path, headers={"Accept": CHROME_ACCEPT})
        assert page.status_code == 200, path
        assert code in links(page.text).ids
        turtle = client.get(path)
        assert turtle.headers["content-type"] == "text/turtle; charset=utf-8"
        concept = NamedNode("https://w3id.org/diplograph" + path + code)
        assert any(t.subject == concept for t in triples_of(turtle))
        described = client.get(path + code, headers={"Accept": "text/turtle"})
        assert described.status_code == 200, path + code
        assert any(
            t.subject == concept and t.predicate == NamedNode(SKOS + "prefLabel")
            for t in triples_of(described)
        )
        assert client.get(path + code, headers={"Accept": "text/html"}).status_code == 200
    assert client.get("/kw/no-such-code", headers={"Accept": "text/turtle"}).status_code == 404
    assert client.get("/codes").content == client.get("/kw/").content
    assert client.get("/cameo").content == client.get("/cameo/").content


def test_the_shapes_and_the_schema(client: TestClient) -> None:
    shapes = client.get("/shapes")
    assert shapes.status_code == 200
    assert shapes.headers["content-type"] == "text/turtle; charset=utf-8"
    node_shape = NamedNode("http://www.w3.org/ns/shacl#NodeShape")
    assert any(t.object == node_shape for t in triples_of(shapes))
    schema = client.get("/schema")
    assert schema.status_code == 200
    assert schema.headers["content-type"] == "application/schema+json"
    assert schema.json() == json_schema()
    story = json.loads((EXAMPLES / "story.json").read_text())
    jsonschema.Draft202012Validator(schema.json()).validate(story)


# --- VoID -----------------------------------------------------------------------------------------


def test_the_void_description_counts_the_dataset(
    client: TestClient, story_store: EmbeddedStore
) -> None:
    response = client.get("/.well-known/void")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    triples = triples_of(response)
    dataset = NamedNode("http://testserver/.well-known/void#dataset")

    def number(prop: str) -> int:
        [value] = [
            t.object
            for t in triples
            if t.subject == dataset and t.predicate == NamedNode(VOID + prop)
        ]
        assert isinstance(value, Literal)
        return int(value.value)

    distinct = {q.triple for q in story_store.quads()}
    assert number("triples") == len(distinct)
    # two documents, the ontology and the summary
    assert number("documents") == len(story_store.graph_names()) == 4
    assert number("entities") == len(minted_iris(story_store))
    assert number("classes") > 20
    endpoint = [t.object for t in triples if t.predicate == NamedNode(VOID + "sparqlEndpoint")]
    assert endpoint == [NamedNode("http://testserver/sparql")]
    dumps = sorted(t.object.value for t in triples if t.predicate == NamedNode(VOID + "dataDump"))
    assert len(dumps) == 5
    for dump in dumps:
        assert client.get(dump.removeprefix("http://testserver")).status_code == 200
    persons = len(select(story_store, f"SELECT DISTINCT ?p WHERE {{ ?p a <{DIP}Person> }}"))
    partitions = {t.subject: t.object for t in triples if t.predicate == NamedNode(VOID + "class")}
    [person_part] = [s for s, c in partitions.items() if c == NamedNode(DIP + "Person")]
    [count] = [
        t.object
        for t in triples
        if t.subject == person_part and t.predicate == NamedNode(VOID + "entities")
    ]
    assert isinstance(count, Literal) and int(count.value) == persons


def test_void_uses_the_public_url_when_set(story_store: EmbeddedStore) -> None:
    settings = load_settings(store="memory", public_url="https://kg.example.org")
    with TestClient(create_app(settings, story_store)) as c:
        text = c.get("/.well-known/void", headers={"Accept": "application/n-triples"}).text
    assert "<https://kg.example.org/sparql>" in text
    assert "<https://kg.example.org/dump?format=trig>" in text


# --- dumps ----------------------------------------------------------------------------------------

DUMPS = {
    "turtle": ("text/turtle", RdfFormat.TURTLE, "ttl"),
    "trig": ("application/trig", RdfFormat.TRIG, "trig"),
    "nquads": ("application/n-quads", RdfFormat.N_QUADS, "nq"),
    "ntriples": ("application/n-triples", RdfFormat.N_TRIPLES, "nt"),
    "jsonld": ("application/ld+json", RdfFormat.JSON_LD, "jsonld"),
}


@pytest.mark.parametrize("name", list(DUMPS))
def test_a_dump_in_each_format_holds_the_store(
    client: TestClient, story_store: EmbeddedStore, name: str
) -> None:
    media, rdf_format, ext = DUMPS[name]
    response = client.get("/dump", params={"format": name}, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media
    assert response.headers["content-disposition"] == f'attachment; filename="diplograph.{ext}"'
    assert "content-encoding" not in response.headers
    parsed = list(parse(response.content, format=rdf_format))
    if name in ("trig", "nquads"):
        assert _ground(set(parsed)) == _ground(set(story_store.quads()))
    else:
        assert _ground({q.triple for q in parsed}) == _ground(
            {q.triple for q in story_store.quads()}
        )


def test_a_dump_is_gzipped_on_request(client: TestClient, story_store: EmbeddedStore) -> None:
    response = client.get("/dump", params={"format": "nquads", "compress": "gzip"})
    assert response.headers["content-type"] == "application/gzip"
    assert response.headers["content-disposition"] == 'attachment; filename="diplograph.nq.gz"'
    quads = set(parse(gzip.decompress(response.content), format=RdfFormat.N_QUADS))
    assert _ground(quads) == _ground(set(story_store.quads()))
    # Accept-Encoding: the same dump, compressed in transit (httpx decompresses it)
    encoded = client.get("/dump", params={"format": "nquads"}, headers={"Accept-Encoding": "gzip"})
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.headers["content-type"] == "application/n-quads"
    assert _ground(set(parse(encoded.content, format=RdfFormat.N_QUADS))) == _ground(quads)


def test_a_dump_of_one_graph_and_the_errors(client: TestClient, story_store: EmbeddedStore) -> None:
    graph = BASE + "id/doc/api-b-wire-call"
    response = client.get("/dump", params={"format": "nquads", "graph": graph})
    assert response.status_code == 200
    assert (
        response.headers["content-disposition"]
        == 'attachment; filename="diplograph-api-b-wire-call.nq"'
    )
    quads = set(parse(response.content, format=RdfFormat.N_QUADS))
    assert quads == set(story_store.quads(graph))
    assert client.get("/dump", params={"graph": BASE + "id/doc/none"}).status_code == 404
    assert client.get("/dump", params={"format": "rdfxml"}).status_code == 406
    assert client.get("/dump", params={"compress": "zip"}).status_code == 406
    by_accept = client.get("/dump", headers={"Accept": "application/n-quads"})
    assert by_accept.headers["content-type"] == "application/n-quads"
    assert client.get("/dump").headers["content-type"] == "application/trig"


@pytest.mark.server
def test_a_dump_streams_in_chunks_over_a_real_server(
    start_server: StartServer, story_store: EmbeddedStore
) -> None:
    with (
        start_server(store=story_store) as server,
        httpx.stream(
            "GET", server.url + "/dump?format=nquads", headers={"Accept-Encoding": "identity"}
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        body = b"".join(response.iter_bytes())
    assert len(set(parse(body, format=RdfFormat.N_QUADS))) == len(set(story_store.quads()))


def test_a_dump_waits_for_a_slow_client_and_stops_when_it_leaves() -> None:
    # The client takes the first chunk and then nothing: the writer may fill the buffer
    # (DUMP_BUFFER_CHUNKS chunks) and must then wait. Checked by state, not by sleeping: the
    # writer says when it has filled the buffer; when the client leaves, the writer must stop
    # without having written another chunk.
    buffered = DUMP_BUFFER_CHUNKS + 1  # the chunk the client took, and a full buffer
    written: list[int] = []
    filled = threading.Event()
    finished = threading.Event()

    def write(output: IO[bytes]) -> None:
        try:
            for index in range(500):
                output.write(b"x" * 70_000)  # one chunk per write
                written.append(index)
                if len(written) == buffered:
                    filled.set()
        finally:
            finished.set()

    async def scenario() -> None:
        stream = DumpStream(write)
        await stream.start()
        chunks = stream.chunks()
        await chunks.__anext__()
        assert await asyncio.to_thread(filled.wait, 30), "the writer did not fill the buffer"
        await chunks.aclose()  # type: ignore[attr-defined]  # the client went away
        await asyncio.to_thread(finished.wait, 30)

    asyncio.run(scenario())
    assert finished.is_set()
    assert len(written) == buffered  # bounded: it waited for the client, then stopped


def test_a_dump_that_fails_before_any_output_gets_an_error_status() -> None:
    class Broken(EmbeddedStore):
        def quads(self, graph: str | None = None) -> Iterator[Quad]:
            raise OSError("disk on fire")

    with TestClient(create_app(load_settings(store="memory"), Broken(None))) as c:
        response = c.get("/dump")
    assert response.status_code == 503
    assert "disk on fire" in response.json()["message"]


# --- safety ---------------------------------------------------------------------------------------


class BlockedStore(EmbeddedStore):
    """A store whose queries wait until the test lets them go."""

    def __init__(self) -> None:
        super().__init__(None)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.returned = threading.Event()

    def query(self, sparql: str, **kwargs: Any) -> QueryResult:
        self.entered.set()
        self.release.wait(60)
        try:
            return super().query(sparql, **kwargs)
        finally:
            self.returned.set()


def test_a_slow_description_times_out_with_503() -> None:
    # Checked by state, not by the clock: the store's query is still blocked when the answer
    # arrives, so the answer did not wait for the store.
    settings = load_settings(store="memory", query_timeout=0.3)
    store = BlockedStore()
    try:
        with TestClient(create_app(settings, store)) as c:
            response = c.get("/id/person/anyone", headers={"Accept": "text/turtle"})
            assert store.entered.is_set() and not store.returned.is_set()
            assert response.status_code == 503
            assert response.json()["error"] == "QueryTimeoutError"
            assert c.get("/ns").status_code == 200  # the ontology does not need the store
            store.release.set()
    finally:
        store.release.set()


def test_choose_format_unit() -> None:
    assert choose_format("text/html, */*", (*RDF_FORMATS, HTML), override=None, what="x") is HTML
    assert choose_format("*/*", (*RDF_FORMATS, HTML), override=None, what="x").name == "turtle"
    assert choose_format(None, (*RDF_FORMATS, HTML), override="html", what="x") is HTML


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", True),
        ("gzip;q=0, *", False),
        ("*", True),
        ("identity", False),
        (None, False),
        ("br;q=1.0, gzip;q=0.5", True),
    ],
)
def test_accept_encoding_decides_transport_compression(header: str | None, expected: bool) -> None:
    assert accepts_encoding(header) is expected
