"""Updates of data alone on named graphs are followed as graph changes (api/data_update.py): the
store ends as a raw update would leave it, and the summary stays exact without a rebuild."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import Literal, NamedNode, Triple

from diplograph.api.data_update import graph_changes
from diplograph.loader.config import load_settings
from diplograph.loader.namespaces import DIP
from diplograph.loader.store import GraphChange
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import WRITE_TOKEN, app_client
from tests.support.consistency import summary_is_exact

EX = "http://example.org/"
G, H = EX + "g", EX + "h"
BASE = load_settings(store="memory").base_iri


def triple(s: str, o: str) -> Triple:
    return Triple(NamedNode(EX + s), NamedNode(EX + "p"), Literal(o))


@pytest.fixture
def store() -> Iterator[EmbeddedStore]:
    """A store whose graph ``g`` holds ``a p "1"``."""
    the_store = EmbeddedStore(None)
    the_store.commit([GraphChange(G, [triple("a", "1")])])
    yield the_store
    the_store.close()


def test_an_insert_gives_the_graph_with_its_new_triples(store: EmbeddedStore) -> None:
    changes = graph_changes(
        f'PREFIX ex: <{EX}> INSERT DATA {{ GRAPH ex:g {{ ex:b ex:p "2" }} }}', store
    )
    assert changes == [GraphChange(G, sorted([triple("a", "1"), triple("b", "2")], key=str))]


def test_operations_apply_in_their_order_across_graphs(store: EmbeddedStore) -> None:
    update = (
        f'INSERT DATA {{ GRAPH <{H}> {{ <{EX}c> <{EX}p> "3" }} }} ; '
        f'DELETE DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> "1" }} }} ; '
        f'INSERT DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> "1" ; <{EX}p> "4" }} }}'
    )
    assert graph_changes(update, store) == [
        GraphChange(G, sorted([triple("a", "1"), triple("a", "4")], key=str)),
        GraphChange(H, [triple("c", "3")]),
    ]


@pytest.mark.parametrize(
    "update",
    [
        f'INSERT DATA {{ <{EX}a> <{EX}p> "2" }}',  # the default graph
        f"INSERT DATA {{ GRAPH <{G}> {{ _:x <{EX}p> 2 }} }}",  # a blank node
        f"DELETE WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} }}",  # not data
        f'DELETE DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> "1" }} }}',  # leaves g empty
        f'INSERT DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> "1" }} }} ; PREFIX ex: <{EX}> '
        f'INSERT DATA {{ GRAPH ex:g {{ ex:b ex:p "2" }} }}',  # a prologue between operations
        f"INSERT DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> }} }}",  # does not parse
        f'CLEAR GRAPH <{G}> ; INSERT DATA {{ GRAPH <{G}> {{ <{EX}a> <{EX}p> "2" }} }}',
    ],
    ids=["default graph", "blank node", "where", "empties", "prologue", "malformed", "clear"],
)
def test_what_cannot_be_followed_is_left_to_the_raw_update(
    store: EmbeddedStore, update: str
) -> None:
    assert graph_changes(update, store) is None


def update(client: TestClient, text: str) -> int:
    response = client.post(
        "/sparql",
        content=text,
        headers={
            "Content-Type": "application/sparql-update",
            "Authorization": f"Bearer {WRITE_TOKEN}",
        },
    )
    return response.status_code


EVENT = (
    f"<{EX}e> a <{DIP}Event> , <{DIP}Meeting> ; <{DIP}hasParticipant> <{EX}a> , <{EX}b> ; "
    f'<{DIP}startDate> "2023-10-14"'
)


def test_an_insert_data_through_the_endpoint_keeps_the_summary_without_a_rebuild(
    fresh_story_store: EmbeddedStore, summary_rebuilds: list[int]
) -> None:
    with app_client(fresh_story_store) as client:
        assert update(client, f"INSERT DATA {{ GRAPH <{G}> {{ {EVENT} }} }}") == 204
        assert (
            update(client, f"DELETE DATA {{ GRAPH <{G}> {{ <{EX}e> a <{DIP}Meeting> }} }}") == 204
        )
    assert summary_is_exact(fresh_story_store, BASE)
    assert summary_rebuilds == []
    assert Triple(NamedNode(EX + "e"), NamedNode(DIP + "startDate"), Literal("2023-10-14")) in (
        fresh_story_store.graph_triples(G)
    )


def test_an_update_with_a_where_clause_stays_raw_and_the_summary_is_rebuilt(
    fresh_story_store: EmbeddedStore, summary_rebuilds: list[int]
) -> None:
    with app_client(fresh_story_store) as client:
        text = f"INSERT {{ GRAPH <{G}> {{ {EVENT} }} }} WHERE {{}}"
        assert update(client, text) == 204
    assert summary_is_exact(fresh_story_store, BASE)
    assert summary_rebuilds == [1]
