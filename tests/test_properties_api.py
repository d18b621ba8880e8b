"""Property-based tests of the service's input routes: ``POST /facts`` (and its dry run
``POST /validate``) and Graph Store Protocol uploads, with generated bodies.

For every body: never a 5xx; a 4xx is a JSON error body that says what is wrong (for facts: per
rejected document, the record, and per violation the field or node and the rule); and after a
refusal the store holds exactly the quads it held before. Uploads never reach outside the
service: RDF/XML external entities (a local file, a URL) and external DTDs, and JSON-LD remote
contexts in every position a context can take, point at a listener on 127.0.0.1 that must
receive no connection (a positive control shows it does see one when a client connects).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, Triple, parse, serialize

from diplograph.loader.facts import printable
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import STORY_FILE, WRITE_AUTH, requests_before_fence
from tests.support.facts_strategies import JSON_VALUES, format_documents, json_path, parent, paths
from tests.support.listener import Listener

STORY: dict[str, Any] = json.loads(STORY_FILE.read_text())
JSON_TYPE = "application/json"
JSONL_TYPE = "application/x-ndjson"
UPLOAD_GRAPH = "urn:x:property-upload"

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def quads(store: EmbeddedStore) -> set[Quad]:
    return set(store.quads())


def assert_error_body(response: Any) -> dict[str, Any]:
    """A 4xx answer is our JSON error shape: error class, a message, the status repeated."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    body: dict[str, Any] = response.json()
    assert body["error"] and isinstance(body["error"], str), body
    assert isinstance(body["message"], str) and body["message"].strip(), body
    assert body["status"] == response.status_code
    return body


def assert_rejections_name_record_field_and_rule(body: dict[str, Any], sent: Any) -> None:
    """Each rejection names its record (when the body has a document id), and each violation
    its field or node and its rule, with a message."""
    assert body["rejections"], body
    for rejection in body["rejections"]:
        assert rejection["violations"], rejection
        for violation in rejection["violations"]:
            assert violation["message"].strip() and violation["constraint"], violation
            if isinstance(sent, dict):
                assert violation["field"] or violation["focus_node"], violation
    doc = sent.get("document") if isinstance(sent, dict) else None
    if isinstance(doc, dict) and isinstance(doc.get("id"), str):
        assert body["rejections"][0]["record"].startswith(printable(doc["id"]))


def post_facts(client: TestClient, body: bytes, media_type: str, query: str = "") -> Any:
    return client.post(
        "/facts" + query, content=body, headers={**WRITE_AUTH, "Content-Type": media_type}
    )


# --- POST /facts -------------------------------------------------------------------------------


@st.composite
def broken_documents(draw: st.DrawFn) -> dict[str, Any]:
    """A document built from the format with one value replaced, one field removed or one
    unknown field added (or none of these)."""
    doc = draw(format_documents())
    where = draw(st.sampled_from(paths(doc)))
    action = draw(st.sampled_from(["keep", "replace", "remove", "add"]))
    if action == "replace":
        parent(doc, where)[where[-1]] = draw(JSON_VALUES | st.just("\ud800") | st.just("x" * 9999))
    elif action == "remove":
        del parent(doc, where)[where[-1]]
    elif action == "add" and isinstance(parent(doc, where), dict):
        parent(doc, where)[draw(st.text(min_size=1, max_size=8))] = draw(JSON_VALUES)
    return doc


@PROPERTY
@given(broken_documents(), st.sampled_from([JSON_TYPE, JSONL_TYPE]))
def test_post_facts_loads_a_document_or_answers_422_naming_record_field_and_rule(
    story_client: TestClient, story_store: EmbeddedStore, doc: dict[str, Any], media_type: str
) -> None:
    before = quads(story_store)
    response = post_facts(story_client, json.dumps(doc, allow_nan=True).encode(), media_type)
    if response.status_code == 200:
        body = response.json()
        assert body["documents"]["seen"] == 1 and not body["rejections"]
        return
    body = assert_error_body(response)
    assert response.status_code == 422
    assert body["error"] == "RejectedError"
    assert_rejections_name_record_field_and_rule(body, doc)
    assert quads(story_store) == before, "a rejected document changed the store"


BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    JSON_VALUES.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    broken_documents().map(lambda d: json.dumps(d).encode()),
)
MEDIA_TYPES = st.sampled_from(
    [JSON_TYPE, JSONL_TYPE, "application/jsonl", "text/plain", "application/ld+json", ""]
)


