"""Bad input never crashes and never half-writes: property-based tests over every input path.

Generated inputs — arbitrary JSON, mutations of a valid document (wrong types, missing and
unknown fields, huge strings, deep nesting, impossible dates, confidences outside [0, 1],
references to undeclared entities, self-references), undecodable bytes — go through the real
paths: the reader and the loader into an in-memory store, ``POST /facts``, and Graph Store
Protocol uploads. Each case ends in a valid load or a clear rejection naming the record, the
field and the rule; never an exception of another kind, never a 5xx, and after a rejection the
store holds exactly what it held before.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from api.app import create_app
from loader.config import load_settings
from loader.errors import DiplographError
from loader.facts import read_documents
from loader.iris import IriMinter
from loader.mapping import map_document
from loader.ontology import superclass_closure
from loader.pipeline import Loader
from loader.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLES

TOKEN = "property-token"
STORY: dict[str, Any] = json.loads((EXAMPLES / "story.json").read_text())
SETTINGS = load_settings(store="memory")
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --- generated input ---------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)
#: Values that tend to break parsers and validators.
NASTY = (
    st.sampled_from(
        [
            None,
            "",
            "x" * 200_000,
            "2023-02-30",
            "2023-13-01",
            "2023-10-14T25:00:00Z",
            "P",
            "PT",
            -0.5,
            1.5,
            float("inf"),
            2**64,
            "\u202eevil",
            "\x00",
            "undeclared-entity",
            {"nested": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]},
            [],
            {},
            True,
        ]
    )
    | JSON_VALUES
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield (*prefix, index)
            yield from _paths(inner, (*prefix, index))


STORY_PATHS = list(_paths(STORY))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        doc = doc[step]
    doc[path[-1]] = value


def _delete(doc: Any, path: tuple[Any, ...]) -> None:
    for step in path[:-1]:
        doc = doc[step]
    del doc[path[-1]]


@st.composite
def mutated_story(draw: st.DrawFn) -> Any:
    """The example story with one to three changes: values replaced, fields removed or added,
    references pointed at undeclared entities or at the fact itself."""
    doc = copy.deepcopy(STORY)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "add", "reference"]))
        try:
            if action == "replace":
                _set(doc, path, draw(NASTY))
            elif action == "delete":
                _delete(doc, path)
            elif action == "add":
                target = doc
                for step in path[:-1]:
                    target = target[step]
                if isinstance(target, dict):
                    target[draw(st.text(min_size=1, max_size=12))] = draw(NASTY)
            else:
                _set(doc, path, draw(st.sampled_from(["nobody", "f1", "e1", path[-1]])))
        except (KeyError, IndexError, TypeError):
            continue
    return doc


# --- the loader --------------------------------------------------------------------------------


def _quads(store: EmbeddedStore) -> set[Any]:
    return set(store.oxigraph)


def _load_value(value: Any) -> tuple[EmbeddedStore, Any]:
    """Load ``value`` (as one JSON line) into a store that already holds the story."""
    store = EmbeddedStore(None)
    loader = Loader(store, SETTINGS)
    loader.load(read_documents(io.StringIO(json.dumps(STORY)), source="story"))
    before = _quads(store)
    text = json.dumps(value, allow_nan=True)
    report = loader.load(read_documents(io.StringIO(text), source="input"))
    return store, (before, report)


def _assert_whole_or_nothing(value: Any) -> None:
    store, (before, report) = _load_value(value)
    assert report.documents_seen == 1
    if report.documents_rejected:
        [rejection] = report.rejections
        assert rejection.source == "input"
        for violation in rejection.violations:
            assert violation["message"], violation
            assert violation["field"] or violation["focus_node"] or violation["constraint"]
        assert _quads(store) == before, "a rejected document changed the store"
    elif report.documents_loaded:
        [record] = read_documents(io.StringIO(json.dumps(value)))
        assert record.document is not None
        mapped = map_document(record.document, IriMinter(SETTINGS.base_iri), superclass_closure())
        assert store.graph_triples(mapped.graph) == set(mapped.triples)


@PROPERTY
@given(JSON_VALUES)
def test_arbitrary_json_is_loaded_whole_or_rejected_cleanly(value: Any) -> None:
    assume(not isinstance(value, list))  # a JSON list is a list of documents
    _assert_whole_or_nothing(value)


@PROPERTY
@given(mutated_story())
def test_a_mutated_document_is_loaded_whole_or_rejected_naming_field_and_rule(value: Any) -> None:
    _assert_whole_or_nothing(value)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("time", "start"), "2023-02-30", "time.start"),
        (("confidence",), 1.5, "confidence"),
        (("confidence",), -0.1, "confidence"),
        (("duration",), "about an hour", "duration"),
    ],
)
def test_impossible_values_in_a_fact_are_rejected_with_their_field(
    path: tuple[str, ...], value: Any, field: str
) -> None:
    doc = copy.deepcopy(STORY)
    [call] = [fact for fact in doc["facts"] if fact["type"] == "PhoneCall"]
    _set(call, path, value)
    store, (before, report) = _load_value(doc)
    assert report.documents_rejected == 1
    [violation] = report.rejections[0].violations
    assert violation["field"] is not None and violation["field"].endswith(field)
    assert _quads(store) == before


@PROPERTY
@given(st.binary(min_size=1, max_size=300))
def test_undecodable_or_random_bytes_never_raise_a_foreign_exception(data: bytes) -> None:
    text = data.decode("utf-8", errors="surrogateescape")
    try:
        records = list(read_documents(io.StringIO(text), source="bytes"))
    except DiplographError:
        return
    for record in records:
        assert (record.document is None) != (record.error is None)


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    store = EmbeddedStore(None)
    Loader(store, SETTINGS).load(read_documents(io.StringIO(json.dumps(STORY))))
    app = create_app(load_settings(store="memory", write_token=TOKEN), store)
    with TestClient(app) as test_client:
        yield test_client


def _dataset(client: TestClient) -> bytes:
    response = client.get("/dump", params={"format": "nquads"})
    assert response.status_code == 200
    return response.content


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@PROPERTY
@given(st.one_of(mutated_story().map(json.dumps), JSON_VALUES.map(json.dumps), st.text()))
def test_post_facts_never_answers_5xx_and_a_rejection_changes_nothing(
    client: TestClient, body: str
) -> None:
    assume(body.strip())
    before = _dataset(client)
    response = client.post(
        "/facts",
        content=body.encode("utf-8", errors="surrogatepass"),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["message"]
        assert _dataset(client) == before


@PROPERTY
@given(
    st.sampled_from(
        ["text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json"]
    ),
    st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(str.encode),
        st.sampled_from(
            [
                b"<urn:x:s> <urn:x:p> .",
                b"@prefix : <urn:x:> . :s :p :o",
                b'<?xml version="1.0"?><rdf:RDF',
                b'{"@context": "http://127.0.0.1:9/ctx.jsonld", "@id": "urn:x:s"}',
                b'<urn:x:s> <urn:x:p> "\\uD800" .',
            ]
        ),
    ),
)
def test_graph_store_uploads_never_answer_5xx_and_a_refusal_changes_nothing(
    client: TestClient, media_type: str, body: bytes
) -> None:
    before = _dataset(client)
    response = client.put(
        "/store",
        params={"graph": "urn:x:upload"},
        content=body,
        headers={**AUTH, "Content-Type": media_type},
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["message"]
        assert _dataset(client) == before
    else:
        client.delete("/store", params={"graph": "urn:x:upload"}, headers=AUTH)
