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

from api.app import create_app
from loader.config import load_settings
from loader.facts import read_documents
from loader.pipeline import Loader
from loader.store.embedded import EmbeddedStore
from tests.conftest import EXAMPLES

TOKEN = "schemathesis-token"


def _app() -> FastAPI:
    store = EmbeddedStore(None)
    settings_ = load_settings(store="memory", write_token=TOKEN, query_timeout=5.0)
    story = json.loads((EXAMPLES / "story.json").read_text())
    Loader(store, settings_).load(read_documents(io.StringIO(json.dumps(story))))
    return create_app(settings_, store)


def _inline_external_refs(value: Any) -> Any:
    """The OpenAPI document with its links to the facts JSON Schema (served at ``/schema``)
    replaced by "any object": schemathesis cannot follow a reference to another URL, and
    arbitrary objects are what a fuzzer should send anyway."""
    if isinstance(value, dict):
        if value.get("$ref", "#").startswith("#"):
            return {key: _inline_external_refs(inner) for key, inner in value.items()}
        return {"type": "object"}
    if isinstance(value, list):
        return [_inline_external_refs(inner) for inner in value]
    return value


@schemathesis.serializer("application/x-ndjson")
def _json_lines(ctx: Any, value: Any) -> bytes:
    """A JSON Lines body: each item of a generated list on its own line."""
    items = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(item) for item in items).encode()


APP = _app()
schema = schemathesis.openapi.from_dict(_inline_external_refs(APP.openapi()))

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
