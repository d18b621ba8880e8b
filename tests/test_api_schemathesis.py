"""schemathesis against the service's own OpenAPI description: no request it can generate for
any operation gets a 5xx (writes carry the token, so they are exercised too)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from diplograph.api.app import create_app
from diplograph.loader.config import load_settings
from diplograph.loader.facts import json_schema, read_documents
from diplograph.loader.pipeline import Loader
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLES

TOKEN = "schemathesis-token"


def _app() -> FastAPI:
    store = EmbeddedStore(None)
    settings_ = load_settings(store="memory", write_token=TOKEN, query_timeout=5.0)
    story = json.loads((EXAMPLES / "story.json").read_text())
    Loader(store, settings_).load(read_documents(io.StringIO(json.dumps(story))))
    return create_app(settings_, store)


def _with_the_facts_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with its links to the facts JSON Schema (served at ``/schema``)
    replaced by that schema itself, its definitions moved under ``components``: schemathesis
    cannot follow a reference to another URL, and with the real schema it generates facts
    documents (and, in negative mode, documents that break it) rather than arbitrary objects."""
    facts = json_schema()
    definitions = facts.pop("$defs", {})
    for key in ("$schema", "$id"):
        facts.pop(key, None)
    text = json.dumps(openapi).replace(
        '{"$ref": "/schema"}', '{"$ref": "#/components/schemas/FactsDocument"}'
    )
    document: dict[str, Any] = json.loads(text)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in {**definitions, "FactsDocument": facts}.items():
        assert name not in schemas, f"the facts schema's {name} collides with the API's"
        schemas[name] = json.loads(
            json.dumps(definition).replace('"#/$defs/', '"#/components/schemas/')
        )
    return document


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx: Any, value: Any) -> bytes:
    """A JSON Lines body: each item of a generated list on its own line."""
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item) for item in items).encode()


@schemathesis.serializer(
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
)
def _rdf_text(ctx: Any, value: Any) -> bytes:
    """An RDF body: the generated text as it is (UTF-8), so the parsers see it unquoted."""
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogatepass")


APP = _app()
schema = schemathesis.openapi.from_dict(_with_the_facts_schema(APP.openapi()))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """One client for the module, so that the app's lifespan (its query workers) runs once."""
    with TestClient(APP) as test_client:
        yield test_client


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_request_gets_a_server_error(
    case: schemathesis.Case, client: TestClient
) -> None:
    kwargs = case.as_transport_kwargs(headers={"Authorization": f"Bearer {TOKEN}"})
    kwargs.pop("base_url", None)
    response = client.request(**kwargs)
    case.validate_response(response, checks=[not_a_server_error])
