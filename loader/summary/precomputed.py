"""The general upkeep computed before the transaction, on a store only this process writes to.

:func:`precomputed` keeps the summary exact across any commit (replaced graphs, retracts, new
graphs among others) from a few small reads made before the transaction, as the additive
shortcut (:func:`~loader.summary.upkeep.additive`) does for new graphs only; counts may drop
here. It reads:

* the subjects of the touching predicates (:data:`~loader.summary.keys.TOUCHING`) in the
  changed graphs' old contents, and which of them and of the new contents' subjects are a
  ``dip:Event`` (only events have keys);
* those events' touching triples, each with the number of graphs that state it, and the same
  for the changed graphs' old contents: their facts before the change are those of every
  graph, after it those that an unchanged graph states and the new contents;
* the summary's triples about every key whose count moves and every source count that
  changes (the count, the description to delete with a count that falls to zero);
* the ranked nodes of each ranking (:func:`~loader.summary.ranks.keep_ranks`), and only when
  a ranked count fell below the least ranked one, the counts below it.

A key's count moves by the touched events that gained it minus those that lost it, as in the
in-transaction upkeep (:func:`~loader.summary.upkeep.incremental`); a source count is
recounted from the event's documents. Ranks and the top list change only where they move.
The writes are one ``DELETE DATA`` and one ``INSERT DATA`` in the commit's transaction. This
is exact only when nothing else writes between the reads and the commit
(:attr:`~loader.store.base.Store.sole_writer`; the caller serializes its own writes); remote
stores keep the in-transaction upkeep. A stored count that disagrees with the facts (a summary
that was not exact) gives None, and the caller falls back to the in-transaction upkeep.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from pyoxigraph import BlankNode, NamedNode, Triple
from pyoxigraph import Literal as RdfLiteral

from diplograph.loader.namespaces import DIP, RDF
from diplograph.loader.store.base import GraphChange
from diplograph.loader.summary import top
from diplograph.loader.summary.graph import SummaryGraph, each_graph, integer
from diplograph.loader.summary.keys import (
    TOUCHING,
    EventFacts,
    Key,
    event_keys,
    source_count,
    source_node,
)
from diplograph.loader.summary.ranks import CORROBORATIONS, INTERACTIONS, Ranked, keep_ranks
from diplograph.loader.summary.type_ranks import EventType, keep_type_ranks

__all__ = ["precomputed"]

#: A node's triples in the summary graph: predicate IRI -> the object, as N-Triples.
_Node = dict[str, str]
#: The object of a triple.
_Object = NamedNode | BlankNode | RdfLiteral | Triple

_EVENT_COUNT, _DOCUMENT_COUNT = f"{DIP}eventCount", f"{DIP}documentCount"
#: Rank triples are kept by :func:`keep_ranks`, not deleted with their node.
_RANKS = {f"{DIP}{INTERACTIONS.rank}", f"{DIP}{CORROBORATIONS.rank}"}


def precomputed(
    summary: SummaryGraph, changes: Sequence[GraphChange], *, marked: bool = False
) -> tuple[list[str], list[str]] | None:
    """``DELETE DATA`` / ``INSERT DATA`` that keep the summary exact across ``changes``,
    computed here; None when the store has other writers or the summary disagrees.

    ``marked``: the summary carries a stale mark its keeper may trust (an exact summary, marked
    by :func:`~loader.summary.guard_raw_writes` around a load through the API); the mark goes.
    """
    store = summary.store
    graphs = [c.graph for c in changes]
    if (
        not store.sole_writer
        or not changes
        or len(set(graphs)) != len(graphs)
        or summary.iri in graphs
        or any(store.is_internal_graph(g) for g in graphs)
    ):
        return None
    held = sorted(set(graphs) - store.empty_graphs(graphs))
    new: dict[str, EventFacts] = {}
    added_quads = 0
    for change in changes:
        triples = set(change.triples or ())
        added_quads += len(triples)
        for t in triples:
            if isinstance(t.subject, NamedNode) and t.predicate.value in TOUCHING:
                new.setdefault(t.subject.value, EventFacts()).add(t)
    old_subjects, removed_quads = _held(summary, held)
    events = _events(summary, sorted(old_subjects | set(new)))
    events |= {subject for subject, facts in new.items() if facts.is_event}
    facts_before, facts_kept = _facts_before_and_kept(summary, sorted(events), held)

    minter = summary.minter
    moved: Counter[str] = Counter()
    keys: dict[str, Key] = {}
    sources: dict[str, tuple[str, int, int]] = {}
    for event in events:
        was = facts_before.get(event) or EventFacts()
        now = (facts_kept.get(event) or EventFacts()).merged(new.get(event) or EventFacts())
        had, has = event_keys(was, minter), event_keys(now, minter)
        for node in had.keys() - has.keys():
            moved[node] -= 1
            keys[node] = had[node]
        for node in has.keys() - had.keys():
            moved[node] += 1
            keys[node] = has[node]
        before_n, after_n = source_count(was), source_count(now)
        if before_n != after_n and max(before_n, after_n) > 1:
            sources[source_node(minter, event)] = (event, before_n, after_n)

    counted = sorted(node for node, by in moved.items() if by)
    stored = _stored(summary, [summary.iri, *counted, *sorted(sources)])
    quads = stored.get(summary.iri, {}).get(f"{DIP}quadCount")
    if quads is None:
        return None  # no quad count: not an exact summary after all
    deletes: list[str] = []
    inserts: list[str] = []
    # Each text in ``deletes`` and ``inserts`` is one triple, but the descriptions: ``more``
    # counts their other triples (2 more for a pair's or a month's, 1 for a source count's).
    more = 0
    pairs = minter.interaction_counts()
    changed_pairs: dict[str, Ranked] = {}
    # The month counts that come and go, by type: the type ranks follow them.
    new_types: Counter[EventType] = Counter()
    gone_types: Counter[EventType] = Counter()
    for node in counted:
        props = stored.get(node, {})
        old = props.get(_EVENT_COUNT)
        count = (int(_literal_value(old)) if old is not None else 0) + moved[node]
        if count < 0 or (old is None and moved[node] < 0):
            return None
        kind = keys[node].event_type
        if count == 0:
            deletes += _triples(node, props)
            if kind is not None:
                gone_types[kind] += 1
        else:
            if old is None:
                inserts.append(keys[node].description)
                more += 2
                if kind is not None:
                    new_types[kind] += 1
            else:
                deletes.append(f"<{node}> <{_EVENT_COUNT}> {old} .")
            inserts.append(f"<{node}> <{_EVENT_COUNT}> {integer(count)} .")
        if node.startswith(pairs):
            changed_pairs[node] = Ranked(count, keys[node].order)
    changed_sources: dict[str, Ranked] = {}
    for node, (event, before_n, after_n) in sources.items():
        props = stored.get(node, {})
        old = props.get(_DOCUMENT_COUNT)
        if (old is None) != (before_n < 2) or (old is not None and old != _n(before_n)):
            return None
        if after_n < 2:
            deletes += _triples(node, props)
        elif old is None:
            inserts.append(
                f"<{node}> <{RDF}type> <{DIP}CorroborationCount> . "
                f"<{node}> <{DIP}countedEvent> <{event}> ."
            )
            more += 1
        else:
            deletes.append(f"<{node}> <{_DOCUMENT_COUNT}> {old} .")
        if after_n >= 2:
            inserts.append(f"<{node}> <{_DOCUMENT_COUNT}> {integer(after_n)} .")
        changed_sources[node] = Ranked(after_n if after_n >= 2 else 0, (event,))

    type_ranks = keep_type_ranks(summary, new_types, gone_types)
    deletes += type_ranks.deletes
    inserts += type_ranks.inserts
    own = summary.term
    pair_ranks = keep_ranks(summary, INTERACTIONS, changed_pairs, top.TOP_INTERACTIONS)
    source_ranks = keep_ranks(summary, CORROBORATIONS, changed_sources, top.TOP_CORROBORATIONS)
    left = pair_ranks.before - pair_ranks.after
    joined = pair_ranks.after - pair_ranks.before
    for kept in (pair_ranks, source_ranks):
        deletes += kept.deletes
        inserts += kept.inserts
    deletes += [f"{own} <{DIP}topInteraction> <{node}> ." for node in sorted(left)]
    inserts += [f"{own} <{DIP}topInteraction> <{node}> ." for node in sorted(joined)]
    if marked:
        deletes.append(f"{own} <{DIP}summaryStale> true .")
    # Every delete is a stored triple and every insert a new one.
    summary_size = len(inserts) + more - len(deletes)
    total = int(_literal_value(quads)) + added_quads - removed_quads + summary_size
    deletes.append(f"{own} <{DIP}quadCount> {quads} .")
    inserts.append(f"{own} <{DIP}quadCount> {integer(total)} .")
    before = [f"DELETE DATA {{ {summary.write(' '.join(deletes))} }}"]
    after = [f"INSERT DATA {{ {summary.write(' '.join(inserts))} }}"]
    return before, after


def _held(summary: SummaryGraph, held: Sequence[str]) -> tuple[set[str], int]:
    """The subjects of touching triples in the ``held`` graphs, and their number of quads."""
    if not held:
        return set(), 0
    touching = ", ".join(f"<{p}>" for p in TOUCHING)
    result = summary.select(
        "SELECT DISTINCT ?e WHERE { "
        f"{each_graph(held, '?e ?p ?o')} FILTER (?p IN ({touching})) FILTER (isIRI(?e)) }}"
    )
    subjects = {_iri(row["e"]) for row in result}
    size = summary.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {each_graph(held, '?s ?p ?o')} }}")
    count = next(iter(size))["n"]
    assert isinstance(count, RdfLiteral)
    return subjects, int(count.value)


def _events(summary: SummaryGraph, subjects: Sequence[str]) -> set[str]:
    """Those of ``subjects`` that the store types ``dip:Event`` now."""
    found: set[str] = set()
    for chunk in _chunks(subjects):
        values = " ".join(f"<{s}>" for s in chunk)
        result = summary.select(
            f"SELECT ?e WHERE {{ VALUES ?e {{ {values} }} ?e a dip:Event }}", union=True
        )
        found.update(_iri(row["e"]) for row in result)
    return found


def _facts_before_and_kept(
    summary: SummaryGraph, events: Sequence[str], held: Sequence[str]
) -> tuple[dict[str, EventFacts], dict[str, EventFacts]]:
    """The touching triples the store holds about ``events`` (the store's internal graphs left
    out), and those of them that a graph other than the ``held`` ones (the changed graphs that
    hold something) states: event -> facts, before the change and kept by it.

    Each distinct triple is read once, with the number of graphs that state it, not once per
    graph: an event that a hundred documents report is stated a hundred times. (Read graph by
    graph, a 1k-document run into the 100k store read its batches' events' triples in 4.0 s
    under the profiler.)
    """
    touching = ", ".join(f"<{p}>" for p in TOUCHING)
    internal = summary.store.internal_graph_filter("?g")
    stated: dict[tuple[str, NamedNode, _Object], int] = {}
    for chunk in _chunks(events):
        values = " ".join(f"<{e}>" for e in chunk)
        result = summary.select(
            f"SELECT ?e ?p ?o (COUNT(DISTINCT ?g) AS ?n) WHERE {{ VALUES ?e {{ {values} }} "
            f"GRAPH ?g {{ ?e ?p ?o }} FILTER (?p IN ({touching})) {internal} }} "
            "GROUP BY ?e ?p ?o"
        )
        for row in result:
            event, predicate, value, count = row["e"], row["p"], row["o"], row["n"]
            assert isinstance(event, NamedNode) and isinstance(predicate, NamedNode)
            assert isinstance(count, RdfLiteral) and value is not None
            stated[(event.value, predicate, value)] = int(count.value)
    in_held: dict[tuple[str, NamedNode, _Object], int] = {}
    if held and stated:
        # VALUES, not each_graph: only a sole writer's store (an embedded one) comes here, and
        # Oxigraph picks the graphs from the values.
        graphs = " ".join(f"<{g}>" for g in held)
        result = summary.select(
            f"SELECT ?e ?p ?o (COUNT(DISTINCT ?g) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} "
            f"GRAPH ?g {{ ?e ?p ?o }} FILTER (?p IN ({touching})) }} GROUP BY ?e ?p ?o"
        )
        for row in result:
            event, predicate, value, count = row["e"], row["p"], row["o"], row["n"]
            if isinstance(event, NamedNode) and isinstance(count, RdfLiteral):
                assert isinstance(predicate, NamedNode) and value is not None
                in_held[(event.value, predicate, value)] = int(count.value)
    before: dict[str, EventFacts] = {}
    kept: dict[str, EventFacts] = {}
    for (event, predicate, value), count in stated.items():
        triple = Triple(NamedNode(event), predicate, value)
        before.setdefault(event, EventFacts()).add(triple)
        if count > in_held.get((event, predicate, value), 0):
            kept.setdefault(event, EventFacts()).add(triple)
    return before, kept


def _stored(summary: SummaryGraph, nodes: Sequence[str]) -> dict[str, _Node]:
    """The summary's triples about ``nodes``: node -> predicate -> object (N-Triples); the
    summary's own node without its top list."""
    out: dict[str, _Node] = {}
    listed = f"{DIP}topInteraction"
    for chunk in _chunks(nodes):
        values = " ".join(f"<{n}>" for n in chunk)
        result = summary.select(
            f"SELECT ?n ?p ?o WHERE {{ GRAPH {summary.term} {{ VALUES ?n {{ {values} }} "
            f"?n ?p ?o }} }}"
        )
        for row in result:
            node, predicate = _iri(row["n"]), _iri(row["p"])
            if predicate != listed:
                out.setdefault(node, {})[predicate] = str(row["o"])
    return out


def _triples(node: str, props: _Node) -> list[str]:
    """The stored triples of ``node`` but its rank (which :func:`keep_ranks` deletes)."""
    return [f"<{node}> <{p}> {o} ." for p, o in sorted(props.items()) if p not in _RANKS]


def _n(value: int) -> str:
    """``value`` as the N-Triples of an ``xsd:integer``."""
    return str(integer(value))


def _literal_value(text: str) -> str:
    """The lexical form of an N-Triples literal (``"3"^^<…integer>`` -> ``3``)."""
    return text.split('"')[1]


def _iri(term: object) -> str:
    assert isinstance(term, NamedNode), term
    return term.value


def _chunks(items: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
