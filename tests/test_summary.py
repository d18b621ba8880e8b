"""The summary graph: always equal to recounting the facts, updated in the same transaction.

Every test compares the summary graph with :func:`recount`, which computes the expected counts
with plain SPARQL over every graph but the summary's, after loads, reloads with changed content,
retracts, events reported by several documents, raw writes through the API, a crash between a
raw write and its rebuild, and random sequences of loads and retracts (hypothesis). The summary
versions of the benchmark queries must answer exactly like the raw ones.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, QuerySolutions, Triple

from bench.generate import generate
from diplograph.api.app import create_app
from diplograph.loader.config import Settings, load_settings
from diplograph.loader.facts import SourceRecord, parse_document
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP, PROV
from diplograph.loader.pipeline import Loader, retract
from diplograph.loader.store import GraphChange, Store
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import Summary, guard_raw_writes
from diplograph.loader.summary import top as top_module
from diplograph.loader.summary.graph import FORMAT
from diplograph.loader.summary.keys import (
    TOUCHING,
    EventFacts,
    event_keys,
    source_count,
    source_node,
)
from tests.conftest import ROOT
from tests.support.virtuoso import Virtuoso

QUERIES = ROOT / "bench" / "queries"
#: The quad count the summary graph ``graph`` stores.
QUAD_COUNT = "SELECT ?n WHERE {{ GRAPH <{graph}> {{ <{graph}> <" + DIP + "quadCount> ?n }} }}"
TOKEN = "summary-test-token"

#: What the summary holds, as plain values: {("pair", a, b) | ("month", m, t) | ("quads",) |
#: ("sources", e): n}, ("top", a, b): 1 for each pair listed as a top interaction, and
#: ("pair rank", a, b) | ("sources rank", e): the rank of a ranked pair or source count;
#: ("type rank", t): the rank of an event type the month counts name.
Counts = dict[tuple[str, ...], int]

# Small generated documents, shared by the tests (generation is deterministic).
DOCS: list[dict[str, Any]] = list(generate(40, seed=5))
#: Which of DOCS other documents report again, and how many times: the generator's re-reports
#: are too rare in 40 documents, so these give events of 5, 4, 3 and 2 sources.
AGAIN = {0: 4, 1: 3, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1}


def record(doc: dict[str, Any], doc_id: str | None = None) -> SourceRecord:
    """``doc`` as a parsed record, under ``doc_id`` when given (same facts, another document)."""
    data = copy.deepcopy(doc)
    if doc_id is not None:
        data["document"]["id"] = doc_id
    return parse_document(data)


def re_reports() -> list[SourceRecord]:
    """Other documents telling the stories of :data:`AGAIN` (same content, other ids)."""
    return [record(DOCS[i], f"again-{i}-{k}") for i, times in AGAIN.items() for k in range(times)]


def rows(store: Store, sparql: str) -> list[tuple[str, ...]]:
    result = store.query(sparql)
    assert isinstance(result, QuerySolutions)
    return [tuple("" if term is None else str(term) for term in row) for row in result]


def recount(store: Store, summary_graph: str) -> Counts:
    """The expected summary, counted from scratch over every graph but the summary's."""
    keep = f"FILTER (?g1 != <{summary_graph}> && ?g2 != <{summary_graph}>)"
    expected: Counts = {}
    result = store.query(
        f"PREFIX dip: <{DIP}> SELECT ?a ?b (COUNT(DISTINCT ?e) AS ?n) WHERE {{ "
        f"GRAPH ?g1 {{ ?e a dip:Event }} GRAPH ?g2 {{ ?e dip:hasParticipant ?a }} "
        f"GRAPH ?g3 {{ ?e dip:hasParticipant ?b }} FILTER (STR(?a) < STR(?b)) {keep} }} "
        "GROUP BY ?a ?b"
    )
    assert isinstance(result, QuerySolutions)
    for row in result:
        expected["pair", _value(row["a"]), _value(row["b"])] = _int(row["n"])
    pairs = sorted((n for k, n in expected.items() if k[0] == "pair"), reverse=True)
    if pairs:
        least = pairs[min(len(pairs), top_module.TOP_INTERACTIONS) - 1]
        for (kind, *actors), n in list(expected.items()):
            if kind == "pair" and n >= least:
                expected["top", *actors] = 1
    ranks(expected, "pair", top_module.TOP_INTERACTIONS)
    result = store.query(
        f"PREFIX dip: <{DIP}> SELECT ?m ?t (COUNT(DISTINCT ?e) AS ?n) WHERE {{ "
        f"GRAPH ?g1 {{ ?e a dip:Event }} GRAPH ?g2 {{ ?e a ?t }} "
        f"GRAPH ?g3 {{ ?e dip:startDate ?d }} BIND (SUBSTR(STR(?d), 1, 7) AS ?m) {keep} }} "
        "GROUP BY ?m ?t"
    )
    assert isinstance(result, QuerySolutions)
    for row in result:
        expected["month", _value(row["m"]), _value(row["t"])] = _int(row["n"])
    # The types the month counts name, numbered in the order of their text.
    named = sorted({key[2] for key in expected if key[0] == "month"})
    for rank, kind in enumerate(named, start=1):
        expected["type rank", kind] = rank
    result = store.query(
        f"PREFIX dip: <{DIP}> SELECT ?e (COUNT(DISTINCT ?d) AS ?n) WHERE {{ "
        f"GRAPH ?g1 {{ ?e a dip:Event }} GRAPH ?g2 {{ ?e <{PROV}wasDerivedFrom> ?d }} "
        f"FILTER (?g1 != <{summary_graph}>) }} GROUP BY ?e HAVING (COUNT(DISTINCT ?d) > 1)"
    )
    assert isinstance(result, QuerySolutions)
    for row in result:
        expected["sources", _value(row["e"])] = _int(row["n"])
    ranks(expected, "sources", top_module.TOP_CORROBORATIONS)
    others = rows(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER (?g != <{summary_graph}>) }}",
    )
    # The summary graph's own size is part of what q08 counts.
    expected["quads",] = int(others[0][0].split('"')[1]) + len(store.graph_triples(summary_graph))
    return expected