@PROPERTY
@given(BODIES, MEDIA_TYPES, st.sampled_from(["", "?strict=true", "?unknown_fields=warn"]))
@example(b"[" * 100_000 + b"]" * 100_000, JSON_TYPE, "")
@example(b'{"document": ' + b"9" * 5000 + b"}", JSONL_TYPE, "")
@example(b'{"document": {"id": "x\\ud800"}}', JSON_TYPE, "?strict=true")
@example(b"\xff\xfe{}", JSON_TYPE, "")
def test_no_body_makes_post_facts_answer_5xx_and_a_refusal_changes_nothing(
    story_client: TestClient, story_store: EmbeddedStore, body: bytes, media_type: str, query: str
) -> None:
    before = quads(story_store)
    response = post_facts(story_client, body, media_type, query)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_error_body(response)
        if response.json().get("documents", {}).get("loaded", 0) == 0:
            assert quads(story_store) == before


@PROPERTY
@given(BODIES, st.sampled_from([JSON_TYPE, JSONL_TYPE]))
def test_post_validate_never_answers_5xx_and_never_writes(
    story_client: TestClient, story_store: EmbeddedStore, body: bytes, media_type: str
) -> None:
    before = quads(story_store)
    response = story_client.post(
        "/validate", content=body, headers={**WRITE_AUTH, "Content-Type": media_type}
    )
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_error_body(response)
    assert quads(story_store) == before


# regressions the properties found: each was a 500 before the fix


@pytest.mark.parametrize("media_type", [JSON_TYPE, JSONL_TYPE])
def test_json_nested_past_the_recursion_limit_is_a_422_naming_the_rule(
    story_client: TestClient, media_type: str
) -> None:
    response = post_facts(story_client, b"[" * 100_000 + b"]" * 100_000, media_type)
    assert response.status_code == 422
    [rejection] = response.json()["rejections"]
    [violation] = rejection["violations"]
    assert violation["message"] == "not valid JSON: arrays or objects nested too deeply"


@pytest.mark.parametrize("media_type", [JSON_TYPE, JSONL_TYPE])
def test_a_number_of_thousands_of_digits_is_a_422_naming_the_rule(
    story_client: TestClient, media_type: str
) -> None:
    response = post_facts(story_client, b'{"document": ' + b"9" * 5000 + b"}", media_type)
    assert response.status_code == 422
    [violation] = response.json()["rejections"][0]["violations"]
    assert violation["message"].startswith("not valid JSON: a number with more than")


@pytest.mark.parametrize("where", [("document", "id"), ("facts", 0, "id")])
def test_an_id_with_a_lone_surrogate_is_a_422_naming_the_record_escaped(
    story_client: TestClient, where: tuple[Any, ...]
) -> None:
    doc = copy.deepcopy(STORY)
    parent(doc, where)[where[-1]] += "\ud800"
    response = post_facts(story_client, json.dumps(doc).encode(), JSON_TYPE)
    assert response.status_code == 422
    [rejection] = response.json()["rejections"]
    assert "\\ud800" in rejection["record"]
    assert rejection["violations"][0]["field"] == json_path(where)


# --- Graph Store Protocol uploads --------------------------------------------------------------

SAMPLE = [
    Quad(NamedNode("urn:x:s"), NamedNode("urn:x:p"), NamedNode("urn:x:o")),
    *parse(
        b'<urn:x:s> <urn:x:name> "Wang Yi"@en, "\xe7\x8e\x8b\xe6\xaf\x85"@zh ; '
        b'<urn:x:n> 42 ; <urn:x:b> [ <urn:x:p> "nested" ] .',
        format=RdfFormat.TURTLE,
    ),
]
UPLOAD_FORMATS = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/ld+json": RdfFormat.JSON_LD,
}


@st.composite
def damaged_uploads(draw: st.DrawFn) -> tuple[str, bytes]:
    """A valid serialization of a small graph, damaged: cut short, with bytes inserted or
    removed, or with a stretch repeated."""
    media_type = draw(st.sampled_from(sorted(UPLOAD_FORMATS)))
    body = serialize([q.triple for q in SAMPLE], format=UPLOAD_FORMATS[media_type])
    assert body is not None
    at = draw(st.integers(0, len(body)))
    damage = draw(st.sampled_from(["cut", "insert", "remove", "repeat"]))
    if damage == "cut":
        body = body[:at]
    elif damage == "insert":
        junk = draw(
            st.binary(min_size=1, max_size=8)
            | st.sampled_from([b"<", b">", b'"', b"\\", b"\\uD800", b"&", b"{", b"@", b"\xff"])
        )
        body = body[:at] + junk + body[at:]
    elif damage == "remove":
        body = body[:at] + body[at + draw(st.integers(1, 10)) :]
    else:
        body = body[:at] + body[at : at + 20] * draw(st.integers(2, 50)) + body[at:]
    return media_type, body


