"""Summary graphs: counts for the heaviest analyst questions, kept exact in the same transaction.

The summary lives in its own named graph, ``{base}graph/summary``
(:meth:`IriMinter.summary_graph`), and answers the heaviest analyst questions without scanning
the facts (docs/mapping.md, "Summaries"):

* **interactions** — for each pair of agents ``a``, ``b`` with ``STR(a) < STR(b)``, the number of
  distinct ``dip:Event`` nodes that have both as ``dip:hasParticipant`` (the question of
  ``bench/queries/q04_who_talks_to_whom.rq``); a ``dip:InteractionCount`` node per pair;
* **events by type and month** — for each type ``t`` of an event and each month
  ``m = SUBSTR(STR(startDate), 1, 7)``, the number of distinct ``dip:Event`` nodes of type ``t``
  with a start date in ``m`` (``q05``); a ``dip:EventCountByMonth`` node per key;
* **quads** — the number of quads in all named graphs, the summary's own included (``q08``), on
  the graph's own node, typed ``dip:Summary``;
* **top interactions** — the graph's node lists (``dip:topInteraction``) every interaction count
  at or above the :data:`TOP_INTERACTIONS`-th highest count, ties included, so that "the most
  frequent pairs" reads a hundred nodes instead of sorting them all
  (``q04_who_talks_to_whom_summary.rq``); ``dip:topInteractionRank`` records that rank.

Counts are taken over all named graphs together, so an event that several documents report
counts once. A key whose count drops to zero has no node.

**Maintenance.** :meth:`Summary.commit` writes document graphs and the summary in *one*
:meth:`Store.commit`: SPARQL Update operations run before and after the graph changes in the
same transaction. The touched events are the subjects of ``rdf:type``, ``dip:hasParticipant``
and ``dip:startDate`` triples in the old (read inside the transaction) and new contents of the
changed graphs that are a ``dip:Event`` before or after the change; no other node can change a
count. Before the change, each touched event's keys
are recorded in a scratch graph; after it, its keys again; each count moves by (events that
gained the key) − (events that lost it), which equals recounting those keys over the whole store
when the summary was exact before. The top list is then made anew from all pair counts (counts
may have dropped). The quad count moves by the size change of the changed graphs and of the
summary graph. The scratch graph is dropped in the same transaction.
New graphs on a store only this process writes to take a shortcut with the same result
(:meth:`Summary.additive`): the counts are computed from reads made before the transaction and
written as data.

**Staleness.** A write that bypasses the loader (a raw SPARQL Update, a Graph Store Protocol
write) cannot be followed incrementally. :func:`guard_raw_writes` marks the summary stale
(``<summary> dip:summaryStale true``) *before* such a write and rebuilds it from scratch after
it; a crash in between leaves the mark, and the next commit through :meth:`Summary.commit`
rebuilds the summary in its own transaction. Each commit also marks the summary stale at its
start and removes the mark at its end, so a store that keeps the operations before a failing one
(Virtuoso 7.2) is left marked, never silently wrong.
"""

from __future__ import annotations

import hashlib
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode, QuerySolution, QuerySolutions, Triple

from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import DIP, RDF, XSD
from diplograph.loader.store.base import GraphChange, Store
from diplograph.loader.store.remote import STAGING_PREFIX

__all__ = ["Summary", "SummaryState", "guard_raw_writes"]

#: ``current``: exact; ``stale``: marked, not to be trusted; ``missing``: never built.
SummaryState = Literal["current", "stale", "missing"]

#: How many of the highest interaction counts the summary lists (ties at the last one included).
#: A summary listing another number is rebuilt by the next commit.
TOP_INTERACTIONS = 100

#: Predicates whose triples can change a count (the touched events are their subjects).
_TOUCHING = (f"{RDF}type", f"{DIP}hasParticipant", f"{DIP}startDate")

# Scratch terms: they only ever live in the scratch graph, inside one transaction.
_CANDIDATE = "<urn:x-diplograph:summary:candidate>"
_TOUCHED = "<urn:x-diplograph:summary:touched>"
_PLUS = "<urn:x-diplograph:summary:plus>"
_MINUS = "<urn:x-diplograph:summary:minus>"
_SCRATCH_PREFIX = f"{STAGING_PREFIX}summary:"