def ranks(counts: Counts, kind: str, n: int) -> None:
    """Rank the counts of ``kind`` at or above the ``n``-th highest in their question's order:
    count (highest first), then the key's text (q04's actors, q10's event)."""
    keys = sorted((key for key in counts if key[0] == kind), key=lambda k: (-counts[k], k[1:]))
    if not keys:
        return
    least = counts[keys[min(len(keys), n) - 1]]
    for rank, key in enumerate((k for k in keys if counts[k] >= least), start=1):
        counts[f"{kind} rank", *key[1:]] = rank


def stored(store: Store, summary_graph: str) -> Counts:
    """What the summary graph holds, checked for shape: one count per node, nothing else."""
    triples = store.graph_triples(summary_graph)
    nodes: dict[str, dict[str, list[Any]]] = {}
    for t in triples:
        assert isinstance(t.subject, NamedNode), t
        nodes.setdefault(t.subject.value, {}).setdefault(t.predicate.value, []).append(t.object)
    counts: Counts = {}
    top = [n.value for n in nodes.get(summary_graph, {}).pop(f"{DIP}topInteraction", [])]
    for iri, props in nodes.items():
        assert all(len(values) == 1 for values in props.values()), (iri, props)
        kind = props[f"{RDF_TYPE}"][0].value
        if iri == summary_graph:
            assert kind == f"{DIP}Summary"
            assert set(props) == {
                RDF_TYPE,
                f"{DIP}quadCount",
                f"{DIP}summaryFormat",
                f"{DIP}topInteractionRank",
                f"{DIP}topCorroborationRank",
            }, "no stale mark when current"
            assert _int(props[f"{DIP}summaryFormat"][0]) == FORMAT
            assert _int(props[f"{DIP}topInteractionRank"][0]) == top_module.TOP_INTERACTIONS
            assert _int(props[f"{DIP}topCorroborationRank"][0]) == top_module.TOP_CORROBORATIONS
            counts["quads",] = _int(props[f"{DIP}quadCount"][0])
        elif kind == f"{DIP}InteractionCount":
            actors = (props[f"{DIP}firstActor"][0].value, props[f"{DIP}secondActor"][0].value)
            counts["pair", *actors] = _int(props[f"{DIP}eventCount"][0])
            if f"{DIP}interactionRank" in props:
                counts["pair rank", *actors] = _int(props[f"{DIP}interactionRank"][0])
        elif kind == f"{DIP}CorroborationCount":
            assert set(props) - {f"{DIP}corroborationRank"} == {
                RDF_TYPE,
                f"{DIP}countedEvent",
                f"{DIP}documentCount",
            }, (iri, props)
            event = props[f"{DIP}countedEvent"][0].value
            counts["sources", event] = _int(props[f"{DIP}documentCount"][0])
            if f"{DIP}corroborationRank" in props:
                counts["sources rank", event] = _int(props[f"{DIP}corroborationRank"][0])
        elif kind == f"{DIP}EventTypeRank":
            assert set(props) == {RDF_TYPE, f"{DIP}rankedType", f"{DIP}typeRank"}, (iri, props)
            counts["type rank", props[f"{DIP}rankedType"][0].value] = _int(
                props[f"{DIP}typeRank"][0]
            )
        else:
            assert kind == f"{DIP}EventCountByMonth", (iri, kind)
            key = ("month", props[f"{DIP}month"][0].value, props[f"{DIP}eventType"][0].value)
            counts[key] = _int(props[f"{DIP}eventCount"][0])
    for iri in top:
        props = nodes[iri]
        assert props[f"{RDF_TYPE}"][0].value == f"{DIP}InteractionCount", iri
        counts["top", props[f"{DIP}firstActor"][0].value, props[f"{DIP}secondActor"][0].value] = 1
    return counts


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def _value(term: object) -> str:
    assert isinstance(term, NamedNode | Literal), term
    return term.value