def _has_blank(triple: Triple) -> bool:
    return isinstance(triple.subject, BlankNode) or isinstance(triple.object, BlankNode)


def upload(client: TestClient, body: bytes, media_type: str, method: str = "PUT") -> Any:
    return client.request(
        method,
        "/store",
        params={"graph": UPLOAD_GRAPH},
        content=body,
        headers={**WRITE_AUTH, "Content-Type": media_type},
    )


def forget_upload(client: TestClient) -> None:
    client.delete("/store", params={"graph": UPLOAD_GRAPH}, headers=WRITE_AUTH)


@PROPERTY
@given(damaged_uploads(), st.sampled_from(["PUT", "POST"]))
def test_a_damaged_upload_is_stored_exactly_as_parsed_or_refused_with_400_changing_nothing(
    story_client: TestClient,
    story_store: EmbeddedStore,
    upload_case: tuple[str, bytes],
    method: str,
) -> None:
    media_type, body = upload_case
    before = quads(story_store)
    response = upload(story_client, body, media_type, method)
    try:
        if response.status_code in (201, 204):
            fmt = UPLOAD_FORMATS[media_type]
            expected = {q.triple for q in parse(body, format=fmt, base_iri=UPLOAD_GRAPH)}
            stored = {q.triple for q in story_store.quads(UPLOAD_GRAPH)}
            assert len(stored) == len(expected)
            # blank nodes get labels of the store's own; every other triple is kept as sent
            assert {t for t in stored if not _has_blank(t)} == {
                t for t in expected if not _has_blank(t)
            }
            return
        body_json = assert_error_body(response)
        assert response.status_code == 400, body_json
        assert quads(story_store) == before
    finally:
        forget_upload(story_client)


@PROPERTY
@given(
    st.binary(max_size=200),
    st.sampled_from(["text/html", "application/octet-stream", "application/trig", "", "text/x"]),
)
def test_an_upload_in_a_format_a_graph_cannot_hold_is_415_changing_nothing(
    story_client: TestClient, story_store: EmbeddedStore, body: bytes, media_type: str
) -> None:
    before = quads(story_store)
    response = upload(story_client, body, media_type)
    assert response.status_code == 415, response.text
    assert_error_body(response)
    assert quads(story_store) == before


#: Valid Turtle the upload routes accept, some of it beyond what every output format can hold.
STORABLE = [
    b"<urn:x:s> <urn:x:p> <urn:x:o> .",
    b"<urn:x:s> <urn:x:p> <<( <urn:x:s> <urn:x:p> <urn:x:o> )>> .",  # an RDF 1.2 triple term
    b"<< <urn:x:s> <urn:x:p> <urn:x:o> >> <urn:x:said> <urn:x:wang> .",  # a reifier
    b'<urn:x:s> <urn:x:p> "text"@en--ltr .',  # a base direction
    b'<urn:x:s> <urn:x:p> "\\u0000\\u0001\\uFFFE" .',
    b'<urn:x:s> <urn:x:p> [ <urn:x:p> ( 1 2.5 "three" ) ] .',
    b'<urn:x:s> <urn:x:p> "' + b"x" * 5000 + b'" .',
    b'<urn:x:s> <urn:x:p> "2023-02-30"^^<http://www.w3.org/2001/XMLSchema#date> .',
    b"<urn:x:s> <http://www.w3.org/1999/02/22-rdf-syntax-ns#_1> <urn:x:o> .",
    b"<urn:x:s> <urn:x:1> <urn:x:o> .",  # a predicate RDF/XML cannot write as an element
]
READ_TYPES = ["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"]


@PROPERTY
@given(st.lists(st.sampled_from(STORABLE), min_size=1, max_size=4), st.sampled_from(READ_TYPES))
def test_whatever_an_upload_stored_reads_back_in_every_format_or_answers_406(
    story_client: TestClient, parts: list[bytes], accept: str
) -> None:
    response = upload(story_client, b"\n".join(parts), "text/turtle")
    assert response.status_code in (201, 204), response.text
    try:
        read = story_client.get(
            "/store", params={"graph": UPLOAD_GRAPH}, headers={"Accept": accept}
        )
        assert read.status_code in (200, 406), read.text[:500]
        if read.status_code == 406:
            assert "ask for Turtle or N-Triples" in assert_error_body(read)["message"]
    finally:
        forget_upload(story_client)


