"""The summary's corroboration counts and ranks: exact after loads, reloads, retracts and
rebuilds, the same whichever upkeep wrote them.

A corroboration count is the number of distinct documents an event reported by more than one
is derived from (q10); the ranks number the highest corroboration counts and the top pairs in
their question's order (q10, q04). :func:`tests.test_summary.assert_exact` compares every count
and rank with a recount from scratch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import Triple

from diplograph.loader.config import Settings, load_settings
from diplograph.loader.iris import IriMinter
from diplograph.loader.mapping import map_document
from diplograph.loader.ontology import superclass_closure
from diplograph.loader.pipeline import Loader, retract
from diplograph.loader.store import GraphChange, Store
from diplograph.loader.store.embedded import EmbeddedStore
from diplograph.loader.summary import Summary
from diplograph.loader.summary import top as top_module
from diplograph.loader.summary.graph import SummaryGraph, expand, integer
from diplograph.loader.summary.ranks import (
    CORROBORATIONS,
    INTERACTIONS,
    Ranked,
    Ranking,
    rank_operations,
    ranked,
)
from tests.test_summary import (
    AGAIN,
    DOCS,
    Counts,
    assert_exact,
    kept_alike,
    re_reports,
    record,
)

# The fixtures: a store in memory, the settings, and the short top lists (autouse: the small
# test stores have pairs and counts below them).
from tests.test_summary import settings as settings
from tests.test_summary import short_top_list as short_top_list
from tests.test_summary import store as store


def sources(counts: Counts) -> dict[str, int]:
    """The corroboration counts: event IRI -> documents."""
    return {k[1]: n for k, n in counts.items() if k[0] == "sources"}


def ranks(counts: Counts, kind: str) -> list[int]:
    return sorted(n for k, n in counts.items() if k[0] == f"{kind} rank")


def events_of(store: Store, settings: Settings, index: int) -> set[str]:
    """The events the document DOCS[index] reports."""
    minter = IriMinter(settings.base_iri)
    graph = minter.document(DOCS[index]["document"]["id"])
    return {
        t.subject.value
        for t in store.graph_triples(graph)
        if t.predicate.value.endswith("#type") and t.object.value.endswith("#Event")
    }


def triples(doc: dict[str, Any], doc_id: str | None) -> list[Triple]:
    """The triples the loader would write for ``doc`` under ``doc_id``."""
    parsed = record(doc, doc_id).document
    assert parsed is not None
    minter = IriMinter(load_settings(store="memory").base_iri)
    return list(map_document(parsed, minter, superclass_closure()).triples)


def test_a_load_counts_the_documents_of_each_event_reported_more_than_once(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:10]] + re_reports())
    counts = sources(assert_exact(store, settings))
    for index, times in AGAIN.items():
        for event in events_of(store, settings, index):
            assert counts[event] == 1 + times
    assert set(counts.values()) == {2, 3, 4, 5}


def test_ranks_run_from_one_without_gaps_over_the_highest_counts_ties_included(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:10]] + re_reports())
    counts = assert_exact(store, settings)
    ranked = ranks(counts, "sources")
    assert ranked == list(range(1, len(ranked) + 1)) and len(ranked) >= 3
    below = [
        n for k, n in counts.items() if k[0] == "sources" and ("sources rank", k[1]) not in counts
    ]
    assert below, "some corroboration counts must fall below the ranked ones for this test"
    pairs = ranks(counts, "pair")
    assert pairs == list(range(1, len(pairs) + 1)) and len(pairs) >= 4


def test_reloading_a_report_with_other_content_lowers_its_events_counts(
    store: Store, settings: Settings
) -> None:
    loader = Loader(store, settings)
    loader.load([record(d) for d in DOCS[:10]] + re_reports())
    before = sources(assert_exact(store, settings))
    # One of the four re-reports of DOCS[0] now tells the story of DOCS[20].
    loader.load([record(DOCS[20], "again-0-0")])
    after = sources(assert_exact(store, settings))
    for event in events_of(store, settings, 0):
        assert after[event] == before[event] - 1 == 4


def test_retracting_reports_lowers_the_counts_and_drops_those_below_two(
    store: Store, settings: Settings
) -> None:
    Loader(store, settings).load([record(d) for d in DOCS[:10]] + re_reports())
    events = events_of(store, settings, 2)  # reported three times
    retract(store, settings, "again-2-0")
    assert {sources(assert_exact(store, settings))[e] for e in events} == {2}
    retract(store, settings, "again-2-1")
    assert not set(sources(assert_exact(store, settings))) & events


def test_a_rebuild_writes_the_summary_the_upkeep_kept(store: Store, settings: Settings) -> None:
    loader = Loader(store, settings.model_copy(update={"batch_size": 3}))
    loader.load([record(d) for d in DOCS[:10]] + re_reports())
    loader.load([record(DOCS[21], "again-1-0")])
    retract(store, settings, "again-3-0")
    graph = IriMinter(settings.base_iri).summary_graph()
    kept = store.graph_triples(graph)
    Summary(store, settings.base_iri).rebuild()
    assert store.graph_triples(graph) == kept
    assert sources(assert_exact(store, settings))


def test_the_shortcut_and_the_general_upkeep_rank_alike(settings: Settings) -> None:
    """New reports that push counts past the ranked ones: on two copies of one store, the
    additive shortcut (ranks in Python) and the general upkeep (ranks in SPARQL) leave the
    same summary graph."""
    stores = [EmbeddedStore(None), EmbeddedStore(None)]
    minter = IriMinter(settings.base_iri)
    for each in stores:
        Loader(each, settings).load([record(d) for d in DOCS[:12]] + re_reports())
    # DOCS[6] goes from 2 reports to 5, DOCS[7] from 1 to 3, and two new stories come.
    again = [(6, f"more-6-{k}") for k in range(3)] + [(7, f"more-7-{k}") for k in range(2)]
    docs = [(DOCS[i], doc_id) for i, doc_id in again] + [(d, None) for d in DOCS[12:14]]
    changes = [
        GraphChange(minter.document(doc_id or doc["document"]["id"]), triples(doc, doc_id))
        for doc, doc_id in docs
    ]
    operations = Summary(stores[0], settings.base_iri).additive(changes)
    assert operations is not None, "new graphs on the embedded store take the shortcut"
    counts, _ = kept_alike(stores, changes, operations, settings)
    for event in events_of(stores[0], settings, 6):
        assert sources(counts)[event] == 5 and counts["sources rank", event] >= 1


def test_the_sparql_ranks_order_ties_by_text_within_each_count(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hand-made counts with several tied counts, above and at the threshold, and pairs tied on
    their first actor: the ranks made in SPARQL (rebuild, general upkeep) are the ones
    :func:`ranks.ranked` numbers in Python, and counts below the threshold get none."""
    summary = SummaryGraph(store, "http://example.org/")
    dip = "https://w3id.org/diplograph/ns#"
    own = summary.term
    # Corroborations: the 5th-highest is 3, so the three 3s are ranked with the 5 and the 4s.
    monkeypatch.setattr(top_module, "TOP_CORROBORATIONS", 5)
    events = {"e/c": 5, "e/b": 4, "e/a": 4, "e/z": 3, "e/m": 3, "e/d": 3, "e/y": 2, "e/x": 2}
    # Interactions: the listed pairs; (a, c) and (a, b) tie on the first actor.
    pairs = {("a", "c"): 7, ("a", "b"): 7, ("b", "c"): 7, ("c", "d"): 9, ("b", "d"): 2}
    data = []
    for i, (event, n) in enumerate(events.items()):
        node = f"<http://example.org/s/corroboration/{i}>"
        data.append(
            f"{node} <{dip}countedEvent> <http://example.org/{event}> ; "
            f"<{dip}documentCount> {integer(n)} ."
        )
    for i, ((a, b), n) in enumerate(pairs.items()):
        node = f"<http://example.org/s/pair/{i}>"
        data.append(
            f"{node} <{dip}firstActor> <http://example.org/{a}> ; "
            f"<{dip}secondActor> <http://example.org/{b}> ; <{dip}eventCount> {integer(n)} . "
            f"{own} <{dip}topInteraction> {node} ."
        )
    operations = [f"INSERT DATA {{ {summary.write(' '.join(data))} }}", *rank_operations(summary)]
    store.commit([], after=expand(operations))
    for ranking, n in ((CORROBORATIONS, 5), (INTERACTIONS, len(pairs))):
        stored = ranking.stored(summary)
        everything = {node: Ranked(int(c.value), o) for node, (c, o) in _counts(summary, ranking)}
        assert {node: each.rank for node, each in stored.items()} == ranked(everything, n)
    assert len(CORROBORATIONS.stored(summary)) == 6
    assert not [g for g in store.graph_names() if g.startswith("urn:x-diplograph:")]


def _counts(summary: SummaryGraph, ranking: Ranking) -> Iterator[tuple[str, tuple[Any, Any]]]:
    """Every node with ``ranking``'s count: (IRI, (count, order texts))."""
    keys = " ".join(f"?n dip:{name} ?o{i} ." for i, name in enumerate(ranking.order))
    for row in summary.select(
        f"SELECT * WHERE {{ GRAPH {summary.term} {{ ?n dip:{ranking.count} ?c . {keys} }} }}"
    ):
        order = tuple(row[f"o{i}"].value for i in range(len(ranking.order)))
        yield row["n"].value, (row["c"], order)
