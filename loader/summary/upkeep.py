"""Keeping the summary exact across a commit: the operations that run around its changes.

**The general upkeep** (:func:`incremental`). The touched events are the subjects of
``rdf:type``, ``dip:hasParticipant`` and ``dip:startDate`` triples in the old (read inside the
transaction) and new contents of the changed graphs that are a ``dip:Event`` before or after
the change; no other node can change a count. Before the change, each touched event's keys are
recorded in a scratch graph (:meth:`~loader.store.base.Store.scratch_graph`); after it, its keys
again; each count moves by (events that gained the key) − (events that lost it), which equals
recounting those keys over the whole store when the summary was exact before. The top list is
then made anew from all pair counts (counts may have dropped). The quad count moves by the size
change of the changed graphs and of the summary graph. The scratch graph is dropped in the same
transaction.

**The additive shortcut** (:func:`additive`), with the same result: new graphs on a store only
this process writes to only add to the union, so the counts are computed from reads made before
the transaction and written as data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode, QuerySolution, Triple

from diplograph.loader.iris import SCRATCH_CANDIDATE, SCRATCH_MINUS, SCRATCH_PLUS, SCRATCH_TOUCHED
from diplograph.loader.namespaces import DIP, RDF
from diplograph.loader.store.base import GraphChange
from diplograph.loader.summary import top
from diplograph.loader.summary.graph import SummaryGraph, each_graph, expand, integer
from diplograph.loader.summary.keys import (
    SOURCE,
    TOUCHING,
    EventFacts,
    event_keys,
    month_keys,
    pair_keys,
    source_count,
    source_counts,
    source_node,
)
from diplograph.loader.summary.ranks import (
    CORROBORATIONS,
    INTERACTIONS,
    Ranked,
    Ranking,
    rank_operations,
    ranked,
)
from diplograph.loader.summary.type_ranks import EventType, keep_type_ranks, type_rank_operations

__all__ = ["Operations", "additive", "incremental"]

#: Update operations to run before and after a commit's graph changes.
Operations = tuple[list[str], list[str]]

_CANDIDATE, _TOUCHED = f"<{SCRATCH_CANDIDATE}>", f"<{SCRATCH_TOUCHED}>"
_PLUS, _MINUS = f"<{SCRATCH_PLUS}>", f"<{SCRATCH_MINUS}>"
_EVENT_COUNT = NamedNode(f"{DIP}eventCount")


def additive(
    summary: SummaryGraph, changes: Sequence[GraphChange], *, marked: bool = False
) -> Operations | None:
    """``DELETE DATA`` / ``INSERT DATA`` that keep the summary exact across ``changes``,
    computed here from a few reads; None when this shortcut does not apply. ``marked``: the
    summary carries a stale mark its keeper may trust, which goes (as in
    :func:`~loader.summary.precomputed.precomputed`).

    It applies to the usual load: every change writes a graph that holds nothing yet, on a
    store no other process writes to (:attr:`Store.sole_writer`; the caller serializes its
    own writes). Then the union only grows, so no event loses a key, and a key's count
    grows by the touched events that gain it. The counts are read before the transaction
    and written as data: the update reads nothing while it holds the new graphs' pending
    writes, which made the general :func:`incremental` about 1.5x slower per batch. The
    new top list is the top of the listed counts and the changed ones (:func:`top.top_of`).
    """
    store = summary.store
    graphs = [c.graph for c in changes]
    if (
        not store.sole_writer
        or not changes
        or len(set(graphs)) != len(graphs)
        or summary.iri in graphs
        or not all(c.triples for c in changes)
        or store.empty_graphs(graphs) != set(graphs)
    ):
        return None
    added_quads = 0
    new: dict[NamedNode, EventFacts] = {}
    for change in changes:
        triples = set(change.triples or ())
        added_quads += len(triples)
        for t in triples:
            if isinstance(t.subject, NamedNode) and t.predicate.value in TOUCHING:
                if (facts := new.get(t.subject)) is None:
                    facts = new[t.subject] = EventFacts()
                facts.add(t)
    keyed = [p for p in TOUCHING if p != SOURCE]
    # Only events have keys: the stored facts of the nodes that are one, in the store or in the
    # new triples (a tenth of the subjects of a batch at 100k documents: its persons, states,
    # attestations and holdings are the rest; their facts took 0.22 s a batch, 0.05 s now).
    events = sorted(
        {*_stored_events(summary, list(new)), *(e for e, f in new.items() if f.is_event)}
    )
    old = _facts_in_store(summary, events, keyed)
    # The sources of events only: other nodes (a post holding many documents state) have many.
    for event, facts in _facts_in_store(summary, events, [SOURCE]).items():
        old.setdefault(event, EventFacts()).sources |= facts.sources
    minter = summary.minter
    gained: Counter[str] = Counter()
    described: dict[str, str] = {}
    orders: dict[str, tuple[str, ...]] = {}
    event_types: dict[str, EventType] = {}
    sources: dict[str, tuple[str, int, int]] = {}
    for event, facts in new.items():
        was = old.get(event) or EventFacts()
        now = was.merged(facts)
        had = event_keys(was, minter)
        for node, key in event_keys(now, minter).items():
            if node not in had:
                gained[node] += 1
                described[node], orders[node] = key.description, key.order
                if key.event_type is not None:
                    event_types[node] = key.event_type
        before_n, after_n = source_count(was), source_count(now)
        if after_n > 1 and after_n != before_n:
            sources[source_node(minter, event.value)] = (event.value, before_n, after_n)
    stored = _stored_counts(summary, sorted(gained))
    own = summary.term
    quads = stored.get(summary.iri)
    if quads is None:
        return None  # no quad count: not an exact summary after all
    fresh = [node for node in gained if node not in stored]
    # Counts only grow here, so the only type ranks to change are those of new types.
    new_types: Counter[EventType] = Counter(
        kind for node in fresh if (kind := event_types.get(node)) is not None
    )
    type_ranks = keep_type_ranks(summary, new_types, Counter())
    deletes: list[str] = []
    inserts: list[str] = []
    counts: dict[str, int] = {}
    for node, plus in sorted(gained.items()):
        count = stored.get(node)
        if count is not None:
            deletes.append(f"<{node}> {_EVENT_COUNT} {count} .")
        else:
            inserts.append(described[node])
        counts[node] = (int(count.value) if count is not None else 0) + plus
        inserts.append(f"<{node}> {_EVENT_COUNT} {integer(counts[node])} .")
    # An event's source count is its own: written anew from the documents it now has.
    fresh_sources = 0
    for node, (event_iri, before_n, after_n) in sorted(sources.items()):
        if before_n > 1:
            deletes.append(f"<{node}> <{DIP}documentCount> {integer(before_n)} .")
        else:
            fresh_sources += 1
            inserts.append(
                f"<{node}> <{RDF}type> <{DIP}CorroborationCount> . "
                f"<{node}> <{DIP}countedEvent> <{event_iri}> ."
            )
        inserts.append(f"<{node}> <{DIP}documentCount> {integer(after_n)} .")
    pairs = minter.interaction_counts()
    leaders = INTERACTIONS.stored(summary)
    changed_pairs = {n: Ranked(c, orders[n]) for n, c in counts.items() if n.startswith(pairs)}
    listed = _rerank(INTERACTIONS, leaders, changed_pairs, top.TOP_INTERACTIONS, deletes, inserts)
    left, joined = set(leaders) - listed, listed - set(leaders)
    deletes += [f"{own} <{DIP}topInteraction> <{node}> ." for node in sorted(left)]
    inserts += [f"{own} <{DIP}topInteraction> <{node}> ." for node in sorted(joined)]
    corroborated = CORROBORATIONS.stored(summary)
    changed_sources = {n: Ranked(after, (e,)) for n, (e, _, after) in sources.items()}
    ranked_sources = _rerank(
        CORROBORATIONS, corroborated, changed_sources, top.TOP_CORROBORATIONS, deletes, inserts
    )
    deletes += type_ranks.deletes
    inserts += type_ranks.inserts
    # 3 description triples and a count per new pair or month node, 2 and a count per new
    # source count; the top list's change and a rank per listed pair or ranked source count;
    # a triple per text of the type ranks.
    total = (
        int(quads.value)
        + len(type_ranks.inserts)
        - len(type_ranks.deletes)
        + added_quads
        + 4 * len(fresh)
        + 3 * fresh_sources
        + 2 * (len(joined) - len(left))
        + len(ranked_sources)
        - len(corroborated)
    )
    if marked:
        deletes.append(f"{own} <{DIP}summaryStale> true .")
        total -= 1
    deletes.append(f"{own} <{DIP}quadCount> {quads} .")
    inserts.append(f"{own} <{DIP}quadCount> {integer(total)} .")
    before = [f"DELETE DATA {{ {summary.write(' '.join(deletes))} }}"]
    after = [f"INSERT DATA {{ {summary.write(' '.join(inserts))} }}"]
    return before, after


def _rerank(
    ranking: Ranking,
    stored: dict[str, Ranked],
    changed: dict[str, Ranked],
    n: int,
    deletes: list[str],
    inserts: list[str],
) -> set[str]:
    """Rank the stored ranked nodes and the changed ones anew (counts only grew), adding the
    rank triples that change to ``deletes`` and ``inserts``; the nodes ranked now."""
    ranks = ranked({**stored, **changed}, n)
    prop = f"<{DIP}{ranking.rank}>"
    for node, was in sorted(stored.items()):
        if ranks.get(node) != was.rank:
            deletes.append(f"<{node}> {prop} {integer(was.rank)} .")
    for node, rank in sorted(ranks.items()):
        if node not in stored or stored[node].rank != rank:
            inserts.append(f"<{node}> {prop} {integer(rank)} .")
    return set(ranks)


def incremental(summary: SummaryGraph, changes: Sequence[GraphChange]) -> Operations:
    """The update operations to run before and after ``changes`` to keep the summary exact."""
    store = summary.store
    graphs = sorted({c.graph for c in changes})
    scratch = f"<{store.scratch_graph('summary')}>"
    g = summary.term
    # Graphs that hold nothing yet (new documents) have no old contents to read: asking
    # first spares Virtuoso two passes over them that cost it about 1 s a batch. A graph
    # another writer fills in between is the remote store's known race (docs/stores.md).
    empty = store.empty_graphs(graphs) if graphs else set()
    held = [name for name in graphs if name not in empty]
    new_subjects = sorted(
        {
            t.subject.value
            for c in changes
            for t in c.triples or ()
            if isinstance(t.subject, NamedNode) and t.predicate.value in TOUCHING
        }
    )
    touching = ", ".join(f"<{p}>" for p in TOUCHING)
    mark = f"INSERT {{ GRAPH {scratch} {{ ?e {_CANDIDATE} {_CANDIDATE} }} }} WHERE "
    touched = f"GRAPH {scratch} {{ ?e {_TOUCHED} {_TOUCHED} }} "
    # Only candidates that are a dip:Event (before or after the change) can move a count:
    # leaving the others out keeps entities named in thousands of documents out of the work.
    events = (
        f"INSERT {{ GRAPH {scratch} {{ ?e {_TOUCHED} {_TOUCHED} }} }} WHERE {{ "
        f"GRAPH {scratch} {{ ?e {_CANDIDATE} {_CANDIDATE} }} GRAPH ?h {{ ?e a dip:Event }} "
        f"{store.internal_graph_filter('?h')} }}"
    )
    # The new subjects are known: written as data, not matched (a VALUES-only pattern took
    # 0.2 s on Virtuoso, and Virtuoso 7.2 finds nothing in a UNION with a VALUES-only branch).
    old = f"{mark}{{ {each_graph(held, '?e ?p ?o')} FILTER (?p IN ({touching})) }}"
    new = (
        f"INSERT DATA {{ GRAPH {scratch} {{ "
        + " ".join(f"<{s}> {_CANDIDATE} {_CANDIDATE} ." for s in new_subjects)
        + " } }"
    )
    before = [
        summary.add_to_quad_count([*held, summary.iri], sign="-"),
        f"INSERT DATA {{ {summary.write(summary.stale_triple())} }}",
        old if held else "",
        new if new_subjects else "",
        events,
        *_record_keys(summary, scratch, _MINUS, describe=False),
    ]
    after = [
        events,
        *_record_keys(summary, scratch, _PLUS, describe=True),
        # Each count moves by the touched events that gained the key minus those that lost it.
        "DELETE { "
        + summary.write("?n dip:eventCount ?old .")
        + " } INSERT { "
        + summary.write("?n dip:eventCount ?new .")
        + " } WHERE { "
        f"{{ SELECT DISTINCT ?n WHERE {{ GRAPH {scratch} {{ ?n ?k ?e }} "
        f"FILTER (?k IN ({_PLUS}, {_MINUS})) }} }} "
        # Separate counts, not one over a UNION: Virtuoso 7.2 counts such a UNION as 0.
        f"OPTIONAL {{ {{ SELECT ?n (COUNT(DISTINCT ?gained) AS ?plus) WHERE {{ "
        f"GRAPH {scratch} {{ ?n {_PLUS} ?gained }} }} GROUP BY ?n }} }} "
        f"OPTIONAL {{ {{ SELECT ?n (COUNT(DISTINCT ?lost) AS ?minus) WHERE {{ "
        f"GRAPH {scratch} {{ ?n {_MINUS} ?lost }} }} GROUP BY ?n }} }} "
        f"OPTIONAL {{ GRAPH {g} {{ ?n dip:eventCount ?old }} }} "
        "BIND (COALESCE(?old, 0) + COALESCE(?plus, 0) - COALESCE(?minus, 0) AS ?new) }",
        # A key counted for the first time gets its description.
        "INSERT { " + summary.write("?n ?p ?o .") + f" }} WHERE {{ GRAPH {scratch} {{ ?n ?p ?o }} "
        f"FILTER (?p NOT IN ({_PLUS}, {_MINUS}, {_TOUCHED}, {_CANDIDATE})) }}",
        # A key no event has any more has no node.
        "DELETE { "
        + summary.write("?n ?p ?o .")
        + f" }} WHERE {{ {{ SELECT DISTINCT ?n WHERE {{ GRAPH {scratch} {{ ?n ?k ?e }} }} }} "
        f"GRAPH {g} {{ ?n dip:eventCount ?count ; ?p ?o }} FILTER (?count = 0) }}",
        # Each touched event's source count, recounted: its own, not a key events share.
        "DELETE { " + summary.write("?n ?p ?o .") + f" }} WHERE {{ {touched}"
        f"GRAPH {g} {{ ?n dip:countedEvent ?e ; ?p ?o }} }}",
        "INSERT { "
        + summary.write(
            "?n a dip:CorroborationCount ; dip:countedEvent ?e ; dip:documentCount ?count ."
        )
        + " } WHERE { "
        + source_counts(store, summary.minter, touched)
        + "}",
        *top.list_top(summary),
        *rank_operations(summary),
        *type_rank_operations(summary),
        f"DROP SILENT GRAPH {scratch}",
        f"DELETE DATA {{ {summary.write(summary.stale_triple())} }}",
        summary.add_to_quad_count([*graphs, summary.iri], sign="+"),
    ]
    return expand(before), expand(after)


def _record_keys(
    summary: SummaryGraph, scratch: str, mark: str, *, describe: bool
) -> Iterator[str]:
    """Record in ``scratch`` which keys each touched event has now (``mark``)."""
    touched = f"GRAPH {scratch} {{ ?e {_TOUCHED} {_TOUCHED} }} "
    pair_node, pair_where = pair_keys(summary.store, summary.minter, touched)
    month_node, month_where = month_keys(summary.store, summary.minter, touched)
    pair_describe = (
        " ?n a dip:InteractionCount ; dip:firstActor ?a ; dip:secondActor ?b ." if describe else ""
    )
    month_describe = (
        " ?n a dip:EventCountByMonth ; dip:month ?m ; dip:eventType ?t ." if describe else ""
    )
    yield (
        f"INSERT {{ GRAPH {scratch} {{ ?n {mark} ?e .{pair_describe} }} }} WHERE {{ "
        f"{pair_where}{pair_node} }}"
    )
    yield (
        f"INSERT {{ GRAPH {scratch} {{ ?n {mark} ?e .{month_describe} }} }} WHERE {{ "
        f"{month_where}{month_node} }}"
    )


def _facts_in_store(
    summary: SummaryGraph, events: Sequence[NamedNode], predicates: Sequence[str]
) -> dict[NamedNode, EventFacts]:
    """The triples of ``predicates`` the store holds now about ``events``, per event."""
    facts: dict[NamedNode, EventFacts] = {}
    listed = ", ".join(f"<{p}>" for p in predicates)
    # FILTER, not a second VALUES: Oxigraph joins two VALUES blocks into a cross product
    # before the pattern, ten times slower.
    head = "SELECT ?e ?p ?o WHERE { VALUES ?e { "
    tail = f" }} ?e ?p ?o FILTER (?p IN ({listed})) }}"
    for row in _rows_for(summary, head, tail, [str(e) for e in events], union=True):
        event, predicate, value = row["e"], row["p"], row["o"]
        assert isinstance(event, NamedNode) and isinstance(predicate, NamedNode)
        if (known := facts.get(event)) is None:
            known = facts[event] = EventFacts()
        known.add(Triple(event, predicate, value))
    return facts


def _stored_events(summary: SummaryGraph, nodes: Sequence[NamedNode]) -> list[NamedNode]:
    """Those of ``nodes`` that the store types ``dip:Event``."""
    head = "SELECT ?e WHERE { VALUES ?e { "
    tail = f" }} ?e a <{DIP}Event> }}"
    found = _rows_for(summary, head, tail, [str(n) for n in nodes], union=True)
    return [row["e"] for row in found if isinstance(row["e"], NamedNode)]


def _stored_counts(summary: SummaryGraph, nodes: Sequence[str]) -> dict[str, RdfLiteral]:
    """The stored ``dip:eventCount`` of ``nodes`` and the graph's ``dip:quadCount``."""
    counts: dict[str, RdfLiteral] = {}
    head = f"SELECT ?n ?c WHERE {{ GRAPH {summary.term} {{ VALUES ?n {{ "
    tail = f" }} ?n ?p ?c FILTER (?p IN (<{DIP}eventCount>, <{DIP}quadCount>)) }} }}"
    terms = [f"<{n}>" for n in [summary.iri, *nodes]]
    for row in _rows_for(summary, head, tail, terms, union=False):
        node, count = row["n"], row["c"]
        if isinstance(node, NamedNode) and isinstance(count, RdfLiteral):
            counts[node.value] = count
    return counts


def _rows_for(
    summary: SummaryGraph, head: str, tail: str, terms: Sequence[str], *, union: bool
) -> Iterator[QuerySolution]:
    """The rows of the query ``head + terms + tail`` (the terms fill a VALUES block), asked
    500 terms at a time."""
    for start in range(0, len(terms), 500):
        values = " ".join(terms[start : start + 500])
        yield from summary.select(f"{head}{values}{tail}", union=union)