def _int(term: object) -> int:
    assert isinstance(term, Literal), term
    return int(term.value)


def assert_exact(store: Store, settings: Settings) -> Counts:
    """The summary is current and equals the recount; the counts, for further checks."""
    graph = IriMinter(settings.base_iri).summary_graph()
    summary = Summary(store, settings.base_iri)
    assert summary.state() == "current"
    actual = stored(store, graph)
    assert actual == recount(store, graph)
    assert not [g for g in store.graph_names() if g.startswith("urn:x-diplograph:")]
    return actual


def kept_alike(
    stores: list[EmbeddedStore],
    changes: list[GraphChange],
    operations: tuple[list[str], list[str]],
    settings: Settings,
) -> list[Counts]:
    """Commit ``changes`` to two copies of one store: to the first with ``operations`` (an
    upkeep computed before the transaction), to the second with the in-transaction upkeep.
    Both leave the same summary graph, and it is the recount; their counts."""
    stores[0].commit(changes, before=operations[0], after=operations[1])
    before, after = Summary(stores[1], settings.base_iri).incremental(changes)
    stores[1].commit(changes, before=before, after=after)
    graph = IriMinter(settings.base_iri).summary_graph()
    assert stores[0].graph_triples(graph) == stores[1].graph_triples(graph)
    return [assert_exact(each, settings) for each in stores]


@pytest.fixture
def store() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(None)
    yield store
    store.close()


@pytest.fixture(autouse=True)
def short_top_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """List the top 4 interactions and rank the top 3 source counts, so that the small test
    stores have pairs and source counts below them."""
    monkeypatch.setattr(top_module, "TOP_INTERACTIONS", 4)
    monkeypatch.setattr(top_module, "TOP_CORROBORATIONS", 3)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(store="memory", store_path=tmp_path / "store", batch_size=7)


# -- loads, reloads, retracts ----------------------------------------------------------------


def test_a_load_writes_a_summary_equal_to_recounting(store: Store, settings: Settings) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:20]])
    counts = assert_exact(store, settings)
    assert any(k[0] == "pair" for k in counts) and any(k[0] == "month" for k in counts)


def test_the_top_list_holds_every_pair_at_or_above_the_nth_highest_count(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS])
    counts = assert_exact(store, settings)  # the recount's top list is the expected one
    top = {k[1:] for k in counts if k[0] == "top"}
    below = [n for k, n in counts.items() if k[0] == "pair" and k[1:] not in top]
    assert len(top) >= 4 and below, "some pairs must fall below the list for this test"
    assert max(below) < min(counts["pair", *pair] for pair in top)


def test_a_summary_without_its_top_list_is_rebuilt_by_the_next_commit(
    store: Store, settings: Settings
) -> None:
    """A summary written before the top list existed cannot be kept exact incrementally."""
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:10]])
    store.update(
        f"PREFIX dip: <{DIP}> DELETE WHERE {{ GRAPH ?g {{ ?s dip:topInteractionRank ?n }} }}"
    )
    summary = Summary(store, settings.base_iri)
    assert summary.state() == "stale" and summary.needs_rebuild()
    loader.load([record(DOCS[10])])
    assert_exact(store, settings)


