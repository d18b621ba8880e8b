"""The store's size as /health and the service description give it: from the summary graph while
it is current, else counted only when the store is small (api/store_size.py), so that a probe
never scans a large store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import RdfFormat, parse

from diplograph.api import store_size
from diplograph.api.app import create_app
from diplograph.api.store_size import known_quads
from diplograph.loader.config import load_settings
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import Summary
from tests.support.server import load_test_store

BASE = load_settings(store="memory").base_iri
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
RDFS_COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Count no more than five quads one by one: the test store (23 quads) is then 'large'."""
    monkeypatch.setattr(store_size, "COUNT_LIMIT", 5)


@pytest.fixture
def summarized() -> EmbeddedStore:
    store = load_test_store()
    Summary(store, BASE).rebuild()
    return store


def test_a_small_store_without_a_summary_is_counted() -> None:
    assert known_quads(load_test_store(), BASE) == 23


@pytest.mark.usefixtures("small_limit")
def test_a_large_store_without_a_summary_has_no_known_size() -> None:
    assert known_quads(load_test_store(), BASE) is None


@pytest.mark.usefixtures("small_limit")
def test_the_current_summary_gives_the_size_of_any_store(summarized: EmbeddedStore) -> None:
    assert known_quads(summarized, BASE) == summarized.count() > 23


def test_a_stale_summary_is_not_trusted(
    summarized: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = Summary(summarized, BASE)
    summary.mark_stale()
    assert summary.quads() is None
    assert known_quads(summarized, BASE) == summarized.count()  # small: counted
    monkeypatch.setattr(store_size, "COUNT_LIMIT", 5)
    assert known_quads(summarized, BASE) is None


def client_of(store: EmbeddedStore) -> TestClient:
    return TestClient(create_app(load_settings(store="memory"), store))


@pytest.fixture
def large_client(small_limit: None) -> Iterator[TestClient]:
    with client_of(load_test_store()) as client:
        yield client


def test_health_of_a_store_of_unknown_size_is_ok_without_a_count(
    large_client: TestClient,
) -> None:
    response = large_client.get("/health")
    assert response.status_code == 200
    assert response.json()["store"] == {"kind": "memory", "ok": True, "quads": None}


def test_the_service_description_leaves_out_a_size_it_does_not_know(
    large_client: TestClient,
) -> None:
    body = large_client.get("/sparql", headers={"Accept": "application/n-triples"}).content
    triples = list(parse(body, format=RdfFormat.N_TRIPLES))
    assert not [t for t in triples if t.predicate.value == VOID_TRIPLES]
    comments = {t.object.value for t in triples if t.predicate.value == RDFS_COMMENT}
    assert "3 named graphs" in comments


@pytest.mark.usefixtures("small_limit")
def test_health_and_the_service_description_give_the_summary_count(
    summarized: EmbeddedStore,
) -> None:
    with client_of(summarized) as client:
        assert client.get("/health").json()["store"]["quads"] == summarized.count()
        body = client.get("/sparql", headers={"Accept": "application/n-triples"}).content
    sizes = [
        t.object.value
        for t in parse(body, format=RdfFormat.N_TRIPLES)
        if t.predicate.value == VOID_TRIPLES
    ]
    assert sizes == [str(summarized.count())]