def test_a_triple_term_asked_for_as_jsonld_is_406_not_a_store_error(
    story_client: TestClient,
) -> None:
    """Regression: pyoxigraph's JSON-LD writer fails on RDF 1.2 with an OSError, which was
    answered 503 StoreError as if the store were broken."""
    upload(story_client, STORABLE[1], "text/turtle")
    try:
        read = story_client.get(
            "/store", params={"graph": UPLOAD_GRAPH}, headers={"Accept": "application/ld+json"}
        )
        assert read.status_code == 406
        assert assert_error_body(read)["error"] == "UnsupportedFormatError"
    finally:
        forget_upload(story_client)


# --- nothing is read or fetched ----------------------------------------------------------------


def test_the_listener_sees_a_client_that_connects(listener: Listener) -> None:
    """The positive control: the tests below would notice a fetch."""
    httpx.get(listener.url + "/context.jsonld", timeout=5)
    assert len(requests_before_fence(listener)) == 1


RDF_NS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="urn:ex:"'


def _rdfxml(doctype: str, value: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<rdf:RDF {RDF_NS}>'
        f'<rdf:Description rdf:about="urn:x:s"><ex:p>{value}</ex:p></rdf:Description>'
        "</rdf:RDF>"
    ).encode()


@pytest.mark.parametrize(
    "form",
    [
        "file",
        "url",
        "parameter-entity-url",
        "file-with-spaces",
    ],
)
def test_rdfxml_with_an_external_entity_is_refused_and_nothing_is_read_or_fetched(
    story_client: TestClient,
    story_store: EmbeddedStore,
    listener: Listener,
    tmp_path: Path,
    form: str,
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENTS")
    doctype = {
        "file": f'<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file://{secret}">]>',
        "url": f'<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "{listener.url}/x">]>',
        "parameter-entity-url": f'<!DOCTYPE rdf:RDF [<!ENTITY % p SYSTEM "{listener.url}/p"> %p;]>',
        "file-with-spaces": f'<!DOCTYPE rdf:RDF [ <!ENTITY   x   SYSTEM  "{secret}" > ]>',
    }[form]
    before = quads(story_store)
    response = upload(story_client, _rdfxml(doctype, "&x;"), "application/rdf+xml")
    assert response.status_code == 400
    assert "ENTITY" in assert_error_body(response)["message"]
    assert quads(story_store) == before
    assert "SECRET-CONTENTS" not in response.text
    assert len(requests_before_fence(listener)) == 0


@pytest.mark.parametrize("target", ["url", "file"])
def test_rdfxml_with_an_external_dtd_never_reads_it(
    story_client: TestClient,
    story_store: EmbeddedStore,
    listener: Listener,
    tmp_path: Path,
    target: str,
) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY x "SECRET-CONTENTS">')
    where = f"{listener.url}/evil.dtd" if target == "url" else f"file://{dtd}"
    response = upload(
        story_client,
        _rdfxml(f'<!DOCTYPE rdf:RDF SYSTEM "{where}">', "plain"),
        "application/rdf+xml",
    )
    try:
        assert response.status_code in (201, 204, 400), response.text
        assert not any("SECRET-CONTENTS" in str(q.object) for q in story_store.quads())
        assert len(requests_before_fence(listener)) == 0
    finally:
        forget_upload(story_client)


def _contexts(url: str) -> list[Any]:
    """JSON-LD documents that name a remote context in each place a context can be named."""
    return [
        {"@context": url, "@id": "urn:x:s", "name": "x"},
        {"@context": [url, {"p": "urn:x:p"}], "@id": "urn:x:s", "p": "x"},
        {"@context": {"@import": url}, "@id": "urn:x:s", "name": "x"},
        {"@context": {"p": {"@id": "urn:x:p", "@context": url}}, "@id": "urn:x:s", "p": {"q": 1}},
        {"@context": {"T": {"@id": "urn:x:T", "@context": url}}, "@id": "urn:x:s", "@type": "T"},
        {"@id": "urn:x:s", "urn:x:p": {"@context": url, "@id": "urn:x:o", "name": "x"}},
        [{"@context": url, "@id": "urn:x:s"}],
        {"@graph": [{"@context": url, "@id": "urn:x:s", "name": "x"}]},
    ]


@pytest.mark.parametrize("index", range(len(_contexts("u"))))
def test_jsonld_with_a_remote_context_never_fetches_it(
    story_client: TestClient, story_store: EmbeddedStore, listener: Listener, index: int
) -> None:
    document = _contexts(listener.url + "/context.jsonld")[index]
    before = quads(story_store)
    response = upload(story_client, json.dumps(document).encode(), "application/ld+json")
    try:
        assert len(requests_before_fence(listener)) == 0
        if response.status_code >= 400:
            assert response.status_code == 400
            assert "context" in assert_error_body(response)["message"]
            assert quads(story_store) == before
        else:
            assert response.status_code in (201, 204)
    finally:
        forget_upload(story_client)