def test_a_summary_listing_another_number_of_top_pairs_is_rebuilt_by_the_next_commit(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:10]])
    monkeypatch.setattr(top_module, "TOP_INTERACTIONS", 7)
    assert Summary(store, settings.base_iri).state() == "stale"
    loader.load([record(DOCS[10])])
    assert_exact(store, settings)


def test_a_summary_of_an_older_format_is_rebuilt_by_the_next_commit(
    store: Store, settings: Settings
) -> None:
    """A summary written before the type ranks has neither them nor a format number: kept as
    it is, the ranked form of q05 would leave out the months of the types it lacks."""
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:10]])
    store.update(
        f"PREFIX dip: <{DIP}> DELETE WHERE {{ GRAPH ?g {{ ?s dip:summaryFormat ?n }} }} ; "
        f"DELETE WHERE {{ GRAPH ?g {{ ?r a dip:EventTypeRank ; ?p ?o }} }}"
    )
    summary = Summary(store, settings.base_iri)
    assert summary.state() == "stale" and summary.needs_rebuild()
    loader.load([record(DOCS[10])])
    assert_exact(store, settings)


def test_a_type_that_no_month_count_names_any_more_loses_its_rank(
    store: Store, settings: Settings
) -> None:
    """Retracting the only documents of a type takes its rank away and numbers the rest
    anew (the precomputed upkeep); loading them again brings it back (the additive one)."""
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS])
    counts = assert_exact(store, settings)
    minter = IriMinter(settings.base_iri)
    graphs = {minter.document(d["document"]["id"]): d for d in DOCS}
    by_type: dict[str, list[dict[str, Any]]] = {}
    for kind in (key[1] for key in counts if key[0] == "type rank"):
        stating = rows(store, f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?e a <{kind}> }} }}")
        by_type[kind] = [graphs[g[0].strip("<>")] for g in stating]
    rare = min(by_type, key=lambda kind: len(by_type[kind]))
    assert 0 < len(by_type[rare]) < len(DOCS) // 2
    for doc in by_type[rare]:
        retract(store, settings, doc["document"]["id"])
    assert ("type rank", rare) not in assert_exact(store, settings)
    loader.load([record(d) for d in by_type[rare]])
    assert assert_exact(store, settings) == counts


def test_new_documents_and_re_reports_keep_the_summary_exact_batch_by_batch(
    store: Store, settings: Settings
) -> None:
    """New graphs (the usual load, re-reports of earlier events among them: bench/generate.py)
    and then a replaced graph: after each commit, the summary equals a recount."""
    loader = Loader(store, settings.model_copy(update={"batch_size": 5}))
    for start in range(0, 40, 5):
        loader.load([record(d) for d in DOCS[start : start + 5]])
        assert_exact(store, settings)
    loader.load([record(DOCS[25], DOCS[3]["document"]["id"])])  # a replaced graph
    assert_exact(store, settings)


def test_the_additive_shortcut_and_the_general_upkeep_write_the_same_summary(
    settings: Settings,
) -> None:
    """The shortcut for new graphs is a performance detail: on two copies of one store, the
    same new documents kept by either way leave the same summary graph."""
    stores = [EmbeddedStore(None), EmbeddedStore(None)]
    minter = IriMinter(settings.base_iri)
    for each in stores:
        Loader(each, settings).load([record(d) for d in DOCS[:15]])
    changes = [
        GraphChange(minter.document(d["document"]["id"]), loader_triples(settings, d))
        for d in DOCS[15:25]
    ]
    operations = Summary(stores[0], settings.base_iri).additive(changes)
    assert operations is not None, "new graphs on the embedded store take the shortcut"
    kept_alike(stores, changes, operations, settings)


