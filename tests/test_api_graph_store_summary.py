"""Graph Store writes of a named graph keep the summary graph exact through the summary's keeper,
without the rebuild from scratch that a raw write costs (api/graph_store.py): seconds at 10k
documents for a rebuild against milliseconds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from diplograph.loader.config import load_settings
from diplograph.loader.namespaces import DIP
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import WRITE_TOKEN, app_client
from tests.support.consistency import summary_is_exact

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
BASE = load_settings(store="memory").base_iri
GRAPH = "http://example.org/graph/talks"
TURTLE = {"Content-Type": "text/turtle", **AUTH}


def event(name: str, day: str) -> bytes:
    """A meeting between two made-up states on ``day``: it counts in the summary."""
    return (
        f"<http://example.org/{name}> a <{DIP}Event> , <{DIP}Meeting> ; "
        f"<{DIP}hasParticipant> <http://example.org/a> , <http://example.org/b> ; "
        f'<{DIP}startDate> "{day}" .'
    ).encode()


@pytest.fixture
def client(fresh_story_store: EmbeddedStore) -> Iterator[TestClient]:
    with app_client(fresh_story_store) as c:
        yield c


def assert_exact(store: EmbeddedStore) -> None:
    assert summary_is_exact(store, BASE)


def test_put_post_and_delete_of_a_graph_keep_the_summary_exact_without_a_rebuild(
    client: TestClient, fresh_story_store: EmbeddedStore, summary_rebuilds: list[int]
) -> None:
    params = {"graph": GRAPH}
    assert client.put("/store", params=params, content=event("e1", "2023-10-14"), headers=TURTLE)
    assert_exact(fresh_story_store)
    post = client.post("/store", params=params, content=event("e2", "2023-11-02"), headers=TURTLE)
    assert post.status_code == 204
    assert_exact(fresh_story_store)
    assert client.delete("/store", params=params, headers=AUTH).status_code == 204
    assert_exact(fresh_story_store)
    assert summary_rebuilds == []


def test_a_post_with_blank_nodes_is_a_raw_write_and_the_summary_is_rebuilt(
    client: TestClient, fresh_story_store: EmbeddedStore, summary_rebuilds: list[int]
) -> None:
    body = event("e3", "2023-12-01") + b" [] <http://example.org/p> 1 ."
    response = client.post("/store", params={"graph": GRAPH}, content=body, headers=TURTLE)
    assert response.status_code == 201
    assert_exact(fresh_story_store)
    assert summary_rebuilds == [1]