_PROLOGUE = f"PREFIX dip: <{DIP}>\n"
_EVENT = NamedNode(f"{DIP}Event")
_TYPE, _PARTICIPANT, _START = (NamedNode(p) for p in _TOUCHING)
_EVENT_COUNT = NamedNode(f"{DIP}eventCount")
_INTEGER = NamedNode(f"{XSD}integer")
#: ``dip:`` names in the operations, which travel without a prologue (one request may join many).
_DIP_NAME = re.compile(r"\bdip:(\w+)")


def _expand(operations: Sequence[str]) -> list[str]:
    """The operations with ``dip:`` names written out, empty ones left out."""
    return [_DIP_NAME.sub(lambda m: f"<{DIP}{m.group(1)}>", op) for op in operations if op]


class _Trust(threading.local):
    """Per thread: the summary graphs this thread's :func:`guard_raw_writes` marked stale while
    they were exact, so a loader commit inside the guarded write may still update them
    incrementally (and clear the mark)."""

    def __init__(self) -> None:
        self.graphs: set[str] = set()


_trust = _Trust()


class Summary:
    """The summary graph of ``store`` under ``base_iri``: its state, its upkeep, its rebuild."""

    def __init__(self, store: Store, base_iri: str) -> None:
        self.store = store
        self.graph = IriMinter(base_iri).summary_graph()
        # Count nodes live under id/, so that the linked-data pages that link to them resolve.
        self.nodes = f"{base_iri}id/summary/"
        self._interactions = f"{self.nodes}interaction/"
        # The embedded store keeps the union of the named graphs as its default graph; every
        # summary write is mirrored there so that union stays exact (summary nodes live in the
        # summary graph only).
        self._mirror = callable(getattr(store, "union_quads", None))

    # -- reading ---------------------------------------------------------------------------

    def state(self) -> SummaryState:
        """Whether the summary can be trusted now."""
        g = f"<{self.graph}>"
        result = self.store.query(
            f"{_PROLOGUE}SELECT ?n ?stale ?top WHERE {{ GRAPH {g} {{ {g} dip:quadCount ?n "
            f"OPTIONAL {{ {g} dip:summaryStale ?stale }} "
            f"OPTIONAL {{ {g} dip:topInteractionRank ?top }} }} }}",
            union_default_graph=False,
        )
        assert isinstance(result, QuerySolutions)
        rows = list(result)
        if not rows:
            return "missing"
        if any(row["stale"] is not None for row in rows):
            return "stale"
        # A summary from before the top list, or listing another number, cannot be kept exact.
        top = rows[0]["top"]
        if not isinstance(top, RdfLiteral) or top.value != str(TOP_INTERACTIONS):
            return "stale"
        return "current"

    def needs_rebuild(self) -> bool:
        """True when the next commit would have to rebuild the summary from scratch: it is
        missing, or marked stale by something other than this thread's guarded raw write."""
        state = self.state()
        return state == "missing" or (state == "stale" and self.graph not in _trust.graphs)

    # -- writing ---------------------------------------------------------------------------

    def commit(self, changes: Sequence[GraphChange]) -> None:
        """Apply ``changes`` and bring the summary up to date, in one transaction."""
        state = self.state()
        additive = self.additive(changes) if state == "current" else None
        if additive is not None:
            before, after = additive
        elif state == "current" or (state == "stale" and self.graph in _trust.graphs):
            before, after = self.incremental(changes)
        else:
            before, after = [], self.rebuild_operations()
        self.store.commit(changes, before=before, after=after)

    def rebuild(self) -> None:
        """Recompute the whole summary from the facts, in one transaction."""
        self.store.commit([], after=self.rebuild_operations())

    def mark_stale(self) -> None:
        """Mark the summary as not to be trusted until the next rebuild or commit."""
        own = f"<{self.graph}>"
        if self.state() == "missing":
            # A missing summary becomes a stale one (a placeholder count under the mark), so
            # that a store holding documents always has one; the rebuild replaces both.
            placeholder = f"{own} a dip:Summary ; dip:quadCount 0 . {self._stale_triple()}"
            self.store.commit(
                [], after=_expand([f"INSERT DATA {{ {self._in_summary(placeholder)} }}"])
            )
            return
        stale = f"INSERT DATA {{ {self._in_summary(self._stale_triple())} }}"
        # The mark is a quad too: the quad count follows the summary graph's size.
        sizes = [self._add_to_quad_count([self.graph], sign=sign) for sign in ("-", "+")]
        self.store.commit([], after=_expand([sizes[0], stale, sizes[1]]))

    def additive(self, changes: Sequence[GraphChange]) -> tuple[list[str], list[str]] | None:
        """``DELETE DATA`` / ``INSERT DATA`` that keep the summary exact across ``changes``,
        computed here from a few reads; None when this shortcut does not apply.

        It applies to the usual load: every change writes a graph that holds nothing yet, on a
        store no other process writes to (:attr:`Store.sole_writer`; the caller serializes its
        own writes). Then the union only grows, so no event loses a key, and a key's count
        grows by the touched events that gain it. The counts are read before the transaction
        and written as data: the update reads nothing while it holds the new graphs' pending
        writes, which made the general :meth:`incremental` about 1.5x slower per batch. The
        new top list is the top of the listed counts and the changed ones (:func:`_top`).
        """
        graphs = [c.graph for c in changes]
        if (
            not self.store.sole_writer
            or not changes
            or len(set(graphs)) != len(graphs)
            or self.graph in graphs
            or not all(c.triples for c in changes)
            or self.store.empty_graphs(graphs) != set(graphs)
        ):
            return None
        added_quads = 0
        new: dict[NamedNode, _EventFacts] = {}
        for change in changes:
            triples = set(change.triples or ())
            added_quads += len(triples)
            for t in triples:
                if isinstance(t.subject, NamedNode) and t.predicate.value in _TOUCHING:
                    if (facts := new.get(t.subject)) is None:
                        facts = new[t.subject] = _EventFacts()
                    facts.add(t)
        old = self._facts_in_store(list(new))
        gained: Counter[str] = Counter()
        described: dict[str, str] = {}
        for event, facts in new.items():
            was = old.get(event) or _EventFacts()
            had = self._keys(was)
            for node, description in self._keys(was.merged(facts)).items():
                if node not in had:
                    gained[node] += 1
                    described[node] = description
        stored = self._stored_counts(sorted(gained))
        own = f"<{self.graph}>"
        quads = stored.get(self.graph)
        if quads is None:
            return None  # no quad count: not an exact summary after all
        fresh = [node for node in gained if node not in stored]
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
            inserts.append(f"<{node}> {_EVENT_COUNT} {_integer(counts[node])} .")
        leaders = self._stored_top()
        top = _top(
            {
                **leaders,
                **{n: c for n, c in counts.items() if n.startswith(self._interactions)},
            }
        )
        left, joined = set(leaders) - top, top - set(leaders)
        deletes += [f"{own} <{DIP}topInteraction> <{node}> ." for node in sorted(left)]
        inserts += [f"{own} <{DIP}topInteraction> <{node}> ." for node in sorted(joined)]
        # 3 description triples and a count per new node, and the top list's change.
        total = int(quads.value) + added_quads + 4 * len(fresh) + len(joined) - len(left)
        deletes.append(f"{own} <{DIP}quadCount> {quads} .")
        inserts.append(f"{own} <{DIP}quadCount> {_integer(total)} .")
        before = [f"DELETE DATA {{ {self._in_summary(' '.join(deletes))} }}"]
        after = [f"INSERT DATA {{ {self._in_summary(' '.join(inserts))} }}"]
        return before, after

    def _facts_in_store(self, events: Sequence[NamedNode]) -> dict[NamedNode, _EventFacts]:
        """The count-relevant triples the store holds now about ``events``, per event."""
        facts: dict[NamedNode, _EventFacts] = {}
        predicates = ", ".join(f"<{p}>" for p in _TOUCHING)
        # FILTER, not a second VALUES: Oxigraph joins two VALUES blocks into a cross product
        # before the pattern, ten times slower.
        head = "SELECT ?e ?p ?o WHERE { VALUES ?e { "
        tail = f" }} ?e ?p ?o FILTER (?p IN ({predicates})) }}"
        for row in self._rows_for(head, tail, [str(e) for e in events], union=True):
            event, predicate, value = row["e"], row["p"], row["o"]
            assert isinstance(event, NamedNode) and isinstance(predicate, NamedNode)
            if (known := facts.get(event)) is None:
                known = facts[event] = _EventFacts()
            known.add(Triple(event, predicate, value))
        return facts

    def _stored_counts(self, nodes: Sequence[str]) -> dict[str, RdfLiteral]:
        """The stored ``dip:eventCount`` of ``nodes`` and the graph's ``dip:quadCount``."""
        counts: dict[str, RdfLiteral] = {}
        head = f"SELECT ?n ?c WHERE {{ GRAPH <{self.graph}> {{ VALUES ?n {{ "
        tail = f" }} ?n ?p ?c FILTER (?p IN (<{DIP}eventCount>, <{DIP}quadCount>)) }} }}"
        for row in self._rows_for(
            head, tail, [f"<{n}>" for n in [self.graph, *nodes]], union=False
        ):
            node, count = row["n"], row["c"]
            if isinstance(node, NamedNode) and isinstance(count, RdfLiteral):
                counts[node.value] = count
        return counts

    def _stored_top(self) -> dict[str, int]:
        """The interaction counts the summary lists as top ones: node IRI -> count."""
        g = f"<{self.graph}>"
        result = self.store.query(
            f"{_PROLOGUE}SELECT ?n ?c WHERE {{ GRAPH {g} {{ {g} dip:topInteraction ?n . "
            "?n dip:eventCount ?c } }",
            union_default_graph=False,
        )
        assert isinstance(result, QuerySolutions)
        return {
            row["n"].value: int(row["c"].value)
            for row in result
            if isinstance(row["n"], NamedNode) and isinstance(row["c"], RdfLiteral)
        }

    def _rows_for(
        self, head: str, tail: str, terms: Sequence[str], *, union: bool
    ) -> Iterator[QuerySolution]:
        """The rows of the query ``head + terms + tail`` (the terms fill a VALUES block),
        asked 500 terms at a time."""
        for start in range(0, len(terms), 500):
            values = " ".join(terms[start : start + 500])
            result = self.store.query(f"{head}{values}{tail}", union_default_graph=union)
            assert isinstance(result, QuerySolutions)
            yield from result

    def _keys(self, facts: _EventFacts) -> dict[str, str]:
        """The summary keys of an event with ``facts``: node IRI -> its description (N-Triples),
        as :meth:`_pair_keys` and :meth:`_month_keys` compute them in SPARQL."""
        if _EVENT not in facts.types:
            return {}
        keys: dict[str, str] = {}
        named = {(v, a) for a in facts.participants if (v := _str(a)) is not None}
        actors = sorted(named, key=lambda pair: pair[0])
        for i, (first, a) in enumerate(actors):
            for second, b in actors[i + 1 :]:
                if not first < second:
                    continue
                node = f"{self._interactions}{_sha256(f'{first} {second}')}"
                keys[node] = (
                    f"<{node}> <{RDF}type> <{DIP}InteractionCount> . "
                    f"<{node}> <{DIP}firstActor> {a} . <{node}> <{DIP}secondActor> {b} ."
                )
        for date in facts.dates:
            text = _str(date)
            if text is None:
                continue
            month = text[:7]
            for kind in facts.types:
                name = _str(kind)
                if name is None:
                    continue
                node = f"{self.nodes}events/{_sha256(f'{month} {name}')}"
                keys[node] = (
                    f"<{node}> <{RDF}type> <{DIP}EventCountByMonth> . "
                    f"<{node}> <{DIP}month> {RdfLiteral(month)} . "
                    f"<{node}> <{DIP}eventType> {kind} ."
                )
        return keys

    def incremental(self, changes: Sequence[GraphChange]) -> tuple[list[str], list[str]]:
        """The update operations to run before and after ``changes`` to keep the summary exact."""
        graphs = sorted({c.graph for c in changes})
        scratch = f"<{_SCRATCH_PREFIX}{uuid.uuid4().hex}>"
        g = f"<{self.graph}>"
        # Graphs that hold nothing yet (new documents) have no old contents to read: asking
        # first spares Virtuoso two passes over them that cost it about 1 s a batch. A graph
        # another writer fills in between is the remote store's known race (docs/stores.md).
        empty = self.store.empty_graphs(graphs) if graphs else set()
        held = [name for name in graphs if name not in empty]
        new_subjects = sorted(
            {
                t.subject.value
                for c in changes
                for t in c.triples or ()
                if isinstance(t.subject, NamedNode) and t.predicate.value in _TOUCHING
            }
        )
        touching = ", ".join(f"<{p}>" for p in _TOUCHING)
        mark = f"INSERT {{ GRAPH {scratch} {{ ?e {_CANDIDATE} {_CANDIDATE} }} }} WHERE "
        # Only candidates that are a dip:Event (before or after the change) can move a count:
        # leaving the others out keeps entities named in thousands of documents out of the work.
        events = (
            f"INSERT {{ GRAPH {scratch} {{ ?e {_TOUCHED} {_TOUCHED} }} }} WHERE {{ "
            f"GRAPH {scratch} {{ ?e {_CANDIDATE} {_CANDIDATE} }} GRAPH ?h {{ ?e a dip:Event }} "
            f'FILTER (!STRSTARTS(STR(?h), "{STAGING_PREFIX}")) }}'
        )
        # The new subjects are known: written as data, not matched (a VALUES-only pattern took
        # 0.2 s on Virtuoso, and Virtuoso 7.2 finds nothing in a UNION with a VALUES-only branch).
        old = f"{mark}{{ {_each_graph(held, '?e ?p ?o')} FILTER (?p IN ({touching})) }}"
        new = (
            f"INSERT DATA {{ GRAPH {scratch} {{ "
            + " ".join(f"<{s}> {_CANDIDATE} {_CANDIDATE} ." for s in new_subjects)
            + " } }"
        )
        before = [
            self._add_to_quad_count([*held, self.graph], sign="-"),
            f"INSERT DATA {{ {self._in_summary(self._stale_triple())} }}",
            old if held else "",
            new if new_subjects else "",
            events,
            *self._record_keys(scratch, _MINUS, describe=False),
        ]
        after = [
            events,
            *self._record_keys(scratch, _PLUS, describe=True),
            # Each count moves by the touched events that gained the key minus those that lost it.
            "DELETE { "
            + self._in_summary("?n dip:eventCount ?old .")
            + " } INSERT { "
            + self._in_summary("?n dip:eventCount ?new .")
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
            "INSERT { "
            + self._in_summary("?n ?p ?o .")
            + f" }} WHERE {{ GRAPH {scratch} {{ ?n ?p ?o }} "
            f"FILTER (?p NOT IN ({_PLUS}, {_MINUS}, {_TOUCHED}, {_CANDIDATE})) }}",
            # A key no event has any more has no node.
            "DELETE { "
            + self._in_summary("?n ?p ?o .")
            + f" }} WHERE {{ {{ SELECT DISTINCT ?n WHERE {{ GRAPH {scratch} {{ ?n ?k ?e }} }} }} "
            f"GRAPH {g} {{ ?n dip:eventCount ?count ; ?p ?o }} FILTER (?count = 0) }}",
            *self._list_top(),
            f"DROP SILENT GRAPH {scratch}",
            f"DELETE DATA {{ {self._in_summary(self._stale_triple())} }}",
            self._add_to_quad_count([*graphs, self.graph], sign="+"),
        ]
        return _expand(before), _expand(after)

    def rebuild_operations(self) -> list[str]:
        """Update operations that recompute the summary from scratch (after any graph changes)."""
        g = f"<{self.graph}>"
        drop = [f"DROP SILENT GRAPH {g}"]
        if self._mirror:
            drop.insert(0, f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} }}")
        pair_node, pair_where = self._pair_keys()
        month_node, month_where = self._month_keys()
        return _expand(
            [
                *drop,
                "INSERT { "
                + self._in_summary(
                    "?n a dip:InteractionCount ; dip:firstActor ?a ; dip:secondActor ?b ; "
                    "dip:eventCount ?count ."
                )
                + " } WHERE { { SELECT ?a ?b (COUNT(DISTINCT ?e) AS ?count) WHERE { "
                + pair_where
                + " } GROUP BY ?a ?b } "
                + pair_node
                + " }",
                "INSERT { "
                + self._in_summary(
                    "?n a dip:EventCountByMonth ; dip:month ?m ; dip:eventType ?t ; "
                    "dip:eventCount ?count ."
                )
                + " } WHERE { { SELECT ?m ?t (COUNT(DISTINCT ?e) AS ?count) WHERE { "
                + month_where
                + " } GROUP BY ?m ?t } "
                + month_node
                + " }",
                *self._list_top(),
                "INSERT DATA { "
                + self._in_summary(
                    f"{g} a dip:Summary ; dip:quadCount 0 ; "
                    f"dip:topInteractionRank {_integer(TOP_INTERACTIONS)} ."
                )
                + " }",
                # The count includes the placeholder, which the exact number replaces one for one.
                "DELETE { "
                + self._in_summary(f"{g} dip:quadCount ?zero .")
                + " } INSERT { "
                + self._in_summary(f"{g} dip:quadCount ?quads .")
                + f" }} WHERE {{ GRAPH {g} {{ {g} dip:quadCount ?zero }} "
                "{ SELECT (COUNT(*) AS ?quads) WHERE { GRAPH ?any { ?s ?p ?o } } } }",
            ]
        )

    # -- the pieces ------------------------------------------------------------------------

    def _in_summary(self, triples: str) -> str:
        """A template writing ``triples`` to the summary graph (and its union copy)."""
        inside = f"GRAPH <{self.graph}> {{ {triples} }}"
        return f"{inside} {triples}" if self._mirror else inside

    def _stale_triple(self) -> str:
        return f"<{self.graph}> dip:summaryStale true ."

    def _add_to_quad_count(self, graphs: Sequence[str], *, sign: Literal["+", "-"]) -> str:
        """Add (or subtract) the current size of ``graphs`` to the stored quad count."""
        g = f"<{self.graph}>"
        return (
            "DELETE { "
            + self._in_summary(f"{g} dip:quadCount ?total .")
            + " } INSERT { "
            + self._in_summary(f"{g} dip:quadCount ?next .")
            + f" }} WHERE {{ GRAPH {g} {{ {g} dip:quadCount ?total }} "
            f"{{ SELECT (COUNT(*) AS ?size) WHERE {{ {_each_graph(graphs, '?s ?p ?o')} }} }} "
            f"BIND (?total {sign} ?size AS ?next) }}"
        )

    def _list_top(self) -> list[str]:
        """Operations that list the top interaction counts anew (:data:`TOP_INTERACTIONS`):
        a full pass over the pairs, which the general upkeep pays because counts may drop."""
        g = f"<{self.graph}>"
        listed = f"{g} dip:topInteraction ?n ."
        return [
            "DELETE { " + self._in_summary(listed) + f" }} WHERE {{ GRAPH {g} {{ {listed} }} }}",
            "INSERT { " + self._in_summary(listed) + " } WHERE { "
            # No row when there are fewer pairs than the rank: then every pair is listed.
            f"OPTIONAL {{ SELECT ?least WHERE {{ GRAPH {g} {{ "
            "?any a dip:InteractionCount ; dip:eventCount ?least } } "
            f"ORDER BY DESC(?least) OFFSET {TOP_INTERACTIONS - 1} LIMIT 1 }} "
            f"GRAPH {g} {{ ?n a dip:InteractionCount ; dip:eventCount ?count }} "
            "FILTER (!BOUND(?least) || ?count >= ?least) }",
        ]

    def _record_keys(self, scratch: str, mark: str, *, describe: bool) -> Iterator[str]:
        """Record in ``scratch`` which keys each touched event has now (``mark``)."""
        touched = f"GRAPH {scratch} {{ ?e {_TOUCHED} {_TOUCHED} }} "
        pair_node, pair_where = self._pair_keys(touched)
        month_node, month_where = self._month_keys(touched)
        pair_describe = (
            " ?n a dip:InteractionCount ; dip:firstActor ?a ; dip:secondActor ?b ."
            if describe
            else ""
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

    def _pair_keys(self, touched: str = "") -> tuple[str, str]:
        """(the BIND of a pair's node IRI, the pattern of an event with two participants);
        ``touched`` limits the events (a pattern binding ``?e``)."""
        node = (
            f'BIND (IRI(CONCAT("{self.nodes}interaction/", '
            'SUBSTR(SHA256(CONCAT(STR(?a), " ", STR(?b))), 1, 32))) AS ?n)'
        )
        where = (
            _distinct("?e", touched, "?e a dip:Event", union=self._mirror)
            + _distinct("?e ?a", touched, "?e dip:hasParticipant ?a", union=self._mirror)
            + _distinct("?e ?b", touched, "?e dip:hasParticipant ?b", union=self._mirror)
            + "FILTER (STR(?a) < STR(?b))"
        )
        return node, where

    def _month_keys(self, touched: str = "") -> tuple[str, str]:
        """(the BIND of a (month, type) node IRI, the pattern of a typed, dated event)."""
        node = (
            f'BIND (IRI(CONCAT("{self.nodes}events/", '
            'SUBSTR(SHA256(CONCAT(?m, " ", STR(?t))), 1, 32))) AS ?n)'
        )
        where = (
            _distinct("?e", touched, "?e a dip:Event", union=self._mirror)
            + _distinct("?e ?t", touched, "?e a ?t", union=self._mirror)
            + _distinct(
                "?e ?m",
                touched,
                "?e dip:startDate ?d",
                "BIND (SUBSTR(STR(?d), 1, 7) AS ?m)",
                union=self._mirror,
            )
        )
        return node, where


@dataclass
class _EventFacts:
    """What decides a node's summary keys: its types, participants and start dates."""

    types: set[object] = field(default_factory=set)
    participants: set[object] = field(default_factory=set)
    dates: set[object] = field(default_factory=set)

    def add(self, triple: Triple) -> None:
        predicate = triple.predicate
        target = (
            self.types
            if predicate == _TYPE
            else self.participants
            if predicate == _PARTICIPANT
            else self.dates
        )
        target.add(triple.object)

    def merged(self, other: _EventFacts) -> _EventFacts:
        return _EventFacts(
            self.types | other.types,
            self.participants | other.participants,
            self.dates | other.dates,
        )


def _each_graph(graphs: Sequence[str], pattern: str) -> str:
    """``pattern`` in each of ``graphs``: one ``GRAPH <g>`` branch per graph, joined by UNION.

    Not ``VALUES ?g { … } GRAPH ?g { … }``: Virtuoso 7.2 does not use the values to pick the
    graphs and scans every quad instead, about 1 s for 50 graphs of a 3-million-quad store,
    against about 5 ms a graph with the graph named.
    """
    return " UNION ".join(f"{{ GRAPH <{g}> {{ {pattern} }} }}" for g in graphs)


def _top(counts: dict[str, int]) -> set[str]:
    """The nodes whose count is at or above the :data:`TOP_INTERACTIONS`-th highest one.

    Applied to the listed nodes and the nodes a commit changed, this is the top of the whole
    summary when counts only grow: any other node was below the old threshold, which can only
    have risen.
    """
    if len(counts) <= TOP_INTERACTIONS:
        return set(counts)
    least = sorted(counts.values(), reverse=True)[TOP_INTERACTIONS - 1]
    return {node for node, count in counts.items() if count >= least}


def _str(term: object) -> str | None:
    """SPARQL's ``STR``: an IRI's or a literal's text; None (an error) for a blank node."""
    if isinstance(term, NamedNode | RdfLiteral):
        return term.value
    return None


def _sha256(text: str) -> str:
    """``SUBSTR(SHA256(text), 1, 32)``."""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _integer(value: int) -> RdfLiteral:
    return RdfLiteral(str(value), datatype=_INTEGER)


def _distinct(
    variables: str, touched: str, pattern: str, extra: str = "", *, union: bool = False
) -> str:
    """``pattern`` in any graph but a staging one, each solution once.

    With ``union`` (the embedded store), that is the store's default graph: the union of the
    named graphs as a set, kept exact within the commit's transaction; the scratch graph is not
    part of it. Otherwise each triple pattern is made distinct on its own before the join: an
    event that k documents report matches ``GRAPH ?g { … }`` k times, and three such patterns
    joined would give k³ rows. Staging graphs hold a remote commit's new contents before the
    swap, in the same request, and the scratch graph is one of them.
    """
    if union:
        return f"{{ {touched}{pattern} {extra}}} "
    return (
        f"{{ SELECT DISTINCT {variables} WHERE {{ {touched}GRAPH ?g {{ {pattern} }} "
        f'FILTER (!STRSTARTS(STR(?g), "{STAGING_PREFIX}")) {extra}}} }} '
    )


@contextmanager
def guard_raw_writes(store: Store, base_iri: str) -> Iterator[None]:
    """Keep the summary exact around a write that may bypass the loader.

    Marks the summary stale first (so a crash mid-write leaves it marked), runs the write, and
    rebuilds the summary when it is still marked afterwards. A write that removed the summary
    graph altogether (``CLEAR ALL``, a ``PUT`` of the whole dataset) leaves it missing: the next
    loader commit builds it. A loader commit inside the write
    finds the mark it may trust (set here while the summary was exact) and clears it, so a load
    through the API costs no rebuild. The write must not mix raw writes with loader commits:
    a raw write after a loader commit in the same guarded write would go unnoticed.
    """
    summary = Summary(store, base_iri)
    trusted = summary.state() == "current"
    summary.mark_stale()
    if trusted:
        _trust.graphs.add(summary.graph)
    try:
        yield
    finally:
        _trust.graphs.discard(summary.graph)
        if summary.state() == "stale":
            summary.rebuild()