def test_a_new_graph_that_adds_to_a_stored_event_without_typing_it_keeps_the_summary_exact(
    settings: Settings,
) -> None:
    """The shortcut reads the stored facts of the nodes that are events in the store, not only
    of those the new triples type: a graph that gives a stored event one more participant and
    source, and nothing else, changes its pairs and its source count."""
    stores = [EmbeddedStore(None), EmbeddedStore(None)]
    for each in stores:
        Loader(each, settings).load([record(d) for d in DOCS[:15]])
    result = stores[0].query(
        f"SELECT ?e WHERE {{ ?e a <{DIP}Event> ; <{DIP}hasParticipant> ?p }} ORDER BY ?e LIMIT 1"
    )
    assert isinstance(result, QuerySolutions)
    event = next(iter(result))["e"]
    graph = NamedNode(IriMinter(settings.base_iri).document("an-addition"))
    triples = [
        Triple(event, NamedNode(DIP + "hasParticipant"), NamedNode("http://example.org/newcomer")),
        Triple(event, NamedNode(PROV + "wasDerivedFrom"), graph),
    ]
    changes = [GraphChange(graph.value, triples)]
    operations = Summary(stores[0], settings.base_iri).additive(changes)
    assert operations is not None
    kept_alike(stores, changes, operations, settings)


def loader_triples(settings: Settings, doc: dict[str, Any]) -> list[Triple]:
    """The triples the loader would write for ``doc``."""
    from diplograph.loader.mapping import map_document
    from diplograph.loader.ontology import superclass_closure

    parsed = record(doc).document
    assert parsed is not None
    return list(map_document(parsed, IriMinter(settings.base_iri), superclass_closure()).triples)


def test_the_python_keys_are_the_keys_the_sparql_rebuild_counts(
    store: Store, settings: Settings
) -> None:
    """keys.event_keys and keys.source_count (the shortcut's) and their SPARQL twins (the
    rebuild's) agree: the nodes the rebuild writes are exactly the keys of the events in the
    store and the source counts of those more than one document reports."""
    Loader(store, settings).load([record(d) for d in DOCS] + re_reports())
    facts: dict[str, EventFacts] = {}
    predicates = ", ".join(f"<{p}>" for p in TOUCHING)
    result = store.query(f"SELECT ?e ?p ?o WHERE {{ ?e ?p ?o FILTER (?p IN ({predicates})) }}")
    assert isinstance(result, QuerySolutions)
    for row in result:
        event, predicate, value = row["e"], row["p"], row["o"]
        if isinstance(event, NamedNode) and isinstance(predicate, NamedNode):
            facts.setdefault(event.value, EventFacts()).add(Triple(event, predicate, value))
    minter = IriMinter(settings.base_iri)
    expected: set[str] = set()
    for event, event_facts in facts.items():
        keys = event_keys(event_facts, minter)
        expected.update(keys)
        expected.update(
            minter.event_type_rank(key.event_type.value)
            for key in keys.values()
            if key.event_type is not None
        )
        if source_count(event_facts) > 1:
            expected.add(source_node(minter, event))
    graph = minter.summary_graph()
    nodes = {t.subject.value for t in store.graph_triples(graph)} - {graph}
    assert any("/corroboration/" in node for node in expected)
    assert any("/type/" in node for node in expected)
    assert nodes == expected


def test_reloading_changed_content_keeps_the_summary_exact(
    store: Store, settings: Settings
) -> None:
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:10]])
    before = assert_exact(store, settings)
    # Documents 0-4 now say what documents 20-24 said: their old events go, others come.
    report = loader.load([record(DOCS[20 + i], DOCS[i]["document"]["id"]) for i in range(5)])
    assert report.documents_loaded == 5
    assert assert_exact(store, settings) != before


def test_retracting_documents_keeps_the_summary_exact(store: Store, settings: Settings) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:8]])
    for doc in DOCS[:8]:
        retract(store, settings, doc["document"]["id"])
        counts = assert_exact(store, settings)
    assert [k for k in counts if k[0] != "quads"] == []  # no document, no counts


def test_an_event_reported_by_two_documents_counts_once(store: Store, settings: Settings) -> None:
    loader = Loader(store, settings)
    loader.load([record(DOCS[0])])
    alone = assert_exact(store, settings)
    loader.load([record(DOCS[0], "another-report-of-the-same-story")])
    both = assert_exact(store, settings)

    def event_counts(counts: Counts) -> Counts:
        return {k: n for k, n in counts.items() if k[0] != "quads" and "sources" not in k[0]}

    assert event_counts(both) == event_counts(alone)
    # Only the events' source counts tell the second report.
    assert not [k for k in alone if "sources" in k[0]]
    assert {n for k, n in both.items() if k[0] == "sources"} == {2}
    retract(store, settings, DOCS[0]["document"]["id"])
    assert {k: n for k, n in assert_exact(store, settings).items() if k[0] != "quads"} == {
        k: n for k, n in alone.items() if k[0] != "quads"
    }


