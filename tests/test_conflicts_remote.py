"""Conflicts found through a remote store (Virtuoso) are the ones the embedded store finds.

Virtuoso's default graph is every graph's quads, not their set union: a triple that k documents
state matches a plain triple pattern k times, and a query joining five such patterns read k^5
rows (a remote load of 100 generated documents waited 23 s on the holdings query, one of 1,000
documents hit Virtuoso's row cap on the names query). The checks read each pattern once
through ``Store.data_pattern``; here the same documents, with one report restated by three more
documents, give the same findings on both stores.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pyoxigraph import Literal, NamedNode, Triple

from diplograph.loader.config import load_settings
from diplograph.loader.conflicts import CANDIDATE, HOLDERS, VALUES, Conflict, find_conflicts
from diplograph.loader.conflicts.reads import select
from diplograph.loader.conflicts.values import conflicting_values
from diplograph.loader.facts import SourceRecord, parse_document, read_path
from diplograph.loader.pipeline import Loader
from diplograph.loader.store.base import GraphChange, Store
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA, STORY_FILE
from tests.support.virtuoso import Virtuoso
from tests.test_conflicts import meeting_report, with_a_third_participant

DIP = "https://w3id.org/diplograph/ns#"
IDENTIFIER = NamedNode("http://purl.org/dc/terms/identifier")

CONFLICTS = DATA / "conflicts"


def documents() -> Iterator[SourceRecord]:
    """The story, the conflict examples, and the misread secretary restated three times."""
    for path in (STORY_FILE, *sorted(CONFLICTS.glob("*.json"))):
        yield from read_path(path)
    for k in range(3):
        yield restated(k)


def restated(k: int) -> SourceRecord:
    """The misread secretary in the ``k``-th more document."""
    misread = json.loads((CONFLICTS / "secretary-misread.json").read_text(encoding="utf-8"))
    misread["document"]["id"] += f"-again-{k}"
    return parse_document(misread, source="restated", line=k + 1)


@contextmanager
def on_virtuoso(virtuoso: Virtuoso, base: str) -> Iterator[Store]:
    """A store of the shared Virtuoso, whose graphs under ``base`` go when the test ends."""
    remote = virtuoso.store()
    try:
        yield remote
    finally:
        remote.commit([GraphChange(g, None) for g in remote.graph_names() if g.startswith(base)])
        remote.close()


def ours(found: list[Conflict], base: str) -> list[Conflict]:
    """The findings about this test's nodes (the shared Virtuoso holds other tests' data)."""
    return sorted((c for c in found if c.node.startswith(base)), key=repr)


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.external
def test_on_virtuoso_the_conflicts_of_restated_reports_are_the_embedded_stores(
    virtuoso: Virtuoso,
) -> None:
    base = f"http://example.org/{uuid.uuid4().hex}/"
    embedded = EmbeddedStore(None)
    Loader(embedded, load_settings(store="memory", base_iri=base)).load(documents())
    expected = ours(find_conflicts(embedded), base)
    embedded.close()
    settings = virtuoso.settings(base_iri=base)
    with on_virtuoso(virtuoso, base) as remote:
        report = Loader(remote, settings).load(documents())
        assert report.documents_rejected == 0
        found = ours(find_conflicts(remote), base)
        assert {c.kind for c in expected} == {HOLDERS, VALUES, CANDIDATE}
        assert found == expected


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.external
def test_on_virtuoso_a_load_report_lists_its_documents_and_counts_the_others_as_embedded(
    virtuoso: Virtuoso,
) -> None:
    base = f"http://example.org/{uuid.uuid4().hex}/"
    embedded = EmbeddedStore(None)
    loader = Loader(embedded, load_settings(store="memory", base_iri=base))
    loader.load(documents())
    expected = ours(loader.load([restated(9)]).conflicts, base)
    embedded.close()
    with on_virtuoso(virtuoso, base) as remote:
        loader = Loader(remote, virtuoso.settings(base_iri=base))
        loader.load(documents())
        found = ours(loader.load([restated(9)]).conflicts, base)
    assert found == expected
    (holders,) = [c for c in found if c.kind == HOLDERS]
    assert [(len(v.sources), v.unlisted) for v in holders.values] == [(0, 1), (1, 4)]


def places(base: str) -> list[GraphChange]:
    """Two documents placing three events: one in a city and in the region the city lies in
    (compatible), one in the city and in the country the region lies in (compatible, two steps
    up), the other in the city and in another region (a conflict)."""
    names = ("city", "region", "country", "elsewhere")
    city, region, country, elsewhere = (NamedNode(base + name) for name in names)
    at, within = NamedNode(DIP + "atPlace"), NamedNode(DIP + "locatedIn")
    one, two, three = (NamedNode(base + f"event-{n}") for n in (1, 2, 3))
    graphs = []
    for name, first, second, third in (
        ("doc-a", city, city, city),
        ("doc-b", region, elsewhere, country),
    ):
        graph = NamedNode(base + name)
        triples = [
            Triple(graph, IDENTIFIER, Literal(name)),
            Triple(city, within, region),
            Triple(region, within, country),
            Triple(one, at, first),
            Triple(two, at, second),
            Triple(three, at, third),
        ]
        graphs.append(GraphChange(graph.value, triples))
    return graphs


def place_conflicts(store: Store, base: str) -> list[tuple[str, tuple[str, ...]]]:
    found = ours(conflicting_values(store), base)
    return [(c.node, tuple(v.value for v in c.values)) for c in found]


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.external
def test_on_virtuoso_a_place_and_the_places_it_lies_in_are_no_conflict(
    virtuoso: Virtuoso,
) -> None:
    """The places' ancestors are walked a step at a time: Virtuoso refuses ``dip:locatedIn+``
    from a start VALUES binds, and with a constant start its bag of a default graph gave over a
    million rows for two places at 10k documents."""
    base = f"http://example.org/{uuid.uuid4().hex}/"
    expected = [(base + "event-2", (base + "city", base + "elsewhere"))]
    with EmbeddedStore(None) as embedded:
        embedded.commit(places(base))
        assert place_conflicts(embedded, base) == expected
    with on_virtuoso(virtuoso, base) as remote:
        remote.commit(places(base))
        assert place_conflicts(remote, base) == expected


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.external
def test_on_virtuoso_the_same_events_asked_by_node_are_the_embedded_stores(
    virtuoso: Virtuoso,
) -> None:
    """The check of a load's event nodes counts the participants of the events it reads (a
    ``COUNT`` over each pattern read once): a meeting with a third person stays out."""
    base = f"http://example.org/{uuid.uuid4().hex}/"
    records = [
        parse_document(doc, source="same-events", line=n)
        for n, doc in enumerate(
            [
                meeting_report("fifteenth", {"start": "2023-11-15"}),
                meeting_report("vague", {"earliest": "2023-11-01", "latest": "2023-11-30"}),
                meeting_report("twentieth", {"start": "2023-11-20"}),
                with_a_third_participant(meeting_report("with-cy", {"start": "2023-11-15"})),
                with_a_third_participant(meeting_report("with-cy-vague", {"start": "2023-11"})),
            ],
            start=1,
        )
    ]
    embedded = EmbeddedStore(None)
    Loader(embedded, load_settings(store="memory", base_iri=base)).load(iter(records))
    nodes = sorted({v.value for c in find_conflicts(embedded) for v in c.values})
    expected = {node: find_conflicts(embedded, nodes=[node]) for node in nodes}
    embedded.close()
    assert [len(found) for found in expected.values()] == [1, 1, 1]
    with on_virtuoso(virtuoso, base) as remote:
        Loader(remote, virtuoso.settings(base_iri=base)).load(iter(records))
        assert {node: find_conflicts(remote, nodes=[node]) for node in nodes} == expected


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.external
def test_on_virtuoso_each_node_asked_alone_has_the_embedded_stores_findings(
    virtuoso: Virtuoso,
) -> None:
    """A node asked alone is a ``VALUES`` block of one term, which Virtuoso 7.2 compiles
    otherwise (it refused the holders check's posts query for any single node)."""
    base = f"http://example.org/{uuid.uuid4().hex}/"
    embedded = EmbeddedStore(None)
    Loader(embedded, load_settings(store="memory", base_iri=base)).load(documents())
    nodes = sorted(
        row["n"]
        for row in select(
            embedded,
            f'SELECT DISTINCT ?n WHERE {{ ?n ?p ?o FILTER(STRSTARTS(STR(?n), "{base}id/")) }}',
        )
    )
    expected = {node: find_conflicts(embedded, nodes=[node]) for node in nodes}
    embedded.close()
    assert len(nodes) > 100 and any(expected.values())
    with on_virtuoso(virtuoso, base) as remote:
        Loader(remote, virtuoso.settings(base_iri=base)).load(documents())
        assert {node: find_conflicts(remote, nodes=[node]) for node in nodes} == expected