def test_summary_nodes_have_the_same_iri_whatever_the_order_of_loading(settings: Settings) -> None:
    first, second = EmbeddedStore(None), EmbeddedStore(None)
    Loader(first, settings).load([record(d) for d in DOCS[:6]])
    Loader(second, settings).load([record(d) for d in reversed(DOCS[:6])])
    graph = IriMinter(settings.base_iri).summary_graph()
    assert first.graph_triples(graph) == second.graph_triples(graph)


# -- atomicity and staleness -----------------------------------------------------------------


def test_a_failing_commit_leaves_documents_and_summary_unchanged(
    store: Store, settings: Settings
) -> None:
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:5]])
    graph = IriMinter(settings.base_iri).summary_graph()
    quads_before = set(store.quads())
    summary = Summary(store, settings.base_iri)
    before, after = summary.incremental([GraphChange(f"{settings.base_iri}id/doc/new", [])])
    new_doc = loader.minter.document(DOCS[5]["document"]["id"])

    # The last operation fails (the summary graph exists): by then the document was written and
    # the summary updated, so only one transaction can leave both as they were.
    with pytest.raises(Exception, match="graph"):
        store.commit(
            [GraphChange(new_doc, [_triple(new_doc)])],
            before=before,
            after=[*after, f"CREATE GRAPH <{graph}>"],
        )
    assert set(store.quads()) == quads_before
    assert_exact(store, settings)


def _triple(subject: str) -> Triple:
    return Triple(NamedNode(subject), NamedNode(RDF_TYPE), NamedNode(f"{DIP}NewsArticle"))


def test_a_crash_after_a_raw_write_leaves_the_summary_marked_and_the_next_load_rebuilds_it(
    store: Store, settings: Settings
) -> None:
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:5]])
    summary = Summary(store, settings.base_iri)
    # What guard_raw_writes does before a raw write, then the write, then no rebuild (a crash).
    summary.mark_stale()
    event = f"{settings.base_iri}id/event/raw"
    store.update(
        f"PREFIX dip: <{DIP}> INSERT DATA {{ GRAPH <http://example.org/raw> {{ <{event}> a "
        f"dip:Event ; dip:hasParticipant <http://example.org/a>, <http://example.org/b> }} }}"
    )
    assert summary.state() == "stale"
    loader.load([record(DOCS[5])])
    counts = assert_exact(store, settings)
    assert counts["pair", "http://example.org/a", "http://example.org/b"] == 1


def test_the_stale_mark_is_counted_once_however_often_it_is_set(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:3]])
    summary = Summary(store, settings.base_iri)
    graph = IriMinter(settings.base_iri).summary_graph()
    for _ in range(2):
        summary.mark_stale()
        counted = rows(store, QUAD_COUNT.format(graph=graph))
        assert int(counted[0][0].split('"')[1]) == recount(store, graph)["quads",]
    loader = Loader(store, settings)
    loader.load([record(DOCS[3])])
    assert_exact(store, settings)


def test_the_summary_queries_give_no_answer_while_the_summary_is_stale(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:3]])
    query = (QUERIES / "q08_count_all_summary.rq").read_text()
    assert len(rows(store, query)) == 1
    Summary(store, settings.base_iri).mark_stale()
    assert rows(store, query) == []


# -- raw writes through the API --------------------------------------------------------------


@pytest.fixture
def client(store: EmbeddedStore, tmp_path: Path) -> Iterator[TestClient]:
    app_settings = load_settings(store="memory", store_path=tmp_path / "s", write_token=TOKEN)
    Loader(store, app_settings).load([record(d) for d in DOCS[:6]])
    with TestClient(create_app(app_settings, store)) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}
RAW_EVENT = (
    "PREFIX dip: <https://w3id.org/diplograph/ns#> INSERT DATA { GRAPH <http://example.org/g> { "
    "<http://example.org/e> a dip:Event, dip:Meeting ; dip:startDate "
    '"2020-02-02"^^<http://www.w3.org/2001/XMLSchema#date> ; '
    "dip:hasParticipant <http://example.org/a>, <http://example.org/b> } }"
)


def test_a_sparql_update_through_the_api_is_followed_by_an_exact_summary(
    client: TestClient, store: Store, settings: Settings
) -> None:
    response = client.post("/sparql", data={"update": RAW_EVENT}, headers=AUTH)
    assert response.status_code == 204, response.text
    counts = assert_exact(store, settings)
    assert counts["pair", "http://example.org/a", "http://example.org/b"] == 1
    assert counts["month", "2020-02", f"{DIP}Meeting"] >= 1


def test_graph_store_writes_through_the_api_are_followed_by_an_exact_summary(
    client: TestClient, store: Store, settings: Settings
) -> None:
    doc_graph = IriMinter(settings.base_iri).document(DOCS[0]["document"]["id"])
    assert client.delete("/store", params={"graph": doc_graph}, headers=AUTH).status_code == 204
    assert_exact(store, settings)
    body = (
        b"<http://example.org/e> a <https://w3id.org/diplograph/ns#Event> ; "
        b"<https://w3id.org/diplograph/ns#hasParticipant> <http://example.org/a>, "
        b"<http://example.org/c> ."
    )
    response = client.put(
        "/store",
        params={"graph": "http://example.org/g"},
        content=body,
        headers={"Content-Type": "text/turtle", **AUTH},
    )
    assert response.status_code == 201, response.text
    assert assert_exact(store, settings)["pair", "http://example.org/a", "http://example.org/c"]


def test_a_failed_raw_update_leaves_an_exact_summary(
    client: TestClient, store: Store, settings: Settings
) -> None:
    failing = "CREATE GRAPH <http://example.org/x> ; CREATE GRAPH <http://example.org/x>"
    assert client.post("/sparql", data={"update": failing}, headers=AUTH).status_code >= 400
    assert_exact(store, settings)


def test_a_load_through_the_api_updates_the_summary_without_a_rebuild(
    client: TestClient, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    rebuilds: list[str] = []
    real = Summary.rebuild_operations

    def counted(self: Summary) -> list[str]:
        rebuilds.append(self.graph)
        return real(self)

    monkeypatch.setattr(Summary, "rebuild_operations", counted)
    response = client.post("/facts", json=DOCS[10], headers=AUTH)
    assert response.status_code == 200, response.text
    assert rebuilds == []
    assert_exact(store, settings)


def test_a_raw_write_mixed_into_a_guarded_write_is_caught_by_the_rebuild(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:3]])
    with guard_raw_writes(store, settings.base_iri):
        store.update(RAW_EVENT)
    assert_exact(store, settings)


# -- the benchmark queries -------------------------------------------------------------------


#: The other forms of a question (bench/analyst.py): the summary's, and subqueries joined by hash.
FORMS = {
    "q03_diplomat_events_range_scans": "q03_diplomat_events_range",
    "q04_who_talks_to_whom_summary": "q04_who_talks_to_whom",
    "q05_events_per_month_type_summary": "q05_events_per_month_type",
    "q05_events_per_month_type_summary_scans": "q05_events_per_month_type",
    "q05_events_per_month_type_summary_ranked": "q05_events_per_month_type",
    "q08_count_all_summary": "q08_count_all",
    "q10_corroborated_events_summary": "q10_corroborated_events",
}


def test_every_other_form_of_a_question_is_checked() -> None:
    names = {p.stem for p in QUERIES.glob("*.rq")}
    questions = {name.split("_", 1)[0] for name in names}
    full = {min((n for n in names if n.startswith(f"{q}_")), key=len) for q in questions}
    assert set(FORMS) == names - full and set(FORMS.values()) <= full


@pytest.mark.parametrize("form", sorted(FORMS))
def test_other_forms_answer_like_the_full_queries(
    store: Store, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The q04 and q10 summary queries read the ranks: the shipped numbers, not the tests'.
    monkeypatch.setattr(top_module, "TOP_INTERACTIONS", 100)
    monkeypatch.setattr(top_module, "TOP_CORROBORATIONS", 100)
    settings = load_settings(store="memory")  # the queries name the default base IRI's graph
    Loader(store, settings).load([record(d) for d in DOCS] + re_reports())
    raw = rows(store, (QUERIES / f"{FORMS[form]}.rq").read_text())
    assert raw and rows(store, (QUERIES / f"{form}.rq").read_text()) == raw


# -- random sequences ------------------------------------------------------------------------

IDS = ["doc-a", "doc-b", "doc-c", "doc-d"]
operation = st.one_of(
    st.tuples(
        st.just("load"),
        st.lists(st.tuples(st.sampled_from(IDS), st.integers(0, 11)), min_size=1, max_size=3),
    ),
    st.tuples(st.just("retract"), st.sampled_from(IDS)),
)


@pytest.mark.slow
@hypothesis_settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, min_size=1, max_size=6))
def test_any_sequence_of_loads_replacements_and_retracts_keeps_the_summary_exact(
    settings: Settings, operations: list[tuple[str, Any]]
) -> None:
    store = EmbeddedStore(None)
    loader = Loader(store, settings)
    loaded: set[str] = set()
    for kind, argument in operations:
        if kind == "load":
            # The same content under two ids reports the same events twice.
            loader.load([record(DOCS[content], doc_id) for doc_id, content in argument])
            loaded.update(doc_id for doc_id, _ in argument)
        elif argument in loaded:
            retract(store, settings, argument)
            loaded.discard(argument)
        if store.graph_names():  # a store nothing was ever written to has no summary yet
            assert_exact(store, settings)


# -- a remote store ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.external
def test_on_virtuoso_loads_reloads_and_retracts_keep_the_summary_exact(
    virtuoso: Virtuoso,
) -> None:
    settings = virtuoso.settings(base_iri=f"http://example.org/{uuid.uuid4().hex}/")
    store = virtuoso.store()
    # Virtuoso 7.2 cannot store xsd:duration (docs/stores.md).
    docs = [d for d in DOCS if "duration" not in str(d)][:8]
    try:
        loader = Loader(store, settings)
        loader.load([record(d) for d in docs[:5]])
        assert_exact(store, settings)
        loader.load([record(docs[5 + i], docs[i]["document"]["id"]) for i in range(2)])
        assert_exact(store, settings)
        retract(store, settings, docs[2]["document"]["id"])
        assert_exact(store, settings)
        # Re-reports: corroboration counts of 3 and 2, ranked, then one report fewer.
        loader.load(
            [record(docs[3], f"again-3-{k}") for k in range(2)] + [record(docs[4], "again-4")]
        )
        counts = assert_exact(store, settings)
        assert {n for k, n in counts.items() if k[0] == "sources"} == {2, 3}
        retract(store, settings, "again-3-0")
        assert {n for k, n in assert_exact(store, settings).items() if k[0] == "sources"} == {2}
    finally:
        graphs = [g for g in store.graph_names() if g.startswith(settings.base_iri)]
        store.commit([GraphChange(g, None) for g in graphs])
        store.close()


def test_on_a_remote_store_a_run_past_the_bulk_threshold_rebuilds_once_whatever_the_store_holds(
    virtuoso: Virtuoso, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Others may write to a remote store, so its commits recount inside the transaction,
    which is slow on a large store: a run of BULK_MIN_DOCUMENTS switches to one rebuild even
    when it is small against what the store holds."""
    monkeypatch.setattr("diplograph.loader.bulk.BULK_MIN_DOCUMENTS", 4)
    settings = virtuoso.settings(base_iri=f"http://example.org/{uuid.uuid4().hex}/", batch_size=2)
    store = virtuoso.store()
    docs = [d for d in DOCS if "duration" not in str(d)][:16]
    try:
        Loader(store, settings).load([record(d) for d in docs[:10]])
        loader = Loader(store, settings)
        loader.load([record(d) for d in docs[10:16]])  # 6 against 10 held
        # Two batches of 2 kept it exact, then bulk mode.
        assert loader.bulk.switched_after == 4
        assert_exact(store, settings)
    finally:
        graphs = [g for g in store.graph_names() if g.startswith(settings.base_iri)]
        store.commit([GraphChange(g, None) for g in graphs])
        store.close()


def test_replacing_the_whole_dataset_leaves_no_summary_until_the_next_load(
    client: TestClient, store: Store, settings: Settings
) -> None:
    nquads = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> <http://example.org/g> .\n"  # noqa: E501
    response = client.put(
        "/store", content=nquads, headers={"Content-Type": "application/n-quads", **AUTH}
    )
    assert response.status_code == 204, response.text
    assert {q.graph_name for q in store.quads()} == {NamedNode("http://example.org/g")}
    assert Summary(store, settings.base_iri).state() == "missing"
    Loader(store, settings).load([record(DOCS[0])])
    assert_exact(store, settings)
